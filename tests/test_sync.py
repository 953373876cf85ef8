"""Sync: local edits pushed, elabFTW edits pulled, conflicts reported, files attached once."""
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
from metafold_widgets.workflows.sync import attach_files, sync_project, watch_project

pytestmark = pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")


@pytest.fixture
def answers(example_answers_path):
    return yaml.safe_load(example_answers_path.read_text())


@pytest.fixture
def session(fake_elabftw):
    fake_elabftw.add_category("Microscopy")
    client = ElabftwClient(ElabftwSettings(fake_elabftw.url, Secret(WRITE_KEY)), sleep=lambda s: None)
    created = Session(elabftw=client)
    yield created
    created.close()


@pytest.fixture
def project(tmp_path, session, answers):
    result = create_project_everywhere(session, load_template("multi-modal-imaging"), answers, tmp_path)
    assert result.ok
    return result.path


def remote_value(session, project, label):
    experiment_id = read_record(project)["integrations"]["elabftw"]["id"]
    return session.elabftw.get_experiment(experiment_id)["metadata"]["extra_fields"][label]["value"]


def test_nothing_to_do_right_after_creation(session, project):
    report = sync_project(session, project, attach=False)
    assert not report.changed and not report.conflicts and "already in agreement" in report.summary()


def test_local_edits_are_pushed_and_every_file_follows(session, project, answers):
    edited = dict(answers, sample_type="Tissue", microscope_system="Leica SP8")
    report = sync_project(session, project, edited, attach=False)
    assert report.pushed == {"Sample type": "Tissue", "Microscope system": "Leica SP8"}
    assert remote_value(session, project, "Sample type") == "Tissue"
    assert read_record(project)["answers"]["sample_type"] == "Tissue"
    metadata = json.loads((project / "elabftw-metadata.json").read_text())
    assert metadata["extra_fields"]["Sample type"]["value"] == "Tissue"
    assert "Leica SP8" in (project / "README.md").read_text()
    assert read_record(project)["integrations"]["elabftw"]["payload"]["metadata"]["extra_fields"][
        "Sample type"]["value"] == "Tissue"


def test_edits_made_in_elabftw_are_pulled(session, project):
    experiment_id = read_record(project)["integrations"]["elabftw"]["id"]
    session.elabftw.merge_metadata_values(experiment_id, {"Imaging modality": "Widefield"})
    report = sync_project(session, project, attach=False)
    assert report.pulled == {"Imaging modality": "Widefield"}
    assert read_record(project)["answers"]["imaging_modality"] == "Widefield"
    assert json.loads((project / "elabftw-metadata.json").read_text())["extra_fields"]["Imaging modality"][
        "value"] == "Widefield"


def test_changes_on_both_sides_are_conflicts_not_overwrites(session, project, answers):
    experiment_id = read_record(project)["integrations"]["elabftw"]["id"]
    session.elabftw.merge_metadata_values(experiment_id, {"Sample type": "Fixed Cells"})
    report = sync_project(session, project, dict(answers, sample_type="Tissue"), attach=False)
    assert report.conflicts == {"Sample type": ("Tissue", "Fixed Cells")}
    assert remote_value(session, project, "Sample type") == "Fixed Cells"
    assert read_record(project)["answers"]["sample_type"] == "Live Cells"
    assert "CONFLICT Sample type" in report.summary()


def test_a_failed_push_changes_nothing_locally(session, project, answers, fake_elabftw):
    fake_elabftw.inject(Fault.status(500), method="PATCH", times=20)
    report = sync_project(session, project, dict(answers, sample_type="Tissue"), attach=False)
    assert report.errors and read_record(project)["answers"]["sample_type"] == "Live Cells"
    again = sync_project(session, project, dict(answers, sample_type="Tissue"), attach=False)
    assert again.pushed == {"Sample type": "Tissue"} and not again.pulled


def test_dry_run_changes_nothing(session, project, answers, fake_elabftw):
    before = (project / "metafold.json").read_text()
    report = sync_project(session, project, dict(answers, sample_type="Tissue"), dry_run=True)
    assert report.pushed == {"Sample type": "Tissue"} and "would push" in report.summary()
    assert (project / "metafold.json").read_text() == before
    assert remote_value(session, project, "Sample type") == "Live Cells"


def test_files_are_attached_once_and_again_when_changed(session, project, fake_elabftw):
    protocol = project / "01_project_management" / "protocols" / "staining.txt"
    protocol.write_text("1. fix\n2. stain\n")
    (project / "04_analysis" / "results" / "day1.txt").write_text("notes")  # not a documentation folder
    first = attach_files(session, project)
    assert first.attached == ["01_project_management/protocols/staining.txt"]
    assert attach_files(session, project).attached == []
    protocol.write_text("1. fix\n2. stain\n3. mount\n")
    assert attach_files(session, project).attached == ["01_project_management/protocols/staining.txt"]
    experiment_id = read_record(project)["integrations"]["elabftw"]["id"]
    assert len(session.elabftw.uploads(experiment_id)) == 2


