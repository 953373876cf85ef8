"""Archives compressed on every core stay standard: gzip, tar, zip and unzip read them byte for byte.

The gzip stream is made of blocks compressed apart (as pigz does) and the zip of members
compressed side by side; already-compressed files are stored in zip and named in the
manifest. Peak memory while archiving is measured in a fresh process on a file far larger
than the cap.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import zipfile
import zlib
from pathlib import Path

import pytest

from metafold_widgets.workflows.archive import create_archive, verify, write_checksums
from metafold_widgets.workflows.publishing.parallel_gzip import (
    ParallelGzipWriter,
    deflate_block,
    segment_level,
    shrinks,
)
from metafold_widgets.workflows.publishing.parallel_zip import ParallelZipWriter

needs_gzip_and_tar = pytest.mark.skipif(not (shutil.which("gzip") and shutil.which("tar")),
                                        reason="gzip and tar are not installed")
TEXT = "".join(f"{i},{i * 0.37:.4f},sample {i % 17},condition_{i % 3}\n" for i in range(60_000)).encode()
NOISE = os.urandom(3 << 20)  # like PNG/JPEG/LZW-TIFF content: does not shrink


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "raw" / "images").mkdir(parents=True)
    (root / "tables").mkdir()
    (root / "empty").mkdir()
    (root / "tables" / "big.csv").write_bytes(TEXT * 2)  # several blocks
    (root / "tables" / "small.csv").write_bytes(TEXT[:5000])
    (root / "tables" / "empty.txt").write_bytes(b"")
    (root / "raw" / "images" / "cell 01.png").write_bytes(NOISE[:200_000])  # stored by its name
    (root / "raw" / "images" / "cell 02.tif").write_bytes(NOISE)  # stored: its sample does not shrink
    (root / "raw" / "images" / "plain.tif").write_bytes(bytes(300_000))  # an uncompressed TIFF shrinks
    (root / "ünïcode notes.md").write_text("# notes\n" * 1000)
    return root


def folder_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_shrinks_tells_text_from_noise():
    assert shrinks(TEXT[:1 << 20]) and shrinks(bytes(100_000))
    assert not shrinks(NOISE[:1 << 20])


@pytest.mark.parametrize("level", [1, 6, 9])
def test_parallel_gzip_is_one_standard_gzip_stream(tmp_path, level):
    data = TEXT[:700_000] + NOISE[:300_000] + TEXT + b"tail"
    out = io.BytesIO()
    writer = ParallelGzipWriter(out, level=level, workers=3, filename="data.tar", block_size=64 << 10)
    for start in range(0, len(data), 100_000):
        writer.write(data[start:start + 100_000])
    writer.close()
    compressed = out.getvalue()
    assert gzip.decompress(compressed) == data
    assert compressed[3] == 0x08 and compressed[10:19] == b"data.tar\0"  # the name, as gzip writes it
    assert len(compressed) < len(TEXT) / 2 + 320_000  # text compressed, noise stored
    if shutil.which("gzip"):
        path = tmp_path / "data.gz"
        path.write_bytes(compressed)
        assert subprocess.run(["gzip", "-t", str(path)], capture_output=True).returncode == 0
        assert subprocess.run(["gzip", "-dc", str(path)], capture_output=True).stdout == data


def test_parallel_gzip_of_nothing_is_an_empty_gzip_file():
    out = io.BytesIO()
    ParallelGzipWriter(out).close()
    assert gzip.decompress(out.getvalue()) == b""


def noisy_pixels(count: int) -> bytes:
    """16-bit pixels: a background of about 1000 with 6 bits of noise (a raw microscope image)."""
    return b"".join((1000 + (byte & 0x3F)).to_bytes(2, "little") for byte in os.urandom(count))


def test_effort_goes_where_it_pays():
    assert segment_level(TEXT[:65536], 6) == 6  # tables: matches pay, the level asked for
    assert segment_level(noisy_pixels(32768), 6) == 1  # noise: Huffman coding is all there is to gain
    assert segment_level(NOISE[:65536], 6) == 0  # does not shrink: stored
    assert segment_level(NOISE[:65536], 1) == 1  # level 1 and 0 are taken as asked


def test_a_block_mixing_kinds_of_data_is_still_one_deflate_stream():
    block = TEXT[:100_000] + NOISE[:150_000] + noisy_pixels(60_000) + TEXT[:70_000]
    compressed = deflate_block(block, TEXT[-40_000:], 6, last=True)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS, zdict=TEXT[-40_000:][-32768:])
    assert inflater.decompress(compressed) == block and inflater.eof
    assert len(compressed) < 100_000 + 150_000 + 120_000 * 0.6 + 70_000


def test_a_block_that_does_not_shrink_is_stored_not_compressed():
    block = deflate_block(NOISE[:100_000], b"", 6, last=True)
    assert len(block) <= 100_000 + 5 * (100_000 // 65535 + 2)  # stored: 5 bytes per stored block
    assert block[0] & 0b110 == 0  # first block type 00: stored


@needs_gzip_and_tar
def test_parallel_tar_gz_is_read_by_tar_gzip_and_tarfile_byte_for_byte(folder, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = create_archive(folder, out, "tar.gz", workers=2)
    assert subprocess.run(["gzip", "-t", str(result.path)], capture_output=True).returncode == 0
    listed = subprocess.run(["tar", "-tzf", str(result.path)], capture_output=True, text=True)
    assert listed.returncode == 0
    assert "data/raw/images/cell 02.tif" in listed.stdout.splitlines()
    unpacked = tmp_path / "tar"
    unpacked.mkdir()
    assert subprocess.run(["tar", "-xzf", str(result.path), "-C", str(unpacked)]).returncode == 0
    with tarfile.open(result.path) as archive:
        from_tarfile = {m.name.removeprefix("data/"): archive.extractfile(m).read()  # type: ignore[union-attr]
                        for m in archive.getmembers() if m.isfile()}
    expected = folder_files(folder)
    trailer = {"MANIFEST.json", "SHA256SUMS", "MD5SUMS"}
    assert {k: v for k, v in from_tarfile.items() if k not in trailer} == expected
    assert {k: v for k, v in folder_files(unpacked / "data").items() if k not in trailer} == expected
    assert (unpacked / "data" / "empty").is_dir()
    assert verify(result.path).ok


def test_parallel_zip_is_read_by_zipfile_and_unzip_byte_for_byte(folder, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = create_archive(folder, out, "zip", workers=2)
    with zipfile.ZipFile(result.path) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        members = {info.filename.removeprefix("data/"): info for info in archive.infolist()}
        contents = {name: archive.read(info) for name, info in members.items() if not info.is_dir()}
        manifest = json.loads(archive.read("data/MANIFEST.json"))
    assert names[:3] == ["data/MANIFEST.json", "data/SHA256SUMS", "data/MD5SUMS"]
    assert members["empty/"].is_dir() and members["empty/"].external_attr & 0x10
    expected = folder_files(folder)
    assert {k: v for k, v in contents.items() if k in expected} == expected
    assert set(contents) - set(expected) == {"MANIFEST.json", "SHA256SUMS", "MD5SUMS"}
    stored = {name for name, info in members.items() if info.compress_type == zipfile.ZIP_STORED and not info.is_dir()}
    assert stored == {"raw/images/cell 01.png", "raw/images/cell 02.tif"}
    assert manifest["stored_in_zip"] == sorted(stored)  # the manifest says which
    assert members["raw/images/plain.tif"].compress_type == zipfile.ZIP_DEFLATED
    assert members["tables/big.csv"].compress_size < len(TEXT) / 2
    checker = ["unzip", "-tq", str(result.path)] if shutil.which("unzip") else \
        [sys.executable, "-m", "zipfile", "-t", str(result.path)]
    assert subprocess.run(checker, capture_output=True).returncode == 0
    assert verify(result.path).ok


def test_folder_manifest_names_the_stored_files_and_the_zip_follows_it(folder, tmp_path):
    checked = write_checksums(folder, {"name": "data"})
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    assert manifest["stored_in_zip"] == ["raw/images/cell 01.png", "raw/images/cell 02.tif"]
    result = create_archive(folder, tmp_path, "zip", digests=checked.digests, trailer=checked.trailer)
    with zipfile.ZipFile(result.path) as archive:
        stored = sorted(i.filename.removeprefix("data/") for i in archive.infolist()
                        if i.compress_type == zipfile.ZIP_STORED and not i.is_dir())
        assert json.loads(archive.read("data/MANIFEST.json")) == manifest
    assert stored == manifest["stored_in_zip"]


def test_zip_dates_outside_what_zip_can_hold_are_clamped(folder, tmp_path):
    os.utime(folder / "tables" / "small.csv", (4_500_000_000, 4_500_000_000))  # year 2112
    os.utime(folder / "tables" / "big.csv", (100_000_000, 100_000_000))  # 1973
    result = create_archive(folder, tmp_path, "zip")
    with zipfile.ZipFile(result.path) as archive:
        assert archive.getinfo("data/tables/small.csv").date_time == (2107, 12, 31, 23, 59, 58)
        assert archive.getinfo("data/tables/big.csv").date_time == (1980, 1, 1, 0, 0, 0)
        assert archive.read("data/tables/small.csv") == TEXT[:5000]


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_archived_checksums_equal_hashlib_on_the_files(folder, tmp_path, fmt):
    result = create_archive(folder, tmp_path, fmt)
    if fmt == "zip":
        with zipfile.ZipFile(result.path) as archive:
            manifest = json.loads(archive.read("data/MANIFEST.json"))
    else:
        with tarfile.open(result.path) as archive:
            manifest = json.loads(archive.extractfile("data/MANIFEST.json").read())  # type: ignore[union-attr]
    for entry in manifest["files"]:
        content = (folder / entry["path"]).read_bytes()
        assert entry["size"] == len(content)
        assert entry["sha256"] == hashlib.sha256(content).hexdigest()
        assert entry["md5"] == hashlib.md5(content).hexdigest()
    assert result.sha256 == hashlib.sha256(result.path.read_bytes()).hexdigest()


def test_zip64_member_headers_are_read_by_zipfile(tmp_path):
    """A member announced as possibly over 2 GiB gets zip64 headers; readers accept them."""
    out = io.BytesIO()
    writer = ParallelZipWriter(out, workers=2)
    member = writer.open_member("big.bin", (2024, 5, 6, 7, 8, 10), 0o100644, size=3 << 30)
    member.write(TEXT[:100_000])
    member.close()
    member = writer.open_member("noise.bin", (2024, 5, 6, 7, 8, 10), 0o100644, size=3 << 30, stored=True)
    member.write(NOISE[:1000])
    member.close()
    writer.close()
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        assert archive.testzip() is None
        assert archive.read("big.bin") == TEXT[:100_000] and archive.read("noise.bin") == NOISE[:1000]
        assert archive.getinfo("big.bin").date_time == (2024, 5, 6, 7, 8, 10)
    if shutil.which("unzip"):
        path = tmp_path / "z64.zip"
        path.write_bytes(out.getvalue())
        assert subprocess.run(["unzip", "-tq", str(path)], capture_output=True).returncode == 0


MEMORY_PROBE = textwrap.dedent("""
    import os, resource, sys
    from metafold_widgets.workflows.archive import create_archive
    folder, out, fmt = sys.argv[1:4]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    create_archive(folder, out, fmt, workers=2)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print((after - before) // 1024)  # MiB (ru_maxrss is in KiB on Linux)
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in KiB and sparse files: Linux")
@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_peak_memory_while_archiving_stays_under_a_fixed_cap(tmp_path, fmt):
    """A 256 MiB file (sparse: no disk used) is archived with less than 64 MiB more memory."""
    root = tmp_path / "big"
    root.mkdir()
    with open(root / "sparse.raw", "wb") as handle:
        handle.truncate(256 << 20)
    (root / "table.csv").write_bytes(TEXT)
    out = tmp_path / "out"
    out.mkdir()
    probe = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(root), str(out), fmt],
                           capture_output=True, text=True, check=True)
    assert int(probe.stdout) < 64, f"peak memory grew by {probe.stdout.strip()} MiB"


