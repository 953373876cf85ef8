"""Without omero-py the package still imports and works; OMERO features say how to install it.

This runs in the main environment (no omero-py); omero is also blocked explicitly, so the
test means the same wherever it runs.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from metafold_widgets import load_template, read_record
from metafold_widgets.adapters.omero import INSTALL_HINT, ensure_dataset, update_key_values
from metafold_widgets.config import OmeroSettings, Secret
from metafold_widgets.errors import OmeroError
from metafold_widgets.omero_tables import dataset_dataframe, metadata_dataframe, project_dataframe
from metafold_widgets.session import Session
from metafold_widgets.workflows.create import create_project_everywhere
from metafold_widgets.workflows.omero_import import importer_problem

ANSWERS = {"project_identifier": "ABC123456", "experiment_title": "T", "principal_investigator": "P",
           "enable_elabftw": False, "research_question": "Q", "experimental_approach": "A",
           "sample_type": "Tissue", "sample_preparation_protocol": "S", "imaging_modality": "Confocal",
           "microscope_system": "M", "data_sharing_level": "Private"}


@pytest.fixture
def no_omero(monkeypatch) -> None:
    """Make 'import omero' fail as it does where omero-py is not installed."""
    for name in list(sys.modules):
        if name == "omero" or name.startswith("omero."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "omero", None)


def test_importing_the_package_never_imports_omero() -> None:
    code = ("import sys, metafold_widgets, metafold_widgets.session, metafold_widgets.cli, "
            "metafold_widgets.adapters.omero, metafold_widgets.omero_tables, metafold_widgets.workflows.create, "
            "metafold_widgets.workflows.omero_step, metafold_widgets.workflows.omero_import; "
            "assert 'omero' not in sys.modules, 'omero imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.mark.parametrize("call", [
    lambda: ensure_dataset(object(), "d", uid="u"),
    lambda: update_key_values(object(), 1, {"a": "b"}),
    lambda: dataset_dataframe(object(), 1),
    lambda: project_dataframe(object(), 1),
    lambda: metadata_dataframe(object(), "Dataset", 1),
    lambda: importer_problem(),
    lambda: Session(omero=OmeroSettings("omero.example.org", user="u", password=Secret("p"))).omero,
])
def test_omero_features_give_the_install_hint(no_omero, call) -> None:
    with pytest.raises(OmeroError) as caught:
        call()
    assert str(caught.value) == INSTALL_HINT


def test_creating_a_project_records_the_hint_and_keeps_the_folder(no_omero, tmp_path) -> None:
    session = Session(omero=OmeroSettings("omero.example.org", user="u", password=Secret("p")))
    result = create_project_everywhere(session, load_template("multi-modal-imaging"), ANSWERS, tmp_path)
    assert result.path.is_dir() and result.outcomes["omero"].state == "failed"
    assert read_record(result.path)["integrations"]["omero"]["error"] == INSTALL_HINT
