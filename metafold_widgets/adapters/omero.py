"""OMERO through omero-py's BlitzGateway, imported lazily so everything else works without it.

Creating a project's dataset costs three round trips (four when linking to an existing
project): the group lookup, one query that finds a dataset already made for the same
project, and one save of the whole graph (project, dataset, link, both map annotations),
which the server commits in one transaction, so a failure never leaves half a project.

Metadata go on the dataset as two map annotations:

* :data:`CLIENT_NS` (OMERO.web's editable namespace): the researcher's key-value pairs, in
  template order; list answers become repeated keys; long values follow the 1 KiB rule of
  :mod:`.omero_pairs`.
* :data:`PRODUCT_NS`: provenance (project uid, name, path, template id and version, tool,
  elabFTW URL) and the list of keys this product manages (``managed_key``), so that
  :func:`update_key_values` can replace its own pairs and keep those people added in OMERO.web.

A project is identified by the ``project_uid`` pair of its product annotation: running the
creation again finds and reuses the dataset instead of making a second one.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from ..config import OmeroSettings
from ..errors import OmeroError
from .omero_pairs import Pair, PairsLike, join_continuations, split_long_values, to_pairs

log = logging.getLogger(__name__)

INSTALL_HINT = ("OMERO features need omero-py: pip install 'metafold-widgets[omero]' on Python 3.10-3.12 "
                "(with Glencoe Software's zeroc-ice wheels), or conda install -c conda-forge omero-py")
KEEPALIVE_SECONDS = 60


def import_omero() -> Any:
    """The ``omero`` package, or OmeroError saying how to install it."""
    try:
        import omero
        import omero.gateway  # noqa: F401  (BlitzGateway lives here)
    except ImportError:
        raise OmeroError(INSTALL_HINT) from None
    return omero


def open_gateway(settings: OmeroSettings, keepalive: int = KEEPALIVE_SECONDS) -> Any:
    """A connected BlitzGateway: joins ``session_key`` when given, else logs in. Never prompts."""
    import_omero()
    from omero.gateway import BlitzGateway
    where = f"OMERO at {settings.host}:{settings.port}"
    try:
        if settings.session_key:
            # the gateway's own path for an existing session (BlitzGateway.connect(sUuid=...),
            # omero-py src/omero/gateway/__init__.py): it sets up its services and event context
            conn = BlitzGateway(host=settings.host, port=settings.port, secure=settings.secure)
            if not conn.connect(sUuid=settings.session_key.reveal()):
                raise OmeroError(f"{where} did not accept the session key (expired, or for another server)")
        else:
            if not settings.user or not settings.password:
                raise OmeroError(f"{where}: give a user and password, or a session key")
            conn = BlitzGateway(settings.user, settings.password.reveal(), host=settings.host,
                                port=settings.port, secure=settings.secure)
            if not conn.connect():
                raise OmeroError(f"{where} refused the login of '{settings.user}' (wrong user or password, "
                                 "or the server is unreachable)")
    except OmeroError:
        raise
    except Exception as exc:  # Ice and Glacier2 raise their own exception types
        raise OmeroError(f"{where}: could not connect ({type(exc).__name__}: {exc})") from None
    if settings.group:
        use_group(conn, settings.group)
    conn.c.enableKeepAlive(keepalive)
    return conn


def use_group(conn: Any, group: str) -> int:
    """Switch the connection to the group given by name or id; returns the group id."""
    group_id = resolve_group(conn, group)
    conn.SERVICE_OPTS.setOmeroGroup(group_id)
    return group_id


def resolve_group(conn: Any, group: str | int) -> int:
    """The id of one of the user's groups, given by name or id (one round trip)."""
    for candidate in conn.getGroupsMemberOf():
        if str(candidate.getId()) == str(group) or candidate.getName() == group:
            return int(candidate.getId())
    raise OmeroError(f"you are not a member of an OMERO group called '{group}'")


