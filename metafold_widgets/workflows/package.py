"""A publication data package of a project: its data sorted for publication, the facts about
it, a data-availability statement, an RO-Crate, checksums and archives.

Layout of ``<out>/<project name>_publication_package/``::

    figures/              files from folders named like "figures", "plots"
    raw_data/             ... "raw" (raw_images, raw_data)
    processed_data/       ... "processed", "results", "analysis", "supplementary"
    metadata_packages/    ... "metadata_packages", "elabftw_exports", "omero_metadata", plus
        project/          the project's record, elabFTW metadata, README and integration log
        elabftw/          the elabFTW experiment's exports (PDF, .eln), when elabFTW is configured
        omero/            the OMERO dataset's key-value pairs and image list, when OMERO is configured
    data_availability/    ... "data_availability", plus the generated DATA_AVAILABILITY.md
    publication_data_package.json
    ro-crate-metadata.json  MANIFEST.json  SHA256SUMS  MD5SUMS

A project file goes to the category of the deepest folder on its path whose name has a
category keyword at the start of one of its words (see :data:`FOLDER_KEYWORDS`): so
``04_analysis/figures/f.png`` is a figure and ``drawings/`` is not raw data. When one
category gathers files from several folders, each keeps its folder's path below the
category. Other files (protocols, notes) are not copied; the package says how many.
Files are hard-linked when the disk allows it (no copy, no extra space; a later change to
the project file changes the package too, which its checksums will reveal), else copied.
The project's metadata files are renamed (``project-record.json``...) so that folder
scans never mistake the package for a second project.

``publication_data_package.json`` holds what is known from the record, the answers and,
when configured, elabFTW and OMERO; every value that is not known is ``null`` and listed in
``unknown`` with the reason. Nothing is invented. The package is built under a hidden
temporary name in the target folder and renamed when complete.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from .._version import __version__
from ..core.atomic import fsync_dir, rename_no_replace, write_atomic
from ..core.checksums import (SUMS_FILES, FileDigest, Listing, ListedFile, disk_full_error, hash_files,
                              is_disk_full, list_files)
from ..core.loader import find_template_by_id
from ..core.project import make_staging_folder
from ..core.record import ELABFTW_METADATA_FILE, LOG_FILE, README_FILE, RECORD_FILE, log_event, read_record, to_json
from ..core.template import Template
from ..errors import IntegrationError, UserError
from ..session import Session
from .archive import (ARCHIVE_FORMATS, MANIFEST_FILE, TRAILER_FILES, ArchiveResult, create_archive, describe_size,
                      write_checksums)
from .rocrate import METADATA_FILE as CRATE_FILE
from .rocrate import CrateFile, project_crate, write_crate

PACKAGE_FILE = "publication_data_package.json"
PACKAGE_FORMAT = "metafold-publication-package"
STATEMENT_FILE = "data_availability/DATA_AVAILABILITY.md"
PACKAGE_SUFFIX = "_publication_package"
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
ELABFTW_EXPORT_FORMATS = ("pdf", "eln")
# Answer keys that carry a fact, most specific first. For the roles not in EXACT_ROLES, other
# keys match by whole words too (``lab_license``, ``co_authors``).
EXACT_ROLES = frozenset({"title", "identifier", "principal_investigator", "sharing_level"})
ANSWER_ROLES: dict[str, tuple[str, ...]] = {
    "title": ("experiment_title", "project_title", "title"),
    "identifier": ("project_identifier", "project_id", "identifier"),
    "principal_investigator": ("principal_investigator", "pi"),
    "authors": ("authors", "author"),
    "institution": ("institution", "affiliation", "organisation", "organization", "institute"),
    "license": ("license", "licence"),
    "sharing_level": ("data_sharing_level", "sharing_level", "access_level"),
    "repository": ("data_repository", "repository"),
    "doi": ("dataset_doi", "doi"),
}

PackageProgress = Callable[[int, int, str], None]
"""``progress(done, total, message)``: files while copying, bytes while checksumming and archiving."""


class PackageExistsError(UserError):
    """The package folder already exists; it is never overwritten or merged."""


@dataclass
class PackageResult:
    """A finished package: where it is, its facts, what it holds, its archives and any warnings."""

    path: Path
    data: dict[str, Any]
    file_count: int
    total_size: int
    archives: list[ArchiveResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """What was made, for people."""
        lines = [f"package: {self.path} ({self.file_count} files, {describe_size(self.total_size)})"]
        for name, info in self.data.get("contents", {}).items():
            lines.append(f"  {name}: {_files(info['files'])}, {describe_size(info['bytes'])}")
        lines += [f"archive: {a.path} ({a.format}, checksum in {a.checksum_file.name})" for a in self.archives]
        unknown = self.data.get("unknown", [])
        if unknown:
            lines.append(f"unknown ({len(unknown)}): " + ", ".join(u["field"] for u in unknown))
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


# --- where files go ------------------------------------------------------------------------

def category_of(relpath: str) -> tuple[str, str] | None:
    """``(category, matched folder)`` for a project file, or None when no folder name matches."""
    parts = relpath.split("/")[:-1]
    for depth in range(len(parts), 0, -1):
        words = "_".join(re.findall(r"[a-z]+", parts[depth - 1].lower()))
        for category, keywords in FOLDER_KEYWORDS:
            if any(re.search(rf"(^|_){keyword}", words) for keyword in keywords):
                return category, "/".join(parts[:depth])
    return None


def plan_placements(files: Sequence[ListedFile]) -> tuple[dict[str, ListedFile], dict[str, list[str]],
                                                         list[ListedFile]]:
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
        grouped.setdefault(category, {}).setdefault(folder, []).append((item.relpath[len(folder) + 1:], item))
    placements: dict[str, ListedFile] = {}
    sources: dict[str, list[str]] = {}
    for category, folders in grouped.items():
        sources[category] = sorted(folders)
        for folder, items in folders.items():
            prefix = f"{category}/{folder}/" if len(folders) > 1 else f"{category}/"
            for inner, item in items:
                placements[prefix + inner] = item
    return placements, sources, left_out


# --- building -----------------------------------------------------------------------------

def build_package(project: str | os.PathLike[str], out: str | os.PathLike[str] | None = None,
                  session: Session | None = None, *, archive: Sequence[str] = ("tar.gz",), link: bool = True,
                  elabftw_formats: Sequence[str] = ELABFTW_EXPORT_FORMATS, workers: int | None = None,
                  progress: PackageProgress | None = None, now: dt.datetime | None = None) -> PackageResult:
    """Build the publication data package of ``project`` in ``out`` (default: beside the project).

    ``archive`` names the archives to make (``tar.gz``, ``zip``; empty for none); ``link``
    hard-links files when possible instead of copying. With a ``session``, the elabFTW
    experiment's exports (``elabftw_formats``) and the OMERO dataset's metadata are added when
    those systems are configured; their failures become warnings, not errors. Raises
    PackageExistsError, FileProblem (unreadable or changing file, link leaving the project)
    or DiskFullError; then nothing is left under the package's name.
    """
    for fmt in archive:
        if fmt not in ARCHIVE_FORMATS:
            raise UserError(f"unknown archive format '{fmt}' (choose {', '.join(ARCHIVE_FORMATS)})")
    source = Path(project)
    record = read_record(source)
    out_dir = Path(out) if out is not None else source.resolve().parent
    if not out_dir.is_dir():
        raise UserError(f"output folder {out_dir} does not exist (or is not a folder)")
    name = f"{record['project']['name']}{PACKAGE_SUFFIX}"
    final = out_dir / name
    if final.exists() or final.is_symlink():
        raise PackageExistsError(f"{final} already exists; move it away or choose another --out folder")
    report = progress or (lambda done, total, message: None)
    placements, sources, left_out = plan_placements(_project_files(source))
    staging = _make_staging(out_dir, name)
    warnings: list[str] = []
    try:
        _place_all(source, staging, placements, link, report)
        copied = _copy_project_metadata(source, record, staging)
        context = _Context(source, record, _find_template(record, session), session, staging, warnings,
                           _timestamp(now))
        data = package_data(context, placements, sources, left_out, copied, elabftw_formats)
        _write(staging / PACKAGE_FILE, to_json(data))
        _write(staging / STATEMENT_FILE, availability_statement(data))
        digests = _checksum_package(staging, record, data, workers, report)
        trailer = write_checksums(staging, _about(record, data), digests=digests).trailer
        for folder in sorted({staging, *(p for p in staging.rglob("*") if p.is_dir())}, key=lambda p: -len(p.parts)):
            fsync_dir(folder)
        try:
            rename_no_replace(staging, final)
        except FileExistsError:
            raise PackageExistsError(f"{final} appeared while the package was built; nothing was replaced") from None
        fsync_dir(out_dir)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError) and is_disk_full(exc):
            raise disk_full_error(exc.filename or staging) from None
        raise
    result = PackageResult(final, data, len(digests), sum(d.size for d in digests.values()), warnings=warnings)
    for fmt in archive:
        result.archives.append(create_archive(final, out_dir, fmt, digests=digests, trailer=trailer,
                                              workers=workers, progress=_labelled(report, f"archiving {fmt}")))
    _log_packaging(source, record, result, warnings)
    return result


def _project_files(project: Path) -> list[ListedFile]:
    """The project's files, minus hidden ones and any earlier package inside the project."""
    listing: Listing = list_files(project, skip_hidden=True)
    packages = {item.relpath.rsplit("/", 1)[0] + "/" for item in listing.files
                if item.relpath.endswith("/" + PACKAGE_FILE)}
    return [item for item in listing.files if not any(item.relpath.startswith(p) for p in packages)]


