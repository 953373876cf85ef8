"""Template formats: desktop MetaFold import, elabFTW metadata import/export, JSON Schema, our own YAML."""
from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from metafold_widgets import (
    Field,
    Group,
    Option,
    Template,
    TemplateError,
    builtin_template_ids,
    load_template,
    to_elabftw,
    to_json_schema,
    to_native,
    to_native_yaml,
    validate_answers,
)
from metafold_widgets.core.formats.elabftw import ELABFTW_TYPES

# --- fixtures -----------------------------------------------------------------------------------

# Hand-written elabFTW metadata using every one of elabFTW's 15 custom-field types. The mapping's
# order differs from the positions on purpose, and the group ids are neither 1 nor 2.
ELABFTW_ALL_TYPES: dict[str, Any] = {
    "extra_fields": {
        "Operator": {"type": "users", "value": "3", "position": 14, "group_id": 7},
        "Project code": {"type": "text", "value": "HS-2025", "position": 1, "required": True,
                         "description": "Code on the grant"},
        "Sample name": {"type": "text", "value": "HeLa batch 4", "position": 2, "group_id": 3,
                        "description": "As written on the tube"},
        "Cell line": {"type": "items", "value": "17", "position": 3, "group_id": 3},
        "Reagent": {"type": "compounds", "value": "5", "position": 4, "group_id": 3},
        "Fixed": {"type": "checkbox", "value": "", "position": 5, "group_id": 3},
        "Stained": {"type": "checkbox", "value": "on", "position": 6, "group_id": 3},
        "Laser power": {"type": "number", "value": "12.5", "units": ["mW", "W"], "unit": "mW",
                        "position": 7, "group_id": 7},
        "Exposure": {"type": "number", "value": "", "units": ["ms"], "unit": "ms", "position": 8, "group_id": 7},
        "Objective": {"type": "select", "value": "63x", "options": ["20x", "40x", "63x"], "position": 9,
                      "group_id": 7},
        "Channels": {"type": "select", "value": ["DAPI", "GFP"], "options": ["DAPI", "GFP", "RFP"],
                     "allow_multi_values": True, "position": 10, "group_id": 7},
        "Mode": {"type": "radio", "value": "live", "options": ["fixed", "live"], "position": 11, "group_id": 7},
        "Session date": {"type": "date", "value": "2025-06-13", "position": 12, "group_id": 7},
        "Start": {"type": "time", "value": "09:30", "position": 13, "group_id": 7},
        "Acquired at": {"type": "datetime-local", "value": "2025-06-13T10:15", "position": 15, "group_id": 7},
        "Previous run": {"type": "experiments", "value": "42", "position": 16},
        "Raw file": {"type": "uploads", "value": "8", "position": 17},
        "Contact": {"type": "email", "value": "ada@example.org", "position": 18},
        "Protocol": {"type": "url", "value": "https://protocols.example.org/p/1", "position": 19,
                     "readonly": True},
    },
    "elabftw": {"extra_fields_groups": [{"id": 3, "name": "Sample"}, {"id": 7, "name": "Acquisition"}]},
}

ELABFTW_15_TYPES = {"checkbox", "compounds", "date", "datetime-local", "email", "experiments", "items", "number",
                    "radio", "select", "text", "time", "uploads", "users", "url"}

