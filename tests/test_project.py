"""Planning and creating project folders: names, files, integrations, atomicity and races."""
from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import queue
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

import metafold_widgets.core.atomic as atomic
import metafold_widgets.core.project as project_module
from metafold_widgets import (
    AnswersError,
    InputFileError,
    Plan,
    ProjectExistsError,
    Template,
    UnsafeNameError,
    UserError,
    apply_plan,
    create_project,
    load_template,
    plan_project,
    read_record,
)
from metafold_widgets.core.atomic import TEMP_PREFIX, DiskFullError, rename_no_replace, write_atomic
from metafold_widgets.core.record import assert_no_secrets, write_record

NOW = dt.datetime(2025, 6, 13, 9, 30, tzinfo=dt.timezone.utc)

DEMO = {
    "id": "demo",
    "name": "Demo experiment",
    "version": "2.1.0",
    "description": "A small template for tests.",
    "project_name": "{sample_id}_{title}",
    "log_folder": "docs/logs",
    "folders": ["raw/images", "raw/stacks", "analysis", "docs"],
    "files": ["docs/notes.txt"],
    "fields": {
        "sample_id": {"type": "text", "label": "Sample ID", "required": True},
        "title": {"type": "text", "label": "Title"},
        "enable_elabftw": {"type": "checkbox", "default": True},
        "enable_omero": {"type": "checkbox", "default": False},
        "omero_group": {"type": "dropdown", "options_source": "omero_groups_api",
                        "condition": {"field": "enable_omero", "equals": True}},
        "elabftw_tags": {"type": "text"},
        "conditions": {"type": "group", "label": "Conditions", "fields": {
            "temperature": {"type": "decimal", "unit": "°C", "help_text": "Incubation temperature"},
            "replicates": {"type": "integer"},
            "timing": {"type": "group", "label": "Timing", "fields": {
                "duration": {"type": "integer", "unit": "min"},
            }},
        }},
        "notes": {"type": "textarea"},
    },
}
ANSWERS = {"sample_id": "S-01", "title": "Heat shock", "replicates": 0, "elabftw_tags": "heat, stress, heat"}


@pytest.fixture
def demo() -> Template:
    return load_template(DEMO)


def tutorial(template_path: Path, answers_path: Path) -> tuple[Template, dict[str, Any]]:
    return load_template(template_path), yaml.safe_load(answers_path.read_text(encoding="utf-8"))


