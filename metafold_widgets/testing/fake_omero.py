"""A fake OMERO connection: a TEST DOUBLE standing in for omero-py's BlitzGateway.

No OMERO server can run where this project is tested, so the tests hand this object to the
product wherever a BlitzGateway is expected. It keeps an in-memory store of **real**
``omero.model`` objects (ProjectI, DatasetI, ImageI with PixelsI, MapAnnotationI with
NamedValue, and the link classes) and implements the parts of the gateway and its services
that the product (and ezomero, for the benchmark) call:

* ``getUpdateService()``: ``saveAndReturnObject`` / ``saveAndReturnArray`` / ``saveObject``
  save whole graphs like the server: new objects get ids and the write group's details,
  unloaded references must exist, writes with group ``-1`` or in a group the user is not
  a member of, and links across groups, raise ``omero.SecurityViolation``;
* ``getQueryService()``: ``findAllByQuery``, ``projection``, ``find`` and ``get`` answer a
  small registry of known queries (the product's own, and those of omero-py's gateway and
  ezomero that the benchmark uses) from the store; any other query raises
  ``NotImplementedError`` naming it, so a changed query cannot pass unnoticed;
* ``getGroupsMemberOf``, ``getEventContext``, ``getGroupFromContext``, ``getUser``,
  ``getObject(s)`` (returning omero-py's own wrapper classes), ``SERVICE_OPTS`` (omero-py's
  ``ServiceOptsDict``), ``c`` (session id, host and port properties) and ``close``.

Every service call counts as one round trip (``round_trips``, ``calls``) and can wait a
simulated ``latency`` in seconds. ``getEventContext`` is free, as it is cached by the real
gateway. Methods named ``add_*``, ``annotate``, ``pairs``... are the test's side door into
the store: they cost no round trip. Importing this module needs omero-py.
"""
from __future__ import annotations

import copy
import datetime as dt
import itertools
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import omero
import omero.gateway
from omero.gateway import ServiceOptsDict
from omero.model import (DatasetAnnotationLinkI, DatasetI, DatasetImageLinkI, ExperimenterGroupI, ExperimenterI,
                         GroupExperimenterMapI, ImageAnnotationLinkI, ImageI, LengthI, MapAnnotationI, NamedValue,
                         PermissionsI, PixelsI, ProjectAnnotationLinkI, ProjectDatasetLinkI, ProjectI)
from omero.model.enums import UnitsLength
from omero.rtypes import rbool, rint, rlong, robject, rstring, rtime

__all__ = ["FakeBlitzGateway", "CLIENT_NS", "DEFAULT_GROUPS"]

CLIENT_NS = "openmicroscopy.org/omero/client/mapAnnotation"
DEFAULT_GROUPS: Mapping[int, str] = {3: "Imaging Lab", 4: "Other Lab"}
USER_ID, USER_NAME = 2, "researcher"

# What each entity links to: link class name -> (parent kind, child kind).
LINKS = {
    "ProjectDatasetLink": ("Project", "Dataset"),
    "DatasetImageLink": ("Dataset", "Image"),
    "ProjectAnnotationLink": ("Project", "MapAnnotation"),
    "DatasetAnnotationLink": ("Dataset", "MapAnnotation"),
    "ImageAnnotationLink": ("Image", "MapAnnotation"),
}
# Link collections per entity (as in omero.model: unload<Name>, copy<Name>, is<Name>Loaded).
COLLECTIONS = {
    "Project": ("DatasetLinks", "AnnotationLinks"),
    "Dataset": ("ProjectLinks", "ImageLinks", "AnnotationLinks"),
    "Image": ("DatasetLinks", "AnnotationLinks"),
    "MapAnnotation": ("AnnotationLinks",),
    "Pixels": (),
}
ENTITY_CLASSES = {"Project": ProjectI, "Dataset": DatasetI, "Image": ImageI, "MapAnnotation": MapAnnotationI,
                  "Pixels": PixelsI}
LINK_CLASSES = {"ProjectDatasetLink": ProjectDatasetLinkI, "DatasetImageLink": DatasetImageLinkI,
                "ProjectAnnotationLink": ProjectAnnotationLinkI, "DatasetAnnotationLink": DatasetAnnotationLinkI,
                "ImageAnnotationLink": ImageAnnotationLinkI}


def _kind(obj: Any) -> str:
    name = type(obj).__name__
    return name[:-1] if name.endswith("I") else name


