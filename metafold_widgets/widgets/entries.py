"""EntryPanel: write a new lab record entry into a project, and publish the entries to elabFTW.

The panel only wires widgets to the workflow functions ``new_entry`` and ``publish_entries``
(the same calls back ``metafold note`` and ``metafold sync``): a kind, an optional title,
"Create entry" shows the new file's path; "Publish to elabFTW" shows the workflow's summary.
"""
from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from ..core.entries import KINDS
from ..errors import IntegrationError, UserError
from ..session import Session
from ..workflows.entries import new_entry, publish_entries

_WIDE = widgets.Layout(width="auto", max_width="46em")
_LABELS = {"description_width": "8em"}


class EntryPanel(widgets.VBox):
    """New entry for the project folder ``project``: kind, title, "Create entry", and "Publish to
    elabFTW" when ``session`` has elabFTW configured."""

    def __init__(self, project: str | os.PathLike[str], session: Session | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.project = Path(project)
        self.session = session
        self.add_class("metafold-entries")
        self.kind = widgets.Dropdown(options=[(spec.heading, name) for name, spec in KINDS.items()],
                                     description="Entry kind", layout=_WIDE, style=_LABELS)
        self.entry_title = widgets.Text(description="Title", placeholder="default: the kind's heading",
                                        layout=_WIDE, style=_LABELS)
        self.create_button = widgets.Button(description="Create entry", icon="file-text",
                                            layout=widgets.Layout(width="auto"))
        self.publish_button = widgets.Button(description="Publish to elabFTW", icon="upload",
                                             layout=widgets.Layout(width="auto"))
        self.result = widgets.HTML()
        self.result.add_class("metafold-entry-result")
        publishing = session is not None and session.is_configured("elabftw")
        self.publish_button.disabled = not publishing
        self.publish_button.tooltip = ("Add the project's entries to its elabFTW experiment" if publishing
                                       else "elabFTW is not configured")
        self.create_button.on_click(lambda _: self.create())
        self.publish_button.on_click(lambda _: self.publish())
        heading = widgets.HTML("<b class='metafold-entries-title'>New entry</b>")
        self.children = [heading, self.kind, self.entry_title,
                         widgets.HBox([self.create_button, self.publish_button]), self.result]

    def create(self) -> Path | None:
        """Write the chosen entry (the "Create entry" button); shows and returns its path, None on a mistake."""
        self.create_button.disabled = True
        try:
            path = new_entry(self.project, self.kind.value, title=self.entry_title.value.strip() or None)
        except UserError as exc:
            self._show("error", html.escape(str(exc)))
            return None
        except OSError as exc:
            self._show("error", html.escape(f"Could not write the entry: {exc}"))
            return None
        finally:
            self.create_button.disabled = False
        shown = path.relative_to(self.project) if path.is_relative_to(self.project) else path
        self._show("ok", f"Created <code class='metafold-entry-path'>{html.escape(str(shown))}</code>")
        return path

    def publish(self) -> None:
        """Publish the project's entries to its elabFTW experiment (the "Publish to elabFTW" button)."""
        if self.session is None or not self.session.is_configured("elabftw"):
            self._show("error", "elabFTW is not configured.")
            return
        self.publish_button.disabled = True
        try:
            report = publish_entries(self.session, self.project)
        except (UserError, IntegrationError) as exc:
            self._show("error", html.escape(str(exc)))
        else:
            self._show("ok", f"<pre class='metafold-entry-summary'>{html.escape(report.summary())}</pre>")
        finally:
            self.publish_button.disabled = False

    def _show(self, kind: str, body: str) -> None:
        self.result.value = f"<div class='metafold-{kind}'>{body}</div>"
