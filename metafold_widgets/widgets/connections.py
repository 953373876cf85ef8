"""ConnectionPanel: enter elabFTW and OMERO credentials, test them, keep them in the Session only.

Secrets are typed into password boxes and cleared from the widgets as soon as the
Session has them, so they are never echoed, never kept in the widget state and never
saved with the notebook.
"""
from __future__ import annotations

import html
from typing import Any, Callable

import ipywidgets as widgets

from ..errors import MetafoldError
from ..session import Session

_WIDE = widgets.Layout(width="auto", max_width="40em")  # "100%" plus the margin would overflow
_LABEL = {"description_width": "9em"}


class ConnectionPanel(widgets.VBox):
    """Connection settings for elabFTW and OMERO; ``on_change`` runs after a successful connection."""

    def __init__(self, session: Session, on_change: Callable[[], None] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.session = session
        self.on_change = on_change or (lambda: None)
        self.add_class("metafold-connections")
        self.elab_url = widgets.Text(description="elabFTW address", placeholder="https://elab.example.org",
                                     layout=_WIDE, style=_LABEL)
        self.elab_key = widgets.Password(description="API key", layout=_WIDE, style=_LABEL)
        self.elab_verify = widgets.Text(description="TLS check", value="true", layout=_WIDE, style=_LABEL,
                                        placeholder="true, false, or the path of a CA bundle")
        self.elab_button = widgets.Button(description="Test connection", icon="plug")
        self.elab_status = widgets.HTML(_status(session.integration_status()["elabftw"], ok=None))
        self.omero_host = widgets.Text(description="OMERO host", placeholder="omero.example.org",
                                       layout=_WIDE, style=_LABEL)
        self.omero_port = widgets.IntText(description="Port", value=4064, layout=_WIDE, style=_LABEL)
        self.omero_user = widgets.Text(description="User", layout=_WIDE, style=_LABEL)
        self.omero_password = widgets.Password(description="Password", layout=_WIDE, style=_LABEL)
        self.omero_session_key = widgets.Password(description="or session key", layout=_WIDE, style=_LABEL)
        self.omero_group = widgets.Text(description="Group (optional)", layout=_WIDE, style=_LABEL)
        self.omero_button = widgets.Button(description="Test connection", icon="plug")
        self.omero_status = widgets.HTML(_status(session.integration_status()["omero"], ok=None))
        self.elab_button.on_click(lambda _: self._connect_elabftw())
        self.omero_button.on_click(lambda _: self._connect_omero())
        self.children = [
            widgets.HTML("<b>elabFTW</b>"), self.elab_url, self.elab_key, self.elab_verify, self.elab_button,
            self.elab_status,
            widgets.HTML("<b>OMERO</b>"), self.omero_host, self.omero_port, self.omero_user,
            self.omero_password, self.omero_session_key, self.omero_group, self.omero_button, self.omero_status,
        ]

    def _connect_elabftw(self) -> None:
        key, self.elab_key.value = self.elab_key.value, ""  # the Session keeps it, the widget does not
        self.elab_status.value = _status("connecting…", ok=None)
        try:
            self.session.connect_elabftw(self.elab_url.value, key, self.elab_verify.value)
            message = self.session.test_connection("elabftw")
        except MetafoldError as exc:
            self.elab_status.value = _status(str(exc), ok=False)
            return
        self.elab_status.value = _status(message, ok=True)
        self.on_change()

    def _connect_omero(self) -> None:
        password, self.omero_password.value = self.omero_password.value, ""
        session_key, self.omero_session_key.value = self.omero_session_key.value, ""
        self.omero_status.value = _status("connecting…", ok=None)
        try:
            self.session.connect_omero(host=self.omero_host.value, port=self.omero_port.value,
                                       user=self.omero_user.value or None, password=password or None,
                                       session_key=session_key or None, group=self.omero_group.value or None)
            message = self.session.test_connection("omero")
        except MetafoldError as exc:
            self.omero_status.value = _status(str(exc), ok=False)
            return
        self.omero_status.value = _status(message, ok=True)
        self.on_change()


def _status(text: str, ok: bool | None) -> str:
    kind = {True: "ok", False: "error", None: "info"}[ok]
    return f"<div class='metafold-connection-{kind}'>{html.escape(text)}</div>"
