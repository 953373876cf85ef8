"""Loading templates: sources, field types and attributes, groups, conditions, folder trees, problems."""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from metafold_widgets import (
    Field,
    Group,
    Option,
    Template,
    TemplateError,
    TemplateProblem,
    UserError,
    builtin_template_ids,
    check_answers,
    evaluate_condition,
    load_template,
)
from metafold_widgets.core.conditions import AllOf, AnyOf, Compare, Not
from metafold_widgets.core.fields import readable_label

NOW = dt.datetime(2025, 6, 13, 9, 30)


def content(template: Template) -> Template:
    """The template without where it was read from, to compare templates read from different places."""
    return replace(template, source="")


def make(fields: dict[str, Any], **extra: Any) -> Template:
    """A template built inline from its ``fields`` mapping."""
    return load_template({"id": "t", "name": "Test", "fields": fields, **extra})


def problems_of(source: Any) -> list[TemplateProblem]:
    """The problems reported for a broken template (it must not load)."""
    with pytest.raises(TemplateError) as caught:
        load_template(source)
    return caught.value.problems


def line_of(text: str, marker: str, occurrence: int = 1) -> int:
    """The 1-based line holding the ``occurrence``-th line that contains ``marker``."""
    lines = [number for number, line in enumerate(text.splitlines(), start=1) if marker in line]
    assert len(lines) >= occurrence, f"{marker!r} occurs {len(lines)} times"
    return lines[occurrence - 1]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- 1. loading -------------------------------------------------------------------------------

EXAMPLE_KEYS = [
    "project_identifier", "experiment_title", "principal_investigator", "enable_elabftw", "enable_omero",
    "elabftw_experiment_type", "elabftw_tags", "omero_group", "omero_project_link", "research_question",
    "experimental_approach", "expected_outcomes", "sample_type", "sample_preparation_protocol",
    "imaging_modality", "microscope_system", "data_sharing_level", "publication_plan",
]


def test_example_template_loads_unchanged_from_a_path(example_template_path: Path) -> None:
    template = load_template(example_template_path)
    raw = yaml.safe_load(example_template_path.read_text(encoding="utf-8"))
    assert (template.id, template.name, template.version, template.type) == (
        "multi-modal-imaging", "Multi-Modal Imaging Workflow", "1.0.0", "experiment")
    assert template.description == raw["description"]
    assert template.source == str(example_template_path)
    assert [f.key for f in template.fields] == EXAMPLE_KEYS
    assert template.groups == []
    for spec_key, spec in raw["fields"].items():
        field = template.field(spec_key)
        assert field.type == spec["type"]
        assert field.required == spec.get("required", False)
        assert field.help_text == spec.get("help_text", "")
        assert field.label == readable_label(spec_key)
        assert field.option_values() == spec.get("options", [])
        assert field.pattern == spec.get("pattern")
        assert field.max_length == spec.get("max_length")
        assert field.options_source == spec.get("options_source")
    assert template.field("enable_omero").default is True
    assert template.field("omero_group").condition == Compare("enable_omero", "equals", True)
    assert template.folders.leaf_folders() == raw["folders"]
    assert "01_project_management" in template.folders.folders
    assert template.folders.files == ()
    assert template.project_name == "{project_identifier}_{experiment_title}"
    assert template.log_folder == "01_project_management/integration_logs"
    assert template.role("elabftw", "enabled_by") == "enable_elabftw"
    assert template.role("omero", "group") == "omero_group"


def test_example_template_loads_equal_from_path_text_and_data(example_template_path: Path) -> None:
    text = example_template_path.read_text(encoding="utf-8")
    from_path = load_template(example_template_path)
    from_path_text = load_template(str(example_template_path))
    from_text = load_template(text)
    from_data = load_template(yaml.safe_load(text))
    assert content(from_path) == content(from_path_text) == content(from_text) == content(from_data)
    assert from_text.source == "<text>"
    assert from_data.source == "<data>"


def test_builtin_template_ids_all_load() -> None:
    ids = builtin_template_ids()
    assert {"multi-modal-imaging", "basic-experiment", "folder-only"} <= set(ids)
    assert ids == sorted(ids)
    for template_id in ids:
        template = load_template(template_id)
        assert template.id == template_id
        assert template.fields, template_id
        assert template_id in template.source


def test_builtin_templates_have_expected_shape() -> None:
    basic = load_template("basic-experiment")
    assert basic.field("temperature").group == "conditions"
    assert basic.role("elabftw", "enabled_by") == "create_elabftw_entry"
    assert "omero" not in basic.integrations
    folder_only = load_template("folder-only")
    assert folder_only.type == "folder"
    assert folder_only.integrations == {}
    imaging = load_template("multi-modal-imaging")
    assert [g.key for g in imaging.groups] == ["identification", "integrations", "experiment", "sample",
                                                "imaging", "data_management"]
    assert [f.key for f in imaging.fields] == [
        "project_identifier", "experiment_title", "principal_investigator", "enable_elabftw",
        "elabftw_experiment_type", "elabftw_tags", "enable_omero", "omero_group", "omero_project_link", "omero_project",
        "research_question", "experimental_approach", "expected_outcomes", "sample_type",
        "sample_preparation_protocol", "imaging_modality", "microscope_system", "data_sharing_level",
        "publication_plan"]


def test_unknown_builtin_id_is_a_template_error() -> None:
    problems = problems_of("no-such-template")
    assert len(problems) == 1
    assert "no template file or built-in template called 'no-such-template'" in problems[0].message


SAME_YAML = """\
id: same
name: Same template
version: 2.0.1
type: experiment
description: One template, two spellings.
folders: [raw/images, analysis]
files: [README.md]
fields:
  title: {type: text, required: true, pattern: "^[A-Z]", max_length: 50}
  day: {type: date, min: 2020-01-01, max: 2030-12-31, default: today}
  at: {type: time, min: "08:00", max: "18:00:00"}
  temp: {type: decimal, min: -80, max: 120, step: 0.5, precision: 1, unit: "°C", default: 37}
  kind: {type: select, options: [a, {value: b, label: Bee}], default: b}
  flag: {type: checkbox, default: true}
  details:
    type: group
    condition: {field: flag, equals: true}
    fields:
      many: {type: multiselect, options: [x, y, z], min_selections: 1, default: [x]}
"""

