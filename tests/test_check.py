"""Project checks: local checks, the elabFTW comparison, the report formats, the CLI and the app."""
from __future__ import annotations

import json
import shutil

import pytest
import yaml

from metafold_widgets import cli, create_project, load_template
from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.config import ElabftwSettings, Secret
from metafold_widgets.core.record import read_record, write_record
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_elabftw import WRITE_KEY
from metafold_widgets.widgets import ValidateProjectApp
from metafold_widgets.workflows import create_project_everywhere
from metafold_widgets.workflows.check import check_project

pytestmark = pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")


@pytest.fixture
def answers(example_answers_path):
    return yaml.safe_load(example_answers_path.read_text())


@pytest.fixture
def project(tmp_path, answers):
    return create_project(load_template("multi-modal-imaging"), answers, tmp_path)


def statuses(report):
    return {r.check: r.status for r in report.results}


def test_a_fresh_project_passes_its_local_checks(project):
    report = check_project(project)
    found = statuses(report)
    assert {k: found[k] for k in ("project record", "template", "folder structure", "metadata",
                                  "record vs elabftw-metadata.json")} == dict.fromkeys(
        ("project record", "template", "folder structure", "metadata", "record vs elabftw-metadata.json"), "pass")
    assert found["elabFTW record"] == "warn" and not report.failed
    assert 0 < report.score < 100 and any("metafold resume" in fix for fix in report.recommendations)


def test_missing_folders_edited_files_and_invalid_answers_fail(project):
    shutil.rmtree(project / "04_analysis" / "results")
    metadata = json.loads((project / "elabftw-metadata.json").read_text())
    metadata["extra_fields"]["Sample type"]["value"] = "Tissue"
    (project / "elabftw-metadata.json").write_text(json.dumps(metadata))
    record = read_record(project)
    record["answers"]["project_identifier"] = "bad"
    write_record(project, record)
    report = check_project(project)
    found = statuses(report)
    assert found["folder structure"] == "fail" and "04_analysis/results" in report.to_table()
    assert found["metadata"] == "fail" and found["record vs elabftw-metadata.json"] == "fail"
    assert "'Sample type' is 'Tissue' but the record says 'Live Cells'" in report.to_table()
    assert report.failed and report.recommendations[0]


def test_not_a_project_is_a_failed_check_not_an_exception(tmp_path):
    report = check_project(tmp_path)
    assert [r.status for r in report.results] == ["fail"]


def test_unknown_template_is_a_warning_and_skips_template_checks(project):
    record = read_record(project)
    record["template"]["id"] = "lab-private"
    write_record(project, record)
    found = statuses(check_project(project))
    assert found["template"] == "warn" and found["folder structure"] == "skip" and found["metadata"] == "skip"


def test_report_formats(project):
    report = check_project(project)
    frame = report.to_dataframe()
    assert list(frame.columns) == ["check", "status", "message", "fix"] and len(frame) == len(report.results)
    data = json.loads(report.to_json())
    assert data["score"] == report.score and data["results"][0]["check"] == "project record"
    from metafold_widgets.widgets.reports import ReportView, report_html
    rendered = report_html(report)
    assert "metafold-check-pass" in rendered and "metafold-status-pass" in rendered and "<script" not in rendered
    assert "style=" not in rendered  # colours come from the stylesheet's classes
    assert ReportView(report).children[1].value == rendered


def test_a_missing_metadata_file_is_a_finding_not_an_error(tmp_path, answers, fake_elabftw):
    fake_elabftw.add_category("Microscopy")
    client = ElabftwClient(ElabftwSettings(fake_elabftw.url, Secret(WRITE_KEY)), sleep=lambda s: None)
    session = Session(elabftw=client)
    result = create_project_everywhere(session, load_template("multi-modal-imaging"), answers, tmp_path)
    (result.path / "elabftw-metadata.json").unlink()
    found = statuses(check_project(result.path, session))
    assert found["elabFTW experiment"] == "skip" and found["elabftw-metadata.json"] == "fail"


def test_elabftw_experiment_is_compared_when_configured(tmp_path, answers, fake_elabftw):
    fake_elabftw.add_category("Microscopy")
    client = ElabftwClient(ElabftwSettings(fake_elabftw.url, Secret(WRITE_KEY)), sleep=lambda s: None)
    session = Session(elabftw=client)
    result = create_project_everywhere(session, load_template("multi-modal-imaging"), answers, tmp_path)
    assert statuses(check_project(result.path, session))["elabFTW experiment"] == "pass"
    assert statuses(check_project(result.path))["elabFTW experiment"] == "skip"
    client.merge_metadata_values(result.outcomes["elabftw"].id, {"Sample type": "Tissue"})
    report = check_project(result.path, session)
    assert statuses(report)["elabFTW experiment"] == "fail" and "Sample type" in report.to_table()


def test_cli_check_exit_status_and_formats(project, capsys):
    assert cli.main(["check", str(project)]) == 0
    assert "folder structure" in capsys.readouterr().out
    shutil.rmtree(project / "03_imaging")
    assert cli.main(["check", str(project), "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)[0]["failed"] is True


def test_validate_app_lists_and_checks_projects(project, tmp_path):
    app = ValidateProjectApp(Session(projects_dir=tmp_path))
    assert app.projects.options == ((project.name, str(project)),)
    app.check_button.click()
    assert "metafold-check-pass" in app.report.value and project.name in app.report.value


def test_checksum_manifest_detects_damage_but_not_growth_or_bookkeeping(project):
    from metafold_widgets.workflows.archive import write_checksums

    protocol = project / "01_project_management" / "protocols" / "fixation.md"
    protocol.write_text("4% PFA, 10 min")
    assert statuses(check_project(project))["checksum manifest"] == "skip"
    write_checksums(project)
    assert statuses(check_project(project))["checksum manifest"] == "pass"
    (project / "03_imaging" / "raw_images" / "new.tif").write_bytes(b"II*\0")  # a project grows
    record = read_record(project)
    record["answers"]["publication_plan"] = "Preprint"  # the product rewrites its own files
    write_record(project, record)
    report = check_project(project)
    assert statuses(report)["checksum manifest"] == "pass" and "1 files added since" in report.to_table()
    protocol.write_text("4% PFA, 20 min")
    report = check_project(project)
    assert statuses(report)["checksum manifest"] == "fail" and "fixation.md" in report.to_table()
