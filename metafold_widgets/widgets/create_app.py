"""CreateProjectApp: pick a template, fill the form, preview the plan, create the project.

The app only wires widgets to core functions (the template catalogue, load_template,
plan_project, apply_everywhere); the same calls back the ``metafold create`` command.
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from ..core.catalogue import TemplateCatalogue
from ..core.loader import load_template, template_from_located
from ..core.plan import Plan, plan_project, project_name_from_answers
from ..core.project import check_destination
from ..core.source import parse_text
from ..core.template import Template
from ..errors import TemplateError, UserError
from ..session import SYSTEM_NAMES, Session
from ..workflows.create import CreateResult, StepOutcome, apply_everywhere
from .connections import ConnectionPanel
from .form import TemplateForm

_WIDE = widgets.Layout(width="auto", max_width="46em")  # "100%" plus the 2px margin would overflow


class CreateProjectApp(widgets.VBox):
    """The create-project app: template picker, destination, form, preview, create, result."""

    def __init__(self, session: Session | None = None, template: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.session = session or Session.from_environment()
        self.add_class("metafold-create-app")
        self.templates: dict[str, Template] = {}
        self.template_problems = widgets.HTML()
        self.picker = widgets.Dropdown(description="Template", layout=_WIDE,
                                       style={"description_width": "8em"})
        self.upload = widgets.FileUpload(accept=".yaml,.yml,.json", multiple=False,
                                         description="Upload template")
        self.paste = widgets.Textarea(placeholder="…or paste a template (YAML or JSON) here",
                                      layout=widgets.Layout(width="auto", max_width="46em", height="6em"))
        self.paste_button = widgets.Button(description="Use pasted template", icon="paste")
        self.dest = widgets.Text(value=str(self.session.projects_dir), description="Destination",
                                 layout=_WIDE, style={"description_width": "8em"})
        self.name = widgets.Text(description="Project name", layout=_WIDE, style={"description_width": "8em"})
        self.integrations = widgets.HTML(self._integrations_html())
        self.connections = ConnectionPanel(self.session, on_change=self._on_connected)
        self.form_box = widgets.VBox()
        self.form: TemplateForm | None = None
        self.preview_button = widgets.Button(description="Preview", icon="eye")
        self.create_button = widgets.Button(description="Create project", button_style="success",
                                            icon="folder", disabled=True)
        self.preview = widgets.HTML()
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="",
                                            layout=widgets.Layout(display="none", width="46em"))
        self.result = widgets.HTML()
        self.result.add_class("metafold-result")
        self.entries = widgets.VBox()  # the "New entry" panel of the project just created
        self.preview.add_class("metafold-preview")

        self.picker.observe(lambda change: self._show_template(change["new"]), names="value")
        self.upload.observe(self._on_upload, names="value")
        self.paste_button.on_click(lambda _: self._use_text(self.paste.value, "pasted template"))
        self.preview_button.on_click(lambda _: self._show_preview())
        self.create_button.on_click(lambda _: self._create())
        advanced = widgets.Accordion([widgets.VBox([self.upload, self.paste, self.paste_button])],
                                     titles=("Use another template",))
        advanced.selected_index = None
        connections = widgets.Accordion([self.connections], titles=("Connections (elabFTW, OMERO)",))
        connections.selected_index = None
        self.children = [
            self.picker, advanced, self.template_problems,
            self.dest, self.name, self.integrations, connections, self.form_box,
            widgets.HBox([self.preview_button, self.create_button]), self.progress, self.preview, self.result,
            self.entries,
        ]
        self._load_templates(template)

    # --- templates ----------------------------------------------------------------------

    def _load_templates(self, wanted: str | None) -> None:
        problems: list[str] = []
        catalogue = TemplateCatalogue(self.session.templates_dir)
        for entry in catalogue.entries():
            if isinstance(entry.template, TemplateError):
                problems.append(f"{entry.path.name}: {entry.template.problems[0]}")
            else:
                suffix = "" if entry.source == "built-in" else f" ({entry.path.parent.name})"
                self.templates[f"{entry.template.name} {entry.template.version}{suffix}"] = entry.template
        if catalogue.folder_error is not None:
            problems.append(str(catalogue.folder_error))
        self._report_problems(problems)
        labels = list(self.templates)
        self.picker.options = labels
        if wanted is not None:
            self._use_template(load_template(wanted), select=True)
        elif labels:
            self.picker.value = labels[0]

    def _use_template(self, template: Template, select: bool) -> None:
        label = f"{template.name} {template.version}"
        self.templates[label] = template
        self.picker.options = list(self.templates)
        if select:
            self.picker.value = label
        self._show_template(label)

    def _on_upload(self, change: dict[str, Any]) -> None:
        files = change["new"]
        if not files:
            return
        upload = files[0]
        try:
            text = bytes(upload["content"]).decode("utf-8")
        except UnicodeDecodeError:
            self._report_problems([f"{upload['name']} is not UTF-8 text"])
            return
        self._use_text(text, upload["name"])

    def _use_text(self, text: str, source: str) -> None:
        try:
            template = template_from_located(parse_text(text, source))
        except TemplateError as exc:
            self._report_problems([str(problem) for problem in exc.problems])
            return
        self._report_problems([])
        self._use_template(template, select=True)

    def _report_problems(self, problems: list[str]) -> None:
        if not problems:
            self.template_problems.value = ""
            return
        items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
        self.template_problems.value = (f"<div class='metafold-template-problems'>"
                                        f"Template problems:<ul>{items}</ul></div>")

    def _show_template(self, label: str | None) -> None:
        if label is None or label not in self.templates:
            return
        template = self.templates[label]
        if self.form is not None and self.form.template is template:
            return
        self._show_form(template, None)

    def _show_form(self, template: Template, answers: dict[str, Any] | None) -> None:
        self.form = TemplateForm(template, value=answers, providers=self.session.options)
        self.form.observe(self._on_form_change, names=["value", "valid"])
        self.form_box.children = (self.form,)
        self.preview.value = ""
        self.result.value = ""
        self.entries.children = ()
        self._on_form_change(None)

    # --- plan and create ----------------------------------------------------------------

    def _on_form_change(self, _: Any) -> None:
        if self.form is None:
            return
        self.create_button.disabled = not self.form.valid
        try:
            self.name.placeholder = project_name_from_answers(self.form.template, self.form.value)
        except UserError:
            self.name.placeholder = ""

    def _plan(self) -> Plan | None:
        assert self.form is not None
        try:
            return plan_project(self.form.template, self.form.value, self.dest.value.strip(),
                                self.name.value.strip() or None)
        except UserError as exc:
            self.form.reveal_errors()
            self.result.value = _message("error", str(exc))
            return None

    def _show_preview(self) -> None:
        plan = self._plan()
        if plan is not None:
            self.preview.value = f"<pre class='metafold-plan'>{html.escape(plan.describe())}</pre>"

    def _create(self) -> None:
        if self.form is None:
            return
        plan = self._plan()
        if plan is None:
            return
        self.create_button.disabled = True
        self.entries.children = ()
        self.progress.layout.display = None
        self.progress.max = len(plan.folders) + len(plan.files) + 1
        try:
            check_destination(plan)
            result = apply_everywhere(
                self.session, plan, template=self.form.template,
                progress=lambda done, total, message: setattr(self.progress, "value", done),
                on_step=lambda system, message: setattr(self.progress, "description", SYSTEM_NAMES[system]))
        except UserError as exc:
            self.result.value = _message("error", f"{exc} Nothing was created.")
        except OSError as exc:
            self.result.value = _message("error", f"Could not create the project: {exc}. Nothing was created.")
        else:
            self.result.value = self._result_html(result)
            self.entries.children = (self._entry_panel(result.path),)
        finally:
            self.progress.layout.display = "none"
            self.progress.description = ""
            self.create_button.disabled = not self.form.valid

    def _entry_panel(self, project: Path) -> widgets.Widget:
        from .entries import EntryPanel  # loaded once a project exists: the app starts without it

        return EntryPanel(project, self.session)

    def _result_html(self, result: CreateResult) -> str:
        rows = [f"<div class='metafold-created'>Created <code class='metafold-path'>"
                f"{html.escape(str(result.path))}</code></div>", "<ul>"]
        rows.extend(outcome_html(outcome) for outcome in result.outcomes.values())
        rows.append("</ul>")
        return _message("ok" if result.ok else "error", "".join(rows), escape=False)

    def _on_connected(self) -> None:
        self.integrations.value = self._integrations_html()
        if self.form is not None:  # rebuild so dropdowns can use the new connection's options
            template, answers = self.form.template, self.form.value
            self.form = None
            self._show_form(template, answers)

    def _integrations_html(self) -> str:
        items = "".join(f"<li>{SYSTEM_NAMES[s]}: {html.escape(text)}</li>"
                        for s, text in self.session.integration_status().items())
        return f"<div class='metafold-integrations'>Integrations:<ul>{items}</ul></div>"


def outcome_html(outcome: StepOutcome) -> str:
    """One system's outcome as a list item: created with its id (a link when the system has a web
    address), not created and why, or not used; a reason only when there is one."""
    name = SYSTEM_NAMES.get(outcome.system, outcome.system)
    why = f" ({html.escape(outcome.message)})" if outcome.message else ""
    if outcome.state == "done":
        ident = html.escape(str(outcome.id))
        shown = (f"<a href='{html.escape(outcome.url)}' target='_blank'>{ident}</a>" if outcome.url
                 else f"{ident}; no link to open it ({html.escape(_NO_LINK.get(outcome.system, 'no web address'))})")
        text = f"created, id {shown}" + (f"; {html.escape(outcome.message)}" if outcome.message else "")
    elif outcome.state == "failed":
        text = (f"not created: {html.escape(outcome.message or 'failed')}. The project folder and its record keep "
                "what was done; the rest can be finished later.")
    elif outcome.state == "pending":  # the system is not connected: the record keeps it pending
        text = f"not created yet{why}; once it is connected, 'metafold resume' creates it"
    else:
        text = f"not used{why}"
    return f"<li class='metafold-outcome-{html.escape(outcome.state)}'>{name}: {text}</li>"


_NO_LINK = {"omero": "set OMERO_WEB_URL to the OMERO.web address for links"}


def _message(kind: str, text: str, escape: bool = True) -> str:
    body = html.escape(text) if escape else text
    return f"<div class='metafold-{kind}'>{body}</div>"
