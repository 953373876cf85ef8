"""Form build time: metafold's TemplateForm against bare widgets and ipywidgets-jsonschema's Form.

The floor is as many bare ``ipywidgets.Text`` in a ``VBox`` as the template has fields:
no form can show its inputs with less. Each build also reports how many widgets it made
(a Layout or a Style object is a widget too), as widget creation is most of the time.
The generated template's conditional fields are hidden at first (their checkbox is not
ticked) and TemplateForm builds them when first shown; the "every field shown" row
builds the same template with those checkboxes ticked.

ipywidgets-jsonschema gets the same fields: it builds from our JSON Schema
export (``to_json_schema``), adapted to the subset it reads (draft 7, one type per
property, each group a nested object, which it shows as an accordion, help texts shown
like ours). The schema conversion is done once, outside the timing; a build is the
constructor plus, for ipywidgets-jsonschema, the ``.widget`` that wraps its elements.
TemplateForm's build also checks the (empty) answers once to show the summary.

Goals for 500 fields: TemplateForm builds within 1.3x the bare widgets (medians of the
same run), in under 500 ms, and is not slower than ipywidgets-jsonschema. On a shared
machine, run it with ``--runs 15`` or more and compare medians.

    .venv/bin/python benchmarks/bench_forms.py [--runs N]
"""
from __future__ import annotations

import argparse
import copy
import gc
import statistics
import sys
import time
import warnings
from typing import Any, Callable

import ipywidgets
from ipywidgets_jsonschema import Form

from metafold_widgets import load_template
from metafold_widgets.core.formats.jsonschema import to_json_schema
from metafold_widgets.core.template import Template
from metafold_widgets.widgets import TemplateForm

GOAL_MS = 500.0
GOAL_BARE_RATIO = 1.3
DATETIME_DEFAULT = "2025-06-13T09:30:00+00:00"
_TYPES = ("text", "textarea", "number", "integer", "decimal", "date", "time", "datetime", "dropdown",
          "radio", "checkbox", "checkbox_group", "multi_select", "email", "url")


def generated_template(n_fields: int = 500, per_group: int = 25) -> dict[str, Any]:
    """A template with ``n_fields`` fields of every type in groups, a pattern, units and conditions."""
    groups: dict[str, Any] = {}
    for index in range(n_fields):
        group = groups.setdefault(f"section_{index // per_group:02d}", {
            "type": "group", "label": f"Section {index // per_group + 1}", "fields": {}})
        kind = _TYPES[index % len(_TYPES)]
        spec: dict[str, Any] = {"type": kind, "label": f"Field {index} ({kind})",
                                "help_text": f"Help for field {index}."}
        if kind == "text" and index % 2:
            spec.update(pattern="^[A-Z]{3}[0-9]{3}$", required=True)
        if kind in ("number", "decimal"):
            spec.update(unit="mM", min=0, max=1000)
        if kind == "integer":
            spec.update(min=1, max=50)
        if kind in ("dropdown", "radio", "checkbox_group", "multi_select"):
            spec["options"] = [f"Option {n}" for n in range(5)]
        if kind == "checkbox":
            controller = f"field_{index:03d}"
        elif index % 15 == 11:  # the field after a checkbox shows only when it is ticked
            spec["condition"] = {"field": controller, "equals": True}
        group["fields"][f"field_{index:03d}"] = spec
    return {"id": "generated-500", "name": "Generated 500 fields", "version": "1.0.0",
            "folders": ["data/raw", "analysis"], "fields": groups}


def jsonschema_form_schema(template: Template) -> dict[str, Any]:
    """``to_json_schema(template)`` in the draft-7 subset ipywidgets-jsonschema builds forms from.

    It reads one type per property (ours allow ``null`` for optional answers) and shows
    nested objects as sections, so each group becomes an object; the root ``allOf`` of
    conditional requirements would become a schema chooser there, so it is left out.
    Date-time properties get a default (see below).
    """
    exported = to_json_schema(template)

    def adapt(schema: dict[str, Any]) -> dict[str, Any]:
        schema = copy.deepcopy(schema)
        if isinstance(schema.get("type"), list):
            schema["type"] = next(t for t in schema["type"] if t != "null")
        if "enum" in schema:
            schema["enum"] = [value for value in schema["enum"] if value is not None]
        if schema.get("format") == "date-time" and "default" not in schema:
            # Its DatetimePicker needs an aware time but it resets a blank one to a naive now():
            # with ipywidgets 8 that raises, so every date-time property gets a default.
            schema["default"] = DATETIME_DEFAULT
        return {key: value for key, value in schema.items() if not key.startswith("x-")}

    def objects(items: tuple) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        for item in items:
            if hasattr(item, "children"):
                properties[item.key] = {"type": "object", "title": item.label, "properties": objects(item.children)}
            else:
                properties[item.key] = adapt(exported["properties"][item.key])
        return properties

    return {"$schema": "http://json-schema.org/draft-07/schema#", "title": exported["title"],
            "type": "object", "properties": objects(template.items)}


