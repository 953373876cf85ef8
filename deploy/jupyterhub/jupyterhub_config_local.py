"""The facility configuration (``jupyterhub_config.py``) on one machine, to try it out; the tests run it.

    METAFOLD_HUB_STATE_DIR=/tmp/metafold-hub METAFOLD_HUB_PASSWORD=try-it \\
        .venv/bin/jupyterhub -f deploy/jupyterhub/jupyterhub_config_local.py
    # then open http://127.0.0.1:8000/ and log in as ada or grace

Everything of ``jupyterhub_config.py`` applies (per-user environment, projects folders,
shared templates, secrets per user); this file only changes what a facility chooses itself:

- logins: the users in ``METAFOLD_HUB_USERS`` (comma-separated, default ``ada,grace``) with
  the password ``METAFOLD_HUB_PASSWORD`` (JupyterHub's dummy authenticator). With
  ``JUPYTERHUB_CRYPT_KEY`` set, ``METAFOLD_HUB_AUTH_STATE`` names a JSON file
  ``{user: {"elabftw_api_key": ...}}`` whose entry a login attaches as that user's auth state,
  as a real authenticator would;
- servers: started as the hub's own system user, with homes ``<state>/home/<name>``
  (``SimpleLocalProcessSpawner``: no isolation between users, never for real users);
- addresses: the hub on ``http://127.0.0.1:<METAFOLD_HUB_PORT>`` (default 8000), its API and
  the proxy's API on ``METAFOLD_HUB_API_PORT`` and ``METAFOLD_HUB_PROXY_API_PORT`` (default:
  free ports), every server on 127.0.0.1; ``configurable-http-proxy`` from this Python's
  ``bin/`` (where ``scripts/setup-env`` installs it) or the PATH;
- state: the database, cookie secret and proxy pid file in ``METAFOLD_HUB_STATE_DIR``.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import sys
from pathlib import Path

from jupyterhub.auth import DummyAuthenticator

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file
HERE = Path(__file__).resolve().parent
load_subconfig(str(HERE / "jupyterhub_config.py"))  # noqa: F821 - provided by JupyterHub

STATE = Path(os.environ.get("METAFOLD_HUB_STATE_DIR", "metafold-hub-state")).resolve()
STATE.mkdir(parents=True, exist_ok=True)
BIN = Path(sys.executable).parent
USERS = [name.strip() for name in os.environ.get("METAFOLD_HUB_USERS", "ada,grace").split(",") if name.strip()]


def _port(variable: str, default: int | None = None) -> int:
    if os.environ.get(variable):
        return int(os.environ[variable])
    if default is not None:
        return default
    with socket.socket() as sock:  # a free port on loopback
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalLoginAuthenticator(DummyAuthenticator):
    """The dummy login, plus the auth state a real authenticator would attach (from a JSON file)."""

    async def authenticate(self, handler, data):
        user = await super().authenticate(handler, data)
        if user is None:
            return None
        name = user["name"] if isinstance(user, dict) else user
        states_file = os.environ.get("METAFOLD_HUB_AUTH_STATE")
        states = json.loads(Path(states_file).read_text(encoding="utf-8")) if states_file else {}
        return {"name": name, "auth_state": states.get(name)}


# --- logins --------------------------------------------------------------------------------
c.JupyterHub.authenticator_class = LocalLoginAuthenticator
c.DummyAuthenticator.password = os.environ.get("METAFOLD_HUB_PASSWORD", "")
c.Authenticator.allowed_users = set(USERS)

# --- servers: the current system user, one home per hub user ----------------------------------
c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "home" / "{username}")
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.ip = "127.0.0.1"
if os.geteuid() == 0:  # a Jupyter server refuses to run as root unless told to (CI runs as root)
    c.Spawner.args = ["--allow-root"]

# --- loopback only -------------------------------------------------------------------------
c.JupyterHub.bind_url = f"http://127.0.0.1:{_port('METAFOLD_HUB_PORT', 8000)}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = _port("METAFOLD_HUB_API_PORT")
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{_port('METAFOLD_HUB_PROXY_API_PORT')}"
c.ConfigurableHTTPProxy.command = [shutil.which("configurable-http-proxy", path=f"{BIN}{os.pathsep}"
                                                f"{os.environ.get('PATH', '')}") or "configurable-http-proxy"]

# --- state ---------------------------------------------------------------------------------
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
