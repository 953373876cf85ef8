"""The fake elabFTW server itself, driven with plain ``requests`` (no product client).

Every exchange of a ``fake_elabftw``/``fake_elabftw_factory`` server is validated against the
official API description; a test that breaks the contract on purpose says so with
``checker_of(fake).expect_violation()``.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import requests
from elabftw_contract import ElabftwContract, extra_fields_problems
from elabftw_fixtures import FakeFactory, checker_of

from metafold_widgets.testing.fake_elabftw import (
    OTHER_TEAM_KEY,
    READ_KEY,
    WRITE_KEY,
    FakeElabftw,
    Fault,
    RequestInfo,
    ResponseInfo,
    mysql_json,
)

FIELDS = {
    "Sample ID": {"type": "text", "value": "S-1", "group_id": 1, "position": 0, "required": True},
    "Power": {"type": "number", "value": "5", "units": ["mW", "W"], "unit": "mW", "group_id": 1, "position": 1},
    "Mode": {"type": "select", "value": "fast", "options": ["fast", "slow"], "group_id": 1, "position": 2},
}
METADATA = {"elabftw": {"extra_fields_groups": [{"id": 1, "name": "Sample"}]}, "extra_fields": FIELDS}


def call(fake: FakeElabftw, method: str, path: str, key: str | None = WRITE_KEY, **kwargs: Any) -> requests.Response:
    """One request to the fake's API with a fresh connection; a POST or PATCH without a body sends
    ``{}`` as JSON, as the server wants (it refuses any other content type)."""
    headers = {"Authorization": key} if key is not None else {}
    if method in ("POST", "PATCH") and not {"json", "data", "files"} & set(kwargs):
        kwargs["json"] = {}
    return requests.request(method, fake.api_url + path, headers=headers, timeout=10, **kwargs)


def create(fake: FakeElabftw, key: str = WRITE_KEY, **fields: Any) -> int:
    """POST /experiments and return the new id (from the Location header)."""
    response = call(fake, "POST", "/experiments", key, json=fields)
    assert response.status_code == 201, response.text
    return int(response.headers["Location"].rsplit("/", 1)[1])


def metadata_of(fake: FakeElabftw, exp_id: int) -> Any:
    """The decoded metadata of an experiment, read over HTTP."""
    raw = call(fake, "GET", f"/experiments/{exp_id}").json()["metadata"]
    assert raw is None or isinstance(raw, str)
    return None if raw is None else json.loads(raw)


def assert_error(response: requests.Response, status: int, *fragments: str) -> dict[str, Any]:
    """The response is a spec-shaped Error with this status mentioning these fragments (in
    ``description`` up to 5.3, in ``message`` from 5.4)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "description"} and body["code"] == status
    for fragment in fragments:
        assert fragment in body["message"] + " " + body["description"], body
    return body


# --- lifecycle, instance, auth ------------------------------------------------------------------


def test_urls_and_context_manager() -> None:
    with FakeElabftw() as fake:
        assert fake.url.startswith("http://127.0.0.1:") and not fake.url.endswith("/api/v2")
        assert fake.api_url == fake.url + "/api/v2"
        assert call(fake, "GET", "/info").status_code == 200
    with pytest.raises(requests.ConnectionError):
        call(fake, "GET", "/info")


@pytest.mark.parametrize(("version", "as_int"), [("5.1.3", 50103), ("5.3.2", 50302), ("5.5.0", 50500),
                                                 ("5.6.12", 50612)])
def test_info_reports_the_emulated_version(fake_elabftw_factory: FakeFactory, version: str, as_int: int) -> None:
    fake = fake_elabftw_factory(version=version)
    info = call(fake, "GET", "/info").json()
    assert (info["elabftw_version"], info["elabftw_version_int"]) == (version, as_int)


def test_users_me_and_teams(fake_elabftw: FakeElabftw) -> None:
    me = call(fake_elabftw, "GET", "/users/me").json()
    assert (me["userid"], me["fullname"], me["team"]) == (1, "Ada Lovelace", 1)
    assert call(fake_elabftw, "GET", "/users/me", OTHER_TEAM_KEY).json()["userid"] == 3
    assert [t["name"] for t in call(fake_elabftw, "GET", "/teams").json()] == ["Alpha", "Beta"]
    assert call(fake_elabftw, "GET", "/teams/current").json()["id"] == 1
    assert_error(call(fake_elabftw, "GET", "/teams/2"), 403)


