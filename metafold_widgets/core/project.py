"""Apply a Plan: create the project folder atomically.

The project is built under a hidden temporary sibling of the destination and renamed
into place in one step. An existing destination is never touched or merged; a crash
or a concurrent creation of the same name leaves either the whole project or nothing.
"""
from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
from pathlib import Path
from typing import Any, Callable, Mapping

from ..errors import ProjectExistsError, UserError
from .atomic import fsync_dir, rename_no_replace, write_atomic
from .formats.elabftw import to_elabftw
from .readme import render_readme
from .record import ELABFTW_METADATA_FILE, README_FILE, read_record, to_json, write_record
from .plan import Plan, plan_project
from .template import Template

Progress = Callable[[int, int, str], None]
TEMP_PREFIX = ".metafold-tmp-"


def apply_plan(plan: Plan, progress: Progress | None = None) -> Path:
    """Create the planned folder tree and files; returns the project path.

    ``progress(done, total, message)`` is called as the work advances.
    """
    check_destination(plan)
    parent, target = plan.parent, plan.path
    total = len(plan.folders) + len(plan.files) + 1
    report = progress or (lambda done, total, message: None)
    try:
        staging = make_staging_folder(parent, plan.name)
    except PermissionError:
        raise UserError(f"no permission to create folders in {parent}") from None
    try:
        done = 0
        for folder in plan.folders:
            (staging / folder).mkdir(parents=True, exist_ok=True)
            done += 1
            report(done, total, f"folder {folder}")
        for relative, content in plan.files.items():
            _write_file(staging / relative, content)
            done += 1
            report(done, total, f"file {relative}")
        for folder in sorted({staging, *(staging / f for f in plan.folders)}, key=lambda p: -len(p.parts)):
            fsync_dir(folder)
        try:
            rename_no_replace(staging, target)
        except FileExistsError:
            raise ProjectExistsError(f"{target} already exists; choose another name or destination") from None
        fsync_dir(parent)
        report(total, total, f"created {target}")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def check_destination(plan: Plan) -> None:
    """Raise UserError unless the plan's parent folder exists and its target name is free."""
    if not plan.parent.is_dir():
        raise UserError(f"destination folder {plan.parent} does not exist (or is not a folder)")
    if plan.path.exists() or plan.path.is_symlink():
        raise ProjectExistsError(f"{plan.path} already exists; choose another name or destination")


def create_project(template: Template, answers: Mapping[str, Any] | None, dest: str | os.PathLike[str],
                   name: str | None = None, *, created_by: str | None = None,
                   now: dt.datetime | None = None, progress: Progress | None = None) -> Path:
    """Plan and create the project folder; returns its path. See :func:`plan_project`."""
    plan = plan_project(template, answers, dest, name, created_by=created_by, now=now)
    return apply_plan(plan, progress)


def make_staging_folder(parent: Path, name: str) -> Path:
    """A new hidden folder in ``parent`` to build something in before renaming it into place.

    Made like any folder the user creates (0o777 minus the umask, inherited ACLs):
    ``tempfile.mkdtemp`` would make it, and so the renamed project, private to its creator.
    """
    for _ in range(100):
        staging = parent / f"{TEMP_PREFIX}{name[:40]}-{secrets.token_hex(4)}"
        try:
            staging.mkdir()
        except FileExistsError:
            continue
        return staging
    raise FileExistsError(f"no unused temporary folder name in {parent}")


def _write_file(path: Path, content: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def rewrite_project_files(project: str | os.PathLike[str], template: Template,
                          record: Mapping[str, Any]) -> None:
    """Rewrite the record, elabftw-metadata.json and README.md from ``record`` (each atomically)."""
    path = Path(project)
    answers = record.get("answers", {})
    write_atomic(path / ELABFTW_METADATA_FILE, to_json(to_elabftw(template, answers)))
    write_atomic(path / README_FILE, render_readme(template, answers, record))
    write_record(path, record)


def rewrite_readme(project: str | os.PathLike[str], template: Template) -> None:
    """Rewrite README.md from the current record (e.g. to show new links)."""
    path = Path(project)
    record = read_record(path)
    write_atomic(path / README_FILE, render_readme(template, record.get("answers", {}), record))
