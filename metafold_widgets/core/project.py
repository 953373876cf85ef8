"""Apply a Plan: create the project folder atomically.

The project is built under a hidden temporary sibling of the destination and renamed
into place in one step. An existing destination is never touched or merged; a crash
or a concurrent creation of the same name leaves either the whole project or nothing.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping

from ..errors import ProjectExistsError, UserError
from .atomic import fsync_dir, rename_no_replace
from .plan import Plan, plan_project
from .template import Template

Progress = Callable[[int, int, str], None]
TEMP_PREFIX = ".metafold-tmp-"


def apply_plan(plan: Plan, progress: Progress | None = None) -> Path:
    """Create the planned folder tree and files; returns the project path.

    ``progress(done, total, message)`` is called as the work advances.
    """
    parent, target = plan.parent, plan.path
    if not parent.is_dir():
        raise UserError(f"destination folder {parent} does not exist (or is not a folder)")
    if target.exists() or target.is_symlink():
        raise ProjectExistsError(f"{target} already exists; choose another name or destination")
    total = len(plan.folders) + len(plan.files) + 1
    report = progress or (lambda done, total, message: None)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{plan.name[:40]}-", dir=parent))
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
