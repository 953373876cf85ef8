"""Export a template as a JSON Schema (draft 2020-12) describing a valid answers object.

Conditions become ``if``/``then`` rules: a field is required only while its condition
(and its groups' conditions) hold. Groups are kept as the ``x-metafold-group``
annotation so form generators can rebuild sections.
"""
from __future__ import annotations

import re
from typing import Any

from ..conditions import AllOf, AnyOf, Compare, Condition, Not, evaluate
from ..fields import Field
from ..template import Template
from ..values import ValueProblem, coerce

DRAFT = "https://json-schema.org/draft/2020-12/schema"
_FORMATS = {"date": "date", "time": "time", "datetime": "date-time", "email": "email", "url": "uri"}


def to_json_schema(template: Template) -> dict[str, Any]:
    """A draft 2020-12 JSON Schema for the template's answers."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    rules: list[dict[str, Any]] = []
    for field in template.fields:
        properties[field.key] = field_schema(field)
        condition = _visibility(template, field)
        if field.required and condition is None:
            required.append(field.key)
        elif field.required and condition is not None:
            rules.append({"if": _condition_schema(template, condition), "then": {"required": [field.key]}})
    schema: dict[str, Any] = {
        "$schema": DRAFT,
        "$id": f"urn:metafold:template:{template.id}:{template.version}",
        "title": template.name,
        "type": "object",
        "properties": properties,
    }
    if template.description:
        schema["description"] = template.description
    if required:
        schema["required"] = required
    if rules:
        schema["allOf"] = rules
    return schema


def field_schema(field: Field) -> dict[str, Any]:
    """The JSON Schema of one field's answer (blank allowed as null when not required)."""
    schema: dict[str, Any] = {"title": field.label}
    if field.help_text:
        schema["description"] = field.help_text
    kind = field.type
    if kind == "checkbox":
        schema["type"] = "boolean"
    elif kind == "integer":
        schema["type"] = "integer"
    elif kind in ("number", "decimal"):
        schema["type"] = "number"
    elif field.is_multi:
        schema["type"] = "array"
        schema["uniqueItems"] = True
        schema["items"] = {"type": "string"}
        if field.options:
            schema["items"]["enum"] = field.option_values()
        if field.min_selections is not None:
            schema["minItems"] = field.min_selections
        if field.max_selections is not None:
            schema["maxItems"] = field.max_selections
    else:
        schema["type"] = "string"
        if field.options:
            schema["enum"] = field.option_values()
    if kind in _FORMATS:
        schema["format"] = _FORMATS[kind]
    if field.type in ("number", "integer", "decimal"):
        if field.minimum is not None:
            schema["minimum"] = field.minimum
        if field.maximum is not None:
            schema["maximum"] = field.maximum
        if field.step:
            base = field.minimum if isinstance(field.minimum, (int, float)) else 0
            # multipleOf counts from 0 and validators divide floats inexactly (37.3 / 0.1 fails):
            # only a whole step counted from a multiple of it is exact; otherwise keep it as a note.
            if float(field.step).is_integer() and float(base) % field.step == 0:
                schema["multipleOf"] = field.step
            else:
                schema["x-metafold-step"] = field.step
    if field.min_length is not None:
        schema["minLength"] = field.min_length
    if field.max_length is not None:
        schema["maxLength"] = field.max_length
    if field.pattern:
        schema["pattern"] = field.pattern
    if field.default is not None and field.default not in ("today", "now"):
        schema["default"] = field.default
    if field.unit:
        schema["x-metafold-unit"] = field.unit
    if field.options_source:
        schema["x-metafold-options-source"] = field.options_source
    if field.group:
        schema["x-metafold-group"] = field.group
    if field.placeholder:
        schema["examples"] = [field.placeholder]
    if not field.required and schema["type"] != "boolean":
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    return schema


def _visibility(template: Template, field: Field) -> Condition | None:
    """The field's condition combined with those of every enclosing group."""
    parts: list[Condition] = [field.condition] if field.condition else []
    parent = field.group
    while parent is not None:
        group = template.node(parent)
        if group.condition is not None:
            parts.append(group.condition)
        parent = group.group
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def _condition_schema(template: Template, condition: Condition) -> dict[str, Any]:
    if isinstance(condition, AllOf):
        return {"allOf": [_condition_schema(template, part) for part in condition.parts]}
    if isinstance(condition, AnyOf):
        return {"anyOf": [_condition_schema(template, part) for part in condition.parts]}
    if isinstance(condition, Not):
        return {"not": _condition_schema(template, condition.part)}
    return _compare_schema(condition, _missing_satisfies(template, condition))


def _missing_satisfies(template: Template, compare: Compare) -> bool:
    """Whether an unanswered field meets the comparison: it then takes its default (a checkbox is False)."""
    field = template.field(compare.field)
    if field.default in ("today", "now"):
        return False  # depends on the day the answers are checked
    try:
        value = coerce(field, field.default)
    except ValueProblem:
        return False
    return evaluate(compare, {compare.field: value})


def _compare_schema(compare: Compare, missing_satisfies: bool) -> dict[str, Any]:
    operator, value = compare.operator, compare.value
    keyword = {
        "equals": {"const": value},
        "not_equals": {"not": {"const": value}},
        "in": {"enum": value},
        "not_in": {"not": {"enum": value}},
        "gt": {"exclusiveMinimum": value},
        "gte": {"minimum": value},
        "lt": {"exclusiveMaximum": value},
        "lte": {"maximum": value},
    }.get(operator)
    if operator == "contains":
        keyword = {"anyOf": [{"type": "array", "contains": {"const": value}},
                             {"type": "string", "pattern": re.escape(str(value))}]}
    assert keyword is not None
    if isinstance(value, str) and operator in ("gt", "gte", "lt", "lte"):
        keyword = {}  # ordering of dates has no JSON Schema keyword; the rule stays informative
    property_rule = {"properties": {compare.field: keyword}}
    # "properties" holds for a missing answer: demand the answer unless its default meets the comparison.
    if missing_satisfies:
        return property_rule
    return {**property_rule, "required": [compare.field]}
