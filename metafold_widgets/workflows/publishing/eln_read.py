"""The ``.eln`` format (The ELN Consortium's): its names, and reading the experiments in a file.

An ``.eln`` is a zip with one top folder holding ``ro-crate-metadata.json`` (RO-Crate 1.1)
and the files. The root Dataset ``./`` lists the experiments (Datasets) in its ``hasPart``;
each experiment lists its files (``File``: ``@id`` the path from the top folder, literal as
elabFTW writes it, or percent-encoded) and carries its metadata in ``variableMeasured``: a
PropertyValue ``elabftw_metadata`` holding the whole metadata JSON, then one per field.
"""
from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Mapping, Sequence
from urllib.parse import unquote

from ...core.record import ELABFTW_METADATA_FILE, README_FILE, RECORD_FILE
from ...errors import InputFileError
from .rocrate import METADATA_FILE, ROOT_ID

ELN_SUFFIX = ".eln"
EXPORT_JSON = "export-elabftw.json"
METADATA_PROPERTY = "elabftw_metadata"
REBUILT_ON_IMPORT = frozenset({RECORD_FILE, ELABFTW_METADATA_FILE, README_FILE})


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
        files.append(ElnFile(member, relpath, int(str(size)) if str(size).isdigit() else None, part.get("sha256")))
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
