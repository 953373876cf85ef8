"""Fast file checksums, written and read in the formats of ``sha256sum`` and ``md5sum``.

Files are hashed in parallel by a thread pool: hashlib releases the GIL while it hashes,
and the system calls that open and read files release it too, so threads use every core
on big files and overlap the waiting on many small ones. Big files are read in 1 MiB
chunks into one reused buffer; small files are read in one call and handed to the pool
in batches, so the pool costs little per file. Every algorithm asked for is computed in
the same pass over the data.

:func:`read_once` serves archives instead: it reads one file once, checksums it and hands
the same bytes on to be archived, so nothing is read twice.

A file that changes while it is hashed is noticed: its size and modification time are
read before and after, and must equal what the listing saw. Symbolic links that lead
outside the folder, files that cannot be read and files that are not regular files
(named pipes, sockets, devices) raise a :class:`FileProblem` naming the path.

The checksum files are exactly what ``sha256sum -c SHA256SUMS`` and ``md5sum -c MD5SUMS``
read: ``<hex>  <relative path>`` per line (two spaces), names with a backslash or a
newline escaped the way GNU coreutils escapes them.
"""
from __future__ import annotations

import hashlib
import os
import stat
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Collection, Mapping, Sequence

from ..errors import FileChangedError, FileProblem, UnreadableFileError, UnsafeSymlinkError

ALGORITHMS = ("sha256", "md5")
SUMS_FILES = {"sha256": "SHA256SUMS", "md5": "MD5SUMS"}
BUFFER_SIZE = 1 << 20            # read size for big files
SMALL_FILE_SIZE = 1 << 18        # files up to this size are read in one call
BATCH_FILES, BATCH_BYTES = 128, 8 << 20
PROGRESS_INTERVAL = 0.1          # seconds between progress calls
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)  # a FIFO never blocks

HashProgress = Callable[[int, int, str], None]
"""``progress(bytes_done, bytes_total, current_path)``, called from the calling thread."""


@dataclass(frozen=True)
class ListedFile:
    """A regular file found by :func:`list_files`, with what ``stat`` said when it was listed."""

    relpath: str
    path: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class FileDigest:
    """The checksums of one file, with the size and modification time they belong to."""

    relpath: str
    size: int
    mtime_ns: int
    digests: Mapping[str, str]


@dataclass
class Listing:
    """Every regular file and folder under ``root`` (relative POSIX paths, sorted)."""

    root: Path
    files: list[ListedFile] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total_size(self) -> int:
        """Bytes in all listed files."""
        return sum(f.size for f in self.files)


