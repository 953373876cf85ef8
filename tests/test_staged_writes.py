"""Staged writes: a file or folder appears complete under its final name, or not at all.

Every writer (project folders, packages, archives, .eln files, elabFTW downloads, records)
goes through ``staged_file``/``staged_folder``; these tests hold the helper to its promises:
an exception mid-write leaves nothing under the final name and no temporary behind, an
existing target is never replaced (not even one that appears while the content is staged),
and a full disk or quota becomes one error, a DiskFullError naming the target, which is not
a user error (the command line exits 1 for it) but still an OSError.
"""
from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from metafold_widgets.core import atomic
from metafold_widgets.core.atomic import DiskFullError, staged_file, staged_folder, write_atomic, write_new_file
from metafold_widgets.core.checksums import FileChangedError, FileProblem, UnreadableFileError, UnsafeSymlinkError
from metafold_widgets.errors import MetafoldError, UserError


def everything(folder: Path) -> list[str]:
    """Every path below ``folder``, hidden ones included."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


class Boom(Exception):
    pass


@pytest.fixture
def full_disk_on_fsync(monkeypatch):
    """fsync fails as on a full disk (NFS and some quotas report it only there)."""
    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", fsync)


@pytest.fixture(params=["native-rename", "fallback-rename"])
def renaming(request, monkeypatch):
    """Both ways of renaming without replacing: the system's call, and link (files) or mkdir (folders)."""
    if request.param == "fallback-rename":
        monkeypatch.setattr(atomic, "_native_noreplace", lambda: None)
    return request.param


# --- the error --------------------------------------------------------------------------------

def test_a_full_disk_is_not_a_user_error_but_the_other_file_problems_are(tmp_path):
    error = DiskFullError(tmp_path / "x.tar.gz")
    assert isinstance(error, MetafoldError) and isinstance(error, OSError) and not isinstance(error, UserError)
    assert not isinstance(error, FileProblem)
    assert error.errno == errno.ENOSPC and error.path == str(tmp_path / "x.tar.gz")
    assert str(error).startswith(f"{tmp_path / 'x.tar.gz'}: the disk is full")
    for kind in (FileProblem, FileChangedError, UnreadableFileError, UnsafeSymlinkError):
        assert issubclass(kind, UserError)


# --- files --------------------------------------------------------------------------------------

def test_staged_file_appears_complete(tmp_path):
    target = tmp_path / "data.bin"
    with staged_file(target) as handle:
        handle.write(b"part one, ")
        assert not target.exists()  # nothing under the final name while it is written
        handle.write(b"part two")
    assert target.read_bytes() == b"part one, part two"
    assert everything(tmp_path) == ["data.bin"]


def test_exception_mid_write_leaves_nothing(tmp_path):
    target = tmp_path / "data.bin"
    with pytest.raises(Boom):
        with staged_file(target) as handle:
            handle.write(b"half")
            raise Boom
    assert everything(tmp_path) == []


@pytest.mark.parametrize("replace", [False, True])
def test_interrupted_replacement_keeps_the_old_file(tmp_path, replace):
    target = tmp_path / "record.json"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with staged_file(target, replace=replace) as handle:
            handle.write(b"new")
            raise KeyboardInterrupt
    assert target.read_text() == "old" and everything(tmp_path) == ["record.json"]


def test_existing_file_is_never_replaced(tmp_path):
    target = tmp_path / "schema.json"
    target.write_text("first")
    with pytest.raises(FileExistsError):
        write_new_file(target, "second")
    assert target.read_text() == "first" and everything(tmp_path) == ["schema.json"]


def test_file_appearing_while_staged_is_not_replaced(tmp_path, renaming):
    target = tmp_path / "out.zip"
    with pytest.raises(Boom):
        with staged_file(target, exists_error=lambda path: Boom(str(path))) as handle:
            handle.write(b"ours")
            target.write_text("theirs")  # another process wins the name meanwhile
    assert target.read_text() == "theirs" and everything(tmp_path) == ["out.zip"]


