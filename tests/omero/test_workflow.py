"""Creating a project with OMERO on: run_step, create_project_everywhere and `metafold create`."""
from __future__ import annotations

import json

import pytest
import yaml

import metafold_widgets.adapters.omero as omero_adapter
from metafold_widgets import load_template, read_record
from metafold_widgets.adapters.omero import CLIENT_NS, PRODUCT_NS
from metafold_widgets.cli import main
from metafold_widgets.config import OmeroSettings, Secret
from metafold_widgets.core.plan import plan_project
from metafold_widgets.core.project import apply_plan
from metafold_widgets.core.record import load_record, record_integration
from metafold_widgets.errors import OmeroError
from metafold_widgets.session import Session
from metafold_widgets.workflows.create import create_project_everywhere, run_step
from metafold_widgets.workflows.omero_step import omero_web_base, push_dataset

WEB = "https://omero.example.org"
LINKING_TEMPLATE = """\
id: linking
name: Linking
version: 2.0.0
type: experiment
project_name: "{title}"
folders: [raw_images]
fields:
  title: {type: text, required: true}
  enable_omero: {type: checkbox, default: true}
  omero_project_link: {type: radio, options: [Create New, Link to Existing], default: Create New}
  omero_project: {type: dropdown, options_source: omero_projects_api}
"""


@pytest.fixture
def template():
    return load_template("multi-modal-imaging")


def settings(**overrides) -> OmeroSettings:
    return OmeroSettings("omero.example.org", user="ada", password=Secret("pw"), web_url=WEB, **overrides)


def test_create_everywhere_makes_the_dataset_and_records_it(conn, template, answers, tmp_path) -> None:
    result = create_project_everywhere(Session(omero=conn), template, answers, tmp_path)
    outcome = result.outcomes["omero"]
    assert outcome.state == "done" and outcome.url is None  # no OMERO.web address configured
    record = read_record(result.path)
    entry = record["integrations"]["omero"]
    assert entry["state"] == "done" and entry["id"] == outcome.id and entry["error"] is None
    assert conn.name_of("Dataset", outcome.id) == result.path.name
    assert conn.group_of("Dataset", outcome.id) == 3  # the answer "Imaging Lab"
    pairs = dict(conn.pairs("Dataset", outcome.id, CLIENT_NS))
    assert pairs["Sample type"] == "Live Cells"
    assert pairs["Research question"] == answers["research_question"]
    assert "Create OMERO dataset" not in pairs  # the switch itself is not metadata
    provenance = dict(conn.pairs("Dataset", outcome.id, PRODUCT_NS))
    assert provenance["project_uid"] == record["project"]["uid"]
    assert provenance["project_path"] == str(result.path)
    template = ("multi-modal-imaging", record["template"]["version"])
    assert (provenance["template_id"], provenance["template_version"]) == template
    assert "elabftw_url" not in provenance
    log = (result.path / record["project"]["log"]).read_text().splitlines()
    assert json.loads(log[-1])["system"] == "omero" and json.loads(log[-1])["result"] == "done"


def test_resuming_reuses_the_dataset(conn, template, answers, tmp_path) -> None:
    session = Session(omero=conn)
    result = create_project_everywhere(session, template, answers, tmp_path)
    again = run_step(session, result.path, result.plan, "omero", resuming=True)
    assert again.state == "done" and again.id == result.outcomes["omero"].id
    assert conn.count("Dataset") == 1 and conn.count("Project") == 1 and conn.count("MapAnnotation") == 2


def test_the_elabftw_url_goes_into_the_provenance(conn, template, answers, tmp_path) -> None:
    plan = plan_project(template, answers, tmp_path)
    path = apply_plan(plan)
    record_integration(path, "elabftw", state="done", id=7, url="https://elab.example.org/experiments.php?id=7",
                       action="create")
    outcome = run_step(Session(omero=conn), path, plan, "omero")
    assert dict(conn.pairs("Dataset", outcome.id, PRODUCT_NS))["elabftw_url"].endswith("id=7")


def test_the_web_url_comes_from_the_settings_and_the_connection_opens_on_first_use(
        conn, template, answers, tmp_path, monkeypatch) -> None:
    opened = []
    monkeypatch.setattr(omero_adapter, "open_gateway", lambda s, keepalive=60: opened.append(s) or conn)
    session = Session(omero=settings())
    assert opened == [] and omero_web_base(session) == WEB
    outcome = create_project_everywhere(session, template, answers, tmp_path).outcomes["omero"]
    assert outcome.url == f"{WEB}/webclient/?show=dataset-{outcome.id}" and len(opened) == 1


