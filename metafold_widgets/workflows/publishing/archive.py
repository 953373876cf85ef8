"""Archives of a folder with its manifest and checksums inside, and their own checksum beside.

:func:`create_archive` packs a folder as ``tar.gz`` or ``zip`` with one top folder and the
three trailer files first (see :mod:`.manifest`), and writes ``<archive>.sha256`` beside it
(``sha256sum -c`` checks the archive itself). The archive is a staged write: a failure (a
file that changed, a full disk) never leaves a partial archive under the final name. Each
file is checksummed before it is added and again while it is added: a file that changes in
between is reported, never archived.
"""
from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ...core.atomic import staged_file
from ...core.checksums import ALGORITHMS, FileDigest, HashProgress, Listing, hash_files, list_files
from ...errors import ArchiveExistsError, UserError
from .archive_writers import TarWriter, Writer, ZipWriter
from .manifest import TRAILER_FILES, build_trailer, zip_stored_files
from .zip_storage import stored_in_zip

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


def appeared(target: Path) -> ArchiveExistsError:
    """The error for an archive whose name was taken while it was being written."""
    return ArchiveExistsError(f"{target} appeared while it was being written; nothing was replaced")


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

    ``dest`` defaults to the folder's parent. ``digests`` and ``trailer`` (from
    :func:`.manifest.write_checksums` on the same, unchanged files) save hashing everything
    again. Compression runs on ``workers`` threads (default: one per CPU); a zip stores the
    files the manifest lists as ``stored_in_zip`` as they are. Raises ArchiveExistsError,
    FileProblem (changed, unreadable, unsafe link) or DiskFullError; nothing is left under
    the final name when it fails.
    """
    source, target = _source_and_target(folder, fmt, dest)
    sidecar = target.with_name(target.name + SIDECAR_SUFFIX)
    check_free(target, sidecar)
    listing = list_files(source, exclude=TRAILER_FILES)
    if digests is None or not _same_files(listing, digests):
        digests, trailer = hash_files(listing.files, algorithms, workers=workers, progress=progress), None
    if trailer is None:
        trailer = build_trailer(digests, {"name": source.resolve().name, **(about or {})}, algorithms, root=source)
    stored = zip_stored_files(trailer) if fmt == "zip" else None
    if stored is None and fmt == "zip":
        stored = stored_in_zip(source, ((d.relpath, d.size) for d in digests.values()), workers)
    writer = partial(TarWriter if fmt == "tar.gz" else ZipWriter, top=source.resolve().name,
                     compresslevel=compresslevel, workers=workers, stored=stored or ())
    digest = _write_archive(target, writer, listing, digests, trailer, progress)
    try:
        with staged_file(sidecar, exists_error=appeared) as handle:
            handle.write(f"{digest}  {target.name}\n".encode("utf-8"))
    except BaseException:
        target.unlink(missing_ok=True)  # an archive without its checksum file is not finished
        raise
    return ArchiveResult(target, fmt, len(digests), sum(d.size for d in digests.values()), digest, sidecar)


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


class _Sink(io.RawIOBase):
    """The archive's bytes go to a file descriptor through ``os.write``, hashed on the way."""

    def __init__(self, fd: int):
        super().__init__()
        self.fd = fd
        self.position = 0
        self.sha256 = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self.sha256.update(view)
        size = len(view)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
        self.position += size
        return size

    def tell(self) -> int:
        return self.position


def _write_archive(target: Path, make_writer: Callable[[_Sink], Writer], listing: Listing,
                   digests: Mapping[str, FileDigest], trailer: Mapping[str, bytes],
                   progress: HashProgress | None) -> str:
    """Write the archive as a staged file with the writer ``make_writer`` gives; returns its SHA-256."""
    with staged_file(target, exists_error=appeared) as handle:
        sink = _Sink(handle.fileno())
        writer = make_writer(sink)
        try:
            writer.write_all(listing, digests, trailer, progress)
        except BaseException:
            writer.abort()  # no end record written later, by a finalizer, to a closed descriptor
            sink.fd = -1
            raise
    return sink.sha256.hexdigest()
