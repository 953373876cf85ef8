"""Archives with a manifest and checksums that anyone can verify, and their verification.

A folder gets three files at its top, written last:

* ``MANIFEST.json``: what (name, description), who (login name, tool), when, file count,
  total size and every file with its size and checksums;
* ``SHA256SUMS`` and ``MD5SUMS``: one ``<hex>  <relative path>`` line per file (the
  manifest included, the checksum files themselves not), so ``sha256sum -c SHA256SUMS``
  and ``md5sum -c MD5SUMS`` verify the folder without this product.

:func:`create_archive` packs a folder as ``tar.gz`` or ``zip`` with one top folder and the
three files first, and writes ``<archive>.sha256`` beside it (``sha256sum -c`` checks the
archive itself). The archive is written under a temporary name in the target folder and
renamed when complete: a failure (a file that changed, a full disk) never leaves a
partial archive under the final name. Each file is checksummed before it is added and
again while it is added: a file that changes in between is reported, never archived.

:func:`verify` re-checks a folder or an archive and lists every mismatch, missing and
extra file.
"""
from __future__ import annotations

import getpass
import gzip
import hashlib
import io
import os
import re
import secrets
import stat
import tarfile
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, Callable, Iterator, Mapping, Sequence

from .._version import __version__
from ..core.atomic import fsync_dir, rename_no_replace, write_atomic
from ..core.checksums import (ALGORITHMS, BUFFER_SIZE, SUMS_FILES, FileChangedError, FileDigest, FileProblem,
                              HashProgress, ListedFile, Listing, disk_full_error, format_sums, hash_bytes,
                              hash_files, is_disk_full, list_files, parse_sums)
from ..core.record import to_json, utc_now
from ..errors import InputFileError, UserError

MANIFEST_FILE = "MANIFEST.json"
MANIFEST_FORMAT = "metafold-manifest"
TRAILER_FILES = (MANIFEST_FILE, *SUMS_FILES.values())
ARCHIVE_FORMATS = ("tar.gz", "zip")
SIDECAR_SUFFIX = ".sha256"
DEFAULT_COMPRESSLEVEL = 6
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_ZIP64_LIMIT = (1 << 31) - 1
_DRIVE = re.compile(r"^[A-Za-z]:")
_DAMAGED = (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, gzip.BadGzipFile)


class ArchiveExistsError(UserError):
    """The archive (or its checksum file) already exists; it is never overwritten."""


@dataclass(frozen=True)
class ChecksummedFolder:
    """A folder with its manifest and checksum files written."""

    path: Path
    file_count: int
    total_size: int
    digests: Mapping[str, FileDigest]
    trailer: Mapping[str, bytes]


@dataclass(frozen=True)
class ArchiveResult:
    """A finished archive: where, which format, what it holds and its own SHA-256."""

    path: Path
    format: str
    file_count: int
    total_size: int
    sha256: str
    checksum_file: Path


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


# --- manifest and checksum files --------------------------------------------------------

def build_trailer(digests: Mapping[str, FileDigest], about: Mapping[str, Any] | None = None,
                  algorithms: Sequence[str] = ALGORITHMS) -> dict[str, bytes]:
    """The manifest and checksum files (name -> content) for files with these ``digests``.

    ``about`` adds to the manifest: ``name``, ``description``, ``created_by`` (default:
    the login name) and anything else worth keeping (e.g. the project's uid).
    """
    manifest = manifest_data(digests, about, algorithms)
    manifest_bytes = to_json(manifest).encode("utf-8")
    manifest_digests = hash_bytes(manifest_bytes, algorithms)
    trailer = {MANIFEST_FILE: manifest_bytes}
    for name in algorithms:
        listed = {rel: d.digests[name] for rel, d in digests.items()}
        listed[MANIFEST_FILE] = manifest_digests[name]
        trailer[SUMS_FILES[name]] = format_sums(listed).encode("utf-8")
    return trailer