def describe_connection(conn: Any) -> str:
    """Who is logged in where, and the group new objects go to, for people.

    That group is the one set in ``SERVICE_OPTS`` (as :func:`use_group` does), else the
    session's own group (``getEventContext().groupId``, what ``getGroupFromContext`` reads).
    """
    user = conn.getUser()
    context = conn.getEventContext()
    chosen = conn.SERVICE_OPTS.getOmeroGroup()
    if chosen in (None, "", "-1", -1) or int(chosen) == int(context.groupId):
        group = f"group {context.groupName}"
    else:
        names = dict(list_groups(conn))
        group = f"group {names.get(int(chosen), chosen)}; the session's own group is {context.groupName}"
    return f"connected to OMERO at {conn.host}:{conn.port} as {user.getName()} ({group})"


def is_alive(conn: Any, ask_server: bool = True) -> bool:
    """Whether the connection's session still lives. ``isConnected()`` only reads a flag (false
    once closed, still true after the server expired the session); with ``ask_server``,
    ``keepAlive()`` asks the server (one round trip)."""
    connected, keep_alive = getattr(conn, "isConnected", None), getattr(conn, "keepAlive", None)
    try:
        if callable(connected) and not connected():
            return False
        return bool(keep_alive()) if ask_server and callable(keep_alive) else True
    except Exception:  # a dead Ice connection may raise instead of answering
        return False


def dataset_group(conn: Any, dataset_id: int) -> int:
    """The id of the group a dataset belongs to, looked up across all the user's groups."""
    from omero.sys import ParametersI
    params = ParametersI()
    params.addId(int(dataset_id))
    ctx = conn.SERVICE_OPTS.copy()
    ctx.setOmeroGroup("-1")
    rows = server_call(lambda: conn.getQueryService().projection(DATASET_GROUP_HQL, params, ctx),
                       "find the dataset's group")
    if not rows:
        raise OmeroError(f"OMERO dataset {dataset_id} does not exist or is not visible to you")
    return int(rows[0][0].getValue())


def move_session_to_group(conn: Any, group_id: int) -> bool:
    """Move the session to ``group_id`` (``setGroupForSession``); True when it moved.

    This changes the group for everything that shares the session key (other notebooks,
    OMERO.web in the same session): callers say so to the user.
    """
    if int(conn.getEventContext().groupId) == int(group_id):
        return False
    moved = server_call(lambda: conn.setGroupForSession(int(group_id)), f"move the session to group {group_id}")
    if moved is False:
        raise OmeroError(f"you are not a member of OMERO group {group_id}")
    return True


# --- projects and datasets ---------------------------------------------------------------

CLIENT_NS = "openmicroscopy.org/omero/client/mapAnnotation"
PRODUCT_NS = "metafold-widgets.org/project"
UID_KEY = "project_uid"
MANAGED_KEY = "managed_key"
CREATE_NEW = "Create New"
LINK_TO_EXISTING = "Link to Existing"

# The queries this module sends (testing.fake_omero checks them against OMERO's model).
# distinct: a fetch join of ds.projectLinks returns one row per project the dataset is in
FIND_PROJECT_DATASET_HQL = (
    "select distinct link from DatasetAnnotationLink link join fetch link.child ann "
    "join fetch link.parent ds left outer join fetch ds.projectLinks plink "
    "where ann.ns in (:namespaces) and ds.id in ("
    "select l.parent.id from DatasetAnnotationLink l join l.child a join a.mapValue mv "
    "where a.ns = :product_ns and mv.name = :uid_key and mv.value = :uid)")
DATASET_ANNOTATIONS_HQL = (
    "select link from DatasetAnnotationLink link join fetch link.child ann "
    "where link.parent.id = :id and ann.ns in (:namespaces)")
PROJECT_BY_NAME_HQL = "select p.id, p.name from Project p where p.name = :name order by p.id"
PROJECT_BY_ID_HQL = "select p.id, p.name from Project p where p.id = :id"
LIST_PROJECTS_HQL = "select p.id, p.name from Project p order by lower(p.name), p.id"
DATASET_GROUP_HQL = "select ds.details.group.id from Dataset ds where ds.id = :id"


@dataclass(frozen=True)
class DatasetRef:
    """Where a project's dataset is: ids, its group, and whether this call created it."""

    dataset_id: int
    project_id: int | None
    group_id: int
    created: bool


def list_groups(conn: Any) -> list[tuple[int, str]]:
    """The groups the user belongs to, as (id, name) pairs (one round trip)."""
    return [(int(g.getId()), g.getName()) for g in conn.getGroupsMemberOf()]


