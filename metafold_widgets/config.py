"""Connection settings for elabFTW and OMERO, from arguments, environment, config file or keyring.

Precedence: explicit arguments, then environment variables, then the config file
(``<user config dir>/metafold-widgets/config.yaml``), then the system keyring for
secrets. The config file holds no secrets: API keys and passwords come from the
environment or the keyring, and nothing here ever writes one to disk.
Secrets are wrapped in :class:`Secret`, whose repr and str never show the value.
"""
from __future__ import annotations

import ipaddress
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

import yaml
from platformdirs import user_config_dir

from .core.bounded import read_text
from .core.redact import mask_url
from .errors import ConfigError, InputFileError, InsecureConnectionWarning

APP_NAME = "metafold-widgets"
KEYRING_SERVICE = "metafold-widgets"
CONFIG_FILE = "config.yaml"
_SECRET_CONFIG_KEYS = ("api_key", "password", "session_key")


class Secret:
    """A credential whose value is only available through :meth:`reveal`."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = str(value)

    def reveal(self) -> str:
        """The secret itself: pass it to the server, never print or store it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled or copied to disk")


@dataclass(frozen=True)
class ElabftwSettings:
    """Where elabFTW is and how to authenticate: ``url`` is the address users see in the browser."""

    url: str
    api_key: Secret = field(repr=False)
    verify: bool | str = True

    @property
    def api_url(self) -> str:
        """The API v2 base (``<url>/api/v2``)."""
        return f"{self.url}/api/v2"

    @property
    def display_url(self) -> str:
        """``url`` as shown to people: a password in it is masked."""
        return mask_url(self.url)

    def __repr__(self) -> str:
        return f"ElabftwSettings(url={self.display_url!r}, api_key=Secret('********'), verify={self.verify!r})"


@dataclass(frozen=True)
class OmeroSettings:
    """How to reach OMERO: password login or joining an existing session by key."""

    host: str
    port: int = 4064
    user: str | None = None
    password: Secret | None = field(default=None, repr=False)
    session_key: Secret | None = field(default=None, repr=False)
    group: str | None = None
    secure: bool = True
    web_url: str | None = None  # OMERO.web address for links people can open, e.g. https://omero.example.org

    def __repr__(self) -> str:
        return (f"OmeroSettings(host={self.host!r}, port={self.port}, user={self.user!r}, "
                f"password={'Secret(********)' if self.password else None}, "
                f"session_key={'Secret(********)' if self.session_key else None}, "
                f"group={self.group!r}, secure={self.secure}, web_url={self.web_url!r})")


def config_path() -> Path:
    """The user's config file (it may not exist)."""
    override = os.environ.get("METAFOLD_CONFIG")
    return Path(override) if override else Path(user_config_dir(APP_NAME)) / CONFIG_FILE


CONFIG_MAX_BYTES = 1024 * 1024


def folder_setting(name: str, environ: Mapping[str, str] | None = None,
                   config: Mapping[str, Any] | None = None) -> Path | None:
    """The ``projects`` or ``templates`` folder: ``METAFOLD_<NAME>_DIR``, else the config file's
    ``paths.<name>``; None when neither says."""
    env = os.environ if environ is None else environ
    settings = config if config is not None else read_config_file()
    folder = env.get(f"METAFOLD_{name.upper()}_DIR") or (settings.get("paths") or {}).get(name)
    return Path(str(folder)).expanduser() if folder else None


def projects_url_setting(environ: Mapping[str, str] | None = None,
                         config: Mapping[str, Any] | None = None) -> str | None:
    """The projects folder's web address: ``METAFOLD_PROJECTS_URL``, else the config file's
    ``paths.projects_url``; None when neither says."""
    env = os.environ if environ is None else environ
    settings = config if config is not None else read_config_file()
    url = env.get("METAFOLD_PROJECTS_URL") or (settings.get("paths") or {}).get("projects_url")
    return str(url).strip() or None if url else None