PACKAGE_PROBE = textwrap.dedent("""
    import resource, sys
    from metafold_widgets.workflows.package import build_package
    project, out = sys.argv[1:3]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    build_package(project, out, archive=("tar.gz", "zip"), elabftw_formats=())
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print((after - before) // 1024)
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in KiB and sparse files: Linux")
def test_peak_memory_while_packaging_stays_under_a_fixed_cap(tmp_path):
    """A project with 256 MiB of raw images (sparse) is packaged, both archives, with less than 64 MiB more."""
    from metafold_widgets import create_project, load_template

    answers = {"project_identifier": "IMG202501", "experiment_title": "Heat stress", "principal_investigator": "Ada",
               "enable_elabftw": False, "enable_omero": False, "research_question": "Why?",
               "experimental_approach": "Look.", "sample_type": "Live Cells", "sample_preparation_protocol": "v2",
               "imaging_modality": "Confocal", "microscope_system": "LSM 880", "data_sharing_level": "Group"}
    (tmp_path / "projects").mkdir()
    project = create_project(load_template("multi-modal-imaging"), answers, tmp_path / "projects", name="big")
    with open(project / "03_imaging" / "raw_images" / "condition_1" / "stack.raw", "wb") as handle:
        handle.truncate(256 << 20)
    (project / "04_analysis" / "results" / "table.csv").write_bytes(TEXT)
    out = tmp_path / "out"
    out.mkdir()
    probe = subprocess.run([sys.executable, "-c", PACKAGE_PROBE, str(project), str(out)],
                           capture_output=True, text=True, check=True)
    assert int(probe.stdout) < 64, f"peak memory grew by {probe.stdout.strip()} MiB"
    assert len(list(out.glob("*.tar.gz"))) == len(list(out.glob("*.zip"))) == 1
