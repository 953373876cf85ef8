"""Verification of a folder or an archive against the checksum files it carries.

:func:`verify` re-checks every listed file with every checksum file present
(``SHA256SUMS``, ``MD5SUMS``) and lists each mismatch, missing and extra file; an
archive's own ``<archive>.sha256`` beside it is checked too. Archive members are read
once, in order, and checksummed as they stream by.

What is verified may be hostile. A folder given as a symbolic link is refused (it would
verify some other folder under this one's name); checksum files must be regular files
inside the folder, never links; listed names that leave the folder are problems, not
paths to read. Archives are read within an expansion budget (see :mod:`.unpacking`), so
a zip bomb or a member declaring an absurd size is refused instead of read for hours.
"""
from __future__ import annotations

import bz2
import functools
import gzip
import io
import lzma
import os
import re
import stat
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Callable, Iterator, Mapping

from ...core.bounded import read_bytes
from ...core.checksums import (
    ALGORITHMS,
    SUMS_FILES,
    FileProblem,
    HashProgress,
    ListedFile,
    hash_files,
    list_files,
)
from ...errors import InputFileError
from . import manifest
from .archive import SIDECAR_SUFFIX
from .manifest import parse_sums_bytes, read_sums_file
from .unpacking import (
    ZIP_DAMAGE,
    BudgetedReader,
    ExpansionBudget,
    open_archive,
    read_capped,
    read_member,
    zip_member_problem,
)

_DRIVE = re.compile(r"^[A-Za-z]:")
_DAMAGED = (*ZIP_DAMAGE, tarfile.TarError, lzma.LZMAError, OSError)  # bz2 and gzip say "damaged" with an OSError
MAX_SIDECAR_BYTES = 64 << 10  # <archive>.sha256: one line
MAX_TAR_HEADER_BYTES = 1 << 20  # a tar header with its long names and pax records; real ones take a few kB
TAR_READ_BYTES = 64 << 10  # read-ahead of the tar stream (part of what a header section counts)


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
    if target.is_symlink() and target.is_dir():
        raise InputFileError(f"{path} is a symbolic link to a folder ({os.path.realpath(target)}); give that folder "
                             "itself, so that what is verified is what is named")
    if target.is_dir():
        return _verify_folder(target, workers, progress)
    with open_archive(target) as handle:
        budget = ExpansionBudget(target, os.fstat(handle.fileno()).st_size)
        try:
            if zipfile.is_zipfile(handle):
                report = _verify_members(target, _zip_members(handle, budget), budget)
            else:
                stream = _tar_stream(handle)
                if stream is None:
                    raise InputFileError(f"{path} is neither a folder nor a tar.gz or zip archive")
                report = _verify_members(target, _tar_members(stream, budget), None)
        except _DAMAGED as exc:
            return _damaged(target, f"the archive is damaged ({type(exc).__name__}: {exc})")
    _check_sidecar(target, report)
    return report


def _damaged(target: Path, damage: str) -> VerifyReport:
    """The report on an archive that cannot be read to its end.

    A finding when the archive's own checksum says it changed; else an InputFileError.
    """
    report = VerifyReport(target)
    _check_sidecar(target, report)
    if not report.mismatched:
        raise InputFileError(f"{target}: {damage}")
    report.problems.append(damage)
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
    if _has_sums(folder):
        return folder
    subfolders = [p for p in folder.iterdir() if p.is_dir()]
    if len(subfolders) == 1 and _has_sums(subfolders[0]):
        if subfolders[0].is_symlink():
            raise InputFileError(f"{subfolders[0]} is a symbolic link to a folder ({os.path.realpath(subfolders[0])}); "
                                 "give that folder itself, so that what is verified is what is named")
        return subfolders[0]
    raise InputFileError(f"{folder}: no {' or '.join(SUMS_FILES.values())} to verify against")


def _has_sums(folder: Path) -> bool:
    """True when ``folder`` holds a checksum file (of any kind: a link is refused when it is read)."""
    return any(os.path.lexists(folder / name) for name in SUMS_FILES.values())


def _expected(root: Path, report: VerifyReport) -> dict[str, dict[str, str]]:
    expected: dict[str, dict[str, str]] = {}
    for algorithm, name in SUMS_FILES.items():
        path = root / name
        if os.path.lexists(path):
            expected[algorithm] = read_sums_file(path)
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

Member = tuple[str, str, Callable[[], IO[bytes] | None], str]
"""``(name, kind, opener, problem)``: kind ``file``, ``dir`` or ``other`` (then ``problem`` says why)."""

_DECOMPRESSORS: tuple[tuple[bytes, Callable[[IO[bytes]], io.BufferedIOBase]], ...] = (
    (b"\x1f\x8b", lambda raw: gzip.GzipFile(fileobj=raw, mode="rb")),
    (b"BZh", lambda raw: bz2.BZ2File(raw)),
    (b"\xfd7zXZ\x00", lambda raw: lzma.LZMAFile(raw)),
)


