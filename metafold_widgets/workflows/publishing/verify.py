"""Verification of a folder or an archive against the checksum files it carries.

:func:`verify` re-checks every listed file with every checksum file present
(``SHA256SUMS``, ``MD5SUMS``) and lists each mismatch, missing and extra file; an
archive's own ``<archive>.sha256`` beside it is checked too. Archive members are read
once, in order, and checksummed as they stream by.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import re
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, Iterator, Mapping

from ...core.checksums import (
    ALGORITHMS,
    BUFFER_SIZE,
    SUMS_FILES,
    FileProblem,
    HashProgress,
    ListedFile,
    hash_files,
    list_files,
    parse_sums,
)
from ...errors import InputFileError
from .archive import SIDECAR_SUFFIX

_DRIVE = re.compile(r"^[A-Za-z]:")
_DAMAGED = (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, gzip.BadGzipFile)


@dataclass
class VerifyReport:
    """What :func:`verify` found; ``ok`` when every listed file is present and unchanged."""

    target: Path
    checked: int = 0
    checksum_files: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not (self.mismatched or self.missing or self.extra or self.problems)

    def summary(self) -> str:
        """One line per problem, then a verdict, for people."""
        lines = [f"MISMATCH  {path} ({algorithm})" for path, algorithm in self.mismatched]
        lines += [f"MISSING   {path}" for path in self.missing]
        lines += [f"EXTRA     {path}" for path in self.extra]
        lines += [f"PROBLEM   {problem}" for problem in self.problems]
        used = ", ".join(self.checksum_files) or "no checksum file"
        if self.ok:
            lines.append(f"OK: {self.checked} files verified against {used} in {self.target}")
        else:
            count = len(self.mismatched) + len(self.missing) + len(self.extra) + len(self.problems)
            lines.append(f"FAILED: {count} problem(s) in {self.target} ({self.checked} files checked against {used})")
        return "\n".join(lines)


def verify(path: str | os.PathLike[str], *, workers: int | None = None,
           progress: HashProgress | None = None) -> VerifyReport:
    """Re-check a folder or an archive (``tar.gz``, ``zip``) against its checksum files.

    Every listed file is checked with every checksum file present (``SHA256SUMS``,
    ``MD5SUMS``); files listed but absent are ``missing``, present but not listed are
    ``extra``. An archive's ``<archive>.sha256`` beside it is checked too. Raises
    InputFileError when there is nothing to verify against.
    """
    target = Path(path)
    if target.is_dir():
        return _verify_folder(target, workers, progress)
    if not target.is_file():
        raise InputFileError(f"{path} does not exist")
    if zipfile.is_zipfile(target):
        members = _zip_members
    elif _is_tar(target):
        members = _tar_members
    else:
        raise InputFileError(f"{path} is neither a folder nor a tar.gz or zip archive")
    try:
        report = _verify_members(target, members(target))
    except _DAMAGED as exc:
        raise InputFileError(f"{path}: the archive is damaged ({type(exc).__name__}: {exc})") from None
    _check_sidecar(target, report)
    return report


def _verify_folder(folder: Path, workers: int | None, progress: HashProgress | None) -> VerifyReport:
    root = _checksum_root(folder)
    report = VerifyReport(folder)
    expected = _expected(root, report)
    listing = list_files(root, exclude=tuple(SUMS_FILES.values()))
    present = {item.relpath: item for item in listing.files}
    listed = _safe_names(expected, report)
    report.missing = sorted(name for name in listed if name not in present)
    report.extra = sorted(name for name in present if name not in listed)
    to_check = [present[name] for name in sorted(listed) if name in present]
    algorithms = [name for name in ALGORITHMS if name in expected]
    digests = hash_files(to_check, algorithms, workers=workers, progress=progress)
    _compare(expected, {rel: d.digests for rel, d in digests.items()}, report)
    return report


def _checksum_root(folder: Path) -> Path:
    """The folder holding the checksum files: ``folder`` or its single sub-folder (an unpacked archive)."""
    if any((folder / name).is_file() for name in SUMS_FILES.values()):
        return folder
    subfolders = [p for p in folder.iterdir() if p.is_dir()]
    if len(subfolders) == 1 and any((subfolders[0] / name).is_file() for name in SUMS_FILES.values()):
        return subfolders[0]
    raise InputFileError(f"{folder}: no {' or '.join(SUMS_FILES.values())} to verify against")


def _expected(root: Path, report: VerifyReport) -> dict[str, dict[str, str]]:
    expected: dict[str, dict[str, str]] = {}
    for algorithm, name in SUMS_FILES.items():
        path = root / name
        if path.is_file():
            expected[algorithm] = parse_sums(path.read_text(encoding="utf-8", errors="surrogateescape"), str(path))
            report.checksum_files.append(name)
    return expected


def _safe_names(expected: Mapping[str, Mapping[str, str]], report: VerifyReport) -> set[str]:
    """Every listed name that stays inside the folder; the others are reported as problems."""
    names: set[str] = set()
    for listed in expected.values():
        for name in listed:
            if _unsafe(name):
                report.problems.append(f"{name}: listed with a path that leaves the folder; not checked")
            else:
                names.add(name)
    return names


def _unsafe(name: str) -> bool:
    path = PurePosixPath(name)
    return path.is_absolute() or ".." in path.parts or name.startswith("\\") or bool(_DRIVE.match(name))


def _compare(expected: Mapping[str, Mapping[str, str]], actual: Mapping[str, Mapping[str, str]],
             report: VerifyReport) -> None:
    for name in sorted(actual):
        report.checked += 1
        for algorithm, listed in expected.items():
            wanted = listed.get(name)
            if wanted is not None and actual[name].get(algorithm) != wanted:
                report.mismatched.append((name, algorithm))


# Archives: members are read once, in order, and checksummed as they stream by.

Member = tuple[str, str, Any]  # (name, kind: "file" | "dir" | "other", reader factory)


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def _tar_members(path: Path) -> Iterator[Member]:
    with tarfile.open(path, "r|*") as tar:
        for member in tar:
            kind = "file" if member.isfile() else "dir" if member.isdir() else "other"
            yield member.name, kind, (lambda m=member: tar.extractfile(m))


def _zip_members(path: Path) -> Iterator[Member]:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            yield info.filename, "dir" if info.is_dir() else "file", (lambda i=info: archive.open(i))


def _verify_members(target: Path, members: Iterator[Member]) -> VerifyReport:
    report = VerifyReport(target)
    actual, sums = _read_members(members, report)
    prefix, expected = _archived_sums(target, sums, report)
    start = f"{prefix}/" if prefix else ""
    present = {name[len(start):]: digests for name, digests in actual.items() if name.startswith(start)}
    report.extra = sorted(name for name in actual if not name.startswith(start))
    listed = _safe_names(expected, report)
    report.missing = sorted(name for name in listed if name not in present)
    report.extra += sorted(name for name in present if name not in listed)
    _compare(expected, {name: digests for name, digests in present.items() if name in listed}, report)
    return report


def _read_members(members: Iterator[Member],
                  report: VerifyReport) -> tuple[dict[str, dict[str, str]], dict[str, bytes]]:
    """``({member: checksums}, {checksum file member: content})``; unsafe and odd members are problems."""
    actual: dict[str, dict[str, str]] = {}
    sums: dict[str, bytes] = {}
    for raw_name, kind, opener in members:
        name = raw_name[2:] if raw_name.startswith("./") else raw_name
        if _unsafe(name.rstrip("/")):
            report.problems.append(f"{raw_name}: archive member with a path that leaves the archive's folder")
        elif kind == "other":
            report.problems.append(f"{name}: not a regular file (links and devices are not verified)")
        elif kind == "file" and _is_sums_file(name):
            sums[name] = _read_all(opener())
        elif kind == "file":
            actual[name] = _digest_stream(opener())
    return actual, sums


def _is_sums_file(name: str) -> bool:
    parts = name.rstrip("/").split("/")
    return parts[-1] in SUMS_FILES.values() and len(parts) <= 2


def _archived_sums(target: Path, sums: Mapping[str, bytes],
                   report: VerifyReport) -> tuple[str, dict[str, dict[str, str]]]:
    """The folder of the checksum files in the archive and what they list, by algorithm."""
    prefixes = {name.rpartition("/")[0] for name in sums}
    if not sums:
        raise InputFileError(f"{target}: no {' or '.join(SUMS_FILES.values())} inside the archive")
    if len(prefixes) > 1:
        report.problems.append(f"checksum files in several folders ({', '.join(sorted(prefixes))}); using the first")
    prefix = sorted(prefixes)[0]
    expected: dict[str, dict[str, str]] = {}
    for algorithm, file_name in SUMS_FILES.items():
        member = f"{prefix}/{file_name}" if prefix else file_name
        if member in sums:
            expected[algorithm] = parse_sums(sums[member].decode("utf-8", "surrogateescape"), member)
            report.checksum_files.append(file_name)
    return prefix, expected


def _read_all(handle: IO[bytes] | None) -> bytes:
    assert handle is not None
    with handle:
        return handle.read()


def _digest_stream(handle: IO[bytes] | None) -> dict[str, str]:
    assert handle is not None
    hashers = {name: hashlib.new(name) for name in ALGORITHMS}
    with handle:
        while True:
            chunk = handle.read(BUFFER_SIZE)
            if not chunk:
                break
            for hasher in hashers.values():
                hasher.update(chunk)
    return {name: hasher.hexdigest() for name, hasher in hashers.items()}


def _check_sidecar(target: Path, report: VerifyReport) -> None:
    """Check ``<archive>.sha256`` (the archive's own checksum) when it is there."""
    sidecar = target.with_name(target.name + SIDECAR_SUFFIX)
    if not sidecar.is_file():
        return
    try:
        listed = parse_sums(sidecar.read_text(encoding="utf-8"), str(sidecar))
    except FileProblem as exc:
        report.problems.append(str(exc))
        return
    wanted = listed.get(target.name)
    if wanted is None:
        report.problems.append(f"{sidecar.name} does not list {target.name}")
        return
    report.checksum_files.append(sidecar.name)
    actual = hash_files(_single(target), ("sha256",))[target.name].digests["sha256"]
    if actual != wanted:
        report.mismatched.append((target.name, "sha256 of the archive itself"))


def _single(path: Path) -> list[ListedFile]:
    info = path.stat()
    return [ListedFile(path.name, path, info.st_size, info.st_mtime_ns)]