def templates_folder_setting() -> Path | None:
    """The lab's templates folder as a Session would read it, without building one."""
    return folder_setting("templates")


def read_config_file(path: Path | None = None) -> dict[str, Any]:
    """The config file as a mapping ({} when absent); ConfigError when malformed or holding secrets."""
    path = path or config_path()
    if not path.exists() and not path.is_symlink():
        return {}
    try:
        text = read_text(path, CONFIG_MAX_BYTES, "config file")
    except InputFileError as exc:
        raise ConfigError(str(exc)) from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping like 'elabftw: {{url: ...}}'")
    for system in ("elabftw", "omero"):
        section = data.get(system) or {}
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: '{system}' must be a mapping")
        for key in _SECRET_CONFIG_KEYS:
            if section.get(key):
                raise ConfigError(
                    f"{path}: '{system}.{key}' is a secret; config files hold no secrets. Set it in the "
                    f"environment or store it in the keyring with 'metafold config set-secret {system}'.")
    return data


def normalize_elabftw_url(url: str) -> str:
    """The browser address of an elabFTW server (``/api/v2`` and trailing slashes removed).

    Plain http warns, except for a server on this machine (localhost, 127.0.0.0/8, ::1),
    where the key never leaves it.
    """
    text = _base_address(url, "/api/v2", "elabFTW address", "https://elab.example.org")
    if text.startswith("http:") and not is_loopback(text):
        warnings.warn(f"elabFTW address {mask_url(text)} uses plain http: the API key travels unencrypted. "
                      "Use https except for a server on this machine.", InsecureConnectionWarning, stacklevel=3)
    return text


