"""Checksums, manifests, archives and their verification, also with the real sha256sum/md5sum.

Tests run as root here, where ``chmod 000`` does not stop reading a file: an unreadable file
is simulated by making ``os.open`` fail with EACCES for that one path (what the kernel does
for an ordinary user). A named pipe (FIFO) shows the other "cannot be read" case for real.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from metafold_widgets import cli
from metafold_widgets.core import checksums
from metafold_widgets.core.atomic import DiskFullError
from metafold_widgets.core.checksums import (
    SMALL_FILE_SIZE,
    FileChangedError,
    FileProblem,
    UnreadableFileError,
    UnsafeSymlinkError,
    format_sums,
    hash_files,
    list_files,
    parse_sums,
)
from metafold_widgets.errors import InputFileError, UserError
from metafold_widgets.workflows.archive import ArchiveExistsError, create_archive, verify, write_checksums
from metafold_widgets.workflows.publishing import archive as archive_module
from metafold_widgets.workflows.publishing import archive_pass

needs_coreutils = pytest.mark.skipif(not (shutil.which("sha256sum") and shutil.which("md5sum")),
                                     reason="GNU coreutils sha256sum/md5sum are not installed")
BIG = os.urandom(SMALL_FILE_SIZE * 3 + 12345)  # read in chunks, not in one call


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "raw" / "day 1").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "a.txt").write_text("alpha\n")
    (root / "raw" / "day 1" / "image 01.tif").write_bytes(BIG)
    (root / "raw" / "notes.md").write_text("# notes\n")
    (root / "ünïcode.csv").write_text("x,y\n1,2\n")
    return root


def coreutils_check(folder: Path, sums_file: str) -> subprocess.CompletedProcess[str]:
    tool = "sha256sum" if sums_file == "SHA256SUMS" else "md5sum"
    return subprocess.run([tool, "-c", "--strict", sums_file], cwd=folder, capture_output=True, text=True)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --- hashing --------------------------------------------------------------------------------

def test_hash_files_matches_hashlib_for_small_and_big_files(folder):
    listing = list_files(folder)
    progress = []
    digests = hash_files(listing.files, workers=3, progress=lambda done, total, path: progress.append((done, total)))
    for item in listing.files:
        data = item.path.read_bytes()
        assert digests[item.relpath].digests == {"sha256": hashlib.sha256(data).hexdigest(),
                                                 "md5": hashlib.md5(data).hexdigest()}
        assert digests[item.relpath].size == len(data)
    assert progress[-1] == (listing.total_size, listing.total_size)
    assert listing.folders == ["empty", "raw", "raw/day 1"]


def test_checksum_files_have_the_coreutils_format(folder):
    written = write_checksums(folder, {"description": "test data"})
    lines = (folder / "SHA256SUMS").read_text().splitlines()
    assert len(lines) == written.file_count + 1  # every file and the manifest
    assert all(re.fullmatch(r"[0-9a-f]{64}  [^/].*", line) for line in lines)
    assert "  raw/day 1/image 01.tif" in "\n".join(lines)
    assert all(re.fullmatch(r"[0-9a-f]{32}  .+", line) for line in (folder / "MD5SUMS").read_text().splitlines())


@needs_coreutils
def test_sha256sum_and_md5sum_verify_the_folder(folder):
    write_checksums(folder)
    for sums in ("SHA256SUMS", "MD5SUMS"):
        result = coreutils_check(folder, sums)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.count(": OK") == 5


@needs_coreutils
def test_names_with_backslash_or_newline_are_escaped_like_coreutils(tmp_path):
    (tmp_path / "back\\slash.txt").write_text("1")
    (tmp_path / "new\nline.txt").write_text("2")
    write_checksums(tmp_path)
    for name in ("back\\slash.txt", "new\nline.txt"):
        ours = [line for line in (tmp_path / "SHA256SUMS").read_text().splitlines(keepends=True)
                if "slash" in line or "line" in line]
        theirs = subprocess.run(["sha256sum", "--", name], cwd=tmp_path, capture_output=True, text=True).stdout
        assert theirs in ours
    assert coreutils_check(tmp_path, "SHA256SUMS").returncode == 0
    assert set(parse_sums((tmp_path / "SHA256SUMS").read_text())) >= {"back\\slash.txt", "new\nline.txt"}


def test_parse_sums_reads_binary_mode_and_rejects_garbage():
    digest = "a" * 64
    assert parse_sums(f"{digest} *bin/file\n{digest}  text file\n") == {"bin/file": digest, "text file": digest}
    with pytest.raises(FileProblem, match=r"SUMS:2: is not a checksum line"):
        parse_sums(f"{digest}  ok\nnot a line\n", "SUMS")
    assert format_sums({"b": "2" * 32, "a": "1" * 32}) == f"{'1' * 32}  a\n{'2' * 32}  b\n"


def test_manifest_says_what_who_when_count_and_size(folder):
    written = write_checksums(folder, {"name": "data", "description": "test data", "created_by": "Ada"})
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    assert manifest["what"] == {"name": "data", "description": "test data"}
    assert manifest["who"]["created_by"] == "Ada" and manifest["who"]["tool"].startswith("metafold-widgets ")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["when"])
    assert manifest["file_count"] == 4 == written.file_count
    assert manifest["total_size"] == sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()
                                         and p.name not in ("MANIFEST.json", "SHA256SUMS", "MD5SUMS"))
    assert {f["path"] for f in manifest["files"]} == {"a.txt", "raw/day 1/image 01.tif", "raw/notes.md",
                                                      "ünïcode.csv"}


# --- archives -------------------------------------------------------------------------------

@needs_coreutils
@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_archive_unpacks_to_a_folder_that_coreutils_verify(folder, tmp_path, fmt):
    out = tmp_path / "out"
    out.mkdir()
    result = create_archive(folder, out, fmt)
    assert result.path == out / f"data.{fmt}" and result.file_count == 4
    assert subprocess.run(["sha256sum", "-c", f"data.{fmt}.sha256"], cwd=out, capture_output=True).returncode == 0
    unpacked = tmp_path / "unpacked"
    if fmt == "zip":
        with zipfile.ZipFile(result.path) as archive:
            names = archive.namelist()
            archive.extractall(unpacked)
    else:
        with tarfile.open(result.path) as archive:
            names = archive.getnames()
            archive.extractall(unpacked, filter="data")
    assert names[:3] == ["data/MANIFEST.json", "data/SHA256SUMS", "data/MD5SUMS"]  # checksums first
    assert all(name.startswith("data/") or name == "data" for name in names)
    assert (unpacked / "data" / "empty").is_dir()  # empty folders survive
    assert (unpacked / "data" / "raw" / "day 1" / "image 01.tif").read_bytes() == BIG
    assert coreutils_check(unpacked / "data", "SHA256SUMS").returncode == 0
    assert coreutils_check(unpacked / "data", "MD5SUMS").returncode == 0
    assert leftovers(out) == []
    assert not (folder / "SHA256SUMS").exists()  # archiving never writes into the folder


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_verify_passes_on_an_intact_archive_and_folder(folder, tmp_path, fmt):
    result = create_archive(folder, tmp_path, fmt)
    report = verify(result.path)
    assert report.ok, report.summary()
    assert report.checked == 5 and report.checksum_files == ["SHA256SUMS", "MD5SUMS", f"data.{fmt}.sha256"]
    write_checksums(folder)
    assert verify(folder).ok


def test_archive_refuses_to_overwrite(folder, tmp_path):
    create_archive(folder, tmp_path)
    with pytest.raises(ArchiveExistsError, match="already exists"):
        create_archive(folder, tmp_path)
    with pytest.raises(UserError, match="unknown archive format"):
        create_archive(folder, tmp_path, "rar")


# --- verification finds every problem -------------------------------------------------------

def test_verify_lists_tampered_missing_and_extra_files_in_a_folder(folder, capsys):
    write_checksums(folder)
    (folder / "a.txt").write_text("tampered\n")
    (folder / "raw" / "notes.md").unlink()
    (folder / "raw" / "new.txt").write_text("not listed")
    report = verify(folder, md5=True)
    assert not report.ok
    assert report.mismatched == [("a.txt", "sha256"), ("a.txt", "md5")]
    assert report.missing == ["raw/notes.md"]
    assert report.extra == ["raw/new.txt"]
    assert cli.main(["verify", str(folder), "-q", "--md5"]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH  a.txt (sha256)" in out and "MISSING   raw/notes.md" in out and "EXTRA     raw/new.txt" in out
    assert "FAILED: 4 problem(s)" in out


@needs_coreutils
def test_coreutils_agree_about_the_tampered_file(folder):
    write_checksums(folder)
    (folder / "a.txt").write_text("tampered\n")
    result = coreutils_check(folder, "SHA256SUMS")
    assert result.returncode == 1 and "a.txt: FAILED" in result.stdout


def test_verify_finds_a_tampered_member_and_a_damaged_archive(folder, tmp_path):
    result = create_archive(folder, tmp_path, "tar.gz")
    unpacked = tmp_path / "unpacked"
    with tarfile.open(result.path) as archive:
        archive.extractall(unpacked, filter="data")
    (unpacked / "data" / "ünïcode.csv").write_text("x,y\n9,9\n")
    (unpacked / "data" / "a.txt").unlink()
    (unpacked / "data" / "extra.bin").write_bytes(b"\0")
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(tampered, "w:gz") as archive:
        archive.add(unpacked / "data", arcname="data")
    report = verify(tampered, md5=True)
    assert report.mismatched == [("ünïcode.csv", "sha256"), ("ünïcode.csv", "md5")]
    assert report.missing == ["a.txt"] and report.extra == ["extra.bin"]
    # a flipped byte: the archive no longer matches its own checksum file
    original = result.path.read_bytes()
    result.path.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    assert ("data.tar.gz", "sha256 of the archive itself") in verify(result.path).mismatched
    # a truncated archive cannot even be read
    result.checksum_file.unlink()
    result.path.write_bytes(original[: len(original) // 2])
    with pytest.raises(InputFileError, match="damaged") as caught:
        verify(result.path)
    assert str(result.path) in str(caught.value)


def test_verify_reports_the_archive_checksum_mismatch(folder, tmp_path):
    result = create_archive(folder, tmp_path, "zip")
    result.checksum_file.write_text(f"{'0' * 64}  data.zip\n")
    report = verify(result.path)
    assert report.mismatched == [("data.zip", "sha256 of the archive itself")]


def test_verify_needs_checksums(folder, capsys):
    with pytest.raises(InputFileError, match="no SHA256SUMS or MD5SUMS"):
        verify(folder)
    assert cli.main(["verify", str(folder)]) == 2
    assert "no SHA256SUMS or MD5SUMS" in capsys.readouterr().err


def test_verify_flags_listed_paths_that_leave_the_folder(folder):
    write_checksums(folder)
    with open(folder / "SHA256SUMS", "a") as handle:
        handle.write(f"{'0' * 64}  ../outside.txt\n")
    report = verify(folder)
    assert report.problems == ["../outside.txt: listed with a path that leaves the folder; not checked"]


# --- files that change, cannot be read, or lead outside; a full disk -----------------------

def test_file_changed_between_listing_and_hashing(folder):
    listing = list_files(folder)
    with open(folder / "a.txt", "a") as handle:
        handle.write("more")
    with pytest.raises(FileChangedError, match="changed") as caught:
        hash_files(listing.files)
    assert caught.value.path == str(folder / "a.txt")


def change_while_read(monkeypatch, relpath: str, change) -> None:
    """Make ``change(path)`` happen once the archive has begun reading the file ``relpath``."""
    real = archive_pass.read_once

    def reading(item, start, algorithms):
        def started(info, first):
            if item.relpath == relpath:
                change(item.path)
            return start(info, first)
        return real(item, started, algorithms)

    monkeypatch.setattr(archive_pass, "read_once", reading)


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_file_changed_while_archived_stops_the_archive(folder, tmp_path, monkeypatch, fmt):
    def same_size_and_mtime(path):
        info = os.stat(path)
        data = bytearray(path.read_bytes())
        data[-100] ^= 0xFF  # same size...
        path.write_bytes(bytes(data))
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))  # ...and the same mtime

    change_while_read(monkeypatch, "raw/day 1/image 01.tif", same_size_and_mtime)
    with pytest.raises(FileChangedError, match="changed while it was being read") as caught:
        create_archive(folder, tmp_path, fmt)
    assert caught.value.path.endswith("image 01.tif")
    assert not (tmp_path / f"data.{fmt}").exists() and not (tmp_path / f"data.{fmt}.sha256").exists()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_file_that_grows_while_archived_stops_the_archive(folder, tmp_path, monkeypatch, fmt):
    def grow(path):
        with open(path, "a") as handle:
            handle.write("grown")

    change_while_read(monkeypatch, "a.txt", grow)
    with pytest.raises(FileChangedError, match="a.txt"):
        create_archive(folder, tmp_path, fmt)
    assert not (tmp_path / f"data.{fmt}").exists() and leftovers(tmp_path) == []


def test_unreadable_file_gives_a_clear_error(folder, tmp_path, monkeypatch):
    # As root, chmod 000 does not stop reading; make open() fail as it would for a user.
    target = str(folder / "raw" / "notes.md")
    real_open = os.open

    def refusing_open(path, flags, *args, **kwargs):
        if os.fspath(path) == target:
            raise PermissionError(errno.EACCES, "Permission denied", target)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(checksums.os, "open", refusing_open)
    with pytest.raises(UnreadableFileError, match="permission denied") as caught:
        create_archive(folder, tmp_path)
    assert caught.value.path == target
    assert not (tmp_path / "data.tar.gz").exists() and leftovers(tmp_path) == []


def test_named_pipe_is_reported_not_waited_for(folder, tmp_path, capsys):
    os.mkfifo(folder / "raw" / "pipe")
    with pytest.raises(UnreadableFileError, match=r"named pipe \(FIFO\)"):
        create_archive(folder, tmp_path)
    assert cli.main(["archive", str(folder), "--out", str(tmp_path), "-q"]) == 2
    assert "pipe: is a named pipe" in capsys.readouterr().err


def test_symlink_leaving_the_folder_is_refused(folder, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("not part of the project")
    (folder / "raw" / "link.txt").symlink_to(outside)
    with pytest.raises(UnsafeSymlinkError, match="outside") as caught:
        create_archive(folder, tmp_path)
    assert caught.value.path == str(folder / "raw" / "link.txt")
    assert not (tmp_path / "data.tar.gz").exists()


def test_symlinks_inside_the_folder_are_archived_as_their_files(folder, tmp_path):
    (folder / "raw" / "same.txt").symlink_to(folder / "a.txt")
    (folder / "raw_again").symlink_to(folder / "raw", target_is_directory=True)
    listing = list_files(folder)
    assert "raw/same.txt" in {f.relpath for f in listing.files}
    assert listing.skipped == [("raw_again", "symbolic link to a folder inside the project: not followed")]
    result = create_archive(folder, tmp_path, "zip")
    with zipfile.ZipFile(result.path) as archive:
        assert archive.read("data/raw/same.txt") == b"alpha\n"


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_full_disk_gives_a_clear_error_and_no_archive(folder, tmp_path, monkeypatch, capsys, fmt):
    real_write = os.write
    writes = []

    def full_disk(fd, data):
        if fd > 2:  # the archive, not the terminal
            writes.append(len(data))
            if len(writes) > 1:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(archive_module.os, "write", full_disk)
    with pytest.raises(DiskFullError, match="disk is full") as caught:
        create_archive(folder, tmp_path, fmt)
    assert caught.value.path == str(tmp_path / f"data.{fmt}")
    assert not (tmp_path / f"data.{fmt}").exists() and leftovers(tmp_path) == []
    writes.clear()
    assert cli.main(["archive", str(folder), "--format", fmt, "--out", str(tmp_path), "-q"]) == 1  # as the README says
    assert "disk is full" in capsys.readouterr().err
    assert not (tmp_path / f"data.{fmt}").exists() and leftovers(tmp_path) == []


def test_cli_archive_and_verify(folder, tmp_path, capsys):
    assert cli.main(["archive", str(folder), "--format", "zip", "--out", str(tmp_path), "-q", "-j", "2"]) == 0
    assert "data.zip (4 files" in capsys.readouterr().out
    assert cli.main(["verify", str(tmp_path / "data.zip"), "-q"]) == 0
    assert "OK: 5 files verified" in capsys.readouterr().out
    assert cli.main(["archive", str(folder), "--format", "zip", "--out", str(tmp_path), "-q"]) == 2
