"""Session: the one place holding configuration and the options providers of connections.

Widgets receive a Session and never read environment variables themselves, so the same
notebook works on a laptop, in Voila and on a JupyterHub where an administrator sets
the environment per user.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from .core.options_sources import OptionsProviders

ENV_PROJECTS_DIR = "METAFOLD_PROJECTS_DIR"
ENV_TEMPLATES_DIR = "METAFOLD_TEMPLATES_DIR"


@dataclass
class Session:
    """Configuration and live connections for one user (one kernel).

    ``projects_dir`` is where new projects go by default; ``templates_dir`` holds the
    lab's own templates beside the built-in ones. ``options`` lists the providers that
    connected integrations register for dropdowns with an ``options_source``.
    """

    projects_dir: Path = field(default_factory=Path.cwd)
    templates_dir: Path | None = None
    options: OptionsProviders = field(default_factory=OptionsProviders)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> "Session":
        """A Session configured from ``METAFOLD_PROJECTS_DIR`` and ``METAFOLD_TEMPLATES_DIR``."""
        env = os.environ if environ is None else environ
        projects = env.get(ENV_PROJECTS_DIR)
        templates = env.get(ENV_TEMPLATES_DIR)
        return cls(projects_dir=Path(projects).expanduser() if projects else Path.cwd(),
                   templates_dir=Path(templates).expanduser() if templates else None)

    def integration_status(self) -> dict[str, str]:
        """Per system, whether it is connected and, if not, how to turn it on."""
        return {system: "not configured: projects are created as local folders only"
                for system in ("elabftw", "omero")}
