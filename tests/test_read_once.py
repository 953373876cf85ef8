"""Archiving and packaging read each file once: checksums come from the bytes that are archived.

Every open of a file is counted by its inode (``os.open``, ``open`` and ``io.open``), so a
second pass (checksums first, archive after; a sample for the zip storage; a verification
read) fails the count. The archives that result, whose checksum files are written last
into a slot at the start (tar.gz) or listed first (zip), are read by ``tar``, ``gzip -t``,
``tarfile`` (also streaming), ``zipfile``, ``unzip -t`` and ``metafold verify``, byte for
byte the files of the folder.
"""
from __future__ import annotations

import builtins
import collections
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
import zlib
from pathlib import Path

import pytest

from metafold_widgets import load_template
from metafold_widgets.core.checksums import FileChangedError
from metafold_widgets.core.project import create_project
from metafold_widgets.workflows.archive import create_archive, verify
from metafold_widgets.workflows.package import build_package
from metafold_widgets.workflows.publishing import archive_pass
from metafold_widgets.workflows.publishing.parallel_gzip import crc32_combine, stored_deflate, stored_deflate_size
from metafold_widgets.workflows.publishing.rocrate import file_id
from metafold_widgets.workflows.publishing.tar_head import TarHead, head_blocks

TRAILER = ["MANIFEST.json", "SHA256SUMS", "MD5SUMS"]
TEXT = "".join(f"{i},{i * 0.37:.4f},sample {i % 17}\n" for i in range(40_000)).encode()
NOISE = os.urandom(3 << 20)
needs_tools = pytest.mark.skipif(not all(shutil.which(t) for t in ("tar", "gzip", "sha256sum", "md5sum")),
                                 reason="tar, gzip and GNU coreutils are not installed")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder whose manifest outgrows one stored deflate block (65,535 bytes): many files, long names."""
    root = tmp_path / ("d" * 120)  # a top folder name longer than a plain tar header holds
    (root / "tables").mkdir(parents=True)
    (root / "images").mkdir()
    (root / "empty").mkdir()
    (root / "tables" / "big.csv").write_bytes(TEXT)
    (root / "images" / "noise.tif").write_bytes(NOISE)  # stored in zip: its first bytes do not shrink
    (root / "images" / "photo.png").write_bytes(NOISE[:100_000])  # stored in zip: by its name
    (root / "images" / "flat.tif").write_bytes(bytes(2_000_000))  # an uncompressed TIFF: deflated
    (root / "tables" / "empty.txt").write_bytes(b"")
    for number in range(400):
        (root / "tables" / f"ünïcode measurement {number:04d} {'x' * 60}.csv").write_bytes(TEXT[:number * 7])
    return root


class OpenCounter:
    """Counts the opens of every file by (device, inode), whichever way it is opened."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.counts: collections.Counter[tuple[int, int]] = collections.Counter()
        real_os_open, real_open = os.open, builtins.open

        def counting_os_open(path, flags, *args, **kwargs):
            fd = real_os_open(path, flags, *args, **kwargs)
            self._count(os.fstat(fd))
            return fd

        def counting_open(file, *args, **kwargs):
            handle = real_open(file, *args, **kwargs)
            if not isinstance(file, int):
                self._count(os.fstat(handle.fileno()))
            return handle

        monkeypatch.setattr(os, "open", counting_os_open)
        monkeypatch.setattr(builtins, "open", counting_open)
        monkeypatch.setattr(io, "open", counting_open)

    def _count(self, info: os.stat_result) -> None:
        self.counts[(info.st_dev, info.st_ino)] += 1

    def of(self, path: Path) -> int:
        info = os.stat(path)
        return self.counts[(info.st_dev, info.st_ino)]


def folder_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_archiving_opens_each_file_once(folder, tmp_path, monkeypatch, fmt):
    counter = OpenCounter(monkeypatch)
    create_archive(folder, tmp_path, fmt, workers=2)
    monkeypatch.undo()
    opened = {p.relative_to(folder).as_posix(): counter.of(p) for p in folder.rglob("*") if p.is_file()}
    assert set(opened.values()) == {1}, {k: v for k, v in opened.items() if v != 1}


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_a_second_read_would_be_counted(folder, tmp_path, monkeypatch, fmt):
    counter = OpenCounter(monkeypatch)
    create_archive(folder, tmp_path, fmt, workers=2)
    (folder / "tables" / "big.csv").read_bytes()  # what a second pass does
    monkeypatch.undo()
    assert counter.of(folder / "tables" / "big.csv") == 2


