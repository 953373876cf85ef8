"""The analysis loop: planes as numpy arrays, measurements, results written back onto the images
and kept with the project."""
from __future__ import annotations

import json
import types

import numpy as np
import pandas as pd
import pytest

from metafold_widgets import load_template
from metafold_widgets.adapters.omero import CLIENT_NS
from metafold_widgets.errors import UserError
from metafold_widgets.omero_analysis import annotate_images, dataset_images, iter_planes, measure_dataset
from metafold_widgets.omero_tables import dataset_dataframe
from metafold_widgets.testing.fake_omero import FakeBlitzGateway
from metafold_widgets.workflows.omero_results import annotate_project_images, results_folder, save_results

NS = "lab.example.org/analysis/nuclei"
OTHER_USER = 7


@pytest.fixture
def conn() -> FakeBlitzGateway:
    return FakeBlitzGateway()


@pytest.fixture
def dataset(conn):
    dataset_id = conn.add_dataset("analysis")
    images = [conn.add_image(dataset_id, f"img_{n}.tif", size=(32, 24, 3, 2, 1), pixels_type=pixels_type)
              for n, pixels_type in enumerate(["uint16", "uint8", "float"])]
    return dataset_id, images


def test_images_with_their_pixels_in_one_query(conn, dataset):
    dataset_id, images = dataset
    conn.reset_counts()
    listed = dataset_images(conn, dataset_id)
    assert conn.round_trips == 1
    assert [i.image_id for i in listed] == images
    assert [(i.size_x, i.size_y, i.size_z, i.size_c, i.size_t) for i in listed] == [(32, 24, 3, 2, 1)] * 3
    assert [i.pixels_type for i in listed] == ["uint16", "uint8", "float"]


def test_planes_are_the_stored_arrays_read_one_at_a_time(conn, dataset):
    dataset_id, images = dataset
    listed = dataset_images(conn, dataset_id)
    conn.reset_counts()
    seen = []
    planes = iter_planes(conn, listed, z=[0, 2], c=[1], progress=lambda done, total, name: seen.append((done, total)))
    assert isinstance(planes, types.GeneratorType)  # nothing read before it is asked for
    assert conn.round_trips == 0
    for image, z, c, t, plane in planes:
        expected = conn.plane(image.image_id, z, c, t)
        assert plane.shape == (24, 32) and np.array_equal(plane, expected)
        assert plane.dtype.isnative
    assert seen[-1] == (6, 6)
    # one store, one setPixelsId per image, one getPlane per plane, one close
    assert conn.round_trips == 1 + 3 + 6 + 1


def test_indexes_an_image_lacks_are_skipped(conn, dataset):
    dataset_id, _ = dataset
    assert len(list(iter_planes(conn, dataset_images(conn, dataset_id), z=[0, 9], c=[5]))) == 0


def test_measure_dataset_gives_one_row_per_plane(conn, dataset):
    dataset_id, images = dataset
    table = measure_dataset(conn, dataset_id, lambda p: {"mean": float(p.mean())}, c=[0])
    assert list(table.columns) == ["image_id", "image_name", "z", "c", "t", "mean"]
    assert len(table) == 3 * 3
    first = table.iloc[0]
    assert first["mean"] == pytest.approx(float(conn.plane(images[0], 0, 0, 0).mean()))


def results(images):
    return pd.DataFrame({"image_id": images, "nuclei": [12, 15, 9], "area": [1.5, 2.25, float("nan")],
                         "note": ["ok", "", "check"]})


def test_results_become_one_annotation_per_image(conn, dataset):
    _, images = dataset
    conn.reset_counts()
    result = annotate_images(conn, results(images), namespace=NS)
    assert (result.images, result.saved, result.replaced) == (3, 3, 0)
    assert conn.round_trips == 3  # image groups, earlier results (none: no delete), one save
    assert conn.pairs("Image", images[0], ns=NS) == [("nuclei", "12"), ("area", "1.5"), ("note", "ok")]
    assert conn.pairs("Image", images[1], ns=NS) == [("nuclei", "15"), ("area", "2.25")]  # empty cells left out
    assert conn.pairs("Image", images[2], ns=NS) == [("nuclei", "9"), ("note", "check")]


