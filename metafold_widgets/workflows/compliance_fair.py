"""The FAIR principles, item by item as GO FAIR states them, judged on a project's evidence.

https://www.go-fair.org/fair-principles/ : F1-F4 (findable), A1, A1.1, A1.2, A2 (accessible),
I1-I3 (interoperable), R1, R1.1-R1.3 (reusable). Each item quotes what was found (ids, URLs,
file names, counts of answered fields); what a project cannot show is ``unknown``.
"""
from __future__ import annotations

from typing import Any, Callable
from urllib.parse import urlsplit

from ..core.bounded import METADATA_MAX_BYTES, read_json
from ..core.checksums import SUMS_FILES
from ..core.record import ELABFTW_METADATA_FILE, README_FILE, RECORD_FILE, IntegrationState
from ..core.redact import without_credentials
from ..core.systems import RECORD_NAMES, SYSTEM_NAMES
from ..errors import InputFileError
from .compliance import MET, NOT_MET, PARTLY, UNKNOWN, ComplianceItem, ComplianceSection
from .compliance_facts import ProjectFacts, is_blank, walk_files

REMOTE = ("elabftw", "omero")
KINDS = {"elabftw": "experiment", "omero": "dataset"}
PACKAGE_FILE = "publication_data_package.json"  # publishing.placement.PACKAGE_FILE (kept light to import)
CRATE_FILE = "ro-crate-metadata.json"
MAX_SHOWN = 6

CRITERIA = {
    "F1": "(Meta)data are assigned a globally unique and persistent identifier",
    "F2": "Data are described with rich metadata",
    "F3": "Metadata clearly and explicitly include the identifier of the data they describe",
    "F4": "(Meta)data are registered or indexed in a searchable resource",
    "A1": "(Meta)data are retrievable by their identifier using a standardised communications protocol",
    "A1.1": "The protocol is open, free, and universally implementable",
    "A1.2": "The protocol allows for an authentication and authorisation procedure, where necessary",
    "A2": "Metadata are accessible, even when the data are no longer available",
    "I1": "(Meta)data use a formal, accessible, shared, and broadly applicable language for knowledge "
          "representation",
    "I2": "(Meta)data use vocabularies that follow FAIR principles",
    "I3": "(Meta)data include qualified references to other (meta)data",
    "R1": "(Meta)data are richly described with a plurality of accurate and relevant attributes",
    "R1.1": "(Meta)data are released with a clear and accessible data usage license",
    "R1.2": "(Meta)data are associated with detailed provenance",
    "R1.3": "(Meta)data meet domain-relevant community standards",
}


def fair_section(facts: ProjectFacts) -> ComplianceSection:
    """Every FAIR item of the project."""
    judges: dict[str, Callable[[ProjectFacts], tuple[str, list[str], str]]] = {
        "F1": _f1, "F2": _f2, "F3": _f3, "F4": _f4, "A1": _a1, "A1.1": _a1_1, "A1.2": _a1_2, "A2": _a2,
        "I1": _i1, "I2": _i2, "I3": _i3, "R1": _r1, "R1.1": _r1_1, "R1.2": _r1_2, "R1.3": _r1_3}
    items = []
    for key, judge in judges.items():
        status, evidence, fix = judge(facts)
        items.append(ComplianceItem(key, f"{key} {CRITERIA[key]}", status, tuple(evidence), fix))
    return ComplianceSection("fair", "FAIR principles", tuple(items),
                             "As GO FAIR states them (go-fair.org/fair-principles); judged on the project folder, "
                             "its record and the linked records.")


# --- helpers ------------------------------------------------------------------------------

def _used(facts: ProjectFacts) -> dict[str, IntegrationState]:
    """The remote systems that are part of the project (state other than ``off``)."""
    return {s: facts.record.integration(s) for s in REMOTE if facts.record.integration(s).state != "off"}


def _done(facts: ProjectFacts) -> dict[str, IntegrationState]:
    return {s: state for s, state in _used(facts).items() if state.done}