def is_loopback(url: str) -> bool:
    """True when ``url`` names this machine: ``localhost`` (or ``*.localhost``) or a loopback address."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _one_line_format(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                     line: str | None = None) -> str:
    """Show an InsecureConnectionWarning as one line, ``warning: <message>``, without the Python source line
    that the default format adds (meaningless to people in a notebook or a terminal); others as before."""
    if issubclass(category, InsecureConnectionWarning):
        return f"warning: {message}\n"
    return _default_format(message, category, filename, lineno, line)


_default_format = getattr(warnings.formatwarning, "metafold_default", warnings.formatwarning)
_one_line_format.metafold_default = _default_format  # type: ignore[attr-defined]  # kept across reloads
warnings.formatwarning = _one_line_format


def parse_verify(value: Any) -> bool | str:
    """``ELABFTW_VERIFY``: true/false or the path of a CA bundle; turning it off warns loudly."""
    if isinstance(value, bool):
        verify: bool | str = value
    elif value is None or str(value).strip() == "":
        verify = True
    else:
        text = str(value).strip()
        if text.lower() in ("1", "true", "yes", "on"):
            verify = True
        elif text.lower() in ("0", "false", "no", "off"):
            verify = False
        else:
            bundle = Path(text).expanduser()
            if not bundle.is_file():
                raise ConfigError(f"TLS verification: CA bundle {text} does not exist "
                                  "(use true, false, or the path of a CA bundle file)")
            verify = str(bundle)
    if verify is False:
        warnings.warn("TLS certificate verification is OFF: anyone on the network path can read the API "
                      "key and change the data. Give a CA bundle path instead.", InsecureConnectionWarning,
                      stacklevel=3)
    return verify


def elabftw_settings(url: str | None = None, api_key: str | Secret | None = None, verify: Any = None,
                     environ: Mapping[str, str] | None = None,
                     config: Mapping[str, Any] | None = None) -> ElabftwSettings | None:
    """elabFTW settings from arguments, environment, config file and keyring; None when not configured."""
    env = os.environ if environ is None else environ
    section = (config if config is not None else read_config_file()).get("elabftw") or {}
    url = url or env.get("ELABFTW_URL") or section.get("url")
    if not url:
        return None
    base = normalize_elabftw_url(str(url))
    key = api_key if api_key is not None else env.get("ELABFTW_API_KEY") or keyring_secret("elabftw", base)
    if not key:
        raise ConfigError(f"elabFTW at {base} has no API key: set ELABFTW_API_KEY or store one with "
                          "'metafold config set-secret elabftw'")
    chosen_verify = verify if verify is not None else env.get("ELABFTW_VERIFY", section.get("verify"))
    return ElabftwSettings(base, key if isinstance(key, Secret) else Secret(str(key)), parse_verify(chosen_verify))


def keyring_secret(system: str, address: str) -> Secret | None:
    """A secret stored in the system keyring for ``system`` at ``address``, if keyring is available."""
    try:
        import keyring  # optional: only when installed
        from keyring.errors import KeyringError
    except ImportError:
        return None
    try:
        value = keyring.get_password(KEYRING_SERVICE, f"{system}:{address}")
    except KeyringError:
        return None
    return Secret(value) if value else None


def normalize_omero_web_url(url: str) -> str:
    """The OMERO.web base address (trailing slashes and a trailing ``/webclient`` removed)."""
    return _base_address(url, "/webclient", "OMERO.web address", "https://omero.example.org")


def _base_address(url: str, suffix: str, what: str, example: str) -> str:
    """``url`` without trailing slashes and ``suffix``; ConfigError unless it is an http(s) address."""
    text = url.strip().rstrip("/")
    if text.endswith(suffix):
        text = text[: -len(suffix)]
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{what} {mask_url(url)!r} must look like {example}")
    return text


def omero_settings(host: str | None = None, port: int | str | None = None, user: str | None = None,
                   password: str | Secret | None = None, session_key: str | Secret | None = None,
                   group: str | None = None, secure: Any = None, environ: Mapping[str, str] | None = None,
                   config: Mapping[str, Any] | None = None, web_url: str | None = None) -> OmeroSettings | None:
    """OMERO settings from arguments, ``OMERO_*`` environment variables, config file and keyring.

    ``web_url`` (``OMERO_WEB_URL``, config ``omero.web_url``) is optional: without it the
    product still creates datasets but cannot give people a link to open them in OMERO.web.
    """
    env = os.environ if environ is None else environ
    section = (config if config is not None else read_config_file()).get("omero") or {}
    host = host or env.get("OMERO_HOST") or section.get("host")
    if not host:
        return None
    raw_port = port if port not in (None, "") else env.get("OMERO_PORT", section.get("port", 4064))
    try:
        number = int(raw_port)
    except (TypeError, ValueError):
        raise ConfigError(f"OMERO port {raw_port!r} is not a number") from None
    user = user or env.get("OMERO_USER") or section.get("user")
    key = session_key or env.get("OMERO_SESSION_KEY")
    secret = password or env.get("OMERO_PASSWORD")
    if not key and not secret and user:
        secret = keyring_secret("omero", f"{user}@{host}")
    if not key and not (user and secret):
        raise ConfigError(f"OMERO at {host} needs OMERO_USER and OMERO_PASSWORD, or OMERO_SESSION_KEY")
    raw_secure = secure if secure is not None else env.get("OMERO_SECURE", section.get("secure", True))
    secure_flag = raw_secure if isinstance(raw_secure, bool) else str(raw_secure).strip().lower() not in (
        "0", "false", "no", "off")
    if not secure_flag:
        warnings.warn("OMERO_SECURE is off: image data travel unencrypted after login.",
                      InsecureConnectionWarning, stacklevel=2)

    def as_secret(value: Any) -> Secret | None:
        return value if isinstance(value, Secret) or value is None else Secret(str(value))

    web = web_url or env.get("OMERO_WEB_URL") or section.get("web_url")
    return OmeroSettings(str(host), number, user, as_secret(secret), as_secret(key),
                         group or env.get("OMERO_GROUP") or section.get("group"), secure_flag,
                         normalize_omero_web_url(str(web)) if web else None)
