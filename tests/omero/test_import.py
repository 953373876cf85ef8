"""The image-import helper: its command line, log, image ids, record, and a missing importer."""
from __future__ import annotations

import datetime as dt
import os
import stat
import sys
from pathlib import Path

import pytest

from metafold_widgets import load_template, read_record
from metafold_widgets.core.plan import plan_project
from metafold_widgets.core.project import apply_plan
from metafold_widgets.core.record import record_integration
from metafold_widgets.errors import OmeroError
from metafold_widgets.session import Session
from metafold_widgets.workflows import omero_import
from metafold_widgets.workflows.omero_import import (
    ImporterMissingError,
    import_command,
    import_images,
    import_log_folder,
    importer_problem,
    parse_image_ids,
    raw_image_folders,
)

NOW = dt.datetime(2025, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)
FAKE_IMPORTER = """\
import os, sys
print("args:", " ".join(sys.argv[1:]), file=sys.stderr)
print("INFO  ome.formats.importer.ImportLibrary - importing 2 files", file=sys.stderr)
print("OMERO_PASSWORD is " + repr(os.environ.get("OMERO_PASSWORD")), file=sys.stderr)
print("Image:101,102")
print("Fileset:55")
print("Image:103")
sys.exit(int(os.environ.get("FAKE_IMPORT_EXIT", "0")))
"""


@pytest.fixture
def dataset(conn) -> int:
    """The project's OMERO dataset, in the session's group."""
    return conn.add_dataset("IMG dataset")


@pytest.fixture
def project(conn, dataset, answers, tmp_path) -> Path:
    """A multi-modal imaging project with its OMERO dataset and two raw images."""
    path = apply_plan(plan_project(load_template("multi-modal-imaging"), answers, tmp_path))
    record_integration(path, "omero", state="done", id=dataset, url=None, action="create")
    (path / "03_imaging/raw_images/condition_1/a.tif").write_bytes(b"II*\0")
    return path


@pytest.fixture
def importer(tmp_path) -> list[str]:
    script = tmp_path / "fake_importer.py"
    script.write_text(FAKE_IMPORTER, encoding="utf-8")
    return [sys.executable, str(script)]


