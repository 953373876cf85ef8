"""Writing analysis results back to OMERO: annotate_images against the per-image loop.

The store is the fake OMERO connection (``metafold_widgets.testing.fake_omero``) with 10,000
images and a simulated latency of 20 ms per round trip. A results table (one row per image,
four measurement columns) becomes one map annotation per image.

* ours: ``metafold_widgets.omero_analysis.annotate_images``: per batch of 500 images one query
  for their groups, one for earlier results to replace, one delete (only when there are
  any), one ``saveAndReturnArray``;
* baseline: the tutorial's loop, as ezomero's ``post_map_annotation`` does it: per image
  ``conn.getObject("Image", id)``, a ``MapAnnotationWrapper`` with the pairs, and
  ``image.linkAnnotation(annotation)`` (which saves the annotation, then the link). It is
  timed on the first ``--baseline-images`` images (default 300) and extrapolated linearly,
  which the output says; every image costs the same calls.

Goal: at least 50x fewer round trips than the baseline.

    .venv-omero/bin/python benchmarks/bench_omero_annotate.py [--images N] [--baseline-images N]
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
GOAL_TRIPS = 50.0
NAMESPACE = "lab.example.org/analysis/nuclei"


def _in_omero_env() -> None:
    """Re-run this script in .venv-omero (set up if needed) when omero-py is missing."""
    if importlib.util.find_spec("omero") is not None:
        return
    subprocess.run([str(ROOT / "scripts/setup-omero-env")], check=True)
    python = ROOT / ".venv-omero/bin/python"
    os.execv(str(python), [str(python), *sys.argv])


def results_table(image_ids: list[int]):
    import pandas as pd
    return pd.DataFrame({"image_id": image_ids,
                         "nuclei": [20 + i % 17 for i in range(len(image_ids))],
                         "mean_intensity": [100.5 + i % 31 for i in range(len(image_ids))],
                         "area_um2": [1500.25 + i % 7 for i in range(len(image_ids))],
                         "qc": ["pass" if i % 9 else "check" for i in range(len(image_ids))]})


def per_image_loop(conn, table) -> None:
    """The tutorial's loop: one image at a time through omero-py's gateway wrappers."""
    from omero.gateway import MapAnnotationWrapper
    for row in table.to_dict("records"):
        image = conn.getObject("Image", int(row["image_id"]))
        annotation = MapAnnotationWrapper(conn)
        annotation.setNs(NAMESPACE)
        annotation.setValue([[key, str(value)] for key, value in row.items() if key != "image_id"])
        image.linkAnnotation(annotation)


def main() -> int:
    _in_omero_env()
    from metafold_widgets.omero_analysis import annotate_images
    from metafold_widgets.testing.fake_omero import FakeBlitzGateway
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--baseline-images", type=int, default=300)
    args = parser.parse_args()
    sample = min(args.baseline_images, args.images)

    conn = FakeBlitzGateway()
    dataset = conn.add_dataset("benchmark")
    image_ids = [conn.add_image(dataset, f"image_{i:05d}.tif") for i in range(args.images)]
    table = results_table(image_ids)
    conn.latency = args.latency_ms / 1000

    conn.reset_counts()
    started = time.perf_counter()
    result = annotate_images(conn, table, namespace=NAMESPACE)
    ours_time, ours_trips = time.perf_counter() - started, conn.round_trips
    assert result.saved == args.images

    conn.reset_counts()
    started = time.perf_counter()
    rerun = annotate_images(conn, table, namespace=NAMESPACE)  # replaces its own earlier results
    rerun_time, rerun_trips = time.perf_counter() - started, conn.round_trips
    assert rerun.replaced == args.images

    baseline_conn = FakeBlitzGateway()
    baseline_dataset = baseline_conn.add_dataset("baseline")
    baseline_ids = [baseline_conn.add_image(baseline_dataset, f"image_{i:05d}.tif") for i in range(sample)]
    baseline_conn.latency = args.latency_ms / 1000
    baseline_conn.reset_counts()
    started = time.perf_counter()
    per_image_loop(baseline_conn, results_table(baseline_ids))
    sample_time, sample_trips = time.perf_counter() - started, baseline_conn.round_trips
    scale = args.images / sample

    print(f"{args.images:,} images, 4 measurements each, {args.latency_ms:g} ms per round trip; "
          f"Python {sys.version.split()[0]}")
    print(f"{'writing results to OMERO':<48}{'round trips':>14}{'time (s)':>12}")
    print("-" * 74)
    print(f"{'metafold annotate_images':<48}{ours_trips:>14,}{ours_time:>12.2f}")
    print(f"{'metafold annotate_images again (replacing)':<48}{rerun_trips:>14,}{rerun_time:>12.2f}")
    print(f"{f'per-image loop, measured ({sample:,} images)':<48}{sample_trips:>14,}{sample_time:>12.2f}")
    print(f"{f'per-image loop, extrapolated ({args.images:,})':<48}{sample_trips * scale:>14,.0f}"
          f"{sample_time * scale:>12.2f}")
    ratio = sample_trips * scale / ours_trips
    print(f"\nratio per-image / metafold: {ratio:,.0f}x round trips, {sample_time * scale / ours_time:,.0f}x time")
    met = ratio >= GOAL_TRIPS
    print(f"Goal (>= {GOAL_TRIPS:g}x fewer round trips): {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