# A template using every feature of our own format, for the round trips.
RICH_TEMPLATE = """\
id: rich
name: Rich template
version: 3.2.1
type: experiment
description: Every feature at once.
author: Dr. Ada Example
project_name: "{code}_{title}"
log_folder: admin/logs
folders:
  raw:
    images: ["2025", "2026"]
    stacks:
  admin: [logs]
  analysis:
files: [README.md, admin/plan.md]
integrations:
  elabftw: {enabled_by: use_elab, tags: keywords, title: "{code} {title}"}
  omero: false
fields:
  code: {type: text, required: true, pattern: "^[A-Z]{2}[0-9]+$", placeholder: AB12,
         validation_message: Two capitals and digits.}
  title: {type: text, required: true, min_length: 3, max_length: 80, label: Experiment title}
  keywords: {type: text, description: Comma-separated}
  use_elab: {type: checkbox, default: true, label: Use elabFTW}
  conditions:
    type: group
    label: Conditions
    help_text: Physical conditions
    condition: {field: use_elab, equals: true}
    fields:
      temperature: {type: decimal, min: -80, max: 120, step: 0.1, precision: 1, unit: "°C", default: 37}
      power: {type: number, units: [mW, W], unit: W}
      dose: {type: number, units: mg}
      replicates: {type: integer, min: 1, max: 96, default: 3, readonly: true}
      timing:
        type: group
        fields:
          day: {type: date, min: 2020-01-01, max: today, default: today}
          start: {type: time, min: "08:00", default: now}
          acquired: {type: datetime}
  stain: {type: dropdown, options: [DAPI, {value: gfp, label: GFP}], default: GFP}
  group_name: {type: dropdown, options_source: omero_groups_api}
  mode: {type: radio, options: [fixed, live]}
  channels: {type: multi_select, options: [red, green], min_selections: 1, max_selections: 2}
  treatments: {type: checkbox_group, options: [control, drug]}
  notes:
    type: textarea
    condition:
      any:
        - {field: mode, in: [live]}
        - {not: {field: replicates, lte: 2}}
        - [{field: channels, contains: red}, {field: temperature, gte: 4, lt: 40}]
  contact: {type: email}
  website: {type: url}
  sample: {type: items}
  previous: {type: experiments}
  operator: {type: users}
  reagent: {type: compounds}
  raw_file: {type: uploads}
"""


def content(template: Template) -> Template:
    """The template without where it was read from."""
    return replace(template, source="")


def loaded_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


# --- 7. desktop MetaFold import ------------------------------------------------------------------


def test_desktop_template_folders_come_from_its_structure(desktop_template_path: Path) -> None:
    template = load_template(desktop_template_path)
    assert template.folders.folders == ("raw_data", "raw_data/images", "raw_data/stacks", "analysis",
                                        "analysis/scripts", "results")
    assert template.folders.files == ("README.md",)
    assert template.folders.leaf_folders() == ["raw_data/images", "raw_data/stacks", "analysis/scripts",
                                               "results"]


def test_desktop_template_identity(desktop_template_path: Path) -> None:
    template = load_template(desktop_template_path)
    assert template.name == "Confocal Imaging"
    assert template.id == "confocal-imaging"
    assert template.version == "1.1.0"
    assert template.type == "experiment"
    assert template.author == "Dr. Jane Example"
    assert template.description == "A template as the desktop MetaFold app stores and exports it."
    assert template.source == str(desktop_template_path)


def test_desktop_group_markers_become_real_groups(desktop_template_path: Path) -> None:
    template = load_template(desktop_template_path)
    assert all(isinstance(item, Group) for item in template.items)
    assert [(g.label, [c.key for c in g.children]) for g in template.groups] == [
        ("Sample", ["sample_id", "temperature", "stain", "fixed"]),
        ("Imaging", ["acquired_on", "notes"]),
    ]
    sample_group, imaging_group = template.groups
    assert {f.key: f.group for f in template.fields} == {
        "sample_id": sample_group.key, "temperature": sample_group.key, "stain": sample_group.key,
        "fixed": sample_group.key, "acquired_on": imaging_group.key, "notes": imaging_group.key}


def test_desktop_fields_keep_order_types_and_attributes(desktop_template_path: Path) -> None:
    raw = loaded_json(desktop_template_path)
    template = load_template(desktop_template_path)
    markers = [name for name, spec in raw["metadata"]["fields"].items() if spec["type"] == "group"]
    assert [f.key for f in template.fields] == [n for n in raw["metadata"]["fieldOrder"] if n not in markers]
    assert {f.key: f.type for f in template.fields} == {
        "sample_id": "text", "temperature": "number", "stain": "dropdown", "fixed": "checkbox",
        "acquired_on": "date", "notes": "textarea"}
    sample_id = template.field("sample_id")
    assert (sample_id.label, sample_id.required, sample_id.help_text, sample_id.default) == (
        "Sample ID", True, "Unique identifier of the sample", None)
    temperature = template.field("temperature")
    assert (temperature.label, temperature.default, temperature.minimum, temperature.maximum) == (
        "Temperature (C)", 37, 4, 45)
    assert temperature.required is False
    assert template.field("stain").options == (Option("DAPI", "DAPI"), Option("GFP", "GFP"),
                                               Option("mCherry", "mCherry"))
    assert template.field("stain").default is None  # "" means no value
    assert not template.field("fixed").default
    assert template.field("acquired_on").required is True
    assert template.field("notes").label == "Notes"


