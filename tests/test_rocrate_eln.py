"""RO-Crate 1.1 metadata and .eln files: valid, complete, and a round trip that keeps the answers.

``crate_problems`` checks what RO-Crate 1.1 requires of a crate's JSON-LD, independently of
the code that writes it: the context, a flat graph of entities with unique ``@id``s, the
metadata descriptor (``conformsTo`` 1.1, ``about`` the root), the root Dataset ``./`` with
name, description and an ISO 8601 ``datePublished``, every data entity reachable from the
root through ``hasPart`` with a relative ``@id``, and every ``@id`` referenced by an entity
defined in the graph (``conformsTo``, which names the specification, excepted).

The elabFTW-shaped .eln fixtures follow elabFTW 5.x exports as published in The ELN
Consortium's examples (github.com/TheELNConsortium/TheELNFileFormat, examples/elabftw).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any, Iterator, Mapping
from urllib.parse import unquote

import pytest

from metafold_widgets import cli, load_template, read_record
from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.config import ElabftwSettings, Secret
from metafold_widgets.core.formats.elabftw import to_elabftw
from metafold_widgets.core.project import create_project
from metafold_widgets.core.record import ProjectRecord, record_integration
from metafold_widgets.errors import InputFileError, UserError
from metafold_widgets.testing.fake_elabftw import WRITE_KEY
from metafold_widgets.workflows.archive import ArchiveExistsError
from metafold_widgets.workflows.eln import export_eln, import_eln, read_eln
from metafold_widgets.workflows.package import build_package
from metafold_widgets.workflows.rocrate import CrateFile, project_crate

pytestmark = pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")

CONTEXT = "https://w3id.org/ro/crate/1.1/context"
PROFILE = "https://w3id.org/ro/crate/1.1"
ANSWERS = {
    "project_identifier": "IMG202501", "experiment_title": "Protein Localization in Response to Heat Stress",
    "principal_investigator": "Dr. Ada Example", "enable_elabftw": True, "elabftw_experiment_type": "Microscopy",
    "elabftw_tags": "protein localization, heat stress", "enable_omero": False,
    "research_question": "How does heat stress move heat shock proteins?",
    "experimental_approach": "Live cell confocal imaging", "sample_type": "Live Cells",
    "sample_preparation_protocol": "HeLa_transfection_protocol_v2.1", "imaging_modality": "Confocal",
    "microscope_system": "Zeiss LSM 880", "data_sharing_level": "Group", "publication_plan": "Journal",
}
# The fields of elabFTW's export.eln example, as elabFTW 5.1 wrote them (variableMeasured inline).
ELABFTW_METADATA = {
    "elabftw": {"display_main_text": True, "extra_fields_groups": [{"id": 1, "name": "Sample"}]},
    "extra_fields": {
        "Sample ID": {"type": "text", "value": "S-042", "group_id": 1, "required": True},
        "Laser power": {"type": "number", "value": "12.5", "unit": "mW", "units": ["mW", "W"], "group_id": 1},
        "Stained": {"type": "checkbox", "value": "on", "group_id": 1},
        "Objective": {"type": "select", "value": "63x", "options": ["10x", "20x", "63x"]},
    },
}


# --- an independent RO-Crate 1.1 check ------------------------------------------------------

def references(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every ``{"@id": ...}`` reference inside a property value, with the property name."""
    if isinstance(value, dict):
        if set(value) == {"@id"}:
            yield key, value["@id"]
        else:
            for name, inner in value.items():
                if not name.startswith("@"):
                    yield from references(inner, name)
    elif isinstance(value, list):
        for item in value:
            yield from references(item, key)