def list_projects(conn: Any, group: str | int | None = None) -> list[tuple[int, str]]:
    """Projects in ``group`` (default: the connection's current group) as (id, name), by name."""
    ctx, _ = write_context(conn, group)
    rows = conn.getQueryService().projection(LIST_PROJECTS_HQL, None, ctx)
    return [(int(row[0].getValue()), row[1].getValue()) for row in rows]


def write_context(conn: Any, group: str | int | None = None) -> tuple[Any, int]:
    """A copy of ``conn.SERVICE_OPTS`` set to the target group, and that group's id.

    Writes must happen in the group that will own the objects, never with ``-1`` (all
    groups). Without ``group`` the connection's current group is used. The connection
    itself is not changed, so a Session's other users keep their context.
    """
    if group not in (None, ""):
        group_id = resolve_group(conn, group)
    else:
        current = conn.SERVICE_OPTS.getOmeroGroup()
        group_id = int(current) if current not in (None, "", "-1", -1) else int(conn.getEventContext().groupId)
    ctx = conn.SERVICE_OPTS.copy()
    ctx.setOmeroGroup(group_id)
    return ctx, group_id


def ensure_dataset(conn: Any, name: str, *, uid: str, key_values: PairsLike = (),
                   provenance: Mapping[str, Any] | None = None, group: str | int | None = None,
                   project: str | None = None, project_link: str | None = CREATE_NEW,
                   description: str | None = None, replaces: Iterable[str] = ()) -> DatasetRef:
    """Find or create the dataset of the project ``uid``, in its project, with its metadata.

    ``project_link`` is the template's answer: ``"Create New"`` (default) makes a project
    named ``project`` (or ``name``); ``"Link to Existing"`` links to the project ``project``
    (a name, or an id given as digits) in the target group. When a dataset carrying ``uid``
    already exists it is reused: missing annotations are added and provenance refreshed,
    the researcher's pairs are left alone (see :func:`update_key_values`).

    ``description`` is set on a new dataset; a reused one gets it only when its description
    is empty or one of ``replaces`` (what this product set before), so text people wrote in
    OMERO.web stays.
    """
    import_omero()
    from omero.model import ProjectDatasetLinkI, ProjectI
    from omero.rtypes import rstring
    mode = _project_mode(project_link)
    if mode == LINK_TO_EXISTING and not project:
        raise OmeroError("'Link to Existing' needs the name of the OMERO project to link to")
    pairs = _checked_pairs(key_values)
    ctx, group_id = write_context(conn, group)
    managed = list(dict.fromkeys(key for key, _ in pairs))
    facts = _provenance_pairs(uid, provenance or {})
    found = _find_project_dataset(conn, uid, ctx)
    if found is not None:
        dataset_id, project_id, annotations = found
        _complete_annotations(conn, ctx, dataset_id, annotations, pairs, facts, managed)
        if description is not None:
            _refresh_description(conn, ctx, dataset_id, description, replaces)
        log.info("OMERO dataset %s already holds project %s: reused", dataset_id, uid)
        return DatasetRef(dataset_id, project_id, group_id, created=False)
    dataset = _new_dataset(name)
    if description:
        dataset.setDescription(rstring(description))
    if pairs:
        dataset.linkAnnotation(_map_annotation(CLIENT_NS, pairs))
    dataset.linkAnnotation(_map_annotation(PRODUCT_NS, facts + [(MANAGED_KEY, key) for key in managed]))
    if mode == LINK_TO_EXISTING:
        parent = ProjectI(_find_project(conn, str(project), ctx, group_id), False)
    else:
        parent = ProjectI()
        parent.setName(rstring(project or name))
    link = ProjectDatasetLinkI()
    link.setParent(parent)
    link.setChild(dataset)
    saved = server_call(lambda: conn.getUpdateService().saveAndReturnObject(link, ctx), "create the dataset")
    dataset_id, project_id = saved.getChild().getId().getValue(), saved.getParent().getId().getValue()
    log.info("created OMERO dataset %s in project %s (group %s)", dataset_id, project_id, group_id)
    return DatasetRef(int(dataset_id), int(project_id), group_id, created=True)