def test_custom_keys(fake_elabftw_factory: FakeFactory) -> None:
    fake = fake_elabftw_factory(keys={"secret": {"userid": 7, "team": 5, "can_write": True}})
    assert call(fake, "GET", "/users/me", "secret").json()["userid"] == 7
    assert call(fake, "GET", "/teams/current", "secret").json()["id"] == 5
    assert_error(call(fake, "GET", "/info", WRITE_KEY), 401)


def test_unknown_key_is_401(fake_elabftw: FakeElabftw) -> None:
    assert_error(call(fake_elabftw, "GET", "/info", "3-not-a-key"), 401, "No corresponding API key")


def test_missing_key_is_401_and_breaks_the_contract(fake_elabftw: FakeElabftw) -> None:
    with checker_of(fake_elabftw).expect_violation("Security"):
        assert_error(call(fake_elabftw, "GET", "/users/me", key=None), 401)


def test_read_only_key_reads_but_cannot_write(fake_elabftw: FakeElabftw) -> None:
    exp_id = create(fake_elabftw)
    assert call(fake_elabftw, "GET", f"/experiments/{exp_id}", READ_KEY).status_code == 200
    assert_error(call(fake_elabftw, "POST", "/experiments", READ_KEY, json={"title": "x"}), 400, "read-only key")
    assert_error(call(fake_elabftw, "PATCH", f"/experiments/{exp_id}", READ_KEY, json={"title": "x"}), 400)
    assert len(fake_elabftw.experiments()) == 1


def test_other_team_cannot_read_an_experiment(fake_elabftw: FakeElabftw) -> None:
    exp_id = create(fake_elabftw)
    assert_error(call(fake_elabftw, "GET", f"/experiments/{exp_id}", OTHER_TEAM_KEY), 403)
    assert call(fake_elabftw, "GET", "/experiments", OTHER_TEAM_KEY).json() == []


def test_unknown_ids_are_404(fake_elabftw: FakeElabftw) -> None:
    exp_id = create(fake_elabftw)
    assert_error(call(fake_elabftw, "GET", "/experiments/999"), 404)
    assert_error(call(fake_elabftw, "PATCH", "/experiments/999", json={"title": "x"}), 404)
    assert_error(call(fake_elabftw, "POST", f"/experiments/{exp_id}/items_links/999"), 404)
    assert_error(call(fake_elabftw, "POST", f"/experiments/{exp_id}/experiments_links/999"), 404)
    assert_error(call(fake_elabftw, "GET", f"/experiments/{exp_id}/uploads/999"), 404)


def test_unknown_path_is_404_and_breaks_the_contract(fake_elabftw: FakeElabftw) -> None:
    with checker_of(fake_elabftw).expect_violation("PathNotFound"):
        assert_error(call(fake_elabftw, "GET", "/no_such_endpoint"), 404)


@pytest.mark.parametrize(("method", "path"), [("PUT", "/experiments/1"), ("DELETE", "/info"),
                                              ("PATCH", "/experiments")])
def test_wrong_method_is_405(fake_elabftw: FakeElabftw, method: str, path: str) -> None:
    create(fake_elabftw)
    with checker_of(fake_elabftw).expect_violation("OperationNotFound"):
        response = call(fake_elabftw, method, path, json={})
    assert_error(response, 405)
    assert response.headers["Allow"]


def test_real_but_unemulated_endpoint_is_501(fake_elabftw: FakeElabftw) -> None:
    assert_error(call(fake_elabftw, "POST", "/items", json={"title": "x"}), 501, "not emulated")


# --- seeded lists and paging --------------------------------------------------------------------


def test_seeded_lists(fake_elabftw: FakeElabftw) -> None:
    categories = call(fake_elabftw, "GET", "/teams/current/experiments_categories").json()
    assert [c["title"] for c in categories if c["is_current_team"]] == ["Imaging", "Spectroscopy", "Simulation"]
    assert [c["title"] for c in categories if not c["is_current_team"]] == ["Chemistry", "Imaging"]  # 5.4+
    assert call(fake_elabftw, "GET", "/teams/1/experiments_categories").json() == categories
    statuses = call(fake_elabftw, "GET", "/teams/current/experiments_status").json()
    assert [s["title"] for s in statuses if s["is_current_team"]] == ["Running", "Success", "Need to be redone",
                                                                      "Fail"]
    assert call(fake_elabftw, "GET", "/teams/1/experiments_status").json() == statuses
    templates = call(fake_elabftw, "GET", "/experiments_templates").json()
    assert [t["title"] for t in templates] == ["Multi-modal imaging session"]
    assert "metadata" not in templates[0]  # show-mode columns on 5.6
    assert isinstance(call(fake_elabftw, "GET", f"/experiments_templates/{templates[0]['id']}").json()["metadata"],
                      str)
    assert [t["title"] for t in call(fake_elabftw, "GET", "/items_types").json()] == ["Equipment", "Sample"]
    assert len(call(fake_elabftw, "GET", "/items").json()) == 3
    keys = call(fake_elabftw, "GET", "/extra_fields_keys").json()
    assert {k["extra_fields_key"] for k in keys} == {"Sample ID", "Objective", "Laser power", "Microscope"}


