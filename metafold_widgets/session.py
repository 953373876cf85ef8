"""Session: the one place holding configuration, credentials and open connections.

Widgets and the CLI receive a Session and never read environment variables
themselves, so the same notebook works on a laptop, in Voila and on a JupyterHub
where an administrator sets the environment per user. A Session never shows a
secret in its repr and never writes one anywhere.
"""
from __future__ import annotations

import atexit
import logging
import os
import time
from pathlib import Path
from typing import Any, Mapping

from .adapters import omero as omero_adapter
from .adapters.elabftw import ElabftwClient
from .config import (
    ElabftwSettings,
    OmeroSettings,
    Secret,
    elabftw_settings,
    folder_setting,
    omero_settings,
    projects_url_setting,
    read_config_file,
)
from .core.options_sources import OptionsProviders
from .core.systems import SYSTEM_NAMES
from .core.web_folders import WebFolders
from .errors import IntegrationError, OmeroError

log = logging.getLogger("metafold_widgets.session")




class Session:
    """Configuration and live connections for one user (one kernel or one command).

    ``projects_dir`` is where new projects go by default; ``templates_dir`` holds the
    lab's own templates beside the built-in ones; ``options`` holds the providers that
    connected systems register for dropdowns with an ``options_source``.
    """

    #: how often (seconds) ``Session.omero`` asks the server whether the session still lives
    omero_check_seconds = 60.0

    def __init__(self, projects_dir: str | os.PathLike[str] | None = None,
                 templates_dir: str | os.PathLike[str] | None = None,
                 elabftw: ElabftwSettings | ElabftwClient | None = None,
                 omero: OmeroSettings | Any = None, projects_url: str | None = None):
        self.projects_dir = Path(projects_dir).expanduser() if projects_dir else Path.cwd()
        #: the projects folder's web address, for links back from elabFTW (None: not served)
        self.web_folders = WebFolders(projects_url, self.projects_dir) if projects_url else None
        self.templates_dir = Path(templates_dir).expanduser() if templates_dir else None
        self.options = OptionsProviders()
        self._elabftw: ElabftwClient | None = None
        self._elabftw_settings: ElabftwSettings | None = None
        if isinstance(elabftw, ElabftwClient):
            self._use_elabftw(elabftw)
        elif elabftw is not None:
            self._use_elabftw(ElabftwClient(elabftw))
        # OMERO connects on first use: a server that is down must not stop an app from starting.
        self._omero_settings: OmeroSettings | None = omero if isinstance(omero, OmeroSettings) else None
        self._closes_at_exit = False
        self._omero: Any = None if isinstance(omero, OmeroSettings) else omero
        self._omero_checked = time.monotonic()
        self._owns_omero = True  # False for a worker that shares another Session's gateway
        if self._omero is not None or self._omero_settings is not None:
            self._register_omero_options()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None,
                         config: Mapping[str, Any] | None = None) -> "Session":
        """A Session from the environment (``METAFOLD_*``, ``ELABFTW_*``) and the user's config file."""
        env = os.environ if environ is None else environ
        settings = config if config is not None else read_config_file()
        return cls(projects_dir=folder_setting("projects", env, settings),
                   templates_dir=folder_setting("templates", env, settings),
                   elabftw=elabftw_settings(environ=env, config=settings),
                   omero=omero_settings(environ=env, config=settings),
                   projects_url=projects_url_setting(env, settings))

    def __repr__(self) -> str:
        elab = self._elabftw_settings.display_url if self._elabftw_settings else None
        omero = self._omero_settings.host if self._omero_settings else ("connected" if self._omero else None)
        return f"Session(projects_dir={str(self.projects_dir)!r}, elabftw={elab!r}, omero={omero!r})"

    # --- elabFTW --------------------------------------------------------------------------

    def connect_elabftw(self, url: str, api_key: str | Secret, verify: Any = None) -> ElabftwClient:
        """Use the elabFTW server at ``url`` (the browser address) with ``api_key``; checks the key."""
        settings = elabftw_settings(url=url, api_key=api_key, verify=verify, environ={}, config={})
        assert settings is not None
        client = ElabftwClient(settings)
        try:
            client.test_connection()
        except IntegrationError:
            client.close()
            raise
        self._use_elabftw(client)
        return client

    @property
    def elabftw(self) -> ElabftwClient | None:
        """The elabFTW client, or None when elabFTW is not configured."""
        return self._elabftw

    def _use_elabftw(self, client: ElabftwClient) -> None:
        if self._elabftw is not None and self._elabftw is not client:
            self._elabftw.close()
        self._elabftw, self._elabftw_settings = client, client.settings
        self.options.register("elabftw_categories_api", lambda: [c["title"] for c in client.categories()])
        self.options.register("elabftw_status_api", lambda: [s["title"] for s in client.statuses()])
        self.options.register("elabftw_templates_api",
                              lambda: [(str(t["id"]), str(t.get("title", t["id"]))) for t in client.templates()])
        self.options.register("elabftw_teams_api",
                              lambda: [(str(t["id"]), str(t.get("name", t["id"]))) for t in client.teams()])
        self.options.register("elabftw_items_types_api",
                              lambda: [(str(t["id"]), str(t.get("title", t["id"]))) for t in client.items_types()])

    # --- OMERO ---------------------------------------------------------------------------

    def connect_omero(self, host: str, port: int = 4064, user: str | None = None,
                      password: str | Secret | None = None, session_key: str | Secret | None = None,
                      group: str | None = None, secure: bool = True) -> Any:
        """Log in to OMERO (or join a session by key) now; returns the BlitzGateway."""
        settings = omero_settings(host=host, port=port, user=user, password=password, session_key=session_key,
                                  group=group, secure=secure, environ={}, config={})
        assert settings is not None
        conn = omero_adapter.open_gateway(settings)
        self.close_omero()
        self._omero, self._omero_settings = conn, settings
        self._omero_checked = time.monotonic()
        self._register_omero_options()
        return conn

    @property
    def omero_settings(self) -> OmeroSettings | None:
        """The OMERO settings in use (never shows the password), or None."""
        return self._omero_settings

    @property
    def omero(self) -> Any:
        """The connected BlitzGateway, or None when OMERO is not configured.

        Connects on first use and again when the connection was lost (the server closed
        the session, a network drop); a lost connection that was handed in ready-made
        cannot be reopened here, which raises OmeroError saying so.
        """
        if self._omero is not None and not omero_adapter.is_alive(self._omero, ask_server=self._omero_due_check()):
            if self._omero_settings is None:
                raise OmeroError("the OMERO connection given to this Session was lost; connect again "
                                 "(Connections panel, or Session.connect_omero)")
            log.info("the OMERO connection was lost; reconnecting to %s", self._omero_settings.host)
            self._omero = None
        if self._omero is None and self._omero_settings is not None:
            self._omero = omero_adapter.open_gateway(self._omero_settings)
            self._omero_checked = time.monotonic()
            if not self._closes_at_exit:
                atexit.register(self.close_omero)  # leave the server tidy when the kernel stops
                self._closes_at_exit = True
        return self._omero

    def _omero_due_check(self) -> bool:
        """True at most once per ``omero_check_seconds``: asking the server is a round trip."""
        now = time.monotonic()
        if now - self._omero_checked < self.omero_check_seconds:
            return False
        self._omero_checked = now
        return True

    def close_omero(self) -> None:
        """Close the OMERO connection (a joined session stays alive for its owner)."""
        if self._omero is not None:
            try:
                self._omero.close(hard=self._omero_settings is None or not self._omero_settings.session_key)
            except Exception:  # closing a dead connection must not raise
                pass
            self._omero = None

    def _register_omero_options(self) -> None:
        # names, not ids: they read well in a form, and the OMERO step accepts either
        self.options.register("omero_groups_api",
                              lambda: [name for _, name in omero_adapter.list_groups(self.omero)])
        self.options.register("omero_projects_api",
                              lambda: list(dict.fromkeys(name for _, name in omero_adapter.list_projects(self.omero))))

    # --- all systems --------------------------------------------------------------------

    def is_configured(self, system: str) -> bool:
        """Whether ``system`` ('elabftw' or 'omero') has settings or a connection."""
        if system == "elabftw":
            return self._elabftw is not None
        return system == "omero" and (self._omero is not None or self._omero_settings is not None)

    def test_connection(self, system: str) -> str:
        """A one-line verdict on the connection to ``system``; raises IntegrationError on failure."""
        if system == "elabftw":
            if self._elabftw is None:
                return "elabFTW is not configured"
            user = self._elabftw.test_connection()
            info = self._elabftw.info()
            name = user.get("fullname") or user.get("email") or f"user {user.get('userid', '?')}"
            return f"connected to elabFTW {info.version} at {self._elabftw.settings.display_url} as {name}"
        if system == "omero":
            if not self.is_configured("omero"):
                return "OMERO is not configured"
            return omero_adapter.describe_connection(self.omero)
        return f"{SYSTEM_NAMES.get(system, system)} is not configured"

    def integration_status(self) -> dict[str, str]:
        """Per system, whether it is connected and, if not, how to turn it on."""
        status = {}
        if self._elabftw is not None:
            status["elabftw"] = f"configured: {self._elabftw.settings.display_url}"
        else:
            status["elabftw"] = ("not configured: projects stay local. Set ELABFTW_URL and ELABFTW_API_KEY, "
                                 "or use the Connections panel.")
        if self._omero_settings is not None:
            status["omero"] = f"configured: {self._omero_settings.host}:{self._omero_settings.port}"
        elif self._omero is not None:
            status["omero"] = "configured: connected gateway"
        else:
            status["omero"] = ("not configured: projects stay local. Set OMERO_HOST with OMERO_USER and "
                               "OMERO_PASSWORD (or OMERO_SESSION_KEY), or use the Connections panel.")
        return status

    def worker(self) -> "Session":
        """A Session for another thread: same settings and OMERO gateway, its own elabFTW connection."""
        clone = Session(self.projects_dir, self.templates_dir)
        if self._elabftw is not None:
            clone._use_elabftw(ElabftwClient(self._elabftw.settings))
        clone._omero, clone._omero_settings = self._omero, self._omero_settings
        clone._omero_checked = self._omero_checked
        clone._owns_omero = False  # closing the worker leaves the shared gateway open
        return clone

    def close(self) -> None:
        """Close every connection this Session opened."""
        if self._elabftw is not None:
            self._elabftw.close()
        if self._owns_omero:
            self.close_omero()
