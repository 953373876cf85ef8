"""Finish what a failure left undone, never duplicating what succeeded.

The record keeps, per system, its state and the payload it was to receive; resume runs
the systems that are ``pending`` (e.g. not configured at creation) or ``failed``, looking
up anything a lost answer may already have created. Systems skipped on request stay off.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Collection

from ..core.record import read_record
from ..session import Session
from ..core.loader import find_template_by_id
from .create import SYSTEMS, StepOutcome, StepProgress, finish_links, run_planned_step

RESUMABLE_STATES = ("pending", "failed")


def resume_project(session: Session, project: str | os.PathLike[str], *, skip: Collection[str] = (),
                   on_step: StepProgress | None = None) -> dict[str, StepOutcome]:
    """Run every system that is not done yet; returns the outcome per system."""
    path = Path(project)
    outcomes: dict[str, StepOutcome] = {}
    for system in SYSTEMS:
        state = read_record(path).get("integrations", {}).get(system)
        if state is None:
            continue
        status = state.get("state")
        if status == "done":
            outcomes[system] = StepOutcome(system, "done", state.get("id"), state.get("url"), "already done")
            continue
        if "payload" not in state:  # turned off by the template or the answers: nothing to do
            outcomes[system] = StepOutcome(system, "off", message=state.get("reason", "not used"))
            continue
        if status not in RESUMABLE_STATES:  # "off": skipped on request
            outcomes[system] = StepOutcome(system, "off", message=state.get("reason", "not used"))
            continue
        spec = {"enabled": True, "reason": "", "payload": state["payload"]}
        outcomes[system] = run_planned_step(session, path, system, spec, skip=skip, on_step=on_step,
                                            resuming=True)
    wanted = read_record(path).get("template", {})
    template, _ = find_template_by_id(str(wanted.get("id")), wanted.get("version"), session.templates_dir)
    finish_links(session, path, template)
    return outcomes
