"""The basic facts of a project compared across the folder, elabFTW and OMERO.

Custom-field values are compared elsewhere; these are the facts a person sees first and
changes by hand: title, tags, status, category, dates, investigator, the OMERO dataset's name
and description. The folder's side is the record (what was sent), elabftw-metadata.json and
README.md; elabFTW's is ``GET /experiments/{id}``; OMERO's the dataset and its key-value pairs.

Values are compared normalized: surrounding and repeated whitespace never counts; category
and status titles ignore case; tags are compared as a set the way elabFTW stores them (``\\``
removed, ``|`` made a space, trimmed: src/Params/TagParam.php@5.6.12 getContent; one row per
tag and team whatever the case or accents, the ``tags`` table's utf8mb4_0900_ai_ci collation:
src/sql/structure.sql@5.6.12, TeamTags::create's ``ON DUPLICATE KEY``).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ..core.bounded import METADATA_MAX_BYTES, read_json
from ..core.record import ELABFTW_METADATA_FILE, README_FILE, ProjectRecord
from ..core.template import Template
from ..errors import InputFileError
from .permissions import Result

HERE, ELABFTW, OMERO = "here", "elabFTW", "OMERO"
INVESTIGATOR_KEYS = ("principal_investigator", "pi", "investigator", "pi_name", "researcher")
SHOWN_CHARS = 80
README_HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class Known:
    """What one system holds (``data``), or why it is not known (``why``)."""

    data: Any = None
    why: str = ""


@dataclass(frozen=True)
class OmeroFacts:
    """The dataset's name, description and key-value pairs as OMERO holds them."""

    name: str
    description: str
    pairs: Sequence[tuple[str, str]] = ()


@dataclass
class _Fact:
    name: str
    normalize: Callable[[Any], Any]
    values: dict[str, Any] = field(default_factory=dict)   # system -> value shown
    unknown: dict[str, str] = field(default_factory=dict)  # system -> why it is not known


def fact_results(project: Path, record: ProjectRecord, template: Template | None,
                 elabftw: Known, omero: Known) -> list[tuple[str, Result]]:
    """``(fact, result)`` for every basic fact; ``elabftw`` holds the experiment, ``omero`` an
    :class:`OmeroFacts` (or why they are unknown)."""
    used_e = _used(record, "elabftw")
    used_o = _used(record, "omero")
    experiment: Mapping[str, Any] = elabftw.data if isinstance(elabftw.data, Mapping) else {}
    dataset: OmeroFacts | None = omero.data if isinstance(omero.data, OmeroFacts) else None
    payload_e = record.integrations["elabftw"].payload or {} if "elabftw" in record.integrations else {}
    payload_o = record.integrations["omero"].payload or {} if "omero" in record.integrations else {}
    results = []

    def remote(fact: _Fact, system: str, used: str | None, known: Known, value: Callable[[], Any]) -> None:
        if used:
            fact.unknown[system] = used
        elif known.data is None:
            fact.unknown[system] = known.why
        else:
            fact.values[system] = value()

    title = _Fact("title", _text)
    title.values[HERE] = payload_e.get("title") or record.answers.get("experiment_title")
    remote(title, ELABFTW, used_e, elabftw, lambda: experiment.get("title"))
    results.append(_compare(title, _fix_title, readme=_readme_title(project)))

    tags = _Fact("tags", _tag_set)
    tags.values[HERE] = payload_e.get("tags")
    remote(tags, ELABFTW, used_e, elabftw, lambda: _experiment_tags(experiment))
    results.append(_compare_tags(tags))

    category = _Fact("category", _title_case)
    category.values[HERE] = payload_e.get("category")
    remote(category, ELABFTW, used_e, elabftw, lambda: experiment.get("category_title"))
    results.append(_compare(category, lambda f: f"In elabFTW, set the category to '{_show(f.values[HERE])}', "
                            "or correct the category answer if elabFTW is right."))

    status = _Fact("status", _title_case)
    state_e = record.integrations.get("elabftw")
    status.values[HERE] = (state_e.get("status") if state_e else None) or payload_e.get("status")
    remote(status, ELABFTW, used_e, elabftw, lambda: experiment.get("status_title"))
    results.append(_compare(status, lambda f: "Run 'metafold sync' to record elabFTW's status in the project "
                            "(a status moves on as the work does).", mismatch="warn"))

    created = _Fact("created", _day)
    created.values[HERE] = record.created_at
    remote(created, ELABFTW, used_e, elabftw, lambda: experiment.get("created_at"))
    results.append(_compare(created, lambda f: "The record may name another experiment: check "
                            "integrations.elabftw.id in metafold.json.", tolerance_days=1))

    results.append(_date_fact(record, template, used_e, elabftw, experiment))

    label, key = _investigator(project, template)
    investigator = _Fact("investigator", _text)
    if key is not None:
        investigator.values[HERE] = record.answers.get(key)
        remote(investigator, ELABFTW, used_e, elabftw, lambda: _extra_field(experiment, label))
        remote(investigator, OMERO, used_o, omero, lambda: _pair(dataset, label))
    results.append(_compare(investigator, lambda f: "Run 'metafold sync': a change made in elabFTW is taken "
                            "into the project, then the OMERO pairs are rewritten from it.",
                            none_here="the template has no principal investigator field"))

    name = _Fact("OMERO dataset name", _text)
    name.values[HERE] = payload_o.get("dataset")
    remote(name, OMERO, used_o, omero, lambda: dataset.name if dataset else None)
    results.append(_compare(name, lambda f: f"In OMERO.web, rename the dataset to '{_show(f.values[HERE])}'."))

    description = _Fact("OMERO dataset description", _text)
    description.values[HERE] = payload_o.get("description")
    remote(description, OMERO, used_o, omero, lambda: dataset.description if dataset else None)
    results.append(_compare(description, lambda f: "In OMERO.web, set the dataset's description to the "
                            "project's (integrations.omero.payload.description in metafold.json).",
                            none_here="the project plans no dataset description"))
    return results


