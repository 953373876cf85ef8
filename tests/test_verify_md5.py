"""``verify`` recomputes SHA-256 by default, checks MD5SUMS's listing, and recomputes MD5 with ``--md5``."""
from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from metafold_widgets import cli
from metafold_widgets.errors import EXIT_FAILED, EXIT_OK, EXIT_USER
from metafold_widgets.workflows.archive import create_archive, verify, write_checksums
from metafold_widgets.workflows.publishing import verify as verify_module


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "raw").mkdir(parents=True)
    (root / "a.txt").write_text("alpha\n")
    (root / "raw" / "b.bin").write_bytes(bytes(range(256)) * 50)
    (root / "ünïcode.csv").write_text("x,y\n1,2\n")
    write_checksums(root)
    return root


def rewrite_line(sums: Path, name: str, digest: str | None) -> None:
    """Give ``name`` another checksum in ``sums``, or drop its line (``digest`` None)."""
    lines = []
    for line in sums.read_text(encoding="utf-8").splitlines():
        if line.endswith(f"  {name}"):
            if digest is None:
                continue
            line = f"{digest}  {name}"
        lines.append(line)
    sums.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def run_cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(["verify", *args, "-q"])
    return code, capsys.readouterr().out


def test_default_recomputes_sha256_and_says_md5_was_not(folder, capsys):
    report = verify(folder)
    assert report.ok and report.recomputed == ["sha256"] and report.checked == 4
    assert report.checksum_files == ["SHA256SUMS", "MD5SUMS"]
    code, out = run_cli(str(folder), capsys=capsys)
    assert code == EXIT_OK and "OK: 4 files verified against SHA256SUMS, MD5SUMS" in out
    assert "sha256 recomputed for every file; MD5SUMS checked for the files it lists" in out
    assert "its checksums not recomputed (--md5 recomputes them too)" in out
    assert verify(folder, md5=True).recomputed == ["sha256", "md5"]


def test_a_wrong_md5_is_caught_with_md5_and_only_then(folder, capsys):
    rewrite_line(folder / "MD5SUMS", "a.txt", "0" * 32)
    assert verify(folder).ok  # SHA-256 matches: the file is intact
    report = verify(folder, md5=True)
    assert report.mismatched == [("a.txt", "md5")] and not report.ok
    for flag in ("--md5", "--all"):
        code, out = run_cli(str(folder), flag, capsys=capsys)
        assert code == EXIT_FAILED and "MISMATCH  a.txt (md5)" in out


def test_a_file_left_out_of_md5sums_is_caught_by_default(folder, capsys):
    rewrite_line(folder / "MD5SUMS", "raw/b.bin", None)
    report = verify(folder)
    assert report.problems == ["raw/b.bin: listed in SHA256SUMS but not in MD5SUMS"]
    code, out = run_cli(str(folder), capsys=capsys)
    assert code == EXIT_FAILED and "PROBLEM   raw/b.bin: listed in SHA256SUMS but not in MD5SUMS" in out
    assert verify(folder, md5=True).problems == ["raw/b.bin: listed in SHA256SUMS but not in MD5SUMS"]


def test_a_file_only_md5sums_lists_is_caught(folder):
    with open(folder / "MD5SUMS", "a", encoding="utf-8") as handle:
        handle.write(f"{'0' * 32}  a.txt.bak\n")
    report = verify(folder)
    assert report.problems == ["a.txt.bak: listed in MD5SUMS but not in SHA256SUMS"]
    assert report.missing == ["a.txt.bak"]


def test_an_md5_of_the_wrong_length_is_caught_by_default(folder):
    rewrite_line(folder / "MD5SUMS", "a.txt", "0" * 64)
    assert verify(folder).problems == ["a.txt: MD5SUMS holds a checksum of 64 hex digits; md5 has 32"]
    assert verify(folder, md5=True).mismatched == [("a.txt", "md5")]


def test_a_malformed_md5sums_line_is_refused_by_default(folder, capsys):
    with open(folder / "MD5SUMS", "a", encoding="utf-8") as handle:
        handle.write("not a checksum line\n")
    code = cli.main(["verify", str(folder), "-q"])
    assert code == EXIT_USER and "MD5SUMS:5: is not a checksum line" in capsys.readouterr().err


def test_md5sums_alone_is_recomputed(folder):
    (folder / "SHA256SUMS").unlink()
    assert verify(folder).recomputed == ["md5"]
    rewrite_line(folder / "MD5SUMS", "a.txt", "0" * 32)
    assert verify(folder).mismatched == [("a.txt", "md5")]


def test_an_archive_hashes_its_members_with_sha256_alone_after_sha256sums(folder, tmp_path, monkeypatch):
    result = create_archive(folder, tmp_path, "tar.gz")
    used: list[tuple[str, tuple[str, ...]]] = []
    real = verify_module.read_member

    def recording(stream, **kwargs):
        used.append((kwargs["member"], tuple(kwargs["algorithms"])))
        return real(stream, **kwargs)

    monkeypatch.setattr(verify_module, "read_member", recording)
    assert verify(result.path).ok
    data = {member: algorithms for member, algorithms in used if member != "data/MANIFEST.json"}
    assert data and set(data.values()) == {("sha256",)}
    used.clear()
    assert verify(result.path, md5=True).ok
    assert {algorithms for _, algorithms in used} == {("sha256", "md5")}


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_a_wrong_md5_inside_an_archive_is_caught_with_md5(folder, tmp_path, fmt):
    rewrite_line(folder / "MD5SUMS", "raw/b.bin", "f" * 32)
    if fmt == "zip":
        import zipfile

        path = tmp_path / "data.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for name in ("MANIFEST.json", "SHA256SUMS", "MD5SUMS", "a.txt", "raw/b.bin", "ünïcode.csv"):
                archive.write(folder / name, f"data/{name}")
    else:
        path = tmp_path / "data.tar.gz"
        with tarfile.open(path, "w:gz") as archive:  # MD5SUMS after the data: both are hashed until SHA256SUMS
            for name in ("MANIFEST.json", "a.txt", "MD5SUMS", "raw/b.bin", "SHA256SUMS", "ünïcode.csv"):
                archive.add(folder / name, f"data/{name}")
    assert verify(path).ok
    assert verify(path, md5=True).mismatched == [("raw/b.bin", "md5")]
