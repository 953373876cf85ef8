"""Backup and integrity in the compliance report: the checksum manifest, its age, a bounded verify.

A project may hold terabytes of images, so re-hashing all of it on every report is not an
option: files listed in ``SHA256SUMS``/``MD5SUMS`` are re-hashed in path order up to a byte
budget; the others are checked for presence only, and the report says how many of each.
``metafold verify PROJECT`` checks everything. Files the product rewrites itself (record,
README, metadata, log, a saved report) are expected to differ and are named as such.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ..core.checksums import SUMS_FILES, ListedFile, hash_files, list_files
from ..core.record import ELABFTW_METADATA_FILE, README_FILE, RECORD_FILE
from ..core.redact import without_credentials
from ..core.sizes import describe_size
from ..core.timestamps import utc_now
from ..errors import FileProblem, InputFileError
from .compliance import MET, NOT_MET, PARTLY, REPORT_FILES, UNKNOWN, ComplianceItem, ComplianceSection
from .compliance_facts import ProjectFacts
from .publishing.manifest import read_sums_file

MAX_SHOWN = 5


@dataclass
class BoundedVerify:
    """What :func:`verify_within` found: listed, verified and only-present files, and every problem."""

    checksum_files: list[str] = field(default_factory=list)
    listed: int = 0
    verified: int = 0
    verified_bytes: int = 0
    unverified: int = 0
    unverified_bytes: int = 0
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    rewritten: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def damaged(self) -> list[str]:
        """Listed files that are missing or changed, and problems met on the way."""
        return self.changed + self.missing + self.problems


def verify_within(project: os.PathLike[str] | str, budget: int, expected_changes: frozenset[str] = frozenset()
                  ) -> BoundedVerify:
    """Check the project against its checksum files, re-hashing at most ``budget`` bytes.

    ``expected_changes`` are files the product rewrites (a changed checksum for them is
    ``rewritten``, not damage). Never raises for what it finds: unreadable checksum files,
    unsafe names and unreadable files are ``problems``.
    """
    root = os.fspath(project)
    found = BoundedVerify()
    expected: dict[str, dict[str, str]] = {}
    for algorithm, name in SUMS_FILES.items():
        if os.path.lexists(os.path.join(root, name)):
            try:
                expected[algorithm] = read_sums_file(os.path.join(root, name))
            except (InputFileError, FileProblem) as exc:
                found.problems.append(str(exc))
                continue
            found.checksum_files.append(name)
    listed = set()
    for names in expected.values():
        for name in names:
            if _unsafe(name):
                found.problems.append(f"{name}: listed with a path that leaves the folder; not checked")
            else:
                listed.add(name)
    found.listed = len(listed)
    try:
        present = {item.relpath: item for item in list_files(root, exclude=tuple(SUMS_FILES.values())).files}
    except FileProblem as exc:
        found.problems.append(f"the folder cannot be listed: {exc}")
        return found
    found.missing = sorted(name for name in listed if name not in present)
    found.added = sorted(name for name in present if name not in listed)
    chosen: list[ListedFile] = []
    for name in sorted(listed & set(present)):
        item = present[name]
        if found.verified_bytes + item.size <= budget:
            chosen.append(item)
            found.verified_bytes += item.size
        else:
            found.unverified += 1
            found.unverified_bytes += item.size
    _compare(found, chosen, expected, expected_changes)
    return found


def _compare(found: BoundedVerify, chosen: list[ListedFile], expected: dict[str, dict[str, str]],
             expected_changes: frozenset[str]) -> None:
    try:
        digests = hash_files(chosen, tuple(expected))
    except FileProblem as exc:
        found.problems.append(f"verification stopped: {exc}")
        found.unverified += len(chosen)
        found.unverified_bytes += found.verified_bytes
        found.verified_bytes = 0
        return
    found.verified = len(digests)
    for name in sorted(digests):
        if any(listed.get(name) not in (None, digests[name].digests[algorithm])
               for algorithm, listed in expected.items()):
            (found.rewritten if name in expected_changes else found.changed).append(name)


def _unsafe(name: str) -> bool:
    path = PurePosixPath(name)
    return path.is_absolute() or ".." in path.parts or name.startswith("\\") or (len(name) > 1 and name[1] == ":")


def integrity_section(facts: ProjectFacts, budget: int) -> ComplianceSection:
    """Checksum manifest (present, age, coverage), its verification within ``budget`` bytes, backup copies."""
    sums = [name for name in SUMS_FILES.values() if os.path.lexists(facts.project / name)]
    if not sums:
        manifest = ComplianceItem("manifest", "Checksum manifest", NOT_MET, (
            f"no {' or '.join(SUMS_FILES.values())} in the project folder",),
            "Write one into the project (write_checksums in metafold_widgets.workflows.archive), or archive the "
            "project with 'metafold archive', which puts one in the archive.")
        verified = ComplianceItem("verify", "Files unchanged since the manifest", UNKNOWN,
                                  ("nothing to verify against: no checksum manifest",),
                                  "Write a checksum manifest first.")
        return ComplianceSection("integrity", "Backup and integrity", (manifest, verified, _backup(facts)))
    expected = frozenset({RECORD_FILE, README_FILE, ELABFTW_METADATA_FILE, *REPORT_FILES,
                          *([facts.log_relpath] if facts.log_relpath else [])})
    result = verify_within(facts.project, budget, expected)
    note = (f"At most {describe_size(budget)} are re-hashed per report; 'metafold verify PROJECT' checks every "
            "listed file.")
    return ComplianceSection("integrity", "Backup and integrity",
                             (_manifest(facts, sums, result), _verified(result), _backup(facts)), note)


def _manifest(facts: ProjectFacts, sums: list[str], result: BoundedVerify) -> ComplianceItem:
    written = max((facts.project / name).lstat().st_mtime for name in sums)
    when = dt.datetime.fromtimestamp(written, dt.timezone.utc)
    age = max(0, (facts.now - when).days)
    evidence = [f"{', '.join(sums)} written {utc_now(when)} ({age} days ago), listing {result.listed} files"]
    if result.added:
        evidence.append(f"{len(result.added)} files added since, not covered: {_shown(result.added)}")
        return ComplianceItem("manifest", "Checksum manifest", PARTLY, tuple(evidence),
                              "Write the checksum manifest again so it covers the files added since.")
    return ComplianceItem("manifest", "Checksum manifest", MET, tuple(evidence))


def _verified(result: BoundedVerify) -> ComplianceItem:
    criterion = "Files unchanged since the manifest"
    evidence = [f"{result.verified} of {result.listed} listed files re-hashed ({describe_size(result.verified_bytes)})"
                f" against {', '.join(result.checksum_files) or 'no readable checksum file'}"]
    if result.unverified:
        evidence.append(f"{result.unverified} files ({describe_size(result.unverified_bytes)}) beyond this report's "
                        "budget: checked for presence only")
    if result.rewritten:
        evidence.append(f"rewritten by metafold since (expected): {_shown(result.rewritten)}")
    if result.changed:
        evidence.append(f"changed: {_shown(result.changed)}")
    if result.missing:
        evidence.append(f"missing: {_shown(result.missing)}")
    evidence += result.problems[:MAX_SHOWN]
    if result.damaged:
        return ComplianceItem("verify", criterion, NOT_MET, tuple(evidence),
                              "Restore the changed or missing files from the backup, or write a new manifest if the "
                              "change was intended.")
    if result.unverified:
        return ComplianceItem("verify", criterion, PARTLY, tuple(evidence),
                              "Run 'metafold verify PROJECT' to re-hash every listed file.")
    return ComplianceItem("verify", criterion, MET, tuple(evidence))


def _backup(facts: ProjectFacts) -> ComplianceItem:
    criterion = "Backup copies"
    stated = facts.answer_with("backup")
    if stated:
        return ComplianceItem("backup", criterion, MET, (f"backup: {stated[1]} (answer '{stated[0]}')",))
    copies = [e for e in facts.events if e.get("action") in ("package", "archive") and e.get("result") == "done"]
    fix = ("A person must record where the backup copies are kept and how often they are made (e.g. institutional "
           "storage with nightly backup), in an answer 'backup_location'.")
    if not copies:
        return ComplianceItem("backup", criterion, UNKNOWN, (
            "no answer names a backup and the log records no package or archive of the project",), fix)
    last = copies[-1]
    archives = [without_credentials(str(a)) for a in last.get("archives") or [] if isinstance(a, str)]
    evidence = (f"the log records a {last.get('action')} made {last.get('time', 'at an unrecorded time')}: "
                f"{without_credentials(str(last.get('path', '')))}" + (f" ({_shown(archives)})" if archives else ""),
                "whether that copy is kept in a second, backed-up place is not recorded")
    return ComplianceItem("backup", criterion, PARTLY, evidence, fix)


def _shown(names: list[str]) -> str:
    more = f" and {len(names) - MAX_SHOWN} more" if len(names) > MAX_SHOWN else ""
    return ", ".join(names[:MAX_SHOWN]) + more
