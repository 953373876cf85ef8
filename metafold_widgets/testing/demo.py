"""The example notebooks' demo mode: a Session on stand-in servers when none are configured.

With ``METAFOLD_DEMO_OMERO=1`` (Binder, the test suite) OMERO is an in-process
:class:`~metafold_widgets.testing.fake_omero.FakeBlitzGateway`, and when no elabFTW is
configured either, the fake elabFTW server starts in this process. Without that variable,
nothing is faked: the Session comes from the environment and config file as everywhere else.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..session import Session

DEMO_VARIABLE = "METAFOLD_DEMO_OMERO"


@dataclass
class Demo:
    """What :func:`demo_session` set up: the Session, and the stand-ins (None when real servers are used)."""

    session: Session
    omero: Any = None
    elabftw: Any = None

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