def test_desktop_field_order_follows_field_order_not_positions(desktop_template_path: Path) -> None:
    raw = loaded_json(desktop_template_path)
    raw["metadata"]["fieldOrder"] = ["Imaging_group", "notes", "acquired_on", "Sample_group", "fixed",
                                     "sample_id", "stain", "temperature"]
    template = load_template(raw)
    assert [(g.label, [c.key for c in g.children]) for g in template.groups] == [
        ("Imaging", ["notes", "acquired_on"]),
        ("Sample", ["fixed", "sample_id", "stain", "temperature"]),
    ]


def test_desktop_fields_missing_from_field_order_follow_by_position(desktop_template_path: Path) -> None:
    raw = loaded_json(desktop_template_path)
    del raw["metadata"]["fieldOrder"]
    fields = raw["metadata"]["fields"]
    raw["metadata"]["fields"] = dict(reversed(list(fields.items())))
    template = load_template(raw)
    assert [f.key for f in template.fields] == ["sample_id", "temperature", "stain", "fixed", "acquired_on", "notes"]
    assert [g.label for g in template.groups] == ["Sample", "Imaging"]


def test_desktop_value_of_a_checked_checkbox_becomes_its_default(desktop_template_path: Path) -> None:
    raw = loaded_json(desktop_template_path)
    raw["metadata"]["fields"]["fixed"]["value"] = True
    raw["metadata"]["fields"]["stain"]["value"] = "GFP"
    template = load_template(raw)
    assert template.field("fixed").default is True
    assert template.field("stain").default == "GFP"


def test_desktop_template_problems_point_at_the_source_line(tmp_path: Path, desktop_template_path: Path) -> None:
    raw = loaded_json(desktop_template_path)
    raw["metadata"]["fields"]["stain"]["type"] = "colour-picker"
    raw["structure"] = "raw_data/\n  images/\n../outside/\n"
    text = json.dumps(raw, indent=2)
    path = tmp_path / "desktop.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    lines = text.splitlines()
    stain_line = next(i for i, line in enumerate(lines, 1) if line.strip().startswith('"stain"'))
    structure_line = next(i for i, line in enumerate(lines, 1) if line.strip().startswith('"structure"'))
    found = sorted((p.line, p.field, p.message.split(" (")[0]) for p in caught.value.problems)
    assert found == sorted([
        (stain_line, "stain", "unknown type 'colour-picker'"),
        (structure_line, None, "unsafe folder path"),
    ])
    assert all(p.source == str(path) for p in caught.value.problems)


# --- 7. elabFTW import ---------------------------------------------------------------------------


def test_elabftw_example_imports_every_field_with_its_type(elabftw_metadata_path: Path) -> None:
    template = load_template(elabftw_metadata_path)
    assert [(f.key, f.label, f.type) for f in template.fields] == [
        ("laser_power", "Laser power", "number"),
        ("objective", "Objective", "dropdown"),
        ("excitation_lines", "Excitation lines", "multi_select"),
        ("live_imaging", "Live imaging", "checkbox"),
        ("imaging_date", "Imaging date", "date"),
        ("start_time", "Start time", "time"),
        ("protocol_url", "Protocol URL", "url"),
        ("contact", "Contact", "email"),
        ("sample", "Sample", "items"),
        ("condition", "Condition", "radio"),
    ]
    assert template.type == "experiment"


def test_elabftw_example_groups_hold_their_fields(elabftw_metadata_path: Path) -> None:
    template = load_template(elabftw_metadata_path)
    assert [(g.label, [c.key for c in g.children]) for g in template.groups] == [
        ("Microscope", ["laser_power", "objective", "excitation_lines"]),
        ("Session", ["live_imaging", "imaging_date", "start_time"]),
    ]
    assert [type(item).__name__ for item in template.items] == ["Group", "Group", "Field", "Field", "Field", "Field"]
    microscope = template.groups[0].key
    assert template.field("objective").group == microscope
    assert template.field("contact").group is None


