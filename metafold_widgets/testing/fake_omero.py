"""A fake OMERO connection: a TEST DOUBLE standing in for omero-py's BlitzGateway.

No OMERO server can run where this project is tested, so the tests hand this object to the
product wherever a BlitzGateway is expected. It keeps **real** ``omero.model`` objects in an
in-memory store and answers as an OMERO 5.6 server (Hibernate 3.6.10) does. What it
emulates, and the source each behaviour was read from (repositories under github.com/ome):

* **The model** (:mod:`.omero_model`, ``omero_model.json``, made by
  ``scripts/generate-omero-model``): omero-model ``src/main/resources/mappings/*.ome.xml``
  (tag and commit recorded in the JSON), read with the rules of omero-dsl-plugin
  ``src/main/java/ome/dsl/{SemanticType,Property,SemanticTypeProcessor}.java`` and of
  omero-model ``src/main/resources/templates/object.vm`` (how each property is mapped).
* **HQL** (:mod:`.omero_hql` and its helpers): every entity and property path is resolved
  against the model, then the query is evaluated over the store; nothing is answered by
  matching a query's text. Semantics are Hibernate 3.6's (joins, fetch joins filling the
  returned objects, ``distinct``, and a collection fetch with paging or distinct de-duplicated
  in memory as QueryTranslatorImpl.list does) and PostgreSQL's (three-valued logic, nulls last
  ascending). Errors as omero-server ``src/main/java/ome/services/query/StringQuery.java``
  reports them: omero.QueryException "Illegal query:<query>\n<Hibernate's message>", or
  ApiUsageException "Null parameters not allowed: <name>"; ``findByQuery`` with several
  objects, ApiUsageException (``ome/logic/QueryImpl.java``, throwNonUnique). Returned values
  are converted as omero-blitz ``src/main/java/omero/util/IceMapper.java`` (toRType) does.
* **Groups and ownership** (:mod:`.fake_omero_services`, :mod:`.fake_omero_save`): a call
  reads the group of its context's ``omero.group`` (-1: all the user's groups; unset: the
  session's group); a group the user is not in raises SecurityViolation
  (``ome/security/basic/BasicSecuritySystem.java``); writing with -1 or across groups raises
  SecurityViolation. Each group carries its permissions as omero-model defines them (a
  ``PermissionsI`` of ``rwra--``-style text, ``src/main/java/ome/model/internal/Permissions.java``
  at v5.7.5, parseString), on the group and on every object of the group: read-annotate
  (``rwra--``) unless ``group_permissions`` says otherwise; what is refused is emulated for
  read-annotate groups, whatever their permissions say: changing another user's object
  raises SecurityViolation "Updating ... not allowed." (``ome/security/basic/BasicACLVoter.java``);
  linking one's own annotation to another user's image is allowed; deleting another user's
  annotation fails the Delete2 with omero.cmd.GraphException "not permitted to delete ..."
  (``ome/services/graphs/GraphTraversal.java``), which ``wait=True`` raises as omero.CmdError
  (omero-py ``src/omero/clients.py``, waitOnCmd).
* **The session** (omero-py ``src/omero/gateway/__init__.py``): ``isConnected()`` returns a
  flag (isConnected); ``keepAlive()`` asks the server and returns False once the session is
  gone (keepAlive catches Ice.ObjectNotExistException); after ``expire_session()`` (side door:
  the server ended the session) every service call raises Ice.ObjectNotExistException (the
  session's servants are gone; ProxyObjectWrapper and its SafeCallWrapper re-raise it) while
  ``isConnected()`` stays True. ``getEventContext()`` is cached (``_ctx``, filled at connect)
  and holds the session's group; ``getGroupFromContext()`` reads that group, not SERVICE_OPTS;
  ``setGroupForSession(gid)`` returns None when already there, False for a group the user is
  not in, else asks for the active services, closes the stateful ones, calls
  setSecurityContext and returns True: SERVICE_OPTS is left alone, the cached event context
  is dropped (the next ``getEventContext`` asks the server). ``deleteObjects`` checks its
  arguments and builds the Delete2 as deleteObjects does, and submits it.
* **Pixels** (:mod:`.fake_omero_pixels`): ``createRawPixelsStore()`` reads computed planes
  (``plane()`` side door) with omero-server ``src/main/java/ome/services/RawPixelsBean.java``'s
  checks and errors.

Every service call counts as one round trip (``round_trips``, ``calls``; a Delete2 with its
wait is one) and can wait a simulated ``latency`` in seconds. ``getEventContext`` and
``getUser`` are free (the gateway caches them). Methods named ``add_*``, ``annotate``,
``link``, ``pairs``, ``plane``, ``expire_session``... are the test's side door
(:mod:`.fake_omero_sidedoor`): they cost no round trip. Importing this module needs omero-py.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

# isort: off
import omero
import omero.gateway  # before Ice and omero.cmd: omero-py needs omero.model loaded first
import Ice
import omero.cmd
# isort: on
from omero.gateway import ServiceOptsDict
from omero.model import ExperimenterGroupI, GroupExperimenterMapI, PermissionsI
from omero.rtypes import rbool, rstring

from .fake_omero_pixels import FakeRawPixelsStore
from .fake_omero_save import GraphWriter
from .fake_omero_services import DeleteHandle, FakeClient, QueryService, UpdateService, context_group
from .fake_omero_sidedoor import CLIENT_NS, SideDoor
from .fake_omero_store import Store
from .omero_hql_output import Materializer
from .omero_model import load_model

__all__ = ["FakeBlitzGateway", "FakeClient", "CLIENT_NS", "DEFAULT_GROUPS", "USER_ID", "OTHER_USER_ID"]

DEFAULT_GROUPS: Mapping[int, str] = {3: "Imaging Lab", 4: "Other Lab"}
USER_ID, USER_NAME = 2, "researcher"
OTHER_USER_ID = 7  # another member of the groups, for side-door objects the session user does not own
GROUP_PERMISSIONS = "rwra--"  # read-annotate
_QueryService, _UpdateService = QueryService, UpdateService  # the names tests patch


@dataclass
class _EventContext:
    """The fields of omero.sys.EventContext the product reads."""

    userId: int
    userName: str
    groupId: int
    groupName: str
    memberOfGroups: list[int]
    sessionUuid: str
    leaderOfGroups: list[int] = field(default_factory=list)
    isAdmin: bool = False
    groupPermissions: Any = None


class FakeBlitzGateway(SideDoor):
    """A test double for ``omero.gateway.BlitzGateway`` (see the module docstring)."""

    def __init__(self, *, groups: Mapping[int, str] = DEFAULT_GROUPS, default_group: int | None = None,
                 latency: float = 0.0, host: str = "omero.example.org", port: int = 4064,
                 session_key: str = "fake-session-0123456789abcdef",
                 group_permissions: Mapping[int, str] | None = None) -> None:
        self.groups = dict(groups)
        self.default_group = default_group if default_group is not None else next(iter(self.groups))
        self.latency = latency
        self.host, self.port = host, port
        self.c = FakeClient(host, port, session_key)
        self.SERVICE_OPTS = ServiceOptsDict()
        self.round_trips = 0
        self.calls: list[str] = []
        self.closed: bool | None = None  # None: open; else the ``hard`` flag close() got
        self.user_id = USER_ID
        self.model = load_model()
        self.store = Store(self.model, self.groups, GROUP_PERMISSIONS)
        for gid, text in (group_permissions or {}).items():
            self.store.set_group_permissions(gid, text)
        self.store.user(USER_ID, USER_NAME)
        self.store.user(OTHER_USER_ID, "colleague")
        self._session_group = self.default_group
        self._context_cached = True  # filled when the gateway connected
        self._expired = False
        self._stateful: list[FakeRawPixelsStore] = []
        self._query = QueryService(self.store, self._trip, self._read_groups)
        self._update = UpdateService(self._trip, lambda ctx: GraphWriter(self.store, USER_ID, self._write_group(ctx)))

    def __repr__(self) -> str:
        return f"FakeBlitzGateway(host={self.host!r}, round_trips={self.round_trips})"

    # --- round trips and the session -----------------------------------------------------------

    def _trip(self, name: str) -> None:
        self.round_trips += 1
        self.calls.append(name)
        if self.latency:
            time.sleep(self.latency)
        if self._expired:
            raise Ice.ObjectNotExistException(operation=name)

    def reset_counts(self) -> None:
        """Start counting round trips from zero."""
        self.round_trips = 0
        self.calls.clear()

    def expire_session(self) -> None:
        """Side door: the server ends the session (timeout, or closed elsewhere)."""
        self._expired = True

    def _session_group_id(self) -> int:
        return self._session_group

    def _read_groups(self, ctx: Any) -> frozenset[int]:
        wanted = context_group(ctx)
        if wanted is None:
            return frozenset({self._session_group})
        if wanted == "-1":
            return frozenset(self.groups)
        if int(wanted) not in self.groups:
            raise omero.SecurityViolation(None, None, f"User {USER_ID} is not a member of group {wanted} "
                                          "and cannot login")
        return frozenset({int(wanted)})

    def _write_group(self, ctx: Any) -> int:
        wanted = context_group(ctx)
        if wanted is None:
            return self._session_group
        if wanted == "-1":
            raise omero.SecurityViolation(None, None, "cannot write with omero.group=-1: choose the target group")
        (group,) = self._read_groups(ctx)
        return group

    # --- the BlitzGateway surface --------------------------------------------------------------

    def getQueryService(self) -> QueryService:
        return self._query

    def getUpdateService(self) -> UpdateService:
        return self._update

    def isConnected(self) -> bool:
        return self.closed is None

    def close(self, hard: bool = True) -> None:
        self.closed = hard

    def keepAlive(self) -> bool:
        try:
            self._trip("keepAlive")
        except Ice.ObjectNotExistException:
            return False
        return True

    def getEventContext(self) -> _EventContext:
        if not self._context_cached:
            self._trip("getEventContext")
            self._context_cached = True
        group = self._session_group
        return _EventContext(USER_ID, USER_NAME, group, self.groups[group], list(self.groups), self.c.getSessionId(),
                             groupPermissions=PermissionsI(self.store.group_permissions[group]))

    def getGroupFromContext(self) -> Any:
        group = self.getEventContext().groupId
        self._trip("getGroupFromContext")
        return omero.gateway.ExperimenterGroupWrapper(self, self._group(group))

    def setGroupForSession(self, groupid: int) -> bool | None:
        if self.getEventContext().groupId == groupid:
            return None
        if groupid not in self.groups:
            return False
        self._trip("activeServices")
        for store in list(self._stateful):
            store.close()
        self._trip("setSecurityContext")
        self._session_group = int(groupid)
        self._context_cached = False
        return True

    def getGroupsMemberOf(self) -> list[Any]:
        self._trip("getGroupsMemberOf")
        return [omero.gateway.ExperimenterGroupWrapper(self, self._group(gid)) for gid in self.groups]

    def getUser(self) -> Any:
        return omero.gateway.ExperimenterWrapper(self, self._copy(self.store.user(USER_ID)))

    def getObject(self, obj_type: str, oid: int | None = None, params: Any = None, attributes: Any = None,
                  opts: Any = None) -> Any:
        self._trip(f"getObject:{obj_type}")
        if obj_type.lower() == "experimentergroup":  # ezomero's set_group() checks membership this way
            if oid is None or int(oid) not in self.groups:
                return None
            return omero.gateway.ExperimenterGroupWrapper(self, self._group(int(oid), with_members=True))
        found = self._wrapped(obj_type, None if oid is None else [int(oid)], attributes)
        return found[0] if found else None

    def getObjects(self, obj_type: str, ids: Iterable[int] | None = None, params: Any = None,
                   attributes: Mapping[str, Any] | None = None, respect_order: bool = False,
                   opts: Any = None) -> list[Any]:
        self._trip(f"getObjects:{obj_type}")
        return self._wrapped(obj_type, None if ids is None else [int(i) for i in ids], attributes)

    def deleteObjects(self, graph_spec: str, obj_ids: list[int], deleteAnns: bool = False,
                      deleteChildren: bool = False, dryRun: bool = False, wait: bool = False) -> DeleteHandle:
        if "+" in graph_spec:
            raise AttributeError(f"Graph specs containing '+'' no longer supported: '{graph_spec}'")
        if not isinstance(obj_ids, list) or len(obj_ids) < 1:
            raise AttributeError("Must be a list of object IDs")
        kind = graph_spec.lstrip("/").split("/")[0]
        entity = self.model.entity(kind)
        if entity is None or not self.model.is_a(entity.name, "Annotation"):
            raise NotImplementedError(f"the fake OMERO deletes annotations only, not {graph_spec}")
        self._trip("deleteObjects")
        writer = GraphWriter(self.store, USER_ID, self._session_group)
        try:
            deleted = writer.delete(entity.name, [int(i) for i in obj_ids], self._read_groups(self.SERVICE_OPTS),
                                    dry_run=dryRun)
            response: Any = omero.cmd.Delete2Response(deletedObjects=deleted)
        except PermissionError as exc:
            response = omero.cmd.GraphException(category="graph-fail", name="graph-fail", parameters={},
                                                message=str(exc))
        handle = DeleteHandle(response)
        if wait:
            try:
                self._waitOnCmd(handle)
            finally:
                handle.close()
        return handle

    def _waitOnCmd(self, handle: DeleteHandle, loops: int = 10, ms: int = 500, failonerror: bool = True,
                   failontimeout: bool = False, closehandle: bool = False) -> DeleteHandle:
        return self.c.waitOnCmd(handle, loops=loops, ms=ms, failonerror=failonerror, failontimeout=failontimeout,
                                closehandle=closehandle)

    def createRawPixelsStore(self) -> FakeRawPixelsStore:
        self._trip("createRawPixelsStore")
        store = FakeRawPixelsStore(self._trip, self._pixels_for_store, self._stateful.remove)
        self._stateful.append(store)
        return store

    # --- helpers -------------------------------------------------------------------------------

    def _pixels_for_store(self, pixels_id: int, ctx: Any) -> dict[str, Any] | None:
        pixels = self.store.get("Pixels", pixels_id)
        if pixels is None or not self.store.visible(pixels, self._read_groups(ctx)):
            return None
        sizes = {f"size{axis}": getattr(pixels, f"_size{axis}")._val for axis in "XYZCT"}
        pixels_type = self.store.resolve(pixels._pixelsType, "PixelsType")._value._val
        return {"id": pixels_id, "type": pixels_type, "seed": pixels._image._id._val, **sizes}

    def _copy(self, obj: Any, loaded: tuple[str, ...] = ()) -> Any:
        """A client's copy; ``loaded`` names details references fetched with it."""
        root, oid = self.store.root_of(obj), obj._id._val
        fetched: dict[tuple[str, int, tuple[str, ...]], Any] = {}
        for name in loaded:
            ref = getattr(obj._details, f"_{name}", None) if obj._details is not None else None
            if ref is not None:
                fetched[(root, oid, ("details", name))] = self.store.resolve(ref, "Experimenter" if name == "owner"
                                                                             else "Event")
        return Materializer(self.model, self.store.resolve, self.store.root_of, fetched).entity(obj)

    def _wrapped(self, obj_type: str, ids: list[int] | None, attributes: Mapping[str, Any] | None) -> list[Any]:
        """Objects as BlitzGateway.getObjects returns them (owner and creation event fetched)."""
        wrapper = omero.gateway.KNOWN_WRAPPERS.get(obj_type.lower())
        entity = next((e for e in self.model.entities.values() if e.name.lower() == obj_type.lower()), None)
        if wrapper is None or entity is None:
            raise NotImplementedError(f"the fake OMERO does not load {obj_type} objects")
        groups = self._read_groups(self.SERVICE_OPTS)
        if ids is None:
            candidates = sorted(self.store.instances(entity.name), key=lambda o: o._id._val)
        else:
            candidates = [o for o in (self.store.get(entity.name, i) for i in sorted(set(ids))) if o is not None]
        found = []
        for obj in candidates:
            if not self.store.visible(obj, groups):
                continue
            if attributes and not all(omero.rtypes.unwrap(getattr(obj, f"_{k}", None)) == v
                                      for k, v in attributes.items()):
                continue
            found.append(wrapper(self, self._copy(obj, ("owner", "creationEvent"))))
        return found

    def _group(self, gid: int, with_members: bool = False) -> ExperimenterGroupI:
        group = ExperimenterGroupI(gid, True)
        group.setName(rstring(self.groups[gid]))
        group.getDetails().setPermissions(PermissionsI(self.store.group_permissions[gid]))
        if with_members:
            member = GroupExperimenterMapI()
            member.setParent(ExperimenterGroupI(gid, False))
            member.setChild(self.getUser()._obj)
            member.setOwner(rbool(False))
            group._groupExperimenterMapSeq = [member]
            group._groupExperimenterMapLoaded = True
        return group
