"""Keeping secrets out of text that came from outside: server answers, exception messages, URLs.

Whatever a server or a library says may quote the API key it was sent or carry a URL with a
password in it; such text reaches records, logs, widgets and terminals only through these.
"""
from __future__ import annotations

import re
from typing import Iterable
from urllib.parse import urlsplit, urlunsplit

MASK = "********"
# user:password@ in any URL inside a text (the password part only is masked)
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/\s:@]*):(?P<password>[^/\s@]*)@")


def mask_url(url: str) -> str:
    """``https://ada:secret@host/x`` -> ``https://ada:********@host/x`` (other URLs unchanged)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:{MASK}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def without_credentials(url: str) -> str:
    """``url`` without any ``user:password@`` part (for links stored in records and shown to people)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every given secret, and every password in a URL, replaced by a mask.

    Secrets shorter than 4 characters are not searched for (they would mask ordinary words).
    """
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
