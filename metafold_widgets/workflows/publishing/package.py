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

Where files go is :mod:`.placement`'s job, the facts :mod:`.facts`' (and :mod:`.sources`'
for the live systems), the statement :mod:`.statement`'s, the crate :mod:`.package_crate`'s.
The package is a staged folder: built under a hidden temporary name in the target folder
and renamed when complete. Its archives are written while it is built, from one read of
each file that also gives the checksums (:func:`.package_crate.archive_with_crate`): the
package and its archives appear together, or (after a failure) none of them.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from ...core.atomic import staged_folder, write_atomic
from ...core.checksums import FileDigest
from ...core.record import ProjectRecord, load_record, log_event, to_json
from ...core.timestamps import utc_now
from ...errors import PackageExistsError, UserError
from ...session import Session
from .archive import ARCHIVE_FORMATS, DEFAULT_COMPRESSLEVEL, SIDECAR_SUFFIX, ArchiveResult, check_free, write_sidecars
from .availability_files import write_availability_files
from .context import FactContext, record_template
from .facts import package_data
from .manifest import write_checksums
from .package_crate import archive_with_crate, checksum_with_crate
from .placement import (
    PACKAGE_FILE,
    PACKAGE_SUFFIX,
    STATEMENT_FILE,
    copy_project_metadata,
    place_all,
    plan_placements,
    project_files,
)
from .statement import availability_statement, count_files, describe_size

ELABFTW_EXPORT_FORMATS = ("pdf", "eln")

PackageProgress = Callable[[int, int, str], None]
"""``progress(done, total, message)``: files while copying, bytes while checksumming and archiving."""


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
            lines.append(f"  {name}: {count_files(info['files'])}, {describe_size(info['bytes'])}")
        lines += [f"archive: {a.path} ({a.format}, checksum in {a.checksum_file.name})" for a in self.archives]
        unknown = self.data.get("unknown", [])
        if unknown:
            lines.append(f"unknown ({len(unknown)}): " + ", ".join(u["field"] for u in unknown))
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


@dataclass
class _Build:
    """One package being built: the project, where it goes, and the options asked for."""

    source: Path
    record: ProjectRecord
    final: Path
    session: Session | None
    link: bool
    elabftw_formats: Sequence[str]
    workers: int | None
    report: PackageProgress
    now: str
    warnings: list[str] = field(default_factory=list)


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
    record = load_record(source)
    build = _Build(source, record, _package_path(source, record, out), session, link, elabftw_formats, workers,
                   progress or (lambda done, total, message: None), utc_now(now))
    archives = [(build.final.parent / f"{build.final.name}.{fmt}", fmt) for fmt in dict.fromkeys(archive)]
    check_free(*(path for target, _ in archives for path in (target, target.with_name(target.name + SIDECAR_SUFFIX))))
    try:
        data, digests, sha256 = _build_folder(build, archives)
    except BaseException:
        for target, _ in archives:  # archives finished before the folder failed to move into place
            target.unlink(missing_ok=True)
        raise
    result = PackageResult(build.final, data, len(digests), sum(d.size for d in digests.values()),
                           warnings=build.warnings)
    write_sidecars([(target, sha256[target]) for target, _ in archives])
    for target, fmt in archives:
        result.archives.append(ArchiveResult(target, fmt, result.file_count, result.total_size, sha256[target],
                                             target.with_name(target.name + SIDECAR_SUFFIX)))
    _log_packaging(source, record, result)
    return result


def _package_path(source: Path, record: ProjectRecord, out: str | os.PathLike[str] | None) -> Path:
    """``<out>/<project>_publication_package``, checked to be free; UserError when ``out`` is no folder."""
    out_dir = Path(out) if out is not None else source.resolve().parent
    if not out_dir.is_dir():
        raise UserError(f"output folder {out_dir} does not exist (or is not a folder)")
    final = out_dir / f"{record.name}{PACKAGE_SUFFIX}"
    if final.exists() or final.is_symlink():
        raise PackageExistsError(f"{final} already exists; move it away or choose another --out folder")
    return final


def _build_folder(build: _Build, archives: Sequence[tuple[Path, str]]
                  ) -> tuple[dict[str, Any], dict[str, FileDigest], dict[Path, str]]:
    """Fill the package folder as a staged folder and write its ``archives`` in the same read of each file.

    Returns the package's facts, its files' checksums and the archives' SHA-256.
    """
    placements, sources, left_out = plan_placements(project_files(build.source))
    with staged_folder(build.final, exists_error=_appeared) as staging:
        place_all(staging, placements, build.link, build.report)
        copied = copy_project_metadata(build.source, build.record, staging)
        context = FactContext(build.source, build.record, record_template(build.record, build.session),
                              build.session, staging, build.warnings, build.now)
        data = package_data(context, placements, sources, left_out, copied, build.elabftw_formats)
        _write(staging / PACKAGE_FILE, to_json(data))
        _write(staging / STATEMENT_FILE, availability_statement(data))
        write_availability_files(context, data)
        if not archives:
            digests = checksum_with_crate(staging, build.record, data, build.workers,
                                          _labelled(build.report, "checksums"))
            write_checksums(staging, _about(build.record), digests=digests)
            return data, digests, {}
        label = "checksums and " + " and ".join(fmt for _, fmt in archives)
        packed = archive_with_crate(staging, build.record, data, _about(build.record), archives,
                                    top=build.final.name, compresslevel=DEFAULT_COMPRESSLEVEL,
                                    workers=build.workers, progress=_labelled(build.report, label))
    return data, packed.digests, packed.sha256


def _appeared(final: Path) -> PackageExistsError:
    return PackageExistsError(f"{final} appeared while the package was built; nothing was replaced")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text)


def _labelled(report: PackageProgress, label: str) -> Callable[[int, int, str], None]:
    return lambda done, total, path: report(done, total, f"{label}: {path}")


def _about(record: ProjectRecord) -> dict[str, Any]:
    return {"name": f"{record.name}{PACKAGE_SUFFIX}",
            "description": f"Publication data package of the project {record.name}",
            "project_uid": record.uid, "package_file": PACKAGE_FILE}


def _log_packaging(project: Path, record: ProjectRecord, result: PackageResult) -> None:
    try:
        log_event(project, record, system="local", action="package", result="done", path=str(result.path),
                  archives=[str(a.path) for a in result.archives])
    except OSError as exc:  # a read-only (archived) project can still be packaged
        result.warnings.append(f"the packaging was not logged: {exc.strerror or exc}")
