"""Retention, access controls and documentation completeness in the compliance report.

Retention and sharing come from the answers (or the template's fields); permissions from
the ``permissions: ...`` results of :func:`~.check.check_project` (a result the checks did
not give is ``unknown``); documentation from the folders on disk: the README, protocol and
documentation folders, the lab record's Markdown entries and the data availability files.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from ..core.bounded import read_text
from ..core.record import README_FILE
from ..core.systems import SYSTEM_NAMES
from ..core.template import default_documentation_folders
from ..errors import InputFileError
from .compliance import MET, NOT_MET, PARTLY, UNKNOWN, ComplianceItem, ComplianceSection
from .compliance_facts import MAX_WALK_ENTRIES, ProjectFacts, is_blank, walk_files

MAX_SHOWN = 6
STATEMENT_MAX_BYTES = 4 * 1024 * 1024
PLACEHOLDER = re.compile(r"\[to be completed[^\]]*\]", re.IGNORECASE)
SHARING_KEYS = ("data_sharing_level", "sharing_level", "access_level")
# The statement and the three files the tutorial keeps in data_availability/.
STATEMENT_FILES = ("data_sharing_statement.md", "DATA_AVAILABILITY.md")
AVAILABILITY_FILES = ("data_sharing_statement.md", "omero_access_instructions.md", "elabftw_reference_links.txt")
STATUS_OF_CHECK = {"pass": MET, "warn": PARTLY, "fail": NOT_MET, "skip": UNKNOWN}


def _shown(names: list[str]) -> str:
    more = f" and {len(names) - MAX_SHOWN} more" if len(names) > MAX_SHOWN else ""
    return ", ".join(names[:MAX_SHOWN]) + more


# --- retention ----------------------------------------------------------------------------

def retention_section(facts: ProjectFacts) -> ComplianceSection:
    """How long the data are kept: an answer, an empty template field, or unknown."""
    criterion = "Retention period"
    stated = facts.answer_with("retention")
    if stated:
        item = ComplianceItem("retention", criterion, MET, (f"retention: {stated[1]} (answer '{stated[0]}')",))
    elif (spec := facts.field_with("retention")) is not None:
        item = ComplianceItem("retention", criterion, NOT_MET,
                              (f"the template's field '{spec.label}' ({spec.key}) is empty",),
                              f"Fill in '{spec.label}' and run 'metafold sync'.")
    else:
        item = ComplianceItem("retention", criterion, UNKNOWN, (
            "neither the answers nor the template give a retention period",), (
            "A person must fill in how long the data are kept (the institution's or funder's policy, often 10 years "
            "after publication), from when, and who decides on deletion; add a 'retention_period' field to the "
            "template."))
    return ComplianceSection("retention", "Retention", (item,))


# --- access controls ----------------------------------------------------------------------

def access_section(facts: ProjectFacts) -> ComplianceSection:
    """The permission checks (folder, elabFTW, OMERO) and the project's sharing level."""
    targets = [("folder", "Project folder permissions")]  # (name in the check, criterion)
    targets += [(SYSTEM_NAMES[s], f"{SYSTEM_NAMES[s]} permissions") for s in ("elabftw", "omero")
                if facts.record.integration(s).state != "off"]
    items = []
    for target, criterion in targets:
        result = facts.check(f"permissions: {target}")
        if result is None:
            named = "the folder" if target == "folder" else target
            items.append(ComplianceItem(f"permissions-{target.lower()}", criterion, UNKNOWN,
                                        (f"the checks gave no permission result for {named}",),
                                        "Run 'metafold check PROJECT' with a version that checks permissions."))
        else:
            items.append(ComplianceItem(f"permissions-{target.lower()}", criterion, STATUS_OF_CHECK[result.status],
                                        (result.message,), result.fix))
    items.append(_sharing_level(facts))
    return ComplianceSection("access", "Access controls", tuple(items),
                             "Permissions as 'metafold check' finds them, against the project's sharing level.")


def _sharing_level(facts: ProjectFacts) -> ComplianceItem:
    criterion = "Data sharing level"
    for key in SHARING_KEYS:
        if not is_blank(facts.answers.get(key)):
            return ComplianceItem("sharing-level", criterion, MET, (f"{facts.answers[key]} (answer '{key}')",))
    spec = next((f for f in facts.template.fields if f.key in SHARING_KEYS), None) if facts.template else None
    if spec is not None:
        return ComplianceItem("sharing-level", criterion, NOT_MET, (f"the field '{spec.label}' is empty",),
                              f"Fill in '{spec.label}' and run 'metafold sync'.")
    return ComplianceItem("sharing-level", criterion, UNKNOWN, ("no answer gives a data sharing level",),
                          "A person must decide who may see the data (private, group, institution, public) and add "
                          "a 'data_sharing_level' field to the template.")


# --- documentation ------------------------------------------------------------------------

def documentation_section(facts: ProjectFacts) -> ComplianceSection:
    """README, protocol and documentation folders, lab record entries, data availability, required answers.

    The documentation folders are the template's (its ``documentation`` list, or the folders named
    as the built-in templates name them); an entry is a Markdown file in one of them or in a
    protocol folder, at any depth.
    """
    folders = _folders(facts)
    declared = (facts.template.documentation_folders if facts.template is not None
                else default_documentation_folders(folders))
    protocols = [f for f in folders if "protocol" in f.rsplit("/", 1)[-1].lower()]
    documentation = [f for f in declared if f not in protocols]
    items = (_readme(facts), _folders_filled(facts, "protocols", "Protocol folders", protocols),
             _folders_filled(facts, "documentation", "Documentation folders", documentation),
             _entries(facts, list(declared) + protocols), _availability(facts, folders), _required(facts))
    return ComplianceSection("documentation", "Documentation completeness", items)