def update_key_values(conn: Any, dataset_id: int, pairs: PairsLike) -> list[Pair]:
    """:func:`rewrite_key_values` without saying whether anything changed."""
    return rewrite_key_values(conn, dataset_id, pairs)[0]


def rewrite_key_values(conn: Any, dataset_id: int, pairs: PairsLike) -> tuple[list[Pair], bool]:
    """Replace this product's pairs on a dataset and keep the ones people added in OMERO.web.

    The product's pairs are those whose key it manages (listed in its provenance annotation)
    or that ``pairs`` sets. They are replaced by ``pairs`` in the product's client-namespace
    annotation (the oldest one holding a managed key); other pairs of that annotation follow
    unchanged, and other annotations are not touched. Two round trips. Returns the pairs now
    stored (long values joined) and whether they differ from those stored before.
    """
    import_omero()
    from omero.sys import ParametersI
    new_pairs = _checked_pairs(pairs)
    params = ParametersI()
    params.addId(dataset_id)
    params.map["namespaces"] = _rlist_of_strings([CLIENT_NS, PRODUCT_NS])
    read_ctx = conn.SERVICE_OPTS.copy()
    read_ctx.setOmeroGroup("-1")
    links = server_call(lambda: conn.getQueryService().findAllByQuery(DATASET_ANNOTATIONS_HQL, params, read_ctx),
                  "read the dataset's annotations")
    if links:
        # the link lives in its dataset's group (the server refuses cross-group links); the
        # parent itself is not fetched by the query, so it is an unloaded proxy without details
        group_id = int(links[0].getDetails().getGroup().getId().getValue())
    else:
        dataset = server_call(lambda: conn.getQueryService().find("Dataset", dataset_id, read_ctx), "find the dataset")
        if dataset is None:
            raise OmeroError(f"OMERO dataset {dataset_id} does not exist or is not visible to you")
        group_id = int(dataset.getDetails().getGroup().getId().getValue())
    annotations = _annotations_by_ns(links)
    new_keys = list(dict.fromkeys(key for key, _ in new_pairs))
    product = annotations.get(PRODUCT_NS, [None])[0]
    product_pairs = _pairs_of(product) if product is not None else []
    owned = {value for key, value in product_pairs if key == MANAGED_KEY} | set(new_keys)
    ours = _our_client_annotation(annotations.get(CLIENT_NS, []), owned)
    kept = [(k, v) for k, v in (_pairs_of(ours) if ours is not None else []) if k not in owned]
    result = new_pairs + kept
    product_result = [(k, v) for k, v in product_pairs if k != MANAGED_KEY] + [(MANAGED_KEY, k) for k in new_keys]
    to_save = [_with_pairs(ours, result, dataset_id, CLIENT_NS),
               _with_pairs(product, product_result, dataset_id, PRODUCT_NS)]
    ctx = conn.SERVICE_OPTS.copy()
    ctx.setOmeroGroup(group_id)
    server_call(lambda: conn.getUpdateService().saveAndReturnArray(to_save, ctx),
                "update the dataset's key-value pairs")
    changed = ours is None or _pairs_of(ours) != result or product_pairs != product_result
    return result, changed


@dataclass(frozen=True)
class DatasetState:
    """What OMERO holds for a project's dataset, read back for checks."""

    dataset_id: int
    group_id: int
    project_id: int | None
    pairs: list[Pair]


def read_project_dataset(conn: Any, uid: str, group: str | int | None = None) -> DatasetState | None:
    """The dataset carrying project ``uid`` with its group, project and researcher pairs; None if absent.

    One query (the one creation uses to find an existing dataset), in ``group`` when given.
    """
    import_omero()
    ctx, group_id = write_context(conn, group)
    found = _find_project_dataset(conn, uid, ctx)
    if found is None:
        return None
    dataset_id, project_id, annotations = found
    pairs = [pair for annotation in annotations.get(CLIENT_NS, []) for pair in _pairs_of(annotation)]
    return DatasetState(dataset_id, group_id, project_id, pairs)


def dataset_web_url(web_base: str | None, dataset_id: int) -> str | None:
    """The OMERO.web page of a dataset, or None without an OMERO.web address."""
    if not web_base:
        return None
    return f"{web_base.rstrip('/')}/webclient/?show=dataset-{int(dataset_id)}"


