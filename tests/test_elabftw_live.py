"""Optional: the client against a real elabFTW server.

Runs only when METAFOLD_LIVE_ELABFTW=1 and ELABFTW_URL / ELABFTW_API_KEY point at a server
you may write to (see the README: "Testing against a real elabFTW"). CI never sets these.
Every experiment made here is deleted (soft-delete) at the end.
"""
from __future__ import annotations

import os
import uuid

import pytest

from metafold_widgets import load_template, to_elabftw
from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.config import elabftw_settings

_ORIGINAL_ENV = dict(os.environ)  # read at import, before the suite-wide isolation clears ELABFTW_*
LIVE = _ORIGINAL_ENV.get("METAFOLD_LIVE_ELABFTW") == "1"
pytestmark = pytest.mark.skipif(not LIVE, reason="live elabFTW suite: set METAFOLD_LIVE_ELABFTW=1, "
                                                  "ELABFTW_URL and ELABFTW_API_KEY to run it")


@pytest.fixture
def client():
    settings = elabftw_settings(environ=_ORIGINAL_ENV, config={})
    assert settings is not None, "ELABFTW_URL is not set"
    made: list[int] = []
    with ElabftwClient(settings) as live:
        live.made = made  # type: ignore[attr-defined]
        yield live
        for experiment_id in made:
            live.delete_experiment(experiment_id)


def test_round_trip_against_the_real_server(client):
    template = load_template("multi-modal-imaging")
    metadata = to_elabftw(template, {"project_identifier": "TST000001", "experiment_title": "Live test",
                                     "sample_type": "Fixed Cells"})
    marker = f"metafold-project:{uuid.uuid4()}"
    experiment_id = client.create_experiment("metafold-widgets live test", marker=marker, tags=["metafold-test"],
                                             metadata=metadata)
    client.made.append(experiment_id)
    assert client.find_experiment(marker) == experiment_id
    stored = client.get_experiment(experiment_id)
    assert stored["metadata"]["extra_fields"]["Project identifier"]["value"] == "TST000001"
    client.merge_metadata_values(experiment_id, {"Project identifier": "TST000002"})
    assert client.get_experiment(experiment_id)["metadata"]["extra_fields"]["Project identifier"]["value"] == \
        "TST000002"