def _all_pages(fake: FakeElabftw, path: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        page = call(fake, "GET", path, params={"limit": 7, "offset": len(rows)}).json()
        rows.extend(page)
        if len(page) < 7:
            return rows


PAGED = ["/teams/current/experiments_categories", "/teams/current/experiments_status", "/items", "/experiments",
         "/items_types", "/experiments_templates", "/extra_fields_keys"]


def _seed_many(fake: FakeElabftw) -> None:
    for n in range(20):
        fake.add_category(f"Category {n}")
        fake.add_status(f"Status {n}")
        fake.add_template(f"Template {n}", metadata={"extra_fields": {f"key {n}": {"value": ""}}})
        fake.add_item(f"Item {n}")
        fake.add_experiment(f"Experiment {n}")
        fake.add_team(f"Team {n}")
        fake.add_items_type(f"Type {n}")


@pytest.mark.parametrize("path", PAGED)
@pytest.mark.parametrize("version", ["5.2.8", "5.6.12"])
def test_lists_page_by_limit_and_offset(fake_elabftw_factory: FakeFactory, path: str, version: str) -> None:
    fake = fake_elabftw_factory(version=version)
    _seed_many(fake)
    default = call(fake, "GET", path).json()
    if version == "5.2.8" and path == "/experiments_templates":  # 5.2 templates ignore limit
        assert len(default) == len(call(fake, "GET", path, params={"limit": 7}).json()) > 20
        return
    everything = _all_pages(fake, path)
    assert len(everything) > 15
    assert len({json.dumps(row, sort_keys=True) for row in everything}) == len(everything)
    if version == "5.2.8":
        expected = 128 if path == "/items_types" else 15  # DisplayParams@5.2.8; ItemsTypes@5.2.8
        assert len(default) == min(expected, len(everything))
    else:  # 5.4+: no LIMIT without a limit parameter
        assert len(default) == len(everything)
    assert everything[:len(default)] == default[:len(everything)]


def test_teams_ignore_limit(fake_elabftw: FakeElabftw) -> None:
    _seed_many(fake_elabftw)
    assert len(call(fake_elabftw, "GET", "/teams", params={"limit": 7, "offset": 7}).json()) > 20


def test_experiment_list_search_order_and_state(fake_elabftw: FakeElabftw) -> None:
    first = create(fake_elabftw, title="Confocal run", body="<p>beads</p>")
    second = create(fake_elabftw, title="Raman scan")
    third = create(fake_elabftw, title="Another", body="<p>confocal beads</p>")
    found = call(fake_elabftw, "GET", "/experiments", params={"q": "confocal"}).json()
    assert {e["id"] for e in found} == {first, third}
    ascending = call(fake_elabftw, "GET", "/experiments", params={"order": "id", "sort": "asc"}).json()
    assert [e["id"] for e in ascending] == [first, second, third]
    by_title = call(fake_elabftw, "GET", "/experiments", params={"order": "title", "sort": "asc"}).json()
    assert [e["title"] for e in by_title] == ["Another", "Confocal run", "Raman scan"]
    assert call(fake_elabftw, "DELETE", f"/experiments/{second}").status_code == 204
    assert second not in {e["id"] for e in call(fake_elabftw, "GET", "/experiments").json()}
    assert call(fake_elabftw, "GET", f"/experiments/{second}").json()["state"] == 3


def test_extra_fields_keys_counts_and_filters(fake_elabftw: FakeElabftw) -> None:
    create(fake_elabftw, metadata=METADATA)
    create(fake_elabftw, metadata={"extra_fields": {"Power": {"type": "number", "value": "1"}}})
    keys = call(fake_elabftw, "GET", "/extra_fields_keys", params={"q": "pow"}).json()
    assert keys == [{"extra_fields_key": "Power", "frequency": 2},
                    {"extra_fields_key": "Laser power", "frequency": 1}]  # from the seeded template


# --- creating experiments -----------------------------------------------------------------------


def test_post_creates_with_201_empty_body_and_location(fake_elabftw: FakeElabftw) -> None:
    response = call(fake_elabftw, "POST", "/experiments", json={
        "title": "Run 1", "body": "<p>hi</p>", "category": 2, "status": 1, "tags": ["imaging", "run"],
        "metadata": METADATA, "content_type": 1})
    assert response.status_code == 201 and response.content == b""
    location = response.headers["Location"]
    assert location.startswith(fake_elabftw.api_url + "/experiments/")
    entity = requests.get(location, headers={"Authorization": WRITE_KEY}, timeout=10).json()
    assert (entity["title"], entity["body"], entity["category"], entity["status"]) == ("Run 1", "<p>hi</p>", 2, 1)
    assert entity["category_title"] == "Spectroscopy" and entity["status_title"] == "Running"
    assert entity["tags"] == "imaging|run" and entity["locked"] == 0
    assert (entity["userid"], entity["team"]) == (1, 1)
    assert isinstance(entity["metadata"], str) and json.loads(entity["metadata"]) == METADATA


def test_metadata_comes_back_in_mysql_key_order(fake_elabftw: FakeElabftw) -> None:
    exp_id = create(fake_elabftw, metadata={"extra_fields": {"zeta": {"value": ""}, "a": {"value": ""}},
                                           "elabftw": {"extra_fields_groups": []}})
    raw = call(fake_elabftw, "GET", f"/experiments/{exp_id}").json()["metadata"]
    assert raw.startswith('{"elabftw"')
    assert list(json.loads(raw)["extra_fields"]) == ["a", "zeta"]
    assert mysql_json({"bb": 1, "a": 2, "ab": 3}) == '{"a": 2, "ab": 3, "bb": 1}'


@pytest.mark.parametrize(("version", "kept"), [("5.1.0", False), ("5.2.0", True), ("5.6.12", True)])
def test_metadata_on_post_needs_5_2(fake_elabftw_factory: FakeFactory, version: str, kept: bool) -> None:
    fake = fake_elabftw_factory(version=version)
    exp_id = create(fake, title="x", metadata=METADATA)
    assert metadata_of(fake, exp_id) == (METADATA if kept else None)


@pytest.mark.parametrize(("key", "value"), [("category", 99), ("status", 42), ("category", 4)])
def test_post_with_unknown_category_or_status_is_400(fake_elabftw: FakeElabftw, key: str, value: int) -> None:
    assert_error(call(fake_elabftw, "POST", "/experiments", json={"title": "x", key: value}), 400,
                 key, str(value))
    assert fake_elabftw.experiments() == []


def test_post_from_template_uses_only_the_title(fake_elabftw: FakeElabftw) -> None:
    template_id = call(fake_elabftw, "GET", "/experiments_templates").json()[0]["id"]
    template = call(fake_elabftw, "GET", f"/experiments_templates/{template_id}").json()
    exp_id = create(fake_elabftw, title="From template", template=template["id"], body="ignored", category=3)
    entity = call(fake_elabftw, "GET", f"/experiments/{exp_id}").json()
    assert (entity["title"], entity["body"], entity["category"]) == ("From template", template["body"], 1)
    assert json.loads(entity["metadata"]) == json.loads(template["metadata"])
    assert entity["tags"] == "imaging" and entity["created_from_id"] == template["id"]
    assert_error(call(fake_elabftw, "POST", "/experiments", json={"template": 999}), 404)


# --- PATCH --------------------------------------------------------------------------------------


def test_patch_returns_the_full_entity(fake_elabftw: FakeElabftw) -> None:
    exp_id = create(fake_elabftw)
    entity = call(fake_elabftw, "PATCH", f"/experiments/{exp_id}", json={
        "title": "New", "body": "<p>b</p>", "category": 3, "status": 2, "metadata": json.dumps(METADATA),
        "rating": 4, "content_type": 2}).json()
    assert (entity["id"], entity["title"], entity["category"], entity["status"]) == (exp_id, "New", 3, 2)
    assert (entity["rating"], entity["content_type"]) == (4, 2)
    assert json.loads(entity["metadata"]) == METADATA and "uploads" in entity and "items_links" in entity


def test_patch_applies_keys_in_order_and_stops_at_the_first_invalid(fake_elabftw: FakeElabftw) -> None:
    exp_id = create(fake_elabftw, title="Before", body="<p>before</p>")
    response = call(fake_elabftw, "PATCH", f"/experiments/{exp_id}",
                    json={"title": "After", "no_such_key": 1, "body": "<p>after</p>"})
    assert_error(response, 400, "Invalid update target")
    entity = fake_elabftw.experiment(exp_id)
    assert (entity["title"], entity["body"]) == ("After", "<p>before</p>")
    response = call(fake_elabftw, "PATCH", f"/experiments/{exp_id}", json={"status": 2, "category": 99, "title": "X"})
    assert_error(response, 400, "category", "99")
    assert (fake_elabftw.experiment(exp_id)["status"], fake_elabftw.experiment(exp_id)["title"]) == (2, "After")


def test_patch_metadata_must_be_a_json_string(fake_elabftw: FakeElabftw) -> None:
    exp_id = create(fake_elabftw)
    with checker_of(fake_elabftw).expect_violation("JSON-encoded string"):
        response = call(fake_elabftw, "PATCH", f"/experiments/{exp_id}", json={"metadata": METADATA})
    assert_error(response, 400, "metadata")
    assert metadata_of(fake_elabftw, exp_id) is None
    assert call(fake_elabftw, "PATCH", f"/experiments/{exp_id}", json={"metadata": json.dumps(METADATA)}).ok
    assert metadata_of(fake_elabftw, exp_id) == METADATA


def test_metadatamerge_changes_values_only(fake_elabftw: FakeElabftw) -> None:
    exp_id = create(fake_elabftw, metadata=METADATA)
    incoming = {"extra_fields": {"Power": {"value": "7", "type": "text", "units": ["kW"]},
                                 "New": {"type": "text", "value": "n"}}}
    response = call(fake_elabftw, "PATCH", f"/experiments/{exp_id}", json={"metadatamerge": json.dumps(incoming)})
    assert response.status_code == 200, response.text
    fields = metadata_of(fake_elabftw, exp_id)["extra_fields"]
    assert fields["Power"] == {**FIELDS["Power"], "value": "7"}
    assert fields["Mode"] == FIELDS["Mode"] and fields["New"] == {"type": "text", "value": "n"}


def test_metadatamerge_needs_5_6(fake_elabftw_factory: FakeFactory) -> None:
    fake = fake_elabftw_factory(version="5.5.0")
    exp_id = create(fake, metadata=METADATA)
    merge = json.dumps({"extra_fields": {"Power": {"value": "7"}}})
    assert_error(call(fake, "PATCH", f"/experiments/{exp_id}", json={"metadatamerge": merge}), 400,
                 "Invalid update target")
    assert metadata_of(fake, exp_id) == METADATA


@pytest.mark.parametrize(("version", "supported"), [("5.3.2", False), ("5.4.0", True)])
def test_hide_main_text_since_5_4(fake_elabftw_factory: FakeFactory, version: str, supported: bool) -> None:
    fake = fake_elabftw_factory(version=version)
    legacy = {**METADATA, "elabftw": {**METADATA["elabftw"], "display_main_text": False}}
    exp_id = create(fake, metadata=legacy)
    response = call(fake, "PATCH", f"/experiments/{exp_id}", json={"hide_main_text": 1})
    if supported:
        assert response.json()["hide_main_text"] == 1
    else:
        assert_error(response, 400, "Invalid update target")
        entity = call(fake, "GET", f"/experiments/{exp_id}").json()
        assert "hide_main_text" not in entity
        assert json.loads(entity["metadata"])["elabftw"]["display_main_text"] is False


def test_locked_experiment_refuses_changes(fake_elabftw: FakeElabftw) -> None:
    exp_id = create(fake_elabftw, title="Frozen")
    fake_elabftw.lock_experiment(exp_id)
    for method, path, kwargs in [("PATCH", "", {"json": {"title": "x"}}), ("POST", "/tags", {"json": {"tag": "t"}}),
                                 ("POST", "/items_links/101", {}),
                                 ("POST", "/uploads", {"files": {"file": ("a.txt", b"a")}})]:
        assert_error(call(fake_elabftw, method, f"/experiments/{exp_id}{path}", **kwargs), 403, "locked")
    unlocked = call(fake_elabftw, "PATCH", f"/experiments/{exp_id}", json={"action": "lock"}).json()
    assert unlocked["locked"] == 0
    assert call(fake_elabftw, "PATCH", f"/experiments/{exp_id}", json={"title": "Thawed"}).json()["title"] == "Thawed"


# --- tags, links, uploads -----------------------------------------------------------------------


def test_tags(fake_elabftw: FakeElabftw) -> None:
    exp_id = create(fake_elabftw, tags=["a"])
    response = call(fake_elabftw, "POST", f"/experiments/{exp_id}/tags", json={"tag": "b"})
    assert response.status_code == 201 and response.content == b""
    assert response.headers["Location"].startswith(f"{fake_elabftw.api_url}/experiments/{exp_id}/tags/")
    assert [t["tag"] for t in call(fake_elabftw, "GET", f"/experiments/{exp_id}/tags").json()] == ["a", "b"]
    assert call(fake_elabftw, "GET", f"/experiments/{exp_id}").json()["tags"] == "a|b"
    assert_error(call(fake_elabftw, "POST", f"/experiments/{exp_id}/tags", json={"tag": " "}), 400)
    team_tags = call(fake_elabftw, "GET", "/teams/current/tags").json()
    assert {t["tag"] for t in team_tags} >= {"a", "b", "imaging"}


def test_links(fake_elabftw: FakeElabftw) -> None:
    exp_id, other = create(fake_elabftw, title="Main"), create(fake_elabftw, title="Other")
    item_id = call(fake_elabftw, "GET", "/items", params={"q": "Laser"}).json()[0]["id"]
    for kind, target in (("items_links", item_id), ("experiments_links", other)):
        response = call(fake_elabftw, "POST", f"/experiments/{exp_id}/{kind}/{target}")
        assert response.status_code == 201
        table = "experiments2items" if kind == "items_links" else "experiments2experiments"
        assert response.headers["Location"] == f"{fake_elabftw.api_url}/experiments/{exp_id}/{table}/{target}"
        assert call(fake_elabftw, "POST", f"/experiments/{exp_id}/{kind}/{target}").status_code == 201
        assert [link["entityid"] for link in call(fake_elabftw, "GET", f"/experiments/{exp_id}/{kind}").json()] \
            == [target]
    entity = call(fake_elabftw, "GET", f"/experiments/{exp_id}").json()
    assert entity["items_links"][0]["title"] == "Laser 488 nm"
    assert entity["experiments_links"][0]["title"] == "Other"
    related = call(fake_elabftw, "GET", f"/experiments/{other}").json()["related_experiments_links"]
    assert [link["entityid"] for link in related] == [exp_id]
    assert call(fake_elabftw, "DELETE", f"/experiments/{exp_id}/items_links/{item_id}").status_code == 204
    assert call(fake_elabftw, "GET", f"/experiments/{exp_id}/items_links").json() == []


def test_uploads(fake_elabftw: FakeElabftw) -> None:
    exp_id = create(fake_elabftw)
    content = bytes(range(256)) * 3 + b"\r\n--tail\r\n"
    response = call(fake_elabftw, "POST", f"/experiments/{exp_id}/uploads",
                    files={"file": ("scan 1.tif", content, "image/tiff")}, data={"comment": "raw scan"})
    assert response.status_code == 201 and response.content == b""
    location = response.headers["Location"]
    assert location.startswith(f"{fake_elabftw.api_url}/experiments/{exp_id}/uploads/")
    [upload] = call(fake_elabftw, "GET", f"/experiments/{exp_id}/uploads").json()
    assert (upload["real_name"], upload["comment"], upload["filesize"]) == ("scan 1.tif", "raw scan", len(content))
    assert upload["hash"] == hashlib.sha256(content).hexdigest() and upload["hash_algorithm"] == "sha256"
    assert requests.get(location, params={"format": "binary"}, headers={"Authorization": WRITE_KEY},
                        timeout=10).content == content
    assert call(fake_elabftw, "GET", f"/experiments/{exp_id}").json()["uploads"] == [upload]


def test_upload_without_file_is_400_and_breaks_the_contract(fake_elabftw: FakeElabftw) -> None:
    exp_id = create(fake_elabftw)
    with checker_of(fake_elabftw).expect_violation("file"):
        response = call(fake_elabftw, "POST", f"/experiments/{exp_id}/uploads",
                        files={"comment": (None, "no file")})
    assert_error(response, 400, "Error reading file")


# --- test hooks ---------------------------------------------------------------------------------


def test_requests_log_never_stores_the_key(fake_elabftw: FakeElabftw) -> None:
    exp_id = create(fake_elabftw, title="Logged")
    call(fake_elabftw, "GET", "/experiments", params={"limit": 3})
    call(fake_elabftw, "POST", f"/experiments/{exp_id}/uploads", files={"file": ("a.txt", b"abc")},
         data={"comment": "c"})
    post, listing, upload = fake_elabftw.requests_log
    assert post == ("POST", "/api/v2/experiments", {}, {"title": "Logged"}, 201)
    assert (listing.method, listing.query, listing.status) == ("GET", {"limit": "3"}, 200)
    assert upload.body == {"file": {"filename": "a.txt", "size": 3, "sha256": hashlib.sha256(b"abc").hexdigest()},
                           "comment": "c"}
    assert WRITE_KEY not in repr(fake_elabftw.requests_log)


def test_latency_is_added_to_every_request(fake_elabftw_factory: FakeFactory) -> None:
    fake = fake_elabftw_factory(latency=5.0)
    with pytest.raises(requests.Timeout):
        requests.get(fake.api_url + "/info", headers={"Authorization": WRITE_KEY}, timeout=0.2)
    fake.latency = 0.0
    assert call(fake, "GET", "/info").status_code == 200


def test_status_fault_answers_an_error_without_applying(fake_elabftw: FakeElabftw) -> None:
    fake_elabftw.inject(Fault.status(500), method="POST", path_prefix="/experiments")
    assert_error(call(fake_elabftw, "POST", "/experiments", json={"title": "x"}), 500)
    assert fake_elabftw.experiments() == [] and fake_elabftw.pending_faults() == 0
    create(fake_elabftw, title="x")


def test_rate_limited_fault(fake_elabftw: FakeElabftw) -> None:
    fake_elabftw.inject(Fault.rate_limited(retry_after=3))
    response = call(fake_elabftw, "POST", "/experiments", json={"title": "x"})
    assert_error(response, 429)
    assert response.headers["Retry-After"] == "3" and fake_elabftw.experiments() == []


def test_delay_fault_makes_clients_time_out(fake_elabftw: FakeElabftw) -> None:
    fake_elabftw.inject(Fault.delay(5.0), path_prefix="/info")
    with pytest.raises(requests.Timeout):
        requests.get(fake_elabftw.api_url + "/info", headers={"Authorization": WRITE_KEY}, timeout=0.2)
    assert call(fake_elabftw, "GET", "/info").status_code == 200


def test_delay_fault_still_answers_and_applies(fake_elabftw: FakeElabftw) -> None:
    fake_elabftw.inject(Fault.delay(0.2), method="POST")
    create(fake_elabftw, title="late")
    assert [e["title"] for e in fake_elabftw.experiments()] == ["late"]


def test_drop_fault_closes_without_applying(fake_elabftw: FakeElabftw) -> None:
    fake_elabftw.inject(Fault.drop(), method="POST")
    with pytest.raises(requests.ConnectionError):
        call(fake_elabftw, "POST", "/experiments", json={"title": "dropped"})
    assert fake_elabftw.experiments() == []
    assert fake_elabftw.requests_log[-1].status is None
    create(fake_elabftw, title="second try")


def test_lost_response_fault_applies_then_closes(fake_elabftw: FakeElabftw) -> None:
    fake_elabftw.inject(Fault.lose_response(), method="POST", path_prefix="/experiments")
    with pytest.raises(requests.ConnectionError):
        call(fake_elabftw, "POST", "/experiments", json={"title": "created anyway"})
    assert [e["title"] for e in fake_elabftw.experiments()] == ["created anyway"]
    assert fake_elabftw.requests_log[-1].status is None


def test_faults_match_method_path_segments_and_times(fake_elabftw: FakeElabftw) -> None:
    fake_elabftw.inject(Fault.status(503), path_prefix="/experiments", times=2)
    assert call(fake_elabftw, "GET", "/experiments_templates").status_code == 200
    assert call(fake_elabftw, "GET", "/info").status_code == 200
    assert fake_elabftw.pending_faults() == 2
    assert [call(fake_elabftw, "GET", "/experiments").status_code for _ in range(3)] == [503, 503, 200]
    with pytest.raises(ValueError):
        Fault.status(201)


def test_contract_hook_receives_every_exchange_without_the_key() -> None:
    seen: list[tuple[RequestInfo, ResponseInfo | None]] = []
    with FakeElabftw(contract_hook=lambda req, resp: seen.append((req, resp))) as fake:
        fake.inject(Fault.drop(), path_prefix="/users")
        call(fake, "GET", "/info")
        with pytest.raises(requests.ConnectionError):
            call(fake, "GET", "/users/me")
    (info_request, info_response), (drop_request, drop_response) = seen
    assert info_request.headers["Authorization"] == "<redacted>" and info_response is not None
    assert info_response.status == 200 and info_response.json()["elabftw_version"] == "5.6.12"
    assert drop_request.path == "/api/v2/users/me" and drop_response is None


# --- the contract validation itself -------------------------------------------------------------


def test_every_exchange_was_validated(fake_elabftw: FakeElabftw) -> None:
    exp_id = create(fake_elabftw, metadata=METADATA, tags=["x"])
    call(fake_elabftw, "PATCH", f"/experiments/{exp_id}", json={"metadatamerge": json.dumps(
        {"extra_fields": {"Power": {"value": "9"}}})})
    call(fake_elabftw, "GET", f"/experiments/{exp_id}")
    checker = checker_of(fake_elabftw)
    assert checker.exchanges == len(fake_elabftw.requests_log) == 3
    assert checker.violations == []


@pytest.mark.parametrize(("payload", "match"), [
    ({"title": "x", "content_type": 3}, "content_type"),
    ({"title": "x", "category": "one"}, "category"),
    ({"title": "x", "metadata": {"extra_fields": {"f": {"type": "text"}}}}, "no 'value'"),
    ({"title": "x", "metadata": {"extra_fields": {"f": {"type": "allow_multi_values", "value": ""}}}}, "type"),
    ({"title": "x", "metadata": {"extra_fields": {"f": {"type": "text", "value": ["a", "b"]}}}}, "allow_multi"),
])
def test_invalid_requests_are_flagged(fake_elabftw: FakeElabftw, payload: dict[str, Any], match: str) -> None:
    with checker_of(fake_elabftw).expect_violation(match) as captured:
        call(fake_elabftw, "POST", "/experiments", json=payload)
    assert all(v.side == "request" for v in captured)


def test_expect_violation_fails_when_nothing_is_wrong(fake_elabftw: FakeElabftw) -> None:
    with pytest.raises(AssertionError, match="expected a contract violation"):
        with checker_of(fake_elabftw).expect_violation():
            call(fake_elabftw, "GET", "/info")


def _entity_response(fake: FakeElabftw, exp_id: int, **changes: Any) -> tuple[RequestInfo, ResponseInfo]:
    entity = {**fake.experiment(exp_id), **changes}
    request = RequestInfo("GET", f"/api/v2/experiments/{exp_id}", "", {"Authorization": "k"}, b"", "")
    return request, ResponseInfo(200, {}, json.dumps(entity).encode(), "application/json")


@pytest.mark.parametrize(("changes", "match"), [
    ({"locked": "no"}, "locked"),
    ({"metadata": {"extra_fields": {}}}, "JSON string"),
    ({"metadata": json.dumps({"extra_fields": {"f": {"type": "text", "value": {"x": 1}}}})}, "value"),
    ({"tags": ["a"]}, "tags"),
])
def test_invalid_responses_are_flagged(fake_elabftw: FakeElabftw, elabftw_contract: ElabftwContract,
                                       changes: dict[str, Any], match: str) -> None:
    exp_id = fake_elabftw.add_experiment("direct", metadata=METADATA)
    assert elabftw_contract.response_problems(*_entity_response(fake_elabftw, exp_id)) == []
    problems = elabftw_contract.response_problems(*_entity_response(fake_elabftw, exp_id, **changes))
    assert any(match in p for p in problems), problems


def test_error_answers_must_follow_the_error_schema(elabftw_contract: ElabftwContract) -> None:
    request = RequestInfo("GET", "/api/v2/experiments/1", "", {"Authorization": "k"}, b"", "")
    good = ResponseInfo(404, {}, b'{"code": 404, "message": "m", "description": "d"}', "application/json")
    assert elabftw_contract.response_problems(request, good) == []
    as_string = ResponseInfo(404, {}, b'{"code": "404", "message": "m", "description": "d"}', "application/json")
    assert elabftw_contract.response_problems(request, as_string)
    assert elabftw_contract.response_problems(request, ResponseInfo(404, {}, b"oops", "text/html"))


@pytest.mark.parametrize(("field", "fragment"), [
    ({"type": "checkbox", "value": "yes"}, "checkbox"),
    ({"type": "select", "value": "c", "options": ["a", "b"]}, "options"),
    ({"type": "number", "value": "ten"}, "numeric"),
    ({"type": "items", "value": "Laser"}, "target id"),
    ({"type": "number", "value": "1", "units": ["mW"], "unit": "W"}, "units"),
    ({"type": "text", "value": "", "group_id": 9}, "group_id"),
    ({"type": "text", "value": "", "required": "yes"}, "required"),
])
def test_extra_fields_rules(field: dict[str, Any], fragment: str) -> None:
    metadata = {"elabftw": {"extra_fields_groups": [{"id": 1, "name": "G"}]}, "extra_fields": {"f": field}}
    assert any(fragment in p for p in extra_fields_problems(metadata))
    assert extra_fields_problems(METADATA) == []
    assert extra_fields_problems({"extra_fields": {"f": {"value": "1"}}}, partial=True) == []
