"""``metafold import``: what is refused before the importer runs (exit 2, a clear message, nothing told
to elabFTW). The imports themselves run in tests/omero/test_import_announce.py with real omero-py objects."""
from __future__ import annotations

import pytest
import yaml

from metafold_widgets import load_template, read_record
from metafold_widgets.cli import main
from metafold_widgets.core.plan import plan_project
from metafold_widgets.core.project import apply_plan
from metafold_widgets.core.record import record_integration
from metafold_widgets.testing.fake_elabftw import WRITE_KEY
from metafold_widgets.workflows import omero_import

pytestmark = pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")


@pytest.fixture
def project(tmp_path, example_answers_path):
    """A tutorial project whose OMERO dataset 5 exists, with one raw image."""
    answers = yaml.safe_load(example_answers_path.read_text())
    (tmp_path / "projects").mkdir()
    path = apply_plan(plan_project(load_template("multi-modal-imaging"), answers, tmp_path / "projects"))
    record_integration(path, "omero", state="done", id=5, url=None, action="create")
    (path / "03_imaging/raw_images/condition_1/a.tif").write_bytes(b"II*\0")
    return path


@pytest.fixture(autouse=True)
def no_importer(monkeypatch):
    """Reaching the importer is a failure of these tests: every refusal comes before it."""
    def refuse(*args, **kwargs):
        raise AssertionError("the importer must not run")
    monkeypatch.setattr(omero_import, "import_images", refuse)
    monkeypatch.setattr("metafold_widgets.workflows.image_import.import_images", refuse)


@pytest.fixture
def omero_env(monkeypatch):
    monkeypatch.setenv("OMERO_HOST", "omero.example.org")
    monkeypatch.setenv("OMERO_SESSION_KEY", "a-session-key")


def run(capsys, *argv):
    code = main(["import", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_missing_file_is_named(project, omero_env, capsys) -> None:
    code, out, err = run(capsys, project, project / "03_imaging/raw_images/nothing.tif")
    assert code == 2 and out == ""
    assert f"error: {project}/03_imaging/raw_images/nothing.tif: no such file or folder" in err
    assert "Traceback" not in err


def test_a_file_outside_the_project_is_refused(project, omero_env, tmp_path, capsys) -> None:
    outside = tmp_path / "elsewhere.tif"
    outside.write_bytes(b"II*\0")
    code, _, err = run(capsys, project, outside)
    assert code == 2 and f"{outside}: is outside the project folder" in err and "raw_images" in err


def test_a_link_leading_out_of_the_project_is_refused(project, omero_env, tmp_path, capsys) -> None:
    outside = tmp_path / "secret_share"
    outside.mkdir()
    link = project / "03_imaging/raw_images/share"
    link.symlink_to(outside)
    code, _, err = run(capsys, project, link)
    assert code == 2 and "is outside the project folder" in err


def test_a_project_without_its_dataset_is_refused(project, omero_env, capsys) -> None:
    record_integration(project, "omero", state="failed", id=None, action="create")
    code, _, err = run(capsys, project)
    assert code == 2 and "has no OMERO dataset yet (failed)" in err and f"metafold resume {project}" in err


def test_omero_must_be_configured(project, capsys) -> None:
    code, _, err = run(capsys, project)
    assert code == 2 and "OMERO is not configured" in err


def test_not_a_project(tmp_path, omero_env, capsys) -> None:
    code, _, err = run(capsys, tmp_path)
    assert code == 2 and "metafold.json" in err


def test_status_needs_the_experiment(project, omero_env, capsys) -> None:
    code, _, err = run(capsys, project, "--status", "Success")
    assert code == 2 and "--status needs the project's elabFTW experiment" in err


def test_an_unknown_status_is_refused_before_importing(project, omero_env, fake_elabftw, monkeypatch,
                                                       capsys) -> None:
    monkeypatch.setenv("ELABFTW_URL", fake_elabftw.url)
    monkeypatch.setenv("ELABFTW_API_KEY", WRITE_KEY)
    record_integration(project, "elabftw", state="done", id=1, url="x", action="create")
    code, _, err = run(capsys, project, "--status", "Finished")
    assert code == 2
    assert "--status: elabFTW has no experiment status called 'Finished'" in err
    assert "Running, Success, Need to be redone, Fail" in err
    assert "last_import" not in read_record(project)["integrations"]["omero"]
