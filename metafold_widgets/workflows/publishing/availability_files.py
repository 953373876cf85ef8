"""The three data-availability files, in the project's data-availability folder and in the package.

``data_sharing_statement.md`` (the statement, :mod:`.statement`), ``omero_access_instructions.md``
(how to reach the dataset: address, ids, group, the ``omero`` command line and omero-py) and
``elabftw_reference_links.txt`` (the experiment's web and API addresses, its exports).

A researcher completes the ``[to be completed: ...]`` parts in the project's copies, so an
edited file is never overwritten: the digest of what was last written is kept in the hidden
:data:`DIGESTS_FILE` of that folder, and a file whose content no longer matches it (or that was
never written here) is kept as it is; the new text goes to ``<name>.new`` beside it, with a
warning. The package carries the project's version (edited or new); ``.new`` files stay in the
project. A project that cannot be written (archived, read-only) still gets its package, with a
warning. Every write is atomic.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Mapping

from ...core.atomic import write_atomic
from ...core.bounded import read_bytes
from ...core.redact import without_credentials
from ...errors import InputFileError
from .context import FactContext
from .placement import AVAILABILITY_FILES, NEW_SUFFIX, availability_folder
from .statement import access_conditions, availability_statement, to_complete

DIGESTS_FILE = ".metafold-generated.json"
MAX_EDITED_BYTES = 4 * 1024 * 1024  # a researcher's statement larger than this is not read back
LISTED_IMAGE_IDS = 20               # download commands written out; the rest by the loop


def availability_texts(data: Mapping[str, Any]) -> dict[str, str]:
    """``{file name: text}`` of the three files, from the package's facts."""
    statement, access, links = AVAILABILITY_FILES
    return {statement: availability_statement(data), access: omero_access_instructions(data),
            links: elabftw_reference_links(data)}


def write_availability_files(ctx: FactContext, data: Mapping[str, Any]) -> dict[str, str]:
    """Write the three files into the project's data-availability folder (keeping edited ones) and
    into the package; returns ``{file name: "written" | "unchanged" | "kept edited" | "package only"}``.
    Problems become warnings in ``ctx.warnings``."""
    texts = {name: text.encode("utf-8") for name, text in availability_texts(data).items()}
    folder = availability_folder(ctx.project)
    if folder is None:
        ctx.warnings.append("the project has no data_availability folder: the data-availability files are "
                            "in the package only")
        chosen, outcome = texts, dict.fromkeys(texts, "package only")
    else:
        chosen, outcome = _update_project(ctx, folder, texts)
    for name, content in chosen.items():
        write_atomic(ctx.staging / "data_availability" / name, content)
    return outcome


def _update_project(ctx: FactContext, folder: Path, texts: Mapping[str, bytes]) -> tuple[dict[str, bytes],
                                                                                        dict[str, str]]:
    """Write ``texts`` into ``folder`` by the rule above; the content each file has now, and what happened."""
    digests = _read_digests(folder)
    chosen: dict[str, bytes] = {}
    outcome: dict[str, str] = {}
    relative = folder.relative_to(ctx.project).as_posix()
    try:
        for name, text in texts.items():
            path = folder / name
            try:
                current = _current(path)
            except _NotAFile as exc:
                ctx.warnings.append(f"{relative}/{name} is left alone ({exc}); the package has the new one")
                chosen[name], outcome[name] = text, "package only"
                continue
            if current is None or _digest(current) == digests.get(name) or current == text:
                if current != text:
                    write_atomic(path, text)
                digests[name] = _digest(text)
                chosen[name], outcome[name] = text, "written" if current != text else "unchanged"
            else:
                write_atomic(folder / (name + NEW_SUFFIX), text)
                ctx.warnings.append(f"{relative}/{name} was edited: it is kept as it is (and goes into the "
                                    f"package); the newly generated version is {relative}/{name}{NEW_SUFFIX}")
                chosen[name], outcome[name] = current, "kept edited"
        write_atomic(folder / DIGESTS_FILE, json.dumps({"files": digests}, indent=2, sort_keys=True) + "\n")
    except OSError as exc:
        ctx.warnings.append(f"the data-availability files were not all written into {relative}: "
                            f"{exc.strerror or exc}; "
                            "the package has the new ones")
        for name, text in texts.items():
            chosen.setdefault(name, text)
            outcome.setdefault(name, "package only")
    return chosen, outcome


class _NotAFile(Exception):
    """A name taken by something that is not a regular file (a folder, a link): left alone."""


