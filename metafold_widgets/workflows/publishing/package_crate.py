"""The RO-Crate of a package: every file with its checksum, the people and the license of its facts.

The crate needs every file's checksum, and the package's checksum files need the crate's:
:func:`checksum_with_crate` checksums the files, writes the crate, checksums it. When the
package gets archives, :func:`archive_with_crate` does the same in one read of each file:
the files are checksummed while they are archived (:mod:`.archive_pass`), the crate and the
checksum files, written into the package, go into the archives from the bytes written.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ...core.atomic import write_atomic
from ...core.checksums import SUMS_FILES, FileDigest, ListedFile, hash_files, list_files
from ...core.record import ProjectRecord, to_json
from ...core.timestamps import utc_now
from .archive_pass import ArchiveSet
from .manifest import MANIFEST_FILE, TRAILER_FILES, trailer_bound, write_checksums
from .people import crate_people
from .placement import PACKAGE_FILE, STATEMENT_FILE
from .rocrate import METADATA_FILE as CRATE_FILE
from .rocrate import CrateFile, project_crate, write_crate

_FIXED_DESCRIPTIONS = {
    PACKAGE_FILE: "Facts about the experiment, its data sources, metadata and availability",
    STATEMENT_FILE: "Data availability statement",
    MANIFEST_FILE: "Manifest: what, who, when, every file with size and checksums",
    SUMS_FILES["sha256"]: "SHA-256 checksums of every other file (sha256sum -c SHA256SUMS)",
    SUMS_FILES["md5"]: "MD5 checksums of every other file (md5sum -c MD5SUMS)",
}


def checksum_with_crate(staging: Path, record: ProjectRecord, data: Mapping[str, Any], workers: int | None,
                        progress: Callable[[int, int, str], None]) -> dict[str, FileDigest]:
    """Checksum every file, then write the crate (which needs those checksums) and checksum it too."""
    listing = list_files(staging, exclude=(*TRAILER_FILES, CRATE_FILE))
    digests = hash_files(listing.files, workers=workers, progress=progress)
    crate_path = write_crate(staging, package_crate(record, data, digests))
    info = crate_path.stat()
    digests.update(hash_files([ListedFile(CRATE_FILE, crate_path, info.st_size, info.st_mtime_ns)]))
    return digests


@dataclass
class PackedFolder:
    """A package folder checksummed (its crate and checksum files written) and archived in one pass."""

    digests: dict[str, FileDigest]
    trailer: Mapping[str, bytes]
    sha256: dict[Path, str]


def archive_with_crate(staging: Path, record: ProjectRecord, data: Mapping[str, Any], about: Mapping[str, Any],
                       archives: Sequence[tuple[Path, str]], *, top: str, compresslevel: int,
                       workers: int | None, progress: Callable[[int, int, str], None]) -> PackedFolder:
    """Checksum and archive every file of ``staging`` in one read, then add the crate and the checksum files.

    ``archives`` (path and format) are staged files, in place when this returns; raises
    FileProblem (a file changed while read) or DiskFullError, and then leaves none.
    """
    listing = list_files(staging, exclude=(*TRAILER_FILES, CRATE_FILE))
    when = utc_now()
    bound = trailer_bound([*((f.relpath, f.size) for f in listing.files), (CRATE_FILE, None)], about, when=when)
    with ArchiveSet(archives, top=top, compresslevel=compresslevel, workers=workers, progress=progress) as packing:
        packing.open(bound)
        packing.add_folders(listing.folders)
        digests = packing.add_files(listing.files)
        crate = to_json(package_crate(record, data, digests)).encode("utf-8")
        write_atomic(staging / CRATE_FILE, crate)
        digests[CRATE_FILE] = packing.add_bytes(CRATE_FILE, crate, os.stat(staging / CRATE_FILE).st_mtime_ns)
        trailer = write_checksums(staging, about, digests=digests, stored=packing.stored, when=when).trailer
        packing.finish(trailer)
    return PackedFolder(digests, trailer, packing.sha256)


def package_crate(record: ProjectRecord, data: Mapping[str, Any],
                  digests: Mapping[str, FileDigest]) -> dict[str, Any]:
    """The crate of a package whose facts are ``data`` and whose files have these ``digests``."""
    files = [CrateFile(rel, d.size, d.digests["sha256"], _describe(rel, data)) for rel, d in sorted(digests.items())]
    files += [CrateFile(name, description=_describe(name, data)) for name in TRAILER_FILES]
    experiment = data["experiment"]
    return project_crate(record, files, name=experiment["title"] or record.name,
                         description=_crate_description(data), date_published=data["generated_at"],
                         people=crate_people(experiment["authors"]), license_text=data["data_availability"]["license"],
                         keywords=data["data_sources"]["elabftw"].get("tags") or [])


def _describe(relpath: str, data: Mapping[str, Any]) -> str | None:
    if relpath in _FIXED_DESCRIPTIONS:
        return _FIXED_DESCRIPTIONS[relpath]
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
