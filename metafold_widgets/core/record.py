"""The project record (``metafold.json``) and the integration log.

The record is the single source of truth about a project: which template made it,
the answers, who and when, and per integration its state (``pending``, ``done``,
``failed`` or ``off``), remote ids, URLs and last error. It never holds a secret.
Every write is atomic; the log is append-only JSON lines.

:class:`ProjectRecord` is the record as a typed object, what every workflow passes around
instead of digging into the JSON; defaults live in it and nowhere else. Reading checks the
shape of a file that may come from anywhere (a shared drive, an archive) and names the key
that is wrong; the log path is resolved inside the project. Keys this version does not know
are kept and written back unchanged.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping, NamedTuple

from ..errors import InputFileError
from .atomic import write_atomic
from .bounded import RECORD_MAX_BYTES, read_json
from .timestamps import utc_now
from .users import clean_user_name, current_user

RECORD_FILE = "metafold.json"
ELABFTW_METADATA_FILE = "elabftw-metadata.json"
README_FILE = "README.md"
LOG_FILE = "integration_log.jsonl"
RECORD_FORMAT = "metafold-project"
RECORD_VERSION = 1
# Keys that END in a credential word: omero_password, api_key, access-token (not token_count).
_SECRET_KEY = re.compile(r"(^|[_\-. ])(password|passwd|api[_-]?key|apikey|secret|token|session[_-]?key)$")


@dataclass
class IntegrationState:
    """One system's state: ``pending``, ``done``, ``failed`` or ``off``, and what goes with it.

    ``payload`` is what the system is to receive (kept so that resume needs no template);
    ``extra`` holds the system's own facts (``linked_omero``, ``image_ids``, ``attachments``...).
    """

    state: str = "pending"
    id: Any = None
    url: str | None = None
    error: str | None = None
    reason: str | None = None
    warning: str | None = None
    payload: dict[str, Any] | None = None
    updated_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        """True when the remote record exists."""
        return self.state == "done"

    def get(self, key: str, default: Any = None) -> Any:
        """A system-specific fact from ``extra`` (or a known field by name)."""
        if key in _STATE_FIELDS:
            value = getattr(self, key)
            return default if value is None else value
        return self.extra.get(key, default)

    def update(self, values: Mapping[str, Any]) -> None:
        """Set known fields by name and keep the others in ``extra``."""
        for key, value in values.items():
            if key in _STATE_FIELDS:
                setattr(self, key, value)
            else:
                self.extra[key] = value

    @classmethod
    def from_dict(cls, data: Any, where: str) -> IntegrationState:
        """Read one system's state; InputFileError naming ``where`` when it is not an object."""
        if not isinstance(data, Mapping):
            raise InputFileError(f"{where}: expected an object")
        state = cls()
        state.update({str(k): v for k, v in data.items()})
        if state.payload is not None and not isinstance(state.payload, dict):
            raise InputFileError(f"{where}.payload: expected an object")
        return state

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (the order of the file is kept: known fields first)."""
        out: dict[str, Any] = {"state": self.state}
        if self.payload is not None:
            out["payload"] = self.payload
        out.update({"id": self.id, "url": self.url, "error": self.error})
        for key in ("reason", "warning", "updated_at"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out.update(self.extra)
        return out


_STATE_FIELDS = frozenset(f.name for f in fields(IntegrationState) if f.name != "extra")


@dataclass
class ProjectRecord:
    """The contents of ``metafold.json`` (see the module docstring)."""

    name: str
    uid: str
    created_at: str | None = None
    created_by: str | None = None
    tool: str | None = None
    log: str = LOG_FILE
    template_id: str | None = None
    template_name: str | None = None
    template_version: str | None = None
    template_type: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    integrations: dict[str, IntegrationState] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    project_extra: dict[str, Any] = field(default_factory=dict)
    template_extra: dict[str, Any] = field(default_factory=dict)

    def integration(self, system: str) -> IntegrationState:
        """The state of ``system`` (an ``off`` state when the record does not mention it)."""
        return self.integrations.get(system) or IntegrationState(state="off", reason="not part of this project")

    def log_path(self, project: str | os.PathLike[str]) -> Path:
        """The integration log of the project folder ``project``; InputFileError when the record
        points outside the project (a record may come from anyone)."""
        root = Path(project).resolve()
        target = (root / self.log).resolve()
        if target == root or root not in target.parents:
            raise InputFileError(f"{Path(project) / 'metafold.json'}: project.log ({self.log!r}) points outside "
                                 "the project folder")
        return target

    def log_relpath(self, project: str | os.PathLike[str]) -> str:
        """The log's path inside the project folder, ``/``-separated (checked as :meth:`log_path`)."""
        return self.log_path(project).relative_to(Path(project).resolve()).as_posix()

    @classmethod
    def from_dict(cls, data: Any, source: str = "metafold.json") -> ProjectRecord:
        """Check and read the JSON of a record; InputFileError naming the key that is wrong."""
        if not isinstance(data, Mapping):
            raise InputFileError(f"{source}: expected a JSON object")
        project = _object(data.get("project"), f"{source}: project")
        template = _object(data.get("template", {}), f"{source}: template")
        answers = _object(data.get("answers", {}), f"{source}: answers")
        systems = _object(data.get("integrations", {}), f"{source}: integrations")
        name, uid = project.get("name"), project.get("uid")
        for key, value in (("name", name), ("uid", uid)):
            if not isinstance(value, str) or not value:
                raise InputFileError(f"{source}: project.{key} must be a non-empty text")
        log = project.get("log") or LOG_FILE
        if not isinstance(log, str):
            raise InputFileError(f"{source}: project.log must be a text (a path inside the project)")
        return cls(
            name=str(name), uid=str(uid), created_at=_text(project, "created_at", source),
            created_by=_text(project, "created_by", source), tool=_text(project, "tool", source), log=log,
            template_id=_text(template, "id", source, "template"),
            template_name=_text(template, "name", source, "template"),
            template_version=_text(template, "version", source, "template"),
            template_type=_text(template, "type", source, "template"),
            answers=dict(answers),
            integrations={str(system): IntegrationState.from_dict(state, f"{source}: integrations.{system}")
                          for system, state in systems.items()},
            extra={k: v for k, v in data.items() if k not in ("project", "template", "answers", "integrations")},
            project_extra={k: v for k, v in project.items() if k not in _PROJECT_KEYS},
            template_extra={k: v for k, v in template.items() if k not in _TEMPLATE_KEYS})

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, as written to ``metafold.json``."""
        out: dict[str, Any] = {k: v for k, v in self.extra.items() if k in ("format", "format_version")}
        out["project"] = {"name": self.name, "uid": self.uid, "created_at": self.created_at,
                          "created_by": self.created_by, "tool": self.tool, "log": self.log, **self.project_extra}
        out["template"] = {"id": self.template_id, "name": self.template_name, "version": self.template_version,
                           "type": self.template_type, **self.template_extra}
        out["answers"] = self.answers
        out["integrations"] = {system: state.to_dict() for system, state in self.integrations.items()}
        out.update({k: v for k, v in self.extra.items() if k not in ("format", "format_version")})
        return out


_PROJECT_KEYS = frozenset({"name", "uid", "created_at", "created_by", "tool", "log"})
_TEMPLATE_KEYS = frozenset({"id", "name", "version", "type"})


class RecordSummary(NamedTuple):
    """What a table of many projects shows of a record: who, when, which template, the answers,
    and each system's state, id and URL. Values are exactly what :class:`ProjectRecord` holds.
    (A named tuple: made a thousand times in a scan, it costs a third of a frozen dataclass.)"""

    name: str
    uid: str
    created_at: str | None
    created_by: str | None
    template_id: str | None
    template_version: str | None
    answers: Mapping[str, Any]
    states: Mapping[str, tuple[Any, Any, Any]]
    """``{system: (state, id, url)}`` for every system the record mentions."""

    @classmethod
    def from_record(cls, record: ProjectRecord) -> RecordSummary:
        """The summary of a record already read."""
        return cls(record.name, record.uid, record.created_at, record.created_by, record.template_id,
                   record.template_version, record.answers,
                   {system: (state.state, state.id, state.url) for system, state in record.integrations.items()})


def read_summary(data: Any, source: str = "metafold.json") -> RecordSummary:
    """The :class:`RecordSummary` of a record's JSON, for reading thousands of them (a scan).

    It accepts exactly what :meth:`ProjectRecord.from_dict` accepts, checking the same shape
    without building the record's objects; anything it does not take at a glance (a wrong
    type, a value that is not plain JSON) goes to ``from_dict``, which names the problem
    (InputFileError) or reads it.
    """
    summary = _plain_summary(data) if type(data) is dict else None
    return summary if summary is not None else RecordSummary.from_record(ProjectRecord.from_dict(data, source))


def _plain_summary(data: dict[str, Any]) -> RecordSummary | None:
    """The summary when the record is plain JSON of the right shape; None for anything else."""
    project, template = data.get("project"), data.get("template", {})
    answers, systems = data.get("answers", {}), data.get("integrations", {})
    if not (type(project) is dict and type(template) is dict and type(answers) is dict and type(systems) is dict):
        return None
    name, uid, log = project.get("name"), project.get("uid"), project.get("log")
    if not (type(name) is str and name and type(uid) is str and uid and (not log or type(log) is str)):
        return None
    created_at, created_by, tool = project.get("created_at"), project.get("created_by"), project.get("tool")
    template_id, template_version = template.get("id"), template.get("version")
    for value in (created_at, created_by, tool, template_id, template.get("name"), template_version,
                  template.get("type")):
        if value is not None and type(value) not in _PLAIN_TEXTS:
            return None
    states: dict[str, tuple[Any, Any, Any]] = {}
    for system, state in systems.items():
        if type(system) is not str or type(state) is not dict:
            return None
        payload = state.get("payload")
        if payload is not None and type(payload) is not dict:
            return None
        states[system] = (state.get("state", "pending"), state.get("id"), state.get("url"))
    return RecordSummary(name, uid, _as_text(created_at), _as_text(created_by), _as_text(template_id),
                         _as_text(template_version), answers, states)


def _as_text(value: Any) -> str | None:
    """What :func:`_text` gives for a JSON scalar."""
    return value if value is None or type(value) is str else str(value)


_PLAIN_TEXTS = (str, int, float, bool)  # JSON scalars: what _text turns into text with str()


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InputFileError(f"{where}: expected an object")
    return value


def _text(data: Mapping[str, Any], key: str, source: str, section: str = "project") -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise InputFileError(f"{source}: {section}.{key} must be a text")
    return str(value)


def to_json(data: Any) -> str:
    """Stable, readable JSON text for project files."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def read_record(project: str | os.PathLike[str]) -> dict[str, Any]:
    """The record of the project folder; InputFileError when missing or unreadable."""
    path = Path(project) / RECORD_FILE
    if not path.exists() and not path.is_symlink():
        raise InputFileError(f"{project}: not a metafold project (no {RECORD_FILE})")
    data = read_json(path, RECORD_MAX_BYTES, "project record")
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
        raise InputFileError(f"{path}: is not a metafold project record")
    return data


