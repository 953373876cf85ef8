"""Time ``metafold package`` and ``metafold verify`` side by side with the shell recipes they replace.

Run from the repository root::

    .venv/bin/python benchmarks/bench_package.py [--runs 5] [--files 3000] [--mb 172]

A temporary project (removed at the end) made from the multi-modal imaging template gets
``--files`` files holding ``--mb`` MB: CSV tables and text (45% of the bytes, 60% of the
files) and images in compressed formats (PNG, JPEG, LZW TIFF: bytes that do not shrink,
55% of the bytes), in the folders the package sorts (raw images, results, figures,
supplementary data). ``--raw-share 0.15`` turns that share of the bytes (taken from the
images) into raw 16-bit TIFFs: noisy pixels, which shrink by half and which gzip -6
compresses slowly. Then, in
one run with a warm page cache, each row in turn, ``--runs`` times:

* the best shell pipeline: ``cp -rl`` + ``find -print0 | xargs -0 -P<CPUs> sha256sum`` +
  ``tar -czf``;
* the tutorial's recipe: ``cp -r`` + ``find -exec md5sum {} \\;`` + ``tar -czf``;
* ``metafold package P --archive tar.gz`` (the command line, start-up included);
* ``find PKG -type f -print0 | xargs -0 md5sum`` and ``metafold verify PKG`` on the package.

Each row prints the median and the best in seconds, and the median CPU time (user +
system, of every process the row ran: what the machine's other load does not change);
the summary gives metafold's median over the baseline's median with the goal. Other
processes on the machine slow every row alike, which is why baselines run in the same
run, interleaved. It asserts nothing.
"""
from __future__ import annotations

import argparse
import array
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from metafold_widgets import create_project, load_template

ANSWERS = {
    "project_identifier": "IMG202501", "experiment_title": "Heat stress", "principal_investigator": "Dr. Ada",
    "enable_elabftw": False, "enable_omero": False, "research_question": "Why?", "experimental_approach": "Look.",
    "sample_type": "Live Cells", "sample_preparation_protocol": "v2", "imaging_modality": "Confocal",
    "microscope_system": "LSM 880", "data_sharing_level": "Group",
}
FOLDERS = ("03_imaging/raw_images/condition_1", "03_imaging/raw_images/condition_2", "03_imaging/raw_images/controls",
           "04_analysis/results", "06_publication/figures", "06_publication/supplementary_data")
METAFOLD = str(Path(sys.executable).with_name("metafold"))


def csv_pool(size: int, rng: random.Random) -> bytes:
    """Measurement tables: ids, conditions and floats with realistic entropy."""
    lines, total, row = [], 0, 0
    while total < size:
        line = (f"{row},cell_{rng.randrange(5000):04d},condition_{rng.randrange(3) + 1},"
                f"{rng.gauss(1200, 150):.3f},{rng.random():.5f},{rng.randrange(65536)},"
                f"{'ok' if rng.random() > 0.05 else 'saturated'}\n")
        lines.append(line)
        total += len(line)
        row += 1
    return "".join(lines).encode()[:size]