def is_inside(path: str, root: str) -> bool:
    """True when the resolved ``path`` is ``root`` or below it (both resolved)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


# --- listing --------------------------------------------------------------------------

def list_files(root: str | os.PathLike[str], *, exclude: Collection[str] = (),
               skip_hidden: bool = False) -> Listing:
    """List every regular file under ``root``; raises FileProblem for what cannot be packaged.

    ``exclude`` holds relative paths to leave out. Symbolic links to files inside ``root``
    are listed as the file they point to; links to folders are not followed (noted in
    ``skipped``); links that lead outside ``root`` raise UnsafeSymlinkError.
    """
    base = Path(root)
    real_root = os.path.realpath(base)
    listing = Listing(base)
    pending = [""]
    while pending:
        folder = pending.pop()
        for entry in _scan(base / folder if folder else base):
            if skip_hidden and entry.name.startswith("."):
                continue
            relpath = f"{folder}/{entry.name}" if folder else entry.name
            if relpath in exclude:
                continue
            _check_name(entry.path, relpath)
            if entry.is_symlink():
                _add_link(listing, entry, relpath, real_root)
            elif entry.is_dir(follow_symlinks=False):
                listing.folders.append(relpath)
                pending.append(relpath)
            elif entry.is_file(follow_symlinks=False):
                info = _stat(entry.path, follow=False)
                listing.files.append(ListedFile(relpath, Path(entry.path), info.st_size, info.st_mtime_ns))
            else:
                raise _not_regular(entry.path, _stat(entry.path, follow=False).st_mode)
    listing.files.sort(key=lambda f: f.relpath)
    listing.folders.sort()
    return listing


def _scan(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except PermissionError:
        raise UnreadableFileError(folder, "the folder cannot be listed (no permission)") from None
    except OSError as exc:
        raise UnreadableFileError(folder, f"the folder cannot be listed ({exc.strerror or exc})") from None


def _check_name(path: str, relpath: str) -> None:
    try:
        relpath.encode("utf-8")
    except UnicodeEncodeError:
        raise FileProblem(path, "the file name is not valid UTF-8; rename it so that every system can "
                                "read it") from None


def _add_link(listing: Listing, entry: os.DirEntry[str], relpath: str, real_root: str) -> None:
    target = os.path.realpath(entry.path)
    if not is_inside(target, real_root):
        raise UnsafeSymlinkError(entry.path, f"is a symbolic link to {target}, outside {listing.root}; "
                                             "copy the file into the folder or remove the link")
    try:
        info = os.stat(entry.path)
    except FileNotFoundError:
        raise UnreadableFileError(entry.path, f"is a broken symbolic link (to {target})") from None
    if stat.S_ISDIR(info.st_mode):
        listing.skipped.append((relpath, "symbolic link to a folder inside the project: not followed"))
    elif stat.S_ISREG(info.st_mode):
        listing.files.append(ListedFile(relpath, Path(entry.path), info.st_size, info.st_mtime_ns))
    else:
        raise _not_regular(entry.path, info.st_mode)


def _stat(path: str, follow: bool) -> os.stat_result:
    try:
        return os.stat(path, follow_symlinks=follow)
    except OSError as exc:
        raise _unreadable(path, exc) from None


def _not_regular(path: str, mode: int) -> UnreadableFileError:
    kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
    return UnreadableFileError(path, f"is {kind}, which cannot be packaged; move it out of the folder")


def _unreadable(path: str | os.PathLike[str], exc: OSError) -> FileProblem:
    if isinstance(exc, PermissionError):
        return UnreadableFileError(path, "cannot be read (permission denied); fix its permissions or move it out")
    if isinstance(exc, FileNotFoundError):
        return FileChangedError(path, "disappeared while it was being read; run again when nothing "
                                      "changes the folder")
    return UnreadableFileError(path, f"cannot be read ({exc.strerror or exc})")


# --- hashing --------------------------------------------------------------------------

def hash_files(files: Sequence[ListedFile], algorithms: Sequence[str] = ALGORITHMS, *,
               workers: int | None = None, progress: HashProgress | None = None) -> dict[str, FileDigest]:
    """Checksums of ``files`` by relative path, computed in parallel; raises FileProblem.

    ``workers`` threads (default: CPUs + 4, at most 32) share the work, biggest files
    first; ``progress`` is called about ten times a second from this thread.
    """
    for name in algorithms:
        hashlib.new(name)  # ValueError now for an unknown algorithm, not in a worker
    counter = _Counter()
    tasks = _batches(files)
    total = sum(f.size for f in files)
    results: dict[str, FileDigest] = {}
    count = workers or min(32, (os.cpu_count() or 1) + 4)
    with ThreadPoolExecutor(max_workers=max(1, count), thread_name_prefix="metafold-hash") as pool:
        pending: set[Future[list[FileDigest]]] = {
            pool.submit(_hash_batch, batch, tuple(algorithms), counter) for batch in tasks}
        try:
            while pending:
                done, pending = wait(pending, timeout=PROGRESS_INTERVAL, return_when=FIRST_COMPLETED)
                for future in done:
                    results.update((d.relpath, d) for d in future.result())
                if progress is not None:
                    progress(counter.done, total, counter.current)
        except BaseException:
            counter.stop.set()
            for future in pending:
                future.cancel()
            raise
    return results


def hash_bytes(data: bytes, algorithms: Sequence[str] = ALGORITHMS) -> dict[str, str]:
    """The checksums of data held in memory (a manifest about to be written)."""
    return {name: hashlib.new(name, data).hexdigest() for name in algorithms}


class _Counter:
    def __init__(self) -> None:
        self.done = 0
        self.current = ""
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def add(self, count: int, path: str) -> None:
        with self._lock:
            self.done += count
            self.current = path


def _batches(files: Sequence[ListedFile]) -> list[list[ListedFile]]:
    """One task per big file (biggest first), small files grouped so the pool costs little per file."""
    big = sorted((f for f in files if f.size > SMALL_FILE_SIZE), key=lambda f: -f.size)
    tasks: list[list[ListedFile]] = [[f] for f in big]
    batch: list[ListedFile] = []
    size = 0
    for item in files:
        if item.size > SMALL_FILE_SIZE:
            continue
        batch.append(item)
        size += item.size
        if len(batch) >= BATCH_FILES or size >= BATCH_BYTES:
            tasks.append(batch)
            batch, size = [], 0
    if batch:
        tasks.append(batch)
    return tasks


_local = threading.local()


def _buffer() -> bytearray:
    buffer = getattr(_local, "buffer", None)
    if buffer is None:
        buffer = _local.buffer = bytearray(BUFFER_SIZE)
    return buffer


def _hash_batch(batch: list[ListedFile], algorithms: tuple[str, ...], counter: _Counter) -> list[FileDigest]:
    out = []
    for item in batch:
        if counter.stop.is_set():
            break
        out.append(_hash_file(item, algorithms, counter))
    return out


def _hash_file(item: ListedFile, algorithms: tuple[str, ...], counter: _Counter) -> FileDigest:
    try:
        fd = os.open(item.path, _READ_FLAGS)
    except OSError as exc:
        raise _unreadable(item.path, exc) from None
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise _not_regular(str(item.path), before.st_mode)
        _same_as_listed(item, before, "since it was listed")
        hashers = [hashlib.new(name) for name in algorithms]
        read = _read_small(fd, item, hashers) if item.size <= SMALL_FILE_SIZE else \
            _read_big(fd, item, hashers, counter)
        after = os.fstat(fd)
    except OSError as exc:
        raise _unreadable(item.path, exc) from None
    finally:
        os.close(fd)
    if read != item.size:
        raise FileChangedError(item.path, f"changed while it was being read ({item.size} bytes listed, {read} "
                                          "read); run again when nothing writes to the folder")
    _same_as_listed(item, after, "while it was being read")
    if item.size <= SMALL_FILE_SIZE:
        counter.add(read, item.relpath)
    digests = {name: hasher.hexdigest() for name, hasher in zip(algorithms, hashers, strict=True)}
    return FileDigest(item.relpath, item.size, item.mtime_ns, digests)


def _read_small(fd: int, item: ListedFile, hashers: list) -> int:
    data = os.read(fd, item.size + 1)  # one byte more: a file that grew is noticed
    read = len(data)
    while data and read < item.size:  # a short read (rare on local disks): read on
        for hasher in hashers:
            hasher.update(data)
        data = os.read(fd, item.size + 1 - read)
        read += len(data)
    for hasher in hashers:
        hasher.update(data)
    return read


def _read_big(fd: int, item: ListedFile, hashers: list, counter: _Counter) -> int:
    buffer = _buffer()
    view = memoryview(buffer)
    read = 0
    with open(fd, "rb", buffering=0, closefd=False) as handle:
        while True:
            if counter.stop.is_set():
                return -1
            count = handle.readinto(buffer)
            if not count:
                return read
            chunk = view[:count]
            for hasher in hashers:
                hasher.update(chunk)
            read += count
            counter.add(count, item.relpath)


ChunkConsumer = Callable[[memoryview], None]
FileStart = Callable[[os.stat_result, memoryview], ChunkConsumer]
"""``start(info, first_chunk)``: begin a file's archive members; returns what takes its further chunks."""


