"""One input widget per field type, and the conversions between widget and answer values.

Numbers use a text box on purpose: a blank number stays blank (a FloatText would
show 0), an out-of-range entry is reported instead of silently clamped, and a decimal
comma is accepted. Layout and style objects are shared between inputs, which keeps a
500-field form quick to build. Each input's description is its field's label, so screen
readers and ``get_by_label`` find it; the form's CSS hides it, as the label is shown above.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import ipywidgets as widgets

from ..core.fields import LINK_TYPES, NUMBER_TYPES, Field, Option

SHOWN = widgets.Layout(width="100%", max_width="46em")
HIDDEN = widgets.Layout(display="none")
# "auto", not "100%": inputs carry a 2px margin, so 100% overflowed every field row and gave
# each one a horizontal scrollbar (and clipped the input's right border).
WIDE = widgets.Layout(width="auto")
PLAIN = widgets.Layout()  # for widgets with the default layout; never mutate a shared layout or style
_TEXT_STYLE = widgets.Text().style  # one shared description style per widget family
_CHECKBOX_STYLE = widgets.Checkbox().style
_DESCRIPTION_STYLE = widgets.Dropdown().style  # pickers, radios and selects use the same class
_BLANK_CHOICE = ("— choose —", None)
W = TypeVar("W", bound=widgets.Widget)
_SYNCED_NAMES: dict[type, tuple[str, ...]] = {}


def make(cls: type[W], **kwargs: Any) -> W:
    """``cls(**kwargs)``, handing it the names of its synced traits.

    Without them ipywidgets lists them anew for every widget, filtering all of the class's
    traits by metadata: about a tenth of the time a large form takes to build. The names
    depend on the class only, so they are listed once per class (a fresh list per widget:
    ``add_traits`` appends to it).
    """
    names = _SYNCED_NAMES.get(cls)
    if names is None:
        names = _SYNCED_NAMES[cls] = tuple(cls.class_trait_names(sync=True))
    return cls(keys=list(names), **kwargs)


@dataclass
class FieldInput:
    """The widget editing one field, with how to read and write its answer."""

    field: Field
    widget: widgets.Widget
    read: Callable[[], Any]
    write: Callable[[Any], None]
    free_text_fallback: bool = False

    def observe(self, handler: Callable[[Any], None]) -> None:
        """Call ``handler`` whenever the researcher changes the answer."""
        if isinstance(self.widget, widgets.Box):  # a checkbox group
            for child in self.widget.children:
                child.observe(handler, names="value")
        else:
            self.widget.observe(handler, names="value")


def build_input(field: Field, options: list[Option] | None = None, offline_note: bool = False) -> FieldInput:
    """The input widget for ``field``; ``options`` override the field's (from an options source)."""
    kind = field.type
    choices = options if options is not None else list(field.options)
    if kind == "checkbox":
        box = make(widgets.Checkbox, indent=False, description=field.label, layout=WIDE,
                   style=_CHECKBOX_STYLE)
        return FieldInput(field, box, lambda: box.value, lambda v: setattr(box, "value", bool(v)))
    if field.has_choices and (choices or not field.options_source):
        return _choice_input(field, choices)
    if kind == "date":
        picker = make(widgets.DatePicker, value=None, description=field.label, layout=WIDE,
                      style=_DESCRIPTION_STYLE)
        return FieldInput(field, picker, lambda: picker.value,
                          lambda v: setattr(picker, "value", _parse(dt.date.fromisoformat, v)))
    if kind == "time":
        clock = make(widgets.TimePicker, value=None, description=field.label, layout=WIDE,
                     style=_DESCRIPTION_STYLE)
        return FieldInput(field, clock, lambda: clock.value,
                          lambda v: setattr(clock, "value", _parse(dt.time.fromisoformat, v)))
    if kind == "datetime":
        moment = make(widgets.NaiveDatetimePicker, value=None, description=field.label, layout=WIDE,
                      style=_DESCRIPTION_STYLE)
        return FieldInput(field, moment, lambda: moment.value,
                          lambda v: setattr(moment, "value", _parse(dt.datetime.fromisoformat, v)))
    if kind == "textarea":
        area = make(widgets.Textarea, description=field.label, placeholder=field.placeholder,
                    layout=WIDE, rows=3, style=_TEXT_STYLE)
        return _text_input(field, area)
    text = make(widgets.Text, description=field.label, placeholder=_placeholder(field, offline_note),
                layout=WIDE, style=_TEXT_STYLE)
    return _text_input(field, text, free_text_fallback=field.has_choices)


def _text_input(field: Field, box: widgets.Widget, free_text_fallback: bool = False) -> FieldInput:
    def write(value: Any) -> None:
        if value is None:
            box.value = ""
        elif isinstance(value, list):
            box.value = ", ".join(map(str, value))
        elif isinstance(value, float) and value.is_integer() and field.type in NUMBER_TYPES:
            box.value = str(int(value)) if field.type == "integer" else str(value)
        else:
            box.value = str(value)

    return FieldInput(field, box, lambda: box.value, write, free_text_fallback)


def _choice_input(field: Field, choices: list[Option]) -> FieldInput:
    pairs = [(option.label, option.value) for option in choices]
    values = {value for _, value in pairs}
    if field.type == "multi_select":
        select = make(widgets.SelectMultiple, options=pairs, rows=min(max(len(pairs), 2), 8),
                      description=field.label, layout=WIDE, style=_DESCRIPTION_STYLE)
        return FieldInput(field, select, lambda: list(select.value), lambda v: setattr(
            select, "value", tuple(x for x in (v or []) if x in values)))
    if field.type == "checkbox_group":
        boxes = [make(widgets.Checkbox, description=label, indent=False, layout=PLAIN,
                      style=_CHECKBOX_STYLE) for label, _ in pairs]
        group = make(widgets.VBox, children=boxes, layout=WIDE)

        def write_group(value: Any) -> None:
            chosen = set(value or [])
            for box, (_, option_value) in zip(boxes, pairs):
                box.value = option_value in chosen

        return FieldInput(field, group, lambda: [v for box, (_, v) in zip(boxes, pairs) if box.value],
                          write_group)
    if field.type == "radio":
        radio = make(widgets.RadioButtons, options=pairs, value=None, description=field.label, layout=WIDE,
                     style=_DESCRIPTION_STYLE)
        return FieldInput(field, radio, lambda: radio.value,
                          lambda v: setattr(radio, "value", v if v in values else None))
    dropdown = make(widgets.Dropdown, options=[_BLANK_CHOICE, *pairs], value=None, description=field.label,
                    layout=WIDE, style=_DESCRIPTION_STYLE)
    return FieldInput(field, dropdown, lambda: dropdown.value,
                      lambda v: setattr(dropdown, "value", v if v in values else None))


def _placeholder(field: Field, offline_note: bool) -> str:
    if field.placeholder:
        return field.placeholder
    if field.type in NUMBER_TYPES:
        low = "" if field.minimum is None else f"{field.minimum:g}"
        high = "" if field.maximum is None else f"{field.maximum:g}"
        kind = "whole number" if field.type == "integer" else "number"
        return f"{kind} {low}–{high}".strip() if (low or high) else kind
    if field.type == "email":
        return "name@example.org"
    if field.type == "url":
        return "https://"
    if field.type in LINK_TYPES:
        return f"elabFTW {field.type} id"
    if offline_note:
        return "type the value"
    return ""


def _parse(parse: Callable[[str], Any], value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, (dt.date, dt.time)):
        return value
    try:
        return parse(str(value))
    except ValueError:
        return None
