"""Check that a project is complete and that its folder, record and linked records agree.

Besides structure, metadata and the linked records' custom values, the basic facts (title,
tags, status, category, dates, investigator, OMERO dataset name and description) are compared
across the three (:mod:`.check_facts`, results named ``facts: <fact>``) and who may read and
change the project is checked against its sharing level (:mod:`.permissions`, results named
``permissions: folder``, ``permissions: elabFTW``, ``permissions: OMERO``). Each check gives
``pass``, ``warn``, ``fail`` or ``skip`` (not applicable, e.g. a system that is not
configured), a message and how to fix it. The report adds an overall score
and the recommendations, and renders as a DataFrame, JSON or a text table (the views show it
as HTML: ``metafold_widgets.widgets.reports``).
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from ..adapters.omero import DatasetState, read_project_dataset
from ..adapters.omero_permissions import DatasetAccess, read_dataset_access
from ..core.bounded import METADATA_MAX_BYTES, read_json
from ..core.catalogue import TemplateCatalogue
from ..core.checksums import SUMS_FILES
from ..core.formats.elabftw import elabftw_value
from ..core.record import ELABFTW_METADATA_FILE, README_FILE, RECORD_FILE, IntegrationState, ProjectRecord, load_record
from ..core.systems import SYSTEM_NAMES
from ..core.template import Template
from ..core.validation import check_answers
from ..errors import InputFileError, IntegrationError, MetafoldError
from ..session import Session
from . import permissions
from .archive import verify
from .check_facts import Known, OmeroFacts, fact_results

_WEIGHT = {"pass": 1.0, "warn": 0.5, "fail": 0.0}
# Kinds of checks, by the prefix of their name ("facts: title"); the others are about the project.
SECTIONS = ("project", "facts", "permissions")
STATUSES = ("pass", "warn", "fail", "skip")


def section_of(check: str) -> str:
    """``facts`` for ``facts: title``, ``permissions`` for ``permissions: OMERO``, else ``project``."""
    prefix = check.split(": ", 1)[0] if ": " in check else ""
    return prefix if prefix in SECTIONS else "project"


@dataclass(frozen=True)
class CheckResult:
    """One check: what was checked, the verdict, what was found and how to fix it."""

    check: str
    status: str
    message: str
    fix: str = ""


@dataclass
class ProjectReport:
    """Every check of one project, with an overall score (0-100) and recommendations."""

    project: Path
    results: list[CheckResult] = field(default_factory=list)

    @property
    def score(self) -> int:
        """Share of applicable checks passed (a warning counts half)."""
        scored = [_WEIGHT[r.status] for r in self.results if r.status in _WEIGHT]
        return round(100 * sum(scored) / len(scored)) if scored else 100

    @property
    def failed(self) -> bool:
        """True when at least one check failed."""
        return any(r.status == "fail" for r in self.results)

    @property
    def recommendations(self) -> list[str]:
        """The fixes of every check that did not pass, failures first."""
        order = {"fail": 0, "warn": 1}
        pending = sorted((r for r in self.results if r.status in order and r.fix), key=lambda r: order[r.status])
        return list(dict.fromkeys(r.fix for r in pending))

    @property
    def sections(self) -> dict[str, dict[str, int]]:
        """How many checks of each kind (project, facts, permissions) gave each status."""
        counts = {name: dict.fromkeys(STATUSES, 0) for name in SECTIONS}
        for r in self.results:
            if r.status in STATUSES:
                counts[section_of(r.check)][r.status] += 1
        return {name: found for name, found in counts.items() if any(found.values())}

    def sections_line(self) -> str:
        """``project: 7 pass, 1 warn; facts: 6 pass, 1 fail; permissions: 3 pass``."""
        return "; ".join(f"{name}: " + ", ".join(f"{n} {status}" for status, n in found.items() if n)
                         for name, found in self.sections.items())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data for machines."""
        return {"project": str(self.project), "score": self.score, "failed": self.failed,
                "results": [asdict(r) for r in self.results], "sections": self.sections,
                "recommendations": self.recommendations}

    def to_json(self) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def to_dataframe(self) -> Any:
        """The results as a pandas DataFrame (one row per check)."""
        import pandas as pd
        return pd.DataFrame([asdict(r) for r in self.results], columns=["check", "status", "message", "fix"])

    def to_table(self) -> str:
        """A plain-text table for terminals."""
        rows = [("STATUS", "CHECK", "MESSAGE")] + [(r.status.upper(), r.check, r.message) for r in self.results]
        widths = [max(len(row[i]) for row in rows) for i in range(2)]
        lines = [f"{s.ljust(widths[0])}  {c.ljust(widths[1])}  {m}" for s, c, m in rows]
        lines.append(f"\nscore: {self.score}/100 for {self.project}")
        lines += [f"- {fix}" for fix in self.recommendations]
        return "\n".join(lines)


