"""ProjectsDashboard: every project under a folder at a glance, with charts, filters and details.

The data comes from :func:`~metafold_widgets.workflows.scan.scan` (one row per project)
and, on demand, :func:`~metafold_widgets.workflows.check.check_project`; this module only
filters, sorts and draws. Charts are small inline SVGs of the listed projects, redrawn with
every filter change.
"""
from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any, Callable

import ipywidgets as widgets

from ..errors import MetafoldError
from ..session import SYSTEM_NAMES, Session
from ..workflows.check import check_project
from ..workflows.scan import SYSTEMS, project_answers, scan
from .reports import report_html
from .styles import NO_STATE_COLOUR, OTHER_STATE_COLOUR, STATE_COLOURS, style_widget

MAX_ROWS = 300  # rows drawn in the table; the filters narrow down larger folders
_LABEL = {"description_width": "7em"}
_ANY = "__any__"
SORTS: dict[str, tuple[str, bool]] = {  # label: (column, ascending)
    "Name (A-Z)": ("name", True), "Newest first": ("created", False), "Oldest first": ("created", True),
    "Least complete first": ("completeness", True), "Most complete first": ("completeness", False),
    "Recently changed": ("last_change", False),
}


class ProjectsDashboard(widgets.VBox):
    """The projects under a folder (the Session's projects folder by default): charts, table, details."""

    def __init__(self, session: Session | None = None, root: str | os.PathLike[str] | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.session = session or Session.from_environment()
        self.add_class("metafold-dashboard")
        self.projects = _empty_frame()
        self.shown = self.projects
        self.folder = widgets.Text(value=str(root or self.session.projects_dir), description="Projects in",
                                   continuous_update=False,
                                   layout=widgets.Layout(width="auto", flex="1 1 24em", max_width="46em"),
                                   style=_LABEL)
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.search = widgets.Text(description="Search", placeholder="name, template or creator",
                                   layout=widgets.Layout(width="22em"), style=_LABEL)
        self.template = widgets.Dropdown(description="Template", options=[("All templates", _ANY)],
                                         value=_ANY, layout=widgets.Layout(width="22em"), style=_LABEL)
        self.state = widgets.Dropdown(description="Integration", options=_state_options(), value=_ANY,
                                      layout=widgets.Layout(width="22em"), style=_LABEL)
        self.sort = widgets.Dropdown(description="Sort by", options=list(SORTS), value="Newest first",
                                     layout=widgets.Layout(width="22em"), style=_LABEL)
        self.summary = widgets.HTML()
        self.charts = widgets.HTML()
        self.charts.add_class("metafold-charts")
        self.table = widgets.HTML()
        self.table.add_class("metafold-table-box")
        self.picker = widgets.Dropdown(description="Details of", options=[], value=None,
                                       layout=widgets.Layout(width="auto", max_width="46em"), style=_LABEL)
        self.check_button = widgets.Button(description="Check project", icon="check", disabled=True)
        self.details = widgets.HTML()
        self.details.add_class("metafold-details")
        self.report = widgets.HTML()
        self.report.add_class("metafold-reports")
        self._wire()
        wrap = widgets.Layout(flex_flow="row wrap")
        self.children = [style_widget(), widgets.HBox([self.folder, self.refresh_button], layout=wrap),
                         widgets.HBox([self.search, self.template, self.state, self.sort], layout=wrap),
                         self.summary, self.charts, self.table,
                         widgets.HBox([self.picker, self.check_button], layout=wrap), self.details, self.report]
        self.refresh()

    def _wire(self) -> None:
        self.refresh_button.on_click(lambda _: self.refresh())
        self.folder.observe(lambda _: self.refresh(), names="value")
        for control in (self.search, self.template, self.state, self.sort):
            control.observe(lambda _: self.update(), names="value")
        self.picker.observe(lambda change: self.show_details(change["new"]), names="value")
        self.check_button.on_click(lambda _: self.run_check())

    # --- data ---------------------------------------------------------------------------

    def refresh(self) -> None:
        """Scan the folder again and redraw everything."""
        root = Path(self.folder.value).expanduser()
        self.refresh_button.disabled = True
        try:
            self.projects = scan(root, templates_dir=self.session.templates_dir)
        finally:
            self.refresh_button.disabled = False
        templates = sorted({t for t in self.projects["template"].dropna()})
        current = self.template.value
        self.template.options = [("All templates", _ANY), *[(t, t) for t in templates]]
        self.template.value = current if current in templates else _ANY
        self.update()

    def update(self) -> None:
        """Apply the search, filters and sort to the scanned projects and redraw."""
        self.shown = sort_projects(filter_projects(self.projects, self.search.value, self.template.value,
                                                   self.state.value), self.sort.value)
        self.summary.value = _summary_html(self.projects, self.shown, self.folder.value)
        self.table.value = projects_table_html(self.shown, Path(self.folder.value).expanduser())
        self.charts.value = charts_html(self.shown)
        self._update_picker()

    def _update_picker(self) -> None:
        root = Path(self.folder.value).expanduser()
        options = tuple((_relative(path, root), path) for path in self.shown["path"])
        if options == tuple(self.picker.options):
            return  # the same projects in the same order: keep the details and any report
        current = self.picker.value
        self.picker.options = options
        self.picker.value = current if current in dict(options).values() else None
        if self.picker.value is None:
            self.show_details(None)

    # --- details ------------------------------------------------------------------------

    def show_details(self, path: str | None) -> None:
        """Show one project's metadata, links and integration states (None clears the panel)."""
        self.report.value = ""
        rows = self.projects[self.projects["path"] == path] if path else self.projects.iloc[:0]
        if path is None or rows.empty:
            self.details.value = "<p class='metafold-help'>Pick a project to see its details.</p>"
            self.check_button.disabled = True
            return
        row = rows.iloc[0].to_dict()
        try:
            answers = project_answers(path, self.session.templates_dir)
            problem = ""
        except (MetafoldError, OSError, ValueError) as exc:
            answers, problem = [], str(exc)
        self.details.value = details_html(row, answers, problem)
        self.check_button.disabled = row["source"] != "metafold"
        self.check_button.tooltip = ("" if row["source"] == "metafold" else
                                     "Desktop MetaFold projects have no metafold.json to check")

    def run_check(self) -> None:
        """Check the project shown in the details panel and show the report below it."""
        if not self.picker.value:
            return
        self.check_button.disabled = True
        try:
            self.report.value = report_html(check_project(self.picker.value, self.session))
        finally:
            self.check_button.disabled = False


# --- filtering and sorting ----------------------------------------------------------------

def _state_options() -> list[tuple[str, str]]:
    options = [("Any state", _ANY), ("Some system failed", "any:failed"), ("Some system pending", "any:pending")]
    for system in SYSTEMS:
        options += [(f"{SYSTEM_NAMES[system]}: {state}", f"{system}:{state}") for state in STATE_COLOURS]
    return options


def filter_projects(frame: Any, search: str = "", template: str = _ANY, state: str = _ANY) -> Any:
    """The rows matching the search text (name, template, creator), the template and the integration state."""
    keep = frame["path"].notna()
    words = search.strip().lower()
    if words:
        text = (_strings(frame["name"]) + " " + _strings(frame["template"]) + " "
                + _strings(frame["creator"])).str.lower()
        keep &= text.str.contains(words, regex=False)
    if template and template != _ANY:
        keep &= frame["template"] == template
    if state and state != _ANY:
        system, wanted = state.split(":", 1)
        columns = [f"{s}_state" for s in SYSTEMS] if system == "any" else [f"{system}_state"]
        matches = frame[columns[0]] == wanted
        for column in columns[1:]:
            matches |= frame[column] == wanted
        keep &= matches.fillna(False).astype(bool)
    return frame[keep.fillna(False).astype(bool)]


def _strings(column: Any) -> Any:
    return column.astype("string").fillna("")


def sort_projects(frame: Any, order: str) -> Any:
    """The rows in the order named by one of :data:`SORTS` (blanks last)."""
    column, ascending = SORTS.get(order, ("name", True))
    key: Callable[[Any], Any] | None = (lambda values: _strings(values).str.lower()) if column == "name" else None
    return frame.sort_values(column, ascending=ascending, na_position="last", key=key, kind="stable")


# --- HTML ---------------------------------------------------------------------------------

def _summary_html(projects: Any, shown: Any, folder: str) -> str:
    errors = projects.attrs.get("errors", [])
    broken = int(projects["error"].notna().sum())
    text = f"<b>{len(shown)}</b> of {len(projects)} projects in <code>{html.escape(folder)}</code>"
    if broken:
        text += f"; {broken} with an unreadable record"
    if errors:
        items = "".join(f"<li><code>{html.escape(p)}</code>: {html.escape(m)}</li>" for p, m in errors[:50])
        text += (f"<details class='metafold-note'><summary>{len(errors)} folders could not be read</summary>"
                 f"<ul>{items}</ul></details>")
    return f"<div class='metafold-summary'>{text}</div>"


def projects_table_html(frame: Any, root: Path | None = None) -> str:
    """The projects as an HTML table (at most :data:`MAX_ROWS` rows)."""
    if frame.empty:
        return "<p class='metafold-help' style='padding:0.5em'>No projects match.</p>"
    head = "".join(f"<th>{title}</th>" for title in (
        "Project", "Template", "Created", "Creator", "Complete", "elabFTW", "OMERO", "Last change"))
    body = "".join(_table_row(row, root) for row in frame.head(MAX_ROWS).to_dict("records"))
    more = (f"<p class='metafold-help'>Showing the first {MAX_ROWS} of {len(frame)}; search or filter to "
            "narrow down.</p>") if len(frame) > MAX_ROWS else ""
    return f"<table class='metafold-projects'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _table_row(row: dict[str, Any], root: Path | None) -> str:
    name = html.escape(str(row["name"]))
    where = html.escape(_relative(row["path"], root) if root else row["path"])
    if row["source"] == "desktop":
        name += " <span class='metafold-badge metafold-badge-desktop'>desktop</span>"
    template = html.escape(_text(row["template"]))
    if _present(row["template_version"]):
        template += f" <small>{html.escape(str(row['template_version']))}</small>"
    if _present(row["error"]):
        template = f"<span class='metafold-error'>{html.escape(str(row['error']))}</span>"
    cells = [f"<span title='{where}'>{name}</span>", template, _date(row["created"]),
             html.escape(_text(row["creator"])), _bar(row["completeness"]),
             *(_badge(row, system) for system in SYSTEMS), _date(row["last_change"], time=True)]
    return f"<tr data-path='{html.escape(row['path'])}'>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def details_html(row: dict[str, Any], answers: list[tuple[str, Any]], problem: str = "") -> str:
    """One project's facts, links, integration states and answers."""
    facts = [("Folder", f"<code>{html.escape(row['path'])}</code>"),
             ("Kind", "desktop MetaFold project" if row["source"] == "desktop" else "metafold-widgets project"),
             ("Template", html.escape(" ".join(_text(row[k]) for k in ("template", "template_version")))),
             ("Created", _date(row["created"], time=True) + (f" by {html.escape(str(row['creator']))}"
                                                             if _present(row["creator"]) else "")),
             ("Completeness", _completeness_text(row)), ("Last change", _date(row["last_change"], time=True))]
    for system in SYSTEMS:
        facts.append((SYSTEM_NAMES[system], _integration_html(row, system)))
    if _present(row["error"]):
        facts.append(("Problem", f"<span class='metafold-problem'>{html.escape(str(row['error']))}</span>"))
    listing = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in facts)
    answers_rows = "".join(f"<tr><th>{html.escape(label)}</th><td>{html.escape(_answer(value))}</td></tr>"
                           for label, value in answers)
    answers_html = (f"<h4>Metadata</h4><table class='metafold-answers'>{answers_rows}</table>" if answers_rows
                    else f"<p class='metafold-note'>{html.escape(problem or 'No metadata recorded.')}</p>")
    return f"<h3>{html.escape(str(row['name']))}</h3><dl>{listing}</dl>{answers_html}"


