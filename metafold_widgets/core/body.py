"""The experiment body's sections that a template declares (``body:``), and how they are checked.

A template lists the sections a researcher completes in the lab notebook (protocol, sample
preparation, imaging sessions...)::

    body:
      - title: Protocol
        placeholder: step-by-step protocol, reagents and equipment
      - title: Imaging sessions
        text: "Microscope: {microscope_system}"
        placeholder: date, operator and settings of each session

``text`` may name answers as ``{field}`` (checked like name patterns); ``placeholder`` says
what is still to be completed and is shown marked as such. A section needs a ``title``.
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any, Callable, Mapping

SECTION_KEYS = ("title", "text", "placeholder")
MAX_SECTIONS = 100

Report = Callable[[tuple, str], None]
CheckPattern = Callable[[str, tuple], None]


@dataclass(frozen=True)
class BodySection:
    """One heading of the experiment body: fixed or answer-filled text, and what is left to write."""

    title: str
    text: str = ""
    placeholder: str = ""


def parse_body(spec: Any, report: Report, check_pattern: CheckPattern) -> tuple[BodySection, ...]:
    """The ``body:`` sections; every problem is reported with its path, broken sections are left out."""
    if spec is None:
        return ()
    if not isinstance(spec, list):
        report(("body",), "'body' must be a list of sections like {title: Protocol, placeholder: ...}")
        return ()
    if len(spec) > MAX_SECTIONS:
        report(("body",), f"'body' has more than {MAX_SECTIONS} sections")
        spec = spec[:MAX_SECTIONS]
    sections: list[BodySection] = []
    seen: set[str] = set()
    for index, entry in enumerate(spec):
        path = ("body", index)
        if not isinstance(entry, Mapping):
            report(path, "a body section must be a mapping with a 'title' (and 'text' or 'placeholder')")
            continue
        broken = False
        for key in entry:
            if key not in SECTION_KEYS:
                report(path + (key,), f"unknown body section key '{key}' (known keys: {', '.join(SECTION_KEYS)})")
                broken = True
        texts: dict[str, str] = {}
        for key in SECTION_KEYS:
            value = entry.get(key)
            if value is None:
                texts[key] = ""
            elif isinstance(value, (Mapping, list, bool)):
                report(path + (key,), f"body section '{key}' must be text")
                broken = True
            else:
                texts[key] = str(value).strip()
                check_pattern(texts[key], path + (key,))
        title = texts.get("title", "")
        if not title and "title" in texts:
            report(path, "a body section needs a 'title'")
            broken = True
        elif title.casefold() in seen:
            report(path + ("title",), f"duplicate body section '{title}'")
            broken = True
        if not broken:
            seen.add(title.casefold())
            sections.append(BodySection(title, texts["text"], texts["placeholder"]))
    return tuple(sections)


def fill_text(pattern: str, values: Mapping[str, Any]) -> str:
    """``pattern`` with each ``{field}`` replaced by its answer as people read it (blank when unanswered)."""
    return _Readable().vformat(pattern, (), _Answers(values))


class _Readable(string.Formatter):
    """A blank or mistyped answer cannot take a format spec like ``{run:03d}``: it is used as text."""

    def format_field(self, value: Any, format_spec: str) -> str:
        try:
            return super().format_field(value, format_spec)
        except (ValueError, TypeError):
            return str(value)


class _Answers(dict):
    """Answers as text: blanks empty, lists joined with ', ', checkboxes yes/no."""

    def __init__(self, values: Mapping[str, Any]):
        super().__init__({key: _readable(value) for key, value in values.items()})

    def __missing__(self, key: str) -> str:
        return ""


def _readable(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return value