SAME_JSON = """\
{
  "id": "same", "name": "Same template", "version": "2.0.1", "type": "experiment",
  "description": "One template, two spellings.",
  "folders": ["raw/images", "analysis"],
  "files": ["README.md"],
  "fields": {
    "title": {"type": "text", "required": true, "pattern": "^[A-Z]", "max_length": 50},
    "day": {"type": "date", "min": "2020-01-01", "max": "2030-12-31", "default": "today"},
    "at": {"type": "time", "min": "08:00", "max": "18:00"},
    "temp": {"type": "decimal", "min": -80, "max": 120, "step": 0.5, "precision": 1, "unit": "°C",
             "default": 37},
    "kind": {"type": "dropdown", "options": ["a", {"value": "b", "label": "Bee"}], "default": "b"},
    "flag": {"type": "checkbox", "default": true},
    "details": {"type": "group", "condition": {"field": "flag", "equals": true},
                "fields": {"many": {"type": "multi_select", "options": ["x", "y", "z"],
                                    "min_selections": 1, "default": ["x"]}}}
  }
}
"""


def test_json_and_yaml_of_the_same_template_are_equal(tmp_path: Path) -> None:
    from_yaml_text, from_json_text = load_template(SAME_YAML), load_template(SAME_JSON)
    assert from_yaml_text == from_json_text
    from_yaml_file = load_template(write(tmp_path, "same.yaml", SAME_YAML))
    from_json_file = load_template(write(tmp_path, "same.json", SAME_JSON))
    assert from_yaml_file.source.endswith("same.yaml") and from_json_file.source.endswith("same.json")
    assert content(from_yaml_file) == content(from_json_file) == content(from_yaml_text)
    assert from_yaml_text.field("day").minimum == "2020-01-01"  # ISO text, not a YAML date object
    assert from_yaml_text.field("at").maximum == "18:00"


# --- 2. field types and attributes --------------------------------------------------------------

ALL_TYPES = """\
id: all-types
fields:
  title:
    type: text
    required: true
    pattern: "^[A-Z]"
    min_length: 2
    max_length: 20
    placeholder: Abc
    description: Described through the alias
    validation_message: Start with a capital letter.
    default: Hello
  notes: {type: textarea, help_text: Free text, default: "line one"}
  count: {type: number, min: 0, max: 10, default: 5}
  replicates: {type: integer, min: 1, max: 96, step: 1, default: 3}
  temperature: {type: decimal, min: -80, max: 120, step: 0.1, precision: 1, unit: "°C", default: 37.5}
  power: {type: number, units: [mW, W], unit: W}
  dose: {type: number, units: mg}
  day: {type: date, min: "2020-01-01", max: "2030-12-31", default: today}
  start: {type: time, min: "08:00", max: "18:00", default: now}
  acquired: {type: datetime, min: "2020-01-01T00:00", max: today, default: now}
  stain: {type: dropdown, options: [DAPI, {value: gfp, label: GFP}], default: GFP}
  group_name: {type: dropdown, options_source: omero_groups_api}
  mode: {type: radio, options: [fixed, live], default: live}
  fixed: {type: checkbox, default: "yes"}
  treatments: {type: checkbox_group, options: [control, drug], min_selections: 1, max_selections: 2}
  channels: {type: multi_select, options: [red, green, blue], min_selections: 0, max_selections: 3,
             default: [red, blue]}
  contact: {type: email, readonly: true}
  website: {type: url}
  sample: {type: items, default: 17}
  previous: {type: experiments}
  operator: {type: users}
  reagent: {type: compounds}
  raw_file: {type: uploads}
"""


def test_every_field_type_loads_with_its_attributes() -> None:
    template = load_template(ALL_TYPES)
    types = {f.key: f.type for f in template.fields}
    assert types == {
        "title": "text", "notes": "textarea", "count": "number", "replicates": "integer",
        "temperature": "decimal", "power": "number", "dose": "number", "day": "date", "start": "time",
        "acquired": "datetime", "stain": "dropdown", "group_name": "dropdown", "mode": "radio",
        "fixed": "checkbox", "treatments": "checkbox_group", "channels": "multi_select",
        "contact": "email", "website": "url", "sample": "items", "previous": "experiments",
        "operator": "users", "reagent": "compounds", "raw_file": "uploads"}
    title = template.field("title")
    assert (title.required, title.pattern, title.min_length, title.max_length) == (True, "^[A-Z]", 2, 20)
    assert (title.placeholder, title.help_text, title.default) == ("Abc", "Described through the alias", "Hello")
    assert title.validation_message == "Start with a capital letter."
    assert template.field("notes").help_text == "Free text"
    count = template.field("count")
    assert (count.minimum, count.maximum, count.default) == (0, 10, 5)
    replicates = template.field("replicates")
    assert (replicates.minimum, replicates.maximum, replicates.step, replicates.default) == (1, 96, 1, 3)
    assert isinstance(replicates.default, int)
    temperature = template.field("temperature")
    assert (temperature.minimum, temperature.maximum, temperature.step, temperature.precision) == (-80, 120, 0.1, 1)
    assert (temperature.unit, temperature.units, temperature.default) == ("°C", (), 37.5)
    power = template.field("power")
    assert (power.unit, power.units) == ("W", ("mW", "W"))
    dose = template.field("dose")
    assert (dose.unit, dose.units) == ("mg", ("mg",))
    day = template.field("day")
    assert (day.minimum, day.maximum, day.default) == ("2020-01-01", "2030-12-31", "today")
    start = template.field("start")
    assert (start.minimum, start.maximum, start.default) == ("08:00", "18:00", "now")
    acquired = template.field("acquired")
    assert (acquired.minimum, acquired.maximum, acquired.default) == ("2020-01-01T00:00", "today", "now")
    stain = template.field("stain")
    assert stain.options == (Option("DAPI", "DAPI"), Option("gfp", "GFP"))
    assert stain.default == "gfp"  # a default given by label is stored as the option's value
    assert template.field("group_name").options_source == "omero_groups_api"
    assert template.field("group_name").options == ()
    assert template.field("mode").default == "live"
    assert template.field("fixed").default is True
    treatments = template.field("treatments")
    assert (treatments.min_selections, treatments.max_selections, treatments.is_multi) == (1, 2, True)
    channels = template.field("channels")
    assert (channels.min_selections, channels.max_selections, channels.default) == (0, 3, ["red", "blue"])
    assert template.field("contact").readonly is True
    assert template.field("website").readonly is False
    assert template.field("sample").default == "17"  # a link holds the target's id as text