def _folders(facts: ProjectFacts) -> list[str]:
    """The project's folders: the template's, else the ones on disk (three levels deep at most)."""
    if facts.template is not None:
        return list(facts.template.folders.folders)
    found: list[str] = []
    pending = [("", 0)]
    while pending and len(found) < MAX_WALK_ENTRIES:
        prefix, depth = pending.pop()
        try:
            with os.scandir(facts.project / prefix if prefix else facts.project) as scan:
                names = sorted(e.name for e in scan if e.is_dir(follow_symlinks=False))
        except OSError:
            continue
        for name in names:
            path = f"{prefix}/{name}" if prefix else name
            found.append(path)
            if depth < 2:
                pending.append((path, depth + 1))
    return sorted(found)


def _files_in(facts: ProjectFacts, folder: str) -> list[Path]:
    path = facts.project / folder
    return list(walk_files(path)) if path.is_dir() and not path.is_symlink() else []


def _readme(facts: ProjectFacts) -> ComplianceItem:
    path = facts.project / README_FILE
    if path.is_file() and not path.is_symlink() and path.stat().st_size > 0:
        return ComplianceItem("readme", "README", MET, (f"{README_FILE} ({path.stat().st_size} bytes)",))
    return ComplianceItem("readme", "README", NOT_MET, (f"{README_FILE} is missing or empty",),
                          "Run 'metafold sync' to write it again.")


def _folders_filled(facts: ProjectFacts, key: str, criterion: str, folders: list[str]) -> ComplianceItem:
    if not folders:
        return ComplianceItem(key, criterion, UNKNOWN, (f"the project has no {criterion.lower()}",),
                              "Add such folders to the template if the lab keeps these documents.")
    counts = {folder: len(_files_in(facts, folder)) for folder in folders}
    filled = [f"{folder}/ ({count} files)" for folder, count in counts.items() if count]
    empty = [f"{folder}/" for folder, count in counts.items() if not count]
    evidence = ([f"with files: {_shown(filled)}"] if filled else []) + ([f"empty: {_shown(empty)}"] if empty else [])
    if not empty:
        return ComplianceItem(key, criterion, MET, tuple(evidence))
    fix = f"Put the documents in {_shown(empty)} (or remove the folders the lab does not use from the template)."
    return ComplianceItem(key, criterion, PARTLY if filled else NOT_MET, tuple(evidence), fix)


def _entries(facts: ProjectFacts, folders: list[str]) -> ComplianceItem:
    criterion = "Lab record entries"
    roots = [f for f in dict.fromkeys(folders) if not any(f.startswith(g + "/") for g in folders)]
    entries = sorted({str(p.relative_to(facts.project)) for f in roots for p in _files_in(facts, f)
                      if p.suffix.lower() == ".md"})
    if entries:
        return ComplianceItem("entries", criterion, MET, (f"{len(entries)} Markdown entries: {_shown(entries)}",))
    where = _shown([f"{f}/" for f in roots]) or "no documentation folder"
    return ComplianceItem("entries", criterion, NOT_MET, (f"no Markdown entry in {where}",),
                          "Write the protocol, preparation log and imaging notes ('metafold note PROJECT --kind "
                          "KIND' starts one).")


def _availability(facts: ProjectFacts, folders: list[str]) -> ComplianceItem:
    criterion = "Data availability statement"
    places = [f for f in folders if f.rsplit("/", 1)[-1].lower() == "data_availability"]
    present = {p.name: p for f in places for p in _files_in(facts, f)}
    statement = next((present[name] for name in STATEMENT_FILES if name in present), None)
    if statement is None:
        where = _shown([f"{f}/" for f in places]) or "the project (no data_availability folder)"
        return ComplianceItem("availability", criterion, NOT_MET, (f"no {' or '.join(STATEMENT_FILES)} in {where}",),
                              "Write the statement ('metafold package PROJECT' drafts one in the package).")
    relative = str(statement.relative_to(facts.project))
    evidence = [f"{relative} present"]
    missing = [name for name in AVAILABILITY_FILES if name not in present]
    if missing:
        evidence.append(f"not in the folder: {', '.join(missing)}")
    try:
        placeholders = len(PLACEHOLDER.findall(read_text(statement, STATEMENT_MAX_BYTES, "statement")))
    except InputFileError as exc:
        return ComplianceItem("availability", criterion, NOT_MET, (str(exc),), "Write the statement again.")
    if placeholders:
        evidence.append(f"{placeholders} parts still marked to be completed")
    if placeholders or missing:
        return ComplianceItem("availability", criterion, PARTLY, tuple(evidence),
                              "Complete the parts marked [to be completed] and add the missing files.")
    return ComplianceItem("availability", criterion, MET, tuple(evidence))


def _required(facts: ProjectFacts) -> ComplianceItem:
    criterion = "Required answers"
    if facts.template is None:
        return ComplianceItem("required", criterion, UNKNOWN, (
            f"template {facts.record.template_id} {facts.record.template_version} not found: which answers are "
            "required is not known",), "Set METAFOLD_TEMPLATES_DIR to the lab's templates.")
    required = [f for f in facts.applicable_fields() if f.required]
    empty = [f"{f.label} ({f.key})" for f in required if is_blank(facts.answers.get(f.key))]
    if empty:
        return ComplianceItem("required", criterion, NOT_MET, (f"{len(empty)} of {len(required)} required answers "
                                                               f"empty: {_shown(empty)}",),
                              "Fill them in and run 'metafold sync'.")
    return ComplianceItem("required", criterion, MET, (f"all {len(required)} required answers filled",))
