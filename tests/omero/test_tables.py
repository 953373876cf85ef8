"""Datasets and projects as pandas tables, with a constant number of queries per page."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from metafold_widgets.adapters.omero import CLIENT_NS, ensure_dataset
from metafold_widgets.omero_tables import IMAGE_COLUMNS, dataset_dataframe, metadata_dataframe, project_dataframe

ACQUIRED = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.timezone.utc)


def fill(conn, dataset_id: int, count: int, pairs_per_image: int = 3, start: int = 0) -> list[int]:
    return [conn.add_image(dataset_id, f"img{start + i:03d}.tif", size=(1024, 768, 5, 2, 10),
                           physical_size=(0.2, 0.2, 1.5), acquired=ACQUIRED,
                           key_values=[(f"key{k}", f"v{start + i}-{k}") for k in range(pairs_per_image)])
            for i in range(count)]


def test_one_row_per_image_with_sizes_units_and_one_column_per_key(conn) -> None:
    dataset = conn.add_dataset("D")
    ids = fill(conn, dataset, 3)
    frame = dataset_dataframe(conn, dataset)
    assert list(frame.columns) == [*IMAGE_COLUMNS, "key0", "key1", "key2"]
    assert frame["image_id"].tolist() == ids and frame["image_name"].tolist() == ["img000.tif", "img001.tif",
                                                                                    "img002.tif"]
    row = frame.iloc[1]
    assert (row.size_x, row.size_y, row.size_z, row.size_c, row.size_t) == (1024, 768, 5, 2, 10)
    assert (row.physical_size_x, row.physical_size_x_unit) == (0.2, "µm")
    assert (row.physical_size_z, row.physical_size_z_unit) == (1.5, "µm")
    assert row.acquisition_date == pd.Timestamp(ACQUIRED)
    assert row.key2 == "v1-2"
    assert str(frame["size_x"].dtype) == "Int64" and str(frame["acquisition_date"].dtype) == "datetime64[ns, UTC]"


def test_repeated_keys_are_joined_and_split_values_rejoined(conn) -> None:
    dataset = conn.add_dataset("D")
    long_text = "x" * 1500
    image = conn.add_image(dataset, "a", key_values=[("Stain", "DAPI"), ("Stain", "GFP"), ("Notes", long_text[:1024]),
                                                     ("Notes (2)", long_text[1024:])])
    conn.annotate("Image", image, [("Stain", "Phalloidin"), ("image_id", "typed by a person")])
    row = dataset_dataframe(conn, dataset).iloc[0]
    assert row["Stain"] == "DAPI; GFP; Phalloidin"
    assert row["Notes"] == long_text
    assert row["kv:image_id"] == "typed by a person" and row["image_id"] == image


def test_the_namespace_filter_and_images_without_pairs_or_pixels_sizes(conn) -> None:
    dataset = conn.add_dataset("D")
    tagged = conn.add_image(dataset, "tagged", key_values=[("a", "1")])
    conn.annotate("Image", tagged, [("b", "2")], ns="other.org/ns")
    conn.add_image(dataset, "bare", physical_size=(None, None, None))
    frame = dataset_dataframe(conn, dataset, ns=CLIENT_NS)
    assert list(frame.columns)[len(IMAGE_COLUMNS):] == ["a"]
    bare = frame.iloc[1]
    assert pd.isna(bare["a"]) and pd.isna(bare.physical_size_x) and bare.physical_size_x_unit is None
    assert pd.isna(bare.acquisition_date)
    assert list(dataset_dataframe(conn, dataset).columns)[len(IMAGE_COLUMNS):] == ["a", "b"]


def test_an_empty_or_unknown_dataset_gives_an_empty_table_with_the_columns(conn) -> None:
    frame = dataset_dataframe(conn, conn.add_dataset("empty"))
    assert frame.empty and list(frame.columns) == list(IMAGE_COLUMNS)
    assert dataset_dataframe(conn, 999).empty


@pytest.mark.parametrize("images, page_size, expected", [
    (40, 100, 2),     # one page: the images, then their pairs
    (250, 100, 6),    # three pages, two queries each
    (300, 100, 7),    # a full last page needs one more (empty) page query to know it was the last
])
def test_round_trips_are_a_constant_per_page(conn, images: int, page_size: int, expected: int) -> None:
    dataset = conn.add_dataset("D")
    fill(conn, dataset, images)
    conn.reset_counts()
    frame = dataset_dataframe(conn, dataset, page_size=page_size)
    assert len(frame) == images and frame["image_id"].is_unique
    assert conn.round_trips == expected and set(conn.calls) == {"projection", "findAllByQuery"}


def test_round_trips_do_not_grow_with_the_pairs_per_image(conn) -> None:
    few, many = conn.add_dataset("few"), conn.add_dataset("many")
    fill(conn, few, 50, pairs_per_image=1)
    fill(conn, many, 50, pairs_per_image=40)
    counts = []
    for dataset in (few, many):
        conn.reset_counts()
        dataset_dataframe(conn, dataset, page_size=20)
        counts.append(conn.round_trips)
    assert counts == [6, 6]


def test_project_dataframe_adds_the_dataset_columns(conn) -> None:
    project = conn.add_project("P")
    first, second = conn.add_dataset("first", project), conn.add_dataset("second", project)
    fill(conn, first, 3)
    fill(conn, second, 2, start=3)
    conn.add_image(conn.add_dataset("not in the project"), "stray")
    conn.reset_counts()
    frame = project_dataframe(conn, project, page_size=4)
    assert list(frame.columns[:3]) == ["dataset_id", "dataset_name", "image_id"]
    assert frame["dataset_name"].tolist() == ["first"] * 3 + ["second"] * 2
    assert frame["key0"].tolist() == [f"v{i}-0" for i in range(5)]
    assert conn.round_trips == 4


def test_metadata_dataframe_shows_the_project_metadata(conn) -> None:
    ref = ensure_dataset(conn, "D", uid="u-9", key_values=[("Sample type", "Tissue"), ("Question", "q" * 1100)],
                         provenance={"template_id": "t"})
    frame = metadata_dataframe(conn, "Dataset", ref.dataset_id)
    assert list(frame.columns) == ["namespace", "annotation_id", "key", "value"]
    client = frame[frame.namespace == CLIENT_NS]
    assert client[["key", "value"]].values.tolist() == [["Sample type", "Tissue"], ["Question", "q" * 1100]]
    assert dict(frame[["key", "value"]].values.tolist())["project_uid"] == "u-9"
    assert metadata_dataframe(conn, "Dataset", ref.dataset_id, ns="none").empty


def test_metadata_of_an_unknown_object_type_is_refused(conn) -> None:
    with pytest.raises(ValueError, match="object type"):
        metadata_dataframe(conn, "Plate", 1)
