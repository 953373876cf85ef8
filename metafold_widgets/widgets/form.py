"""TemplateForm: the metadata form of a template, as one ipywidget with a ``.value``.

All rules (coercion, conditions, validation) come from the core's ``check_answers``;
this module only shows their outcome: hidden fields disappear, each error sits with
its field, and a summary lists what blocks creation.

Each field is three widgets: its row (a box carrying ``metafold-field-KEY``), one HTML
widget above the input holding the label, unit, required marker, help text, note and
error (the order of the GOV.UK design system: label, hint, error, input), and the input.
A field hidden by a condition is only its empty row until an answer first shows it;
answers given to it meanwhile are kept and written to its input then. Widget creation
is most of a form's build time, so nothing more is made per field.
"""
from __future__ import annotations

import html
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import Any, Iterator, Mapping

import ipywidgets as widgets
import traitlets

from ..core.fields import Field, Group
from ..core.options_sources import OptionsProviders, known_options_sources
from ..core.template import Template
from ..core.validation import AnswerCheck, check_answers
from ..core.values import bound_value
from .inputs import HIDDEN, PLAIN, SHOWN, FieldInput, build_input, make
from .styles import style_widget

OPTIONS_TIMEOUT_SECONDS = 10.0
_HTML_STYLE = widgets.HTML().style
_options_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="metafold-options")


