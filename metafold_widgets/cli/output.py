"""Everything the ``metafold`` commands print: aligned tables, sizes, outcomes, DataFrames, progress.

Functions here render text and decide nothing; the command modules print what they
return. pandas and the workflows are imported only by the functions that need them, so
that a command which prints no table starts fast.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from ..core.sizes import describe_size
from ..core.spreadsheet import safe_frame
from ..errors import TemplateError, UserError

if TYPE_CHECKING:
    import pandas as pd

    from ..core.template import Template
    from ..workflows.check import ProjectReport
    from ..workflows.create import CreateResult, StepOutcome

FORMATS = ("table", "csv", "json")
PROJECT_COLUMNS = (("NAME", "name"), ("SOURCE", "source"), ("TEMPLATE", "template"), ("CREATED", "created"),
                   ("CREATOR", "creator"), ("COMPLETE", "completeness"), ("ELABFTW", "elabftw_state"),
                   ("OMERO", "omero_state"), ("SIZE", "size_bytes"), ("PATH", "path"))


def table(rows: Iterable[Sequence[str]]) -> str:
    """Rows of cells (the first row is the header) as left-aligned columns two spaces apart."""
    lines = [list(row) for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
                     for line in lines)


def size(count: int) -> str:
    """``1234567`` -> ``1.2 MB``: decimal units, as file managers and the package summary show them."""
    return describe_size(count)


def outcome(step: StepOutcome) -> str:
    """``elabFTW: done (https://...)``: one system's outcome, with its link or reason."""
    from ..session import SYSTEM_NAMES

    detail = step.url or step.message
    return f"{SYSTEM_NAMES.get(step.system, step.system)}: {step.state}" + (f" ({detail})" if detail else "")


def created_json(result: CreateResult) -> str:
    """A created project and each system's outcome, as one line of JSON."""
    return json.dumps({"path": str(result.path), "integrations": {
        system: {"state": step.state, "id": step.id, "url": step.url, "message": step.message}
        for system, step in result.outcomes.items()}}, ensure_ascii=False)


def to_json(data: Any) -> str:
    """Data as indented JSON, non-ASCII characters kept."""
    return json.dumps(data, indent=2, ensure_ascii=False)


def frame(data: pd.DataFrame, fmt: str) -> str:
    """A DataFrame as ``json`` (a list of records), ``csv`` or ``table`` (aligned text), newline-terminated."""
    if fmt == "json":
        records = json.loads(data.to_json(orient="records", date_format="iso"))  # NA -> null, dates ISO
        return to_json(records) + "\n"
    if fmt == "csv":
        return safe_frame(data).to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    return data.astype(object).fillna("").to_string(index=False) + "\n"


def templates_table(found: Sequence[tuple[Path, Template | TemplateError]], builtin: bool) -> str:
    """Templates with id, version, field count, name and file; a broken one shows its first problem."""
    rows = [("ID", "VERSION", "FIELDS", "NAME", "FILE")]
    for path, template in found:
        if isinstance(template, TemplateError):
            rows.append(("-", "-", "-", f"BROKEN: {template.problems[0].message}", path.name))
        else:
            rows.append((template.id, template.version, str(len(template.fields)), template.name,
                         "(built-in)" if builtin else path.name))
    return table(rows)


def projects_table(projects: pd.DataFrame) -> str:
    """Found projects as an aligned table, one line each, and their count."""
    if projects.empty:
        return "no projects found\n"
    columns = [(title, key) for title, key in PROJECT_COLUMNS if key in projects]
    rows = [[title for title, _ in columns]]
    for record in projects.to_dict("records"):
        rows.append([_project_cell(key, record.get(key)) for _, key in columns])
    return table(rows) + f"\n\n{len(projects)} projects\n"


def project_rows_table(rows: Sequence[Mapping[str, Any]], sizes: bool = False) -> str:
    """:func:`projects_table` from :func:`~metafold_widgets.workflows.scan.scan_rows`' plain rows,
    the same text without pandas (``metafold scan`` starts several times faster)."""
    if not rows:
        return "no projects found\n"
    columns = [(title, key) for title, key in PROJECT_COLUMNS if key != "size_bytes" or sizes]
    lines = [[title for title, _ in columns]]
    for row in rows:
        lines.append([_row_cell(key, row) for _, key in columns])
    return table(lines) + f"\n\n{len(rows)} projects\n"


def _row_cell(key: str, row: Mapping[str, Any]) -> str:
    if key == "completeness":
        counts = [row.get(name) for name in ("required_filled", "optional_filled", "required_total", "optional_total")]
        numbers = [count for count in counts if isinstance(count, int)]
        if len(numbers) < 4 or numbers[2] + numbers[3] <= 0:
            return "-"
        return f"{(numbers[0] + numbers[1]) / (numbers[2] + numbers[3]):.0%}"
    value = row.get(key)
    if value is None:
        return "-"
    if key == "created":
        return _utc_date(value)
    if key == "size_bytes":
        return size(int(value))
    return str(value)


def _utc_date(value: Any) -> str:
    """An ISO 8601 time as its UTC date, ``-`` when it is none (as the DataFrame's coercion gives)."""
    if not isinstance(value, str):
        return "-"
    try:
        when = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return "-"
    if when.tzinfo is not None:
        when = when.astimezone(dt.timezone.utc)
    return when.strftime("%Y-%m-%d")


def _project_cell(key: str, value: Any) -> str:
    import pandas as pd

    if pd.api.types.is_scalar(value) and pd.isna(value):
        return "-"
    if key == "created":
        return str(value.strftime("%Y-%m-%d"))
    if key == "completeness":
        return f"{value:.0%}"
    if key == "size_bytes":
        return size(int(value))
    return str(value)


def check_report(report: ProjectReport) -> str:
    """One project's checks as a table, then its score and the fixes to make."""
    rows = [("STATUS", "CHECK", "MESSAGE")] + [(r.status.upper(), r.check, r.message) for r in report.results]
    lines = [table(rows), f"\nscore: {report.score}/100 for {report.project}"]
    lines += [f"- {fix}" for fix in report.recommendations]
    return "\n".join(lines)


def write_text(text: str, out: str | None) -> None:
    """``text`` to standard output, or to the new file ``out`` (never replacing one)."""
    from ..core.atomic import write_new_file

    if out is None:
        sys.stdout.write(text)
        return
    target = Path(out)
    if not target.parent.is_dir():
        raise UserError(f"folder {target.parent} does not exist")
    try:
        write_new_file(target, text)
    except FileExistsError:
        raise UserError(f"{out} already exists; choose another file name") from None
    print(f"wrote {out}", file=sys.stderr)


def note(message: str) -> None:
    """A line for people on standard error (progress, outcomes, warnings), never mixed with the data."""
    print(message, file=sys.stderr)


def notes(messages: Iterable[str]) -> None:
    """Several lines for people on standard error."""
    for message in messages:
        note(message)


def step_note(system: str, message: str) -> None:
    """``on_step`` of the create and resume workflows: each step's message on standard error."""
    note(message)


class Progress:
    """``progress(done, total, message)`` as one updating line on a terminal (a line every 5 s otherwise)."""

    def __init__(self, quiet: bool = False, stream: Any = None):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = 0.2 if self.tty else 5.0
        self.last = 0.0
        self.shown = False

    def __enter__(self) -> Callable[[int, int, str], None]:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.shown and self.tty:
            self.stream.write("\r" + " " * self._width() + "\r")
            self.stream.flush()

    def __call__(self, done: int, total: int, message: str) -> None:
        now = time.monotonic()
        if self.quiet or (now - self.last < self.interval and done < total):
            return
        self.last = now
        percent = 100.0 * done / total if total else 100.0
        line = f"{percent:5.1f}% {message}"
        if self.tty:
            width = self._width()
            self.stream.write("\r" + line[:width].ljust(width))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.shown = True

    @staticmethod
    def _width() -> int:
        return max(20, shutil.get_terminal_size((80, 20)).columns - 1)


def settings_lines(settings: Mapping[str, str]) -> str:
    """``name: value`` lines."""
    return "\n".join(f"{name}: {value}" for name, value in settings.items())
