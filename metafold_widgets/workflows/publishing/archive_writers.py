"""The two archive formats, written member by member with every file checked as it is added.

Both formats share the order of members (the trailer files first, so a reader knows the
checksums before the files; then the folders; then the files) and the checks on every file:
its size and modification time must still be what was checksummed, and its content, read
once more while it is added, must give the same checksum.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
import time
import zipfile
from typing import IO, Callable, Mapping

from ...core.atomic import is_disk_full
from ...core.checksums import BUFFER_SIZE, FileChangedError, FileDigest, HashProgress, ListedFile, Listing

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_ZIP64_LIMIT = (1 << 31) - 1


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

    def __init__(self, sink: io.RawIOBase, top: str, compresslevel: int):
        self.sink = sink
        self.top = top
        self.compresslevel = compresslevel

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
    def open(self) -> None:
        self.now = int(time.time())
        self.gzip = gzip.GzipFile(filename=f"{self.top}.tar", mode="wb", fileobj=self.sink,
                                  compresslevel=self.compresslevel, mtime=0)
        self.tar = tarfile.open(fileobj=self.gzip, mode="w", format=tarfile.PAX_FORMAT)
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
            self.gzip.fileobj = None  # type: ignore[assignment]


class ZipWriter(Writer):
    def open(self) -> None:
        self.now = time.localtime()[:6]
        self.zip = zipfile.ZipFile(self.sink, "w", compression=zipfile.ZIP_DEFLATED,  # type: ignore[arg-type]
                                   compresslevel=self.compresslevel, allowZip64=True)

    def _info(self, name: str, date_time: tuple[int, ...], mode: int) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=max(tuple(date_time), _ZIP_EPOCH))  # type: ignore[arg-type]
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = (mode & 0xFFFF) << 16
        return info

    def add_bytes(self, name: str, content: bytes) -> None:
        self.zip.writestr(self._info(name, self.now, stat.S_IFREG | 0o644), content)

    def add_folder(self, name: str) -> None:
        info = self._info(name + "/", self.now, stat.S_IFDIR | 0o755)
        info.compress_type = zipfile.ZIP_STORED
        info.external_attr |= 0x10  # MS-DOS directory flag
        self.zip.writestr(info, b"")

    def add_file(self, name: str, size: int, info: os.stat_result, reader: VerifyingReader) -> None:
        entry = self._info(name, time.localtime(info.st_mtime)[:6], stat.S_IFREG | stat.S_IMODE(info.st_mode) | 0o400)
        entry.file_size = size
        with self.zip.open(entry, "w", force_zip64=size > _ZIP64_LIMIT) as out:
            while True:
                chunk = reader.read(BUFFER_SIZE)
                if not chunk:
                    break
                out.write(chunk)
                if reader.read_bytes > size:
                    raise OSError("file grew while it was archived")
        if reader.read_bytes < size:
            raise OSError("unexpected end of data")

    def close(self) -> None:
        self.zip.close()

    def abort(self) -> None:
        if hasattr(self, "zip"):
            self.zip.fp = None
