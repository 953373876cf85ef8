"""The manifest and checksum files that let anyone verify a folder or an archive.

A folder gets three files at its top, written last:

* ``MANIFEST.json``: what (name, description), who (login name, tool), when, file count,
  total size, every file with its size and checksums, and which files zip archives store
  without compressing them again (``stored_in_zip``: already-compressed formats);
* ``SHA256SUMS`` and ``MD5SUMS``: one ``<hex>  <relative path>`` line per file (the
  manifest included, the checksum files themselves not), so ``sha256sum -c SHA256SUMS``
  and ``md5sum -c MD5SUMS`` verify the folder without this product.

Reading them back (:func:`read_sums_file`, :func:`parse_sums_bytes`) trusts nothing: only
a regular file inside the folder is read (never a symbolic link, a pipe or a device), and
at most :data:`MAX_SUMS_BYTES` of it.
"""
from __future__ import annotations

import getpass
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..._version import __version__
from ...core.atomic import write_atomic
from ...core.bounded import read_bytes
from ...core.checksums import (
    ALGORITHMS,
    SUMS_FILES,
    FileDigest,
    HashProgress,
    Listing,
    format_sums,
    hash_bytes,
    hash_files,
    list_files,
    parse_sums,
)
from ...core.record import to_json
from ...core.timestamps import utc_now
from ...errors import InputFileError
from .zip_storage import stored_in_zip, zip_candidates

MANIFEST_FILE = "MANIFEST.json"
MANIFEST_FORMAT = "metafold-manifest"
TRAILER_FILES = (MANIFEST_FILE, *SUMS_FILES.values())
MAX_SUMS_BYTES = 64 << 20  # a checksum file; about 600,000 files listed


@dataclass(frozen=True)
class ChecksummedFolder:
    """A folder with its manifest and checksum files written."""

    path: Path
    file_count: int
    total_size: int
    digests: Mapping[str, FileDigest]
    trailer: Mapping[str, bytes]


def build_trailer(digests: Mapping[str, FileDigest], about: Mapping[str, Any] | None = None,
                  algorithms: Sequence[str] = ALGORITHMS, *, root: str | os.PathLike[str] | None = None,
                  stored: Sequence[str] | None = None, when: str | None = None) -> dict[str, bytes]:
    """The manifest and checksum files (name -> content) for files with these ``digests``.

    ``about`` adds to the manifest: ``name``, ``description``, ``created_by`` (default:
    the login name) and anything else worth keeping (e.g. the project's uid). The manifest
    also lists the files a zip archive stores without compressing them again
    (``stored_in_zip``, see :mod:`.zip_storage`): ``stored`` when given (decided while the
    files were read for an archive), else sampled from the folder's ``root`` when given.
    ``when`` (default: now) is the manifest's time.
    """
    if stored is None and root is not None:
        stored = stored_in_zip(root, ((rel, d.size) for rel, d in digests.items()))
    manifest_bytes = to_json(manifest_data(digests, about, algorithms, stored=stored, when=when)).encode("utf-8")
    manifest_digests = hash_bytes(manifest_bytes, algorithms)
    trailer = {MANIFEST_FILE: manifest_bytes}
    for name in algorithms:
        listed = {rel: d.digests[name] for rel, d in digests.items()}
        listed[MANIFEST_FILE] = manifest_digests[name]
        trailer[SUMS_FILES[name]] = format_sums(listed).encode("utf-8")
    return trailer


def manifest_data(digests: Mapping[str, FileDigest], about: Mapping[str, Any] | None = None,
                  algorithms: Sequence[str] = ALGORITHMS, *, stored: Sequence[str] | None = None,
                  when: str | None = None) -> dict[str, Any]:
    """The manifest's content: what, who, when, file count, total size, every file (and the zip-stored ones)."""
    info = dict(about or {})
    what = {"name": info.pop("name", None), "description": info.pop("description", None), **info}
    who = {"created_by": what.pop("created_by", None) or login_name(), "tool": f"metafold-widgets {__version__}"}
    files = [{"path": rel, "size": d.size, **{name: d.digests[name] for name in algorithms}}
             for rel, d in sorted(digests.items())]
    data = {"format": MANIFEST_FORMAT, "format_version": 1, "what": what, "who": who, "when": when or utc_now(),
            "file_count": len(files), "total_size": sum(d.size for d in digests.values()),
            "checksum_files": {name: SUMS_FILES[name] for name in algorithms},
            "verify": [f"{'sha256sum' if name == 'sha256' else name + 'sum'} -c {SUMS_FILES[name]}"
                       for name in algorithms] + ["metafold verify <this folder or archive>"],
            "files": files}
    if stored is not None:
        data["stored_in_zip"] = sorted(stored)
    return data


