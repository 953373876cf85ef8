"""The compliance report: each section's evidence, unknowns, the bounded verify, the formats, the CLI."""
from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
from pathlib import Path

import pytest
import yaml

from metafold_widgets import cli, create_project, load_template
from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.config import ElabftwSettings, Secret
from metafold_widgets.core.record import read_record, record_integration, write_record
from metafold_widgets.errors import EXIT_OK, EXIT_USER, InputFileError, UserError
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_elabftw import WRITE_KEY
from metafold_widgets.workflows import create_project_everywhere
from metafold_widgets.workflows.archive import write_checksums
from metafold_widgets.workflows.check import CheckResult, ProjectReport, check_project
from metafold_widgets.workflows.compliance import STATUSES, ComplianceItem, ComplianceReport, compliance_report
from metafold_widgets.workflows.compliance_integrity import verify_within
from metafold_widgets.workflows.compliance_render import (
    render,
    render_html,
    render_json,
    render_markdown,
    save_in_project,
    write_report,
)

pytestmark = pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")

OMERO_URL = "https://omero.example/webclient/?show=dataset-7"
LAB_TEMPLATE = {
    "id": "lab-imaging", "name": "Lab imaging", "version": "1.0.0", "type": "experiment",
    "project_name": "{project_identifier}",
    "folders": {"protocols": None, "documentation": ["daily_notes", "final_reports"],
                "publication": ["data_availability"], "raw_images": None,
                "logs": None},
    "integrations": {"elabftw": False, "omero": False},
    "fields": {
        "project_identifier": {"type": "text", "required": True},
        "principal_investigator": {"type": "text", "required": True},
        "data_sharing_level": {"type": "dropdown", "options": ["Private", "Group", "Public"]},
        "retention_period": {"type": "text"},
        "license": {"type": "text"},
        "dataset_doi": {"type": "text"},
        "backup_location": {"type": "text"},
        "notes": {"type": "textarea"},
    },
}


@pytest.fixture
def answers(example_answers_path):
    return yaml.safe_load(example_answers_path.read_text())


@pytest.fixture
def linked(tmp_path, answers, fake_elabftw):
    """A tutorial project with its elabFTW experiment (fake server) and a recorded, cross-linked OMERO dataset."""
    fake_elabftw.add_category("Microscopy")
    client = ElabftwClient(ElabftwSettings(fake_elabftw.url, Secret(WRITE_KEY)), sleep=lambda s: None)
    session = Session(elabftw=client)
    result = create_project_everywhere(session, load_template("multi-modal-imaging"), answers, tmp_path)
    experiment_url = result.outcomes["elabftw"].url
    record_integration(result.path, "omero", action="create", state="done", id=7, url=OMERO_URL, reason=None)
    record_integration(result.path, "elabftw", action="cross-link", linked_omero=OMERO_URL)
    record_integration(result.path, "omero", action="cross-link", linked_elabftw=experiment_url)
    return result.path, session


@pytest.fixture
def lab_templates(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "lab-imaging.yaml").write_text(yaml.safe_dump(LAB_TEMPLATE), encoding="utf-8")
    return folder


def lab_project(tmp_path, lab_templates, **answers):
    values = {"project_identifier": "LAB1", "principal_investigator": "Dr. Ada Example", **answers}
    dest = tmp_path / "projects"
    dest.mkdir(exist_ok=True)
    return create_project(load_template(lab_templates / "lab-imaging.yaml"), values, dest)


def evidence(item: ComplianceItem) -> str:
    return "\n".join(item.evidence)


# --- sections ------------------------------------------------------------------------------

