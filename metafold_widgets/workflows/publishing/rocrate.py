"""RO-Crate 1.1 metadata (``ro-crate-metadata.json``) for a project, written by hand as JSON-LD.

The crate is one flat ``@graph`` (RO-Crate 1.1):

* the metadata descriptor ``ro-crate-metadata.json`` (``conformsTo`` the 1.1 profile,
  ``about`` the root);
* the root Dataset ``./`` with name, description, ``datePublished``, the license when the
  project states one, its creators and principal investigator, the template it was made
  from (``isBasedOn``) and its linked records (``mentions``);
* one ``File`` per file (``@id`` = the relative path, percent-encoded as a URI path; with
  ``contentSize``, ``encodingFormat`` and ``sha256``), all listed in the root's ``hasPart``;
* contextual entities: a ``Person`` per person, the template as a ``CreativeWork``, the
  elabFTW experiment and the OMERO dataset by URL (or by id when no URL is known).

Nothing is made up: a property whose value is unknown is left out.
"""
from __future__ import annotations

import mimetypes
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import quote

from ..._version import __version__
from ...core.atomic import write_atomic
from ...core.record import ProjectRecord, to_json

CONTEXT = "https://w3id.org/ro/crate/1.1/context"
PROFILE = "https://w3id.org/ro/crate/1.1"
METADATA_FILE = "ro-crate-metadata.json"
ROOT_ID = "./"
SOFTWARE_ID = "#metafold-widgets"
_EXTRA_TYPES = {".md": "text/markdown", ".jsonl": "application/jsonl", ".eln": "application/vnd.eln+zip",
                ".tif": "image/tiff", ".tiff": "image/tiff", ".yaml": "application/yaml", ".yml": "application/yaml",
                ".csv": "text/csv", ".czi": "application/octet-stream", ".nd2": "application/octet-stream",
                ".lif": "application/octet-stream"}
_SUMS_TYPES = {"SHA256SUMS": "text/plain", "MD5SUMS": "text/plain"}


@dataclass(frozen=True)
class CrateFile:
    """A file to describe: its path relative to the crate root, and what is known about it."""

    relpath: str
    size: int | None = None
    sha256: str | None = None
    description: str | None = None


def media_type(name: str) -> str:
    """The IANA media type for a file name (``application/octet-stream`` when unknown)."""
    base = Path(name).name
    if base in _SUMS_TYPES:
        return _SUMS_TYPES[base]
    suffix = Path(base).suffix.lower()
    if suffix in _EXTRA_TYPES:
        return _EXTRA_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(base, strict=False)
    return guessed or "application/octet-stream"


def file_id(relpath: str, prefix: str = "", *, encode: bool = True) -> str:
    """The ``@id`` of a file: its relative path as a URI path (percent-encoded unless ``encode`` is off)."""
    path = f"{prefix}{relpath}"
    return quote(path, safe="/.-_~") if encode else path


def file_entity(entity_id: str, relpath: str, *, size: int | None = None, sha256: str | None = None,
                description: str | None = None) -> dict[str, Any]:
    """A ``File`` data entity; unknown properties are left out."""
    entity: dict[str, Any] = {"@id": entity_id, "@type": "File", "name": Path(relpath).name}
    if description:
        entity["description"] = description
    entity["encodingFormat"] = media_type(relpath)
    if size is not None:
        entity["contentSize"] = str(size)
    if sha256:
        entity["sha256"] = sha256
    return entity


def person_id(name: str) -> str:
    """A stable local ``@id`` for a person known only by name."""
    return "#person-" + (re.sub(r"[^\w-]+", "-", name.strip().lower(), flags=re.UNICODE).strip("-") or "unnamed")


def person_entity(name: str, description: str | None = None) -> dict[str, Any]:
    """A ``Person`` contextual entity."""
    entity: dict[str, Any] = {"@id": person_id(name), "@type": "Person", "name": name}
    if description:
        entity["description"] = description
    return entity


def metadata_descriptor(**extra: Any) -> dict[str, Any]:
    """The RO-Crate Metadata Descriptor entity (1.1)."""
    return {"@id": METADATA_FILE, "@type": "CreativeWork", "conformsTo": {"@id": PROFILE},
            "about": {"@id": ROOT_ID}, **extra}


def software_entity() -> dict[str, Any]:
    """This tool, as the software that made the crate."""
    return {"@id": SOFTWARE_ID, "@type": "SoftwareApplication", "name": "metafold-widgets", "version": __version__}


