"""The example notebooks as files: saved without outputs, run in full, configured from the environment.

nbval (``--nbval-lax``) executes every cell; these checks keep that true and keep the saved
files clean for readers and reviewers.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

HERE = Path(__file__).resolve().parent
NOTEBOOKS = sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
SKIP_MARKERS = ("NBVAL_SKIP", "NBVAL_IGNORE_OUTPUT", "NBVAL_RAISES_EXCEPTION", "nbval-skip", "raises-exception")


def test_the_four_notebooks_are_there():
    assert [p.name for p in NOTEBOOKS] == ["01_tour.ipynb", "02_omero_analysis.ipynb", "03_batch_creation.ipynb",
                                           "04_template_authoring.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_saved_clean_and_run_in_full(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    for cell in notebook.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        assert not any(marker in cell.source or marker in tags for marker in SKIP_MARKERS), cell.source[:80]
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: outputs saved"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if not p.name.startswith("04_")], ids=lambda p: p.name)
def test_servers_come_from_the_environment(path):
    """The notebooks use the configured servers, or the one demo set-up (no copy of it in a notebook)."""
    source = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
    assert "demo = demo_session()" in source and "demo.close()" in source
    assert "FakeElabftw" not in source and "FakeBlitzGateway()" not in source
