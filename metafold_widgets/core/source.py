"""Parse YAML or JSON text into plain data plus the line of every value.

Line numbers make template errors actionable ("template.yaml:14: field 'x': ...").
YAML is composed once with libyaml when available; the node tree gives both the
values and their lines, and reveals duplicate keys, which PyYAML would silently drop.
JSON is parsed by :mod:`json` (the authority on JSON syntax) and located through the
same YAML composer, which reads JSON's flow style.
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

MAX_SOURCE_CHARS = 5_000_000
MAX_NODES = 200_000

Path_ = tuple[Any, ...]


@dataclass
class Located:
    """Parsed data and the 1-based line of each value, keyed by its path of keys/indexes."""

    data: Any
    source: str
    lines: dict[Path_, int] = field(default_factory=dict)
    problems: list[TemplateProblem] = field(default_factory=list)

    def line_of(self, path: Path_) -> int | None:
        """Line of the value at ``path``, or of its closest located ancestor."""
        path = tuple(path)
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
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
    if looks_like_json(text):
        return _parse_json(text, source)
    return _parse_yaml(text, source)


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
    except yaml.YAMLError as exc:
        return Located(None, source, problems=[TemplateProblem(f"invalid YAML: {exc}", source)])
    except RecursionError:
        return Located(None, source, problems=[TemplateProblem("YAML is nested too deeply", source)])
    if node is None:
        return Located(None, source)
    located = Located(None, source)
    if not _walk(node, (), located, set()):
        return located
    try:
        located.data = SafeConstructor().construct_document(node)
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
    """Record lines and duplicate keys; False when the document is too large to trust."""
    stack = [(node, path)]
    count = 0
    while stack:
        node, path = stack.pop()
        located.lines.setdefault(path, node.start_mark.line + 1)
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
                stack.append((value_node, path + (key,)))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                stack.append((item, path + (index,)))
    return True
