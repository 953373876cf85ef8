"""Import an ``.eln`` file (one exported by elabFTW or by us) into a new project folder.

Importing reads the metadata from ``elabftw_metadata`` (or rebuilds it from the other
PropertyValues), finds the template (given, or named in the metadata, or built from the
metadata itself), turns the custom fields back into answers, creates the project, then
puts each file where it was when the folder exists, and elabFTW attachments into the
template's elabFTW-exports folder. Checksums are verified while extracting; each file is
a staged write.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Mapping, Sequence

from ...core.atomic import staged_file, write_new_file
from ...core.checksums import BUFFER_SIZE
from ...core.formats.elabftw import PROVENANCE_KEY, answer_from_elabftw
from ...core.loader import find_template_by_id, load_template
from ...core.plan import plan_project
from ...core.project import apply_plan, rewrite_readme
from ...core.record import log_event, record_integration, to_json
from ...core.template import Template
from ...errors import InputFileError, TemplateError, UserError
from ...session import Session
from .eln_read import ELN_SUFFIX, REBUILT_ON_IMPORT, ElnExperiment, ElnFile, read_eln
from .rocrate import METADATA_FILE

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
    TemplateError or AnswersError before anything is written.
    """
    source = Path(path)
    _, crate, experiments = read_eln(source)
    chosen = _choose(source, experiments, experiment)
    metadata = chosen.metadata or {}
    used = _import_template(source, template, metadata, session)
    answers, unmatched = answers_from_metadata(used, metadata)
    plan = plan_project(used, answers, dest, name, created_by=created_by, answers_source=str(source))
    project = apply_plan(plan)
    try:
        placed = _extract_files(source, chosen, project, plan.folders, crate, metadata)
    except BaseException:
        shutil.rmtree(project, ignore_errors=True)  # a project we just made: leave nothing half-imported
        raise
    result = ElnImport(project, used, dict(plan.record["answers"]), unmatched, placed)
    _log_import(project, plan.record, source, chosen)
    result.elabftw_id = _link_elabftw(project, plan.integrations, chosen)
    if result.elabftw_id is not None:
        rewrite_readme(project, used)  # the README shows the link
    return result


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
        found, _ = find_template_by_id(str(provenance["template_id"]), provenance.get("template_version"), folder)
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
    for label, spec in (metadata.get("extra_fields") or {}).items():
        found = by_key.get(str(keys.get(label))) or by_label.get(str(label).casefold()) or by_key.get(str(label))
        if found is None or not isinstance(spec, Mapping):
            unmatched.append(str(label))
            continue
        answers[found.key] = answer_from_elabftw(found, spec.get("value"))
    return answers, unmatched


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _extract_files(source: Path, chosen: ElnExperiment, project: Path, folders: Iterable[str],
                   crate: Mapping[str, Any], metadata: Mapping[str, Any]) -> list[str]:
    known = set(folders)
    imports = next((f for f in sorted(known) if re.search(r"(^|_)elabftw_export", f.rsplit("/", 1)[-1])),
                   IMPORT_FOLDER)
    placed: list[str] = []
    with zipfile.ZipFile(source) as archive:
        for item in chosen.files:
            if item.relpath in REBUILT_ON_IMPORT:
                continue
            relpath = _target(item.relpath, known, imports, project)
            _extract(archive, item, project / relpath)
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


def _extract(archive: zipfile.ZipFile, item: ElnFile, target: Path) -> None:
    """Write one member to ``target`` (a staged file) and check its SHA-256 on the way."""
    target.parent.mkdir(parents=True, exist_ok=True)
    hasher = hashlib.sha256()
    with archive.open(item.member) as stream, staged_file(target) as out:
        while chunk := stream.read(BUFFER_SIZE):
            hasher.update(chunk)
            out.write(chunk)
        if item.sha256 and hasher.hexdigest() != item.sha256.lower():
            raise InputFileError(f"{item.member}: its checksum differs from the one in {METADATA_FILE}; "
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