def _integration_html(row: dict[str, Any], system: str) -> str:
    state = row.get(f"{system}_state")
    if not _present(state):
        return "not recorded"
    text = _badge(row, system)
    url, ident = row.get(f"{system}_url"), row.get(f"{system}_id")
    if _present(url):
        label = html.escape(f"{SYSTEM_NAMES[system]} {ident}" if _present(ident) else str(url))
        text += f" <a href='{html.escape(str(url))}' target='_blank' rel='noopener'>{label}</a>"
    elif _present(ident):
        text += f" id {html.escape(str(ident))}"
    return text


def _completeness_text(row: dict[str, Any]) -> str:
    if not _present(row["completeness"]):
        return "unknown"
    return (f"{_bar(row['completeness'])} {row['required_filled']} of {row['required_total']} required and "
            f"{row['optional_filled']} of {row['optional_total']} optional fields filled")


def _badge(row: dict[str, Any], system: str) -> str:
    state = row.get(f"{system}_state")
    if not _present(state):
        return "<span class='metafold-help'>–</span>"
    known = str(state) if str(state) in STATE_COLOURS else "other"
    return f"<span class='metafold-badge metafold-state-{known}'>{html.escape(str(state))}</span>"


def _bar(share: Any) -> str:
    if not _present(share):
        return "<span class='metafold-help'>–</span>"
    percent = round(float(share) * 100)
    return f"<span class='metafold-bar'><span style='width:{percent}%'></span></span>{percent}%"


