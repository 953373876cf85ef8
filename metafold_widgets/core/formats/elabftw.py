"""Convert between templates and elabFTW's ``metadata`` JSON (custom fields).

elabFTW keys each custom field by its display name, orders fields by ``position``
and puts them in groups listed in ``elabftw.extra_fields_groups``. Our field keys
travel beside ``extra_fields`` under ``metafold`` (elabFTW keeps unknown keys), with the
named ``options_source`` of fields whose options come from a server, so a round trip
restores them; without it, keys are derived from the names.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..fields import LINK_TYPES, MULTI_CHOICE_TYPES, NUMBER_TYPES, TEMPORAL_TYPES, Field, Group, field_key_from_name
from ..source import Located
from ..template import Template
from ..values import ValueProblem, coerce

PROVENANCE_KEY = "metafold"
ELABFTW_TYPES = ("checkbox", "compounds", "date", "datetime-local", "email", "experiments", "items",
                 "number", "radio", "select", "text", "time", "uploads", "users", "url")
_TO_ELABFTW = {"textarea": "text", "integer": "number", "decimal": "number", "dropdown": "select",
               "multi_select": "select", "checkbox_group": "select", "datetime": "datetime-local"}
_FROM_ELABFTW = {"select": "dropdown", "datetime-local": "datetime"}


def is_elabftw_metadata(data: Any) -> bool:
    """True for an elabFTW ``metadata`` document."""
    return isinstance(data, Mapping) and isinstance(data.get("extra_fields"), Mapping)


def elabftw_type(field: Field) -> str:
    """The elabFTW custom-field type that holds this field's answers."""
    return _TO_ELABFTW.get(field.type, field.type)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def from_elabftw(located: Located, name: str = "Imported elabFTW metadata") -> Located:
    """A template in our own format built from elabFTW metadata; lines map back to the source."""
    data = located.data
    extra = data["extra_fields"]
    provenance = _mapping(data.get(PROVENANCE_KEY))
    known_keys = _mapping(provenance.get("field_keys"))
    sources = _mapping(provenance.get("options_sources"))
    groups_spec = (data.get("elabftw") or {}).get("extra_fields_groups") or []
    group_names = {g.get("id"): str(g.get("name", "")) for g in groups_spec if isinstance(g, Mapping)}
    ordered = sorted(enumerate(extra.items()), key=lambda item: (_position(item[1][1]), item[0]))
    used: set[str] = set()
    items: dict[str, Any] = {}
    group_items: dict[Any, dict[str, Any]] = {}
    lines: dict[tuple, int] = {}
    for _, (label, spec) in ordered:
        known = known_keys.get(label)
        wanted = known if isinstance(known, str) else str(label).lower()
        key = field_key_from_name(wanted, used)
        line = located.line_of(("extra_fields", label)) or 0
        if not isinstance(spec, Mapping):
            items[key] = spec
            lines[("fields", key)] = line
            continue
        converted = _convert_field(str(label), spec)
        if label in sources:  # options come from a server at form time; exported ones are just the choice
            converted["options_source"] = sources[label]
            converted.pop("options", None)
        group_id = spec.get("group_id")
        if group_id is not None and group_id in group_names:
            if group_id not in group_items:
                group_key = field_key_from_name(group_names[group_id].lower() or "group", used)
                group_items[group_id] = {"type": "group", "label": group_names[group_id], "fields": {}}
                items[group_key] = group_items[group_id]
            group_items[group_id]["fields"][key] = converted
            group_key = next(k for k, v in items.items() if v is group_items[group_id])
            lines[("fields", group_key, "fields", key)] = line
        else:
            items[key] = converted
            lines[("fields", key)] = line
    for group_id, group_name in group_names.items():  # empty groups are kept too
        if group_id not in group_items:
            items[field_key_from_name(group_name.lower() or "group", used)] = {
                "type": "group", "label": group_name, "fields": {}}
    native = {"id": provenance.get("template_id") or "elabftw-metadata",
              "name": provenance.get("template_name") or name,
              "version": str(provenance.get("template_version") or "1.0.0"),
              "type": "experiment", "fields": items}
    return Located(native, located.source, {k: v for k, v in lines.items() if v}, list(located.problems))


