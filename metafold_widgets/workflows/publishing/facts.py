"""The facts of a package (``publication_data_package.json``): from the record, the answers and,
when configured, elabFTW and OMERO.

Every value that is not known is ``null`` and listed in ``unknown`` with the reason.
Nothing is invented.
"""
from __future__ import annotations

import os
import platform
from collections import Counter
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..._version import __version__
from ...adapters.omero_sizes import name_format
from ...core.bounded import METADATA_MAX_BYTES, read_json
from ...core.checksums import SUMS_FILES, ListedFile
from ...core.record import ELABFTW_METADATA_FILE, RECORD_FILE
from ...errors import InputFileError
from .context import FactContext
from .manifest import MANIFEST_FILE
from .omero_pixels import add_pixel_sizes
from .people import (
    AUTHOR_ROLES,
    CORRESPONDING_AUTHOR,
    PRINCIPAL_INVESTIGATOR,
    answer_for,
    answer_people,
    project_people,
    stated_license,
    with_role,
)
from .placement import CATEGORIES, GENERATED_FILES, PROJECT_FOLDER, STATEMENT_FILE
from .rocrate import METADATA_FILE as CRATE_FILE
from .sources import ELABFTW_FOLDER, OMERO_FOLDER, elabftw_facts, omero_facts

PACKAGE_FORMAT = "metafold-publication-package"
CODE_FORMATS = frozenset({"PY", "IPYNB", "R", "RMD", "M", "IJM", "JL", "SH", "GROOVY", "JAVA", "JS", "MACRO",
                          "CPP", "C", "BSH", "CPPIPE", "CPPROJ"})
"""File formats that are analysis code (scripts, notebooks, Fiji macros, CellProfiler pipelines)."""
# what the package adds to a category besides the project's folders, by subfolder
ADDED_FOLDERS = {PROJECT_FOLDER: "the project's record, elabFTW metadata, README and integration log",
                 ELABFTW_FOLDER: "the elabFTW experiment's exports", OMERO_FOLDER: "the OMERO dataset's tables"}
# answer words for what only a person knows (see _compliance)
COMPLIANCE_WORDS = {"retention": ("retention", "retain", "keep_until", "storage_period"),
                    "privacy": ("privacy", "personal_data", "ethics", "ethical", "consent", "gdpr", "sensitive"),
                    "funder": ("funder", "funding", "grant", "funders")}


def package_data(ctx: FactContext, placements: Mapping[str, ListedFile], sources: Mapping[str, list[str]],
                 left_out: Sequence[ListedFile], copied: Mapping[str, str],
                 elabftw_formats: Sequence[str]) -> dict[str, Any]:
    """The content of ``publication_data_package.json``."""
    elabftw = elabftw_facts(ctx, elabftw_formats)
    omero = add_pixel_sizes(ctx, omero_facts(ctx))
    contents = _contents(ctx.staging, sources, left_out)
    return {
        "format": PACKAGE_FORMAT, "format_version": 1, "generated_at": ctx.now,
        "generated_by": f"metafold-widgets {__version__}",
        "experiment": _experiment(ctx, elabftw),
        "data_sources": {"local_project": _local_project(ctx, copied), "elabftw": elabftw, "omero": omero},
        "experimental_metadata": _experimental_metadata(ctx),
        "data_availability": _availability(ctx),
        "reproducibility": _reproducibility(ctx, copied),
        "contents": contents,
        "documentation": _documentation(elabftw, left_out),
        "contacts": _contacts(ctx),
        "compliance": _compliance(ctx),
        "unknown": ctx.unknown,
    }


def _experiment(ctx: FactContext, elabftw: Mapping[str, Any]) -> dict[str, Any]:
    title = (answer_for(ctx.answers, "title") or (None, None))[1] or elabftw.get("title")
    return {
        "id": ctx.answer("identifier", "experiment.id", "a project identifier"),
        "uid": ctx.record.uid,
        "title": ctx.known(title, "experiment.title", "no answer gives a title and elabFTW was not read"),
        "authors": _authors(ctx, elabftw),
        "institution": ctx.answer("institution", "experiment.institution", "an institution or affiliation"),
        "dates": {
            "project_created": ctx.known(ctx.record.created_at, "experiment.dates.project_created",
                                         "the project record has no creation time"),
            "elabftw_created": elabftw.get("created_at"),
            "elabftw_modified": elabftw.get("modified_at"),
            "packaged": ctx.now,
        },
    }


