"""A stateful fake elabFTW server (REST API v2, 5.x behaviour) on 127.0.0.1.

Real HTTP on loopback, standard library only. It behaves like a 5.x server where the tests of
this project need it (see ``/work/shared/elabftw/NOTES.md``):

* ``Authorization: <raw key>``; keys map to a user, a team and a write permission.
* ``POST`` answers 201 with an empty body and a ``Location`` header; ``PATCH`` applies the
  keys one by one (the first invalid key aborts the rest, earlier keys stay applied), casts
  values to strings like the server (so ``metadata`` must be JSON-encoded) and returns the
  entity; entities carry ``metadata`` as a JSON *string* whose object keys come back in MySQL's
  order (shorter keys first), never in the order they were sent.
* Behaviour by version: metadata on POST since 5.2 (dropped silently before), ``hide_main_text``
  since 5.4, ``metadatamerge`` since 5.6.
* Errors are JSON ``{"code": int, "message": str, "description": str}``.
* Exports of an experiment: ``?format=pdf`` (a one-page PDF with the title and the custom
  fields) and ``?format=eln`` (an ELN Consortium RO-Crate zip shaped like elabFTW 5.x's:
  one top folder, the experiment as a Dataset with ``variableMeasured`` PropertyValues,
  ``export-elabftw.json`` and the uploads); the other formats answer 501.

Test hooks: ``requests_log``, ``latency``, ``inject(Fault...)`` and ``contract_hook``.
Endpoints the real server has but this fake does not emulate answer 501.
"""
from __future__ import annotations

import copy
import hashlib
import io
import json
import re
import secrets
import socket
import threading
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, Mapping, NamedTuple
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "API_PREFIX",
    "DEFAULT_KEYS",
    "OTHER_TEAM_KEY",
    "READ_KEY",
    "WRITE_KEY",
    "ContractHook",
    "FakeElabftw",
    "Fault",
    "LoggedRequest",
    "RequestInfo",
    "ResponseInfo",
    "mysql_json",
    "version_int",
]

API_PREFIX = "/api/v2"
DEFAULT_LIMIT = 15
WRITE_KEY = "1-fake0write0key0for0tests"
READ_KEY = "2-fake0read0only0key0for0tests"
OTHER_TEAM_KEY = "3-fake0other0team0key0for0tests"
DEFAULT_KEYS: dict[str, dict[str, Any]] = {
    WRITE_KEY: {"userid": 1, "team": 1, "can_write": True},
    READ_KEY: {"userid": 2, "team": 1, "can_write": False},
    OTHER_TEAM_KEY: {"userid": 3, "team": 2, "can_write": True},
}
REDACTED = "<redacted>"
_HTTP_METHODS = ("GET", "POST", "PATCH", "DELETE")
_ENTITY_PAGES = {
    "experiments": "experiments",
    "items": "database",
    "experiments_templates": "templates",
    "items_types": "resources-templates",
}
_CAN_TEAM = '{"base": 30, "teams": [], "users": [], "teamgroups": []}'
_CAN_USER = '{"base": 20, "teams": [], "users": [], "teamgroups": []}'


# ---------------------------------------------------------------------------------------------
# Public data types
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """A misbehaviour to inject; build one with the class methods."""

    kind: str
    code: int | None = None
    retry_after: int | None = None
    seconds: float = 0.0

    @classmethod
    def status(cls, code: int = 500) -> Fault:
        """Answer with this error status (JSON Error body); the request is not applied."""
        if code < 400:
            raise ValueError("a status fault needs an error status (>= 400)")
        return cls("status", code=code)

    @classmethod
    def rate_limited(cls, retry_after: int = 1) -> Fault:
        """Answer 429 with a ``Retry-After`` header; the request is not applied."""
        return cls("rate_limited", code=429, retry_after=retry_after)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Sleep before answering normally (the request IS applied): client time-outs."""
        return cls("delay", seconds=seconds)

    @classmethod
    def drop(cls) -> Fault:
        """Close the connection without any response; the request is NOT applied."""
        return cls("drop")

    @classmethod
    def lose_response(cls) -> Fault:
        """Apply the request, then close the connection without answering."""
        return cls("lose_response")


@dataclass(frozen=True)
class RequestInfo:
    """One request as the fake received it (the Authorization value is redacted)."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    content_type: str

    @property
    def api_path(self) -> str | None:
        """The path below ``/api/v2`` (``/experiments/3``), None outside the API."""
        if self.path == API_PREFIX or self.path.startswith(API_PREFIX + "/"):
            return self.path[len(API_PREFIX):] or "/"
        return None


@dataclass(frozen=True)
class ResponseInfo:
    """One response as the fake produced it."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    content_type: str

    def json(self) -> Any:
        """The decoded JSON body."""
        return json.loads(self.body)


class LoggedRequest(NamedTuple):
    """An entry of ``FakeElabftw.requests_log``; ``status`` is None when nothing was sent."""

    method: str
    path: str
    query: dict[str, Any]
    body: Any
    status: int | None


ContractHook = Callable[[RequestInfo, "ResponseInfo | None"], None]


class ApiError(Exception):
    """An error answer, shaped like the spec's Error schema."""

    def __init__(self, status: int, description: str, headers: Mapping[str, str] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.headers = dict(headers or {})

    @property
    def message(self) -> str:
        """The short message the real server sends for this status."""
        return _ERROR_MESSAGES.get(self.status) or HTTPStatus(self.status).phrase


_ERROR_MESSAGES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Access Forbidden",
    404: "Resource Not Found",
    405: "Method Not Allowed",
    500: "Unexpected error",
    501: "Not Implemented",
}


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Caller:
    userid: int
    team: int
    can_write: bool


@dataclass
class _FaultRule:
    fault: Fault
    method: str | None
    path_prefix: str | None
    remaining: int


# ---------------------------------------------------------------------------------------------
# Small pure helpers
# ---------------------------------------------------------------------------------------------


def parse_version(version: str) -> tuple[int, int, int]:
    """``"5.6.12"`` -> ``(5, 6, 12)``; a suffix such as ``-alpha4`` is ignored."""
    numbers = []
    for part in version.split("-")[0].split(".")[:3]:
        digits = "".join(ch for ch in part if ch.isdigit())
        numbers.append(int(digits or 0))
    while len(numbers) < 3:
        numbers.append(0)
    return numbers[0], numbers[1], numbers[2]


def version_int(version: str) -> int:
    """The server's ``elabftw_version_int``: 5.6.12 -> 50612."""
    major, minor, patch = parse_version(version)
    return major * 10000 + minor * 100 + patch


def _mysql_order(value: Any) -> Any:
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return {k: _mysql_order(value[k]) for k in keys}
    if isinstance(value, list):
        return [_mysql_order(v) for v in value]
    return value


def mysql_json(value: Any) -> str:
    """JSON text as a MySQL JSON column returns it: object keys sorted, shorter keys first."""
    return json.dumps(_mysql_order(value), ensure_ascii=False)


def _php_string(key: str, value: Any) -> str:
    """PHP's ``(string) $value``, refusing arrays (they would become the word "Array")."""
    if isinstance(value, (dict, list)):
        raise ApiError(400, f"Invalid value for {key}: the server casts every PATCH value to a "
                            "string, so arrays and objects are not accepted.")
    if value is True:
        return "1"
    if value is False or value is None:
        return ""
    return str(value)