def _make_staging(parent: Path, name: str) -> Path:
    try:
        return make_staging_folder(parent, name)
    except PermissionError:
        raise UserError(f"no permission to create folders in {parent}") from None


def _place_all(source: Path, staging: Path, placements: Mapping[str, ListedFile], link: bool,
               report: PackageProgress) -> None:
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
        except OSError as exc:  # another disk, a filesystem without hard links, too many links...
            if is_disk_full(exc):
                raise disk_full_error(destination) from None
    try:
        shutil.copy2(source, destination)
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full_error(destination) from None
        if isinstance(exc, PermissionError):
            raise UserError(f"{source}: cannot be copied (permission denied)") from None
        raise
    return "copied"


def _copy_project_metadata(project: Path, record: Mapping[str, Any], staging: Path) -> dict[str, str]:
    """Copy the record, elabFTW metadata, README and log into metadata_packages/project/ (renamed)."""
    folder = staging / "metadata_packages" / "project"
    folder.mkdir(parents=True, exist_ok=True)
    copied: dict[str, str] = {}
    log = record["project"].get("log", LOG_FILE)
    for original, copy_name in (*PROJECT_COPIES.items(), (log, Path(log).name)):
        path = project / original
        if path.is_file():
            place_file(path, folder / copy_name, link=False)
            copied[original] = f"metadata_packages/project/{copy_name}"
    return copied


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_atomic(path, text)
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full_error(path) from None
        raise


