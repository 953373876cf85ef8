"""Import an ``.eln`` file (one exported by elabFTW or by us) into a new project folder.

Importing reads the metadata from ``elabftw_metadata`` (or rebuilds it from the other
PropertyValues), finds the template (given, or named in the metadata, or built from the
metadata itself), turns the custom fields back into answers, creates the project, then
puts each file where it was when the folder exists, and elabFTW attachments into the
template's elabFTW-exports folder.

Nothing in the file is trusted (see :mod:`.eln_read` and :mod:`.unpacking`). Before anything
is written, every file to import must be a regular member of the zip whose size matches
its ``contentSize``, and all of them together must stay within the archive's expansion
budget. While extracting, a member stops being read as soon as it gives more than it
declared, and its SHA-256 must match. The project is built in a hidden folder beside its
final place and moved there only when complete: an import that fails leaves nothing.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Iterator, Mapping, Sequence

from ...core.atomic import TEMP_PREFIX, disk_full_as_error, fsync_dir, rename_no_replace, staged_file, write_new_file
from ...core.checksums import is_inside
from ...core.formats.elabftw import PROVENANCE_KEY, answer_from_elabftw
from ...core.loader import find_template_by_id, load_template
from ...core.plan import Plan, plan_project
from ...core.project import apply_plan, check_destination, rewrite_readme
from ...core.record import log_event, record_integration, to_json
from ...core.template import Template
from ...errors import InputFileError, ProjectExistsError, TemplateError, UserError
from ...session import Session
from .eln_read import ELN_SUFFIX, REBUILT_ON_IMPORT, ElnExperiment, ElnFile, read_eln
from .rocrate import METADATA_FILE
from .unpacking import ZIP_DAMAGE, ArchiveLimitError, ExpansionBudget, open_archive, read_member, zip_member_problem

IMPORT_FOLDER = "elabftw_import"
_EXPERIMENT_URL = re.compile(r"/experiments\.php\?(?:.*&)?mode=view&id=(\d+)$|/experiments\.php\?id=(\d+)")


@dataclass
class ElnImport:
    """A project created from an ``.eln``."""

    path: Path
    template: Template
    answers: dict[str, Any]
    unmatched: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    elabftw_id: int | None = None

    def summary(self) -> str:
        """What was imported, for people."""
        lines = [f"project: {self.path} (template {self.template.id} {self.template.version})",
                 f"{len(self.answers)} answers, {len(self.files)} files"]
        if self.elabftw_id is not None:
            lines.append(f"linked to elabFTW experiment {self.elabftw_id}")
        if self.unmatched:
            lines.append("custom fields with no field in the template (kept in the imported metadata file): "
                         + ", ".join(self.unmatched))
        return "\n".join(lines)




def import_eln(path: str | os.PathLike[str], dest: str | os.PathLike[str], *,
               template: str | os.PathLike[str] | Template | None = None, name: str | None = None,
               experiment: str | None = None, session: Session | None = None,
               created_by: str | None = None) -> ElnImport:
    """Create a project folder in ``dest`` from an ``.eln`` file (one exported by elabFTW or by us).

    ``template`` overrides the template named in the metadata; ``experiment`` picks one by
    name or ``@id`` when the file holds several. When the experiment's elabFTW address is
    in the file and the project's template enables elabFTW, the project is linked to that
    experiment (so ``resume`` never creates a second one). Raises InputFileError,
    TemplateError or AnswersError before anything is written; a file that turns out
    damaged while it is extracted leaves nothing either.
    """
    source = Path(path)
    _, crate, experiments = read_eln(source)
    chosen = _choose(source, experiments, experiment)
    metadata = chosen.metadata or {}
    used = _import_template(source, template, metadata, session)
    answers, unmatched = answers_from_metadata(used, metadata)
    plan = plan_project(used, answers, dest, name, created_by=created_by, answers_source=str(source))
    check_destination(plan)
    try:
        with open_archive(source) as handle, zipfile.ZipFile(handle) as archive:
            budget = ExpansionBudget(source, os.fstat(handle.fileno()).st_size)
            members = _checked_members(source, archive, chosen, budget)
            with _staged_project(plan) as project:
                placed = _extract_files(source, archive, members, budget, project, plan.folders, crate, metadata)
                _log_import(project, plan.record, source, chosen)
                elabftw_id = _link_elabftw(project, plan.integrations, chosen)
                if elabftw_id is not None:
                    rewrite_readme(project, used)  # the README shows the link
    except ZIP_DAMAGE as exc:
        raise InputFileError(f"{source}: the .eln file is damaged ({type(exc).__name__}: {exc})") from None
    return ElnImport(plan.path, used, dict(plan.record["answers"]), unmatched, placed, elabftw_id)


@contextlib.contextmanager
def _staged_project(plan: Plan) -> Iterator[Path]:
    """The planned project, built in a hidden folder beside its place and moved there when the block ends.

    On any error the hidden folder is removed: the destination never holds a half-imported project.
    """
    try:
        holder = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}import-", dir=plan.parent))
    except PermissionError:
        raise UserError(f"no permission to create folders in {plan.parent}") from None
    try:
        with disk_full_as_error(plan.path):
            project = apply_plan(dataclasses.replace(plan, parent=holder))
            yield project
            try:
                rename_no_replace(project, plan.path)
            except FileExistsError:
                raise ProjectExistsError(f"{plan.path} already exists; choose another name or destination") from None
        fsync_dir(plan.parent)
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def _choose(source: Path, experiments: Sequence[ElnExperiment], wanted: str | None) -> ElnExperiment:
    if not experiments:
        raise InputFileError(f"{source}: the .eln file holds no experiment (no Dataset in the root's hasPart)")
    if wanted is not None:
        for item in experiments:
            if wanted in (item.name, item.id, item.id.removeprefix("./").rstrip("/")):
                return item
        raise UserError(f"{source}: no experiment called '{wanted}' (it holds: "
                        f"{', '.join(repr(e.name) for e in experiments)})")
    if len(experiments) > 1:
        raise UserError(f"{source} holds {len(experiments)} experiments; choose one with --experiment NAME "
                        f"({', '.join(repr(e.name) for e in experiments)})")
    return experiments[0]


def _import_template(source: Path, template: str | os.PathLike[str] | Template | None,
                     metadata: Mapping[str, Any], session: Session | None) -> Template:
    if isinstance(template, Template):
        return template
    if template is not None:
        return load_template(template)
    provenance = _mapping(metadata.get(PROVENANCE_KEY))
    if provenance.get("template_id"):
        folder = session.templates_dir if session is not None else None
        version = provenance.get("template_version")
        found, _ = find_template_by_id(str(provenance["template_id"]), None if version is None else str(version),
                                       folder)
        if found is not None:
            return found
    if isinstance(metadata.get("extra_fields"), Mapping) and metadata["extra_fields"]:
        try:
            return load_template(dict(metadata))
        except TemplateError as exc:
            raise UserError(f"{source}: the experiment's custom fields do not make a template ({exc}); "
                            "give one with --template") from None
    raise UserError(f"{source}: the experiment names no template and has no custom fields; give one with --template")


def answers_from_metadata(template: Template, metadata: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Answers for ``template`` from elabFTW metadata, and the custom fields that match no field.

    A field is found by the key recorded under ``metafold.field_keys``, else by its label
    (case-insensitive), else by its key.
    """
    keys = _mapping(_mapping(metadata.get(PROVENANCE_KEY)).get("field_keys"))
    by_key = {f.key: f for f in template.fields}
    by_label = {f.label.casefold(): f for f in template.fields}
    answers: dict[str, Any] = {}
    unmatched: list[str] = []
    for label, spec in _mapping(metadata.get("extra_fields")).items():
        found = by_key.get(str(keys.get(label))) or by_label.get(str(label).casefold()) or by_key.get(str(label))
        if found is None or not isinstance(spec, Mapping):
            unmatched.append(str(label))
            continue
        answers[found.key] = answer_from_elabftw(found, spec.get("value"))
    return answers, unmatched


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