def test_dynamic_date_and_time_defaults_resolve_when_answers_are_checked() -> None:
    template = load_template(ALL_TYPES)
    values = check_answers(template, {}, now=NOW).values
    assert values["day"] == "2025-06-13"
    assert values["start"] == "09:30"
    assert values["acquired"] == "2025-06-13T09:30"


@pytest.mark.parametrize("alias, canonical", [
    ("select", "dropdown"), ("choice", "dropdown"), ("multiselect", "multi_select"),
    ("multi-select", "multi_select"), ("checkboxes", "checkbox_group"), ("checkbox-group", "checkbox_group"),
    ("datetime-local", "datetime"), ("date_time", "datetime"), ("string", "text"), ("str", "text"),
    ("long_text", "textarea"), ("int", "integer"), ("float", "decimal"), ("bool", "checkbox"),
    ("boolean", "checkbox"), ("TEXT", "text"), (" Dropdown ", "dropdown"),
])
def test_type_aliases_become_canonical_types(alias: str, canonical: str) -> None:
    spec: dict[str, Any] = {"type": alias}
    if canonical in ("dropdown", "multi_select", "checkbox_group"):
        spec["options"] = ["a", "b"]
    assert make({"x": spec}).field("x").type == canonical


def test_section_is_an_alias_of_group() -> None:
    template = make({"part": {"type": "section", "label": "Part one", "fields": {"x": {"type": "text"}}}})
    assert template.groups == [Group("part", "Part one", children=(Field("x", "text", "X", group="part"),))]


@pytest.mark.parametrize("key, label", [
    ("sample_prep_id", "Sample prep id"), ("omero-project", "Omero project"), ("title", "Title"),
    ("x", "X"), ("imaging__date", "Imaging date"),
])
def test_label_defaults_to_a_readable_form_of_the_key(key: str, label: str) -> None:
    assert make({key: {"type": "text"}}).field(key).label == label


def test_explicit_label_and_help_text_win() -> None:
    field = make({"x": {"type": "text", "label": "The X", "help_text": "help", "description": "other"}}).field("x")
    assert (field.label, field.help_text) == ("The X", "help")


def test_options_as_strings_numbers_or_value_label_pairs() -> None:
    options = ["a", 2, 2.5, {"value": "c", "label": "Sea"}, {"value": "d"}]
    field = make({"x": {"type": "radio", "options": options}}).field("x")
    assert field.options == (Option("a", "a"), Option("2", "2"), Option("2.5", "2.5"), Option("c", "Sea"),
                             Option("d", "d"))
    assert field.option_values() == ["a", "2", "2.5", "c", "d"]


def test_fields_may_be_a_list_with_keys() -> None:
    template = load_template({"id": "t", "fields": [{"key": "a", "type": "text"},
                                                     {"key": "b", "type": "integer", "min": 1}]})
    assert [(f.key, f.type) for f in template.fields] == [("a", "text"), ("b", "integer")]
    assert template.field("b").minimum == 1


def test_unquoted_yaml_dates_become_iso_text() -> None:
    template = load_template("id: t\nfields:\n  day: {type: date, min: 2020-01-01, default: 2024-02-29}\n")
    field = template.field("day")
    assert (field.minimum, field.default) == ("2020-01-01", "2024-02-29")
    assert isinstance(field.minimum, str)


def test_yaml_keeps_identifiers_and_times_as_text() -> None:
    template = load_template("id: t\nfields:\n  code: {type: text, default: 0123}\n"
                             "  at: {type: time, default: 10:30}\n  answer: {type: text, default: no}\n")
    assert template.field("code").default == "0123"
    assert template.field("at").default == "10:30"
    assert template.field("answer").default == "no"


# --- 3. groups ----------------------------------------------------------------------------------

GROUPED = """\
id: grouped
fields:
  title: {type: text, required: true}
  sample:
    type: group
    label: Sample
    help_text: About the sample
    fields:
      sample_id: {type: text}
      preparation:
        type: group
        fields:
          fixative: {type: dropdown, options: [PFA, methanol]}
          fixed_for: {type: integer, unit: min}
      cells: {type: integer}
  notes: {type: textarea}
  empty: {type: group}
"""


def test_groups_contain_their_fields_nested_too() -> None:
    template = load_template(GROUPED)
    assert [type(item).__name__ for item in template.items] == ["Field", "Group", "Field", "Group"]
    sample = template.items[1]
    assert isinstance(sample, Group)
    assert (sample.key, sample.label, sample.help_text, sample.group) == ("sample", "Sample", "About the sample", None)
    assert [child.key for child in sample.children] == ["sample_id", "preparation", "cells"]
    preparation = template.node("preparation")
    assert isinstance(preparation, Group)
    assert (preparation.label, preparation.group) == ("Preparation", "sample")
    assert [child.key for child in preparation.children] == ["fixative", "fixed_for"]
    assert [f.key for f in sample.fields()] == ["sample_id", "fixative", "fixed_for", "cells"]
    assert [g.key for g in template.groups] == ["sample", "preparation", "empty"]
    assert template.node("empty").children == ()
    assert [f.key for f in template.fields] == ["title", "sample_id", "fixative", "fixed_for", "cells", "notes"]
    assert {f.key: f.group for f in template.fields} == {
        "title": None, "sample_id": "sample", "fixative": "preparation", "fixed_for": "preparation",
        "cells": "sample", "notes": None}
    assert template.field("fixed_for").unit == "min"


def test_a_group_is_not_a_field() -> None:
    template = load_template(GROUPED)
    with pytest.raises(KeyError):
        template.field("sample")
    with pytest.raises(KeyError):
        template.node("nothing")


def test_only_groups_can_contain_fields() -> None:
    problems = problems_of({"id": "t", "fields": {"x": {"type": "text", "fields": {"y": {"type": "text"}}}}})
    assert [(p.field, p.message) for p in problems] == [("x", "only groups can contain fields")]