def _date(value: Any, time: bool = False) -> str:
    if not _present(value):
        return "–"
    return value.strftime("%Y-%m-%d %H:%M" if time else "%Y-%m-%d")


def _answer(value: Any) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "–"
    return str(value)


def _relative(path: str, root: Path | None) -> str:
    try:
        relative = os.path.relpath(path, root) if root else path
    except ValueError:  # another drive on Windows
        return path
    return path if relative.startswith("..") else relative


def _present(value: Any) -> bool:
    import pandas as pd
    return not (value is None or (pd.api.types.is_scalar(value) and pd.isna(value)))


def _text(value: Any) -> str:
    return str(value) if _present(value) else "–"


def _empty_frame() -> Any:
    import pandas as pd

    from ..workflows.scan import COLUMNS
    frame = pd.DataFrame(columns=list(COLUMNS))
    frame.attrs["errors"] = []
    return frame


# --- charts -------------------------------------------------------------------------------
# Inline SVG drawn here: a few bars each, so a redraw on every keystroke of the search costs
# well under a millisecond, text stays sharp at any zoom and every bar has a tooltip.

_W, _H, _TOP = 360, 210, 30
_BLUE = "#2f81f7"


def charts_html(frame: Any) -> str:
    """Four charts of the listed projects: per template, per month, completeness, integration states."""
    charts = (_per_template(frame), _per_month(frame), _completeness(frame), _integrations(frame))
    return "<div class='metafold-chart-grid'>" + "".join(charts) + "</div>"