def raw_pool(size: int, rng: random.Random) -> bytes:
    """16-bit little-endian pixels: a background of about 1000 with 6 bits of noise."""
    pixels = array.array("H", (1000 + (byte & 0x3F) for byte in rng.randbytes(size // 2)))
    if sys.byteorder == "big":
        pixels.byteswap()
    return pixels.tobytes()


def shares(raw_share: float) -> list[tuple[str, float, float]]:
    """(kind, share of the files, share of the bytes) of each kind of file."""
    raw = [("raw", raw_share / 0.55 * 0.40, raw_share)] if raw_share else []
    return [("csv", 0.60, 0.45), ("compressed", 0.40 - sum(r[1] for r in raw), 0.55 - raw_share), *raw]


def make_project(parent: Path, files: int, megabytes: int, raw_share: float = 0.0) -> tuple[Path, int, int]:
    """The project with its data files; returns (folder, files written, bytes written)."""
    rng = random.Random(17)
    project = create_project(load_template("multi-modal-imaging"), ANSWERS, parent, name="bench_project")
    total_bytes = megabytes * 1_000_000
    pools = {"csv": csv_pool(8 << 20, rng), "compressed": os.urandom(16 << 20),
             "raw": raw_pool(8 << 20, rng) if raw_share else b""}
    suffixes = {"csv": (".csv", ".txt"), "compressed": (".png", ".jpg", ".tif"), "raw": (".tif",)}
    written = count = 0
    for kind, file_share, byte_share in shares(raw_share):
        number = round(files * file_share)
        mean = total_bytes * byte_share / number
        pool = pools[kind]
        for index in range(number):
            size = max(256, int(rng.uniform(0.2, 1.8) * mean))
            start = rng.randrange(len(pool) - size)
            folder = project / FOLDERS[rng.randrange(len(FOLDERS))] / f"series_{index % 10}"
            folder.mkdir(parents=True, exist_ok=True)
            suffix = suffixes[kind][index % len(suffixes[kind])]
            (folder / f"{kind}_{index:05d}{suffix}").write_bytes(pool[start:start + size])
            written += size
            count += 1
    return project, count, written


def shell(command: str, cwd: Path) -> Callable[[], None]:
    def run() -> None:
        subprocess.run(command, shell=True, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return run


def _children_cpu() -> float:
    """CPU seconds (user + system) used so far by the finished child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per row (default 5)")
    parser.add_argument("--files", type=int, default=3000, help="data files (default 3000)")
    parser.add_argument("--mb", type=int, default=172, help="MB of data (default 172)")
    parser.add_argument("--raw-share", type=float, default=0.0, help="share of the bytes in raw 16-bit TIFFs (0-0.55)")
    args = parser.parse_args(argv)
    for tool in ("cp", "find", "xargs", "sha256sum", "md5sum", "tar", "gzip"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed: the shell baselines cannot run", file=sys.stderr)
            return 2
    cpus = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="metafold-bench-package-") as temp:
        root = Path(temp)
        started = time.perf_counter()
        project, files, size = make_project(root, args.files, args.mb, args.raw_share)
        print(f"project: {files} data files, {size / 1e6:.0f} MB, written in {time.perf_counter() - started:.1f} s")
        print(f"Python {platform.python_version()}, {platform.machine()}, {cpus} CPUs, {args.runs} runs per row\n")
        out = root / "out"
        name = project.name
        sums = f"find . -type f -print0 | xargs -0 -P{cpus} sha256sum > ../SHA256SUMS && mv ../SHA256SUMS ."
        rows: dict[str, tuple[Callable[[], None], str]] = {
            "shell: cp -rl + xargs -P sha256sum + tar -czf": (shell(
                f"cp -rl {project} out/pkg && (cd out/pkg && {sums}) && tar -czf out/pkg.tar.gz -C out pkg", root),
                "pipeline"),
            "tutorial: cp -r + find -exec md5sum + tar -czf": (shell(
                f"cp -r {project} out/pkg && (cd out/pkg && find . -type f -exec md5sum {{}} \\; > ../MD5SUMS "
                f"&& mv ../MD5SUMS .) && tar -czf out/pkg.tar.gz -C out pkg", root), "tutorial"),
            "metafold package --archive tar.gz": (shell(
                f"{METAFOLD} package {name} --out out --archive tar.gz --quiet --no-elabftw-export", root), "package"),
        }
        times: dict[str, list[float]] = {label: [] for label in rows}
        verify_times: dict[str, list[float]] = {"find -print0 | xargs -0 md5sum": [], "metafold verify PKG": []}
        cpu: dict[str, list[float]] = {label: [] for label in [*times, *verify_times]}
        shell(f"find {project} -type f -print0 | xargs -0 cat > /dev/null", root)()  # warm the page cache
        for run in range(args.runs + 1):  # the first run warms up and is not counted
            for label, (action, _) in rows.items():
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir()
                began, used = time.perf_counter(), _children_cpu()
                action()
                if run:
                    times[label].append(time.perf_counter() - began)
                    cpu[label].append(_children_cpu() - used)
            package = next(out.glob("*_publication_package"))
            checks = (("find -print0 | xargs -0 md5sum", f"find {package} -type f -print0 | xargs -0 md5sum"),
                      ("metafold verify PKG", f"{METAFOLD} verify {package} --quiet"))
            for label, command in checks:
                began, used = time.perf_counter(), _children_cpu()
                shell(command, root)()
                if run:
                    verify_times[label].append(time.perf_counter() - began)
                    cpu[label].append(_children_cpu() - used)
            archive = next(out.glob("*.tar.gz"))
            if run == 0:
                pipeline = root / "pipeline.tar.gz"
                shell(f"cp -rl {project} out/pkg && tar -czf {pipeline} -C out pkg", root)()
                print(f"archives: metafold {archive.stat().st_size / 1e6:.1f} MB, "
                      f"tar -czf {pipeline.stat().st_size / 1e6:.1f} MB\n")
        width = max(len(label) for label in [*times, *verify_times])
        print(f"{'what'.ljust(width)}  {'median s':>8}  {'best s':>8}  {'cpu s':>8}")
        for label, values in [*times.items(), *verify_times.items()]:
            print(f"{label.ljust(width)}  {statistics.median(values):8.3f}  {min(values):8.3f}  "
                  f"{statistics.median(cpu[label]):8.3f}")
    median = {key: statistics.median(values) for key, values in {**times, **verify_times}.items()}
    ours = median["metafold package --archive tar.gz"]
    print(f"\npackage / shell pipeline: {ours / median['shell: cp -rl + xargs -P sha256sum + tar -czf']:.2f}x"
          "   (goal: <= 0.6x)")
    print(f"package / tutorial's recipe: {ours / median['tutorial: cp -r + find -exec md5sum + tar -czf']:.2f}x"
          "   (goal: <= 0.35x)")
    print(f"verify / xargs md5sum: {median['metafold verify PKG'] / median['find -print0 | xargs -0 md5sum']:.2f}x"
          "   (goal: <= 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
