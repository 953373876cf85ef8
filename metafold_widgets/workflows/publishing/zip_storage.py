"""Which files a zip archive stores as they are instead of compressing them again.

Images, archives and media in compressed formats gain nothing from deflate and cost the
most time in it. A file is stored when its name says it is such a format, or when
samples from its first MiB do not get 5% smaller at level 1 (LZW-compressed TIFFs, random
or encrypted data): the bytes an archive has read when it must choose, so a file is read
once whether the choice is made while archiving (:func:`zip_stores`) or for a folder's
manifest beforehand (:func:`stored_in_zip`, which reads only the samples). Text formats
(tables, notes, code) and small files are always deflated without a sample.
The manifest lists the stored files (``stored_in_zip``), and zip archives follow it.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable

from ...core.checksums import first_span
from .parallel_gzip import default_workers, sample_shrinks, sample_spans, shrinks

COMPRESSED_SUFFIXES = frozenset({
    ".png", ".jpg", ".jpeg", ".jpe", ".gif", ".webp", ".jp2", ".j2k", ".jxl", ".heic", ".heif", ".avif",
    ".zip", ".gz", ".tgz", ".bz2", ".tbz2", ".xz", ".txz", ".zst", ".lz4", ".7z", ".rar", ".eln", ".jar",
    ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".epub",
    ".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".flac",
})
TEXT_SUFFIXES = frozenset({  # formats that always shrink: deflated without a sample
    ".csv", ".tsv", ".txt", ".md", ".json", ".jsonl", ".xml", ".html", ".htm", ".yaml", ".yml", ".log",
    ".py", ".r", ".m", ".ipynb", ".tex", ".bib", ".svg", ".ps", ".eps", ".sql", ".ini", ".cfg",
})
SAMPLED_FROM = 16 << 10   # files at least this big are sampled when their name does not tell


def zip_stores(relpath: str, size: int, first: bytes | memoryview) -> bool:
    """Whether a zip stores this file as it is; ``first``: its first ``first_span(size)`` bytes."""
    verdict = _by_name(relpath, size)
    return not shrinks(first) if verdict is None else verdict


def zip_candidates(files: Iterable[tuple[str, int]]) -> list[str]:
    """The relative paths among ``files`` (``(relpath, size)``) that a zip may store: all but small and text files."""
    return sorted(relpath for relpath, size in files if _by_name(relpath, size) is not False)


def _by_name(relpath: str, size: int) -> bool | None:
    """True/False when the size or the name decides; None when a sample must."""
    if size < SAMPLED_FROM:
        return False
    suffix = os.path.splitext(relpath)[1].lower()
    if suffix in COMPRESSED_SUFFIXES:
        return True
    return False if suffix in TEXT_SUFFIXES else None


def stored_in_zip(root: str | os.PathLike[str], files: Iterable[tuple[str, int]],
                  workers: int | None = None) -> list[str]:
    """The relative paths among ``files`` (``(relpath, size)``) that a zip stores, sorted.

    A file that cannot be read for the sample is deflated (reading it for the archive
    reports the problem properly).
    """
    base = Path(root)
    stored, to_sample = [], []
    for relpath, size in files:
        verdict = _by_name(relpath, size)
        if verdict is None:
            to_sample.append((relpath, size))
        elif verdict:
            stored.append(relpath)
    if to_sample:
        with ThreadPoolExecutor(max_workers=workers or default_workers(),
                                thread_name_prefix="metafold-sample") as pool:
            verdicts = pool.map(lambda item: not _sample_shrinks(base / item[0], item[1]), to_sample, chunksize=32)
            stored += [relpath for (relpath, _), store in zip(to_sample, verdicts) if store]
    return sorted(stored)


def _sample_shrinks(path: Path, size: int) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return True
    try:
        sample = b"".join(os.pread(fd, end - start, start) for start, end in sample_spans(first_span(size)))
    except OSError:
        return True
    finally:
        os.close(fd)
    return sample_shrinks(sample)