# --- 4. conditions -------------------------------------------------------------------------------

TARGETS = {
    "flag": {"type": "checkbox"},
    "temp": {"type": "number"},
    "count": {"type": "integer"},
    "pick": {"type": "dropdown", "options": ["a", {"value": "b", "label": "Bee"}, "c"]},
    "many": {"type": "multi_select", "options": ["p", "q", "r"]},
    "note": {"type": "text"},
    "day": {"type": "date"},
}


def condition_of(condition: Any) -> Any:
    """The checked condition of a field ``x`` placed after the target fields."""
    return make({**TARGETS, "x": {"type": "text", "condition": condition}}).field("x").condition


@pytest.mark.parametrize("spec, expected", [
    ({"field": "flag", "equals": True}, Compare("flag", "equals", True)),
    ({"field": "flag", "equals": "true"}, Compare("flag", "equals", True)),
    ({"field": "flag", "equals": "no"}, Compare("flag", "equals", False)),
    ({"field": "flag", "not_equals": "on"}, Compare("flag", "not_equals", True)),
    ({"field": "temp", "gt": "4.5"}, Compare("temp", "gt", 4.5)),
    ({"field": "count", "gte": "3"}, Compare("count", "gte", 3)),
    ({"field": "temp", "lt": 40}, Compare("temp", "lt", 40)),
    ({"field": "temp", "lte": "40"}, Compare("temp", "lte", 40)),
    ({"field": "pick", "equals": "Bee"}, Compare("pick", "equals", "b")),
    ({"field": "pick", "in": ["a", "Bee"]}, Compare("pick", "in", ["a", "b"])),
    ({"field": "pick", "not_in": ["c"]}, Compare("pick", "not_in", ["c"])),
    ({"field": "many", "contains": "q"}, Compare("many", "contains", "q")),
    ({"field": "many", "equals": ["r", "p"]}, Compare("many", "equals", ["r", "p"])),
    ({"field": "note", "contains": "heat"}, Compare("note", "contains", "heat")),
    ({"field": "note", "equals": 5}, Compare("note", "equals", "5")),
    ({"field": "day", "gte": dt.date(2025, 1, 1)}, Compare("day", "gte", "2025-01-01")),
])
def test_condition_values_are_typed_to_the_target_field(spec: dict, expected: Compare) -> None:
    assert condition_of(spec) == expected


def test_several_operators_in_one_mapping_must_all_hold() -> None:
    condition = condition_of({"field": "temp", "gte": 4, "lt": 40})
    assert condition == AllOf((Compare("temp", "gte", 4), Compare("temp", "lt", 40)))
    assert [evaluate_condition(condition, {"temp": t}) for t in (3.9, 4, 39.9, 40, None)] == [
        False, True, True, False, False]


def test_all_any_not_and_a_list_meaning_all() -> None:
    condition = condition_of({"any": [{"field": "flag", "equals": "yes"},
                                      {"not": {"field": "pick", "in": ["a", "b"]}}]})
    assert condition == AnyOf((Compare("flag", "equals", True), Not(Compare("pick", "in", ["a", "b"]))))
    assert evaluate_condition(condition, {"flag": True, "pick": "a"})
    assert evaluate_condition(condition, {"flag": False, "pick": "c"})
    assert not evaluate_condition(condition, {"flag": False, "pick": "b"})
    listed = condition_of([{"field": "flag", "equals": True}, {"field": "many", "contains": "p"}])
    assert listed == condition_of({"all": [{"field": "flag", "equals": True}, {"field": "many", "contains": "p"}]})
    assert listed == AllOf((Compare("flag", "equals", True), Compare("many", "contains", "p")))
    assert evaluate_condition(listed, {"flag": True, "many": ["q", "p"]})
    assert not evaluate_condition(listed, {"flag": True, "many": ["q"]})
    assert not evaluate_condition(listed, {"flag": False, "many": ["p"]})


@pytest.mark.parametrize("spec, values, expected", [
    ({"field": "flag", "equals": "true"}, {"flag": True}, True),
    ({"field": "flag", "equals": "true"}, {"flag": False}, False),
    ({"field": "flag", "equals": False}, {}, True),  # an unanswered checkbox is unchecked
    ({"field": "pick", "not_equals": "a"}, {"pick": "b"}, True),
    ({"field": "pick", "not_equals": "a"}, {"pick": "a"}, False),
    ({"field": "pick", "in": ["a", "c"]}, {"pick": "c"}, True),
    ({"field": "pick", "not_in": ["a", "c"]}, {"pick": "c"}, False),
    ({"field": "note", "contains": "heat"}, {"note": "heat stress"}, True),
    ({"field": "note", "contains": "cold"}, {"note": "heat stress"}, False),
    ({"field": "many", "contains": "q"}, {"many": ["p"]}, False),
    ({"field": "temp", "gt": 4}, {"temp": 4}, False),
    ({"field": "temp", "gt": 4}, {"temp": 4.1}, True),
    ({"field": "temp", "lte": 4}, {"temp": 4}, True),
    ({"field": "day", "lt": "2025-06-13"}, {"day": "2025-06-12"}, True),
    ({"field": "day", "lt": "2025-06-13"}, {"day": "2025-06-13"}, False),
])
def test_conditions_evaluate(spec: dict, values: dict, expected: bool) -> None:
    assert evaluate_condition(condition_of(spec), values) is expected


def test_condition_on_a_checkbox_written_as_text_hides_and_shows() -> None:
    template = make({"enable": {"type": "checkbox"},
                     "detail": {"type": "text", "required": True, "condition": {"field": "enable", "equals": "true"}}})
    hidden = check_answers(template, {"enable": False})
    assert hidden.hidden == {"detail"} and hidden.errors == []
    shown = check_answers(template, {"enable": "yes"})
    assert shown.hidden == set()
    assert [e.key for e in shown.errors] == ["detail"]


