"""The fake OMERO's database: real ``omero.model`` objects in tables, one per id space.

Stored objects are loaded, with their references as unloaded proxies and their collections
unloaded: a collection is found through its inverse property (``Dataset.projectLinks`` are the
ProjectDatasetLinks whose ``child`` is the dataset), as Hibernate maps it. Ids come from one
sequence per hierarchy root (every Annotation subclass shares Annotation's, as OMERO's
single-table inheritance does). Every object has ``details``: owner, group, creation and
update events (stored Event objects) and permissions; global entities (Experimenter,
ExperimenterGroup, Event, enumerations) have permissions only and are readable in any group.
"""
from __future__ import annotations

import time
from typing import Any, Iterable, Mapping

import omero
from omero.model import DetailsI, EventI, EventTypeI, ExperimenterGroupI, ExperimenterI, PermissionsI
from omero.rtypes import rbool, rint, rlong, rstring, rtime

from .fake_omero_objects import clone, unloaded
from .omero_model import Model

__all__ = ["Store", "kind_of", "PIXEL_BITS"]

PIXEL_BITS = {"bit": 1, "int8": 8, "uint8": 8, "int16": 16, "uint16": 16, "int32": 32, "uint32": 32, "float": 32,
              "double": 64, "complex": 64, "double-complex": 128}


def kind_of(obj: Any) -> str:
    """The entity of an omero.model object (``DatasetI`` -> ``Dataset``)."""
    name = type(obj).__name__
    return name[:-1] if name.endswith("I") else name


