"""The widgets a TemplateForm makes per field: few, as widget creation is most of its build time."""
from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import ipywidgets as widgets
import pytest

from metafold_widgets import OptionsProviders, load_template
from metafold_widgets.widgets import TemplateForm

OPTIONS = ["alpha", "beta", "gamma"]
TYPES = ["text", "textarea", "number", "integer", "decimal", "date", "time", "datetime", "dropdown",
         "radio", "checkbox", "multi_select", "email", "url", "items"]


def _field(kind: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": kind, "label": f"A {kind}", "help_text": "Some help.", "required": True}
    if kind in ("dropdown", "radio", "checkbox_group", "multi_select"):
        spec["options"] = OPTIONS
    if kind in ("number", "integer", "decimal"):
        spec.update(unit="mM", min=0, max=10)
    return spec


def _made(fields: dict[str, Any]) -> Counter[str]:
    """The widgets (by class name) that building a form of ``fields`` creates."""
    made: list[widgets.Widget] = []
    previous = widgets.Widget._widget_construction_callback
    widgets.Widget.on_widget_constructed(made.append)
    try:
        TemplateForm(load_template({"name": "count", "fields": fields}))
    finally:
        widgets.Widget.on_widget_constructed(previous)
    for widget in made:
        widget.close()
    return Counter(type(widget).__name__ for widget in made)


def _per_field(kind: str, few: int = 1, many: int = 11) -> Counter[str]:
    """The widgets each further field of type ``kind`` adds to a form."""
    extra = _made({f"f{i}": _field(kind) for i in range(many)}) - _made({f"f{i}": _field(kind) for i in range(few)})
    assert all(count % (many - few) == 0 for count in extra.values()), extra
    return Counter({name: count // (many - few) for name, count in extra.items()})


@pytest.mark.parametrize("kind", TYPES)
def test_a_field_is_its_row_one_html_text_and_its_input(kind: str) -> None:
    made = _per_field(kind)
    assert sum(made.values()) == 3, made
    assert made["VBox"] >= 1 and made["HTML"] == 1, made  # the row, and label + help + error in one text


def test_a_checkbox_group_adds_one_checkbox_per_option_and_no_more() -> None:
    made = _per_field("checkbox_group")
    assert made == Counter({"VBox": 2, "HTML": 1, "Checkbox": len(OPTIONS)}), made


def test_fields_share_their_layouts_and_styles() -> None:
    """Layout and style objects are widgets too: a field makes none of its own."""
    made = _made({f"f{i}": _field(kind) for i, kind in enumerate(TYPES * 3)})
    own = {name: count for name, count in made.items() if name == "Layout" or name.endswith("Style")}
    assert sum(own.values()) <= 2, own  # at most the form's own (its CSS carrier), never per field


def test_a_section_adds_its_box_and_its_heading() -> None:
    flat = _made({"a": _field("text"), "b": _field("text")})
    grouped = _made({"s": {"type": "group", "label": "Section", "help_text": "About it.",
                           "fields": {"a": _field("text"), "b": _field("text")}}})
    assert grouped - flat == Counter({"VBox": 1, "HTML": 1})


def test_the_help_text_and_the_error_share_the_label_widget() -> None:
    form = TemplateForm(load_template({"name": "t", "fields": {"code": {
        "type": "text", "label": "Code", "help_text": "Three capitals.", "pattern": "^[A-Z]{3}$"}}}))
    label, field_input = form.rows["code"].children
    assert field_input is form.inputs["code"].widget and label is form.labels["code"] is form.messages["code"]
    assert "Three capitals." in label.value and "metafold-error" not in label.value
    form.inputs["code"].widget.value = "abc"
    text = label.value
    assert text.index("metafold-label") < text.index("metafold-help") < text.index("metafold-error")
    form.inputs["code"].widget.value = "ABC"
    assert "metafold-error" not in label.value and "Three capitals." in label.value


CHAIN = {"name": "chain", "fields": {
    "on": {"type": "checkbox", "label": "On"},
    "kind": {"type": "dropdown", "options": ["x", "y"], "condition": {"field": "on", "equals": True}},
    "detail": {"type": "text", "required": True, "condition": {"field": "kind", "equals": "y"}},
    "stains": {"type": "checkbox_group", "options": OPTIONS, "condition": {"field": "on", "equals": True}},
}}


def test_a_field_hidden_by_its_condition_is_only_its_row_until_shown() -> None:
    made = _made({"on": _field("checkbox"),
                  **{f"f{i}": dict(_field("checkbox_group"), condition={"field": "on", "equals": True})
                     for i in range(10)}})
    # the form (and its layout), its CSS carrier and summary; the controller's row, label and checkbox; 10 rows
    assert made == Counter({"TemplateForm": 1, "Layout": 1, "HTML": 3, "VBox": 1 + 10, "Checkbox": 1}), made
    form = TemplateForm(load_template(CHAIN))
    assert set(form.inputs) == {"on"} and set(form.rows) == {"on", "kind", "detail", "stains"}
    assert form.rows["stains"].layout.display == "none" and form.rows["stains"].children == ()
    form.inputs["on"].widget.value = True
    assert set(form.inputs) == {"on", "kind", "stains"}
    assert form.rows["stains"].layout.display != "none"
    assert form.rows["stains"].children == (form.labels["stains"], form.inputs["stains"].widget)
    form.inputs["kind"].widget.value = "y"
    assert "detail" in form.inputs and form.rows["detail"].layout.display != "none"
    assert [key for key, _, _ in form.errors] == ["detail"]


def test_answers_given_to_hidden_fields_appear_when_they_are_shown() -> None:
    answers = {"on": False, "kind": "y", "detail": "kept", "stains": ["beta"]}
    form = TemplateForm(load_template(CHAIN), value=answers)
    assert form.value == {"on": False} and set(form.inputs) == {"on"}
    form.inputs["on"].widget.value = True  # shows kind and stains, and kind = y shows detail
    assert form.value == {"on": True, "kind": "y", "detail": "kept", "stains": ["beta"]}
    again = TemplateForm(load_template(CHAIN))
    again.value = answers | {"on": True}  # set at once: the whole chain is built and answered
    assert again.value == {"on": True, "kind": "y", "detail": "kept", "stains": ["beta"]} and again.valid
    again.value = {"on": False}
    assert again.value == {"on": False}
    again.inputs["on"].widget.value = True
    assert again.value == {"on": True, "kind": None, "stains": None}  # reset, not the earlier answers


def test_options_that_arrive_for_a_hidden_field_are_used_when_it_is_shown() -> None:
    providers = OptionsProviders()
    providers.register("groups", lambda: ["Lab A", "Lab B"])
    template = load_template({"name": "o", "fields": {
        "on": {"type": "checkbox"},
        "group": {"type": "dropdown", "options_source": "groups", "condition": {"field": "on", "equals": True}}}})
    form = TemplateForm(template, value={"group": "Lab B"}, providers=providers)
    form.options_loading["group"].result(timeout=10)
    for _ in range(500):  # the done-callback runs right after the result is set
        if "group" in form._options:
            break
        threading.Event().wait(0.01)
    assert "group" not in form.inputs
    form.inputs["on"].widget.value = True
    dropdown = form.inputs["group"].widget
    assert isinstance(dropdown, widgets.Dropdown) and not dropdown.disabled
    assert [label for label, _ in dropdown.options][1:] == ["Lab A", "Lab B"]
    assert form.value["group"] == "Lab B" and "Loading" not in form.labels["group"].value
