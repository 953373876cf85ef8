"""Compile HQL expressions and conditions into row functions (three-valued logic, as SQL).

Comparisons with a null are unknown (None); ``and``/``or``/``not`` follow SQL's truth tables; a
row passes a WHERE clause only when its condition is true. Entities compare by id, so
``dil.child = i.id`` and ``link.parent = :obj`` work as in Hibernate. Parameters come
unwrapped from ``omero.sys.ParametersI.map``; a list parameter feeds ``in (:ids)``.
"""
from __future__ import annotations

import operator
import re
from typing import Any, Callable, Mapping

from .omero_hql_parse import Binary, Exists, Func, In, IsNull, Like, Literal, Not, Param, Path
from .omero_hql_paths import PathResolver, QueryError, Scope, Typed, value_key

__all__ = ["ExpressionCompiler", "ExecutionError", "ParameterMissing", "MISSING_PARAMETER"]

Row = list
MISSING_PARAMETER = "Null parameters not allowed: "
COMPARE: dict[str, Callable[[Any, Any], bool]] = {"=": operator.eq, "!=": operator.ne, "<": operator.lt,
                                                   ">": operator.gt, "<=": operator.le, ">=": operator.ge}
ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {"+": operator.add, "-": operator.sub, "*": operator.mul,
                                                     "/": operator.truediv}
STRING = ("field", "java.lang.String")


class ExecutionError(Exception):
    """The database would refuse to run the query (becomes omero.InternalException)."""


def _compare(op: Callable[[Any, Any], bool], left: Any, right: Any) -> bool | None:
    if left is None or right is None:
        return None
    try:
        return bool(op(value_key(left), value_key(right)))
    except TypeError:
        raise ExecutionError(f"operator does not exist: {type(left).__name__} vs {type(right).__name__}") from None


def _junction(decisive: bool, left: Callable[[Row], Any], right: Callable[[Row], Any]) -> Callable[[Row], Any]:
    """SQL's three-valued AND (``decisive=False``) or OR (``decisive=True``): one side equal to
    ``decisive`` settles it, otherwise an unknown (NULL) side makes the result unknown."""
    def fn(row: Row) -> bool | None:
        a = left(row)
        if a is decisive:
            return decisive
        b = right(row)
        if b is decisive:
            return decisive
        return None if a is None or b is None else not decisive
    return fn


def _like_regex(pattern: str, escape: str | None) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if escape and char == escape and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return re.compile("".join(out), re.S)


