"""Time checksumming a project folder, side by side with the shell recipes it replaces.

Run from the repository root::

    .venv/bin/python benchmarks/bench_hashing.py [--small 10000] [--large-mb 500] [--runs 3]

A temporary folder (removed at the end) gets ``--small`` small files (1-8 KiB, in 100
sub-folders) and ``--large-mb`` MB of big files (100 MB each). Then, in one run, on the
same files with a warm page cache:

* the tutorial's recipe ``find . -type f -exec md5sum {} \\;`` (one md5sum process per file),
* batched md5sum ``find . -type f -print0 | xargs -0 -P<N> md5sum`` (N = number of CPUs),
  and the same with ``-n 64`` (xargs otherwise packs thousands of names into one md5sum,
  so the big files may all land in one process: smaller batches spread them),
* metafold's ``list_files`` + ``hash_files``, MD5 only (the same work as the two above),
* metafold with SHA-256 and MD5 in one pass (what an archive computes),
* batched ``sha256sum`` + ``md5sum`` (two xargs runs) for that last row.

Each row shows the best and the median of ``--runs`` runs in seconds (the tutorial's
recipe runs once: it is slow), then the goals: at least 8x faster than the tutorial's
recipe and within 1.3x of the faster batched md5sum. This is a script, not a test: it asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from metafold_widgets.core.checksums import hash_files, list_files

LARGE_FILE_MB = 100


def make_files(root: Path, small: int, large_mb: int) -> tuple[int, int]:
    """Write the test files; returns (file count, total bytes)."""
    total = 0
    pool = os.urandom(8192 + 1024 * 1024)
    for index in range(small):
        folder = root / "small" / f"d{index % 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        size = 1024 + (index * 7919) % 7168
        (folder / f"f{index:05d}.dat").write_bytes(pool[index % 8192:index % 8192 + size])
        total += size
    (root / "large").mkdir(exist_ok=True)
    remaining, count = large_mb, 0
    while remaining > 0:
        megabytes = min(LARGE_FILE_MB, remaining)
        with open(root / "large" / f"big{count}.raw", "wb") as handle:
            for _ in range(megabytes):
                handle.write(os.urandom(1024 * 1024))
        total += megabytes * 1024 * 1024
        remaining -= megabytes
        count += 1
    return small + count, total


def shell(command: str, root: Path) -> Callable[[], None]:
    """A runner for a shell command in ``root`` (output discarded)."""
    def run() -> None:
        subprocess.run(command, shell=True, cwd=root, check=True, stdout=subprocess.DEVNULL)
    return run


def metafold(root: Path, algorithms: tuple[str, ...], workers: int | None) -> Callable[[], None]:
    """A runner for metafold's listing + parallel hashing."""
    def run() -> None:
        hash_files(list_files(root).files, algorithms, workers=workers)
    return run


def timed(run: Callable[[], None], runs: int) -> list[float]:
    """Wall-clock seconds of each run."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=10_000, help="number of small files (default 10000)")
    parser.add_argument("--large-mb", type=int, default=500, help="MB of big files (default 500)")
    parser.add_argument("--runs", type=int, default=3, help="runs per row (default 3; tutorial recipe: 1)")
    parser.add_argument("--workers", type=int, default=None, help="metafold threads (default: CPUs + 4)")
    args = parser.parse_args(argv)
    for tool in ("find", "xargs", "md5sum", "sha256sum"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed: the shell baselines cannot run", file=sys.stderr)
            return 2
    cpus = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="metafold-bench-hash-") as temp:
        root = Path(temp)
        start = time.perf_counter()
        files, size = make_files(root, args.small, args.large_mb)
        print(f"{files} files, {size / 1e6:.0f} MB ({args.small} small + {args.large_mb} MB in "
              f"{LARGE_FILE_MB} MB files), written in {time.perf_counter() - start:.1f} s")
        print(f"Python {platform.python_version()}, {platform.machine()}, {cpus} CPUs\n")
        batched_md5 = f"find . -type f -print0 | xargs -0 -P{cpus} md5sum"
        small_batches = f"find . -type f -print0 | xargs -0 -P{cpus} -n 64 md5sum"
        rows: list[tuple[str, Callable[[], None], int]] = [
            ("tutorial: find -exec md5sum {} \\;", shell("find . -type f -exec md5sum {} \\;", root), 1),
            (f"batched: {batched_md5}", shell(batched_md5, root), args.runs),
            (f"batched: {small_batches}", shell(small_batches, root), args.runs),
            ("metafold hash_files, md5", metafold(root, ("md5",), args.workers), args.runs),
            ("metafold hash_files, sha256+md5", metafold(root, ("sha256", "md5"), args.workers), args.runs),
            ("batched sha256sum, then md5sum", shell(
                f"find . -type f -print0 | xargs -0 -P{cpus} sha256sum && " + batched_md5, root), args.runs),
        ]
        shell(batched_md5, root)()  # warm the page cache: every row reads from memory
        results: dict[str, list[float]] = {}
        width = max(len(label) for label, _, _ in rows)
        print(f"{'method'.ljust(width)}  {'best s':>8}  {'median s':>8}  runs")
        for label, run, count in rows:
            results[label] = timed(run, count)
            times = results[label]
            print(f"{label.ljust(width)}  {min(times):8.3f}  {statistics.median(times):8.3f}  {count}", flush=True)
    tutorial = min(results[rows[0][0]])
    batched = min(min(results[rows[1][0]]), min(results[rows[2][0]]))
    ours = min(results[rows[3][0]])
    both = min(results[rows[4][0]])
    both_shell = min(results[rows[5][0]])
    print(f"\nspeed-up over the tutorial's recipe (md5): {tutorial / ours:.1f}x   (goal: >= 8x)")
    print(f"metafold md5 / faster batched md5sum: {ours / batched:.2f}x   (goal: <= 1.3x)")
    print(f"metafold sha256+md5 / batched sha256sum+md5sum: {both / both_shell:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