def _current(path: Path) -> bytes | None:
    """The file's content, None when there is none; _NotAFile for a link, folder or pipe."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise _NotAFile(f"{path.name} is not a regular file")
    if not path.exists():
        return None
    try:
        return read_bytes(path, MAX_EDITED_BYTES, "data-availability file", follow_links=False)
    except InputFileError as exc:
        raise _NotAFile(str(exc)) from None


def _read_digests(folder: Path) -> dict[str, str]:
    """What was last written here, ``{name: sha256}``; empty when unknown (then every file counts as edited)."""
    try:
        data = json.loads(read_bytes(folder / DIGESTS_FILE, 64 * 1024, "digest file", follow_links=False))
        files = data["files"]
        return {str(k): str(v) for k, v in files.items() if k in AVAILABILITY_FILES}
    except (InputFileError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# --- the two companion files ----------------------------------------------------------------

def omero_access_instructions(data: Mapping[str, Any]) -> str:
    """How to reach the OMERO dataset: web address, ids, group, access, command line and omero-py."""
    omero = data["data_sources"]["omero"]
    title = data["experiment"]["title"] or data["data_sources"]["local_project"]["name"]
    head = ["# Access to the OMERO data", "", f"Project: **{title}**", "",
            "<!-- Generated by metafold-widgets; complete the parts marked [to be completed: ...]. -->", ""]
    if omero["dataset_id"] is None:
        return "\n".join([*head, "The project has no OMERO dataset recorded. "
                          + to_complete("where the images are held and how to reach them"), ""])
    dataset_id = int(omero["dataset_id"])
    group = omero.get("group")
    server = omero.get("server") or to_complete("OMERO server address, e.g. omero.example.org")
    ids = omero.get("image_ids") or []
    lines = [*head,
             f"- Dataset: {dataset_id}" + (f" ({omero['dataset_name']})" if omero.get("dataset_name") else ""),
             f"- Web: {omero['url'] or to_complete('OMERO.web address of the dataset')}",
             f"- Group: {group or to_complete('OMERO group')}",
             f"- Server: {server}",
             f"- Images: {omero['image_count'] if omero['image_count'] is not None else to_complete('image count')}"
             + (f" (ids {', '.join(str(i) for i in ids[:LISTED_IMAGE_IDS])}"
                + (", ..." if len(ids) > LISTED_IMAGE_IDS else "") + ")" if ids else ""),
             f"- Access: {access_conditions(data['data_availability']['sharing_level'], group)}.",
             "", "## In a web browser", "",
             "Log in to OMERO.web and open the address above"
             + (f"; switch to the group {group} if the dataset does not show." if group else "."),
             "", "## With the OMERO command line", "",
             "`omero download` takes images (omero-py 5.10 and later, src/omero/plugins/download.py); "
             "each image's original files go into the folder given:", "", "```sh",
             f"omero login -s {omero.get('server_host') or 'SERVER'} -u USER",
             *[f"omero download Image:{i} dataset_{dataset_id}/" for i in ids[:LISTED_IMAGE_IDS]],
             *([f"# the ids of all the dataset's images (there is no omero download Dataset:{dataset_id}):",
                "omero hql --all --ids-only --limit 100000 --style plain "
                f"\"select i from Image i join i.datasetLinks l where l.parent.id = {dataset_id}\""]
               if len(ids) > LISTED_IMAGE_IDS or not ids else []),
             "```", "", "## With Python (omero-py)", "", "```python",
             "from omero.gateway import BlitzGateway", "",
             "conn = BlitzGateway(USER, PASSWORD, host=SERVER, port=4064, secure=True)",
             "conn.connect()", "conn.SERVICE_OPTS.setOmeroGroup(-1)  # look in all your groups",
             f"dataset = conn.getObject(\"Dataset\", {dataset_id})",
             "for image in dataset.listChildren():",
             "    print(image.getId(), image.getName(), image.getSizeX(), image.getSizeY())",
             "conn.close()", "```", "",
             "With metafold-widgets, `metafold_widgets.omero_tables.dataset_dataframe(conn, "
             f"{dataset_id})` gives the images and their key-value pairs as a table.", ""]
    return "\n".join(lines)


def elabftw_reference_links(data: Mapping[str, Any]) -> str:
    """The elabFTW experiment's web and API addresses and its exports, one per line."""
    elabftw = data["data_sources"]["elabftw"]
    title = data["experiment"]["title"] or data["data_sources"]["local_project"]["name"]
    lines = [f"elabFTW reference links: {title}", "Generated by metafold-widgets.", ""]
    experiment_id = elabftw["experiment_id"]
    if experiment_id is None:
        return "\n".join([*lines, "No elabFTW experiment is recorded for the project. "
                          + to_complete("where the laboratory record is kept"), ""])
    web = elabftw["url"]
    lines += [f"Experiment: {experiment_id}" + (f" ({elabftw['title']})" if elabftw.get("title") else ""),
              f"Web: {web or to_complete('elabFTW address of the experiment')}",
              f"API: {api_url(web, int(experiment_id)) or to_complete('elabFTW API address')}"]
    if elabftw.get("status"):
        lines.append(f"Status: {elabftw['status']}")
    lines += ["", "Exports in the publication package:"]
    lines += [f"  {e['file']} ({e['format']})" for e in elabftw.get("exports", [])] or \
        ["  none " + to_complete("export the experiment (PDF, .eln) if the package should carry it")]
    copies = data["data_sources"]["local_project"].get("copies", {})
    lines += ["", "Metadata in the publication package:"]
    lines += [f"  {copy}" for copy in copies.values()]
    return "\n".join(lines) + "\n"


def api_url(web_url: str | None, experiment_id: int) -> str | None:
    """``https://host/api/v2/experiments/<id>`` from the experiment's web address (no credentials)."""
    if not web_url or "/experiments.php" not in web_url:
        return None
    base = without_credentials(web_url.split("/experiments.php", 1)[0])
    return f"{base}/api/v2/experiments/{experiment_id}"