def _checksum_package(staging: Path, record: Mapping[str, Any], data: Mapping[str, Any], workers: int | None,
                      report: PackageProgress) -> dict[str, FileDigest]:
    """Checksum every file, then write the crate (which needs those checksums) and checksum it too."""
    listing = list_files(staging, exclude=(*TRAILER_FILES, CRATE_FILE))
    digests = hash_files(listing.files, workers=workers, progress=_labelled(report, "checksums"))
    files = [CrateFile(rel, d.size, d.digests["sha256"], _describe(rel, data)) for rel, d in sorted(digests.items())]
    files += [CrateFile(name, description=_describe(name, data)) for name in TRAILER_FILES]
    experiment = data["experiment"]
    crate = project_crate(record, files, name=experiment["title"] or record["project"]["name"],
                          description=_crate_description(data), date_published=data["generated_at"],
                          people=_crate_people(data), license_text=data["data_availability"]["license"],
                          keywords=data["data_sources"]["elabftw"].get("tags") or [])
    crate_path = write_crate(staging, crate)
    info = crate_path.stat()
    digests.update(hash_files([ListedFile(CRATE_FILE, crate_path, info.st_size, info.st_mtime_ns)]))
    return digests


def _labelled(report: PackageProgress, label: str) -> Callable[[int, int, str], None]:
    return lambda done, total, path: report(done, total, f"{label}: {path}")


