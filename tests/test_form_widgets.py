"""The widgets a TemplateForm makes per field: few, as widget creation is most of its build time."""
from __future__ import annotations

from collections import Counter
from typing import Any

import ipywidgets as widgets
import pytest

from metafold_widgets import load_template
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