def test_fair_items_quote_ids_urls_files_and_answers(linked):
    project, session = linked
    report = compliance_report(project, session)
    fair = report.section("fair")
    assert [item.key for item in fair.items] == ["F1", "F2", "F3", "F4", "A1", "A1.1", "A1.2", "A2",
                                                 "I1", "I2", "I3", "R1", "R1.1", "R1.2", "R1.3"]
    record = read_record(project)
    f1 = report.item("F1")
    assert f1.status == "partly" and record["project"]["uid"] in evidence(f1)
    assert "elabFTW experiment 1" in evidence(f1) and "OMERO dataset 7" in evidence(f1) and "doi" in f1.fix
    f2 = report.item("F2")
    assert f2.status == "met" and "18 of 18 applicable template fields answered" in evidence(f2)
    assert "elabftw-metadata.json present (18 fields)" in evidence(f2)
    assert report.item("F3").status == "met" and "links the OMERO dataset" in evidence(report.item("F3"))
    f4 = report.item("F4")
    assert f4.status == "met" and "confirmed just now" in evidence(f4)  # read live from the fake elabFTW
    assert "not confirmed" in evidence(f4)  # OMERO is not configured in this session
    a1 = report.item("A1")  # the fake server is plain http on loopback, the OMERO address https
    assert a1.status == "partly" and "(http)" in evidence(a1) and "(https)" in evidence(a1) and "elabFTW" in a1.fix
    assert report.item("A2").status == "met" and report.item("I3").status == "met"
    i1 = report.item("I1")
    assert i1.status == "partly" and "metafold package" in i1.fix and "JSON Schema" in evidence(i1)
    i2 = report.item("I2")
    assert i2.status == "partly" and "Sample type" in evidence(i2) and "no field names a term" in evidence(i2)
    assert report.item("R1").status == "met" and "every answer is valid" in evidence(report.item("R1"))
    r1_2 = report.item("R1.2")
    assert r1_2.status == "met" and "integration_log.jsonl" in evidence(r1_2)
    assert f"from template multi-modal-imaging {record['template']['version']}" in evidence(r1_2)
    assert report.item("R1.3").status == "unknown" and "OMERO key-value pairs" in evidence(report.item("R1.3"))


def test_unknowns_say_why_and_what_a_person_fills_in(linked):
    project, session = linked
    report = compliance_report(project, session)
    license_ = report.item("R1.1")
    assert license_.status == "unknown" and "no answer gives a license" in evidence(license_)
    assert "A person must choose" in license_.fix
    retention = report.item("retention")
    assert retention.status == "unknown" and "retention period" in evidence(retention)
    assert "how long the data are kept" in retention.fix
    assert report.item("backup").status == "unknown"


def test_a_missing_template_makes_field_judgements_unknown(linked):
    project, _ = linked
    record = read_record(project)
    record["template"]["id"] = "lab-private"
    write_record(project, record)
    report = compliance_report(project)
    for key in ("F2", "I2", "R1", "required"):
        assert report.item(key).status == "unknown", key
    assert "lab-private" in evidence(report.item("F2"))


def test_answers_and_template_give_license_retention_doi_backup_and_sharing(tmp_path, lab_templates):
    project = lab_project(tmp_path, lab_templates, license="CC BY 4.0", retention_period="10 years after publication",
                          dataset_doi="10.5281/zenodo.1234", backup_location="institute storage, nightly",
                          data_sharing_level="Group", notes="none")
    report = compliance_report(project, templates_dir=lab_templates)
    assert report.item("R1.1").status == "met" and "CC BY 4.0 (answer 'license')" in evidence(report.item("R1.1"))
    assert report.item("retention").status == "met" and "10 years after publication" in evidence(
        report.item("retention"))
    assert report.item("F1").status == "met" and "10.5281/zenodo.1234" in evidence(report.item("F1"))
    assert report.item("backup").status == "met" and "nightly" in evidence(report.item("backup"))
    assert report.item("sharing-level").evidence == ("Group (answer 'data_sharing_level')",)
    assert report.item("F4").status == "not met"  # neither elabFTW nor OMERO: only a folder


def test_empty_template_fields_are_not_met_and_named(tmp_path, lab_templates):
    report = compliance_report(lab_project(tmp_path, lab_templates), templates_dir=lab_templates)
    assert report.item("retention").status == "not met" and "retention_period" in evidence(report.item("retention"))
    assert report.item("sharing-level").status == "not met"
    f2 = report.item("F2")
    assert f2.status == "partly" and "2 of 8" in evidence(f2) and "License" in evidence(f2)


