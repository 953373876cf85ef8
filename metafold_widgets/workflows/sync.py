"""Keep a project's folder, elabFTW experiment and OMERO dataset in agreement.

The project record is the common ancestor: every successful sync leaves the record
equal to elabFTW. So for each field:

- changed here only (new answers given to sync)   -> pushed to elabFTW (``metadatamerge``),
- changed in elabFTW only                          -> pulled into the record,
- changed on both sides to different values        -> reported as a conflict, nothing overwritten.

The record's answers change only after elabFTW accepted the push, so a failed push can
never be mistaken for a remote change later. OMERO's key-value pairs are then rewritten
from the record, keeping pairs users added in OMERO.web. The experiment's status is
pulled into the record (and logged when it changed). The Markdown entries of the template's
documentation folders are published as sections of the experiment (workflows/entries.py);
every other file of those folders, subfolders included, is attached; unchanged files are
never uploaded again.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from ..adapters.omero import rewrite_key_values
from ..core.catalogue import TemplateCatalogue
from ..core.formats.elabftw import answer_from_elabftw, to_elabftw
from ..core.plan import plan_integrations, project_link
from ..core.project import rewrite_project_files
from ..core.record import ProjectRecord, load_record, log_event, record_integration
from ..core.template import Template
from ..core.validation import resolve_answers
from ..errors import IntegrationError, UserError
from ..session import Session
from .entries import EntriesReport, documentation_paths, is_entry, project_template, publish_entries


@dataclass
class SyncReport:
    """What a sync did (or, with ``dry_run``, would do)."""

    project: Path
    pushed: dict[str, Any] = field(default_factory=dict)
    pulled: dict[str, Any] = field(default_factory=dict)
    conflicts: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    attached: list[str] = field(default_factory=list)
    status: str | None = None
    omero: str = ""
    errors: list[str] = field(default_factory=list)
    dry_run: bool = False
    entries: EntriesReport | None = None
    status_changed: bool = False  # the status differs from the one last recorded

    @property
    def changed(self) -> bool:
        """True when anything was (or would be) changed."""
        return bool(self.pushed or self.pulled or self.attached or (self.entries and self.entries.changed))

    def summary(self) -> str:
        """What happened, for people."""
        verb = "would " if self.dry_run else ""
        lines = [f"{self.project.name}:"]
        lines += [f"  {verb}push {label} = {value!r} to elabFTW" for label, value in self.pushed.items()]
        lines += [f"  {verb}pull {label} = {value!r} from elabFTW" for label, value in self.pulled.items()]
        lines += [f"  CONFLICT {label}: here {here!r}, elabFTW {there!r} (nothing overwritten)"
                  for label, (here, there) in self.conflicts.items()]
        lines += [f"  {verb}attach {path}" for path in self.attached]
        if self.entries is not None and (self.entries.changed or self.entries.errors or self.entries.left_out):
            lines += self.entries.summary().splitlines()[1:]
        if self.status and self.status_changed:
            lines.append(f"  elabFTW status: {self.status}")
        if self.omero:
            lines.append(f"  OMERO: {self.omero}")
        lines += [f"  ERROR {error}" for error in self.errors]
        if len(lines) == 1:
            lines.append("  already in agreement")
        return "\n".join(lines)


def sync_project(session: Session, project: str | os.PathLike[str], answers: Mapping[str, Any] | None = None,
                 *, dry_run: bool = False, attach: bool = True, publish: bool = True) -> SyncReport:
    """Bring the project's systems into agreement; ``answers`` are new answers edited here.
    ``attach`` uploads the documentation files, ``publish`` publishes the Markdown entries."""
    path = Path(project)
    record = load_record(path)
    template = _template_of(record, session)
    base = dict(record.answers)
    wanted = resolve_answers(template, answers, str(path)).values if answers is not None else base
    report = SyncReport(path, dry_run=dry_run)
    state = record.integration("elabftw")
    client = session.elabftw
    merged = dict(wanted)
    if state.done and client is not None:
        try:
            merged = _sync_elabftw(client, template, int(state.id), base, wanted, report)
        except IntegrationError as exc:
            report.errors.append(f"elabFTW: {exc}")
            return report  # the record keeps its answers: nothing was agreed
    elif wanted != base:
        report.pushed.update({template.field(k).label: v for k, v in wanted.items() if base.get(k) != v})
    if dry_run:
        if publish and state.done and client is not None:
            _publish(session, path, report)
        return report
    if merged != base:
        record.answers = merged
        checked = resolve_answers(template, merged, str(path))
        experiment = record.integration("elabftw")
        plans = plan_integrations(template, checked, record.name, to_elabftw(template, merged),
                                  link=project_link(record, path, session.web_folders),
                                  elabftw_url=experiment.url if experiment.done else None)
        for system, spec in plans.items():
            if spec["enabled"] and system in record.integrations:
                record.integrations[system].payload = spec["payload"]
        rewrite_project_files(path, template, record)
        log_event(path, record, system="local", action="sync", result="done",
                  changed=sorted(k for k in merged if merged.get(k) != base.get(k)))
    known_status = state.get("status") or (state.payload or {}).get("status")
    report.status_changed = report.status is not None and report.status != known_status
    if report.status_changed and not dry_run:
        record_integration(path, "elabftw", action="pull status", status=report.status)
    if attach and state.done and client is not None:
        _attach_files(client, path, int(state.id), report, template)
    if publish and state.done and client is not None:
        _publish(session, path, report)
    _sync_omero(session, path, report)
    return report


def _publish(session: Session, path: Path, report: SyncReport) -> None:
    """Publish the entries into ``report.entries``; a problem joins the errors (OMERO still runs)."""
    try:
        report.entries = publish_entries(session, path, dry_run=report.dry_run)
    except (IntegrationError, UserError) as exc:
        report.errors.append(f"elabFTW entries: {exc}")
    else:
        report.errors += report.entries.errors


def watch_project(session: Session, project: str | os.PathLike[str], interval: float = 60.0,
                  on_report: Callable[[SyncReport], None] | None = None, rounds: int | None = None,
                  sleep: Callable[[float], None] = time.sleep) -> int:
    """Sync every ``interval`` seconds (elabFTW sends no webhooks); stops on Ctrl-C or after ``rounds``.

    Returns the number of rounds run.
    """
    done = 0
    try:
        while rounds is None or done < rounds:
            report = sync_project(session, project)
            done += 1
            if on_report is not None and (report.changed or report.conflicts or report.errors):
                on_report(report)
            if rounds is not None and done >= rounds:
                break
            sleep(interval)
    except KeyboardInterrupt:
        pass
    return done


def _template_of(record: ProjectRecord, session: Session) -> Template:
    template, _ = TemplateCatalogue(session.templates_dir).for_record(record)
    if template is None:
        raise UserError(f"template '{record.template_id}' {record.template_version} was not found among the "
                        "built-in templates or in METAFOLD_TEMPLATES_DIR; sync needs it to read the answers")
    return template


def _sync_elabftw(client: Any, template: Template, experiment_id: int, base: Mapping[str, Any],
                  wanted: Mapping[str, Any], report: SyncReport) -> dict[str, Any]:
    experiment = client.get_experiment(experiment_id)
    remote_fields = (experiment.get("metadata") or {}).get("extra_fields") or {}
    exported = to_elabftw(template, dict(wanted))
    labels = {key: label for label, key in exported["metafold"]["field_keys"].items()}
    fields = {f.key: f for f in template.fields}
    merged = dict(wanted)
    pushes: dict[str, Any] = {}
    for key, field_spec in fields.items():
        label = labels.get(key, field_spec.label)
        here_changed = wanted.get(key) != base.get(key)
        remote_spec = remote_fields.get(label)
        remote = answer_from_elabftw(field_spec, remote_spec.get("value")) if remote_spec else None
        there_changed = remote_spec is not None and remote != base.get(key)
        if here_changed and there_changed and remote != wanted.get(key):
            report.conflicts[label] = (wanted.get(key), remote)
            merged[key] = base.get(key)
        elif here_changed and key in wanted:
            pushes[label] = exported["extra_fields"][label]["value"]
        elif there_changed:
            report.pulled[label] = remote
            merged[key] = remote
    status = experiment.get("status_title") or experiment.get("status")
    report.status = str(status) if status not in (None, "") else None
    report.pushed.update(pushes)
    if pushes and not report.dry_run:
        client.merge_metadata_values(experiment_id, pushes)
    return {k: v for k, v in merged.items() if v is not None or k in wanted}


def attach_files(session: Session, project: str | os.PathLike[str], dry_run: bool = False) -> SyncReport:
    """Attach new or changed files of the documentation folders (subfolders included) to the
    experiment; Markdown entries are published as sections instead (:func:`publish_entries`)."""
    path = Path(project)
    report = SyncReport(path, dry_run=dry_run)
    record = load_record(path)
    state = record.integration("elabftw")
    if not state.done:
        raise UserError(f"{path.name} has no elabFTW experiment yet (state: {state.state})")
    if session.elabftw is None:
        raise UserError("elabFTW is not configured: set ELABFTW_URL and ELABFTW_API_KEY")
    _attach_files(session.elabftw, path, int(state.id), report, project_template(record, session.templates_dir))
    return report


def _attach_files(client: Any, project: Path, experiment_id: int, report: SyncReport,
                  template: Template | None) -> None:
    known: dict[str, str] = dict(load_record(project).integration("elabftw").get("attachments") or {})
    changed = False
    for path in _attachable(project, template):
        relative = path.relative_to(project).as_posix()
        digest = _sha256(path)
        if known.get(relative) == digest:
            continue
        report.attached.append(relative)
        if report.dry_run:
            continue
        try:
            client.upload(experiment_id, path, comment=f"{relative} (sha256 {digest[:12]})")
        except IntegrationError as exc:
            report.errors.append(f"elabFTW upload of {relative}: {exc}")
            continue
        known[relative] = digest
        changed = True
    if changed:
        record_integration(project, "elabftw", action="attach", result="done", attachments=known)


def _attachable(project: Path, template: Template | None) -> list[Path]:
    """The files of the documentation folders that are not Markdown entries."""
    return [path for path in documentation_paths(project, template) if not is_entry(path)]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sync_omero(session: Session, project: Path, report: SyncReport) -> None:
    state = load_record(project).integration("omero")
    if not state.done or not session.is_configured("omero"):
        return
    if report.dry_run:
        report.omero = "would rewrite the key-value pairs from the record"
        return
    try:
        pairs, changed = rewrite_key_values(session.omero, int(state.id), (state.payload or {}).get("key_values", []))
    except IntegrationError as exc:
        report.errors.append(f"OMERO: {exc}")
        return
    report.omero = f"{len(pairs)} key-value pairs in agreement with the record"
    if changed:  # logged only when OMERO held other pairs before (sync --watch runs every minute)
        log_event(project, system="omero", action="rewrite key-value pairs", result="done", pairs=len(pairs))