Check = Callable[["_Context"], Iterable[CheckResult]]


@dataclass
class _Context:
    project: Path
    record: ProjectRecord
    template: Template | None
    session: Session | None
    _reads: dict[str, Known] = field(default_factory=dict)

    def experiment(self) -> Known:
        """The linked experiment as elabFTW returns it (read once), or why it is unknown."""
        if "elabftw" not in self._reads:
            self._reads["elabftw"] = self._read_experiment()
        return self._reads["elabftw"]

    def _read_experiment(self) -> Known:
        state = self.record.integrations.get("elabftw")
        client = self.session.elabftw if self.session else None
        if state is None or not state.done:
            return Known(why="no experiment was created")
        if client is None:
            return Known(why="elabFTW is not configured here")
        try:
            return Known(client.get_experiment(int(state.id)))
        except (IntegrationError, TypeError, ValueError) as exc:
            return Known(why=f"experiment {state.id} cannot be read: {exc}")

    def omero_state(self) -> Known:
        """The project's dataset found by its uid, with its pairs (a :class:`DatasetState`)."""
        if "omero_state" not in self._reads:
            self._reads["omero_state"] = self._read_omero(lambda conn, state: read_project_dataset(
                conn, self.record.uid, (state.payload or {}).get("group")))
        return self._reads["omero_state"]

    def omero_access(self) -> Known:
        """The recorded dataset's name, description and group permissions (a :class:`DatasetAccess`)."""
        if "omero_access" not in self._reads:
            self._reads["omero_access"] = self._read_omero(
                lambda conn, state: read_dataset_access(conn, int(state.id)))
        return self._reads["omero_access"]

    def _read_omero(self, read: Callable[[Any, IntegrationState], Any]) -> Known:
        state = self.record.integrations.get("omero")
        if state is None or not state.done:
            return Known(why="no dataset was created")
        if self.session is None or not self.session.is_configured("omero"):
            return Known(why="OMERO is not configured here")
        try:
            found = read(self.session.omero, state)
        except (IntegrationError, TypeError, ValueError) as exc:
            return Known(why=f"dataset {state.id} cannot be read: {exc}")
        return Known(found) if found is not None else Known(why=f"dataset {state.id} was not found")


def check_project(project: str | os.PathLike[str], session: Session | None = None,
                  templates_dir: str | os.PathLike[str] | None = None, *, checksums: bool = True) -> ProjectReport:
    """Run every check on a project folder; never raises for what it finds.

    ``checksums=False`` leaves out re-hashing the files against the checksum manifest, for a
    caller that verifies them its own way (the compliance report's bounded verify).
    """
    path = Path(project)
    report = ProjectReport(path)
    try:
        record = load_record(path)
    except MetafoldError as exc:
        report.results.append(CheckResult("project record", "fail", str(exc),
                                          "Point to a folder created by metafold-widgets (it has metafold.json)."))
        return report
    report.results.append(CheckResult("project record", "pass", "metafold.json is readable"))
    folder = templates_dir or (session.templates_dir if session else None)
    template, found = _find_template(record, folder)
    report.results.append(found)
    context = _Context(path, record, template, session)
    for check in CHECKS:
        if checksums or check is not _checksums:
            report.results.extend(check(context))
    return report


