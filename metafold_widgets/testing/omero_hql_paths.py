"""Resolve HQL aliases and property paths against OMERO's model, as Hibernate 3.6 does.

A path ``alias.prop.prop...`` becomes a function of a result row (a list holding one value
per alias) and a static type. Every step is checked against the model table: an unknown
property raises :class:`QueryError` with Hibernate's message ("could not resolve property:
foo of: ome.model.containers.Dataset"); dereferencing a collection raises Hibernate's
"illegal attempt to dereference collection". Hibernate's mapping rules followed here:

* a property of a subclass resolves on a polymorphic alias (``a.file`` on an Annotation);
* ``ref.id`` reads the foreign key without a join; any other step beyond a reference is an
  implicit inner join (rows whose reference is null are dropped), reported to the caller;
* inside components (``details``, units) the message names the path from the entity;
  an element of ``mapValue`` is the component ``component[name,value]``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from .omero_hql_parse import Path
from .omero_model import EntityDef, Model, Prop

__all__ = ["QueryError", "Typed", "Alias", "Scope", "StoreView", "PathResolver", "attribute_name", "value_key"]

Row = list
Fn = Callable[[Row], Any]


class QueryError(Exception):
    """A query Hibernate would refuse (becomes omero.QueryException)."""


class StoreView(Protocol):
    """What the engine needs from the fake's store."""

    model: Model

    def get(self, entity: str, oid: int) -> Any: ...

    def resolve(self, proxy: Any, entity: str) -> Any: ...

    def instances(self, entity: str) -> list[Any]: ...

    def referrers(self, entity: str, prop: str, target_id: int) -> list[Any]: ...

    def visible(self, obj: Any, groups: frozenset[int]) -> bool: ...


@dataclass
class Typed:
    """A compiled expression: ``fn(row)`` and its type, ("field", java), ("entity", name),
    ("component", name), ("unit-enum", java), ("param",) or ("null",)."""

    fn: Fn
    type: tuple[str, ...]
    depends: int = -1  # the highest row position it reads (-1: none)
    aggregate: tuple[str, "Typed | None", bool] | None = None  # (function, argument, distinct)


@dataclass
class Alias:
    name: str
    pos: int
    entity: str | None = None        # an entity alias
    component: str | None = None     # an element of an element collection (NamedValue)
    index_pos: int | None = None     # where index(alias) is kept, for lists
    label: str = ""


@dataclass
class Scope:
    """The aliases of one query level; a subquery's scope sees its parent's."""

    parent: "Scope | None" = None
    aliases: dict[str, Alias] = field(default_factory=dict)
    size: int = 0
    outer_depends: int = -1  # the highest position of a parent's alias this scope reads

    def __post_init__(self) -> None:
        if self.parent is not None:
            self.size = self.parent.size

    def slot(self) -> int:
        self.size += 1
        return self.size - 1

    def lookup(self, name: str) -> Alias | None:
        if name in self.aliases:
            return self.aliases[name]
        found = self.parent.lookup(name) if self.parent is not None else None
        if found is not None:
            self.outer_depends = max(self.outer_depends, found.index_pos or found.pos, found.pos)
        return found


def attribute_name(owner: str | None, prop: str) -> str:
    """The Python attribute holding ``prop``: omero-py objects and DetailsI/LengthI/PermissionsI
    keep ``_prop``; the Ice struct NamedValue keeps ``prop``."""
    return prop if owner == "NamedValue" else f"_{prop}"


def value_key(value: Any) -> Any:
    """What a value compares by: an entity (loaded or not) by its id."""
    object_id = getattr(value, "_id", None)
    if object_id is not None and hasattr(object_id, "_val"):
        return object_id._val
    return value


def _unwrap(value: Any) -> Any:
    return getattr(value, "_val", value) if value is not None else None


def _object_id(value: Any) -> Any:
    return value._id._val if value is not None and value._id is not None else None


@dataclass
class _Walk:
    fn: Fn
    entity: str | None          # the entity the path is on (None inside a component)
    component: str | None       # the component the path is in
    label: str                  # the entity/component class Hibernate names in messages
    relative: list[str]         # the path from that entity, for messages
    owner_fn: Fn                # the entity that owns the current position (for fetch joins)
    owner_path: tuple[str, ...]  # the path from that entity