def _load_collection(obj: Any, name: str, items: list) -> None:
    """Mark a link collection as fetched with ``items`` (as a ``join fetch`` does on the server).

    omero-py's generated ``_set<Name>`` setters flag the wrong attribute (``<name>Loaded``
    instead of ``_<name>Loaded``), so the two fields are set directly.
    """
    setattr(obj, f"_{name}Seq", items)
    setattr(obj, f"_{name}Loaded", True)


def _norm(hql: str) -> str:
    return " ".join(hql.split())


def _param(params: Any, name: str) -> Any:
    value = (params.map or {}).get(name) if params is not None else None
    if value is None:
        raise KeyError(f"query parameter :{name} is missing")
    return omero.rtypes.unwrap(value)


def _page(rows: list, params: Any) -> list:
    flt = getattr(params, "theFilter", None) if params is not None else None
    if flt is None:
        return rows
    offset = flt.offset.getValue() if flt.offset is not None else 0
    limit = flt.limit.getValue() if flt.limit is not None else None
    return rows[offset:offset + limit] if limit is not None else rows[offset:]


@dataclass
class _EventContext:
    userId: int
    userName: str
    groupId: int
    groupName: str
    memberOfGroups: list[int]
    sessionUuid: str
    leaderOfGroups: list[int] = field(default_factory=list)
    isAdmin: bool = False


class FakeClient:
    """Stands in for ``omero.client`` (``conn.c``): the session id and connection properties."""

    def __init__(self, host: str, port: int, session_key: str):
        self._properties = {"omero.host": host, "omero.port": str(port)}
        self._session_key = session_key
        self.keepalive: int | None = None

    def getSessionId(self) -> str:
        return self._session_key

    def getProperty(self, name: str) -> str:
        return self._properties.get(name, "")

    def enableKeepAlive(self, seconds: int) -> None:
        self.keepalive = seconds


