"""``metafold note`` and ``metafold publish``."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from metafold_widgets import cli, load_template, read_record
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_elabftw import WRITE_KEY
from metafold_widgets.workflows import create_project_everywhere

pytestmark = pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")


@pytest.fixture
def project(tmp_path, fake_elabftw, example_answers_path, monkeypatch):
    monkeypatch.setenv("ELABFTW_URL", fake_elabftw.url)
    monkeypatch.setenv("ELABFTW_API_KEY", WRITE_KEY)
    fake_elabftw.add_category("Microscopy")
    session = Session.from_environment()
    try:
        answers = yaml.safe_load(example_answers_path.read_text())
        result = create_project_everywhere(session, load_template("multi-modal-imaging"), answers, tmp_path)
    finally:
        session.close()
    assert result.ok
    return result.path


def test_note_prints_the_new_entry(project, capsys):
    assert cli.main(["note", str(project), "--kind", "imaging-session", "--title", "Run 1"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path.parent == project / "03_imaging/acquisition_protocols" and path.name.endswith("_imaging-session.md")
    assert path.read_text().startswith("# Run 1\n")


def test_note_help_lists_the_kinds(capsys):
    with pytest.raises(SystemExit):
        cli.main(["note", "--help"])
    assert "imaging-session" in capsys.readouterr().out


def test_unknown_kind_is_a_usage_error(project, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["note", str(project), "--kind", "diary"])
    assert stopped.value.code == 2 and "imaging-session" in capsys.readouterr().err


def test_note_outside_a_project_exits_2(tmp_path, capsys):
    assert cli.main(["note", str(tmp_path), "--kind", "protocol"]) == 2
    assert "not a metafold project" in capsys.readouterr().err


def test_publish_then_nothing_to_do(project, fake_elabftw, capsys):
    assert cli.main(["note", str(project), "--kind", "protocol"]) == 0
    capsys.readouterr()
    assert cli.main(["publish", str(project), "--dry-run"]) == 0
    assert "would add section 01_project_management/protocols/" in capsys.readouterr().out
    assert cli.main(["publish", str(project)]) == 0
    assert "add section" in capsys.readouterr().out
    experiment_id = read_record(project)["integrations"]["elabftw"]["id"]
    assert "<h1>Protocol: " in fake_elabftw.experiment(experiment_id)["body"]
    assert cli.main(["publish", str(project)]) == 0
    assert "entries already published (1 file)" in capsys.readouterr().out


def test_publish_without_elabftw_exits_2(project, monkeypatch, capsys):
    monkeypatch.delenv("ELABFTW_URL")
    monkeypatch.delenv("ELABFTW_API_KEY")
    assert cli.main(["publish", str(project)]) == 2
    assert "elabFTW is not configured" in capsys.readouterr().err