def test_license_from_package_data_in_the_project(tmp_path, lab_templates):
    project = lab_project(tmp_path, lab_templates)
    (project / "publication" / "publication_data_package.json").write_text(
        json.dumps({"data_availability": {"license": "CC0-1.0"}}), encoding="utf-8")
    item = compliance_report(project, templates_dir=lab_templates).item("R1.1")
    assert item.status == "met" and "CC0-1.0 (publication/publication_data_package.json)" in evidence(item)


def test_access_controls_map_the_permission_checks_and_missing_ones_are_unknown(linked):
    project, _ = linked
    checks = ProjectReport(project, [
        CheckResult("permissions: folder", "pass", "owner rw, group r, others none"),
        CheckResult("permissions: elabFTW", "fail", "readable by every account (canread 40) but the sharing level "
                    "is Group", "Set read access to the team (30)."),
    ])
    access = compliance_report(project, checks=checks).section("access")
    found = {item.key: item for item in access.items}
    assert found["permissions-folder"].status == "met"
    assert found["permissions-elabftw"].status == "not met" and "canread 40" in evidence(found["permissions-elabftw"])
    assert found["permissions-elabftw"].fix == "Set read access to the team (30)."
    assert found["permissions-omero"].status == "unknown"
    assert "no permission result for OMERO" in evidence(found["permissions-omero"])
    assert found["sharing-level"].status == "met"


def test_access_controls_leave_out_systems_the_project_does_not_use(tmp_path, lab_templates):
    access = compliance_report(lab_project(tmp_path, lab_templates), templates_dir=lab_templates).section("access")
    assert [item.key for item in access.items] == ["permissions-folder", "sharing-level"]


def test_documentation_counts_folders_entries_statement_and_required_answers(linked):
    project, session = linked
    report = compliance_report(project, session)
    assert report.item("readme").status == "met"
    assert report.item("entries").status == "not met" and report.item("protocols").status == "not met"
    assert report.item("availability").status == "not met" and report.item("required").status == "met"
    (project / "01_project_management/protocols/fixation.md").write_text("# Fixation\n4% PFA", encoding="utf-8")
    (project / "05_documentation/daily_notes/2025-01-10.md").write_text("# Day 1", encoding="utf-8")
    (project / "05_documentation/final_reports/report.pdf").write_bytes(b"%PDF-1.4")
    statement = project / "06_publication/data_availability/data_sharing_statement.md"
    statement.write_text("# Data availability\nLicense: [to be completed: the license]\n", encoding="utf-8")
    report = compliance_report(project, session)
    entries = report.item("entries")
    assert entries.status == "met" and "2 Markdown entries" in evidence(entries)
    assert "05_documentation/daily_notes/2025-01-10.md" in evidence(entries)
    protocols = report.item("protocols")
    assert protocols.status == "partly" and "01_project_management/protocols/ (1 files)" in evidence(protocols)
    assert "03_imaging/acquisition_protocols/" in evidence(protocols)
    documentation = report.item("documentation")
    assert documentation.status == "partly" and "05_documentation/troubleshooting/" in evidence(documentation)
    availability = report.item("availability")
    assert availability.status == "partly" and "1 parts still marked to be completed" in evidence(availability)
    assert "omero_access_instructions.md" in evidence(availability)
    statement.write_text("# Data availability\nLicense: CC BY 4.0\n", encoding="utf-8")
    for name in ("omero_access_instructions.md", "elabftw_reference_links.txt"):
        (statement.parent / name).write_text("done\n", encoding="utf-8")
    assert compliance_report(project, session).item("availability").status == "met"


def test_the_templates_documentation_list_decides_what_counts(tmp_path, lab_templates):
    declared = {**LAB_TEMPLATE, "documentation": ["documentation/final_reports"]}
    (lab_templates / "lab-imaging.yaml").write_text(yaml.safe_dump(declared), encoding="utf-8")
    project = lab_project(tmp_path, lab_templates)
    (project / "documentation/daily_notes/day1.md").write_text("# Day 1", encoding="utf-8")
    report = compliance_report(project, templates_dir=lab_templates)
    assert report.item("entries").status == "not met"  # daily_notes is not declared
    assert "documentation/final_reports/" in evidence(report.item("documentation"))
    (project / "documentation/final_reports/summary.md").write_text("# Results", encoding="utf-8")
    report = compliance_report(project, templates_dir=lab_templates)
    assert report.item("entries").status == "met" and report.item("documentation").status == "met"
    assert "documentation/final_reports/summary.md" in evidence(report.item("entries"))