def _per_template(frame: Any) -> str:
    labels = frame["template"].fillna(frame["source"].map({"desktop": "(desktop)", "metafold": "(unreadable)"}))
    counts = labels.value_counts().head(8)
    return hbar_svg("Projects per template", [(str(k), int(v)) for k, v in counts.items()])


def _per_month(frame: Any) -> str:
    created = frame["created"].dropna()
    months = created.dt.strftime("%Y-%m").value_counts().sort_index().tail(24) if len(created) else {}
    return vbar_svg("Projects per month", [(str(k), int(v)) for k, v in dict(months).items()])


def _completeness(frame: Any) -> str:
    import numpy as np

    shares = (frame["completeness"].dropna().astype(float) * 100).to_numpy()
    counts, _ = np.histogram(shares, bins=range(0, 101, 10))  # the last bin holds 100%
    bins = [(f"{low}–{low + 10}%", int(count)) for low, count in zip(range(0, 100, 10), counts)]
    return vbar_svg("Completeness (% of fields filled)", bins if len(shares) else [])


def _integrations(frame: Any) -> str:
    rows = []
    for system in SYSTEMS:
        states = frame[f"{system}_state"]
        parts = [(state, int((states == state).sum()), colour) for state, colour in STATE_COLOURS.items()]
        parts.append(("not recorded", int(states.isna().sum()), NO_STATE_COLOUR))
        rows.append((SYSTEM_NAMES[system], parts))
    return stacked_svg("Integration status", rows if len(frame) else [])