def manifest_data(digests: Mapping[str, FileDigest], about: Mapping[str, Any] | None = None,
                  algorithms: Sequence[str] = ALGORITHMS) -> dict[str, Any]:
    """The manifest's content: what, who, when, file count, total size and every file."""
    info = dict(about or {})
    what = {"name": info.pop("name", None), "description": info.pop("description", None), **info}
    who = {"created_by": what.pop("created_by", None) or _login_name(), "tool": f"metafold-widgets {__version__}"}
    files = [{"path": rel, "size": d.size, **{name: d.digests[name] for name in algorithms}}
             for rel, d in sorted(digests.items())]
    return {"format": MANIFEST_FORMAT, "format_version": 1, "what": what, "who": who, "when": utc_now(),
            "file_count": len(files), "total_size": sum(d.size for d in digests.values()),
            "checksum_files": {name: SUMS_FILES[name] for name in algorithms},
            "verify": [f"{'sha256sum' if name == 'sha256' else name + 'sum'} -c {SUMS_FILES[name]}"
                       for name in algorithms] + ["metafold verify <this folder or archive>"],
            "files": files}


def checksum_tree(folder: str | os.PathLike[str], *, algorithms: Sequence[str] = ALGORITHMS,
                  workers: int | None = None,
                  progress: HashProgress | None = None) -> tuple[Listing, dict[str, FileDigest]]:
    """List and checksum every file of ``folder`` except its manifest and checksum files."""
    listing = list_files(folder, exclude=TRAILER_FILES)
    return listing, hash_files(listing.files, algorithms, workers=workers, progress=progress)


def write_checksums(folder: str | os.PathLike[str], about: Mapping[str, Any] | None = None, *,
                    digests: Mapping[str, FileDigest] | None = None, algorithms: Sequence[str] = ALGORITHMS,
                    workers: int | None = None, progress: HashProgress | None = None) -> ChecksummedFolder:
    """Write ``MANIFEST.json``, ``SHA256SUMS`` and ``MD5SUMS`` into ``folder`` (each atomically).

    ``digests`` (from an earlier pass over the same files) saves hashing them again.
    """
    path = Path(folder)
    if digests is None:
        _, digests = checksum_tree(path, algorithms=algorithms, workers=workers, progress=progress)
    trailer = build_trailer(digests, about, algorithms)
    for name, content in trailer.items():
        try:
            write_atomic(path / name, content)
        except OSError as exc:
            if is_disk_full(exc):
                raise disk_full_error(path / name) from None
            raise
    return ChecksummedFolder(path, len(digests), sum(d.size for d in digests.values()), dict(digests), trailer)


# --- creating archives ------------------------------------------------------------------

def archive_path(folder: str | os.PathLike[str], fmt: str, dest: str | os.PathLike[str] | None = None) -> Path:
    """Where :func:`create_archive` puts the archive of ``folder``: ``<dest>/<folder name>.<fmt>``."""
    source = Path(folder)
    return Path(dest if dest is not None else source.resolve().parent) / f"{source.resolve().name}.{fmt}"