def test_required_answers_missing_are_named(linked):
    project, _ = linked
    record = read_record(project)
    record["answers"]["microscope_system"] = ""
    write_record(project, record)
    report = compliance_report(project)
    assert report.item("required").status == "not met" and "Microscope system" in evidence(report.item("required"))
    assert report.item("F2").status == "not met"


# --- backup and integrity ------------------------------------------------------------------

def test_integrity_without_a_manifest(linked):
    project, _ = linked
    report = compliance_report(project)
    assert report.item("manifest").status == "not met" and report.item("verify").status == "unknown"


def test_manifest_age_growth_and_a_verify_that_notices_damage(linked):
    project, _ = linked
    protocol = project / "01_project_management/protocols/fixation.md"
    protocol.write_text("4% PFA, 10 min", encoding="utf-8")
    write_checksums(project)
    written = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc).timestamp()
    os.utime(project / "SHA256SUMS", (written, written))
    os.utime(project / "MD5SUMS", (written, written))
    now = dt.datetime(2025, 1, 31, tzinfo=dt.timezone.utc)
    report = compliance_report(project, now=now)
    manifest, verified = report.item("manifest"), report.item("verify")
    assert manifest.status == "met" and "written 2025-01-01T00:00:00Z (30 days ago)" in evidence(manifest)
    assert verified.status == "met" and "re-hashed" in evidence(verified)
    record = read_record(project)
    record["answers"]["publication_plan"] = "Preprint"  # the product rewrites its own files: expected
    write_record(project, record)
    (project / "03_imaging/raw_images/new.tif").write_bytes(b"II*\0")
    report = compliance_report(project, now=now)
    assert report.item("manifest").status == "partly" and "03_imaging/raw_images/new.tif" in evidence(
        report.item("manifest"))
    assert report.item("verify").status == "met" and "metafold.json" in evidence(report.item("verify"))
    protocol.write_text("4% PFA, 20 min", encoding="utf-8")
    verified = compliance_report(project, now=now).item("verify")
    assert verified.status == "not met" and "changed: 01_project_management/protocols/fixation.md" in evidence(
        verified)


def test_the_verify_stays_within_its_byte_budget_and_says_what_it_skipped(tmp_path):
    folder = tmp_path / "big"
    (folder / "data").mkdir(parents=True)
    for index in range(4):
        (folder / "data" / f"{index}.bin").write_bytes(bytes([index]) * 1000)
    write_checksums(folder)
    manifest = (folder / "MANIFEST.json").stat().st_size  # listed too, and first in path order
    budget = manifest + 1500
    found = verify_within(folder, budget=budget)
    assert found.listed == 5 and found.verified == 2 and found.verified_bytes == manifest + 1000
    assert found.unverified == 3 and found.unverified_bytes == 3000 and not found.damaged
    (folder / "data" / "3.bin").write_bytes(b"x" * 1000)  # beyond the budget: not noticed, and said so
    assert not verify_within(folder, budget=budget).damaged
    assert verify_within(folder, budget=10 ** 9).changed == ["data/3.bin"]
    (folder / "data" / "0.bin").unlink()
    assert verify_within(folder, budget=budget).missing == ["data/0.bin"]


def test_a_partial_verify_is_partly_met(linked):
    project, _ = linked
    (project / "03_imaging/raw_images/a.tif").write_bytes(b"I" * 5000)
    write_checksums(project)
    verified = compliance_report(project, verify_budget=1000).item("verify")
    assert verified.status == "partly" and "checked for presence only" in evidence(verified)
    assert "metafold verify" in verified.fix


