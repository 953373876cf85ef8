"""Shared test fixtures: the reference examples in ../shared and small helpers."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("METAFOLD_SHARED", ROOT.parent / "shared"))


def shared_file(relative: str) -> Path:
    """A file of the reference material in ../shared.

    Outside CI a developer may not have that folder: the test is skipped and says so.
    In CI (CI=true) the folder is always laid beside the checkout, so a missing file fails.
    """
    path = SHARED / relative
    if not path.is_file():
        message = f"reference file {path} is missing (set METAFOLD_SHARED to the shared/ folder)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch, tmp_path_factory):
    """No test sees the developer's own servers, config file or keyring."""
    for name in list(os.environ):
        if name.startswith(("ELABFTW_", "OMERO_", "METAFOLD_")) and name != "METAFOLD_SHARED":
            monkeypatch.delenv(name)
    monkeypatch.setenv("METAFOLD_CONFIG", str(tmp_path_factory.getbasetemp() / "no-config.yaml"))


@pytest.fixture
def example_template_path() -> Path:
    """The tutorial's multi-modal imaging template, unchanged."""
    return shared_file("examples/templates/multi-modal-imaging.yaml")


@pytest.fixture
def example_answers_path() -> Path:
    """The tutorial's answers for the multi-modal imaging template."""
    return shared_file("examples/answers/multi-modal-imaging.yaml")


@pytest.fixture
def desktop_template_path() -> Path:
    """A desktop MetaFold native template export."""
    return shared_file("examples/templates/desktop-metafold-native.json")


@pytest.fixture
def elabftw_metadata_path() -> Path:
    """elabFTW metadata with groups, units, multi-values and several field types."""
    return shared_file("examples/templates/elabftw-metadata-example.json")

pytest_plugins = ["elabftw_fixtures"]
