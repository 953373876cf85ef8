"""Reading a dataset's images and key-value pairs: dataset_dataframe against ezomero's per-image calls.

The store is the fake OMERO connection (``metafold_widgets.testing.fake_omero``) with 10,000
images, each with one map annotation of 30 key-value pairs, and a simulated latency of
20 ms per round trip (a server on another site). ``dataset_dataframe`` reads all of it in
two queries per page of 1,000 images. The baseline is ezomero itself, run against the same
fake connection: ``get_image_ids`` once, then per image ``get_map_annotation_ids`` and
``get_map_annotation`` for each of its annotations, the pattern its documentation shows.
ezomero switches to group -1 and back around every call, so one image costs seven round
trips. The baseline is timed on the first ``--baseline-images`` images (default 300) and
extrapolated linearly to all images, which the output says; every image costs the same
calls, so the extrapolation is exact for round trips.

Goal: at least 50x fewer round trips and 20x less time than the baseline.

    .venv-omero/bin/python benchmarks/bench_omero.py [--images N] [--baseline-images N]

Run with another Python (e.g. ``scripts/bench`` uses .venv), it re-runs itself in .venv-omero.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_TRIPS, GOAL_TIME = 50.0, 20.0


def _in_omero_env() -> None:
    """Re-run this script in .venv-omero (set up, with ezomero, if needed) when omero-py is missing."""
    if importlib.util.find_spec("omero") is not None:
        return
    subprocess.run([str(ROOT / "scripts/setup-omero-env"), "bench"], check=True)
    python = ROOT / ".venv-omero/bin/python"
    os.execv(str(python), [str(python), *sys.argv])


def build_store(images: int, pairs: int, latency: float):
    from metafold_widgets.testing.fake_omero import FakeBlitzGateway
    conn = FakeBlitzGateway()
    dataset = conn.add_dataset("benchmark")
    for i in range(images):
        conn.add_image(dataset, f"image_{i:05d}.tif", size=(2048, 2048, 20, 3, 1), physical_size=(0.1, 0.1, 0.5),
                       key_values=[(f"key_{k:02d}", f"value {i}-{k}") for k in range(pairs)])
    conn.latency = latency
    conn.reset_counts()
    return conn, dataset


def ezomero_read(conn, dataset: int, limit: int) -> dict[int, dict]:
    """ezomero's per-image pattern: ids of the dataset's images, then each image's annotations."""
    import ezomero
    table = {}
    for image_id in ezomero.get_image_ids(conn, dataset=dataset)[:limit]:
        values: dict = {}
        for annotation_id in ezomero.get_map_annotation_ids(conn, "Image", image_id):
            values.update(ezomero.get_map_annotation(conn, annotation_id))
        table[image_id] = values
    return table


def main() -> int:
    _in_omero_env()
    import ezomero  # noqa: F401  (installed by scripts/setup-omero-env)

    from metafold_widgets.omero_tables import DEFAULT_PAGE_SIZE, dataset_dataframe
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--pairs", type=int, default=30)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--baseline-images", type=int, default=300)
    parser.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE)
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    sample = min(args.baseline_images, args.images)

    started = time.perf_counter()
    conn, dataset = build_store(args.images, args.pairs, latency)
    print(f"store: {args.images:,} images x {args.pairs} pairs built in {time.perf_counter() - started:.1f} s; "
          f"latency {args.latency_ms:g} ms per round trip; Python {sys.version.split()[0]}")

    started = time.perf_counter()
    frame = dataset_dataframe(conn, dataset, page_size=args.page_size)
    ours_time, ours_trips = time.perf_counter() - started, conn.round_trips
    assert len(frame) == args.images and frame[f"key_{args.pairs - 1:02d}"].notna().all()

    conn.reset_counts()
    started = time.perf_counter()
    table = ezomero_read(conn, dataset, sample)
    sample_time, sample_trips = time.perf_counter() - started, conn.round_trips
    assert len(table) == sample and len(next(iter(table.values()))) == args.pairs
    scale = args.images / sample
    base_time, base_trips = sample_time * scale, sample_trips * scale

    print()
    print(f"{'reading one dataset':<44}{'round trips':>14}{'time (s)':>12}")
    print("-" * 70)
    print(f"{'metafold dataset_dataframe (all images)':<44}{ours_trips:>14,}{ours_time:>12.2f}")
    print(f"{f'ezomero per image, measured ({sample:,} images)':<44}{sample_trips:>14,}{sample_time:>12.2f}")
    print(f"{f'ezomero per image, extrapolated ({args.images:,})':<44}{base_trips:>14,.0f}{base_time:>12.2f}")
    trip_ratio, time_ratio = base_trips / ours_trips, base_time / ours_time
    print()
    print(f"ratio ezomero / metafold: {trip_ratio:,.0f}x round trips, {time_ratio:,.0f}x time "
          f"(ezomero extrapolated linearly from {sample:,} to {args.images:,} images)")
    met = trip_ratio >= GOAL_TRIPS and time_ratio >= GOAL_TIME
    print(f"Goal (>= {GOAL_TRIPS:g}x fewer round trips, >= {GOAL_TIME:g}x less time): {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
