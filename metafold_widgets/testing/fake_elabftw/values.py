"""Values as the elabFTW server stores them: PHP string casts, MySQL JSON, ``metadatamerge``."""
from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any, Mapping

from .releases import Release
from .wire import ApiError

CAN_TEAM = '{"base": 30, "teams": [], "users": [], "teamgroups": []}'
CAN_USER = '{"base": 20, "teams": [], "users": [], "teamgroups": []}'
# From 5.4.0 the base is a column of its own (canread_base, canwrite_base) and the JSON keeps the
# lists only: src/sql/schema197.sql@5.4.0 moves it out; AbstractEntity::EMPTY_CAN_JSON@5.6.12.
CAN_LISTS = '{"teams": [], "users": [], "teamgroups": []}'
BASE_PERMISSIONS = (10, 20, 30, 40, 50)  # src/Enums/BasePermissions.php@5.2.8..6.0.0-alpha4

# normalizeCheckboxValue: src/Models/AbstractEntity.php@5.6.0..5.6.12 (the short list);
# src/Elabftw/MetadataHelpers.php@6.0.0-alpha4 accepts many more words (a subset here).
_TRUTHY_5_6 = frozenset({"1", "true", "yes", "y", "x", "on", "checked", "oui"})
_TRUTHY_6_0 = _TRUTHY_5_6 | {"yeah", "yep", "yup", "sure", "okay", "ok", "aye", "ja", "si", "sí", "sim", "da",
                             "tak", "ano", "igen", "evet", "hai", "+", "✓", "✔"}
_MULTI_TYPES = ("select", "select-multi")


def now() -> str:
    """A MySQL DATETIME of the current time."""
    return datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def _mysql_order(value: Any) -> Any:
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return {k: _mysql_order(value[k]) for k in keys}
    if isinstance(value, list):
        return [_mysql_order(v) for v in value]
    return value


def mysql_json(value: Any) -> str:
    """JSON text as a MySQL JSON column returns it: object keys sorted, shorter keys first."""
    return json.dumps(_mysql_order(value), ensure_ascii=False)


def php_string(value: Any) -> str:
    """PHP's ``(string) $value``: true is "1", false and null are "", an array is "Array"."""
    if isinstance(value, (dict, list)):
        return "Array"
    if value is True:
        return "1"
    if value is False or value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def patch_string(key: str, value: Any) -> str:
    """A PATCH value as ``ContentParams`` reads it; an array is refused with a clear error
    (the server would store the word "Array")."""
    if isinstance(value, (dict, list)):
        raise ApiError(400, f"Invalid value for {key}: the server casts every PATCH value to a "
                            "string, so arrays and objects are not accepted.")
    return php_string(value)


def positive_int_or_none(key: str, value: Any) -> int | None:
    """``getPositiveIntOrNull`` (src/Params/ContentParams.php): blank and 0 mean none."""
    text = patch_string(key, value).strip()
    if text in ("", "0"):
        return None
    if not text.isdigit():
        raise ApiError(400, f"Invalid value for {key}: {value!r} is not a positive integer.")
    return int(text)


def permissions_json(key: str, value: Any, release: Release | None = None) -> str:
    """``getCanJson`` (Check::visibility): before 5.4 a JSON string with a known ``base`` and the
    three lists (src/Services/Check.php@5.2.8); from 5.4 the lists only, a ``base`` is not read
    (src/Services/Check.php@5.6.12, the base has its own column)."""
    text = value if isinstance(value, str) else None
    try:
        decoded = json.loads(text) if text is not None else None
    except ValueError:
        decoded = None
    lists_only = release is not None and release.base_columns
    if (not isinstance(decoded, dict) or (not lists_only and decoded.get("base") not in BASE_PERMISSIONS)
            or not all(isinstance(decoded.get(k), list) for k in ("teams", "teamgroups", "users"))):
        example = CAN_LISTS if lists_only else CAN_TEAM
        raise ApiError(400, f"Invalid value for {key}: expected a JSON string such as {example}.")
    return text  # type: ignore[return-value]


def base_permission(key: str, value: Any) -> int:
    """``getCanBase`` (Check::basePermission, src/Services/Check.php@5.4.0): one of 10..50."""
    text = php_string(value)
    if not text.lstrip("-").isdigit() or int(text) not in BASE_PERMISSIONS:
        raise ApiError(400, f"Invalid value for {key}: The base visibility parameter is not valid.")
    return int(text)


def base_of(text: str | None, default: int) -> int:
    """The ``base`` of a canread/canwrite JSON, else ``default`` (getCanBaseFromJson,
    src/Models/AbstractEntity.php@5.6.12)."""
    try:
        decoded = json.loads(text) if text else None
    except ValueError:
        return default
    base = decoded.get("base") if isinstance(decoded, dict) else None
    return base if base in BASE_PERMISSIONS else default


def permissions_view(text: str, base: int, release: Release) -> str:
    """canread/canwrite as the API returns them: the lists with ``base`` before 5.4
    (BasePermissions::toJson, src/Enums/BasePermissions.php@5.2.8), the lists alone from 5.4."""
    decoded = json.loads(text)
    if release.base_columns:
        return mysql_json(decoded)
    return mysql_json({**{k: v for k, v in decoded.items() if k != "base"}, "base": base})


def content_type(value: Any) -> int:
    """1 (HTML) or 2 (Markdown)."""
    text = php_string(value)
    if text not in ("1", "2"):
        raise ApiError(400, f"Invalid value for content_type: {value!r} (1: HTML, 2: Markdown).")
    return int(text)


