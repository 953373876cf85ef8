"""ValidateProjectApp: pick one or more projects, run the checks, read the colour-coded report."""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from ..core.record import RECORD_FILE
from ..session import Session
from ..workflows.check import check_project
from ..workflows.scan import find_projects
from .reports import reports_html
from .styles import style_widget

_WIDE = widgets.Layout(width="auto", max_width="46em")
SCAN_DEPTH = 3  # projects inside the folder, or in group or year folders inside it
# Long findings (folder paths, file names) wrap inside their cells, so a report fits a narrow
# window; anything still too wide scrolls inside the report, never the whole app.
_REPORT_CSS = """<style>
.metafold-reports, .metafold-reports .widget-html-content { max-width: 100%; overflow-x: auto; }
.metafold-reports td, .metafold-reports th { overflow-wrap: anywhere; vertical-align: top; text-align: left; }
</style>"""


class ValidateProjectApp(widgets.VBox):
    """Checks projects in the Session's projects folder (or any folder typed in)."""

    def __init__(self, session: Session | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.session = session or Session.from_environment()
        self.add_class("metafold-validate-app")
        self.folder = widgets.Text(value=str(self.session.projects_dir), description="Projects in",
                                   layout=_WIDE, style={"description_width": "8em"})
        self.projects = widgets.SelectMultiple(description="Projects", rows=8, layout=_WIDE,
                                               style={"description_width": "8em"})
        self.refresh_button = widgets.Button(description="Refresh list", icon="refresh")
        self.check_button = widgets.Button(description="Check", button_style="primary", icon="check")
        self.report = widgets.HTML()
        self.report.add_class("metafold-reports")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.check_button.on_click(lambda _: self.run_checks())
        report_style = widgets.HTML(_REPORT_CSS, layout=widgets.Layout(height="0px", overflow="hidden", margin="0"))
        self.children = [style_widget(), report_style, self.folder, self.projects,
                         widgets.HBox([self.refresh_button, self.check_button]), self.report]
        self.refresh()

    def refresh(self) -> None:
        """List the projects under the chosen folder (found as ``metafold scan`` finds them)."""
        root = Path(self.folder.value).expanduser()
        found = sorted((Path(p.path) for p in find_projects(root, max_depth=SCAN_DEPTH) if p.source == "metafold"),
                       key=lambda p: (p.name.casefold(), str(p))) if root.is_dir() else []
        self.projects.options = [(str(p.relative_to(root)) if p != root else p.name, str(p)) for p in found]
        if not found:
            self.report.value = (f"<div class='metafold-info'>No projects (folders with {RECORD_FILE}) in "
                                 f"{html.escape(str(root))}.</div>")

    def run_checks(self) -> None:
        """Check every selected project (all listed ones when none is selected)."""
        chosen = list(self.projects.value) or [value for _, value in self.projects.options]
        self.check_button.disabled = True
        try:
            reports = [check_project(path, self.session) for path in chosen]
        finally:
            self.check_button.disabled = False
        self.report.value = reports_html(reports)
