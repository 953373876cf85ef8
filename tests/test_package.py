"""The publication data package: layout, facts (unknowns marked, never invented), statement,
elabFTW exports (fake server, contract-checked), OMERO metadata, checksums, archives, errors.

The fake elabFTW answers ``?format=pdf|eln`` with the files a real server sends; the contract
check accepts those (the API description lists JSON only, the server wins).
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from metafold_widgets import cli, load_template, read_record
from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.adapters.omero import import_omero
from metafold_widgets.config import ElabftwSettings, Secret
from metafold_widgets.core import checksums
from metafold_widgets.core.atomic import DiskFullError
from metafold_widgets.core.checksums import UnreadableFileError, UnsafeSymlinkError
from metafold_widgets.core.project import create_project
from metafold_widgets.core.record import record_integration
from metafold_widgets.errors import OmeroError
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_elabftw import WRITE_KEY
from metafold_widgets.workflows import create_project_everywhere
from metafold_widgets.workflows.archive import verify
from metafold_widgets.workflows.package import PackageExistsError, build_package, category_of
from metafold_widgets.workflows.publishing import archive as archive_module
from metafold_widgets.workflows.publishing import placement

pytestmark = pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")

ANSWERS = {
    "project_identifier": "IMG202501", "experiment_title": "Protein Localization in Response to Heat Stress",
    "principal_investigator": "Dr. Ada Example", "enable_elabftw": True, "elabftw_experiment_type": "Microscopy",
    "elabftw_tags": "protein localization, heat stress", "enable_omero": True, "omero_group": "Imaging Lab",
    "omero_project_link": "Create New", "research_question": "How does heat stress move heat shock proteins?",
    "experimental_approach": "Live cell confocal imaging", "sample_type": "Live Cells",
    "sample_preparation_protocol": "HeLa_v2.1", "imaging_modality": "Confocal",
    "microscope_system": "Zeiss LSM 880", "data_sharing_level": "Group", "publication_plan": "Journal",
}
RAW = bytes(range(256)) * 4096  # 1 MiB: read in chunks
needs_coreutils = pytest.mark.skipif(not (shutil.which("sha256sum") and shutil.which("md5sum")),
                                     reason="GNU coreutils sha256sum/md5sum are not installed")


def add_data(project: Path) -> Path:
    """The files a project has by publication time, in the template's folders (and one more)."""
    (project / "06_publication/figures/fig1.png").write_bytes(b"\x89PNG fig 1")
    (project / "04_analysis/results/summary.csv").write_text("cell,area\n1,12.5\n")
    (project / "04_analysis/omero_analysis/areas.csv").write_text("image,area\n1,3\n")
    (project / "03_imaging/raw_images/condition_1/cell_001.tif").write_bytes(RAW)
    (project / "03_imaging/raw_images/controls/ctrl_001.tif").write_bytes(RAW[:1000])
    (project / "01_project_management/protocols/imaging.md").write_text("# protocol\n")
    (project / "05_documentation/drawings").mkdir()
    (project / "05_documentation/drawings/setup.svg").write_text("<svg/>")  # "drawings" is not raw data
    (project / "06_publication/data_availability/notes.md").write_text("embargo until 2026\n")
    return project


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "projects").mkdir()
    return add_data(create_project(load_template("multi-modal-imaging"), ANSWERS, tmp_path / "projects"))


