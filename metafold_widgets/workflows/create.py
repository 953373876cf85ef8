"""Create a project everywhere: the local folder first, then each configured system.

Every step's outcome is written to the project record and its integration log as it
happens. A failing system never undoes the local project: the record says what is
done and what failed and why, so a later run can finish the rest.
"""
from __future__ import annotations

import datetime as dt
import os
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection, Mapping

from ..core.plan import Plan, plan_project
from ..core.project import Progress, apply_plan, rewrite_readme
from ..core.record import load_record, record_integration
from ..core.systems import SYSTEM_NAMES, SYSTEMS
from ..core.template import Template
from ..errors import IntegrationError
from ..session import Session
from .crosslinks import link_records
from .elabftw_step import push_experiment
from .omero_step import dataset_provenance, omero_web_base, push_dataset


@dataclass(frozen=True)
class StepOutcome:
    """What happened to one system, and why: ``done``, ``failed``, ``pending`` (not configured:
    the record keeps it for ``metafold resume``), ``skipped`` (on request) or ``off`` (not used)."""

    system: str
    state: str
    id: Any = None
    url: str | None = None
    message: str = ""


@dataclass(frozen=True)
class CreateResult:
    """The created project and the outcome per system."""

    path: Path
    plan: Plan
    outcomes: Mapping[str, StepOutcome] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no system failed."""
        return all(outcome.state != "failed" for outcome in self.outcomes.values())

    def summary(self) -> str:
        """One line per system, for people."""
        lines = [f"project folder: {self.path}"]
        for outcome in self.outcomes.values():
            name = SYSTEM_NAMES.get(outcome.system, outcome.system)
            detail = "; ".join(part for part in (outcome.url, outcome.message) if part)
            lines.append(f"{name}: {outcome.state}" + (f" ({detail})" if detail else ""))
        return "\n".join(lines)


StepProgress = Callable[[str, str], None]


def create_project_everywhere(session: Session, template: Template, answers: Mapping[str, Any] | None,
                              dest: str | os.PathLike[str], name: str | None = None, *,
                              skip: Collection[str] = (), created_by: str | None = None,
                              now: dt.datetime | None = None, progress: Progress | None = None,
                              on_step: StepProgress | None = None) -> CreateResult:
    """Plan, create the folder atomically, then run each enabled and configured system.

    ``skip`` names systems to leave out (the CLI's ``--no-elabftw``). Raises for bad
    input before anything is written; integration failures are recorded, not raised.
    """
    plan = plan_project(template, answers, dest, name, created_by=created_by, now=now, web=session.web_folders)
    return apply_everywhere(session, plan, skip=skip, progress=progress, on_step=on_step, template=template)


def apply_everywhere(session: Session, plan: Plan, *, skip: Collection[str] = (),
                     progress: Progress | None = None, on_step: StepProgress | None = None,
                     template: Template | None = None,
                     omero_turn: AbstractContextManager[Any] | None = None) -> CreateResult:
    """Create a planned project's folder, then its record in each enabled and configured system,
    then link the records to each other. With ``template``, the README is rewritten to show
    the links. ``omero_turn`` (a lock) is held around every OMERO call, for callers that share
    one OMERO connection between threads (a BlitzGateway is not thread-safe)."""
    turn = omero_turn if omero_turn is not None else nullcontext()
    path = apply_plan(plan, progress)
    outcomes: dict[str, StepOutcome] = {}
    for system in SYSTEMS:
        if system in plan.integrations:
            with turn if system == "omero" else nullcontext():
                outcomes[system] = run_step(session, path, plan, system, skip=skip, on_step=on_step)
    with turn:
        finish_links(session, path, template)
    return CreateResult(path, plan, outcomes)


def finish_links(session: Session, project: Path, template: Template | None) -> None:
    """Cross-link the records and show the links in the README."""
    link_records(session, project)
    if template is not None:
        rewrite_readme(project, template)


def run_step(session: Session, project: Path, plan: Plan, system: str, *, skip: Collection[str] = (),
             on_step: StepProgress | None = None, resuming: bool = False) -> StepOutcome:
    """Run one system's step for an existing project and record its outcome."""
    return run_planned_step(session, project, system, plan.integrations[system], skip=skip, on_step=on_step,
                            resuming=resuming)


def run_planned_step(session: Session, project: Path, system: str, spec: Mapping[str, Any], *,
                     skip: Collection[str] = (), on_step: StepProgress | None = None,
                     resuming: bool = False) -> StepOutcome:
    """Run one system's step from its planned ``spec`` (enabled, reason, payload) and record the outcome.

    With ``resuming``, a record that a lost answer may already have created is looked up
    first, so nothing is ever created twice.
    """
    name = SYSTEM_NAMES.get(system, system)
    notify = on_step or (lambda system, message: None)
    if not spec["enabled"]:
        return StepOutcome(system, "off", message=spec["reason"])
    if system in skip:
        reason = "skipped on request"
        record_integration(project, system, state="off", reason=reason, action="skip")
        return StepOutcome(system, "skipped", message=reason)
    if not session.is_configured(system):
        reason = f"{name} is not configured"
        # still pending: 'metafold resume' creates it once the system is configured
        record_integration(project, system, state="pending", reason=reason, action="skip", result="skipped")
        return StepOutcome(system, "pending", message=reason)
    notify(system, f"creating the {name} record")
    extra: dict[str, Any] = {}
    warnings: list[str] = []
    url: str | None
    try:
        if system == "elabftw":
            assert session.elabftw is not None
            remote_id, url = push_experiment(session.elabftw, project, load_record(project), spec["payload"],
                                             resuming=resuming, warnings=warnings)
        else:
            record = load_record(project)
            remote_id, url = push_dataset(session.omero, project, record, spec["payload"],
                                          resuming=resuming, web_url=omero_web_base(session))
            extra["linked_elabftw"] = dataset_provenance(project, record)["elabftw_url"]
    except IntegrationError as exc:
        record_integration(project, system, state="failed", error=str(exc), action="create", result="failed")
        notify(system, f"{name} failed: {exc}")
        return StepOutcome(system, "failed", message=str(exc))
    warning = "; ".join(warnings) or None
    record_integration(project, system, state="done", id=remote_id, url=url, error=None, warning=warning,
                       action="create", **extra)
    notify(system, f"{name} record {remote_id} created" + (f" ({warning})" if warning else ""))
    return StepOutcome(system, "done", remote_id, url, message=warning or "")
