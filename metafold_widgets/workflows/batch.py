"""Create many projects from one template and a table of answers.

Every row is validated and planned before anything is created: a bad row is reported
with each of its field errors and created nowhere, and two rows that would share a
folder name are both refused. The valid rows are then created with bounded
concurrency; each worker has its own elabFTW connection, and OMERO steps (BlitzGateway
is not thread-safe) take turns. The outcome is one row per input row.
"""
from __future__ import annotations

import csv
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..core.bounded import ANSWERS_MAX_BYTES, read_json
from ..core.plan import Plan, plan_project
from ..core.project import check_destination
from ..core.template import Template
from ..core.web_folders import WebFolders
from ..errors import AnswersError, InputFileError, UserError
from ..session import Session
from .create import StepOutcome, apply_everywhere

BatchProgress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class RowResult:
    """What happened to one input row."""

    row: int
    status: str  # created, partial (a system failed), invalid, failed
    path: str | None = None
    elabftw_id: Any = None
    omero_id: Any = None
    error: str = ""


@dataclass
class BatchResult:
    """One RowResult per input row, in input order."""

    rows: list[RowResult] = field(default_factory=list)

    @property
    def invalid(self) -> list[RowResult]:
        """Rows refused before anything was created."""
        return [r for r in self.rows if r.status == "invalid"]

    @property
    def ok(self) -> bool:
        """True when every row was created everywhere it should be."""
        return all(r.status == "created" for r in self.rows)

    def to_dataframe(self) -> Any:
        """The results as a pandas DataFrame: row, status, path, elabftw_id, omero_id, error."""
        import pandas as pd
        return pd.DataFrame([asdict(r) for r in self.rows],
                            columns=["row", "status", "path", "elabftw_id", "omero_id", "error"])


def read_rows(source: str | os.PathLike[str] | Any) -> list[dict[str, Any]]:
    """Rows of answers from a CSV/Excel/JSON file, a pandas DataFrame or a list of dicts.

    Blank cells become missing answers. Row numbers in reports count from 1 (the first
    data row; in a CSV file that is line 2).
    """
    if isinstance(source, (list, tuple)):
        return [dict(row) for row in source]
    if hasattr(source, "to_dict") and hasattr(source, "columns"):
        return [_clean(row) for row in source.to_dict(orient="records")]
    path = Path(source)
    if not path.is_file():
        raise InputFileError(f"{path}: table file not found")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        try:
            import pandas as pd
            return [_clean(row) for row in pd.read_excel(path, dtype=object).to_dict(orient="records")]
        except ImportError as exc:
            raise InputFileError(f"{path}: reading Excel files needs openpyxl ({exc}); "
                                 "pip install openpyxl, or save the sheet as CSV") from None
    if suffix == ".json":
        data = read_json(path, ANSWERS_MAX_BYTES, "table of answers")
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise InputFileError(f"{path}: must be a JSON list of objects (one per project)")
        return data
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            header = handle.readline()
            handle.seek(0)
            # the heading line decides: Excel writes ';' in many locales, ',' elsewhere
            delimiter = max(",;\t", key=header.count) if any(c in header for c in ",;\t") else ","
            reader = csv.DictReader(handle, delimiter=delimiter)
            raw = list(reader)
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{path}: is not UTF-8 text (byte {exc.start}); save the table as UTF-8 CSV") from None
    except csv.Error as exc:
        raise InputFileError(f"{path}: cannot be read as CSV: {exc}") from None
    for number, row in enumerate(raw, start=2):
        if None in row:
            raise InputFileError(f"{path}:{number}: this row has more cells than there are column headings")
    return [_clean(row) for row in raw]


def _clean(row: Mapping[Any, Any]) -> dict[str, Any]:
    cleaned = {}
    for key, value in row.items():
        if key is None or str(key).strip() == "":
            continue
        if value is None or (isinstance(value, float) and math.isnan(value)) or \
                (isinstance(value, str) and not value.strip()):
            continue
        cleaned[str(key).strip()] = value
    return cleaned


def plan_batch(template: Template, rows: Sequence[Mapping[str, Any]], dest: str | os.PathLike[str],
               created_by: str | None = None, web: WebFolders | None = None) -> tuple[dict[int, Plan], dict[int, str]]:
    """Plan every row; returns (plans of valid rows, error text of invalid rows), by row number."""
    plans: dict[int, Plan] = {}
    errors: dict[int, str] = {}
    names: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        try:
            plan = plan_project(template, row, dest, created_by=created_by, web=web)
            check_destination(plan)
        except AnswersError as exc:
            errors[number] = "; ".join(str(e) for e in exc.errors)
            continue
        except UserError as exc:
            errors[number] = str(exc)
            continue
        first = names.setdefault(plan.name.casefold(), number)
        if first != number:
            message = f"same project folder name as row {first} ({plan.name})"
            errors[number] = message
            errors.setdefault(first, f"same project folder name as row {number} ({plan.name})")
            plans.pop(first, None)
            continue
        plans[number] = plan
    return plans, errors


def create_batch(session: Session, template: Template, rows: Sequence[Mapping[str, Any]],
                 dest: str | os.PathLike[str], *, jobs: int = 4, skip: Iterable[str] = (),
                 created_by: str | None = None, progress: BatchProgress | None = None) -> BatchResult:
    """Validate every row, then create the valid ones with at most ``jobs`` at a time."""
    plans, errors = plan_batch(template, rows, dest, created_by, session.web_folders)
    results: dict[int, RowResult] = {n: RowResult(n, "invalid", error=e) for n, e in errors.items()}
    report = progress or (lambda done, total, message: None)
    total, done = len(plans), 0
    report(0, total, f"{total} valid rows, {len(errors)} invalid")
    omero_turn = threading.Lock()
    skip = tuple(skip)
    local = threading.local()
    workers: list[Session] = []

    def worker_session() -> Session:
        if not hasattr(local, "session"):
            local.session = session.worker()
            workers.append(local.session)
        return local.session

    def create(number: int, plan: Plan) -> RowResult:
        try:
            created = apply_everywhere(worker_session(), plan, skip=skip, template=template, omero_turn=omero_turn)
        except (UserError, OSError) as exc:
            return RowResult(number, "failed", error=str(exc))
        outcomes = created.outcomes
        failed = [o for o in outcomes.values() if o.state == "failed"]
        return RowResult(number, "partial" if failed else "created", str(created.path),
                         outcomes.get("elabftw", StepOutcome("elabftw", "off")).id,
                         outcomes.get("omero", StepOutcome("omero", "off")).id,
                         "; ".join(f"{o.system}: {o.message}" for o in failed))

    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="metafold-batch") as pool:
        futures = {pool.submit(create, number, plan): number for number, plan in plans.items()}
        for future in as_completed(futures):
            result = future.result()
            results[result.row] = result
            done += 1
            report(done, total, f"row {result.row}: {result.status}")
    for worker in workers:
        worker.close()
    return BatchResult([results[n] for n in sorted(results)])
