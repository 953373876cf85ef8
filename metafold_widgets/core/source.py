"""Parse YAML or JSON text into plain data plus the line of every value.

Line numbers make template errors actionable ("template.yaml:14: field 'x': ...").
YAML is composed once with libyaml when available; the node tree gives both the
values and their lines, and reveals duplicate keys, which PyYAML would silently drop.
JSON is parsed by :mod:`json` (the authority on JSON syntax) and located through the
same YAML composer, which reads JSON's flow style.
Hostile documents are refused before anything walks them: YAML aliases that refer to
themselves or expand into too many values ("billion laughs"), and nesting too deep.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from ..errors import TemplateProblem

try:  # libyaml is an order of magnitude faster on large templates
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """YAML 1.1 minus its surprises: ``10:30`` is not 630, ``0123`` not 83, ``no`` not False.

    Plain scalars are typed as in YAML 1.2's core schema (true/false, decimal integers,
    floats, null) plus dates; everything else stays text, so identifiers keep their
    leading zeros and times stay times.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (
        "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"),
                              list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(
    r"^(?:[-+]?(?:[0-9][0-9]*)?\.[0-9]+(?:[eE][-+]?[0-9]+)?|[-+]?[0-9]+(?:\.[0-9]*)?[eE][-+]?[0-9]+"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"), list("-+0123456789."))


class _Constructor(SafeConstructor):
    """SafeConstructor whose value errors (``2024-13-45``, a 5,000-digit number) carry a line."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (TypeError, ValueError) as exc:
            raise yaml.constructor.ConstructorError(None, None, str(exc), node.start_mark) from None


MAX_SOURCE_CHARS = 5_000_000
MAX_NODES = 200_000  # values in a document, counting every repetition through aliases
MAX_DEPTH = 100  # nesting levels; templates need fewer than 10, deep recursion would crash
# Lone surrogates (from broken \ud800 escapes or surrogateescape decoding) fit in no file.
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_MESSAGE = "text contains a lone UTF-16 surrogate (a broken \\uD800-\\uDFFF character)"

Path_ = tuple[Any, ...]


@dataclass
class Located:
    """Parsed data and the 1-based line of each value, keyed by its path of keys/indexes."""

    data: Any
    source: str
    lines: dict[Path_, int] = field(default_factory=dict)
    problems: list[TemplateProblem] = field(default_factory=list)

    def line_of(self, path: Path_) -> int | None:
        """Line of the value at ``path``, or of its closest located ancestor.

        A key YAML read as a number or a date (``2025:``) is also found by its text.
        """
        path = tuple(path)
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            if not isinstance(path[-1], str) and path[:-1] + (str(path[-1]),) in self.lines:
                return self.lines[path[:-1] + (str(path[-1]),)]
            path = path[:-1]

    def problem(self, path: Path_, message: str, field_key: str | None = None) -> TemplateProblem:
        """A problem located at ``path``."""
        return TemplateProblem(message, self.source, self.line_of(path), field_key)


def looks_like_json(text: str) -> bool:
    """True when the text starts like a JSON document (object or array)."""
    return text.lstrip("\ufeff \t\r\n")[:1] in ("{", "[")


def parse_text(text: str, source: str = "<text>") -> Located:
    """Parse YAML or JSON text; syntax problems are returned, never raised."""
    if len(text) > MAX_SOURCE_CHARS:
        return Located(None, source, problems=[TemplateProblem(
            f"file is too large ({len(text):,} characters; the limit is {MAX_SOURCE_CHARS:,})", source)])
    text = text.lstrip("\ufeff")
    surrogate = _SURROGATE.search(text)
    if surrogate:  # only text decoded with errors="surrogateescape" or from broken escapes has them
        return Located(None, source, problems=[TemplateProblem(
            _SURROGATE_MESSAGE, source, text.count("\n", 0, surrogate.start()) + 1)])
    located = _parse_json(text, source) if looks_like_json(text) else _parse_yaml(text, source)
    shape = _shape_problem(located.data)
    if shape is not None:  # never hand such data on: whatever walks it would hang or crash
        path, message = shape
        return Located(None, source, located.lines, [*located.problems, located.problem(path, message)])
    return located


def located_data(data: Any, source: str = "<data>") -> Located:
    """Data a caller parsed itself, held to the same limits as parsed text (no lines)."""
    shape = _shape_problem(data)
    if shape is None:
        return Located(data, source)
    return Located(None, source, problems=[TemplateProblem(f"{shape[1]} (at {_show_path(shape[0])})", source)])


def _show_path(path: Path_) -> str:
    return "/".join(str(part) for part in path[:8]) + ("/..." if len(path) > 8 else "") or "the top level"


def _parse_json(text: str, source: str) -> Located:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                duplicates.append(key)
            result[key] = value
        return result

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        return Located(None, source, problems=[TemplateProblem(
            f"invalid JSON: {exc.msg} (column {exc.colno})", source, exc.lineno)])
    except RecursionError:
        return Located(None, source, problems=[TemplateProblem("JSON is nested too deeply", source)])
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        return Located(None, source, problems=[TemplateProblem(f"invalid JSON value: {exc}", source)])
    # Tabs are legal JSON whitespace but not YAML indentation; swapping them for spaces
    # keeps every line and column, and only positions are read from the YAML pass.
    located = _locate(text.replace("\t", " "), source)
    result = Located(data, source, located.lines if located else {})
    if located:
        result.problems.extend(located.problems)
    else:
        result.problems.extend(TemplateProblem(f"duplicate key '{key}'", source) for key in duplicates)
    return result


def _parse_yaml(text: str, source: str) -> Located:
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        return Located(None, source, problems=[TemplateProblem(
            f"invalid YAML: {exc.problem or exc.context}", source, line)])
    except yaml.YAMLError as exc:  # a forbidden character: located by position, not by a mark
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        return Located(None, source, problems=[TemplateProblem(
            f"invalid YAML: {str(exc).splitlines()[0]}", source, line)])
    except RecursionError:
        return Located(None, source, problems=[TemplateProblem("YAML is nested too deeply", source)])
    if node is None:
        return Located(None, source)
    located = Located(None, source)
    if not _walk(node, (), located, set()):
        return located
    try:
        located.data = _Constructor().construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        located.problems.append(TemplateProblem(
            f"invalid YAML value: {getattr(exc, 'problem', exc)}", source, mark.line + 1 if mark else None))
    except (RecursionError, TypeError, ValueError) as exc:
        located.problems.append(TemplateProblem(f"invalid YAML value: {exc}", source))
    return located


def _locate(text: str, source: str) -> Located | None:
    try:
        node = yaml.compose(text, Loader=_Loader)
    except (yaml.YAMLError, RecursionError):
        return None
    located = Located(None, source)
    if node is not None:
        _walk(node, (), located, set())
    return located


def _walk(node: yaml.Node, path: Path_, located: Located, seen: set[int]) -> bool:
    """Record lines and duplicate keys; False when the document is too large to trust.

    A mapping's value is located on the line of its key, where a block value starts.
    """
    stack = [(node, path, node.start_mark.line + 1)]
    count = 0
    while stack:
        node, path, line = stack.pop()
        located.lines.setdefault(path, line)
        if id(node) in seen:  # an alias: its lines were recorded at the anchor
            continue
        seen.add(id(node))
        count += 1
        if count > MAX_NODES:
            located.problems.append(TemplateProblem(
                f"document has more than {MAX_NODES:,} values", located.source))
            return False
        if isinstance(node, yaml.MappingNode):
            keys: set[Any] = set()
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                if key is not None and key in keys:
                    located.problems.append(TemplateProblem(
                        f"duplicate key '{key}'", located.source, key_node.start_mark.line + 1))
                keys.add(key)
                stack.append((value_node, path + (key,), key_node.start_mark.line + 1))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                stack.append((item, path + (index,), item.start_mark.line + 1))
    return True


def _shape_problem(data: Any) -> tuple[Path_, str] | None:
    """Where and why ``data`` is unsafe to use, or None.

    Aliases let a small YAML file hold a huge structure (each repetition is shared, not
    copied) or one that contains itself; both are measured here without expanding them.
    Lone surrogates are refused too: they cannot be written to any file.
    """
    if isinstance(data, str) and _SURROGATE.search(data):
        return (), _SURROGATE_MESSAGE
    done: dict[int, tuple[int, int]] = {}  # id of a finished list/dict -> (values, levels)
    open_: set[int] = set()  # ids of the lists/dicts enclosing the current one
    stack: list[tuple[Any, Path_, bool]] = [(data, (), False)]
    while stack:
        value, path, finished = stack.pop()
        if not isinstance(value, (dict, list)):
            continue
        key = id(value)
        items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        if finished:
            open_.discard(key)
            sizes = [done.get(id(child), (1, 0)) for _, child in items]
            values = 1 + sum(size for size, _ in sizes) + (len(items) if isinstance(value, dict) else 0)
            if values > MAX_NODES:
                return path, f"document has more than {MAX_NODES:,} values once its YAML aliases are expanded"
            done[key] = (values, 1 + max((levels for _, levels in sizes), default=0))
        elif key in open_:
            return path, "a value contains itself (through a YAML alias), so it never ends"
        elif key in done:
            if len(path) + done[key][1] > MAX_DEPTH:
                return path, f"document is nested more than {MAX_DEPTH} levels deep"
        elif len(path) >= MAX_DEPTH:
            return path, f"document is nested more than {MAX_DEPTH} levels deep"
        else:
            for index, child in items:
                for text in (index, child):
                    if isinstance(text, str) and _SURROGATE.search(text):
                        return path + (index,), _SURROGATE_MESSAGE
            open_.add(key)
            stack.append((value, path, True))
            stack.extend((child, path + (index,), False) for index, child in reversed(items))
    return None