def read_once(item: ListedFile, start: FileStart, algorithms: Sequence[str] = ALGORITHMS) -> FileDigest:
    """Read ``item`` once, hand its bytes on and checksum the same bytes.

    Archives are written from exactly the bytes that are checksummed, so each file is read
    once. ``start(info, first)`` gets the open file's ``fstat`` and its first
    ``min(size, BUFFER_SIZE)`` bytes (what :func:`first_span` says; empty for an empty
    file) and returns the consumer of the following chunks. A chunk is valid only during
    the call (the buffer is reused). The file must be what the listing saw before and after
    it is read (size, modification time, status change time; the path still the same
    inode): a file that changes while it is read raises FileChangedError, and the caller
    drops what it wrote.
    Errors from ``start`` or the consumer (a full disk) pass through as they are.
    """
    hashers = [hashlib.new(name) for name in algorithms]
    try:
        fd = os.open(item.path, _READ_FLAGS)
    except OSError as exc:
        raise _unreadable(item.path, exc) from None
    try:
        before = _fstat(fd, item)
        if not stat.S_ISREG(before.st_mode):
            raise _not_regular(str(item.path), before.st_mode)
        _same_as_listed(item, before, "since it was listed")
        view = memoryview(_buffer())
        read = 0
        consume: ChunkConsumer | None = None
        while True:
            want = min(len(view), item.size + 1 - read)  # one byte more at the end: a file that grew is noticed
            count = _read_full(fd, view[:want], item)
            chunk = view[:min(count, item.size - read)]
            for hasher in hashers:
                hasher.update(chunk)
            if consume is None:
                consume = start(before, chunk)
            elif chunk:
                consume(chunk)
            read += count
            if count < want or read > item.size:
                break
        after = _fstat(fd, item)
    finally:
        os.close(fd)
    if read != item.size:
        raise FileChangedError(item.path, f"changed while it was being read ({item.size} bytes listed, at least "
                                          f"{read} read); run again when nothing writes to the folder")
    _same_as_listed(item, after, "while it was being read")
    now = _stat(str(item.path), follow=True)
    if (now.st_ino, now.st_dev, now.st_size, now.st_mtime_ns) != (before.st_ino, before.st_dev, item.size,
                                                                   item.mtime_ns):
        raise FileChangedError(item.path, "was replaced while it was being read; run again when nothing writes "
                                          "to the folder")
    if now.st_ctime_ns != before.st_ctime_ns:  # written to, even with its size and modification time put back
        raise FileChangedError(item.path, "changed while it was being read (its status change time differs); run "
                                          "again when nothing writes to the folder")
    digests = {name: hasher.hexdigest() for name, hasher in zip(algorithms, hashers, strict=True)}
    return FileDigest(item.relpath, item.size, item.mtime_ns, digests)


