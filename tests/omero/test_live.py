"""Against a real OMERO server: runs only when OMERO_HOST and a login are set (CI never sets them).

Start a disposable server with the OME test stack (PostgreSQL, ``openmicroscopy/omero-server:5``
with ``ROOTPASS`` set, ``openmicroscopy/omero-web-standalone:5``), then run for example::

    OMERO_HOST=localhost OMERO_USER=root OMERO_PASSWORD=... \\
        .venv-omero/bin/python -m pytest tests/omero/test_live.py -v

The tests create a project and dataset named ``metafold-live-test-<uuid>`` in the user's
current group and leave them there for inspection.
"""
from __future__ import annotations

import os
import uuid

import pytest

from metafold_widgets.adapters import omero as adapter
from metafold_widgets.config import omero_settings
from metafold_widgets.omero_tables import dataset_dataframe, metadata_dataframe

# Read at collection time: the suite's autouse fixture hides OMERO_* variables from each test.
LIVE_ENV = {k: v for k, v in os.environ.items() if k.startswith("OMERO_")}
pytestmark = pytest.mark.skipif(
    not LIVE_ENV.get("OMERO_HOST") or not (LIVE_ENV.get("OMERO_SESSION_KEY") or LIVE_ENV.get("OMERO_PASSWORD")),
    reason="live OMERO tests need OMERO_HOST and OMERO_USER+OMERO_PASSWORD or OMERO_SESSION_KEY")


@pytest.fixture(scope="module")
def live_conn():
    settings = omero_settings(environ=LIVE_ENV, config={})
    conn = adapter.open_gateway(settings)
    yield conn
    conn.close(hard=not settings.session_key)


def test_create_reuse_update_and_read_back(live_conn) -> None:
    uid = str(uuid.uuid4())
    name = f"metafold-live-test-{uid[:8]}"
    ref = adapter.ensure_dataset(live_conn, name, uid=uid, key_values=[("Sample", "HeLa"), ("Long", "x" * 1500)],
                                 provenance={"template_id": "live"})
    assert ref.created
    again = adapter.ensure_dataset(live_conn, name, uid=uid, key_values=[("Sample", "HeLa")])
    assert (again.dataset_id, again.created) == (ref.dataset_id, False)
    adapter.update_key_values(live_conn, ref.dataset_id, {"Sample": "MCF7"})
    table = metadata_dataframe(live_conn, "Dataset", ref.dataset_id, ns=adapter.CLIENT_NS)
    assert table[["key", "value"]].values.tolist() == [["Sample", "MCF7"]]
    assert dataset_dataframe(live_conn, ref.dataset_id).empty
    assert name in [n for _, n in adapter.list_projects(live_conn)]
