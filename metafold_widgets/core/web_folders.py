"""Web addresses of project folders, for links back to a project from elabFTW.

A facility that serves its projects folder on the web (a JupyterHub's file browser, a
file server's web view) sets ``METAFOLD_PROJECTS_URL`` (or ``paths.projects_url`` in the
config file) to the address of the projects folder. A project inside that folder then has
an address: the base, then the project's path below the folder, each part URL-quoted.
A project elsewhere has none: a link that would lead nowhere is never made.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from ..errors import ConfigError


@dataclass(frozen=True)
class WebFolders:
    """The projects folder ``root`` and the web address ``base_url`` it is served at."""

    base_url: str
    root: Path

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.username or parts.password:
            raise ConfigError(f"the projects folder's web address must be an http(s) address without a "
                              f"password, not {self.base_url!r}")

    def url_for(self, project: str | os.PathLike[str]) -> str | None:
        """The web address of ``project``; None when it is not inside the projects folder."""
        try:
            relative = Path(os.path.abspath(project)).relative_to(os.path.abspath(self.root))
        except ValueError:
            return None
        if not relative.parts:
            return None
        return self.base_url.rstrip("/") + "/" + "/".join(quote(part, safe="") for part in relative.parts)
