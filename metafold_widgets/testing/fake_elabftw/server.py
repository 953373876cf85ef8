"""``FakeElabftw``: the server's life cycle, its test hooks, and how one request is answered."""
from __future__ import annotations

import copy
import threading
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

from . import experiments, routes
from .call import Call
from .releases import Release
from .store import Store
from .views import Views
from .wire import (
    API_PREFIX,
    NO_ACCESS,
    NOT_FOUND,
    REDACTED,
    ApiError,
    ContractHook,
    Fault,
    FaultRule,
    Handler,
    HttpServer,
    LoggedRequest,
    Reply,
    RequestInfo,
    ResponseInfo,
    json_reply,
    loggable_body,
    query_dict,
    query_int,
)

WRITE_KEY = "1-fake0write0key0for0tests"
READ_KEY = "2-fake0read0only0key0for0tests"
OTHER_TEAM_KEY = "3-fake0other0team0key0for0tests"
DEFAULT_KEYS: dict[str, dict[str, Any]] = {
    WRITE_KEY: {"userid": 1, "team": 1, "can_write": True},
    READ_KEY: {"userid": 2, "team": 1, "can_write": False},
    OTHER_TEAM_KEY: {"userid": 3, "team": 2, "can_write": True},
}


class FakeElabftw:
    """A stateful elabFTW server of one release on 127.0.0.1 (see the package docstring).

    Args:
        keys: ``{api key: {"userid": int, "team": int, "can_write": bool}}``; defaults to
            ``DEFAULT_KEYS`` (WRITE_KEY, READ_KEY and OTHER_TEAM_KEY).
        version: the release to emulate (``releases.EMULATED_RELEASES``), e.g. "5.6.12".
        development_build: ``/info`` reports ``elabftw_version_int`` 0, as a build from source does
            from 5.6 on (the number comes from the build).
        ft_min_token_size: MySQL's ``innodb_ft_min_token_size`` for FULLTEXT searches.
        latency: seconds added to every request (settable later).
        contract_hook: ``callable(RequestInfo, ResponseInfo | None)`` called for every exchange
            before the answer is sent (None when no response was produced: ``Fault.drop``).
    """

    def __init__(self, keys: Mapping[str, Mapping[str, Any]] | None = None, *, version: str = "5.6.12",
                 development_build: bool = False, ft_min_token_size: int = 3, latency: float = 0.0,
                 contract_hook: ContractHook | None = None, host: str = "127.0.0.1", port: int = 0):
        self.release = Release.of(version)
        # a build from source reports "dev" and 0 (src/tools/mkbuildinfo.php@5.6.0)
        self.version = "dev" if development_build else version
        self.version_int = 0 if development_build else self.release.number
        self.latency = latency
        self.contract_hook = contract_hook
        self.requests_log: list[LoggedRequest] = []
        self.hook_errors: list[BaseException] = []
        self._store = Store(keys if keys is not None else DEFAULT_KEYS, ft_min_token_size=ft_min_token_size)
        self._lock = threading.RLock()
        self._idle = threading.Condition()
        self._active = 0
        self._faults: list[FaultRule] = []
        self._closing = threading.Event()
        self._server = HttpServer((host, port), self._serve)
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._views = Views(self._store, self.release, self.url)
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
        self._server.close_all()
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
            self._faults.append(FaultRule(fault, method.upper() if method else None, path_prefix, times))

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
            return self._views.entity("experiments", self._store.entities["experiments"][exp_id], full=True)

    def experiments(self) -> list[dict[str, Any]]:
        """Every experiment of every team, deleted ones included, oldest first."""
        with self._lock:
            return [self._views.entity("experiments", e, full=True)
                    for e in self._store.entities["experiments"].values()]

    def lock_experiment(self, exp_id: int, locked: bool = True) -> None:
        """Lock (or unlock) an experiment as its owner would."""
        with self._lock:
            experiments.set_lock(self._store.entities["experiments"][exp_id], locked, None)

    def prefer_markdown(self, userid: int = 1, markdown: bool = True) -> None:
        """The user's setting "use the Markdown editor" (``users.use_markdown``)."""
        with self._lock:
            self._store.users[userid]["use_markdown"] = int(markdown)

    def forbid_user_tags(self, team: int = 1, forbidden: bool = True) -> None:
        """The team setting "users cannot create tags" (``teams.user_create_tag = 0``)."""
        with self._lock:
            self._store.teams[team]["user_create_tag"] = int(not forbidden)

    def add_team(self, name: str) -> int:
        """Add a team (with the default experiments statuses); returns its id."""
        with self._lock:
            team_id = max(self._store.teams) + 1
            self._store.ensure_team(team_id, name)
            return team_id

    def add_category(self, title: str, team: int = 1, color: str = "29aeb9", private: bool = False,
                     archived: bool = False) -> int:
        """Add an experiments category to a team; returns its id."""
        with self._lock:
            category = self._store.add_statuslike(self._store.categories, title, team, color, is_private=private)
            self._store.categories[category]["state"] = 2 if archived else 1
            return category

    def add_status(self, title: str, team: int = 1, color: str = "29aeb9", private: bool = False) -> int:
        """Add an experiments status to a team; returns its id."""
        with self._lock:
            return self._store.add_statuslike(self._store.statuses, title, team, color, is_private=private)

    def add_tag(self, tag: str, team: int = 1) -> int:
        """Add a team tag (as a team admin would, where users may not); returns its id."""
        with self._lock:
            return self._store.tag_id(team, tag)

    def add_item(self, title: str, team: int = 1, category: int | None = None) -> int:
        """Add a resource (item) that experiments can link to; returns its id."""
        with self._lock:
            store = self._store
            return int(store.new_entity("items", title=title, team=team, userid=store.first_user(team),
                                        category=category)["id"])

    def add_items_type(self, title: str, team: int = 1) -> int:
        """Add a resources template (items type); returns its id."""
        with self._lock:
            store = self._store
            return int(store.new_entity("items_types", title=title, team=team, userid=store.first_user(team))["id"])

    def add_template(self, title: str, *, body: str = "", metadata: Any = None,
                     category: int | None = None, tags: Iterable[str] = (), team: int = 1) -> int:
        """Add an experiments template; returns its id."""
        with self._lock:
            return self._store.add_template(title, body=body, metadata=metadata, category=category, tags=tags,
                                            team=team)

    def add_experiment(self, title: str, *, body: str = "", metadata: Any = None,
                       team: int = 1, userid: int | None = None) -> int:
        """Add an experiment directly (no HTTP exchange); returns its id."""
        with self._lock:
            store = self._store
            return int(store.new_entity("experiments", title=title, body=body, team=team,
                                        userid=userid or store.first_user(team),
                                        metadata=copy.deepcopy(metadata))["id"])

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is being processed (a slow one may still be applying); True if idle."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)

    # -- one request ----------------------------------------------------------------------------

    def _serve(self, handler: Handler) -> None:
        with self._idle:
            self._active += 1
        try:
            self._serve_one(handler)
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def _serve_one(self, handler: Handler) -> None:
        body = handler.read_body()
        split = urlsplit(handler.path)
        headers = {k: (REDACTED if k.lower() == "authorization" else v) for k, v in handler.headers.items()}
        request = RequestInfo(handler.command, split.path, split.query, headers, body,
                              handler.headers.get("Content-Type", ""))
        self._wait(self.latency)
        fault = self._take_fault(request)
        if fault is not None and fault.kind == "delay":
            self._wait(fault.seconds)
        if fault is not None and fault.kind == "drop":
            self._finish(request, None, handler)
            return
        reply = self._fault_reply(fault) if fault is not None and fault.kind in ("status", "rate_limited") else None
        if reply is None:
            with self._lock:
                reply = self._respond(request, handler.headers.get("Authorization"))
            if fault is not None and fault.kind == "apply_then_status":
                reply = self._fault_reply(fault)
        self._finish(request, reply, handler, lost=fault is not None and fault.kind == "lose_response")

    def _finish(self, request: RequestInfo, reply: Reply | None, handler: Handler, *, lost: bool = False) -> None:
        response = None if reply is None else ResponseInfo(reply.status, reply.all_headers(), reply.body,
                                                           reply.content_type)
        entry = LoggedRequest(request.method, request.path, query_dict(request.query),
                              loggable_body(request.content_type, request.body),
                              None if reply is None or lost else reply.status)
        with self._lock:
            self.requests_log.append(entry)
        if self.contract_hook is not None:
            try:
                self.contract_hook(request, response)
            except BaseException as exc:  # the server thread must survive a failing hook
                self.hook_errors.append(exc)
        if reply is None or lost:
            handler.close_connection = True
            return
        handler.write_reply(reply)

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._closing.wait(seconds)

    def _take_fault(self, request: RequestInfo) -> Fault | None:
        with self._lock:
            for rule in self._faults:
                if rule.matches(request):
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._faults.remove(rule)
                    return rule.fault
        return None

    def _fault_reply(self, fault: Fault) -> Reply:
        if fault.kind == "rate_limited":
            retry = str(fault.retry_after)
            return self._error_reply(ApiError(429, f"Too many requests: retry after {retry} s.",
                                              {"Retry-After": retry}))
        assert fault.code is not None
        return self._error_reply(ApiError(fault.code, fault.detail))

    def _error_reply(self, error: ApiError) -> Reply:
        """The error body of this release: 5.1-5.3 ``{code, message: phrase, description: detail}``
        (src/controllers/Apiv2Controller.php@5.2.8 getResponse); 5.4+ ``{code, message: detail,
        description: ""}`` with their own texts for a missing entity and a refused access
        (src/Exceptions/ResourceNotFoundException.php, ForbiddenException.php@5.4.0)."""
        if error.message is not None:
            payload = {"code": error.status, "message": error.message, "description": error.description}
        elif self.release.detail_in_message:
            detail = {NOT_FOUND: "Nothing to show with this id",
                      NO_ACCESS: "Sorry, you are not allowed to perform that action."}.get(error.description,
                                                                                           error.description)
            payload = {"code": error.status, "message": detail, "description": ""}
        else:
            payload = {"code": error.status, "message": error.phrase, "description": error.description}
        return json_reply(error.status, payload, error.headers)

    def _respond(self, request: RequestInfo, auth: str | None) -> Reply:
        api_path = request.api_path
        if api_path is None:
            return self._web_page(request)
        try:
            if request.method not in routes.METHODS:
                raise ApiError(405, f"Method {request.method} is not allowed.", {"Allow": ", ".join(routes.METHODS)})
            caller = self._store.authenticate(auth, self.release)
            call = Call(self._store, self._views, self.release, caller, request, self.api_url, self.version_int)
            # AbstractApiController::parseReq, first line (src/controllers@5.2.8, src/Controllers@6.0.0-alpha4)
            if request.method != "GET" and not caller.can_write:
                raise ApiError(400, "You are using a read-only key to execute a write action.")
            route, params = routes.find_route(api_path)
            handler = routes.handler_for(route, request.method)
            if request.body and not request.content_type.startswith("multipart/form-data"):
                call.json_body()  # parseReq decodes any body before applyRestrictions checks the type
            routes.check_content_type(call, is_upload=route.pattern[-1] == "uploads")
            return handler(call, *params)
        except ApiError as error:
            return self._error_reply(error)

    def _web_page(self, request: RequestInfo) -> Reply:
        if request.path == "/experiments.php" and request.method == "GET":
            exp = self._store.entities["experiments"].get(query_int(query_dict(request.query), "id", 0))
            if exp is not None:
                page = f"<html><head><title>{exp['title']}</title></head><body>experiment {exp['id']}</body></html>"
                return Reply(200, page.encode(), "text/html; charset=UTF-8")
        return Reply(404, b"<html><body>Not found</body></html>", "text/html; charset=UTF-8")
