"""Time ``scan`` against ``find ROOT -name metafold.json`` on a generated tree.

Run from the repository root::

    .venv/bin/python benchmarks/bench_scan.py [--repeat N]

The tree (in a temporary folder, removed afterwards) holds 100,000 files: 1,000 projects
(950 with ``metafold.json``, 50 desktop MetaFold ones with only ``elabftw-metadata.json``)
of 60 files each, three levels deep, beside 35,000 files of shared data nested four
levels deep, a ``node_modules`` and a ``.git``. ``find`` lists every folder; ``scan``
skips project insides and cache folders but also reads each record and builds the
DataFrame. Each is run N times, interleaved, after one warm-up; the medians are printed,
and the ratio of the medians beside its goal. Other processes on the machine slow every
row alike, which is why the baseline runs in the same run, interleaved. This is a script,
not a test: it asserts nothing about speed.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from metafold_widgets import create_project, load_template
from metafold_widgets.workflows.scan import scan

GOAL = 1.2  # scan(root) over find ROOT -name metafold.json, medians
GROUPS, YEARS, PER_FOLDER = 10, 5, 20  # 1,000 projects
DESKTOP_EVERY = 20  # every 20th project is a desktop MetaFold one: 50 of them
FILES_PER_PROJECT = 60
SHARED_DIRS, SHARED_FILES = 350, 100  # 35,000 files outside projects
NODE_FILES, GIT_FILES = 3_000, 2_000
ANSWERS = {
    "project_identifier": "IMG202501", "experiment_title": "Heat stress", "principal_investigator": "Dr. Ada",
    "enable_elabftw": False, "enable_omero": False, "research_question": "Why?", "experimental_approach": "Look.",
    "sample_type": "Live Cells", "sample_preparation_protocol": "v2", "imaging_modality": "Confocal",
    "microscope_system": "LSM 880", "data_sharing_level": "Group",
}


def build_tree(root: Path) -> tuple[int, int]:
    """Write the tree; returns (files, projects)."""
    with tempfile.TemporaryDirectory() as seed_parent:  # one real project, copied 1,000 times
        seed = create_project(load_template("multi-modal-imaging"), ANSWERS, seed_parent, name="seed")
        record = json.loads((seed / "metafold.json").read_text(encoding="utf-8"))
        metadata = (seed / "elabftw-metadata.json").read_text(encoding="utf-8")
    files = projects = 0
    for number in range(GROUPS * YEARS * PER_FOLDER):
        group, rest = divmod(number, YEARS * PER_FOLDER)
        folder = root / f"group_{group:02d}" / f"{2020 + rest // PER_FOLDER}" / f"project_{number:04d}"
        files += _write_project(folder, number, record, metadata)
        projects += 1
    for number in range(SHARED_DIRS):
        folder = root / "shared_data" / f"set_{number % 7}" / f"run_{number % 50}" / f"batch_{number}"
        files += _touch(folder, SHARED_FILES, "image_{}.tif")
    files += _touch(root / "tools" / "node_modules" / "lib", NODE_FILES, "module_{}.js")
    files += _touch(root / ".git" / "objects", GIT_FILES, "object_{}")
    return files, projects


def _write_project(folder: Path, number: int, record: dict[str, Any], metadata: str) -> int:
    (folder / "raw").mkdir(parents=True)
    written = 1
    (folder / "elabftw-metadata.json").write_text(metadata, encoding="utf-8")
    if number % DESKTOP_EVERY:
        copy = {**record, "project": {**record["project"], "name": folder.name, "uid": str(uuid.uuid4()),
                                      "created_at": f"{2020 + number % 5}-{1 + number % 12:02d}-15T10:00:00Z"}}
        (folder / "metafold.json").write_text(json.dumps(copy), encoding="utf-8")
        written += 1
    (folder / "README.md").write_text(f"# {folder.name}\n", encoding="utf-8")
    written += 1
    return written + _touch(folder / "raw", FILES_PER_PROJECT - written, "frame_{}.tif")


def _touch(folder: Path, count: int, pattern: str) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (folder / pattern.format(index)).touch()
    return count


def run_find(root: Path) -> int:
    """``find ROOT -name metafold.json``; returns how many it printed."""
    out = subprocess.run(["find", str(root), "-name", "metafold.json"], check=True, capture_output=True).stdout
    return out.count(b"\n")


def timed(action: Callable[[], Any], timings: list[float]) -> Any:
    """Run ``action``, append its wall time to ``timings``, return its result."""
    started = time.perf_counter()
    result = action()
    timings.append(time.perf_counter() - started)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", "-n", type=int, default=11, help="runs of each (default 11)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="metafold-bench-scan-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        files, projects = build_tree(root)
        print(f"tree: {files} files, {projects} projects, built in {time.perf_counter() - started:.1f} s")
        found, listed = len(scan(root)), run_find(root)  # warm-up: file system caches, imports
        timings: dict[str, list[float]] = {"scan": [], "find": [], "scan sizes": []}
        for _ in range(args.repeat):
            timed(lambda: scan(root), timings["scan"])
            timed(lambda: run_find(root), timings["find"])
            timed(lambda: scan(root, sizes=True), timings["scan sizes"])
    medians = {name: statistics.median(values) for name, values in timings.items()}
    print(f"found: scan {found} projects, find {listed} metafold.json files")
    print(f"{'what':<28}{'median ms':>10}{'min ms':>10}")
    rows = [("scan(root)", "scan"), ("find -name metafold.json", "find"), ("scan(root, sizes=True)", "scan sizes")]
    for label, name in rows:
        print(f"{label:<28}{medians[name] * 1000:>10.1f}{min(timings[name]) * 1000:>10.1f}")
    print(f"ratio scan/find: {medians['scan'] / medians['find']:.2f}x   (goal: <= {GOAL}x)")
    print(f"python {sys.version.split()[0]}, {args.repeat} runs each")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
