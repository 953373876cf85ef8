"""Finish what a failure left undone, never duplicating what succeeded.

The record keeps, per system, its state and the payload it was to receive; resume runs
the systems that are ``pending`` (e.g. not configured at creation) or ``failed``, looking
up anything a lost answer may already have created. Systems skipped on request stay off.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Collection

from ..core.catalogue import TemplateCatalogue
from ..core.record import load_record
from ..session import Session
from .create import SYSTEMS, StepOutcome, StepProgress, finish_links, run_planned_step

RESUMABLE_STATES = ("pending", "failed")


def resume_project(session: Session, project: str | os.PathLike[str], *, skip: Collection[str] = (),
                   on_step: StepProgress | None = None) -> dict[str, StepOutcome]:
    """Run every system that is not done yet; returns the outcome per system."""
    path = Path(project)
    outcomes: dict[str, StepOutcome] = {}
    for system in SYSTEMS:
        state = load_record(path).integrations.get(system)
        if state is None:
            continue
        if state.done:
            outcomes[system] = StepOutcome(system, "done", state.id, state.url, "already done")
            continue
        if state.payload is None or state.state not in RESUMABLE_STATES:
            # turned off by the template or the answers, or skipped on request: nothing to do
            outcomes[system] = StepOutcome(system, "off", message=state.reason or "not used")
            continue
        spec = {"enabled": True, "reason": "", "payload": state.payload}
        outcomes[system] = run_planned_step(session, path, system, spec, skip=skip, on_step=on_step,
                                            resuming=True)
    record = load_record(path)
    template, _ = TemplateCatalogue(session.templates_dir).for_record(record)
    finish_links(session, path, template)
    return outcomes
