"""The Template model and its construction from parsed template data.

:func:`build_template` checks everything a template can get wrong and reports every
problem at once (with file, line and field) instead of stopping at the first one.
"""
from __future__ import annotations

import re
import string
import time
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any, Iterator, Mapping

from ..errors import TemplateError, TemplateProblem
from .body import BodySection, parse_body
from .conditions import Compare, Condition, ConditionSyntaxError, map_compares, parse_condition, referenced_fields
from .fields import (
    FIELD_TYPES,
    GROUP_TYPE,
    LINK_TYPES,
    MULTI_CHOICE_TYPES,
    NUMBER_TYPES,
    TEMPORAL_TYPES,
    TEXT_TYPES,
    TYPE_ALIASES,
    Field,
    Group,
    Option,
    readable_label,
)
from .folders import FolderTree, parse_folder_tree
from .names import relative_path_problem
from .options_sources import known_options_sources
from .patterns import pattern_problem
from .source import Located
from .values import ValueProblem, coerce

TEMPLATE_TYPES = ("experiment", "folder")
TOP_LEVEL_KEYS = ("id", "name", "version", "type", "description", "author", "folders", "files", "fields",
                  "integrations", "project_name", "log_folder", "body", "documentation")
FIELD_ATTRIBUTES = ("key", "type", "label", "required", "default", "help_text", "description",
                    "placeholder", "unit", "units", "pattern", "min_length", "max_length", "min",
                    "max", "step", "precision", "options", "options_source", "min_selections",
                    "max_selections", "condition", "validation_message", "readonly", "fields")
INTEGRATION_ROLES = {
    "elabftw": ("enabled_by", "title", "category", "status", "tags"),
    "omero": ("enabled_by", "group", "project", "project_link", "dataset", "description"),
}
# Roles whose setting is a name pattern ('{field}' placeholders) rather than a field key.
PATTERN_ROLES = {"elabftw": ("title",), "omero": ("description",)}
# Roles a template may also fix to one value for every project: ``status: {value: Running}``.
FIXED_ROLES = {"elabftw": ("category", "status")}
# Field keys that drive an integration when a template does not say otherwise.
CONVENTIONAL_ROLES = {
    "elabftw": {"enabled_by": "enable_elabftw", "category": "elabftw_experiment_type",
                "status": "elabftw_status", "tags": "elabftw_tags"},
    "omero": {"enabled_by": "enable_omero", "group": "omero_group", "project": "omero_project",
              "project_link": "omero_project_link", "dataset": "omero_dataset"},
}
_KEY = re.compile(r"^[^\W\d][\w-]*$")
_NAME_KEYS = ("project_identifier", "project_id", "experiment_title", "title", "project_name", "name")
MAX_FIELDS = 5_000
# Folder names that hold the lab record when a template declares no ``documentation`` list: the
# documentation folders of the built-in templates (``*`` stands for a prefix such as ``acquisition``).
DOCUMENTATION_FOLDER_NAMES = ("protocols", "*_protocols", "batch_records", "daily_notes", "troubleshooting",
                              "final_reports", "calibration_data", "quality_control", "documentation", "docs",
                              "*_docs")
# Trying every pattern on hostile answers takes a sound template milliseconds; a template whose
# patterns each stay just under their own limit must not stall its loading for minutes either.
PATTERNS_SECONDS = 5.0