def executable(folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_the_folders_come_from_the_template_tree(project) -> None:
    assert raw_image_folders(project) == [project / "03_imaging/raw_images"]
    assert import_log_folder(project) == project / "03_imaging/omero_import_logs"


def test_the_command_line_uses_the_session_key_and_the_dataset_target(conn, project) -> None:
    command = import_command(conn, 42, [project / "03_imaging/raw_images"], omero_cli=["omero"])
    assert command == ["omero", "import", "-s", "omero.example.org", "-p", "4064",
                       "-k", "fake-session-0123456789abcdef", "-T", "Dataset:id:42",
                       str(project / "03_imaging/raw_images")]


def test_the_default_command_is_omero_pys_script_beside_this_python(conn, tmp_path) -> None:
    command = import_command(conn, 1, [tmp_path], clientdir=tmp_path / "jars", extra_args=["--skip", "upgrade"])
    assert command[0] == str(Path(sys.executable).with_name("omero")) and command[1] == "import"
    assert command[-5:] == ["--clientdir", str(tmp_path / "jars"), "--skip", "upgrade", str(tmp_path)]


def test_image_ids_are_parsed_from_the_output() -> None:
    assert parse_image_ids("Image:1,2\nFileset:9\n  Image:3 \nnoise Image:4\nImage:2\n") == [1, 2, 3]
    assert parse_image_ids("") == []


def test_an_import_writes_the_log_and_records_the_images(conn, project, dataset, importer, monkeypatch) -> None:
    monkeypatch.setenv("OMERO_PASSWORD", "hunter2")
    run = import_images(Session(omero=conn), project, omero_cli=importer, check_importer=False, now=NOW)
    assert run.ok and run.image_ids == (101, 102, 103)
    assert run.log_file == project / "03_imaging/omero_import_logs/omero-import-20250506T070809Z.log"
    log = run.log_file.read_text()
    assert "fake-session-0123456789abcdef" not in log and f"-k ******** -T Dataset:id:{dataset}" in log
    assert "importing 2 files" in log and "Image:101,102" in log and "# exit status 0" in log
    assert "hunter2" not in log  # the importer is not handed the password
    assert "fake-session" not in " ".join(run.command)
    entry = read_record(project)["integrations"]["omero"]
    assert entry["image_ids"] == [101, 102, 103] and entry["state"] == "done" and entry["id"] == dataset
    assert entry["last_import"] == {"time": "2025-05-06T07:08:09Z", "images": [101, 102, 103], "exit_status": 0,
                                    "log": "03_imaging/omero_import_logs/omero-import-20250506T070809Z.log",
                                    "moved_session_to_group": None}


def test_a_second_import_adds_to_the_recorded_images(conn, project, importer, tmp_path) -> None:
    import_images(conn, project, omero_cli=importer, check_importer=False, now=NOW)
    other = tmp_path / "more.py"
    other.write_text("print('Image:103,104')\n", encoding="utf-8")
    import_images(conn, project, omero_cli=[sys.executable, str(other)], check_importer=False,
                  now=NOW + dt.timedelta(seconds=1))
    assert read_record(project)["integrations"]["omero"]["image_ids"] == [101, 102, 103, 104]
    assert len(list(import_log_folder(project).glob("omero-import-*.log"))) == 2


def test_a_failed_import_is_logged_and_recorded_then_raised(conn, project, importer, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_IMPORT_EXIT", "3")
    with pytest.raises(OmeroError, match=r"omero import failed \(exit status 3\); 3 image\(s\) reported"):
        import_images(conn, project, omero_cli=importer, check_importer=False, now=NOW)
    entry = read_record(project)["integrations"]["omero"]
    assert entry["last_import"]["exit_status"] == 3 and entry["image_ids"] == [101, 102, 103]
    assert entry["state"] == "done"  # the dataset itself is still fine


def test_explicit_paths_and_dataset(conn, project, importer) -> None:
    folder = project / "02_sample_preparation/preparation_images"
    other = conn.add_dataset("another")
    run = import_images(conn, project, dataset_id=other, paths=[folder], omero_cli=importer, check_importer=False)
    assert run.command[-3:] == ("-T", f"Dataset:id:{other}", str(folder))


def test_a_project_without_a_dataset_or_raw_folder_is_refused(conn, answers, tmp_path) -> None:
    path = apply_plan(plan_project(load_template("multi-modal-imaging"), answers, tmp_path))
    with pytest.raises(OmeroError, match="no OMERO dataset yet"):
        import_images(conn, path, check_importer=False)
    with pytest.raises(OmeroError, match="no raw-image folder"):
        import_images(conn, path, dataset_id=1, paths=[], check_importer=False)


def test_a_missing_importer_command_is_a_clear_error(conn, project) -> None:
    with pytest.raises(ImporterMissingError, match="importer command /nonexistent/omero was not found"):
        import_images(conn, project, omero_cli=["/nonexistent/omero"], check_importer=False)


def test_missing_java_is_reported_before_anything_runs(conn, project, importer, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ImporterMissingError, match="runs on Java, which is not installed"):
        import_images(conn, project, omero_cli=importer)
    assert not list(import_log_folder(project).glob("*.log"))


def test_missing_importer_jars_are_reported(monkeypatch, tmp_path) -> None:
    executable(tmp_path / "bin", "java")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("OMERO_USERDIR", str(tmp_path / "userdir"))
    monkeypatch.delenv("OMERODIR", raising=False)
    assert "omero import --fetch-jars latest" in importer_problem()


def test_root_is_reported_and_a_complete_setup_passes(monkeypatch, tmp_path) -> None:
    executable(tmp_path / "bin", "java")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    jars = tmp_path / "userdir/cache/jars"
    (jars / "OMERO.java-5.9.0-ice36/libs").mkdir(parents=True)
    (jars / "OMERO.java-5.9.0-ice36/libs/omero-blitz.jar").write_bytes(b"PK")
    (jars / "OMERO.java.txt").write_text("OMERO.java-5.9.0-ice36\n")
    monkeypatch.setenv("OMERO_USERDIR", str(tmp_path / "userdir"))
    monkeypatch.setattr(omero_import.os, "geteuid", lambda: 0)
    assert "refuses to run as root" in importer_problem()
    monkeypatch.setattr(omero_import.os, "geteuid", lambda: 1000)
    assert importer_problem() is None
    assert importer_problem(clientdir=tmp_path / "no-jars-here") is not None


def test_on_this_machine_the_real_importer_cannot_run_and_says_why(conn, project) -> None:
    """Java and Bio-Formats jars are absent here (and the tests run as root): never a hang or a download."""
    problem = importer_problem()
    if problem is None:  # pragma: no cover - a developer machine with the full importer
        pytest.skip("the OMERO importer is fully installed here")
    with pytest.raises(ImporterMissingError) as caught:
        import_images(conn, project)
    assert str(caught.value) == problem
    assert os.listdir(import_log_folder(project)) == []
