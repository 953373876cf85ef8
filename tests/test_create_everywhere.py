"""Creating a project with elabFTW configured: the experiment, the record, the log, the CLI."""
from __future__ import annotations

import json

import pytest
import yaml

from metafold_widgets import cli, load_template, read_record
from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.config import ElabftwSettings, Secret
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_elabftw import WRITE_KEY, Fault
from metafold_widgets.workflows import create_project_everywhere

pytestmark = pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")


@pytest.fixture
def answers(example_answers_path, fake_elabftw):
    fake_elabftw.add_category("Microscopy")  # the tutorial's category, as a lab would have set it up
    return yaml.safe_load(example_answers_path.read_text())


@pytest.fixture
def session(fake_elabftw):
    client = ElabftwClient(ElabftwSettings(fake_elabftw.url, Secret(WRITE_KEY)), sleep=lambda s: None)
    created = Session(elabftw=client)
    yield created
    created.close()


def log_lines(project):
    record = read_record(project)
    return [json.loads(line) for line in (project / record["project"]["log"]).read_text().splitlines()]


def test_project_gets_its_experiment_with_metadata_tags_and_provenance(tmp_path, session, fake_elabftw, answers):
    result = create_project_everywhere(session, load_template("multi-modal-imaging"), answers, tmp_path)
    assert result.ok
    outcome = result.outcomes["elabftw"]
    assert outcome.state == "done" and outcome.url == f"{fake_elabftw.url}/experiments.php?mode=view&id={outcome.id}"
    experiment = session.elabftw.get_experiment(outcome.id)
    assert experiment["title"] == "Protein Localization in Response to Heat Stress"
    assert set(experiment["tags"].split("|")) == {"protein localization", "heat stress", "fluorescence"}
    fields = experiment["metadata"]["extra_fields"]
    assert fields["Project identifier"]["value"] == "IMG202501"
    assert fields["Sample type"] == {**fields["Sample type"], "type": "select", "value": "Live Cells"}
    provenance = experiment["metadata"]["metafold"]
    assert provenance["template_id"] == "multi-modal-imaging" and provenance["project_path"] == str(result.path)
    assert "Central research question" not in experiment["body"]
    assert "How does heat stress affect" in experiment["body"]
    record = read_record(result.path)
    assert record["integrations"]["elabftw"]["state"] == "done"
    assert record["integrations"]["elabftw"]["id"] == outcome.id
    assert record["integrations"]["omero"]["state"] == "pending"  # not configured: a note, not an error
    assert record["integrations"]["omero"]["reason"] == "OMERO is not configured"
    assert f"[{outcome.id}]({outcome.url})" in (result.path / "README.md").read_text()
    assert [(e["system"], e["result"]) for e in log_lines(result.path)] == [
        ("local", "done"), ("elabftw", "done"), ("omero", "skipped")]


def test_a_failing_server_keeps_the_local_project_and_records_why(tmp_path, session, fake_elabftw, answers):
    fake_elabftw.inject(Fault.status(500), method="POST", path_prefix="/api/v2/experiments", times=20)
    result = create_project_everywhere(session, load_template("multi-modal-imaging"), answers, tmp_path)
    assert not result.ok and result.path.is_dir()
    state = read_record(result.path)["integrations"]["elabftw"]
    assert state["state"] == "failed" and "did not confirm" in state["error"]
    assert fake_elabftw.experiments() == []
    assert log_lines(result.path)[1]["result"] == "failed"


def test_template_switch_turns_elabftw_off(tmp_path, session, fake_elabftw, answers):
    answers["enable_elabftw"] = False
    result = create_project_everywhere(session, load_template("multi-modal-imaging"), answers, tmp_path)
    assert result.outcomes["elabftw"].state == "off" and fake_elabftw.experiments() == []


def test_cli_creates_the_experiment_when_configured(tmp_path, monkeypatch, capsys, fake_elabftw, answers):
    monkeypatch.setenv("ELABFTW_URL", fake_elabftw.url)
    monkeypatch.setenv("ELABFTW_API_KEY", WRITE_KEY)
    answers_file = tmp_path / "answers.yaml"
    answers_file.write_text(yaml.safe_dump(answers))
    dest = tmp_path / "projects"
    dest.mkdir()
    code = cli.main(["create", "-t", "multi-modal-imaging", "-a", str(answers_file), "-d", str(dest)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "elabFTW: done" in err and WRITE_KEY not in out + err
    assert len(fake_elabftw.experiments()) == 1
    code = cli.main(["create", "-t", "multi-modal-imaging", "-a", str(answers_file), "-d", str(dest),
                     "--name", "second", "--no-elabftw"])
    out, err = capsys.readouterr()
    assert code == 0 and "elabFTW: skipped (skipped on request)" in err
    assert len(fake_elabftw.experiments()) == 1


def test_cli_reports_a_failed_system_with_exit_1(tmp_path, monkeypatch, capsys, fake_elabftw, answers):
    monkeypatch.setenv("ELABFTW_URL", fake_elabftw.url)
    monkeypatch.setenv("ELABFTW_API_KEY", "1-wrong-key")
    answers_file = tmp_path / "answers.yaml"
    answers_file.write_text(yaml.safe_dump(answers))
    code = cli.main(["create", "-t", "multi-modal-imaging", "-a", str(answers_file), "-d", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "HTTP 401" in err and "project folder was created" in err and "1-wrong-key" not in err
    assert read_record(out.strip())["integrations"]["elabftw"]["state"] == "failed"