def trailer_bound(files: Iterable[tuple[str, int | None]], about: Mapping[str, Any] | None = None,
                  algorithms: Sequence[str] = ALGORITHMS, *, stored: Sequence[str] | None = None,
                  when: str | None = None) -> dict[str, int]:
    """The largest size each trailer file can have for ``files`` (``(relpath, size or None when unknown)``).

    Digests have a fixed length, so only what is not known yet can make the real files
    shorter: unknown sizes (counted as 19 digits) and, unless ``stored`` is given, the
    files zip archives store (counted as every candidate of :func:`.zip_storage.zip_candidates`).
    An archive reserves this room for the trailer before it reads the files.
    """
    items = [(rel, size) for rel, size in files]
    unknown = 10 ** 18
    placeholders = {rel: FileDigest(rel, unknown if size is None else size, 0,
                                    {name: "0" * hashlib.new(name).digest_size * 2 for name in algorithms})
                    for rel, size in items}
    if stored is None:
        stored = zip_candidates((rel, unknown if size is None else size) for rel, size in items)
    trailer = build_trailer(placeholders, about, algorithms, stored=stored, when=when or utc_now())
    return {name: len(content) for name, content in trailer.items()}


def zip_stored_files(trailer: Mapping[str, bytes]) -> list[str] | None:
    """The files a manifest (in ``trailer``) says zip archives store as they are; None when it does not say."""
    content = trailer.get(MANIFEST_FILE)
    if content is None:
        return None
    try:
        stored = json.loads(content).get("stored_in_zip")
    except (ValueError, AttributeError):
        return None
    return [name for name in stored if isinstance(name, str)] if isinstance(stored, list) else None


def checksum_tree(folder: str | os.PathLike[str], *, algorithms: Sequence[str] = ALGORITHMS,
                  workers: int | None = None,
                  progress: HashProgress | None = None) -> tuple[Listing, dict[str, FileDigest]]:
    """List and checksum every file of ``folder`` except its manifest and checksum files."""
    listing = list_files(folder, exclude=TRAILER_FILES)
    return listing, hash_files(listing.files, algorithms, workers=workers, progress=progress)


def write_checksums(folder: str | os.PathLike[str], about: Mapping[str, Any] | None = None, *,
                    digests: Mapping[str, FileDigest] | None = None, algorithms: Sequence[str] = ALGORITHMS,
                    workers: int | None = None, progress: HashProgress | None = None,
                    stored: Sequence[str] | None = None, when: str | None = None) -> ChecksummedFolder:
    """Write ``MANIFEST.json``, ``SHA256SUMS`` and ``MD5SUMS`` into ``folder`` (each atomically).

    ``digests`` (from an earlier pass over the same files) saves hashing them again;
    ``stored`` (the files zip archives store, decided while they were read) saves sampling
    them; ``when`` is the manifest's time (default: now).
    """
    path = Path(folder)
    if digests is None:
        _, digests = checksum_tree(path, algorithms=algorithms, workers=workers, progress=progress)
    trailer = build_trailer(digests, about, algorithms, root=path, stored=stored, when=when)
    for name, content in trailer.items():
        write_atomic(path / name, content)
    return ChecksummedFolder(path, len(digests), sum(d.size for d in digests.values()), dict(digests), trailer)


def login_name() -> str:
    """The user's login name, or ``unknown``."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def read_sums_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """What the checksum file at ``path`` lists (relative path -> hex digest).

    It must be a regular file, not a symbolic link: a link would make a folder verify against
    a file from anywhere (and show its first line). InputFileError when it is a link, a pipe,
    a device or larger than :data:`MAX_SUMS_BYTES`; FileProblem for a line that is no checksum line.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise InputFileError(f"{os.fspath(path)}: checksum file not found") from None
    except OSError as exc:
        raise InputFileError(f"{os.fspath(path)}: cannot be read: {exc.strerror or exc}") from None
    if stat.S_ISLNK(info.st_mode):
        raise InputFileError(f"{os.fspath(path)} is a symbolic link; a checksum file must be a regular file "
                             "inside the folder it verifies, so it was not read")
    # the lstat above names the problem; the no-follow open closes the window after it
    data = read_bytes(path, MAX_SUMS_BYTES, "checksum file", follow_links=False)
    return parse_sums_bytes(data, os.fspath(path))


def parse_sums_bytes(data: bytes, source: str) -> dict[str, str]:
    """What a checksum file's content lists; names that are not UTF-8 are kept byte for byte (surrogateescape)."""
    return parse_sums(data.decode("utf-8", "surrogateescape"), source)