class Store:
    """Tables of stored objects with the lookups the HQL engine and the services need."""

    def __init__(self, model: Model, groups: Mapping[int, str], permissions: str = "rwra--") -> None:
        self.model = model
        self.tables: dict[str, dict[int, Any]] = {}
        self.group_permissions = {gid: permissions for gid in groups}
        self._seq: dict[str, int] = {}
        self._roots: dict[str, str] = {}
        self._kinds: dict[str, frozenset[str]] = {}
        self._references: dict[str, list[str]] = {}
        self._global: dict[str, bool] = {}
        self._index: dict[tuple[str, str], dict[int, dict[int, None]]] = {}
        self._enums: dict[tuple[str, str], Any] = {}
        self._link_ends: dict[str, list[tuple[str, str]]] = {}
        self._permissions: dict[str, Any] = {}
        self._details, self._event = DetailsI(), EventI(0, True)
        for gid, name in groups.items():
            group = ExperimenterGroupI(gid, True)
            group.setName(rstring(name))
            group.setLdap(rbool(False))
            self.put(self._globally(group, permissions))

    # --- kinds -----------------------------------------------------------------------------

    def root(self, kind: str) -> str:
        found = self._roots.get(kind)
        if found is None:
            found = self._roots[kind] = self.model.root(kind)
        return found

    def root_of(self, obj: Any) -> str:
        return self.root(kind_of(obj))

    def _is_a(self, kind: str, entity: str) -> bool:
        kinds = self._kinds.get(entity)
        if kinds is None:
            kinds = self._kinds[entity] = frozenset(self.model.descendants(entity))
        return kind in kinds

    def is_global(self, kind: str) -> bool:
        found = self._global.get(kind)
        if found is None:
            found = self._global[kind] = self.model.entities[self.root(kind)].global_
        return found

    # --- reading ---------------------------------------------------------------------------

    def get(self, entity: str, oid: int) -> Any:
        """The stored object ``entity``:``oid`` (a subclass instance counts), or None."""
        obj = self.tables.get(self.root(entity), {}).get(int(oid))
        return obj if obj is not None and self._is_a(kind_of(obj), entity) else None

    def resolve(self, proxy: Any, entity: str) -> Any:
        """The stored object a reference points at, or None (a dangling reference)."""
        oid = proxy._id
        return self.get(entity, oid._val) if oid is not None else None

    def instances(self, entity: str) -> list[Any]:
        """Every stored object of ``entity`` and its subclasses, by id."""
        table = self.tables.get(self.root(entity), {})
        if entity == self.root(entity) and len(self.model.descendants(entity)) == 1:
            return list(table.values())
        return [obj for obj in table.values() if self._is_a(kind_of(obj), entity)]

    def referrers(self, entity: str, prop: str, target_id: int) -> list[Any]:
        """The stored ``entity`` objects whose reference ``prop`` points at ``target_id``, in insertion order."""
        root = self.root(entity)
        ids = self._index.get((root, prop), {}).get(target_id, {})
        table = self.tables.get(root, {})
        return [obj for obj in (table.get(i) for i in ids) if obj is not None and self._is_a(kind_of(obj), entity)]

    def visible(self, obj: Any, groups: frozenset[int]) -> bool:
        """Whether a query reading ``groups`` sees ``obj``."""
        if self.is_global(kind_of(obj)):
            return True
        return obj._details._group._id._val in groups

    @staticmethod
    def group_of(obj: Any) -> int:
        return obj._details._group._id._val

    @staticmethod
    def owner_of(obj: Any) -> int:
        return obj._details._owner._id._val

    # --- writing ---------------------------------------------------------------------------

    def next_id(self, kind: str) -> int:
        root = self.root(kind)
        self._seq[root] = self._seq.get(root, 0) + 1
        return self._seq[root]

    def put(self, obj: Any) -> None:
        """Insert or replace a stored object (its id set, its references unloaded proxies)."""
        kind = kind_of(obj)
        root, oid = self.root(kind), obj._id._val
        table = self.tables.setdefault(root, {})
        old = table.get(oid)
        table[oid] = obj
        if oid > self._seq.get(root, 0):
            self._seq[root] = oid
        for prop in self._reference_names(kind):
            before = _target(old, prop) if old is not None else None
            after = _target(obj, prop)
            if before == after:
                continue
            if before is not None:
                self._index.get((root, prop), {}).get(before, {}).pop(oid, None)
            if after is not None:
                self._index.setdefault((root, prop), {}).setdefault(after, {})[oid] = None

    def remove(self, obj: Any) -> None:
        """Take a stored object out (its references leave the index)."""
        kind = kind_of(obj)
        root, oid = self.root(kind), obj._id._val
        self.tables.get(root, {}).pop(oid, None)
        for prop in self._reference_names(kind):
            target = _target(obj, prop)
            if target is not None:
                self._index.get((root, prop), {}).get(target, {}).pop(oid, None)

    def link_ends(self, kind: str) -> list[tuple[str, str]]:
        """The (link entity, end) pairs whose parent or child can be a ``kind`` object."""
        found = self._link_ends.get(kind)
        if found is None:
            found = self._link_ends[kind] = [
                (name, end) for name, entity in self.model.entities.items() if entity.link
                for end in ("parent", "child") if self.model.is_a(kind, entity.properties[end].target or "")]
        return found

    def _reference_names(self, kind: str) -> list[str]:
        names = self._references.get(kind)
        if names is None:
            names = self._references[kind] = [p.name for p in self.model.own_properties(kind).values()
                                               if p.kind == "reference"]
        return names

    # --- details, users, events, enumerations -----------------------------------------------------

    def permissions(self, text: str) -> Any:
        """A PermissionsI of ``text`` ('rwra--')."""
        template = self._permissions.get(text)
        if template is None:
            template = self._permissions[text] = PermissionsI(text)
        return clone(template)

    def set_group_permissions(self, gid: int, text: str) -> None:
        """Give group ``gid`` the permissions ``text`` ('rwr---'), as an administrator's chmod does:
        the group and the objects of the group then report them."""
        if gid not in self.group_permissions:
            raise KeyError(f"no group {gid}")
        self.permissions(text)  # omero.model.PermissionsI refuses a malformed text here
        self.group_permissions[gid] = text
        group = self.get("ExperimenterGroup", gid)
        if group is not None:
            group._details.__dict__["_permissions"] = self.permissions(text)
        for table in self.tables.values():
            for obj in table.values():
                details = getattr(obj, "_details", None)
                if details is not None and details._group is not None and details._group._id._val == gid:
                    details.__dict__["_permissions"] = self.permissions(text)

    def _globally(self, obj: Any, permissions: str = "rw----") -> Any:
        details = clone(self._details)
        details.__dict__["_permissions"] = self.permissions(permissions)
        obj.__dict__["_details"] = details
        return obj

    def user(self, uid: int, name: str | None = None) -> Any:
        """The Experimenter ``uid``, made on first use."""
        found = self.get("Experimenter", uid)
        if found is None:
            found = ExperimenterI(uid, True)
            found.setOmeName(rstring(name or f"user-{uid}"))
            found.setFirstName(rstring(name or f"User {uid}"))
            found.setLastName(rstring(""))
            found.setLdap(rbool(False))
            self.put(self._globally(found))
        return found

    def event(self, user_id: int, group_id: int, put: bool = True) -> Any:
        """A new Event (one per transaction, as the server records them); stored unless ``put`` is false."""
        event = clone(self._event)
        event.__dict__.update(_id=rlong(self.next_id("Event")), _time=rtime(int(time.time() * 1000)),
                              _experimenter=unloaded(ExperimenterI, user_id),
                              _experimenterGroup=unloaded(ExperimenterGroupI, group_id),
                              _type=unloaded(EventTypeI, self.enum("EventType", "User")._id))
        self._globally(event)
        if put:
            self.put(event)
        return event

    def enum(self, entity: str, value: str) -> Any:
        """The enumeration value (all of an enumeration's entries are made on first use, in order)."""
        table = self.tables.get(entity)
        if table is None:
            cls = getattr(omero.model, f"{entity}I")
            for position, entry in enumerate(self.model.entities[entity].entries, start=1):
                item = cls(position, True)
                item.setValue(rstring(entry))
                if entity == "PixelsType":
                    item.setBitSize(rint(PIXEL_BITS[entry]))
                self.put(self._globally(item))
            table = self.tables.get(entity, {})
        found = self._enums.get((entity, value))
        if found is None:
            found = next((item for item in table.values() if item._value._val == value), None)
            if found is None:
                raise omero.ValidationException(None, None, f"no {entity} called {value!r}")
            self._enums[(entity, value)] = found
        return found

    def stamp(self, obj: Any, owner: int, group: int, event: Any, previous: Any = None) -> None:
        """Set the details a save gives: owner, group and creation event (kept from ``previous``,
        the stored object's details, on an update), and the update event."""
        if self.is_global(kind_of(obj)):
            self._globally(obj)
            return
        self.user(owner)
        if previous is not None:
            owner, group = previous._owner._id._val, previous._group._id._val
        creation = previous._creationEvent if previous is not None and previous._creationEvent is not None else event
        details = clone(self._details)
        details.__dict__.update(_owner=unloaded(ExperimenterI, owner), _group=unloaded(ExperimenterGroupI, group),
                                _creationEvent=unloaded(EventI, creation._id), _updateEvent=unloaded(EventI, event._id),
                                _permissions=self.permissions(self.group_permissions.get(group, "rw----")))
        obj.__dict__["_details"] = details

    def of_kind(self, kind: str) -> Iterable[Any]:
        """Stored objects of exactly ``kind`` (not its subclasses), by id."""
        return [obj for obj in self.tables.get(self.root(kind), {}).values() if kind_of(obj) == kind]


def _target(obj: Any, prop: str) -> int | None:
    ref = getattr(obj, f"_{prop}", None)
    return ref._id._val if ref is not None and ref._id is not None else None
