"""Keep an analysis of a project's OMERO images with the project: the results table in its
results folder, the annotations written back to OMERO, and both in the integration log."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ..core.atomic import write_new_file
from ..core.record import load_record, log_event
from ..core.spreadsheet import safe_frame
from ..errors import UserError
from ..omero_analysis import AnnotationResult, Progress, annotate_images

if TYPE_CHECKING:
    import pandas as pd

RESULTS_FOLDER_NAMES = ("results",)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,120}\.csv$")


def results_folder(project: str | os.PathLike[str]) -> Path:
    """The project's results folder: the first folder called ``results`` (or ending in
    ``_results``), outermost first, in name order; ``results/`` at the top when there is none."""
    root = Path(project)
    for folder, subfolders, _files in os.walk(root):
        subfolders[:] = sorted(s for s in subfolders if not s.startswith("."))
        for name in subfolders:
            lowered = name.lower()
            if lowered in RESULTS_FOLDER_NAMES or lowered.endswith("_results"):
                found = Path(folder) / name
                if not found.is_symlink():
                    return found
    return root / "results"


def save_results(project: str | os.PathLike[str], table: pd.DataFrame, name: str, *,
                 source: str = "omero") -> Path:
    """Write ``table`` as ``name`` (a ``.csv`` file name) into the project's results folder and log
    it; an existing file is never replaced. Returns the file's path."""
    if not _SAFE_NAME.match(name):
        raise UserError(f"results file name {name!r}: use letters, digits, '.', '_', '-' or spaces, ending in .csv")
    root = Path(project)
    record = load_record(root)
    folder = results_folder(root)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    try:
        write_new_file(target, safe_frame(table).to_csv(index=False))
    except FileExistsError:
        raise UserError(f"{target} exists already: choose another name (results are never overwritten)") from None
    log_event(root, record, system=source, action="save_results", result="done",
              file=str(target.relative_to(root)), rows=int(len(table)), columns=[str(c) for c in table.columns])
    return target


def annotate_project_images(conn: Any, project: str | os.PathLike[str], table: pd.DataFrame, *, namespace: str,
                            columns: Sequence[str] | None = None, id_column: str = "image_id",
                            progress: Progress | None = None) -> AnnotationResult:
    """:func:`~metafold_widgets.omero_analysis.annotate_images`, logged in the project."""
    result = annotate_images(conn, table, namespace=namespace, columns=columns, id_column=id_column,
                             progress=progress)
    log_event(project, None, system="omero", action="annotate_images", result="done",
              namespace=namespace, images=result.images, replaced=result.replaced)
    return result
