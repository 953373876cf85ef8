"""Import templates exported by the desktop MetaFold app (Electron).

Its native JSON keeps the folder tree as an indented text block (``structure``), the
fields in ``metadata.fields`` keyed by name, their order in ``metadata.fieldOrder``,
and marks sections with fields of type ``group``: every field after a group marker
belongs to that group until the next marker. The old app flattened those groups
away; here they become real groups.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from ..fields import field_key_from_name
from ..source import Located

_TYPE_MAP = {"select": "dropdown", "multiselect": "multi_select", "datetime-local": "datetime"}
_COPIED = ("label", "required", "options", "min", "max", "step", "unit", "placeholder", "pattern",
           "min_length", "max_length")


def is_desktop_template(data: Any) -> bool:
    """True for the desktop app's native template JSON."""
    return isinstance(data, Mapping) and "structure" in data and isinstance(data.get("metadata"), Mapping) \
        and "fields" in data["metadata"]


def from_desktop(located: Located) -> Located:
    """The same template in metafold-widgets' own format, lines mapped back to the source."""
    data = located.data
    metadata = data["metadata"]
    raw_fields = metadata.get("fields") or {}
    if not isinstance(raw_fields, Mapping):
        located.problems.append(located.problem(("metadata", "fields"), "'metadata.fields' must be a mapping"))
        raw_fields = {}
    order = [name for name in (metadata.get("fieldOrder") or []) if name in raw_fields]
    order += sorted((n for n in raw_fields if n not in order),
                    key=lambda n: _position(raw_fields[n]))
    lines: dict[tuple, int] = {}
    items: dict[str, Any] = {}
    current_group: dict[str, Any] | None = None
    used: set[str] = set()
    for name in order:
        spec = raw_fields[name]
        key = field_key_from_name(name, used)
        source_line = located.line_of(("metadata", "fields", name))
        if not isinstance(spec, Mapping):
            items[key] = spec
            lines[("fields", key)] = source_line or 0
            continue
        if spec.get("type") == "group":
            current_group = {"type": "group", "label": spec.get("label") or name, "fields": {}}
            items[key] = current_group
            lines[("fields", key)] = source_line or 0
            continue
        converted = _convert_field(spec)
        if current_group is not None:
            current_group["fields"][key] = converted
            group_key = next(k for k, v in items.items() if v is current_group)
            lines[("fields", group_key, "fields", key)] = source_line or 0
        else:
            items[key] = converted
            lines[("fields", key)] = source_line or 0
    native = {
        "id": re.sub(r"[^a-z0-9]+", "-", str(data.get("name", "desktop-template")).lower()).strip("-"),
        "name": data.get("name"),
        "version": str(data.get("version") or "1.0.0"),
        "type": data.get("type") or "experiment",
        "description": data.get("description") or "",
        "author": data.get("createdBy") or "",
        "folders": data.get("structure") or [],
        "fields": items,
    }
    lines[("folders",)] = located.line_of(("structure",)) or 0
    return Located(native, located.source, {k: v for k, v in lines.items() if v}, list(located.problems))


def _convert_field(spec: Mapping[str, Any]) -> dict[str, Any]:
    kind = str(spec.get("type", "text"))
    converted: dict[str, Any] = {"type": _TYPE_MAP.get(kind, kind)}
    for attribute in _COPIED:
        if spec.get(attribute) not in (None, ""):
            converted[attribute] = spec[attribute]
    if spec.get("description"):
        converted["help_text"] = spec["description"]
    value = spec.get("value")
    if value not in (None, "", []) and not (kind == "checkbox" and value is False):
        converted["default"] = value
    return converted


def _position(spec: Any) -> float:
    position = spec.get("position") if isinstance(spec, Mapping) else None
    return position if isinstance(position, (int, float)) and not isinstance(position, bool) else float("inf")