def _about(record: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": f"{record['project']['name']}{PACKAGE_SUFFIX}",
            "description": f"Publication data package of the project {record['project']['name']}",
            "project_uid": record["project"].get("uid"), "package_file": PACKAGE_FILE}


def _log_packaging(project: Path, record: Mapping[str, Any], result: PackageResult, warnings: list[str]) -> None:
    try:
        log_event(project, record, system="local", action="package", result="done", path=str(result.path),
                  archives=[str(a.path) for a in result.archives])
    except OSError as exc:  # a read-only (archived) project can still be packaged
        warnings.append(f"the packaging was not logged: {exc.strerror or exc}")


# --- facts ----------------------------------------------------------------------------------

@dataclass
class _Context:
    project: Path
    record: Mapping[str, Any]
    template: Template | None
    session: Session | None
    staging: Path
    warnings: list[str]
    now: str
    unknown: list[dict[str, str]] = field(default_factory=list)

    def known(self, value: Any, path: str, reason: str) -> Any:
        """``value``, or None noted in ``unknown`` with ``reason`` when it is blank."""
        if value is None or value == "" or value == []:
            self.unknown.append({"field": path, "reason": reason})
            return None
        return value


def _timestamp(now: dt.datetime | None) -> str:
    moment = now or dt.datetime.now(dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _find_template(record: Mapping[str, Any], session: Session | None) -> Template | None:
    wanted = record.get("template") or {}
    folder = session.templates_dir if session is not None else None
    template, _ = find_template_by_id(str(wanted.get("id")), wanted.get("version"), folder)
    return template


def answer_for(answers: Mapping[str, Any], role: str) -> tuple[str, Any] | None:
    """``(key, value)`` of the answer that plays ``role`` (see :data:`ANSWER_ROLES`), if any is filled in."""
    words = ANSWER_ROLES[role]
    filled = {key: value for key, value in answers.items() if value not in (None, "", [])}
    for word in words:
        if word in filled:
            return word, filled[word]
    if role in EXACT_ROLES:
        return None
    for key, value in filled.items():
        tokens = {token.rstrip("s") for token in key.lower().split("_")}
        if any(word.rstrip("s") in tokens for word in words if "_" not in word):
            return key, value
    return None


def package_data(ctx: _Context, placements: Mapping[str, ListedFile], sources: Mapping[str, list[str]],
                 left_out: Sequence[ListedFile], copied: Mapping[str, str],
                 elabftw_formats: Sequence[str]) -> dict[str, Any]:
    """The content of ``publication_data_package.json``."""
    answers = ctx.record.get("answers") or {}
    elabftw = _elabftw_facts(ctx, elabftw_formats)
    omero = _omero_facts(ctx)
    data = {
        "format": PACKAGE_FORMAT, "format_version": 1, "generated_at": ctx.now,
        "generated_by": f"metafold-widgets {__version__}",
        "experiment": _experiment(ctx, answers, elabftw),
        "data_sources": {"local_project": _local_project(ctx, copied), "elabftw": elabftw, "omero": omero},
        "experimental_metadata": _experimental_metadata(ctx, answers),
        "data_availability": _availability(ctx, answers),
        "reproducibility": _reproducibility(ctx, copied),
        "contents": _contents(placements, sources, left_out),
        "unknown": ctx.unknown,
    }
    return data


def _answer(ctx: _Context, answers: Mapping[str, Any], role: str, path: str, what: str) -> Any:
    found = answer_for(answers, role)
    return ctx.known(found[1] if found else None, path, f"no answer of the project gives {what}")


def _experiment(ctx: _Context, answers: Mapping[str, Any], elabftw: Mapping[str, Any]) -> dict[str, Any]:
    project = ctx.record["project"]
    title = (answer_for(answers, "title") or (None, None))[1] or elabftw.get("title")
    return {
        "id": _answer(ctx, answers, "identifier", "experiment.id", "a project identifier"),
        "uid": project.get("uid"),
        "title": ctx.known(title, "experiment.title", "no answer gives a title and elabFTW was not read"),
        "authors": _authors(ctx, answers, elabftw),
        "institution": _answer(ctx, answers, "institution", "experiment.institution",
                               "an institution or affiliation"),
        "dates": {
            "project_created": ctx.known(project.get("created_at"), "experiment.dates.project_created",
                                         "the project record has no creation time"),
            "elabftw_created": elabftw.get("created_at"),
            "elabftw_modified": elabftw.get("modified_at"),
            "packaged": ctx.now,
        },
    }


def _authors(ctx: _Context, answers: Mapping[str, Any], elabftw: Mapping[str, Any]) -> list[dict[str, str]]:
    people: list[dict[str, str]] = []
    for role, label in (("authors", "author"), ("principal_investigator", "principal investigator")):
        found = answer_for(answers, role)
        if found:
            for name in found[1] if isinstance(found[1], list) else str(found[1]).split(";"):
                if str(name).strip():
                    people.append({"name": str(name).strip(), "role": label, "source": f"answers.{found[0]}"})
    if elabftw.get("owner"):
        people.append({"name": elabftw["owner"], "role": "owner of the elabFTW experiment", "source": "elabFTW"})
    creator = ctx.record["project"].get("created_by")
    if creator and creator != "unknown":
        people.append({"name": creator, "role": "created the project folder (login name)",
                       "source": "metafold.json"})
    if not any(p["role"] in ("author", "principal investigator") for p in people):
        ctx.unknown.append({"field": "experiment.authors", "reason": "no answer names authors or a principal "
                                                                    "investigator"})
    return people


def _local_project(ctx: _Context, copied: Mapping[str, str]) -> dict[str, Any]:
    template = ctx.record.get("template") or {}
    return {"name": ctx.record["project"]["name"], "path": str(ctx.project.resolve()),
            "template": {"id": template.get("id"), "name": template.get("name"), "version": template.get("version"),
                         "available": ctx.template is not None},
            "metadata_file": RECORD_FILE, "elabftw_metadata_file": ELABFTW_METADATA_FILE,
            "copies": dict(copied)}


def _integration(ctx: _Context, system: str) -> tuple[dict[str, Any], bool, str]:
    """The record's entry for ``system``, whether it can be read live, and why not."""
    entry = dict((ctx.record.get("integrations") or {}).get(system) or {})
    name = "elabFTW" if system == "elabftw" else "OMERO"
    if entry.get("id") is None:
        return entry, False, f"the project has no {name} record (state: {entry.get('state', 'off')})"
    if ctx.session is None or not ctx.session.is_configured(system):
        return entry, False, f"{name} is not configured, so it was not read"
    return entry, True, ""


def _elabftw_facts(ctx: _Context, formats: Sequence[str]) -> dict[str, Any]:
    entry, live, reason = _integration(ctx, "elabftw")
    facts: dict[str, Any] = {
        "state": entry.get("state", "off"),
        "experiment_id": ctx.known(entry.get("id"), "data_sources.elabftw.experiment_id", reason or "not recorded"),
        "url": ctx.known(entry.get("url"), "data_sources.elabftw.url", reason or "no URL recorded"),
        "exports": [], "read_live": False}
    if not live:
        if entry.get("id") is not None:
            ctx.unknown.append({"field": "data_sources.elabftw.exports", "reason": reason})
        return facts
    client = ctx.session.elabftw  # type: ignore[union-attr]
    assert client is not None
    experiment_id = int(entry["id"])
    try:
        experiment = client.get_experiment(experiment_id)
    except IntegrationError as exc:
        ctx.warnings.append(f"elabFTW: could not read experiment {experiment_id}: {exc}")
    else:
        facts.update(read_live=True, title=experiment.get("title"), owner=experiment.get("fullname"),
                     created_at=experiment.get("created_at"), modified_at=experiment.get("modified_at"),
                     status=experiment.get("status_title"),
                     tags=[t for t in str(experiment.get("tags") or "").split("|") if t])
    folder = ctx.staging / "metadata_packages" / "elabftw"
    for fmt in formats:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"experiment_{experiment_id}.{fmt}"
        try:
            size = client.export_to_file(experiment_id, fmt, target)
        except IntegrationError as exc:
            ctx.warnings.append(f"elabFTW: the {fmt} export of experiment {experiment_id} failed: {exc}")
            facts.setdefault("export_errors", []).append(f"{fmt}: {exc}")
        else:
            facts["exports"].append({"format": fmt, "file": f"metadata_packages/elabftw/{target.name}", "size": size})
    if not facts["exports"]:
        reason = "no export could be downloaded" if formats else "no export was asked for"
        ctx.unknown.append({"field": "data_sources.elabftw.exports", "reason": reason})
    return facts


def _omero_facts(ctx: _Context) -> dict[str, Any]:
    entry, live, reason = _integration(ctx, "omero")
    facts: dict[str, Any] = {
        "state": entry.get("state", "off"),
        "dataset_id": ctx.known(entry.get("id"), "data_sources.omero.dataset_id", reason or "not recorded"),
        "url": ctx.known(entry.get("url"), "data_sources.omero.url",
                         reason or "no URL recorded (OMERO_WEB_URL was not set when the dataset was made)"),
        "image_count": None, "total_pixels": None, "size_bytes": None, "files": [], "read_live": False}
    if live:
        _read_omero(ctx, int(entry["id"]), facts)
    if facts["image_count"] is None:
        ctx.unknown.append({"field": "data_sources.omero.image_count", "reason": reason or "OMERO could not be read"})
    ctx.unknown.append({"field": "data_sources.omero.size_bytes",
                        "reason": "OMERO does not report the size of the original files through the tables read here"})
    return facts


def _read_omero(ctx: _Context, dataset_id: int, facts: dict[str, Any]) -> None:
    """Image list and key-value pairs of the dataset, via omero_tables (needs omero-py)."""
    try:
        from ..omero_tables import dataset_dataframe, metadata_dataframe
    except ImportError as exc:
        ctx.warnings.append(f"OMERO: the tables module is not available ({exc})")
        return
    try:
        conn = ctx.session.omero  # type: ignore[union-attr]
        images = dataset_dataframe(conn, dataset_id)
        pairs = metadata_dataframe(conn, "Dataset", dataset_id)
    except Exception as exc:  # a remote system's failure (OmeroError, Ice errors) must not stop the package
        ctx.warnings.append(f"OMERO: could not read dataset {dataset_id}: {type(exc).__name__}: {exc}")
        return
    folder = ctx.staging / "metadata_packages" / "omero"
    folder.mkdir(parents=True, exist_ok=True)
    for frame, suffix in ((images, "images"), (pairs, "key_values")):
        name = f"dataset_{dataset_id}_{suffix}.csv"
        _write(folder / name, frame.to_csv(index=False))
        facts["files"].append(f"metadata_packages/omero/{name}")
    facts.update(read_live=True, image_count=int(len(images)), total_pixels=_pixels(images))


def _pixels(images: Any) -> int | None:
    columns = ["size_x", "size_y", "size_z", "size_c", "size_t"]
    if len(images) == 0 or any(c not in images.columns for c in columns) or images[columns].isna().any().any():
        return None if len(images) else 0
    return int(images[columns].astype("int64").prod(axis=1).sum())


def _experimental_metadata(ctx: _Context, answers: Mapping[str, Any]) -> dict[str, Any]:
    labels, groups = _labels(ctx)
    fields = [{"key": key, "label": labels.get(key), "group": groups.get(key), "value": value}
              for key, value in answers.items()]
    template = ctx.record.get("template") or {}
    return {"template": f"{template.get('id')} {template.get('version')}", "fields": fields}


def _labels(ctx: _Context) -> tuple[dict[str, str], dict[str, str]]:
    """Field labels and group labels by key: from the template, else from elabftw-metadata.json."""
    if ctx.template is not None:
        group_labels = {g.key: g.label for g in ctx.template.groups}
        return ({f.key: f.label for f in ctx.template.fields},
                {f.key: group_labels[f.group] for f in ctx.template.fields if f.group in group_labels})
    try:
        metadata = json.loads((ctx.project / ELABFTW_METADATA_FILE).read_text(encoding="utf-8"))
        keys = metadata["metafold"]["field_keys"]
        return {key: label for label, key in keys.items()}, {}
    except (OSError, ValueError, KeyError, TypeError):
        return {}, {}


def _availability(ctx: _Context, answers: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "statement_file": STATEMENT_FILE,
        "sharing_level": _answer(ctx, answers, "sharing_level", "data_availability.sharing_level", "a sharing level"),
        "license": _answer(ctx, answers, "license", "data_availability.license", "a license"),
        "repository": _answer(ctx, answers, "repository", "data_availability.repository", "a repository"),
        "doi": _answer(ctx, answers, "doi", "data_availability.doi", "a DOI"),
    }


def _reproducibility(ctx: _Context, copied: Mapping[str, str]) -> dict[str, Any]:
    template = ctx.record.get("template") or {}
    log = ctx.record["project"].get("log", LOG_FILE)
    return {
        "template": {"id": template.get("id"), "version": template.get("version"),
                     "available_here": ctx.template is not None},
        "answers": copied.get(RECORD_FILE),
        "integration_log": copied.get(log),
        "software": {"metafold-widgets": __version__, "python": platform.python_version()},
        "checksums": {name: SUMS_FILES[name] for name in SUMS_FILES}, "manifest": MANIFEST_FILE,
        "ro_crate": CRATE_FILE,
        "verify": [f"sha256sum -c {SUMS_FILES['sha256']}", f"md5sum -c {SUMS_FILES['md5']}",
                   "metafold verify <this folder or its archive>"],
    }


def _contents(placements: Mapping[str, ListedFile], sources: Mapping[str, list[str]],
              left_out: Sequence[ListedFile]) -> dict[str, Any]:
    contents: dict[str, Any] = {}
    for category in CATEGORIES:
        items = [item for target, item in placements.items() if target.startswith(category + "/")]
        contents[category] = {"files": len(items), "bytes": sum(i.size for i in items),
                              "from": sources.get(category, [])}
    contents["not_included"] = {"files": len(left_out), "bytes": sum(i.size for i in left_out),
                                "from": sorted({i.relpath.rsplit("/", 1)[0] if "/" in i.relpath else "."
                                                for i in left_out})}
    return contents


def _describe(relpath: str, data: Mapping[str, Any]) -> str | None:
    fixed = {PACKAGE_FILE: "Facts about the experiment, its data sources, metadata and availability",
             STATEMENT_FILE: "Data availability statement",
             MANIFEST_FILE: "Manifest: what, who, when, every file with size and checksums",
             SUMS_FILES["sha256"]: "SHA-256 checksums of every other file (sha256sum -c SHA256SUMS)",
             SUMS_FILES["md5"]: "MD5 checksums of every other file (md5sum -c MD5SUMS)"}
    if relpath in fixed:
        return fixed[relpath]
    for export in data["data_sources"]["elabftw"].get("exports", []):
        if export["file"] == relpath:
            experiment = data["data_sources"]["elabftw"]["experiment_id"]
            return f"elabFTW export ({export['format']}) of experiment {experiment}"
    return None


def _crate_description(data: Mapping[str, Any]) -> str:
    experiment = data["experiment"]
    research = next((f["value"] for f in data["experimental_metadata"]["fields"]
                     if f["key"] == "research_question" and f["value"]), None)
    text = f"Publication data package of the project {data['data_sources']['local_project']['name']}"
    if experiment["title"]:
        text += f" ({experiment['title']})"
    return text + (f". Research question: {research}" if research else ".")


def _crate_people(data: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    people = []
    for person in data["experiment"]["authors"]:
        role = "pi" if person["role"] == "principal investigator" else "creator"
        people.append((person["name"], role, person["role"]))
    return people


# --- the statement --------------------------------------------------------------------------

def availability_statement(data: Mapping[str, Any]) -> str:
    """A data-availability statement in Markdown, from the package's facts only.

    What is not known says so ("not recorded") and is marked ``[to be completed]``.
    """
    experiment, sources = data["experiment"], data["data_sources"]
    availability, contents = data["data_availability"], data["contents"]
    missing = "not recorded [to be completed]"
    title = experiment["title"] or sources["local_project"]["name"]
    template = sources["local_project"]["template"]
    lines = ["# Data availability statement", "",
             "<!-- Generated by metafold-widgets from the project's record; complete the parts marked "
             "[to be completed]. -->", "",
             f"Project: **{title}**" + (f" ({experiment['id']})" if experiment["id"] else "") +
             f", created {(experiment['dates']['project_created'] or 'at an unrecorded time')[:10]} from the template "
             f"\"{template['name'] or template['id']}\" version {template['version']}.", "",
             "## Data in this package", ""]
    for category in CATEGORIES:
        info = contents[category]
        origin = f" (from {', '.join(f'`{s}`' for s in info['from'])})" if info["from"] else ""
        lines.append(f"- {category.replace('_', ' ').capitalize()}: {_files(info['files'])}, "
                     f"{describe_size(info['bytes'])}{origin}.")
    lines += ["", "## Where the data are held", ""]
    omero, elabftw = sources["omero"], sources["elabftw"]
    if omero["dataset_id"] is not None:
        count = f", {omero['image_count']} images" if omero["image_count"] is not None else ""
        lines.append(f"- Images: OMERO dataset {omero['dataset_id']}" + (f" ({omero['url']})" if omero["url"] else "")
                     + f"{count}.")
    else:
        lines.append(f"- Images in OMERO: {missing}.")
    if elabftw["experiment_id"] is not None:
        exported = ", ".join(f"`{e['file']}`" for e in elabftw["exports"])
        lines.append(f"- Laboratory notebook: elabFTW experiment {elabftw['experiment_id']}" +
                     (f" ({elabftw['url']})" if elabftw["url"] else "") +
                     (f"; exported to {exported}." if exported else "."))
    else:
        lines.append(f"- Laboratory notebook (elabFTW): {missing}.")
    lines.append(f"- Project folder: `{sources['local_project']['name']}` (metadata in "
                 "`metadata_packages/project/`).")
    lines += ["", "## Access and license", "",
              f"- Sharing level recorded for the project: {availability['sharing_level'] or missing}.",
              f"- License: {availability['license'] or missing}.",
              f"- Repository: {availability['repository'] or missing}.",
              f"- Persistent identifier (DOI): {availability['doi'] or missing}.",
              "", "## Integrity", "",
              "Every file is listed with its SHA-256 and MD5 checksum in `SHA256SUMS` and `MD5SUMS`. In the package "
              "folder, `sha256sum -c SHA256SUMS` (or `md5sum -c MD5SUMS`) verifies them; the metadata are also "
              "described in `ro-crate-metadata.json` (RO-Crate 1.1).", ""]
    return "\n".join(lines)


def _files(count: int) -> str:
    return "1 file" if count == 1 else f"{count} files"
