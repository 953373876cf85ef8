"""Audit trail of a project: who created it, when, and every integration event since, with its user."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..core.record import load_record


def project_events(project: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every event of the project's integration log, oldest first (unreadable lines reported as such).

    The creation event of a project whose log line names no user gets the record's
    ``created_by`` (the same person); other events without a user keep none.
    """
    path = Path(project)
    record = load_record(path)
    log = record.log_path(path)
    events: list[dict[str, Any]] = []
    if not log.is_file():
        return events
    for number, line in enumerate(log.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            event = {"system": "log", "action": "unreadable line", "result": f"line {number}"}
        if not isinstance(event, dict):
            event = {"system": "log", "action": "unreadable line", "result": f"line {number}"}
        if not event.get("user") and event.get("action") == "create_project" and record.created_by:
            event["user"] = record.created_by
        events.append(event)
    return events


def audit_table(project: str | os.PathLike[str]) -> Any:
    """The events as a pandas DataFrame: time, user, system, action, result, id, url, error."""
    import pandas as pd
    columns = ["time", "user", "system", "action", "result", "id", "url", "error"]
    return pd.DataFrame(project_events(project), columns=columns)


def audit_summary(project: str | os.PathLike[str]) -> str:
    """A short compliance summary: creation, template, current state per system, event counts."""
    record = load_record(project)
    events = project_events(project)
    lines = [f"Project {record.name} (id {record.uid})",
             f"created {record.created_at} by {record.created_by} with {record.tool or '?'}",
             f"template {record.template_id} {record.template_version}",
             f"{len(events)} logged events" + _by_users(events)]
    for system, state in record.integrations.items():
        where = f" {state.id} {state.url or ''}".rstrip() if state.id else ""
        error = f" (last error: {state.error})" if state.error else ""
        count = sum(1 for e in events if e.get("system") == system)
        lines.append(f"{system}: {state.state}{where}{error}; {count} events")
    return "\n".join(lines)


def _by_users(events: list[dict[str, Any]]) -> str:
    users = list(dict.fromkeys(str(e["user"]) for e in events if e.get("user")))
    return f" by {', '.join(users)}" if users else ""