def template_entity(record: ProjectRecord) -> dict[str, Any] | None:
    """The template a project was made from, as a ``CreativeWork`` (None when the record names none)."""
    if not record.template_id:
        return None
    entity: dict[str, Any] = {"@id": f"#template-{record.template_id}-{record.template_version or 'unknown'}",
                              "@type": "CreativeWork", "name": record.template_name or record.template_id,
                              "identifier": str(record.template_id)}
    if record.template_version:
        entity["version"] = str(record.template_version)
    entity["description"] = "metafold-widgets template the project folder and metadata were made from"
    return entity


def license_entity(license_text: str) -> dict[str, Any]:
    """A license: its URL as ``@id`` when it is one, else a named ``CreativeWork``."""
    text = license_text.strip()
    if re.match(r"^https?://", text):
        return {"@id": text, "@type": "CreativeWork", "name": text}
    return {"@id": "#license", "@type": "CreativeWork", "name": text}


def system_links(record: ProjectRecord) -> list[dict[str, Any]]:
    """The elabFTW experiment and OMERO dataset of a project record, when they exist."""
    links = []
    for system, kind, label in (("elabftw", "CreativeWork", "elabFTW experiment"),
                                ("omero", "Dataset", "OMERO dataset")):
        entry = record.integration(system)
        remote_id, url = entry.id, entry.url
        if remote_id is None and not url:
            continue
        entity: dict[str, Any] = {"@id": url or f"#{system}-{remote_id}", "@type": kind,
                                  "name": f"{label} {remote_id}" if remote_id is not None else label}
        if remote_id is not None:
            entity["identifier"] = str(remote_id)
        if url:
            entity["url"] = url
        links.append(entity)
    return links


def build_crate(entities: Iterable[Mapping[str, Any] | None]) -> dict[str, Any]:
    """The crate document: the 1.1 context and a flat graph, one entity per ``@id`` (first wins)."""
    graph: dict[str, dict[str, Any]] = {}
    for entity in entities:
        if entity is not None and entity["@id"] not in graph:
            graph[entity["@id"]] = dict(entity)
    return {"@context": CONTEXT, "@graph": list(graph.values())}


def project_crate(record: ProjectRecord, files: Sequence[CrateFile], *, name: str, description: str,
                  date_published: str, people: Sequence[tuple[str, str, str]] = (),
                  license_text: str | None = None, keywords: Sequence[str] = ()) -> dict[str, Any]:
    """The crate of a project folder or package: root, files, people, template and linked records.

    ``people`` holds ``(name, role, description)``: all are creators; role ``pi`` also makes
    the person the ``accountablePerson``.
    """
    file_entities = [file_entity(file_id(f.relpath), f.relpath, size=f.size, sha256=f.sha256,
                                 description=f.description) for f in files]
    persons = [person_entity(person, text) for person, _, text in people]
    template = template_entity(record)
    license_ = license_entity(license_text) if license_text else None
    links = system_links(record)
    root: dict[str, Any] = {"@id": ROOT_ID, "@type": "Dataset", "name": name, "description": description,
                            "datePublished": date_published}
    if record.uid:
        root["identifier"] = str(record.uid)
    root.update(_references(license_, people))
    if keywords:
        root["keywords"] = list(keywords)
    if template is not None:
        root["isBasedOn"] = {"@id": template["@id"]}
    if links:
        root["mentions"] = [{"@id": link["@id"]} for link in links]
    root["hasPart"] = [{"@id": entity["@id"]} for entity in file_entities]
    return build_crate([metadata_descriptor(), root, *file_entities, *persons, template, license_, *links,
                        creation_action(date_published), software_entity()])


def _references(license_: Mapping[str, Any] | None, people: Sequence[tuple[str, str, str]]) -> dict[str, Any]:
    """The root's ``license``, ``creator`` and ``accountablePerson``, those that are known."""
    found: dict[str, Any] = {}
    if license_ is not None:
        found["license"] = {"@id": license_["@id"]}
    creators = [{"@id": person_id(person)} for person, _, _ in people]
    if creators:
        found["creator"] = creators
    accountable = [{"@id": person_id(person)} for person, role, _ in people if role == "pi"]
    if accountable:
        found["accountablePerson"] = accountable[0] if len(accountable) == 1 else accountable
    return found


def creation_action(when: str) -> dict[str, Any]:
    """The action that made the crate: when, and with which software."""
    return {"@id": "#ro-crate_created", "@type": "CreateAction", "name": "RO-Crate created",
            "object": {"@id": ROOT_ID}, "instrument": {"@id": SOFTWARE_ID}, "endTime": when}


def write_crate(folder: str | os.PathLike[str], crate: Mapping[str, Any]) -> Path:
    """Write ``ro-crate-metadata.json`` into ``folder`` atomically; returns its path."""
    path = Path(folder) / METADATA_FILE
    write_atomic(path, to_json(crate))
    return path