def _describe(system: str, state: IntegrationState) -> str:
    url = f" at {without_credentials(str(state.url))}" if state.url else ""
    return f"{SYSTEM_NAMES[system]} {KINDS[system]} {state.id}{url}"


def _shown(names: list[str]) -> str:
    more = f" and {len(names) - MAX_SHOWN} more" if len(names) > MAX_SHOWN else ""
    return ", ".join(names[:MAX_SHOWN]) + more


def _events(facts: ProjectFacts, action: str) -> list[dict[str, Any]]:
    return [e for e in facts.events if e.get("action") == action and e.get("result") == "done"]


# --- findable -----------------------------------------------------------------------------

def _f1(facts: ProjectFacts) -> tuple[str, list[str], str]:
    evidence = [f"project uid {facts.record.uid} in {RECORD_FILE}"]
    evidence += [_describe(system, state) for system, state in _done(facts).items()]
    pid = facts.answer_with("doi", "pid", "ark")
    if pid:
        evidence.append(f"persistent identifier {pid[1]} (answer '{pid[0]}')")
        return MET, evidence, ""
    evidence.append("no answer gives a DOI or other persistent identifier")
    return PARTLY, evidence, ("Get a persistent identifier (a DOI from the repository that publishes the data) and "
                              "record it in an answer such as 'doi'; the uid and record ids are unique but resolve "
                              "only inside your systems.")


def _f2(facts: ProjectFacts) -> tuple[str, list[str], str]:
    evidence = _metadata_files(facts)
    if facts.template is None:
        filled = sum(not is_blank(v) for v in facts.answers.values())
        evidence.insert(0, f"{filled} answers filled; template {facts.record.template_id} "
                           f"{facts.record.template_version} not found, so they cannot be compared with its fields")
        return UNKNOWN, evidence, "Set METAFOLD_TEMPLATES_DIR to the lab's templates so the fields can be compared."
    fields = facts.applicable_fields()
    empty = [f for f in fields if is_blank(facts.answers.get(f.key))]
    required = [f.label for f in empty if f.required]
    evidence.insert(0, f"{len(fields) - len(empty)} of {len(fields)} applicable template fields answered"
                    + (f" (empty: {_shown([f.label for f in empty])})" if empty else ""))
    if required:
        return NOT_MET, evidence, f"Fill in the required fields ({_shown(required)}) and run 'metafold sync'."
    if facts.metadata is None:
        return PARTLY, evidence, f"Run 'metafold sync' to write {ELABFTW_METADATA_FILE} again."
    if empty:
        return PARTLY, evidence, "Fill in the empty optional fields where they apply, then run 'metafold sync'."
    return MET, evidence, ""


def _metadata_files(facts: ProjectFacts) -> list[str]:
    if facts.metadata is not None:
        count = len(facts.metadata.get("extra_fields") or {})
        return [f"{ELABFTW_METADATA_FILE} present ({count} fields)"]
    return [f"{ELABFTW_METADATA_FILE} unavailable: {facts.metadata_note}"]


def _f3(facts: ProjectFacts) -> tuple[str, list[str], str]:
    done = _done(facts)
    identifier = facts.answer_with("identifier") or next(
        ((k, v) for k, v in facts.answers.items() if k in ("project_identifier", "project_id")), None)
    evidence = [f"{RECORD_FILE} names the project uid {facts.record.uid}"
                + (f" and {', '.join(_describe(s, st) for s, st in done.items())}" if done else "")]
    if identifier:
        evidence.append(f"the metadata carry the project identifier {identifier[1]} (answer '{identifier[0]}')")
    missing_links = _missing_links(facts, done)
    if not done:
        return MET, evidence + ["no linked records: the metadata files sit in the folder they describe"], ""
    if missing_links:
        evidence += [f"not recorded: {link}" for link in missing_links]
        return PARTLY, evidence, ("Run 'metafold resume' once both records exist; it links the elabFTW experiment "
                                  "and the OMERO dataset to each other.")
    return MET, evidence + _links(facts), ""


