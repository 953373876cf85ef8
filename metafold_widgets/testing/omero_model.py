"""OMERO's Hibernate model as data: the entities, their properties and how they are mapped.

The table ``omero_model.json`` is generated from the omero-model mapping files by
``scripts/generate-omero-model`` (see its docstring for the rules it applies). This module
loads it and answers what the HQL engine and the fake's store ask: which entity a name
means, which property a name means on an entity (with the entity's superclasses and, as
Hibernate allows for a polymorphic query, its subclasses), and which classes an entity
covers.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping

__all__ = ["Prop", "EntityDef", "ComponentDef", "Model", "load_model", "MODEL_FILE"]

MODEL_FILE = Path(__file__).with_name("omero_model.json")


@dataclass(frozen=True)
class Prop:
    """One mapped property: ``kind`` is id, field, reference, collection, elements, component or counts."""

    name: str
    kind: str
    type: str | None = None          # field: the DSL type (string, text, long, int, timestamp...)
    java: str | None = None          # field: the Java type Hibernate returns
    target: str | None = None        # reference / collection: the entity at the other end
    component: str | None = None     # component / elements: the component's name
    inverse: str | None = None       # collection: the property of the target pointing back
    ordered: bool = False            # collection / elements: a list with an index column
    index_column: str | None = None
    link_target: str | None = None   # link collections: the entity beyond the link
    required: bool = False
    fetch: str = "lazy"              # reference: eager when declared on an abstract entity

    @staticmethod
    def from_json(name: str, data: Mapping[str, Any]) -> "Prop":
        return Prop(name=name, kind=data["kind"], type=data.get("type"), java=data.get("java"),
                    target=data.get("target"), component=data.get("component"), inverse=data.get("inverse"),
                    ordered=bool(data.get("ordered")), index_column=data.get("index_column"),
                    link_target=data.get("link_target"), required=bool(data.get("required")),
                    fetch=data.get("fetch", "lazy"))


@dataclass(frozen=True)
class EntityDef:
    """An entity (``ome.model.containers.Dataset`` is ``Dataset``) with its declared properties."""

    name: str
    class_name: str
    superclass: str | None
    abstract: bool
    global_: bool
    immutable: bool
    link: bool
    enum: bool
    entries: tuple[str, ...]
    properties: Mapping[str, Prop]


@dataclass(frozen=True)
class ComponentDef:
    """An embedded component (Details, Permissions, NamedValue, Length...) and its properties."""

    name: str
    class_name: str
    properties: Mapping[str, Prop]


@dataclass
class Model:
    """The entity table with lookups along the class hierarchy."""

    entities: Mapping[str, EntityDef]
    components: Mapping[str, ComponentDef]
    source: Mapping[str, Any]
    _subclasses: dict[str, list[str]] = field(default_factory=dict)
    _closure: dict[str, dict[str, Prop]] = field(default_factory=dict)
    _own: dict[str, dict[str, Prop]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, entity in self.entities.items():
            if entity.superclass is not None:
                self._subclasses.setdefault(entity.superclass, []).append(name)

    def entity(self, name: str) -> EntityDef | None:
        """The entity called ``name`` (short, as HQL's auto-import, or the full class name)."""
        found = self.entities.get(name)
        if found is None and "." in name:
            found = self.entities.get(name.rsplit(".", 1)[-1])
            if found is not None and found.class_name != name:
                return None
        return found

    def ancestors(self, name: str) -> Iterator[EntityDef]:
        """The entity, then its superclasses."""
        current: str | None = name
        while current is not None:
            entity = self.entities[current]
            yield entity
            current = entity.superclass

    def root(self, name: str) -> str:
        """The top of ``name``'s hierarchy (the table that holds its ids)."""
        return list(self.ancestors(name))[-1].name

    def descendants(self, name: str) -> list[str]:
        """The entity and all its subclasses."""
        result = [name]
        for child in self._subclasses.get(name, []):
            result.extend(self.descendants(child))
        return result

    def is_a(self, name: str, ancestor: str) -> bool:
        """Whether entity ``name`` is ``ancestor`` or one of its subclasses."""
        return any(entity.name == ancestor for entity in self.ancestors(name))

    def own_properties(self, name: str) -> dict[str, Prop]:
        """The properties an instance of ``name`` has: its own and its superclasses'."""
        cached = self._own.get(name)
        if cached is None:
            cached = {}
            for entity in reversed(list(self.ancestors(name))):
                cached.update(entity.properties)
            self._own[name] = cached
        return cached

    def properties(self, name: str) -> dict[str, Prop]:
        """The properties HQL resolves on ``name``: its own, its superclasses' and its subclasses'."""
        cached = self._closure.get(name)
        if cached is None:
            cached = dict(self.own_properties(name))
            for sub in self.descendants(name)[1:]:
                for prop_name, prop in self.entities[sub].properties.items():
                    cached.setdefault(prop_name, prop)
            self._closure[name] = cached
        return cached


def _entity(name: str, data: Mapping[str, Any]) -> EntityDef:
    return EntityDef(name=name, class_name=data["class"], superclass=data.get("superclass"),
                     abstract=bool(data.get("abstract")), global_=bool(data.get("global")),
                     immutable=bool(data.get("immutable")), link=bool(data.get("link")), enum=bool(data.get("enum")),
                     entries=tuple(data.get("entries", ())),
                     properties={p: Prop.from_json(p, d) for p, d in data["properties"].items()})


@lru_cache(maxsize=None)
def load_model(path: str = str(MODEL_FILE)) -> Model:
    """The model table (read once)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    entities = {name: _entity(name, entity) for name, entity in data["entities"].items()}
    components = {name: ComponentDef(name, comp["class"],
                                     {p: Prop.from_json(p, d) for p, d in comp["properties"].items()})
                  for name, comp in data["components"].items()}
    return Model(entities, components, data["source"])
