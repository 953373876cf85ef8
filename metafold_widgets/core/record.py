"""The project record (``metafold.json``) and the integration log.

The record is the single source of truth about a project: which template made it,
the answers, who and when, and per integration its state (``pending``, ``done``,
``failed`` or ``off``), remote ids, URLs and last error. It never holds a secret.
Every write is atomic; the log is append-only JSON lines.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import Any, Mapping

from ..errors import InputFileError
from .atomic import write_atomic

RECORD_FILE = "metafold.json"
ELABFTW_METADATA_FILE = "elabftw-metadata.json"
README_FILE = "README.md"
LOG_FILE = "integration_log.jsonl"
RECORD_FORMAT = "metafold-project"
RECORD_VERSION = 1
INTEGRATION_STATES = ("pending", "done", "failed", "off")
# Keys that END in a credential word: omero_password, api_key, access-token (not token_count).
_SECRET_KEY = re.compile(r"(^|[_\-. ])(password|passwd|api[_-]?key|apikey|secret|token|session[_-]?key)$")


def utc_now() -> str:
    """The current time as an ISO 8601 UTC timestamp with seconds."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def to_json(data: Any) -> str:
    """Stable, readable JSON text for project files."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def read_record(project: str | os.PathLike[str]) -> dict[str, Any]:
    """The record of the project folder; InputFileError when missing or unreadable."""
    path = Path(project) / RECORD_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(f"{project}: not a metafold project (no {RECORD_FILE})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"{path}: cannot be read: {exc}") from None
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


def log_event(project: str | os.PathLike[str], record: Mapping[str, Any] | None = None, **entry: Any) -> None:
    """Append one event to the project's integration log (when its folder exists)."""
    record = record if record is not None else read_record(project)
    log_path = Path(project) / record["project"].get("log", LOG_FILE)
    if log_path.parent.is_dir():
        append_log(log_path, entry)


def record_integration(project: str | os.PathLike[str], system: str, *, action: str,
                       result: str | None = None, **state: Any) -> dict[str, Any]:
    """Update one system's state in the record (atomically) and log the step; returns the record.

    ``state`` holds the new values (``state``, ``id``, ``url``, ``error``, ``reason``...);
    the log line gets the same facts plus ``action`` and ``result`` (default: the state).
    """
    record = read_record(project)
    entry = dict(record.setdefault("integrations", {}).get(system) or {})
    entry.update(state)
    entry["updated_at"] = utc_now()
    record["integrations"][system] = entry
    write_record(project, record)
    log_event(project, record, system=system, action=action, result=result or entry.get("state"),
              **{k: v for k, v in state.items() if k in ("id", "url", "error", "reason", "warning")})
    return record
