"""JupyterHub for a facility: every user gets the metafold-widgets apps in their own server.

    jupyterhub -f deploy/jupyterhub/jupyterhub_config.py

Each user's server is a Jupyter server started by the spawner as that user; Voila runs in it as
a server extension, so the apps are at ``/user/<name>/voila/render/voila_apps/create_project.ipynb``
(and ``validate_project.ipynb``, ``projects.ipynb``) and JupyterLab at ``/user/<name>/lab``.
``jupyterhub_config_local.py`` beside this file runs this same configuration on one machine
(dummy logins, servers as the current user); the end-to-end test runs that.

What this file sets up, all from the hub's environment (the systemd unit or container that
starts the hub), none of it needed:

``ELABFTW_URL``, ``ELABFTW_VERIFY``, ``OMERO_HOST``, ``OMERO_PORT``, ``OMERO_WEB_URL``, ``OMERO_SECURE``
    the facility's servers, passed on to every user's server as they are.
``METAFOLD_HUB_TEMPLATES_DIR`` (default ``/srv/metafold/templates``)
    the facility's shared templates, a folder users can read but not write; every user's
    ``METAFOLD_TEMPLATES_DIR``. They appear in the template picker beside the built-ins.
``METAFOLD_HUB_PROJECTS_ROOT``
    when set, each user's projects go to ``<root>/<name>`` (made, mode 0700, owned by the user
    when the hub runs as root); otherwise to ``~/metafold-projects`` in the user's home. Every
    user's ``METAFOLD_PROJECTS_DIR``.
``METAFOLD_HUB_APPS_DIR`` (default: this checkout)
    the folder holding ``voila_apps/``; linked as ``~/voila_apps`` into each home that has no
    such entry yet, so the app URLs above work in every server.
``METAFOLD_HUB_SECRETS_DIR`` (default ``/etc/metafold/secrets``)
    ``<name>.env`` there holds one user's secrets as ``KEY=value`` lines (``ELABFTW_API_KEY``,
    ``OMERO_USER``, ``OMERO_PASSWORD``, ``OMERO_SESSION_KEY``); readable by the hub only (mode
    0600). The hub hands them to that user's server alone.
``JUPYTERHUB_CRYPT_KEY``
    when set, auth state is kept (encrypted) and the same secret keys found in a user's auth
    state (lower case, e.g. ``elabftw_api_key`` or ``omero_session_key``, put there by the
    authenticator, such as an OAuthenticator's ``modify_auth_state_hook`` or an OMERO.web login)
    reach that user's server; auth state wins over the secrets file.

Secrets never go into ``c.Spawner.environment`` (that is every user's environment) and are
never logged: each is set on one user's spawner only, just before it starts.

The rest is the facility's own choice; notes:

- Authentication: any JupyterHub authenticator (``oauthenticator`` for the campus login,
  ``ldapauthenticator``, ``jupyterhub-nativeauthenticator``); list who may log in
  (``c.Authenticator.allowed_users`` or ``allow_all``) and the admins.
- Spawner: the default ``LocalProcessSpawner`` starts servers as system users of the hub
  machine (the hub runs as root; every user needs an account and a home). ``SystemdSpawner``
  (``jupyterhub-systemdspawner``) adds memory and CPU limits. ``DockerSpawner`` and
  ``KubeSpawner`` (Zero to JupyterHub) start each server in a container: build the single-user
  image with ``pip install 'metafold-widgets[app]'`` (and ``[omero]`` where omero-py is
  available), copy ``singleuser/*.json`` to ``/etc/jupyter/`` and ``voila_apps/`` to the image,
  mount the shared templates read-only and each user's projects volume, and set the same
  environment variables with ``c.Spawner.environment`` and the secrets per user in a
  ``pre_spawn_hook`` as below (KubeSpawner: better a Kubernetes secret per user).
- The proxy: ``configurable-http-proxy`` from npm (``npm install -g configurable-http-proxy``;
  ``scripts/setup-env`` installs it into ``.venv`` for the tests). Put TLS in front of it (or
  set ``c.JupyterHub.ssl_cert``/``ssl_key``) and bind it where users reach it:
  ``c.JupyterHub.bind_url = "https://hub.example.org"``.
- Idle servers: ``jupyterhub-idle-culler`` as a hub service stops servers nobody uses.
"""
from __future__ import annotations

import os
import pwd
import shutil
from pathlib import Path

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file

