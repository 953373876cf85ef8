"""The elabFTW client against every emulated release: creation never duplicates and never claims
"nothing was created" falsely, links and tags arrive, categories come from the caller's team,
multi-value fields survive, paging ends, unsupported releases are refused.

The test server behaves release by release as the server's source does
(metafold_widgets/testing/fake_elabftw/releases.py names the file and tag of each behaviour).
"""
from __future__ import annotations

import json
import logging

import pytest
import requests

from metafold_widgets import load_template, read_record
from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.config import ElabftwSettings, Secret
from metafold_widgets.core.record import load_record
from metafold_widgets.errors import ElabftwError
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_elabftw import EMULATED_RELEASES, READ_KEY, WRITE_KEY, Fault
from metafold_widgets.workflows import create_project_everywhere
from metafold_widgets.workflows.elabftw_step import experiment_marker, legacy_marker
from metafold_widgets.workflows.resume import resume_project

pytestmark = pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")

TEMPLATE = """
id: linked
name: Linked experiment
project_name: "{title}"
fields:
  title: {type: text, required: true}
  sample: {type: items, help_text: the sample resource}
  kind: {type: text, default: Imaging}
  keywords: {type: text, default: "imaging, Run 1"}
integrations:
  elabftw: {title: "{title}", category: kind, tags: keywords}
  omero: false
"""


@pytest.fixture(params=EMULATED_RELEASES)
def release(request: pytest.FixtureRequest) -> str:
    """Each emulated elabFTW release in turn."""
    return str(request.param)


@pytest.fixture
def fake(fake_elabftw_factory, release):
    """A test server of that release, every exchange checked against the API description."""
    return fake_elabftw_factory(version=release)


def client_for(fake, key: str = WRITE_KEY, **options) -> ElabftwClient:
    # generous timeouts: a loaded machine must not turn a normal answer into a fault
    options = {"sleep": lambda s: None, "timeout": (5.0, 10.0), "retries": 2, **options}
    return ElabftwClient(ElabftwSettings(fake.url, Secret(key)), **options)


def live(fake) -> list[dict]:
    return [e for e in fake.experiments() if e["state"] == 1]


# --- creating, on every release ----------------------------------------------------------------


def test_create_sends_what_each_release_keeps(fake, release):
    client = client_for(fake)
    metadata = {"extra_fields": {"Power": {"type": "number", "value": "5", "units": ["mW"], "unit": "mW"}},
                "elabftw": {"extra_fields_groups": [{"id": 1, "name": "Laser"}]}}
    exp_id = client.create_experiment("Run", marker="metafoldabc123", body="<p>Question</p>", content_type=2,
                                      category="Imaging", status="Running", tags=["imaging", "laser"],
                                      metadata=metadata)
    entity = fake.experiment(exp_id)
    assert len(fake.experiments()) == 1
    assert entity["category_title"] == "Imaging" and entity["category"] == 1  # the caller's team's row
    assert entity["status_title"] == "Running"
    assert sorted(entity["tags"].split("|")) == ["imaging", "laser"]
    assert json.loads(entity["metadata"])["extra_fields"]["Power"]["unit"] == "mW"
    assert entity["content_type"] == 2  # 5.2-5.3 ignore it on POST: set with a PATCH
    assert entity["steps"] == [] and entity["items_links"] == []  # 5.2.8 would copy template 1's
    assert "metafoldabc123" in entity["body"]


def test_html_body_stays_html_for_a_markdown_user(fake):
    fake.prefer_markdown()
    exp_id = client_for(fake).create_experiment("Run", marker="metafoldhtml", body="<p>Question</p>")
    assert fake.experiment(exp_id)["content_type"] == 1


def test_marker_must_be_letters_and_digits(fake):
    with pytest.raises(ValueError, match="letters and digits"):
        client_for(fake).create_experiment("Run", marker="metafold-project:1")


def test_links_arrive_with_a_json_content_type(fake):
    client = client_for(fake)
    exp_id = client.create_experiment("Run", marker="metafold1")
    other = client.create_experiment("Other", marker="metafold2")
    client.link(exp_id, "items", 101)
    client.link(exp_id, "items", 101)  # idempotent
    client.link(exp_id, "experiments", other)
    entity = fake.experiment(exp_id)
    assert [link["entityid"] for link in entity["items_links"]] == [101]
    assert [link["entityid"] for link in entity["experiments_links"]] == [other]