def crate_problems(crate: Mapping[str, Any]) -> list[str]:
    """What is wrong with a crate per RO-Crate 1.1 (empty when nothing is)."""
    problems = []
    context = crate.get("@context")
    if context != CONTEXT and not (isinstance(context, list) and CONTEXT in context):
        problems.append(f"@context is {context!r}")
    graph = crate.get("@graph")
    if not isinstance(graph, list) or not all(isinstance(e, dict) and "@id" in e and "@type" in e for e in graph):
        return problems + ["@graph must be a list of entities with @id and @type"]
    ids = [e["@id"] for e in graph]
    problems += [f"@id {i!r} is used twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
    by_id = {e["@id"]: e for e in graph}
    descriptor = by_id.get("ro-crate-metadata.json", {})
    if descriptor.get("@type") != "CreativeWork" or descriptor.get("about") != {"@id": "./"}:
        problems.append("the metadata descriptor must be a CreativeWork about ./")
    if not str((descriptor.get("conformsTo") or {}).get("@id", "")).startswith(PROFILE):
        problems.append("the metadata descriptor must conform to RO-Crate 1.1")
    root = by_id.get("./", {})
    if "Dataset" not in (root.get("@type") if isinstance(root.get("@type"), list) else [root.get("@type")]):
        problems.append("the root ./ must be a Dataset")
    for prop in ("name", "description", "datePublished"):
        if not root.get(prop):
            problems.append(f"the root has no {prop}")
    try:
        dt.datetime.fromisoformat(str(root.get("datePublished")).replace("Z", "+00:00"))
    except ValueError:
        problems.append("datePublished is not ISO 8601")
    for entity in graph:
        for prop, target in references({k: v for k, v in entity.items() if k != "conformsTo"}):
            if target not in by_id:
                problems.append(f"{entity['@id']} -> {prop} -> {target!r} is not defined")
    reachable = set()
    pending = ["./"]
    while pending:
        current = by_id.get(pending.pop(), {})
        for _, target in references(current.get("hasPart", [])):
            if target not in reachable:
                reachable.add(target)
                pending.append(target)
    for entity in graph:
        if entity["@type"] == "File":
            if entity["@id"] not in reachable:
                problems.append(f"file {entity['@id']} is not in the hasPart of the root or its datasets")
            if "://" in entity["@id"] or entity["@id"].startswith("/") or ".." in entity["@id"].split("/"):
                problems.append(f"file {entity['@id']} has no relative path as @id")
    return problems


def files_of(crate: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """File entities by (decoded) relative path."""
    return {unquote(e["@id"]).removeprefix("./"): e for e in crate["@graph"] if e["@type"] == "File"}


# --- fixtures -----------------------------------------------------------------------------

@pytest.fixture
def template():
    return load_template("multi-modal-imaging")


@pytest.fixture
def project(tmp_path, template) -> Path:
    (tmp_path / "projects").mkdir()
    path = create_project(template, ANSWERS, tmp_path / "projects")
    (path / "06_publication/figures/fig 1.png").write_bytes(b"\x89PNG figure")
    (path / "03_imaging/raw_images/condition_1/cell_001.tif").write_bytes(bytes(range(256)) * 2000)
    (path / "04_analysis/results/summary.csv").write_text("cell,area\n1,12.5\n")
    (path / "01_project_management/protocols/imaging.md").write_text("# protocol\n")
    return path


# --- the package's crate --------------------------------------------------------------------

def test_package_crate_is_valid_and_lists_every_file(project, tmp_path):
    result = build_package(project, tmp_path, archive=())
    crate = json.loads((result.path / "ro-crate-metadata.json").read_text())
    assert crate_problems(crate) == []
    files = files_of(crate)
    on_disk = {p.relative_to(result.path).as_posix() for p in result.path.rglob("*") if p.is_file()}
    assert set(files) == on_disk - {"ro-crate-metadata.json"}
    trailer = {"MANIFEST.json", "SHA256SUMS", "MD5SUMS"}  # written after the crate: no checksum of their own
    for relpath, entity in files.items():
        assert entity["encodingFormat"]
        if relpath not in trailer:
            data = (result.path / relpath).read_bytes()
            assert entity["contentSize"] == str(len(data))
            assert entity["sha256"] == hashlib.sha256(data).hexdigest()
    assert files["figures/fig 1.png"]["@id"] == "figures/fig%201.png"
    assert files["figures/fig 1.png"]["encodingFormat"] == "image/png"
    assert files["raw_data/condition_1/cell_001.tif"]["encodingFormat"] == "image/tiff"
    graph = {e["@id"]: e for e in crate["@graph"]}
    root = graph["./"]
    assert root["name"] == ANSWERS["experiment_title"]
    assert "How does heat stress" in root["description"]
    assert "license" not in root  # not known: left out, never invented
    people = {graph[ref["@id"]]["name"] for ref in root["creator"]}
    assert people == {"Dr. Ada Example"}  # the login name that created the folder is nobody's name
    assert graph[root["accountablePerson"]["@id"]] == {**graph[root["accountablePerson"]["@id"]], "@type": "Person",
                                                      "name": "Dr. Ada Example"}
    template = graph[root["isBasedOn"]["@id"]]
    assert template["@type"] == "CreativeWork" and template["identifier"] == "multi-modal-imaging"
    assert template["version"] == read_record(project)["template"]["version"]


def test_crate_links_elabftw_and_omero_and_names_the_license():
    record = {"project": {"name": "P", "uid": "u-1"}, "template": {"id": "t", "name": "T", "version": "2.0"},
              "integrations": {
                  "elabftw": {"state": "done", "id": 12, "url": "https://elab.example/experiments.php?mode=view&id=12"},
                  "omero": {"state": "done", "id": 7, "url": None}}}
    crate = project_crate(ProjectRecord.from_dict(record), [CrateFile("data/a b.csv", 3, "0" * 64)], name="P",
                          description="d",
                          date_published="2025-06-13T10:30:00Z", people=[("Ada", "creator", "author")],
                          license_text="https://creativecommons.org/licenses/by/4.0/")
    assert crate_problems(crate) == []
    graph = {e["@id"]: e for e in crate["@graph"]}
    root = graph["./"]
    assert root["license"] == {"@id": "https://creativecommons.org/licenses/by/4.0/"}
    assert root["identifier"] == "u-1"
    mentions = [graph[m["@id"]] for m in root["mentions"]]
    assert mentions[0] == {"@id": "https://elab.example/experiments.php?mode=view&id=12", "@type": "CreativeWork",
                           "name": "elabFTW experiment 12", "identifier": "12",
                           "url": "https://elab.example/experiments.php?mode=view&id=12"}
    assert mentions[1] == {"@id": "#omero-7", "@type": "Dataset", "name": "OMERO dataset 7", "identifier": "7"}
    assert graph["data/a%20b.csv"]["contentSize"] == "3"


# --- .eln export ---------------------------------------------------------------------------

def test_eln_export_is_a_valid_crate_shaped_like_elabftw(project, tmp_path):
    result = export_eln(project, tmp_path / "out.eln")
    with zipfile.ZipFile(result.path) as archive:
        names = archive.namelist()
        tops = {name.split("/")[0] for name in names}
        assert len(tops) == 1  # a single top folder
        top = tops.pop()
        crate = json.loads(archive.read(f"{top}/ro-crate-metadata.json"))
        contents = {name[len(top) + 1:]: archive.read(name) for name in names if not name.endswith("/")}
    assert crate_problems(crate) == []
    files = files_of(crate)
    assert set(files) == set(contents) - {"ro-crate-metadata.json"}  # every file described, nothing else
    for relpath, entity in files.items():
        assert entity["sha256"] == hashlib.sha256(contents[relpath]).hexdigest()
        assert entity["contentSize"] == str(len(contents[relpath]))
    graph = {e["@id"]: e for e in crate["@graph"]}
    [dataset_id] = [ref["@id"] for ref in graph["./"]["hasPart"]]
    dataset = graph[dataset_id]
    assert dataset["@type"] == "Dataset" and dataset["genre"] == "experiment"
    assert dataset["name"] == ANSWERS["experiment_title"]
    assert "How does heat stress move" in dataset["text"]
    assert dataset["keywords"] == ["protein localization", "heat stress"]
    assert graph[dataset["about"]["@id"]]["name"] == "Microscopy"
    measured = [graph[ref["@id"]] for ref in dataset["variableMeasured"]]
    assert measured[0]["propertyID"] == "elabftw_metadata" and measured[0]["@type"] == "PropertyValue"
    assert json.loads(measured[0]["value"]) == json.loads((project / "elabftw-metadata.json").read_text())
    by_name = {m["propertyID"]: m for m in measured[1:]}
    assert by_name["Sample type"] == {**by_name["Sample type"], "valueReference": "select", "value": "Live Cells"}
    assert f"{dataset_id}export-elabftw.json" in {ref["@id"] for ref in dataset["hasPart"]}
    assert f"{dataset_id}03_imaging/raw_images/condition_1/cell_001.tif" in graph
    assert "url" not in dataset  # no elabFTW experiment yet: no invented address
    with pytest.raises(ArchiveExistsError):
        export_eln(project, tmp_path / "out.eln")


def test_metadata_only_export_leaves_the_data_out(project, tmp_path):
    result = export_eln(project, tmp_path, include_files=False)
    assert result.path == tmp_path / f"{project.name}.eln"
    _, _, [experiment] = read_eln(result.path)
    assert sorted(f.relpath for f in experiment.files) == sorted(
        ["export-elabftw.json", "metafold.json", "elabftw-metadata.json", "README.md",
         read_record(project)["project"]["log"]])


def test_round_trip_export_then_import_keeps_answers_and_files(project, tmp_path, capsys):
    assert cli.main(["export-eln", str(project), "--out", str(tmp_path / "p.eln")]) == 0
    dest = tmp_path / "imported"
    dest.mkdir()
    assert cli.main(["import-eln", str(tmp_path / "p.eln"), "--dest", str(dest)]) == 0
    imported = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert imported.parent == dest
    original, copy = read_record(project), read_record(imported)
    assert copy["answers"] == original["answers"]
    assert copy["template"] == original["template"]
    assert copy["project"]["uid"] != original["project"]["uid"]  # a new project, not a clone of the record
    for relpath in ("06_publication/figures/fig 1.png", "03_imaging/raw_images/condition_1/cell_001.tif",
                    "04_analysis/results/summary.csv", "01_project_management/protocols/imaging.md"):
        assert (imported / relpath).read_bytes() == (project / relpath).read_bytes()
    assert json.loads((imported / "elabftw-metadata.json").read_text())["extra_fields"] == \
        json.loads((project / "elabftw-metadata.json").read_text())["extra_fields"]
    assert (imported / "01_project_management/elabftw_exports/p-ro-crate-metadata.json").is_file()
    log = [json.loads(line) for line in (imported / copy["project"]["log"]).read_text().splitlines()]
    assert log[-1]["action"] == "import_eln" and log[-1]["source"] == "p.eln"
    assert copy["integrations"]["elabftw"]["state"] == "pending"  # no experiment known: resume may create one


def test_import_of_an_elabftw_export_links_the_experiment(tmp_path, fake_elabftw, template):
    fake_elabftw.add_category("Microscopy")
    client = ElabftwClient(ElabftwSettings(fake_elabftw.url, Secret(WRITE_KEY)), sleep=lambda s: None)
    metadata = to_elabftw(template, ANSWERS)
    experiment = client.create_experiment("Heat stress imaging", marker="m1", body="<p>Notes</p>",
                                          category="Microscopy", tags=["heat stress"], metadata=metadata)
    attachment = tmp_path / "overview.png"
    attachment.write_bytes(b"\x89PNG overview")
    client.upload(experiment, attachment, comment="overview")
    client.export_to_file(experiment, "eln", tmp_path / "from-elabftw.eln")
    dest = tmp_path / "projects"
    dest.mkdir()
    result = import_eln(tmp_path / "from-elabftw.eln", dest)
    record = read_record(result.path)
    (tmp_path / "ref").mkdir()
    assert record["answers"] == read_record(create_project(template, ANSWERS, tmp_path / "ref"))["answers"]
    assert result.unmatched == []
    assert (result.path / "01_project_management/elabftw_exports/overview.png").read_bytes() == b"\x89PNG overview"
    assert (result.path / "01_project_management/elabftw_exports/export-elabftw.json").is_file()
    url = f"{fake_elabftw.url}/experiments.php?mode=view&id={experiment}"
    assert result.elabftw_id == experiment
    assert record["integrations"]["elabftw"] == {**record["integrations"]["elabftw"], "state": "done",
                                                 "id": experiment, "url": url}
    assert url in (result.path / "README.md").read_text()
    client.close()


def eln_bytes(graph: list[dict[str, Any]], files: Mapping[str, bytes], top: str = "2024-06-15-160023-export") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{top}/ro-crate-metadata.json", json.dumps({"@context": CONTEXT, "@graph": graph}))
        for name, data in files.items():
            archive.writestr(f"{top}/{name}", data)
    return buffer.getvalue()


def elabftw_51_graph(folder: str, metadata: Mapping[str, Any] | None, files: Mapping[str, bytes]) -> list[dict]:
    """An experiment as elabFTW 5.1 exported it: variableMeasured inline, no @id on the PropertyValues."""
    dataset: dict[str, Any] = {
        "@id": f"./{folder}/", "@type": "Dataset", "name": "Imported experiment", "text": "<p>Body</p>",
        "keywords": ["demo", "test"], "genre": "experiment", "dateCreated": "2024-06-10T23:24:55+02:00",
        "url": "https://elab.local:3148/experiments.php?mode=view&id=298",
        "hasPart": [{"@id": f"./{folder}/{name}"} for name in files]}
    if metadata is not None:
        dataset["variableMeasured"] = [
            {"propertyID": "elabftw_metadata", "description": "eLabFTW metadata JSON as string",
             "value": json.dumps(metadata)},
            *({"@type": "PropertyValue", "propertyID": name, "valueReference": spec["type"], "value": spec["value"]}
              for name, spec in metadata["extra_fields"].items())]
    graph: list[dict[str, Any]] = [
        {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"},
         "conformsTo": {"@id": PROFILE}, "version": "1.0"},
        {"@id": "./", "@type": ["Dataset"], "hasPart": [{"@id": f"./{folder}/"}]}, dataset]
    graph += [{"@id": f"./{folder}/{name}", "@type": "File", "name": name, "contentSize": len(data),
               "sha256": hashlib.sha256(data).hexdigest()} for name, data in files.items()]
    return graph


def test_import_builds_the_template_from_elabftw_fields_when_none_is_named(tmp_path):
    folder = "Project-CASIMIR - Imported-experiment - ce78d5e4"
    files = {"example.pdf": b"%PDF-1.4 example"}
    eln = tmp_path / "casimir.eln"
    eln.write_bytes(eln_bytes(elabftw_51_graph(folder, ELABFTW_METADATA, files),
                              {f"{folder}/{n}": d for n, d in files.items()}))
    dest = tmp_path / "projects"
    dest.mkdir()
    result = import_eln(eln, dest, name="casimir")
    assert result.template.id == "elabftw-metadata"
    assert result.answers == {"sample_id": "S-042", "laser_power": 12.5, "stained": True, "objective": "63x"}
    assert (result.path / "elabftw_import/example.pdf").read_bytes() == files["example.pdf"]
    assert result.elabftw_id == 298  # linked to the experiment it came from, never created twice
    assert read_record(result.path)["integrations"]["elabftw"]["url"] == \
        "https://elab.local:3148/experiments.php?mode=view&id=298"


def test_import_with_a_given_template_reports_fields_it_does_not_have(tmp_path, template):
    metadata = {"extra_fields": {"Sample type": {"type": "select", "value": "Tissue"},
                                 "Unknown thing": {"type": "text", "value": "x"}}}
    folder = "exp"
    eln = tmp_path / "x.eln"
    eln.write_bytes(eln_bytes(elabftw_51_graph(folder, metadata, {}), {}))
    dest = tmp_path / "projects"
    dest.mkdir()
    with pytest.raises(UserError, match="invalid answers"):  # the template's required fields are not all there
        import_eln(eln, dest, template="multi-modal-imaging")
    assert list(dest.iterdir()) == []  # nothing written
    complete = {**metadata, "extra_fields": {**to_elabftw(template, ANSWERS)["extra_fields"],
                                             **metadata["extra_fields"]}}
    eln.write_bytes(eln_bytes(elabftw_51_graph(folder, complete, {}), {}))
    result = import_eln(eln, dest, template="multi-modal-imaging")
    assert result.answers["sample_type"] == "Tissue" and result.unmatched == ["Unknown thing"]
    assert result.elabftw_id == 298  # the file names its experiment; the template turns elabFTW on


def test_import_refuses_files_that_are_not_eln(tmp_path):
    dest = tmp_path / "projects"
    dest.mkdir()
    cases = {
        "two-tops.eln": {"a/ro-crate-metadata.json": b"{}", "b/x": b""},
        "escape.eln": {"top/ro-crate-metadata.json": b"{}", "top/../../evil": b""},
        "no-crate.eln": {"top/readme.txt": b"hello"},
        "no-graph.eln": {"top/ro-crate-metadata.json": b'{"@context": "x"}'},
    }
    for name, members in cases.items():
        with zipfile.ZipFile(tmp_path / name, "w") as archive:
            for member, data in members.items():
                archive.writestr(member, data)
        with pytest.raises(InputFileError):
            import_eln(tmp_path / name, dest)
    (tmp_path / "plain.eln").write_text("not a zip")
    with pytest.raises(InputFileError, match="cannot be read"):
        import_eln(tmp_path / "plain.eln", dest)
    assert list(dest.iterdir()) == []


def test_import_detects_a_damaged_file_and_leaves_no_project(tmp_path, template):
    folder = "exp"
    files = {"data.bin": b"original"}
    graph = elabftw_51_graph(folder, to_elabftw(template, ANSWERS), files)
    eln = tmp_path / "damaged.eln"
    eln.write_bytes(eln_bytes(graph, {f"{folder}/data.bin": b"tampered"}))
    dest = tmp_path / "projects"
    dest.mkdir()
    with pytest.raises(InputFileError, match="checksum differs"):
        import_eln(eln, dest)
    assert list(dest.iterdir()) == []


def test_exported_eln_of_a_linked_project_names_its_experiment(project, tmp_path):
    url = "https://elab.example/experiments.php?mode=view&id=41"
    record_integration(project, "elabftw", action="create", state="done", id=41, url=url)
    result = export_eln(project, tmp_path / "linked.eln", include_files=False)
    _, crate, [experiment] = read_eln(result.path)
    assert experiment.url == url and crate_problems(crate) == []


# --- what both crates take from the answers -------------------------------------------------

LICENSED = {
    "id": "licensed", "name": "Licensed study", "version": "1.0.0", "type": "folder",
    "folders": ["raw_data", "results/figures"],
    "fields": {"study_title": {"type": "text", "required": True}, "co_authors": {"type": "text"},
               "pi": {"type": "text"}, "lab_license": {"type": "text"}},
}


def eln_crate_of(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as archive:
        [name] = [n for n in archive.namelist() if n.endswith("/ro-crate-metadata.json")]
        return json.loads(archive.read(name))


def test_license_and_people_answers_reach_the_package_crate_and_the_eln_crate(tmp_path):
    (tmp_path / "projects").mkdir()
    answers = {"study_title": "Heat", "co_authors": "Grace Hopper; Alan Turing", "pi": "Dr. Ada Example",
               "lab_license": "https://creativecommons.org/licenses/by/4.0/"}
    project = create_project(load_template(LICENSED), answers, tmp_path / "projects", name="licensed")
    (project / "raw_data/a.tif").write_bytes(b"tif")
    package = build_package(project, tmp_path, archive=())
    crates = {"package": json.loads((package.path / "ro-crate-metadata.json").read_text()),
              ".eln": eln_crate_of(export_eln(project, tmp_path / "p.eln").path)}
    for kind, crate in crates.items():
        assert crate_problems(crate) == [], kind
        graph = {e["@id"]: e for e in crate["@graph"]}
        assert graph["./"]["license"] == {"@id": answers["lab_license"]}, kind
        assert graph[answers["lab_license"]]["@type"] == "CreativeWork", kind
        people = {e["name"] for e in crate["@graph"] if e["@type"] == "Person"}
        assert {"Grace Hopper", "Alan Turing", "Dr. Ada Example"} <= people, kind
    assert package.data["data_availability"]["license"] == answers["lab_license"]
    eln_graph = {e["@id"]: e for e in crates[".eln"]["@graph"]}
    dataset = eln_graph[eln_graph["./"]["hasPart"][0]["@id"]]
    assert eln_graph[dataset["accountablePerson"]["@id"]]["name"] == "Dr. Ada Example"
    assert [eln_graph[ref["@id"]]["name"] for ref in dataset["creator"]] == ["Grace Hopper", "Alan Turing"]