def test_the_report_hashes_nothing_beyond_its_budget(linked, monkeypatch):
    """The checks it runs leave the checksum manifest to the report's own bounded verify."""
    from metafold_widgets.workflows import check as check_module
    project, _ = linked
    write_checksums(project)

    def full_verify(*args, **kwargs):
        raise AssertionError("the checks re-hashed every listed file")
    monkeypatch.setattr(check_module, "verify", full_verify)
    assert compliance_report(project, verify_budget=1000).item("verify").status == "partly"
    assert "checksum manifest" not in [r.check for r in check_project(project, checksums=False).results]


def test_hostile_checksum_listing_is_a_problem_not_a_read(linked):
    project, _ = linked
    write_checksums(project)
    with open(project / "SHA256SUMS", "a", encoding="utf-8") as handle:
        handle.write(f"{'0' * 64}  ../../etc/passwd\n")
    verified = compliance_report(project).item("verify")
    assert verified.status == "not met" and "leaves the folder" in evidence(verified)


def test_backup_copies_from_the_log(linked):
    project, _ = linked
    from metafold_widgets.core.record import log_event
    log_event(project, None, system="local", action="package", result="done", path="/srv/packages/p",
              archives=["/srv/packages/p.tar.gz"])
    backup = compliance_report(project).item("backup")
    assert backup.status == "partly" and "/srv/packages/p.tar.gz" in evidence(backup)


# --- formats -------------------------------------------------------------------------------

def test_summary_counts_every_status(linked):
    project, session = linked
    report = compliance_report(project, session)
    assert list(report.summary) == list(STATUSES)
    assert sum(report.summary.values()) == len(report.items)
    assert report.summary["unknown"] == sum(item.status == "unknown" for item in report.items)


def test_json_round_trip(linked):
    project, session = linked
    report = compliance_report(project, session)
    data = json.loads(render_json(report))
    assert data["format"] == "metafold-compliance-report" and data["summary"] == report.summary
    assert ComplianceReport.from_dict(data) == report
    with pytest.raises(InputFileError, match="not a compliance report"):
        ComplianceReport.from_dict({"sections": []})
    with pytest.raises(ValueError, match="unknown compliance status"):
        ComplianceItem("x", "x", "fine")


def test_hostile_values_are_escaped_in_html_and_markdown(linked):
    project, session = linked
    hostile = "<img src=x onerror=alert(1)>"
    (project / "05_documentation/daily_notes" / f"{hostile}.md").write_text("x", encoding="utf-8")
    record_integration(project, "omero", action="edit", url="javascript:alert('x')//<script>alert(2)</script>")
    record = read_record(project)
    record["answers"]["license"] = "<script>alert(3)</script> & co"
    write_record(project, record)
    report = compliance_report(project, session)
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    tags = _tags(page)
    assert {tag for tag, _ in tags} <= SAFE_TAGS
    assert {name for _, attrs in tags for name, _ in attrs} <= {"class", "data-key", "data-section", "lang",
                                                                 "charset", "name", "content"}
    assert html.escape(hostile) in page and "&lt;script&gt;alert(3)&lt;/script&gt; &amp; co" in page
    markdown = render_markdown(report)
    assert not re.search(r"(?<!\\)[<>]", markdown)  # every angle bracket escaped: no raw HTML
    assert r"\<script\>alert(3)\</script\> \& co" in markdown


SAFE_TAGS = {"html", "head", "meta", "title", "body", "div", "style", "h1", "h2", "p", "table", "caption", "thead",
             "tbody", "tr", "th", "td", "ul", "li", "section"}


