"""The RO-Crate of a package: every file with its checksum, the people and the license of its facts."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

from ...core.checksums import SUMS_FILES, FileDigest, ListedFile, hash_files, list_files
from ...core.record import ProjectRecord
from .manifest import MANIFEST_FILE, TRAILER_FILES
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
