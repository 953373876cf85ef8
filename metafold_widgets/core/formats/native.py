"""Write a Template back in metafold-widgets' own YAML format (what `templates import` prints)."""
from __future__ import annotations

from typing import Any

import yaml

from ..conditions import AllOf, AnyOf, Compare, Condition, Not
from ..fields import Field, Group, readable_label
from ..folders import FolderTree
from ..template import CONVENTIONAL_ROLES, Template, default_documentation_folders

_FIELD_DEFAULTS = Field(key="", type="text", label="")


def to_native(template: Template) -> dict[str, Any]:
    """The template as plain data in our own format; loading it gives an equal Template."""
    data: dict[str, Any] = {"id": template.id, "name": template.name, "version": template.version,
                            "type": template.type}
    if template.description:
        data["description"] = template.description
    if template.author:
        data["author"] = template.author
    data["folders"] = _folder_list(template.folders)
    if template.folders.files:
        data["files"] = list(template.folders.files)
    data["fields"] = {item.key: _item(item) for item in template.items}
    integrations = _custom_roles(template)
    if integrations:
        data["integrations"] = integrations
    if template.body:
        data["body"] = [{key: value for key, value in (("title", s.title), ("text", s.text),
                                                       ("placeholder", s.placeholder)) if value}
                        for s in template.body]
    if template.documentation_folders != default_documentation_folders(template.folders.folders):
        data["documentation"] = list(template.documentation_folders)
    data["project_name"] = template.project_name
    data["log_folder"] = template.log_folder
    return data


def to_native_yaml(template: Template) -> str:
    """The template as YAML text in our own format."""
    return yaml.safe_dump(to_native(template), sort_keys=False, allow_unicode=True, width=100)


def _item(item: Field | Group) -> dict[str, Any]:
    if isinstance(item, Group):
        spec: dict[str, Any] = {"type": "group"}
        if item.label != readable_label(item.key):
            spec["label"] = item.label
        if item.help_text:
            spec["help_text"] = item.help_text
        if item.condition is not None:
            spec["condition"] = condition_spec(item.condition)
        spec["fields"] = {child.key: _item(child) for child in item.children}
        return spec
    spec = {"type": item.type}
    if item.label != readable_label(item.key):
        spec["label"] = item.label
    simple = ("required", "default", "help_text", "placeholder", "unit", "pattern", "min_length",
              "max_length", "step", "precision", "options_source", "min_selections", "max_selections",
              "validation_message", "readonly")
    for name in simple:
        value = getattr(item, name)
        if value != getattr(_FIELD_DEFAULTS, name):
            spec[name] = value
    if item.units:
        spec["units"] = list(item.units)
    if item.minimum is not None:
        spec["min"] = item.minimum
    if item.maximum is not None:
        spec["max"] = item.maximum
    if item.options:
        spec["options"] = [o.value if o.value == o.label else {"value": o.value, "label": o.label}
                           for o in item.options]
    if item.condition is not None:
        spec["condition"] = condition_spec(item.condition)
    return spec


def _folder_list(tree: FolderTree) -> list[str]:
    """The leaf folders when reloading them gives the same folders in the same order, else all."""
    leaves = tree.leaf_folders()
    rebuilt: dict[str, None] = {}
    # Loading reads the files first (their parents become folders), then each folder after its parents.
    for path, is_file in (*((f, True) for f in tree.files), *((f, False) for f in leaves)):
        parts = path.split("/")
        for depth in range(1, len(parts) if is_file else len(parts) + 1):
            rebuilt.setdefault("/".join(parts[:depth]))
    return leaves if tuple(rebuilt) == tree.folders else list(tree.folders)


def condition_spec(condition: Condition) -> Any:
    """A condition in its template spelling."""
    if isinstance(condition, Compare):
        return {"field": condition.field, condition.operator: condition.value}
    if isinstance(condition, Not):
        return {"not": condition_spec(condition.part)}
    key = "all" if isinstance(condition, AllOf) else "any"
    assert isinstance(condition, (AllOf, AnyOf))
    return {key: [condition_spec(part) for part in condition.parts]}


def _custom_roles(template: Template) -> dict[str, Any]:
    """Integration roles that differ from what the field-key conventions would give."""
    keys = {f.key for f in template.fields}
    custom: dict[str, Any] = {}
    for system, conventional in CONVENTIONAL_ROLES.items():
        expected = {role: key for role, key in conventional.items() if key in keys}
        actual = dict(template.integrations.get(system, {}))
        if system not in template.integrations and template.type == "experiment":
            custom[system] = False
        elif actual != expected or template.fixed_roles.get(system):
            fixed = {role: {"value": value} for role, value in template.fixed_roles.get(system, {}).items()}
            custom[system] = {**actual, **fixed}
    return custom
