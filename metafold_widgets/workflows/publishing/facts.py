"""The facts of a package (``publication_data_package.json``): from the record, the answers and,
when configured, elabFTW and OMERO.

Every value that is not known is ``null`` and listed in ``unknown`` with the reason.
Nothing is invented.
"""
from __future__ import annotations

import platform
from typing import Any, Mapping, Sequence

from ..._version import __version__
from ...core.bounded import METADATA_MAX_BYTES, read_json
from ...core.checksums import SUMS_FILES, ListedFile
from ...core.record import ELABFTW_METADATA_FILE, RECORD_FILE
from ...errors import InputFileError
from .context import FactContext
from .manifest import MANIFEST_FILE
from .people import AUTHOR, PRINCIPAL_INVESTIGATOR, answer_for, project_people, stated_license, with_role
from .placement import CATEGORIES, STATEMENT_FILE
from .rocrate import METADATA_FILE as CRATE_FILE
from .sources import elabftw_facts, omero_facts

PACKAGE_FORMAT = "metafold-publication-package"


def package_data(ctx: FactContext, placements: Mapping[str, ListedFile], sources: Mapping[str, list[str]],
                 left_out: Sequence[ListedFile], copied: Mapping[str, str],
                 elabftw_formats: Sequence[str]) -> dict[str, Any]:
    """The content of ``publication_data_package.json``."""
    elabftw = elabftw_facts(ctx, elabftw_formats)
    omero = omero_facts(ctx)
    return {
        "format": PACKAGE_FORMAT, "format_version": 1, "generated_at": ctx.now,
        "generated_by": f"metafold-widgets {__version__}",
        "experiment": _experiment(ctx, elabftw),
        "data_sources": {"local_project": _local_project(ctx, copied), "elabftw": elabftw, "omero": omero},
        "experimental_metadata": _experimental_metadata(ctx),
        "data_availability": _availability(ctx),
        "reproducibility": _reproducibility(ctx, copied),
        "contents": _contents(placements, sources, left_out),
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
    people = project_people(ctx.record, owner=elabftw.get("owner"))
    if not with_role(people, AUTHOR, PRINCIPAL_INVESTIGATOR):
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


def _contents(placements: Mapping[str, ListedFile], sources: Mapping[str, list[str]],
              left_out: Sequence[ListedFile]) -> dict[str, Any]:
    contents: dict[str, Any] = {}
    for category in CATEGORIES:
        items = [item for target, item in placements.items() if target.startswith(category + "/")]
        contents[category] = {"files": len(items), "bytes": sum(i.size for i in items),
                              "from": sources.get(category, [])}
    contents["not_included"] = {"files": len(left_out), "bytes": sum(i.size for i in left_out),
                                "from": sorted({i.relpath.rsplit("/", 1)[0] if "/" in i.relpath else "."
                                                for i in left_out})}
    return contents
