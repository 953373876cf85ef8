"""Archives of a folder written in one pass: every file read once, checksummed and archived from the same bytes.

:class:`ArchiveSet` writes one or more archives (``tar.gz``, ``zip``) of the same files at
once, each a staged file (nothing appears under the final name unless the archive is
complete). Every file is read once (:func:`~metafold_widgets.core.checksums.read_once`):
its bytes go to every archive and to the SHA-256 and MD5 hashers together, and whether a
zip stores it as it is is judged on its first bytes (:func:`.zip_storage.zip_stores`). A
file that changes while it is read is reported (FileChangedError) and the archives are
dropped. The trailer files (manifest and checksums), known only then, are written last
and appear first (:mod:`.archive_writers`).
"""
from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from types import TracebackType
from typing import Any, Collection, Mapping, Sequence

from ...core.atomic import staged_file
from ...core.checksums import ALGORITHMS, FileChangedError, FileDigest, HashProgress, ListedFile, hash_bytes, read_once
from ...errors import ArchiveExistsError
from .archive_writers import TarWriter, Writer, ZipWriter
from .zip_storage import zip_stores

_READ_BACK = 1 << 20


def appeared(target: Path) -> ArchiveExistsError:
    """The error for an archive whose name was taken while it was being written."""
    return ArchiveExistsError(f"{target} appeared while it was being written; nothing was replaced")


class Sink:
    """An archive's bytes go to a file descriptor through ``os.write``, hashed on the way when written in order."""

    def __init__(self, fd: int):
        self.fd = fd
        self.position = 0
        self.sha256: Any = hashlib.sha256()

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        if self.sha256 is not None:
            self.sha256.update(view)
        size = len(view)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
        self.position += size
        return size

    def skip(self, count: int) -> None:
        """Leave ``count`` bytes at the start for :meth:`write_at`; the SHA-256 is then read back at the end."""
        os.lseek(self.fd, self.position + count, os.SEEK_SET)
        self.position += count
        self.sha256 = None

    def write_at(self, offset: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.pwrite(self.fd, view, offset)
            view, offset = view[written:], offset + written

    def identity(self) -> tuple[int, int]:
        """The written file's device and inode: to read it back under its final name."""
        info = os.fstat(self.fd)
        return info.st_dev, info.st_ino


def read_back_sha256(path: Path, identity: tuple[int, int]) -> str:
    """The SHA-256 of the finished archive at ``path``, which must still be the file written (``identity``)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if (info.st_dev, info.st_ino) != identity:
            raise ArchiveExistsError(f"{path} was replaced right after it was written; its checksum file was not "
                                     "written")
        hasher = hashlib.sha256()
        buffer = bytearray(_READ_BACK)
        view = memoryview(buffer)
        while True:
            count = os.readv(fd, [buffer])
            if not count:
                return hasher.hexdigest()
            hasher.update(view[:count])
    finally:
        os.close(fd)


class ArchiveSet:
    """Archives (``targets``: path and format) of the same files, written together in one pass.

    Use as a context manager: ``open`` (with an upper bound of the trailer files' sizes),
    ``add_folders``, ``add_files``, ``add_bytes``, then ``finish`` with the trailer. When
    the block ends without error, every archive is moved to its name; on any error, none is.
    ``stored`` (relative paths) says which files a zip stores; by default each file's
    first bytes decide, and :attr:`stored` lists the verdicts.
    """

    def __init__(self, targets: Sequence[tuple[Path, str]], *, top: str, compresslevel: int,
                 workers: int | None = None, algorithms: Sequence[str] = ALGORITHMS,
                 progress: HashProgress | None = None, stored: Collection[str] | None = None):
        self.targets = list(targets)
        self.top = top
        self.compresslevel = compresslevel
        self.workers = workers
        self.algorithms = tuple(algorithms)
        self.report = progress or (lambda done, total, path: None)
        self.given = None if stored is None else frozenset(stored)
        self.stored: list[str] = []
        self.sha256: dict[Path, str] = {}
        self._read_back: dict[Path, tuple[int, int]] = {}
        self.writers: list[Writer] = []
        self.sinks: list[Sink] = []
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> ArchiveSet:
        with contextlib.ExitStack() as stack:
            for target, fmt in self.targets:
                handle = stack.enter_context(staged_file(target, exists_error=appeared))
                sink = Sink(handle.fileno())
                kind = TarWriter if fmt == "tar.gz" else ZipWriter
                self.sinks.append(sink)
                self.writers.append(kind(sink, top=self.top, compresslevel=self.compresslevel, workers=self.workers))
            self._stack = stack.pop_all()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> bool | None:
        if error is not None:
            for writer, sink in zip(self.writers, self.sinks, strict=True):
                writer.abort()  # nothing more is written, by a finalizer or otherwise
                sink.fd = -1
        suppressed = self._stack.__exit__(kind, error, trace)
        if error is None:
            for target, identity in self._read_back.items():
                try:
                    self.sha256[target] = read_back_sha256(target, identity)
                except BaseException:
                    for other, _ in self.targets:
                        other.unlink(missing_ok=True)
                    raise
        return suppressed

    def open(self, trailer_bound: Mapping[str, int]) -> None:
        for writer in self.writers:
            writer.open(trailer_bound)

    def add_folders(self, folders: Sequence[str]) -> None:
        for folder in folders:
            for writer in self.writers:
                writer.add_folder(folder)

    def add_files(self, files: Sequence[ListedFile],
                  expected: Mapping[str, FileDigest] | None = None) -> dict[str, FileDigest]:
        """Read, checksum and archive every file once; returns their checksums.

        With ``expected`` (checksums computed earlier), a file whose content differs now
        raises FileChangedError.
        """
        total = sum(item.size for item in files)
        done = 0
        digests: dict[str, FileDigest] = {}
        for item in files:
            def start(info: os.stat_result, first: memoryview, item: ListedFile = item) -> Any:
                store = item.relpath in self.given if self.given is not None else \
                    zip_stores(item.relpath, item.size, first)
                if store:
                    self.stored.append(item.relpath)
                consumers = [writer.start_file(item.relpath, item.size, info, store) for writer in self.writers]

                def consume(chunk: memoryview) -> None:
                    nonlocal done
                    for consumer in consumers:
                        consumer(chunk)
                    done += len(chunk)
                    self.report(done, total, item.relpath)

                consume(first)
                return consume

            digest = read_once(item, start, self.algorithms)
            for writer in self.writers:
                writer.end_file()
            known = expected.get(item.relpath) if expected is not None else None
            if known is not None and any(known.digests.get(name) != value for name, value in digest.digests.items()):
                raise FileChangedError(item.path, "changed after it was checksummed (its content differs now); "
                                                  "archive again when nothing writes to the folder")
            digests[item.relpath] = digest
        return digests

    def add_bytes(self, relpath: str, content: bytes, mtime_ns: int = 0) -> FileDigest:
        """A member written whole (a file this product just wrote); returns its checksums."""
        for writer in self.writers:
            writer.add_bytes(relpath, content)
        return FileDigest(relpath, len(content), mtime_ns, hash_bytes(content, self.algorithms))

    def finish(self, trailer: Mapping[str, bytes]) -> None:
        """Write the trailer files and end every archive.

        When the block ends, :attr:`sha256` holds each archive's SHA-256: counted while it was
        written, or read back from the finished file when its start was written last.
        """
        for (target, _), writer, sink in zip(self.targets, self.writers, self.sinks, strict=True):
            writer.finish(trailer)
            if sink.sha256 is not None:
                self.sha256[target] = sink.sha256.hexdigest()
            else:
                self._read_back[target] = sink.identity()