def test_find_confirms_rows_without_a_body(fake, release):
    client = client_for(fake)
    exp_id = client.create_experiment("Run", marker="metafoldfeed42")
    fake.add_experiment("Decoy", body="<p>metafoldfeed4</p>")  # a prefix of the marker, not the marker
    assert client.find_experiment("metafoldfeed42") == exp_id
    assert client.find_experiment("metafoldabsent") is None
    searches = [r for r in fake.requests_log if r.path.endswith("/experiments") and r.method == "GET"]
    assert searches and all(r.query["q"].startswith('"') for r in searches)  # quoted: advanced path


def test_failing_search_is_an_error_not_not_found(fake):
    client = client_for(fake)
    fake.inject(Fault.status(500), method="GET", path_prefix="/experiments", times=10)
    with pytest.raises(ElabftwError, match="HTTP 500"):
        client.find_experiment("metafoldabc")


def test_categories_and_statuses_are_the_callers_teams(fake):
    fake.add_status("Running", team=2)  # another team's status of the same title, listed on 5.4+
    client = client_for(fake)
    titles = [c["title"] for c in client.categories()]
    assert titles.count("Imaging") == 1 and "Chemistry" not in titles
    assert client.category_id("Imaging") == 1
    assert client.status_id("Running") == 1


def test_multi_value_fields_survive_a_merge_on_every_release(fake):
    client = client_for(fake)
    metadata = {"extra_fields": {
        "Channels": {"type": "select", "allow_multi_values": True, "options": ["DAPI", "GFP", "RFP"],
                     "value": ["DAPI"]},
        "Note": {"type": "text", "value": "a"}}}
    exp_id = client.create_experiment("Run", marker="metafoldmulti", metadata=metadata)
    client.merge_metadata_values(exp_id, {"Channels": ["GFP", "RFP"], "Note": "b"})
    fields = client.get_experiment(exp_id)["metadata"]["extra_fields"]
    assert fields["Channels"]["value"] == ["GFP", "RFP"]  # never the word "Array"
    assert fields["Channels"]["options"] == ["DAPI", "GFP", "RFP"]
    assert fields["Note"]["value"] == "b"


def test_paging_stops_when_the_server_ignores_limit(fake):
    for number in range(120):  # /teams answers every row whatever the limit
        fake.add_team(f"Team {number:03d}")
    teams = client_for(fake).teams()
    assert len(teams) == len({t["id"] for t in teams}) >= 120


# --- faults: create + resume ends with exactly one experiment, done, with its links ---------------


FAULTS = {
    "lost answer": (Fault.lose_response(), "POST"),
    "server error": (Fault.status(500), "POST"),
    "applied then 502": (Fault.apply_then_status(502), "POST"),
    "read timeout": (Fault.delay(3.0), "POST"),
}
READ_TIMEOUT = 1.0  # the client's read timeout in the fault tests: below the delay above


def _session(fake, key: str = WRITE_KEY, read_timeout: float = 10.0) -> Session:
    return Session(elabftw=client_for(fake, key, timeout=(5.0, read_timeout)))


def _assert_complete(fake, project, item: int) -> None:
    experiments = live(fake)
    assert len(experiments) == 1, [e["title"] for e in experiments]  # never a duplicate
    state = read_record(project)["integrations"]["elabftw"]
    assert state["state"] == "done" and state["id"] == experiments[0]["id"]
    assert [link["entityid"] for link in fake.experiment(state["id"])["items_links"]] == [item]


@pytest.mark.parametrize("fault_name", FAULTS)
def test_fault_on_create_then_resume(tmp_path, fake, fault_name):
    item = fake.add_item("Sample S-7")
    fault, method = FAULTS[fault_name]
    fake.inject(fault, method=method, path_prefix="/api/v2/experiments", times=1)
    session = _session(fake, read_timeout=READ_TIMEOUT if fault_name == "read timeout" else 10.0)
    first = create_project_everywhere(session, load_template(TEMPLATE), {"title": "Run 1", "sample": str(item)},
                                      tmp_path)
    state = read_record(first.path)["integrations"]["elabftw"]
    if fault_name == "read timeout":
        assert state["state"] == "failed" and "resume" in state["error"]
    else:
        assert state["state"] == "done"  # found by its marker at once
    assert fake.wait_idle()
    assert resume_project(session, first.path)["elabftw"].state == "done"
    _assert_complete(fake, first.path, item)


