"""The OMERO adapter against the fake connection: create, link, reuse, update, list."""
from __future__ import annotations

import pytest
from omero.model import DatasetI

from metafold_widgets.adapters import omero as adapter
from metafold_widgets.adapters.omero import CLIENT_NS, MANAGED_KEY, PRODUCT_NS, ensure_dataset, update_key_values
from metafold_widgets.errors import OmeroError
from metafold_widgets.session import Session

PAIRS = [("Sample type", "Live Cells"), ("Channels", ["DAPI", "GFP"]), ("Fixed", False), ("Notes", "")]
PROVENANCE = {"project_name": "P1", "project_path": "/data/P1", "template_id": "multi-modal-imaging",
              "template_version": "1.1.0", "elabftw_url": None}


def create(conn, **overrides):
    options = {"uid": "uid-1", "key_values": PAIRS, "provenance": PROVENANCE, "group": "Imaging Lab"}
    options.update(overrides)
    return ensure_dataset(conn, overrides.pop("name", "ABC123456_Dataset"), **options)


def test_creates_project_dataset_link_and_both_annotations_in_three_round_trips(conn) -> None:
    ref = create(conn, project="Stress study")
    assert ref.created and conn.round_trips == 3
    assert conn.calls == ["getGroupsMemberOf", "findAllByQuery", "saveAndReturnObject"]
    assert conn.name_of("Dataset", ref.dataset_id) == "ABC123456_Dataset"
    assert conn.name_of("Project", ref.project_id) == "Stress study"
    assert conn.parents("ProjectDatasetLink", ref.dataset_id) == [ref.project_id]
    assert conn.pairs("Dataset", ref.dataset_id, CLIENT_NS) == [
        ("Sample type", "Live Cells"), ("Channels", "DAPI"), ("Channels", "GFP"), ("Fixed", "no")]
    assert conn.pairs("Dataset", ref.dataset_id, PRODUCT_NS) == [
        ("project_uid", "uid-1"), ("project_name", "P1"), ("project_path", "/data/P1"),
        ("template_id", "multi-modal-imaging"), ("template_version", "1.1.0"),
        (MANAGED_KEY, "Sample type"), (MANAGED_KEY, "Channels"), (MANAGED_KEY, "Fixed")]


def test_the_project_is_named_after_the_dataset_when_no_project_name_is_given(conn) -> None:
    ref = create(conn)
    assert conn.name_of("Project", ref.project_id) == "ABC123456_Dataset"


def test_everything_is_written_in_the_target_group_without_changing_the_connection(conn) -> None:
    conn.SERVICE_OPTS.setOmeroGroup("-1")
    ref = create(conn, group="Other Lab")
    assert ref.group_id == 4
    for kind, oid in (("Dataset", ref.dataset_id), ("Project", ref.project_id)):
        assert conn.group_of(kind, oid) == 4
    assert all(conn.group_of("MapAnnotation", a) == 4 for a, _, _ in conn.map_annotations("Dataset", ref.dataset_id))
    assert conn.SERVICE_OPTS.getOmeroGroup() == "-1"


def test_without_a_group_the_current_group_is_used(conn) -> None:
    ref = create(conn, group=None)
    assert ref.group_id == 3 and conn.round_trips == 2  # no group lookup


def test_a_group_the_user_is_not_in_is_refused_before_anything_is_written(conn) -> None:
    with pytest.raises(OmeroError, match="not a member of an OMERO group called 'Secret Lab'"):
        create(conn, group="Secret Lab")
    assert conn.count("Dataset") == 0


def test_long_values_are_split_into_numbered_keys(conn) -> None:
    question = "Why? " * 500  # 2500 bytes
    ref = create(conn, key_values=[("Research question", question)])
    stored = conn.pairs("Dataset", ref.dataset_id, CLIENT_NS)
    assert [k for k, _ in stored] == ["Research question", "Research question (2)", "Research question (3)"]
    assert all(len(v.encode()) <= 1024 for _, v in stored) and "".join(v for _, v in stored) == question
    assert conn.pairs("Dataset", ref.dataset_id, PRODUCT_NS)[-1] == (MANAGED_KEY, "Research question")


