"""Archives of a folder with its manifest and checksums inside, and their own checksum beside.

:func:`create_archive` packs a folder as ``tar.gz`` or ``zip`` with one top folder and the
three trailer files first (see :mod:`.manifest`), and writes ``<archive>.sha256`` beside it
(``sha256sum -c`` checks the archive itself). The archive is a staged write: a failure (a
file that changed, a full disk) never leaves a partial archive under the final name. Each
file is read once: its checksums are computed from the bytes that go into the archive
(:mod:`.archive_pass`), and a file that changes while it is read is reported, never archived.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from ...core.atomic import staged_file
from ...core.checksums import ALGORITHMS, FileDigest, HashProgress, Listing, list_files
from ...core.timestamps import utc_now
from ...errors import ArchiveExistsError, UserError
from .archive_pass import ArchiveSet, appeared
from .manifest import TRAILER_FILES, build_trailer, trailer_bound, zip_stored_files

ARCHIVE_FORMATS = ("tar.gz", "zip")
SIDECAR_SUFFIX = ".sha256"
DEFAULT_COMPRESSLEVEL = 6


@dataclass(frozen=True)
class ArchiveResult:
    """A finished archive: where, which format, what it holds and its own SHA-256."""

    path: Path
    format: str
    file_count: int
    total_size: int
    sha256: str
    checksum_file: Path


def check_free(*paths: Path, advice: str = "choose another --out folder") -> None:
    """ArchiveExistsError when one of ``paths`` exists (checked before any work is done)."""
    for existing in paths:
        if existing.exists() or existing.is_symlink():
            raise ArchiveExistsError(f"{existing} already exists; move it away or {advice}")


def archive_path(folder: str | os.PathLike[str], fmt: str, dest: str | os.PathLike[str] | None = None) -> Path:
    """Where :func:`create_archive` puts the archive of ``folder``: ``<dest>/<folder name>.<fmt>``."""
    source = Path(folder)
    return Path(dest if dest is not None else source.resolve().parent) / f"{source.resolve().name}.{fmt}"


def create_archive(folder: str | os.PathLike[str], dest: str | os.PathLike[str] | None = None,
                   fmt: str = "tar.gz", *, about: Mapping[str, Any] | None = None,
                   digests: Mapping[str, FileDigest] | None = None, trailer: Mapping[str, bytes] | None = None,
                   algorithms: Sequence[str] = ALGORITHMS, workers: int | None = None,
                   progress: HashProgress | None = None,
                   compresslevel: int = DEFAULT_COMPRESSLEVEL) -> ArchiveResult:
    """Pack ``folder`` into ``<dest>/<folder name>.tar.gz`` (or ``.zip``) with manifest and checksums.

    ``dest`` defaults to the folder's parent. Each file is read once, its checksums computed
    from the bytes archived. With ``digests`` and ``trailer`` (from
    :func:`.manifest.write_checksums` on the same, unchanged files) the archive holds that
    trailer, and a file whose content no longer matches its digest is an error. Compression
    runs on ``workers`` threads (default: one per CPU); a zip stores the files the manifest
    lists as ``stored_in_zip`` as they are. Raises ArchiveExistsError,
    FileProblem (changed, unreadable, unsafe link) or DiskFullError; nothing is left under
    the final name when it fails.
    """
    source, target = _source_and_target(folder, fmt, dest)
    sidecar = target.with_name(target.name + SIDECAR_SUFFIX)
    check_free(target, sidecar)
    listing = list_files(source, exclude=TRAILER_FILES)
    top = source.resolve().name
    about = {"name": top, **(about or {})}
    given = trailer if trailer is not None and digests is not None and _same_files(listing, digests) else None
    when = utc_now()
    bound = ({name: len(content) for name, content in given.items()} if given is not None else
             trailer_bound(((f.relpath, f.size) for f in listing.files), about, algorithms, when=when))
    with ArchiveSet([(target, fmt)], top=top, compresslevel=compresslevel, workers=workers, algorithms=algorithms,
                    progress=progress, stored=zip_stored_files(given) if given is not None else None) as archives:
        archives.open(bound)
        archives.add_folders(listing.folders)
        found = archives.add_files(listing.files, expected=digests if given is not None else None)
        if given is None:
            given = build_trailer(found, about, algorithms, stored=archives.stored, when=when)
        archives.finish(given)
    digest = archives.sha256[target]
    write_sidecars([(target, digest)])
    return ArchiveResult(target, fmt, len(found), sum(d.size for d in found.values()), digest, sidecar)


def write_sidecars(archives: Sequence[tuple[Path, str]]) -> None:
    """``<archive>.sha256`` beside each archive (``sha256sum -c`` reads it); an archive without one is removed."""
    written = 0
    try:
        for target, digest in archives:
            with staged_file(target.with_name(target.name + SIDECAR_SUFFIX), exists_error=appeared) as handle:
                handle.write(f"{digest}  {target.name}\n".encode("utf-8"))
            written += 1
    except BaseException:
        for target, _ in archives[written:]:  # an archive without its checksum file is not finished
            target.unlink(missing_ok=True)
        raise


def _source_and_target(folder: str | os.PathLike[str], fmt: str,
                       dest: str | os.PathLike[str] | None) -> tuple[Path, Path]:
    if fmt not in ARCHIVE_FORMATS:
        raise UserError(f"unknown archive format '{fmt}' (choose {' or '.join(ARCHIVE_FORMATS)})")
    source = Path(folder)
    if not source.is_dir():
        raise UserError(f"{folder} is not a folder")
    target = archive_path(source, fmt, dest)
    if not target.parent.is_dir():
        raise UserError(f"folder {target.parent} does not exist")
    return source, target


def _same_files(listing: Listing, digests: Mapping[str, FileDigest]) -> bool:
    if len(listing.files) != len(digests):
        return False
    for item in listing.files:
        known = digests.get(item.relpath)
        if known is None or known.size != item.size or known.mtime_ns != item.mtime_ns:
            return False
    return True
