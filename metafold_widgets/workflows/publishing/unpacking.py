"""What comes out of an archive, bounded: no member gives more than it declares, no archive expands without end.

A small archive can expand into terabytes (a "zip bomb"): a member of zeros compresses
about 1000:1, a zip can list one compressed block under many names, and a member can
hold far more than the metadata beside it declares. Every byte the product reads out of
an archive (importing an ``.eln``, verifying a ``tar.gz`` or ``zip``) is counted here:

* a member gives exactly the size it declares (an RO-Crate's ``contentSize``, a zip's or
  tar's header): reading stops as soon as one byte more arrives;
* all members together give at most :data:`MAX_EXPANDED_BYTES`, and at most
  :data:`MAX_RATIO` times the archive's own size once past :data:`RATIO_FREE_BYTES`
  (so a small, very compressible file such as an empty image stays fine);
* the declared sizes are held to the same bounds before anything is read, so a bomb is
  usually refused before a byte is decompressed;
* a small member read whole (a crate's metadata, a checksum file) has its own cap.

Each refusal is an :class:`ArchiveLimitError` (an InputFileError: exit 2 on the command
line) naming the archive and the member. The caps are module constants, read when a
budget is made, so a caller (or a test) can change them.
"""
from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile
import zlib
from typing import IO, Any, Sequence

from ...core.sizes import describe_size
from ...errors import InputFileError

MAX_EXPANDED_BYTES = 1 << 40   # 1 TiB out of one archive in all
MAX_RATIO = 200                # bytes out per byte of archive; deflate alone reaches about 1030
RATIO_FREE_BYTES = 64 << 20    # up to this much out, any ratio is fine
CHUNK_BYTES = 1 << 20          # read size; the most a member holds in memory at once
ZIP_DAMAGE = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, NotImplementedError)
"""What reading a damaged (or deliberately malformed) zip raises."""


class ArchiveLimitError(InputFileError):
    """An archive or one of its members gives more than it declares or than the caps allow."""


class ExpansionBudget:
    """How much may come out of one archive: :data:`MAX_EXPANDED_BYTES`, and :data:`MAX_RATIO` times its size.

    ``admit`` counts the sizes members declare (before reading them); ``take`` counts the
    bytes that really come out. Each total is held to :attr:`limit` on its own.
    """

    def __init__(self, archive: str | os.PathLike[str], archive_size: int, *, max_total: int | None = None,
                 max_ratio: float | None = None, ratio_free: int | None = None):
        self.archive = os.fspath(archive)
        self.archive_size = archive_size
        self.max_total = MAX_EXPANDED_BYTES if max_total is None else max_total
        self.max_ratio = MAX_RATIO if max_ratio is None else max_ratio
        self.ratio_free = RATIO_FREE_BYTES if ratio_free is None else ratio_free
        self.declared = 0
        self.used = 0

    @classmethod
    def for_file(cls, path: str | os.PathLike[str]) -> ExpansionBudget:
        """The budget of the archive file at ``path`` (its size read now)."""
        return cls(path, os.stat(path).st_size)

    @property
    def limit(self) -> int:
        """The most bytes that may come out of the archive."""
        by_ratio = max(self.ratio_free, int(self.max_ratio * self.archive_size))
        return min(self.max_total, by_ratio)

    def admit(self, member: str, size: int) -> None:
        """Count a member's declared ``size``; ArchiveLimitError when the declared total passes the limit."""
        self.declared += size
        if self.declared > self.limit:
            raise self._over(member, self.declared, "declares")

    def take(self, member: str, count: int) -> None:
        """Count ``count`` bytes read out of ``member``; ArchiveLimitError once the total passes the limit."""
        self.used += count
        if self.used > self.limit:
            raise self._over(member, self.used, "gives")

    def _over(self, member: str, total: int, verb: str) -> ArchiveLimitError:
        if self.limit == self.max_total:
            cap = f"the cap of {describe_size(self.max_total)} out of one archive"
        else:
            cap = (f"{self.max_ratio:g} times its own size of {describe_size(self.archive_size)} "
                   "(a compression that high is a zip bomb, not data)")
        return ArchiveLimitError(f"{self.archive}: refused at {member}: the archive {verb} more than "
                                 f"{describe_size(self.limit)} in all ({total:,} bytes so far), over {cap}")


