"""Hostile archives and folders given to the publishing commands: ``import-eln`` and ``verify``.

Every file here is built by the test as an attacker would build it: a zip bomb whose member
declares 10 bytes, a crate metadata file declaring a gigabyte, a crate nested 200,000 levels
deep, checksums that are numbers, checksum files that are links to files elsewhere. Each
must be refused with exit status 2 and a message naming the file and the key, leave
nothing behind, and take bounded memory.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import struct
import tarfile
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any, Callable, Mapping

import pytest

from metafold_widgets import cli
from metafold_widgets.errors import EXIT_FAILED, EXIT_USER, InputFileError, UserError
from metafold_widgets.workflows.archive import create_archive, verify, write_checksums
from metafold_widgets.workflows.eln import import_eln, read_eln
from metafold_widgets.workflows.publishing import eln_read, manifest, unpacking
from metafold_widgets.workflows.publishing.unpacking import ArchiveLimitError, ExpansionBudget, read_member

CONTEXT = "https://w3id.org/ro/crate/1.1/context"
TOP = "2024-06-15-160023-export"
FOLDER = "exp"
METADATA = {"extra_fields": {"Sample ID": {"type": "text", "value": "S-042"}}}
BOMB_BYTES = 150 << 20          # the bomb: 150 MB of zeros, about 150 kB compressed
MEMORY_CAP = 16 << 20           # what reading a hostile archive may allocate (tracemalloc peak)
WAYS = ("api", "cli")


@pytest.fixture(autouse=True)
def no_debug(monkeypatch) -> None:
    """Errors are reported as messages unless METAFOLD_DEBUG is set; make sure it is not."""
    monkeypatch.delenv("METAFOLD_DEBUG", raising=False)


# --- building hostile files -----------------------------------------------------------------

class Zeros(io.RawIOBase):
    """``size`` zero bytes, made as they are read (never held in memory); counts what was read."""

    def __init__(self, size: int | None):
        self.left = size
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = len(buffer) if self.left is None else min(len(buffer), self.left)
        buffer[:count] = bytes(count)
        if self.left is not None:
            self.left -= count
        self.read_bytes += count
        return count


Member = bytes | int  # content, or that many zero bytes streamed into the zip


def entity(name: str, data: bytes | None = None, **declared: Any) -> dict[str, Any]:
    """The crate's File entity for ``./exp/<name>``: ``contentSize`` and ``sha256`` of ``data``, or ``declared``."""
    described = {} if data is None else {"contentSize": str(len(data)), "sha256": hashlib.sha256(data).hexdigest()}
    return {"@id": f"./{FOLDER}/{name}", "@type": "File", "name": name, **described, **declared}