def test_a_rerun_replaces_only_our_own_results(conn, dataset):
    _, images = dataset
    theirs = conn.annotate("Image", images[0], [("nuclei", "99")], ns=NS, owner=OTHER_USER)
    mine_elsewhere = conn.annotate("Image", images[0], [("stain", "DAPI")], ns=CLIENT_NS)
    annotate_images(conn, results(images), namespace=NS, columns=["nuclei"])
    conn.reset_counts()
    again = annotate_images(conn, results(images).assign(nuclei=[1, 2, 3]), namespace=NS, columns=["nuclei"])
    assert again.replaced == 3
    assert conn.round_trips == 4  # groups, earlier results, one delete, one save
    annotations = conn.map_annotations("Image", images[0])
    ids = [annotation_id for annotation_id, _, _ in annotations]
    assert theirs in ids and mine_elsewhere in ids
    assert sorted(pairs for _, ns, pairs in annotations if ns == NS) == [[("nuclei", "1")], [("nuclei", "99")]]


def test_big_tables_are_saved_in_batches(conn):
    dataset_id = conn.add_dataset("many")
    images = [conn.add_image(dataset_id, f"i{n}.tif") for n in range(25)]
    conn.reset_counts()
    annotate_images(conn, pd.DataFrame({"image_id": images, "value": range(25)}), namespace=NS, batch_size=10)
    assert conn.round_trips == 3 * 3  # three batches of three calls, never one per image


def test_images_of_two_groups_are_annotated_in_their_own_group(conn):
    first = conn.add_dataset("a", group=3)
    second = conn.add_dataset("b", group=4)
    images = [conn.add_image(first, "a.tif"), conn.add_image(second, "b.tif")]
    annotate_images(conn, pd.DataFrame({"image_id": images, "v": [1, 2]}), namespace=NS)
    assert [conn.group_of("MapAnnotation", a) for _, a in
            [(i, conn.map_annotations("Image", i, ns=NS)[0][0]) for i in images]] == [3, 4]


@pytest.mark.parametrize(("table", "kwargs", "message"), [
    (pd.DataFrame({"id": [1]}), {}, "no 'image_id' column"),
    (pd.DataFrame({"image_id": [1, 1]}), {}, "one row per image"),
    (pd.DataFrame({"image_id": [1, None]}), {}, "empty cells"),
    (pd.DataFrame({"image_id": [1]}), {"columns": ["nope"]}, "no column 'nope'"),
    (pd.DataFrame({"image_id": [1]}), {"namespace": CLIENT_NS}, "namespace of your own"),
    (pd.DataFrame({"image_id": [1]}), {"namespace": ""}, "namespace of your own"),
])
def test_bad_tables_are_refused_before_any_call(conn, table, kwargs, message):
    conn.reset_counts()
    with pytest.raises(ValueError, match=message):
        annotate_images(conn, table, **{"namespace": NS, **kwargs})
    assert conn.round_trips == 0


def test_results_are_kept_with_the_project(conn, dataset, tmp_path):
    from metafold_widgets.session import Session
    from metafold_widgets.workflows import create_project_everywhere
    result = create_project_everywhere(Session(), load_template("basic-experiment"), {
        "experiment_title": "Nuclei", "researcher": "Ada", "aim": "Count nuclei", "create_elabftw_entry": False},
        tmp_path)
    project = result.path
    _, images = dataset
    table = results(images)
    path = save_results(project, table, "nuclei.csv")
    assert path.parent == results_folder(project) and path.parent.name == "results"
    assert pd.read_csv(path)["nuclei"].tolist() == [12, 15, 9]
    with pytest.raises(UserError, match="exists already"):
        save_results(project, table, "nuclei.csv")
    with pytest.raises(UserError, match="ending in .csv"):
        save_results(project, table, "../escape.csv")
    annotate_project_images(conn, project, table, namespace=NS, columns=["nuclei"])
    log = project / json.loads((project / "metafold.json").read_text())["project"]["log"]
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["action"] for e in events[-2:]] == ["save_results", "annotate_images"]
    assert events[-2]["file"].endswith("nuclei.csv") and events[-1]["images"] == 3


def test_the_results_read_back_with_dataset_dataframe(conn, dataset):
    dataset_id, images = dataset
    annotate_images(conn, results(images), namespace=NS)
    table = dataset_dataframe(conn, dataset_id, ns=NS)
    assert table["nuclei"].tolist() == ["12", "15", "9"]