def create_archive(folder: str | os.PathLike[str], dest: str | os.PathLike[str] | None = None,
                   fmt: str = "tar.gz", *, about: Mapping[str, Any] | None = None,
                   digests: Mapping[str, FileDigest] | None = None, trailer: Mapping[str, bytes] | None = None,
                   algorithms: Sequence[str] = ALGORITHMS, workers: int | None = None,
                   progress: HashProgress | None = None,
                   compresslevel: int = DEFAULT_COMPRESSLEVEL) -> ArchiveResult:
    """Pack ``folder`` into ``<dest>/<folder name>.tar.gz`` (or ``.zip``) with manifest and checksums.

    ``dest`` defaults to the folder's parent. ``digests`` and ``trailer`` (from
    :func:`write_checksums` on the same, unchanged files) save hashing everything again.
    Raises ArchiveExistsError, FileProblem (changed, unreadable, unsafe link) or
    DiskFullError; nothing is left under the final name when it fails.
    """
    if fmt not in ARCHIVE_FORMATS:
        raise UserError(f"unknown archive format '{fmt}' (choose {' or '.join(ARCHIVE_FORMATS)})")
    source = Path(folder)
    if not source.is_dir():
        raise UserError(f"{folder} is not a folder")
    target = archive_path(source, fmt, dest)
    sidecar = target.with_name(target.name + SIDECAR_SUFFIX)
    if not target.parent.is_dir():
        raise UserError(f"folder {target.parent} does not exist")
    for existing in (target, sidecar):
        if existing.exists() or existing.is_symlink():
            raise ArchiveExistsError(f"{existing} already exists; move it away or choose another --out folder")
    listing = list_files(source, exclude=TRAILER_FILES)
    if digests is None or not _same_files(listing, digests):
        digests, trailer = hash_files(listing.files, algorithms, workers=workers, progress=progress), None
    if trailer is None:
        trailer = build_trailer(digests, {"name": source.resolve().name, **(about or {})}, algorithms)
    top = source.resolve().name
    digest = _write_archive(target, fmt, top, listing, digests, trailer, compresslevel, progress)
    try:
        write_atomic(sidecar, f"{digest}  {target.name}\n")
    except BaseException as exc:
        target.unlink(missing_ok=True)  # an archive without its checksum file is not finished
        if isinstance(exc, OSError) and is_disk_full(exc):
            raise disk_full_error(sidecar) from None
        raise
    return ArchiveResult(target, fmt, len(digests), sum(d.size for d in digests.values()), digest, sidecar)


def _same_files(listing: Listing, digests: Mapping[str, FileDigest]) -> bool:
    if len(listing.files) != len(digests):
        return False
    for item in listing.files:
        known = digests.get(item.relpath)
        if known is None or known.size != item.size or known.mtime_ns != item.mtime_ns:
            return False
    return True


class _Sink(io.RawIOBase):
    """The archive's bytes go to a file descriptor through ``os.write``, hashed on the way."""

    def __init__(self, fd: int):
        super().__init__()
        self.fd = fd
        self.position = 0
        self.sha256 = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self.sha256.update(view)
        size = len(view)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
        self.position += size
        return size

    def tell(self) -> int:
        return self.position


def _write_archive(target: Path, fmt: str, top: str, listing: Listing, digests: Mapping[str, FileDigest],
                   trailer: Mapping[str, bytes], compresslevel: int, progress: HashProgress | None) -> str:
    """Write the archive under a temporary name, then rename it; returns its SHA-256."""
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    sink = _Sink(fd)
    writer = (_TarWriter if fmt == "tar.gz" else _ZipWriter)(sink, top, compresslevel)
    try:
        try:
            writer.write_all(listing, digests, trailer, progress)
        except BaseException:
            writer.abort()  # no end record written later, by a finalizer, to a closed descriptor
            raise
        os.fsync(fd)
        os.close(fd)
        fd = -1
        rename_no_replace(temp, target)
    except BaseException as exc:
        sink.fd = -1
        if fd >= 0:
            os.close(fd)
        temp.unlink(missing_ok=True)
        raise_clear_write_error(exc, target)
        raise
    fsync_dir(target.parent)
    return sink.sha256.hexdigest()


def raise_clear_write_error(exc: BaseException, target: Path) -> None:
    """Turn a failed publish of ``target`` into a clear error (taken name, full disk); else return."""
    if isinstance(exc, FileExistsError):
        raise ArchiveExistsError(f"{target} appeared while it was being written; nothing was replaced") from None
    if isinstance(exc, OSError) and is_disk_full(exc):
        raise disk_full_error(target) from None


class _VerifyingReader:
    """Reads a file for the archive and checksums what was read, to compare with the first pass."""

    def __init__(self, handle: IO[bytes], algorithm: str, on_read: Callable[[int], None]):
        self.handle = handle
        self.hasher = hashlib.new(algorithm)
        self.read_bytes = 0
        self.on_read = on_read

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.hasher.update(data)
        self.read_bytes += len(data)
        self.on_read(len(data))
        return data


