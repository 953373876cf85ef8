"""Verification of a folder or an archive against the checksum files it carries.

:func:`verify` re-checks every listed file with the strongest checksum file present
(``SHA256SUMS``, else ``MD5SUMS``) and lists each mismatch, missing and extra file. Every
other checksum file must list the same files with well-formed checksums; ``md5=True``
recomputes its checksums too (once SHA-256 matches, an MD5 adds no assurance, only
time). An archive's own ``<archive>.sha256`` beside it is checked too. Archive members are
read once, in order, and checksummed as they stream by.

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
import hashlib
import io
import lzma
import os
import re
import stat
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
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
    recomputed: list[str] = field(default_factory=list)
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
            lines.append(f"OK: {self.checked} files verified against {used} in {self.target}{self._how()}")
        else:
            count = len(self.mismatched) + len(self.missing) + len(self.extra) + len(self.problems)
            lines.append(f"FAILED: {count} problem(s) in {self.target} ({self.checked} files checked against {used})"
                         f"{self._how()}")
        return "\n".join(lines)

    def _how(self) -> str:
        """Which checksums were recomputed, when a checksum file's were not."""
        kept = [SUMS_FILES[name] for name in SUMS_FILES if SUMS_FILES[name] in self.checksum_files
                and name not in self.recomputed]
        if not kept or not self.recomputed:
            return ""
        return (f"\n{', '.join(self.recomputed)} recomputed for every file; {', '.join(kept)} checked for the files "
                "it lists and the form of its lines, its checksums not recomputed (--md5 recomputes them too)")


def verify(path: str | os.PathLike[str], *, workers: int | None = None,
           progress: HashProgress | None = None, md5: bool = False) -> VerifyReport:
    """Re-check a folder or an archive (``tar.gz``, ``zip``) against its checksum files.

    Every listed file is re-hashed for the strongest checksum file present (``SHA256SUMS``,
    else ``MD5SUMS``); the other must list the same files with well-formed checksums, and
    ``md5=True`` recomputes it too. Files listed but absent are ``missing``, present but not
    listed are ``extra``. An archive's ``<archive>.sha256`` beside it is checked too. Raises
    InputFileError when there is nothing to verify against.
    """
    target = Path(path)
    if target.is_symlink() and target.is_dir():
        raise InputFileError(f"{path} is a symbolic link to a folder ({os.path.realpath(target)}); give that folder "
                             "itself, so that what is verified is what is named")
    if target.is_dir():
        return _verify_folder(target, workers, progress, md5)
    with open_archive(target) as handle:
        budget = ExpansionBudget(target, os.fstat(handle.fileno()).st_size)
        try:
            if zipfile.is_zipfile(handle):
                report = _verify_members(target, _zip_members(handle, budget), budget, md5)
            else:
                stream = _tar_stream(handle)
                if stream is None:
                    raise InputFileError(f"{path} is neither a folder nor a tar.gz or zip archive")
                report = _verify_members(target, _tar_members(stream, budget), None, md5)
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


def _verify_folder(folder: Path, workers: int | None, progress: HashProgress | None, md5: bool) -> VerifyReport:
    root = _checksum_root(folder)
    report = VerifyReport(folder)
    listed_sums = _expected(root, report)
    expected = _recomputed(listed_sums, md5, report)
    listing = list_files(root, exclude=tuple(SUMS_FILES.values()))
    present = {item.relpath: item for item in listing.files}
    listed = _safe_names(listed_sums, report)
    report.missing = sorted(name for name in listed if name not in present)
    report.extra = sorted(name for name in present if name not in listed)
    to_check = [present[name] for name in sorted(listed) if name in present]
    digests = hash_files(to_check, report.recomputed, workers=workers, progress=progress)
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


