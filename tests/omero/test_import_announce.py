"""``metafold import`` end to end: omero-py's importer (a stand-in script, as in test_import.py) into
the project's dataset of the fake connection, then the "images imported" entry and the status in the
test elabFTW server; a failed import tells elabFTW nothing."""
from __future__ import annotations

import json
import sys

import pytest

import metafold_widgets.adapters.omero as omero_adapter
from metafold_widgets import load_template, read_record
from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.cli import main
from metafold_widgets.config import ElabftwSettings, Secret
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_elabftw import WRITE_KEY
from metafold_widgets.workflows import create_project_everywhere, omero_import

pytestmark = pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")

FAKE_IMPORTER = """\
import os, sys
print("INFO  ome.formats.importer.ImportLibrary - importing", file=sys.stderr)
print("Image:101,102")
print("Image:103")
sys.exit(int(os.environ.get("FAKE_IMPORT_EXIT", "0")))
"""


@pytest.fixture
def project(conn, answers, fake_elabftw, tmp_path):
    """A tutorial project with its experiment and dataset, and one raw image."""
    fake_elabftw.add_category("Microscopy")
    client = ElabftwClient(ElabftwSettings(fake_elabftw.url, Secret(WRITE_KEY)), sleep=lambda s: None)
    answers.update(enable_elabftw=True, elabftw_experiment_type="Microscopy")
    result = create_project_everywhere(Session(elabftw=client, omero=conn), load_template("multi-modal-imaging"),
                                       answers, tmp_path)
    assert result.ok, result.outcomes
    (result.path / "03_imaging/raw_images/condition_1/a.tif").write_bytes(b"II*\0")
    return result.path


@pytest.fixture(autouse=True)
def environment(conn, fake_elabftw, tmp_path, monkeypatch):
    """The CLI's settings point at the test servers; the importer is the stand-in script."""
    monkeypatch.setenv("OMERO_HOST", "omero.example.org")
    monkeypatch.setenv("OMERO_SESSION_KEY", "a-session-key")
    monkeypatch.setenv("ELABFTW_URL", fake_elabftw.url)
    monkeypatch.setenv("ELABFTW_API_KEY", WRITE_KEY)
    monkeypatch.setattr(omero_adapter, "open_gateway", lambda s, keepalive=60: conn)
    script = tmp_path / "fake_importer.py"
    script.write_text(FAKE_IMPORTER, encoding="utf-8")
    monkeypatch.setattr(omero_import, "default_omero_cli", lambda: [sys.executable, str(script)])
    monkeypatch.setattr(omero_import, "importer_problem", lambda clientdir=None: None)


def experiment_of(project, fake_elabftw):
    return fake_elabftw.experiment(read_record(project)["integrations"]["elabftw"]["id"])


def entries(project):
    return sorted((project / "05_documentation/daily_notes").glob("*images-imported*.md"))


def test_import_records_the_images_and_tells_elabftw(project, fake_elabftw, capsys) -> None:
    code = main(["import", str(project), str(project / "03_imaging/raw_images"), "--status", "success"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "importing 1 path(s) into OMERO dataset" in err and "imported 3 images" in err  # progress
    assert "entry published" in err and "status set to Success" in err
    shown = json.loads(out)
    assert shown["image_ids"] == [101, 102, 103] and shown["published"] is True and shown["status"] == "Success"
    record = read_record(project)
    assert record["integrations"]["omero"]["image_ids"] == [101, 102, 103]
    (entry,) = entries(project)
    text = entry.read_text(encoding="utf-8")
    assert "3 images imported into the OMERO dataset" in text and "101, 102, 103" in text
    experiment = experiment_of(project, fake_elabftw)
    assert "3 images imported into the OMERO dataset" in experiment["body"]
    assert experiment["status_title"] == "Success"
    assert record["integrations"]["elabftw"]["status"] == "Success"


def test_without_files_the_raw_image_folders_are_imported(project, fake_elabftw, capsys) -> None:
    code = main(["import", str(project)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["status"] is None
    assert experiment_of(project, fake_elabftw)["status_title"] == "Running"  # the template's initial status
    log = read_record(project)["integrations"]["omero"]["last_import"]["log"]
    assert "03_imaging/raw_images" in (project / log).read_text()


def test_a_failed_import_tells_elabftw_nothing(project, fake_elabftw, monkeypatch, capsys) -> None:
    before = experiment_of(project, fake_elabftw)
    monkeypatch.setenv("FAKE_IMPORT_EXIT", "3")
    code = main(["import", str(project), "--status", "Success"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert "omero import failed (exit status 3)" in err and "elabFTW was not told anything" in err
    assert "Traceback" not in err and entries(project) == []
    after = experiment_of(project, fake_elabftw)
    assert (after["body"], after["status_title"]) == (before["body"], "Running")
    assert read_record(project)["integrations"]["omero"]["last_import"]["exit_status"] == 3


def test_a_project_without_elabftw_gets_the_entry_only(conn, answers, tmp_path, capsys) -> None:
    result = create_project_everywhere(Session(omero=conn), load_template("multi-modal-imaging"), answers, tmp_path)
    (result.path / "03_imaging/raw_images/a.tif").write_bytes(b"II*\0")
    code = main(["import", str(result.path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["published"] is False and len(entries(result.path)) == 1
    assert "elabFTW: the project has no experiment (off)" in err


def test_an_unreachable_elabftw_after_the_import_is_reported_and_exits_1(project, fake_elabftw, capsys) -> None:
    from metafold_widgets.testing.fake_elabftw import Fault

    fake_elabftw.inject(Fault.status(503), method="PATCH", path_prefix="/api/v2/experiments", times=50)
    code = main(["import", str(project)])
    out, err = capsys.readouterr()
    assert code == 1 and "unexpected error" not in err  # the test server's own thread may log resets
    assert any(line.startswith("warning: elabFTW") and "503" in line for line in err.splitlines())
    assert json.loads(out)["published"] is False
    assert read_record(project)["integrations"]["omero"]["image_ids"] == [101, 102, 103]  # the import stands
    assert len(entries(project)) == 1  # kept for 'metafold sync' to publish
