"""Apply a Plan: create the project folder atomically.

The project is built under a hidden temporary sibling of the destination and renamed
into place in one step. An existing destination is never touched or merged; a crash
or a concurrent creation of the same name leaves either the whole project or nothing.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any, Callable, Mapping

from ..errors import ProjectExistsError, UserError
from .atomic import staged_folder, write_atomic
from .formats.elabftw import to_elabftw
from .plan import Plan, plan_project
from .readme import render_readme
from .record import ELABFTW_METADATA_FILE, README_FILE, ProjectRecord, load_record, save_record, to_json
from .template import Template

Progress = Callable[[int, int, str], None]


def apply_plan(plan: Plan, progress: Progress | None = None) -> Path:
    """Create the planned folder tree and files; returns the project path.

    ``progress(done, total, message)`` is called as the work advances.
    """
    check_destination(plan)
    total = len(plan.folders) + len(plan.files) + 1
    report = progress or (lambda done, total, message: None)
    with staged_folder(plan.path, exists_error=_taken) as staging:
        _fill(staging, plan, total, report)
    report(total, total, f"created {plan.path}")
    return plan.path


def _fill(staging: Path, plan: Plan, total: int, report: Progress) -> None:
    done = 0
    for folder in plan.folders:
        (staging / folder).mkdir(parents=True, exist_ok=True)
        done += 1
        report(done, total, f"folder {folder}")
    for relative, content in plan.files.items():
        _write_file(staging / relative, content)
        done += 1
        report(done, total, f"file {relative}")


def _taken(target: Path) -> ProjectExistsError:
    return ProjectExistsError(f"{target} already exists; choose another name or destination")


def check_destination(plan: Plan) -> None:
    """Raise UserError unless the plan's parent folder exists and its target name is free."""
    if not plan.parent.is_dir():
        raise UserError(f"destination folder {plan.parent} does not exist (or is not a folder)")
    if plan.path.exists() or plan.path.is_symlink():
        raise _taken(plan.path)


def create_project(template: Template, answers: Mapping[str, Any] | None, dest: str | os.PathLike[str],
                   name: str | None = None, *, created_by: str | None = None,
                   now: dt.datetime | None = None, progress: Progress | None = None) -> Path:
    """Plan and create the project folder; returns its path. See :func:`plan_project`."""
    plan = plan_project(template, answers, dest, name, created_by=created_by, now=now)
    return apply_plan(plan, progress)


def _write_file(path: Path, content: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def rewrite_project_files(project: str | os.PathLike[str], template: Template, record: ProjectRecord) -> None:
    """Rewrite the record, elabftw-metadata.json and README.md from ``record`` (each atomically)."""
    path = Path(project)
    write_atomic(path / ELABFTW_METADATA_FILE, to_json(to_elabftw(template, record.answers)))
    write_atomic(path / README_FILE, render_readme(template, record.answers, record))
    save_record(path, record)


def rewrite_readme(project: str | os.PathLike[str], template: Template) -> None:
    """Rewrite README.md from the current record (e.g. to show new links)."""
    path = Path(project)
    record = load_record(path)
    write_atomic(path / README_FILE, render_readme(template, record.answers, record))
