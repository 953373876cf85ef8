"""OMERO tests: they import omero-py for real, so they run in .venv-omero (Python 3.10).

scripts/test runs them there after the main suite. In an environment without omero-py
this folder is left out of collection instead of failing on the import.
"""
from __future__ import annotations

import importlib.util
from typing import Any

import pytest

# "omero.gateway", not "omero": without omero-py, this very folder (tests/omero) would pass for it
if importlib.util.find_spec("omero.gateway") is None:  # e.g. the main .venv: nothing here can run
    collect_ignore_glob = ["test_*.py"]

ANSWERS: dict[str, Any] = {
    "project_identifier": "ABC123456",
    "experiment_title": "Mitochondria under Stress",
    "principal_investigator": "Dr. Test Person",
    "enable_elabftw": False,
    "enable_omero": True,
    "omero_group": "Imaging Lab",
    "omero_project_link": "Create New",
    "research_question": "Do mitochondria fragment under oxidative stress?",
    "experimental_approach": "Time-lapse confocal imaging of stained HeLa cells",
    "sample_type": "Live Cells",
    "sample_preparation_protocol": "HeLa_v3",
    "imaging_modality": "Confocal",
    "microscope_system": "Example LSM",
    "data_sharing_level": "Group",
}


def pytest_configure(config: Any) -> None:
    # zeroc-ice 3.6 imports the deprecated 'imp' module: not ours to fix
    config.addinivalue_line("filterwarnings", "ignore:the imp module is deprecated:DeprecationWarning")


@pytest.fixture
def conn() -> Any:
    """A fresh fake OMERO connection (groups 3 'Imaging Lab', the default, and 4 'Other Lab')."""
    from metafold_widgets.testing.fake_omero import FakeBlitzGateway
    return FakeBlitzGateway()


@pytest.fixture
def answers() -> dict[str, Any]:
    """Valid answers for the built-in multi-modal-imaging template, OMERO on, elabFTW off."""
    return dict(ANSWERS)