class FakeBlitzGateway:
    """A test double for ``omero.gateway.BlitzGateway`` (see the module docstring)."""

    def __init__(self, *, groups: Mapping[int, str] = DEFAULT_GROUPS, default_group: int | None = None,
                 latency: float = 0.0, host: str = "omero.example.org", port: int = 4064,
                 session_key: str = "fake-session-0123456789abcdef"):
        self.groups = dict(groups)
        self.default_group = default_group if default_group is not None else next(iter(self.groups))
        self.latency = latency
        self.host, self.port = host, port
        self.c = FakeClient(host, port, session_key)
        self.SERVICE_OPTS = ServiceOptsDict()
        self.round_trips = 0
        self.calls: list[str] = []
        self.closed: bool | None = None  # None: open; else the ``hard`` flag close() got
        self._objects: dict[str, dict[int, Any]] = {kind: {} for kind in (*ENTITY_CLASSES, *LINKS)}
        self._children: dict[tuple[str, int], list[int]] = {}  # (link kind, parent id) -> link ids
        self._parents: dict[tuple[str, int], list[int]] = {}  # (link kind, child id) -> link ids
        self._ids = {kind: itertools.count(1) for kind in self._objects}
        self._pixels_of_image: dict[int, int] = {}
        self._query = _QueryService(self)
        self._update = _UpdateService(self)

    def __repr__(self) -> str:
        return f"FakeBlitzGateway(host={self.host!r}, round_trips={self.round_trips})"

    # --- round trips ------------------------------------------------------------------

    def _trip(self, name: str) -> None:
        self.round_trips += 1
        self.calls.append(name)
        if self.latency:
            time.sleep(self.latency)

    def reset_counts(self) -> None:
        """Start counting round trips from zero."""
        self.round_trips = 0
        self.calls.clear()

    # --- the BlitzGateway surface --------------------------------------------------------

    def getQueryService(self) -> "_QueryService":
        return self._query

    def getUpdateService(self) -> "_UpdateService":
        return self._update

    def isConnected(self) -> bool:
        return self.closed is None

    def close(self, hard: bool = True) -> None:
        self.closed = hard

    def getEventContext(self) -> _EventContext:
        return _EventContext(USER_ID, USER_NAME, self.default_group, self.groups[self.default_group],
                             list(self.groups), self.c.getSessionId())

    def getGroupsMemberOf(self) -> list[Any]:
        self._trip("getGroupsMemberOf")
        return [omero.gateway.ExperimenterGroupWrapper(self, self._group(gid)) for gid in self.groups]

    def getGroupFromContext(self) -> Any:
        self._trip("getGroupFromContext")
        current = self.SERVICE_OPTS.getOmeroGroup()
        gid = int(current) if current not in (None, "-1") else self.default_group
        return omero.gateway.ExperimenterGroupWrapper(self, self._group(gid))

    def getUser(self) -> Any:
        user = ExperimenterI(USER_ID, True)
        user.setOmeName(rstring(USER_NAME))
        return omero.gateway.ExperimenterWrapper(self, user)

    def getObject(self, obj_type: str, oid: int | None = None, params: Any = None, attributes: Any = None,
                  opts: Any = None) -> Any:
        self._trip(f"getObject:{obj_type}")
        if obj_type.lower() == "experimentergroup":  # ezomero's set_group() checks membership this way
            if oid is None or int(oid) not in self.groups:
                return None
            return omero.gateway.ExperimenterGroupWrapper(self, self._group(int(oid), with_members=True))
        kind = self._entity_kind(obj_type)
        obj = self._objects[kind].get(int(oid)) if oid is not None else None
        if obj is None or not self._visible(obj, self.SERVICE_OPTS):
            return None
        return omero.gateway.KNOWN_WRAPPERS[kind.lower()](self, self._loaded_copy(kind, obj))

    def getObjects(self, obj_type: str, ids: Iterable[int] | None = None, params: Any = None,
                   attributes: Mapping[str, Any] | None = None, respect_order: bool = False,
                   opts: Any = None) -> list[Any]:
        self._trip(f"getObjects:{obj_type}")
        kind = self._entity_kind(obj_type)
        wanted = None if ids is None else [int(i) for i in ids]
        objects = [o for oid, o in sorted(self._objects[kind].items()) if wanted is None or oid in wanted]
        if attributes:
            objects = [o for o in objects if all(omero.rtypes.unwrap(getattr(o, f"get{k[0].upper()}{k[1:]}")()) == v
                                                 for k, v in attributes.items())]
        wrap = omero.gateway.KNOWN_WRAPPERS[kind.lower()]
        return [wrap(self, self._loaded_copy(kind, o)) for o in objects if self._visible(o, self.SERVICE_OPTS)]

    # --- the test's side door (no round trips) ----------------------------------------------

    def add_project(self, name: str, group: int | None = None) -> int:
        """A project made in OMERO.web by someone: its id."""
        project = ProjectI()
        project.setName(rstring(name))
        return self._insert("Project", project, group)

    def add_dataset(self, name: str, project_id: int | None = None, group: int | None = None) -> int:
        """A dataset (in ``project_id`` when given): its id."""
        dataset = DatasetI()
        dataset.setName(rstring(name))
        dataset_id = self._insert("Dataset", dataset, group)
        if project_id is not None:
            self._insert_link("ProjectDatasetLink", project_id, dataset_id, group)
        return dataset_id

    def add_image(self, dataset_id: int, name: str, *, size: Sequence[int] = (512, 512, 1, 1, 1),
                  physical_size: Sequence[float | None] = (0.1, 0.1, None), unit: str = "MICROMETER",
                  acquired: dt.datetime | None = None, key_values: Iterable[tuple[str, str]] | None = None,
                  ns: str | None = CLIENT_NS, group: int | None = None) -> int:
        """An imported image with its pixels, in a dataset, optionally with one map annotation."""
        group = group if group is not None else self._group_id(self._objects["Dataset"][dataset_id])
        image = ImageI()
        image.setName(rstring(name))
        if acquired is not None:
            image.setAcquisitionDate(rtime(int(acquired.timestamp() * 1000)))
        image.unloadPixels()
        image_id = self._insert("Image", image, group)
        pixels = PixelsI()
        for axis, value in zip("XYZCT", size):
            getattr(pixels, f"setSize{axis}")(rint(value))
        for axis, value in zip("XYZ", physical_size):
            if value is not None:
                getattr(pixels, f"setPhysicalSize{axis}")(LengthI(value, getattr(UnitsLength, unit)))
        pixels.setImage(ImageI(image_id, False))
        self._insert("Pixels", pixels, group)
        self._insert_link("DatasetImageLink", dataset_id, image_id, group)
        if key_values is not None:
            self.annotate("Image", image_id, key_values, ns=ns)
        return image_id

    def annotate(self, kind: str, oid: int, pairs: Iterable[tuple[str, str]], ns: str | None = CLIENT_NS) -> int:
        """A map annotation someone added (e.g. in OMERO.web) to an object: its id."""
        group = self._group_id(self._objects[kind][oid])
        annotation = MapAnnotationI()
        if ns is not None:
            annotation.setNs(rstring(ns))
        annotation.setMapValue([NamedValue(k, v) for k, v in pairs])
        annotation_id = self._insert("MapAnnotation", annotation, group)
        self._insert_link(f"{kind}AnnotationLink", oid, annotation_id, group)
        return annotation_id

    def edit_annotation(self, annotation_id: int, pairs: Iterable[tuple[str, str]]) -> None:
        """Replace a map annotation's pairs, as a person editing it in OMERO.web does."""
        edited = copy.deepcopy(self._objects["MapAnnotation"][annotation_id])
        edited.setMapValue([NamedValue(k, v) for k, v in pairs])
        self._objects["MapAnnotation"][annotation_id] = edited

    def delete(self, kind: str, oid: int) -> None:
        """Delete an object and every link to or from it."""
        self._objects[kind].pop(oid)
        for link_kind, (parent_kind, child_kind) in LINKS.items():
            if kind == parent_kind:
                for link_id in list(self._children.get((link_kind, oid), [])):
                    self._drop_link(link_kind, link_id)
            if kind == child_kind:
                for link_id in list(self._parents.get((link_kind, oid), [])):
                    self._drop_link(link_kind, link_id)

    def objects(self, kind: str) -> list[Any]:
        """Copies of every stored object of ``kind`` ('Project', 'DatasetAnnotationLink'...), by id."""
        return [copy.deepcopy(o) for _, o in sorted(self._objects[kind].items())]

    def count(self, kind: str) -> int:
        """How many objects of ``kind`` the store holds."""
        return len(self._objects[kind])

    def group_of(self, kind: str, oid: int) -> int:
        """The group that owns an object."""
        return self._group_id(self._objects[kind][oid])

    def name_of(self, kind: str, oid: int) -> str:
        """An object's name."""
        return self._objects[kind][oid].getName().getValue()

    def parents(self, link_kind: str, child_id: int) -> list[int]:
        """Ids of the parents linked to ``child_id`` by ``link_kind`` links."""
        return [self._objects[link_kind][lid].getParent().getId().getValue()
                for lid in self._parents.get((link_kind, child_id), [])]

    def children(self, link_kind: str, parent_id: int) -> list[int]:
        """Ids of the children linked to ``parent_id`` by ``link_kind`` links."""
        return [self._objects[link_kind][lid].getChild().getId().getValue()
                for lid in self._children.get((link_kind, parent_id), [])]

    def map_annotations(self, kind: str, oid: int, ns: str | None = None) -> list[tuple[int, str | None, list]]:
        """The stored map annotations of an object: (id, namespace, [(key, value)...]), oldest first."""
        result = []
        for annotation_id in sorted(self.children(f"{kind}AnnotationLink", oid)):
            annotation = self._objects["MapAnnotation"][annotation_id]
            annotation_ns = omero.rtypes.unwrap(annotation.getNs())
            if ns is None or annotation_ns == ns:
                result.append((annotation_id, annotation_ns, [(nv.name, nv.value) for nv in annotation.getMapValue()]))
        return result

    def pairs(self, kind: str, oid: int, ns: str = CLIENT_NS) -> list[tuple[str, str]]:
        """Every stored (key, value) of an object's map annotations in ``ns``."""
        return [pair for _, _, pairs in self.map_annotations(kind, oid, ns) for pair in pairs]

    # --- store internals -----------------------------------------------------------------

    def _group(self, gid: int, with_members: bool = False) -> ExperimenterGroupI:
        group = ExperimenterGroupI(gid, True)
        group.setName(rstring(self.groups[gid]))
        group.getDetails().setPermissions(PermissionsI("rwra--"))  # read-annotate
        if with_members:
            member = GroupExperimenterMapI()
            member.setParent(ExperimenterGroupI(gid, False))
            member.setChild(self.getUser()._obj)
            member.setOwner(rbool(False))
            _load_collection(group, "groupExperimenterMap", [member])
        return group

    @staticmethod
    def _group_id(obj: Any) -> int:
        return obj.getDetails().getGroup().getId().getValue()

    def _entity_kind(self, obj_type: str) -> str:
        for kind in ENTITY_CLASSES:
            if kind.lower() == obj_type.lower():
                return kind
        raise NotImplementedError(f"the fake OMERO store holds no {obj_type} objects")

    def _set_details(self, obj: Any, group: int) -> None:
        obj.getDetails().setGroup(ExperimenterGroupI(group, False))
        obj.getDetails().setOwner(ExperimenterI(USER_ID, False))

    def _insert(self, kind: str, obj: Any, group: int | None) -> int:
        oid = next(self._ids[kind])
        obj.setId(rlong(oid))
        self._set_details(obj, group if group is not None else self.default_group)
        for collection in COLLECTIONS[kind]:
            getattr(obj, f"unload{collection}")()
        self._objects[kind][oid] = obj
        if kind == "Pixels":
            self._pixels_of_image[obj.getImage().getId().getValue()] = oid
        return oid

    def _insert_link(self, link_kind: str, parent_id: int, child_id: int, group: int | None) -> int:
        parent_kind, child_kind = LINKS[link_kind]
        link = LINK_CLASSES[link_kind]()
        link.setParent(ENTITY_CLASSES[parent_kind](parent_id, False))
        link.setChild(ENTITY_CLASSES[child_kind](child_id, False))
        link_id = next(self._ids[link_kind])
        link.setId(rlong(link_id))
        self._set_details(link, group if group is not None else self.default_group)
        self._objects[link_kind][link_id] = link
        self._children.setdefault((link_kind, parent_id), []).append(link_id)
        self._parents.setdefault((link_kind, child_id), []).append(link_id)
        return link_id

    def _drop_link(self, link_kind: str, link_id: int) -> None:
        link = self._objects[link_kind].pop(link_id)
        self._children[(link_kind, link.getParent().getId().getValue())].remove(link_id)
        self._parents[(link_kind, link.getChild().getId().getValue())].remove(link_id)

    def _links_between(self, link_kind: str, parent_id: int, child_id: int) -> list[int]:
        return [lid for lid in self._children.get((link_kind, parent_id), [])
                if self._objects[link_kind][lid].getChild().getId().getValue() == child_id]

    def _visible(self, obj: Any, ctx: Any) -> bool:
        """Whether a query in context ``ctx`` sees ``obj``: its group, or any of the user's with -1."""
        wanted = ctx.getOmeroGroup() if ctx is not None else None
        group = self._group_id(obj)
        if wanted in (None, ""):
            return group == self.default_group
        return group in self.groups if str(wanted) == "-1" else group == int(wanted)

    @staticmethod
    def _loaded_copy(kind: str, obj: Any) -> Any:
        """A copy for a client: what it changes stays out of the store until it saves."""
        return copy.deepcopy(obj)

    def _write_group(self, ctx: Any) -> int:
        wanted = ctx.getOmeroGroup() if ctx is not None else None
        if wanted in (None, ""):
            return self.default_group
        if str(wanted) == "-1":
            raise omero.SecurityViolation(None, None, "cannot write with omero.group=-1: choose the target group")
        if int(wanted) not in self.groups:
            raise omero.SecurityViolation(None, None, f"not a member of group {wanted}")
        return int(wanted)

    # --- saving graphs -------------------------------------------------------------------

    def _save(self, obj: Any, ctx: Any) -> Any:
        group = self._write_group(ctx)
        graph = copy.deepcopy(obj)  # the server works on what was sent, never on the caller's object
        self._walk(graph, group, {})
        return graph

    def _walk(self, node: Any, group: int, seen: dict[int, Any]) -> None:
        if id(node) in seen:
            return
        seen[id(node)] = node
        kind = _kind(node)
        if kind == "Annotation" or (kind not in ENTITY_CLASSES and kind not in LINKS):
            raise NotImplementedError(f"the fake OMERO store cannot save {type(node).__name__} objects")
        if not node.isLoaded():
            stored = self._objects[kind].get(node.getId().getValue())
            if stored is None:
                raise omero.ValidationException(None, None, f"{kind}:{node.getId().getValue()} does not exist")
            if self._group_id(stored) != group:
                raise omero.SecurityViolation(None, None, f"cannot link {kind}:{node.getId().getValue()} of group "
                                              f"{self._group_id(stored)} to objects of group {group}")
            return
        if node.getId() is None:
            node.setId(rlong(next(self._ids[kind])))
        else:
            stored = self._objects[kind].get(node.getId().getValue())
            if stored is None:
                raise omero.ValidationException(None, None, f"{kind}:{node.getId().getValue()} does not exist")
            if self._group_id(stored) != group:
                raise omero.SecurityViolation(None, None, f"{kind}:{node.getId().getValue()} belongs to group "
                                              f"{self._group_id(stored)}, not to the write group {group}")
        self._set_details(node, group)
        if kind in LINKS:
            self._walk(node.getParent(), group, seen)
            self._walk(node.getChild(), group, seen)
            self._store_link(kind, node)
            return
        stored = copy.deepcopy(node)
        for collection in COLLECTIONS[kind]:
            getattr(stored, f"unload{collection}")()
        if kind == "Image":
            stored.unloadPixels()
        if kind == "Pixels":
            stored.setImage(ImageI(node.getImage().getId().getValue(), False))
            self._pixels_of_image[node.getImage().getId().getValue()] = node.getId().getValue()
        self._objects[kind][node.getId().getValue()] = stored
        for collection in COLLECTIONS[kind]:
            if getattr(node, f"is{collection}Loaded")():
                for link in getattr(node, f"copy{collection}")():
                    self._walk(link, group, seen)

    def _store_link(self, kind: str, link: Any) -> None:
        parent_id, child_id = link.getParent().getId().getValue(), link.getChild().getId().getValue()
        link_id = link.getId().getValue()
        if link_id in self._objects[kind]:
            return
        if self._links_between(kind, parent_id, child_id):
            raise omero.ValidationException(None, None, f"{kind} {parent_id}->{child_id} exists already")
        parent_kind, child_kind = LINKS[kind]
        stored = LINK_CLASSES[kind]()
        stored.setId(rlong(link_id))
        stored.setParent(ENTITY_CLASSES[parent_kind](parent_id, False))
        stored.setChild(ENTITY_CLASSES[child_kind](child_id, False))
        stored.getDetails().setGroup(link.getDetails().getGroup())
        stored.getDetails().setOwner(link.getDetails().getOwner())
        self._objects[kind][link_id] = stored
        self._children.setdefault((kind, parent_id), []).append(link_id)
        self._parents.setdefault((kind, child_id), []).append(link_id)


