"""Saving and deleting in the fake OMERO store, with the server's checks.

Saving (IUpdate.saveAndReturnObject/Array, saveObject) walks the graph sent along the model's
references and loaded collections, as Hibernate's cascade does:

* a new object (no id) gets an id from its hierarchy's sequence and the write group's details
  (owner: the session user; one Event per call); its required properties must be set
  (Hibernate: "not-null property references a null or transient value") -> ValidationException;
* an unloaded object must exist and, unless global, belong to the write group: a link across
  groups is refused (OMERO's graph-critical check) -> SecurityViolation;
* a loaded object with an id must exist in the write group; changing another user's object
  is refused as BasicACLVoter.throwUpdateViolation does -> SecurityViolation "Updating
  ome.model.annotations.MapAnnotation:Id_5 not allowed." (in a read-annotate group members
  annotate each other's data but edit only their own); an unchanged one is not written;
* a link between the same parent and child by the same owner exists once (the unique
  constraint the DSL puts on parent, child, owner_id of non-global links) -> ValidationException.

Deleting (Delete2 through ``deleteObjects``) removes the targets and the links to and from
them, and refuses another user's objects with GraphTraversal's "not permitted to delete
ome.model.annotations.MapAnnotation[5]".
"""
from __future__ import annotations

from typing import Any, Iterable

import omero
from omero.model import NamedValue

from .fake_omero_objects import clone, graph_copy, proxy
from .fake_omero_store import Store, kind_of

__all__ = ["GraphWriter", "unload", "links_of"]


def unload(obj: Any, store: Store) -> Any:
    """The stored form of a loaded object: references as proxies, collections unloaded."""
    stored = clone(obj)
    for prop in store.model.own_properties(kind_of(obj)).values():
        attr = f"_{prop.name}"
        if prop.kind == "reference":
            value = getattr(obj, attr, None)
            setattr(stored, attr, proxy(value) if value is not None else None)
        elif prop.kind == "collection":
            setattr(stored, f"{attr}Seq", [])
            setattr(stored, f"{attr}Loaded", False)
        elif prop.kind == "elements":
            values = getattr(obj, attr, None)
            setattr(stored, attr, [NamedValue(nv.name, nv.value) for nv in values] if values is not None else None)
        elif prop.kind == "component" and prop.name != "details":
            value = getattr(obj, attr, None)
            setattr(stored, attr, clone(value) if value is not None else None)
        elif prop.kind == "counts":
            setattr(stored, attr, None)
    return stored


def links_of(store: Store, obj: Any) -> list[Any]:
    """The stored link objects whose parent or child is ``obj``."""
    oid = obj._id._val
    return [link for name, end in store.link_ends(kind_of(obj))
            for link in store.referrers(name, end, oid) if kind_of(link) == name]


def _fingerprint(obj: Any, store: Store) -> list[Any]:
    """What a save would write of an object (fields, references by id, pairs, units)."""
    values: list[Any] = []
    for prop in store.model.own_properties(kind_of(obj)).values():
        value = getattr(obj, f"_{prop.name}", None)
        if prop.kind == "field" and prop.name != "version":
            values.append(getattr(value, "_val", value))
        elif prop.kind == "reference":
            values.append(value._id._val if value is not None and value._id is not None else None)
        elif prop.kind == "elements":
            values.append(None if value is None else [(nv.name, nv.value) for nv in value])
        elif prop.kind == "component" and prop.name != "details":
            values.append(None if value is None else (value._value, str(value._unit)))
    return values


