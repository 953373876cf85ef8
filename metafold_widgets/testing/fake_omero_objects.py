"""Fast copies of omero.model objects for the fake OMERO.

omero-py's constructors and setters pass every field through a checking ``__setattr__``,
which makes them the fake's main cost on big stores and results. These helpers copy the
instance dictionary instead; the objects are the same classes with the same fields.
"""
from __future__ import annotations

from typing import Any

import Ice  # noqa: I001  (omero first: omero-py loads omero.model before Ice)
import omero
from omero.rtypes import rlong

__all__ = ["clone", "unloaded", "proxy", "graph_copy"]

_TEMPLATES: dict[type, dict[str, Any]] = {}


def clone(obj: Any) -> Any:
    """A shallow copy (``copy.copy`` without its reduce protocol)."""
    kind: Any = type(obj)
    new = kind.__new__(kind)
    new.__dict__.update(obj.__dict__)
    return new


def unloaded(cls: type, oid: Any) -> Any:
    """``cls(oid, False)``: an unloaded object of class ``cls`` (``oid`` an int or an rlong)."""
    template = _TEMPLATES.get(cls)
    if template is None:
        template = _TEMPLATES[cls] = dict(cls(0, False).__dict__)
    kind: Any = cls
    new = kind.__new__(kind)
    new.__dict__.update(template)
    new.__dict__["_id"] = rlong(oid) if isinstance(oid, int) else oid
    return new


def proxy(obj: Any) -> Any:
    """An unloaded copy of ``obj`` (its class and id), as a lazy reference leaves the server."""
    return unloaded(type(obj), obj._id)


def graph_copy(obj: Any, memo: dict[int, Any] | None = None) -> Any:
    """A copy of an object graph as Ice unmarshals it on the server: every model object, details,
    permissions, unit and NamedValue copied once (shared ones stay shared); rtypes, which
    clients never change in place, are reused. ``copy.deepcopy`` without its per-field cost."""
    memo = {} if memo is None else memo
    found = memo.get(id(obj))
    if found is not None:
        return found
    new = clone(obj)
    memo[id(obj)] = new
    fields = new.__dict__
    for key, value in obj.__dict__.items():
        if isinstance(value, Ice.Object) and not isinstance(value, omero.RType):
            fields[key] = graph_copy(value, memo)
        elif isinstance(value, list):
            fields[key] = [graph_copy(v, memo) if isinstance(v, Ice.Object) and not isinstance(v, omero.RType) else v
                           for v in value]
        elif isinstance(value, dict):
            fields[key] = dict(value)
    return new
