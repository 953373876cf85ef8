"""Property-based tests: for any input, the engine answers with a TemplateError/UserError or a result.

Hypothesis generates arbitrary text, YAML/JSON documents shaped like templates (with
random types, conditions and folder trees), raw Python data, free-text project names and
answers. The properties:

* loading a template never raises anything but :class:`TemplateError`;
* whatever loads has a safe folder tree (every name valid on Windows, macOS and Linux);
* :func:`safe_folder_name` returns a valid, NFC, stable name or raises UnsafeNameError;
* :func:`check_answers` never raises, and planning raises at most a UserError.
"""
from __future__ import annotations

import datetime as dt
import json
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metafold_widgets import check_answers, load_template, plan_project
from metafold_widgets.core.conditions import COMBINATORS, OPERATORS
from metafold_widgets.core.fields import FIELD_TYPES, TYPE_ALIASES
from metafold_widgets.core.names import (
    MAX_PROJECT_NAME_CHARS,
    component_problem,
    relative_path_problem,
    safe_folder_name,
)
from metafold_widgets.core.template import FIELD_ATTRIBUTES, TOP_LEVEL_KEYS, Template
from metafold_widgets.errors import TemplateError, UnsafeNameError, UserError

SETTINGS = settings(max_examples=250, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PLAN_DEST = Path(tempfile.gettempdir()) / "metafold-properties-never-written"

# --- strategies ------------------------------------------------------------------------------------

# Any text, lone surrogates included (a Python caller can pass them; st.text() never does).
any_text = st.text() | st.text(alphabet=st.characters(codec=None, categories=[
    "Lu", "Ll", "Lo", "Mn", "Nd", "Pc", "Pd", "Po", "Sm", "So", "Zs", "Zl", "Cc", "Cf", "Cs", "Co"]))

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
    st.sampled_from(["", " ", "..", "../x", "/etc", "C:\\x", "CON", "a/b", "today", "now", "10:30", "0123",
                     "no", "yes", "~", "{", "}", "{x}", "{title}", "2025-06-13", "x" * 300, "é" * 130, "😀"]),
    st.dates(),
)
keys = st.one_of(st.sampled_from([*TOP_LEVEL_KEYS, *FIELD_ATTRIBUTES, *OPERATORS, *COMBINATORS, "field",
                                  "value", "elabftw", "omero", "enabled_by", "title"]),
                 st.text(max_size=12))
data = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=5)), max_leaves=30)

type_names = st.one_of(st.sampled_from([*FIELD_TYPES, *TYPE_ALIASES, "group", "GROUP", " Text "]), scalars)
field_keys = st.one_of(st.sampled_from(["a", "b", "c", "title", "enable_omero", "g"]), st.text(max_size=8))
compare = st.fixed_dictionaries({"field": field_keys}, optional={op: scalars | st.lists(scalars, max_size=3)
                                                                 for op in OPERATORS})
conditions = st.recursive(compare | data, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.builds(lambda part: {"not": part}, inner),
    st.builds(lambda parts: {"any": parts}, st.lists(inner, max_size=3)),
    st.builds(lambda parts: {"all": parts}, st.lists(inner, max_size=3))), max_leaves=8)
folder_names = st.one_of(st.text(max_size=15), st.sampled_from(
    ["raw", "raw/images", "../up", "/abs", "a\\b", "CON", "con.txt", "a.", "a ", "a:b", "Data", "data", "  x  ",
     "2025", "a//b", "é", unicodedata.normalize("NFD", "é"), "├── tree/", "│   └── leaf"]))