class PathResolver:
    """Turns paths into row functions for one query level."""

    def __init__(self, model: Model, store: StoreView, scope: Scope, implicit: Callable[[Typed], None]) -> None:
        self.model, self.store, self.scope = model, store, scope
        self._implicit = implicit

    def error(self, relative: list[str], label: str) -> QueryError:
        return QueryError(f"could not resolve property: {'.'.join(relative)} of: {label}")

    def component_label(self, name: str) -> str:
        return f"component[{','.join(self.model.components[name].properties)}]"

    def start(self, path: Path) -> tuple[Alias, _Walk]:
        alias = self.scope.lookup(path.parts[0])
        if alias is None:
            raise QueryError(f"Invalid path: '{path.text}'")
        pos = alias.pos

        def fn(row: Row) -> Any:
            return row[pos]
        if alias.entity is not None:
            walk = _Walk(fn, alias.entity, None, self.model.entities[alias.entity].class_name, [], fn, ())
        else:
            walk = _Walk(fn, None, alias.component, alias.label, [], fn, ())
        return alias, walk

    def resolve(self, path: Path, context: str) -> Typed:
        """A path as a value: ``context`` is select, where or order (references selected whole join)."""
        alias, walk = self.start(path)
        parts = path.parts[1:]
        if not parts:
            kind = ("entity", alias.entity) if alias.entity else ("component", alias.component or "")
            return Typed(walk.fn, kind, alias.pos)
        i = 0
        while True:
            name, last = parts[i], i == len(parts) - 1
            prop = self._prop(walk, name)
            if prop.kind in ("collection", "elements"):
                if last:
                    raise NotImplementedError(f"the fake OMERO evaluates collection paths only in joins: {path.text}")
                collection = f"{path.parts[0]}.{'.'.join(parts[:i + 1])}"
                raise QueryError(f"illegal attempt to dereference collection [{collection}]"
                                 f" with element property reference [{parts[i + 1]}]")
            if prop.kind == "counts":
                raise NotImplementedError(f"the fake OMERO does not evaluate {prop.name}")
            if prop.kind in ("id", "field"):
                if not last:
                    raise self.error(walk.relative + [name, parts[i + 1]], walk.label)
                return self._field(walk, prop, alias.pos)
            if prop.kind == "component":
                walk = self._into_component(walk, prop)
                if last:
                    return Typed(walk.fn, ("component", prop.component or ""), alias.pos)
            elif prop.kind == "reference":
                if last and context != "select":  # compared by its foreign key, no join
                    getter = self._getter(walk, prop)
                    return Typed(getter, ("entity", prop.target or ""), alias.pos)
                if not last and i + 1 == len(parts) - 1 and parts[i + 1] == "id":
                    getter = self._getter(walk, prop)
                    return Typed(lambda row: _object_id(getter(row)), ("field", "java.lang.Long"), alias.pos)
                walk = self.dereference(walk, prop)
                self._implicit(Typed(walk.fn, ("entity", walk.entity or ""), alias.pos))
                if last:
                    return Typed(walk.fn, ("entity", walk.entity or ""), alias.pos)
            i += 1

    def association(self, path: Path) -> tuple[Alias, _Walk, Prop]:
        """The owner and the association a join follows (the last step must be one)."""
        alias, walk = self.start(path)
        parts = path.parts[1:]
        if not parts:
            raise QueryError(f"Invalid path: '{path.text}'")
        for i, name in enumerate(parts):
            prop = self._prop(walk, name)
            last = i == len(parts) - 1
            if last:
                if prop.kind not in ("reference", "collection", "elements"):
                    raise QueryError(f"path expected for join! [{path.text}]")
                return alias, walk, prop
            if prop.kind == "component":
                walk = self._into_component(walk, prop)
            elif prop.kind == "reference":
                walk = self.dereference(walk, prop)
                self._implicit(Typed(walk.fn, ("entity", walk.entity or ""), alias.pos))
            elif prop.kind in ("collection", "elements"):
                raise QueryError(f"illegal attempt to dereference collection [{path.parts[0]}."
                                 f"{'.'.join(parts[:i + 1])}] with element property reference [{parts[i + 1]}]")
            else:
                raise self.error(walk.relative + [name, parts[i + 1]], walk.label)
        raise AssertionError("unreachable")

    # --- steps -------------------------------------------------------------------------------

    def _prop(self, walk: _Walk, name: str) -> Prop:
        if walk.entity is not None:
            prop = self.model.properties(walk.entity).get(name)
        else:
            prop = self.model.components[walk.component or ""].properties.get(name)
        if prop is None:
            raise self.error(walk.relative + [name], walk.label)
        return prop

    def _getter(self, walk: _Walk, prop: Prop) -> Fn:
        attr, base = attribute_name(walk.component, prop.name), walk.fn
        if prop.kind == "id":
            return lambda row: _object_id(base(row))
        return lambda row: getattr(base(row), attr, None)

    def _field(self, walk: _Walk, prop: Prop, pos: int) -> Typed:
        getter = self._getter(walk, prop)
        if prop.kind == "id":
            return Typed(getter, ("field", "java.lang.Long"), pos)
        if prop.type == "unit-enum":
            return Typed(lambda row: _enum_name(getter(row)), ("unit-enum", prop.java or ""), pos)
        return Typed(lambda row: _unwrap(getter(row)), ("field", prop.java or ""), pos)

    def _into_component(self, walk: _Walk, prop: Prop) -> _Walk:
        getter = self._getter(walk, prop)
        return _Walk(getter, None, prop.component, walk.label, walk.relative + [prop.name], walk.owner_fn,
                     walk.owner_path + (prop.name,))

    def dereference(self, walk: _Walk, prop: Prop) -> _Walk:
        getter, target, store = self._getter(walk, prop), prop.target or "", self.store

        def fn(row: Row) -> Any:
            proxy = getter(row)
            return store.resolve(proxy, target) if proxy is not None else None
        entity: EntityDef = self.model.entities[target]
        return _Walk(fn, target, None, entity.class_name, [], fn, ())


def _enum_name(value: Any) -> str | None:
    return str(value) if value is not None else None