def test_evaluation_order_puts_referenced_fields_first() -> None:
    template = make({
        "late_reader": {"type": "text", "condition": {"field": "middle", "equals": "x"}},
        "middle": {"type": "text", "condition": {"field": "switch", "equals": True}},
        "box": {"type": "group", "condition": {"field": "switch", "equals": True},
                "fields": {"inside": {"type": "text", "condition": {"field": "after", "gt": 1}}}},
        "switch": {"type": "checkbox"},
        "after": {"type": "integer"},
    })
    order = template.evaluation_order
    assert sorted(order) == sorted(["late_reader", "middle", "box", "inside", "switch", "after"])
    before = [("switch", "middle"), ("middle", "late_reader"), ("switch", "box"), ("box", "inside"),
              ("after", "inside")]
    for first, then in before:
        assert order.index(first) < order.index(then), (first, then, order)


def test_evaluation_order_of_unconditional_fields_is_form_order() -> None:
    template = load_template(ALL_TYPES)
    assert list(template.evaluation_order) == [f.key for f in template.fields]


@pytest.mark.parametrize("spec, fragment", [
    ({"field": "flag", "equals": "maybe"}, "condition value for 'flag' must be checked or unchecked"),
    ({"field": "pick", "in": ["a", "zzz"]}, "condition value for 'pick' must be one of: a, b, c"),
    ({"field": "temp", "gt": "warm"}, "condition value for 'temp' must be a number"),
    ({"field": "day", "equals": "13/06/2025"}, "condition value for 'day' must be a date"),
    ({"field": "flag", "equal": True}, "unknown condition operator 'equal'"),
    ({"field": "flag"}, "has no operator"),
    ({"field": "pick", "in": "a"}, "'in' needs a list of values"),
    ({"any": []}, "'any' needs a non-empty list"),
    ({"not": {"field": "flag", "equals": True}, "field": "flag"}, "'not' must stand alone"),
    ("flag == true", "a condition must be a mapping"),
])
def test_broken_conditions_are_reported_on_their_field(spec: Any, fragment: str) -> None:
    problems = problems_of({"id": "t", "fields": {**TARGETS, "x": {"type": "text", "condition": spec}}})
    assert len(problems) == 1, problems
    assert problems[0].field == "x"
    assert fragment in problems[0].message


# --- 5. folder trees -----------------------------------------------------------------------------

TREE_FOLDERS = ("raw_data", "raw_data/images", "raw_data/images/2025", "raw_data/stacks", "analysis",
                "analysis/scripts", "results")
TREE_LEAVES = ["raw_data/images/2025", "raw_data/stacks", "analysis/scripts", "results"]


def folders_of(spec: Any, files: Any = None) -> Any:
    data: dict[str, Any] = {"id": "t", "folders": spec}
    if files is not None:
        data["files"] = files
    return load_template(data).folders


def test_folders_as_a_list_of_paths_include_every_ancestor() -> None:
    tree = folders_of(["raw_data/images/2025", "raw_data/stacks", "analysis/scripts", "results/"])
    assert tree.folders == TREE_FOLDERS
    assert tree.files == ()
    assert tree.leaf_folders() == TREE_LEAVES


def test_folders_as_a_nested_mapping_with_lists_inside() -> None:
    tree = folders_of({"raw_data": {"images": ["2025"], "stacks": None},
                       "analysis": ["scripts"],
                       "results": {}})
    assert sorted(tree.folders) == sorted(TREE_FOLDERS)
    assert sorted(tree.leaf_folders()) == sorted(TREE_LEAVES)
    mixed = folders_of({"data": ["raw", {"processed": ["v1", "v2"]}], "docs": []})
    assert sorted(mixed.folders) == ["data", "data/processed", "data/processed/v1", "data/processed/v2",
                                     "data/raw", "docs"]


def test_folders_as_the_desktop_indented_text_block() -> None:
    tree = folders_of("raw_data/\n  images/\n    2025/\n  stacks/\nanalysis/\n  scripts/\nresults/\nREADME.md\n"
                      "analysis/scripts/run.py\n")
    assert tree.folders == TREE_FOLDERS
    assert tree.files == ("README.md", "analysis/scripts/run.py")
    assert tree.leaf_folders() == TREE_LEAVES


def test_text_block_entries_without_slash_are_folders_unless_they_have_an_extension() -> None:
    tree = folders_of("data\n\tnotes.txt\n\traw\n# a comment\n\nLICENSE\ndocs\n  guide.md\n")
    assert tree.folders == ("data", "data/raw", "LICENSE", "docs")
    assert tree.files == ("data/notes.txt", "docs/guide.md")


def test_text_block_with_tree_drawing_characters() -> None:
    block = ("raw_data/\n"
             "├── images/\n"
             "│   └── 2025/\n"
             "└── stacks/\n"
             "analysis/\n"
             "└── scripts/\n"
             "results/\n"
             "README.md\n")
    tree = folders_of(block)
    assert tree.folders == TREE_FOLDERS
    assert tree.files == ("README.md",)


def test_the_three_spellings_give_the_same_tree() -> None:
    as_list = folders_of(["raw_data/images/2025", "raw_data/stacks", "analysis/scripts", "results"])
    as_text = folders_of("raw_data/\n  images/\n    2025/\n  stacks/\nanalysis/\n  scripts/\nresults/\n")
    as_mapping = folders_of({"raw_data": {"images": ["2025"], "stacks": None}, "analysis": ["scripts"],
                             "results": None})
    assert as_list == as_text
    # The same tree spelled as a mapping lists its folders in the same (document) order.
    assert as_mapping == as_list


def test_numeric_folder_names_such_as_years_are_names() -> None:
    """``[2024, 2025]`` in YAML are numbers, but as folder names they mean the years."""
    as_list = load_template("id: t\nfolders:\n  - raw/2024\n  - raw/2025\n").folders
    as_yaml_numbers = load_template("id: t\nfolders:\n  raw: [2024, 2025]\n").folders
    as_yaml_keys = load_template("id: t\nfolders:\n  raw:\n    2024: [a]\n    2025:\n").folders
    assert sorted(as_yaml_numbers.folders) == sorted(as_list.folders) == ["raw", "raw/2024", "raw/2025"]
    assert sorted(as_yaml_keys.folders) == ["raw", "raw/2024", "raw/2024/a", "raw/2025"]