def _links(facts: ProjectFacts) -> list[str]:
    found = []
    omero = facts.record.integration("elabftw").get("linked_omero")
    if omero:
        found.append(f"the elabFTW experiment links the OMERO dataset ({without_credentials(str(omero))})")
    elabftw = facts.record.integration("omero").get("linked_elabftw")
    if elabftw:
        found.append(f"the OMERO dataset links the elabFTW experiment ({without_credentials(str(elabftw))})")
    return found


def _missing_links(facts: ProjectFacts, done: dict[str, IntegrationState]) -> list[str]:
    if set(done) != set(REMOTE):
        return []
    missing = []
    if not facts.record.integration("elabftw").get("linked_omero"):
        missing.append("the elabFTW experiment's link to the OMERO dataset")
    if not facts.record.integration("omero").get("linked_elabftw"):
        missing.append("the OMERO dataset's link to the elabFTW experiment")
    return missing


def _f4(facts: ProjectFacts) -> tuple[str, list[str], str]:
    used = _used(facts)
    if not used:
        return NOT_MET, ["the project uses neither elabFTW nor OMERO: it is only a folder on disk, in no searchable "
                         "catalogue"], "Create the project's elabFTW experiment, or deposit it in a repository."
    evidence, registered = [], 0
    for system, state in used.items():
        name = SYSTEM_NAMES[system]
        live = facts.check(RECORD_NAMES[system])
        if not state.done:
            evidence.append(f"{name}: {state.state}" + (f" ({state.error or state.reason})"
                                                        if state.error or state.reason else ""))
        elif live is not None and live.status == "fail":
            evidence.append(f"{_describe(system, state)} recorded, but reading it failed: {live.message}")
        else:
            registered += 1
            confirmed = "confirmed just now" if live is not None and live.status == "pass" else \
                f"recorded in {RECORD_FILE}, not confirmed ({SYSTEM_NAMES[system]} not reachable from here)"
            evidence.append(f"{_describe(system, state)}: {confirmed}; found by that system's search")
    if registered == len(used):
        return MET, evidence, ""
    fix = "Run 'metafold resume' to create the missing records (nothing is duplicated)."
    return (PARTLY if registered else NOT_MET), evidence, fix


# --- accessible ---------------------------------------------------------------------------

def _urls(facts: ProjectFacts) -> dict[str, str]:
    return {system: without_credentials(str(state.url)) for system, state in _done(facts).items() if state.url}


def _a1(facts: ProjectFacts) -> tuple[str, list[str], str]:
    urls = _urls(facts)
    if not urls:
        return NOT_MET, ["no record of the project has a URL: it is reached only as a folder on disk"], \
            "Create the elabFTW experiment or the OMERO dataset ('metafold resume'), or deposit the data."
    evidence = [f"{SYSTEM_NAMES[s]}: {url} ({urlsplit(url).scheme or 'no scheme'})" for s, url in urls.items()]
    plain = [SYSTEM_NAMES[s] for s, url in urls.items() if urlsplit(url).scheme != "https"]
    if plain:
        return PARTLY, evidence, f"Serve {', '.join(plain)} over https so that access is encrypted."
    return MET, evidence, ""


def _a1_1(facts: ProjectFacts) -> tuple[str, list[str], str]:
    urls = _urls(facts)
    if not urls:
        return NOT_MET, ["no URL to retrieve the project by"], "Create the linked records or deposit the data."
    schemes = sorted({urlsplit(url).scheme for url in urls.values()})
    if all(scheme in ("http", "https") for scheme in schemes):
        return MET, [f"retrieved over {', '.join(schemes)}: open, free and implemented everywhere"], ""
    return PARTLY, [f"schemes used: {', '.join(schemes)}"], "Publish the records at http(s) addresses."