def _find_template(record: ProjectRecord,
                   folder: str | os.PathLike[str] | None) -> tuple[Template | None, CheckResult]:
    wanted_id, wanted_version = record.template_id, record.template_version
    template, exact = TemplateCatalogue(folder).for_record(record)
    if template is not None and exact:
        return template, CheckResult("template", "pass", f"template {wanted_id} {wanted_version} found")
    if template is not None:
        return template, CheckResult(
            "template", "warn", f"the project used {wanted_id} {wanted_version}; only version "
            f"{template.version} is available, checked against that",
            "Keep old template versions in your templates folder to check old projects exactly.")
    return None, CheckResult("template", "warn", f"template '{wanted_id}' was not found; structure and "
                             "metadata rules cannot be checked", "Set METAFOLD_TEMPLATES_DIR to the lab's templates.")


def _structure(ctx: _Context) -> Iterable[CheckResult]:
    if ctx.template is None:
        return [CheckResult("folder structure", "skip", "no template to compare with")]
    missing = [f for f in ctx.template.folders.folders if not (ctx.project / f).is_dir()]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        return [CheckResult("folder structure", "fail", f"{len(missing)} folders missing: {shown}",
                            "Recreate the missing folders (they may have been moved or renamed).")]
    return [CheckResult("folder structure", "pass", f"all {len(ctx.template.folders.folders)} folders present")]


def _metadata(ctx: _Context) -> Iterable[CheckResult]:
    if ctx.template is None:
        return [CheckResult("metadata", "skip", "no template to validate against")]
    errors = check_answers(ctx.template, ctx.record.answers).errors
    if errors:
        return [CheckResult("metadata", "fail", "; ".join(str(e) for e in errors[:5]),
                            "Correct the answers and run 'metafold sync' to update every system.")]
    return [CheckResult("metadata", "pass", "every answer is valid")]


def _files(ctx: _Context) -> Iterable[CheckResult]:
    results = []
    if not (ctx.project / README_FILE).is_file():
        results.append(CheckResult("README", "warn", "README.md is missing", "Run 'metafold sync' to rewrite it."))
    try:
        log = ctx.record.log_path(ctx.project)
    except MetafoldError as exc:
        results.append(CheckResult("integration log", "fail", str(exc),
                                   "Set project.log in metafold.json back to a path inside the project."))
    else:
        if not log.is_file():
            results.append(CheckResult("integration log", "warn", "the integration log is missing",
                                       "The log records every step; it is recreated by the next step."))
    metadata_path = ctx.project / ELABFTW_METADATA_FILE
    try:
        metadata = read_json(metadata_path, METADATA_MAX_BYTES, "metadata file")
    except InputFileError as exc:
        results.append(CheckResult("elabftw-metadata.json", "fail", f"cannot be read: {exc}",
                                   "Run 'metafold sync' to rewrite it from the record."))
        return results
    differences = _metadata_differences(ctx, metadata)
    if differences:
        results.append(CheckResult("record vs elabftw-metadata.json", "fail", "; ".join(differences[:5]),
                                   "Run 'metafold sync' so both files hold the same answers."))
    else:
        results.append(CheckResult("record vs elabftw-metadata.json", "pass", "both hold the same answers"))
    return results