@pytest.fixture
def out(tmp_path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def resolve(data: dict[str, Any], dotted: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        value = value[part]
    return value


# --- where files go ------------------------------------------------------------------------

@pytest.mark.parametrize("relpath, expected", [
    ("06_publication/figures/fig1.png", ("figures", "06_publication/figures")),
    ("04_analysis/figures/plot.png", ("figures", "04_analysis/figures")),  # the deepest folder wins
    ("03_imaging/raw_images/condition_1/a.tif", ("raw_data", "03_imaging/raw_images")),
    ("RawData/a.tif", ("raw_data", "RawData")),
    ("drawings/a.svg", None),
    ("04_analysis/results/t.csv", ("processed_data", "04_analysis/results")),
    ("04_analysis/omero_analysis/t.csv", ("processed_data", "04_analysis/omero_analysis")),
    ("05_documentation/elabftw_exports/e.pdf", ("metadata_packages", "05_documentation/elabftw_exports")),
    ("01_project_management/protocols/p.md", None),
    ("notes.txt", None),
])
def test_files_go_to_the_category_of_their_folder(relpath, expected):
    assert category_of(relpath) == expected


def test_package_layout_places_files_by_folder(project, out):
    result = build_package(project, out, archive=())
    path = result.path
    assert path == out / f"{project.name}_publication_package"
    assert (path / "figures/fig1.png").read_bytes() == b"\x89PNG fig 1"
    assert (path / "raw_data/condition_1/cell_001.tif").read_bytes() == RAW
    assert (path / "raw_data/controls/ctrl_001.tif").is_file()
    # two source folders for processed data: each keeps its folder's path
    assert (path / "processed_data/04_analysis/results/summary.csv").is_file()
    assert (path / "processed_data/04_analysis/omero_analysis/areas.csv").is_file()
    assert (path / "data_availability/notes.md").is_file()
    assert (path / "data_availability/DATA_AVAILABILITY.md").is_file()
    assert sorted(p.name for p in (path / "metadata_packages/project").iterdir()) == [
        "integration_log.jsonl", "project-README.md", "project-elabftw-metadata.json", "project-record.json"]
    assert not list(path.rglob("metafold.json")) and not list(path.rglob("elabftw-metadata.json"))
    assert not list(path.rglob("imaging.md")) and not list(path.rglob("setup.svg"))
    # hard links: no extra space used
    assert (path / "raw_data/condition_1/cell_001.tif").stat().st_ino == \
        (project / "03_imaging/raw_images/condition_1/cell_001.tif").stat().st_ino
    contents = result.data["contents"]
    assert contents["figures"] == {"files": 1, "bytes": 10, "from": ["06_publication/figures"], "added": [],
                                   "formats": {"PNG": 1}}
    assert contents["raw_data"]["files"] == 2 and contents["raw_data"]["bytes"] == len(RAW) + 1000
    assert contents["not_included"]["files"] == 6  # record, metadata, README, log, protocol, drawing
    assert [p.name for p in out.iterdir()] == [path.name]  # no archive asked, no temporary folder left
    log = [json.loads(line) for line in (project / read_record(project)["project"]["log"]).read_text().splitlines()]
    assert log[-1]["action"] == "package" and log[-1]["path"] == str(path)


def test_copy_instead_of_links(project, out):
    result = build_package(project, out, archive=(), link=False)
    copied = result.path / "raw_data/condition_1/cell_001.tif"
    original = project / "03_imaging/raw_images/condition_1/cell_001.tif"
    assert copied.stat().st_ino != original.stat().st_ino
    assert copied.stat().st_mtime_ns == original.stat().st_mtime_ns


def test_package_facts_come_from_the_record_and_answers(project, out):
    data = build_package(project, out, archive=()).data
    record = read_record(project)
    experiment = data["experiment"]
    assert experiment["id"] == "IMG202501" and experiment["uid"] == record["project"]["uid"]
    assert experiment["title"] == ANSWERS["experiment_title"]
    assert experiment["authors"][0] == {"name": "Dr. Ada Example", "role": "principal investigator",
                                        "source": "answers.principal_investigator"}
    assert experiment["dates"]["project_created"] == record["project"]["created_at"]
    local = data["data_sources"]["local_project"]
    assert local["template"] == {"id": "multi-modal-imaging", "name": record["template"]["name"],
                                 "version": record["template"]["version"], "available": True}
    assert local["metadata_file"] == "metafold.json"
    fields = {f["key"]: f for f in data["experimental_metadata"]["fields"]}
    assert fields["sample_type"] == {"key": "sample_type", "label": "Sample type", "group": "Sample",
                                     "value": "Live Cells"}
    assert data["data_availability"]["sharing_level"] == "Group"
    assert data["reproducibility"]["verify"][0] == "sha256sum -c SHA256SUMS"
    on_disk = json.loads((out / f"{project.name}_publication_package" / "publication_data_package.json").read_text())
    assert on_disk == data


def test_unknown_values_are_null_and_listed_with_a_reason(project, out):
    data = build_package(project, out, archive=()).data
    unknown = {u["field"]: u["reason"] for u in data["unknown"]}
    for field in ("experiment.institution", "data_availability.license", "data_availability.repository",
                  "data_availability.doi", "data_sources.elabftw.experiment_id", "data_sources.elabftw.url",
                  "data_sources.omero.dataset_id", "data_sources.omero.image_count",
                  "data_sources.omero.size_bytes"):
        assert field in unknown and unknown[field]
        assert resolve(data, field) is None  # null, not a guess
    assert "pending" in unknown["data_sources.elabftw.experiment_id"]
    assert "experiment.title" not in unknown and "experiment.authors" not in unknown
    statement = (out / f"{project.name}_publication_package/data_availability/DATA_AVAILABILITY.md").read_text()
    assert "License: [to be completed: license, e.g. CC BY 4.0]." in statement
    assert "(sharing level recorded for the project: Group)." in statement
    assert "Laboratory notebook (elabFTW): [to be completed: where the laboratory record is kept]" in statement
    assert "Raw data: 2 files" in statement and "`03_imaging/raw_images`" in statement


@needs_coreutils
def test_package_checksums_verify_with_coreutils_and_metafold(project, out):
    result = build_package(project, out, archive=("tar.gz", "zip"))
    for sums, tool in (("SHA256SUMS", "sha256sum"), ("MD5SUMS", "md5sum")):
        check = subprocess.run([tool, "-c", "--strict", sums], cwd=result.path, capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    assert [a.format for a in result.archives] == ["tar.gz", "zip"]
    for archive in result.archives:
        assert subprocess.run(["sha256sum", "-c", archive.checksum_file.name], cwd=out,
                              capture_output=True).returncode == 0
        report = verify(archive.path)
        assert report.ok, report.summary()
        assert report.checked == result.file_count + 1  # and the manifest
    manifest = json.loads((result.path / "MANIFEST.json").read_text())
    assert manifest["what"]["project_uid"] == read_record(project)["project"]["uid"]
    assert manifest["file_count"] == result.file_count
    with tarfile.open(result.archives[0].path) as archive:
        assert archive.getnames()[0] == f"{result.path.name}/MANIFEST.json"
    with zipfile.ZipFile(result.archives[1].path) as archive:
        assert archive.read(f"{result.path.name}/MANIFEST.json") == (result.path / "MANIFEST.json").read_bytes()


# --- elabFTW and OMERO ----------------------------------------------------------------------

@pytest.fixture
def elabftw_session(fake_elabftw):
    fake_elabftw.add_category("Microscopy")
    session = Session(elabftw=ElabftwClient(ElabftwSettings(fake_elabftw.url, Secret(WRITE_KEY)),
                                            sleep=lambda s: None))
    yield session
    session.close()


def test_package_with_elabftw_includes_its_exports(tmp_path, out, fake_elabftw, elabftw_session):
    created = create_project_everywhere(elabftw_session, load_template("multi-modal-imaging"),
                                        {**ANSWERS, "enable_omero": False}, tmp_path)
    experiment_id = created.outcomes["elabftw"].id
    add_data(created.path)
    result = build_package(created.path, out, elabftw_session, archive=("tar.gz",))
    exports = result.path / "metadata_packages/elabftw"
    assert (exports / f"experiment_{experiment_id}.pdf").read_bytes().startswith(b"%PDF-1.4")
    with zipfile.ZipFile(exports / f"experiment_{experiment_id}.eln") as eln:
        assert any(name.endswith("/ro-crate-metadata.json") for name in eln.namelist())
    elabftw = result.data["data_sources"]["elabftw"]
    assert elabftw["experiment_id"] == experiment_id and elabftw["read_live"] is True
    assert elabftw["url"] == f"{fake_elabftw.url}/experiments.php?mode=view&id={experiment_id}"
    assert [(e["format"], e["file"]) for e in elabftw["exports"]] == [
        ("pdf", f"metadata_packages/elabftw/experiment_{experiment_id}.pdf"),
        ("eln", f"metadata_packages/elabftw/experiment_{experiment_id}.eln")]
    assert elabftw["tags"] == ["protein localization", "heat stress"]
    assert {"name": "Ada Lovelace", "role": "owner of the elabFTW experiment", "source": "elabFTW"} in \
        result.data["experiment"]["authors"]
    assert result.data["experiment"]["dates"]["elabftw_created"]
    unknown = {u["field"] for u in result.data["unknown"]}
    assert not any(field.startswith("data_sources.elabftw") for field in unknown)
    # the project's record, elabFTW metadata, README and log, and the two exports: all in metadata_packages/
    assert result.data["contents"]["metadata_packages"]["files"] == 6
    statement = (result.path / "data_availability/DATA_AVAILABILITY.md").read_text()
    assert f"elabFTW experiment {experiment_id} ({elabftw['url']}); exported to" in statement
    crate = json.loads((result.path / "ro-crate-metadata.json").read_text())
    graph = {e["@id"]: e for e in crate["@graph"]}
    assert graph[elabftw["url"]]["identifier"] == str(experiment_id)
    assert {"@id": elabftw["url"]} in graph["./"]["mentions"]
    assert graph[f"metadata_packages/elabftw/experiment_{experiment_id}.pdf"]["encodingFormat"] == "application/pdf"
    assert verify(result.archives[0].path).ok
    assert result.warnings == []


def test_elabftw_failures_become_warnings_and_unknowns(project, out, fake_elabftw, elabftw_session):
    record_integration(project, "elabftw", action="create", state="done", id=999,
                       url=f"{fake_elabftw.url}/experiments.php?mode=view&id=999")
    result = build_package(project, out, elabftw_session, archive=())  # experiment 999 does not exist: 404s
    assert len(result.warnings) == 3 and all("experiment 999" in w for w in result.warnings)
    elabftw = result.data["data_sources"]["elabftw"]
    assert elabftw["experiment_id"] == 999 and elabftw["exports"] == [] and elabftw["read_live"] is False
    assert "data_sources.elabftw.exports" in {u["field"] for u in result.data["unknown"]}
    assert not (result.path / "metadata_packages/elabftw").exists() or \
        not list((result.path / "metadata_packages/elabftw").iterdir())


def test_elabftw_export_in_the_client(tmp_path, fake_elabftw):
    client = ElabftwClient(ElabftwSettings(fake_elabftw.url, Secret(WRITE_KEY)), sleep=lambda s: None)
    experiment = fake_elabftw.add_experiment("Exported", metadata={"extra_fields": {"A": {"type": "text",
                                                                                          "value": "x (y)"}}})
    data = client.export(experiment, "pdf")
    size = client.export_to_file(experiment, "pdf", tmp_path / "e.pdf")
    assert data.startswith(b"%PDF-1.4") and b"(A: x \\(y\\))" in data and data.rstrip().endswith(b"%%EOF")
    assert size == len(data) == (tmp_path / "e.pdf").stat().st_size
    assert [p.name for p in tmp_path.iterdir()] == ["e.pdf"]  # no temporary file left
    assert fake_elabftw.requests_log[-1].query == {"format": "pdf"}
    with pytest.raises(ValueError, match="unknown elabFTW export format"):
        client.export(experiment, "docx")
    client.close()


def test_package_with_omero_writes_the_dataset_metadata(project, out, monkeypatch):
    record_integration(project, "omero", action="create", state="done", id=7,
                       url="https://omero.example/webclient/?show=dataset-7")
    images = pd.DataFrame([{"image_id": 1, "image_name": "a.tif", "size_x": 512, "size_y": 512, "size_z": 3,
                            "size_c": 2, "size_t": 1, "Condition": "heat"},
                           {"image_id": 2, "image_name": "b.tif", "size_x": 256, "size_y": 256, "size_z": 1,
                            "size_c": 1, "size_t": 10, "Condition": "control"}])
    pairs = pd.DataFrame([{"namespace": "openmicroscopy.org/omero/client/mapAnnotation", "annotation_id": 5,
                           "key": "Sample type", "value": "Live Cells"}])
    calls = []
    from metafold_widgets import omero_tables
    monkeypatch.setattr(omero_tables, "dataset_dataframe", lambda conn, dataset_id: calls.append(dataset_id) or images)
    monkeypatch.setattr(omero_tables, "metadata_dataframe", lambda conn, kind, dataset_id: pairs)
    gateway = object()  # stands for a BlitzGateway: the tables functions are replaced
    result = build_package(project, out, Session(omero=gateway), archive=())
    omero = result.data["data_sources"]["omero"]
    assert calls == [7]
    assert omero["dataset_id"] == 7 and omero["image_count"] == 2 and omero["read_live"] is True
    assert omero["total_pixels"] == 512 * 512 * 3 * 2 + 256 * 256 * 10
    assert omero["size_bytes"] is None  # not known from these tables: said, not guessed
    listed = pd.read_csv(result.path / "metadata_packages/omero/dataset_7_images.csv")
    assert list(listed["image_name"]) == ["a.tif", "b.tif"] and list(listed["Condition"]) == ["heat", "control"]
    assert "Live Cells" in (result.path / "metadata_packages/omero/dataset_7_key_values.csv").read_text()
    statement = (result.path / "data_availability/DATA_AVAILABILITY.md").read_text()
    assert "- Where: OMERO dataset 7 in the group Imaging Lab, https://omero.example/webclient/?show=dataset-7;" \
        in statement
    assert "- Images in OMERO: 2 images, size not known [to be completed: size of the image data]." in statement


def test_package_without_omero_py_still_builds(project, out):
    try:
        import_omero()
    except OmeroError:
        pass
    else:
        pytest.skip("omero-py is installed here")
    record_integration(project, "omero", action="create", state="done", id=7, url=None)
    result = build_package(project, out, Session(omero=object()), archive=())
    assert result.warnings and "omero-py" in result.warnings[0]
    assert result.data["data_sources"]["omero"]["image_count"] is None
    assert "data_sources.omero.image_count" in {u["field"] for u in result.data["unknown"]}


# --- errors leave nothing under the package's name ------------------------------------------

def test_existing_package_is_never_overwritten(project, out):
    build_package(project, out, archive=())
    with pytest.raises(PackageExistsError, match="already exists"):
        build_package(project, out, archive=())


def test_full_disk_while_copying(project, out, monkeypatch):
    def no_space(source, destination, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(destination))

    monkeypatch.setattr(placement.shutil, "copy2", no_space)
    with pytest.raises(DiskFullError, match="disk is full") as caught:
        build_package(project, out, archive=(), link=False)
    assert caught.value.path.startswith(str(out))
    assert list(out.iterdir()) == []  # neither the package nor its temporary folder


def test_full_disk_exits_1_as_the_readme_says(project, out, monkeypatch, capsys):
    def no_space(source, destination, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(destination))

    monkeypatch.setattr(placement.shutil, "copy2", no_space)
    assert cli.main(["package", str(project), "--out", str(out), "--archive", "none", "--copy", "-q"]) == 1
    assert "disk is full" in capsys.readouterr().err
    assert list(out.iterdir()) == []


def test_full_disk_while_archiving_leaves_neither_package_nor_archive(project, out, monkeypatch):
    # The archives are written from the same read of each file that checksums the package,
    # so the package and its archives appear together or not at all (and a second run can start afresh).
    real_write = os.write

    def no_space(fd, data):
        if fd > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(archive_module.os, "write", no_space)
    with pytest.raises(DiskFullError):
        build_package(project, out, archive=("tar.gz",))
    assert list(out.iterdir()) == []


def test_symlink_leaving_the_project_is_refused(project, out, tmp_path):
    secret = tmp_path / "elsewhere.txt"
    secret.write_text("not the project's")
    (project / "06_publication/figures/linked.png").symlink_to(secret)
    with pytest.raises(UnsafeSymlinkError, match="outside") as caught:
        build_package(project, out, archive=())
    assert caught.value.path.endswith("figures/linked.png")
    assert list(out.iterdir()) == []


def test_unreadable_file_is_named(project, out, monkeypatch):
    # root reads anything: simulate EACCES where the package's copy is opened for its checksum
    real_open = os.open

    def refusing_open(path, flags, *args, **kwargs):
        if os.fspath(path).endswith("figures/fig1.png"):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(checksums.os, "open", refusing_open)
    with pytest.raises(UnreadableFileError, match="permission denied") as caught:
        build_package(project, out, archive=())
    assert caught.value.path.endswith("figures/fig1.png")
    assert list(out.iterdir()) == []


def test_cli_package_then_verify(project, out, capsys):
    assert cli.main(["package", str(project), "--out", str(out), "--archive", "both", "-q"]) == 0
    printed = capsys.readouterr().out
    package = out / f"{project.name}_publication_package"
    assert f"package: {package}" in printed and "archive: " in printed and "unknown (" in printed
    assert cli.main(["verify", str(package), "-q"]) == 0
    assert cli.main(["verify", str(out / f"{package.name}.zip"), "-q"]) == 0
    (package / "figures/fig1.png").unlink()  # a hard link: the project's file stays
    assert (project / "06_publication/figures/fig1.png").is_file()
    capsys.readouterr()
    assert cli.main(["verify", str(package), "-q"]) == 1
    assert "MISSING   figures/fig1.png" in capsys.readouterr().out
    assert cli.main(["package", str(project), "--out", str(out), "--archive", "none", "-q"]) == 2
    (out / "a-file").write_text("")
    assert cli.main(["package", str(project), "--out", str(out / "a-file"), "--json", "-q"]) == 2
