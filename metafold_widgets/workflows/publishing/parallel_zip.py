"""A zip file written member by member in one pass, its members compressed on every core.

Each member is its own deflate stream (see :mod:`.parallel_gzip`): small members are
compressed side by side, big ones block by block; members that are already compressed are
stored as they are. Everything is written in order through one bounded queue, so the file
is written sequentially (no seeking back) and memory stays fixed: every member's CRC-32 and
sizes follow its data in a data descriptor, as zip allows, and the central directory
repeats them at the end. Zip64 records are written when a member, an offset or the count
needs them. The central directory may list members in another order than their data
(the checksum files first, though written last). ``zipfile``, Info-ZIP's ``unzip`` and
every common tool read the result.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any, Sequence

from .parallel_gzip import BLOCK_SIZE, DeflateStream, OrderedOutput, compression_pool, default_workers

ZIP_STORED, ZIP_DEFLATED = 0, 8
ZIP64_LIMIT = (1 << 31) - 1      # as zipfile: a member that may reach this gets zip64 sizes
_MAX32 = 0xFFFFFFFF
_FLAG_DESCRIPTOR, _FLAG_UTF8 = 0x08, 0x800
_UNIX = 3


@dataclass
class _Entry:
    """What the central directory says about one member."""

    name: bytes
    flags: int
    method: int
    dostime: int
    dosdate: int
    external_attr: int
    zip64: bool
    offset: int = 0
    crc: int = 0
    compress_size: int = 0
    file_size: int = 0


class ZipMember:
    """An open member of a :class:`ParallelZipWriter`: ``write`` its content, then ``close``."""

    def __init__(self, writer: ParallelZipWriter, entry: _Entry):
        self.writer = writer
        self.entry = entry
        self.crc = 0
        self.size = 0
        self.stream = (DeflateStream(writer.output, writer.pool, writer.level, writer.block_size)
                       if entry.method == ZIP_DEFLATED else None)
        self._data_start = 0
        writer.output.put(self._header)

    def _header(self) -> bytes:
        self.entry.offset = self.writer.output.position
        header = local_header(self.entry)
        self._data_start = self.entry.offset + len(header)
        return header

    def write(self, data: Any) -> int:
        if self.stream is not None:
            return self.stream.write(data)
        chunk = bytes(data)
        self.crc = zlib.crc32(chunk, self.crc)
        self.size += len(chunk)
        self.writer.output.put(chunk)
        return len(chunk)

    def close(self) -> None:
        """End the member: its data descriptor is written once its data is."""
        if self.stream is not None:
            self.stream.finish()
            self.crc, self.size = self.stream.crc, self.stream.size
        self.writer.output.put(self._descriptor)

    def _descriptor(self) -> bytes:
        entry = self.entry
        entry.crc = self.crc & _MAX32
        entry.file_size = self.size
        entry.compress_size = self.writer.output.position - self._data_start
        if not entry.zip64 and max(entry.file_size, entry.compress_size) > _MAX32:
            raise OSError(f"{entry.name.decode('utf-8', 'replace')}: member grew past 4 GiB while it was written")
        size_format = "<IIQQ" if entry.zip64 else "<IIII"
        self.writer.entries.append(entry)
        return struct.pack(size_format, 0x08074B50, entry.crc, entry.compress_size, entry.file_size)


class ParallelZipWriter:
    """Writes a zip file to ``sink`` (anything with ``write``), members compressed on ``workers`` threads."""

    def __init__(self, sink: Any, *, level: int = 6, workers: int | None = None, block_size: int = BLOCK_SIZE):
        count = workers or default_workers()
        self.pool = compression_pool(count)
        self.output = OrderedOutput(sink.write, max_pending=4 * count + 4)
        self.level = level
        self.block_size = block_size
        self.entries: list[_Entry] = []
        self._first: list[bytes] = []
        self.closed = False

    def open_member(self, name: str, date_time: tuple[int, ...], mode: int, *, size: int = 0,
                    stored: bool = False) -> ZipMember:
        """Start the member ``name``; ``size`` (when known) decides whether it needs zip64 sizes."""
        encoded, flags = _encode(name)
        dostime, dosdate = _dos_time(date_time)
        entry = _Entry(encoded, flags | _FLAG_DESCRIPTOR, ZIP_STORED if stored else ZIP_DEFLATED, dostime, dosdate,
                       (mode & 0xFFFF) << 16, zip64=size * 1.05 > ZIP64_LIMIT)
        return ZipMember(self, entry)

    def add_bytes(self, name: str, data: bytes, date_time: tuple[int, ...], mode: int, *,
                  stored: bool = False, external_attr: int = 0) -> None:
        """A member with this content (a folder: a name ending in ``/``, no content, stored)."""
        member = self.open_member(name, date_time, mode, size=len(data), stored=stored)
        member.entry.external_attr |= external_attr
        if data:
            member.write(data)
        member.close()

    def close(self, first: Sequence[str] = ()) -> None:
        """Write the central directory and its end records after every member.

        The members named in ``first`` are listed first (in that order), wherever their
        data is: zip readers list and extract members in the central directory's order.
        """
        if self.closed:
            return
        self.closed = True
        self._first = [_encode(name)[0] for name in first]
        try:
            self.output.put(self._directory)
            self.output.drain()
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        """Drop what is pending; nothing more is written."""
        self.closed = True
        self.output.cancel()
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _directory(self) -> bytes:
        start = self.output.position
        rank = {name: number for number, name in enumerate(self._first)}
        entries = sorted(self.entries, key=lambda entry: rank.get(entry.name, len(rank)))  # stable: others keep order
        directory = b"".join(central_header(entry) for entry in entries)
        return directory + end_records(len(self.entries), start, len(directory))


def _encode(name: str) -> tuple[bytes, int]:
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), _FLAG_UTF8


def _dos_time(date_time: tuple[int, ...]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time[:6]
    return hour << 11 | minute << 5 | second // 2, (year - 1980) << 9 | month << 5 | day


def _version(zip64: bool) -> int:
    return 45 if zip64 else 20


def local_header(entry: _Entry) -> bytes:
    """The local file header; CRC and sizes follow the data (in the data descriptor)."""
    extra = struct.pack("<HHQQ", 1, 16, 0, 0) if entry.zip64 else b""
    sizes = _MAX32 if entry.zip64 else 0
    return struct.pack("<IHHHHHIIIHH", 0x04034B50, _version(entry.zip64), entry.flags, entry.method, entry.dostime,
                       entry.dosdate, 0, sizes, sizes, len(entry.name), len(extra)) + entry.name + extra


def central_header(entry: _Entry) -> bytes:
    """The member's central directory record, with a zip64 extra field for what does not fit 32 bits."""
    fields, values = [], []
    for value in (entry.file_size, entry.compress_size, entry.offset):
        if value >= _MAX32:
            fields.append(value)
            values.append(_MAX32)
        else:
            values.append(value)
    extra = struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields) if fields else b""
    version = _version(entry.zip64 or bool(fields))
    file_size, compress_size, offset = values
    return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, _UNIX << 8 | version, version, entry.flags, entry.method,
                       entry.dostime, entry.dosdate, entry.crc, compress_size, file_size, len(entry.name),
                       len(extra), 0, 0, 0, entry.external_attr, offset) + entry.name + extra


def end_records(count: int, start: int, size: int) -> bytes:
    """The end of central directory record, preceded by the zip64 ones when a value needs them."""
    if count < 0xFFFF and start < _MAX32 and size < _MAX32 and start + size < _MAX32:
        return struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, size, start, 0)
    zip64_end = start + size
    records = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, _UNIX << 8 | 45, 45, 0, 0, count, count, size, start)
    locator = struct.pack("<IIQI", 0x07064B50, 0, zip64_end, 1)
    return records + locator + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(count, 0xFFFF), min(count, 0xFFFF),
                                           min(size, _MAX32), min(start, _MAX32), 0)