class ExpressionCompiler:
    """Expressions of one query level; ``subquery`` compiles a nested query for ``in``/``exists``."""

    def __init__(self, paths: PathResolver, params: Mapping[str, Any],
                 subquery: Callable[[Any, Scope], Callable[[Row], list[Any]]]) -> None:
        self.paths, self.params, self._subquery = paths, params, subquery

    # --- values --------------------------------------------------------------------------

    def value(self, node: Any, context: str = "where") -> Typed:
        if isinstance(node, Path):
            return self.paths.resolve(node, context)
        if isinstance(node, Param):
            if node.name not in self.params:
                raise ParameterMissing(MISSING_PARAMETER + node.name)
            constant = self.params[node.name]
            return Typed(lambda row: constant, ("param",))
        if isinstance(node, Literal):
            constant = node.value
            return Typed(lambda row: constant, ("field", node.java) if node.java != "null" else ("null",))
        if isinstance(node, Func):
            return self.function(node, context)
        if isinstance(node, Binary) and node.op in ARITHMETIC:
            left, right, op = self.value(node.left, context), self.value(node.right, context), ARITHMETIC[node.op]

            def arithmetic(row: Row) -> Any:
                a, b = left.fn(row), right.fn(row)
                return None if a is None or b is None else op(a, b)
            kind = left.type if left.type[0] == "field" else right.type
            return Typed(arithmetic, kind, max(left.depends, right.depends))
        raise QueryError(f"unexpected expression in value position: {type(node).__name__}")

    def function(self, node: Func, context: str) -> Typed:
        name = node.name
        if name in ("count", "min", "max", "sum", "avg"):
            argument = None if node.star else self.value(node.args[0], context)
            kind: tuple[str, ...] = {"count": ("field", "java.lang.Long"), "avg": ("field", "java.lang.Double")}.get(
                name, argument.type if argument is not None else ("field", "java.lang.Long"))
            if name == "sum" and argument is not None and argument.type[-1] in ("java.lang.Integer", "java.lang.Long"):
                kind = ("field", "java.lang.Long")

            def not_per_row(row: Row) -> Any:
                raise QueryError(f"aggregate function {name}() outside the select list")
            return Typed(not_per_row, kind, argument.depends if argument else -1, (name, argument, node.distinct))
        if name == "index":
            if len(node.args) != 1 or not isinstance(node.args[0], Path) or len(node.args[0].parts) != 1:
                raise QueryError("index() takes the alias of a joined list")
            alias = self.paths.scope.lookup(node.args[0].parts[0])
            if alias is None:
                raise QueryError(f"Invalid path: '{node.args[0].text}'")
            if alias.index_pos is None:
                raise QueryError(f"unindexed collection before index(): {alias.name}")
            index_pos = alias.index_pos
            return Typed(lambda row: row[index_pos], ("field", "java.lang.Integer"), index_pos)
        argument = self.value(node.args[0], context)
        functions: dict[str, tuple[Callable[[Any], Any], tuple[str, ...]]] = {
            "lower": (str.lower, STRING), "upper": (str.upper, STRING), "trim": (str.strip, STRING),
            "length": (len, ("field", "java.lang.Integer")), "abs": (abs, argument.type)}
        apply, kind = functions[name]
        getter = argument.fn
        return Typed(lambda row: None if (v := getter(row)) is None else apply(v), kind, argument.depends)

    # --- conditions ----------------------------------------------------------------------------

    def condition(self, node: Any) -> Typed:
        if isinstance(node, Binary) and node.op in ("and", "or"):
            left, right = self.condition(node.left), self.condition(node.right)
            junction = _junction(node.op == "or", left.fn, right.fn)
            return Typed(junction, ("condition",), max(left.depends, right.depends))
        if isinstance(node, Not):
            inner = self.condition(node.operand)
            getter = inner.fn
            return Typed(lambda row: None if (v := getter(row)) is None else not v, ("condition",), inner.depends)
        if isinstance(node, Binary) and node.op in COMPARE:
            left, right, op = self.value(node.left), self.value(node.right), COMPARE[node.op]
            lf, rf = left.fn, right.fn
            return Typed(lambda row: _compare(op, lf(row), rf(row)), ("condition",), max(left.depends, right.depends))
        if isinstance(node, IsNull):
            inner, negated = self.value(node.operand), node.negated
            getter = inner.fn
            return Typed(lambda row: (getter(row) is None) != negated, ("condition",), inner.depends)
        if isinstance(node, In):
            return self._in(node)
        if isinstance(node, Like):
            return self._like(node)
        if isinstance(node, Exists):
            rows, depends = self._subquery_rows(node.query)
            return Typed(lambda row: bool(rows(row)), ("condition",), depends)
        raise QueryError(f"unexpected expression in condition position: {type(node).__name__}")

    def _subquery_rows(self, query: Any) -> tuple[Callable[[Row], list[Any]], int]:
        scope = Scope(parent=self.paths.scope)
        rows = self._subquery(query, scope)
        return rows, scope.outer_depends

    def _in(self, node: In) -> Typed:
        operand, negated = self.value(node.operand), node.negated
        getter = operand.fn
        if not isinstance(node.values, list):
            values, depends = self._subquery_rows(node.values)
            memo: list[set[Any]] = []

            def keys(row: Row) -> set[Any]:
                if memo:  # not correlated: the subquery runs once
                    return memo[0]
                found = {value_key(v) for v in values(row)}
                if depends < 0:
                    memo.append(found)
                return found
        else:
            items = [self.value(v) for v in node.values]
            depends = max([i.depends for i in items], default=-1)

            def keys(row: Row) -> set[Any]:
                found: set[Any] = set()
                for item in items:
                    value = item.fn(row)
                    if isinstance(value, (list, tuple, set, frozenset)):
                        if not value:
                            raise ExecutionError('syntax error at or near ")": an empty list for "in (...)"')
                        found.update(value_key(v) for v in value)
                    elif value is not None:
                        found.add(value_key(value))
                return found
            if depends < 0:  # constants and parameters: one set for every row
                constant = keys([])
                keys = lambda row: constant  # noqa: E731

        def fn(row: Row) -> bool | None:
            value = getter(row)
            if value is None:
                return None
            return (value_key(value) in keys(row)) != negated
        return Typed(fn, ("condition",), max(operand.depends, depends))

    def _like(self, node: Like) -> Typed:
        operand, pattern = self.value(node.operand), self.value(node.pattern)
        escape = self.value(node.escape) if node.escape is not None else None
        cache: dict[tuple[str, str | None], re.Pattern[str]] = {}
        negated, getter, pattern_fn = node.negated, operand.fn, pattern.fn

        def fn(row: Row) -> bool | None:
            value, text = getter(row), pattern_fn(row)
            if value is None or text is None:
                return None
            esc = escape.fn(row) if escape is not None else None
            regex = cache.get((text, esc))
            if regex is None:
                regex = cache[(text, esc)] = _like_regex(text, esc)
            return (regex.fullmatch(value) is not None) != negated
        return Typed(fn, ("condition",), max(operand.depends, pattern.depends))


class ParameterMissing(Exception):
    """A named parameter of the query is not in the parameters (omero.ApiUsageException)."""
