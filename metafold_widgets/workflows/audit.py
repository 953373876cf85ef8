"""Audit trail of a project: who created it, when, and every integration event since."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..core.record import read_record


def project_events(project: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every event of the project's integration log, oldest first (unreadable lines reported as such)."""
    path = Path(project)
    record = read_record(path)
    log = path / record["project"].get("log", "")
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
        events.append(event if isinstance(event, dict) else {"system": "log", "action": "unreadable line"})
    return events


def audit_table(project: str | os.PathLike[str]) -> Any:
    """The events as a pandas DataFrame: time, system, action, result, id, url, error."""
    import pandas as pd
    columns = ["time", "system", "action", "result", "id", "url", "error"]
    return pd.DataFrame(project_events(project), columns=columns)


def audit_summary(project: str | os.PathLike[str]) -> str:
    """A short compliance summary: creation, template, current state per system, event counts."""
    record = read_record(project)
    info, template = record["project"], record["template"]
    events = project_events(project)
    lines = [f"Project {info['name']} (id {info.get('uid', '-')})",
             f"created {info['created_at']} by {info['created_by']} with {info.get('tool', '?')}",
             f"template {template['id']} {template['version']}",
             f"{len(events)} logged events"]
    for system, state in record.get("integrations", {}).items():
        where = f" {state['id']} {state.get('url') or ''}".rstrip() if state.get("id") else ""
        error = f" (last error: {state['error']})" if state.get("error") else ""
        count = sum(1 for e in events if e.get("system") == system)
        lines.append(f"{system}: {state.get('state')}{where}{error}; {count} events")
    return "\n".join(lines)