def _tar_stream(handle: IO[bytes]) -> IO[bytes] | io.BufferedIOBase | None:
    """The decompressed tar stream of ``handle`` (gzip, bzip2, xz or none), or None when it holds no tar.

    Only the first header is read to decide: ``tarfile.is_tarfile`` would read the first
    member whole, and a hostile one can be a header of gigabytes.
    """
    handle.seek(0)
    magic = handle.read(6)
    opener = next((open_ for prefix, open_ in _DECOMPRESSORS if magic.startswith(prefix)), None)

    def decompressed() -> IO[bytes] | io.BufferedIOBase:
        handle.seek(0)
        return opener(handle) if opener is not None else handle

    try:
        tarfile.TarInfo.frombuf(decompressed().read(tarfile.BLOCKSIZE), "utf-8", "surrogateescape")
    except (*_DAMAGED, tarfile.HeaderError):
        return None
    return decompressed()


def _tar_members(stream: IO[bytes] | io.BufferedIOBase, budget: ExpansionBudget) -> Iterator[Member]:
    """The members of a tar stream; every byte out of it is counted by ``budget``.

    Headers (with their long names and pax records, which tarfile reads whole) are held to
    :data:`MAX_TAR_HEADER_BYTES` each.
    """
    reader = BudgetedReader(stream, budget)
    reader.limit_section(MAX_TAR_HEADER_BYTES, "the first tar header")
    with tarfile.open(fileobj=io.BufferedReader(reader, TAR_READ_BYTES), mode="r|") as tar:
        while True:
            member = tar.next()
            reader.limit_section(None)
            if member is None:
                return
            reader.member = member.name
            if member.isfile():
                budget.admit(member.name, member.size)
                yield member.name, "file", functools.partial(tar.extractfile, member), ""
            elif member.isdir():
                yield member.name, "dir", (lambda: None), ""
            else:
                yield member.name, "other", (lambda: None), "not a regular file (links and devices are not verified)"
            reader.limit_section(MAX_TAR_HEADER_BYTES, f"the tar header after {member.name}")


def _zip_members(handle: IO[bytes], budget: ExpansionBudget) -> Iterator[Member]:
    """The members of a zip; the sizes they all declare are held to ``budget`` before any is read."""
    with zipfile.ZipFile(handle) as archive:
        infos = archive.infolist()
        for info in infos:
            if not info.is_dir() and zip_member_problem(info) is None:
                budget.admit(info.filename, info.file_size)
        for info in infos:
            problem = zip_member_problem(info)
            if info.is_dir():
                yield info.filename, "dir", (lambda: None), ""
            elif problem:
                yield info.filename, "other", (lambda: None), f"{problem}; not verified"
            else:
                yield info.filename, "file", functools.partial(archive.open, info), ""


def _verify_members(target: Path, members: Iterator[Member], budget: ExpansionBudget | None) -> VerifyReport:
    """Verify an archive's members; ``budget`` counts what they give (None when the stream counts already)."""
    report = VerifyReport(target)
    actual, sums = _read_members(target, members, budget, report)
    prefix, expected = _archived_sums(target, sums, report)
    start = f"{prefix}/" if prefix else ""
    present = {name[len(start):]: digests for name, digests in actual.items() if name.startswith(start)}
    report.extra = sorted(name for name in actual if not name.startswith(start))
    listed = _safe_names(expected, report)
    report.missing = sorted(name for name in listed if name not in present)
    report.extra += sorted(name for name in present if name not in listed)
    _compare(expected, {name: digests for name, digests in present.items() if name in listed}, report)
    return report


def _read_members(target: Path, members: Iterator[Member], budget: ExpansionBudget | None,
                  report: VerifyReport) -> tuple[dict[str, dict[str, str]], dict[str, bytes]]:
    """``({member: checksums}, {checksum file member: content})``; unsafe and odd members are problems.

    Every file member is read to its end, even an unsafe one (its bytes are only counted),
    so that a tar stream moves on to the next header without a skip of its own.
    """
    actual: dict[str, dict[str, str]] = {}
    sums: dict[str, bytes] = {}
    for raw_name, kind, opener, problem in members:
        name = raw_name[2:] if raw_name.startswith("./") else raw_name
        unsafe = _unsafe(name.rstrip("/"))
        if unsafe:
            report.problems.append(f"{raw_name}: archive member with a path that leaves the archive's folder")
        elif kind == "other":
            report.problems.append(f"{name}: {problem}")
        if kind != "file":
            continue
        stream = opener()
        assert stream is not None  # kinds are sorted out before: every "file" opens
        with stream:
            if unsafe:
                read_member(stream, archive=target, member=name, budget=budget, algorithms=())
            elif _is_sums_file(name):
                sums[name] = read_capped(stream, manifest.MAX_SUMS_BYTES, archive=target, member=name,
                                         budget=budget)
            else:
                actual[name] = read_member(stream, archive=target, member=name, budget=budget,
                                           algorithms=ALGORITHMS)
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
            expected[algorithm] = parse_sums_bytes(sums[member], member)
            report.checksum_files.append(file_name)
    return prefix, expected


def _check_sidecar(target: Path, report: VerifyReport) -> None:
    """Check ``<archive>.sha256`` (the archive's own checksum) when it is there: a regular file, not a link."""
    sidecar = target.with_name(target.name + SIDECAR_SUFFIX)
    try:
        info = os.lstat(sidecar)
    except OSError:
        return
    if not stat.S_ISREG(info.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
        report.problems.append(f"{sidecar.name} is {kind}; the archive's checksum must be a regular file beside it, "
                               "so it was not read")
        return
    try:
        listed = parse_sums_bytes(read_bytes(sidecar, MAX_SIDECAR_BYTES, "checksum file"), str(sidecar))
    except (FileProblem, InputFileError) as exc:
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