def _a1_2(facts: ProjectFacts) -> tuple[str, list[str], str]:
    done = _done(facts)
    permissions = [r for r in facts.checks_starting("permissions:") if r.check != "permissions: folder"]
    if not done:
        return UNKNOWN, ["no linked record: access to the folder depends on the file server (see Access controls)"], \
            "Record who may read the folder, or create the elabFTW experiment, which has its own permissions."
    evidence = [f"{SYSTEM_NAMES[s]} requires a login (API key or account) and applies its own permissions"
                for s in done]
    evidence += [f"{r.check}: {r.status} ({r.message})" for r in permissions]
    return MET, evidence, ""


def _a2(facts: ProjectFacts) -> tuple[str, list[str], str]:
    local = [name for name in (RECORD_FILE, ELABFTW_METADATA_FILE, README_FILE) if (facts.project / name).is_file()]
    evidence = [f"in the folder: {', '.join(local) or 'no metadata file'}"]
    elabftw = facts.record.integration("elabftw")
    if elabftw.done:
        evidence.append(f"the metadata are also kept apart from the data, in {_describe('elabftw', elabftw)}")
        return MET, evidence, ""
    return PARTLY, evidence, ("The metadata live only beside the data: keep them in elabFTW or a repository record "
                              "too, so they outlive the data.")


# --- interoperable ------------------------------------------------------------------------

def _i1(facts: ProjectFacts) -> tuple[str, list[str], str]:
    evidence = [f"{RECORD_FILE} (JSON)"]
    if facts.metadata is not None:
        evidence.append(f"{ELABFTW_METADATA_FILE} (elabFTW's metadata JSON, importable into elabFTW)")
    if facts.template is not None:
        evidence.append(f"template {facts.template.id} {facts.template.version}, exportable as JSON Schema")
    crates = [str(p.relative_to(facts.project)) for p in walk_files(facts.project) if p.name == CRATE_FILE]
    packaged = _events(facts, "package")
    if crates:
        evidence.append(f"RO-Crate 1.1 metadata (JSON-LD): {_shown(crates)}")
    if packaged:
        evidence.append(f"publication package with ro-crate-metadata.json built {packaged[-1].get('time', '')} "
                        f"({without_credentials(str(packaged[-1].get('path', '')))})")
    if crates or packaged:
        return MET, evidence, ""
    return PARTLY, evidence, ("Build the publication package ('metafold package PROJECT'): it adds "
                              "ro-crate-metadata.json, linked data (JSON-LD) that other tools read.")


def _i2(facts: ProjectFacts) -> tuple[str, list[str], str]:
    if facts.template is None:
        return UNKNOWN, ["the template is not available, so the fields' vocabularies cannot be read"], \
            "Set METAFOLD_TEMPLATES_DIR to the lab's templates."
    fields = [f for f in facts.applicable_fields() if f.type != "checkbox"]
    controlled = [f.label for f in fields if f.has_choices]
    evidence = [f"{len(controlled)} of {len(fields)} fields take values from a controlled list"
                + (f" ({_shown(controlled)})" if controlled else ""),
                "no field names a term of a public vocabulary or ontology (no term URIs in the template)"]
    fix = ("Map the controlled lists to terms of public vocabularies (e.g. EDAM-BIOIMAGING, FBbi for imaging "
           "methods, NCBI Taxonomy) in the template.")
    return (PARTLY if controlled else NOT_MET), evidence, fix


def _i3(facts: ProjectFacts) -> tuple[str, list[str], str]:
    done = _done(facts)
    links = _links(facts)
    evidence = [f"{RECORD_FILE} links {_describe(s, st)}" for s, st in done.items()] + links
    if not done:
        return NOT_MET, ["the project refers to no other record"], \
            "Create the elabFTW experiment and OMERO dataset ('metafold resume'); they are linked to each other."
    if _missing_links(facts, done) or len(done) < 2:
        return PARTLY, evidence, "Link the experiment and the dataset to each other ('metafold resume' does it)."
    return MET, evidence, ""


# --- reusable -----------------------------------------------------------------------------

