"""What a compliance report is judged on, read once: record, template, log, metadata and checks.

Everything here comes from files anyone may have edited, so every read is bounded
(:mod:`~metafold_widgets.core.bounded`) and a file that cannot be read becomes a note that
the report quotes, never an exception. Folder walks stop after :data:`MAX_WALK_ENTRIES`
entries and never follow symbolic links.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from ..core.bounded import METADATA_MAX_BYTES, parse_json, read_json, read_text
from ..core.catalogue import TemplateCatalogue
from ..core.fields import Field
from ..core.record import ELABFTW_METADATA_FILE, ProjectRecord, load_record
from ..core.template import Template
from ..core.timestamps import utc_now
from ..core.validation import check_answers
from ..errors import InputFileError
from .check import CheckResult, check_project

if TYPE_CHECKING:
    from ..session import Session
    from .check import ProjectReport

LOG_MAX_BYTES = 32 * 1024 * 1024
MAX_WALK_ENTRIES = 20_000


def is_blank(value: Any) -> bool:
    """True for an answer nobody gave: None, empty or only spaces, an empty list."""
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


@dataclass
class ProjectFacts:
    """A project as the compliance report sees it (see the module docstring)."""

    project: Path
    record: ProjectRecord
    template: Template | None
    template_exact: bool
    checks: list[CheckResult]
    now: dt.datetime
    session: Session | None = None
    hidden: frozenset[str] = frozenset()
    metadata: dict[str, Any] | None = None
    metadata_note: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    log_note: str = ""
    log_relpath: str = ""

    @property
    def generated_at(self) -> str:
        """When the report was made (ISO 8601, UTC)."""
        return utc_now(self.now)

    @property
    def answers(self) -> dict[str, Any]:
        """The project's answers."""
        return self.record.answers

    def applicable_fields(self) -> list[Field]:
        """The template's fields that apply to these answers (conditions met); empty without a template."""
        if self.template is None:
            return []
        return [f for f in self.template.fields if f.key not in self.hidden]

    def check(self, name: str) -> CheckResult | None:
        """The check result called ``name``, if the checks gave one."""
        return next((r for r in self.checks if r.check == name), None)

    def checks_starting(self, prefix: str) -> list[CheckResult]:
        """The check results whose name starts with ``prefix`` (``permissions:``, ``facts:``)."""
        return [r for r in self.checks if r.check.startswith(prefix)]

    def answer_with(self, *words: str) -> tuple[str, Any] | None:
        """``(key, value)`` of the first filled answer whose key has one of ``words`` as a whole word."""
        for key, value in self.answers.items():
            tokens = set(str(key).lower().replace("-", "_").split("_"))
            if not is_blank(value) and any(word in tokens for word in words):
                return str(key), value
        return None

    def field_with(self, *words: str) -> Field | None:
        """The first template field whose key has one of ``words`` as a whole word."""
        for spec in self.template.fields if self.template else ():
            if any(word in set(spec.key.lower().replace("-", "_").split("_")) for word in words):
                return spec
        return None


def gather_facts(project: Path, session: Session | None, *, templates_dir: str | os.PathLike[str] | None = None,
                 checks: ProjectReport | None = None, now: dt.datetime | None = None) -> ProjectFacts:
    """Read what the report needs; InputFileError when the project's record is missing or unreadable."""
    record = load_record(project)
    folder = templates_dir or (session.templates_dir if session is not None else None)
    template, exact = TemplateCatalogue(folder).for_record(record)
    if checks is None:
        # its own verify is bounded (compliance_integrity): the checks must not hash every file first
        checks = check_project(project, session, templates_dir=templates_dir, checksums=False)
    facts = ProjectFacts(project, record, template, exact, list(checks.results),
                         now or dt.datetime.now(dt.timezone.utc), session)
    if template is not None:
        facts.hidden = check_answers(template, record.answers).hidden
    _read_metadata(facts)
    _read_log(facts)
    return facts


def _read_metadata(facts: ProjectFacts) -> None:
    try:
        data = read_json(facts.project / ELABFTW_METADATA_FILE, METADATA_MAX_BYTES, "metadata file")
    except InputFileError as exc:
        facts.metadata_note = str(exc)
        return
    if isinstance(data, dict):
        facts.metadata = data
    else:
        facts.metadata_note = f"{ELABFTW_METADATA_FILE} is not a JSON object"


def _read_log(facts: ProjectFacts) -> None:
    """The integration log's events; a line that is no JSON object is counted as unreadable."""
    try:
        path = facts.record.log_path(facts.project)
        facts.log_relpath = facts.record.log_relpath(facts.project)
        text = read_text(path, LOG_MAX_BYTES, "integration log")
    except InputFileError as exc:
        facts.log_note = str(exc)
        return
    unreadable = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            event = parse_json(line, f"{facts.log_relpath}:{number}")
        except InputFileError:
            event = None
        if isinstance(event, dict):
            facts.events.append(event)
        else:
            unreadable += 1
    if unreadable:
        facts.log_note = f"{unreadable} lines of {facts.log_relpath} are not JSON events"


def walk_files(folder: Path, limit: int = MAX_WALK_ENTRIES) -> Iterator[Path]:
    """The regular files under ``folder`` (sorted per folder), at most ``limit`` entries looked at;
    symbolic links are neither followed nor listed."""
    pending = [folder]
    seen = 0
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > limit:
                return
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                pending.append(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                yield Path(entry.path)
