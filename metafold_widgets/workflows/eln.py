"""Export a project as an ``.eln`` file and import an ``.eln`` into a new project folder.

An ``.eln`` (The ELN Consortium's format) is a zip with one top folder holding
``ro-crate-metadata.json`` (RO-Crate 1.1) and the files. Ours is shaped like elabFTW 5.x's
own exports, so that elabFTW imports it and we import elabFTW's:

* the root Dataset ``./`` has the experiment Dataset ``./<project>/`` in its ``hasPart``;
* the experiment Dataset carries ``name`` (title), ``text`` (the HTML body),
  ``keywords`` (tags), ``dateCreated``, ``author``, ``genre`` ``experiment``, ``url`` (the
  elabFTW experiment, when there is one), ``about`` (the category), ``creativeWorkStatus``,
  and ``variableMeasured``: first a PropertyValue ``elabftw_metadata`` whose value is the
  whole metadata JSON (custom fields, groups and our field keys under ``metafold``: what
  elabFTW imports), then one PropertyValue per field (``propertyID`` the field name,
  ``valueReference`` its type, ``value``, ``unitText``), for readers that are not elabFTW;
* each file is a ``File`` (``@id`` the path from the top folder, literal as elabFTW writes
  it; ``contentSize``, ``encodingFormat``, ``sha256``) in the experiment's ``hasPart``,
  with ``export-elabftw.json`` (the experiment as elabFTW's JSON export lists it).

Importing reads the metadata from ``elabftw_metadata`` (or rebuilds it from the other
PropertyValues), finds the template (given, or named in the metadata, or built from the
metadata itself), turns the custom fields back into answers, creates the project, then
puts each file where it was when the folder exists, and elabFTW attachments into the
template's elabFTW-exports folder. Checksums are verified while extracting.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import unquote

from ..core.atomic import fsync_dir, rename_no_replace
from ..core.checksums import BUFFER_SIZE, FileChangedError, ListedFile, disk_full_error, is_disk_full, list_files
from ..core.formats.elabftw import PROVENANCE_KEY, answer_from_elabftw
from ..core.loader import find_template_by_id, load_template
from ..core.plan import plan_project
from ..core.project import apply_plan, rewrite_readme
from ..core.readme import render_experiment_body
from ..core.record import (ELABFTW_METADATA_FILE, LOG_FILE, README_FILE, RECORD_FILE, log_event, read_record,
                           record_integration, to_json, utc_now)
from ..core.template import Template
from ..errors import InputFileError, TemplateError, UserError
from ..session import Session
from .archive import ArchiveExistsError, raise_clear_write_error
from .rocrate import (METADATA_FILE, ROOT_ID, build_crate, creation_action, license_entity,
                      media_type, metadata_descriptor, person_entity, person_id, software_entity, system_links,
                      template_entity)

ELN_SUFFIX = ".eln"
EXPORT_JSON = "export-elabftw.json"
METADATA_PROPERTY = "elabftw_metadata"
REBUILT_ON_IMPORT = frozenset({RECORD_FILE, ELABFTW_METADATA_FILE, README_FILE})
IMPORT_FOLDER = "elabftw_import"
_EXPERIMENT_URL = re.compile(r"/experiments\.php\?(?:.*&)?mode=view&id=(\d+)$|/experiments\.php\?id=(\d+)")
_PV_NAMESPACE = uuid.UUID("6f0c3a52-0a55-4c59-8a0e-3d8d1f2f3e41")


@dataclass(frozen=True)
class ElnExport:
    """A written ``.eln`` file and what it holds."""

    path: Path
    file_count: int
    total_size: int


@dataclass(frozen=True)
class ElnFile:
    """A file of an experiment in an ``.eln``: its zip member, path below the experiment, size and SHA-256."""

    member: str
    relpath: str
    size: int | None
    sha256: str | None


@dataclass(frozen=True)
class ElnExperiment:
    """One experiment (Dataset) read from an ``.eln``."""

    id: str
    name: str
    text: str
    keywords: list[str]
    metadata: dict[str, Any] | None
    url: str | None
    date_created: str | None
    category: str | None
    status: str | None
    files: list[ElnFile]


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


# --- export ---------------------------------------------------------------------------------

def eln_path(project: str | os.PathLike[str], out: str | os.PathLike[str] | None = None) -> Path:
    """Where :func:`export_eln` writes: ``out`` (a file, or a folder for ``<project>.eln``), else beside the project."""
    source = Path(project).resolve()
    if out is None:
        return source.parent / f"{source.name}{ELN_SUFFIX}"
    target = Path(out)
    return target / f"{source.name}{ELN_SUFFIX}" if target.is_dir() else target


def export_eln(project: str | os.PathLike[str], out: str | os.PathLike[str] | None = None, *,
               include_files: bool = True, session: Session | None = None,
               now: dt.datetime | None = None) -> ElnExport:
    """Write the project as an ``.eln`` file that elabFTW can import; returns where and what.

    ``include_files`` off keeps only the metadata files (record, elabFTW metadata, README, log).
    The file is written under a temporary name and renamed when complete.
    """
    source = Path(project)
    record = read_record(source)
    target = eln_path(source, out)
    if not target.parent.is_dir():
        raise UserError(f"folder {target.parent} does not exist")
    if target.exists() or target.is_symlink():
        raise ArchiveExistsError(f"{target} already exists; move it away or choose another --out")
    files = _export_files(source, record, include_files)
    template = _record_template(record, session)
    when = _timestamp(now)
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temp, "xb") as handle:
            _write_eln(handle, source, record, template, files, when)
            handle.flush()
            os.fsync(handle.fileno())
        rename_no_replace(temp, target)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        raise_clear_write_error(exc, target)
        raise
    fsync_dir(target.parent)
    return ElnExport(target, len(files), sum(f.size for f in files))


def _export_files(project: Path, record: Mapping[str, Any], include_files: bool) -> list[ListedFile]:
    listing = list_files(project, skip_hidden=True)
    if include_files:
        return listing.files
    wanted = {*REBUILT_ON_IMPORT, record["project"].get("log", LOG_FILE)}
    return [item for item in listing.files if item.relpath in wanted]


def _record_template(record: Mapping[str, Any], session: Session | None) -> Template | None:
    wanted = record.get("template") or {}
    folder = session.templates_dir if session is not None else None
    return find_template_by_id(str(wanted.get("id")), wanted.get("version"), folder)[0]


def _timestamp(now: dt.datetime | None) -> str:
    if now is None:
        return utc_now()
    return now.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def project_metadata(project: Path, record: Mapping[str, Any]) -> dict[str, Any]:
    """The project's elabFTW metadata: ``elabftw-metadata.json``, else the one planned for elabFTW."""
    try:
        data = json.loads((project / ELABFTW_METADATA_FILE).read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return data
    except (OSError, ValueError):
        pass
    payload = ((record.get("integrations") or {}).get("elabftw") or {}).get("payload") or {}
    return dict(payload.get("metadata") or {})


def _experiment_facts(record: Mapping[str, Any], template: Template | None) -> dict[str, Any]:
    """Title, body, tags, category and status as elabFTW has (or would have) them."""
    payload = ((record.get("integrations") or {}).get("elabftw") or {}).get("payload") or {}
    answers = record.get("answers") or {}
    body = payload.get("body")
    if body is None and template is not None:
        body = render_experiment_body(template, answers)
    return {"title": payload.get("title") or answers.get("experiment_title") or record["project"]["name"],
            "body": body or "", "tags": list(payload.get("tags") or []), "category": payload.get("category"),
            "status": payload.get("status")}


def _write_eln(handle: Any, project: Path, record: Mapping[str, Any], template: Template | None,
               files: Sequence[ListedFile], when: str) -> None:
    name = record["project"]["name"]
    top, dataset_id = f"{name}-export", f"./{name}/"
    facts = _experiment_facts(record, template)
    metadata = project_metadata(project, record)
    entities: list[dict[str, Any]] = []
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        export_json = to_json([_elabftw_json(record, facts, metadata)]).encode("utf-8")
        archive.writestr(f"{top}/{name}/{EXPORT_JSON}", export_json)
        entities.append({"@id": f"{dataset_id}{EXPORT_JSON}", "@type": "File", "name": EXPORT_JSON,
                         "description": "JSON export", "encodingFormat": "application/json",
                         "contentSize": str(len(export_json)), "sha256": hashlib.sha256(export_json).hexdigest()})
        for item in files:
            digest = _add_file(archive, f"{top}/{name}/{item.relpath}", item)
            entities.append({"@id": f"{dataset_id}{item.relpath}", "@type": "File",
                             "name": PurePosixPath(item.relpath).name, "encodingFormat": media_type(item.relpath),
                             "contentSize": str(item.size), "sha256": digest})
        crate = _eln_crate(record, template, facts, metadata, entities, dataset_id, when)
        archive.writestr(f"{top}/{METADATA_FILE}", to_json(crate))


def _add_file(archive: zipfile.ZipFile, member: str, item: ListedFile) -> str:
    """Copy one file into the zip, checksumming it and noticing a change while it is read."""
    hasher = hashlib.sha256()
    try:
        source = open(item.path, "rb", buffering=0)
    except OSError as exc:
        raise FileChangedError(item.path, f"cannot be read ({exc.strerror or exc})") from None
    with source:
        before = os.fstat(source.fileno())
        info = zipfile.ZipInfo.from_file(item.path, member, strict_timestamps=False)
        info.compress_type = zipfile.ZIP_DEFLATED
        read = 0
        with archive.open(info, "w", force_zip64=item.size > (1 << 31) - 1) as out:
            while chunk := source.read(BUFFER_SIZE):
                hasher.update(chunk)
                out.write(chunk)
                read += len(chunk)
        after = os.fstat(source.fileno())
    for state in (before, after):
        if state.st_size != item.size or state.st_mtime_ns != item.mtime_ns or read != item.size \
                or not stat.S_ISREG(state.st_mode):
            raise FileChangedError(item.path, "changed while it was exported; export again when nothing writes "
                                              "to the project")
    return hasher.hexdigest()


def _elabftw_json(record: Mapping[str, Any], facts: Mapping[str, Any], metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The experiment as elabFTW's JSON export lists it (the fields known here)."""
    elabftw = (record.get("integrations") or {}).get("elabftw") or {}
    return {"id": elabftw.get("id"), "title": facts["title"], "body": facts["body"], "content_type": 1,
            "category_title": facts["category"], "status_title": facts["status"],
            "tags": "|".join(facts["tags"]) or None, "metadata": json.dumps(metadata, ensure_ascii=False),
            "created_at": record["project"].get("created_at"), "sharelink": elabftw.get("url")}


def property_values(metadata: Mapping[str, Any], owner: str) -> list[dict[str, Any]]:
    """``variableMeasured`` as elabFTW writes it: the whole metadata JSON, then one PropertyValue per field."""
    if not metadata:
        return []
    values = [{"@id": _pv_id(owner, METADATA_PROPERTY), "@type": "PropertyValue", "propertyID": METADATA_PROPERTY,
               "description": "eLabFTW metadata JSON as string", "value": json.dumps(metadata, ensure_ascii=False)}]
    for label, spec in (metadata.get("extra_fields") or {}).items():
        if not isinstance(spec, Mapping):
            continue
        value: dict[str, Any] = {"@id": _pv_id(owner, f"field:{label}"), "@type": "PropertyValue",
                                 "propertyID": label, "valueReference": spec.get("type", "text"),
                                 "value": spec.get("value", "")}
        if spec.get("unit"):
            value["unitText"] = spec["unit"]
        if spec.get("description"):
            value["description"] = spec["description"]
        values.append(value)
    return values


def _pv_id(owner: str, name: str) -> str:
    """elabFTW uses ``pv://<uuid>``; ours are derived from the project, so two exports are equal."""
    return f"pv://{uuid.uuid5(_PV_NAMESPACE, f'{owner}/{name}')}"


def _eln_crate(record: Mapping[str, Any], template: Template | None, facts: Mapping[str, Any],
               metadata: Mapping[str, Any], files: list[dict[str, Any]], dataset_id: str, when: str) -> dict[str, Any]:
    project = record["project"]
    answers = record.get("answers") or {}
    creator = project.get("created_by")
    pi = answers.get("principal_investigator")
    people = [person_entity(n, d) for n, d in ((creator, "created the project folder (login name)"),
                                               (pi, "principal investigator")) if n and n != "unknown"]
    measured = property_values(metadata, str(project.get("uid") or project["name"]))
    template_ref = template_entity(record.get("template") or {})
    links = system_links(record)
    elabftw_url = ((record.get("integrations") or {}).get("elabftw") or {}).get("url")
    dataset: dict[str, Any] = {
        "@id": dataset_id, "@type": "Dataset", "name": facts["title"], "text": facts["body"],
        "encodingFormat": "text/html", "genre": "experiment", "keywords": facts["tags"],
        "dateCreated": project.get("created_at"), "dateModified": when,
        "identifier": str(project.get("uid") or project["name"]),
        "hasPart": [{"@id": f["@id"]} for f in files],
        "variableMeasured": [{"@id": pv["@id"]} for pv in measured],
        "mentions": [{"@id": link["@id"]} for link in links if link["@id"] != elabftw_url],
    }
    if creator and creator != "unknown":
        dataset["author"] = {"@id": person_id(creator)}
    if pi:
        dataset["accountablePerson"] = {"@id": person_id(pi)}
    if elabftw_url:
        dataset["url"] = elabftw_url
    category = {"@id": f"#category-{facts['category']}", "@type": "Thing", "name": facts["category"]} \
        if facts["category"] else None
    if category:
        dataset["about"] = {"@id": category["@id"]}
    if facts["status"]:
        dataset["creativeWorkStatus"] = facts["status"]
    if template_ref:
        dataset["isBasedOn"] = {"@id": template_ref["@id"]}
    license_text = answers.get("license") or answers.get("licence")
    license_ = license_entity(str(license_text)) if license_text else None
    root: dict[str, Any] = {"@id": ROOT_ID, "@type": "Dataset",
                            "name": f"{project['name']} (exported by metafold-widgets)",
                            "description": f"The project {project['name']} as an ELN Consortium (.eln) archive",
                            "datePublished": when, "hasPart": [{"@id": dataset_id}]}
    if license_:
        root["license"] = {"@id": license_["@id"]}
    descriptor = metadata_descriptor(dateCreated=when, sdPublisher={"@id": "#publisher"}, version="1.0")
    publisher = {"@id": "#publisher", "@type": "Organization", "name": "metafold-widgets"}
    entities: list[Mapping[str, Any] | None] = [
        descriptor, publisher, creation_action(when), software_entity(), root, dataset, *files, *measured,
        *people, category, template_ref, license_, *[link for link in links if link["@id"] != elabftw_url]]
    return build_crate(entities)


# --- reading ---------------------------------------------------------------------------------

def read_eln(path: str | os.PathLike[str]) -> tuple[str, dict[str, Any], list[ElnExperiment]]:
    """``(top folder, crate, experiments)`` of an ``.eln`` file; InputFileError when it is not one."""
    source = Path(path)
    try:
        with zipfile.ZipFile(source) as archive:
            names = archive.namelist()
            top = _top_folder(source, names)
            try:
                crate = json.loads(archive.read(f"{top}/{METADATA_FILE}"))
            except KeyError:
                raise InputFileError(f"{path}: no {top}/{METADATA_FILE}; not an .eln file") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputFileError(f"{path}: cannot be read as an .eln (zip) file: {exc}") from None
    except ValueError as exc:
        raise InputFileError(f"{path}: {METADATA_FILE} is not valid JSON: {exc}") from None
    graph = _graph(source, crate)
    members = set(names)
    root = graph.get(ROOT_ID) or graph.get("./") or {}
    experiments = [_experiment(graph[ref], graph, top, members) for ref in _refs(root.get("hasPart"))
                   if ref in graph and "Dataset" in _types(graph[ref])]
    return top, crate, experiments


def _top_folder(source: Path, names: Sequence[str]) -> str:
    for name in names:
        if name.startswith("/") or "\\" in name or ".." in PurePosixPath(name).parts:
            raise InputFileError(f"{source}: unsafe path in the archive: {name!r}")
    tops = {name.split("/", 1)[0] for name in names if name}
    if len(tops) != 1 or not any("/" in name for name in names):
        raise InputFileError(f"{source}: an .eln file holds exactly one top folder (found: {', '.join(sorted(tops))})")
    return tops.pop()


def _graph(source: Path, crate: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(crate, dict) or not isinstance(crate.get("@graph"), list):
        raise InputFileError(f"{source}: {METADATA_FILE} has no @graph; not an RO-Crate")
    return {str(e["@id"]): e for e in crate["@graph"] if isinstance(e, dict) and "@id" in e}


def _refs(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value] if value else []
    return [str(item["@id"]) if isinstance(item, dict) else str(item) for item in items
            if isinstance(item, (dict, str)) and (not isinstance(item, dict) or "@id" in item)]


def _types(entity: Mapping[str, Any]) -> list[str]:
    kind = entity.get("@type")
    return [str(k) for k in kind] if isinstance(kind, list) else [str(kind)]


def _experiment(entity: Mapping[str, Any], graph: Mapping[str, Mapping[str, Any]], top: str,
                members: set[str]) -> ElnExperiment:
    folder = str(entity["@id"]).removeprefix("./").rstrip("/")
    files = []
    for ref in _refs(entity.get("hasPart")):
        part = graph.get(ref, {"@id": ref})
        if "File" not in _types(part):
            continue
        member = _member(ref, top, members)
        if member is None:
            continue
        inner = member[len(top) + 1:]
        relpath = inner[len(folder) + 1:] if folder and inner.startswith(folder + "/") else PurePosixPath(inner).name
        size = part.get("contentSize")
        files.append(ElnFile(member, relpath, int(size) if str(size).isdigit() else None, part.get("sha256")))
    about = graph.get(next(iter(_refs(entity.get("about"))), ""), {})
    return ElnExperiment(
        id=str(entity["@id"]), name=str(entity.get("name") or ""), text=str(entity.get("text") or ""),
        keywords=_keywords(entity.get("keywords")), metadata=_metadata(entity.get("variableMeasured"), graph),
        url=entity.get("url") if isinstance(entity.get("url"), str) else None,
        date_created=entity.get("dateCreated"), category=about.get("name"),
        status=entity.get("creativeWorkStatus") if isinstance(entity.get("creativeWorkStatus"), str) else None,
        files=files)


def _member(ref: str, top: str, members: set[str]) -> str | None:
    path = ref.removeprefix("./")
    for candidate in (f"{top}/{path}", f"{top}/{unquote(path)}"):
        if candidate in members:
            return candidate
    return None


def _keywords(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return []


def _metadata(value: Any, graph: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    """The elabFTW metadata: the ``elabftw_metadata`` PropertyValue, else rebuilt from the others."""
    values = [graph.get(item["@id"], item) if isinstance(item, dict) and "@id" in item and len(item) == 1 else item
              for item in (value if isinstance(value, list) else [])]
    values = [v for v in values if isinstance(v, Mapping)]
    for item in values:
        if item.get("propertyID") == METADATA_PROPERTY:
            try:
                decoded = json.loads(item.get("value") or "null")
            except ValueError:
                break
            return decoded if isinstance(decoded, dict) else None
    fields = {}
    for position, item in enumerate(v for v in values if v.get("propertyID") not in (None, METADATA_PROPERTY)):
        spec: dict[str, Any] = {"type": item.get("valueReference") or "text", "value": item.get("value", ""),
                                "position": position + 1}
        if item.get("unitText"):
            spec["unit"] = item["unitText"]
        if item.get("description"):
            spec["description"] = item["description"]
        fields[str(item["propertyID"])] = spec
    return {"extra_fields": fields} if fields else None


# --- import ----------------------------------------------------------------------------------

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
    provenance = metadata.get(PROVENANCE_KEY) if isinstance(metadata.get(PROVENANCE_KEY), Mapping) else {}
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
    provenance = metadata.get(PROVENANCE_KEY) if isinstance(metadata.get(PROVENANCE_KEY), Mapping) else {}
    keys = provenance.get("field_keys") if isinstance(provenance.get("field_keys"), Mapping) else {}
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
    kept = project / imports
    kept.mkdir(parents=True, exist_ok=True)
    stem = source.name.removesuffix(ELN_SUFFIX)
    (kept / f"{stem}-{METADATA_FILE}").write_text(to_json(crate), encoding="utf-8")
    (kept / f"{stem}-metadata.json").write_text(to_json(metadata), encoding="utf-8")
    placed += [f"{imports}/{stem}-{METADATA_FILE}", f"{imports}/{stem}-metadata.json"]
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
    target.parent.mkdir(parents=True, exist_ok=True)
    hasher = hashlib.sha256()
    try:
        with archive.open(item.member) as stream, open(target, "xb") as out:
            while chunk := stream.read(BUFFER_SIZE):
                hasher.update(chunk)
                out.write(chunk)
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full_error(target) from None
        raise
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

