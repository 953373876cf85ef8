"""Validate a researcher's answers against a template.

Answers are coerced to canonical values (``"2.5"`` becomes 2.5), defaults fill what
was not answered, conditions decide which fields are shown, and every shown field is
checked. Hidden fields are neither required nor exported, and a bad value in a hidden
field is not an error: the researcher cannot see it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..errors import AnswersError, FieldError
from .conditions import evaluate
from .fields import Field, Group
from .template import Template
from .values import ValueProblem, coerce, constraint_problems, is_blank


@dataclass(frozen=True)
class AnswerCheck:
    """The outcome of checking answers: shown values, hidden keys and per-field errors."""

    values: dict[str, Any]
    hidden: frozenset[str]
    errors: list[FieldError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing blocks creating the project."""
        return not self.errors


def check_answers(template: Template, answers: Mapping[str, Any] | None,
                  now: dt.datetime | None = None) -> AnswerCheck:
    """Coerce, apply defaults and conditions, and validate; never raises for bad answers."""
    answers = dict(answers or {})
    fields = {f.key: f for f in template.fields}
    errors: dict[str, FieldError] = {}
    for key in answers:
        if key not in fields:
            errors[key] = FieldError(str(key), str(key), f"is not a field of template '{template.id}'")
    coerced: dict[str, Any] = {}
    for key, spec in fields.items():
        raw = answers[key] if key in answers else _default(spec)
        try:
            coerced[key] = coerce(spec, raw, now)
        except ValueProblem as exc:
            coerced[key] = None
            errors[key] = _error(spec, str(exc))
    shown = visible_values(template, coerced)
    hidden = frozenset(k for k in fields if k not in shown)
    for key in hidden:
        errors.pop(key, None)
    for key, value in shown.items():
        spec = fields[key]
        if key in errors:
            continue
        if spec.required and (is_blank(value) or (spec.type == "checkbox" and value is False)):
            errors[key] = FieldError(key, spec.label, "must be checked" if spec.type == "checkbox" else "is required")
            continue
        if value is not None:
            problems = constraint_problems(spec, value, now)
            if problems:
                errors[key] = _error(spec, "; ".join(problems))
    order = {key: index for index, key in enumerate(fields)}
    ordered = sorted(errors.values(), key=lambda e: order.get(e.key, len(order)))
    return AnswerCheck(shown, hidden, ordered)


def visible_values(template: Template, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values of the fields that are shown, in form order; conditions read only shown fields."""
    visible: dict[str, Any] = {}
    shown_nodes: set[str] = set()
    every: tuple[Field | Group, ...] = (*template.groups, *template.fields)
    nodes: dict[str, Field | Group] = {n.key: n for n in every}
    for key in template.evaluation_order:
        node = nodes[key]
        if node.group is not None and node.group not in shown_nodes:
            continue
        if evaluate(node.condition, visible):
            shown_nodes.add(key)
            if isinstance(node, Field):
                visible[key] = values.get(key)
    return {f.key: visible[f.key] for f in template.fields if f.key in visible}


def validate_answers(template: Template, answers: Mapping[str, Any] | None) -> list[FieldError]:
    """Per-field errors for ``answers``; an empty list means they are valid."""
    return check_answers(template, answers).errors


def resolve_answers(template: Template, answers: Mapping[str, Any] | None, source: str | None = None,
                    now: dt.datetime | None = None) -> AnswerCheck:
    """Check answers and raise AnswersError (every field error listed) when any is invalid."""
    result = check_answers(template, answers, now)
    if result.errors:
        raise AnswersError(result.errors, source)
    return result


def _default(spec: Field) -> Any:
    return spec.default


def _error(spec: Field, message: str) -> FieldError:
    return FieldError(spec.key, spec.label, spec.validation_message or message)
