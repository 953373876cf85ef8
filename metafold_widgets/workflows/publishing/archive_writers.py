"""The two archive formats, written member by member with every file checked as it is added.

Both formats share the order of members (the trailer files first, so a reader knows the
checksums before the files; then the folders; then the files) and the checks on every file:
its size and modification time must still be what was checksummed, and its content, read
once more while it is added, must give the same checksum. Compression runs on every core
(:mod:`.parallel_gzip`, :mod:`.parallel_zip`); zip stores already-compressed files as they are.
"""
from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
import time
from typing import IO, Callable, Collection, Mapping

from ...core.atomic import is_disk_full
from ...core.checksums import BUFFER_SIZE, FileChangedError, FileDigest, HashProgress, ListedFile, Listing
from .parallel_gzip import ParallelGzipWriter
from .parallel_zip import ParallelZipWriter

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_ZIP_LAST = (2107, 12, 31, 23, 59, 58)  # zip's dates end there


class VerifyingReader:
    """Reads a file for the archive and checksums what was read, to compare with the first pass."""

    def __init__(self, handle: IO[bytes], algorithm: str, on_read: Callable[[int], None]):
        self.handle = handle
        self.hasher = hashlib.new(algorithm)
        self.read_bytes = 0
        self.on_read = on_read

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.hasher.update(data)
        self.read_bytes += len(data)
        self.on_read(len(data))
        return data


class Writer:
    """What both archive formats share: the order of members and the checks on every file."""

    def __init__(self, sink: io.RawIOBase, *, top: str, compresslevel: int, workers: int | None = None,
                 stored: Collection[str] = ()):
        self.sink = sink
        self.top = top
        self.compresslevel = compresslevel
        self.workers = workers  # compression threads (default: one per CPU)
        self.stored = frozenset(stored)  # relative paths a zip stores without compressing them again

    def write_all(self, listing: Listing, digests: Mapping[str, FileDigest], trailer: Mapping[str, bytes],
                  progress: HashProgress | None) -> None:
        total = sum(d.size for d in digests.values())
        done = 0
        report = progress or (lambda done, total, path: None)
        self.open()
        for name, content in trailer.items():  # first: a reader knows the checksums before the files
            self.add_bytes(f"{self.top}/{name}", content)
        for folder in listing.folders:
            self.add_folder(f"{self.top}/{folder}")
        for item in listing.files:
            digest = digests[item.relpath]

            def advance(count: int, path: str = item.relpath) -> None:
                nonlocal done
                done += count
                report(done, total, path)

            self._add_checked(item, digest, advance)
        self.close()

    def _add_checked(self, item: ListedFile, digest: FileDigest, advance: Callable[[int], None]) -> None:
        algorithm = next(iter(digest.digests))
        try:
            handle = open(os.open(item.path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)),
                          "rb", buffering=BUFFER_SIZE)
        except OSError as exc:
            raise FileChangedError(item.path, f"cannot be opened any more ({exc.strerror or exc}); it changed "
                                              "while the archive was written") from None
        with handle:
            before = os.fstat(handle.fileno())
            _unchanged(item, digest, before)
            reader = VerifyingReader(handle, algorithm, advance)
            try:
                self.add_file(f"{self.top}/{item.relpath}", digest.size, before, reader)
            except OSError as exc:
                if is_disk_full(exc) or reader.read_bytes == digest.size:
                    raise
                raise FileChangedError(item.path, "became shorter while it was archived; archive again when "
                                                  "nothing writes to the folder") from None
            after = os.fstat(handle.fileno())
            more = handle.read(1)
        _unchanged(item, digest, after)
        if more or reader.hasher.hexdigest() != digest.digests[algorithm]:
            raise FileChangedError(item.path, "changed after it was checksummed (its content differs now); archive "
                                              "again when nothing writes to the folder")

    def open(self) -> None:
        raise NotImplementedError

    def add_bytes(self, name: str, content: bytes) -> None:
        raise NotImplementedError

    def add_folder(self, name: str) -> None:
        raise NotImplementedError

    def add_file(self, name: str, size: int, info: os.stat_result, reader: VerifyingReader) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        """Drop what is open without writing anything more."""


def _unchanged(item: ListedFile, digest: FileDigest, info: os.stat_result) -> None:
    if info.st_size != digest.size or info.st_mtime_ns != digest.mtime_ns:
        raise FileChangedError(item.path, "changed after it was checksummed (size or modification time differ); "
                                          "archive again when nothing writes to the folder")


class TarWriter(Writer):
    """A ``tar.gz``: one tar stream (PAX format) gzip-compressed on every core."""

    def open(self) -> None:
        self.now = int(time.time())
        self.gzip = ParallelGzipWriter(self.sink, level=self.compresslevel, workers=self.workers,
                                       filename=f"{self.top}.tar")
        self.tar = tarfile.open(fileobj=self.gzip, mode="w", format=tarfile.PAX_FORMAT)  # type: ignore[call-overload]
        self.tar.copybufsize = BUFFER_SIZE  # type: ignore[attr-defined]

    def _info(self, name: str, kind: bytes, mode: int, mtime: float, size: int = 0) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime, info.size = kind, mode, int(mtime), size
        return info

    def add_bytes(self, name: str, content: bytes) -> None:
        self.tar.addfile(self._info(name, tarfile.REGTYPE, 0o644, self.now, len(content)), io.BytesIO(content))

    def add_folder(self, name: str) -> None:
        self.tar.addfile(self._info(name, tarfile.DIRTYPE, 0o755, self.now))

    def add_file(self, name: str, size: int, info: os.stat_result, reader: VerifyingReader) -> None:
        mode = stat.S_IMODE(info.st_mode) | 0o400
        self.tar.addfile(self._info(name, tarfile.REGTYPE, mode, info.st_mtime, size), reader)  # type: ignore[arg-type]

    def close(self) -> None:
        self.tar.close()
        self.gzip.close()

    def abort(self) -> None:
        if hasattr(self, "gzip"):
            self.tar.closed = True  # type: ignore[attr-defined]
            self.gzip.abort()


class ZipWriter(Writer):
    """A ``zip``: members compressed side by side on every core; already-compressed files stored."""

    def open(self) -> None:
        self.now = time.localtime()[:6]
        self.zip = ParallelZipWriter(self.sink, level=self.compresslevel, workers=self.workers)

    def add_bytes(self, name: str, content: bytes) -> None:
        self.zip.add_bytes(name, content, self.now, stat.S_IFREG | 0o644)

    def add_folder(self, name: str) -> None:
        self.zip.add_bytes(name + "/", b"", self.now, stat.S_IFDIR | 0o755, stored=True,
                           external_attr=0x10)  # MS-DOS directory flag

    def add_file(self, name: str, size: int, info: os.stat_result, reader: VerifyingReader) -> None:
        date_time = min(max(tuple(time.localtime(info.st_mtime)[:6]), _ZIP_EPOCH), _ZIP_LAST)
        member = self.zip.open_member(name, date_time, stat.S_IFREG | stat.S_IMODE(info.st_mode) | 0o400, size=size,
                                      stored=name[len(self.top) + 1:] in self.stored)
        while True:
            chunk = reader.read(BUFFER_SIZE)
            if not chunk:
                break
            member.write(chunk)
            if reader.read_bytes > size:
                raise OSError("file grew while it was archived")
        if reader.read_bytes < size:
            raise OSError("unexpected end of data")
        member.close()

    def close(self) -> None:
        self.zip.close()

    def abort(self) -> None:
        if hasattr(self, "zip"):
            self.zip.abort()