def first_span(size: int) -> int:
    """How many bytes of a file of ``size`` bytes :func:`read_once` hands over first."""
    return min(size, BUFFER_SIZE)


def _fstat(fd: int, item: ListedFile) -> os.stat_result:
    try:
        return os.fstat(fd)
    except OSError as exc:
        raise _unreadable(item.path, exc) from None


def _read_full(fd: int, view: memoryview, item: ListedFile) -> int:
    """Fill ``view`` (fewer bytes only at the end of the file); short reads are read on."""
    filled = 0
    while filled < len(view):
        try:
            count = os.readv(fd, [view[filled:]])
        except OSError as exc:
            raise _unreadable(item.path, exc) from None
        if not count:
            break
        filled += count
    return filled


def _same_as_listed(item: ListedFile, info: os.stat_result, when: str) -> None:
    if info.st_size != item.size or info.st_mtime_ns != item.mtime_ns:
        raise FileChangedError(item.path, f"changed {when} (size or modification time differ); run again "
                                          "when nothing writes to the folder")


# --- checksum files -------------------------------------------------------------------

def format_sums(digests: Mapping[str, str]) -> str:
    """A ``sha256sum``/``md5sum`` checksum file: ``<hex>  <relative path>`` per line, sorted by path."""
    lines = []
    for relpath in sorted(digests):
        name = relpath
        prefix = ""
        if "\\" in name or "\n" in name:  # GNU coreutils' escaping, understood by -c
            prefix, name = "\\", name.replace("\\", "\\\\").replace("\n", "\\n")
        lines.append(f"{prefix}{digests[relpath]}  {name}\n")
    return "".join(lines)


def parse_sums(text: str, source: str = "<checksums>") -> dict[str, str]:
    """Read a checksum file written by ``sha256sum``/``md5sum`` (text or ``*`` binary mode).

    Raises FileProblem for a line that is not ``<hex> <space><space or *><name>``.
    """
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        escaped = line.startswith("\\")
        body = line[1:] if escaped else line
        digest, sep, rest = body.partition(" ")
        if not sep or not rest or rest[0] not in " *" or not _is_hex(digest):
            raise FileProblem(f"{source}:{number}", f"is not a checksum line: {line[:80]!r}")
        name = rest[1:]
        if escaped:
            name = _unescape(name)
        out[name] = digest.lower()
    return out


def _is_hex(text: str) -> bool:
    return len(text) in (32, 40, 64, 128) and all(c in "0123456789abcdefABCDEF" for c in text)


def _unescape(name: str) -> str:
    out, chars = [], iter(name)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            out.append({"n": "\n", "\\": "\\", "r": "\r"}.get(following, "\\" + following))
        else:
            out.append(char)
    return "".join(out)