def test_a_key_over_1_kib_is_refused_before_any_call(conn) -> None:
    with pytest.raises(OmeroError, match="longer than 1 KiB"):
        create(conn, key_values=[("k" * 2000, "v")])
    assert conn.round_trips == 0


def test_link_to_existing_links_to_the_named_project(conn) -> None:
    existing = conn.add_project("Shared project")
    conn.reset_counts()
    ref = create(conn, project="Shared project", project_link="Link to Existing")
    assert ref.project_id == existing and conn.count("Project") == 1
    assert conn.parents("ProjectDatasetLink", ref.dataset_id) == [existing]
    assert conn.round_trips == 4
    link = conn.objects("ProjectDatasetLink")[0]
    assert not link.getParent().isLoaded()


def test_link_to_existing_by_id_and_the_oldest_of_two_same_names(conn) -> None:
    first, second = conn.add_project("Twin"), conn.add_project("Twin")
    assert create(conn, uid="a", project="Twin", project_link="Link to Existing").project_id == first
    assert create(conn, uid="b", project=str(second), project_link="Link to Existing").project_id == second


def test_link_to_existing_only_finds_projects_of_the_target_group(conn) -> None:
    conn.add_project("Elsewhere", group=4)
    with pytest.raises(OmeroError, match="no OMERO project 'Elsewhere' in group 3"):
        create(conn, project="Elsewhere", project_link="Link to Existing")
    assert conn.count("Dataset") == 0


def test_link_to_existing_without_a_project_name_fails_before_any_call(conn) -> None:
    with pytest.raises(OmeroError, match="needs the name of the OMERO project"):
        create(conn, project_link="Link to Existing")
    assert conn.round_trips == 0


def test_an_unknown_project_choice_is_refused(conn) -> None:
    with pytest.raises(OmeroError, match="unknown OMERO project choice"):
        create(conn, project_link="Maybe")


def test_running_again_reuses_the_dataset_and_annotations(conn) -> None:
    first = create(conn, project="Stress study")
    conn.reset_counts()
    again = create(conn, project="Stress study")
    assert (again.dataset_id, again.project_id, again.created) == (first.dataset_id, first.project_id, False)
    assert conn.count("Dataset") == 1 and conn.count("Project") == 1 and conn.count("MapAnnotation") == 2
    assert conn.round_trips == 2  # group lookup + the one query; nothing to save


def test_running_again_re_adds_a_deleted_annotation_and_refreshes_provenance(conn) -> None:
    ref = create(conn)
    client_id = conn.map_annotations("Dataset", ref.dataset_id, CLIENT_NS)[0][0]
    conn.delete("MapAnnotation", client_id)
    moved = {**PROVENANCE, "project_path": "/moved/P1",
             "elabftw_url": "https://elab.example.org/experiments.php?mode=view&id=7"}
    conn.reset_counts()
    again = create(conn, provenance=moved)
    assert again.dataset_id == ref.dataset_id and conn.count("Dataset") == 1
    assert conn.calls[-1] == "saveAndReturnArray"
    assert conn.pairs("Dataset", ref.dataset_id, CLIENT_NS)[0] == ("Sample type", "Live Cells")
    product = dict(conn.pairs("Dataset", ref.dataset_id, PRODUCT_NS))
    assert product["project_path"] == "/moved/P1" and product["elabftw_url"].endswith("id=7")
    assert len(conn.map_annotations("Dataset", ref.dataset_id, PRODUCT_NS)) == 1


def test_another_project_gets_its_own_dataset(conn) -> None:
    assert create(conn, uid="one").dataset_id != create(conn, uid="two").dataset_id