def test_write_atomic_replaces_on_purpose(tmp_path):
    target = tmp_path / "metafold.json"
    target.write_text("old")
    write_atomic(target, "new")
    assert target.read_text() == "new" and everything(tmp_path) == ["metafold.json"]


@pytest.mark.parametrize("code", [errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)], ids=["ENOSPC", "EDQUOT"])
def test_full_disk_while_writing_a_file(tmp_path, monkeypatch, code):
    target = tmp_path / "big.tar.gz"
    real_write = os.write

    def write(fd: int, data: bytes) -> int:
        if fd > 2:
            raise OSError(code, os.strerror(code))
        return real_write(fd, data)

    monkeypatch.setattr(atomic.os, "write", write)
    with pytest.raises(DiskFullError, match="disk is full") as caught:
        with staged_file(target) as handle:
            os.write(handle.fileno(), b"x" * 100)  # how the archive writer writes
    assert caught.value.path == str(target)
    assert everything(tmp_path) == []


def test_full_disk_at_fsync_becomes_the_same_error(tmp_path, full_disk_on_fsync):
    target = tmp_path / "record.json"
    target.write_text("old")
    with pytest.raises(DiskFullError) as caught:
        write_atomic(target, "new")
    assert caught.value.path == str(target)
    assert target.read_text() == "old" and everything(tmp_path) == ["record.json"]


# --- folders ------------------------------------------------------------------------------------

def test_staged_folder_appears_complete(tmp_path):
    target = tmp_path / "package"
    with staged_folder(target) as staging:
        (staging / "a").mkdir()
        (staging / "a/b.txt").write_text("b")
        assert not target.exists() and staging.parent == tmp_path and staging.name.startswith(".")
    assert everything(tmp_path) == ["package", "package/a", "package/a/b.txt"]


def test_exception_mid_folder_leaves_nothing(tmp_path):
    with pytest.raises(Boom):
        with staged_folder(tmp_path / "package") as staging:
            (staging / "half.txt").write_text("half")
            raise Boom
    assert everything(tmp_path) == []


def test_existing_folder_is_never_replaced_or_merged(tmp_path, renaming):
    target = tmp_path / "project"
    with pytest.raises(FileExistsError):
        with staged_folder(target) as staging:
            (staging / "ours.txt").write_text("ours")
            target.mkdir()  # an empty folder: plain rename would silently replace it
    assert everything(tmp_path) == ["project"]


def test_full_disk_inside_a_staged_folder_names_the_folder(tmp_path):
    target = tmp_path / "package"
    with pytest.raises(DiskFullError) as caught:
        with staged_folder(target) as staging:
            with staged_file(staging / "inner.txt") as handle:  # nested: the outer target is named
                handle.write(b"x")
                raise OSError(errno.ENOSPC, "No space left on device")
    assert caught.value.path == str(target)
    assert everything(tmp_path) == []


def test_permission_denied_for_the_staging_folder_is_a_user_error(tmp_path, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(UserError, match="no permission to create folders"):
        with staged_folder(tmp_path / "package"):
            pass


# --- a real full disk ---------------------------------------------------------------------------

@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 kB tmpfs (needs root and mount; skipped elsewhere)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        _unavailable("mounting a tiny tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        _unavailable(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_really_full_disk(tiny_disk):
    with pytest.raises(DiskFullError) as caught:
        write_new_file(tiny_disk / "big.bin", b"\0" * (1 << 20))
    assert caught.value.path == str(tiny_disk / "big.bin")
    assert everything(tiny_disk) == []
    with pytest.raises(DiskFullError):
        with staged_folder(tiny_disk / "package") as staging:
            (staging / "big.bin").write_bytes(b"\0" * (1 << 20))
    assert everything(tiny_disk) == []


def _unavailable(reason: str) -> None:
    """Skip on a developer's machine; in CI (root, as scripts/test runs) the real full disk must be tried."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)