def _now() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def _query_dict(query: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in out:
            previous = out[key]
            out[key] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            out[key] = value
    return out


def _query_int(query: Mapping[str, Any], name: str, default: int) -> int:
    raw = query.get(name)
    if isinstance(raw, list):
        raw = raw[-1]
    try:
        return int(raw) if raw not in (None, "") else default
    except ValueError:
        return default  # like PHP's getInt(): garbage reads as the default


def _page(rows: list[Any], query: Mapping[str, Any], unlimited_below: int | None = None) -> list[Any]:
    limit = _query_int(query, "limit", DEFAULT_LIMIT)
    offset = max(_query_int(query, "offset", 0), 0)
    if unlimited_below is not None and limit <= unlimited_below:
        return rows[offset:]
    if limit < 1:
        limit = DEFAULT_LIMIT
    return rows[offset:offset + limit]


def _json_reply(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> _Reply:
    return _Reply(status, json.dumps(payload).encode(), "application/json", dict(headers or {}))


def _error_reply(error: ApiError) -> _Reply:
    payload = {"code": error.status, "message": error.message, "description": error.description}
    return _json_reply(error.status, payload, error.headers)


def _created(location: str) -> _Reply:
    """201 as Symfony sends ``new Response('', 201, ['Location' => ...])``."""
    return _Reply(201, b"", "text/html; charset=UTF-8", {"Location": location})


def _positive_int_or_none(key: str, value: Any) -> int | None:
    text = _php_string(key, value).strip()
    if text in ("", "0"):
        return None
    if not text.isdigit():
        raise ApiError(400, f"Invalid value for {key}: {value!r} is not a positive integer.")
    return int(text)


def _check_permissions_json(key: str, value: Any) -> str:
    text = value if isinstance(value, str) else None
    try:
        decoded = json.loads(text) if text is not None else None
    except ValueError:
        decoded = None
    if not isinstance(decoded, dict) or decoded.get("base") not in (10, 20, 30, 40, 50):
        raise ApiError(400, f"Invalid value for {key}: expected a JSON string such as {_CAN_TEAM}.")
    return text  # type: ignore[return-value]


def _parse_multipart(content_type: str, body: bytes) -> dict[str, dict[str, Any]]:
    """Fields of a multipart/form-data body: {name: {"filename": str|None, "data": bytes}}."""
    header = Message()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        return {}
    fields: dict[str, dict[str, Any]] = {}
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        part = Message()
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, sep, value = line.partition(":")
            if sep:
                part[name.strip()] = value.strip()
        field_name = part.get_param("name", header="content-disposition")
        if isinstance(field_name, str):
            fields[field_name] = {"filename": part.get_filename(), "data": data.removesuffix(b"\r\n")}
    return fields


def _loggable_body(content_type: str, body: bytes) -> Any:
    if not body:
        return None
    if content_type.startswith("multipart/form-data"):
        return {name: _loggable_field(part) for name, part in _parse_multipart(content_type, body).items()}
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def _loggable_field(part: Mapping[str, Any]) -> Any:
    data: bytes = part["data"]
    if part["filename"] is None:
        return data.decode("utf-8", "replace")
    return {"filename": part["filename"], "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _merge_metadata(current: Any, incoming: Mapping[str, Any]) -> dict[str, Any]:
    """``metadatamerge``: existing fields only take the new value; new fields are added."""
    merged: dict[str, Any] = copy.deepcopy(current) if isinstance(current, dict) else {}
    for key, value in incoming.items():
        if key == "extra_fields" and isinstance(value, dict):
            _merge_fields(merged.setdefault("extra_fields", {}), value)
        elif key == "elabftw" and isinstance(value, dict) and isinstance(merged.get("elabftw"), dict):
            _merge_elabftw(merged["elabftw"], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _merge_fields(fields: dict[str, Any], incoming: Mapping[str, Any]) -> None:
    for name, spec in incoming.items():
        if isinstance(fields.get(name), dict) and isinstance(spec, dict):
            if "value" in spec:
                fields[name]["value"] = copy.deepcopy(spec["value"])
        else:
            fields[name] = copy.deepcopy(spec)


def _merge_elabftw(section: dict[str, Any], incoming: Mapping[str, Any]) -> None:
    for key, value in incoming.items():
        if key == "extra_fields_groups" and isinstance(value, list):
            groups = section.setdefault("extra_fields_groups", [])
            known = {g.get("id") for g in groups if isinstance(g, dict)}
            groups.extend(copy.deepcopy(g) for g in value if isinstance(g, dict) and g.get("id") not in known)
        else:
            section[key] = copy.deepcopy(value)


# ---------------------------------------------------------------------------------------------
# The fake
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Route:
    pattern: tuple[str, ...]
    handlers: Mapping[str, str]
    unimplemented: frozenset[str] = frozenset()


def _route(pattern: str, unimplemented: Iterable[str] = (), **handlers: str) -> _Route:
    return _Route(tuple(pattern.strip("/").split("/")), handlers, frozenset(unimplemented))


_ROUTES = (
    _route("info", GET="_get_info"),
    _route("users", ("GET", "POST")),
    _route("users/{user}", ("PATCH",), GET="_get_user"),
    _route("teams", ("POST",), GET="_list_teams"),
    _route("teams/{team}", ("PATCH",), GET="_get_team"),
    _route("teams/{team}/experiments_categories", ("POST",), GET="_list_categories"),
    _route("teams/{team}/experiments_status", ("POST",), GET="_list_statuses"),
    _route("teams/{team}/status", ("POST",), GET="_list_statuses"),
    _route("teams/{team}/tags", ("POST",), GET="_list_team_tags"),
    _route("experiments", GET="_list_experiments", POST="_create_experiment"),
    _route("experiments/{int}", ("POST",), GET="_get_experiment", PATCH="_patch_experiment",
           DELETE="_delete_experiment"),
    _route("experiments/{int}/tags", ("DELETE",), GET="_list_tags", POST="_add_tag"),
    _route("experiments/{int}/items_links", GET="_list_items_links"),
    _route("experiments/{int}/items_links/{int}", POST="_add_items_link", DELETE="_delete_items_link"),
    _route("experiments/{int}/experiments_links", GET="_list_experiments_links"),
    _route("experiments/{int}/experiments_links/{int}", POST="_add_experiments_link",
           DELETE="_delete_experiments_link"),
    _route("experiments/{int}/uploads", GET="_list_uploads", POST="_add_upload"),
    _route("experiments/{int}/uploads/{int}", ("POST", "PATCH", "DELETE"), GET="_get_upload"),
    _route("items", ("POST",), GET="_list_items"),
    _route("items/{int}", ("POST", "PATCH", "DELETE"), GET="_get_item"),
    _route("experiments_templates", ("POST",), GET="_list_templates"),
    _route("experiments_templates/{int}", ("POST", "PATCH", "DELETE"), GET="_get_template"),
    _route("items_types", ("POST",), GET="_list_items_types"),
    _route("items_types/{int}", ("POST", "PATCH", "DELETE"), GET="_get_items_type"),
    _route("extra_fields_keys", GET="_list_extra_fields_keys"),
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeElabftw):
        self.fake = fake
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 60

    def version_string(self) -> str:
        """The Server header, as the real server's reverse proxy sends it."""
        return "nginx"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silence the default stderr access log."""

    def _serve(self) -> None:
        self.server.fake._serve(self)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = do_OPTIONS = _serve


class FakeElabftw:
    """A stateful fake elabFTW 5.x server on 127.0.0.1 (see the module docstring).

    Args:
        keys: ``{api key: {"userid": int, "team": int, "can_write": bool}}``; defaults to
            ``DEFAULT_KEYS`` (WRITE_KEY, READ_KEY and OTHER_TEAM_KEY).
        version: the elabFTW release to emulate, e.g. "5.1.0", "5.3.2", "5.6.12".
        latency: seconds added to every request (settable later).
        contract_hook: ``callable(RequestInfo, ResponseInfo | None)`` called for every exchange
            before the answer is sent (None when no response was produced: ``Fault.drop``).
    """

    def __init__(
        self,
        keys: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        version: str = "5.6.12",
        latency: float = 0.0,
        contract_hook: ContractHook | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.version = version
        self.version_int = version_int(version)
        self.latency = latency
        self.contract_hook = contract_hook
        self.requests_log: list[LoggedRequest] = []
        self.hook_errors: list[BaseException] = []
        self._keys = {k: dict(v) for k, v in (keys if keys is not None else DEFAULT_KEYS).items()}
        self._lock = threading.RLock()
        self._idle = threading.Condition()
        self._active = 0
        self._faults: list[_FaultRule] = []
        self._closing = threading.Event()
        self._seed()
        self._server = _Server((host, port), self)
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        name="fake-elabftw", daemon=True)
        self._thread.start()

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """The API base URL, ``<url>/api/v2``."""
        return self.url + API_PREFIX

    def close(self) -> None:
        """Stop serving and close every open connection (idempotent)."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._server.shutdown()
        with self._server.sockets_lock:
            for sock in list(self._server.open_sockets):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeElabftw:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- test hooks -----------------------------------------------------------------------------

    def inject(self, fault: Fault, method: str | None = None, path_prefix: str | None = None,
               times: int = 1) -> None:
        """Queue a fault for the next ``times`` matching requests.

        ``path_prefix`` is matched segment-wise below ``/api/v2`` (``"/experiments"`` matches
        ``/experiments`` and ``/experiments/3/tags``, not ``/experiments_templates``).
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.append(_FaultRule(fault, method.upper() if method else None, path_prefix, times))

    def clear_faults(self) -> None:
        """Forget every injected fault still waiting: the server has recovered."""
        with self._lock:
            self._faults.clear()

    def pending_faults(self) -> int:
        """How many injected fault uses are still waiting."""
        with self._lock:
            return sum(rule.remaining for rule in self._faults)

    def experiment(self, exp_id: int) -> dict[str, Any]:
        """The experiment as ``GET /experiments/{id}`` returns it (KeyError when unknown)."""
        with self._lock:
            return self._entity("experiments", self._entities["experiments"][exp_id], full=True)

    def experiments(self) -> list[dict[str, Any]]:
        """Every experiment of every team, deleted ones included, oldest first."""
        with self._lock:
            return [self._entity("experiments", e, full=True) for e in self._entities["experiments"].values()]

    def lock_experiment(self, exp_id: int, locked: bool = True) -> None:
        """Lock (or unlock) an experiment as its owner would."""
        with self._lock:
            self._set_lock(self._entities["experiments"][exp_id], locked, None)

    def add_team(self, name: str) -> int:
        """Add a team (with the default experiments statuses); returns its id."""
        with self._lock:
            team_id = max(self._teams) + 1
            self._ensure_team(team_id, name)
            return team_id

    def add_category(self, title: str, team: int = 1, color: str = "29aeb9") -> int:
        """Add an experiments category to a team; returns its id."""
        with self._lock:
            return self._add_statuslike(self._categories, title, team, color)

    def add_status(self, title: str, team: int = 1, color: str = "29aeb9") -> int:
        """Add an experiments status to a team; returns its id."""
        with self._lock:
            return self._add_statuslike(self._statuses, title, team, color)

    def add_item(self, title: str, team: int = 1, category: int | None = None) -> int:
        """Add a resource (item) that experiments can link to; returns its id."""
        with self._lock:
            return self._new_entity("items", title=title, team=team, userid=self._first_user(team),
                                    category=category)["id"]

    def add_items_type(self, title: str, team: int = 1) -> int:
        """Add a resources template (items type); returns its id."""
        with self._lock:
            return self._new_entity("items_types", title=title, team=team, userid=self._first_user(team))["id"]

    def add_template(self, title: str, *, body: str = "", metadata: Any = None,
                     category: int | None = None, tags: Iterable[str] = (), team: int = 1) -> int:
        """Add an experiments template; returns its id."""
        with self._lock:
            record = self._new_entity("experiments_templates", title=title, team=team, body=body,
                                      userid=self._first_user(team), metadata=copy.deepcopy(metadata),
                                      category=category)
            record["tag_ids"] = [self._tag_id(team, tag) for tag in tags]
            return record["id"]

    def add_experiment(self, title: str, *, body: str = "", metadata: Any = None,
                       team: int = 1, userid: int | None = None) -> int:
        """Add an experiment directly (no HTTP exchange); returns its id."""
        with self._lock:
            return self._new_entity("experiments", title=title, body=body, team=team,
                                    userid=userid or self._first_user(team),
                                    metadata=copy.deepcopy(metadata))["id"]

    # -- seed data ------------------------------------------------------------------------------

    def _seed(self) -> None:
        self._next_ids: dict[str, int] = {"experiments": 1, "items": 101, "experiments_templates": 11,
                                          "items_types": 21, "tags": 1, "uploads": 1}
        self._teams: dict[int, dict[str, Any]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._categories: dict[int, dict[str, Any]] = {}
        self._statuses: dict[int, dict[str, Any]] = {}
        self._resource_categories: dict[int, dict[str, Any]] = {}
        self._tags: dict[int, dict[str, Any]] = {}
        self._uploads: dict[int, dict[str, Any]] = {}
        self._entities: dict[str, dict[int, dict[str, Any]]] = {kind: {} for kind in _ENTITY_PAGES}
        for team_id, name in ((1, "Alpha"), (2, "Beta")):
            self._ensure_team(team_id, name)
        for userid, first, last, team in ((1, "Ada", "Lovelace", 1), (2, "Grace", "Hopper", 1),
                                          (3, "Alan", "Turing", 2)):
            self._users[userid] = {"userid": userid, "firstname": first, "lastname": last,
                                   "email": f"{first.lower()}@example.org", "team": team}
        for spec in self._keys.values():
            self._ensure_team(int(spec["team"]), f"Team {spec['team']}")
            self._ensure_user(int(spec["userid"]), int(spec["team"]))
        for title in ("Imaging", "Spectroscopy", "Simulation"):
            self._add_statuslike(self._categories, title, 1, "32a100")
        self._add_statuslike(self._categories, "Chemistry", 2, "32a100")
        equipment = self._add_statuslike(self._resource_categories, "Equipment", 1, "4f5e9e")
        sample = self._add_statuslike(self._resource_categories, "Sample", 1, "c24f3d")
        for title, category in (("Confocal microscope LSM 980", equipment), ("Sample S-001", sample),
                                ("Laser 488 nm", equipment)):
            self._new_entity("items", title=title, team=1, userid=1, category=category)
        for title, category in (("Equipment", equipment), ("Sample", sample)):
            self._new_entity("items_types", title=title, team=1, userid=1, category=category)
        self.add_template("Multi-modal imaging session", body="<p>Imaging protocol</p>", category=1,
                          tags=["imaging"], metadata=_SEED_TEMPLATE_METADATA)

    def _ensure_team(self, team_id: int, name: str) -> None:
        if team_id in self._teams:
            return
        self._teams[team_id] = {"id": team_id, "name": name, "created_at": _now(), "orgid": "",
                                "visible": 1, "user_create_tag": 1, "force_exp_tpl": 0, "force_res_tpl": 0,
                                "announcement": None, "onboarding_email_active": 0,
                                "onboarding_email_body": None, "onboarding_email_subject": None}
        for title, color in (("Running", "29aeb9"), ("Success", "54aa08"),
                             ("Need to be redone", "c0c0c0"), ("Fail", "c24f3d")):
            self._add_statuslike(self._statuses, title, team_id, color, is_default=title == "Running")

    def _ensure_user(self, userid: int, team: int) -> None:
        self._users.setdefault(userid, {"userid": userid, "firstname": "User", "lastname": str(userid),
                                        "email": f"user{userid}@example.org", "team": team})

    def _first_user(self, team: int) -> int:
        return min((u["userid"] for u in self._users.values() if u["team"] == team), default=1)

    def _next_id(self, table: str) -> int:
        value = self._next_ids[table]
        self._next_ids[table] = value + 1
        return value

    def _add_statuslike(self, table: dict[int, dict[str, Any]], title: str, team: int, color: str,
                        is_default: bool = False) -> int:
        new_id = max(table, default=0) + 1
        ordering = sum(1 for row in table.values() if row["team"] == team)
        table[new_id] = {"id": new_id, "title": title, "color": color, "team": team,
                         "is_default": int(is_default), "ordering": ordering}
        return new_id

    def _new_entity(self, kind: str, *, title: str, team: int, userid: int, body: str = "",
                    category: int | None = None, metadata: Any = None) -> dict[str, Any]:
        new_id = self._next_id(kind)
        now = _now()
        record = {
            "id": new_id, "kind": kind, "title": title, "body": body, "content_type": 1,
            "category": category, "status": None, "metadata": metadata, "tag_ids": [],
            "canread": _CAN_TEAM, "canwrite": _CAN_USER, "locked": 0, "lockedby": None, "locked_at": None,
            "created_at": now, "modified_at": now, "date": now[:10], "userid": userid, "team": team,
            "lastchangeby": userid, "state": 1, "rating": 0, "custom_id": None, "hide_main_text": 0,
            "elabid": datetime.now().strftime("%Y%m%d") + "-" + secrets.token_hex(20),
            "created_from_id": None, "items_links": [], "experiments_links": [], "uploads": [],
        }
        self._entities[kind][new_id] = record
        return record

    # -- HTTP plumbing --------------------------------------------------------------------------

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is being processed (a slow one may still be applying); True if idle."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)

    def _serve(self, handler: _Handler) -> None:
        with self._idle:
            self._active += 1
        try:
            self._serve_one(handler)
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def _serve_one(self, handler: _Handler) -> None:
        body = self._read_body(handler)
        split = urlsplit(handler.path)
        headers = {k: (REDACTED if k.lower() == "authorization" else v) for k, v in handler.headers.items()}
        request = RequestInfo(handler.command, split.path, split.query, headers, body,
                              handler.headers.get("Content-Type", ""))
        self._wait(self.latency)
        fault = self._take_fault(request)
        if fault is not None and fault.kind == "delay":
            self._wait(fault.seconds)
        if fault is not None and fault.kind == "drop":
            self._log(request, None)
            self._call_hook(request, None)
            handler.close_connection = True
            return
        reply = self._fault_reply(fault) if fault is not None else None
        if reply is None:
            with self._lock:
                reply = self._respond(request, handler.headers.get("Authorization"))
        response = ResponseInfo(reply.status, self._reply_headers(reply), reply.body, reply.content_type)
        lost = fault is not None and fault.kind == "lose_response"
        self._log(request, None if lost else reply.status)
        self._call_hook(request, response)
        if lost:
            handler.close_connection = True
            return
        self._write(handler, reply)

    @staticmethod
    def _read_body(handler: _Handler) -> bytes:
        if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    handler.rfile.readline()
                    return b"".join(chunks)
                chunks.append(handler.rfile.read(size))
                handler.rfile.readline()
        length = int(handler.headers.get("Content-Length") or 0)
        return handler.rfile.read(length) if length > 0 else b""

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._closing.wait(seconds)

    def _take_fault(self, request: RequestInfo) -> Fault | None:
        with self._lock:
            for rule in self._faults:
                if self._fault_matches(rule, request):
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._faults.remove(rule)
                    return rule.fault
        return None

    @staticmethod
    def _fault_matches(rule: _FaultRule, request: RequestInfo) -> bool:
        if rule.method is not None and rule.method != request.method:
            return False
        if rule.path_prefix is None:
            return True
        prefix = rule.path_prefix.rstrip("/")
        path = request.api_path if not prefix.startswith(API_PREFIX) else request.path
        return path is not None and (path == prefix or path.startswith(prefix + "/") or prefix == "")

    @staticmethod
    def _fault_reply(fault: Fault) -> _Reply | None:
        if fault.kind == "status":
            assert fault.code is not None
            return _error_reply(ApiError(fault.code, "Injected fault (FakeElabftw)."))
        if fault.kind == "rate_limited":
            retry = str(fault.retry_after)
            return _error_reply(ApiError(429, f"Too many requests: retry after {retry} s.", {"Retry-After": retry}))
        return None

    @staticmethod
    def _reply_headers(reply: _Reply) -> dict[str, str]:
        headers = dict(reply.headers)
        if reply.content_type:
            headers["Content-Type"] = reply.content_type
        headers["Content-Length"] = str(len(reply.body))
        return headers

    def _log(self, request: RequestInfo, status: int | None) -> None:
        entry = LoggedRequest(request.method, request.path, _query_dict(request.query),
                              _loggable_body(request.content_type, request.body), status)
        with self._lock:
            self.requests_log.append(entry)

    def _call_hook(self, request: RequestInfo, response: ResponseInfo | None) -> None:
        hook = self.contract_hook
        if hook is None:
            return
        try:
            hook(request, response)
        except BaseException as exc:  # the server thread must survive a failing hook
            self.hook_errors.append(exc)

    def _write(self, handler: _Handler, reply: _Reply) -> None:
        try:
            handler.send_response(reply.status)
            for name, value in self._reply_headers(reply).items():
                handler.send_header(name, value)
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(reply.body)
            handler.wfile.flush()
        except OSError:  # the client gave up (time-out): nothing to answer to
            handler.close_connection = True

    # -- dispatch -------------------------------------------------------------------------------

    def _respond(self, request: RequestInfo, auth: str | None) -> _Reply:
        api_path = request.api_path
        if api_path is None:
            return self._web_page(request)
        try:
            if request.method not in _HTTP_METHODS:  # nginx filters the others
                raise ApiError(405, f"Method {request.method} is not allowed.", {"Allow": ", ".join(_HTTP_METHODS)})
            caller = self._authenticate(auth)
            route, params = self._find_route(api_path)
            handler_name = route.handlers.get(request.method)
            if handler_name is None:
                raise self._no_handler(route, request.method)
            if request.method != "GET" and not caller.can_write:
                raise ApiError(403, "You cannot use a read-only API key for this action.")
            return getattr(self, handler_name)(caller, request, *params)
        except ApiError as error:
            return _error_reply(error)

    @staticmethod
    def _no_handler(route: _Route, method: str) -> ApiError:
        if method in route.unimplemented:
            return ApiError(501, f"{method} on this endpoint exists on a real server but is not "
                                 "emulated by FakeElabftw.")
        allowed = sorted(set(route.handlers) | route.unimplemented)
        return ApiError(405, f"Method {method} is not allowed on this endpoint.", {"Allow": ", ".join(allowed)})

    def _authenticate(self, auth: str | None) -> _Caller:
        if not auth:
            raise ApiError(401, "No API key received.")
        spec = self._keys.get(auth.strip())
        if spec is None:
            raise ApiError(401, "No corresponding API key found!")
        return _Caller(int(spec["userid"]), int(spec["team"]), bool(spec.get("can_write", True)))

    @staticmethod
    def _find_route(api_path: str) -> tuple[_Route, list[Any]]:
        segments = [s for s in api_path.split("/") if s]
        for route in _ROUTES:
            params = _match(route.pattern, segments)
            if params is not None:
                return route, params
        raise ApiError(404, "The resource was not found.")

    def _web_page(self, request: RequestInfo) -> _Reply:
        query = _query_dict(request.query)
        if request.path == "/experiments.php" and request.method == "GET":
            exp = self._entities["experiments"].get(_query_int(query, "id", 0))
            if exp is not None:
                page = f"<html><head><title>{exp['title']}</title></head><body>experiment {exp['id']}</body></html>"
                return _Reply(200, page.encode(), "text/html; charset=UTF-8")
        return _Reply(404, b"<html><body>Not found</body></html>", "text/html; charset=UTF-8")

    # -- request helpers ------------------------------------------------------------------------

    @staticmethod
    def _json_body(request: RequestInfo) -> dict[str, Any]:
        if not request.body:
            return {}
        try:
            decoded = json.loads(request.body)
        except ValueError as exc:
            raise ApiError(400, f"Error decoding json payload: {exc}") from None
        if not isinstance(decoded, dict):
            raise ApiError(400, "Error decoding json payload: expected a JSON object.")
        return decoded

    def _team_of(self, caller: _Caller, team: str) -> int:
        team_id = caller.team if team == "current" else int(team)
        if team_id not in self._teams:
            raise ApiError(404, "The resource was not found.")
        if team_id != caller.team:
            raise ApiError(403, "You are not a member of this team.")
        return team_id

    def _readable(self, caller: _Caller, kind: str, entity_id: int) -> dict[str, Any]:
        record = self._entities[kind].get(entity_id)
        if record is None:
            raise ApiError(404, "The resource was not found.")
        base = json.loads(record["canread"]).get("base", 30)
        if record["userid"] != caller.userid and not (record["team"] == caller.team and base >= 30) and base < 40:
            raise ApiError(403, "User tried to access entity without permission.")
        return record

    def _writable(self, caller: _Caller, entity_id: int, *, unlocked: bool = True) -> dict[str, Any]:
        record = self._readable(caller, "experiments", entity_id)
        base = json.loads(record["canwrite"]).get("base", 20)
        if record["userid"] != caller.userid and not (record["team"] == caller.team and base >= 30) and base < 40:
            raise ApiError(403, "User tried to access entity without permission.")
        if unlocked and record["locked"]:
            raise ApiError(403, "This item is locked.")
        return record

    def _touch(self, record: dict[str, Any], caller: _Caller) -> None:
        record["modified_at"] = _now()
        record["lastchangeby"] = caller.userid

    def _known_id(self, table: Mapping[int, Mapping[str, Any]], team: int, key: str, value: Any) -> int | None:
        wanted = _positive_int_or_none(key, value)
        if wanted is None:
            return None
        row = table.get(wanted)
        if row is None or row["team"] != team:
            label = "experiments category" if table is self._categories else "experiments status"
            raise ApiError(400, f"Invalid {key}: {wanted} is not an {label} of team {team}.")
        return wanted

    def _tag_id(self, team: int, tag: str) -> int:
        for row in self._tags.values():
            if row["team"] == team and row["tag"] == tag:
                return row["id"]
        new_id = self._next_id("tags")
        self._tags[new_id] = {"id": new_id, "tag": tag, "team": team}
        return new_id

    # -- representations ------------------------------------------------------------------------

    def _entity(self, kind: str, record: Mapping[str, Any], *, full: bool) -> dict[str, Any]:
        categories = self._resource_categories if kind in ("items", "items_types") else self._categories
        category = categories.get(record["category"]) if record["category"] else None
        status = self._statuses.get(record["status"]) if record["status"] else None
        user = self._users[record["userid"]]
        tags = [self._tags[t] for t in record["tag_ids"]]
        out: dict[str, Any] = {
            "id": record["id"], "elabid": record["elabid"], "title": record["title"], "body": record["body"],
            "body_html": record["body"], "content_type": record["content_type"],
            "category": category["id"] if category else None,
            "category_title": category["title"] if category else None,
            "category_color": category["color"] if category else None,
            "status": status["id"] if status else None,
            "status_title": status["title"] if status else None,
            "status_color": status["color"] if status else None,
            "canread": record["canread"], "canwrite": record["canwrite"],
            "metadata": None if record["metadata"] is None else mysql_json(record["metadata"]),
            "tags": "|".join(t["tag"] for t in tags) or None,
            "tags_id": "|".join(str(t["id"]) for t in tags) or None,
            "locked": record["locked"], "lockedby": record["lockedby"], "locked_at": record["locked_at"],
            "created_at": record["created_at"], "modified_at": record["modified_at"], "date": record["date"],
            "lastchangeby": record["lastchangeby"], "userid": record["userid"], "team": record["team"],
            "firstname": user["firstname"], "lastname": user["lastname"],
            "fullname": f"{user['firstname']} {user['lastname']}", "orcid": None,
            "state": record["state"], "rating": record["rating"], "custom_id": record["custom_id"],
            "timestamped": 0, "timestampedby": None, "timestamped_at": None, "access_key": None,
            "created_from_id": record["created_from_id"], "next_step": None, "recent_comment": None,
            "page": _ENTITY_PAGES[kind], "type": kind,
            "sharelink": f"{self.url}/{_ENTITY_PAGES[kind]}.php?mode=view&id={record['id']}",
        }
        if self.version_int >= 50400:
            out["hide_main_text"] = record["hide_main_text"]
        if kind in ("experiments_templates", "items_types"):
            out.update(canread_is_immutable=0, canwrite_is_immutable=0)
        if full:
            out.update(self._entity_children(kind, record))
        return out

    def _entity_children(self, kind: str, record: Mapping[str, Any]) -> dict[str, Any]:
        related = [e for e in self._entities["experiments"].values()
                   if record["id"] in e["experiments_links" if kind == "experiments" else "items_links"]]
        return {
            "items_links": [self._link("items", i) for i in record["items_links"]],
            "experiments_links": [self._link("experiments", i) for i in record["experiments_links"]],
            "related_items_links": [],
            "related_experiments_links": [self._link("experiments", e["id"]) for e in related],
            "uploads": [self._upload(u) for u in record["uploads"] if self._uploads[u]["state"] == 1],
            "steps": [], "comments": [], "compounds_links": [],
        }

    def _link(self, kind: str, target_id: int) -> dict[str, Any]:
        target = self._entities[kind][target_id]
        categories = self._resource_categories if kind == "items" else self._categories
        category = categories.get(target["category"]) if target["category"] else None
        status = self._statuses.get(target["status"]) if target["status"] else None
        return {
            "entityid": target_id, "title": target["title"], "custom_id": target["custom_id"],
            "category_id": category["id"] if category else None,
            "category_title": category["title"] if category else None,
            "category_color": category["color"] if category else None,
            "status_id": status["id"] if status else None,
            "status_title": status["title"] if status else None,
            "status_color": status["color"] if status else None,
            "is_bookable": 0, "link_state": target["state"], "page": _ENTITY_PAGES[kind], "type": kind,
        }

    def _upload(self, upload_id: int) -> dict[str, Any]:
        return {k: v for k, v in self._uploads[upload_id].items() if k != "data"}

    @staticmethod
    def _statuslike(row: Mapping[str, Any]) -> dict[str, Any]:
        return {k: row[k] for k in ("id", "title", "color", "is_default", "ordering")}

    def _user(self, userid: int) -> dict[str, Any]:
        user = self._users[userid]
        team = self._teams[user["team"]]
        return {
            "userid": userid, "firstname": user["firstname"], "lastname": user["lastname"],
            "fullname": f"{user['firstname']} {user['lastname']}", "email": user["email"],
            "initials": user["firstname"][:1] + user["lastname"][:1], "orcid": None, "sig_pubkey": None,
            "team": team["id"], "validated": 1, "is_sysadmin": 0,
            "teams": [{"id": team["id"], "name": team["name"], "is_admin": 0, "is_owner": 0, "is_archived": 0}],
        }

    # -- endpoint handlers: instance, users, teams ----------------------------------------------

    def _get_info(self, caller: _Caller, request: RequestInfo) -> _Reply:
        experiments = self._entities["experiments"].values()
        size = sum(u["filesize"] for u in self._uploads.values())
        return _json_reply(200, {
            "elabftw_version": self.version, "elabftw_version_int": self.version_int, "ts_balance": 0,
            "all_users_count": len(self._users), "active_users_count": len(self._users),
            "items_count": len(self._entities["items"]), "teams_count": len(self._teams),
            "experiments_count": len(experiments), "experiments_timestamped_count": 0,
            "uploads_filesize_sum": size, "uploads_filesize_sum_formatted": f"{size} B",
        })

    def _get_user(self, caller: _Caller, request: RequestInfo, userid: str) -> _Reply:
        wanted = caller.userid if userid == "me" else int(userid)
        if wanted not in self._users:
            raise ApiError(404, "The resource was not found.")
        return _json_reply(200, self._user(wanted))

    def _list_teams(self, caller: _Caller, request: RequestInfo) -> _Reply:
        return _json_reply(200, _page(list(self._teams.values()), _query_dict(request.query)))

    def _get_team(self, caller: _Caller, request: RequestInfo, team: str) -> _Reply:
        return _json_reply(200, self._teams[self._team_of(caller, team)])

    def _list_team_rows(self, table: Mapping[int, Mapping[str, Any]], caller: _Caller,
                        request: RequestInfo, team: str) -> _Reply:
        team_id = self._team_of(caller, team)
        rows = [self._statuslike(r) for r in table.values() if r["team"] == team_id]
        return _json_reply(200, _page(rows, _query_dict(request.query)))

    def _list_categories(self, caller: _Caller, request: RequestInfo, team: str) -> _Reply:
        return self._list_team_rows(self._categories, caller, request, team)

    def _list_statuses(self, caller: _Caller, request: RequestInfo, team: str) -> _Reply:
        return self._list_team_rows(self._statuses, caller, request, team)

    def _list_team_tags(self, caller: _Caller, request: RequestInfo, team: str) -> _Reply:
        team_id = self._team_of(caller, team)
        rows = [self._tag_row(t) for t in self._tags.values() if t["team"] == team_id]
        return _json_reply(200, _page(rows, _query_dict(request.query)))

    def _tag_row(self, tag: Mapping[str, Any]) -> dict[str, Any]:
        count = sum(tag["id"] in e["tag_ids"] for kind in self._entities.values() for e in kind.values())
        return {"id": tag["id"], "tag": tag["tag"], "team": tag["team"], "item_count": count, "is_favorite": 0}

    # -- endpoint handlers: read-only entity lists ----------------------------------------------

    def _entity_list(self, kind: str, caller: _Caller, request: RequestInfo) -> _Reply:
        query = _query_dict(request.query)
        rows = [r for r in self._entities[kind].values() if r["team"] == caller.team]
        rows = _filter_rows(rows, query)
        rows = _order_rows(rows, query, "date" if kind in ("experiments", "items") else "id")
        return _json_reply(200, [self._entity(kind, r, full=False) for r in _page(rows, query)])

    def _entity_one(self, kind: str, caller: _Caller, request: RequestInfo, entity_id: int) -> _Reply:
        fmt = _query_dict(request.query).get("format", "json")
        record = self._readable(caller, kind, entity_id)
        if kind == "experiments" and fmt in ("pdf", "eln"):
            return self._export_pdf(record) if fmt == "pdf" else self._export_eln(record)
        if fmt != "json":
            raise ApiError(501, f"Export format {fmt!r} is not emulated by FakeElabftw.")
        return _json_reply(200, self._entity(kind, record, full=True))

    def _export_pdf(self, record: Mapping[str, Any]) -> _Reply:
        entity = self._entity("experiments", record, full=True)
        fields = record["metadata"].get("extra_fields") if isinstance(record["metadata"], dict) else None
        lines = [entity["title"], f"Date: {entity['date']}  Author: {entity['fullname']}",
                 f"Unique eLabID: {entity['elabid']}"]
        lines += [f"{name}: {spec.get('value', '')}" for name, spec in (fields or {}).items() if isinstance(spec, dict)]
        disposition = f'attachment; filename="{_slug(entity["title"])}.pdf"'
        return _Reply(200, _pdf_document(lines), "application/pdf", {"Content-Disposition": disposition})

    def _export_eln(self, record: Mapping[str, Any]) -> _Reply:
        entity = self._entity("experiments", record, full=True)
        uploads = [self._uploads[u] for u in record["uploads"] if self._uploads[u]["state"] == 1]
        links = [self._entities[kind][target] for kind in ("items", "experiments")
                 for target in record[f"{kind}_links"]]
        body = _eln_archive(entity, uploads, links, self.url, self.version)
        disposition = f'attachment; filename="{_slug(entity["title"])}.eln"'
        return _Reply(200, body, "application/zip", {"Content-Disposition": disposition})

    def _list_items(self, caller: _Caller, request: RequestInfo) -> _Reply:
        return self._entity_list("items", caller, request)

    def _get_item(self, caller: _Caller, request: RequestInfo, item_id: int) -> _Reply:
        return self._entity_one("items", caller, request, item_id)

    def _list_templates(self, caller: _Caller, request: RequestInfo) -> _Reply:
        return self._entity_list("experiments_templates", caller, request)

    def _get_template(self, caller: _Caller, request: RequestInfo, template_id: int) -> _Reply:
        return self._entity_one("experiments_templates", caller, request, template_id)

    def _list_items_types(self, caller: _Caller, request: RequestInfo) -> _Reply:
        return self._entity_list("items_types", caller, request)

    def _get_items_type(self, caller: _Caller, request: RequestInfo, type_id: int) -> _Reply:
        return self._entity_one("items_types", caller, request, type_id)

    def _list_extra_fields_keys(self, caller: _Caller, request: RequestInfo) -> _Reply:
        query = _query_dict(request.query)
        needle = str(query.get("q", "")).strip().lower()
        counts: dict[str, int] = {}
        for kind in self._entities.values():
            for record in kind.values():
                fields = record["metadata"].get("extra_fields") if isinstance(record["metadata"], dict) else None
                if record["team"] == caller.team and record["state"] != 3 and isinstance(fields, dict):
                    for name in fields:
                        counts[name] = counts.get(name, 0) + 1
        rows = [{"extra_fields_key": k, "frequency": n} for k, n in counts.items() if needle in k.lower()]
        rows.sort(key=lambda r: (-r["frequency"], r["extra_fields_key"]))
        return _json_reply(200, _page(rows, query, unlimited_below=-1))

    # -- endpoint handlers: experiments ---------------------------------------------------------

    def _list_experiments(self, caller: _Caller, request: RequestInfo) -> _Reply:
        return self._entity_list("experiments", caller, request)

    def _get_experiment(self, caller: _Caller, request: RequestInfo, exp_id: int) -> _Reply:
        return self._entity_one("experiments", caller, request, exp_id)

    def _create_experiment(self, caller: _Caller, request: RequestInfo) -> _Reply:
        params = self._json_body(request)
        template = self._template_param(caller, params.get("template", -1))
        if template is not None:
            fields, tag_ids = self._fields_from_template(template), list(template["tag_ids"])
        else:
            fields = self._fields_from_post(caller, params)
            tag_ids = [self._tag_id(caller.team, t) for t in fields.pop("tags")]
        title = _php_string("title", params.get("title")).strip() or "Untitled"
        record = self._new_entity("experiments", title=title, team=caller.team, userid=caller.userid)
        record.update(fields, tag_ids=tag_ids)
        return _created(f"{self.api_url}/experiments/{record['id']}")

    def _template_param(self, caller: _Caller, value: Any) -> dict[str, Any] | None:
        try:
            template_id = int(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"Invalid template: {value!r} is not an integer.") from None
        if template_id <= 0:
            return None  # 0: the team's common template, -1: empty body
        return self._readable(caller, "experiments_templates", template_id)

    @staticmethod
    def _fields_from_template(template: Mapping[str, Any]) -> dict[str, Any]:
        """Creating from a template only uses the request's title."""
        keys = ("body", "content_type", "category", "status", "canread", "canwrite", "hide_main_text",
                "metadata")
        fields = {k: copy.deepcopy(template[k]) for k in keys}
        fields["created_from_id"] = template["id"]
        return fields

    def _fields_from_post(self, caller: _Caller, params: Mapping[str, Any]) -> dict[str, Any]:
        tags = params.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
            raise ApiError(400, "Invalid tags: expected a list of non-empty strings.")
        fields: dict[str, Any] = {
            "body": _php_string("body", params.get("body")),
            "category": self._known_id(self._categories, caller.team, "category", params.get("category")),
            "status": self._known_id(self._statuses, caller.team, "status", params.get("status")),
            "content_type": _content_type(params.get("content_type", 1)),
            "tags": [t.strip() for t in tags],
        }
        for key in ("canread", "canwrite"):
            if params.get(key) is not None:
                fields[key] = _check_permissions_json(key, params[key])
        if self.version_int >= 50200:  # older servers silently drop metadata on POST
            fields["metadata"] = copy.deepcopy(params.get("metadata"))
        return fields

    def _patch_experiment(self, caller: _Caller, request: RequestInfo, exp_id: int) -> _Reply:
        params = self._json_body(request)
        action = params.get("action", "update")
        if action != "update":
            record = self._writable(caller, exp_id, unlocked=False)
            self._patch_action(caller, record, action)
        else:
            record = self._writable(caller, exp_id)
            for key, value in params.items():
                if key != "action":
                    self._patch_key(caller, record, key, value)
                    self._touch(record, caller)
        return _json_reply(200, self._entity("experiments", record, full=True))

    def _patch_action(self, caller: _Caller, record: dict[str, Any], action: Any) -> None:
        if action == "lock":
            self._set_lock(record, not record["locked"], caller.userid)
        elif action in ("forcelock", "forceunlock"):
            self._set_lock(record, action == "forcelock", caller.userid)
        elif action == "pin":
            return
        elif action in ("bloxberg", "exclusiveeditmode", "sign", "timestamp", "updatemetadatafield"):
            raise ApiError(501, f"Action {action!r} is not emulated by FakeElabftw.")
        else:
            raise ApiError(400, "Incorrect action value.")

    def _set_lock(self, record: dict[str, Any], locked: bool, userid: int | None) -> None:
        record["locked"] = int(locked)
        record["lockedby"] = (userid or record["userid"]) if locked else None
        record["locked_at"] = _now() if locked else None

    def _patch_key(self, caller: _Caller, record: dict[str, Any], key: str, value: Any) -> None:
        setter = _PATCH_SETTERS.get(key)
        minimum = _PATCH_MIN_VERSION.get(key, 0)
        if setter is None or self.version_int < minimum:
            raise ApiError(400, f"Invalid update target: {key!r}.")
        setter(self, caller, record, value)

    def _set_title(self, caller: _Caller, record: dict[str, Any], value: Any) -> None:
        record["title"] = _php_string("title", value).strip() or "Untitled"

    def _set_body(self, caller: _Caller, record: dict[str, Any], value: Any) -> None:
        record["body"] = _php_string("body", value)

    def _set_bodyappend(self, caller: _Caller, record: dict[str, Any], value: Any) -> None:
        record["body"] += _php_string("bodyappend", value)

    def _set_category(self, caller: _Caller, record: dict[str, Any], value: Any) -> None:
        record["category"] = self._known_id(self._categories, record["team"], "category", value)

    def _set_status(self, caller: _Caller, record: dict[str, Any], value: Any) -> None:
        record["status"] = self._known_id(self._statuses, record["team"], "status", value)

    def _set_content_type(self, caller: _Caller, record: dict[str, Any], value: Any) -> None:
        record["content_type"] = _content_type(_php_string("content_type", value))

    def _set_rating(self, caller: _Caller, record: dict[str, Any], value: Any) -> None:
        rating = _positive_int_or_none("rating", value) or 0
        if rating > 5:
            raise ApiError(400, "Invalid value for rating: expected 0 to 5.")
        record["rating"] = rating

    def _set_custom_id(self, caller: _Caller, record: dict[str, Any], value: Any) -> None:
        record["custom_id"] = _positive_int_or_none("custom_id", value)

    def _set_date(self, caller: _Caller, record: dict[str, Any], value: Any) -> None:
        text = _php_string("date", value)
        try:
            record["date"] = datetime.strptime(text, "%Y-%m-%d").strftime("%Y-%m-%d")
        except ValueError:
            raise ApiError(400, f"Invalid value for date: {text!r} (expected YYYY-MM-DD).") from None

    def _set_permissions(self, key: str, record: dict[str, Any], value: Any) -> None:
        record[key] = _check_permissions_json(key, _php_string(key, value))

    def _set_canread(self, caller: _Caller, record: dict[str, Any], value: Any) -> None:
        self._set_permissions("canread", record, value)

    def _set_canwrite(self, caller: _Caller, record: dict[str, Any], value: Any) -> None:
        self._set_permissions("canwrite", record, value)

    def _set_state(self, caller: _Caller, record: dict[str, Any], value: Any) -> None:
        text = _php_string("state", value)
        if text not in ("1", "2", "3"):
            raise ApiError(400, f"Invalid value for state: {text!r}.")
        record["state"] = int(text)

    def _set_hide_main_text(self, caller: _Caller, record: dict[str, Any], value: Any) -> None:
        text = _php_string("hide_main_text", value)
        if text not in ("", "0", "1"):
            raise ApiError(400, f"Invalid value for hide_main_text: {text!r} (expected 0 or 1).")
        record["hide_main_text"] = int(text == "1")

    def _set_userid(self, caller: _Caller, record: dict[str, Any], value: Any) -> None:
        target = _positive_int_or_none("userid", value)
        user = self._users.get(target or 0)
        if user is None or user["team"] != record["team"]:
            raise ApiError(400, f"Invalid value for userid: {value!r} is not a member of the team.")
        record["userid"] = user["userid"]

    def _set_metadata(self, caller: _Caller, record: dict[str, Any], value: Any) -> None:
        record["metadata"] = _decode_metadata_string("metadata", value)

    def _set_metadatamerge(self, caller: _Caller, record: dict[str, Any], value: Any) -> None:
        incoming = _decode_metadata_string("metadatamerge", value)
        if not isinstance(incoming, dict):
            raise ApiError(400, "Invalid value for metadatamerge: expected a JSON object.")
        record["metadata"] = _merge_metadata(record["metadata"], incoming)

    def _delete_experiment(self, caller: _Caller, request: RequestInfo, exp_id: int) -> _Reply:
        record = self._writable(caller, exp_id)
        record["state"] = 3  # soft delete, like the server
        self._touch(record, caller)
        return _Reply(204)

    # -- endpoint handlers: tags, links, uploads ------------------------------------------------

    def _list_tags(self, caller: _Caller, request: RequestInfo, exp_id: int) -> _Reply:
        record = self._readable(caller, "experiments", exp_id)
        return _json_reply(200, [self._tag_row(self._tags[t]) for t in record["tag_ids"]])

    def _add_tag(self, caller: _Caller, request: RequestInfo, exp_id: int) -> _Reply:
        record = self._writable(caller, exp_id)
        params = self._json_body(request)
        names = params["tags"] if isinstance(params.get("tags"), list) else [params.get("tag")]
        if not names or not all(isinstance(n, str) and n.strip() for n in names):
            raise ApiError(400, "Tag is too short!")
        tag_id = 0
        for name in names:
            tag_id = self._tag_id(record["team"], name.strip())
            if tag_id not in record["tag_ids"]:
                record["tag_ids"].append(tag_id)
        self._touch(record, caller)
        return _created(f"{self.api_url}/experiments/{exp_id}/tags/{tag_id}")

    def _list_links(self, kind: str, caller: _Caller, exp_id: int) -> _Reply:
        record = self._readable(caller, "experiments", exp_id)
        return _json_reply(200, [self._link(kind, t) for t in record[f"{kind}_links"]])

    def _add_link(self, kind: str, caller: _Caller, exp_id: int, target: int) -> _Reply:
        record = self._writable(caller, exp_id)
        self._readable(caller, kind, target)  # 404 when the target does not exist
        if target not in record[f"{kind}_links"]:
            record[f"{kind}_links"].append(target)
        self._touch(record, caller)
        return _created(f"{self.api_url}/experiments/{exp_id}/{kind}_links/{target}")

    def _delete_link(self, kind: str, caller: _Caller, exp_id: int, target: int) -> _Reply:
        record = self._writable(caller, exp_id)
        if target not in record[f"{kind}_links"]:
            raise ApiError(404, "The resource was not found.")
        record[f"{kind}_links"].remove(target)
        self._touch(record, caller)
        return _Reply(204)

    def _list_items_links(self, caller: _Caller, request: RequestInfo, exp_id: int) -> _Reply:
        return self._list_links("items", caller, exp_id)

    def _add_items_link(self, caller: _Caller, request: RequestInfo, exp_id: int, target: int) -> _Reply:
        return self._add_link("items", caller, exp_id, target)

    def _delete_items_link(self, caller: _Caller, request: RequestInfo, exp_id: int, target: int) -> _Reply:
        return self._delete_link("items", caller, exp_id, target)

    def _list_experiments_links(self, caller: _Caller, request: RequestInfo, exp_id: int) -> _Reply:
        return self._list_links("experiments", caller, exp_id)

    def _add_experiments_link(self, caller: _Caller, request: RequestInfo, exp_id: int, target: int) -> _Reply:
        return self._add_link("experiments", caller, exp_id, target)

    def _delete_experiments_link(self, caller: _Caller, request: RequestInfo, exp_id: int,
                                 target: int) -> _Reply:
        return self._delete_link("experiments", caller, exp_id, target)

    def _list_uploads(self, caller: _Caller, request: RequestInfo, exp_id: int) -> _Reply:
        record = self._readable(caller, "experiments", exp_id)
        return _json_reply(200, [self._upload(u) for u in record["uploads"] if self._uploads[u]["state"] == 1])

    def _add_upload(self, caller: _Caller, request: RequestInfo, exp_id: int) -> _Reply:
        record = self._writable(caller, exp_id)
        fields = _parse_multipart(request.content_type, request.body)
        upload = fields.get("file")
        if upload is None or upload["filename"] is None:
            raise ApiError(400, "Error reading file!")
        comment = fields.get("comment", {}).get("data", b"").decode("utf-8", "replace")
        upload_id = self._store_upload(caller, record, upload["filename"] or "upload", upload["data"], comment)
        self._touch(record, caller)
        return _created(f"{self.api_url}/experiments/{exp_id}/uploads/{upload_id}")

    def _store_upload(self, caller: _Caller, record: dict[str, Any], name: str, data: bytes,
                      comment: str) -> int:
        upload_id = self._next_id("uploads")
        user = self._users[caller.userid]
        digest = hashlib.sha256(data).hexdigest()
        extension = name.rsplit(".", 1)[-1] if "." in name else "bin"
        self._uploads[upload_id] = {
            "id": upload_id, "real_name": name, "long_name": f"{digest[:2]}/{digest}.{extension}",
            "comment": comment, "item_id": record["id"], "userid": caller.userid, "type": "experiments",
            "created_at": _now(), "hash": digest, "hash_algorithm": "sha256", "storage": 1,
            "filesize": len(data), "state": 1, "immutable": 0,
            "fullname": f"{user['firstname']} {user['lastname']}", "data": data,
        }
        record["uploads"].append(upload_id)
        return upload_id

    def _get_upload(self, caller: _Caller, request: RequestInfo, exp_id: int, upload_id: int) -> _Reply:
        record = self._readable(caller, "experiments", exp_id)
        if upload_id not in record["uploads"]:
            raise ApiError(404, "The resource was not found.")
        if _query_dict(request.query).get("format") == "binary":
            return _Reply(200, self._uploads[upload_id]["data"], "application/octet-stream")
        return _json_reply(200, self._upload(upload_id))


# ---------------------------------------------------------------------------------------------
# Module-level tables and helpers used by the fake
# ---------------------------------------------------------------------------------------------

_SEED_TEMPLATE_METADATA = {
    "elabftw": {"extra_fields_groups": [{"id": 1, "name": "Sample"}, {"id": 2, "name": "Acquisition"}]},
    "extra_fields": {
        "Sample ID": {"type": "text", "value": "", "required": True, "group_id": 1, "position": 0},
        "Objective": {"type": "select", "value": "20x", "options": ["10x", "20x", "63x"], "group_id": 2,
                      "position": 1},
        "Laser power": {"type": "number", "value": "", "units": ["mW", "W"], "unit": "mW", "group_id": 2,
                        "position": 2},
        "Microscope": {"type": "items", "value": "", "group_id": 2, "position": 3},
    },
}

_PATCH_SETTERS: dict[str, Callable[..., None]] = {
    "title": FakeElabftw._set_title,
    "body": FakeElabftw._set_body,
    "bodyappend": FakeElabftw._set_bodyappend,
    "category": FakeElabftw._set_category,
    "status": FakeElabftw._set_status,
    "content_type": FakeElabftw._set_content_type,
    "rating": FakeElabftw._set_rating,
    "custom_id": FakeElabftw._set_custom_id,
    "date": FakeElabftw._set_date,
    "canread": FakeElabftw._set_canread,
    "canwrite": FakeElabftw._set_canwrite,
    "state": FakeElabftw._set_state,
    "userid": FakeElabftw._set_userid,
    "metadata": FakeElabftw._set_metadata,
    "metadatamerge": FakeElabftw._set_metadatamerge,
    "hide_main_text": FakeElabftw._set_hide_main_text,
}
_PATCH_MIN_VERSION = {"hide_main_text": 50400, "metadatamerge": 50600}


def _match(pattern: tuple[str, ...], segments: list[str]) -> list[Any] | None:
    if len(pattern) != len(segments):
        return None
    params: list[Any] = []
    for token, segment in zip(pattern, segments):
        if token == "{int}":
            if not segment.isdigit():
                return None
            params.append(int(segment))
        elif token in ("{team}", "{user}"):
            alias = "current" if token == "{team}" else "me"
            if segment != alias and not segment.isdigit():
                return None
            params.append(segment)
        elif token != segment:
            return None
    return params


def _content_type(value: Any) -> int:
    text = str(value)
    if text not in ("1", "2"):
        raise ApiError(400, f"Invalid value for content_type: {value!r} (1: HTML, 2: Markdown).")
    return int(text)


def _decode_metadata_string(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        raise ApiError(400, f"Invalid value for {key}: send it JSON-encoded as a string (the server casts "
                            f"every PATCH value to a string), not as {type(value).__name__}.")
    try:
        return json.loads(value)
    except ValueError:
        raise ApiError(400, f"Invalid value for {key}: the string is not valid JSON.") from None


def _filter_rows(rows: list[dict[str, Any]], query: Mapping[str, Any]) -> list[dict[str, Any]]:
    states = {s for s in str(query.get("state", "1")).split(",") if s}
    rows = [r for r in rows if str(r["state"]) in states]
    needle = str(query.get("q", "")).strip().lower()
    if needle:
        rows = [r for r in rows if needle in r["title"].lower() or needle in r["body"].lower()]
    for key in ("category", "status"):
        if query.get(key):
            wanted = {None if v == "null" else int(v) for v in str(query[key]).split(",") if v.strip()}
            rows = [r for r in rows if r[key] in wanted]
    return rows


_ORDER_KEYS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "id": lambda r: r["id"],
    "date": lambda r: (r["date"], r["id"]),
    "lastchange": lambda r: (r["modified_at"], r["id"]),
    "title": lambda r: (r["title"].lower(), r["id"]),
    "cat": lambda r: (r["category"] or 0, r["id"]),
    "status": lambda r: (r["status"] or 0, r["id"]),
    "rating": lambda r: (r["rating"], r["id"]),
    "customid": lambda r: (r["custom_id"] or 0, r["id"]),
    "user": lambda r: (r["userid"], r["id"]),
}


def _order_rows(rows: list[dict[str, Any]], query: Mapping[str, Any], default: str) -> list[dict[str, Any]]:
    """``order``/``sort`` as the server reads them (unknown values fall back to the default).

    Entries default to newest first; templates to their creation order.
    """
    order = str(query.get("order", default))
    key = _ORDER_KEYS.get(order, _ORDER_KEYS[default])
    sort = str(query.get("sort", "desc" if default == "date" else "asc")).lower()
    return sorted(rows, key=key, reverse=sort != "asc")


def _slug(text: str) -> str:
    """A file-name-safe version of ``text`` (as elabFTW names exported files and folders)."""
    return re.sub(r"[^\w.-]+", "-", text, flags=re.UNICODE).strip("-") or "untitled"


def _pdf_text(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1").replace("\\", "\\\\").replace(
        "(", "\\(").replace(")", "\\)")


def _pdf_document(lines: list[str]) -> bytes:
    """A valid one-page PDF 1.4 showing ``lines`` in Helvetica (what a PDF export needs to be here)."""
    text = "BT /F1 11 Tf 50 800 Td 14 TL " + " ".join(f"({_pdf_text(line)}) '" for line in lines[:50]) + " ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text.encode("latin-1")), text.encode("latin-1")),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _eln_archive(entity: Mapping[str, Any], uploads: list[Mapping[str, Any]], links: list[Mapping[str, Any]],
                 server: str, version: str) -> bytes:
    """An ``.eln`` (RO-Crate 1.1 zip) of one experiment, shaped like elabFTW 5.x exports."""
    now = datetime.now().astimezone().isoformat(timespec="seconds")
    root = datetime.now().strftime("%Y-%m-%d-%H%M%S") + "-export"
    folder = f"{_slug(entity['category_title'] or entity['date'])} - {_slug(entity['title'])} - {entity['elabid'][9:17]}"
    dataset_id = f"./{folder}/"
    person_id = "person://" + hashlib.sha256(f"{entity['firstname']}{entity['lastname']}".encode()).hexdigest() + \
        "?hash_algo=sha256"
    export_json = json.dumps([entity], indent=2).encode()
    files = [(f"{dataset_id}export-elabftw.json", "export-elabftw.json", export_json,
              {"description": "JSON export", "encodingFormat": "application/json"})]
    files += [(f"{dataset_id}{u['real_name']}", u["real_name"], u["data"],
               {"description": u["comment"], "alternateName": u["long_name"]}) for u in uploads]
    graph: list[dict[str, Any]] = [
        {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"},
         "conformsTo": {"@id": "https://w3id.org/ro/crate/1.1"}, "dateCreated": now,
         "sdPublisher": {"@id": "#publisher"}, "version": "1.0"},
        {"@id": "#publisher", "@type": "Organization", "name": "eLabFTW", "url": "https://www.elabftw.net"},
        {"@id": "#ro-crate_created", "@type": "CreateAction", "object": {"@id": "./"}, "name": "RO-Crate created",
         "endTime": now, "instrument": {"@id": "https://www.elabftw.net"},
         "actionStatus": {"@id": "http://schema.org/CompletedActionStatus"}},
        {"@id": "https://www.elabftw.net", "@type": "SoftwareApplication", "name": "eLabFTW", "version": version,
         "identifier": "https://www.elabftw.net"},
        {"@id": person_id, "@type": "Person", "familyName": entity["lastname"], "givenName": entity["firstname"]},
    ]
    graph += [{"@id": file_id, "@type": "File", "name": name, "contentSize": len(data),
               "sha256": hashlib.sha256(data).hexdigest(), **extra} for file_id, name, data, extra in files]
    measured = _property_values(entity["metadata"])
    graph += measured
    mentions = [{"@id": f"{server}/{'experiments' if t['kind'] == 'experiments' else 'database'}.php?mode=view"
                        f"&id={t['id']}", "@type": "Dataset", "name": t["title"], "identifier": t["elabid"]}
                for t in links]
    graph += mentions
    dataset: dict[str, Any] = {
        "@id": dataset_id, "@type": "Dataset", "author": {"@id": person_id}, "dateCreated": entity["created_at"],
        "dateModified": entity["modified_at"], "identifier": entity["elabid"], "comment": [],
        "keywords": [t for t in (entity["tags"] or "").split("|") if t], "name": entity["title"],
        "text": entity["body"], "encodingFormat": "text/html" if entity["content_type"] == 1 else "text/markdown",
        "url": f"{server}/experiments.php?mode=view&id={entity['id']}", "genre": "experiment",
        "hasPart": [{"@id": file_id} for file_id, _, _, _ in files],
        "mentions": [{"@id": m["@id"]} for m in mentions],
        "variableMeasured": [{"@id": pv["@id"]} for pv in measured] or None,
    }
    if entity["category_title"]:
        graph.append({"@id": f"#category-{entity['category_title']}", "@type": "Thing",
                      "name": entity["category_title"]})
        dataset["about"] = {"@id": f"#category-{entity['category_title']}"}
    if entity["status_title"]:
        dataset["creativeWorkStatus"] = entity["status_title"]
    graph.append(dataset)
    graph.append({"@id": "./", "@type": ["Dataset"], "hasPart": [{"@id": dataset_id}]})
    crate = {"@context": "https://w3id.org/ro/crate/1.1/context", "@graph": graph}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{root}/ro-crate-metadata.json", json.dumps(crate, indent=2, ensure_ascii=False))
        for file_id, _, data, _ in files:
            archive.writestr(f"{root}/{file_id[2:]}", data)
    return buffer.getvalue()


def _property_values(metadata: str | None) -> list[dict[str, Any]]:
    """``variableMeasured``: the whole metadata JSON first (what elabFTW imports), then one per field."""
    if not metadata:
        return []
    values = [{"@id": f"pv://{uuid.uuid4()}", "@type": "PropertyValue", "propertyID": "elabftw_metadata",
               "description": "eLabFTW metadata JSON as string", "value": metadata}]
    decoded = json.loads(metadata)
    for name, spec in (decoded.get("extra_fields") or {}).items() if isinstance(decoded, dict) else ():
        if not isinstance(spec, dict):
            continue
        value = {"@id": f"pv://{uuid.uuid4()}", "@type": "PropertyValue", "propertyID": name,
                 "valueReference": spec.get("type", "text"), "value": spec.get("value", "")}
        if spec.get("unit"):
            value["unitText"] = spec["unit"]
        if spec.get("description"):
            value["description"] = spec["description"]
        values.append(value)
    return values