def crate(*files: Mapping[str, Any]) -> dict[str, Any]:
    """An elabFTW-like crate: one experiment with its metadata and ``files``."""
    return {"@context": CONTEXT, "@graph": [
        {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"}},
        {"@id": "./", "@type": "Dataset", "hasPart": [{"@id": f"./{FOLDER}/"}]},
        {"@id": f"./{FOLDER}/", "@type": "Dataset", "name": "Hostile experiment",
         "hasPart": [{"@id": f["@id"]} for f in files],
         "variableMeasured": [{"propertyID": "elabftw_metadata", "value": json.dumps(METADATA)}]},
        *files]}


def write_eln(path: Path, metadata: Mapping[str, Any] | bytes, members: Mapping[str, Member] | None = None,
              infos: Mapping[str, zipfile.ZipInfo] | None = None) -> Path:
    """A zip with ``TOP/ro-crate-metadata.json`` and ``TOP/exp/<name>`` members (zero-filled ones streamed)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        content = metadata if isinstance(metadata, bytes) else json.dumps(metadata).encode()
        archive.writestr(f"{TOP}/ro-crate-metadata.json", content)
        for name, data in (members or {}).items():
            write_member(archive, f"{TOP}/{FOLDER}/{name}", data)
        for name, info in (infos or {}).items():
            info.filename = f"{TOP}/{FOLDER}/{name}"
            archive.writestr(info, b"payload")
    return path


def write_member(archive: zipfile.ZipFile, name: str, data: Member) -> None:
    if isinstance(data, bytes):
        archive.writestr(name, data)
        return
    source = io.BufferedReader(Zeros(data), 1 << 20)
    with archive.open(name, "w") as out:
        while chunk := source.read(1 << 20):
            out.write(chunk)


def patch_member(path: Path, member: str, *, size: int | None = None, crc_of: bytes | None = None,
                 encrypted: bool = False) -> None:
    """Make the zip's headers of ``member`` say it holds ``size`` bytes, has the CRC-32 of ``crc_of``, or is encrypted.

    The compressed data stays as it was: what a lying zip looks like.
    """
    data = bytearray(path.read_bytes())
    _, _, _, _, count, _, directory, _ = struct.unpack("<4s4H2LH", data[-22:])
    offset = directory
    for _ in range(count):
        fields = struct.unpack("<4s6H3L5H2L", data[offset:offset + 46])
        name_length, extra_length, comment_length, local = fields[10], fields[11], fields[12], fields[16]
        if data[offset + 46:offset + 46 + name_length].decode() == member:
            if size is not None:
                struct.pack_into("<L", data, offset + 24, size)
                struct.pack_into("<L", data, local + 22, size)
            if crc_of is not None:
                struct.pack_into("<L", data, offset + 16, zipfile.crc32(crc_of))
                struct.pack_into("<L", data, local + 14, zipfile.crc32(crc_of))
            if encrypted:
                struct.pack_into("<H", data, offset + 8, fields[3] | 0x1)
                struct.pack_into("<H", data, local + 6, fields[3] | 0x1)
        offset += 46 + name_length + extra_length + comment_length
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """The issue's bomb: a member of 150 MB of zeros whose crate entry declares ``contentSize: 10``."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.eln"
    zeros = hashlib.sha256(bytes(10)).hexdigest()
    return write_eln(path, crate(entity("zeros.bin", contentSize=10, sha256=zeros)), {"zeros.bin": BOMB_BYTES})


@pytest.fixture
def dest(tmp_path) -> Path:
    folder = tmp_path / "projects"
    folder.mkdir()
    return folder


def refused_import(how: str, eln: Path, dest: Path, capsys) -> str:
    """Import ``eln`` the API's or the command line's way; assert exit 2 and nothing left; return the message."""
    if how == "api":
        with pytest.raises(UserError) as caught:
            import_eln(eln, dest)
        message = str(caught.value)
    else:
        assert cli.main(["import-eln", str(eln), "--dest", str(dest)]) == EXIT_USER
        message = capsys.readouterr().err
        assert "This is a bug" not in message
    assert list(dest.iterdir()) == []  # no project, and no hidden staging folder either
    return message


def peak_memory(action: Callable[[], Any]) -> int:
    """The most memory ``action`` allocated (tracemalloc's peak), its UserError ignored."""
    tracemalloc.start()
    try:
        try:
            action()
        except UserError:
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- .eln import: sizes, ratios, members ------------------------------------------------------

@pytest.mark.parametrize("how", WAYS)
def test_a_zip_bomb_declaring_ten_bytes_is_refused_before_a_byte_is_written(how, bomb, dest, capsys):
    assert bomb.stat().st_size < 1 << 20  # a small file...
    message = refused_import(how, bomb, dest, capsys)
    # ...whose member holds 150 MB where its crate entry declares 10
    assert f"{TOP}/{FOLDER}/zeros.bin is {BOMB_BYTES:,} bytes in the zip" in message
    assert "contentSize" in message and "declares 10" in message and str(bomb) in message


def test_importing_the_zip_bomb_takes_bounded_memory(bomb, dest):
    assert peak_memory(lambda: import_eln(bomb, dest)) < MEMORY_CAP
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize("how", WAYS)
def test_a_zip_bomb_declaring_its_true_size_is_refused_by_the_ratio_cap(how, tmp_path, dest, capsys):
    zeros = hashlib.sha256(bytes(BOMB_BYTES)).hexdigest()
    eln = write_eln(tmp_path / "honest-bomb.eln", crate(entity("zeros.bin", contentSize=BOMB_BYTES, sha256=zeros)),
                    {"zeros.bin": BOMB_BYTES})
    message = refused_import(how, eln, dest, capsys)
    assert f"{unpacking.MAX_RATIO} times its own size" in message and "zeros.bin" in message


@pytest.mark.parametrize("how", WAYS)
def test_the_total_uncompressed_cap_holds_for_all_members_together(how, tmp_path, dest, capsys, monkeypatch):
    monkeypatch.setattr(unpacking, "MAX_EXPANDED_BYTES", 1500)
    first, second = b"a" * 1000, b"b" * 1000
    eln = write_eln(tmp_path / "many.eln", crate(entity("first.bin", first), entity("second.bin", second)),
                    {"first.bin": first, "second.bin": second})
    message = refused_import(how, eln, dest, capsys)
    assert "second.bin" in message and "in all" in message


@pytest.mark.parametrize("how", WAYS)
def test_a_member_giving_more_than_its_zip_header_says_is_damage(how, tmp_path, dest, capsys):
    """The zip's own directory lies too (10 bytes): reading stops after them, and the CRC tells the lie."""
    zeros = hashlib.sha256(bytes(10)).hexdigest()
    eln = write_eln(tmp_path / "liar.eln", crate(entity("zeros.bin", contentSize=10, sha256=zeros)),
                    {"zeros.bin": 20 << 20})
    patch_member(eln, f"{TOP}/{FOLDER}/zeros.bin", size=10)
    message = refused_import(how, eln, dest, capsys)
    assert "damaged" in message and str(eln) in message


def test_a_lying_zip_header_with_a_matching_crc_gives_only_what_it_declares(tmp_path, dest):
    """Everything says 10 bytes except the compressed data (20 MB): 10 bytes are imported, no more is read."""
    zeros = hashlib.sha256(bytes(10)).hexdigest()
    eln = write_eln(tmp_path / "liar.eln", crate(entity("zeros.bin", contentSize=10, sha256=zeros)),
                    {"zeros.bin": 20 << 20})
    patch_member(eln, f"{TOP}/{FOLDER}/zeros.bin", size=10, crc_of=bytes(10))
    result = import_eln(eln, dest)
    assert (result.path / "elabftw_import/zeros.bin").read_bytes() == bytes(10)


def test_reading_a_member_stops_as_soon_as_more_than_declared_arrives():
    endless = Zeros(None)
    with pytest.raises(ArchiveLimitError, match="holds more than the 10 bytes declared"):
        read_member(endless, archive="x.zip", member="zeros.bin", size=10)
    assert endless.read_bytes == 11
    with pytest.raises(ArchiveLimitError, match="holds 5 bytes, not the 10"):
        read_member(io.BytesIO(bytes(5)), archive="x.zip", member="short.bin", size=10)


def test_the_expansion_budget_counts_declared_and_given_bytes_against_its_limit():
    budget = ExpansionBudget("x.zip", 1000, max_total=1 << 40, max_ratio=200, ratio_free=0)
    assert budget.limit == 200_000
    budget.admit("a", 150_000)
    budget.take("a", 150_000)
    with pytest.raises(ArchiveLimitError, match="200 times its own size"):
        budget.admit("b", 60_000)
    with pytest.raises(ArchiveLimitError, match="x.zip: refused at c"):
        budget.take("c", 60_000)


@pytest.mark.parametrize("how", WAYS)
def test_a_crate_metadata_file_declaring_a_gigabyte_is_refused_before_it_is_read(how, tmp_path, dest, capsys):
    eln = write_eln(tmp_path / "huge-crate.eln", crate())
    patch_member(eln, f"{TOP}/ro-crate-metadata.json", size=1 << 30)
    message = refused_import(how, eln, dest, capsys)
    assert f"{TOP}/ro-crate-metadata.json is 1,073,741,824 bytes" in message
    if how == "api":
        assert peak_memory(lambda: import_eln(eln, dest)) < MEMORY_CAP


@pytest.mark.parametrize("how", WAYS)
def test_crate_metadata_over_the_cap_set_in_the_module_is_refused(how, tmp_path, dest, capsys, monkeypatch):
    monkeypatch.setattr(eln_read, "MAX_CRATE_BYTES", 64 << 10)
    padded = json.dumps(crate()).encode() + b" " * (200 << 10)
    eln = write_eln(tmp_path / "padded.eln", padded)
    message = refused_import(how, eln, dest, capsys)
    assert f"more than the {64 << 10:,} bytes a crate's metadata may have" in message


@pytest.mark.parametrize("how", WAYS)
def test_a_listed_file_missing_from_the_zip_is_an_error(how, tmp_path, dest, capsys):
    eln = write_eln(tmp_path / "missing.eln", crate(entity("data.bin", b"the data"), entity("kept.txt", b"kept")),
                    {"kept.txt": b"kept"})
    message = refused_import(how, eln, dest, capsys)
    assert f"lists the file './{FOLDER}/data.bin'" in message and "does not hold" in message
    assert "ro-crate-metadata.json" in message


def test_a_file_on_the_web_is_no_missing_member(tmp_path, dest):
    web = {"@id": "https://example.org/data.csv", "@type": "File", "name": "data.csv"}
    eln = write_eln(tmp_path / "web.eln", crate(entity("kept.txt", b"kept"), web), {"kept.txt": b"kept"})
    result = import_eln(eln, dest)
    assert (result.path / "elabftw_import/kept.txt").read_bytes() == b"kept"


def deep_graph(levels: int) -> bytes:
    return b'{"@context": "x", "@graph": ' + b"[" * levels + b"]" * levels + b"}"


HOSTILE_CRATES = {
    "graph nested 200k deep": (deep_graph(200_000), "@graph[0][0][0]", "nested more than 64 levels deep"),
    "graph nested 100 deep": (deep_graph(100), "@graph[0][0][0]", "nested more than 64 levels deep"),
    "sha256 a number": (crate(entity("data.bin", contentSize=4, sha256=12345)),
                        f"the file './{FOLDER}/data.bin': sha256 is 12345", "not a SHA-256 checksum"),
    "sha256 too short": (crate(entity("data.bin", contentSize=4, sha256="abc")),
                         f"the file './{FOLDER}/data.bin': sha256 is \"abc\"", "64 hexadecimal digits"),
    "contentSize of 5,000 digits": (json.dumps(crate(entity("data.bin"))).replace(
        '"name": "data.bin"', '"name": "data.bin", "contentSize": ' + "9" * 5000).encode(),
        "@graph[3].contentSize", "a number of 5,000 digits"),
    "contentSize text of 5,000 digits": (crate(entity("data.bin", contentSize="9" * 5000)),
                                         f"the file './{FOLDER}/data.bin': contentSize",
                                         "a number of 5,000 digits, not a size in bytes"),
    "contentSize negative": (crate(entity("data.bin", contentSize=-1)), "contentSize is -1", "not a size in bytes"),
    "contentSize a list": (crate(entity("data.bin", contentSize=[1])), "contentSize is [1]", "not a size in bytes"),
    "not UTF-8": (b'{"@graph": ["\xff"]}', "ro-crate-metadata.json", "is not UTF-8 text"),
    "not JSON": (b'{"@graph": [', "ro-crate-metadata.json", "is not valid JSON"),
}


@pytest.mark.parametrize("how", WAYS)
@pytest.mark.parametrize("case", sorted(HOSTILE_CRATES))
def test_hostile_crate_values_are_exit_2_naming_the_file_and_the_key(case, how, tmp_path, dest, capsys):
    metadata, key, problem = HOSTILE_CRATES[case]
    eln = write_eln(tmp_path / "hostile.eln", metadata, {"data.bin": b"data"})
    message = refused_import(how, eln, dest, capsys)
    assert f"{eln}: " in message and "ro-crate-metadata.json" in message
    assert key in message and problem in message


def symlink_member() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("x")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def folder_member() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("x")
    info.external_attr = (stat.S_IFDIR | 0o755) << 16
    return info


@pytest.mark.parametrize("how", WAYS)
@pytest.mark.parametrize("make, problem", [(symlink_member, "is a symbolic link"),
                                           (zipfile.ZipInfo, "is encrypted"),
                                           (folder_member, "is a folder, not a file")])
def test_only_regular_members_are_imported(make, problem, how, tmp_path, dest, capsys):
    eln = write_eln(tmp_path / "odd.eln", crate(entity("link.txt")), infos={"link.txt": make()})
    if problem == "is encrypted":  # zipfile writes no encrypted member: say it is one
        patch_member(eln, f"{TOP}/{FOLDER}/link.txt", encrypted=True)
    message = refused_import(how, eln, dest, capsys)
    assert f"{TOP}/{FOLDER}/link.txt {problem}; only regular files are imported" in message


@pytest.mark.parametrize("how", WAYS)
@pytest.mark.parametrize("name", [f"{TOP}/../../escape.txt", "/etc/escape.txt", f"{TOP}\\..\\escape.txt"])
def test_member_names_that_leave_the_destination_are_refused(name, how, tmp_path, dest, capsys):
    eln = tmp_path / "escape.eln"
    with zipfile.ZipFile(eln, "w") as archive:
        archive.writestr(f"{TOP}/ro-crate-metadata.json", json.dumps(crate()))
        archive.writestr(name, b"escaped")
    message = refused_import(how, eln, dest, capsys)
    assert "unsafe path in the archive" in message
    assert not (tmp_path / "escape.txt").exists()


@pytest.mark.parametrize("how", WAYS)
def test_a_file_damaged_after_others_were_extracted_leaves_no_project(how, tmp_path, dest, capsys):
    eln = write_eln(tmp_path / "damaged.eln", crate(entity("good.bin", b"good"), entity("bad.bin", b"original")),
                    {"good.bin": b"good", "bad.bin": b"tampered"})  # the size declared, other bytes
    message = refused_import(how, eln, dest, capsys)
    assert "bad.bin: its checksum differs from the sha256" in message


def test_a_sound_eln_is_imported_whole_and_leaves_no_staging_folder(tmp_path, dest):
    eln = write_eln(tmp_path / "sound.eln", crate(entity("data.bin", b"the data")), {"data.bin": b"the data"})
    result = import_eln(eln, dest)
    assert [p.name for p in dest.iterdir()] == [result.path.name]
    assert (result.path / "elabftw_import/data.bin").read_bytes() == b"the data"
    assert result.answers == {"sample_id": "S-042"}
    _, _, [experiment] = read_eln(eln)
    assert experiment.files[0].size == 8 and experiment.files[0].sha256 == hashlib.sha256(b"the data").hexdigest()


def test_an_eln_that_is_a_named_pipe_is_refused_without_waiting(tmp_path, dest):
    fifo = tmp_path / "pipe.eln"
    os.mkfifo(fifo)
    with pytest.raises(InputFileError, match="named pipe"):
        import_eln(fifo, dest)


# --- verify: folders and checksum files -------------------------------------------------------

@pytest.fixture
def checksummed(tmp_path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.txt").write_text("alpha\n")
    write_checksums(folder)
    return folder


def refused_verify(how: str, target: Path, capsys) -> str:
    """Verify ``target`` the API's or the command line's way; assert exit 2; return the message."""
    if how == "api":
        with pytest.raises(UserError) as caught:
            verify(target)
        return str(caught.value)
    assert cli.main(["verify", str(target), "-q"]) == EXIT_USER
    out, err = capsys.readouterr()
    assert "This is a bug" not in err
    return out + err


@pytest.mark.parametrize("how", WAYS)
@pytest.mark.parametrize("name", ["SHA256SUMS", "MD5SUMS"])
def test_a_checksum_file_that_is_a_symlink_outside_is_not_read(name, how, checksummed, tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text("the first line of a secret\n")
    (checksummed / name).unlink()
    (checksummed / name).symlink_to(secret)
    message = refused_verify(how, checksummed, capsys)
    assert f"{checksummed / name} is a symbolic link" in message and "regular file inside the folder" in message
    assert "secret" not in message.replace(str(tmp_path), "")


@pytest.mark.parametrize("how", WAYS)
def test_a_checksum_file_that_is_a_symlink_inside_is_refused_too(how, checksummed, capsys):
    (checksummed / "copy").write_bytes((checksummed / "SHA256SUMS").read_bytes())
    (checksummed / "SHA256SUMS").unlink()
    (checksummed / "SHA256SUMS").symlink_to("copy")
    assert "SHA256SUMS is a symbolic link" in refused_verify(how, checksummed, capsys)


@pytest.mark.parametrize("how", WAYS)
def test_a_folder_that_is_a_symlink_is_refused_saying_so(how, checksummed, tmp_path, capsys):
    link = tmp_path / "looks-like-data"
    link.symlink_to(checksummed)
    message = refused_verify(how, link, capsys)
    assert f"{link} is a symbolic link to a folder ({checksummed})" in message


@pytest.mark.parametrize("how", WAYS)
def test_an_unpacked_archive_folder_that_is_a_symlink_is_refused(how, checksummed, tmp_path, capsys):
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    (unpacked / "data").symlink_to(checksummed)
    assert f"{unpacked / 'data'} is a symbolic link to a folder" in refused_verify(how, unpacked, capsys)


@pytest.mark.parametrize("how", WAYS)
def test_a_checksum_file_that_is_a_named_pipe_is_refused_without_waiting(how, checksummed, capsys):
    (checksummed / "MD5SUMS").unlink()
    os.mkfifo(checksummed / "MD5SUMS")
    assert "not a regular file" in refused_verify(how, checksummed, capsys)


@pytest.mark.parametrize("how", WAYS)
def test_a_checksum_file_over_its_cap_is_refused(how, checksummed, capsys, monkeypatch):
    monkeypatch.setattr(manifest, "MAX_SUMS_BYTES", 100)
    message = refused_verify(how, checksummed, capsys)
    assert "SHA256SUMS" in message and "too large" in message


@pytest.mark.parametrize("how", WAYS)
def test_a_listed_name_through_a_link_to_a_folder_outside_is_refused(how, checksummed, tmp_path, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret\n")
    (checksummed / "link").symlink_to(outside)
    with open(checksummed / "SHA256SUMS", "a") as handle:
        handle.write(f"{'0' * 64}  link/secret.txt\n")
    assert "outside" in refused_verify(how, checksummed, capsys)


def test_listed_names_that_leave_the_folder_are_problems_not_reads(checksummed, capsys):
    with open(checksummed / "SHA256SUMS", "a") as handle:
        handle.write(f"{'0' * 64}  ../secret.txt\n{'0' * 64}  /etc/passwd\n")
    report = verify(checksummed)
    assert report.problems == ["../secret.txt: listed with a path that leaves the folder; not checked",
                               "/etc/passwd: listed with a path that leaves the folder; not checked"]
    assert cli.main(["verify", str(checksummed), "-q"]) == EXIT_FAILED


# --- verify: archives -------------------------------------------------------------------------

def sums_of(files: Mapping[str, bytes]) -> bytes:
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in files.items()).encode()


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("zip-bomb") / "data.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("data/SHA256SUMS", f"{hashlib.sha256(bytes(BOMB_BYTES)).hexdigest()}  zeros.bin\n")
        write_member(archive, "data/zeros.bin", BOMB_BYTES)
    return path


@pytest.fixture(scope="module")
def tar_bomb(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tar-bomb") / "data.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=9) as archive:
        sums = f"{hashlib.sha256(bytes(BOMB_BYTES)).hexdigest()}  zeros.bin\n".encode()
        info = tarfile.TarInfo("data/SHA256SUMS")
        info.size = len(sums)
        archive.addfile(info, io.BytesIO(sums))
        info = tarfile.TarInfo("data/zeros.bin")
        info.size = BOMB_BYTES
        archive.addfile(info, io.BufferedReader(Zeros(BOMB_BYTES)))
    return path


@pytest.mark.parametrize("how", WAYS)
@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_an_archive_bomb_is_refused_by_the_ratio_cap_in_bounded_memory(kind, how, zip_bomb, tar_bomb, capsys):
    archive = zip_bomb if kind == "zip" else tar_bomb
    assert archive.stat().st_size < 1 << 20
    message = refused_verify(how, archive, capsys)
    assert f"{archive}: refused at data/zeros.bin" in message
    assert f"{unpacking.MAX_RATIO} times its own size" in message
    if how == "api":
        assert peak_memory(lambda: verify(archive)) < MEMORY_CAP


@pytest.mark.parametrize("how", WAYS)
def test_a_tar_header_of_gigabytes_is_never_held_in_memory(how, tmp_path, capsys):
    """A pax header tarfile would read whole: the budget cuts the read short."""
    path = tmp_path / "header.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=9) as archive:
        info = tarfile.TarInfo("././@PaxHeader")
        info.type = tarfile.XHDTYPE
        info.size = BOMB_BYTES
        archive.addfile(info, io.BufferedReader(Zeros(BOMB_BYTES)))
    message = refused_verify(how, path, capsys)
    assert f"{path}: the first tar header is larger than 1.0 MB, more than any real one" in message
    if how == "api":
        assert peak_memory(lambda: verify(path)) < MEMORY_CAP


@pytest.mark.parametrize("how", WAYS)
def test_a_zip_declaring_absurd_sizes_is_refused_before_reading(how, tmp_path, capsys):
    path = tmp_path / "absurd.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data/SHA256SUMS", sums_of({"a.txt": b"alpha"}))
        archive.writestr("data/a.txt", b"alpha")
    patch_member(path, "data/a.txt", size=4_000_000_000)
    message = refused_verify(how, path, capsys)
    assert "refused at data/a.txt: the archive declares more than" in message


@pytest.mark.parametrize("how", WAYS)
def test_an_archived_checksum_file_over_its_cap_is_refused(how, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(manifest, "MAX_SUMS_BYTES", 100)
    path = tmp_path / "sums.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data/SHA256SUMS", sums_of({f"{n}.txt": b"x" for n in range(10)}))
    message = refused_verify(how, path, capsys)
    assert "data/SHA256SUMS is larger than 100 bytes" in message


def test_odd_zip_members_are_problems_not_files(tmp_path, capsys):
    path = tmp_path / "odd.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data/SHA256SUMS", sums_of({"a.txt": b"alpha"}))
        archive.writestr("data/a.txt", b"alpha")
        link = symlink_member()
        link.filename = "data/link"
        archive.writestr(link, "/etc/passwd")
        archive.writestr("data/secret.bin", b"ciphertext")
    patch_member(path, "data/secret.bin", encrypted=True)
    report = verify(path)
    assert report.problems == ["data/link: is a symbolic link; not verified",
                               "data/secret.bin: is encrypted; not verified"]
    assert cli.main(["verify", str(path), "-q"]) == EXIT_FAILED


def test_an_archive_checksum_beside_it_that_is_a_symlink_is_not_read(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.txt").write_text("alpha\n")
    (tmp_path / "out").mkdir()
    result = create_archive(folder, tmp_path / "out", "zip")
    elsewhere = tmp_path / "elsewhere.sha256"
    result.checksum_file.rename(elsewhere)
    result.checksum_file.symlink_to(elsewhere)
    report = verify(result.path)
    assert report.problems == ["data.zip.sha256 is a symbolic link; the archive's checksum must be a regular file "
                               "beside it, so it was not read"]


def test_an_archive_that_is_a_named_pipe_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "pipe.zip"
    os.mkfifo(fifo)
    with pytest.raises(InputFileError, match="named pipe"):
        verify(fifo)




def test_a_tar_member_whose_name_leaves_the_folder_is_a_problem_and_is_read_past(tmp_path):
    path = tmp_path / "escape.tar.gz"
    data = bytes(range(256)) * 8192  # 2 MB: more than a tar header may take, were it skipped as one
    with tarfile.open(path, "w:gz") as archive:
        for name, content in (("data/SHA256SUMS", sums_of({"a.txt": b"alpha"})), ("../evil.bin", data),
                              ("data/a.txt", b"alpha")):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    report = verify(path)
    assert report.problems == ["../evil.bin: archive member with a path that leaves the archive's folder"]
    assert report.checked == 1 and not report.mismatched and not report.missing
