"""A version-aware elabFTW API v2 client built on one ``requests.Session`` per server.

- Every call has a timeout. Idempotent calls (GET, PATCH, DELETE) are retried with
  exponential backoff on connection errors, 429 (honouring Retry-After) and 5xx.
- Creating an experiment can never duplicate it: each new experiment carries a unique marker
  of letters and digits in its body. After any failed POST (lost answer, 5xx, 4xx) the client
  looks the marker up with a quoted query, which every release from 5.2 answers through its
  advanced search with every column, and confirms each hit with ``GET /experiments/{id}`` when
  a row lacks the body. A failing lookup is an error, never "not found". After a read timeout
  the server may still be applying the request, so nothing is sent again: the error says to
  resume later, and resuming looks the marker up first.
- ``/info`` is read once per client and decides how to talk to the server. The oldest release
  supported is 5.2.0 (metadata on POST); older servers get one clear error. 5.2.x: a category
  would also copy the template with the same id, so ``"template": -1`` is sent with it.
  5.2-5.3 ignore ``content_type`` on POST, so it is set with a PATCH. ``metadatamerge``
  (5.6+) is used for single values only: 5.6.x stores a list as the word "Array", so
  multi-value fields are read and patched whole there. ``hide_main_text`` from 5.4.
- Categories and statuses are resolved from the caller's own team's rows (5.4+ also lists
  other teams'). Paging stops when a server ignores ``limit``.
- Errors become :class:`ElabftwError` quoting the server's message; never a silent
  success, never the API key.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import requests

from ..config import ElabftwSettings
from ..core.atomic import staged_file
from ..core.bounded import parse_json
from ..core.redact import mask_url, scrub, without_credentials
from ..errors import ElabftwError, MetafoldError

log = logging.getLogger("metafold_widgets.elabftw")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PATCH", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
PAGE_SIZE = 100
OLDEST_SUPPORTED = (50200, "5.2.0")   # metadata, body and content_type on POST
VERSION_NO_CATEGORY_TEMPLATE = 50300  # 5.2.5-5.2.8 read a category as a template id too
VERSION_CONTENT_TYPE_ON_POST = 50400
VERSION_HIDE_MAIN_TEXT = 50400
VERSION_METADATA_MERGE = 50600
VERSION_MERGE_KEEPS_LISTS = 60000     # 5.6.x metadatamerge turns a list into the word "Array"
NEWEST_BEHAVIOUR = 999999             # a development build reports version 0
TAGS_FORBIDDEN = "cannot create tags"
# the short messages elabFTW pairs with a detail in its error bodies
GENERIC_PHRASES = frozenset({"Bad Request", "Unauthorized", "Access Forbidden", "Forbidden", "Resource Not Found",
                             "Not Found", "Method Not Allowed", "Unexpected error", "Not Implemented"})
LINK_FIELD_TYPES = ("items", "experiments")
# ``GET /experiments/{id}?format=...`` (the API description's list)
EXPORT_FORMATS = ("csv", "eln", "elnhtml", "json", "pdf", "pdfa", "qrpdf", "qrpng", "zip", "zipa")
DOWNLOAD_CHUNK = 1 << 20
MAX_ANSWER_BYTES = 64 * 1024 * 1024  # a JSON answer (lists of experiments included) is far smaller
MAX_ERROR_BYTES = 64 * 1024  # a refusal's body: its detail is one sentence
MAX_ERROR_DETAIL = 500  # characters of that detail quoted in a message


@dataclass(frozen=True)
class ServerInfo:
    """What ``/info`` says about the server; ``version_int`` is M*10000 + m*100 + p, and a
    development build (which reports 0) is taken as the newest release."""

    version: str
    version_int: int
    development_build: bool = False


class _Ambiguous(Exception):
    """A request may or may not have been applied (response lost, timeout, 5xx)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ElabftwClient:
    """Talk to one elabFTW server. Create with :class:`ElabftwSettings`; close when done."""

    def __init__(self, settings: ElabftwSettings, *, timeout: tuple[float, float] = (5.0, 30.0),
                 retries: int = 3, backoff: float = 0.5, max_wait: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.requests_sent = 0
        self._sleep = sleep
        self._info: ServerInfo | None = None
        self._http = requests.Session()
        self._http.headers.update({"Authorization": settings.api_key.reveal(), "Accept": "application/json",
                                   "User-Agent": "metafold-widgets"})
        self._http.verify = settings.verify
        self._where = mask_url(settings.url)  # the address as shown in messages (no password)
        self._secrets = (settings.api_key.reveal(),)
        self._categories: dict[str, int] | None = None
        self._statuses: dict[str, int] | None = None

    def __repr__(self) -> str:
        return f"ElabftwClient(url={self._where!r})"

    def __enter__(self) -> "ElabftwClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    # --- server facts -------------------------------------------------------------------

    def info(self) -> ServerInfo:
        """Version of the server, read once per client; ElabftwError for a release older than 5.2.0."""
        if self._info is None:
            data = self._json("GET", "/info", action="read the server version")
            if not isinstance(data, dict):
                raise ElabftwError(f"elabFTW answered /info with something unexpected; is {self._where} "
                                   "an elabFTW server?")
            version = str(data.get("elabftw_version", "")).strip()
            try:
                number = int(data.get("elabftw_version_int") or 0)
            except (TypeError, ValueError):
                number = 0
            if number <= 0:
                log.warning("elabFTW at %s reports no release number (a development build, version %r): "
                            "talking to it as to the newest release", self._where, version)
                self._info = ServerInfo(version, NEWEST_BEHAVIOUR, development_build=True)
            elif number < OLDEST_SUPPORTED[0]:
                raise ElabftwError(f"elabFTW {version or number} at {self._where} is older than "
                                   f"{OLDEST_SUPPORTED[1]}, the oldest release metafold-widgets supports (older "
                                   "releases drop the metadata of new experiments); ask the administrator to "
                                   "update it")
            else:
                self._info = ServerInfo(version, number)
        return self._info

    def test_connection(self) -> dict[str, Any]:
        """The user the API key belongs to (``/users/me``); raises ElabftwError when it fails or the
        server's release is not supported."""
        user = self._json("GET", "/users/me", action="check the API key")
        self.info()
        return user

    def web_url(self, experiment_id: int) -> str:
        """The browser address of an experiment."""
        return f"{without_credentials(self.settings.url)}/experiments.php?mode=view&id={experiment_id}"

    # --- experiments --------------------------------------------------------------------

    def create_experiment(self, title: str, *, marker: str, body: str = "", content_type: int = 1,
                          category: int | str | None = None, status: int | str | None = None,
                          tags: Sequence[str] = (), metadata: Mapping[str, Any] | None = None,
                          check_existing: bool = False, aliases: Sequence[str] = (),
                          on_warning: Callable[[str], None] | None = None) -> int:
        """Create an experiment in as few requests as the server allows; returns its id.

        ``marker`` (letters and digits only) is placed in the body and makes the creation
        idempotent; ``aliases`` are older markers that also identify it. With ``check_existing``
        (when resuming), an experiment already carrying the marker is returned instead of
        creating another. ``on_warning`` hears what was created only in part (tags that the
        team does not let users create).
        """
        if not (marker.isascii() and marker.isalnum()):
            raise ValueError("an experiment marker must be letters and digits only")
        server = self.info()
        warn = on_warning or (lambda message: log.warning("%s", message))
        markers = (marker, *aliases)
        if check_existing:
            found = self.find_experiment(*markers)
            if found is not None:
                return found
        if marker not in body:
            body = f"{body}\n<p><small>{marker}</small></p>" if content_type == 1 else f"{body}\n\n{marker}\n"
        payload: dict[str, Any] = {"title": title, "body": body, "content_type": content_type}
        if category not in (None, ""):
            payload["category"] = self.category_id(category)  # type: ignore[arg-type]
            if server.version_int < VERSION_NO_CATEGORY_TEMPLATE:
                payload["template"] = -1  # else 5.2.5-5.2.8 copy the template whose id equals the category's
        if status not in (None, ""):
            payload["status"] = self.status_id(status)  # type: ignore[arg-type]
        tags = list(dict.fromkeys(t.strip() for t in tags if t and t.strip()))
        if tags:
            payload["tags"] = tags
        if metadata is not None:
            payload["metadata"] = dict(metadata)
        experiment_id, refused = self._create_once(payload, markers)
        if refused:
            missing = self._add_tags_allowed(experiment_id, tags)
            if missing:
                warn(f"experiment {experiment_id} was created without the tags {', '.join(missing)}: the team does "
                     "not let users create new tags (a team admin can create them, then run 'metafold sync')")
        if server.version_int < VERSION_CONTENT_TYPE_ON_POST:
            # 5.2-5.3 ignore content_type on POST and use the user's editor preference instead
            self.update_experiment(experiment_id, content_type=content_type)
        return experiment_id

    def _create_once(self, payload: dict[str, Any], markers: Sequence[str]) -> tuple[int, bool]:
        """POST the experiment; after any failure look the marker up before anything else.
        Returns the id and whether the server refused the tags of an experiment it created."""
        for attempt in range(self.retries + 1):
            try:
                response = self._request("POST", "/experiments", json=payload, retry=False,
                                         action="create the experiment", ambiguous=True)
                return _id_from_location(response), False
            except (_Ambiguous, ElabftwError) as exc:
                if isinstance(exc, ElabftwError) and exc.status in (None, 401):
                    raise  # no answer in time (resume later), or the key was refused before anything
                reason = exc.reason if isinstance(exc, _Ambiguous) else str(exc)
                found = self._find_after_failure(markers, reason)
                if found is not None:
                    log.info("experiment %s exists although the answer was a failure (%s)", found, reason)
                    return found, isinstance(exc, ElabftwError) and TAGS_FORBIDDEN in str(exc)
                if isinstance(exc, ElabftwError):
                    raise ElabftwError(f"{exc}; no experiment was created (checked)", exc.status,
                                       exc.server_message) from None
                if attempt == self.retries:
                    raise ElabftwError(f"elabFTW did not confirm creating the experiment ({reason}); "
                                       "no experiment was created (checked)") from None
                self._sleep(self._backoff_delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _find_after_failure(self, markers: Sequence[str], reason: str) -> int | None:
        try:
            return self.find_experiment(*markers)
        except ElabftwError as lookup:
            raise ElabftwError(f"creating the experiment failed ({reason}) and looking for it failed too "
                               f"({lookup}): it may exist; run 'metafold resume' when elabFTW answers again "
                               "(it looks before creating anything)") from None

    def _add_tags_allowed(self, experiment_id: int, tags: Sequence[str]) -> list[str]:
        """Add the tags a creation left out; returns those the team does not let users create."""
        refused = []
        for tag in self._missing_tags(experiment_id, tags):
            try:
                self._request("POST", f"/experiments/{int(experiment_id)}/tags", json={"tag": tag},
                              action=f"add tag '{tag}'", retry=False)
            except ElabftwError as exc:
                if TAGS_FORBIDDEN not in str(exc):
                    raise
                refused.append(tag)
        return refused

    def find_experiment(self, marker: str, *aliases: str) -> int | None:
        """The id of the experiment whose body carries ``marker`` (or one of ``aliases``), if any.

        The marker is searched as a quoted term: every release from 5.2 sends that through its
        advanced search (a LIKE on title, body and elabid, every column returned). A row
        without its body is confirmed with ``GET /experiments/{id}``. A search that fails
        raises ElabftwError: "not found" is said only when the server said so.
        """
        for text in (marker, *aliases):
            for entry in self._pages("/experiments", {"q": _quoted(text)}, action="search experiments"):
                if "body" not in entry:
                    entry = self._json("GET", f"/experiments/{int(entry['id'])}",
                                       action=f"read experiment {entry['id']}")
                if text in str(entry.get("body") or "") or text in str(entry.get("title") or ""):
                    return int(entry["id"])
        return None

    def get_experiment(self, experiment_id: int) -> dict[str, Any]:
        """An experiment with its metadata decoded from the server's JSON string."""
        data = self._json("GET", f"/experiments/{int(experiment_id)}", action=f"read experiment {experiment_id}")
        return _decode_metadata(data)

    def update_experiment(self, experiment_id: int, **changes: Any) -> dict[str, Any]:
        """PATCH title, body, status, category or metadata (sent JSON-encoded, as the server needs)."""
        payload: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "metadata" and not isinstance(value, str):
                value = json.dumps(value, ensure_ascii=False)
            elif key == "category" and value is not None:
                value = self.category_id(value)
            elif key == "status" and value is not None:
                value = self.status_id(value)
            payload[key] = value
        data = self._json("PATCH", f"/experiments/{int(experiment_id)}", json=payload,
                          action=f"update experiment {experiment_id}")
        return _decode_metadata(data)

    def delete_experiment(self, experiment_id: int) -> None:
        """Soft-delete an experiment (elabFTW keeps it recoverable)."""
        self._request("DELETE", f"/experiments/{int(experiment_id)}", action=f"delete experiment {experiment_id}")

    def merge_metadata_values(self, experiment_id: int, values: Mapping[str, Any]) -> dict[str, Any]:
        """Change custom-field values only, keeping each field's type, options and units."""
        if self._can_merge(values.values()):
            merge = {"extra_fields": {name: {"value": value} for name, value in values.items()}}
            return self.update_experiment(experiment_id, metadatamerge=json.dumps(merge, ensure_ascii=False))
        current = self.get_experiment(experiment_id).get("metadata") or {}
        fields = current.setdefault("extra_fields", {})
        for name, value in values.items():
            fields.setdefault(name, {"type": "text"})["value"] = value
        return self.update_experiment(experiment_id, metadata=current)

    def add_extra_field(self, experiment_id: int, name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
        """Add (or replace) one custom field, e.g. a url field linking to the OMERO dataset."""
        if self._can_merge([spec.get("value")]):
            merge = {"extra_fields": {name: dict(spec)}}
            return self.update_experiment(experiment_id, metadatamerge=json.dumps(merge, ensure_ascii=False))
        current = self.get_experiment(experiment_id).get("metadata") or {}
        current.setdefault("extra_fields", {})[name] = dict(spec)
        return self.update_experiment(experiment_id, metadata=current)

    def _can_merge(self, values: Iterable[Any]) -> bool:
        """``metadatamerge`` exists from 5.6.0, but before 6.0 it stores a list as "Array"."""
        number = self.info().version_int
        if number < VERSION_METADATA_MERGE:
            return False
        return number >= VERSION_MERGE_KEEPS_LISTS or not any(isinstance(v, (list, tuple)) for v in values)

    def set_hide_main_text(self, experiment_id: int, hide: bool) -> dict[str, Any]:
        """Hide or show the main text, with the key this server version understands."""
        if self.info().version_int >= VERSION_HIDE_MAIN_TEXT:
            return self.update_experiment(experiment_id, hide_main_text=1 if hide else 0)
        current = self.get_experiment(experiment_id).get("metadata") or {}
        current.setdefault("elabftw", {})["display_main_text"] = not hide
        return self.update_experiment(experiment_id, metadata=current)

    def add_tags(self, experiment_id: int, tags: Sequence[str]) -> None:
        """Add tags the experiment does not have yet."""
        for tag in self._missing_tags(experiment_id, tags):
            self._request("POST", f"/experiments/{int(experiment_id)}/tags", json={"tag": tag},
                          action=f"add tag '{tag}'", retry=False)

    def _missing_tags(self, experiment_id: int, tags: Sequence[str]) -> list[str]:
        existing = {str(t.get("tag")) for t in self._json("GET", f"/experiments/{int(experiment_id)}/tags",
                                                            action="read tags") or []}
        return list(dict.fromkeys(t for t in tags if t and t not in existing))

    def link(self, experiment_id: int, target_type: str, target_id: int) -> None:
        """Link the experiment to a resource (``items``) or another experiment (``experiments``)."""
        if target_type not in LINK_FIELD_TYPES:
            raise ValueError(f"cannot link to {target_type!r}")
        # a POST without a body must still say application/json (else 400); the server's INSERT IGNORE
        # makes the link idempotent, so retrying is safe
        self._request("POST", f"/experiments/{int(experiment_id)}/{target_type}_links/{int(target_id)}",
                      json={}, action=f"link {target_type} {target_id}", retry=True)

    def link_metadata_targets(self, experiment_id: int, metadata: Mapping[str, Any]) -> list[tuple[str, int]]:
        """Create the links that ``items``/``experiments`` custom fields imply (the web UI does this in
        JavaScript; the server does not)."""
        made: list[tuple[str, int]] = []
        for spec in (metadata.get("extra_fields") or {}).values():
            kind, value = spec.get("type"), spec.get("value")
            if kind in LINK_FIELD_TYPES and str(value).strip().isdigit():
                self.link(experiment_id, kind, int(value))
                made.append((kind, int(value)))
        return made

    def upload(self, experiment_id: int, path: str | Path, comment: str = "") -> int:
        """Attach a file; returns the upload id."""
        file_path = Path(path)
        with open(file_path, "rb") as handle:
            response = self._request("POST", f"/experiments/{int(experiment_id)}/uploads",
                                     files={"file": (file_path.name, handle)}, data={"comment": comment},
                                     action=f"upload {file_path.name}", retry=False)
        return _id_from_location(response)

    def export(self, experiment_id: int, fmt: str = "pdf") -> bytes:
        """The experiment as the server exports it (``pdf``, ``eln``, ``json``, ``zip``...), in memory.

        For big exports (a ``.eln`` or ``zip`` with attachments) use :meth:`export_to_file`.
        """
        response = self._export_response(experiment_id, fmt, stream=False)
        return response.content

    def export_to_file(self, experiment_id: int, fmt: str, path: str | Path) -> int:
        """Stream the experiment's export into the new file ``path``; returns the number of bytes written.

        A staged write: a broken download never leaves a truncated file under the final name,
        and an existing file is never replaced (FileExistsError).
        """
        response = self._export_response(experiment_id, fmt, stream=True)
        written = 0
        try:
            with response, staged_file(path) as handle:
                for chunk in response.iter_content(DOWNLOAD_CHUNK):
                    handle.write(chunk)
                    written += len(chunk)
        except requests.exceptions.RequestException as exc:
            raise ElabftwError(f"could not export experiment {experiment_id} as {fmt}: the download from "
                               f"{self._where} broke off ({self._short(exc)})") from None
        return written

    def _export_response(self, experiment_id: int, fmt: str, *, stream: bool) -> requests.Response:
        if fmt not in EXPORT_FORMATS:
            raise ValueError(f"unknown elabFTW export format {fmt!r} (known: {', '.join(EXPORT_FORMATS)})")
        return self._request("GET", f"/experiments/{int(experiment_id)}", params={"format": fmt},
                             headers={"Accept": "*/*"}, stream=stream,
                             action=f"export experiment {experiment_id} as {fmt}")

    def uploads(self, experiment_id: int) -> list[dict[str, Any]]:
        """The files attached to an experiment."""
        return list(self._json("GET", f"/experiments/{int(experiment_id)}/uploads", action="list uploads") or [])

    # --- steps (src/Models/Steps.php, the same requests from 5.2 to 6.0) ----------------------

    def steps(self, experiment_id: int) -> list[dict[str, Any]]:
        """The experiment's steps in order (``id``, ``body``, ``finished``...)."""
        rows = self._json("GET", f"/experiments/{int(experiment_id)}/steps", action="list steps") or []
        return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []

    def add_step(self, experiment_id: int, body: str) -> int:
        """Add a step at the end; returns its id. The server trims it to one line of 255 characters."""
        response = self._request("POST", f"/experiments/{int(experiment_id)}/steps", json={"body": body},
                                 action="add a step", retry=False)
        return _id_from_location(response)

    def finish_step(self, experiment_id: int, step_id: int) -> dict[str, Any]:
        """Mark a step finished. ``finish`` toggles on the server, so it is sent once, never
        retried, and only for a step that is not finished yet."""
        data = self._json("PATCH", f"/experiments/{int(experiment_id)}/steps/{int(step_id)}",
                          json={"action": "finish"}, action=f"finish step {step_id}", retry=False)
        return data if isinstance(data, dict) else {}

    # --- team lists ---------------------------------------------------------------------

    def categories(self) -> list[dict[str, Any]]:
        """Experiment categories of the current team (5.4+ also lists other teams' rows: left out)."""
        return _own_team(self._pages("/teams/current/experiments_categories", action="list categories"))

    def statuses(self) -> list[dict[str, Any]]:
        """Experiment statuses of the current team (other teams' rows left out)."""
        return _own_team(self._pages("/teams/current/experiments_status", action="list statuses"))

    def templates(self) -> list[dict[str, Any]]:
        """Experiment templates the user can read."""
        return list(self._pages("/experiments_templates", action="list templates"))

    def teams(self) -> list[dict[str, Any]]:
        """Teams on the server."""
        return list(self._pages("/teams", action="list teams"))

    def items_types(self) -> list[dict[str, Any]]:
        """Resource categories (items types)."""
        return list(self._pages("/items_types", action="list resource categories"))

    def extra_field_keys(self, query: str = "") -> list[dict[str, Any]]:
        """Custom-field names used in the team, most frequent first."""
        params: dict[str, Any] = {"limit": -1}
        if query:
            params["q"] = query  # an empty q is invalid per the API description
        return list(self._json("GET", "/extra_fields_keys", params=params, action="list custom field names") or [])

    def category_id(self, category: int | str) -> int:
        """The id of a category given by id or title; ElabftwError naming the choices when unknown."""
        if _is_id(category):
            return int(category)
        if self._categories is None:
            self._categories = {str(c.get("title", "")).casefold(): int(c["id"]) for c in self.categories()}
        return _lookup("category", category, self._categories)

    def status_id(self, status: int | str) -> int:
        """The id of a status given by id or title."""
        if _is_id(status):
            return int(status)
        if self._statuses is None:
            self._statuses = {str(s.get("title", "")).casefold(): int(s["id"]) for s in self.statuses()}
        return _lookup("status", status, self._statuses)

    # --- HTTP ---------------------------------------------------------------------------

    def _pages(self, path: str, params: Mapping[str, Any] | None = None, *, action: str) -> Iterator[dict[str, Any]]:
        """Every row of a list, page by page. Stops at a short page, and when the server ignores
        ``limit`` (a longer page, or one whose rows were seen already: ``/teams`` on every release)."""
        offset = 0
        seen: set[Any] = set()
        while True:
            page = self._json("GET", path, params={**(params or {}), "limit": PAGE_SIZE, "offset": offset},
                              action=action) or []
            if not isinstance(page, list):
                raise ElabftwError(f"elabFTW answered '{action}' with something that is not a list")
            ids = [row.get("id") for row in page if isinstance(row, dict)]
            if any(i in seen for i in ids if i is not None):
                return
            seen.update(i for i in ids if i is not None)
            yield from (row for row in page if isinstance(row, dict))
            if len(page) != PAGE_SIZE:
                return
            offset += PAGE_SIZE

    def _json(self, method: str, path: str, *, action: str, **kwargs: Any) -> Any:
        """The JSON answer of one call, read up to :data:`MAX_ANSWER_BYTES` and nested at most
        as deep as :func:`~metafold_widgets.core.bounded.parse_json` allows: a server's answer is
        untrusted input too."""
        response = self._request(method, path, action=action, stream=True, **kwargs)
        with response:
            body = bytearray()
            for chunk in response.iter_content(DOWNLOAD_CHUNK):
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    raise ElabftwError(f"elabFTW answered '{action}' with more than {MAX_ANSWER_BYTES:,} bytes; "
                                       f"is {self._where} an elabFTW server?", response.status_code)
        if not body:
            return None
        try:
            return parse_json(bytes(body), f"elabFTW's answer to '{action}'")
        except MetafoldError:
            raise ElabftwError(f"elabFTW answered '{action}' with something that is not JSON (or is nested too "
                               f"deeply) (HTTP {response.status_code}); is {self._where} an elabFTW server?",
                               response.status_code) from None

    def _request(self, method: str, path: str, *, action: str, retry: bool | None = None,
                 ambiguous: bool = False, **kwargs: Any) -> requests.Response:
        retry = method in IDEMPOTENT_METHODS if retry is None else retry
        url = self.settings.api_url + path
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._http.request(method, url, timeout=self.timeout, **kwargs)
            except requests.exceptions.SSLError as exc:
                raise ElabftwError(f"could not {action}: TLS certificate of {self._where} was not accepted "
                                   f"({self._short(exc)}); give the CA bundle in ELABFTW_VERIFY") from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                self.requests_sent += 1
                log.warning("%s %s: %s (attempt %d)", method, path, type(exc).__name__, attempt + 1)
                if ambiguous and isinstance(exc, requests.exceptions.ReadTimeout):
                    # the server has the request and may still be applying it: a lookup now could
                    # miss it and a second POST could duplicate it. Leave it to a later resume.
                    raise ElabftwError(f"could not {action}: elabFTW at {self._where} did not answer in "
                                       "time and may still be doing it; run 'metafold resume' later (it looks "
                                       "for the experiment before creating anything)") from None
                if ambiguous:
                    raise _Ambiguous(self._short(exc)) from None
                if retry and not last:
                    self._sleep(self._backoff_delay(attempt))
                    continue
                raise ElabftwError(f"could not {action}: elabFTW at {self._where} did not answer "
                                   f"({self._short(exc)})") from None
            self.requests_sent += 1
            log.debug("%s %s -> %s", method, path, response.status_code)
            status = response.status_code
            if status in RETRY_STATUSES and not last and (retry or status == 429 or ambiguous):
                if ambiguous and status != 429:
                    raise _Ambiguous(f"HTTP {status}")
                self._sleep(self._retry_delay(response, attempt))
                continue
            if ambiguous and status >= 500:
                raise _Ambiguous(f"HTTP {status}")
            if status >= 400:
                raise self._error(response, action)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, response: requests.Response, action: str) -> ElabftwError:
        return _error(response, action, self._secrets)

    def _short(self, exc: BaseException) -> str:
        """An exception in a few words, secrets and URL passwords masked."""
        return scrub(_short(exc), self._secrets)

    def _backoff_delay(self, attempt: int) -> float:
        return min(self.backoff * (2 ** attempt), self.max_wait)

    def _retry_delay(self, response: requests.Response, attempt: int) -> float:
        header = response.headers.get("Retry-After", "")
        if header.strip().isdigit():
            return min(float(header), self.max_wait)
        return self._backoff_delay(attempt)


def _quoted(text: str) -> str:
    """A search term in double quotes: the advanced grammar takes it whole (colons, dashes and all)."""
    return '"' + text.replace('"', "") + '"'


def _own_team(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of the caller's team: 5.4+ flag other teams' rows with ``is_current_team: 0``."""
    return [row for row in rows if row.get("is_current_team", 1) not in (0, "0", False)]


def _is_id(value: int | str) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or str(value).strip().isdigit()


def _lookup(kind: str, wanted: int | str, known: Mapping[str, int]) -> int:
    found = known.get(str(wanted).casefold())
    if found is None:
        choices = ", ".join(sorted(known)) or "none defined"
        raise ElabftwError(f"elabFTW has no experiment {kind} called '{wanted}' (the team has: {choices})")
    return found


def _id_from_location(response: requests.Response) -> int:
    location = response.headers.get("Location", "")
    last = location.rstrip("/").rsplit("/", 1)[-1]
    if not last.isdigit():
        raise ElabftwError(f"elabFTW created something but gave no usable Location header ({location!r})",
                           response.status_code)
    return int(last)


def _decode_metadata(entity: Any) -> Any:
    if isinstance(entity, dict) and isinstance(entity.get("metadata"), str):
        try:
            entity = {**entity, "metadata": json.loads(entity["metadata"]) if entity["metadata"] else {}}
        except ValueError:
            pass
    return entity


def _error(response: requests.Response, action: str, secrets: Sequence[str] = ()) -> ElabftwError:
    """The server's refusal, quoted with the detail it gave and a hint; secrets it echoed are masked."""
    message = ""
    body = _error_body(response)
    try:
        data = parse_json(body, "elabFTW's refusal")
        if isinstance(data, dict):
            parts = [str(data.get(k) or "").strip()[:MAX_ERROR_DETAIL] for k in ("message", "description")]
            # 5.1-5.3 put the detail in description, 5.4+ in message: keep the detail, not the phrase
            detail = [p for p in parts if p and p not in GENERIC_PHRASES]
            message = " - ".join(dict.fromkeys(detail or [p for p in parts if p]))
    except MetafoldError:
        message = body.decode("utf-8", "replace").strip()[:200]
    hints = {401: "check the API key", 403: "the API key lacks permission or the entry is locked",
             404: "it does not exist or is not visible to this user"}
    hint = hints.get(response.status_code, "")
    message = scrub(message, secrets)
    text = f"elabFTW refused to {action}: HTTP {response.status_code}"
    text += f" ({message})" if message else ""
    text += f"; {hint}" if hint else ""
    return ElabftwError(text, response.status_code, message or None)


def _error_body(response: requests.Response) -> bytes:
    """At most :data:`MAX_ERROR_BYTES` of a refusal's body: a detail worth quoting is short,
    and a hostile or broken server may send an endless one."""
    body = bytearray()
    try:
        for chunk in response.iter_content(16 * 1024):
            body += chunk
            if len(body) >= MAX_ERROR_BYTES:
                break
    except (requests.exceptions.RequestException, RuntimeError):
        pass  # an unreadable body leaves the status code to speak
    finally:
        response.close()
    return bytes(body[:MAX_ERROR_BYTES])


def _short(exc: BaseException) -> str:
    text = str(exc)
    return (type(exc).__name__ + (f": {text}" if text else ""))[:200]