def decode_metadata_string(key: str, value: Any) -> Any:
    """``metadata`` in a PATCH: a JSON string (``getUnfilteredContent``); MySQL refuses bad JSON."""
    if not isinstance(value, str):
        raise ApiError(400, f"Invalid value for {key}: send it JSON-encoded as a string (the server casts "
                            f"every PATCH value to a string), not as {type(value).__name__}.")
    try:
        return json.loads(value)
    except ValueError:
        raise ApiError(400, "Invalid metadata JSON provided.") from None


def merge_metadata(release: Release, current: Any, incoming: Any) -> dict[str, Any]:
    """``metadatamerge`` as ``mergeMetadataValues`` does it: only ``extra_fields`` of the incoming
    metadata are read (every other key, ``elabftw`` groups included, is dropped); an existing field
    keeps its schema and only its value changes; a new field is added with its incoming schema.

    5.6.0-5.6.12: src/Models/AbstractEntity.php mergeMetadataValues/normalizeMetadataValue
    (``trim((string) $value)``: a list becomes "Array"; 5.6.12 first appends select/radio values to
    ``options``). 6.0.0-alpha4: src/Elabftw/MetadataHelpers.php (lists kept for multi-value fields,
    a changed ``type``/``unit`` or a value outside a select's options refused).
    """
    base: dict[str, Any] = copy.deepcopy(current) if isinstance(current, dict) else {}
    if not isinstance(incoming, dict):
        if release.merge_mode == "typed":
            raise ApiError(400, "Invalid metadata JSON provided.")
        incoming = {}
    fields = base.get("extra_fields")
    base["extra_fields"] = fields = fields if isinstance(fields, dict) else {}
    for name, spec in (incoming.get("extra_fields") or {}).items():
        if not isinstance(spec, dict):
            if release.merge_mode == "typed":
                raise ApiError(400, f"Invalid metadata field {name}.")
            spec = {}
        value = spec.get("value", "")
        target = fields.get(name)
        if isinstance(target, dict):
            if release.merge_mode == "typed":
                _guard_schema(name, target, spec)
            elif release.merge_appends_options:
                _append_options(target, value)
            target["value"] = _normalized(release, name, target, value)
        else:
            field = copy.deepcopy(spec)
            field["value"] = _normalized(release, name, field, value)
            fields[name] = field
    return base


def _append_options(field: dict[str, Any], value: Any) -> None:
    """5.6.12 mergeMetadataValues: imported values become options of select/radio fields."""
    kind = field.get("type", "")
    if kind == "select-multi":
        values = value if isinstance(value, list) else [v.strip() for v in php_string(value).split(",")]
    elif kind in ("select", "select-one", "radio"):
        values = [value]
    else:
        return
    options = field.setdefault("options", [])
    for option in values:
        if option != "" and option not in options:
            options.append(copy.deepcopy(option))


def _guard_schema(name: str, base: Mapping[str, Any], incoming: Mapping[str, Any]) -> None:
    """guardMetadataSchemaCompatibility (src/Elabftw/MetadataHelpers.php@6.0.0-alpha4)."""
    for key in ("type", "unit"):
        if key in incoming and (key not in base or incoming[key] != base[key]):
            raise ApiError(400, f"Metadata field {name} has incompatible {key}.")


def _normalized(release: Release, name: str, field: Mapping[str, Any], value: Any) -> Any:
    kind = str(field.get("type", "text"))
    if release.merge_mode != "typed":
        return _scalar(release, kind, value)
    multi = field.get("allow_multi_values") is True or kind == "select-multi"
    _guard_value(name, field, value, multi)
    if not multi:
        return _scalar(release, kind, value)
    if isinstance(value, list):
        values = value
    elif kind in _MULTI_TYPES:
        values = [v.strip() for v in php_string(value).split(",")]
    else:
        values = [value]
    return [_scalar(release, kind, item) for item in values]


def _scalar(release: Release, kind: str, value: Any) -> str:
    text = php_string(value).strip()
    if kind == "checkbox":
        truthy = _TRUTHY_6_0 if release.merge_mode == "typed" else _TRUTHY_5_6
        return "on" if text and text.lower() in truthy else ""
    if kind == "number":
        return text.replace(",", ".")
    return text


def _guard_value(name: str, field: Mapping[str, Any], value: Any, multi: bool) -> None:
    """guardMetadataValueCompatibility (src/Elabftw/MetadataHelpers.php@6.0.0-alpha4)."""
    kind = str(field.get("type", "text"))
    if isinstance(value, list):
        if not multi:
            raise ApiError(400, f"Metadata field {name} expects a single value.")
        values = value
    elif value in ("", None):
        return
    elif multi and kind in _MULTI_TYPES:
        values = [v.strip() for v in php_string(value).split(",")]
    else:
        values = [value]
    if any(item is not None and isinstance(item, (dict, list)) for item in values):
        raise ApiError(400, f"Metadata field {name} contains an invalid value.")
    if kind == "number":
        for item in values:
            text = php_string(item).strip().replace(",", ".")
            if item not in ("", None) and not _is_numeric(text):
                raise ApiError(400, f"Metadata field {name} expects a number.")
        return
    if kind not in ("select", "select-one", "select-multi", "radio"):
        return
    options = field.get("options", [])
    if not isinstance(options, list):
        raise ApiError(400, f"Metadata field {name} has invalid options.")
    known = {php_string(o) for o in options}
    if any(item not in ("", None) and php_string(item) not in known for item in values):
        raise ApiError(400, f"Metadata field {name} contains an invalid option.")


def _is_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and text != ""