def _tags(page: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    from html.parser import HTMLParser

    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collect().feed(page)
    return found


def test_render_refuses_an_unknown_format(linked):
    project, _ = linked
    with pytest.raises(UserError, match="unknown report format 'pdf'"):
        render(compliance_report(project), "pdf")


def test_write_report_to_a_file_a_folder_and_into_the_project(linked, tmp_path):
    project, _ = linked
    report = compliance_report(project)
    out = write_report(report, tmp_path / "r.md", "md")
    assert out.read_text(encoding="utf-8") == render_markdown(report)
    assert write_report(report, tmp_path, "json") == tmp_path / "compliance-report.json"
    with pytest.raises(UserError, match="does not exist"):
        write_report(report, tmp_path / "missing" / "r.html", "html")
    saved = save_in_project(report)
    assert saved == project / "compliance-report.html" and saved.read_text(encoding="utf-8") == render_html(report)
    assert not [p for p in project.iterdir() if p.name.startswith(".metafold-tmp-")]


def test_not_a_project_raises_a_clear_user_error(tmp_path):
    with pytest.raises(InputFileError, match="no such project folder"):
        compliance_report(tmp_path / "missing")
    with pytest.raises(InputFileError, match="not a metafold project"):
        compliance_report(tmp_path)


# --- command line --------------------------------------------------------------------------

def test_cli_formats(linked, capsys):
    project, _ = linked
    assert cli.main(["report", str(project), "--local"]) == EXIT_OK
    assert "## FAIR principles" in capsys.readouterr().out
    assert cli.main(["report", str(project), "--format", "html", "--local"]) == EXIT_OK
    page = capsys.readouterr().out
    assert page.startswith("<!DOCTYPE html>") and "class='metafold-compliance'" in page
    assert cli.main(["report", str(project), "-f", "json", "--local"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert ComplianceReport.from_dict(data).item("F1").status == "partly"


def test_cli_reads_the_configured_elabftw(linked, capsys, monkeypatch, fake_elabftw):
    project, _ = linked
    monkeypatch.setenv("ELABFTW_URL", fake_elabftw.url)
    monkeypatch.setenv("ELABFTW_API_KEY", WRITE_KEY)
    assert cli.main(["report", str(project), "-f", "json"]) == EXIT_OK
    f4 = ComplianceReport.from_dict(json.loads(capsys.readouterr().out)).item("F4")
    assert "confirmed just now" in evidence(f4)


def test_cli_out_writes_the_file(linked, tmp_path, capsys):
    project, _ = linked
    target = tmp_path / "report.html"
    assert cli.main(["report", str(project), "--format", "html", "--out", str(target), "--local"]) == EXIT_OK
    printed = capsys.readouterr().out
    assert str(target) in printed and "unknown" in printed
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("case", ["missing", "not a project", "no output folder"])
def test_cli_user_errors_exit_2_with_a_message(linked, tmp_path, capsys, case):
    project, _ = linked
    argv = {"missing": ["report", str(tmp_path / "nope"), "--local"],
            "not a project": ["report", str(tmp_path / "empty"), "--local"],
            "no output folder": ["report", str(project), "--out", str(tmp_path / "no" / "r.md"), "--local"]}[case]
    (tmp_path / "empty").mkdir()
    assert cli.main(argv) == EXIT_USER
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert {"missing": "no such project folder", "not a project": "not a metafold project",
            "no output folder": "does not exist"}[case] in err


def test_cli_help_does_not_load_the_workflows():
    import subprocess
    import sys
    code = ("import sys; from metafold_widgets.cli import build_parser; build_parser(); "
            "print(any(m.startswith('metafold_widgets.workflows') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_validate_app_shows_and_saves_the_report(linked):
    from metafold_widgets.widgets import ValidateProjectApp
    project, session = linked
    app = ValidateProjectApp(Session(projects_dir=project.parent, elabftw=session.elabftw))
    assert app.save_button.disabled
    app.compliance_button.click()
    assert "class='metafold-compliance'" in app.report.value and "F1 (Meta)data" in app.report.value
    assert "download=" in app.report.value and not app.save_button.disabled
    app.save_button.click()
    assert (project / "compliance-report.html").is_file() and "Saved" in app.message.value
    app.check_button.click()  # a check run replaces the report and forgets it
    assert app.save_button.disabled and "metafold-report" in app.report.value


def test_check_project_report_can_be_reused(linked):
    project, session = linked
    checks = check_project(project, session)
    report = compliance_report(project, checks=checks)  # no session: the live reading comes from the checks
    assert "confirmed just now" in evidence(report.item("F4"))
    with pytest.raises(ValueError, match="checks given are of"):
        compliance_report(project, checks=ProjectReport(project.parent))


def test_a_project_path_given_as_text_and_as_path_agree(linked):
    project, _ = linked
    now = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    assert compliance_report(str(project), now=now) == compliance_report(Path(project), now=now)