def test_files_key_adds_empty_files_and_their_folders() -> None:
    tree = folders_of(["data/raw"], files=["README.md", "docs/protocol.md", "data/raw/.keep"])
    assert tree.files == ("README.md", "docs/protocol.md", "data/raw/.keep")
    assert set(tree.folders) == {"docs", "data", "data/raw"}
    assert "README.md" not in tree.folders


def test_windows_separators_and_trailing_slashes_are_normalised() -> None:
    tree = folders_of(["raw\\images", "analysis/scripts/"])
    assert tree.folders == ("raw", "raw/images", "analysis", "analysis/scripts")


def test_a_template_without_folders_has_an_empty_tree() -> None:
    tree = make({"x": {"type": "text"}}).folders
    assert (tree.folders, tree.files, tree.leaf_folders()) == ((), (), [])


# --- 6. broken templates -------------------------------------------------------------------------

BROKEN_CASES = [
    # (name, template text, marker on the line reported, field key, message fragment)
    ("unknown type", "id: t\nfields:\n  a: {type: txt}\n", "type: txt", "a", "unknown type 'txt'"),
    ("bad regex", "id: t\nfields:\n  a:\n    type: text\n    pattern: '([a-z'\n", "pattern:", "a",
     "pattern is not a valid regular expression"),
    ("condition on unknown field",
     "id: t\nfields:\n  a: {type: text}\n  b: {type: text, condition: {field: nope, equals: x}}\n",
     "b: {", "b", "condition refers to unknown field 'nope'"),
    ("unknown options_source", "id: t\nfields:\n  a:\n    type: dropdown\n    options_source: nowhere_api\n",
     "options_source:", "a", "unknown options_source 'nowhere_api'"),
    ("unknown attribute", "id: t\nfields:\n  a:\n    type: text\n    requierd: true\n", "requierd", "a",
     "unknown attribute 'requierd'"),
    ("unknown top-level key", "id: t\ncolour: blue\nfields:\n  a: {type: text}\n", "colour", None,
     "unknown template key 'colour'"),
    ("number min > max", "id: t\nfields:\n  a:\n    type: number\n    min: 10\n    max: 1\n", "min: 10", "a",
     "'min' is greater than 'max'"),
    ("date min > max", "id: t\nfields:\n  a:\n    type: date\n    min: 2030-01-01\n    max: 2020-01-01\n",
     "min: 2030", "a", "'min' is later than 'max'"),
    ("time min > max", "id: t\nfields:\n  a:\n    type: time\n    min: '18:00'\n    max: '08:00'\n",
     "min: '18:00'", "a", "'min' is later than 'max'"),
    ("length min > max", "id: t\nfields:\n  a:\n    type: text\n    min_length: 5\n    max_length: 2\n",
     "min_length", "a", "'min_length' is greater than 'max_length'"),
    ("selections min > max", "id: t\nfields:\n  a:\n    type: multi_select\n    options: [x, y]\n"
     "    min_selections: 2\n    max_selections: 1\n", "min_selections", "a",
     "'min_selections' is greater than 'max_selections'"),
    ("dropdown without options", "id: t\nfields:\n  a: {type: dropdown}\n", "a: {", "a",
     "a dropdown needs 'options' or an 'options_source'"),
    ("dropdown with empty options", "id: t\nfields:\n  a: {type: dropdown, options: []}\n", "a: {", "a",
     "a dropdown needs 'options' or an 'options_source'"),
    ("radio without options", "id: t\nfields:\n  a: {type: radio}\n", "a: {", "a", "a radio needs 'options'"),
    ("checkbox group without options", "id: t\nfields:\n  a: {type: checkbox_group}\n", "a: {", "a",
     "a checkbox_group needs 'options'"),
    ("duplicate option", "id: t\nfields:\n  a:\n    type: radio\n    options:\n      - x\n      - 'x'\n",
     "- 'x'", "a", "duplicate option 'x'"),
    ("bad default", "id: t\nfields:\n  a:\n    type: integer\n    default: 2.5\n", "default", "a",
     "default must be a whole number"),
    ("default not an option", "id: t\nfields:\n  a:\n    type: dropdown\n    options: [x]\n    default: y\n",
     "default", "a", "default must be one of: x"),
    ("time defaults to today", "id: t\nfields:\n  a:\n    type: time\n    default: today\n", "default", "a",
     "default must be a time"),
    ("bad date bound", "id: t\nfields:\n  a:\n    type: date\n    max: 31.12.2030\n", "max:", "a",
     "'max' must be a date"),
    ("options on a text field", "id: t\nfields:\n  a:\n    type: text\n    options: [x]\n", "options", "a",
     "a text field cannot have options"),
    ("step not positive", "id: t\nfields:\n  a:\n    type: decimal\n    step: 0\n", "step", "a",
     "'step' must be greater than 0"),
    ("bad field key", "id: t\nfields:\n  1st: {type: text}\n", "1st", None, "field key '1st' must start with a letter"),
    ("unknown integration field", "id: t\nintegrations:\n  elabftw: {enabled_by: nope}\nfields:\n  a: {type: text}\n",
     "elabftw:", None, "elabftw enabled_by refers to unknown field 'nope'"),
    ("project name pattern", "id: t\nproject_name: '{missing}_x'\nfields:\n  a: {type: text}\n", "project_name",
     None, "refers to unknown field 'missing'"),
    ("bad template type", "id: t\ntype: notebook\n", "type: notebook", None, "template type must be one of"),
]


@pytest.mark.parametrize("name, text, marker, field_key, fragment", BROKEN_CASES, ids=[c[0] for c in BROKEN_CASES])
def test_each_problem_is_reported_once_with_file_line_and_field(
        tmp_path: Path, name: str, text: str, marker: str, field_key: str | None, fragment: str) -> None:
    path = write(tmp_path, "broken.yaml", text)
    problems = problems_of(path)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.source == str(path)
    assert problem.line == line_of(text, marker)
    assert problem.field == field_key
    assert fragment in problem.message