def write_record(project: str | os.PathLike[str], record: Mapping[str, Any]) -> None:
    """Write the record atomically, refusing anything that looks like a secret."""
    assert_no_secrets(record)
    write_atomic(Path(project) / RECORD_FILE, to_json(record))


def append_log(log_path: str | os.PathLike[str], entry: Mapping[str, Any]) -> None:
    """Append one event (time added when missing) to a JSON-lines log and fsync it."""
    assert_no_secrets(entry)
    line = json.dumps({"time": utc_now(), **entry}, ensure_ascii=False) + "\n"
    with open(log_path, "a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def assert_no_secrets(data: Any, path: str = "") -> None:
    """Raise ValueError when a key named like a credential holds a value."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            if value and _SECRET_KEY.search(str(key).lower()) and not isinstance(value, (Mapping, list)):
                raise ValueError(f"refusing to write a credential ({path}{key}) to a project file")
            assert_no_secrets(value, f"{path}{key}.")
    elif isinstance(data, list):
        for item in data:
            assert_no_secrets(item, path)


def load_record(project: str | os.PathLike[str]) -> ProjectRecord:
    """The project folder's record as a :class:`ProjectRecord`; InputFileError naming the file and
    key when it is missing, unreadable or malformed."""
    record = ProjectRecord.from_dict(read_record(project), str(Path(project) / RECORD_FILE))
    record.log_path(project)  # a record that points outside its project is refused when read
    return record


def save_record(project: str | os.PathLike[str], record: ProjectRecord) -> None:
    """Write a :class:`ProjectRecord` atomically (never a credential)."""
    write_record(project, record.to_dict())


def log_event(project: str | os.PathLike[str], record: ProjectRecord | Mapping[str, Any] | None = None,
              **entry: Any) -> None:
    """Append one event to the project's integration log (when its folder exists); the log is
    always inside the project, whatever the record says. The event names its ``user``
    (default: :func:`~.users.current_user`)."""
    entry = {"user": clean_user_name(entry.pop("user", None)) or current_user(), **entry}
    if record is None:
        record = load_record(project)
    elif not isinstance(record, ProjectRecord):
        record = ProjectRecord.from_dict(record, str(Path(project) / RECORD_FILE))
    log_path = record.log_path(project)
    if log_path.parent.is_dir():
        append_log(log_path, entry)


def record_integration(project: str | os.PathLike[str], system: str, *, action: str,
                       result: str | None = None, **state: Any) -> ProjectRecord:
    """Update one system's state in the record (atomically) and log the step; returns the record.

    ``state`` holds the new values (``state``, ``id``, ``url``, ``error``, ``reason``, or a
    system's own facts); the log line gets the same facts plus ``action`` and ``result``
    (default: the state).
    """
    record = load_record(project)
    entry = record.integrations.setdefault(system, IntegrationState())
    entry.update(state)
    entry.updated_at = utc_now()
    save_record(project, record)
    log_event(project, record, system=system, action=action, result=result or entry.state,
              **{k: v for k, v in state.items() if k in ("id", "url", "error", "reason", "warning")})
    return record