# --- comparing ----------------------------------------------------------------------------


def _compare(fact: _Fact, fix: Callable[[_Fact], str], *, mismatch: str = "fail", tolerance_days: int = 0,
             readme: str | None = None, none_here: str = "") -> tuple[str, Result]:
    here = fact.values.get(HERE)
    if here in (None, "", []):
        unknown = "; ".join(f"{s}: {w}" for s, w in fact.unknown.items())
        why = none_here or unknown or f"the project records no {fact.name}"
        there = {s: v for s, v in fact.values.items() if s != HERE and v not in (None, "")}
        shown = "".join(f"; {s} says '{_show(v)}'" for s, v in there.items())
        return fact.name, Result("skip", why + shown)
    others = {s: v for s, v in fact.values.items() if s != HERE}
    differing = {s: v for s, v in others.items() if not _same(fact, here, v, tolerance_days)}
    readme_differs = readme is not None and _text(readme) != _text(here)
    if differing or readme_differs:
        parts = [f"here '{_show(here)}'"]
        if readme_differs:
            parts.append(f"{README_FILE} '{_show(readme)}'")
        parts += [f"{s} '{_show(v)}'" for s, v in others.items()]
        fixes = [fix(fact)] if differing else []
        if readme_differs:
            fixes.append(f"Run 'metafold sync' to rewrite {README_FILE}.")
        status = mismatch if differing else "fail"
        return fact.name, Result(status, f"{fact.name}: " + ", ".join(parts), " ".join(fixes))
    if not others:
        why = "; ".join(f"{s}: {w}" for s, w in fact.unknown.items()) or "no linked system holds it"
        return fact.name, Result("skip", f"'{_show(here)}' here, not compared ({why})")
    where = " and ".join(others)
    unknown = "".join(f"; {s} not compared: {w}" for s, w in fact.unknown.items())
    return fact.name, Result("pass", f"'{_show(here)}' here and in {where}{unknown}")


def _same(fact: _Fact, here: Any, there: Any, tolerance_days: int) -> bool:
    a, b = fact.normalize(here), fact.normalize(there)
    if tolerance_days and isinstance(a, date) and isinstance(b, date):
        return abs((a - b).days) <= tolerance_days  # the server's day may be another time zone's
    return a is not None and a == b


def _compare_tags(fact: _Fact) -> tuple[str, Result]:
    name, result = _compare(fact, lambda f: "")
    here, there = fact.values.get(HERE), fact.values.get(ELABFTW)
    if result.status != "fail" or there is None:
        return name, result
    wanted, found = _tag_map(here), _tag_map(there)
    missing = [wanted[k] for k in wanted if k not in found]
    extra = [found[k] for k in found if k not in wanted]
    todo = []
    if missing:
        todo.append("add " + ", ".join(f"'{t}'" for t in missing))
    if extra:
        todo.append("remove " + ", ".join(f"'{t}'" for t in extra))
    fix = f"In elabFTW, {' and '.join(todo)} ('metafold sync' does not change tags), or keep tags added on purpose."
    return name, Result("fail" if missing else "warn", result.message, fix)


def _fix_title(fact: _Fact) -> str:
    return (f"In elabFTW, set the experiment's title back to '{_show(fact.values[HERE])}' "
            "('metafold sync' does not change titles).")