# --- helpers ----------------------------------------------------------------------------

def _project_mode(project_link: str | None) -> str:
    if project_link in (None, "", CREATE_NEW):
        return CREATE_NEW
    if project_link == LINK_TO_EXISTING:
        return LINK_TO_EXISTING
    raise OmeroError(f"unknown OMERO project choice {project_link!r}: use '{CREATE_NEW}' or '{LINK_TO_EXISTING}'")


def _checked_pairs(values: PairsLike) -> list[Pair]:
    """Normalised pairs; OmeroError (before any call) when one cannot be stored."""
    pairs = to_pairs(values)
    try:
        split_long_values(pairs)
    except ValueError as exc:
        raise OmeroError(str(exc)) from None
    return pairs


def _provenance_pairs(uid: str, provenance: Mapping[str, Any]) -> list[Pair]:
    facts = {UID_KEY: uid, **{k: v for k, v in provenance.items() if k not in (UID_KEY, MANAGED_KEY)}}
    return to_pairs(facts)


def server_call(action: Any, what: str) -> Any:
    """Run one server call; omero and Ice exceptions become OmeroError naming the step."""
    try:
        return action()
    except OmeroError:
        raise
    except Exception as exc:  # omero.ServerError, Ice.Exception and friends
        message = getattr(exc, "message", None) or (str(exc).strip().splitlines() or [""])[0]
        raise OmeroError(f"OMERO could not {what} ({type(exc).__name__}: {message})") from None


def project_by_id(conn: Any, query: str, object_id: int, what: str) -> list[Any]:
    """Rows of the projection ``query`` with ``:id`` = ``object_id``, searched in all the user's groups."""
    import_omero()
    from omero.sys import ParametersI
    params = ParametersI()
    params.addId(int(object_id))
    ctx = conn.SERVICE_OPTS.copy()
    ctx.setOmeroGroup("-1")
    return list(server_call(lambda: conn.getQueryService().projection(query, params, ctx), what) or [])


def _rlist_of_strings(values: Iterable[str]) -> Any:
    from omero.rtypes import rlist, rstring
    return rlist([rstring(v) for v in values])


def _new_dataset(name: str) -> Any:
    from omero.model import DatasetI
    from omero.rtypes import rstring
    dataset = DatasetI()
    dataset.setName(rstring(name))
    return dataset


def _map_annotation(ns: str, pairs: Iterable[Pair]) -> Any:
    from omero.model import MapAnnotationI, NamedValue
    from omero.rtypes import rstring
    annotation = MapAnnotationI()
    annotation.setNs(rstring(ns))
    annotation.setMapValue([NamedValue(k, v) for k, v in split_long_values(pairs)])
    return annotation


def _pairs_of(annotation: Any) -> list[Pair]:
    """The logical pairs of a loaded map annotation (continuation chunks joined)."""
    return join_continuations((nv.name, nv.value) for nv in annotation.getMapValue() or [])


def _ns_of(annotation: Any) -> str | None:
    ns = annotation.getNs()
    return ns.getValue() if ns is not None else None


def _annotations_by_ns(links: Iterable[Any]) -> dict[str, list[Any]]:
    """Annotations of the links per namespace, oldest (lowest id) first."""
    grouped: dict[str, list[Any]] = {}
    for link in links:
        annotation = link.getChild()
        grouped.setdefault(_ns_of(annotation) or "", []).append(annotation)
    for same_ns in grouped.values():
        same_ns.sort(key=lambda a: a.getId().getValue())
    return grouped


def _our_client_annotation(candidates: list[Any], owned: set[str]) -> Any:
    for annotation in candidates:
        if any(key in owned for key, _ in _pairs_of(annotation)):
            return annotation
    return candidates[0] if candidates else None


def _with_pairs(annotation: Any, pairs: list[Pair], dataset_id: int, ns: str) -> Any:
    """``annotation`` holding ``pairs`` now, or a new one linked to the dataset when it is None."""
    from omero.model import DatasetAnnotationLinkI, DatasetI, NamedValue
    if annotation is not None:
        annotation.setMapValue([NamedValue(k, v) for k, v in split_long_values(pairs)])
        return annotation
    link = DatasetAnnotationLinkI()
    link.setParent(DatasetI(int(dataset_id), False))
    link.setChild(_map_annotation(ns, pairs))
    return link