UNSAFE_FOLDERS = [
    ("/abs/path", "is absolute"),
    ("C:/data", "is absolute"),
    ("a/../b", "contains '..'"),
    ("..", "contains '..'"),
    ("bad<name", "'<'"),
    ("bad>name", "'>'"),
    ("bad:name", "':'"),
    ('bad"name', "'\"'"),
    ("bad|name", "'|'"),
    ("bad?name", "'?'"),
    ("bad*name", "'*'"),
    ("CON", "reserved device name"),
    ("data/con", "reserved device name"),
    ("docs/nul.txt", "reserved device name"),
    ("COM1", "reserved device name"),
    ("lpt9.log", "reserved device name"),
    ("trailing.", "ends with a dot or space"),
    ("raw /images", "ends with a dot or space"),
    ("data./raw", "ends with a dot or space"),
]


@pytest.mark.parametrize("folder, fragment", UNSAFE_FOLDERS, ids=[f for f, _ in UNSAFE_FOLDERS])
def test_unsafe_folder_paths_are_reported_on_their_line(tmp_path: Path, folder: str, fragment: str) -> None:
    text = f"id: t\nfolders:\n  - fine\n  - {json.dumps(folder)}\n  - also_fine\n"
    path = write(tmp_path, "folders.yaml", text)
    problems = problems_of(path)
    assert len(problems) == 1, problems
    assert problems[0].line == 4
    assert problems[0].source == str(path)
    assert "unsafe folder path" in problems[0].message and fragment in problems[0].message


def test_unsafe_names_in_files_and_text_blocks_are_reported(tmp_path: Path) -> None:
    text = "id: t\nfiles:\n  - ok.md\n  - notes?.md\nfolders: |\n  raw/\n    aux/\n"
    problems = problems_of(write(tmp_path, "t.yaml", text))
    assert [(p.line, "reserved device name" in p.message or "'?'" in p.message) for p in problems] == [
        (4, True), (5, True)]
    assert "line 2 of the folder block" in problems[1].message


def test_cycle_of_two_conditions_is_one_problem_showing_the_cycle(tmp_path: Path) -> None:
    text = ("id: t\nfields:\n"
            "  a: {type: text, condition: {field: b, equals: x}}\n"
            "  b: {type: text, condition: {field: a, equals: y}}\n"
            "  c: {type: text}\n")
    path = write(tmp_path, "cycle.yaml", text)
    problems = problems_of(path)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.field in ("a", "b")
    assert problem.line == line_of(text, f"  {problem.field}: {{")
    other = "b" if problem.field == "a" else "a"
    assert f"conditions form a cycle: {problem.field} -> {other} -> {problem.field}" in problem.message


def test_longer_cycle_names_every_field(tmp_path: Path) -> None:
    text = ("id: t\nfields:\n"
            "  a: {type: text, condition: {field: b, equals: x}}\n"
            "  b: {type: text, condition: {field: c, equals: x}}\n"
            "  c: {type: text, condition: {field: a, equals: x}}\n")
    problems = problems_of(write(tmp_path, "cycle.yaml", text))
    assert len(problems) == 1, problems
    cycle = re.search(r"cycle: (.*)$", problems[0].message).group(1).split(" -> ")
    assert len(cycle) == 4 and cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}


def test_a_condition_on_its_own_field_is_a_cycle(tmp_path: Path) -> None:
    text = "id: t\nfields:\n  a: {type: text}\n  j: {type: text, condition: {field: j, equals: z}}\n"
    path = write(tmp_path, "self.yaml", text)
    problems = problems_of(path)
    assert len(problems) == 1, problems
    assert (problems[0].field, problems[0].line) == ("j", 4)
    assert "conditions form a cycle: j -> j" in problems[0].message


def test_a_group_condition_on_its_own_child_is_a_cycle() -> None:
    problems = problems_of({"id": "t", "fields": {"g": {
        "type": "group", "condition": {"field": "inner", "equals": "x"},
        "fields": {"inner": {"type": "text"}}}}})
    assert len(problems) == 1, problems
    assert "conditions form a cycle" in problems[0].message
    assert set(re.findall(r"\b(g|inner)\b", problems[0].message)) == {"g", "inner"}


def test_a_repeated_top_level_field_key_is_a_duplicate_mapping_key(tmp_path: Path) -> None:
    text = ("id: t\nfields:\n"
            "  title: {type: text}\n"
            "  other: {type: text}\n"
            "  title: {type: textarea}\n")
    path = write(tmp_path, "dup.yaml", text)
    problems = problems_of(path)
    assert [(p.line, p.message) for p in problems] == [(5, "duplicate key 'title'")]
    assert problems[0].source == str(path)


def test_duplicate_field_keys_across_groups(tmp_path: Path) -> None:
    text = ("id: t\nfields:\n"
            "  sample_id: {type: text}\n"
            "  sample:\n"
            "    type: group\n"
            "    fields:\n"
            "      sample_id: {type: integer}\n"
            "  imaging:\n"
            "    type: group\n"
            "    fields:\n"
            "      objective: {type: text}\n"
            "      deeper:\n"
            "        type: group\n"
            "        fields:\n"
            "          objective: {type: text}\n")
    path = write(tmp_path, "dup.yaml", text)
    problems = problems_of(path)
    assert [(p.line, p.field, p.message) for p in problems] == [
        (7, "sample_id", "duplicate field key (first defined on line 3)"),
        (15, "objective", "duplicate field key (first defined on line 11)"),
    ]
    assert all(p.source == str(path) for p in problems)


def test_duplicate_yaml_mapping_keys_are_reported_on_the_second_key(tmp_path: Path) -> None:
    text = ("id: t\nname: First\nfields:\n"
            "  a:\n"
            "    type: text\n"
            "    label: One\n"
            "    label: Two\n"
            "name: Second\n")
    path = write(tmp_path, "dup.yaml", text)
    problems = problems_of(path)
    assert sorted((p.line, p.message) for p in problems) == [(7, "duplicate key 'label'"), (8, "duplicate key 'name'")]
    assert all(p.source == str(path) for p in problems)


def test_problems_about_a_whole_field_point_at_its_key_line(tmp_path: Path) -> None:
    """A problem with a field as a whole is located where the field's key is written."""
    text = ("id: t\nfields:\n"
            "  first:\n"
            "    type: text\n"
            "  choice:\n"
            "    type: dropdown\n"
            "  group_a:\n"
            "    type: group\n"
            "    fields:\n"
            "      choice:\n"
            "        type: text\n")
    problems = problems_of(write(tmp_path, "blocks.yaml", text))
    found = sorted((p.line, p.field, p.message) for p in problems)
    assert found == [
        (5, "choice", "a dropdown needs 'options' or an 'options_source'"),
        (10, "choice", "duplicate field key (first defined on line 5)"),
    ]