def _date_fact(record: ProjectRecord, template: Template | None, used_e: str | None, elabftw: Known,
               experiment: Mapping[str, Any]) -> tuple[str, Result]:
    """The first date answer against the experiment's date (a warning: elabFTW dates an
    experiment the day it is created unless someone sets it)."""
    fields = [f for f in (template.fields if template else ()) if f.type == "date" and record.answers.get(f.key)]
    if not fields:
        why = "no template to read date fields from" if template is None else "the project has no date answer"
        return "date", Result("skip", why)
    fact = _Fact("date", _day)
    fact.values[HERE] = record.answers[fields[0].key]
    if used_e:
        fact.unknown[ELABFTW] = used_e
    elif elabftw.data is None:
        fact.unknown[ELABFTW] = elabftw.why
    else:
        fact.values[ELABFTW] = experiment.get("date")
    return _compare(fact, lambda f: f"In elabFTW, set the experiment's date to {_show(f.values[HERE])}, or correct "
                    f"the answer '{fields[0].key}'.", mismatch="warn")


# --- reading each side --------------------------------------------------------------------


def _used(record: ProjectRecord, system: str) -> str | None:
    """Why ``system`` has nothing to compare (not used, not created yet), or None when it has."""
    state = record.integrations.get(system)
    if state is None:
        return "not part of this project"
    if state.done:
        return None
    return state.reason or ("not created yet" if state.state in ("pending", "failed") else "not used")


def _readme_title(project: Path) -> str | None:
    """The first ``# `` heading of README.md (None when there is none)."""
    try:
        with open(project / README_FILE, "rb") as handle:
            head = handle.read(README_HEAD_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return None
    for line in head.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return None


def _investigator(project: Path, template: Template | None) -> tuple[str, str | None]:
    """The label and answer key of the principal investigator field."""
    labels: dict[str, str] = {}
    try:
        metadata = read_json(project / ELABFTW_METADATA_FILE, METADATA_MAX_BYTES, "metadata file")
        keys = ((metadata.get("metafold") or {}).get("field_keys") or {}) if isinstance(metadata, dict) else {}
        labels = {str(k): str(label) for label, k in keys.items()} if isinstance(keys, dict) else {}
    except InputFileError:
        pass
    fields = list(template.fields) if template else []
    for wanted in INVESTIGATOR_KEYS:
        for f in fields:
            if f.key == wanted:
                return labels.get(f.key, f.label), f.key
    for f in fields:
        if "investigator" in f.key.lower() or "investigator" in f.label.lower():
            return labels.get(f.key, f.label), f.key
    for key, label in labels.items():
        if key in INVESTIGATOR_KEYS:
            return label, key
    return "", None


def _experiment_tags(experiment: Mapping[str, Any]) -> list[str]:
    decoded = experiment.get("tags_decoded")
    if isinstance(decoded, list):
        return [str(t.get("tag")) for t in decoded if isinstance(t, Mapping)]
    text = experiment.get("tags")
    return [t for t in str(text).split("|") if t] if text else []


def _extra_field(experiment: Mapping[str, Any], label: str) -> Any:
    metadata = experiment.get("metadata")
    if isinstance(metadata, str):
        import json
        try:
            metadata = json.loads(metadata)
        except ValueError:
            return None
    fields = (metadata or {}).get("extra_fields") if isinstance(metadata, Mapping) else None
    spec = fields.get(label) if isinstance(fields, Mapping) else None
    return spec.get("value") if isinstance(spec, Mapping) else None


def _pair(dataset: OmeroFacts | None, label: str) -> str | None:
    values = [v for k, v in (dataset.pairs if dataset else ()) if k == label]
    return values[0] if values else None


# --- normalizing --------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    return " ".join(str(value).split()) if value is not None else None


def _title_case(value: Any) -> str | None:
    text = _text(value)
    return text.casefold() if text is not None else None


def _tag_key(tag: str) -> str:
    """A tag as elabFTW's tags table tells tags apart (TagParam cleaning, ai_ci collation)."""
    cleaned = " ".join(str(tag).replace("\\", "").replace("|", " ").split())
    folded = unicodedata.normalize("NFKD", cleaned.casefold())
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


def _tag_map(tags: Any) -> dict[str, str]:
    items = re.split(r"[,;]", tags) if isinstance(tags, str) else list(tags or [])
    return {k: str(t).strip() for t in items if (k := _tag_key(str(t)))}


def _tag_set(tags: Any) -> frozenset[str]:
    return frozenset(_tag_map(tags))


def _day(value: Any) -> date | None:
    """The calendar day of an ISO date/time or a MySQL DATETIME."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _show(value: Any) -> str:
    """A value for a message: lists joined, long text cut."""
    text = ", ".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 1] + "…"
