"""Lab record entries: the built-in kinds, their Markdown templates, and reading an entry back.

An entry is a Markdown file in one of the template's documentation folders. The kinds follow
the imaging tutorial: a protocol (Step 5), a sample-preparation log (Step 6), the microscope
configuration and an imaging session with its post-acquisition checklist (Step 7), an
analysis plan and a results summary (Step 8), and the "images imported" note an OMERO import
writes. Each is pre-filled with the project's facts and links; what only a person knows is
left as a marked placeholder. Checklist lines (``- [ ] item``) become the experiment's steps.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..errors import UserError
from .record import ProjectRecord

MAX_STEP_CHARS = 255  # Filter::title (src/Services/Filter.php@5.6.12), which Steps::create applies
_CHECKLIST = re.compile(r"^\s{0,3}[-*+]\s+\[([ xX])\]\s+(.*\S)\s*$")
_HEADING = re.compile(r"^#\s+(.*\S)\s*#*\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
TODO = "_(to fill in)_"


@dataclass(frozen=True)
class ParsedEntry:
    """What an entry file says: its title and its checklist, as ``(text, done)`` pairs."""

    title: str
    steps: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class EntryKind:
    """A built-in entry: its name (``--kind``), heading, the folders it goes into (matched by their
    last path components, first match wins) and the function that writes its Markdown."""

    name: str
    heading: str
    folders: tuple[str, ...]
    render: Callable[[Mapping[str, Any]], str]
    description: str


def step_text(text: str) -> str:
    """A step as elabFTW stores it: trimmed, on one line, at most 255 characters."""
    return " ".join(text.split())[:MAX_STEP_CHARS]


def parse_entry(text: str, file_name: str) -> ParsedEntry:
    """The title (first ``# `` heading, else the file name without ``.md``) and the checklist
    items outside code blocks."""
    title = ""
    steps: list[tuple[str, bool]] = []
    fenced = False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        heading = _HEADING.match(line)
        if heading and not title:
            title = heading.group(1).strip()
            continue
        item = _CHECKLIST.match(line)
        if item:
            body = step_text(item.group(2))
            if body:
                steps.append((body, item.group(1) != " "))
    stem = file_name[:-3] if file_name.lower().endswith(".md") else file_name
    return ParsedEntry(title or stem, tuple(steps))


# --- facts --------------------------------------------------------------------------------------

_FACT_KEYS = {
    "title": ("experiment_title", "title", "project_name"),
    "project_id": ("project_identifier", "project_id"),
    "pi": ("principal_investigator", "researcher", "owner", "investigator"),
}


def entry_facts(record: ProjectRecord, *, date: str, labels: Mapping[str, str] | None = None,
                extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The facts a template fills in: title, ids, investigator, date, links, and every answer
    (``answers``, with ``labels`` for their field labels); ``extra`` adds or overrides facts."""
    answers = {k: v for k, v in record.answers.items() if v not in (None, "", [], {})}

    def first(role: str, default: str) -> str:
        for key in _FACT_KEYS[role]:
            if key in answers:
                return _plain(answers[key])
        return default

    facts: dict[str, Any] = {
        "title": first("title", record.name), "project_id": first("project_id", record.name),
        "uid": record.uid, "pi": first("pi", TODO), "date": date, "created": (record.created_at or "")[:10],
        "project": record.name,
        "elabftw_url": record.integration("elabftw").url or "",
        "omero_url": record.integration("omero").url or "",
        "elabftw_where": _where(record, "elabftw", "experiment"),
        "omero_where": _where(record, "omero", "dataset"),
        "answers": answers, "labels": dict(labels or {}),
    }
    facts.update(extra or {})
    return facts


def _plain(value: Any) -> str:
    """An answer on one line (lists joined with commas)."""
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return " ".join(str(value).split())


def _link(label: str, url: str) -> str:
    return f"[{label}]({url})" if url else "not linked"


def _where(record: ProjectRecord, system: str, noun: str) -> str:
    """Where the project's record in ``system`` is: a link, else its id, else why there is none."""
    state = record.integration(system)
    if state.done and state.url:
        return f"[{noun} {state.id}]({state.url})"
    if state.done:
        return f"{noun} {state.id} (no web address configured)"
    return "not used" if state.state == "off" else f"not created yet ({state.state})"


def _header(facts: Mapping[str, Any], heading: str) -> list[str]:
    return [
        f"# {heading}: {facts['title']}", "",
        f"- Project: {facts['project_id']} (uid {facts['uid']})",
        f"- Principal investigator: {facts['pi']}",
        f"- Date: {facts['date']}",
        f"- elabFTW: {facts.get('elabftw_where') or _link('open in elabFTW', str(facts.get('elabftw_url') or ''))}",
        f"- OMERO: {facts.get('omero_where') or _link('open in OMERO.web', str(facts.get('omero_url') or ''))}",
        "",
    ]


def _answers_about(facts: Mapping[str, Any], words: Iterable[str]) -> list[str]:
    """``- Label: value`` for every answer whose key mentions one of ``words``."""
    answers: Mapping[str, Any] = facts.get("answers") or {}
    labels: Mapping[str, str] = facts.get("labels") or {}
    words = tuple(words)
    lines = [f"- {labels.get(key) or key.replace('_', ' ').capitalize()}: {_plain(value)}"
             for key, value in answers.items() if any(word in key.lower() for word in words)]
    return lines or [f"- {TODO}"]


def _answer(facts: Mapping[str, Any], key: str) -> str:
    value = (facts.get("answers") or {}).get(key)
    return _plain(value) if value not in (None, "") else TODO


def _protocol(facts: Mapping[str, Any]) -> str:
    return "\n".join(_header(facts, "Protocol") + [
        "## Purpose", _answer(facts, "research_question"), "",
        "## Approach", _answer(facts, "experimental_approach"), "",
        "## Materials and reagents", f"- {TODO}", "",
        "## Procedure", f"1. {TODO}", "",
        "## Safety and notes", TODO, ""])


def _sample_preparation(facts: Mapping[str, Any]) -> str:
    return "\n".join(_header(facts, "Sample preparation log") + [
        "## Sample", *_answers_about(facts, ("sample",)), "",
        "## Batch", "- Batch / lot: " + TODO, "- Operator: " + TODO, "- Start time: " + TODO, "",
        "## Steps and observations", f"1. {TODO}", "",
        "## Quality control",
        "- [ ] Sample labels match the sample list",
        "- [ ] Quality control images saved in the project folder",
        "- [ ] Deviations from the protocol written down", ""])


def _microscope(facts: Mapping[str, Any]) -> str:
    return "\n".join(_header(facts, "Microscope configuration") + [
        "## System", *_answers_about(facts, ("microscope", "modality", "objective", "instrument")), "",
        "## Settings", "- Objective: " + TODO, "- Channels / lasers: " + TODO, "- Detector and gain: " + TODO,
        "- Pixel size / zoom: " + TODO, "- Z-stack / time lapse: " + TODO, "",
        "## Calibration", "- Last calibration: " + TODO, ""])


def _imaging_session(facts: Mapping[str, Any]) -> str:
    return "\n".join(_header(facts, "Imaging session") + [
        "## Session", *_answers_about(facts, ("imaging", "microscope", "modality", "sample_type")),
        "- Operator: " + TODO, "- Start / end time: " + TODO, "",
        "## Acquisition notes", TODO, "",
        "## Post-acquisition checklist",
        "- [ ] Raw images saved in 03_imaging/raw_images",
        "- [ ] Images imported into the OMERO dataset",
        "- [ ] Acquisition settings recorded with the images",
        "- [ ] Data backed up",
        "- [ ] Microscope cleaned and switched off", ""])


def _analysis_plan(facts: Mapping[str, Any]) -> str:
    return "\n".join(_header(facts, "Analysis plan") + [
        "## Question", _answer(facts, "research_question"), "",
        "## Expected outcomes", _answer(facts, "expected_outcomes"), "",
        "## Methods", "- Software and versions: " + TODO, "- Segmentation / measurements: " + TODO,
        "- Statistics: " + TODO, "",
        "## Quality criteria", f"- {TODO}", ""])


def _results_summary(facts: Mapping[str, Any]) -> str:
    return "\n".join(_header(facts, "Results summary") + [
        "## Question", _answer(facts, "research_question"), "",
        "## Main results", TODO, "",
        "## Figures and data", f"- {TODO}", "",
        "## Conclusions and next steps", TODO, ""])


def _images_imported(facts: Mapping[str, Any]) -> str:
    ids = [str(i) for i in (facts.get("image_ids") or [])]
    count = facts.get("count", len(ids))
    lines = _header(facts, "Images imported") + [
        f"{count} image{'s' if count != 1 else ''} imported into the OMERO dataset on {facts['date']}.", ""]
    if ids:
        lines += ["## Image ids", ", ".join(ids), ""]
    files = [str(f) for f in (facts.get("files") or [])]
    if files:
        lines += ["## Files", *[f"- {name}" for name in files], ""]
    if facts.get("log"):
        lines += [f"Import log: {facts['log']}", ""]
    return "\n".join(lines)


KINDS: dict[str, EntryKind] = {kind.name: kind for kind in (
    EntryKind("protocol", "Protocol", ("01_project_management/protocols", "protocols"), _protocol,
              "the experiment's protocol (purpose, materials, procedure)"),
    EntryKind("sample-preparation", "Sample preparation log",
              ("02_sample_preparation/batch_records", "batch_records"), _sample_preparation,
              "a sample-preparation batch record with its quality-control checklist"),
    EntryKind("microscope-configuration", "Microscope configuration",
              ("03_imaging/acquisition_protocols", "acquisition_protocols"), _microscope,
              "the microscope's configuration and settings"),
    EntryKind("imaging-session", "Imaging session", ("03_imaging/acquisition_protocols", "acquisition_protocols"),
              _imaging_session, "an imaging session with the post-acquisition checklist"),
    EntryKind("analysis-plan", "Analysis plan", ("04_analysis/quality_metrics", "quality_metrics"),
              _analysis_plan, "the analysis plan (methods, statistics, quality criteria)"),
    EntryKind("results-summary", "Results summary", ("05_documentation/final_reports", "final_reports"),
              _results_summary, "a summary of the results and conclusions"),
    EntryKind("images-imported", "Images imported", ("05_documentation/daily_notes", "daily_notes"),
              _images_imported, "the note an OMERO import writes (count, image ids, dataset link)"),
)}


def entry_kind(name: str) -> EntryKind:
    """The kind called ``name``; UserError naming the known kinds."""
    kind = KINDS.get(name)
    if kind is None:
        raise UserError(f"unknown entry kind '{name}' (known kinds: {', '.join(KINDS)})")
    return kind


def entry_folder(kind: EntryKind, folders: Sequence[str], documentation: Sequence[str]) -> str:
    """The folder of the template's tree an entry of ``kind`` goes into: the first folder whose
    last components match one of the kind's folders, else the first documentation folder."""
    for wanted in kind.folders:
        for folder in folders:
            if folder == wanted or folder.endswith("/" + wanted):
                return folder
    if documentation:
        return documentation[0]
    raise UserError(f"the project's template has no documentation folder to write a {kind.name} entry into "
                    "(declare one with 'documentation:' in the template)")