def test_search_failure_after_a_lost_answer_says_it_may_exist(tmp_path, fake):
    item = fake.add_item("Sample S-7")
    fake.inject(Fault.lose_response(), method="POST", path_prefix="/api/v2/experiments", times=1)
    fake.inject(Fault.status(503), method="GET", path_prefix="/api/v2/experiments", times=20)
    session = _session(fake)
    first = create_project_everywhere(session, load_template(TEMPLATE), {"title": "Run 1", "sample": str(item)},
                                      tmp_path)
    state = read_record(first.path)["integrations"]["elabftw"]
    assert state["state"] == "failed" and "may exist" in state["error"] and "no experiment" not in state["error"]
    fake.clear_faults()
    assert resume_project(session, first.path)["elabftw"].state == "done"
    _assert_complete(fake, first.path, item)


def test_forbidden_tags_keep_the_experiment_and_say_so(tmp_path, fake):
    item = fake.add_item("Sample S-7")
    fake.forbid_user_tags()
    fake.add_tag("imaging")  # an admin made this one; "Run 1" is new and refused
    session = _session(fake)
    first = create_project_everywhere(session, load_template(TEMPLATE), {"title": "Run 1", "sample": str(item)},
                                      tmp_path)
    state = read_record(first.path)["integrations"]["elabftw"]
    assert state["state"] == "done" and "Run 1" in state["warning"] and "tags" in state["warning"]
    assert fake.experiment(state["id"])["tags"] == "imaging"
    assert "tags Run 1" in first.outcomes["elabftw"].message
    _assert_complete(fake, first.path, item)
    assert resume_project(session, first.path)["elabftw"].message == "already done"


def test_read_only_key_creates_nothing_and_resume_finishes_with_a_write_key(tmp_path, fake):
    item = fake.add_item("Sample S-7")
    first = create_project_everywhere(_session(fake, READ_KEY), load_template(TEMPLATE),
                                      {"title": "Run 1", "sample": str(item)}, tmp_path)
    state = read_record(first.path)["integrations"]["elabftw"]
    assert state["state"] == "failed" and "read-only key" in state["error"]
    assert "no experiment was created (checked)" in state["error"] and fake.experiments() == []
    assert resume_project(_session(fake), first.path)["elabftw"].state == "done"
    _assert_complete(fake, first.path, item)


def test_resume_finds_an_experiment_made_with_the_older_marker(tmp_path, fake):
    item = fake.add_item("Sample S-7")
    fake.inject(Fault.status(500), method="POST", path_prefix="/api/v2/experiments", times=10)
    first = create_project_everywhere(_session(fake), load_template(TEMPLATE), {"title": "Run 1",
                                      "sample": str(item)}, tmp_path)
    record = load_record(first.path)
    assert record.integration("elabftw").state == "failed" and fake.experiments() == []
    fake.clear_faults()
    fake.add_experiment("Run 1", body=f"<p><small>{legacy_marker(record)}</small></p>")  # made by version 0.1
    assert resume_project(_session(fake), first.path)["elabftw"].state == "done"
    assert len(fake.experiments()) == 1
    assert experiment_marker(record).isalnum()


# --- releases the client refuses or adapts to ---------------------------------------------------


def test_a_release_older_than_5_2_is_refused_at_connection(fake_elabftw_factory):
    fake = fake_elabftw_factory(version="5.1.15", contract=False)
    with pytest.raises(ElabftwError, match="older than 5.2.0"):
        client_for(fake).test_connection()


def test_a_development_build_gets_a_warning_and_the_newest_behaviour(fake_elabftw_factory, caplog):
    fake = fake_elabftw_factory(version="6.0.0-alpha4", development_build=True)
    client = client_for(fake)
    with caplog.at_level(logging.WARNING, logger="metafold_widgets.elabftw"):
        info = client.info()
    assert info.development_build and "development build" in caplog.text
    exp_id = client.create_experiment("Run", marker="metafolddev", metadata={"extra_fields": {
        "Channels": {"type": "select", "allow_multi_values": True, "options": ["A", "B"], "value": ["A"]}}})
    client.merge_metadata_values(exp_id, {"Channels": ["A", "B"]})
    merges = [r for r in fake.requests_log if r.method == "PATCH" and isinstance(r.body, dict)
              and "metadatamerge" in r.body]
    assert merges  # the newest behaviour: metadatamerge keeps lists
    assert client.get_experiment(exp_id)["metadata"]["extra_fields"]["Channels"]["value"] == ["A", "B"]


def test_links_without_content_type_are_refused_by_every_release(fake):
    exp_id = client_for(fake).create_experiment("Run", marker="metafoldct")
    response = requests.post(f"{fake.api_url}/experiments/{exp_id}/items_links/101",
                             headers={"Authorization": WRITE_KEY}, timeout=5)
    assert response.status_code == 400 and "content-type" in response.text