def build_template_form(template: Template, value: dict[str, Any] | None = None) -> ipywidgets.Widget:
    return TemplateForm(template, value=value)


def build_bare_texts(count: int) -> ipywidgets.Widget:
    """The floor: ``count`` default ``Text`` widgets (each with its own layout and style) in a ``VBox``."""
    return ipywidgets.VBox([ipywidgets.Text() for _ in range(count)])


def build_jsonschema_form(schema: dict[str, Any]) -> ipywidgets.Widget:
    form = Form(schema, vertically_place_labels=True, show_descriptions=True, sorter=list)
    return form.widget


def measure(build: Callable[[], ipywidgets.Widget]) -> tuple[float, int]:
    """One build's time in ms, and the widgets it made (closed afterwards)."""
    before = set(ipywidgets.Widget.widgets)
    gc.collect()
    start = time.perf_counter()
    build()
    elapsed = (time.perf_counter() - start) * 1000
    new = [w for key, w in list(ipywidgets.Widget.widgets.items()) if key not in before]
    for widget in new:  # close only what this build made: the forms share module-level layouts
        widget.close()
    return elapsed, len(new)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="timed builds per form (default 9)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", DeprecationWarning)
    generated = load_template(generated_template())
    ticked = {field.key: True for field in generated.fields if field.type == "checkbox"}
    cases: list[tuple[str, Template, dict[str, Any] | None]] = [
        ("multi-modal-imaging", load_template("multi-modal-imaging"), None),
        ("generated 500 fields", generated, None),  # a conditional field is built once shown
        ("500, every field shown", generated, ticked)]  # the checkboxes that show them ticked
    print(f"Form build time, {args.runs} runs after a warm-up, Python {sys.version.split()[0]}, "
          f"ipywidgets {ipywidgets.__version__}")
    header = f"{'template':<22}{'fields':>7}  {'form':<22}{'median ms':>10}{'min ms':>9}{'widgets':>9}"
    print(header)
    print("-" * len(header))
    verdicts: list[str] = []
    for name, template, value in cases:
        schema = jsonschema_form_schema(template)
        count = len(template.fields)
        rounds: dict[str, list[float]] = {"TemplateForm": [], "bare Text in a VBox": []}
        builds = {"TemplateForm": lambda: build_template_form(template, value),
                  "bare Text in a VBox": lambda: build_bare_texts(count)}
        if value is None:  # (ipywidgets-jsonschema builds every field whatever the answers)
            rounds["ipywidgets-jsonschema"] = []
            builds["ipywidgets-jsonschema"] = lambda: build_jsonschema_form(schema)
        made: dict[str, int] = {}
        for build in builds.values():
            measure(build)  # warm-up
        for _ in range(args.runs):  # interleaved, so that machine load hits every form alike
            for label, build in builds.items():
                elapsed, made[label] = measure(build)
                rounds[label].append(elapsed)
        for label, times in rounds.items():
            print(f"{name:<22}{count:>7}  {label:<22}{statistics.median(times):>10.1f}{min(times):>9.1f}"
                  f"{made[label]:>9}")
        ours = statistics.median(rounds["TemplateForm"])
        bare = ours / statistics.median(rounds["bare Text in a VBox"])
        print(f"{'':<31}ratio TemplateForm / bare Text in a VBox (median): {bare:.2f}")
        if value is not None:
            continue
        ratio = ours / statistics.median(rounds["ipywidgets-jsonschema"])
        print(f"{'':<31}ratio TemplateForm / ipywidgets-jsonschema (median): {ratio:.2f}")
        if count >= 500:
            verdicts.append(f"500 fields: TemplateForm median {ours:.0f} ms, {bare:.2f}x {count} bare Text in a "
                            f"VBox ({'meets' if bare <= GOAL_BARE_RATIO else 'MISSES'} <= {GOAL_BARE_RATIO}x), "
                            f"{'meets' if ours < GOAL_MS else 'MISSES'} < {GOAL_MS:.0f} ms, "
                            f"{ratio:.2f}x ipywidgets-jsonschema ({'not slower' if ratio <= 1 else 'SLOWER'})")
    print()
    for verdict in verdicts:
        print("Goal:", verdict)
    return 0


if __name__ == "__main__":
    sys.exit(main())