HERE = Path(__file__).resolve().parent
SHARED_SETTINGS = ("ELABFTW_URL", "ELABFTW_VERIFY", "OMERO_HOST", "OMERO_PORT", "OMERO_WEB_URL", "OMERO_SECURE")
SECRET_KEYS = ("ELABFTW_API_KEY", "OMERO_USER", "OMERO_PASSWORD", "OMERO_SESSION_KEY")

TEMPLATES_DIR = os.environ.get("METAFOLD_HUB_TEMPLATES_DIR", "/srv/metafold/templates")
PROJECTS_ROOT = os.environ.get("METAFOLD_HUB_PROJECTS_ROOT", "")
APPS_DIR = Path(os.environ.get("METAFOLD_HUB_APPS_DIR", str(HERE.parent.parent)))
SECRETS_DIR = Path(os.environ.get("METAFOLD_HUB_SECRETS_DIR", "/etc/metafold/secrets"))


def _system_user(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def user_home(spawner) -> Path:
    """The home folder the spawner gives the user (its own, or the system account's)."""
    home = getattr(spawner, "home_dir", "")  # SimpleLocalProcessSpawner and others that set one
    if home:
        return Path(home)
    account = _system_user(spawner.user.name)
    return Path(account.pw_dir) if account else Path("~" + spawner.user.name).expanduser()


def projects_dir(spawner) -> str:
    """Where this user's projects go: ``<METAFOLD_HUB_PROJECTS_ROOT>/<name>`` or ``~/metafold-projects``."""
    if PROJECTS_ROOT:
        return str(Path(PROJECTS_ROOT) / spawner.user.name)
    return str(user_home(spawner) / "metafold-projects")


def _give_to_user(path: Path, spawner) -> None:
    """Make ``path`` the user's when the hub runs as root and the user has an account here."""
    account = _system_user(spawner.user.name)
    if os.geteuid() == 0 and account is not None:
        shutil.chown(path, account.pw_uid, account.pw_gid)


def _read_secrets_file(name: str) -> dict[str, str]:
    """``KEY=value`` lines of ``<METAFOLD_HUB_SECRETS_DIR>/<name>.env``, known keys only."""
    path = SECRETS_DIR / f"{name}.env"
    if not path.is_file():
        return {}
    secrets = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key.strip() in SECRET_KEYS:
            secrets[key.strip()] = value.strip()
    return secrets


def _secrets_from_auth_state(auth_state: dict | None) -> dict[str, str]:
    return {key: str(auth_state[key.lower()]) for key in SECRET_KEYS
            if auth_state and auth_state.get(key.lower())}


async def prepare_user_server(spawner) -> None:
    """Before a server starts: the user's projects folder, the apps link, the user's own secrets."""
    projects = Path(projects_dir(spawner))
    if not projects.exists():
        projects.mkdir(mode=0o700, parents=True)
        _give_to_user(projects, spawner)
    home = user_home(spawner)
    if getattr(spawner, "home_dir", ""):  # a spawner that makes homes makes them only after this hook
        home.mkdir(parents=True, exist_ok=True)
    if home.is_dir() and not os.path.lexists(home / "voila_apps"):
        (home / "voila_apps").symlink_to(APPS_DIR / "voila_apps", target_is_directory=True)
    secrets = _read_secrets_file(spawner.user.name)
    secrets.update(_secrets_from_auth_state(await spawner.user.get_auth_state()))
    # A new dict for this spawner alone: the configured one must never carry a user's secret.
    spawner.environment = {**spawner.environment, **secrets}


# --- every user's server -------------------------------------------------------------------

c.Spawner.environment = {
    **{name: os.environ[name] for name in SHARED_SETTINGS if os.environ.get(name)},
    "METAFOLD_TEMPLATES_DIR": TEMPLATES_DIR,
    "METAFOLD_PROJECTS_DIR": projects_dir,  # called per user when the server starts
    # singleuser/: Voila's settings (sources stripped, no tracebacks) and kernel culling
    "JUPYTER_CONFIG_PATH": str(HERE / "singleuser"),
}
c.Spawner.pre_spawn_hook = prepare_user_server
c.Spawner.default_url = "/voila/render/voila_apps/create_project.ipynb"
c.Spawner.http_timeout = 60  # a busy machine can take a while to start a server
if os.environ.get("JUPYTERHUB_CRYPT_KEY"):
    c.Authenticator.enable_auth_state = True  # encrypted with JUPYTERHUB_CRYPT_KEY