Member = tuple[ElnFile, zipfile.ZipInfo]


def _checked_members(source: Path, archive: zipfile.ZipFile, chosen: ElnExperiment,
                     budget: ExpansionBudget) -> list[Member]:
    """The members to import, each a regular file of the size its ``contentSize`` declares, within ``budget``."""
    members: list[Member] = []
    for item in chosen.files:
        if item.relpath in REBUILT_ON_IMPORT:
            continue
        info = archive.getinfo(item.member)
        problem = zip_member_problem(info)
        if problem:
            raise InputFileError(f"{source}: {item.member} {problem}; only regular files are imported")
        if item.size is not None and item.size != info.file_size:
            raise ArchiveLimitError(f"{source}: {item.member} is {info.file_size:,} bytes in the zip, but its "
                                    f"contentSize in {METADATA_FILE} declares {item.size:,}; refused")
        budget.admit(item.member, info.file_size)
        members.append((item, info))
    return members


def _extract_files(source: Path, archive: zipfile.ZipFile, members: Sequence[Member], budget: ExpansionBudget,
                   project: Path, folders: Iterable[str], crate: Mapping[str, Any],
                   metadata: Mapping[str, Any]) -> list[str]:
    known = set(folders)
    imports = next((f for f in sorted(known) if re.search(r"(^|_)elabftw_export", f.rsplit("/", 1)[-1])),
                   IMPORT_FOLDER)
    placed: list[str] = []
    for item, info in members:
        relpath = _target(item.relpath, known, imports, project)
        _extract(source, archive, item, info, budget, project, relpath)
        placed.append(relpath)
    (project / imports).mkdir(parents=True, exist_ok=True)
    stem = source.name.removesuffix(ELN_SUFFIX)
    for name, content in ((f"{stem}-{METADATA_FILE}", crate), (f"{stem}-metadata.json", metadata)):
        write_new_file(project / imports / name, to_json(content))
        placed.append(f"{imports}/{name}")
    return placed


