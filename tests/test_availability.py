"""The data-availability statement and its three files: sections from the facts, correct counts,
authors from the answers (never the login name), placeholders marked, the OMERO size from the
dataset's pixels, edited files kept; and ``metafold package --out`` making its folder."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from metafold_widgets import cli, load_template
from metafold_widgets.adapters import omero_sizes
from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.adapters.omero_sizes import DatasetSize, ImagePixels, name_format, summarize
from metafold_widgets.config import ElabftwSettings, Secret
from metafold_widgets.core.project import create_project
from metafold_widgets.core.record import record_integration
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_elabftw import WRITE_KEY
from metafold_widgets.workflows import create_project_everywhere
from metafold_widgets.workflows.package import build_package
from metafold_widgets.workflows.publishing.availability_files import DIGESTS_FILE, api_url
from metafold_widgets.workflows.publishing.people import (
    CONTRIBUTOR,
    CORRESPONDING_AUTHOR,
    INVESTIGATOR,
    PRINCIPAL_INVESTIGATOR,
    people_role,
)

pytestmark = pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")

ANSWERS = {
    "project_identifier": "IMG202501", "experiment_title": "Protein Localization in Response to Heat Stress",
    "principal_investigator": "Dr. Ada Example", "enable_elabftw": True, "elabftw_experiment_type": "Microscopy",
    "elabftw_tags": "protein localization, heat stress", "enable_omero": False, "omero_group": "Imaging Lab",
    "omero_project_link": "Create New", "research_question": "How does heat stress move heat shock proteins?",
    "experimental_approach": "Live cell confocal imaging", "sample_type": "Live Cells",
    "sample_preparation_protocol": "HeLa_v2.1", "imaging_modality": "Confocal",
    "microscope_system": "Zeiss LSM 880", "data_sharing_level": "Group", "publication_plan": "Journal",
}
THREE = ("data_sharing_statement.md", "omero_access_instructions.md", "elabftw_reference_links.txt")
FOLDER = "06_publication/data_availability"
SECTIONS = ["Summary", "Image data", "Quantitative data and code", "Experimental documentation",
            "Metadata and provenance", "Reuse", "Contacts", "Compliance", "Data in this package", "Integrity"]


def add_data(project: Path) -> Path:
    (project / "03_imaging/raw_images/condition_1/cell_001.tif").write_bytes(b"II*\0" + bytes(996))
    (project / "03_imaging/raw_images/controls/ctrl_001.ome.tif").write_bytes(b"II*\0" + bytes(96))
    (project / "04_analysis/results/areas.csv").write_text("cell,area\n1,12.5\n")
    (project / "04_analysis/external_analysis/segment.py").write_text("print('segment')\n")
    (project / "06_publication/figures/fig1.png").write_bytes(b"\x89PNG")
    (project / "01_project_management/protocols/imaging.md").write_text("# Imaging protocol\n")
    (project / "05_documentation/daily_notes/2025-01-10.md").write_text("# Day 1\n")
    return project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "projects").mkdir()
    made = create_project(load_template("multi-modal-imaging"), {**ANSWERS, "enable_elabftw": False},
                          tmp_path / "projects", created_by="root")
    return add_data(made)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    (tmp_path / "out").mkdir()
    return tmp_path / "out"


def statement_of(package: Path) -> str:
    return (package / "data_availability/data_sharing_statement.md").read_text()


# --- the statement --------------------------------------------------------------------------

def test_the_statement_has_every_section_in_order_and_the_three_files_are_written(project, out):
    result = build_package(project, out, archive=())
    statement = statement_of(result.path)
    assert re.findall(r"^## (.+)$", statement, flags=re.M) == SECTIONS
    assert (result.path / "data_availability/DATA_AVAILABILITY.md").read_text() == statement
    for name in THREE:
        in_project = (project / FOLDER / name).read_bytes()
        assert in_project and (result.path / "data_availability" / name).read_bytes() == in_project
    assert "- Formats: OME-TIFF, TIF." in statement  # from the raw image folders' files
    assert "- Raw image files in this package: 2 files, 1.1 kB (from `03_imaging/raw_images`)." in statement
    assert "formats: CSV (1), PY (1)" in statement and "- Analysis code: 1 file among them." in statement
    assert "- Lab record entries (protocols, notes, reports) in the project folder: 2 files in " \
           "`01_project_management/protocols`, `05_documentation/daily_notes`." in statement
    assert "access is shared with the members of the research group; others may ask the corresponding author" \
        in statement  # no OMERO dataset: no OMERO group named
    assert "- Principal investigator: Dr. Ada Example." in statement
    assert "- Data availability, written with this package: 4 files (" in statement
    assert "Data availability: 0 files" not in statement  # the files written with it are counted
    contents = result.data["contents"]
    assert contents["processed_data"]["code_files"] == 1 and contents["raw_data"]["formats"] == {"OME-TIFF": 1,
                                                                                                 "TIF": 1}
    assert result.warnings == []


def test_what_only_a_person_knows_is_marked_to_be_completed(project, out):
    statement = statement_of(build_package(project, out, archive=()).path)
    for what in ("license, e.g. CC BY 4.0", "conditions of reuse", "corresponding author", "e-mail address",
                 "retention period", "personal or sensitive data", "funder, grant number", "DOI"):
        assert f"[to be completed: {what}" in statement, what
    assert "not recorded" not in statement  # every gap says what is to be completed
    assert statement.count("[to be completed") == len(re.findall(r"\[to be completed: [^\]]+\]", statement))


def test_answers_fill_in_contacts_compliance_and_reuse(tmp_path, out):
    template = {"id": "study", "name": "Study", "version": "1.0.0", "type": "folder",
                "folders": ["raw_images", "data_availability"],
                "fields": {key: {"type": "text"} for key in (
                    "title", "pi", "co_authors", "corresponding_author", "contributors", "author_orcid",
                    "license", "data_retention", "funding_grant", "ethics_approval")}}
    answers = {"title": "Heat", "pi": "Dr. Ada Example", "co_authors": "Grace Hopper; Alan Turing",
               "corresponding_author": "Grace Hopper", "contributors": "Edsger Dijkstra",
               "author_orcid": "0000-0002-1825-0097", "license": "CC BY 4.0",
               "data_retention": "10 years on the institute's archive", "funding_grant": "DFG 123456",
               "ethics_approval": "none needed (cell lines)"}
    project = create_project(load_template(template), answers, tmp_path, name="study", created_by="root")
    result = build_package(project, out, archive=())
    statement = statement_of(result.path)
    assert "Authors: Dr. Ada Example (principal investigator); Grace Hopper (author); Alan Turing (author); " \
           "Edsger Dijkstra (contributor)." in statement
    assert "0000-0002" not in statement.split("## Summary")[0]  # an ORCID field names nobody
    assert "- Corresponding author: Grace Hopper, [to be completed: e-mail address]." in statement
    assert "- License: CC BY 4.0." in statement
    assert "- Retention: 10 years on the institute's archive." in statement
    assert "- Funder: DFG 123456." in statement and "- Privacy: none needed (cell lines)." in statement
    assert result.data["contacts"] == {"principal_investigator": "Dr. Ada Example",
                                       "corresponding_author": "Grace Hopper"}


# --- authors: from the answers, never the login name ------------------------------------------

def test_the_login_name_is_never_an_author(project, out):
    result = build_package(project, out, archive=())
    assert [p["name"] for p in result.data["experiment"]["authors"]] == ["Dr. Ada Example"]
    assert "root" not in statement_of(result.path)
    crate = json.loads((result.path / "ro-crate-metadata.json").read_text())
    assert "root" not in {e.get("name") for e in crate["@graph"]}


@pytest.mark.parametrize("key, role", [
    ("principal_investigator", PRINCIPAL_INVESTIGATOR), ("pi", PRINCIPAL_INVESTIGATOR),
    ("pi_name", PRINCIPAL_INVESTIGATOR), ("corresponding_author", CORRESPONDING_AUTHOR),
    ("co_authors", "author"), ("authors", "author"), ("investigators", INVESTIGATOR),
    ("microscope_operator", INVESTIGATOR), ("contributors", CONTRIBUTOR), ("collaborators", CONTRIBUTOR),
    ("author_orcid", None), ("contact_email", None), ("pixel_size", None), ("experiment_title", None),
    ("created_by", None), ("enable_omero", None),
])
def test_which_answers_name_people(key, role):
    assert people_role(key) == role


# --- counts -----------------------------------------------------------------------------------

def test_metadata_packages_count_every_file_the_package_holds_there(tmp_path, out, fake_elabftw, monkeypatch):
    """The statement said "Metadata packages: 0 files" with 8 there: only the project's own
    metadata folders were counted, not the record copies, elabFTW exports and OMERO tables."""
    fake_elabftw.add_category("Microscopy")
    client = ElabftwClient(ElabftwSettings(fake_elabftw.url, Secret(WRITE_KEY)), sleep=lambda s: None)
    created = create_project_everywhere(Session(elabftw=client), load_template("multi-modal-imaging"),
                                        ANSWERS, tmp_path)
    record_integration(created.path, "omero", action="create", state="done", id=7,
                       url="https://omero.example/webclient/?show=dataset-7")
    from metafold_widgets import omero_tables
    images = pd.DataFrame([{"image_id": 1, "image_name": "a.tif", "size_x": 4, "size_y": 4, "size_z": 1,
                            "size_c": 1, "size_t": 1}])
    monkeypatch.setattr(omero_tables, "dataset_dataframe", lambda conn, dataset_id: images)
    monkeypatch.setattr(omero_tables, "metadata_dataframe",
                        lambda conn, kind, dataset_id: pd.DataFrame([{"key": "k", "value": "v"}]))
    monkeypatch.setattr(omero_sizes, "dataset_size", lambda conn, dataset_id: DatasetSize(
        dataset_id, 1, 16, 32, ["uint16"], ["TIF"], [1]))
    session = Session(elabftw=client, omero=object())
    result = build_package(created.path, out, session, archive=())
    metadata = result.data["contents"]["metadata_packages"]
    on_disk = [p for p in (result.path / "metadata_packages").rglob("*") if p.is_file()]
    assert metadata["files"] == len(on_disk) == 8  # 4 project files, 2 elabFTW exports, 2 OMERO tables
    assert metadata["bytes"] == sum(p.stat().st_size for p in on_disk)
    assert [(a["folder"], a["files"]) for a in metadata["added"]] == [
        ("metadata_packages/project", 4), ("metadata_packages/elabftw", 2), ("metadata_packages/omero", 2)]
    statement = statement_of(result.path)
    assert "- Metadata packages: 8 files," in statement
    assert "- Images in OMERO: 1 image, 32 bytes of pixel data (uncompressed), pixels type uint16." in statement
    experiment_id = created.outcomes["elabftw"].id
    links = (result.path / "data_availability/elabftw_reference_links.txt").read_text()
    assert f"API: {fake_elabftw.url}/api/v2/experiments/{experiment_id}" in links
    assert f"  metadata_packages/elabftw/experiment_{experiment_id}.pdf (pdf)" in links
    client.close()


def test_the_omero_size_comes_from_the_pixels_of_every_image():
    images = [ImagePixels(1, "a.tif", (512, 512, 3, 2, 1), "uint16"),
              ImagePixels(2, "b.lif [Series 1]", (256, 256, 1, 1, 10), "uint8", "Leica LIF"),
              ImagePixels(2, "b.lif [Series 1]", (1, 1, 1, 1, 1), "uint8"),   # a second Pixels row: one image
              ImagePixels(3, "mask", (10, 10, 1, 1, 1), "bit")]
    size = summarize(9, images)
    assert size.image_count == 3 and size.image_ids == [1, 2, 3]
    assert size.size_bytes == 512 * 512 * 6 * 2 + 256 * 256 * 10 + 1 + (100 + 7) // 8
    assert size.formats == ["Leica LIF", "LIF", "TIF"] and size.pixels_types == ["bit", "uint16", "uint8"]
    assert summarize(9, [ImagePixels(1, "x", (1, 1, 1, 1, 1), "rgb-of-the-future")]).size_bytes is None


@pytest.mark.parametrize("name, expected", [
    ("cell.tif", "TIF"), ("cell.OME.TIFF", "OME-TIFF"), ("stack.czi [Scene #2]", "CZI"), ("mask", None),
    (".hidden", None), ("a.b c", None), (None, None)])
def test_formats_from_image_names(name, expected):
    assert name_format(name) == expected


def test_without_omero_the_size_is_unknown_and_said_so(project, out):
    record_integration(project, "omero", action="create", state="done", id=7, url=None)
    result = build_package(project, out, archive=())
    unknown = {u["field"]: u["reason"] for u in result.data["unknown"]}
    assert "not configured" in unknown["data_sources.omero.size_bytes"]
    statement = statement_of(result.path)
    assert "[to be completed: number of images and their size]" in statement
    assert "[to be completed: OMERO.web address of the dataset]" in statement
    instructions = (result.path / "data_availability/omero_access_instructions.md").read_text()
    assert "- Dataset: 7" in instructions and "[to be completed: OMERO server address" in instructions


# --- the project's copies: written, regenerated, never overwritten when edited ----------------

def test_regenerating_replaces_unedited_files_and_keeps_edited_ones(project, out, tmp_path):
    build_package(project, out, archive=())
    folder = project / FOLDER
    assert json.loads((folder / DIGESTS_FILE).read_text())["files"].keys() == set(THREE)
    edited = statement_of(out / f"{project.name}_publication_package").replace(
        "[to be completed: corresponding author]", "Grace Hopper")
    (folder / THREE[0]).write_text(edited)
    (project / "04_analysis/results/more.csv").write_text("a\n1\n")  # the new statement differs
    second = tmp_path / "second"
    second.mkdir()
    result = build_package(project, second, archive=())
    assert (folder / THREE[0]).read_text() == edited                 # the researcher's text is kept...
    assert statement_of(result.path) == edited                        # ...and published
    fresh = (folder / (THREE[0] + ".new")).read_text()
    assert "Grace Hopper" not in fresh and "2 files, " in fresh       # the new version, beside it
    assert not (result.path / "data_availability" / (THREE[0] + ".new")).exists()
    assert [w for w in result.warnings if "was edited" in w] == [
        f"{FOLDER}/{THREE[0]} was edited: it is kept as it is (and goes into the package); "
        f"the newly generated version is {FOLDER}/{THREE[0]}.new"]
    assert (folder / THREE[1]).read_text() == (result.path / "data_availability" / THREE[1]).read_text()


def test_a_file_the_project_had_before_counts_as_edited(project, out):
    (project / FOLDER / THREE[2]).write_text("our own links\n")
    result = build_package(project, out, archive=())
    assert (project / FOLDER / THREE[2]).read_text() == "our own links\n"
    assert (result.path / "data_availability" / THREE[2]).read_text() == "our own links\n"
    assert (project / FOLDER / (THREE[2] + ".new")).is_file()


def test_a_project_without_the_folder_or_read_only_still_gets_its_package(tmp_path, out, monkeypatch):
    template = {"id": "bare", "name": "Bare", "version": "1.0.0", "type": "folder", "folders": ["raw_data"],
                "fields": {"title": {"type": "text"}}}
    bare = create_project(load_template(template), {"title": "Bare"}, tmp_path, name="bare")
    result = build_package(bare, out, archive=())
    assert all((result.path / "data_availability" / name).is_file() for name in THREE)
    assert any("no data_availability folder" in w for w in result.warnings)

    from metafold_widgets.workflows.publishing import availability_files
    real = availability_files.write_atomic

    def read_only_project(path: Any, data: Any) -> None:
        if str(path).startswith(str(tmp_path / "projects")):
            raise PermissionError(13, "Permission denied")
        real(path, data)

    (tmp_path / "projects").mkdir()
    project = add_data(create_project(load_template("multi-modal-imaging"), {**ANSWERS, "enable_elabftw": False},
                                      tmp_path / "projects"))
    monkeypatch.setattr(availability_files, "write_atomic", read_only_project)
    (tmp_path / "out2").mkdir()
    result = build_package(project, tmp_path / "out2", archive=())
    assert all((result.path / "data_availability" / name).is_file() for name in THREE)
    assert not any((project / FOLDER / name).exists() for name in THREE)
    assert any("Permission denied" in w and "the package has the new ones" in w for w in result.warnings)


def test_the_api_address_is_derived_without_credentials():
    assert api_url("https://u:p@elab.example/sub/experiments.php?mode=view&id=4", 4) == \
        "https://elab.example/sub/api/v2/experiments/4"
    assert api_url(None, 4) is None and api_url("https://elab.example/other", 4) is None


# --- metafold package --out ----------------------------------------------------------------

def test_cli_package_makes_the_out_folder_with_its_parents(project, tmp_path, capsys):
    target = tmp_path / "new" / "deeper"
    assert cli.main(["package", str(project), "--out", str(target), "--archive", "none", "-q"]) == 0
    assert (target / f"{project.name}_publication_package" / "data_availability" / THREE[0]).is_file()


@pytest.mark.parametrize("where", ["a-file", "a-file/below"])
def test_cli_package_out_through_a_file_is_exit_2(project, tmp_path, capsys, where):
    (tmp_path / "a-file").write_text("")
    assert cli.main(["package", str(project), "--out", str(tmp_path / where), "--archive", "none", "-q"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert (tmp_path / "a-file").read_text() == ""


def test_cli_package_out_that_cannot_be_made_is_exit_2_and_leaves_nothing(project, tmp_path, capsys,
                                                                          monkeypatch):
    real_mkdir = Path.mkdir

    def refuse_deeper(self: Path, *args: Any, **kwargs: Any) -> None:
        if self.name == "deeper":
            raise PermissionError(13, "Permission denied")
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse_deeper)
    target = tmp_path / "new" / "deeper"
    assert cli.main(["package", str(project), "--out", str(target), "--archive", "none", "-q"]) == 2
    err = capsys.readouterr().err
    assert f"cannot make the folder {target}" in err and "Permission denied" in err
    assert not (tmp_path / "new").exists()  # the parent made for it is removed again


def test_cli_package_failure_removes_the_folders_it_made(project, tmp_path, capsys):
    (project / "metafold.json").write_text("{ broken")
    target = tmp_path / "new" / "deeper"
    assert cli.main(["package", str(project), "--out", str(target), "--archive", "none", "-q"]) == 2
    assert not (tmp_path / "new").exists()


def test_a_data_availability_folder_that_is_a_link_is_never_written_through(project, out):
    # a link leaving the project stops the package (test_package); one inside is followed by nobody here
    elsewhere = project / "05_documentation/final_reports"
    (project / FOLDER).rmdir()
    (project / FOLDER).symlink_to(elsewhere, target_is_directory=True)
    result = build_package(project, out, archive=())
    assert list(elsewhere.iterdir()) == []
    assert any("no data_availability folder" in w for w in result.warnings)
    assert (result.path / "data_availability" / THREE[0]).is_file()


def test_a_name_taken_by_a_folder_is_left_alone_and_the_others_are_written(project, out):
    (project / FOLDER / THREE[1]).mkdir()
    result = build_package(project, out, archive=())
    assert (project / FOLDER / THREE[1]).is_dir()
    assert (project / FOLDER / THREE[0]).is_file() and (project / FOLDER / THREE[2]).is_file()
    assert (result.path / "data_availability" / THREE[1]).is_file()
    assert [w for w in result.warnings if "left alone" in w] == [
        f"{FOLDER}/{THREE[1]} is left alone ({THREE[1]} is not a regular file); the package has the new one"]