def _recomputed(listed: Mapping[str, Mapping[str, str]], md5: bool,
                report: VerifyReport) -> dict[str, Mapping[str, str]]:
    """The checksum lists to recompute (the strongest, or all with ``md5``); the others are checked.

    A list not recomputed must name the same files as the recomputed ones, each with a checksum
    of its algorithm's length; what differs is a problem (a listed file left out of one list,
    or a damaged line, would otherwise go unnoticed).
    """
    chosen = [name for name in ALGORITHMS if name in listed]
    if not md5:
        chosen = chosen[:1]
    report.recomputed = chosen
    names = {name for algorithm in chosen for name in listed[algorithm] if not _unsafe(name)}
    for algorithm, files in listed.items():
        for name in sorted(names - files.keys()):
            report.problems.append(f"{name}: listed in {_others(chosen, algorithm, listed, name)} "
                                   f"but not in {SUMS_FILES[algorithm]}")
        if algorithm in chosen:
            continue
        length = hashlib.new(algorithm).digest_size * 2
        for name in sorted(files):
            if _unsafe(name):
                continue
            if name not in names:
                report.problems.append(f"{name}: listed in {SUMS_FILES[algorithm]} but not in "
                                       f"{', '.join(SUMS_FILES[a] for a in chosen)}")
            elif len(files[name]) != length:
                report.problems.append(f"{name}: {SUMS_FILES[algorithm]} holds a checksum of {len(files[name])} "
                                       f"hex digits; {algorithm} has {length}")
    return {algorithm: listed[algorithm] for algorithm in chosen}


def _others(chosen: list[str], algorithm: str, listed: Mapping[str, Mapping[str, str]], name: str) -> str:
    return ", ".join(SUMS_FILES[a] for a in chosen if a != algorithm and name in listed[a])


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
    """True when ``name`` leaves the folder: absolute, a ``..`` part, a Windows root or drive.

    The same answer as ``PurePosixPath(name)`` gives (``is_absolute()``, ``".." in parts``),
    without building a path object for each of thousands of names.
    """
    return (name.startswith(("/", "\\")) or ".." in name.split("/") or bool(_DRIVE.match(name)))


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


def _verify_members(target: Path, members: Iterator[Member], budget: ExpansionBudget | None,
                    md5: bool = False) -> VerifyReport:
    """Verify an archive's members; ``budget`` counts what they give (None when the stream counts already)."""
    report = VerifyReport(target)
    actual, sums = _read_members(target, members, budget, report, md5)
    prefix, listed_sums = _archived_sums(target, sums, report)
    expected = _recomputed(listed_sums, md5, report)
    start = f"{prefix}/" if prefix else ""
    present = {name[len(start):]: digests for name, digests in actual.items() if name.startswith(start)}
    report.extra = sorted(name for name in actual if not name.startswith(start))
    listed = _safe_names(listed_sums, report)
    report.missing = sorted(name for name in listed if name not in present)
    report.extra += sorted(name for name in present if name not in listed)
    _compare(expected, {name: digests for name, digests in present.items() if name in listed}, report)
    return report


def _read_members(target: Path, members: Iterator[Member], budget: ExpansionBudget | None,
                  report: VerifyReport, md5: bool = False) -> tuple[dict[str, dict[str, str]], dict[str, bytes]]:
    """``({member: checksums}, {checksum file member: content})``; unsafe and odd members are problems.

    Every file member is read to its end, even an unsafe one (its bytes are only counted),
    so that a tar stream moves on to the next header without a skip of its own. Members are
    hashed with every algorithm until a ``SHA256SUMS`` has gone by (metafold's archives put
    their checksum files first), then, unless ``md5``, with SHA-256 alone.
    """
    algorithms: tuple[str, ...] = ALGORITHMS
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
                if not md5 and name.rpartition("/")[2] == SUMS_FILES["sha256"]:
                    algorithms = ("sha256",)
            else:
                actual[name] = read_member(stream, archive=target, member=name, budget=budget,
                                           algorithms=algorithms)
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