def _authors(ctx: FactContext, elabftw: Mapping[str, Any]) -> list[dict[str, str]]:
    """The people the answers name, then the elabFTW owner; never the folder's login name."""
    people = project_people(ctx.record, owner=elabftw.get("owner"))
    if not with_role(people, *AUTHOR_ROLES):
        ctx.unknown.append({"field": "experiment.authors",
                            "reason": "no answer names authors or a principal investigator"})
    return people


def _local_project(ctx: FactContext, copied: Mapping[str, str]) -> dict[str, Any]:
    record = ctx.record
    return {"name": record.name, "path": str(ctx.project.resolve()),
            "template": {"id": record.template_id, "name": record.template_name, "version": record.template_version,
                         "available": ctx.template is not None},
            "metadata_file": RECORD_FILE, "elabftw_metadata_file": ELABFTW_METADATA_FILE,
            "copies": dict(copied)}


def _experimental_metadata(ctx: FactContext) -> dict[str, Any]:
    labels, groups = _labels(ctx)
    fields = [{"key": key, "label": labels.get(key), "group": groups.get(key), "value": value}
              for key, value in ctx.answers.items()]
    return {"template": f"{ctx.record.template_id} {ctx.record.template_version}", "fields": fields}


def _labels(ctx: FactContext) -> tuple[dict[str, str], dict[str, str]]:
    """Field labels and group labels by key: from the template, else from elabftw-metadata.json."""
    if ctx.template is not None:
        group_labels = {g.key: g.label for g in ctx.template.groups}
        return ({f.key: f.label for f in ctx.template.fields},
                {f.key: group_labels[f.group] for f in ctx.template.fields if f.group in group_labels})
    try:
        metadata = read_json(ctx.project / ELABFTW_METADATA_FILE, METADATA_MAX_BYTES, "metadata file")
        keys = metadata["metafold"]["field_keys"]
        return {key: label for label, key in keys.items()}, {}
    except (InputFileError, KeyError, TypeError, AttributeError):
        return {}, {}


def _availability(ctx: FactContext) -> dict[str, Any]:
    return {
        "statement_file": STATEMENT_FILE,
        "sharing_level": ctx.answer("sharing_level", "data_availability.sharing_level", "a sharing level"),
        "license": ctx.known(stated_license(ctx.answers), "data_availability.license",
                             "no answer of the project gives a license"),
        "repository": ctx.answer("repository", "data_availability.repository", "a repository"),
        "doi": ctx.answer("doi", "data_availability.doi", "a DOI"),
    }


def _reproducibility(ctx: FactContext, copied: Mapping[str, str]) -> dict[str, Any]:
    log = ctx.record.log_relpath(ctx.project)
    return {
        "template": {"id": ctx.record.template_id, "version": ctx.record.template_version,
                     "available_here": ctx.template is not None},
        "answers": copied.get(RECORD_FILE),
        "integration_log": copied.get(log),
        "software": {"metafold-widgets": __version__, "python": platform.python_version()},
        "checksums": {name: SUMS_FILES[name] for name in SUMS_FILES}, "manifest": MANIFEST_FILE,
        "ro_crate": CRATE_FILE,
        "verify": [f"sha256sum -c {SUMS_FILES['sha256']}", f"md5sum -c {SUMS_FILES['md5']}",
                   "metafold verify <this folder or its archive>"],
    }


