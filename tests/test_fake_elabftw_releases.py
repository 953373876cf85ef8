"""The test server differs between elabFTW releases as the releases' source does
(metafold_widgets/testing/fake_elabftw/releases.py names the file and tag of each behaviour)."""
from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from elabftw_fixtures import FakeFactory, checker_of

from metafold_widgets.testing.fake_elabftw import READ_KEY, WRITE_KEY, FakeElabftw

UUID = "0f9a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b"


def call(fake: FakeElabftw, method: str, path: str, key: str | None = WRITE_KEY, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": key} if key is not None else {}
    return requests.request(method, fake.api_url + path, headers=headers, timeout=10, **kwargs)


def create(fake: FakeElabftw, **fields: Any) -> int:
    response = call(fake, "POST", "/experiments", json=fields)
    assert response.status_code == 201, response.text
    return int(response.headers["Location"].rsplit("/", 1)[1])


@pytest.mark.parametrize(("version", "body_listed"), [("5.2.8", True), ("5.4.6", True), ("5.6.6", False),
                                                      ("5.6.12", False), ("6.0.0-alpha4", False)])
def test_list_columns(fake_elabftw_factory: FakeFactory, version: str, body_listed: bool) -> None:
    fake = fake_elabftw_factory(version=version)
    create(fake, title="Run", body="<p>b</p>", tags=["t"])
    [row] = call(fake, "GET", "/experiments").json()
    assert ("body" in row, "metadata" in row) == (body_listed, body_listed)
    assert row["tags"] == "t"  # tags are in list rows on every release
    if fake.release.full_param:
        assert "body" in call(fake, "GET", "/experiments", params={"full": 1}).json()[0]


@pytest.mark.parametrize("version", ["5.2.8", "5.6.6"])
def test_unquoted_colon_is_a_grammar_error_before_5_6_7(fake_elabftw_factory: FakeFactory, version: str) -> None:
    fake = fake_elabftw_factory(version=version)
    create(fake, title="Run", body=f"<p>metafold-project:{UUID}</p>")
    response = call(fake, "GET", "/experiments", params={"q": f"metafold-project:{UUID}"})
    assert response.status_code == 400
    assert "Error with extended search" in json.dumps(response.json())
    quoted = call(fake, "GET", "/experiments", params={"q": f'"metafold-project:{UUID}"'}).json()
    assert len(quoted) == 1 and "body" in quoted[0]


def test_plain_query_is_fulltext_without_body_from_5_6_7(fake_elabftw_factory: FakeFactory) -> None:
    fake = fake_elabftw_factory(version="5.6.12")
    create(fake, title="Run", body=f"<p>metafold-project:{UUID}</p>")
    rows = call(fake, "GET", "/experiments", params={"q": f"metafold-project:{UUID}"}).json()
    assert len(rows) == 1 and "body" not in rows[0]  # found, but a client cannot confirm it from the row


@pytest.mark.parametrize(("version", "shape"), [("5.2.8", "phrase"), ("5.6.12", "detail")])
def test_error_shapes(fake_elabftw_factory: FakeFactory, version: str, shape: str) -> None:
    fake = fake_elabftw_factory(version=version)
    body = call(fake, "POST", "/experiments", READ_KEY, json={"title": "x"}).json()
    text = "You are using a read-only key to execute a write action."
    expected = {"code": 400, "message": "Bad Request", "description": text} if shape == "phrase" else \
        {"code": 400, "message": text, "description": ""}
    assert body == expected
    missing = call(fake, "GET", "/experiments/99").json()
    assert missing["code"] == 404


def test_missing_key_is_403_on_5_2(fake_elabftw_factory: FakeFactory) -> None:
    fake = fake_elabftw_factory(version="5.2.8", contract=False)
    assert call(fake, "GET", "/users/me", key=None).status_code == 403


@pytest.mark.parametrize(("version", "copied"), [("5.2.8", True), ("5.4.6", False)])
def test_category_pulls_the_template_with_its_id_on_5_2(fake_elabftw_factory: FakeFactory, version: str,
                                                        copied: bool) -> None:
    fake = fake_elabftw_factory(version=version)
    quirky = fake.experiment(create(fake, title="Run", category=1))
    assert bool(quirky["steps"]) == copied and bool(quirky["items_links"]) == copied
    plain = fake.experiment(create(fake, title="Run", category=1, template=-1))
    assert plain["steps"] == [] and plain["items_links"] == []


def test_content_type_on_post_is_ignored_before_5_4(fake_elabftw_factory: FakeFactory) -> None:
    old, new = fake_elabftw_factory(version="5.2.8"), fake_elabftw_factory(version="5.4.6")
    assert old.experiment(create(old, title="md", content_type=2))["content_type"] == 1
    assert new.experiment(create(new, title="md", content_type=2))["content_type"] == 2


def test_tags_a_team_forbids_leave_the_experiment(fake_elabftw: FakeElabftw) -> None:
    fake_elabftw.forbid_user_tags()
    fake_elabftw.add_tag("known")
    response = call(fake_elabftw, "POST", "/experiments", json={"title": "Run", "tags": ["known", "new", "later"]})
    assert response.status_code == 400 and "Users cannot create tags." in response.text
    [experiment] = fake_elabftw.experiments()
    assert experiment["tags"] == "known"  # inserted one by one, after the row


@pytest.mark.parametrize(("version", "archived_listed"), [("5.4.6", True), ("5.6.12", False)])
def test_other_teams_categories_from_5_4(fake_elabftw_factory: FakeFactory, version: str,
                                         archived_listed: bool) -> None:
    fake = fake_elabftw_factory(version=version)
    fake.add_category("Old", team=2, archived=True)
    rows = call(fake, "GET", "/teams/current/experiments_categories").json()
    others = [r["title"] for r in rows if not r["is_current_team"]]
    assert "Chemistry" in others and ("Old" in others) == archived_listed


MULTI = {"extra_fields": {"Channels": {"type": "select", "allow_multi_values": True,
                                       "options": ["A", "B"], "value": ["A"]},
                          "Mode": {"type": "select", "options": ["x", "y"], "value": "x"}}}


@pytest.mark.parametrize(("version", "channels", "mode_options"), [
    ("5.6.6", "Array", ["x", "y"]),
    ("5.6.12", "Array", ["x", "y", "z"]),
])
def test_metadatamerge_before_6_0(fake_elabftw_factory: FakeFactory, version: str, channels: Any,
                                  mode_options: list[str]) -> None:
    fake = fake_elabftw_factory(version=version)
    exp_id = create(fake, title="Run", metadata=MULTI)
    merge = {"extra_fields": {"Channels": {"value": ["A", "B"]}, "Mode": {"value": "z"}},
             "elabftw": {"extra_fields_groups": [{"id": 1, "name": "dropped"}]}}
    with checker_of(fake).expect_violation("options"):  # the server corrupts the field: the contract says so
        assert call(fake, "PATCH", f"/experiments/{exp_id}", json={"metadatamerge": json.dumps(merge)}).ok
    metadata = json.loads(fake.experiment(exp_id)["metadata"])
    assert metadata["extra_fields"]["Channels"]["value"] == channels
    assert metadata["extra_fields"]["Mode"]["options"] == mode_options
    assert "elabftw" not in metadata  # only extra_fields are merged


def test_metadatamerge_on_6_0_keeps_lists_and_guards_the_schema(fake_elabftw_factory: FakeFactory) -> None:
    fake = fake_elabftw_factory(version="6.0.0-alpha4")
    exp_id = create(fake, title="Run", metadata=MULTI)
    ok = {"extra_fields": {"Channels": {"value": ["A", "B"]}}}
    assert call(fake, "PATCH", f"/experiments/{exp_id}", json={"metadatamerge": json.dumps(ok)}).ok
    assert json.loads(fake.experiment(exp_id)["metadata"])["extra_fields"]["Channels"]["value"] == ["A", "B"]
    for field, message in ((("Mode", {"value": "z"}), "invalid option"),
                           (("Mode", {"type": "text", "value": "x"}), "incompatible type")):
        merge = {"extra_fields": dict([field])}
        response = call(fake, "PATCH", f"/experiments/{exp_id}", json={"metadatamerge": json.dumps(merge)})
        assert response.status_code == 400 and message in response.json()["message"]


def test_patch_with_action_update_is_an_invalid_target(fake_elabftw: FakeElabftw) -> None:
    exp_id = create(fake_elabftw, title="Before")
    response = call(fake_elabftw, "PATCH", f"/experiments/{exp_id}", json={"title": "After", "action": "update"})
    assert response.status_code == 400 and "Invalid update target." in response.text
    assert fake_elabftw.experiment(exp_id)["title"] == "After"  # the keys before it were applied


def test_content_type_must_be_exactly_json(fake_elabftw: FakeElabftw) -> None:
    response = requests.post(fake_elabftw.api_url + "/experiments", data=json.dumps({"title": "x"}), timeout=10,
                             headers={"Authorization": WRITE_KEY, "Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 400 and "Incorrect content-type header." in response.text
    assert fake_elabftw.experiments() == []


def test_development_build_reports_version_zero(fake_elabftw_factory: FakeFactory) -> None:
    fake = fake_elabftw_factory(version="6.0.0-alpha4", development_build=True)
    info = call(fake, "GET", "/info").json()
    assert (info["elabftw_version"], info["elabftw_version_int"]) == ("dev", 0)
