"""What a real OMERO session does that the product must follow: an expired session is only seen by
asking the server, the session's group is not SERVICE_OPTS', a dataset in two projects is one
dataset, and the importer works in the session's group."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

import metafold_widgets.adapters.omero as omero_adapter
from metafold_widgets.config import OmeroSettings, Secret
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_omero import FakeBlitzGateway


def test_an_expired_session_is_reopened(monkeypatch):
    opened: list[FakeBlitzGateway] = []
    monkeypatch.setattr(omero_adapter, "open_gateway", lambda settings: opened.append(FakeBlitzGateway()) or opened[-1])
    session = Session(omero=OmeroSettings("omero.example.org", user="ada", password=Secret("pw")))
    session.omero_check_seconds = 0  # ask the server on every use
    first = session.omero
    first.expire_session()  # the server ended it; isConnected() still says True
    assert first.isConnected()
    assert session.omero is not first and len(opened) == 2
    session.close()


def test_the_server_is_asked_at_most_once_a_minute(monkeypatch):
    conn = FakeBlitzGateway()
    session = Session(omero=conn)
    conn.reset_counts()
    for _ in range(5):
        assert session.omero is conn
    assert conn.round_trips == 0  # checked when connected; the next check is due in a minute
    session.omero_check_seconds = 0
    assert session.omero is conn and conn.calls == ["keepAlive"]


def test_describe_connection_names_the_group_objects_go_to():
    conn = FakeBlitzGateway()
    assert "group Imaging Lab" in omero_adapter.describe_connection(conn)
    omero_adapter.use_group(conn, "Other Lab")
    text = omero_adapter.describe_connection(conn)
    assert "group Other Lab" in text and "session's own group is Imaging Lab" in text
    conn.setGroupForSession(4)
    assert "(group Other Lab)" in omero_adapter.describe_connection(conn)


def test_a_dataset_in_two_projects_is_one_dataset_with_its_pairs_once():
    conn = FakeBlitzGateway()
    ref = omero_adapter.ensure_dataset(conn, "D", uid="u-1", key_values=[("Sample", "A"), ("Stain", "B")])
    other = conn.add_project("Second study")
    conn.link("ProjectDatasetLink", other, ref.dataset_id)
    state = omero_adapter.read_project_dataset(conn, "u-1")
    assert state is not None and state.pairs == [("Sample", "A"), ("Stain", "B")]
    again = omero_adapter.ensure_dataset(conn, "D", uid="u-1", key_values=[("Sample", "A"), ("Stain", "B")])
    assert (again.dataset_id, again.created, again.project_id) == (ref.dataset_id, False, ref.project_id)


def test_the_import_moves_the_session_to_the_datasets_group(tmp_path, monkeypatch):
    from metafold_widgets import load_template
    from metafold_widgets.workflows import create_project_everywhere
    from metafold_widgets.workflows.omero_import import import_images
    conn = FakeBlitzGateway()
    result = create_project_everywhere(Session(), load_template("basic-experiment"), {
        "experiment_title": "Imported", "researcher": "Ada", "aim": "a", "create_elabftw_entry": False}, tmp_path)
    project = result.path
    (project / "raw_data" / "a.tif").write_bytes(b"image")
    dataset = conn.add_dataset("elsewhere", group=4)  # not the session's group (3)
    importer = tmp_path / "fake_importer.py"
    importer.write_text("import sys\nprint('Image:11,12')\n")
    run = import_images(conn, project, dataset_id=dataset, omero_cli=[sys.executable, str(importer)],
                        check_importer=False)
    assert run.moved_to_group == 4 and int(conn.getEventContext().groupId) == 4
    assert "moved to group 4" in Path(run.log_file).read_text()
    again = import_images(conn, project, dataset_id=dataset, omero_cli=[sys.executable, str(importer)],
                          check_importer=False)
    assert again.moved_to_group is None  # already there


@pytest.mark.parametrize("bad", ["ds.imageLink", "Datasett"])
def test_a_wrong_path_fails_in_the_fake_as_on_a_server(bad):
    import omero
    from omero.sys import ParametersI
    conn = FakeBlitzGateway()
    query = f"select ds.id from Dataset ds join {bad} x" if "." in bad else f"select ds.id from {bad} ds"
    with pytest.raises(omero.QueryException):
        conn.getQueryService().projection(query, ParametersI(), conn.SERVICE_OPTS)