@dataclass(frozen=True)
class Template:
    """A loaded, checked template: identity, folder tree, form items and integration roles."""

    id: str
    name: str
    version: str
    type: str
    description: str
    folders: FolderTree
    items: tuple[Field | Group, ...]
    project_name: str
    log_folder: str
    integrations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    author: str = ""
    source: str = "<template>"
    evaluation_order: tuple[str, ...] = ()
    body: tuple[BodySection, ...] = ()
    fixed_roles: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    documentation_folders: tuple[str, ...] = ()

    @property
    def fields(self) -> list[Field]:
        """Every field in form order, flattened out of their groups."""
        return list(_iter_fields(self.items))

    @property
    def groups(self) -> list[Group]:
        """Every group in form order (nested groups after their parent)."""
        return list(_iter_groups(self.items))

    def field(self, key: str) -> Field:
        """The field called ``key``; KeyError when there is none."""
        for candidate in _iter_fields(self.items):
            if candidate.key == key:
                return candidate
        raise KeyError(key)

    def node(self, key: str) -> Field | Group:
        """The field or group called ``key``."""
        candidates: tuple[Field | Group, ...] = (*_iter_groups(self.items), *_iter_fields(self.items))
        for candidate in candidates:
            if candidate.key == key:
                return candidate
        raise KeyError(key)

    def role(self, system: str, role: str) -> str | None:
        """The field (or title pattern) that plays ``role`` for ``system``, if any."""
        return self.integrations.get(system, {}).get(role)

    def fixed(self, system: str, role: str) -> str | None:
        """The value the template fixes for ``role`` of ``system`` (``status: {value: Running}``), if any."""
        return self.fixed_roles.get(system, {}).get(role)


def _iter_fields(items: tuple[Field | Group, ...]) -> Iterator[Field]:
    for item in items:
        if isinstance(item, Group):
            yield from _iter_fields(item.children)
        else:
            yield item


def _iter_groups(items: tuple[Field | Group, ...]) -> Iterator[Group]:
    for item in items:
        if isinstance(item, Group):
            yield item
            yield from _iter_groups(item.children)


def build_template(located: Located, default_id: str | None = None) -> Template:
    """Check parsed template data and build a Template; raises TemplateError listing every problem."""
    builder = _TemplateBuilder(located)
    template = builder.build(default_id)
    if builder.problems or template is None:
        raise TemplateError(builder.problems or [TemplateProblem("template is empty", located.source)])
    return template


