"""What the query service hands back: copies of stored objects and rtypes, as the server sends them.

* An entity goes out as a copy of the stored object (the caller's changes stay out of the store
  until it saves). Within one call each entity is copied once, so an entity met twice is the
  same Python object, as Ice keeps object identity within one message (IceMapper maps each
  Hibernate instance once per call).
* References are unloaded proxies (``DatasetI(5, False)``) unless fetched, or eager: a lazy
  many-to-one that was not initialised goes out unloaded. Collections are unloaded
  (``is...Loaded()`` false) unless fetched; ``mapValue`` (an eager element collection) always
  comes with its annotation; ``details.owner/group/creationEvent/updateEvent`` are proxies
  unless fetched (``join fetch l.details.owner``).
* ``projection`` values become rtypes as omero.util.IceMapper.toRType does: Long -> rlong,
  Integer -> rint, Double -> rdouble, Float -> rfloat, String -> rstring, Boolean -> rbool,
  Timestamp -> rtime, an entity -> robject, a units value (Length...) -> rmap of value, unit
  and symbol, a unit enum -> rstring, Permissions -> rmap of perm and can*; anything else
  (a NamedValue) is refused with ApiUsageException "Unsupported conversion to rtype".
"""
from __future__ import annotations

from typing import Any, Callable

import omero
from omero.model import NamedValue
from omero.rtypes import rbool, rdouble, rfloat, rint, rlong, rmap, robject, rstring, rtime

from .fake_omero_objects import clone, proxy
from .omero_model import Model

__all__ = ["Materializer"]

DETAILS_REFERENCES = ("owner", "group", "creationEvent", "updateEvent", "externalInfo")
RTYPES: dict[str, Callable[[Any], Any]] = {
    "java.lang.Long": rlong, "java.lang.Integer": rint, "java.lang.Double": rdouble, "java.lang.Float": rfloat,
    "java.lang.String": rstring, "java.lang.Boolean": rbool, "java.sql.Timestamp": rtime}


_TEMPLATES: dict[type, dict[str, Any]] = {}


class Materializer:
    """Copies for one service call (one identity map), with the call's fetched associations."""

    def __init__(self, model: Model, resolve: Callable[[Any, str], Any], root_of: Callable[[Any], str],
                 fetched: dict[tuple[str, int, tuple[str, ...]], Any] | None = None) -> None:
        self.model, self._resolve, self._root_of = model, resolve, root_of
        self.fetched = fetched or {}
        self.copies: dict[tuple[str, int], Any] = {}
        self._proxies: dict[tuple[type, int], Any] = {}

    def proxy(self, obj: Any) -> Any:
        """One unloaded proxy per entity per call (Hibernate's session has one proxy per id)."""
        key = (type(obj), obj._id._val)
        found = self._proxies.get(key)
        if found is None:
            found = self._proxies[key] = proxy(obj)
        return found

    def entity(self, obj: Any) -> Any:
        """The copy of a stored object that goes to the client."""
        root, oid = self._root_of(obj), obj._id._val
        found = self.copies.get((root, oid))
        if found is not None:
            return found
        new = clone(obj)
        self.copies[(root, oid)] = new
        kind = type(obj).__name__[:-1]
        for prop in self.model.own_properties(kind).values():
            attr, fetch_key = f"_{prop.name}", (root, oid, (prop.name,))
            if prop.kind == "reference":
                setattr(new, attr, self._reference(getattr(obj, attr, None), fetch_key, prop.target or "",
                                                   prop.fetch == "eager"))
            elif prop.kind == "collection":
                items = self.fetched.get(fetch_key)
                setattr(new, f"{attr}Seq", [self.entity(e) for e in items] if items is not None else [])
                setattr(new, f"{attr}Loaded", items is not None)
            elif prop.kind == "elements":
                values = getattr(obj, attr, None)
                setattr(new, attr, [NamedValue(nv.name, nv.value) for nv in values] if values is not None else None)
            elif prop.kind == "component" and prop.name == "details":
                new._details = self._details(obj._details, root, oid)
            elif prop.kind == "component":
                value = getattr(obj, attr, None)
                setattr(new, attr, clone(value) if value is not None else None)
            elif prop.kind == "counts":
                setattr(new, attr, None)
        return new

    def _reference(self, value: Any, fetch_key: tuple[str, int, tuple[str, ...]], target: str, eager: bool) -> Any:
        if value is None:
            return None
        if fetch_key in self.fetched:
            fetched = self.fetched[fetch_key]
            return self.entity(fetched) if fetched is not None else self.proxy(value)
        if eager:
            stored = self._resolve(value, target)
            if stored is not None:
                return self.entity(stored)
        return self.proxy(value)

    def _details(self, details: Any, root: str, oid: int) -> Any:
        if details is None:
            return None
        new = clone(details)
        for name in DETAILS_REFERENCES:
            value = getattr(details, f"_{name}", None)
            key = (root, oid, ("details", name))
            if value is not None or key in self.fetched:
                setattr(new, f"_{name}", self._reference(value, key, "", False) if value is not None else None)
        permissions = getattr(details, "_permissions", None)
        new._permissions = clone(permissions) if permissions is not None else None
        return new

    # --- rtypes --------------------------------------------------------------------------------

    def rtype(self, value: Any, kind: tuple[str, ...]) -> Any:
        """A selected value as the rtype IceMapper.toRType makes of it."""
        if value is None:
            return None
        tag = kind[0]
        if tag == "entity" or isinstance(value, omero.model.IObject):
            return robject(self.entity(value) if value.isLoaded() else value)
        if tag == "field":
            convert = RTYPES.get(kind[1])
            if convert is None:
                raise NotImplementedError(f"the fake OMERO does not return {kind[1]} values")
            return convert(value)
        if tag == "unit-enum":
            return rstring(value)
        if tag == "component":
            return self._component(value, kind[1])
        return _guess(value)

    def _component(self, value: Any, name: str) -> Any:
        if name == "Permissions":
            checks = ("canAnnotate", "canDelete", "canEdit", "canLink", "canChgrp", "canChown")
            return rmap({"perm": rstring(str(value)), **{check: rbool(getattr(value, check)()) for check in checks}})
        component = self.model.components.get(name)
        if component is not None and component.class_name.startswith("ome.model.units."):
            return rmap({"value": rdouble(value._value), "unit": rstring(str(value._unit)),
                         "symbol": rstring(value.getSymbol())})
        class_name = component.class_name if component else name
        raise omero.ApiUsageException(None, None, f"Unsupported conversion to rtype from {class_name}:{value}")


def _guess(value: Any) -> Any:
    if isinstance(value, bool):
        return rbool(value)
    if isinstance(value, int):
        return rlong(value)
    if isinstance(value, float):
        return rdouble(value)
    return rstring(str(value))
