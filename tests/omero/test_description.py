"""The OMERO dataset's description: set at creation (real DatasetI objects in the fake connection),
kept in the record's payload, completed with the elabFTW link once known, people's text kept."""
from __future__ import annotations

import pytest

from metafold_widgets import load_template, read_record
from metafold_widgets.core.plan import plan_project, with_elabftw_link
from metafold_widgets.core.project import apply_plan
from metafold_widgets.core.record import load_record, record_integration
from metafold_widgets.session import Session
from metafold_widgets.workflows import create_project_everywhere
from metafold_widgets.workflows.create import run_step
from metafold_widgets.workflows.crosslinks import link_records
from metafold_widgets.workflows.omero_step import push_dataset

ELAB_URL = "https://elab.example.org/experiments.php?mode=view&id=7"


@pytest.fixture
def template():
    return load_template("multi-modal-imaging")


def description_of(conn, dataset_id: int) -> str | None:
    (dataset,) = [d for d in conn.objects("Dataset") if d.getId().getValue() == dataset_id]
    value = dataset.getDescription()
    return None if value is None else value.getValue()


def test_creation_sets_the_planned_description(conn, template, answers, tmp_path) -> None:
    result = create_project_everywhere(Session(omero=conn), template, answers, tmp_path)
    outcome = result.outcomes["omero"]
    expected = "Mitochondria under Stress: Do mitochondria fragment under oxidative stress?"
    assert description_of(conn, outcome.id) == expected
    assert read_record(result.path)["integrations"]["omero"]["payload"]["description"] == expected


def test_the_elabftw_link_joins_the_description_when_the_experiment_exists(conn, template, answers,
                                                                              tmp_path) -> None:
    plan = plan_project(template, answers, tmp_path)
    path = apply_plan(plan)
    record_integration(path, "elabftw", state="done", id=7, url=ELAB_URL, action="create")
    outcome = run_step(Session(omero=conn), path, plan, "omero")
    text = description_of(conn, outcome.id)
    assert text == f"{plan.integrations['omero']['payload']['description']}\n\nelabFTW experiment: {ELAB_URL}"
    assert load_record(path).integration("omero").payload["description"] == text  # what check compares


def test_an_experiment_made_later_is_added_to_the_description(conn, template, answers, tmp_path) -> None:
    session = Session(omero=conn)
    result = create_project_everywhere(session, template, answers, tmp_path)
    dataset_id = result.outcomes["omero"].id
    record_integration(result.path, "elabftw", state="done", id=7, url=ELAB_URL, action="create")
    assert link_records(session, result.path) is None
    assert description_of(conn, dataset_id).endswith(f"\n\nelabFTW experiment: {ELAB_URL}")
    assert conn.count("Dataset") == 1


def test_a_description_written_in_omero_web_is_kept(conn, template, answers, tmp_path) -> None:
    from omero.rtypes import rstring
    session = Session(omero=conn)
    result = create_project_everywhere(session, template, answers, tmp_path)
    dataset_id = result.outcomes["omero"].id
    dataset = conn.getQueryService().find("Dataset", dataset_id, conn.SERVICE_OPTS)
    dataset.setDescription(rstring("Written by the researcher"))
    conn.getUpdateService().saveAndReturnObject(dataset, conn.SERVICE_OPTS)
    record = load_record(result.path)
    push_dataset(conn, result.path, record, record.integration("omero").payload, resuming=True)
    assert description_of(conn, dataset_id) == "Written by the researcher"


def test_a_payload_without_description_leaves_the_dataset_undescribed(conn, template, answers, tmp_path) -> None:
    plan = plan_project(template, answers, tmp_path)
    path = apply_plan(plan)
    payload = {k: v for k, v in plan.integrations["omero"]["payload"].items() if k != "description"}
    dataset_id, _ = push_dataset(conn, path, load_record(path), payload)
    assert description_of(conn, dataset_id) is None


def test_a_newer_elabftw_link_replaces_the_older_one() -> None:
    first = with_elabftw_link("About the project", "https://elab/old")
    assert with_elabftw_link(first, "https://elab/new") == "About the project\n\nelabFTW experiment: https://elab/new"
    assert with_elabftw_link(first, None) == "About the project"
