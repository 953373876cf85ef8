"""Requests and time per created elabFTW experiment, against the fake server on loopback.

Side by side in one run:
- metafold-widgets: one POST with title, body, category, tags and metadata (elabFTW >= 5.2),
  plus /info and the category list once per connection;
- the desktop MetaFold's pattern: create with the title only, then PATCH the body, then
  PATCH the metadata (3 requests, no tags).
Then a 50-experiment batch with 50 ms added latency per request: the desktop pattern,
ours sequentially, and ours with 8 parallel connections.
Run: .venv/bin/python benchmarks/bench_elabftw.py
"""
from __future__ import annotations

import json
import statistics
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import requests

from metafold_widgets import load_template, plan_project
from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.config import ElabftwSettings, Secret
from metafold_widgets.testing.fake_elabftw import EMULATED_RELEASES, WRITE_KEY, FakeElabftw

warnings.simplefilter("ignore")
BATCH = 50
LATENCY = 0.050


def payload() -> dict:
    template = load_template("multi-modal-imaging")
    answers = {"project_identifier": "IMG123456", "experiment_title": "Benchmark", "principal_investigator": "A",
               "elabftw_experiment_type": "Microscopy", "elabftw_tags": "a, b, c", "research_question": "q",
               "experimental_approach": "a", "sample_type": "Live Cells", "sample_preparation_protocol": "p",
               "imaging_modality": "Confocal", "microscope_system": "m", "data_sharing_level": "Group",
               "enable_omero": False}
    return plan_project(template, answers, "/tmp").integrations["elabftw"]["payload"]


def ours(fake: FakeElabftw, spec: dict, count: int, marker: str) -> None:
    with ElabftwClient(ElabftwSettings(fake.url, Secret(WRITE_KEY))) as client:
        for number in range(count):
            client.create_experiment(spec["title"], marker=f"{marker}x{number}", body=spec["body"],
                                     category=spec["category"], tags=spec["tags"], metadata=spec["metadata"])


def desktop(fake: FakeElabftw, spec: dict, count: int) -> None:
    http = requests.Session()
    http.headers["Authorization"] = WRITE_KEY
    for _ in range(count):
        created = http.post(f"{fake.api_url}/experiments", json={"title": spec["title"]})
        experiment = created.headers["Location"].rsplit("/", 1)[-1]
        http.patch(f"{fake.api_url}/experiments/{experiment}", json={"body": spec["body"]})
        http.patch(f"{fake.api_url}/experiments/{experiment}", json={"metadata": json.dumps(spec["metadata"])})


def main() -> None:
    spec = payload()
    print("requests per created experiment (fresh connection, elabFTW 5.6.12 fake)")
    with FakeElabftw() as fake:
        fake.add_category("Microscopy")
        ours(fake, spec, 1, "one")
        first = len(fake.requests_log)
        fake.requests_log.clear()
        ours_many = 10
        ours(fake, spec, ours_many, "ten")
        steady = (len(fake.requests_log) - (first - 1)) / ours_many
        fake.requests_log.clear()
        desktop(fake, spec, 1)
        old = len(fake.requests_log)
    print(f"  metafold-widgets, first experiment (incl. /info and category list): {first} requests, tags included")
    print(f"  metafold-widgets, each further experiment on the same connection:   {steady:.0f} request")
    print(f"  desktop MetaFold pattern:                                            {old} requests, no tags")
    print("\nrequests per created experiment, by elabFTW release (first / each further one)")
    for release in EMULATED_RELEASES:
        with FakeElabftw(version=release) as fake:
            fake.add_category("Microscopy")
            ours(fake, spec, 1, "one")
            first = len(fake.requests_log)
            fake.requests_log.clear()
            ours(fake, spec, 10, "ten")
            further = (len(fake.requests_log) - (first - 1)) / 10
        print(f"  {release:14s} {first} / {further:.0f}")
    print(f"\n{BATCH}-experiment batch, {LATENCY * 1000:.0f} ms added latency per request")
    rows = []
    for label, run in (("desktop pattern, sequential", lambda f: desktop(f, spec, BATCH)),
                       ("metafold-widgets, sequential", lambda f: ours(f, spec, BATCH, "seq")),
                       ("metafold-widgets, 8 connections", lambda f: parallel(f, spec))):
        times = []
        for _ in range(3):
            with FakeElabftw(latency=LATENCY) as fake:
                fake.add_category("Microscopy")
                started = time.perf_counter()
                run(fake)
                times.append(time.perf_counter() - started)
                requests_made = len(fake.requests_log)
                assert len(fake.experiments()) == BATCH
        rows.append((label, statistics.median(times), requests_made))
    base = rows[0][1]
    for label, seconds, count in rows:
        print(f"  {label:34s} {seconds:6.2f} s  {count:4d} requests  {base / seconds:5.1f}x faster than desktop")


def parallel(fake: FakeElabftw, spec: dict) -> None:
    per_worker = BATCH // 8
    counts = [per_worker + (1 if i < BATCH % 8 else 0) for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda args: ours(fake, spec, args[1], f"par{args[0]}"), enumerate(counts)))


if __name__ == "__main__":
    main()