def _target(relpath: str, folders: set[str], imports: str, project: Path) -> str:
    """Back where it was when that folder exists and the name is free; else into the imports folder."""
    parent = relpath.rsplit("/", 1)[0] if "/" in relpath else ""
    if parent in folders and not (project / relpath).exists():
        return relpath
    candidate = f"{imports}/{PurePosixPath(relpath).name}"
    number = 1
    while (project / candidate).exists():
        number += 1
        path = PurePosixPath(relpath)
        candidate = f"{imports}/{path.stem}_{number}{path.suffix}"
    return candidate


def _extract(source: Path, archive: zipfile.ZipFile, item: ElnFile, info: zipfile.ZipInfo,
             budget: ExpansionBudget, project: Path, relpath: str) -> None:
    """Write one member to ``relpath`` in ``project`` (a staged file), its size and SHA-256 checked on the way."""
    target = project / relpath
    if not is_inside(os.path.realpath(target), os.path.realpath(project)):
        raise InputFileError(f"{source}: {item.member} would be written outside the project ({relpath}); refused")
    target.parent.mkdir(parents=True, exist_ok=True)
    with archive.open(info) as stream, staged_file(target) as out:
        digests = read_member(stream, archive=source, member=item.member, size=info.file_size, budget=budget,
                              sink=out)
        if item.sha256 and digests["sha256"] != item.sha256:
            raise InputFileError(f"{source}: {item.member}: its checksum differs from the sha256 in {METADATA_FILE}; "
                                 "the .eln file is damaged")


def _log_import(project: Path, record: Mapping[str, Any], source: Path, chosen: ElnExperiment) -> None:
    log_event(project, record, system="local", action="import_eln", result="done", source=source.name,
              experiment=chosen.name, url=chosen.url)


def _link_elabftw(project: Path, integrations: Mapping[str, Any], chosen: ElnExperiment) -> int | None:
    """Record the experiment the file came from as the project's elabFTW experiment, when elabFTW is on."""
    match = _EXPERIMENT_URL.search(chosen.url or "")
    if match is None or not (integrations.get("elabftw") or {}).get("enabled"):
        return None
    experiment_id = int(match.group(1) or match.group(2))
    record_integration(project, "elabftw", action="import", result="linked", state="done", id=experiment_id,
                       url=chosen.url, error=None, reason="imported from its .eln export")
    return experiment_id

