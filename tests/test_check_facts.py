"""``check`` compares the basic facts (title, tags, status, category, dates, investigator) of the
folder with the elabFTW experiment, over loopback against every emulated release."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from metafold_widgets import create_project, load_template
from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.config import ElabftwSettings, Secret
from metafold_widgets.core.record import read_record, write_record
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_elabftw import WRITE_KEY, FakeElabftw
from metafold_widgets.testing.fake_elabftw.releases import EMULATED_RELEASES
from metafold_widgets.workflows import create_project_everywhere
from metafold_widgets.workflows.check import check_project
from metafold_widgets.workflows.check_facts import _tag_set
from metafold_widgets.workflows.sync import sync_project

pytestmark = pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")


@pytest.fixture
def answers(example_answers_path: Path) -> dict[str, Any]:
    data = yaml.safe_load(example_answers_path.read_text())
    data["enable_omero"] = False
    return data


def linked(fake: FakeElabftw, answers: dict[str, Any], folder: Path) -> tuple[Session, Path, int]:
    fake.add_category("Microscopy")
    client = ElabftwClient(ElabftwSettings(fake.url, Secret(WRITE_KEY)), sleep=lambda s: None)
    session = Session(elabftw=client)
    result = create_project_everywhere(session, load_template("multi-modal-imaging"), answers, folder)
    assert result.ok
    return session, result.path, int(result.outcomes["elabftw"].id)


def facts(project: Path, session: Session | None) -> dict[str, Any]:
    return {r.check.removeprefix("facts: "): r for r in check_project(project, session).results
            if r.check.startswith("facts: ")}


@pytest.mark.parametrize("version", EMULATED_RELEASES)
def test_a_title_changed_in_elabftw_is_caught_with_both_values_and_a_fix(fake_elabftw_factory, answers, tmp_path,
                                                                        version):
    session, project, experiment_id = linked(fake_elabftw_factory(version=version), answers, tmp_path)
    before = facts(project, session)
    assert {name: r.status for name, r in before.items() if name in ("title", "tags", "category", "created",
                                                                      "investigator")} == dict.fromkeys(
        ("title", "tags", "category", "created", "investigator"), "pass")
    session.elabftw.update_experiment(experiment_id, title="Renamed in the notebook")
    report = check_project(project, session)
    title = next(r for r in report.results if r.check == "facts: title")
    assert title.status == "fail" and report.failed
    assert title.message == ("title: here 'Protein Localization in Response to Heat Stress', "
                             "elabFTW 'Renamed in the notebook'")
    assert "set the experiment's title back to 'Protein Localization in Response to Heat Stress'" in title.fix
    assert title.fix in report.recommendations


@pytest.mark.parametrize("version", EMULATED_RELEASES)
def test_tags_in_another_order_and_case_pass_missing_fail_extra_warn(fake_elabftw_factory, answers, tmp_path,
                                                                     version):
    answers["elabftw_tags"] = "Heat Stress, fluorescence, protein localization"
    session, project, experiment_id = linked(fake_elabftw_factory(version=version), answers, tmp_path)
    record = read_record(project)
    record["integrations"]["elabftw"]["payload"]["tags"] = ["fluorescence", "PROTEIN localization", "heat  stress"]
    write_record(project, record)
    assert facts(project, session)["tags"].status == "pass"
    record["integrations"]["elabftw"]["payload"]["tags"].append("confocal")  # sent, but not in elabFTW
    write_record(project, record)
    missing = facts(project, session)["tags"]
    assert missing.status == "fail" and "add 'confocal'" in missing.fix
    assert missing.message.startswith("tags: here 'fluorescence, PROTEIN localization, heat stress, confocal', "
                                      "elabFTW '")
    session.elabftw.add_tags(experiment_id, ["Confocal", "follow-up"])
    extra = facts(project, session)["tags"]
    assert extra.status == "warn" and "remove 'follow-up'" in extra.fix


def test_tags_compare_as_elabftw_stores_them():
    assert _tag_set(["Café", "a|b", "x\\y "]) == _tag_set("cafe, a b, xy")
    assert _tag_set("one, two") != _tag_set("one")


def test_category_status_created_and_investigator(fake_elabftw, answers, tmp_path):
    session, project, experiment_id = linked(fake_elabftw, answers, tmp_path)
    session.elabftw.update_experiment(experiment_id, category="Imaging", status="Success")
    session.elabftw.merge_metadata_values(experiment_id, {"Principal investigator": "Dr. Someone Else"})
    found = facts(project, session)
    assert found["category"].status == "fail"
    assert found["category"].message == "category: here 'Microscopy', elabFTW 'Imaging'"
    assert found["status"].status == "warn" and "'Success'" in found["status"].message
    assert "metafold sync" in found["status"].fix
    sync_project(session, project)  # records the status elabFTW has now
    assert facts(project, session)["status"].status == "pass"
    assert found["investigator"].status == "fail"
    assert found["investigator"].message == "investigator: here 'Dr. Ada Example', elabFTW 'Dr. Someone Else'"
    record = read_record(project)
    record["project"]["created_at"] = "2020-01-01T10:00:00Z"
    write_record(project, record)
    assert facts(project, session)["created"].status == "fail"


def test_a_date_answer_is_compared_with_the_experiment_date(fake_elabftw, tmp_path):
    fake_elabftw.add_category("Microscopy")
    client = ElabftwClient(ElabftwSettings(fake_elabftw.url, Secret(WRITE_KEY)), sleep=lambda s: None)
    session = Session(elabftw=client)
    answers = {"experiment_title": "Dated run", "experiment_date": "2026-01-15", "researcher": "Dr. Ada Example",
               "aim": "Show the date", "create_elabftw_entry": True}
    result = create_project_everywhere(session, load_template("basic-experiment"), answers, tmp_path)
    experiment_id = int(result.outcomes["elabftw"].id)
    client.update_experiment(experiment_id, date="2026-01-15")
    found = facts(result.path, session)
    assert found["date"].status == "pass" and found["investigator"].status == "pass"
    client.update_experiment(experiment_id, date="2026-02-01")
    date = facts(result.path, session)["date"]
    assert date.status == "warn" and date.message == "date: here '2026-01-15', elabFTW '2026-02-01'"
    assert "experiment_date" in date.fix


def test_a_readme_title_that_differs_from_the_record_fails(tmp_path, example_answers_path):
    answers = yaml.safe_load(example_answers_path.read_text())
    project = create_project(load_template("multi-modal-imaging"), answers, tmp_path)
    readme = project / "README.md"
    readme.write_text(readme.read_text().replace("# Protein Localization", "# Protein Location", 1))
    title = facts(project, None)["title"]
    assert title.status == "fail" and "README.md 'Protein Location in Response to Heat Stress'" in title.message
    assert "rewrite README.md" in title.fix


def test_unknown_systems_are_skipped_with_the_reason(fake_elabftw, answers, tmp_path):
    session, project, _ = linked(fake_elabftw, answers, tmp_path)
    found = facts(project, None)
    assert found["title"].status == "skip" and "elabFTW is not configured here" in found["title"].message
    assert found["OMERO dataset name"].status == "skip" and "not checked" in found["OMERO dataset name"].message
    record = read_record(project)
    record["integrations"]["elabftw"]["id"] = 999  # an experiment that does not exist
    write_record(project, record)
    gone = facts(project, session)["title"]
    assert gone.status == "skip" and "cannot be read" in gone.message


def test_cli_check_shows_facts_and_permissions_with_the_exit_status(tmp_path, example_answers_path, capsys):
    from metafold_widgets import cli

    answers = yaml.safe_load(example_answers_path.read_text())
    project = create_project(load_template("multi-modal-imaging"), answers, tmp_path)
    assert cli.main(["check", str(project)]) == 0
    out = capsys.readouterr().out
    assert "facts: title" in out and "permissions: folder" in out and "by kind: project: " in out
    readme = project / "README.md"
    readme.write_text(readme.read_text().replace("# Protein Localization", "# Protein Location", 1))
    assert cli.main(["check", str(project), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)[0]
    assert data["sections"]["facts"]["fail"] == 1
    assert any(r["check"] == "facts: title" and r["status"] == "fail" for r in data["results"])


def test_the_validation_app_shows_a_changed_title(fake_elabftw, answers, tmp_path):
    from metafold_widgets.widgets import ValidateProjectApp

    session, project, experiment_id = linked(fake_elabftw, answers, tmp_path)
    session.elabftw.update_experiment(experiment_id, title="Renamed")
    app = ValidateProjectApp(Session(elabftw=session.elabftw, projects_dir=tmp_path))
    app.check_button.click()
    shown = app.report.value
    assert "facts: title" in shown and "elabFTW &#x27;Renamed&#x27;" in shown and "metafold-check-fail" in shown
    assert "permissions: elabFTW" in shown and "metafold-sections" in shown
