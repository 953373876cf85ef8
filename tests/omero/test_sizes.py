"""An OMERO dataset's image count and pixel-data size: one query, checked against OMERO's model by
the fake's HQL engine, with real omero-py objects; and the size reaching the publication package."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from metafold_widgets import load_template
from metafold_widgets.adapters.omero_sizes import DATASET_PIXELS_HQL, dataset_size
from metafold_widgets.core.project import create_project
from metafold_widgets.core.record import record_integration
from metafold_widgets.errors import OmeroError
from metafold_widgets.session import Session
from metafold_widgets.workflows.package import build_package


def test_count_size_types_and_formats_of_a_dataset_in_one_round_trip(conn) -> None:
    dataset = conn.add_dataset("heat")
    conn.add_image(dataset, "cell_001.ome.tif", size=(512, 512, 3, 2, 1))                      # uint16
    conn.add_image(dataset, "stack.lif [Series 2]", size=(256, 256, 1, 1, 10), pixels_type="uint8")
    conn.add_image(dataset, "mask", size=(100, 50, 1, 1, 1), pixels_type="float")
    conn.add_image(conn.add_dataset("other"), "elsewhere.tif", size=(2048, 2048, 1, 1, 1))  # not counted
    conn.reset_counts()
    size = dataset_size(conn, dataset)
    assert conn.round_trips == 1 and conn.calls == ["projection"]
    assert size.image_count == 3
    assert size.pixel_count == 512 * 512 * 6 + 256 * 256 * 10 + 100 * 50
    assert size.size_bytes == 512 * 512 * 6 * 2 + 256 * 256 * 10 + 100 * 50 * 4
    assert size.pixels_types == ["float", "uint16", "uint8"]
    assert size.formats == ["LIF", "OME-TIFF"]  # "mask" has no extension: no format guessed


def test_a_dataset_in_another_group_is_read_too(conn) -> None:
    dataset = conn.add_dataset("other lab", group=4)
    conn.add_image(dataset, "a.tif", size=(10, 10, 1, 1, 1))
    assert dataset_size(conn, dataset).size_bytes == 200


def test_an_empty_or_missing_dataset_has_no_images(conn) -> None:
    empty = dataset_size(conn, conn.add_dataset("empty"))
    assert (empty.image_count, empty.pixel_count, empty.size_bytes, empty.formats) == (0, 0, 0, [])
    assert dataset_size(conn, 999999).image_count == 0


def test_the_query_follows_the_model(conn) -> None:
    """The fake's engine resolves every path against omero-model's mappings: a wrong one is refused."""
    wrong = DATASET_PIXELS_HQL.replace("i.datasetLinks", "i.datasets")
    service: Any = conn.getQueryService()
    from omero.sys import ParametersI
    with pytest.raises(Exception, match="datasets"):
        service.projection(wrong, ParametersI().addId(1), conn.SERVICE_OPTS)


def test_a_server_failure_is_an_omero_error_naming_the_step(conn, monkeypatch) -> None:
    service = conn.getQueryService()

    def refuse(*args: Any, **kwargs: Any) -> Any:
        import omero
        raise omero.SecurityViolation(None, None, "not allowed")

    monkeypatch.setattr(type(service), "projection", refuse)
    with pytest.raises(OmeroError, match="read the pixel sizes of dataset 5"):
        dataset_size(conn, 5)


def test_the_package_states_the_datasets_size_from_its_pixels(conn, answers, tmp_path) -> None:
    (tmp_path / "projects").mkdir()
    project: Path = create_project(load_template("multi-modal-imaging"), answers, tmp_path / "projects")
    dataset = conn.add_dataset("ABC123456")
    images = [conn.add_image(dataset, f"cell_00{n}.tif", size=(512, 512, 3, 2, 1)) for n in (1, 2)]
    record_integration(project, "omero", action="create", state="done", id=dataset,
                       url=f"https://omero.example/webclient/?show=dataset-{dataset}")
    (tmp_path / "out").mkdir()
    result = build_package(project, tmp_path / "out", Session(omero=conn), archive=())
    omero = result.data["data_sources"]["omero"]
    assert omero["image_count"] == 2 and omero["size_bytes"] == 2 * 512 * 512 * 6 * 2
    assert omero["formats"] == ["TIF"] and omero["pixels_types"] == ["uint16"]
    assert "data_sources.omero.size_bytes" not in {u["field"] for u in result.data["unknown"]}
    statement = (result.path / "data_availability/data_sharing_statement.md").read_text()
    assert f"OMERO dataset {dataset}" in statement
    assert "2 images, 6.3 MB of pixel data (uncompressed)" in statement
    instructions = (result.path / "data_availability/omero_access_instructions.md").read_text()
    assert [line for line in instructions.splitlines() if line.startswith("omero download")] == [
        f"omero download Image:{image} dataset_{dataset}/" for image in images]
    assert "- Group: Imaging Lab" in instructions
