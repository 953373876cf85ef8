"""ValidateProjectApp: pick one or more projects, run the checks, read the colour-coded report."""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from ..core.record import RECORD_FILE
from ..errors import MetafoldError
from ..session import Session
from ..workflows.check import check_project
from ..workflows.compliance import ComplianceReport, compliance_report
from ..workflows.compliance_render import save_in_project
from ..workflows.scan import find_projects
from .reports import compliance_reports_html, reports_html
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
        self.compliance_button = widgets.Button(description="Compliance report", icon="file-text",
                                                tooltip="FAIR, retention, backup, access and documentation")
        self.save_button = widgets.Button(description="Save in project", icon="save", disabled=True,
                                          tooltip="Write compliance-report.html into each reported project")
        self.message = widgets.HTML()
        self.compliance: list[ComplianceReport] = []
        self.report = widgets.HTML()
        self.report.add_class("metafold-reports")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.check_button.on_click(lambda _: self.run_checks())
        self.compliance_button.on_click(lambda _: self.run_compliance())
        self.save_button.on_click(lambda _: self.save_compliance())
        report_style = widgets.HTML(_REPORT_CSS, layout=widgets.Layout(height="0px", overflow="hidden", margin="0"))
        self.children = [style_widget(), report_style, self.folder, self.projects,
                         widgets.HBox([self.refresh_button, self.check_button, self.compliance_button,
                                       self.save_button], layout=widgets.Layout(flex_flow="row wrap")),
                         self.message, self.report]
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

    def _chosen(self) -> list[str]:
        return list(self.projects.value) or [value for _, value in self.projects.options]

    def run_checks(self) -> None:
        """Check every selected project (all listed ones when none is selected)."""
        chosen = self._chosen()
        self._forget_compliance()
        self.check_button.disabled = True
        try:
            reports = [check_project(path, self.session) for path in chosen]
        finally:
            self.check_button.disabled = False
        self.report.value = reports_html(reports)

    def run_compliance(self) -> None:
        """Show the compliance report of every selected project (all listed ones when none is selected)."""
        self._forget_compliance()
        self.compliance_button.disabled = True
        try:
            self.compliance = [compliance_report(path, self.session) for path in self._chosen()]
        except MetafoldError as exc:
            self.message.value = f"<div class='metafold-error'>{html.escape(str(exc))}</div>"
            return
        finally:
            self.compliance_button.disabled = False
        self.report.value = compliance_reports_html(self.compliance)
        self.save_button.disabled = not self.compliance

    def save_compliance(self) -> None:
        """Write the reports shown into their projects (``compliance-report.html``)."""
        try:
            saved = [save_in_project(report) for report in self.compliance]
        except (MetafoldError, OSError) as exc:
            self.message.value = f"<div class='metafold-error'>{html.escape(str(exc))}</div>"
            return
        self.message.value = "<div class='metafold-info'>Saved " + ", ".join(
            html.escape(str(path)) for path in saved) + "</div>"

    def _forget_compliance(self) -> None:
        self.compliance = []
        self.save_button.disabled = True
        self.message.value = ""