def test_elabftw_example_values_units_and_options(elabftw_metadata_path: Path) -> None:
    template = load_template(elabftw_metadata_path)
    power = template.field("laser_power")
    assert (power.units, power.unit, power.default, power.help_text) == (("%", "mW"), "%", 2, "Relative laser power")
    objective = template.field("objective")
    assert (objective.required, objective.default) == (True, "63x/1.4 Oil")
    assert objective.option_values() == ["20x/0.8", "40x/1.3 Oil", "63x/1.4 Oil"]
    lines = template.field("excitation_lines")
    assert (lines.is_multi, lines.default) == (True, ["488 nm"])
    assert lines.option_values() == ["405 nm", "488 nm", "561 nm", "633 nm"]
    assert template.field("live_imaging").default is True
    assert template.field("imaging_date").default == "2025-06-13"
    assert template.field("start_time").default == "09:30"
    assert template.field("protocol_url").default == "https://protocols.example.org/hela-v2"
    assert template.field("contact").default == "ada@example.org"
    sample = template.field("sample")
    assert (sample.default, sample.help_text) == (None, "Link to the sample resource")
    assert template.field("condition").default == "42 C"


def test_elabftw_fixture_uses_all_15_types() -> None:
    assert set(ELABFTW_TYPES) == ELABFTW_15_TYPES
    assert {spec["type"] for spec in ELABFTW_ALL_TYPES["extra_fields"].values()} == ELABFTW_15_TYPES


def test_elabftw_metadata_with_all_15_types_imports() -> None:
    template = load_template(copy.deepcopy(ELABFTW_ALL_TYPES))
    assert [(f.label, f.type) for f in template.fields] == [
        ("Project code", "text"), ("Sample name", "text"), ("Cell line", "items"), ("Reagent", "compounds"),
        ("Fixed", "checkbox"), ("Stained", "checkbox"), ("Laser power", "number"), ("Exposure", "number"),
        ("Objective", "dropdown"), ("Channels", "multi_select"), ("Mode", "radio"), ("Session date", "date"),
        ("Start", "time"), ("Operator", "users"), ("Acquired at", "datetime"), ("Previous run", "experiments"),
        ("Raw file", "uploads"), ("Contact", "email"), ("Protocol", "url"),
    ]
    assert [(g.label, [c.label for c in g.children]) for g in template.groups] == [
        ("Sample", ["Sample name", "Cell line", "Reagent", "Fixed", "Stained"]),
        ("Acquisition", ["Laser power", "Exposure", "Objective", "Channels", "Mode", "Session date", "Start",
                         "Operator", "Acquired at"]),
    ]
    defaults = {f.label: f.default for f in template.fields}
    assert defaults == {
        "Project code": "HS-2025", "Sample name": "HeLa batch 4", "Cell line": "17", "Reagent": "5",
        "Fixed": None, "Stained": True, "Laser power": 12.5, "Exposure": None, "Objective": "63x",
        "Channels": ["DAPI", "GFP"], "Mode": "live", "Session date": "2025-06-13", "Start": "09:30",
        "Operator": "3", "Acquired at": "2025-06-13T10:15", "Previous run": "42", "Raw file": "8",
        "Contact": "ada@example.org", "Protocol": "https://protocols.example.org/p/1"}
    code = template.field("project_code")
    assert (code.required, code.help_text, code.group) == (True, "Code on the grant", None)
    assert template.field("protocol").readonly is True
    assert (template.field("exposure").units, template.field("exposure").unit) == (("ms",), "ms")


def test_elabftw_unknown_type_is_reported_on_its_line(tmp_path: Path) -> None:
    metadata = copy.deepcopy(ELABFTW_ALL_TYPES)
    metadata["extra_fields"]["Mode"]["type"] = "slider"
    text = json.dumps(metadata, indent=2)
    path = tmp_path / "metadata.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    mode_line = next(i for i, line in enumerate(text.splitlines(), 1) if line.strip().startswith('"Mode"'))
    assert [(p.source, p.line, p.field) for p in caught.value.problems] == [(str(path), mode_line, "mode")]
    assert "unknown type 'slider'" in caught.value.problems[0].message


