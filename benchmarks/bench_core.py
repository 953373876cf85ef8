"""Time the core engine: load, validate, plan and apply, for a small and a large template.

Run from the repository root::

    .venv/bin/python benchmarks/bench_core.py [--repeat N]

Templates measured:

* the tutorial's multi-modal imaging template (``../shared/examples`` when present,
  otherwise the built-in ``multi-modal-imaging``), with the tutorial's answers or
  generated valid answers;
* a generated 500-field template mixing every field type, groups, conditions and patterns.

Each step runs N times; the table shows the median and the minimum in milliseconds.
"YAML parse only" is PyYAML's pure-Python SafeLoader on the same text: the baseline
that shows what the loader adds (line numbers, checks, building the Template).
This is a script, not a test: it asserts nothing about speed.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import yaml

from metafold_widgets import check_answers, create_project, load_template, plan_project
from metafold_widgets.core.answers_file import load_answers
from metafold_widgets.core.fields import Field
from metafold_widgets.core.loader import builtin_template_path
from metafold_widgets.core.template import Template

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("METAFOLD_SHARED", ROOT.parent / "shared"))
NOW = dt.datetime(2025, 6, 13, 10, 30)


# --- inputs -------------------------------------------------------------------------------------------

def tutorial() -> tuple[str, str, dict[str, Any] | None]:
    """(label, template text, answers or None) of the tutorial template."""
    template = SHARED / "examples/templates/multi-modal-imaging.yaml"
    answers = SHARED / "examples/answers/multi-modal-imaging.yaml"
    if template.is_file():
        return ("tutorial (shared/examples)", template.read_text(encoding="utf-8"),
                load_answers(answers) if answers.is_file() else None)
    builtin = builtin_template_path("multi-modal-imaging")
    assert builtin is not None, "the built-in multi-modal-imaging template is missing"
    return "tutorial (built-in)", builtin.read_text(encoding="utf-8"), None


def generated(fields_wanted: int = 500, per_group: int = 10) -> tuple[str, str, None]:
    """(label, YAML text, None) of a template with every field type, groups, conditions and patterns."""
    extra_kinds = [
        {"type": "email", "placeholder": "someone@example.org"},
        {"type": "url", "placeholder": "https://example.org/data"},
        {"type": "radio", "options": ["low", "medium", "high"], "default": "medium"},
        {"type": "checkbox_group", "options": ["dapi", "gfp", "rfp", "cy5"]},
        {"type": "datetime", "default": "now"},
        {"type": "number", "min": -10, "max": 10},
        {"type": "items"},
        {"type": "dropdown", "options_source": "omero_groups_api"},
    ]
    top = {
        "project_code": {"type": "text", "required": True, "pattern": "^P[0-9]{3}$", "placeholder": "P042"},
        "title": {"type": "text", "required": True, "max_length": 80},
        "investigator": {"type": "text", "required": True},
        "contact": {"type": "email", "placeholder": "pi@example.org"},
        "summary": {"type": "textarea"},
        "start": {"type": "date", "default": "today"},
        "budget": {"type": "decimal", "min": 0, "step": 0.01, "precision": 2, "unit": "EUR"},
        "enable_elabftw": {"type": "checkbox", "default": True},
        "elabftw_tags": {"type": "text", "condition": {"field": "enable_elabftw", "equals": True}},
        "enable_omero": {"type": "checkbox", "default": False},
    }
    fields: dict[str, Any] = dict(top)
    count, group = len(top), 0
    while count < fields_wanted:
        g = f"g{group:02d}"
        members: dict[str, Any] = {
            f"{g}_enabled": {"type": "checkbox", "default": True},
            f"{g}_code": {"type": "text", "required": True, "pattern": "^S[0-9]{4}$", "placeholder": "S0042",
                          "condition": {"field": f"{g}_enabled", "equals": True}},
            f"{g}_note": {"type": "textarea", "condition": {"field": f"{g}_enabled", "equals": True}},
            f"{g}_count": {"type": "integer", "min": 0, "max": 1000},
            f"{g}_ratio": {"type": "decimal", "min": 0, "max": 1, "step": 0.01, "precision": 2, "unit": "%"},
            f"{g}_day": {"type": "date", "min": "2000-01-01", "max": "today"},
            f"{g}_time": {"type": "time", "min": "06:00", "max": "22:00"},
            f"{g}_kind": {"type": "dropdown", "options": [f"kind {k}" for k in range(8)], "required": True},
            f"{g}_tags": {"type": "multi_select", "options": [f"tag{k}" for k in range(6)], "min_selections": 1,
                          "condition": {"any": [{"field": f"{g}_kind", "in": ["kind 0", "kind 1"]},
                                                {"not": {"field": f"{g}_count", "lt": 10}}]}},
            f"{g}_extra": extra_kinds[group % len(extra_kinds)],
        }
        members = dict(list(members.items())[:min(per_group, fields_wanted - count)])
        spec: dict[str, Any] = {"type": "group", "label": f"Section {group}", "fields": members}
        if group:
            spec["condition"] = {"field": f"g{group - 1:02d}_enabled", "equals": True}
        fields[f"section_{group:02d}"] = spec
        count += len(members)
        group += 1
    folders = {f"{n:02d}_part": {f"sub_{m}": [f"leaf_{k}" for k in range(3)] for m in range(4)} for n in range(8)}
    template = {"id": "generated-500", "name": "Generated 500-field template", "version": "1.0.0",
                "project_name": "{project_code}_{title}", "folders": folders, "fields": fields}
    return f"generated ({count} fields)", yaml.safe_dump(template, sort_keys=False, allow_unicode=True), None


# --- valid answers for any template ------------------------------------------------------------------

def example_answers(template: Template) -> dict[str, Any]:
    """Answers that pass :func:`check_answers` (optional fields that do not are left out)."""
    answers = {f.key: value for f in template.fields if (value := _example(f)) is not None}
    for error in check_answers(template, answers, now=NOW).errors:
        if template.field(error.key).required:
            raise SystemExit(f"cannot make a valid answer for {error.key}: {error.message}")
        answers.pop(error.key, None)
    result = check_answers(template, answers, now=NOW)
    if not result.ok:
        raise SystemExit(f"generated answers are invalid: {result.errors}")
    return answers


def _example(field: Field) -> Any:
    kind = field.type
    if kind in ("text", "textarea"):
        candidates = [field.placeholder, "IMG202501", "ABC123", "S0042", f"Example {field.label}"]
        text = next((c for c in candidates if c and (not field.pattern or re.search(field.pattern, c))), None)
        return text[:field.max_length] if text and field.max_length else text
    if kind == "email":
        return "someone@example.org"
    if kind == "url":
        return "https://example.org/data"
    if kind in ("integer", "number", "decimal"):
        low = field.minimum if isinstance(field.minimum, (int, float)) else 0
        return low + (field.step or 1) * 3 if field.maximum is None or low + 3 <= field.maximum else low
    if kind == "date":
        return "2024-05-01"
    if kind == "time":
        return "10:30"
    if kind == "datetime":
        return "2024-05-01T10:30"
    if kind == "checkbox":
        return True
    if kind in ("dropdown", "radio"):
        return field.options[0].value if field.options else "Lab group A"
    if kind in ("multi_select", "checkbox_group"):
        return [o.value for o in field.options[:max(2, field.min_selections or 0)]]
    return "42"  # elabFTW link types hold an id


# --- timing -------------------------------------------------------------------------------------------

def measure(step: Callable[[int], Any], repeat: int, setup: Callable[[int], Any] | None = None) -> tuple[float, float]:
    """(median, min) of ``step(i)`` in milliseconds over ``repeat`` runs (``setup(i)`` untimed)."""
    times = []
    for i in range(repeat):
        if setup:
            setup(i)
        start = time.perf_counter()
        step(i)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def bench(text: str, answers: dict[str, Any] | None, repeat: int, work: Path) -> dict[str, tuple[float, float]]:
    template = load_template(text)
    answers = answers if answers is not None else example_answers(template)
    assert check_answers(template, answers, now=NOW).ok
    work.mkdir(parents=True)
    results = {
        "load (text -> Template)": measure(lambda i: load_template(text), repeat),
        "validate (check_answers)": measure(lambda i: check_answers(template, answers, now=NOW), repeat),
        "plan (plan_project)": measure(
            lambda i: plan_project(template, answers, work, created_by="bench", now=NOW), repeat),
        "apply (create_project)": measure(
            lambda i: create_project(template, answers, work / str(i), created_by="bench", now=NOW), repeat,
            setup=lambda i: (work / str(i)).mkdir()),
        "YAML parse only (SafeLoader)": measure(lambda i: yaml.load(text, Loader=yaml.SafeLoader), repeat),
    }
    if getattr(yaml, "CSafeLoader", None):
        results["YAML parse only (libyaml)"] = measure(lambda i: yaml.load(text, Loader=yaml.CSafeLoader), repeat)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", "-n", type=int, default=20, help="runs per step (default 20)")
    args = parser.parse_args(argv)
    cases = [tutorial(), generated()]
    print(f"metafold-widgets core benchmark: Python {platform.python_version()}, PyYAML {yaml.__version__} "
          f"(libyaml {'yes' if yaml.__with_libyaml__ else 'no'}), {args.repeat} runs per step, times in ms")
    for label, text, _ in cases:
        print(f"  {label}: {len(text):,} characters")
    work = Path(tempfile.mkdtemp(prefix="metafold-bench-"))
    try:
        columns = [bench(text, answers, args.repeat, work / str(n)) for n, (_, text, answers) in enumerate(cases)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    names = [label.split(" (")[0] for label, _, _ in cases]
    width = max(len(step) for step in columns[0])
    header = f"{'step':<{width}}" + "".join(f" | {name + ' median':>17} {'min':>8}" for name in names)
    print()
    print(header)
    print("-" * len(header))
    for step in columns[0]:
        print(f"{step:<{width}}" + "".join(f" | {col[step][0]:>17.2f} {col[step][1]:>8.2f}" for col in columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