def _contents(staging: Path, sources: Mapping[str, list[str]], left_out: Sequence[ListedFile]) -> dict[str, Any]:
    """Files, bytes and formats of every category as the package holds them: the project's folders
    (``from``) and what the package added (``added``: its record copies, elabFTW exports, OMERO
    tables). The data-availability files written from these facts are listed as ``generated``."""
    contents: dict[str, Any] = {}
    for category in CATEGORIES:
        skip = {f"{category}/{name}" for name in GENERATED_FILES} if category == "data_availability" else set()
        files = [(rel, size) for rel, size in _files_under(staging, category) if rel not in skip]
        added = [{"folder": folder, "what": what, "files": sum(1 for rel, _ in files if rel.startswith(folder + "/"))}
                 for folder, what in ADDED_FOLDERS.items() if folder.startswith(category + "/")]
        contents[category] = {"files": len(files), "bytes": sum(size for _, size in files),
                              "from": sources.get(category, []), "added": [a for a in added if a["files"]],
                              "formats": _formats(rel for rel, _ in files)}
    contents["data_availability"]["generated"] = [f"data_availability/{name}" for name in GENERATED_FILES]
    code = {fmt: n for fmt, n in contents["processed_data"]["formats"].items() if fmt in CODE_FORMATS}
    contents["processed_data"]["code_files"] = sum(code.values())
    contents["not_included"] = {"files": len(left_out), "bytes": sum(i.size for i in left_out),
                                "from": sorted({i.relpath.rsplit("/", 1)[0] if "/" in i.relpath else "."
                                                for i in left_out})}
    return contents


def _files_under(staging: Path, category: str) -> list[tuple[str, int]]:
    """``(path in the package, size)`` of every regular file below ``staging/category``."""
    found: list[tuple[str, int]] = []
    for folder, _, names in os.walk(staging / category):
        for name in names:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                found.append((path.relative_to(staging).as_posix(), path.stat().st_size))
    return sorted(found)


def _formats(paths: Any) -> dict[str, int]:
    """``{format: file count}``, most frequent first; files without an extension are ``(none)``."""
    counts = Counter(name_format(Path(rel).name) or "(none)" for rel in paths)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _documentation(elabftw: Mapping[str, Any], left_out: Sequence[ListedFile]) -> dict[str, Any]:
    """The experiment's record: the elabFTW experiment and its exports, and the lab record entries
    (Markdown files in the project's documentation folders, which stay in the project)."""
    entries = [item for item in left_out if item.relpath.lower().endswith(".md") and "/" in item.relpath]
    return {"elabftw_experiment_id": elabftw.get("experiment_id"), "elabftw_url": elabftw.get("url"),
            "elabftw_exports": [export["file"] for export in elabftw.get("exports", [])],
            "lab_record_entries": {"files": len(entries),
                                   "from": sorted({item.relpath.rsplit("/", 1)[0] for item in entries})}}


def _contacts(ctx: FactContext) -> dict[str, Any]:
    """Whom to ask: the principal investigator and the corresponding author the answers name."""
    people = answer_people(ctx.answers, unique=False)
    pi = [p["name"] for p in with_role(people, PRINCIPAL_INVESTIGATOR)]
    corresponding = [p["name"] for p in with_role(people, CORRESPONDING_AUTHOR)]
    return {"principal_investigator": ctx.known(pi[0] if pi else None, "contacts.principal_investigator",
                                                "no answer names a principal investigator"),
            "corresponding_author": ctx.known(corresponding[0] if corresponding else None,
                                              "contacts.corresponding_author",
                                              "no answer names a corresponding author")}


def _compliance(ctx: FactContext) -> dict[str, Any]:
    """Retention, privacy and funder requirements: from answers whose key says so, else unknown
    (only a person knows them; the statement marks them to be completed)."""
    found: dict[str, Any] = {}
    for topic, words in COMPLIANCE_WORDS.items():
        value = next((v for k, v in ctx.answers.items()
                      if v not in (None, "", []) and not isinstance(v, bool) and _has_word(k, words)), None)
        found[topic] = ctx.known(value, f"compliance.{topic}", f"no answer gives the {topic} requirements")
    return found


def _has_word(key: str, words: Sequence[str]) -> bool:
    joined = f"_{key.lower()}_"
    return any(f"_{word}_" in joined or joined.startswith(f"_{word}") for word in words)
