"""Who is acting: the user name written to every integration-log event.

On a JupyterHub every kernel runs as the same system account (often ``jovyan``), so the
OS login says nothing there; the hub names the person in ``JUPYTERHUB_USER``. An
administrator or a batch job can name the user explicitly with ``METAFOLD_USER``.
The name is shown and logged, so it is cleaned: one line, bounded, no URL password.
"""
from __future__ import annotations

import getpass
import os
import re
from typing import Mapping

from .redact import scrub

USER_VARIABLES = ("METAFOLD_USER", "JUPYTERHUB_USER")  # first set wins; then the OS login
MAX_USER_CHARS = 128
UNKNOWN_USER = "unknown"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def current_user(environ: Mapping[str, str] | None = None) -> str:
    """The acting user's name: ``METAFOLD_USER``, else ``JUPYTERHUB_USER``, else the OS login,
    else ``unknown``; cleaned as :func:`clean_user_name`."""
    env = os.environ if environ is None else environ
    for variable in USER_VARIABLES:
        name = clean_user_name(env.get(variable))
        if name:
            return name
    try:
        return clean_user_name(getpass.getuser()) or UNKNOWN_USER
    except (KeyError, OSError):  # no login name (some containers): say so honestly
        return UNKNOWN_USER


def clean_user_name(name: str | None) -> str:
    """``name`` on one line, without surrounding space or a password in a URL, at most
    :data:`MAX_USER_CHARS` characters; ``""`` for nothing."""
    if not name:
        return ""
    text = _CONTROL.sub(" ", scrub(str(name))).strip()
    return text[:MAX_USER_CHARS]