def _r1(facts: ProjectFacts) -> tuple[str, list[str], str]:
    metadata, facts_checks = facts.check("metadata"), facts.checks_starting("facts:")
    evidence = []
    if metadata is not None:
        evidence.append(f"answers against the template: {metadata.status} ({metadata.message})")
    differing = [r for r in facts_checks if r.status == "fail"]
    if facts_checks:
        evidence.append(f"{len(facts_checks) - len(differing)} of {len(facts_checks)} basic facts agree across the "
                        "systems" + (f" (differ: {_shown([r.check[6:].strip() for r in differing])})"
                                     if differing else ""))
    if facts.template is None or metadata is None or metadata.status == "skip":
        return UNKNOWN, evidence + ["without the template the answers cannot be judged"], \
            "Set METAFOLD_TEMPLATES_DIR to the lab's templates."
    fields = facts.applicable_fields()
    answered = [f for f in fields if not is_blank(facts.answers.get(f.key))]
    evidence.insert(0, f"{len(answered)} attributes described (of {len(fields)} applicable fields)")
    if metadata.status == "fail":
        return NOT_MET, evidence, metadata.fix or "Correct the answers and run 'metafold sync'."
    if differing:
        return PARTLY, evidence, differing[0].fix or "Run 'metafold sync' so every system holds the same facts."
    if len(answered) < len(fields):
        return PARTLY, evidence, "Fill in the empty fields where they apply, then run 'metafold sync'."
    return MET, evidence, ""


def _r1_1(facts: ProjectFacts) -> tuple[str, list[str], str]:
    stated = facts.answer_with("license", "licence")
    if stated:
        return MET, [f"license {stated[1]} (answer '{stated[0]}')"], ""
    for path in walk_files(facts.project):
        if path.name != PACKAGE_FILE:
            continue
        found = _package_license(path)
        if found:
            return MET, [f"license {found} ({path.relative_to(facts.project)})"], ""
    return UNKNOWN, ["no answer gives a license and no package data in the project names one"], (
        "A person must choose the data's license (e.g. CC BY 4.0) and record it in an answer 'license' "
        "(add the field to the template).")


def _package_license(path: Any) -> str | None:
    try:
        data = read_json(path, METADATA_MAX_BYTES, "package data")
    except InputFileError:
        return None
    found = (data.get("data_availability") or {}).get("license") if isinstance(data, dict) else None
    return str(found) if isinstance(found, (str, int, float)) and str(found).strip() else None


def _r1_2(facts: ProjectFacts) -> tuple[str, list[str], str]:
    record = facts.record
    evidence = [f"{RECORD_FILE}: created {record.created_at or 'at an unrecorded time'} by "
                f"{record.created_by or 'an unrecorded user'} with {record.tool or 'an unrecorded tool'} from "
                f"template {record.template_id} {record.template_version}"]
    if facts.events:
        times = [str(e.get("time")) for e in facts.events if e.get("time")]
        span = f", {times[0]} to {times[-1]}" if times else ""
        evidence.append(f"{facts.log_relpath}: {len(facts.events)} integration events{span}")
    if facts.log_note:
        evidence.append(facts.log_note)
    if not facts.events:
        return PARTLY, evidence, "The integration log is missing or empty; it is written again by the next step."
    if not record.created_at or not record.template_id:
        return PARTLY, evidence, f"{RECORD_FILE} lacks when or from which template the project was made."
    return MET, evidence, ""


def _r1_3(facts: ProjectFacts) -> tuple[str, list[str], str]:
    evidence = []
    if facts.metadata is not None:
        evidence.append(f"elabFTW custom fields ({ELABFTW_METADATA_FILE})")
    if facts.record.integration("omero").done:
        evidence.append("OMERO key-value pairs (map annotations) on the dataset")
    sums = [name for name in SUMS_FILES.values() if (facts.project / name).is_file()]
    if sums:
        evidence.append(f"checksums in the sha256sum/md5sum format ({', '.join(sums)})")
    evidence.append("whether the fields cover the domain's minimum information standard cannot be read from the "
                    "project")
    return UNKNOWN, evidence, ("A person must compare the template's fields with the community's standard (e.g. REMBI "
                               "for bioimaging) and add what is missing.")
