"""Filesystem operations that either happen completely or not at all."""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import os
import secrets
import stat
import sys
from pathlib import Path
from typing import Callable

_RENAME_NOREPLACE = 1  # linux/fs.h
_AT_FDCWD = -100


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Replace ``path`` with ``data``: write a temp file beside it, fsync, rename over it.

    Readers see the old content or the new one, never a mix, even after a crash.
    """
    _publish(Path(path), data, os.replace)


def write_new_file(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Create ``path`` with ``data`` in one step; FileExistsError if it exists, even if made meanwhile.

    The content is written and fsynced under a temporary name, then hard-linked to the
    final name (which fails when the name is taken) and the temporary name removed.
    """
    def link(temp_name: str, target: Path) -> None:
        os.link(temp_name, target)
        os.unlink(temp_name)

    _publish(Path(path), data, link)


def _publish(target: Path, data: str | bytes, move: Callable[[str, Path], None]) -> None:
    """Write ``data`` to a synced temporary file beside ``target``, then ``move`` it into place."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, temp_name = _create_temp_beside(target)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        move(temp_name, target)
    finally:
        try:
            os.unlink(temp_name)
        except FileNotFoundError:
            pass
    fsync_dir(target.parent)


def _create_temp_beside(target: Path) -> tuple[int, str]:
    """Open a new temporary file next to ``target`` with the permissions ``target`` has.

    ``tempfile.mkstemp`` makes files readable by their owner only, and the rename would
    carry that over to the target: a record shared by a lab would become private.
    A new file gets the usual permissions (0o666 minus the umask), a replaced one keeps its own.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temp_name = str(target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(temp_name, flags, 0o666)
        except FileExistsError:
            continue
        try:
            os.chmod(temp_name, stat.S_IMODE(os.stat(target).st_mode))
        except OSError:  # no target yet (or no permission to copy its mode): keep the umask's
            pass
        return fd, temp_name
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", str(target.parent))


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make a rename or creation inside ``path`` durable (a no-op where unsupported)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def rename_no_replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Rename ``source`` to ``target``; FileExistsError if ``target`` exists, atomically.

    Plain ``os.rename`` silently replaces an empty target folder on POSIX, so two
    creations racing for one name could both "succeed". Linux (renameat2) and macOS
    (renamex_np) refuse atomically; Windows refuses by itself.
    """
    source_b, target_b = os.fsencode(source), os.fsencode(target)
    native = _native_noreplace()
    if native is not None:
        if native(source_b, target_b) == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
            if code in (errno.EEXIST, errno.ENOTEMPTY):
                raise FileExistsError(code, os.strerror(code), os.fsdecode(target_b))
            raise OSError(code, os.strerror(code), os.fsdecode(source_b))
    if os.name == "nt":
        os.rename(source, target)
        return
    # Fallback for filesystems without a no-replace rename: mkdir claims the name
    # atomically, then the rename replaces only that empty folder we own.
    os.mkdir(target)
    try:
        os.rename(source, target)
    except BaseException:
        os.rmdir(target)  # the empty folder we just claimed: leave nothing behind
        raise


@functools.lru_cache(maxsize=1)
def _native_noreplace():  # type: ignore[no-untyped-def]
    library = ctypes.util.find_library("c")
    if not library:
        return None
    try:
        libc = ctypes.CDLL(library, use_errno=True)
    except OSError:
        return None
    if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
        renameat2 = libc.renameat2

        def call(source: bytes, target: bytes) -> int:
            return renameat2(_AT_FDCWD, source, _AT_FDCWD, target, _RENAME_NOREPLACE)

        return call
    if sys.platform == "darwin" and hasattr(libc, "renamex_np"):
        renamex_np = libc.renamex_np

        def call_darwin(source: bytes, target: bytes) -> int:
            return renamex_np(source, target, 0x00000004)  # RENAME_EXCL

        return call_darwin
    return None