def _find_project_dataset(conn: Any, uid: str, ctx: Any) -> tuple[int, int | None, dict[str, list[Any]]] | None:
    """The dataset already made for project ``uid`` (id, project id, annotations), if any."""
    from omero.rtypes import rstring
    from omero.sys import ParametersI
    params = ParametersI()
    params.map.update({"namespaces": _rlist_of_strings([CLIENT_NS, PRODUCT_NS]),
                       "product_ns": rstring(PRODUCT_NS), "uid_key": rstring(UID_KEY), "uid": rstring(uid)})
    links = server_call(lambda: conn.getQueryService().findAllByQuery(FIND_PROJECT_DATASET_HQL, params, ctx),
                  "look for the project's dataset")
    if not links:
        return None
    dataset_ids = sorted({int(link.getParent().getId().getValue()) for link in links})
    if len(dataset_ids) > 1:
        log.warning("several OMERO datasets carry project %s (%s): using %s", uid, dataset_ids, dataset_ids[0])
    mine = [link for link in links if int(link.getParent().getId().getValue()) == dataset_ids[0]]
    dataset = mine[0].getParent()
    project_id = None
    if dataset.isProjectLinksLoaded() and dataset.sizeOfProjectLinks() > 0:
        project_id = min(int(pl.getParent().getId().getValue()) for pl in dataset.copyProjectLinks())
    return dataset_ids[0], project_id, _annotations_by_ns(mine)


def _complete_annotations(conn: Any, ctx: Any, dataset_id: int, annotations: Mapping[str, list[Any]],
                          pairs: list[Pair], facts: list[Pair], managed: list[str]) -> None:
    """Add a missing annotation and refresh provenance on a reused dataset (one save, if any)."""
    to_save = []
    if pairs and not annotations.get(CLIENT_NS):
        to_save.append(_with_pairs(None, pairs, dataset_id, CLIENT_NS))
    products = annotations.get(PRODUCT_NS, [])
    if not products:
        to_save.append(_with_pairs(None, facts + [(MANAGED_KEY, key) for key in managed], dataset_id, PRODUCT_NS))
    else:
        stored = _pairs_of(products[0])
        wanted = facts + [(k, v) for k, v in stored if k == MANAGED_KEY]
        if stored != wanted:
            to_save.append(_with_pairs(products[0], wanted, dataset_id, PRODUCT_NS))
    if to_save:
        server_call(lambda: conn.getUpdateService().saveAndReturnArray(to_save, ctx),
                    "complete the dataset's annotations")


def _refresh_description(conn: Any, ctx: Any, dataset_id: int, description: str, replaces: Iterable[str]) -> None:
    """Set a reused dataset's description when it is empty or still one this product wrote (one save, if any)."""
    dataset = server_call(lambda: conn.getQueryService().find("Dataset", int(dataset_id), ctx), "read the dataset")
    if dataset is None:
        return
    current = dataset.getDescription().getValue() if dataset.getDescription() is not None else ""
    if current == description or (current.strip() and current not in set(replaces)):
        return
    from omero.rtypes import rstring
    dataset.setDescription(rstring(description))
    server_call(lambda: conn.getUpdateService().saveAndReturnObject(dataset, ctx), "describe the dataset")


def _find_project(conn: Any, project: str, ctx: Any, group_id: int) -> int:
    """The id of the existing project named ``project`` (or with that id) in the target group."""
    from omero.rtypes import rstring
    from omero.sys import ParametersI
    params = ParametersI()
    text = str(project).strip()
    if text.isdigit():
        params.addId(int(text))
        query = PROJECT_BY_ID_HQL
    else:
        params.map["name"] = rstring(text)
        query = PROJECT_BY_NAME_HQL
    rows = server_call(lambda: conn.getQueryService().projection(query, params, ctx), "look for the project")
    if not rows:
        raise OmeroError(f"there is no OMERO project '{text}' in group {group_id} to link to; choose an existing "
                         "project of that group or 'Create New'")
    ids = [int(row[0].getValue()) for row in rows]
    if len(ids) > 1:
        log.warning("%d OMERO projects are named '%s': linking to the oldest (%s)", len(ids), text, ids[0])
    return ids[0]
