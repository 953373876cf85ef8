"""check with OMERO: the dataset's name, description and investigator pair, and the group's
permissions read from real omero.model.PermissionsI objects."""
from __future__ import annotations

import pytest
from omero.model import PermissionsI
from omero.rtypes import rstring

from metafold_widgets import load_template, read_record
from metafold_widgets.adapters.omero_permissions import GroupPermissions, read_dataset_access
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_omero import CLIENT_NS, FakeBlitzGateway
from metafold_widgets.workflows import create_project_everywhere
from metafold_widgets.workflows.check import check_project

LEVELS = ("rw----", "rwr---", "rwra--", "rwrw--", "rwr-r-", "rwrar-", "rwrwrw")


@pytest.mark.parametrize("text", LEVELS)
def test_permissions_of_permissionsi_match_the_text(text):
    perms = PermissionsI(text)
    assert GroupPermissions.of(perms) == GroupPermissions.from_text(text)
    assert GroupPermissions.of(perms).text == str(perms)


def results(project, conn):
    return {r.check: r for r in check_project(project, Session(omero=conn)).results}


def create(conn, answers, tmp_path):
    result = create_project_everywhere(Session(omero=conn), load_template("multi-modal-imaging"), answers, tmp_path)
    assert result.ok
    return result.path, read_record(result.path)["integrations"]["omero"]["id"]


def test_a_fresh_dataset_agrees_and_its_group_fits(conn, answers, tmp_path):
    project, dataset_id = create(conn, answers, tmp_path)
    access = read_dataset_access(conn, dataset_id)
    assert access is not None and access.group_name == "Imaging Lab" and access.permissions.text == "rwra--"
    assert read_dataset_access(conn, 9999) is None
    found = results(project, conn)
    assert found["facts: OMERO dataset name"].status == "pass"
    assert found["facts: investigator"].status == "pass" and "OMERO" in found["facts: investigator"].message
    assert found["permissions: OMERO"].status == "pass" and "read-annotate" in found["permissions: OMERO"].message
    assert found["permissions: elabFTW"].status == "skip"


def test_a_renamed_dataset_and_a_changed_investigator_pair_are_caught(conn, answers, tmp_path):
    project, dataset_id = create(conn, answers, tmp_path)
    conn.store.get("Dataset", dataset_id).setName(rstring("renamed in OMERO.web"))  # as a user would
    annotation_id = conn.map_annotations("Dataset", dataset_id, ns=CLIENT_NS)[0][0]
    pairs = [(k, "Dr. Other" if k == "Principal investigator" else v) for k, v in conn.pairs("Dataset", dataset_id)]
    conn.edit_annotation(annotation_id, pairs)
    found = results(project, conn)
    name = found["facts: OMERO dataset name"]
    assert name.status == "fail"
    assert name.message == ("OMERO dataset name: here 'ABC123456_Mitochondria_under_Stress', "
                            "OMERO 'renamed in OMERO.web'")
    assert "rename the dataset to 'ABC123456_Mitochondria_under_Stress'" in name.fix
    investigator = found["facts: investigator"]
    assert investigator.status == "fail" and "OMERO 'Dr. Other'" in investigator.message
    assert "metafold sync" in investigator.fix


def test_the_dataset_description_is_compared(conn, answers, tmp_path):
    project, dataset_id = create(conn, answers, tmp_path)
    assert read_record(project)["integrations"]["omero"]["payload"]["description"]
    assert results(project, conn)["facts: OMERO dataset description"].status == "pass"
    conn.store.get("Dataset", dataset_id).setDescription(rstring("something else"))
    description = results(project, conn)["facts: OMERO dataset description"]
    assert description.status == "fail" and "OMERO 'something else'" in description.message


@pytest.mark.parametrize(("text", "level", "status"), [
    ("rw----", "Group", "warn"), ("rwr-r-", "Group", "fail"), ("rw----", "Private", "pass"),
    ("rwr---", "Private", "fail"), ("rwr-r-", "Institution", "pass"),
])
def test_group_permissions_against_the_sharing_level(answers, tmp_path, text, level, status):
    conn = FakeBlitzGateway(group_permissions={3: text})
    assert str(conn.getObject("ExperimenterGroup", 3).getDetails().getPermissions()) == text
    assert str(conn.getEventContext().groupPermissions) == text
    answers["data_sharing_level"] = level
    project, dataset_id = create(conn, answers, tmp_path)
    assert str(conn.store.get("Dataset", dataset_id).getDetails().getPermissions()) == text
    result = results(project, conn)["permissions: OMERO"]
    assert result.status == status, result.message
    assert text in result.message


def test_a_group_made_wider_after_creation_is_reported(conn, answers, tmp_path):
    project, _ = create(conn, answers, tmp_path)
    conn.store.set_group_permissions(3, "rwr-r-")  # an administrator opened the group
    result = results(project, conn)["permissions: OMERO"]
    assert result.status == "fail" and "readable by every user of the server" in result.message
    with pytest.raises(ValueError):
        conn.store.set_group_permissions(3, "nonsense")
