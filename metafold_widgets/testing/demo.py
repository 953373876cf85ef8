"""The example notebooks' demo mode: a Session on stand-in servers when none are configured.

With ``METAFOLD_DEMO_OMERO=1`` (Binder, the test suite) OMERO is an in-process
:class:`~metafold_widgets.testing.fake_omero.FakeBlitzGateway`, and when no elabFTW is
configured either, the fake elabFTW server starts in this process. Without that variable,
nothing is faked: the Session comes from the environment and config file as everywhere else.
"""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Sequence

from ..session import Session

DEMO_VARIABLE = "METAFOLD_DEMO_OMERO"


@dataclass
class Demo:
    """What :func:`demo_session` set up: the Session, and the stand-ins (None when real servers are used)."""

    session: Session
    omero: Any = None
    elabftw: Any = None

    @property
    def importer(self) -> "DemoImporter | None":
        """The stand-in for omero-py's importer in demo mode (no Java, no server), else None."""
        return DemoImporter(self.omero) if self.omero is not None else None

    @property
    def active(self) -> bool:
        """True in demo mode."""
        return self.omero is not None

    def close(self) -> None:
        """Close the Session and stop a fake elabFTW server started here."""
        self.session.close()
        if self.elabftw is not None:
            self.elabftw.close()


def demo_session(environ: dict[str, str] | None = None) -> Demo:
    """The notebooks' Session: demo stand-ins with ``METAFOLD_DEMO_OMERO=1``, else the configured servers.

    In demo mode an unset ``ELABFTW_URL`` starts the fake elabFTW server (with a "Microscopy"
    category) and points this process's environment at it.
    """
    env = os.environ if environ is None else environ
    if env.get(DEMO_VARIABLE) != "1":
        return Demo(Session.from_environment(env))
    from .fake_omero import FakeBlitzGateway
    omero = FakeBlitzGateway()  # groups 'Imaging Lab' (id 3, the default) and 'Other Lab'
    elabftw = None
    if not env.get("ELABFTW_URL"):
        from .fake_elabftw import WRITE_KEY, FakeElabftw
        elabftw = FakeElabftw()
        elabftw.add_category("Microscopy")
        env.update(ELABFTW_URL=elabftw.url, ELABFTW_API_KEY=WRITE_KEY)
    configured = Session.from_environment(env)
    session = Session(configured.projects_dir, configured.templates_dir, elabftw=configured.elabftw, omero=omero)
    return Demo(session, omero, elabftw)


class DemoImporter:
    """Stands in for the ``omero import`` process in demo mode, as a fake server stands in for a server.

    Called like :func:`subprocess.run` with the importer's command line (``-T Dataset:id:N``,
    then the files or folders), it adds one image per file to that dataset of the fake OMERO
    (a 512 x 512 uint16 plane, named after the file), writes the importer-style log lines to
    ``stderr`` and prints ``Image:<id>`` lines as omero-py's importer does. A folder is
    imported file by file, as the importer walks it.
    """

    def __init__(self, omero: Any):
        self.omero = omero

    def __call__(self, command: Sequence[str], *, stderr: IO[str] | None = None,
                 **_: Any) -> "subprocess.CompletedProcess[str]":
        args = list(command)
        target = args[args.index("-T") + 1]
        dataset_id = int(target.rsplit(":", 1)[-1])
        files = [file for path in _paths(args) for file in _files(Path(path))]
        lines = []
        for file in files:
            image_id = self.omero.add_image(dataset_id, file.name)
            lines.append(f"Image:{image_id}")
            if stderr is not None:
                stderr.write(f"INFO  demo importer - imported {file} as Image:{image_id}\n")
        return subprocess.CompletedProcess(args, 0, stdout="".join(line + "\n" for line in lines), stderr=None)


def _paths(args: list[str]) -> list[str]:
    """The file arguments of an ``omero import`` command line: what follows the target, options left out."""
    paths: list[str] = []
    options = iter(args[args.index("-T") + 2:])
    for arg in options:
        if arg == "--clientdir":
            next(options, None)
        elif not arg.startswith("-"):
            paths.append(arg)
    return paths


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