def test_update_replaces_our_pairs_and_keeps_the_ones_people_added(conn) -> None:
    ref = create(conn)
    client_id = conn.map_annotations("Dataset", ref.dataset_id, CLIENT_NS)[0][0]
    conn.edit_annotation(client_id, conn.pairs("Dataset", ref.dataset_id, CLIENT_NS) + [("Stain batch", "B-17")])
    other = conn.annotate("Dataset", ref.dataset_id, [("Sample type", "theirs"), ("Reviewer", "Kim")])
    conn.reset_counts()
    result = update_key_values(conn, ref.dataset_id, {"Sample type": "Fixed Cells", "Channels": ["DAPI"],
                                                       "Objective": "63x"})
    assert conn.round_trips == 2
    expected = [("Sample type", "Fixed Cells"), ("Channels", "DAPI"), ("Objective", "63x"), ("Stain batch", "B-17")]
    assert result == expected
    stored = {a: p for a, _, p in conn.map_annotations("Dataset", ref.dataset_id, CLIENT_NS)}
    assert stored[client_id] == expected
    assert [p for a, _, p in conn.map_annotations("Dataset", ref.dataset_id) if a == other][0] == [
        ("Sample type", "theirs"), ("Reviewer", "Kim")]
    managed = [v for k, v in conn.pairs("Dataset", ref.dataset_id, PRODUCT_NS) if k == MANAGED_KEY]
    assert managed == ["Sample type", "Channels", "Objective"]
    assert dict(conn.pairs("Dataset", ref.dataset_id, PRODUCT_NS))["project_uid"] == "uid-1"


def test_update_drops_a_managed_key_that_is_no_longer_answered(conn) -> None:
    ref = create(conn)
    assert update_key_values(conn, ref.dataset_id, {"Sample type": "Tissue"}) == [("Sample type", "Tissue")]


def test_update_writes_in_the_dataset_group_and_handles_long_values(conn) -> None:
    ref = create(conn, group="Other Lab")
    conn.SERVICE_OPTS.setOmeroGroup(3)
    long_text = "x" * 1500
    assert update_key_values(conn, ref.dataset_id, [("Notes", long_text)]) == [("Notes", long_text)]
    assert [k for k, _ in conn.pairs("Dataset", ref.dataset_id, CLIENT_NS)] == ["Notes", "Notes (2)"]


def test_update_creates_missing_annotations(conn) -> None:
    dataset_id = conn.add_dataset("made by hand")
    update_key_values(conn, dataset_id, [("Sample type", "Tissue")])
    assert conn.pairs("Dataset", dataset_id, CLIENT_NS) == [("Sample type", "Tissue")]
    assert conn.pairs("Dataset", dataset_id, PRODUCT_NS) == [(MANAGED_KEY, "Sample type")]


def test_update_of_a_missing_dataset_says_so(conn) -> None:
    with pytest.raises(OmeroError, match="dataset 99 does not exist"):
        update_key_values(conn, 99, {"a": "b"})


def test_server_errors_become_omero_errors_naming_the_step(conn) -> None:
    def refuse(obj, ctx=None):
        conn._trip("saveAndReturnObject")
        raise __import__("omero").SecurityViolation(None, None, "no write permission")
    conn.getUpdateService().saveAndReturnObject = refuse
    with pytest.raises(OmeroError, match=r"could not create the dataset \(SecurityViolation: no write permission\)"):
        create(conn)


def test_groups_and_projects_lists(conn) -> None:
    conn.add_project("beta")
    conn.add_project("Alpha")
    conn.add_project("other group", group=4)
    assert adapter.list_groups(conn) == [(3, "Imaging Lab"), (4, "Other Lab")]
    assert [name for _, name in adapter.list_projects(conn)] == ["Alpha", "beta"]
    assert [name for _, name in adapter.list_projects(conn, "Other Lab")] == ["other group"]


def test_session_options_providers_list_groups_and_projects(conn) -> None:
    conn.add_project("Shared project")
    conn.add_project("Shared project")
    session = Session(omero=conn)
    assert [o.value for o in session.options.options("omero_groups_api")] == ["Imaging Lab", "Other Lab"]
    assert [o.value for o in session.options.options("omero_projects_api")] == ["Shared project"]


def test_dataset_web_url() -> None:
    assert adapter.dataset_web_url("https://omero.example.org/", 12) == \
        "https://omero.example.org/webclient/?show=dataset-12"
    assert adapter.dataset_web_url(None, 12) is None


def test_the_fake_keeps_its_store_apart_from_what_the_caller_holds(conn) -> None:
    dataset = DatasetI()
    dataset.setName(__import__("omero").rtypes.rstring("mine"))
    saved = conn.getUpdateService().saveAndReturnObject(dataset, conn.SERVICE_OPTS)
    assert dataset.getId() is None and saved.getId().getValue() == 1
    saved.setName(__import__("omero").rtypes.rstring("changed but not saved"))
    assert conn.name_of("Dataset", 1) == "mine"