@needs_tools
def test_tar_gz_written_last_at_its_start_is_read_by_every_tool(folder, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = create_archive(folder, out, "tar.gz", workers=2)
    top = folder.name
    assert subprocess.run(["gzip", "-t", str(result.path)], capture_output=True).returncode == 0
    assert subprocess.run(["sha256sum", "-c", result.checksum_file.name], cwd=out, capture_output=True).returncode == 0
    listed = subprocess.run(["tar", "-tzf", str(result.path)], capture_output=True, text=True, check=True).stdout
    assert listed.splitlines()[:3] == [f"{top}/{name}" for name in TRAILER]
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    subprocess.run(["tar", "-xzf", str(result.path), "-C", str(unpacked)], check=True)
    expected = folder_files(folder)
    got = folder_files(unpacked / top)
    assert {k: v for k, v in got.items() if k not in TRAILER} == expected
    for tool, sums in (("sha256sum", "SHA256SUMS"), ("md5sum", "MD5SUMS")):
        assert subprocess.run([tool, "-c", "--strict", sums], cwd=unpacked / top, capture_output=True).returncode == 0
    assert len(got["MANIFEST.json"]) > 65_535  # the slot holds several stored deflate blocks
    with open(result.path, "rb") as raw, tarfile.open(fileobj=raw, mode="r|gz") as stream:  # streaming mode
        streamed = {m.name: stream.extractfile(m).read() for m in stream if m.isfile()}  # type: ignore[union-attr]
    assert {k.removeprefix(f"{top}/"): v for k, v in streamed.items()} == got
    with tarfile.open(result.path) as archive:
        assert archive.getnames()[:3] == [f"{top}/{name}" for name in TRAILER]
    assert verify(result.path).ok


def test_zip_lists_the_checksum_files_first_though_written_last(folder, tmp_path):
    result = create_archive(folder, tmp_path, "zip", workers=2)
    top = folder.name
    with zipfile.ZipFile(result.path) as archive:
        assert archive.testzip() is None
        infos = archive.infolist()
        assert [i.filename for i in infos[:3]] == [f"{top}/{name}" for name in TRAILER]
        assert max(i.header_offset for i in infos[3:]) < min(i.header_offset for i in infos[:3])  # data last
        contents = {i.filename.removeprefix(f"{top}/"): archive.read(i) for i in infos if not i.is_dir()}
        stored = sorted(i.filename.removeprefix(f"{top}/") for i in infos
                        if i.compress_type == zipfile.ZIP_STORED and not i.is_dir())
    assert {k: v for k, v in contents.items() if k not in TRAILER} == folder_files(folder)
    assert stored == ["images/noise.tif", "images/photo.png"]
    assert json.loads(contents["MANIFEST.json"])["stored_in_zip"] == stored
    checker = ["unzip", "-tq", str(result.path)] if shutil.which("unzip") else \
        [sys.executable, "-m", "zipfile", "-t", str(result.path)]
    assert subprocess.run(checker, capture_output=True).returncode == 0
    assert verify(result.path).ok


def test_the_folder_manifest_and_the_archive_agree_on_stored_files(folder, tmp_path):
    from metafold_widgets.workflows.archive import write_checksums
    checked = write_checksums(folder, {"name": folder.name})  # sampled without reading whole files
    result = create_archive(folder, tmp_path, "zip")
    with zipfile.ZipFile(result.path) as archive:
        in_zip = json.loads(archive.read(f"{folder.name}/MANIFEST.json"))["stored_in_zip"]
    assert json.loads(checked.trailer["MANIFEST.json"])["stored_in_zip"] == in_zip


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_a_file_replaced_while_read_is_reported_and_not_archived(folder, tmp_path, monkeypatch, fmt):
    real = archive_pass.read_once
    target = folder / "images" / "flat.tif"

    def reading(item, start, algorithms):
        def started(info, first):
            if item.path == target:
                replacement = target.with_name("new.tif")
                replacement.write_bytes(bytes(2_000_000))
                os.utime(replacement, ns=(info.st_atime_ns, info.st_mtime_ns))
                os.replace(replacement, target)  # same size, same mtime, another file
            return start(info, first)
        return real(item, started, algorithms)

    monkeypatch.setattr(archive_pass, "read_once", reading)
    with pytest.raises(FileChangedError, match="replaced while it was being read"):
        create_archive(folder, tmp_path, fmt)
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # no archive, no checksum, no staging file


# --- the package ----------------------------------------------------------------------------

@pytest.fixture
def project(tmp_path: Path) -> Path:
    answers = {"project_identifier": "IMG202501", "experiment_title": "Heat stress", "principal_investigator": "Ada",
               "enable_elabftw": False, "enable_omero": False, "research_question": "Why?",
               "experimental_approach": "Look.", "sample_type": "Live Cells", "sample_preparation_protocol": "v2",
               "imaging_modality": "Confocal", "microscope_system": "LSM 880", "data_sharing_level": "Group"}
    (tmp_path / "projects").mkdir()
    project = create_project(load_template("multi-modal-imaging"), answers, tmp_path / "projects")
    (project / "03_imaging/raw_images/condition_1/cell_001.tif").write_bytes(NOISE)
    (project / "03_imaging/raw_images/condition_1/flat.tif").write_bytes(bytes(3_000_000))
    (project / "04_analysis/results/summary.csv").write_bytes(TEXT)
    (project / "06_publication/figures/fig1.png").write_bytes(NOISE[:50_000])
    return project


def data_in(package: Path) -> list[str]:
    """The data files' places in the package."""
    return sorted(p.relative_to(package).as_posix() for p in package.rglob("*")
                  if p.is_file() and p.name in {Path(d).name for d in DATA})


DATA = ["03_imaging/raw_images/condition_1/cell_001.tif", "03_imaging/raw_images/condition_1/flat.tif",
        "04_analysis/results/summary.csv", "06_publication/figures/fig1.png"]


def test_packaging_with_both_archives_reads_each_data_file_once(project, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    counter = OpenCounter(monkeypatch)
    result = build_package(project, out, archive=("tar.gz", "zip"), workers=2)
    monkeypatch.undo()
    assert {relpath: counter.of(project / relpath) for relpath in DATA} == dict.fromkeys(DATA, 1)  # hard links
    package = result.path
    folder = folder_files(package)
    for archive_result in result.archives:
        assert subprocess.run(["sha256sum", "-c", archive_result.checksum_file.name], cwd=out,
                              capture_output=True).returncode == 0 if shutil.which("sha256sum") else True
        if archive_result.format == "zip":
            with zipfile.ZipFile(archive_result.path) as archive:
                names = archive.namelist()
                members = {i.filename.removeprefix(f"{package.name}/"): archive.read(i)
                           for i in archive.infolist() if not i.is_dir()}
        else:
            with tarfile.open(archive_result.path, "r|gz") as archive:
                names, members = [], {}
                for member in archive:
                    names.append(member.name)
                    if member.isfile():
                        members[member.name.removeprefix(f"{package.name}/")] = \
                            archive.extractfile(member).read()  # type: ignore[union-attr]
        assert names[:3] == [f"{package.name}/{name}" for name in TRAILER]
        assert members == folder  # byte for byte the folder: its crate and checksum files included
        assert verify(archive_result.path).ok
    crate = json.loads(folder["ro-crate-metadata.json"])
    hashed = {e["@id"]: e.get("sha256") for e in crate["@graph"] if e.get("@type") == "File"}
    sums = dict(line.split("  ", 1)[::-1] for line in folder["SHA256SUMS"].decode().splitlines())
    assert {relpath: hashed.get(file_id(relpath)) for relpath in data_in(package)} == \
        {relpath: sums[relpath] for relpath in data_in(package)}
    assert "ro-crate-metadata.json" in folder["SHA256SUMS"].decode()
    assert verify(package).ok


# --- the pieces ------------------------------------------------------------------------------

def test_crc32_combine_equals_crc32_of_the_whole():
    first, second = os.urandom(1000), os.urandom(70_000)
    assert crc32_combine(zlib.crc32(first), zlib.crc32(second), len(second)) == zlib.crc32(first + second)
    assert crc32_combine(zlib.crc32(first), zlib.crc32(b""), 0) == zlib.crc32(first)


def test_stored_deflate_has_its_announced_length_and_a_stream_goes_on_after_it():
    data = os.urandom(150_000)
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    rest = compressor.compress(TEXT) + compressor.flush()
    head = stored_deflate(data)
    assert len(head) == stored_deflate_size(len(data))
    assert zlib.decompress(head + rest, -zlib.MAX_WBITS) == data + TEXT


def test_the_tar_head_fills_its_slot_exactly_or_refuses():
    bound = {"d/MANIFEST.json": 5000, "d/SHA256SUMS": 700, "d/MD5SUMS": 400}
    head = TarHead(head_blocks(bound, 1000), filename="d.tar", level=6)
    for sizes in ((5000, 700, 400), (10, 0, 1), (4000, 700, 399)):
        members = {name: b"x" * size for name, size in zip(bound, sizes, strict=True)}
        slot, _, length = head.fill(members, 1000)
        assert len(slot) == head.size and length == head.blocks * 512
        with tarfile.open(fileobj=io.BytesIO(zlib.decompress(slot[10 + len(b"d.tar") + 1:] + b"\x03\x00", -15))) \
                as archive:
            assert {m.name: m.size for m in archive} == dict(zip(bound, sizes, strict=True))
    with pytest.raises(ValueError, match="reserved"):
        head.fill({"d/MANIFEST.json": b"x" * 7000, "d/SHA256SUMS": b"", "d/MD5SUMS": b""}, 1000)


def test_a_file_growing_while_packaged_is_reported_and_nothing_is_left(project, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    real = archive_pass.read_once

    def reading(item, start, algorithms):
        def started(info, first):
            if item.path.name == "summary.csv":
                with open(item.path, "ab") as handle:
                    handle.write(b"one more row\n")
            return start(info, first)
        return real(item, started, algorithms)

    monkeypatch.setattr(archive_pass, "read_once", reading)
    with pytest.raises(FileChangedError, match="summary.csv"):
        build_package(project, out, archive=("tar.gz", "zip"))
    assert list(out.iterdir()) == []  # no package, no archive, no staging folder or file
