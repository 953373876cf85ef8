"""The compliance report of a project: FAIR principles, retention, backup, access, documentation.

Each criterion gets a status (``met``, ``partly``, ``not met`` or ``unknown``), the evidence
found in the project (file names, values, ids) and what to do about it. What the project
cannot tell (a retention period nobody wrote down, a license nobody chose) is ``unknown``
with the reason and what a person must fill in; it is never guessed. The report is plain
data: :mod:`.compliance_render` turns it into Markdown, self-contained HTML or JSON.

The evidence is gathered by :mod:`.compliance_facts` (record, template, log, metadata and the
results of :func:`~.check.check_project`) and judged by :mod:`.compliance_fair`,
:mod:`.compliance_integrity` and :mod:`.compliance_sections`.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from ..errors import InputFileError

if TYPE_CHECKING:
    from ..session import Session
    from .check import ProjectReport

MET, PARTLY, NOT_MET, UNKNOWN = "met", "partly", "not met", "unknown"
STATUSES = (MET, PARTLY, NOT_MET, UNKNOWN)
REPORT_FORMAT = "metafold-compliance-report"
REPORT_FORMATS = {"html": "html", "md": "md", "json": "json"}
"""Report formats and the file suffix of each."""
REPORT_FILE = "compliance-report"
"""The report's file name in a project (plus the format's suffix) when it is saved there."""
REPORT_FILES = tuple(f"{REPORT_FILE}.{suffix}" for suffix in REPORT_FORMATS.values())
VERIFY_BUDGET_BYTES = 2 * 1000 ** 3
"""Bytes re-hashed against the checksum manifest by default; beyond it files are checked for presence only."""


@dataclass(frozen=True)
class ComplianceItem:
    """One criterion: its status, the evidence found and how to improve it.

    ``key`` is stable for machines (``F1``, ``retention``...); ``criterion`` says it in words.
    """

    key: str
    criterion: str
    status: str
    evidence: tuple[str, ...] = ()
    fix: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown compliance status {self.status!r} (expected one of {', '.join(STATUSES)})")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"key": self.key, "criterion": self.criterion, "status": self.status,
                "evidence": list(self.evidence), "fix": self.fix}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ComplianceItem:
        """Read the JSON form back."""
        return cls(str(data["key"]), str(data["criterion"]), str(data["status"]),
                   tuple(str(e) for e in data.get("evidence") or ()), str(data.get("fix") or ""))


@dataclass(frozen=True)
class ComplianceSection:
    """A group of criteria (FAIR, retention...) with an optional note on how they were judged."""

    key: str
    title: str
    items: tuple[ComplianceItem, ...]
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"key": self.key, "title": self.title, "note": self.note,
                "items": [item.to_dict() for item in self.items]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ComplianceSection:
        """Read the JSON form back."""
        return cls(str(data["key"]), str(data["title"]),
                   tuple(ComplianceItem.from_dict(item) for item in data.get("items") or ()),
                   str(data.get("note") or ""))


@dataclass(frozen=True)
class ComplianceReport:
    """Every section of one project's compliance report, and when it was made."""

    project: str
    name: str
    uid: str
    generated_at: str
    sections: tuple[ComplianceSection, ...] = field(default_factory=tuple)

    @property
    def items(self) -> list[ComplianceItem]:
        """Every criterion of every section, in order."""
        return [item for section in self.sections for item in section.items]

    @property
    def summary(self) -> dict[str, int]:
        """How many criteria have each status (every status present, zeros included)."""
        counts = dict.fromkeys(STATUSES, 0)
        for item in self.items:
            counts[item.status] += 1
        return counts

    def section(self, key: str) -> ComplianceSection:
        """The section called ``key``; KeyError when there is none."""
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(key)

    def item(self, key: str) -> ComplianceItem:
        """The criterion called ``key`` (in any section); KeyError when there is none."""
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (what ``metafold report --format json`` prints)."""
        return {"format": REPORT_FORMAT, "format_version": 1, "project": self.project, "name": self.name,
                "uid": self.uid, "generated_at": self.generated_at, "summary": self.summary,
                "sections": [section.to_dict() for section in self.sections]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ComplianceReport:
        """Read the JSON form back; InputFileError when it is not a compliance report."""
        if not isinstance(data, Mapping) or data.get("format") != REPORT_FORMAT:
            raise InputFileError("not a compliance report (its 'format' is not "
                                 f"{REPORT_FORMAT!r})")
        try:
            return cls(str(data["project"]), str(data["name"]), str(data["uid"]), str(data["generated_at"]),
                       tuple(ComplianceSection.from_dict(s) for s in data.get("sections") or ()))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputFileError(f"the compliance report is malformed ({type(exc).__name__}: {exc})") from None


def compliance_report(project: str | os.PathLike[str], session: Session | None = None, *,
                      templates_dir: str | os.PathLike[str] | None = None, checks: ProjectReport | None = None,
                      verify_budget: int = VERIFY_BUDGET_BYTES, now: dt.datetime | None = None) -> ComplianceReport:
    """Assess a project folder; InputFileError when it is missing or has no readable record.

    ``checks`` reuses a :func:`~.check.check_project` report of the same project (else the
    checks run here, with ``session`` when given, so that the linked records and their
    permissions are read live). At most ``verify_budget`` bytes are re-hashed against the
    checksum manifest; the report says what was verified.
    """
    from . import compliance_fair, compliance_integrity, compliance_sections
    from .compliance_facts import gather_facts

    path = Path(project)
    if not path.is_dir():
        raise InputFileError(f"{project}: no such project folder")
    if checks is not None and checks.project.resolve() != path.resolve():
        raise ValueError(f"the checks given are of {checks.project}, not of {path}")
    facts = gather_facts(path, session, templates_dir=templates_dir, checks=checks, now=now)
    sections = (compliance_fair.fair_section(facts),
                compliance_sections.retention_section(facts),
                compliance_integrity.integrity_section(facts, verify_budget),
                compliance_sections.access_section(facts),
                compliance_sections.documentation_section(facts))
    return ComplianceReport(str(path), facts.record.name, facts.record.uid, facts.generated_at, sections)