def _convert_field(label: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    kind = str(spec.get("type", "text"))
    multi = kind == "select" and bool(spec.get("allow_multi_values"))
    converted: dict[str, Any] = {"type": "multi_select" if multi else _FROM_ELABFTW.get(kind, kind),
                                 "label": label}
    if spec.get("description"):
        converted["help_text"] = spec["description"]
    if spec.get("required"):
        converted["required"] = True
    if spec.get("readonly"):
        converted["readonly"] = True
    if "options" in spec:
        converted["options"] = spec["options"]
    if spec.get("units"):
        converted["units"] = spec["units"]
    if spec.get("unit"):
        converted["unit"] = spec["unit"]
    value = spec.get("value")
    if kind == "checkbox":
        if value == "on":
            converted["default"] = True
    elif value not in (None, "", []):
        converted["default"] = value
    return converted


def _position(spec: Any) -> float:
    position = spec.get("position") if isinstance(spec, Mapping) else None
    try:
        return float(position) if position is not None and not isinstance(position, bool) else float("inf")
    except (TypeError, ValueError):
        return float("inf")


def to_elabftw(template: Template, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """elabFTW ``metadata`` for the template, filled with ``values`` (defaults when None).

    With ``values``, only the keys present are exported: hidden fields are left out by
    the caller. Blank numbers stay blank (``""``), never 0.
    """
    extra: dict[str, Any] = {}
    groups: list[dict[str, Any]] = []
    group_ids: dict[str, int] = {}
    labels: dict[str, str] = {}
    sources: dict[str, str] = {}
    position = 0
    for group in template.groups:
        group_ids[group.key] = len(group_ids) + 1
        groups.append({"id": group_ids[group.key], "name": _group_name(template, group)})
    for field in template.fields:
        if values is not None and field.key not in values:
            continue
        position += 1
        label = _unique_label(field.label, labels)
        labels[label] = field.key
        value = values[field.key] if values is not None else _template_default(field)
        entry: dict[str, Any] = {"type": elabftw_type(field), "value": elabftw_value(field, value),
                                 "position": position}
        if field.group is not None:
            entry["group_id"] = group_ids[field.group]
        if field.help_text:
            entry["description"] = field.help_text
        if field.required:
            entry["required"] = True
        if field.readonly:
            entry["readonly"] = True
        if field.has_choices:
            # A select needs its options; those of an options_source are only known at form
            # time, so the chosen value stands in for them.
            chosen = entry["value"] if isinstance(entry["value"], list) else [entry["value"]]
            entry["options"] = field.option_values() or [v for v in chosen if v != ""]
        if field.options_source:
            sources[label] = field.options_source
        if field.is_multi:
            entry["allow_multi_values"] = True
        if field.type in NUMBER_TYPES and (field.units or field.unit):
            entry["units"] = list(field.units) or [field.unit]
            entry["unit"] = field.unit or field.units[0]
        extra[label] = entry
    metadata: dict[str, Any] = {"extra_fields": extra}
    if groups:
        metadata["elabftw"] = {"extra_fields_groups": groups}
    metadata[PROVENANCE_KEY] = {"template_id": template.id, "template_version": template.version,
                                "template_name": template.name, "field_keys": labels}
    if sources:
        metadata[PROVENANCE_KEY]["options_sources"] = sources
    return metadata


def elabftw_value(field: Field, value: Any) -> Any:
    """A canonical answer as elabFTW stores it: strings, ``"on"``/``""``, lists for multi-values."""
    if field.type == "checkbox":
        return "on" if value else ""
    if value is None:
        return [] if field.is_multi else ""
    if field.type in MULTI_CHOICE_TYPES:
        return [str(v) for v in value]
    if isinstance(value, float) and value.is_integer() and field.type in NUMBER_TYPES:
        return str(int(value)) if field.type == "integer" else str(value)
    if field.type in LINK_TYPES:
        return str(value)
    return str(value) if not isinstance(value, str) else value


def answer_from_elabftw(field: Field, value: Any) -> Any:
    """The canonical answer for a value as elabFTW stores it (the inverse of :func:`elabftw_value`).

    A value that no longer fits the field (edited by hand in elabFTW) is kept as text, so
    the check reports it instead of losing it.
    """
    if field.type == "checkbox":
        return value == "on" or value is True
    if value in ("", None, []):
        return None
    try:
        return coerce(field, value)
    except ValueProblem:
        return value


def _template_default(field: Field) -> Any:
    """The default as a value; ``today``/``now`` stay blank in a template's own metadata."""
    return None if field.type in TEMPORAL_TYPES and field.default in ("today", "now") else field.default


def _group_name(template: Template, group: Group) -> str:
    names = [group.label]
    parent = group.group
    while parent is not None:
        node = template.node(parent)
        names.insert(0, node.label)
        parent = node.group
    return " / ".join(names)


def _unique_label(label: str, taken: Mapping[str, str]) -> str:
    candidate, number = label, 2
    while candidate in taken:
        candidate, number = f"{label} ({number})", number + 1
    return candidate