class _TemplateBuilder:
    def __init__(self, located: Located):
        self.located = located
        self.problems: list[TemplateProblem] = list(located.problems)
        self.paths: dict[str, tuple] = {}  # key -> source path, for located messages
        self.pattern_seconds = PATTERNS_SECONDS  # left for trying patterns on hostile answers
        self.fixed_roles: dict[str, dict[str, str]] = {}  # system -> role -> value fixed by the template

    def report(self, path: tuple, message: str, key: str | None = None) -> None:
        self.problems.append(self.located.problem(path, message, key))

    def build(self, default_id: str | None) -> Template | None:
        data = self.located.data
        if self.problems and data is None:
            return None
        if not isinstance(data, Mapping):
            self.report((), "a template must be a mapping with at least 'name' or 'id'"
                        if data is not None else "template is empty")
            return None
        for key in data:
            if key not in TOP_LEVEL_KEYS:
                self.report((key,), f"unknown template key '{key}' (known keys: {', '.join(TOP_LEVEL_KEYS)})")
        name = self._text(data, "name") or ""
        template_id = self._text(data, "id") or default_id or _slug(name)
        if not template_id:
            self.report((), "a template needs an 'id' or a 'name'")
        version = str(data.get("version", "1.0.0")).strip() or "1.0.0"
        kind = self._text(data, "type") or "experiment"
        if kind not in TEMPLATE_TYPES:
            self.report(("type",), f"template type must be one of {', '.join(TEMPLATE_TYPES)}, not '{kind}'")
        folders = parse_folder_tree(data.get("folders"), self.report, files=data.get("files"))
        items = self._items(data.get("fields"), ("fields",), None)
        fields = {f.key: f for f in _iter_fields(items)}
        nodes: dict[str, Field | Group] = {**{g.key: g for g in _iter_groups(items)}, **fields}
        items = self._resolve_conditions(items, fields)
        order = self._evaluation_order(nodes, items)
        integrations = self._integrations(data.get("integrations"), fields, kind)
        body = parse_body(data.get("body"), self.report,
                          lambda text, path: self._check_pattern(text, fields, path))
        project_name = self._project_name(data.get("project_name"), fields)
        log_folder = self._log_folder(data.get("log_folder"), folders)
        documentation = self._documentation(data.get("documentation"), folders)
        return Template(
            id=template_id, name=name or readable_label(template_id), version=version, type=kind,
            description=str(data.get("description") or "").strip(), folders=folders, items=items,
            project_name=project_name, log_folder=log_folder, integrations=integrations,
            author=str(data.get("author") or ""), source=self.located.source, evaluation_order=order,
            body=body, fixed_roles=self.fixed_roles, documentation_folders=documentation)

    def _text(self, data: Mapping, key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, (dict, list)):
            self.report((key,), f"'{key}' must be text")
            return None
        return str(value).strip()

    # --- fields -----------------------------------------------------------------------

    def _items(self, spec: Any, path: tuple, group: str | None) -> tuple[Field | Group, ...]:
        if spec is None:
            return ()
        entries: list[tuple[str, Any, tuple]] = []
        if isinstance(spec, Mapping):
            entries = [(key, value, path + (key,)) for key, value in spec.items()]
        elif isinstance(spec, list):
            for index, value in enumerate(spec):
                key = value.get("key") if isinstance(value, Mapping) else None
                if not isinstance(key, str):
                    self.report(path + (index,), "each field in a list needs a 'key'")
                    continue
                entries.append((key, value, path + (index,)))
        else:
            self.report(path, "'fields' must be a mapping of field keys to field definitions")
            return ()
        items: list[Field | Group] = []
        for key, value, item_path in entries:
            if len(self.paths) >= MAX_FIELDS:
                self.report(item_path, f"template has more than {MAX_FIELDS:,} fields")
                break
            item = self._item(key, value, item_path, group)
            if item is not None:
                items.append(item)
        return tuple(items)

    def _item(self, key: Any, spec: Any, path: tuple, group: str | None) -> Field | Group | None:
        if isinstance(key, str):
            key = unicodedata.normalize("NFC", key)  # macOS writes 'café' decomposed
        if not isinstance(key, str) or not _KEY.match(key):
            self.report(path, f"field key {key!r} must start with a letter and use only letters, "
                              "digits, '_' or '-'")
            return None
        if key in self.paths:
            first = self.located.line_of(self.paths[key])
            where = f" (first defined on line {first})" if first else ""
            self.report(path, f"duplicate field key{where}", key)
            return None
        self.paths[key] = path
        if not isinstance(spec, Mapping):
            self.report(path, "a field must be a mapping with at least a 'type'", key)
            return None
        for attribute in spec:
            if attribute not in FIELD_ATTRIBUTES:
                self.report(path + (attribute,), f"unknown attribute '{attribute}'", key)
        raw_type = spec.get("type")
        kind = TYPE_ALIASES.get(str(raw_type).strip().lower(), str(raw_type).strip().lower()) \
            if raw_type is not None else None
        if kind is None:
            self.report(path, "missing 'type'", key)
            return None
        label = str(spec.get("label") or readable_label(key))
        help_text = str(spec.get("help_text") or spec.get("description") or "").strip()
        condition = self._condition(spec.get("condition"), path + ("condition",), key)
        if kind == GROUP_TYPE:
            children = self._items(spec.get("fields"), path + ("fields",), key)
            return Group(key, label, help_text, condition, children, group)
        if kind not in FIELD_TYPES:
            known = ", ".join(FIELD_TYPES)
            self.report(path + ("type",), f"unknown type '{raw_type}' (known types: {known}, group)", key)
            return None
        if "fields" in spec:
            self.report(path + ("fields",), "only groups can contain fields", key)
        return self._field(key, kind, label, help_text, condition, spec, path, group)

    def _field(self, key: str, kind: str, label: str, help_text: str, condition: Condition | None,
               spec: Mapping, path: tuple, group: str | None) -> Field:
        def number(name: str, whole: bool = False, minimum: float | None = None) -> Any:
            value = spec.get(name)
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    (whole and isinstance(value, float) and not value.is_integer()):
                self.report(path + (name,), f"'{name}' must be a {'whole ' if whole else ''}number", key)
                return None
            if minimum is not None and value < minimum:
                self.report(path + (name,), f"'{name}' must be at least {minimum}", key)
                return None
            return int(value) if whole else value

        pattern = spec.get("pattern")
        units = spec.get("units") or ()
        if isinstance(units, (str, int, float)) and not isinstance(units, bool):
            units = (units,)
        if not isinstance(units, (list, tuple)) or not all(
                isinstance(u, (str, int, float)) and not isinstance(u, bool) for u in units):
            self.report(path + ("units",), "'units' must be a list of unit names", key)
            units = ()
        unit = spec.get("unit") or ""
        if not isinstance(unit, (str, int, float)) or isinstance(unit, bool):
            self.report(path + ("unit",), "'unit' must be a unit name", key)
            unit = ""
        unit = str(unit)
        options = self._options(spec.get("options"), path + ("options",), key)
        options_source = spec.get("options_source")
        if options_source is not None and str(options_source) not in known_options_sources():
            self.report(path + ("options_source",), f"unknown options_source '{options_source}' "
                        f"(known: {', '.join(sorted(known_options_sources()))})", key)
            options_source = None
        if kind in ("dropdown", "radio", *MULTI_CHOICE_TYPES) and not options and options_source is None \
                and spec.get("options") in (None, []) and "options_source" not in spec:
            self.report(path, f"a {kind} needs 'options' or an 'options_source'", key)
        if (options or options_source) and kind not in ("dropdown", "radio", *MULTI_CHOICE_TYPES):
            self.report(path + ("options",), f"a {kind} field cannot have options", key)
        bounds_are_numbers = kind in NUMBER_TYPES
        result = Field(
            key=key, type=kind, label=label, required=bool(spec.get("required", False)),
            help_text=help_text, placeholder=str(spec.get("placeholder") or ""),
            unit=unit or (str(units[0]) if units else ""), units=tuple(str(u) for u in units),
            pattern=str(pattern) if pattern is not None else None,
            min_length=number("min_length", whole=True, minimum=0),
            max_length=number("max_length", whole=True, minimum=0),
            minimum=number("min") if bounds_are_numbers else spec.get("min"),
            maximum=number("max") if bounds_are_numbers else spec.get("max"),
            step=number("step") if kind in NUMBER_TYPES else None,
            precision=number("precision", whole=True, minimum=0),
            options=options, options_source=str(options_source) if options_source else None,
            min_selections=number("min_selections", whole=True, minimum=0),
            max_selections=number("max_selections", whole=True, minimum=0),
            condition=condition, validation_message=str(spec.get("validation_message") or ""),
            readonly=bool(spec.get("readonly", False)), group=group)
        if result.pattern is not None:
            result = self._field_pattern(result, result.pattern, path)
        if result.step is not None and result.step <= 0:
            self.report(path + ("step",), "'step' must be greater than 0", key)
            result = replace(result, step=None)
        result = self._check_bounds(result, path, spec)
        if spec.get("default") is not None:
            try:
                dynamic = _is_dynamic(kind, spec["default"])
                default = str(spec["default"]).strip().lower() if dynamic else coerce(result, spec["default"])
                result = replace(result, default=default)
            except ValueProblem as exc:
                self.report(path + ("default",), f"default {exc}", key)
        return result

    def _field_pattern(self, result: Field, pattern: str, path: tuple) -> Field:
        """The field, without its pattern when the pattern is invalid or too slow (reported)."""
        if self.pattern_seconds <= 0:
            problem: str | None = ("pattern takes too long to check an answer: the template's patterns "
                                   f"together need more than {PATTERNS_SECONDS:g} s")
        else:
            started = time.monotonic()
            problem = pattern_problem(pattern, result.max_length)
            self.pattern_seconds -= time.monotonic() - started
        if problem is None:
            return result
        self.report(path + ("pattern",), problem, result.key)
        return replace(result, pattern=None)

    def _check_bounds(self, result: Field, path: tuple, spec: Mapping) -> Field:
        """Report impossible bounds; returns the field with date/time bounds in canonical form."""
        key = result.key
        pairs = (("min_length", "max_length"), ("min_selections", "max_selections"))
        for low_name, high_name in pairs:
            low, high = getattr(result, low_name), getattr(result, high_name)
            if low is not None and high is not None and low > high:
                self.report(path + (low_name,), f"'{low_name}' is greater than '{high_name}'", key)
        if result.type in TEMPORAL_TYPES:
            bounds: dict[str, Any] = {}
            for name in ("min", "max"):
                raw = spec.get(name)
                if raw is None or _is_dynamic(result.type, raw):
                    bounds[name] = None if raw is None else str(raw).strip().lower()
                    continue
                try:
                    bounds[name] = coerce(result, raw)  # YAML dates and "18:00:00" become ISO text
                except ValueProblem as exc:
                    self.report(path + (name,), f"'{name}' {exc}", key)
                    bounds[name] = None
            result = replace(result, minimum=bounds["min"], maximum=bounds["max"])
            fixed = [b for b in (result.minimum, result.maximum) if b is not None and b not in ("today", "now")]
            if len(fixed) == 2 and fixed[0] > fixed[1]:  # canonical ISO text sorts in time order
                self.report(path + ("min",), "'min' is later than 'max'", key)
        elif result.type not in NUMBER_TYPES:
            for name in ("min", "max", "step"):
                if spec.get(name) is not None:
                    self.report(path + (name,), f"a {result.type} field cannot have '{name}'", key)
        if isinstance(result.minimum, (int, float)) and isinstance(result.maximum, (int, float)) \
                and result.minimum > result.maximum:
            self.report(path + ("min",), "'min' is greater than 'max'", key)
        if result.type not in TEXT_TYPES + LINK_TYPES and (result.pattern or result.min_length is not None
                                                            or result.max_length is not None):
            self.report(path, f"a {result.type} field cannot have a pattern or length limits", key)
        return result

    def _options(self, spec: Any, path: tuple, key: str) -> tuple[Option, ...]:
        if spec is None:
            return ()
        if not isinstance(spec, list):
            self.report(path, "'options' must be a list", key)
            return ()
        options: list[Option] = []
        seen: set[str] = set()
        for index, raw in enumerate(spec):
            if isinstance(raw, Mapping) and "value" in raw:
                option = Option(str(raw["value"]), str(raw.get("label", raw["value"])))
            elif isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
                option = Option(str(raw), str(raw))
            else:
                self.report(path + (index,), f"option {raw!r} must be text or {{value, label}}", key)
                continue
            if option.value in seen:
                self.report(path + (index,), f"duplicate option '{option.value}'", key)
                continue
            seen.add(option.value)
            options.append(option)
        return tuple(options)

    # --- conditions ---------------------------------------------------------------------

    def _condition(self, spec: Any, path: tuple, key: str) -> Condition | None:
        if spec is None:
            return None
        try:
            return parse_condition(spec)
        except ConditionSyntaxError as exc:
            self.report(path, f"condition: {exc}", key)
            return None

    def _resolve_conditions(self, items: tuple[Field | Group, ...],
                            fields: Mapping[str, Field]) -> tuple[Field | Group, ...]:
        """Check that conditions name real fields and give their values the field's type."""
        def resolve(item: Field | Group) -> Field | Group:
            if isinstance(item, Group):
                item = replace(item, children=tuple(resolve(child) for child in item.children))
            if item.condition is None:
                return item
            path = self.paths.get(item.key, ()) + ("condition",)
            broken = False

            def typed(compare: Compare) -> Compare:
                nonlocal broken
                target = fields.get(compare.field)
                if target is None:
                    self.report(path, f"condition refers to unknown field '{compare.field}'", item.key)
                    broken = True
                    return compare
                values = compare.value if compare.operator in ("in", "not_in") else [compare.value]
                try:
                    converted = [_condition_value(target, compare.operator, v) for v in values]
                except ValueProblem as exc:
                    self.report(path, f"condition value for '{compare.field}' {exc}", item.key)
                    broken = True
                    return compare
                value = converted if compare.operator in ("in", "not_in") else converted[0]
                return Compare(compare.field, compare.operator, value)

            condition = map_compares(item.condition, typed)
            return replace(item, condition=None if broken else condition)

        return tuple(resolve(item) for item in items)

    def _evaluation_order(self, nodes: Mapping[str, Field | Group],
                          items: tuple[Field | Group, ...]) -> tuple[str, ...]:
        """Keys ordered so every condition is evaluated after the fields it reads; finds cycles."""
        every: tuple[Field | Group, ...] = (*_iter_groups(items), *_iter_fields(items))
        resolved: dict[str, Field | Group] = {n.key: n for n in every}
        depends: dict[str, set[str]] = {}
        for key, node in resolved.items():
            needs = {ref for ref in referenced_fields(node.condition) if ref in nodes}
            if node.group:
                needs.add(node.group)
            depends[key] = needs
        order: list[str] = []
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done
        reported: set[frozenset[str]] = set()
        for start in resolved:
            if state.get(start):
                continue
            stack: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(depends[start])))]
            state[start] = 1
            while stack:
                key, pending = stack[-1]
                child = next(pending, None)
                if child is None:
                    stack.pop()
                    state[key] = 2
                    order.append(key)
                elif state.get(child) == 1:
                    cycle = [k for k, _ in stack][[k for k, _ in stack].index(child):] + [child]
                    if frozenset(cycle) not in reported:
                        reported.add(frozenset(cycle))
                        self.report(self.paths.get(child, ()) + ("condition",),
                                    "conditions form a cycle: " + " -> ".join(reversed(cycle)), child)
                elif not state.get(child):
                    state[child] = 1
                    stack.append((child, iter(sorted(depends.get(child, ())))))
        return tuple(order)

    # --- integrations, naming, logs -----------------------------------------------------

    def _integrations(self, spec: Any, fields: Mapping[str, Field], kind: str) -> dict[str, dict[str, str]]:
        roles: dict[str, dict[str, str]] = {}
        for system, conventional in CONVENTIONAL_ROLES.items():
            roles[system] = {role: key for role, key in conventional.items() if key in fields}
        if spec is None:
            return roles if kind == "experiment" else {}
        if not isinstance(spec, Mapping):
            self.report(("integrations",), "'integrations' must be a mapping like {elabftw: {...}, omero: {...}}")
            return roles
        for system, settings in spec.items():
            path = ("integrations", system)
            if system not in INTEGRATION_ROLES:
                self.report(path, f"unknown integration '{system}' (known: {', '.join(INTEGRATION_ROLES)})")
                continue
            if settings is False:
                roles.pop(system, None)
                continue
            if not isinstance(settings, Mapping):
                self.report(path, f"'{system}' settings must be a mapping of role to field key")
                continue
            for role, value in settings.items():
                if role not in INTEGRATION_ROLES[system]:
                    self.report(path + (role,), f"unknown {system} role '{role}' "
                                f"(known: {', '.join(INTEGRATION_ROLES[system])})")
                elif role in PATTERN_ROLES.get(system, ()):
                    self._check_pattern(str(value), fields, path + (role,))
                    roles[system][role] = str(value)
                elif isinstance(value, Mapping):
                    self._fixed_role(system, role, value, path + (role,))
                    roles[system].pop(role, None)  # a fixed value replaces the conventional field
                elif str(value) not in fields:
                    self.report(path + (role,), f"{system} {role} refers to unknown field '{value}'")
                else:
                    roles[system][role] = str(value)
        return roles

    def _fixed_role(self, system: str, role: str, spec: Mapping, path: tuple) -> None:
        """Record ``{value: X}`` for a role that may be fixed; report anything else."""
        if role not in FIXED_ROLES.get(system, ()):
            self.report(path, f"{system} {role} must name a field; only "
                        f"{', '.join(FIXED_ROLES.get(system, ())) or 'no role'} can be fixed with {{value: ...}}")
            return
        value = spec.get("value")
        if set(spec) != {"value"} or value is None or isinstance(value, (Mapping, list, bool)) \
                or not str(value).strip():
            self.report(path, f"{system} {role} must be a field key or {{value: <{role} name>}}, "
                        f"e.g. {{value: Running}}")
            return
        self.fixed_roles.setdefault(system, {})[role] = str(value).strip()

    def _project_name(self, spec: Any, fields: Mapping[str, Field]) -> str:
        if spec is not None:
            self._check_pattern(str(spec), fields, ("project_name",))
            return str(spec)
        keys = [k for k in _NAME_KEYS if k in fields][:2]
        if not keys:
            keys = [f.key for f in fields.values() if f.required and f.type == "text"][:1]
        return "_".join("{%s}" % k for k in keys)

    def _check_pattern(self, pattern: str, fields: Mapping[str, Field], path: tuple) -> None:
        try:
            names = [name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None]
        except ValueError as exc:
            self.report(path, f"'{pattern}' is not a valid name pattern: {exc}")
            return
        for name in names:
            if name not in fields:
                self.report(path, f"name pattern '{pattern}' refers to unknown field '{name}'")

    def _documentation(self, spec: Any, folders: FolderTree) -> tuple[str, ...]:
        """The folders whose files (recursively) are the lab record: the template's ``documentation``
        list (each a folder of the tree), else the folders named like :data:`DOCUMENTATION_FOLDER_NAMES`."""
        if spec is None:
            return default_documentation_folders(folders.folders)
        if not isinstance(spec, list) or not all(isinstance(item, str) for item in spec):
            self.report(("documentation",), "documentation must be a list of folders of the folder tree")
            return ()
        chosen: list[str] = []
        for index, item in enumerate(spec):
            folder = item.strip().strip("/")
            problem = relative_path_problem(folder) if folder else "an empty path"
            if problem:
                self.report(("documentation", index), f"unsafe documentation folder: {problem}")
            elif folder not in folders.folders:
                self.report(("documentation", index), f"documentation folder '{folder}' is not in the folder tree")
            elif folder not in chosen:
                chosen.append(folder)
        return tuple(chosen)

    def _log_folder(self, spec: Any, folders: FolderTree) -> str:
        if spec is not None:
            problem = relative_path_problem(str(spec))
            if problem:
                self.report(("log_folder",), f"unsafe log folder: {problem}")
            return str(spec).strip("/")
        for folder in folders.folders:
            if folder.rsplit("/", 1)[-1] == "integration_logs":
                return folder
        return "integration_logs"