# --- 7. elabFTW round trip -----------------------------------------------------------------------


def summary(metadata: dict[str, Any]) -> list[tuple]:
    """What must survive a round trip, per field in position order (groups by name)."""
    groups = {g["id"]: g["name"] for g in metadata.get("elabftw", {}).get("extra_fields_groups", [])}
    entries = sorted(metadata["extra_fields"].items(), key=lambda item: item[1]["position"])
    return [(name, spec["type"], spec["value"], spec.get("options"), spec.get("units"), spec.get("unit"),
             bool(spec.get("allow_multi_values")), groups.get(spec.get("group_id")), bool(spec.get("required")),
             spec.get("description", ""), bool(spec.get("readonly")))
            for name, spec in entries]


def group_names(metadata: dict[str, Any]) -> list[str]:
    return [g["name"] for g in metadata.get("elabftw", {}).get("extra_fields_groups", [])]


def test_elabftw_example_round_trips(elabftw_metadata_path: Path) -> None:
    original = loaded_json(elabftw_metadata_path)
    exported = to_elabftw(load_template(elabftw_metadata_path))
    assert summary(exported) == summary(original)
    assert group_names(exported) == group_names(original)
    assert {name: spec["position"] for name, spec in exported["extra_fields"].items()} == {
        name: spec["position"] for name, spec in original["extra_fields"].items()}
    assert list(exported["extra_fields"]) == list(original["extra_fields"])


def test_elabftw_metadata_with_all_15_types_round_trips() -> None:
    exported = to_elabftw(load_template(copy.deepcopy(ELABFTW_ALL_TYPES)))
    assert summary(exported) == summary(ELABFTW_ALL_TYPES)
    assert group_names(exported) == group_names(ELABFTW_ALL_TYPES)
    assert sorted(spec["type"] for spec in exported["extra_fields"].values()) == sorted(
        spec["type"] for spec in ELABFTW_ALL_TYPES["extra_fields"].values())
    assert {name: spec["position"] for name, spec in exported["extra_fields"].items()} == {
        name: spec["position"] for name, spec in ELABFTW_ALL_TYPES["extra_fields"].items()}


def test_elabftw_export_imports_back_to_the_same_template() -> None:
    template = load_template(copy.deepcopy(ELABFTW_ALL_TYPES))
    exported = to_elabftw(template)
    again = load_template(exported)
    assert content(again) == content(template)
    assert to_elabftw(again) == exported


def test_template_export_restores_field_keys_on_import() -> None:
    template = load_template(RICH_TEMPLATE)
    exported = to_elabftw(template)
    again = load_template(json.loads(json.dumps(exported)))
    assert [f.key for f in again.fields] == [f.key for f in template.fields]
    assert (again.id, again.version, again.name) == ("rich", "3.2.1", "Rich template")
    assert [f.type for f in again.fields] == [
        {"textarea": "text", "integer": "number", "decimal": "number", "checkbox_group": "multi_select"}.get(
            f.type, f.type) for f in template.fields]


def test_template_with_an_options_source_survives_export_and_import(example_template_path: Path) -> None:
    for template in (load_template(example_template_path), load_template("multi-modal-imaging")):
        exported = json.loads(json.dumps(to_elabftw(template)))
        # a select must carry options: an unanswered options_source field has none yet
        assert exported["extra_fields"][template.field("omero_group").label]["options"] == []
        again = load_template(exported)
        assert [f.key for f in again.fields] == [f.key for f in template.fields]
        assert again.field("omero_group").options_source == "omero_groups_api"
        assert again.field("omero_group").options == ()
        assert again.field("sample_type").option_values() == template.field("sample_type").option_values()
        assert to_elabftw(again)["extra_fields"] == exported["extra_fields"]


def test_an_answered_options_source_field_offers_its_choice_and_stays_a_source() -> None:
    template = load_template("multi-modal-imaging")
    exported = to_elabftw(template, {"omero_group": "Imaging Lab"})
    assert exported["extra_fields"]["OMERO group"]["options"] == ["Imaging Lab"]
    again = load_template(exported)
    assert again.field("omero_group").options_source == "omero_groups_api"
    assert again.field("omero_group").options == ()