def listing(folder: Path) -> list[str]:
    """Every path below ``folder``, relative, sorted (hidden entries included)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def no_temporaries(folder: Path) -> bool:
    return not any(p.name.startswith(TEMP_PREFIX) or p.name.endswith(".tmp") for p in folder.rglob("*"))


# --- plans are pure ---------------------------------------------------------------------------


def test_plan_writes_nothing(tmp_path, demo) -> None:
    before = listing(tmp_path)
    plan = plan_project(demo, ANSWERS, tmp_path, now=NOW)
    assert listing(tmp_path) == before == []
    assert isinstance(plan, Plan)
    assert plan.path == tmp_path / "S-01_Heat_shock"
    missing = tmp_path / "not" / "there"
    plan_project(demo, ANSWERS, missing, now=NOW)
    assert not (tmp_path / "not").exists()


def test_plan_does_not_modify_the_answers(tmp_path, demo) -> None:
    answers = dict(ANSWERS)
    plan_project(demo, answers, tmp_path, now=NOW)
    assert answers == ANSWERS


def test_plan_is_deterministic_for_a_given_time_and_uid(tmp_path, demo) -> None:
    first = plan_project(demo, ANSWERS, tmp_path, now=NOW, created_by="ada", uid="u-1")
    second = plan_project(demo, ANSWERS, tmp_path, now=NOW, created_by="ada", uid="u-1")
    assert first == second


def test_every_plan_gets_its_own_project_uid(tmp_path, demo) -> None:
    first = plan_project(demo, ANSWERS, tmp_path, now=NOW)
    second = plan_project(demo, ANSWERS, tmp_path, now=NOW)
    assert first.record["project"]["uid"] != second.record["project"]["uid"]


def test_plan_contents(tmp_path, demo) -> None:
    plan = plan_project(demo, ANSWERS, tmp_path, now=NOW, created_by="ada")
    assert plan.name == "S-01_Heat_shock"
    assert plan.template_id == "demo" and plan.template_version == "2.1.0"
    assert set(plan.folders) >= {"raw", "raw/images", "raw/stacks", "analysis", "docs", "docs/logs"}
    assert set(plan.files) == {"metafold.json", "elabftw-metadata.json", "README.md",
                               "docs/logs/integration_log.jsonl", "docs/notes.txt"}
    assert plan.files["docs/notes.txt"] == ""
    assert plan.log_folder == "docs/logs"


def test_plan_to_dict_shows_tree_files_and_payloads(tmp_path, demo) -> None:
    data = plan_project(demo, ANSWERS, tmp_path, now=NOW).to_dict()
    assert json.loads(json.dumps(data)) == data  # JSON-ready
    assert data["name"] == "S-01_Heat_shock"
    assert data["path"] == str(tmp_path / "S-01_Heat_shock")
    assert data["template"] == {"id": "demo", "version": "2.1.0"}
    assert "raw/images" in data["folders"]
    assert "metafold.json" in data["files"] and "docs/logs/integration_log.jsonl" in data["files"]
    elab = data["integrations"]["elabftw"]
    assert elab["enabled"] is True
    assert elab["payload"]["title"] == "S-01_Heat_shock"  # no experiment_title: the project name
    assert elab["payload"]["tags"] == ["heat", "stress"]
    assert elab["payload"]["metadata"]["extra_fields"]["Sample ID"]["value"] == "S-01"
    omero = data["integrations"]["omero"]
    assert omero["enabled"] is False and "Enable omero" in omero["reason"]


def test_plan_describe_shows_tree_files_and_systems(tmp_path, example_template_path, example_answers_path) -> None:
    template, answers = tutorial(example_template_path, example_answers_path)
    text = plan_project(template, answers, tmp_path, now=NOW).describe()
    lines = text.splitlines()
    assert lines[0] == f"Project: {tmp_path / 'IMG202501_Protein_Localization_in_Response_to_Heat_Stress'}"
    assert "Template: multi-modal-imaging 1.0.0" in lines
    assert "  03_imaging/" in lines
    assert "    raw_images/" in lines and "      controls/" in lines
    assert "      integration_log.jsonl" in lines
    assert "  metafold.json" in lines and "  elabftw-metadata.json" in lines and "  README.md" in lines
    assert "elabFTW experiment: will be created" in lines
    assert '  title: "Protein Localization in Response to Heat Stress"' in lines
    assert '  category: "Microscopy"' in lines
    assert "OMERO dataset: will be created" in lines
    assert '  group: "Imaging Lab"' in lines
    assert not list(tmp_path.iterdir())


def test_plan_describe_keeps_children_under_their_parent(tmp_path) -> None:
    template = load_template({"id": "tree", "type": "folder", "folders": ["data", "data-old", "data.v2/x", "data/raw"],
                              "fields": {"title": {"type": "text"}}})
    lines = plan_project(template, {"title": "T"}, tmp_path, now=NOW).describe().splitlines()
    tree = lines[lines.index("Folders and files:") + 1:]
    assert tree.index("    raw/") == tree.index("  data/") + 1
    assert tree.index("    x/") == tree.index("  data.v2/") + 1


def test_plan_describe_says_why_a_system_is_off(tmp_path, example_template_path, example_answers_path) -> None:
    template, answers = tutorial(example_template_path, example_answers_path)
    text = plan_project(template, {**answers, "enable_omero": False}, tmp_path, now=NOW).describe()
    assert "OMERO dataset: off ('Enable omero' is not checked)" in text
    assert "elabFTW experiment: will be created" in text


def test_invalid_answers_raise_with_every_error(tmp_path, demo) -> None:
    with pytest.raises(AnswersError) as caught:
        plan_project(demo, {"title": "x", "replicates": "many", "bogus": 1}, tmp_path)
    assert [e.key for e in caught.value.errors] == ["sample_id", "replicates", "bogus"]
    assert not list(tmp_path.iterdir())


# --- integrations follow the answers and the template -------------------------------------------


def test_tutorial_plans_both_integrations(tmp_path, example_template_path, example_answers_path) -> None:
    template, answers = tutorial(example_template_path, example_answers_path)
    plan = plan_project(template, answers, tmp_path, now=NOW)
    elab, omero = plan.integrations["elabftw"], plan.integrations["omero"]
    assert elab["enabled"] and omero["enabled"]
    assert elab["payload"]["tags"] == ["protein localization", "heat stress", "fluorescence"]
    assert elab["payload"]["category"] == "Microscopy"
    assert omero["payload"]["group"] == "Imaging Lab"
    assert omero["payload"]["project_link"] == "Create New"
    assert omero["payload"]["dataset"] == plan.name
    assert ["Sample type", "Live Cells"] in omero["payload"]["key_values"]
    assert plan.record["integrations"]["elabftw"]["state"] == "pending"
    assert plan.record["integrations"]["omero"]["state"] == "pending"


@pytest.mark.parametrize("elab, omero", [(True, False), (False, True), (False, False)])
def test_enable_checkboxes_switch_integrations(tmp_path, example_template_path, example_answers_path,
                                               elab: bool, omero: bool) -> None:
    template, answers = tutorial(example_template_path, example_answers_path)
    plan = plan_project(template, {**answers, "enable_elabftw": elab, "enable_omero": omero}, tmp_path, now=NOW)
    assert plan.integrations["elabftw"]["enabled"] is elab
    assert plan.integrations["omero"]["enabled"] is omero
    for system, on in (("elabftw", elab), ("omero", omero)):
        state = plan.record["integrations"][system]
        assert state["state"] == ("pending" if on else "off")
        if not on:
            assert "is not checked" in state["reason"]
            assert plan.integrations[system]["payload"] == {}


def test_folder_template_has_no_integrations(tmp_path) -> None:
    template = load_template("folder-only")
    plan = plan_project(template, {"project_name": "My project", "owner": "Ada"}, tmp_path, now=NOW)
    for system in ("elabftw", "omero"):
        assert plan.integrations[system] == {"enabled": False, "reason": "folder-only template", "payload": {}}
        assert plan.record["integrations"][system]["state"] == "off"
    assert plan.name == "My_project"


def test_integration_turned_off_in_the_template(tmp_path) -> None:
    template = load_template({**DEMO, "integrations": {"omero": False}})
    plan = plan_project(template, {**ANSWERS, "enable_omero": True}, tmp_path, now=NOW)
    assert plan.integrations["omero"]["enabled"] is False
    assert plan.integrations["omero"]["reason"] == "turned off in the template"
    assert plan.integrations["elabftw"]["enabled"] is True


def test_elabftw_title_pattern(tmp_path) -> None:
    template = load_template({**DEMO, "integrations": {"elabftw": {"title": "{sample_id}: {title}"}}})
    plan = plan_project(template, ANSWERS, tmp_path, now=NOW)
    assert plan.integrations["elabftw"]["payload"]["title"] == "S-01: Heat shock"


# --- project names ----------------------------------------------------------------------------


def test_name_from_the_tutorial_answers(tmp_path, example_template_path, example_answers_path) -> None:
    template, answers = tutorial(example_template_path, example_answers_path)
    assert plan_project(template, answers, tmp_path).name == \
        "IMG202501_Protein_Localization_in_Response_to_Heat_Stress"


@pytest.mark.parametrize("title, expected", [
    ("Heat: stress/test?", "S-01_Heat_stress_test"),
    ("  lots   of   space  ", "S-01_lots_of_space"),
    ('a<b>c"d|e*f\\g', "S-01_a_b_c_d_e_f_g"),
    ("trailing dots...", "S-01_trailing_dots"),
    ("Ünïcødé µm", "S-01_Ünïcødé_µm"),
    ("", "S-01"),
])
def test_name_from_answers_is_a_safe_folder_name(tmp_path, demo, title: str, expected: str) -> None:
    assert plan_project(demo, {**ANSWERS, "title": title}, tmp_path, now=NOW).name == expected


def test_name_pattern_with_dates_and_format_specs(tmp_path) -> None:
    template = load_template({"id": "runs", "project_name": "{day}_run{run:03d}",
                              "fields": {"day": {"type": "date", "default": "today"}, "run": {"type": "integer"}}})
    assert plan_project(template, {"run": "7"}, tmp_path, now=NOW).name == "2025-06-13_run007"
    # an unanswered number cannot take ':03d'; the name must still be made, not crash
    assert plan_project(template, {}, tmp_path, now=NOW).name == "2025-06-13_run"


def test_blank_name_falls_back_to_template_id_and_date(tmp_path) -> None:
    template = load_template({"id": "blank-name", "project_name": "{title}", "fields": {"title": {"type": "text"}}})
    assert plan_project(template, {}, tmp_path, now=NOW).name == "blank-name_2025-06-13"


@pytest.mark.parametrize("name, expected", [
    ("a/b:c", "a_b_c"),
    ("My Project", "My_Project"),
    ("..hidden", "hidden"),
    ("CON", "CON_"),
    ("back\\slash", "back_slash"),
])
def test_explicit_name_is_sanitized(tmp_path, demo, name: str, expected: str) -> None:
    plan = plan_project(demo, ANSWERS, tmp_path, name, now=NOW)
    assert plan.name == expected
    assert plan.path.parent == tmp_path


def test_explicit_name_escaping_the_destination_stays_inside(tmp_path, demo) -> None:
    plan = plan_project(demo, ANSWERS, tmp_path, "../../etc/passwd", now=NOW)
    assert plan.path.parent == tmp_path
    assert "/" not in plan.name and not plan.name.startswith(".")


def test_blank_explicit_name_uses_the_answers(tmp_path, demo) -> None:
    assert plan_project(demo, ANSWERS, tmp_path, "   ", now=NOW).name == "S-01_Heat_shock"


@pytest.mark.parametrize("name", ["???", "...", "//"])
def test_unusable_name_is_refused(tmp_path, demo, name: str) -> None:
    with pytest.raises(UnsafeNameError):
        plan_project(demo, ANSWERS, tmp_path, name, now=NOW)


# --- creating the project -------------------------------------------------------------------


def test_create_writes_the_full_tree(tmp_path, demo) -> None:
    path = create_project(demo, ANSWERS, tmp_path, created_by="ada", now=NOW)
    assert path == tmp_path / "S-01_Heat_shock"
    assert path.is_dir()
    for folder in demo.folders.folders:
        assert (path / folder).is_dir(), folder
    assert (path / "docs/notes.txt").read_text() == ""
    assert listing(tmp_path) == sorted(
        ["S-01_Heat_shock"] + [f"S-01_Heat_shock/{p}" for p in (
            "raw", "raw/images", "raw/stacks", "analysis", "docs", "docs/logs", "docs/notes.txt",
            "docs/logs/integration_log.jsonl", "metafold.json", "elabftw-metadata.json", "README.md")])


def test_record_contents(tmp_path, demo) -> None:
    path = create_project(demo, ANSWERS, tmp_path, created_by="ada", now=NOW)
    record = json.loads((path / "metafold.json").read_text(encoding="utf-8"))
    assert record == read_record(path)
    assert record["format"] == "metafold-project"
    assert record["template"] == {"id": "demo", "name": "Demo experiment", "version": "2.1.0",
                                  "type": "experiment"}
    assert record["project"]["name"] == "S-01_Heat_shock"
    assert record["project"]["created_by"] == "ada"
    assert record["project"]["created_at"] == "2025-06-13T09:30:00Z"
    assert record["project"]["tool"].startswith("metafold-widgets ")
    assert record["answers"] == {"sample_id": "S-01", "title": "Heat shock", "enable_elabftw": True,
                                 "enable_omero": False, "elabftw_tags": "heat, stress, heat",
                                 "temperature": None, "replicates": 0, "duration": None, "notes": None}
    elabftw = dict(record["integrations"]["elabftw"])
    payload = elabftw.pop("payload")  # what resume will send, so the record is self-contained
    assert elabftw == {"state": "pending", "id": None, "url": None, "error": None}
    assert payload["metadata"]["extra_fields"] and payload["title"]
    assert "payload" not in record["integrations"]["omero"]
    assert record["integrations"]["omero"]["state"] == "off"
    assert record["integrations"]["omero"]["reason"] == "'Enable omero' is not checked"
    assert_no_secrets(record)


def test_record_created_by_defaults_to_the_login_name(tmp_path, demo) -> None:
    record = read_record(create_project(demo, ANSWERS, tmp_path))
    assert isinstance(record["project"]["created_by"], str) and record["project"]["created_by"]
    created = dt.datetime.fromisoformat(record["project"]["created_at"].replace("Z", "+00:00"))
    assert created.tzinfo is not None


def test_record_holds_no_secrets(tmp_path, example_template_path, example_answers_path) -> None:
    template, answers = tutorial(example_template_path, example_answers_path)
    path = create_project(template, answers, tmp_path, created_by="ada", now=NOW)
    # the record names the project's folder, whose test-made parent is called after this test
    text = (path / "metafold.json").read_text(encoding="utf-8").replace(str(tmp_path), "TMP").lower()
    for word in ("password", "api_key", "apikey", "token", "secret"):
        assert word not in text
    assert_no_secrets(json.loads(text))


def test_answered_credential_fields_are_refused_before_writing(tmp_path) -> None:
    """A password answer would land in metafold.json, the README and elabFTW; and every later
    write_record of that project would fail. Refuse it up front, as a user error."""
    template = load_template({"id": "creds", "type": "folder", "fields": {
        "title": {"type": "text"}, "omero_password": {"type": "text"}}})
    with pytest.raises(UserError, match="omero_password"):
        plan_project(template, {"title": "T", "omero_password": "hunter2"}, tmp_path)
    with pytest.raises(UserError):
        create_project(template, {"title": "T", "omero_password": "hunter2"}, tmp_path)
    assert listing(tmp_path) == []
    path = create_project(template, {"title": "T"}, tmp_path)  # left blank: nothing secret to store
    write_record(path, read_record(path))


def test_long_names_are_shortened(tmp_path, demo) -> None:
    name = plan_project(demo, {**ANSWERS, "title": "word " * 100}, tmp_path, now=NOW).name
    assert name.startswith("S-01_word_word") and len(name) <= 120
    assert not name.endswith(("_", ".", " "))


def test_elabftw_metadata_file(tmp_path, demo) -> None:
    path = create_project(demo, {**ANSWERS, "temperature": "37,5"}, tmp_path, now=NOW)
    metadata = json.loads((path / "elabftw-metadata.json").read_text(encoding="utf-8"))
    extra = metadata["extra_fields"]
    assert list(extra) == ["Sample ID", "Title", "Enable elabftw", "Enable omero", "Elabftw tags",
                           "Temperature", "Replicates", "Duration", "Notes"]
    assert [entry["position"] for entry in extra.values()] == list(range(1, len(extra) + 1))
    assert extra["Sample ID"] == {"type": "text", "value": "S-01", "position": 1, "required": True}
    assert extra["Enable elabftw"]["value"] == "on" and extra["Enable omero"]["value"] == ""
    assert extra["Temperature"]["value"] == "37.5"
    assert extra["Temperature"]["unit"] == "°C" and extra["Temperature"]["units"] == ["°C"]
    assert extra["Temperature"]["description"] == "Incubation temperature"
    assert extra["Replicates"]["value"] == "0"  # zero is an answer
    assert extra["Duration"]["value"] == ""  # blank number: "", never 0
    assert extra["Notes"]["value"] == ""
    groups = metadata["elabftw"]["extra_fields_groups"]
    assert groups == [{"id": 1, "name": "Conditions"}, {"id": 2, "name": "Conditions / Timing"}]
    assert extra["Temperature"]["group_id"] == 1 and extra["Replicates"]["group_id"] == 1
    assert extra["Duration"]["group_id"] == 2
    assert "group_id" not in extra["Sample ID"]
    assert "Omero group" not in extra  # hidden: not exported
    assert metadata["metafold"]["field_keys"]["Sample ID"] == "sample_id"


def test_blank_numbers_are_never_zero(tmp_path, demo) -> None:
    path = create_project(demo, {"sample_id": "S-02", "temperature": "", "replicates": None}, tmp_path, now=NOW)
    extra = json.loads((path / "elabftw-metadata.json").read_text(encoding="utf-8"))["extra_fields"]
    for label in ("Temperature", "Replicates", "Duration"):
        assert extra[label]["value"] == "", label
    assert read_record(path)["answers"]["temperature"] is None


def test_hidden_fields_are_not_exported(tmp_path, example_template_path, example_answers_path) -> None:
    template, answers = tutorial(example_template_path, example_answers_path)
    path = create_project(template, {**answers, "enable_omero": False}, tmp_path, now=NOW)
    record = read_record(path)
    assert "omero_group" not in record["answers"] and "omero_project_link" not in record["answers"]
    assert record["integrations"]["omero"]["state"] == "off"
    assert record["integrations"]["elabftw"]["state"] == "pending"
    extra = json.loads((path / "elabftw-metadata.json").read_text(encoding="utf-8"))["extra_fields"]
    assert "Omero group" not in extra and "Omero project link" not in extra
    assert "Imaging Lab" not in (path / "README.md").read_text(encoding="utf-8")


def test_readme_shows_metadata_and_escapes_markup(tmp_path, demo) -> None:
    answers = {**ANSWERS, "title": "a|b <script>alert(1)</script>", "notes": "x | y\n<img src=x onerror=1>",
               "temperature": 37}
    path = create_project(demo, answers, tmp_path, name="escaped", created_by="ada", now=NOW)
    readme = (path / "README.md").read_text(encoding="utf-8")
    assert "<script>" not in readme and "<img" not in readme
    assert "&lt;script&gt;" in readme
    assert "| Title | a\\|b &lt;script&gt;alert(1)&lt;/script&gt; |" in readme
    assert "| Notes | x \\| y &lt;img src=x onerror=1&gt; |" in readme
    assert "| Sample ID | S-01 |" in readme
    assert "| Temperature | 37 °C |" in readme
    assert "| Replicates | 0 |" in readme
    assert "### Conditions" in readme and "### Timing" in readme
    assert "`demo` 2.1.0" in readme and "Demo experiment" in readme
    assert "2025-06-13T09:30:00Z by ada" in readme
    assert "- elabFTW experiment: pending" in readme
    assert "- OMERO dataset: not used ('Enable omero' is not checked)" in readme
    for line in readme.splitlines():
        if line.startswith("| "):
            assert line.replace("\\|", "").count("|") == 3, line  # every row keeps two columns


def test_readme_of_the_tutorial(tmp_path, example_template_path, example_answers_path) -> None:
    template, answers = tutorial(example_template_path, example_answers_path)
    readme = (create_project(template, answers, tmp_path, now=NOW) / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# Protein Localization in Response to Heat Stress\n")
    assert "| Principal investigator | Dr. Ada Example |" in readme
    assert "| Enable omero | yes |" in readme


def test_log_is_json_lines_in_the_template_log_folder(tmp_path, demo) -> None:
    path = create_project(demo, ANSWERS, tmp_path, now=NOW, created_by="ada")
    lines = (path / "docs/logs/integration_log.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry == {"time": "2025-06-13T09:30:00Z", "user": "ada", "system": "local", "action": "create_project",
                     "result": "done", "project": "S-01_Heat_shock", "template": "demo 2.1.0"}


def test_log_folder_found_in_the_tutorial_tree(tmp_path, example_template_path, example_answers_path) -> None:
    template, answers = tutorial(example_template_path, example_answers_path)
    path = create_project(template, answers, tmp_path, now=NOW)
    log = path / "01_project_management/integration_logs/integration_log.jsonl"
    assert json.loads(log.read_text(encoding="utf-8").splitlines()[0])["action"] == "create_project"


def test_log_folder_outside_the_tree_is_created(tmp_path) -> None:
    template = load_template({"id": "logs", "type": "folder", "folders": ["data"], "fields": {"t": {"type": "text"}}})
    path = create_project(template, {"t": "x"}, tmp_path, now=NOW)
    assert (path / "integration_logs/integration_log.jsonl").is_file()


def test_progress_counts_up_to_the_total(tmp_path, demo) -> None:
    calls: list[tuple[int, int, str]] = []
    plan = plan_project(demo, ANSWERS, tmp_path, now=NOW)
    apply_plan(plan, progress=lambda done, total, message: calls.append((done, total, message)))
    total = len(plan.folders) + len(plan.files) + 1
    assert calls, "progress was never called"
    assert {t for _, t, _ in calls} == {total}
    counts = [done for done, _, _ in calls]
    assert counts == sorted(counts) and len(set(counts)) == len(counts)  # strictly increasing
    assert counts[0] >= 1 and counts[-1] == total
    assert all(isinstance(message, str) and message for _, _, message in calls)


def test_create_project_passes_progress(tmp_path, demo) -> None:
    seen: list[int] = []
    create_project(demo, ANSWERS, tmp_path, progress=lambda done, total, message: seen.append(done))
    assert seen and seen == sorted(seen)


# --- destinations and atomicity -------------------------------------------------------------


def test_missing_destination_is_a_user_error(tmp_path, demo) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(UserError) as caught:
        create_project(demo, ANSWERS, missing)
    assert not isinstance(caught.value, ProjectExistsError)
    assert "does not exist" in str(caught.value)
    assert not missing.exists()
    assert listing(tmp_path) == []


def test_destination_that_is_a_file_is_a_user_error(tmp_path, demo) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("keep")
    with pytest.raises(UserError):
        create_project(demo, ANSWERS, a_file)
    assert a_file.read_text() == "keep"
    assert listing(tmp_path) == ["file.txt"]


@pytest.mark.parametrize("kind", ["empty folder", "full folder", "file", "dangling symlink"])
def test_existing_destination_is_never_touched(tmp_path, demo, kind: str) -> None:
    target = tmp_path / "S-01_Heat_shock"
    if kind == "empty folder":
        target.mkdir()
    elif kind == "full folder":
        target.mkdir()
        (target / "data.csv").write_text("1,2,3\n")
        (target / "sub").mkdir()
    elif kind == "file":
        target.write_text("not a folder")
    else:
        target.symlink_to(tmp_path / "does-not-exist")
    before = {p: (p.read_bytes() if p.is_file() else None) for p in tmp_path.rglob("*")}
    with pytest.raises(ProjectExistsError) as caught:
        create_project(demo, ANSWERS, tmp_path)
    assert "already exists" in str(caught.value)
    after = {p: (p.read_bytes() if p.is_file() else None) for p in tmp_path.rglob("*")}
    assert after == before
    assert no_temporaries(tmp_path)


def test_failure_while_writing_leaves_nothing(tmp_path, demo, monkeypatch) -> None:
    real_write = project_module._write_file
    calls = []

    def failing_write(path: Path, content: str) -> None:
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_write(path, content)

    monkeypatch.setattr(project_module, "_write_file", failing_write)
    with pytest.raises(DiskFullError, match="disk is full") as caught:
        create_project(demo, ANSWERS, tmp_path)
    assert caught.value.path == str(tmp_path / "S-01_Heat_shock")
    assert len(calls) == 3
    assert listing(tmp_path) == []  # no project and no hidden '.metafold-tmp-' folder


def test_interruption_while_writing_leaves_nothing(tmp_path, demo) -> None:
    def interrupt(done: int, total: int, message: str) -> None:
        if done == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        create_project(demo, ANSWERS, tmp_path, progress=interrupt)
    assert listing(tmp_path) == []


@pytest.mark.parametrize("native", [True, False], ids=["native-rename", "fallback-rename"])
def test_destination_appearing_during_creation_is_not_replaced(tmp_path, demo, monkeypatch, native: bool) -> None:
    """Another process creates the same (empty) folder while we write: we must lose, not merge."""
    if not native:
        monkeypatch.setattr(atomic, "_native_noreplace", lambda: None)
    plan = plan_project(demo, ANSWERS, tmp_path, now=NOW)

    def competitor(done: int, total: int, message: str) -> None:
        if done == total - 1:  # every file written, just before the rename
            plan.path.mkdir()

    with pytest.raises(ProjectExistsError):
        apply_plan(plan, progress=competitor)
    assert listing(tmp_path) == ["S-01_Heat_shock"]  # the competitor's folder, still empty
    assert list(plan.path.iterdir()) == []


def _race_worker(template_data: dict[str, Any], answers: dict[str, Any], dest: str, barrier: Any,
                 results: Any) -> None:
    """Plan a project, wait for the other process, then create it; report the outcome."""
    from metafold_widgets import ProjectExistsError, apply_plan, load_template, plan_project

    try:
        plan = plan_project(load_template(template_data), answers, dest)
        barrier.wait()
        results.put(("ok", str(apply_plan(plan))))
    except ProjectExistsError as exc:
        results.put(("exists", str(exc)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent test
        results.put(("error", repr(exc)))


@pytest.mark.parametrize("method", [m for m in ("fork", "spawn") if m in multiprocessing.get_all_start_methods()])
def test_two_processes_racing_for_one_name(tmp_path, method: str) -> None:
    context = multiprocessing.get_context(method)
    template = {**DEMO, "folders": [f"f{i:02d}/sub{j}" for i in range(20) for j in range(3)]}
    for round_number in range(3):
        dest = tmp_path / f"round{round_number}"
        dest.mkdir()
        barrier, results = context.Barrier(2), context.Queue()
        workers = [context.Process(target=_race_worker, args=(template, ANSWERS, str(dest), barrier, results))
                   for _ in range(2)]
        for worker in workers:
            worker.start()
        try:
            outcomes = sorted(results.get(timeout=120) for _ in workers)
        except queue.Empty:  # pragma: no cover - a hung worker is a failure, not a skip
            pytest.fail("a racing process did not report")
        finally:
            for worker in workers:
                worker.join(timeout=60)
        assert [kind for kind, _ in outcomes] == ["exists", "ok"], outcomes
        project = Path(outcomes[1][1])
        assert project == dest / "S-01_Heat_shock"
        assert [p.name for p in dest.iterdir()] == [project.name]  # no temporaries left
        plan = plan_project(load_template(template), ANSWERS, dest)
        for folder in plan.folders:
            assert (project / folder).is_dir(), folder
        for relative in plan.files:
            assert (project / relative).is_file(), relative
        assert read_record(project)["answers"]["sample_id"] == "S-01"


# --- atomic helpers and the record ---------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_027():
    """Run with umask 027: group members may read, others may not."""
    old = os.umask(0o027)
    yield
    os.umask(old)


def test_project_gets_the_usual_permissions(tmp_path, demo, umask_027) -> None:
    """The project is shared like any folder the user makes, not private to its creator."""
    path = create_project(demo, ANSWERS, tmp_path, now=NOW)
    assert mode(path) == 0o750
    assert mode(path / "raw/images") == 0o750
    assert mode(path / "metafold.json") == 0o640
    assert mode(path / "docs/notes.txt") == 0o640


def test_write_atomic_keeps_the_permissions_of_the_file(tmp_path, umask_027) -> None:
    shared = tmp_path / "shared.json"
    shared.write_text("old")
    os.chmod(shared, 0o664)
    write_atomic(shared, "new")
    assert mode(shared) == 0o664 and shared.read_text() == "new"
    write_atomic(tmp_path / "fresh.json", "x")
    assert mode(tmp_path / "fresh.json") == 0o640


def test_write_record_keeps_the_record_readable(tmp_path, demo, umask_027) -> None:
    path = create_project(demo, ANSWERS, tmp_path, now=NOW)
    write_record(path, read_record(path))
    assert mode(path / "metafold.json") == 0o640


def test_fallback_rename_failure_leaves_no_claimed_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(atomic, "_native_noreplace", lambda: None)
    source = tmp_path / "source"
    source.mkdir()
    (source / "a.txt").write_text("a")

    def broken_rename(old: Any, new: Any) -> None:
        raise OSError("rename failed")

    monkeypatch.setattr(atomic.os, "rename", broken_rename)
    with pytest.raises(OSError, match="rename failed"):
        rename_no_replace(source, tmp_path / "target")
    monkeypatch.undo()
    assert listing(tmp_path) == ["source", "source/a.txt"]


def test_rename_no_replace_moves_a_folder(tmp_path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "a.txt").write_text("a")
    rename_no_replace(source, tmp_path / "target")
    assert not source.exists() and (tmp_path / "target/a.txt").read_text() == "a"


@pytest.mark.parametrize("native", [True, False], ids=["native-rename", "fallback-rename"])
@pytest.mark.parametrize("kind", ["empty folder", "full folder", "file"])
def test_rename_no_replace_refuses_an_existing_target(tmp_path, monkeypatch, native: bool, kind: str) -> None:
    if not native:
        monkeypatch.setattr(atomic, "_native_noreplace", lambda: None)
    source = tmp_path / "source"
    source.mkdir()
    (source / "a.txt").write_text("a")
    target = tmp_path / "target"
    if kind == "file":
        target.write_text("keep")
    else:
        target.mkdir()
        if kind == "full folder":
            (target / "b.txt").write_text("b")
    with pytest.raises(FileExistsError):
        rename_no_replace(source, target)
    assert (source / "a.txt").read_text() == "a"
    if kind == "file":
        assert target.read_text() == "keep"
    else:
        assert sorted(p.name for p in target.iterdir()) == ([] if kind == "empty folder" else ["b.txt"])


@pytest.mark.parametrize("data", ["new text ✓\n", b"\x00binary"])
def test_write_atomic_replaces_content_without_temporaries(tmp_path, data: Any) -> None:
    target = tmp_path / "file.json"
    target.write_text("old")
    write_atomic(target, data)
    expected = data.encode("utf-8") if isinstance(data, str) else data
    assert target.read_bytes() == expected
    assert listing(tmp_path) == ["file.json"]


def test_write_atomic_creates_a_new_file(tmp_path) -> None:
    write_atomic(tmp_path / "new.txt", "x")
    assert (tmp_path / "new.txt").read_text() == "x"
    assert listing(tmp_path) == ["new.txt"]


def test_write_atomic_failure_keeps_the_old_content(tmp_path, monkeypatch) -> None:
    target = tmp_path / "file.txt"
    target.write_text("old")

    def broken_replace(source: Any, destination: Any) -> None:
        raise OSError("disk went away")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk went away"):
        write_atomic(target, "new")
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert listing(tmp_path) == ["file.txt"]


def test_write_record_replaces_the_record(tmp_path, demo) -> None:
    path = create_project(demo, ANSWERS, tmp_path, now=NOW)
    record = read_record(path)
    record["integrations"]["elabftw"].update(state="done", id=42, url="https://eln.example.org/experiments.php?id=42")
    write_record(path, record)
    assert read_record(path) == record
    assert no_temporaries(path)


@pytest.mark.parametrize("secret", [
    {"api_key": "x"},
    {"integrations": {"elabftw": {"token": "abc"}}},
    {"integrations": {"omero": {"password": "hunter2"}}},
    {"connections": [{"session_key": "s"}]},
    {"elabftw-api-key": "k"},
])
def test_write_record_refuses_secrets(tmp_path, demo, secret: dict[str, Any]) -> None:
    path = create_project(demo, ANSWERS, tmp_path, now=NOW)
    before = (path / "metafold.json").read_bytes()
    record = {**read_record(path), **secret}
    with pytest.raises(ValueError, match="credential"):
        write_record(path, record)
    assert (path / "metafold.json").read_bytes() == before
    assert no_temporaries(path)


def test_write_record_allows_empty_secret_like_keys(tmp_path, demo) -> None:
    path = create_project(demo, ANSWERS, tmp_path, now=NOW)
    record = {**read_record(path), "api_key": None, "tokenizer": "word"}
    write_record(path, record)
    assert read_record(path)["tokenizer"] == "word"


def test_read_record_of_a_non_project_folder(tmp_path) -> None:
    with pytest.raises(InputFileError, match="not a metafold project"):
        read_record(tmp_path)


@pytest.mark.parametrize("content, message", [
    ("{not json", "is not valid JSON"),
    ('{"format": "something-else"}', "is not a metafold project record"),
    ("[1, 2]", "is not a metafold project record"),
])
def test_read_record_of_a_broken_record(tmp_path, content: str, message: str) -> None:
    (tmp_path / "metafold.json").write_text(content)
    with pytest.raises(InputFileError, match=message) as caught:
        read_record(tmp_path)
    assert isinstance(caught.value, UserError)
    assert str(tmp_path) in str(caught.value)


def test_created_project_has_no_temporaries(tmp_path, demo) -> None:
    create_project(demo, ANSWERS, tmp_path, now=NOW)
    assert no_temporaries(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["S-01_Heat_shock"]


def test_two_projects_side_by_side(tmp_path, demo) -> None:
    first = create_project(demo, ANSWERS, tmp_path, now=NOW)
    second = create_project(demo, {**ANSWERS, "sample_id": "S-02"}, tmp_path, now=NOW)
    assert first != second and first.is_dir() and second.is_dir()
    with pytest.raises(ProjectExistsError):
        create_project(demo, ANSWERS, tmp_path, now=NOW)
    assert sorted(os.listdir(tmp_path)) == ["S-01_Heat_shock", "S-02_Heat_shock"]


def test_write_new_file_never_replaces_and_leaves_no_temporary(tmp_path) -> None:
    from metafold_widgets.core.atomic import write_new_file
    target = tmp_path / "schema.json"
    write_new_file(target, "first")
    with pytest.raises(FileExistsError):
        write_new_file(target, "second")
    assert target.read_text() == "first" and [p.name for p in tmp_path.iterdir()] == ["schema.json"]