class TemplateForm(widgets.VBox):
    """A form for ``template``; ``.value`` is the dict of answers, ``.valid`` says if it can be used.

    Setting ``.value`` fills the form (an answers file, a previous project's answers).
    Dropdowns with an ``options_source`` ask ``providers``; without one they become
    free text with a note.
    """

    value = traitlets.Dict(help="answers of the shown fields, keyed by field key")
    valid = traitlets.Bool(False, help="True when nothing blocks creating the project")
    errors: traitlets.List[Any] = traitlets.List(help="(key, label, message) of every answer that blocks creation")

    def __init__(self, template: Template, value: Mapping[str, Any] | None = None,
                 providers: OptionsProviders | None = None,
                 options_timeout: float = OPTIONS_TIMEOUT_SECONDS, **kwargs: Any):
        super().__init__(**kwargs)
        self.template = template
        self.providers = providers
        self.options_timeout = options_timeout
        self.inputs: dict[str, FieldInput] = {}  # the fields shown so far (see _build_field)
        self.rows: dict[str, widgets.VBox] = {}  # every field
        self.labels: dict[str, widgets.HTML] = {}  # per field: label, unit, marker, help, note, error
        self.messages = self.labels  # the same widgets: the texts around an input are one HTML widget
        self.sections: dict[str, widgets.VBox] = {}
        self.options_loading: dict[str, Future] = {}
        self._touched: set[str] = set()
        self._notes: dict[str, str] = {}
        self._options: dict[str, list | None] = {}  # settled options sources: their options, None if failed
        self._pending: dict[str, Any] = {}  # answers written to fields not built yet
        self._label_states: dict[str, tuple[str, str | None, bool]] = {}  # what each label shows now
        self._options_lock = threading.Lock()
        self._options_settled: set[str] = set()
        self._fields = {f.key: f for f in template.fields}
        self._show_all_errors = False
        self._holding = False
        self._built = False  # options may arrive (on another thread) before every row exists
        self.summary = make(widgets.HTML, style=_HTML_STYLE, layout=PLAIN)
        self.add_class("metafold-form")
        self._fill(self._defaults())
        if value:
            self._fill(value)
        shown = check_answers(template, self._pending).values  # the fields to build now
        self.children = (style_widget(), *self._build_items(template.items, shown), self.summary)
        self._built = True
        self._refresh()
        self.observe(self._on_value_set, names="value")

    # --- public -------------------------------------------------------------------------

    def reveal_errors(self) -> None:
        """Show every error under its field, also for fields not touched yet."""
        self._show_all_errors = True
        self._refresh()

    def check(self) -> AnswerCheck:
        """The core's verdict on the current answers."""
        return check_answers(self.template, self._raw_answers())

    # --- building -----------------------------------------------------------------------

    def _build_items(self, items: tuple[Field | Group, ...], shown: Mapping[str, Any]) -> list[widgets.Widget]:
        built: list[widgets.Widget] = []
        for item in items:
            if isinstance(item, Group):
                title = f"<h3 class='metafold-section-title'>{html.escape(item.label)}</h3>"
                about = f"<div class='metafold-help'>{html.escape(item.help_text)}</div>" if item.help_text else ""
                heading = make(widgets.HTML, value=title + about, style=_HTML_STYLE, layout=PLAIN)
                section = make(widgets.VBox, children=[heading, *self._build_items(item.children, shown)],
                               layout=SHOWN, _dom_classes=("metafold-section",))  # given, not added: no second sync
                self.sections[item.key] = section
                built.append(section)
            else:
                built.append(self._build_row(item, item.key in shown))
        return built

    def _build_row(self, field: Field, shown: bool) -> widgets.VBox:
        """The row of ``field``; a field hidden by its condition gets its label and input when first shown."""
        source = field.options_source
        future = None
        if source and not field.options and self.providers and self.providers.has(source):
            self._notes[field.key] = "Loading options…"
            future = _options_pool.submit(self.providers.options, source)
            self.options_loading[field.key] = future
        elif source and not field.options:
            what = known_options_sources().get(source, source)
            self._notes[field.key] = f"Options ({what}) appear when connected; type the value meanwhile."
        classes = ("metafold-field", f"metafold-field-{field.key}")
        if shown:
            with self._options_lock:  # options arriving meanwhile find this row built, or build it
                row = make(widgets.VBox, children=self._build_field(field), layout=SHOWN, _dom_classes=classes)
                self.rows[field.key] = row
        else:
            row = make(widgets.VBox, layout=HIDDEN, _dom_classes=classes)
            self.rows[field.key] = row
        if future is not None:
            timer = threading.Timer(self.options_timeout, self._options_timed_out, args=(field.key,))
            timer.daemon = True
            timer.start()
            future.add_done_callback(partial(self._options_done, field.key, timer))
        return row

    def _build_field(self, field: Field) -> list[widgets.Widget]:
        """The label and input of ``field`` (answered with what was written to it so far), registered.

        Called with ``_options_lock`` held, so that options arriving meanwhile wait for the row.
        """
        key = field.key
        field_input = self._make_input(field)
        self.inputs[key] = field_input
        if key in self._pending:
            with self._hold():
                field_input.write(self._pending.pop(key))
        field_input.observe(partial(self._on_input_change, key))
        self._label_states[key] = self._label_state(key, "")
        label = make(widgets.HTML, value=self._label_html(field), style=_HTML_STYLE, layout=PLAIN)
        self.labels[key] = label
        return [label, field_input.widget]

    def _make_input(self, field: Field) -> FieldInput:
        """The input of ``field`` for the state of its options source (none, loading, loaded, failed)."""
        key = field.key
        if key in self._options:
            options = self._options[key]
            return build_input(field, options=options, offline_note=options is None)
        if key in self.options_loading:
            field_input = build_input(field, options=[])
            field_input.widget.disabled = True
            return field_input
        return build_input(field, offline_note=bool(field.options_source) and not field.options)

    def _on_input_change(self, key: str, change: Any) -> None:
        self._on_input(key)

    def _options_done(self, key: str, timer: threading.Timer, done: Any) -> None:
        timer.cancel()
        self._options_arrived(key, done)

    def _label_state(self, key: str, error: str) -> tuple[str, str | None, bool]:
        """What a field's label text depends on besides the field: its error, note and spinner."""
        return error, self._notes.get(key), key in self.options_loading and key not in self._options_settled

    def _label_html(self, field: Field, error: str = "") -> str:
        """Label, unit, required marker, help text, note and error of ``field``, in one HTML text."""
        unit = f" <span class='metafold-unit'>[{html.escape(field.unit)}]</span>" if field.unit else ""
        marker = " <span class='metafold-required' title='required'>*</span>" if field.required else ""
        parts = [f"<b class='metafold-label'>{html.escape(field.label)}</b>{unit}{marker}"]
        if field.help_text:
            parts.append(f"<div class='metafold-help'>{html.escape(field.help_text)}</div>")
        _, note, waiting = self._label_state(field.key, error)
        if note:
            spinner = "<span class='metafold-spinner'></span>" if waiting else ""
            parts.append(f"<div class='metafold-note'>{spinner}<i>{html.escape(note)}</i></div>")
        if error:
            parts.append(f"<div class='metafold-error'>{html.escape(error)}</div>")
        return "".join(parts)

    def _options_arrived(self, key: str, future: Future) -> None:
        if not self._claim_options(key):
            return  # the timeout already switched this field to free text
        try:
            options = future.result()
        except Exception as exc:  # provider down or bad answer: fall back to free text
            self._use_options(key, None, f"Could not load the options ({type(exc).__name__}: {exc}); "
                                         "type the value.")
        else:
            self._use_options(key, options, None)

    def _options_timed_out(self, key: str) -> None:
        if self._claim_options(key):
            self._use_options(key, None, f"The options did not load within {self.options_timeout:g} s; "
                                         "type the value.")

    def _claim_options(self, key: str) -> bool:
        with self._options_lock:
            if key in self._options_settled:
                return False
            self._options_settled.add(key)
            return True

    def _use_options(self, key: str, options: list | None, note: str | None) -> None:
        with self._options_lock:  # a field built from now on uses these options; one built has its row
            if note:
                self._notes[key] = note
            else:
                self._notes.pop(key, None)
            self._options[key] = options
            current = self.inputs.get(key)
            if current is not None:  # already built: swap its input, keeping the answer
                replacement = self._make_input(self._fields[key])
                answer = current.read()
                self.inputs[key] = replacement
                replacement.observe(partial(self._on_input_change, key))
                row = self.rows[key]
                row.children = (row.children[0], replacement.widget)
                with self._hold():
                    replacement.write(answer)
        self._refresh()

    # --- state --------------------------------------------------------------------------

    def _defaults(self) -> dict[str, Any]:
        defaults: dict[str, Any] = {}
        for field in self.template.fields:
            if field.default is None:
                continue
            defaults[field.key] = bound_value(field, field.default) if field.type in (
                "date", "time", "datetime") else field.default
        return defaults

    def _fill(self, answers: Mapping[str, Any]) -> None:
        with self._hold():
            for key, answer in answers.items():
                if key in self.inputs:
                    self.inputs[key].write(answer)
                elif key in self._fields:
                    self._pending[key] = answer

    def _raw_answers(self) -> dict[str, Any]:
        """The built inputs' answers; a field not built is hidden, so its answer counts for nothing."""
        return {key: field_input.read() for key, field_input in list(self.inputs.items())}

    @contextmanager
    def _hold(self) -> Iterator[None]:
        held, self._holding = self._holding, True
        try:
            yield
        finally:
            self._holding = held

    def _on_input(self, key: str) -> None:
        if self._holding:
            return
        self._touched.add(key)
        self._refresh()

    def _on_value_set(self, change: dict[str, Any]) -> None:
        if self._holding:
            return
        with self._hold():
            for field_input in self.inputs.values():
                field_input.write(None)
            self._pending.clear()
            self._fill(self._defaults())
            self._fill(change["new"])
        self._refresh()

    def _shown(self) -> AnswerCheck:
        """The check of the current answers, after building every field it shows."""
        result = self.check()
        while True:
            new = [key for key in result.values if key not in self.inputs]
            if not new:
                return result
            for key in new:  # shown by an answer: build it, then check again with its answer
                with self._options_lock:
                    if key not in self.inputs:  # (a refresh on another thread may have built it)
                        self.rows[key].children = self._build_field(self._fields[key])
            result = self.check()

    def _refresh(self) -> None:
        if not self._built:  # the end of __init__ refreshes once everything exists
            return
        result = self._shown()
        errors = {error.key: error for error in result.errors}
        for key, row in self.rows.items():
            shown = key in result.values
            layout = SHOWN if shown else HIDDEN
            if row.layout is not layout:
                row.layout = layout
            if key not in self.labels:
                continue
            error = errors.get(key)
            shown_error = error.message if error and (self._show_all_errors or key in self._touched) else ""
            state = self._label_state(key, shown_error)
            if self._label_states.get(key) != state:  # the text only changes with its inputs
                self._label_states[key] = state
                self.labels[key].value = self._label_html(self._fields[key], shown_error)
        for group in self.template.groups:
            shown = any(f.key in result.values for f in group.fields())
            layout = SHOWN if shown else HIDDEN
            if self.sections[group.key].layout is not layout:
                self.sections[group.key].layout = layout
        self.summary.value = _summary_html(result)
        with self._hold():
            self.value = {key: value for key, value in result.values.items()}
            self.errors = [(e.key, e.label, e.message) for e in result.errors]
            self.valid = result.ok


def _summary_html(result: AnswerCheck) -> str:
    if result.ok:
        return "<div class='metafold-summary metafold-ok'>All answers are valid.</div>"
    count = len(result.errors)
    items = "".join(f"<li><b>{html.escape(e.label)}</b>: {html.escape(e.message)}</li>" for e in result.errors)
    noun = "answer blocks" if count == 1 else "answers block"
    return (f"<div class='metafold-summary metafold-blocked'>{count} {noun} creation:"
            f"<ul>{items}</ul></div>")
