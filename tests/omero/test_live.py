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


def test_session_checks_and_the_group_new_objects_go_to(live_conn) -> None:
    assert adapter.is_alive(live_conn)  # keepAlive() asked the server
    text = adapter.describe_connection(live_conn)
    assert live_conn.getEventContext().groupName in text
    groups = adapter.list_groups(live_conn)
    current = int(live_conn.getEventContext().groupId)
    other = next((gid for gid, _ in groups if gid != current), None)
    if other is None:
        pytest.skip("the live user belongs to one group only: moving the session cannot be tried")
    assert adapter.move_session_to_group(live_conn, other)
    try:
        assert int(live_conn.getEventContext().groupId) == other
        assert dict(groups)[other] in adapter.describe_connection(live_conn)
    finally:
        adapter.move_session_to_group(live_conn, current)


def test_a_dataset_in_two_projects_is_found_once(live_conn) -> None:
    from omero.model import DatasetI, ProjectDatasetLinkI, ProjectI
    from omero.rtypes import rstring
    uid = str(uuid.uuid4())
    ref = adapter.ensure_dataset(live_conn, f"metafold-live-test-{uid[:8]}", uid=uid, key_values=[("Sample", "A")])
    second = ProjectI()
    second.setName(rstring(f"metafold-live-test-second-{uid[:8]}"))
    link = ProjectDatasetLinkI()
    link.setParent(second)
    link.setChild(DatasetI(ref.dataset_id, False))
    ctx = live_conn.SERVICE_OPTS.copy()
    ctx.setOmeroGroup(ref.group_id)
    live_conn.getUpdateService().saveAndReturnObject(link, ctx)
    state = adapter.read_project_dataset(live_conn, uid, ref.group_id)
    assert state is not None and state.pairs == [("Sample", "A")]  # not doubled by the second project


def test_planes_measurements_and_results_on_the_images(live_conn) -> None:
    import numpy as np

    from metafold_widgets.omero_analysis import annotate_images, dataset_images, iter_planes, measure_dataset
    uid = str(uuid.uuid4())
    ref = adapter.ensure_dataset(live_conn, f"metafold-live-test-{uid[:8]}", uid=uid)
    planes = [np.arange(64 * 48, dtype=np.uint16).reshape(48, 64) + 100 * z for z in range(2)]
    dataset = live_conn.getObject("Dataset", ref.dataset_id)
    image = live_conn.createImageFromNumpySeq(iter(planes), f"metafold-live-{uid[:8]}", sizeZ=2, sizeC=1,
                                              sizeT=1, dataset=dataset)
    [listed] = dataset_images(live_conn, ref.dataset_id)
    assert (listed.image_id, listed.size_x, listed.size_y, listed.size_z) == (image.getId(), 64, 48, 2)
    read = [plane for *_, plane in iter_planes(live_conn, [listed])]
    assert all(np.array_equal(a, b) for a, b in zip(read, planes))
    table = measure_dataset(live_conn, ref.dataset_id, lambda p: {"mean": float(p.mean())}, t=None)
    per_image = table.groupby("image_id", as_index=False)["mean"].max()
    ns = f"metafold-widgets.org/live-test/{uid[:8]}"
    assert annotate_images(live_conn, per_image, namespace=ns).saved == 1
    assert annotate_images(live_conn, per_image, namespace=ns).replaced == 1
    readback = dataset_dataframe(live_conn, ref.dataset_id, ns=ns)
    assert float(readback.loc[0, "mean"]) == per_image.loc[0, "mean"]


def test_description_size_and_group_permissions_as_the_server_reports_them(live_conn) -> None:
    """The description set at creation, the pixel-size query and the group permissions read back."""
    import numpy as np

    from metafold_widgets.adapters.omero_permissions import read_dataset_access
    from metafold_widgets.adapters.omero_sizes import dataset_size
    uid = str(uuid.uuid4())
    name = f"metafold-live-test-{uid[:8]}"
    ref = adapter.ensure_dataset(live_conn, name, uid=uid, description="Heat stress: where does HSP70 go?")
    dataset = live_conn.getObject("Dataset", ref.dataset_id)
    assert dataset.getDescription() == "Heat stress: where does HSP70 go?"
    planes = [np.zeros((48, 64), dtype=np.uint16) for _ in range(3)]
    live_conn.createImageFromNumpySeq(iter(planes), f"metafold-live-{uid[:8]}.tif", sizeZ=3, sizeC=1, sizeT=1,
                                      dataset=dataset)
    size = dataset_size(live_conn, ref.dataset_id)
    assert (size.image_count, size.pixel_count, size.size_bytes) == (1, 64 * 48 * 3, 64 * 48 * 3 * 2)
    access = read_dataset_access(live_conn, ref.dataset_id)
    assert access is not None and (access.name, access.description) == (name, dataset.getDescription())
    group = live_conn.getObject("ExperimenterGroup", access.group_id)
    assert access.permissions.text == str(group.getDetails().getPermissions())