folder_specs = st.one_of(
    st.lists(folder_names | data, max_size=6),
    st.recursive(st.dictionaries(folder_names, st.none() | st.lists(folder_names, max_size=3), max_size=4),
                 lambda inner: st.dictionaries(folder_names, inner | st.none(), max_size=3), max_leaves=10),
    st.lists(folder_names, max_size=6).map("\n".join),
    st.lists(st.tuples(st.integers(0, 4), folder_names), max_size=8).map(
        lambda lines: "\n".join("  " * depth + name for depth, name in lines)),
    data,
)
field_specs = st.fixed_dictionaries({}, optional={
    "type": type_names, "label": scalars, "required": scalars, "default": scalars, "options": data,
    "condition": conditions, "pattern": st.sampled_from(["^[A-Z]+$", "(", "[", "a{2,}", ".*"]) | scalars,
    "min": scalars, "max": scalars, "step": scalars, "min_length": scalars, "max_length": scalars,
    "min_selections": scalars, "max_selections": scalars, "precision": scalars, "options_source": scalars,
    "fields": st.deferred(lambda: fields_mapping), "units": data, "readonly": scalars,
})
fields_mapping = st.dictionaries(field_keys, field_specs | data, max_size=5) | st.lists(field_specs, max_size=3)
templates = st.fixed_dictionaries({}, optional={
    "id": scalars, "name": scalars, "version": scalars, "type": st.sampled_from(["experiment", "folder"]) | scalars,
    "description": scalars, "folders": folder_specs, "files": st.lists(folder_names, max_size=3) | data,
    "fields": fields_mapping | data, "project_name": st.sampled_from(["{a}", "{a}_{b}", "{nope}", "{", "x"])
    | scalars, "log_folder": folder_names, "integrations": data, "author": scalars,
}) | st.dictionaries(keys, data, max_size=4)


def _dump_yaml(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False)


def _dump_json(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False, indent=1)


def _load(source: Any) -> Template | None:
    """The template, or None for a TemplateError; any other exception fails the test."""
    try:
        template = load_template(source)
    except TemplateError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
        return None
    _assert_safe_tree(template)
    return template


def _assert_safe_tree(template: Template) -> None:
    """What loads is safe: every folder and file name is valid everywhere and NFC."""
    for path in (*template.folders.folders, *template.folders.files):
        assert relative_path_problem(path) is None, path
        assert all(component_problem(part) is None for part in path.split("/")), path
        assert path == unicodedata.normalize("NFC", path)
    casefolded = [p.casefold() for p in template.folders.folders]
    assert len(casefolded) == len(set(casefolded))


# --- (a) text ----------------------------------------------------------------------------------------

@SETTINGS
@given(any_text)
def test_any_text_loads_or_raises_template_error(text: str) -> None:
    _load(text + "\n")  # a newline makes it document text, never a path or built-in id


@SETTINGS
@given(st.text(alphabet=st.sampled_from(list("{}[]:-,'\"#&*!|>%@` \t\n?ab1.~\\/")), max_size=60))
def test_yaml_and_json_punctuation_soup_loads_or_raises_template_error(text: str) -> None:
    _load("id: t\n" + text)
    _load(text + "\n")


@SETTINGS
@given(templates)
def test_template_shaped_yaml_loads_or_raises_template_error(template: Any) -> None:
    _load(_dump_yaml(template))


@SETTINGS
@given(templates)
def test_template_shaped_json_loads_or_raises_template_error(template: Any) -> None:
    _load(_dump_json(template))


@SETTINGS
@given(data)
def test_any_yaml_document_loads_or_raises_template_error(value: Any) -> None:
    _load(_dump_yaml({"id": "t", "fields": value}))
    _load(_dump_yaml(value) + "\n")


# --- (b) Python data ---------------------------------------------------------------------------------

@SETTINGS
@given(templates)
def test_template_shaped_data_loads_or_raises_template_error(template: Any) -> None:
    _load(template)


@SETTINGS
@given(st.dictionaries(keys, data, max_size=6))
def test_any_mapping_loads_or_raises_template_error(value: dict[Any, Any]) -> None:
    _load(value)


# --- (c) folder names ----------------------------------------------------------------------------------

@SETTINGS
@given(any_text | st.sampled_from(["..", "CON", "con.txt", "AUX .txt", "LPT¹", "\u202eexe.gpj", "x" * 400]))
def test_safe_folder_name_is_valid_everywhere_or_raises_unsafe_name_error(text: str) -> None:
    try:
        name = safe_folder_name(text)
    except UnsafeNameError:
        return
    assert component_problem(name) is None, name
    assert name == unicodedata.normalize("NFC", name)
    assert not name.startswith(".") and len(name) <= MAX_PROJECT_NAME_CHARS
    assert safe_folder_name(name) == name  # stable: a safe name is kept as it is


@SETTINGS
@given(any_text)
def test_a_path_accepted_as_relative_stays_inside_the_project(path: str) -> None:
    if relative_path_problem(path) is None:
        parts = path.replace("\\", "/").strip("/").split("/")
        assert not path.startswith(("/", "\\")) and ".." not in parts
        assert all(component_problem(part) is None for part in parts)