class _UpdateService:
    def __init__(self, conn: FakeBlitzGateway):
        self._conn = conn

    def saveAndReturnObject(self, obj: Any, ctx: Any = None) -> Any:
        self._conn._trip("saveAndReturnObject")
        return self._conn._save(obj, ctx)

    def saveObject(self, obj: Any, ctx: Any = None) -> None:
        self._conn._trip("saveObject")
        self._conn._save(obj, ctx)

    def saveAndReturnArray(self, objects: Sequence[Any], ctx: Any = None) -> list[Any]:
        self._conn._trip("saveAndReturnArray")
        return [self._conn._save(obj, ctx) for obj in objects]


class _QueryService:
    """Answers the registered queries from the store; anything else is NotImplementedError."""

    def __init__(self, conn: FakeBlitzGateway):
        self._conn = conn
        self._exact: dict[str, Callable[[Any, Any], list]] = {}
        self._rows_cache: dict[int, tuple[Any, str | None, list[tuple]]] = {}
        self._patterns: list[tuple[re.Pattern[str], Callable[..., list]]] = []
        self._register()

    # the four query methods the product, the gateway and ezomero use
    def findAllByQuery(self, hql: str, params: Any, ctx: Any = None) -> list:
        self._conn._trip("findAllByQuery")
        return self._answer(hql, params, ctx)

    def findByQuery(self, hql: str, params: Any, ctx: Any = None) -> Any:
        self._conn._trip("findByQuery")
        rows = self._answer(hql, params, ctx)
        return rows[0] if rows else None

    def projection(self, hql: str, params: Any, ctx: Any = None) -> list:
        self._conn._trip("projection")
        return self._answer(hql, params, ctx)

    def find(self, kind: str, oid: int, ctx: Any = None) -> Any:
        self._conn._trip(f"find:{kind}")
        obj = self._conn._objects[self._conn._entity_kind(kind)].get(int(oid))
        return copy.deepcopy(obj) if obj is not None and self._conn._visible(obj, ctx) else None

    def get(self, kind: str, oid: int, ctx: Any = None) -> Any:
        obj = self.find(kind, oid, ctx)
        if obj is None:
            raise omero.ValidationException(None, None, f"{kind}:{oid} does not exist")
        return obj

    def _answer(self, hql: str, params: Any, ctx: Any) -> list:
        text = _norm(hql)
        handler = self._exact.get(text)
        if handler is not None:
            return handler(params, ctx)
        for pattern, pattern_handler in self._patterns:
            match = pattern.fullmatch(text)
            if match:
                return pattern_handler(params, ctx, *match.groups())
        raise NotImplementedError(f"the fake OMERO does not know this query: {text}")

    # --- the registry ----------------------------------------------------------------------

    def _register(self) -> None:
        exact = self._exact
        exact[_norm(
            "select link from DatasetAnnotationLink link join fetch link.child ann "
            "join fetch link.parent ds left outer join fetch ds.projectLinks plink "
            "where ann.ns in (:namespaces) and ds.id in ("
            "select l.parent.id from DatasetAnnotationLink l join l.child a join a.mapValue mv "
            "where a.ns = :product_ns and mv.name = :uid_key and mv.value = :uid)")] = self._project_dataset
        exact[_norm(
            "select link from DatasetAnnotationLink link join fetch link.child ann "
            "where link.parent.id = :id and ann.ns in (:namespaces)")] = self._dataset_annotations
        exact["select p.id, p.name from Project p where p.name = :name order by p.id"] = self._projects_by_name
        exact["select p.id, p.name from Project p where p.id = :id"] = self._projects_by_id
        exact["select p.id, p.name from Project p order by lower(p.name), p.id"] = self._all_projects
        exact[_norm(
            "select img.id, img.name, img.acquisitionDate, pix from DatasetImageLink link "
            "join link.child img left outer join img.pixels pix "
            "where link.parent.id = :id order by img.id")] = self._dataset_images
        exact[_norm(
            "select ds.id, ds.name, img.id, img.name, img.acquisitionDate, pix from ProjectDatasetLink plink "
            "join plink.child ds join ds.imageLinks link join link.child img left outer join img.pixels pix "
            "where plink.parent.id = :id order by ds.id, img.id")] = self._project_images
        for kind in ("Project", "Dataset", "Image"):
            base = (f"select link.parent.id, ann.id, ann.ns, index(mv), mv.name, mv.value "
                    f"from {kind}AnnotationLink link join link.child ann join ann.mapValue mv "
                    f"where link.parent.id in (:ids)")
            exact[base] = (lambda p, c, kind=kind: self._key_values(kind, p, c, False))
            exact[base + " and ann.ns = :ns"] = (lambda p, c, kind=kind: self._key_values(kind, p, c, True))
        # ezomero.get_image_ids(conn, dataset=...)
        exact["SELECT i.id FROM Dataset d JOIN d.imageLinks dil JOIN dil.child i WHERE d.id=:dataset"] = \
            self._ezomero_dataset_image_ids
        # omero.gateway.BlitzObjectWrapper._loadAnnotationLinks (listAnnotations, used by ezomero)
        self._patterns.append((re.compile(
            r"select l from (\w+)AnnotationLink as l join fetch l\.details\.owner join fetch "
            r"l\.details\.creationEvent join fetch l\.child as a join fetch a\.details\.owner left outer join "
            r"fetch a\.file join fetch a\.details\.creationEvent where l\.parent\.id=(\d+)"), self._gateway_links))

    # --- answers -------------------------------------------------------------------------

    @property
    def _store(self) -> dict[str, dict[int, Any]]:
        return self._conn._objects

    def _annotation_links(self, kind: str, parent_id: int, namespaces: Iterable[str] | None) -> list[Any]:
        """Copies of the parent's annotation links with their annotation loaded (the parent unloaded)."""
        wanted = None if namespaces is None else set(namespaces)
        links = []
        for link_id in self._conn._children.get((f"{kind}AnnotationLink", parent_id), []):
            link = copy.deepcopy(self._store[f"{kind}AnnotationLink"][link_id])
            annotation = self._store["MapAnnotation"][link.getChild().getId().getValue()]
            if wanted is not None and omero.rtypes.unwrap(annotation.getNs()) not in wanted:
                continue
            link.setChild(copy.deepcopy(annotation))
            links.append(link)
        return links

    def _project_dataset(self, params: Any, ctx: Any) -> list:
        namespaces = _param(params, "namespaces")
        product_ns, uid_key, uid = _param(params, "product_ns"), _param(params, "uid_key"), _param(params, "uid")
        found = []
        for dataset_id, dataset in sorted(self._store["Dataset"].items()):
            if not self._conn._visible(dataset, ctx):
                continue
            for link in self._annotation_links("Dataset", dataset_id, [product_ns]):
                if any(nv.name == uid_key and nv.value == uid for nv in link.getChild().getMapValue()):
                    found.append(dataset_id)
                    break
        result = []
        for dataset_id in found:
            for link in self._annotation_links("Dataset", dataset_id, namespaces):
                parent = copy.deepcopy(self._store["Dataset"][dataset_id])
                _load_collection(parent, "projectLinks",  # "left outer join fetch ds.projectLinks"
                                 [copy.deepcopy(self._store["ProjectDatasetLink"][lid])
                                  for lid in self._conn._parents.get(("ProjectDatasetLink", dataset_id), [])])
                link.setParent(parent)
                result.append(link)
        return result

    def _dataset_annotations(self, params: Any, ctx: Any) -> list:
        dataset = self._store["Dataset"].get(_param(params, "id"))
        if dataset is None or not self._conn._visible(dataset, ctx):
            return []
        return self._annotation_links("Dataset", dataset.getId().getValue(), _param(params, "namespaces"))

    def _projects(self, ctx: Any, keep: Callable[[int, Any], bool]) -> list:
        return [[rlong(pid), rstring(p.getName().getValue())] for pid, p in sorted(self._store["Project"].items())
                if self._conn._visible(p, ctx) and keep(pid, p)]

    def _projects_by_name(self, params: Any, ctx: Any) -> list:
        name = _param(params, "name")
        return self._projects(ctx, lambda pid, p: p.getName().getValue() == name)

    def _projects_by_id(self, params: Any, ctx: Any) -> list:
        wanted = _param(params, "id")
        return self._projects(ctx, lambda pid, p: pid == wanted)

    def _all_projects(self, params: Any, ctx: Any) -> list:
        rows = self._projects(ctx, lambda pid, p: True)
        return sorted(rows, key=lambda row: (row[1].getValue().lower(), row[0].getValue()))

    def _image_row(self, image_id: int) -> list:
        image = self._store["Image"][image_id]
        pixels_id = self._conn._pixels_of_image.get(image_id)
        # a projection's objects are read-only results: a shallow copy keeps the store safe from setters
        pix = robject(copy.copy(self._store["Pixels"][pixels_id])) if pixels_id is not None else None
        date = image.getAcquisitionDate()
        return [rlong(image_id), rstring(image.getName().getValue()), rtime(date.getValue()) if date else None, pix]

    def _dataset_images(self, params: Any, ctx: Any) -> list:
        dataset_id = _param(params, "id")
        dataset = self._store["Dataset"].get(dataset_id)
        if dataset is None or not self._conn._visible(dataset, ctx):
            return []
        image_ids = sorted(self._conn.children("DatasetImageLink", dataset_id))
        return [self._image_row(i) for i in _page(image_ids, params)]

    def _project_images(self, params: Any, ctx: Any) -> list:
        project_id = _param(params, "id")
        project = self._store["Project"].get(project_id)
        if project is None or not self._conn._visible(project, ctx):
            return []
        pairs = sorted((d, i) for d in self._conn.children("ProjectDatasetLink", project_id)
                       for i in self._conn.children("DatasetImageLink", d))
        rows = []
        for dataset_id, image_id in _page(pairs, params):
            rows.append([rlong(dataset_id), rstring(self._store["Dataset"][dataset_id].getName().getValue()),
                         *self._image_row(image_id)])
        return rows

    def _key_values(self, kind: str, params: Any, ctx: Any, with_ns: bool) -> list:
        ns = _param(params, "ns") if with_ns else None
        rows = []
        for parent_id in _param(params, "ids"):
            parent = self._store[kind].get(parent_id)
            if parent is None or not self._conn._visible(parent, ctx):
                continue
            for link_id in self._conn._children.get((f"{kind}AnnotationLink", parent_id), []):
                annotation_id = self._store[f"{kind}AnnotationLink"][link_id].getChild().getId().getValue()
                annotation_ns, tails = self._value_rows(annotation_id)
                if with_ns and annotation_ns != ns:
                    continue
                parent = rlong(parent_id)
                rows.extend([parent, *tail] for tail in tails)
        rows.reverse()  # a projection without "order by" has no order: make callers sort
        return rows

    def _value_rows(self, annotation_id: int) -> tuple[str | None, list[tuple]]:
        """An annotation's namespace and its rows (id, ns, index, name, value) as rtypes, cached.

        Building rtypes is the fake's main cost, so the rows are kept per stored annotation
        object (a save replaces that object, which makes the cache miss).
        """
        annotation = self._store["MapAnnotation"][annotation_id]
        cached = self._rows_cache.get(annotation_id)
        if cached is None or cached[0] is not annotation:
            ns = omero.rtypes.unwrap(annotation.getNs())
            head = (rlong(annotation_id), rstring(ns) if ns is not None else None)
            tails = [(*head, rint(i), rstring(nv.name), rstring(nv.value))
                     for i, nv in enumerate(annotation.getMapValue() or [])]
            cached = self._rows_cache[annotation_id] = (annotation, ns, tails)
        return cached[1], cached[2]

    def _ezomero_dataset_image_ids(self, params: Any, ctx: Any) -> list:
        return [[rlong(i)] for i in sorted(self._conn.children("DatasetImageLink", _param(params, "dataset")))]

    def _gateway_links(self, params: Any, ctx: Any, kind: str, parent_id: str) -> list:
        links = self._annotation_links(kind, int(parent_id), None)
        for link in links:
            link.getDetails().setOwner(ExperimenterI(USER_ID, False))
        return links