def _metadata_differences(ctx: _Context, metadata: dict[str, Any]) -> list[str]:
    """Answers of the record that elabftw-metadata.json holds differently (or not at all)."""
    if ctx.template is None:
        return []
    by_key = {f.key: f for f in ctx.template.fields}
    extra = metadata.get("extra_fields") or {}
    label_of = {key: label for label, key in ((metadata.get("metafold") or {}).get("field_keys") or {}).items()}
    differences = []
    for key, answer in ctx.record.answers.items():
        if key not in by_key:
            continue
        label = label_of.get(key, by_key[key].label)
        expected = elabftw_value(by_key[key], answer)
        spec = extra.get(label)
        if spec is None:
            differences.append(f"'{label}' is missing")
        elif spec.get("value") != expected:
            differences.append(f"'{label}' is {spec.get('value')!r} but the record says {expected!r}")
    return differences


def _integrations(ctx: _Context) -> Iterable[CheckResult]:
    results = []
    for system, state in ctx.record.integrations.items():
        if system not in ("elabftw", "omero"):
            continue
        name = SYSTEM_NAMES[system]
        if state.done:
            results.extend(_remote(ctx, system, state))
        elif state.state == "failed":
            results.append(CheckResult(f"{name} record", "fail", f"creation failed: {state.error}",
                                       "Fix the cause, then run 'metafold resume' to finish without duplicates."))
        elif state.state == "pending":
            results.append(CheckResult(f"{name} record", "warn", "not created yet",
                                       f"Configure {name} and run 'metafold resume'."))
        else:
            results.append(CheckResult(f"{name} record", "skip", state.reason or "not used"))
    return results


def _remote(ctx: _Context, system: str, state: IntegrationState) -> list[CheckResult]:
    if system == "omero":
        return _omero_dataset(ctx, state)
    label = "elabFTW experiment"
    client = ctx.session.elabftw if ctx.session else None
    if client is None:
        return [CheckResult(label, "skip", f"recorded as experiment {state.id}; elabFTW is not configured "
                            "here, so it was not compared")]
    read = ctx.experiment()
    if read.data is None:
        return [CheckResult(label, "fail", read.why,
                            "Check that it was not deleted and that your API key can read it.")]
    experiment = read.data
    remote = (experiment.get("metadata") or {}).get("extra_fields", {})
    local_metadata = _read_metadata(ctx.project)
    if local_metadata is None:
        return [CheckResult(label, "skip", f"{ELABFTW_METADATA_FILE} is missing or unreadable here, so the "
                            "experiment's values were not compared", "Run 'metafold sync' to write it again.")]
    local = local_metadata.get("extra_fields") or {}
    changed = [name for name, spec in local.items() if (remote.get(name) or {}).get("value") != spec.get("value")]
    if changed:
        return [CheckResult(label, "fail", f"{len(changed)} values differ from the project: {', '.join(changed[:5])}",
                            "Run 'metafold sync' to bring them back into agreement.")]
    return [CheckResult(label, "pass", f"experiment {state.id} exists and every value matches")]


def _read_metadata(project: Path) -> dict[str, Any] | None:
    """elabftw-metadata.json of the project, or None when it is missing or not a JSON object."""
    try:
        data = read_json(project / ELABFTW_METADATA_FILE, METADATA_MAX_BYTES, "metadata file")
    except InputFileError:
        return None
    return data if isinstance(data, dict) else None