def hbar_svg(title: str, items: list[tuple[str, int]]) -> str:
    """Horizontal bars, one per (label, count)."""
    if not items:
        return _svg(title, _nothing())
    label_width, row = 130, min(22.0, (_H - _TOP - 6) / len(items))
    scale = (_W - label_width - 36) / max(value for _, value in items)
    body = []
    for index, (label, value) in enumerate(items):
        y = _TOP + index * row
        width = max(value * scale, 1)
        body.append(f"<g><title>{html.escape(label)}: {value}</title>"
                    f"<text x='{label_width - 6}' y='{y + row / 2 + 4:.1f}' text-anchor='end'>"
                    f"{html.escape(_short(label))}</text>"
                    f"<rect x='{label_width}' y='{y + 2:.1f}' width='{width:.1f}' height='{row - 4:.1f}' "
                    f"fill='{_BLUE}'/><text x='{label_width + width + 4:.1f}' y='{y + row / 2 + 4:.1f}'>"
                    f"{value}</text></g>")
    return _svg(title, "".join(body))


def vbar_svg(title: str, items: list[tuple[str, int]]) -> str:
    """Vertical bars, one per (label, count), labels under every few bars."""
    if not items or not any(value for _, value in items):
        return _svg(title, _nothing())
    left, bottom = 30, _H - 38
    slot = min((_W - left - 6) / len(items), 40.0)
    top_value = max(value for _, value in items)
    scale = (bottom - _TOP - 6) / top_value
    every = max(1, round(len(items) / 6))
    body = [f"<line x1='{left}' y1='{bottom}' x2='{_W - 4}' y2='{bottom}' stroke='#8c959f'/>",
            f"<text x='{left - 4}' y='{bottom - top_value * scale + 4:.1f}' text-anchor='end'>{top_value}</text>",
            f"<text x='{left - 4}' y='{bottom + 4}' text-anchor='end'>0</text>"]
    for index, (label, value) in enumerate(items):
        x, height = left + index * slot, value * scale
        body.append(f"<g><title>{html.escape(label)}: {value}</title><rect x='{x + 1:.1f}' "
                    f"y='{bottom - height:.1f}' width='{max(slot - 2, 1):.1f}' height='{height:.1f}' "
                    f"fill='{_BLUE}'/></g>")
        if index % every == 0:
            cx = x + slot / 2
            body.append(f"<text x='{cx:.1f}' y='{bottom + 14}' text-anchor='end' "
                        f"transform='rotate(-30 {cx:.1f} {bottom + 14})'>{html.escape(label)}</text>")
    return _svg(title, "".join(body))


def stacked_svg(title: str, rows: list[tuple[str, list[tuple[str, int, str]]]]) -> str:
    """One stacked horizontal bar per row of (part, count, colour), with a legend."""
    if not rows:
        return _svg(title, _nothing())
    label_width, row = 70, 34
    total = max(sum(count for _, count, _ in parts) for _, parts in rows) or 1
    scale = (_W - label_width - 12) / total
    body = []
    for index, (label, parts) in enumerate(rows):
        y, x = _TOP + 8 + index * row, float(label_width)
        body.append(f"<text x='{label_width - 6}' y='{y + row / 2:.1f}' text-anchor='end'>{html.escape(label)}</text>")
        for part, count, colour in parts:
            if count:
                body.append(f"<g><title>{html.escape(label)} {html.escape(part)}: {count}</title>"
                            f"<rect x='{x:.1f}' y='{y + 4}' width='{count * scale:.1f}' height='{row - 12}' "
                            f"fill='{colour}'/></g>")
                x += count * scale
    legend_y = _TOP + 8 + len(rows) * row + 10
    for index, (part, _, colour) in enumerate(rows[0][1]):
        lx, ly = 10 + (index % 3) * 115, legend_y + (index // 3) * 16
        body.append(f"<rect x='{lx}' y='{ly - 9}' width='10' height='10' fill='{colour}'/>"
                    f"<text x='{lx + 14}' y='{ly}'>{html.escape(part)}</text>")
    return _svg(title, "".join(body))


def _svg(title: str, body: str) -> str:
    label = html.escape(title)
    return (f"<svg class='metafold-chart' role='img' aria-label='{label}' viewBox='0 0 {_W} {_H}' "
            f"width='{_W}' height='{_H}' xmlns='http://www.w3.org/2000/svg' font-family='sans-serif' "
            f"font-size='11' fill='#24292f'><title>{label}</title>"
            f"<text x='4' y='16' font-size='13' font-weight='600'>{label}</text>{body}</svg>")


def _nothing() -> str:
    return f"<text x='{_W / 2}' y='{_H / 2}' text-anchor='middle' fill='{OTHER_STATE_COLOUR}'>no projects</text>"


def _short(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
