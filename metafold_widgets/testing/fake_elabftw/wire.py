"""HTTP plumbing of the fake elabFTW server: requests, replies, injected faults, the socket server.

Nothing here knows about experiments; :mod:`.server` plugs the API behind :class:`HttpServer`.
"""
from __future__ import annotations

import hashlib
import json
import socket
import threading
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Mapping, NamedTuple
from urllib.parse import parse_qsl

API_PREFIX = "/api/v2"
DEFAULT_LIMIT = 15
REDACTED = "<redacted>"


@dataclass(frozen=True)
class Fault:
    """A misbehaviour to inject; build one with the class methods."""

    kind: str
    code: int | None = None
    retry_after: int | None = None
    seconds: float = 0.0
    detail: str = "Injected fault (FakeElabftw)."

    @classmethod
    def status(cls, code: int = 500, detail: str | None = None) -> Fault:
        """Answer with this error status (JSON Error body, ``detail`` as its text: a proxy or a server
        may echo what it was sent, the request headers included); the request is not applied."""
        if code < 400:
            raise ValueError("a status fault needs an error status (>= 400)")
        return cls("status", code=code, detail=detail or cls.detail)

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

    @classmethod
    def apply_then_status(cls, code: int = 502) -> Fault:
        """Apply the request, then answer this error status (a proxy that gave up on the
        backend after it had written): the client sees a failure for something that happened."""
        return cls("apply_then_status", code=code)


@dataclass
class FaultRule:
    """An injected fault waiting for ``remaining`` matching requests."""

    fault: Fault
    method: str | None
    path_prefix: str | None
    remaining: int

    def matches(self, request: RequestInfo) -> bool:
        """Same method (if given) and a path below ``path_prefix``, segment-wise."""
        if self.method is not None and self.method != request.method:
            return False
        if self.path_prefix is None:
            return True
        prefix = self.path_prefix.rstrip("/")
        path = request.api_path if not prefix.startswith(API_PREFIX) else request.path
        return path is not None and (path == prefix or path.startswith(prefix + "/") or prefix == "")


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

    @property
    def params(self) -> dict[str, Any]:
        """The query string as a dict (a repeated name gives a list)."""
        return query_dict(self.query)


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


NOT_FOUND = "The resource was not found."
NO_ACCESS = "User tried to access entity without permission."


class ApiError(Exception):
    """An error answer; the release decides how its body is shaped, unless ``message`` gives the
    body's ``message`` (and ``description`` its description) exactly."""

    def __init__(self, status: int, description: str, headers: Mapping[str, str] | None = None, *,
                 message: str | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.headers = dict(headers or {})
        self.message = message

    @property
    def phrase(self) -> str:
        """The short message the server sends for this status (src/Controllers/Apiv2Controller.php)."""
        return _ERROR_PHRASES.get(self.status) or HTTPStatus(self.status).phrase


_ERROR_PHRASES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Access Forbidden",
    404: "Resource Not Found",
    405: "Method Not Allowed",
    500: "Unexpected error",
    501: "Not Implemented",
}


@dataclass
class Reply:
    """What the fake sends back."""

    status: int
    body: bytes = b""
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def all_headers(self) -> dict[str, str]:
        """The headers as written, Content-Type and Content-Length included."""
        headers = dict(self.headers)
        if self.content_type:
            headers["Content-Type"] = self.content_type
        headers["Content-Length"] = str(len(self.body))
        return headers


def json_reply(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Reply:
    """A JSON answer."""
    return Reply(status, json.dumps(payload).encode(), "application/json", dict(headers or {}))


def created(location: str) -> Reply:
    """201 as Symfony sends ``new Response('', 201, ['Location' => ...])``."""
    return Reply(201, b"", "text/html; charset=UTF-8", {"Location": location})


def query_dict(query: str) -> dict[str, Any]:
    """A query string as PHP's ``$request->query`` sees it (a repeated name gives a list here)."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in out:
            previous = out[key]
            out[key] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            out[key] = value
    return out


def query_int(query: Mapping[str, Any], name: str, default: int) -> int:
    """PHP's ``getInt()``: garbage reads as the default."""
    raw = query.get(name)
    if isinstance(raw, list):
        raw = raw[-1]
    try:
        return int(raw) if raw not in (None, "") else default
    except ValueError:
        return default


def parse_multipart(content_type: str, body: bytes) -> dict[str, dict[str, Any]]:
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


def loggable_body(content_type: str, body: bytes) -> Any:
    """A request body for ``requests_log``: JSON decoded, files summarized by size and hash."""
    if not body:
        return None
    if content_type.startswith("multipart/form-data"):
        return {name: _loggable_field(part) for name, part in parse_multipart(content_type, body).items()}
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def _loggable_field(part: Mapping[str, Any]) -> Any:
    data: bytes = part["data"]
    if part["filename"] is None:
        return data.decode("utf-8", "replace")
    return {"filename": part["filename"], "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


class HttpServer(ThreadingHTTPServer):
    """A threading HTTP server that hands every request to ``serve(handler)`` and can close
    every open connection at once."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], serve: Callable[[Handler], None]):
        self.serve = serve
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        """Stop serving and cut every open connection."""
        self.shutdown()
        with self.sockets_lock:
            for sock in list(self.open_sockets):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    """One connection; every method goes to the server's ``serve``."""

    server: HttpServer
    protocol_version = "HTTP/1.1"
    timeout = 60

    def version_string(self) -> str:
        """The Server header, as the real server's reverse proxy sends it."""
        return "nginx"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silence the default stderr access log."""

    def _serve(self) -> None:
        self.server.serve(self)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = do_OPTIONS = _serve

    def read_body(self) -> bytes:
        """The request body, plain or chunked."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def write_reply(self, reply: Reply) -> None:
        """Send ``reply``; a client that gave up (time-out) is not an error."""
        try:
            self.send_response(reply.status)
            for name, value in reply.all_headers().items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
