"""Export a project as an ``.eln`` file that elabFTW imports (see :mod:`.eln_crate` for its crate).

Each file is a ``File`` in the experiment's ``hasPart`` (``@id`` the path from the top
folder, literal as elabFTW writes it; ``contentSize``, ``encodingFormat``, ``sha256``), with
``export-elabftw.json`` (the experiment as elabFTW's JSON export lists it). The ``.eln`` is a
staged file: complete under its name, or absent.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, Sequence

from ...core.atomic import staged_file
from ...core.bounded import METADATA_MAX_BYTES, read_json
from ...core.checksums import BUFFER_SIZE, FileChangedError, ListedFile, list_files
from ...core.readme import render_experiment_body
from ...core.record import ELABFTW_METADATA_FILE, ProjectRecord, load_record, to_json
from ...core.template import Template
from ...core.timestamps import utc_now
from ...errors import InputFileError, UserError
from ...session import Session
from .archive import appeared, check_free
from .context import record_template
from .eln_crate import elabftw_json, eln_crate
from .eln_read import ELN_SUFFIX, EXPORT_JSON, REBUILT_ON_IMPORT
from .people import answer_for
from .rocrate import METADATA_FILE, media_type


@dataclass(frozen=True)
class ElnExport:
    """A written ``.eln`` file and what it holds."""

    path: Path
    file_count: int
    total_size: int


def eln_path(project: str | os.PathLike[str], out: str | os.PathLike[str] | None = None) -> Path:
    """Where :func:`export_eln` writes: ``out`` (a file, or a folder for ``<project>.eln``), else beside the project."""
    source = Path(project).resolve()
    if out is None:
        return source.parent / f"{source.name}{ELN_SUFFIX}"
    target = Path(out)
    return target / f"{source.name}{ELN_SUFFIX}" if target.is_dir() else target


def export_eln(project: str | os.PathLike[str], out: str | os.PathLike[str] | None = None, *,
               include_files: bool = True, session: Session | None = None,
               now: dt.datetime | None = None) -> ElnExport:
    """Write the project as an ``.eln`` file that elabFTW can import; returns where and what.

    ``include_files`` off keeps only the metadata files (record, elabFTW metadata, README, log).
    The file is written under a temporary name and renamed when complete.
    """
    source = Path(project)
    record = load_record(source)
    target = eln_path(source, out)
    if not target.parent.is_dir():
        raise UserError(f"folder {target.parent} does not exist")
    check_free(target, advice="choose another --out")
    files = _export_files(source, record, include_files)
    template = record_template(record, session)
    with staged_file(target, exists_error=appeared) as handle:
        _write_eln(handle, source, record, template, files, utc_now(now))
    return ElnExport(target, len(files), sum(f.size for f in files))


def _export_files(project: Path, record: ProjectRecord, include_files: bool) -> list[ListedFile]:
    listing = list_files(project, skip_hidden=True)
    if include_files:
        return listing.files
    wanted = {*REBUILT_ON_IMPORT, record.log_relpath(project)}
    return [item for item in listing.files if item.relpath in wanted]


def project_metadata(project: Path, record: ProjectRecord) -> dict[str, Any]:
    """The project's elabFTW metadata: ``elabftw-metadata.json``, else the one planned for elabFTW."""
    try:
        data = read_json(project / ELABFTW_METADATA_FILE, METADATA_MAX_BYTES, "metadata file")
        if isinstance(data, dict):
            return data
    except InputFileError:
        pass
    payload = record.integration("elabftw").payload or {}
    return dict(payload.get("metadata") or {})


def experiment_facts(record: ProjectRecord, template: Template | None) -> dict[str, Any]:
    """Title, body, tags, category and status as elabFTW has (or would have) them."""
    payload = record.integration("elabftw").payload or {}
    answers = record.answers
    body = payload.get("body")
    if body is None and template is not None:
        body = render_experiment_body(template, answers)
    title = payload.get("title") or (answer_for(answers, "title") or (None, None))[1] or record.name
    return {"title": title, "body": body or "", "tags": list(payload.get("tags") or []),
            "category": payload.get("category"), "status": payload.get("status")}


def _write_eln(handle: IO[bytes], project: Path, record: ProjectRecord, template: Template | None,
               files: Sequence[ListedFile], when: str) -> None:
    name = record.name
    top, dataset_id = f"{name}-export", f"./{name}/"
    facts = experiment_facts(record, template)
    metadata = project_metadata(project, record)
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        export_json = to_json([elabftw_json(record, facts, metadata)]).encode("utf-8")
        archive.writestr(f"{top}/{name}/{EXPORT_JSON}", export_json)
        entities = [{"@id": f"{dataset_id}{EXPORT_JSON}", "@type": "File", "name": EXPORT_JSON,
                     "description": "JSON export", "encodingFormat": "application/json",
                     "contentSize": str(len(export_json)), "sha256": hashlib.sha256(export_json).hexdigest()}]
        for item in files:
            digest = _add_file(archive, f"{top}/{name}/{item.relpath}", item)
            entities.append({"@id": f"{dataset_id}{item.relpath}", "@type": "File",
                             "name": PurePosixPath(item.relpath).name, "encodingFormat": media_type(item.relpath),
                             "contentSize": str(item.size), "sha256": digest})
        crate = eln_crate(record, facts, metadata, entities, dataset_id, when)
        archive.writestr(f"{top}/{METADATA_FILE}", to_json(crate))


def _add_file(archive: zipfile.ZipFile, member: str, item: ListedFile) -> str:
    """Copy one file into the zip, checksumming it and noticing a change while it is read."""
    hasher = hashlib.sha256()
    try:
        source = open(item.path, "rb", buffering=0)
    except OSError as exc:
        raise FileChangedError(item.path, f"cannot be read ({exc.strerror or exc})") from None
    with source:
        before = os.fstat(source.fileno())
        info = zipfile.ZipInfo.from_file(item.path, member, strict_timestamps=False)
        info.compress_type = zipfile.ZIP_DEFLATED
        read = 0
        with archive.open(info, "w", force_zip64=item.size > (1 << 31) - 1) as out:
            while chunk := source.read(BUFFER_SIZE):
                hasher.update(chunk)
                out.write(chunk)
                read += len(chunk)
        after = os.fstat(source.fileno())
    for state in (before, after):
        if state.st_size != item.size or state.st_mtime_ns != item.mtime_ns or read != item.size \
                or not stat.S_ISREG(state.st_mode):
            raise FileChangedError(item.path, "changed while it was exported; export again when nothing writes "
                                              "to the project")
    return hasher.hexdigest()
