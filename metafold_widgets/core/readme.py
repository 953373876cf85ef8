"""The project's README.md: a human summary of the metadata and the links to each system."""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Mapping

from .body import BodySection, fill_text
from .fields import Field
from .record import ProjectRecord
from .systems import RECORD_NAMES
from .template import Template


def render_readme(template: Template, values: Mapping[str, Any], record: ProjectRecord) -> str:
    """Markdown summary: title, provenance, metadata by section, integration links."""
    title = values.get("experiment_title") or record.name
    lines = [f"# {_inline(title)}", "",
             f"- Project folder: `{record.name}`",
             f"- Template: {_inline(template.name)} (`{template.id}` {template.version})",
             f"- Created: {record.created_at} by {_inline(record.created_by)}", ""]
    if template.description:
        lines += [_inline(template.description), ""]
    lines += ["## Metadata", ""]
    lines += _table([f for f in template.items if isinstance(f, Field)], values)
    for group in template.groups:
        rows = _table([c for c in group.children if isinstance(c, Field)], values)
        if rows:
            lines += [f"### {_inline(group.label)}", ""] + rows
    lines += ["## Linked records", ""]
    for system, state in record.integrations.items():
        name = RECORD_NAMES.get(system, system)
        if state.url:
            lines.append(f"- {name}: [{state.id}]({state.url})")
        elif state.done:
            lines.append(f"- {name}: id {_inline(state.id)}")
        elif state.state == "off":
            lines.append(f"- {name}: not used ({_inline(state.reason or 'off')})")
        else:
            lines.append(f"- {name}: {state.state}")
    lines += ["", "This folder was created by metafold-widgets; `metafold.json` is its project record.", ""]
    return "\n".join(lines)


def _table(fields: list[Field], values: Mapping[str, Any]) -> list[str]:
    rows = [f for f in fields if f.key in values]
    if not rows:
        return []
    lines = ["| Field | Value |", "| --- | --- |"]
    for field in rows:
        lines.append(f"| {_cell(field.label)} | {_cell(_show(field, values[field.key]))} |")
    return lines + [""]


def _show(field: Field, value: Any) -> str:
    if value is None or value == []:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return f"{value} {field.unit}".strip() if field.unit else str(value)


def _cell(text: str) -> str:
    return _inline(text).replace("|", "\\|")


def _inline(text: Any) -> str:
    """One line of text that cannot start Markdown blocks or inject HTML."""
    flat = " ".join(str(text).split())
    return flat.replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class ProjectLink:
    """Where the experiment's project lives: folder name, uid and folder path (shown in the body)."""

    name: str
    uid: str
    path: str
    url: str | None = None  # the folder's web address, when the projects folder is served on the web


PLACEHOLDER_MARK = "To be completed"


def render_experiment_body(template: Template, values: Mapping[str, Any],
                           link: ProjectLink | None = None) -> str:
    """The elabFTW experiment's main text (HTML, every value escaped).

    The long answers (research question, approach...) come first: short values live in the
    custom fields, so nothing is typed twice. Then the template's ``body`` sections, whose
    parts still to be written are marked "To be completed", then the link back to the
    project folder (name, uid, path) when ``link`` is given.
    """
    parts = [f"<p>Created from the template <em>{html.escape(template.name)}</em> "
             f"({html.escape(template.id)} {html.escape(template.version)}).</p>"]
    for field in template.fields:
        value = values.get(field.key)
        if field.type == "textarea" and value:
            parts.append(f"<h3>{html.escape(field.label)}</h3>{_paragraphs(str(value))}")
    for section in template.body:
        parts.append(_section(section, values))
    if link is not None:
        parts.append("<h3>Project</h3><ul>"
                     f"<li>Project folder: {html.escape(link.name)}</li>"
                     f"<li>Project uid: {html.escape(link.uid)}</li>"
                     f"<li>Folder path: <code>{html.escape(link.path)}</code></li>"
                     + (f"<li>Open the folder: {_outbound_link(link.url)}</li>" if link.url else "") + "</ul>")
    return "\n".join(parts)


def _outbound_link(url: str) -> str:
    """A link as elabFTW's purifier writes it back (``HTML.TargetBlank``, ``TargetNoreferrer``,
    ``TargetNoopener``: src/Services/Filter.php@5.6.12), so the body reads back as sent."""
    return (f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="noreferrer noopener">'
            f"{html.escape(url, quote=False)}</a>")


def _section(section: BodySection, values: Mapping[str, Any]) -> str:
    """One body section: its heading, its filled text, and what is still to be completed."""
    out = f"<h3>{html.escape(fill_text(section.title, values).strip() or section.title)}</h3>"
    text = fill_text(section.text, values).strip() if section.text else ""
    if text:
        out += _paragraphs(text)
    placeholder = fill_text(section.placeholder, values).strip() if section.placeholder else ""
    if placeholder or not text:
        note = f"{PLACEHOLDER_MARK}: {placeholder}" if placeholder else f"{PLACEHOLDER_MARK}."
        out += f"<p><em>[{html.escape(note)}]</em></p>"
    return out


def _paragraphs(text: str) -> str:
    """Escaped HTML paragraphs: blank lines separate paragraphs, single line breaks stay."""
    blocks = [b.strip() for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
    return "".join(f"<p>{html.escape(block).replace(chr(10), '<br>')}</p>" for block in blocks)
