"""Run the example notebooks as tests (nbval), without any real server.

``scripts/test`` runs them in the OMERO environment (notebook 02 needs omero-py)::

    .venv-omero/bin/python -m pytest --nbval-lax notebooks -q -p no:cacheprovider

Every cell is executed; ``--nbval-lax`` only skips comparing outputs, the cells' own
assertions still count. Before nbval starts any kernel, ``pytest_configure`` starts one fake
elabFTW server for the whole run and points the environment at it; kernels are child
processes, so they inherit these settings and ``Session.from_environment()`` finds them:

* ``ELABFTW_URL`` / ``ELABFTW_API_KEY``: the fake server (with a 'Microscopy' category);
* ``METAFOLD_DEMO_OMERO=1``: the notebooks use the in-process OMERO stand-in;
* ``METAFOLD_PROJECTS_DIR``: a temporary folder, removed at the end;
* ``METAFOLD_CONFIG``: a file that does not exist, so the developer's own config is not read.

Other ``ELABFTW_*``, ``OMERO_*`` and ``METAFOLD_*`` variables are removed for the run (and
restored afterwards), so no notebook can reach the developer's own servers.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

_PREFIXES = ("ELABFTW_", "OMERO_", "METAFOLD_")
_KEEP = {"METAFOLD_SHARED"}
_STATE: dict[str, Any] = {}


def _running_notebooks(config: Any) -> bool:
    return bool(getattr(config.option, "nbval", False) or getattr(config.option, "nbval_lax", False))


def pytest_configure(config: Any) -> None:
    if not _running_notebooks(config) or _STATE:
        return
    from metafold_widgets.testing.fake_elabftw import WRITE_KEY, FakeElabftw

    # the kernels run this interpreter (the one with omero-py), whatever kernelspecs the user has
    config.option.nbval_current_env = True
    saved = {name: value for name, value in os.environ.items() if name.startswith(_PREFIXES) and name not in _KEEP}
    for name in saved:
        del os.environ[name]
    workdir = Path(tempfile.mkdtemp(prefix="metafold-notebooks-"))
    server = FakeElabftw()
    server.add_category("Microscopy")
    _STATE.update(saved=saved, workdir=workdir, server=server)
    os.environ.update({
        "ELABFTW_URL": server.url,
        "ELABFTW_API_KEY": WRITE_KEY,
        "METAFOLD_DEMO_OMERO": "1",
        "METAFOLD_PROJECTS_DIR": str(workdir / "projects"),
        "METAFOLD_CONFIG": str(workdir / "no-config.yaml"),
    })


def pytest_unconfigure(config: Any) -> None:
    if not _STATE:
        return
    _STATE.pop("server").close()
    for name in [n for n in os.environ if n.startswith(_PREFIXES) and n not in _KEEP]:
        del os.environ[name]
    os.environ.update(_STATE.pop("saved"))
    shutil.rmtree(_STATE.pop("workdir"), ignore_errors=True)
