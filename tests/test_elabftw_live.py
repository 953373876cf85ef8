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
    marker = f"metafold{uuid.uuid4().hex}"
    experiment_id = client.create_experiment("metafold-widgets live test", marker=marker, tags=["metafold-test"],
                                             metadata=metadata)
    client.made.append(experiment_id)
    assert client.find_experiment(marker) == experiment_id
    stored = client.get_experiment(experiment_id)
    assert stored["metadata"]["extra_fields"]["Project identifier"]["value"] == "TST000001"
    client.merge_metadata_values(experiment_id, {"Project identifier": "TST000002"})
    assert client.get_experiment(experiment_id)["metadata"]["extra_fields"]["Project identifier"]["value"] == \
        "TST000002"


def test_entries_steps_status_and_rights_as_the_real_server_keeps_them(client):
    """What the fake emulates for the lab record: the purifier keeps our section HTML as sent,
    steps are added and finished once, a status is set by name, and canread/canwrite read back."""
    from metafold_widgets.workflows.entries import section_html
    from metafold_widgets.workflows.permissions import elabftw_access

    marker = f"metafold{uuid.uuid4().hex}"
    experiment_id = client.create_experiment("metafold-widgets live entries test", marker=marker)
    client.made.append(experiment_id)
    section = section_html("05_documentation/daily_notes/day1.md",
                           "# Day 1\n\n- plated **HeLa** cells\n- see <https://example.org/a?b=1&c=2>\n\n"
                           "| a | b |\n| --- | --- |\n| 1 | <script>x</script> |\n")
    client.update_experiment(experiment_id, body=section)
    assert client.get_experiment(experiment_id)["body"] == section
    step = client.add_step(experiment_id, "Data backed up")
    client.finish_step(experiment_id, step)
    [stored] = [s for s in client.steps(experiment_id) if s["id"] == step]
    assert stored["body"] == "Data backed up" and int(stored["finished"]) == 1
    status = client.statuses()[0]
    client.update_experiment(experiment_id, status=status["title"])
    experiment = client.get_experiment(experiment_id)
    assert experiment["status_title"] == status["title"]
    access = elabftw_access(experiment)
    assert access.read_base in (10, 20, 30, 40, 50) and access.write_base in (10, 20, 30, 40, 50)
