"""Batch creation of 100 projects against the fake elabFTW server with 50 ms latency per request.

Side by side in one run: jobs=1 and jobs=8 (each worker has its own connection), the
speed-up, and a duplicate check (every project has exactly one experiment).
Run: .venv/bin/python benchmarks/bench_batch.py
"""
from __future__ import annotations

import re
import tempfile
import time
import warnings

from metafold_widgets import load_template
from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.config import ElabftwSettings, Secret
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_elabftw import WRITE_KEY, FakeElabftw
from metafold_widgets.workflows.batch import create_batch

warnings.simplefilter("ignore")
PROJECTS = 100
LATENCY = 0.050
TEMPLATE = """
id: batch-bench
name: Batch benchmark
project_name: "{sample}"
folders: [raw/images, analysis, results]
fields:
  sample: {type: text, required: true}
  stain: {type: dropdown, options: [DAPI, GFP, mCherry]}
  temperature: {type: number, unit: C}
  notes: {type: textarea}
integrations:
  elabftw: {title: "Sample {sample}"}
  omero: false
"""


def run(jobs: int) -> tuple[float, int, int]:
    template = load_template(TEMPLATE)
    rows = [{"sample": f"S-{n:03d}", "stain": "GFP", "temperature": 37, "notes": "benchmark"} for n in range(PROJECTS)]
    with FakeElabftw(latency=LATENCY) as fake, tempfile.TemporaryDirectory() as dest:
        session = Session(elabftw=ElabftwClient(ElabftwSettings(fake.url, Secret(WRITE_KEY))))
        started = time.perf_counter()
        result = create_batch(session, template, rows, dest, jobs=jobs)
        elapsed = time.perf_counter() - started
        session.close()
        assert result.ok, result.to_dataframe()
        experiments = fake.experiments()
        markers = {re.search(r"metafold[0-9a-f]{32}", e["body"]).group(0) for e in experiments}  # type: ignore[union-attr]
        duplicates = len(experiments) - len(markers)
        return elapsed, len(experiments), duplicates


def main() -> None:
    print(f"{PROJECTS} projects, fake elabFTW with {LATENCY * 1000:.0f} ms per request")
    single = run(1)
    eight = run(8)
    for jobs, (seconds, count, duplicates) in ((1, single), (8, eight)):
        print(f"  jobs={jobs}:  {seconds:6.2f} s   {count} experiments   {duplicates} duplicates")
    print(f"  speed-up jobs=8 vs jobs=1: {single[0] / eight[0]:.1f}x")


if __name__ == "__main__":
    main()