def test_two_fields_with_equal_labels_stay_distinct_on_export() -> None:
    template = load_template({"id": "t", "fields": {
        "temperature_before": {"type": "number", "label": "Temperature", "default": 4},
        "temperature_after": {"type": "number", "label": "Temperature", "default": 37},
        "also": {"type": "text", "label": "Temperature (2)", "default": "x"},
    }})
    exported = to_elabftw(template)
    extra = exported["extra_fields"]
    assert len(extra) == 3
    assert [spec["value"] for spec in extra.values()] == ["4", "37", "x"]
    assert len(set(extra)) == 3 and list(extra)[0] == "Temperature"
    again = load_template(exported)
    assert [f.key for f in again.fields] == ["temperature_before", "temperature_after", "also"]
    assert [f.default for f in again.fields] == [4, 37, "x"]


def test_elabftw_export_with_answers_keeps_blank_numbers_blank() -> None:
    template = load_template(copy.deepcopy(ELABFTW_ALL_TYPES))
    exported = to_elabftw(template, {"laser_power": None, "fixed": True, "channels": ["RFP"], "start": "10:00"})
    extra = exported["extra_fields"]
    assert list(extra) == ["Fixed", "Laser power", "Channels", "Start"]
    assert [extra[name]["value"] for name in extra] == ["on", "", ["RFP"], "10:00"]
    assert [extra[name]["position"] for name in extra] == [1, 2, 3, 4]
    assert extra["Laser power"]["units"] == ["mW", "W"]


# --- 7. JSON Schema ------------------------------------------------------------------------------

CONDITIONAL = {
    "id": "conditional",
    "fields": {
        "title": {"type": "text", "required": True},
        "enable_omero": {"type": "checkbox", "default": True},
        "omero_group": {"type": "dropdown", "required": True, "options_source": "omero_groups_api",
                        "condition": {"field": "enable_omero", "equals": True}},
        "skip_notes": {"type": "checkbox"},
        "notes": {"type": "text", "required": True, "condition": {"field": "skip_notes", "equals": False}},
        "mode": {"type": "radio", "options": ["fixed", "live"], "default": "live"},
        "fixative": {"type": "text", "required": True, "condition": {"field": "mode", "not_equals": "live"}},
        "section": {"type": "group", "condition": {"field": "mode", "in": ["fixed"]},
                    "fields": {"fixed_for": {"type": "integer", "required": True}}},
    },
}


def all_templates(example_template_path: Path, desktop_template_path: Path,
                  elabftw_metadata_path: Path) -> dict[str, Template]:
    """Every built-in, the shared examples, both imports and the inline templates, by name."""
    templates = {template_id: load_template(template_id) for template_id in builtin_template_ids()}
    templates.update({
        "example": load_template(example_template_path),
        "desktop": load_template(desktop_template_path),
        "elabftw": load_template(elabftw_metadata_path),
        "elabftw-15": load_template(copy.deepcopy(ELABFTW_ALL_TYPES)),
        "rich": load_template(RICH_TEMPLATE),
        "conditional": load_template(CONDITIONAL),
    })
    return templates


def test_json_schema_is_valid_draft_2020_12_for_every_template(
        example_template_path: Path, desktop_template_path: Path, elabftw_metadata_path: Path) -> None:
    templates = all_templates(example_template_path, desktop_template_path, elabftw_metadata_path)
    assert {"multi-modal-imaging", "basic-experiment", "folder-only"} <= set(templates)
    for name, template in templates.items():
        schema = to_json_schema(template)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        assert list(schema["properties"]) == [f.key for f in template.fields], name
        json.dumps(schema)  # plain JSON data