class _Writer:
    """What both archive formats share: the order of members and the checks on every file."""

    def __init__(self, sink: _Sink, top: str, compresslevel: int):
        self.sink = sink
        self.top = top
        self.compresslevel = compresslevel

    def write_all(self, listing: Listing, digests: Mapping[str, FileDigest], trailer: Mapping[str, bytes],
                  progress: HashProgress | None) -> None:
        total = sum(d.size for d in digests.values())
        done = 0
        report = progress or (lambda done, total, path: None)
        self.open()
        for name, content in trailer.items():  # first: a reader knows the checksums before the files
            self.add_bytes(f"{self.top}/{name}", content)
        for folder in listing.folders:
            self.add_folder(f"{self.top}/{folder}")
        for item in listing.files:
            digest = digests[item.relpath]

            def advance(count: int, path: str = item.relpath) -> None:
                nonlocal done
                done += count
                report(done, total, path)

            self._add_checked(item, digest, advance)
        self.close()

    def _add_checked(self, item: ListedFile, digest: FileDigest, advance: Callable[[int], None]) -> None:
        algorithm = next(iter(digest.digests))
        try:
            handle = open(os.open(item.path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)),
                          "rb", buffering=BUFFER_SIZE)
        except OSError as exc:
            raise FileChangedError(item.path, f"cannot be opened any more ({exc.strerror or exc}); it changed "
                                              "while the archive was written") from None
        with handle:
            before = os.fstat(handle.fileno())
            _unchanged(item, digest, before)
            reader = _VerifyingReader(handle, algorithm, advance)
            try:
                self.add_file(f"{self.top}/{item.relpath}", digest.size, before, reader)
            except OSError as exc:
                if is_disk_full(exc) or reader.read_bytes == digest.size:
                    raise
                raise FileChangedError(item.path, "became shorter while it was archived; archive again when "
                                                  "nothing writes to the folder") from None
            after = os.fstat(handle.fileno())
            more = handle.read(1)
        _unchanged(item, digest, after)
        if more or reader.hasher.hexdigest() != digest.digests[algorithm]:
            raise FileChangedError(item.path, "changed after it was checksummed (its content differs now); archive "
                                              "again when nothing writes to the folder")

    def open(self) -> None:
        raise NotImplementedError

    def add_bytes(self, name: str, content: bytes) -> None:
        raise NotImplementedError

    def add_folder(self, name: str) -> None:
        raise NotImplementedError

    def add_file(self, name: str, size: int, info: os.stat_result, reader: _VerifyingReader) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        """Drop what is open without writing anything more."""


def _unchanged(item: ListedFile, digest: FileDigest, info: os.stat_result) -> None:
    if info.st_size != digest.size or info.st_mtime_ns != digest.mtime_ns:
        raise FileChangedError(item.path, "changed after it was checksummed (size or modification time differ); "
                                          "archive again when nothing writes to the folder")


class _TarWriter(_Writer):
    def open(self) -> None:
        self.now = int(time.time())
        self.gzip = gzip.GzipFile(filename=f"{self.top}.tar", mode="wb", fileobj=self.sink,
                                  compresslevel=self.compresslevel, mtime=0)
        self.tar = tarfile.open(fileobj=self.gzip, mode="w", format=tarfile.PAX_FORMAT)
        self.tar.copybufsize = BUFFER_SIZE  # type: ignore[attr-defined]

    def _info(self, name: str, kind: bytes, mode: int, mtime: float, size: int = 0) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime, info.size = kind, mode, int(mtime), size
        return info

    def add_bytes(self, name: str, content: bytes) -> None:
        self.tar.addfile(self._info(name, tarfile.REGTYPE, 0o644, self.now, len(content)), io.BytesIO(content))

    def add_folder(self, name: str) -> None:
        self.tar.addfile(self._info(name, tarfile.DIRTYPE, 0o755, self.now))

    def add_file(self, name: str, size: int, info: os.stat_result, reader: _VerifyingReader) -> None:
        mode = stat.S_IMODE(info.st_mode) | 0o400
        self.tar.addfile(self._info(name, tarfile.REGTYPE, mode, info.st_mtime, size), reader)  # type: ignore[arg-type]

    def close(self) -> None:
        self.tar.close()
        self.gzip.close()

    def abort(self) -> None:
        if hasattr(self, "gzip"):
            self.tar.closed = True
            self.gzip.fileobj = None  # type: ignore[assignment]


