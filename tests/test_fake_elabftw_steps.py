"""The fake elabFTW's steps API and body purifier, as src/Models/Steps.php and Filter::body do them."""
from __future__ import annotations

import pytest
import requests

from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.config import ElabftwSettings, Secret
from metafold_widgets.testing.fake_elabftw import WRITE_KEY
from metafold_widgets.testing.fake_elabftw.purifier import MAX_BODY_SIZE, purify_body
from metafold_widgets.testing.fake_elabftw.releases import EMULATED_RELEASES, Release
from metafold_widgets.testing.fake_elabftw.wire import ApiError

pytestmark = pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")


def _client(fake):
    return ElabftwClient(ElabftwSettings(fake.url, Secret(WRITE_KEY)), sleep=lambda s: None)


def _call(fake, method, path, body=None):
    return requests.request(method, fake.api_url + path, json=body, timeout=10,
                            headers={"Authorization": WRITE_KEY})


@pytest.mark.parametrize("version", EMULATED_RELEASES)
def test_steps_are_added_listed_and_finish_toggles(fake_elabftw_factory, version):
    fake = fake_elabftw_factory(version=version)
    with _client(fake) as client:
        exp = fake.add_experiment("Run")
        first = client.add_step(exp, "  Fix the cells\nfor 10 min  ")
        second = client.add_step(exp, "x" * 300)
        steps = client.steps(exp)
        assert [(s["id"], s["body"], s["ordering"], s["finished"]) for s in steps] == [
            (first, "Fix the cells for 10 min", 1, 0), (second, "x" * 255, 2, 0)]
        assert ("is_immutable" in steps[0]) == Release.of(version).at_least("5.4.0")
        assert client.finish_step(exp, first)["finished"] == 1
        assert fake.experiment(exp)["next_step"] == "x" * 255
        assert client.finish_step(exp, first)["finished"] == 0  # "finish" toggles
        assert fake.experiment(exp)["steps"][0]["finished"] == 0


@pytest.mark.parametrize("version", ["5.2.8", "5.6.12"])
def test_step_updates_and_immutability(fake_elabftw_factory, version):
    fake = fake_elabftw_factory(version=version, contract=False)
    exp = fake.add_experiment("Run")
    location = _call(fake, "POST", f"/experiments/{exp}/steps", {"body": "Stain"}).headers["Location"]
    step = int(location.rsplit("/", 1)[-1])
    assert _call(fake, "PATCH", f"/experiments/{exp}/steps/{step}", {"body": "Stain | twice"}).json()["body"] \
        == "Stain  twice"
    refused = _call(fake, "PATCH", f"/experiments/{exp}/steps/{step}", {"is_immutable": 1})
    assert refused.status_code == 400
    expected = "immutability parameter" if Release.of(version).at_least("5.4.0") else "Incorrect parameter"
    assert expected in refused.text
    assert _call(fake, "PATCH", f"/experiments/{exp}/steps/{step}", {"action": "frobnicate"}).status_code == 400
    assert _call(fake, "DELETE", f"/experiments/{exp}/steps/{step}").status_code == 204
    assert _call(fake, "GET", f"/experiments/{exp}/steps/{step}").status_code == 404


def test_a_template_s_steps_are_copied_as_new_unfinished_rows(fake_elabftw):
    with _client(fake_elabftw) as client:
        template = fake_elabftw.add_template("With a step")
        exp_id = int(_call(fake_elabftw, "POST", "/experiments", {"template": template}).headers["Location"]
                     .rsplit("/", 1)[-1])
        steps = client.steps(exp_id)
        assert [s["body"] for s in steps] == ["Prepare the sample"] and steps[0]["item_id"] == exp_id


def test_a_read_only_or_other_user_cannot_add_steps(fake_elabftw):
    exp = fake_elabftw.add_experiment("Not mine", userid=2)
    answer = _call(fake_elabftw, "POST", f"/experiments/{exp}/steps", {"body": "x"})
    assert answer.status_code == 403 and fake_elabftw.experiment(exp)["steps"] == []


@pytest.mark.parametrize("version", EMULATED_RELEASES)
def test_the_body_is_purified_on_create_and_update(fake_elabftw_factory, version):
    fake = fake_elabftw_factory(version=version)
    with _client(fake) as client:
        exp = fake.add_experiment("Run")
        client.update_experiment(exp, body=(
            '<p class="x" data-id="1" onclick="a()">Hi <!-- note --><script>alert(1)</script><b>b</b></p>'
            '<a href="javascript:alert(1)">bad</a> <a href="https://example.org">ok</a> '
            '<a href="#metafold-entry-ab">anchor</a><font>kept text</font><p style="color:red;position:fixed">s'))
        body = fake.experiment(exp)["body"]
    assert body == ('<p>Hi <b>b</b></p><a>bad</a> <a href="https://example.org" target="_blank" '
                    'rel="noreferrer noopener">ok</a> <a href="#metafold-entry-ab">anchor</a>kept text'
                    '<p style="color:red;">s</p>')


def test_a_body_too_big_is_refused():
    with pytest.raises(ApiError, match="Content is too big"):
        purify_body(Release.of("5.6.12"), "a" * (MAX_BODY_SIZE + 1))
    assert purify_body(Release.of("6.0.0-alpha4"), "<details open>x</details>") == '<details open="open">x</details>'