class GraphWriter:
    """One save or delete call by ``user`` writing into ``group``."""

    def __init__(self, store: Store, user: int, group: int) -> None:
        self.store, self.user, self.group = store, user, group
        self._event: Any = None
        self._seen: set[int] = set()
        self._pending: dict[tuple[str, int], Any] = {}
        self._links: set[tuple[str, int, int]] = set()  # (link class, parent, child) this call made

    @property
    def event(self) -> Any:
        if self._event is None:
            self._event = self.store.event(self.user, self.group, put=False)
        return self._event

    def save(self, obj: Any) -> Any:
        """Save a graph (written by :meth:`commit`); the saved copy (ids and details set) is returned."""
        graph = graph_copy(obj)  # the server works on what was sent, never on the caller's object
        self._walk(graph)
        return graph

    def commit(self) -> None:
        """Write what the call saved: all of it, or nothing when a check failed (one transaction)."""
        if self._event is not None and self._pending:
            self.store.put(self._event)
        for stored in self._pending.values():
            self.store.put(stored)
        self._pending.clear()

    def _get(self, kind: str, oid: int) -> Any:
        return self._pending.get((self.store.root(kind), oid)) or self.store.get(kind, oid)

    def _walk(self, node: Any) -> None:
        if id(node) in self._seen:
            return
        self._seen.add(id(node))
        kind = kind_of(node)
        entity = self.store.model.entity(kind)
        if entity is None or entity.abstract:
            raise omero.ValidationException(None, None, f"cannot save {type(node).__name__} objects")
        if not node.isLoaded():
            self._check_reference(kind, node)
            return
        stored = None
        if node.getId() is None:
            node.setId(omero.rtypes.rlong(self.store.next_id(kind)))
        else:
            stored = self._existing(kind, node)
        previous = stored._details if stored is not None else None
        self.store.stamp(node, self.user, self.group, self.event, previous)
        properties = self.store.model.own_properties(kind).values()
        for prop in properties:
            if prop.kind == "reference":
                value = getattr(node, f"_{prop.name}", None)
                if value is not None:
                    self._walk(value)
        if stored is None:
            self._check_new(kind, node)
        if stored is None or _fingerprint(stored, self.store) != _fingerprint(node, self.store):
            self._pending[(self.store.root(kind), node.getId().getValue())] = unload(node, self.store)
        for prop in properties:
            if prop.kind == "collection" and getattr(node, f"_{prop.name}Loaded", False):
                for element in getattr(node, f"_{prop.name}Seq", None) or []:
                    self._walk(element)

    def _check_reference(self, kind: str, node: Any) -> None:
        stored = self._get(kind, node.getId().getValue())
        if stored is None:
            raise omero.ValidationException(None, None, f"{kind}:{node.getId().getValue()} does not exist")
        if not self.store.is_global(kind) and self.store.group_of(stored) != self.group:
            raise omero.SecurityViolation(None, None, f"cannot link {kind}:{node.getId().getValue()} of group "
                                          f"{self.store.group_of(stored)} to objects of group {self.group}")

    def _existing(self, kind: str, node: Any) -> Any:
        oid = node.getId().getValue()
        stored = self._get(kind, oid)
        if stored is None:
            raise omero.ValidationException(None, None, f"{kind}:{oid} does not exist")
        if self.store.is_global(kind):
            return stored
        if self.store.group_of(stored) != self.group:
            raise omero.SecurityViolation(None, None, f"{kind}:{oid} belongs to group {self.store.group_of(stored)}, "
                                          f"not to the write group {self.group}")
        changed = _fingerprint(stored, self.store) != _fingerprint(node, self.store)
        if self.store.owner_of(stored) != self.user and changed:
            raise omero.SecurityViolation(None, None, f"Updating {self.store.model.entities[kind].class_name}:Id_{oid}"
                                          " not allowed.")
        return stored

    def _check_new(self, kind: str, node: Any) -> None:
        model = self.store.model
        for prop in model.own_properties(kind).values():
            needed = prop.required and prop.kind in ("field", "reference") and prop.name != "version"
            if needed and getattr(node, f"_{prop.name}", None) is None:
                raise omero.ValidationException(None, None, "not-null property references a null or transient "
                                                f"value: {model.entities[kind].class_name}.{prop.name}")
        entity = model.entities[kind]
        if entity.link and not entity.global_:
            parent, child = node._parent._id._val, node._child._id._val
            key = (kind, parent, child)
            duplicate = key in self._links or any(
                link._child._id._val == child and self.store.owner_of(link) == self.user
                for link in self.store.referrers(kind, "parent", parent))
            if duplicate:
                raise omero.ValidationException(None, None, f"{kind} {parent}->{child} exists already")
            self._links.add(key)

    # --- deleting -------------------------------------------------------------------------------

    def delete(self, entity: str, ids: Iterable[int], groups: frozenset[int],
               dry_run: bool = False) -> dict[str, list[int]]:
        """Delete2 of ``entity`` objects (and their links); the deleted ids by class name.

        Objects the caller cannot see are skipped; another user's object fails the whole
        request with omero.cmd.GraphException's message (raised as ``PermissionError``).
        """
        targets = [obj for obj in (self.store.get(entity, i) for i in ids)
                   if obj is not None and self.store.visible(obj, groups)]
        refused = [f"{self.store.model.entities[kind_of(o)].class_name}[{o._id._val}]" for o in targets
                   if not self.store.is_global(kind_of(o)) and self.store.owner_of(o) != self.user]
        if refused:
            raise PermissionError("not permitted to delete " + ", ".join(refused))
        deleted: dict[str, list[int]] = {}
        for obj in targets:
            for item in links_of(self.store, obj) + [obj]:
                name = self.store.model.entities[kind_of(item)].class_name
                if item._id._val not in deleted.get(name, []):
                    deleted.setdefault(name, []).append(item._id._val)
                if not dry_run:
                    self.store.remove(item)
        return deleted