def _omero_dataset(ctx: _Context, state: IntegrationState) -> list[CheckResult]:
    label = "OMERO dataset"
    if ctx.session is None or not ctx.session.is_configured("omero"):
        return [CheckResult(label, "skip", f"recorded as dataset {state.id}; OMERO is not configured here, "
                            "so it was not compared")]
    payload = state.payload or {}
    read = ctx.omero_state()
    found: DatasetState | None = read.data
    if found is None and "cannot be read" in read.why:
        return [CheckResult(label, "fail", read.why,
                            "Check the OMERO connection and that you are a member of the dataset's group.")]
    if found is None:
        return [CheckResult(label, "fail", f"no dataset of this project in group {payload.get('group') or 'default'}",
                            "It may have been deleted or moved; run 'metafold resume' to create it again.")]
    problems = []
    if str(found.dataset_id) != str(state.id):
        problems.append(f"the record names dataset {state.id} but the project's dataset is {found.dataset_id}")
    if payload.get("project_link") and found.project_id is None:
        problems.append("the dataset is in no OMERO project")
    stored = set(map(tuple, found.pairs))
    differing = [key for key, value in payload.get("key_values", []) if (key, value) not in stored]
    if differing:
        problems.append(f"{len(differing)} key-value pairs differ: {', '.join(dict.fromkeys(differing[:5]))}")
    if problems:
        return [CheckResult(label, "fail", "; ".join(problems), "Run 'metafold sync' to rewrite the pairs from the "
                            "project (pairs people added in OMERO.web are kept).")]
    return [CheckResult(label, "pass", f"dataset {found.dataset_id} exists in group {found.group_id}"
                        + (f", project {found.project_id}" if found.project_id else "") + ", every pair matches")]


# Files the product itself rewrites: a changed checksum for them is expected, not damage.
_BOOKKEEPING = (RECORD_FILE, README_FILE, ELABFTW_METADATA_FILE)


def _checksums(ctx: _Context) -> Iterable[CheckResult]:
    label = "checksum manifest"
    if not any((ctx.project / name).is_file() for name in SUMS_FILES.values()):
        return [CheckResult(label, "skip", "no checksum manifest ('metafold archive' writes one)")]
    try:
        report = verify(ctx.project)
    except MetafoldError as exc:
        return [CheckResult(label, "fail", str(exc), "Write the manifest again with 'metafold archive'.")]
    log = ctx.record.log
    changed = [path for path, _ in report.mismatched if path not in _BOOKKEEPING and path != log]
    damaged = sorted(set(changed)) + report.missing + report.problems
    if damaged:
        return [CheckResult(label, "fail", f"{len(damaged)} listed files changed or missing: {', '.join(damaged[:5])}",
                            "Restore them from the archive or backup, or write a new manifest if the change "
                            "was intended.")]
    added = f"; {len(report.extra)} files added since" if report.extra else ""
    return [CheckResult(label, "pass", f"{report.checked} listed files unchanged{added}")]


def _facts(ctx: _Context) -> Iterable[CheckResult]:
    """Title, tags, status, category, dates, investigator, dataset name and description."""
    access, state = ctx.omero_access(), ctx.omero_state()
    omero = Known(why=access.why)
    if isinstance(access.data, DatasetAccess):
        pairs = list(state.data.pairs) if isinstance(state.data, DatasetState) else []
        omero = Known(OmeroFacts(access.data.name, access.data.description, pairs))
    return [CheckResult(f"facts: {fact}", result.status, result.message, result.fix)
            for fact, result in fact_results(ctx.project, ctx.record, ctx.template, ctx.experiment(), omero)]


def _permissions(ctx: _Context) -> Iterable[CheckResult]:
    """Who may read and change the project in each system, against its sharing level."""
    level = permissions.sharing_level(ctx.record.answers)
    results = [permissions.folder_permissions(ctx.project, level)]
    names = ["permissions: folder"]
    for system, read, judge in (("elabftw", ctx.experiment, permissions.elabftw_permissions),
                                ("omero", ctx.omero_access, permissions.omero_permissions)):
        names.append(f"permissions: {SYSTEM_NAMES[system]}")
        state = ctx.record.integrations.get(system)
        if state is None or not state.done:
            reason = state.reason if state is not None and state.reason else "not used by this project"
            results.append(permissions.Result("skip", f"{SYSTEM_NAMES[system]}: {reason}"))
            continue
        known = read()
        results.append(judge(known.data, level) if known.data is not None
                       else permissions.Result("skip", f"not checked: {known.why}"))
    return [CheckResult(name, r.status, r.message, r.fix) for name, r in zip(names, results)]


CHECKS: tuple[Check, ...] = (_structure, _metadata, _files, _integrations, _facts, _permissions, _checksums)
