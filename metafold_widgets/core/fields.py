"""The metadata field model: field types, fields, options and groups."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Union

from .conditions import Condition

# Canonical field types, grouped by the kind of value they hold.
TEXT_TYPES = ("text", "textarea", "email", "url")
NUMBER_TYPES = ("number", "integer", "decimal")
TEMPORAL_TYPES = ("date", "time", "datetime")
CHOICE_TYPES = ("dropdown", "radio")
MULTI_CHOICE_TYPES = ("checkbox_group", "multi_select")
# elabFTW custom-field types whose value points at another record (an id or a name).
LINK_TYPES = ("items", "experiments", "users", "compounds", "uploads")
FIELD_TYPES = (*TEXT_TYPES, *NUMBER_TYPES, *TEMPORAL_TYPES, *CHOICE_TYPES, "checkbox",
               *MULTI_CHOICE_TYPES, *LINK_TYPES)
GROUP_TYPE = "group"

TYPE_ALIASES = {
    "string": "text", "str": "text", "long_text": "textarea", "int": "integer", "float": "decimal",
    "select": "dropdown", "choice": "dropdown", "bool": "checkbox", "boolean": "checkbox",
    "multiselect": "multi_select", "multi-select": "multi_select", "multi_choice": "multi_select",
    "checkboxes": "checkbox_group", "checkbox-group": "checkbox_group", "checkboxgroup": "checkbox_group",
    "datetime-local": "datetime", "date_time": "datetime", "section": "group",
}


@dataclass(frozen=True)
class Option:
    """One choice of a dropdown, radio or multi-select: the stored value and its label."""

    value: str
    label: str


@dataclass(frozen=True)
class Field:
    """One metadata field of a template.

    ``minimum``/``maximum`` are numbers for numeric types and ISO strings for dates and
    times (``today``/``now`` allowed); ``group`` is the key of the enclosing group.
    """

    key: str
    type: str
    label: str
    required: bool = False
    default: Any = None
    help_text: str = ""
    placeholder: str = ""
    unit: str = ""
    units: tuple[str, ...] = ()
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: Any = None
    maximum: Any = None
    step: float | None = None
    precision: int | None = None
    options: tuple[Option, ...] = ()
    options_source: str | None = None
    min_selections: int | None = None
    max_selections: int | None = None
    condition: Condition | None = None
    validation_message: str = ""
    readonly: bool = False
    group: str | None = None

    @property
    def is_multi(self) -> bool:
        """True when the answer is a list of choices."""
        return self.type in MULTI_CHOICE_TYPES

    @property
    def has_choices(self) -> bool:
        """True for dropdowns, radios and multi-selects."""
        return self.type in CHOICE_TYPES or self.type in MULTI_CHOICE_TYPES

    def option_values(self) -> list[str]:
        """The stored values of the fixed options, in order."""
        return [option.value for option in self.options]


@dataclass(frozen=True)
class Group:
    """A section of the form that contains fields (and possibly nested groups)."""

    key: str
    label: str
    help_text: str = ""
    condition: Condition | None = None
    children: tuple[Union["Field", "Group"], ...] = field(default_factory=tuple)
    group: str | None = None

    def fields(self) -> list[Field]:
        """Every field inside this group, nested groups included, in form order."""
        found: list[Field] = []
        for child in self.children:
            found.extend(child.fields() if isinstance(child, Group) else [child])
        return found


def readable_label(key: str) -> str:
    """A label for a field that has none: ``sample_prep_id`` -> ``Sample prep id``."""
    words = key.replace("_", " ").replace("-", " ").split()
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else key


def field_key_from_name(name: str, used: set[str]) -> str:
    """A valid, unused field key for a display name (``Laser power`` -> ``Laser_power``).

    ``used`` collects the keys handed out, so repeated names get ``_2``, ``_3``...
    """
    key = re.sub(r"[^\w-]+", "_", str(name).strip()).strip("_") or "field"
    if not re.match(r"^[^\W\d]", key):
        key = f"field_{key}"
    candidate, number = key, 2
    while candidate in used:
        candidate, number = f"{key}_{number}", number + 1
    used.add(candidate)
    return candidate
