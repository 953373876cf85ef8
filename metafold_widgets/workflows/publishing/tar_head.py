"""The start of a ``tar.gz`` written last: the checksum files first in the archive, from one read of each file.

The manifest and checksum files come first in the archive (a reader knows the checksums
before the files), yet they can only be made once every file has been read. Reading every
file twice (checksums first, archive second) costs a full second pass, so the archive is
written out of order instead:

* a slot of known length is reserved at the start of the (staged) file, then the folders
  and files are written after it, compressed on every core, while each file's checksums are
  computed from the same bytes (:func:`~metafold_widgets.core.checksums.read_once`);
* when all files are read, the trailer files' tar entries are written into the slot as
  *stored* deflate blocks behind the gzip header: their length is exact in advance, and the
  compressed deflate data after them continues the same deflate stream;
* the gzip trailer's CRC-32 joins the slot's and the rest's (``crc32_combine``).

The result is one ordinary gzip member, so ``gzip -t``, ``tar -xzf``, Python's ``tarfile``
(also in streaming mode ``r|gz``, which reads only the first member of a multi-member gzip
file, so separate members are no choice) read it. The slot is sized from an upper bound of
the trailer files (every digest has a fixed length, the manifest is built once with
placeholders: :func:`~.manifest.trailer_bound`); what the real entries leave free is filled
by a POSIX ``comment`` record in the manifest's extended (pax) header, which every tar
reader skips.

What it costs, measured on the benchmark's package (3,000 files, 172 MB; 2 cores):
the trailer files are stored uncompressed (about 1.3 MB instead of 0.4 MB compressed,
the archive 0.7% larger), and the archive's own SHA-256 is computed by reading the
finished archive back from the page cache (0.1 s) instead of while it is written. What
it saves: the second read of every file and one SHA-256 pass over it; run interleaved
with the old code, ``metafold package --archive tar.gz`` took 3.26 s instead of 3.42 s
(median; CPU 5.2 s instead of 5.5 s), ``--archive both`` 5.07 s instead of 5.47 s.
Rejected: a separate gzip member for the trailer (Python's streaming ``tarfile`` stops
after the first member); hashing twice (the old way).
"""
from __future__ import annotations

import tarfile
import zlib
from typing import Mapping

from .parallel_gzip import gzip_header, stored_deflate, stored_deflate_size

BLOCK = tarfile.BLOCKSIZE
PAD_BLOCKS = 2  # the comment's pax header and one block of records: always room for the filler
_ENCODING, _ERRORS = "utf-8", "surrogateescape"  # what tarfile writes names with


def entry_header(name: str, size: int, mtime: int, mode: int = 0o644, kind: bytes = tarfile.REGTYPE,
                 pax: Mapping[str, str] | None = None) -> bytes:
    """The tar (PAX format) header blocks of one member, as ``tarfile`` writes them."""
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime, info.size = kind, mode, mtime, size
    if pax:
        info.pax_headers = dict(pax)
    return info.tobuf(tarfile.PAX_FORMAT, _ENCODING, _ERRORS)


def padding(size: int) -> bytes:
    """Zeros that fill a member's content up to a whole tar block."""
    return b"\0" * (-size % BLOCK)


def head_blocks(names: Mapping[str, int], mtime: int) -> int:
    """The tar blocks the slot holds for members ``name -> largest size``, room for the filler included."""
    total = sum(len(entry_header(name, size, mtime)) + size + len(padding(size)) for name, size in names.items())
    return total // BLOCK + PAD_BLOCKS


class TarHead:
    """The slot at the start of a ``tar.gz``: gzip header plus ``blocks`` tar blocks as stored deflate data."""

    def __init__(self, blocks: int, *, filename: str, level: int):
        self.blocks = blocks
        self.header = gzip_header(filename, 0, level)
        self.size = len(self.header) + stored_deflate_size(blocks * BLOCK)

    def fill(self, members: Mapping[str, bytes], mtime: int) -> tuple[bytes, int, int]:
        """The slot's bytes holding ``members`` (name -> content), with the CRC-32 and length of its tar data."""
        data = self.tar(members, mtime)
        return self.header + stored_deflate(data), zlib.crc32(data), len(data)

    def tar(self, members: Mapping[str, bytes], mtime: int) -> bytes:
        """The tar entries of ``members``, exactly ``blocks`` blocks long (the first carries the filler)."""
        names = list(members)
        rest = b"".join(entry_header(name, len(members[name]), mtime) + members[name] + padding(len(members[name]))
                        for name in names[1:])
        first = names[0]
        content = members[first] + padding(len(members[first]))
        room = self.blocks * BLOCK - len(rest) - len(content)

        def header(filler: int) -> bytes:
            return entry_header(first, len(members[first]), mtime, pax={"comment": "metafold" + " " * filler})

        low, high = 0, max(0, room)
        if len(header(low)) > room:
            raise ValueError(f"the trailer files need more than the {self.blocks} tar blocks reserved for them")
        while low < high:  # the longest filler that fits: its header grows by at most one block per byte
            middle = (low + high + 1) // 2
            if len(header(middle)) <= room:
                low = middle
            else:
                high = middle - 1
        data = header(low) + content + rest
        if len(data) != self.blocks * BLOCK:
            raise ValueError("the trailer files cannot fill the tar blocks reserved for them exactly")
        return data
