"""Time the start-up of the ``metafold`` command line beside the interpreter's own start-up.

Run from the repository root::

    .venv/bin/python benchmarks/bench_cli_startup.py [--runs 20]

Each row is a fresh Python process, run ``--runs`` times interleaved with the others after
one warm-up; the median and the best wall time are printed in milliseconds, then the time
spent importing (``-X importtime``, the best of 5 runs) and the heavy libraries imported.
On a busy machine the best times are the ones to compare. The rows:

* ``python -c pass``: the interpreter alone, the floor nobody can go below;
* ``import metafold_widgets``: the package's public API (templates, validation, plans);
* every command module up front: what a command line that imports all its commands at
  start-up pays (the Session, every workflow and pandas) - the baseline to beat;
* ``import metafold_widgets.cli``, ``metafold --help`` and ``metafold verify FOLDER``
  (a folder of three files and its ``SHA256SUMS``): what users wait for;
* ``metafold scan EMPTY`` (a folder with no project): the start-up of a scan, which
  imports pandas for the table it prints.

This is a script, not a test: it asserts nothing about speed.
"""
from __future__ import annotations

import argparse
import hashlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("pandas", "numpy", "requests", "ipywidgets", "jsonschema", "omero")
EAGER_MODULES = ("metafold_widgets.session", "metafold_widgets.workflows.audit", "metafold_widgets.workflows.batch",
                 "metafold_widgets.workflows.check", "metafold_widgets.workflows.resume",
                 "metafold_widgets.workflows.sync", "metafold_widgets.workflows.create",
                 "metafold_widgets.workflows.archive", "metafold_widgets.workflows.eln",
                 "metafold_widgets.workflows.package", "metafold_widgets.workflows.scan", "pandas")


def metafold_command() -> list[str]:
    """The installed console script beside this Python, else ``python -m metafold_widgets``."""
    script = Path(sys.executable).with_name("metafold")
    if script.is_file():
        return [sys.executable, str(script)]
    found = shutil.which("metafold")
    return [sys.executable, found] if found else [sys.executable, "-m", "metafold_widgets"]


def checksummed_folder(parent: Path) -> Path:
    """A small folder with a ``SHA256SUMS`` that ``metafold verify`` accepts."""
    folder = parent / "data"
    folder.mkdir()
    lines = []
    for number in range(3):
        content = f"file {number}\n".encode() * 100
        (folder / f"file_{number}.txt").write_bytes(content)
        lines.append(f"{hashlib.sha256(content).hexdigest()}  file_{number}.txt\n")
    (folder / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")
    return folder


def heavy_imports(argv: list[str], runs: int = 5) -> tuple[list[str], float]:
    """The heavy top-level packages ``argv`` imports and its import time in ms (the best of ``runs``)."""
    loaded: set[str] = set()
    totals = []
    for _ in range(runs):
        result = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], capture_output=True, text=True,
                                check=False)
        total_us = 0
        for line in result.stderr.splitlines():
            if not line.startswith("import time:") or "|" not in line:
                continue
            self_us, _, name = (part.strip() for part in line[len("import time:"):].split("|"))
            if not self_us.isdigit():
                continue  # the header line
            total_us += int(self_us)
            loaded.add(name.split(".")[0])
        totals.append(total_us / 1000)
    return [name for name in HEAVY if name in loaded], min(totals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="runs per row (default 20)")
    args = parser.parse_args()
    python = sys.executable
    metafold = metafold_command()
    with tempfile.TemporaryDirectory() as temp:
        folder = checksummed_folder(Path(temp))
        empty = Path(temp) / "empty"
        empty.mkdir()
        rows = {
            "python -c pass": [python, "-c", "pass"],
            "import metafold_widgets": [python, "-c", "import metafold_widgets"],
            "every command module up front": [python, "-c", "import " + ", ".join(EAGER_MODULES)],
            "import metafold_widgets.cli": [python, "-c", "import metafold_widgets.cli"],
            "metafold --help": [*metafold, "--help"],
            "metafold verify FOLDER": [*metafold, "verify", str(folder), "-q"],
            "metafold scan EMPTY": [*metafold, "scan", str(empty)],
        }
        times: dict[str, list[float]] = {label: [] for label in rows}
        for argv in rows.values():  # warm-up: page cache, .pyc files
            subprocess.run(argv, capture_output=True, check=True)
        for _ in range(args.runs):
            for label, argv in rows.items():
                start = time.perf_counter()
                subprocess.run(argv, capture_output=True, check=True)
                times[label].append((time.perf_counter() - start) * 1000)
        print(f"Python {sys.version.split()[0]}, {args.runs} runs per row; wall time in ms\n")
        print(f"{'':32} {'median':>8} {'best':>8} {'imports':>8}  heavy libraries imported")
        for label, argv in rows.items():
            heavy, import_ms = heavy_imports(argv)
            print(f"{label:32} {statistics.median(times[label]):8.0f} {min(times[label]):8.0f} "
                  f"{import_ms:8.0f}  {', '.join(heavy) or '-'}")


if __name__ == "__main__":
    main()
