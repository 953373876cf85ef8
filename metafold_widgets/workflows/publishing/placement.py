"""Where a project's files go in its publication package, and putting them there.

A project file goes to the category of the deepest folder on its path whose name has a
category keyword at the start of one of its words (see :data:`FOLDER_KEYWORDS`): so
``04_analysis/figures/f.png`` is a figure and ``drawings/`` is not raw data. When one
category gathers files from several folders, each keeps its folder's path below the
category. Other files (protocols, notes) are not copied. Files are hard-linked when the
disk allows it (no copy, no extra space), else copied. The project's metadata files are
renamed (``project-record.json``...) so that folder scans never mistake the package for a
second project. The data-availability files the package writes (:data:`AVAILABILITY_FILES`)
are not copied from the project: the package gets them fresh, or the researcher's edited
version (see :mod:`.availability_files`).
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Callable, Mapping, Sequence

from ...core.checksums import ListedFile, list_files
from ...core.record import ELABFTW_METADATA_FILE, README_FILE, RECORD_FILE, ProjectRecord
from ...errors import UserError

PACKAGE_FILE = "publication_data_package.json"
STATEMENT_FILE = "data_availability/DATA_AVAILABILITY.md"
AVAILABILITY_FILES = ("data_sharing_statement.md", "omero_access_instructions.md", "elabftw_reference_links.txt")
"""Written into the project's data-availability folder and into the package's."""
GENERATED_FILES = (STATEMENT_FILE.rsplit("/", 1)[1], *AVAILABILITY_FILES)
"""Every file the package writes into its ``data_availability/`` folder."""
NEW_SUFFIX = ".new"
PACKAGE_SUFFIX = "_publication_package"
PROJECT_FOLDER = "metadata_packages/project"
CATEGORIES = ("figures", "raw_data", "processed_data", "metadata_packages", "data_availability")
FOLDER_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("figures", ("figure", "plot")),
    ("raw_data", ("raw",)),
    ("processed_data", ("processed", "result", "analysis", "supplementary")),
    ("metadata_packages", ("metadata_package", "elabftw_export", "omero_metadata")),
    ("data_availability", ("data_availability",)),
)
PROJECT_COPIES = {RECORD_FILE: "project-record.json", ELABFTW_METADATA_FILE: "project-elabftw-metadata.json",
                  README_FILE: "project-README.md"}

Placements = dict[str, ListedFile]
"""``{path in the package: project file}``."""
Progress = Callable[[int, int, str], None]


def category_of(relpath: str) -> tuple[str, str] | None:
    """``(category, matched folder)`` for a project file, or None when no folder name matches."""
    parts = relpath.split("/")[:-1]
    for depth in range(len(parts), 0, -1):
        words = "_".join(re.findall(r"[a-z]+", parts[depth - 1].lower()))
        for category, keywords in FOLDER_KEYWORDS:
            if any(re.search(rf"(^|_){keyword}", words) for keyword in keywords):
                return category, "/".join(parts[:depth])
    return None


def plan_placements(files: Sequence[ListedFile]) -> tuple[Placements, dict[str, list[str]], list[ListedFile]]:
    """Where each project file goes in the package: ``({package path: file}, {category: source folders},
    files left out)``."""
    grouped: dict[str, dict[str, list[tuple[str, ListedFile]]]] = {}
    left_out: list[ListedFile] = []
    for item in files:
        found = category_of(item.relpath)
        if found is None:
            left_out.append(item)
            continue
        category, folder = found
        if category == "data_availability" and _is_generated(item.relpath.rsplit("/", 1)[-1]):
            continue  # written afresh (or the researcher's version) by the package itself
        grouped.setdefault(category, {}).setdefault(folder, []).append((item.relpath[len(folder) + 1:], item))
    placements: Placements = {}
    sources = {category: sorted(folders) for category, folders in grouped.items()}
    for category, folders in grouped.items():
        for folder, items in folders.items():
            prefix = f"{category}/{folder}/" if len(folders) > 1 else f"{category}/"
            placements.update((prefix + inner, item) for inner, item in items)
    return placements, sources, left_out


def _is_generated(name: str) -> bool:
    return name in GENERATED_FILES or name.removesuffix(NEW_SUFFIX) in AVAILABILITY_FILES


def availability_folder(project: Path) -> Path | None:
    """The project's data-availability folder (``06_publication/data_availability``...): the
    shallowest folder whose name puts it in the ``data_availability`` category, or None.
    Folders reached through a symbolic link are not looked at (they may lead out of the project)."""
    found: list[tuple[int, str]] = []
    for folder, dirs, _ in os.walk(project):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not d.endswith(PACKAGE_SUFFIX)
                         and not os.path.islink(os.path.join(folder, d)))  # never write through a link
        relative = Path(folder).relative_to(project).as_posix()
        if relative != "." and category_of(relative + "/x") == ("data_availability", relative):
            found.append((relative.count("/"), relative))
            dirs[:] = []
    return project / min(found)[1] if found else None


def project_files(project: Path) -> list[ListedFile]:
    """The project's files, minus hidden ones and any earlier package inside the project."""
    listing = list_files(project, skip_hidden=True)
    packages = {item.relpath.rsplit("/", 1)[0] + "/" for item in listing.files
                if item.relpath.endswith("/" + PACKAGE_FILE)}
    return [item for item in listing.files if not any(item.relpath.startswith(p) for p in packages)]


def place_all(staging: Path, placements: Mapping[str, ListedFile], link: bool, report: Progress) -> None:
    """Make every category folder in ``staging`` and put each project file at its place."""
    for category in CATEGORIES:
        (staging / category).mkdir()
    total = len(placements)
    for done, (target, item) in enumerate(sorted(placements.items()), 1):
        destination = staging / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        place_file(item.path, destination, link=link)
        report(done, total, f"copying {item.relpath}")


def place_file(source: Path, destination: Path, *, link: bool = True) -> str:
    """Hard-link ``source`` to ``destination`` when ``link`` and the disk allow it, else copy it
    (with its modification time); returns ``"linked"`` or ``"copied"``."""
    if link:
        try:
            os.link(source, destination)
            return "linked"
        except OSError:  # another disk, a filesystem without hard links, too many links...
            pass
    try:
        shutil.copy2(source, destination)
    except PermissionError:
        raise UserError(f"{source}: cannot be copied (permission denied)") from None
    return "copied"


def copy_project_metadata(project: Path, record: ProjectRecord, staging: Path) -> dict[str, str]:
    """Copy the record, elabFTW metadata, README and log into metadata_packages/project/ (renamed);
    returns ``{original: path in the package}``. The log is always the one inside the project."""
    folder = staging / PROJECT_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    copied: dict[str, str] = {}
    log = record.log_relpath(project)
    for original, copy_name in (*PROJECT_COPIES.items(), (log, Path(log).name)):
        path = project / original
        if path.is_file():
            place_file(path, folder / copy_name, link=False)
            copied[original] = f"{PROJECT_FOLDER}/{copy_name}"
    return copied