def test_watch_runs_rounds_and_reports_changes(session, project):
    experiment_id = read_record(project)["integrations"]["elabftw"]["id"]
    seen, sleeps = [], []

    def edit_then_sleep(seconds):
        sleeps.append(seconds)
        session.elabftw.merge_metadata_values(experiment_id, {"Publication plan": "Preprint"})

    assert watch_project(session, project, interval=5, on_report=seen.append, rounds=2, sleep=edit_then_sleep) == 2
    assert sleeps == [5] and [r.pulled for r in seen] == [{"Publication plan": "Preprint"}]


def test_cli_sync(project, fake_elabftw, monkeypatch, capsys, tmp_path, answers):
    monkeypatch.setenv("ELABFTW_URL", fake_elabftw.url)
    monkeypatch.setenv("ELABFTW_API_KEY", WRITE_KEY)
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(dict(answers, sample_type="Tissue")))
    assert cli.main(["sync", str(project), "--answers", str(edited), "--dry-run"]) == 0
    assert "would push Sample type" in capsys.readouterr().out
    assert cli.main(["sync", str(project), "--answers", str(edited)]) == 0
    assert "push Sample type = 'Tissue'" in capsys.readouterr().out
    assert read_record(project)["answers"]["sample_type"] == "Tissue"


def test_every_documentation_folder_is_attached_recursively_and_entries_are_published(session, project,
                                                                                      fake_elabftw):
    notes = project / "05_documentation"
    files = {"02_sample_preparation/batch_records/batch1.csv": "well,cells\n", "05_documentation/daily_notes/"
             "week1/scan.txt": "notes", "05_documentation/final_reports/report.pdf": "%PDF", "03_imaging/"
             "calibration_data/beads.tif": "II*", "05_documentation/troubleshooting/laser.txt": "fixed"}
    for relative, text in files.items():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(text)
    (notes / "daily_notes" / "monday.md").write_text("# Monday\n- [ ] Check incubator\n")
    (notes / "elabftw_exports" / "export.txt").write_text("from elabFTW")  # not a documentation folder
    report = sync_project(session, project)
    assert sorted(report.attached) == sorted(files)
    assert report.entries is not None and report.entries.added == ["05_documentation/daily_notes/monday.md"]
    assert "add section 05_documentation/daily_notes/monday.md" in report.summary()
    experiment_id = read_record(project)["integrations"]["elabftw"]["id"]
    assert "<h1>Monday</h1>" in fake_elabftw.experiment(experiment_id)["body"]
    assert [s["body"] for s in fake_elabftw.experiment(experiment_id)["steps"]][-1] == "Check incubator"
    again = sync_project(session, project)
    assert not again.changed and "already in agreement" in again.summary()


def _log_actions(project):
    log = project / "01_project_management" / "integration_logs" / "integration_log.jsonl"
    return [json.loads(line)["action"] for line in log.read_text().splitlines()]


def test_watch_logs_the_status_only_when_it_changed(session, project, fake_elabftw):
    before = _log_actions(project)
    assert watch_project(session, project, interval=1, rounds=3, sleep=lambda s: None) == 3
    assert _log_actions(project) == before  # three quiet rounds log nothing
    experiment_id = read_record(project)["integrations"]["elabftw"]["id"]
    session.elabftw.update_experiment(experiment_id, status="Success")
    watch_project(session, project, interval=1, rounds=3, sleep=lambda s: None)
    assert _log_actions(project)[len(before):] == ["pull status"]
    assert read_record(project)["integrations"]["elabftw"]["status"] == "Success"


def test_dry_run_shows_the_entries_it_would_publish(session, project, fake_elabftw):
    (project / "05_documentation" / "daily_notes" / "monday.md").write_text("# Monday\n- [ ] Check incubator\n")
    sent = len(fake_elabftw.requests_log)
    report = sync_project(session, project, dry_run=True)
    assert "would add section 05_documentation/daily_notes/monday.md" in report.summary()
    assert "would add step: Check incubator" in report.summary()
    assert {r.method for r in fake_elabftw.requests_log[sent:]} == {"GET"}


def test_a_sync_that_replans_keeps_the_body_link_and_the_elabftw_address(session, project, answers):
    record = read_record(project)
    uid, url = record["project"]["uid"], record["integrations"]["elabftw"]["url"]
    assert uid in record["integrations"]["elabftw"]["payload"]["body"]
    sync_project(session, project, dict(answers, sample_type="Tissue"), attach=False, publish=False)
    replanned = read_record(project)["integrations"]
    assert uid in replanned["elabftw"]["payload"]["body"]
    assert str(project) in replanned["elabftw"]["payload"]["body"]
    assert url in replanned["omero"]["payload"]["description"]


def test_cli_sync_no_publish_leaves_the_entries_unpublished(project, fake_elabftw, monkeypatch, capsys):
    monkeypatch.setenv("ELABFTW_URL", fake_elabftw.url)
    monkeypatch.setenv("ELABFTW_API_KEY", WRITE_KEY)
    (project / "05_documentation/daily_notes/day1.md").write_text("# Day 1\n\nCells plated.\n")
    assert cli.main(["sync", str(project), "--no-publish"]) == 0
    assert "day1.md" not in capsys.readouterr().out
    experiment_id = read_record(project)["integrations"]["elabftw"]["id"]
    assert "Cells plated" not in fake_elabftw.experiment(experiment_id)["body"]
    assert cli.main(["sync", str(project)]) == 0
    assert "day1.md" in capsys.readouterr().out
    assert "Cells plated" in fake_elabftw.experiment(experiment_id)["body"]