def validator_for(template: Template) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(to_json_schema(template),
                                           format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def schema_errors(template: Template, answers: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, keyword) of each JSON Schema error for ``answers``."""
    errors = validator_for(template).iter_errors(answers)
    return sorted((".".join(map(str, e.absolute_path)), e.validator) for e in errors)


def test_tutorial_answers_validate_against_the_schema(example_template_path: Path, example_answers_path: Path) -> None:
    answers = yaml.safe_load(example_answers_path.read_text(encoding="utf-8"))
    for template in (load_template(example_template_path), load_template("multi-modal-imaging")):
        assert validate_answers(template, answers) == []
        assert schema_errors(template, answers) == []


@pytest.mark.parametrize("change, expected", [
    ({"project_identifier": "img202501"}, [("project_identifier", "pattern")]),
    ({"sample_type": "Frozen"}, [("sample_type", "enum")]),
    ({"experiment_title": "x" * 201}, [("experiment_title", "maxLength")]),
    ({"enable_omero": "yes please"}, [("enable_omero", "type")]),
    ({"research_question": None}, [("research_question", "type")]),
])
def test_a_broken_answer_fails_the_schema(example_template_path: Path, example_answers_path: Path,
                                          change: dict, expected: list) -> None:
    template = load_template(example_template_path)
    answers = {**yaml.safe_load(example_answers_path.read_text(encoding="utf-8")), **change}
    assert schema_errors(template, answers) == expected
    assert [e.key for e in validate_answers(template, answers)] == [path for path, _ in expected]


def test_a_missing_required_answer_fails_the_schema(example_template_path: Path, example_answers_path: Path) -> None:
    template = load_template(example_template_path)
    answers = yaml.safe_load(example_answers_path.read_text(encoding="utf-8"))
    del answers["principal_investigator"]
    errors = list(validator_for(template).iter_errors(answers))
    assert [(e.validator, e.message) for e in errors] == [
        ("required", "'principal_investigator' is a required property")]


@pytest.mark.parametrize("answers, missing", [
    ({"title": "t", "enable_omero": True}, {"omero_group", "notes"}),
    ({"title": "t", "enable_omero": True, "omero_group": "Lab"}, {"notes"}),
    ({"title": "t", "enable_omero": False}, {"notes"}),
    ({"title": "t"}, {"omero_group", "notes"}),  # unanswered: the default (checked) applies
    ({"title": "t", "enable_omero": False, "skip_notes": True}, set()),
    ({"title": "t", "enable_omero": False, "skip_notes": False}, {"notes"}),
    ({"title": "t", "enable_omero": False, "skip_notes": True, "mode": "fixed"}, {"fixative", "fixed_for"}),
    ({"title": "t", "enable_omero": False, "skip_notes": True, "mode": "live"}, set()),
])
def test_conditionally_required_fields_are_required_only_when_shown(answers: dict, missing: set) -> None:
    template = load_template(CONDITIONAL)
    errors = list(validator_for(template).iter_errors(answers))
    assert all(e.validator == "required" for e in errors), errors
    assert {e.message.split("'")[1] for e in errors} == missing
    assert {e.key for e in validate_answers(template, answers)} == missing  # the schema agrees with the engine


def test_schema_describes_each_field() -> None:
    schema = to_json_schema(load_template(RICH_TEMPLATE))
    properties = schema["properties"]
    assert schema["required"] == ["code", "title"]
    assert properties["code"]["pattern"] == "^[A-Z]{2}[0-9]+$"
    assert properties["title"] == {"title": "Experiment title", "type": "string", "minLength": 3, "maxLength": 80}
    assert properties["use_elab"]["type"] == "boolean" and properties["use_elab"]["default"] is True
    assert properties["replicates"]["type"] == ["integer", "null"]
    assert (properties["replicates"]["minimum"], properties["replicates"]["maximum"]) == (1, 96)
    assert properties["temperature"]["x-metafold-unit"] == "°C"
    assert properties["temperature"]["x-metafold-group"] == "conditions"
    assert properties["day"]["format"] == "date" and "default" not in properties["day"]
    assert properties["acquired"]["format"] == "date-time"
    assert properties["contact"]["format"] == "email"
    assert properties["website"]["format"] == "uri"
    assert properties["stain"]["enum"] == ["DAPI", "gfp", None]
    assert properties["group_name"]["x-metafold-options-source"] == "omero_groups_api"
    channels = properties["channels"]
    assert (channels["type"], channels["items"]["enum"], channels["minItems"], channels["maxItems"]) == (
        ["array", "null"], ["red", "green"], 1, 2)


def test_schema_steps_agree_with_answer_validation() -> None:
    template = load_template({"id": "t", "fields": {
        "temperature": {"type": "decimal", "step": 0.1},
        "dose": {"type": "decimal", "min": 0.5, "step": 1},
        "wells": {"type": "integer", "min": 1, "step": 2},
        "count": {"type": "integer", "min": 0, "step": 5},
    }})
    valid = {"temperature": 37.3, "dose": 1.5, "wells": 3, "count": 15}
    assert validate_answers(template, valid) == []
    assert schema_errors(template, valid) == []
    invalid = {"temperature": 37.35, "dose": 1.0, "wells": 4, "count": 12}
    assert {e.key for e in validate_answers(template, invalid)} == set(invalid)
    assert ("count", "multipleOf") in schema_errors(template, invalid)


def test_basic_experiment_accepts_a_decimal_temperature() -> None:
    template = load_template("basic-experiment")
    answers = {"experiment_title": "Heat", "experiment_date": "2025-06-13", "researcher": "Ada",
               "aim": "Show it.", "temperature": 37.3, "treatment": ["Control"]}
    assert validate_answers(template, answers) == []
    assert schema_errors(template, answers) == []


# --- native round trip ---------------------------------------------------------------------------


def test_native_yaml_reloads_to_an_equal_template(
        example_template_path: Path, desktop_template_path: Path, elabftw_metadata_path: Path) -> None:
    templates = all_templates(example_template_path, desktop_template_path, elabftw_metadata_path)
    assert {"multi-modal-imaging", "basic-experiment", "folder-only", "example", "desktop", "elabftw"} <= set(templates)
    for name, template in templates.items():
        text = to_native_yaml(template)
        again = load_template(text)
        assert again.fields == template.fields, name
        assert again.groups == template.groups, name
        assert again.items == template.items, name
        assert again.folders == template.folders, name
        assert again.integrations == template.integrations, name
        assert content(again) == content(template), name
        assert to_native_yaml(again) == text, name


def test_native_data_is_plain_and_reloads_from_json(tmp_path: Path) -> None:
    template = load_template(RICH_TEMPLATE)
    data = to_native(template)
    path = tmp_path / "rich.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    assert content(load_template(path)) == content(template)


def test_rich_template_loads_as_written() -> None:
    template = load_template(RICH_TEMPLATE)
    assert [g.key for g in template.groups] == ["conditions", "timing"]
    assert template.field("day").group == "timing" and template.node("timing").group == "conditions"
    assert template.folders.files == ("README.md", "admin/plan.md")
    assert set(template.folders.leaf_folders()) == {"raw/images/2025", "raw/images/2026", "raw/stacks",
                                                    "admin/logs", "analysis"}
    assert template.integrations == {"elabftw": {"enabled_by": "use_elab", "tags": "keywords",
                                                 "title": "{code} {title}"}}
    assert (template.project_name, template.log_folder, template.author) == (
        "{code}_{title}", "admin/logs", "Dr. Ada Example")
    assert template.field("dose").units == ("mg",)
    assert template.field("day").minimum == "2020-01-01" and template.field("day").maximum == "today"


def test_native_export_omits_what_loading_would_fill_in() -> None:
    data = to_native(load_template({"id": "small", "fields": {"title": {"type": "text"}}}))
    assert data["fields"] == {"title": {"type": "text"}}
    assert data["folders"] == []
    assert "integrations" not in data  # the field-key conventions give the same (empty) roles


def test_native_export_keeps_a_custom_label_and_options_with_labels() -> None:
    data = to_native(load_template(RICH_TEMPLATE))
    assert data["fields"]["title"]["label"] == "Experiment title"
    assert "label" not in data["fields"]["code"]
    assert data["fields"]["stain"]["options"] == ["DAPI", {"value": "gfp", "label": "GFP"}]
    assert data["fields"]["stain"]["default"] == "gfp"
    assert data["fields"]["conditions"]["fields"]["timing"]["fields"]["day"]["default"] == "today"


def test_field_and_group_types_are_exported_as_public_classes() -> None:
    template = load_template(RICH_TEMPLATE)
    assert all(isinstance(f, Field) for f in template.fields)
    assert all(isinstance(g, Group) for g in template.groups)