def _is_dynamic(kind: str, value: Any) -> bool:
    """True for ``today``/``now`` on a field that can resolve it (a time has no ``today``)."""
    words = ("now",) if kind == "time" else ("today", "now") if kind in TEMPORAL_TYPES else ()
    return isinstance(value, str) and value.strip().lower() in words


def _condition_value(target: Field, operator: str, value: Any) -> Any:
    if operator == "contains" and target.is_multi:
        return coerce(replace(target, type="dropdown"), value)
    if operator == "contains":
        return str(value)
    if target.type == "checkbox" or target.type in NUMBER_TYPES or target.type in TEMPORAL_TYPES:
        return coerce(target, value)
    if target.is_multi:
        return coerce(target, value)
    if target.type in ("dropdown", "radio"):
        return coerce(target, value)
    return value if value is None else str(value)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def default_documentation_folders(folders: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The folders named like :data:`DOCUMENTATION_FOLDER_NAMES`, leaving out those inside another
    one (their files are found recursively)."""
    def named(folder: str) -> bool:
        name = folder.rsplit("/", 1)[-1].lower()
        return any(name == pattern or (pattern.startswith("*") and name.endswith(pattern[1:]))
                   for pattern in DOCUMENTATION_FOLDER_NAMES)
    matching = [f for f in folders if named(f)]
    return tuple(f for f in matching if not any(f.startswith(other + "/") for other in matching))
