"""Staged writes: a file or folder appears under its final name complete, or not at all.

Every writer of the product goes through :func:`staged_file` or :func:`staged_folder`
(or the one-call forms :func:`write_atomic` and :func:`write_new_file`): the content is
written under a hidden temporary name beside the target, synced to disk, then moved into
place in one step that never replaces an existing target (unless asked to, for files
that are rewritten on purpose such as the project record). Whatever goes wrong on the
way, a crash included, leaves nothing under the final name; an exception also removes
the temporary copy. A full disk or quota becomes a :class:`DiskFullError` naming the target.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import functools
import os
import secrets
import shutil
import stat
import sys
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from ..errors import DiskFullError, UserError

TEMP_PREFIX = ".metafold-tmp-"
_RENAME_NOREPLACE = 1  # linux/fs.h
_AT_FDCWD = -100
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}

ExistsError = Callable[[Path], BaseException]
"""Builds the error to raise when the final name was taken while the content was staged."""


def is_disk_full(exc: BaseException) -> bool:
    """True when ``exc`` says the disk or the quota is full."""
    return isinstance(exc, OSError) and exc.errno in _DISK_FULL


@contextlib.contextmanager
def disk_full_as_error(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn a full disk inside the block into a :class:`DiskFullError` naming ``path``.

    Nested staged writes (a file inside a staged folder) name the outermost target: the
    one the user asked for, which is the one left untouched.
    """
    try:
        yield
    except OSError as exc:
        if is_disk_full(exc):
            raise DiskFullError(path) from None
        raise


# --- staged files and folders --------------------------------------------------------------

@contextlib.contextmanager
def staged_file(target: str | os.PathLike[str], *, replace: bool = False,
                exists_error: ExistsError | None = None) -> Iterator[BinaryIO]:
    """Write ``target`` through the binary file this yields; it appears complete when the block ends.

    The file is a new temporary one beside ``target`` (with the permissions ``target`` has,
    else the usual ones). When the block ends without error it is flushed, fsynced and moved
    to ``target``: replacing it when ``replace``, else refusing with ``exists_error(target)``
    (default FileExistsError) when the name is taken, even if taken meanwhile.
    """
    path = Path(target)
    with disk_full_as_error(path):
        fd, temp_name = _create_temp_beside(path)
        try:
            with os.fdopen(fd, "wb") as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            _move_into_place(temp_name, path, replace, exists_error)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
    fsync_dir(path.parent)


@contextlib.contextmanager
def staged_folder(target: str | os.PathLike[str], *, exists_error: ExistsError | None = None) -> Iterator[Path]:
    """Build the folder ``target`` inside the folder this yields; it is renamed into place when the block ends.

    The staging folder is a new hidden sibling of ``target``, made like any folder the user
    creates. When the block ends without error every folder in it is fsynced and it is
    renamed to ``target`` without replacing anything (``exists_error(target)`` or
    FileExistsError when the name is taken); on any error it is removed.
    """
    path = Path(target)
    with disk_full_as_error(path):
        staging = _make_staging_folder(path.parent, path.name)
        try:
            yield staging
            fsync_tree(staging)
            _move_into_place(staging, path, False, exists_error)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    fsync_dir(path.parent)


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Replace ``path`` with ``data`` (or create it): readers see the old content or the new, never a mix."""
    with staged_file(path, replace=True) as handle:
        handle.write(_as_bytes(data))


def write_new_file(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Create ``path`` with ``data`` in one step; FileExistsError if it exists, even if made meanwhile."""
    with staged_file(path) as handle:
        handle.write(_as_bytes(data))


def _as_bytes(data: str | bytes) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def _move_into_place(source: str | os.PathLike[str], target: Path, replace: bool,
                     exists_error: ExistsError | None) -> None:
    if replace:
        os.replace(source, target)
        return
    try:
        rename_no_replace(source, target)
    except FileExistsError:
        if exists_error is None:
            raise
        raise exists_error(target) from None


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


def _make_staging_folder(parent: Path, name: str) -> Path:
    """A new hidden folder in ``parent`` to build ``name`` in.

    Made like any folder the user creates (0o777 minus the umask, inherited ACLs):
    ``tempfile.mkdtemp`` would make it, and so the renamed result, private to its creator.
    """
    for _ in range(100):
        staging = parent / f"{TEMP_PREFIX}{name[:40]}-{secrets.token_hex(4)}"
        try:
            staging.mkdir()
        except FileExistsError:
            continue
        except PermissionError:
            raise UserError(f"no permission to create folders in {parent}") from None
        return staging
    raise FileExistsError(errno.EEXIST, "no unused temporary folder name", str(parent))


def fsync_tree(folder: str | os.PathLike[str]) -> None:
    """Make every creation inside ``folder`` and its sub-folders durable, deepest first."""
    for current, _, _ in os.walk(folder, topdown=False):
        fsync_dir(current)


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


# --- renaming without replacing ------------------------------------------------------------

def rename_no_replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Rename the file or folder ``source`` to ``target``; FileExistsError if ``target`` exists, atomically.

    Plain ``os.rename`` silently replaces a file, or an empty target folder, on POSIX, so
    two creations racing for one name could both "succeed". Linux (renameat2) and macOS
    (renamex_np) refuse atomically; Windows refuses by itself. Elsewhere a file is
    hard-linked to the new name (which fails when it is taken) and a folder claims the
    name with mkdir first.
    """
    if _native_rename(source, target):
        return
    if os.name == "nt":
        os.rename(source, target)
    elif os.path.isdir(source):
        _claim_and_rename(source, target)
    else:
        os.link(source, target)
        os.unlink(source)


def _native_rename(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> bool:
    """Rename with the system's no-replace call; False when there is none (or the filesystem lacks it)."""
    native = _native_noreplace()
    if native is None:
        return False
    source_b, target_b = os.fsencode(source), os.fsencode(target)
    if native(source_b, target_b) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    if code in (errno.EEXIST, errno.ENOTEMPTY):
        raise FileExistsError(code, os.strerror(code), os.fsdecode(target_b))
    raise OSError(code, os.strerror(code), os.fsdecode(source_b))


def _claim_and_rename(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """mkdir claims the name atomically, then the rename replaces only that empty folder we own."""
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
