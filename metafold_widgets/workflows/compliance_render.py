"""A compliance report as Markdown, self-contained HTML or JSON, and written to a file atomically.

Every value in a report may come from a project file or a server (titles, file names,
messages), so all of it is escaped: HTML-escaped in HTML (no link is made from a value, so a
``javascript:`` URL stays text), Markdown's active characters backslash-escaped in Markdown.
The HTML has its stylesheet inline and loads nothing; all its selectors sit under
``.metafold-compliance``, so the same fragment can be shown inside an app without restyling it.
"""
from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

from ..core.atomic import write_atomic
from ..errors import UserError
from .compliance import REPORT_FILE, REPORT_FORMATS, STATUSES, ComplianceItem, ComplianceReport

STYLE = """
.metafold-compliance { font-family: system-ui, sans-serif; line-height: 1.4; max-width: 100%; }
.metafold-compliance h1 { font-size: 1.4em; margin: 0 0 .3em; }
.metafold-compliance h2 { font-size: 1.15em; margin: 1.2em 0 .3em; }
.metafold-compliance table { border-collapse: collapse; width: 100%; }
.metafold-compliance th, .metafold-compliance td { border: 1px solid #ccc; padding: .3em .5em; text-align: left;
  vertical-align: top; overflow-wrap: anywhere; }
.metafold-compliance ul { margin: 0; padding-left: 1.2em; }
.metafold-compliance .note, .metafold-compliance .meta { color: #555; font-size: .9em; }
.metafold-compliance .status { font-weight: bold; white-space: nowrap; }
.metafold-compliance .status-met { color: #1b5e20; }
.metafold-compliance .status-partly { color: #8a5300; }
.metafold-compliance .status-not-met { color: #b00020; }
.metafold-compliance .status-unknown { color: #555; }
.metafold-compliance table.summary { width: auto; }
.metafold-compliance .summary td { text-align: right; min-width: 3em; }
"""
_MD_ACTIVE = re.compile(r"([\\`*_\[\]<>|#&!~])")


def render(report: ComplianceReport, fmt: str) -> str:
    """The report in ``fmt`` (``html``, ``md`` or ``json``); UserError for another format."""
    renderers = {"html": render_html, "md": render_markdown, "json": render_json}
    if fmt not in renderers:
        raise UserError(f"unknown report format '{fmt}' (choose {', '.join(renderers)})")
    return renderers[fmt](report)


def render_json(report: ComplianceReport) -> str:
    """The report as JSON (read back with ``ComplianceReport.from_dict(json.loads(text))``)."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _status_class(status: str) -> str:
    return "status-" + status.replace(" ", "-")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def render_html_fragment(report: ComplianceReport) -> str:
    """The report as an HTML ``<div>`` with its scoped stylesheet (for apps and notebooks)."""
    counts = report.summary
    summary = "".join(f"<tr><th class='status {_status_class(s)}'>{_e(s)}</th><td>{counts[s]}</td></tr>"
                      for s in STATUSES)
    parts = [f"<div class='metafold-compliance'><style>{STYLE}</style>",
             f"<h1>Compliance report: {_e(report.name)}</h1>",
             f"<p class='meta'>Project {_e(report.project)} (uid {_e(report.uid)}), made {_e(report.generated_at)}."
             "</p>",
             f"<table class='summary'><caption>Criteria by status</caption><tbody>{summary}</tbody></table>"]
    for section in report.sections:
        parts.append(f"<section class='compliance-section' data-section='{_e(section.key)}'><h2>{_e(section.title)}"
                     "</h2>" + (f"<p class='note'>{_e(section.note)}</p>" if section.note else ""))
        parts.append("<table><thead><tr><th>Criterion</th><th>Status</th><th>Evidence</th><th>How to improve</th>"
                     "</tr></thead><tbody>" + "".join(_html_row(item) for item in section.items)
                     + "</tbody></table></section>")
    parts.append("</div>")
    return "".join(parts)


def _html_row(item: ComplianceItem) -> str:
    evidence = "".join(f"<li>{_e(line)}</li>" for line in item.evidence)
    return (f"<tr class='compliance-item item-{_status_class(item.status)}' data-key='{_e(item.key)}'>"
            f"<td>{_e(item.criterion)}</td><td class='status {_status_class(item.status)}'>{_e(item.status)}</td>"
            f"<td><ul>{evidence}</ul></td><td>{_e(item.fix)}</td></tr>")


def render_html(report: ComplianceReport) -> str:
    """The report as a self-contained HTML page (inline stylesheet, no script, nothing loaded)."""
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>Compliance report: {_e(report.name)}</title></head><body>"
            f"{render_html_fragment(report)}</body></html>\n")


def _md(text: object) -> str:
    """``text`` on one line with Markdown's (and HTML's) active characters escaped."""
    return _MD_ACTIVE.sub(r"\\\1", " ".join(str(text).split()))


def render_markdown(report: ComplianceReport) -> str:
    """The report as Markdown: a summary, then per section each criterion with status, evidence and fix."""
    counts = report.summary
    lines = [f"# Compliance report: {_md(report.name)}", "",
             f"Project {_md(report.project)} (uid {_md(report.uid)}), made {_md(report.generated_at)}.", "",
             "Criteria by status: " + ", ".join(f"{s} {counts[s]}" for s in STATUSES) + ".", ""]
    for section in report.sections:
        lines += [f"## {_md(section.title)}", ""]
        if section.note:
            lines += [f"_{_md(section.note)}_", ""]
        for item in section.items:
            lines.append(f"- **{_md(item.criterion)}**: {item.status.upper()}")
            lines += [f"  - {_md(line)}" for line in item.evidence]
            if item.fix:
                lines.append(f"  - How to improve: {_md(item.fix)}")
        lines.append("")
    return "\n".join(lines)


def write_report(report: ComplianceReport, out: str | os.PathLike[str], fmt: str) -> Path:
    """Write the report in ``fmt`` to ``out`` (a file, or a folder to hold ``compliance-report.<fmt>``) atomically.

    UserError when the folder to write in does not exist.
    """
    text = render(report, fmt)
    target = Path(out)
    if target.is_dir():
        target = target / f"{REPORT_FILE}.{REPORT_FORMATS[fmt]}"
    if not target.parent.is_dir():
        raise UserError(f"{target.parent}: the folder to write the report in does not exist")
    write_atomic(target, text)
    return target


def save_in_project(report: ComplianceReport, fmt: str = "html") -> Path:
    """Write the report into its project folder as ``compliance-report.<fmt>`` (replacing an older one)."""
    return write_report(report, Path(report.project), fmt)
