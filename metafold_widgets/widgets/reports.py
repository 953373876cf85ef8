"""Check reports shown in notebooks and apps: colour-coded by the stylesheet's status classes."""
from __future__ import annotations

import base64
import html
from typing import Any, Iterable

import ipywidgets as widgets

from ..workflows.check import ProjectReport
from ..workflows.compliance import ComplianceReport
from ..workflows.compliance_render import render_html, render_html_fragment
from .styles import style_widget


def report_html(report: ProjectReport) -> str:
    """One project's checks as an HTML table (status, check, finding, fix) and its recommendations."""
    rows = "".join(
        f"<tr class='metafold-check-{r.status}'><td class='metafold-status metafold-status-{r.status}'>"
        f"{r.status.upper()}</td><td>{html.escape(r.check)}</td><td>{html.escape(r.message)}</td>"
        f"<td>{html.escape(r.fix)}</td></tr>" for r in report.results)
    advice = "".join(f"<li>{html.escape(fix)}</li>" for fix in report.recommendations)
    return (f"<div class='metafold-report'><h3>{html.escape(report.project.name)}: "
            f"<span class='metafold-score'>{report.score}</span>/100</h3>"
            f"<p class='metafold-sections'>{html.escape(report.sections_line())}</p>"
            "<table><thead><tr><th class='metafold-status'>Status</th><th>Check</th><th>Finding</th>"
            f"<th>How to fix</th></tr></thead><tbody>{rows}</tbody></table>"
            + (f"<p>Recommendations:</p><ul>{advice}</ul>" if advice else "") + "</div>")


def reports_html(reports: Iterable[ProjectReport]) -> str:
    """Several reports one after the other ("Nothing to check." for none)."""
    return "".join(report_html(report) for report in reports) or "<div>Nothing to check.</div>"


def compliance_html(report: ComplianceReport) -> str:
    """One project's compliance report, with a link that downloads it as a self-contained HTML page."""
    page = base64.b64encode(render_html(report).encode("utf-8")).decode("ascii")
    name = html.escape(f"{report.name}-compliance-report.html", quote=True)
    link = (f"<p><a class='metafold-download' download='{name}' href='data:text/html;charset=utf-8;base64,{page}'>"
            "Download this report (HTML)</a></p>")
    return f"<div class='metafold-compliance-report'>{render_html_fragment(report)}{link}</div>"


def compliance_reports_html(reports: Iterable[ComplianceReport]) -> str:
    """Several compliance reports one after the other ("Nothing to report on." for none)."""
    return "".join(compliance_html(report) for report in reports) or "<div>Nothing to report on.</div>"


class ReportView(widgets.VBox):
    """A check report as a widget: ``ReportView(check_project(path, session))`` in a notebook."""

    def __init__(self, report: ProjectReport, **kwargs: Any):
        super().__init__(**kwargs)
        self.report = report
        self.add_class("metafold-reports")
        self.children = [style_widget(), widgets.HTML(report_html(report))]