def open_archive(path: str | os.PathLike[str]) -> IO[bytes]:
    """Open the archive file at ``path`` for reading; InputFileError unless it is a regular file.

    Opened without blocking, so a named pipe given as an archive is refused at once
    instead of waiting forever for a writer.
    """
    name = os.fspath(path)
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputFileError(f"{name} does not exist") from None
    except OSError as exc:
        raise InputFileError(f"{name}: cannot be read: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "a named pipe, a device or a socket"
            raise InputFileError(f"{name} is {kind}, not an archive file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_member(stream: IO[bytes], *, archive: str | os.PathLike[str], member: str, size: int | None = None,
                budget: ExpansionBudget | None = None, sink: IO[bytes] | None = None,
                algorithms: Sequence[str] = ("sha256",), size_source: str = "declared") -> dict[str, str]:
    """Read one member from ``stream`` (into ``sink`` when given) and return its checksums by algorithm.

    With ``size``, the member must give exactly that many bytes: reading stops as soon as
    one more arrives, and fewer is an error too (``size_source`` says who declared it, for
    the message). Every chunk is counted by ``budget``. Memory stays at one chunk.
    """
    hashers = {name: hashlib.new(name) for name in algorithms}
    count = 0
    while True:
        wanted = CHUNK_BYTES if size is None else min(CHUNK_BYTES, size - count + 1)
        chunk = stream.read(wanted)
        if not chunk:
            break
        count += len(chunk)
        if size is not None and count > size:
            raise ArchiveLimitError(f"{os.fspath(archive)}: {member} holds more than the {size:,} bytes "
                                    f"{size_source}; refused")
        if budget is not None:
            budget.take(member, len(chunk))
        for hasher in hashers.values():
            hasher.update(chunk)
        if sink is not None:
            sink.write(chunk)
    if size is not None and count != size:
        raise ArchiveLimitError(f"{os.fspath(archive)}: {member} holds {count:,} bytes, not the {size:,} "
                                f"{size_source}; the archive is damaged")
    return {name: hasher.hexdigest() for name, hasher in hashers.items()}


def read_capped(stream: IO[bytes], cap: int, *, archive: str | os.PathLike[str], member: str,
                budget: ExpansionBudget | None = None) -> bytes:
    """All of a small member (``cap`` bytes at most: one more is an ArchiveLimitError naming it).

    Read chunk by chunk: some readers allocate whatever size is asked for at once.
    """
    data = bytearray()
    while len(data) <= cap:
        chunk = stream.read(min(CHUNK_BYTES, cap + 1 - len(data)))
        if not chunk:
            break
        if budget is not None:
            budget.take(member, len(chunk))
        data += chunk
    if len(data) > cap:
        raise ArchiveLimitError(f"{os.fspath(archive)}: {member} is larger than {describe_size(cap)}, "
                                "the most such a file may hold; refused")
    return bytes(data)


def zip_member_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a zip member cannot be read as a regular file (a link, a device, encrypted, an unknown method), or None."""
    kind = stat.S_IFMT(info.external_attr >> 16)
    if info.is_dir() or kind == stat.S_IFDIR:
        return "is a folder, not a file"
    if kind not in (0, stat.S_IFREG):
        return "is a symbolic link" if kind == stat.S_IFLNK else "is not a regular file (a device or a pipe)"
    if info.flag_bits & 0x1:
        return "is encrypted"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        return f"is compressed with a method this product cannot read (zip method {info.compress_type})"
    return None


class BudgetedReader(io.RawIOBase):
    """A decompressed stream whose every byte is counted by a budget (for reading a ``tar.gz`` in one pass).

    No read asks for more than the budget has left (plus one byte, to notice the excess),
    so even what a reader must hold whole stays within the budget's limit; a *section*
    (:meth:`limit_section`, e.g. a tar's headers, which tarfile holds whole however large
    they claim to be) can be held to a smaller cap of its own.
    """

    def __init__(self, stream: IO[bytes] | io.BufferedIOBase, budget: ExpansionBudget):
        self.stream = stream
        self.budget = budget
        self.member = "the start of the archive"
        self.section: str | None = None
        self.section_cap = 0
        self.section_read = 0

    def limit_section(self, cap: int | None, what: str = "") -> None:
        """Hold what is read from now on to ``cap`` bytes (``what`` names it in the error); None ends the section."""
        self.section = None if cap is None else what
        self.section_cap = cap or 0
        self.section_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        room = self.budget.limit - self.budget.used
        if self.section is not None:
            room = min(room, self.section_cap - self.section_read)
        view = memoryview(buffer).cast("B")
        view = view[:max(1, min(len(view), room + 1))]
        data = self.stream.read(len(view))
        view[:len(data)] = data
        if self.section is not None:
            self.section_read += len(data)
            if self.section_read > self.section_cap:
                raise ArchiveLimitError(f"{self.budget.archive}: {self.section} is larger than "
                                        f"{describe_size(self.section_cap)}, more than any real one; refused")
        self.budget.take(self.member, len(data))
        return len(data)
