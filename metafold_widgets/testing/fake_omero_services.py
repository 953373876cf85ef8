"""The fake OMERO's services: IQuery over the HQL engine, IUpdate, the delete handle, the client.

Each service method is one round trip (``trip``). Queries run in the call's group context:
``omero.group`` of the context passed (a group id, or -1 for all the user's groups), else the
session's group; a group the user is not in is refused as BasicSecuritySystem does ("User 2
is not a member of group 77 and cannot login").

* ``findAllByQuery`` returns the selected objects (copies; the same object where Hibernate's
  session would give the same instance); ``findByQuery`` returns one object or None and, as
  ome.logic.QueryImpl.findByQuery, raises ApiUsageException when the query gives more than one
  distinct object (the same instance repeated by a fetch join is one: Hibernate's
  uniqueResult); ``projection`` returns rows of rtypes (omero.util.IceMapper.toRType).
* A query Hibernate cannot compile raises ``omero.QueryException`` with ome.services.query.
  StringQuery's message: "Illegal query:<query>\n<Hibernate's message> [<query>]"; a missing
  named parameter raises ApiUsageException "Null parameters not allowed: <name>"; paging comes
  from ``ParametersI.page(offset, limit)`` (Query.doInHibernate's setFirstResult/setMaxResults).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import omero
import omero.cmd
import omero.gateway  # noqa: F401  (before omero.cmd: omero-py needs omero.model loaded first)
from omero.rtypes import unwrap

from .fake_omero_save import GraphWriter
from .fake_omero_store import Store
from .omero_hql import ExecutionError, HqlEngine, ParameterMissing, QueryError
from .omero_hql_output import Materializer

__all__ = ["QueryService", "UpdateService", "DeleteHandle", "FakeClient", "context_group"]


def context_group(ctx: Any) -> str | None:
    """``omero.group`` of a call context (ServiceOptsDict, a plain dict, or None)."""
    if ctx is None:
        return None
    value = ctx.getOmeroGroup() if hasattr(ctx, "getOmeroGroup") else ctx.get("omero.group")
    return None if value in (None, "") else str(value)


def _parameters(params: Any) -> tuple[dict[str, Any], int, int | None]:
    """The named values (unwrapped) and the page of an ``omero.sys.Parameters``."""
    if params is None:
        return {}, 0, None
    values = {name: unwrap(value) for name, value in (params.map or {}).items() if value is not None}
    flt = getattr(params, "theFilter", None)
    offset = unwrap(flt.offset) if flt is not None and flt.offset is not None else 0
    limit = unwrap(flt.limit) if flt is not None and flt.limit is not None else None
    return values, int(offset or 0), None if limit is None else int(limit)


class QueryService:
    """IQuery: findAllByQuery, findByQuery, projection, find, get."""

    def __init__(self, store: Store, trip: Callable[[str], None],
                 read_groups: Callable[[Any], frozenset[int]]) -> None:
        self._store, self._trip, self._groups = store, trip, read_groups
        self._engine = HqlEngine(store)

    def _run(self, query: str, params: Any, ctx: Any) -> tuple[Any, Materializer]:
        groups = self._groups(ctx)
        values, offset, limit = _parameters(params)
        try:
            result = self._engine.run(query, values, groups, offset, limit)
        except QueryError as exc:
            raise omero.QueryException(None, "ome.services.query.QueryException",
                                       f"Illegal query:{query}\n{exc} [{query}]") from None
        except ParameterMissing as exc:
            raise omero.ApiUsageException(None, "ome.conditions.ApiUsageException", str(exc)) from None
        except ExecutionError as exc:
            raise omero.InternalException(None, "org.hibernate.exception.SQLGrammarException",
                                          f"could not execute query: {exc}") from None
        materializer = Materializer(self._store.model, self._store.resolve, self._store.root_of, result.fetched)
        return result, materializer

    def _objects(self, query: str, params: Any, ctx: Any) -> list[Any]:
        result, materializer = self._run(query, params, ctx)
        if len(result.types) != 1 or result.types[0][0] != "entity":
            raise omero.ApiUsageException(None, None, f"Query:\n\t{query}\nhas returned values that are not IObjects. "
                                          "Please use projection for queries which return values.")
        return [materializer.entity(row[0]) if row[0] is not None else None for row in result.rows]

    def findAllByQuery(self, query: str, params: Any, ctx: Any = None) -> list[Any]:
        self._trip("findAllByQuery")
        return self._objects(query, params, ctx)

    def findByQuery(self, query: str, params: Any, ctx: Any = None) -> Any:
        self._trip("findByQuery")
        found = self._objects(query, params, ctx)
        if any(obj is not found[0] for obj in found[1:]):
            raise omero.ApiUsageException(None, None, f"Query named:\n\n\t{query}\n\n"
                                          "has returned more than one Object\n"
                                          "findBy methods must return a single value.\n"
                                          "Please try findAllBy methods for queries which return Lists.")
        return found[0] if found else None

    def projection(self, query: str, params: Any, ctx: Any = None) -> list[list[Any]]:
        self._trip("projection")
        result, materializer = self._run(query, params, ctx)
        return [[materializer.rtype(value, kind) for value, kind in zip(row, result.types)] for row in result.rows]

    def find(self, kind: str, oid: int, ctx: Any = None) -> Any:
        self._trip(f"find:{kind}")
        return self._find(kind, oid, ctx)

    def get(self, kind: str, oid: int, ctx: Any = None) -> Any:
        self._trip(f"get:{kind}")
        found = self._find(kind, oid, ctx)
        if found is None:
            raise omero.ValidationException(None, None, f"No row with the given identifier exists: [{kind}#{oid}]")
        return found

    def _find(self, kind: str, oid: int, ctx: Any) -> Any:
        entity = self._store.model.entity(kind[:-1] if kind.endswith("I") else kind)
        if entity is None:
            raise omero.ApiUsageException(None, None, f"{kind} does not specify a valid class.")
        obj = self._store.get(entity.name, int(oid))
        if obj is None or not self._store.visible(obj, self._groups(ctx)):
            return None
        return Materializer(self._store.model, self._store.resolve, self._store.root_of).entity(obj)


class UpdateService:
    """IUpdate: saveObject, saveAndReturnObject, saveAndReturnArray."""

    def __init__(self, trip: Callable[[str], None], writer: Callable[[Any], GraphWriter]) -> None:
        self._trip, self._writer = trip, writer

    def saveAndReturnObject(self, obj: Any, ctx: Any = None) -> Any:
        self._trip("saveAndReturnObject")
        return self._save([obj], ctx)[0]

    def saveObject(self, obj: Any, ctx: Any = None) -> None:
        self._trip("saveObject")
        self._save([obj], ctx)

    def saveAndReturnArray(self, objects: Sequence[Any], ctx: Any = None) -> list[Any]:
        self._trip("saveAndReturnArray")
        return self._save(objects, ctx)

    def _save(self, objects: Sequence[Any], ctx: Any) -> list[Any]:
        writer = self._writer(ctx)
        saved = [writer.save(obj) for obj in objects]
        writer.commit()
        return saved


class DeleteHandle:
    """The ``omero.cmd.HandlePrx`` a Delete2 submission returns, already finished."""

    def __init__(self, response: Any) -> None:
        self._response = response
        self.closed = False

    def getResponse(self, ctx: Any = None) -> Any:
        return self._response

    def getStatus(self, ctx: Any = None) -> Any:
        status = omero.cmd.Status()
        status.flags = [omero.cmd.State.FAILURE] if isinstance(self._response, omero.cmd.ERR) else []
        status.steps = status.currentStep = 1
        return status

    def close(self, ctx: Any = None) -> None:
        self.closed = True


class FakeClient:
    """Stands in for ``omero.client`` (``conn.c``): the session id, connection properties, and
    ``waitOnCmd`` as omero.clients.BaseClient has it (raises omero.CmdError on an ERR response)."""

    def __init__(self, host: str, port: int, session_key: str) -> None:
        self._properties = {"omero.host": host, "omero.port": str(port)}
        self._session_key = session_key
        self.keepalive: int | None = None

    def getSessionId(self) -> str:
        return self._session_key

    def getProperty(self, name: str) -> str:
        return self._properties.get(name, "")

    def enableKeepAlive(self, seconds: int) -> None:
        self.keepalive = seconds

    def waitOnCmd(self, handle: DeleteHandle, loops: int = 10, ms: int = 500, failonerror: bool = True,
                  failontimeout: bool = False, closehandle: bool = False) -> DeleteHandle:
        response = handle.getResponse()
        if isinstance(response, omero.cmd.ERR) and failonerror:
            if closehandle:
                handle.close()
            raise omero.CmdError(response)
        return handle