class _ZipWriter(_Writer):
    def open(self) -> None:
        self.now = time.localtime()[:6]
        self.zip = zipfile.ZipFile(self.sink, "w", compression=zipfile.ZIP_DEFLATED,  # type: ignore[arg-type]
                                   compresslevel=self.compresslevel, allowZip64=True)

    def _info(self, name: str, date_time: tuple[int, ...], mode: int) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=max(tuple(date_time), _ZIP_EPOCH))  # type: ignore[arg-type]
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = (mode & 0xFFFF) << 16
        return info

    def add_bytes(self, name: str, content: bytes) -> None:
        self.zip.writestr(self._info(name, self.now, stat.S_IFREG | 0o644), content)

    def add_folder(self, name: str) -> None:
        info = self._info(name + "/", self.now, stat.S_IFDIR | 0o755)
        info.compress_type = zipfile.ZIP_STORED
        info.external_attr |= 0x10  # MS-DOS directory flag
        self.zip.writestr(info, b"")

    def add_file(self, name: str, size: int, info: os.stat_result, reader: _VerifyingReader) -> None:
        entry = self._info(name, time.localtime(info.st_mtime)[:6], stat.S_IFREG | stat.S_IMODE(info.st_mode) | 0o400)
        entry.file_size = size
        with self.zip.open(entry, "w", force_zip64=size > _ZIP64_LIMIT) as out:
            while True:
                chunk = reader.read(BUFFER_SIZE)
                if not chunk:
                    break
                out.write(chunk)
                if reader.read_bytes > size:
                    raise OSError("file grew while it was archived")
        if reader.read_bytes < size:
            raise OSError("unexpected end of data")

    def close(self) -> None:
        self.zip.close()

    def abort(self) -> None:
        if hasattr(self, "zip"):
            self.zip.fp = None


# --- verifying ----------------------------------------------------------------------------

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
    actual: dict[str, dict[str, str]] = {}
    sums: dict[str, bytes] = {}
    prefixes: set[str] = set()
    for raw_name, kind, opener in members:
        name = raw_name[2:] if raw_name.startswith("./") else raw_name
        if _unsafe(name.rstrip("/")):
            report.problems.append(f"{raw_name}: archive member with a path that leaves the archive's folder")
            continue
        parts = name.rstrip("/").split("/")
        if kind == "dir":
            continue
        if kind != "file":
            report.problems.append(f"{name}: not a regular file (links and devices are not verified)")
            continue
        if parts[-1] in SUMS_FILES.values() and len(parts) <= 2:
            sums[name] = _read_all(opener())
            prefixes.add("/".join(parts[:-1]))
            continue
        actual[name] = _digest_stream(opener())
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
    start = f"{prefix}/" if prefix else ""
    present = {name[len(start):]: digests for name, digests in actual.items() if name.startswith(start)}
    report.extra = sorted(name for name in actual if not name.startswith(start))
    listed = _safe_names(expected, report)
    report.missing = sorted(name for name in listed if name not in present)
    report.extra += sorted(name for name in present if name not in listed)
    _compare(expected, {name: digests for name, digests in present.items() if name in listed}, report)
    return report


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


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def describe_size(size: int) -> str:
    """``1234567`` -> ``1.2 MB`` (decimal units, as file managers show them)."""
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} bytes"  # pragma: no cover
