"""Conditions that show or hide a field depending on other answers.

Spellings accepted in a template::

    condition: {field: enable_omero, equals: true}
    condition: {field: temperature, gte: 4, lt: 40}       # several operators: all must hold
    condition: {any: [{field: a, in: [x, y]}, {not: {field: b, contains: z}}]}
    condition: [{field: a, equals: 1}, {field: b, not_equals: 2}]   # a list means all

A field whose condition is false is hidden: it is neither required nor exported.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Union

OPERATORS = ("equals", "not_equals", "in", "not_in", "contains", "gt", "gte", "lt", "lte")
COMBINATORS = ("all", "any", "not")


class ConditionSyntaxError(ValueError):
    """A condition is spelled wrongly; the message says how."""


@dataclass(frozen=True)
class Compare:
    """``field <operator> value``."""

    field: str
    operator: str
    value: Any


@dataclass(frozen=True)
class AllOf:
    """True when every part is true."""

    parts: tuple["Condition", ...]


@dataclass(frozen=True)
class AnyOf:
    """True when at least one part is true."""

    parts: tuple["Condition", ...]


@dataclass(frozen=True)
class Not:
    """True when the part is false."""

    part: "Condition"


Condition = Union[Compare, AllOf, AnyOf, Not]


MAX_DEPTH = 32


def parse_condition(spec: Any, depth: int = 0) -> Condition:
    """Build a Condition from its template spelling; raises ConditionSyntaxError."""
    if depth > MAX_DEPTH:
        raise ConditionSyntaxError(f"conditions are nested too deeply (more than {MAX_DEPTH} levels)")
    if isinstance(spec, list):
        if not spec:
            raise ConditionSyntaxError("an empty list of conditions")
        return AllOf(tuple(parse_condition(part, depth + 1) for part in spec))
    if not isinstance(spec, Mapping):
        raise ConditionSyntaxError(f"a condition must be a mapping like {{field: x, equals: y}}, not {spec!r}")
    combinators = [key for key in spec if key in COMBINATORS]
    if combinators:
        if len(spec) != 1:
            raise ConditionSyntaxError(f"'{combinators[0]}' must stand alone in its condition")
        key, body = combinators[0], spec[combinators[0]]
        if key == "not":
            return Not(parse_condition(body, depth + 1))
        if not isinstance(body, list) or not body:
            raise ConditionSyntaxError(f"'{key}' needs a non-empty list of conditions")
        parts = tuple(parse_condition(part, depth + 1) for part in body)
        return AllOf(parts) if key == "all" else AnyOf(parts)
    if "field" not in spec:
        raise ConditionSyntaxError("a condition needs 'field' (or 'all', 'any', 'not')")
    field_key = spec["field"]
    if not isinstance(field_key, str) or not field_key:
        raise ConditionSyntaxError("'field' must name a field")
    unknown = [key for key in spec if key != "field" and key not in OPERATORS]
    if unknown:
        raise ConditionSyntaxError(
            f"unknown condition operator '{unknown[0]}' (use one of: {', '.join(OPERATORS)})")
    compares = [Compare(field_key, op, spec[op]) for op in OPERATORS if op in spec]
    if not compares:
        raise ConditionSyntaxError(f"condition on '{field_key}' has no operator (e.g. equals)")
    for compare in compares:
        if compare.operator in ("in", "not_in") and not isinstance(compare.value, list):
            raise ConditionSyntaxError(f"'{compare.operator}' needs a list of values")
    return compares[0] if len(compares) == 1 else AllOf(tuple(compares))


def referenced_fields(condition: Condition | None) -> Iterator[str]:
    """Every field key the condition reads."""
    if condition is None:
        return
    if isinstance(condition, Compare):
        yield condition.field
    elif isinstance(condition, Not):
        yield from referenced_fields(condition.part)
    else:
        for part in condition.parts:
            yield from referenced_fields(part)


def map_compares(condition: Condition, change: Callable[[Compare], Compare]) -> Condition:
    """A copy of the condition with every comparison passed through ``change``."""
    if isinstance(condition, Compare):
        return change(condition)
    if isinstance(condition, Not):
        return Not(map_compares(condition.part, change))
    parts = tuple(map_compares(part, change) for part in condition.parts)
    return AllOf(parts) if isinstance(condition, AllOf) else AnyOf(parts)


def evaluate(condition: Condition | None, values: Mapping[str, Any]) -> bool:
    """Whether the condition holds for ``values`` (hidden or blank answers are None)."""
    if condition is None:
        return True
    if isinstance(condition, AllOf):
        return all(evaluate(part, values) for part in condition.parts)
    if isinstance(condition, AnyOf):
        return any(evaluate(part, values) for part in condition.parts)
    if isinstance(condition, Not):
        return not evaluate(condition.part, values)
    return _compare(values.get(condition.field), condition.operator, condition.value)


def _compare(actual: Any, operator: str, expected: Any) -> bool:
    if operator == "equals":
        return _same(actual, expected)
    if operator == "not_equals":
        return not _same(actual, expected)
    if operator == "in":
        return any(_same(actual, item) for item in expected)
    if operator == "not_in":
        return not any(_same(actual, item) for item in expected)
    if actual is None:
        return False
    if operator == "contains":
        if isinstance(actual, list):
            return any(_same(item, expected) for item in actual)
        return str(expected) in str(actual)
    try:
        if operator == "gt":
            return actual > expected
        if operator == "gte":
            return actual >= expected
        if operator == "lt":
            return actual < expected
        return actual <= expected
    except TypeError:
        return False


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(actual, list):
        return isinstance(expected, list) and sorted(map(str, actual)) == sorted(map(str, expected))
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected or (actual is None and expected is False)
    return actual == expected