def test_a_connection_failure_is_recorded_not_raised(template, answers, tmp_path, monkeypatch) -> None:
    def refuse(s, keepalive=60):
        raise OmeroError("OMERO at omero.example.org:4064 refused the login of 'ada'")
    monkeypatch.setattr(omero_adapter, "open_gateway", refuse)
    result = create_project_everywhere(Session(omero=settings()), template, answers, tmp_path)
    assert result.outcomes["omero"].state == "failed" and not result.ok
    entry = read_record(result.path)["integrations"]["omero"]
    assert entry["state"] == "failed" and "refused the login" in entry["error"]
    assert "pw" not in (result.path / "metafold.json").read_text()


def test_unconfigured_omero_stays_pending_with_a_note(template, answers, tmp_path) -> None:
    outcome = create_project_everywhere(Session(), template, answers, tmp_path).outcomes["omero"]
    assert (outcome.state, outcome.message) == ("pending", "OMERO is not configured")  # as the record says


def test_omero_turned_off_in_the_answers_is_off(conn, template, answers, tmp_path) -> None:
    outcome = create_project_everywhere(Session(omero=conn), template, {**answers, "enable_omero": False},
                                        tmp_path).outcomes["omero"]
    assert outcome.state == "off" and conn.round_trips == 0


def test_link_to_existing_from_a_template_answer(conn, tmp_path) -> None:
    existing = conn.add_project("Lab atlas")
    template = load_template(LINKING_TEMPLATE)
    result = create_project_everywhere(Session(omero=conn), template, {
        "title": "Run 1", "omero_project_link": "Link to Existing", "omero_project": "Lab atlas"}, tmp_path)
    outcome = result.outcomes["omero"]
    assert outcome.state == "done" and conn.parents("ProjectDatasetLink", outcome.id) == [existing]


def test_link_to_a_missing_project_fails_with_the_reason(conn, tmp_path) -> None:
    template = load_template(LINKING_TEMPLATE)
    result = create_project_everywhere(Session(omero=conn), template, {
        "title": "Run 1", "omero_project_link": "Link to Existing", "omero_project": "Nope"}, tmp_path)
    assert result.outcomes["omero"].state == "failed"
    assert "no OMERO project 'Nope'" in read_record(result.path)["integrations"]["omero"]["error"]


def test_push_dataset_returns_the_id_and_url(conn, template, answers, tmp_path) -> None:
    plan = plan_project(template, answers, tmp_path)
    path = apply_plan(plan)
    dataset_id, url = push_dataset(conn, path, load_record(path), plan.integrations["omero"]["payload"],
                                   web_url=WEB + "/")
    assert url == f"{WEB}/webclient/?show=dataset-{dataset_id}"


def test_metafold_create_makes_the_dataset(conn, answers, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("OMERO_HOST", "omero.example.org")
    monkeypatch.setenv("OMERO_SESSION_KEY", "a-session-key")
    monkeypatch.setenv("OMERO_WEB_URL", WEB + "/webclient/")
    monkeypatch.setattr(omero_adapter, "open_gateway", lambda s, keepalive=60: conn)
    answers_file = tmp_path / "answers.yaml"
    answers_file.write_text(yaml.safe_dump(answers), encoding="utf-8")
    dest = tmp_path / "projects"
    dest.mkdir()
    code = main(["create", "--template", "multi-modal-imaging", "--answers", str(answers_file),
                 "--dest", str(dest), "--no-elabftw"])
    out, err = capsys.readouterr()
    assert code == 0, err
    (dataset_id,) = [d.getId().getValue() for d in conn.objects("Dataset")]
    assert f"OMERO: done ({WEB}/webclient/?show=dataset-{dataset_id})" in err.splitlines()
    assert read_record(out.strip())["integrations"]["omero"]["url"].endswith(f"dataset-{dataset_id}")
    assert conn.closed is False  # a joined session is left alive for its owner


def test_the_omero_web_address_setting() -> None:
    from metafold_widgets.config import ConfigError, omero_settings
    env = {"OMERO_HOST": "omero.example.org", "OMERO_SESSION_KEY": "k", "OMERO_WEB_URL": "https://web.example.org/"}
    assert omero_settings(environ=env, config={}).web_url == "https://web.example.org"
    assert omero_settings(environ={**env, "OMERO_WEB_URL": ""}, config={}).web_url is None
    from_file = omero_settings(environ={"OMERO_HOST": "h", "OMERO_SESSION_KEY": "k"},
                               config={"omero": {"web_url": "https://w.example.org/webclient"}})
    assert from_file.web_url == "https://w.example.org" and "web_url='https://w.example.org'" in repr(from_file)
    with pytest.raises(ConfigError, match="OMERO.web address 'omero.example.org' must look like"):
        omero_settings(environ={**env, "OMERO_WEB_URL": "omero.example.org"}, config={})
