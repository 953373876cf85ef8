"""The two archive formats, written member by member in one pass over the files.

Both formats hold the same members in the same order as a reader sees them: the trailer
files first (a reader knows the checksums before the files), then the folders, then the
files. The files are written while they are read and checksummed (see :mod:`.archive_pass`),
so the trailer, made from those checksums, is written last: a ``tar.gz`` puts it into a slot
reserved at its start (:mod:`.tar_head`), a ``zip`` writes its members after the files and
lists them first in its central directory (which is what zip readers go by). Compression
runs on every core (:mod:`.parallel_gzip`, :mod:`.parallel_zip`); zip stores
already-compressed files as they are.
"""
from __future__ import annotations

import os
import stat
import struct
import tarfile
import time
from typing import Any, Callable, Mapping

from .parallel_gzip import ParallelGzipWriter, crc32_combine
from .parallel_zip import ParallelZipWriter
from .tar_head import TarHead, entry_header, head_blocks, padding

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_ZIP_LAST = (2107, 12, 31, 23, 59, 58)  # zip's dates end there
_RECORD = tarfile.RECORDSIZE

Consumer = Callable[[Any], Any]


class Writer:
    """One archive written in one pass: ``open``, folders, files and whole members, then ``finish`` with the trailer.

    ``sink`` has ``write(data)``, ``position``, ``skip(count)`` (leave room at the start)
    and ``write_at(offset, data)``.
    """

    def __init__(self, sink: Any, *, top: str, compresslevel: int, workers: int | None = None):
        self.sink = sink
        self.top = top
        self.compresslevel = compresslevel
        self.workers = workers  # compression threads (default: one per CPU)

    def name(self, relpath: str) -> str:
        return f"{self.top}/{relpath}"

    def open(self, trailer_bound: Mapping[str, int]) -> None:
        """Start the archive; the trailer files will be at most ``trailer_bound`` (name -> bytes) long."""
        raise NotImplementedError

    def add_folder(self, relpath: str) -> None:
        raise NotImplementedError

    def start_file(self, relpath: str, size: int, info: os.stat_result, stored: bool) -> Consumer:
        """Begin the member of a file; returns what takes its bytes. ``end_file`` ends it."""
        raise NotImplementedError

    def end_file(self) -> None:
        raise NotImplementedError

    def add_bytes(self, relpath: str, content: bytes) -> None:
        """A member whose content is known whole (a file this product wrote, e.g. the RO-Crate)."""
        raise NotImplementedError

    def finish(self, trailer: Mapping[str, bytes]) -> None:
        """Write the trailer files (first for a reader) and end the archive."""
        raise NotImplementedError

    def abort(self) -> None:
        """Drop what is open without writing anything more."""


class TarWriter(Writer):
    """A ``tar.gz``: one gzip member, its trailer entries in a slot at the start, the rest compressed on every core."""

    def open(self, trailer_bound: Mapping[str, int]) -> None:
        self.now = int(time.time())
        bound = {self.name(name): size for name, size in trailer_bound.items()}
        self.head = TarHead(head_blocks(bound, self.now), filename=f"{self.top}.tar", level=self.compresslevel)
        self.sink.skip(self.head.size)
        self.gzip = ParallelGzipWriter(self.sink, level=self.compresslevel, workers=self.workers, raw=True)
        self._size = 0

    def add_folder(self, relpath: str) -> None:
        self.gzip.write(entry_header(self.name(relpath), 0, self.now, 0o755, tarfile.DIRTYPE))

    def start_file(self, relpath: str, size: int, info: os.stat_result, stored: bool) -> Consumer:
        mode = stat.S_IMODE(info.st_mode) | 0o400
        self.gzip.write(entry_header(self.name(relpath), size, int(info.st_mtime), mode))
        self._size = size
        return self.gzip.write

    def end_file(self) -> None:
        self.gzip.write(padding(self._size))

    def add_bytes(self, relpath: str, content: bytes) -> None:
        self.gzip.write(entry_header(self.name(relpath), len(content), self.now) + content + padding(len(content)))

    def finish(self, trailer: Mapping[str, bytes]) -> None:
        members = {self.name(name): content for name, content in trailer.items()}
        ending = 2 * tarfile.BLOCKSIZE
        ending += -(self.head.blocks * tarfile.BLOCKSIZE + self.gzip.tell() + ending) % _RECORD  # as tar pads
        self.gzip.write(b"\0" * ending)
        self.gzip.close()
        slot, head_crc, head_size = self.head.fill(members, self.now)
        crc = crc32_combine(head_crc, self.gzip.stream.crc, self.gzip.stream.size)
        self.sink.write(struct.pack("<II", crc, (head_size + self.gzip.stream.size) & 0xFFFFFFFF))
        self.sink.write_at(0, slot)

    def abort(self) -> None:
        if hasattr(self, "gzip"):
            self.gzip.abort()


class ZipWriter(Writer):
    """A ``zip``: members compressed side by side on every core; already-compressed files stored."""

    def open(self, trailer_bound: Mapping[str, int]) -> None:
        self.now = time.localtime()[:6]
        self.zip = ParallelZipWriter(self.sink, level=self.compresslevel, workers=self.workers)

    def add_folder(self, relpath: str) -> None:
        self.zip.add_bytes(self.name(relpath) + "/", b"", self.now, stat.S_IFDIR | 0o755, stored=True,
                           external_attr=0x10)  # MS-DOS directory flag

    def start_file(self, relpath: str, size: int, info: os.stat_result, stored: bool) -> Consumer:
        date_time = min(max(tuple(time.localtime(info.st_mtime)[:6]), _ZIP_EPOCH), _ZIP_LAST)
        self.member = self.zip.open_member(self.name(relpath), date_time,
                                           stat.S_IFREG | stat.S_IMODE(info.st_mode) | 0o400, size=size, stored=stored)
        return self.member.write

    def end_file(self) -> None:
        self.member.close()

    def add_bytes(self, relpath: str, content: bytes) -> None:
        self.zip.add_bytes(self.name(relpath), content, self.now, stat.S_IFREG | 0o644)

    def finish(self, trailer: Mapping[str, bytes]) -> None:
        for name, content in trailer.items():
            self.add_bytes(name, content)
        self.zip.close(first=[self.name(name) for name in trailer])

    def abort(self) -> None:
        if hasattr(self, "zip"):
            self.zip.abort()
