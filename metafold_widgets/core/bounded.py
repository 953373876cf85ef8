"""Reading files that may come from anyone: regular files only, a size cap, a nesting cap.

A project folder, an archive, a user's answers file or a server may hand over a FIFO (a read
never ends), a symlink to ``/dev/zero`` (a read never ends and fills memory), a huge file, or
JSON nested so deep that parsing it crashes. Every read of such a file goes through here and
fails with :class:`~metafold_widgets.errors.InputFileError` naming the file instead.
"""
from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path
from typing import Any

from ..errors import InputFileError

# Caps by kind of file (bytes). Generous for what a person writes; far below what hurts.
RECORD_MAX_BYTES = 16 * 1024 * 1024
ANSWERS_MAX_BYTES = 16 * 1024 * 1024
METADATA_MAX_BYTES = 32 * 1024 * 1024
MAX_NESTING = 200
READ_CHUNK_BYTES = 1 << 20  # reads after the first, when a file holds more than it said


def read_bytes(path: str | os.PathLike[str], max_bytes: int, what: str = "file", *,
               follow_links: bool = True) -> bytes:
    """The content of a regular file of at most ``max_bytes``; InputFileError otherwise (see :func:`read_file`)."""
    return read_file(path, max_bytes, what, follow_links=follow_links)[0]


def read_file(path: str | os.PathLike[str], max_bytes: int, what: str = "file", *,
              follow_links: bool = True) -> tuple[bytes, os.stat_result]:
    """The content of a regular file of at most ``max_bytes`` and the ``stat`` of the file read
    (its modification time, with no second look-up); InputFileError otherwise.

    The size is checked on the open file before reading, and the read stops one byte past
    the cap, so a file that grows meanwhile cannot exceed it either. Without ``follow_links``
    a symbolic link is refused by the open itself (no window between a check and the read).
    Reads ask for what the file holds, not for the cap: a buffer of the cap's size for every
    small file would cost more than reading it.
    """
    name = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(name, flags)
    except FileNotFoundError:
        raise InputFileError(f"{name}: {what} not found") from None
    except IsADirectoryError:
        raise InputFileError(f"{name}: is a folder, not a file ({what} expected)") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_links:
            raise InputFileError(f"{name}: is a symbolic link; a {what} must be a regular file here") from None
        raise InputFileError(f"{name}: cannot be read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputFileError(f"{name}: is a folder, not a file ({what} expected)")
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(f"{name}: cannot be read: it is a device or a pipe, not a regular file")
        if info.st_size > max_bytes:
            raise InputFileError(f"{name}: is too large ({info.st_size:,} bytes; a {what} may have {max_bytes:,})")
        data = _read_at_most(fd, info.st_size, max_bytes + 1)
    except OSError as exc:
        raise InputFileError(f"{name}: cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise InputFileError(f"{name}: is too large (a {what} may have {max_bytes:,} bytes)")
    return data, info


def _read_at_most(fd: int, expected: int, limit: int) -> bytes:
    """Up to ``limit`` bytes from ``fd`` to its end; the first read asks for ``expected`` + 1."""
    chunks: list[bytes] = []
    total = 0
    wanted = min(expected + 1, limit)
    while total < limit:
        chunk = os.read(fd, min(wanted, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        wanted = READ_CHUNK_BYTES
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def read_text(path: str | os.PathLike[str], max_bytes: int, what: str = "file") -> str:
    """:func:`read_bytes` decoded as UTF-8 (InputFileError naming the byte that is not)."""
    return decode_utf8(read_bytes(path, max_bytes, what), path)


def decode_utf8(data: bytes, path: str | os.PathLike[str]) -> str:
    """``data`` read from ``path`` as text; InputFileError naming the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{os.fspath(path)}: is not UTF-8 text (byte {exc.start})") from None


def parse_json(text: str | bytes, source: str, max_nesting: int = MAX_NESTING) -> Any:
    """JSON nested at most ``max_nesting`` deep; InputFileError naming ``source`` otherwise.

    JSON nests at most as deep as it has brackets: text with no more opening brackets than
    the cap (every record and answers file has a handful) skips the byte-by-byte depth scan.
    """
    if _brackets(text) > max_nesting and _depth(text) > max_nesting:
        raise InputFileError(f"{source}: is nested more than {max_nesting} levels deep")
    try:
        return json.loads(text)
    except RecursionError:  # pragma: no cover - _depth keeps it from happening
        raise InputFileError(f"{source}: is nested too deeply") from None
    except ValueError as exc:
        raise InputFileError(f"{source}: is not valid JSON: {exc}") from None


def read_json(path: str | os.PathLike[str], max_bytes: int, what: str = "JSON file",
              max_nesting: int = MAX_NESTING) -> Any:
    """A JSON file read with :func:`read_text` and parsed with :func:`parse_json`."""
    return parse_json(read_text(path, max_bytes, what), os.fspath(path), max_nesting)


def _brackets(text: str | bytes) -> int:
    """How many ``[`` and ``{`` the text holds, strings included (an upper bound of its depth)."""
    if isinstance(text, str):
        return text.count("[") + text.count("{")
    return text.count(b"[") + text.count(b"{")


def _depth(text: str | bytes) -> int:
    """The deepest nesting of ``[``/``{`` outside strings (a linear scan, no recursion)."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def is_inside(root: str | os.PathLike[str], candidate: str | os.PathLike[str]) -> bool:
    """True when ``candidate`` (symlinks resolved) is ``root`` or below it."""
    base = Path(root).resolve()
    target = Path(candidate).resolve()
    return target == base or base in target.parents
