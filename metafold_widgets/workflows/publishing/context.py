"""What gathering a package's facts needs, and the record of what could not be known."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ...core.catalogue import TemplateCatalogue
from ...core.record import ProjectRecord
from ...core.template import Template
from ...session import Session
from .people import answer_for


def record_template(record: ProjectRecord, session: Session | None) -> Template | None:
    """The template the record names (id and version), from the built-ins or the session's folder."""
    folder = session.templates_dir if session is not None else None
    return TemplateCatalogue(folder).for_record(record)[0]


@dataclass
class FactContext:
    """A project being packaged: its record, template, the live systems, the staging folder; and
    ``unknown``, every fact that could not be known with the reason, and ``warnings``."""

    project: Path
    record: ProjectRecord
    template: Template | None
    session: Session | None
    staging: Path
    warnings: list[str]
    now: str
    unknown: list[dict[str, str]] = field(default_factory=list)

    @property
    def answers(self) -> Mapping[str, Any]:
        """The project's answers."""
        return self.record.answers

    def known(self, value: Any, path: str, reason: str) -> Any:
        """``value``, or None noted in ``unknown`` with ``reason`` when it is blank."""
        if value is None or value == "" or value == []:
            self.unknown.append({"field": path, "reason": reason})
            return None
        return value

    def answer(self, role: str, path: str, what: str) -> Any:
        """The answer that plays ``role``, or None noted in ``unknown`` (no answer gives ``what``)."""
        found = answer_for(self.answers, role)
        return self.known(found[1] if found else None, path, f"no answer of the project gives {what}")