# --- (d) answers ---------------------------------------------------------------------------------------

RICH_TEMPLATE = """\
id: rich
name: Rich template
project_name: "{code}_{title}"
folders: [raw/images, analysis, "results/{not a placeholder}"]
fields:
  code: {type: text, required: true, pattern: "^[A-Z]{3}[0-9]{3}$", validation_message: "Use ABC123"}
  title: {type: text, required: true, min_length: 3, max_length: 80}
  notes: {type: textarea}
  email: {type: email}
  link: {type: url}
  count: {type: integer, min: 0, max: 100, step: 5}
  ratio: {type: decimal, min: -1.5, max: 1.5, step: 0.25, precision: 2, unit: "%"}
  amount: {type: number}
  day: {type: date, min: "2000-01-01", max: today}
  at: {type: time, min: "08:00", max: "18:00"}
  stamp: {type: datetime, default: now}
  enabled: {type: checkbox, default: true}
  kind: {type: dropdown, options: [Alpha, Beta, {value: g, label: Gamma}]}
  mode: {type: radio, options: [fast, slow], default: fast}
  tags: {type: multi_select, options: [a, b, c, d], min_selections: 1, max_selections: 3}
  boxes: {type: checkbox_group, options: [x, y]}
  group_from_api: {type: dropdown, options_source: omero_groups_api}
  sample: {type: items}
  details:
    type: group
    condition: {field: enabled, equals: true}
    fields:
      temperature: {type: decimal, min: -80, max: 120, required: true}
      inner:
        type: group
        condition: {any: [{field: kind, in: [Alpha, g]}, {not: {field: count, lt: 10}}]}
        fields:
          reason: {type: text, required: true, condition: {field: tags, contains: a}}
          when: {type: date, condition: [{field: mode, equals: slow}, {field: ratio, gte: 0}]}
"""
_RICH = load_template(RICH_TEMPLATE)
_RICH_KEYS = [f.key for f in _RICH.fields]

answer_values = st.one_of(
    scalars, st.lists(scalars, max_size=4), st.dictionaries(st.text(max_size=4), scalars, max_size=2),
    st.datetimes(), st.times(), st.decimals(allow_nan=True), st.sampled_from(
        ["ABC123", "Alpha", "alpha", "GAMMA", "g", "a,b", "a, c, d, b", "x", "2024-02-29", "2024-02-30",
         "12:00", "07:59", "2025-01-01T10:00", "2025-01-01T10:00+02:00", "1,5", "−3", "1e3", "NaN", "inf",
         "name@example.org", "https://example.org", "doi:10.1/x", "yes", "off", "✓"]))
answers = st.dictionaries(st.sampled_from(_RICH_KEYS) | st.text(max_size=6), answer_values, max_size=12)


@SETTINGS
@given(answers)
def test_check_answers_never_raises_on_a_rich_template(values: dict[str, Any]) -> None:
    checked = check_answers(_RICH, values, now=dt.datetime(2025, 6, 13, 12, 0))
    assert set(checked.values) | set(checked.hidden) == set(_RICH_KEYS)
    assert not set(checked.values) & set(checked.hidden)
    assert all(error.message for error in checked.errors)


@SETTINGS
@given(answers)
def test_planning_raises_at_most_a_user_error_and_stays_inside_dest(values: dict[str, Any]) -> None:
    try:
        plan = plan_project(_RICH, values, PLAN_DEST, created_by="hypothesis", now=dt.datetime(2025, 6, 13, 12, 0))
    except UserError:
        return
    assert plan.path.parent == PLAN_DEST
    assert component_problem(plan.name) is None
    assert not PLAN_DEST.exists()


@pytest.mark.parametrize("answers_text", ["code: ABC123\ntitle: Fine title\ntemperature: 4\n", "{}\n"])
def test_the_rich_template_itself_is_sound(answers_text: str) -> None:
    """Guards the fixture: the rich template loads and accepts ordinary answers."""
    values = yaml.safe_load(answers_text)
    checked = check_answers(_RICH, values, now=dt.datetime(2025, 6, 13, 12, 0))
    assert checked.values["enabled"] is True
    if values:
        assert checked.ok, checked.errors
