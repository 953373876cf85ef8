"""Closed Voila pages free their kernels at once: the page gets the ``_xsrf`` cookie it needs.

When a Voila page is closed or reloaded, its ``beforeunload`` handler posts
``voila/api/shutdown/<kernel id>`` with the value of the page's ``_xsrf`` cookie (Voila 0.5). Voila's
own page handler never asks Tornado for an XSRF token, so on a standalone Voila server nothing
ever sets that cookie: the request is refused with 403 "'_xsrf' argument missing from POST"
(voila-dashboards/voila#1458) and the kernel lives on until the idle culler stops it, 15 minutes
later with ``voila_apps/voila.json``. Asking for the token while the page is served sets the
cookie; the shutdown request then passes the ordinary XSRF check (nothing is relaxed).

Standalone Voila (``scripts/app``) uses :class:`XsrfCookieIdentityProvider`, named in
``voila_apps/voila.json``. In a Jupyter server (JupyterLab, a JupyterHub user's server) the
page's ``_xsrf`` cookie is already set by the server (JupyterHub sets it at login, JupyterLab with
its own page), so no change is needed there.
"""
from __future__ import annotations

from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.identity import PasswordIdentityProvider
from tornado import web
from voila.handler import VoilaHandler

__all__ = ["XsrfCookieIdentityProvider", "ensure_xsrf_cookie"]


def ensure_xsrf_cookie(handler: web.RequestHandler) -> None:
    """Set the ``_xsrf`` cookie on a Voila page response (Tornado sets it when the token is read)."""
    if isinstance(handler, VoilaHandler) and handler.request.method == "GET":
        handler.xsrf_token  # noqa: B018 - reading the token is what sets the cookie


class XsrfCookieIdentityProvider(PasswordIdentityProvider):
    """Voila's default identity provider, plus the ``_xsrf`` cookie on every Voila page it authenticates."""

    async def get_user(self, handler: web.RequestHandler) -> Any:  # type: ignore[override]
        user = await ensure_async(super().get_user(handler))
        if user is not None and isinstance(handler, VoilaHandler):
            # Tornado reads current_user while making the token; the handler sets the same user
            # right after this returns (JupyterHandler.prepare), so set it now.
            handler.current_user = user
            ensure_xsrf_cookie(handler)
        return user