JSON_BROKEN = """\
{
  "id": "broken",
  "name": "Broken",
  "colour": "blue",
  "folders": ["ok", "../up", "C:/abs"],
  "fields": {
    "a": {"type": "txt"},
    "b": {
      "type": "text",
      "requierd": true,
      "pattern": "([a-z"
    },
    "c": {"type": "dropdown"},
    "d": {"type": "text", "condition": {"field": "nope", "equals": 1}},
    "e": {"type": "number", "min": 10, "max": 1},
    "f": {"type": "text", "label": "F", "label": "Eff"},
    "g": {"type": "group", "fields": {"b": {"type": "text"}}},
    "h": {"type": "text", "condition": {"field": "i", "equals": "x"}},
    "i": {"type": "text", "condition": {"field": "h", "equals": "y"}},
    "k": {"type": "select", "options_source": "nowhere"}
  }
}
"""


def test_json_template_problems_have_exact_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.json", JSON_BROKEN)
    problems = problems_of(path)
    found = {(p.line, _field_unless_duplicate_key(p), _kind(p.message)) for p in problems}
    first_b = line_of(JSON_BROKEN, '"b": {')
    expected = {
        (line_of(JSON_BROKEN, '"label": "Eff"'), "*", "duplicate key 'label'"),
        (line_of(JSON_BROKEN, '"colour"'), None, "unknown template key 'colour'"),
        (line_of(JSON_BROKEN, '"folders"'), None, "unsafe folder path: '../up'"),
        (line_of(JSON_BROKEN, '"folders"'), None, "unsafe folder path: 'C:/abs'"),
        (line_of(JSON_BROKEN, '"a": {'), "a", "unknown type 'txt'"),
        (line_of(JSON_BROKEN, '"requierd"'), "b", "unknown attribute 'requierd'"),
        (line_of(JSON_BROKEN, '"pattern"'), "b", "pattern is not a valid regular expression"),
        (line_of(JSON_BROKEN, '"c": {'), "c", "a dropdown needs 'options' or an 'options_source'"),
        (line_of(JSON_BROKEN, '"d": {'), "d", "condition refers to unknown field 'nope'"),
        (line_of(JSON_BROKEN, '"e": {'), "e", "'min' is greater than 'max'"),
        (line_of(JSON_BROKEN, '"g": {'), "b", f"duplicate field key (first defined on line {first_b})"),
        (line_of(JSON_BROKEN, '"h": {'), "h", "conditions form a cycle: h -> i -> h"),
        (line_of(JSON_BROKEN, '"k": {'), "k", "unknown options_source 'nowhere'"),
    }
    assert found == expected
    assert len(problems) == len(expected)
    assert all(p.source == str(path) for p in problems)


def _field_unless_duplicate_key(problem: TemplateProblem) -> str | None:
    """The problem's field, or "*" for a duplicate mapping key (whose field the parser does not know)."""
    return "*" if problem.message.startswith("duplicate key") else problem.field


def _kind(message: str) -> str:
    """The part of a problem message that names the problem (without the list of known values)."""
    for fragment in ("unknown template key 'colour'", "unknown type 'txt'", "pattern is not a valid regular expression",
                     "unknown options_source 'nowhere'"):
        if message.startswith(fragment):
            return fragment
    if message.startswith("unsafe folder path: "):
        return message.split(" contains")[0].split(" is absolute")[0]
    return message


def test_several_problems_in_one_yaml_file_are_all_reported_at_once(tmp_path: Path) -> None:
    text = ("id: many\n"                                               # 1
            "name: Many problems\n"                                    # 2
            "authr: me\n"                                              # 3
            "folders:\n"                                               # 4
            "  - ok/fine\n"                                            # 5
            "  - /etc\n"                                               # 6
            "  - data/PRN\n"                                           # 7
            "fields:\n"                                                # 8
            "  a: {type: colour}\n"                                    # 9
            "  b: {type: text, pattern: '*x'}\n"                       # 10
            "  c: {type: text, requierd: true}\n"                      # 11
            "  d: {type: integer, min: 5, max: 2}\n"                   # 12
            "  e: {type: dropdown}\n"                                  # 13
            "  f: {type: text, condition: {field: zz, equals: 1}}\n"   # 14
            "  g: {type: text}\n"                                      # 15
            "  g: {type: text}\n")                                     # 16
    path = write(tmp_path, "many.yaml", text)
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    error = caught.value
    assert isinstance(error, UserError)
    found = sorted((p.line, _field_unless_duplicate_key(p)) for p in error.problems)
    assert found == [(3, None), (6, None), (7, None), (9, "a"), (10, "b"), (11, "c"), (12, "d"), (13, "e"),
                     (14, "f"), (16, "*")]
    text_of_error = str(error)
    assert text_of_error.startswith("template has 10 problems:")
    assert f"{path}:11: field 'c': unknown attribute 'requierd'" in text_of_error
    assert f"{path}:3: unknown template key 'authr'" in text_of_error


def test_template_error_is_a_user_error() -> None:
    assert issubclass(TemplateError, UserError)
    with pytest.raises(UserError):
        load_template({"id": "t", "fields": {"a": {"type": "nope"}}})


@pytest.mark.parametrize("text, fragment, line", [
    ("id: t\nname: x\n  bad: indent\n", "invalid YAML", 3),
    ('{"id": "t",\n "fields": {\n}', "invalid JSON", 3),
    ("", "template is empty", None),
    ("- just\n- a list\n", "a template must be a mapping", 1),
])
def test_unparsable_templates_are_template_errors(tmp_path: Path, text: str, fragment: str, line: int | None) -> None:
    problems = problems_of(write(tmp_path, "bad.yaml", text))
    assert len(problems) == 1, problems
    assert fragment in problems[0].message
    assert problems[0].line == line


def test_missing_template_file_is_a_template_error(tmp_path: Path) -> None:
    problems = problems_of(tmp_path / "absent.yaml")
    assert [(p.source, p.message) for p in problems] == [(str(tmp_path / "absent.yaml"), "file not found")]
