"""The elabFTW client against the fake server (real HTTP on loopback, every exchange checked
against the official API description)."""
from __future__ import annotations

import json
import warnings

import pytest

from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.config import (
    ConfigError,
    ElabftwSettings,
    InsecureConnectionWarning,
    Secret,
    elabftw_settings,
    normalize_elabftw_url,
    parse_verify,
    read_config_file,
)
from metafold_widgets.errors import ElabftwError
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_elabftw import EMULATED_RELEASES, OTHER_TEAM_KEY, READ_KEY, WRITE_KEY, Fault

pytestmark = pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")

METADATA = {"extra_fields": {
    "Laser power": {"type": "number", "value": "2", "units": ["%", "mW"], "unit": "%", "position": 1, "group_id": 1},
    "Sample": {"type": "items", "value": "", "position": 2},
}, "elabftw": {"extra_fields_groups": [{"id": 1, "name": "Microscope"}]}}



@pytest.fixture(params=EMULATED_RELEASES)
def fake_elabftw(request, fake_elabftw_factory):
    """Every test of this module runs against each emulated elabFTW release."""
    return fake_elabftw_factory(version=request.param)

def client_for(fake, key: str = WRITE_KEY, **kwargs) -> ElabftwClient:
    sleeps: list[float] = []
    settings = ElabftwSettings(fake.url, Secret(key), True)
    client = ElabftwClient(settings, sleep=sleeps.append, timeout=kwargs.pop("timeout", (2.0, 2.0)), **kwargs)
    client.sleeps = sleeps  # type: ignore[attr-defined]
    return client


def api_calls(fake, method: str | None = None, prefix: str = "") -> list:
    return [r for r in fake.requests_log if (method is None or r.method == method) and r.path.startswith(prefix)]


# --- settings and secrets ----------------------------------------------------------------


@pytest.mark.parametrize("given", ["https://elab.example.org", "https://elab.example.org/",
                                   "https://elab.example.org/api/v2", "https://elab.example.org/api/v2/"])
def test_address_is_the_browser_address(given):
    assert normalize_elabftw_url(given) == "https://elab.example.org"


def test_plain_http_works_with_a_warning():
    with pytest.warns(InsecureConnectionWarning, match="plain http"):  # not this machine: see test_fixes_15
        assert normalize_elabftw_url("http://elab.example.org:3148") == "http://elab.example.org:3148"


def test_bad_address_is_a_clear_error():
    with pytest.raises(ConfigError, match="must look like https://"):
        normalize_elabftw_url("elab.example.org")


def test_verification_on_by_default_off_warns_bundle_checked(tmp_path):
    assert parse_verify(None) is True and parse_verify("true") is True
    with pytest.warns(InsecureConnectionWarning, match="verification is OFF"):
        assert parse_verify("false") is False
    bundle = tmp_path / "ca.pem"
    bundle.write_text("cert")
    assert parse_verify(str(bundle)) == str(bundle)
    with pytest.raises(ConfigError, match="does not exist"):
        parse_verify(str(tmp_path / "missing.pem"))


def test_settings_from_environment_and_precedence():
    env = {"ELABFTW_URL": "https://elab.example.org/api/v2", "ELABFTW_API_KEY": "3-secretkey", "ELABFTW_VERIFY": "1"}
    settings = elabftw_settings(environ=env, config={})
    assert settings.url == "https://elab.example.org" and settings.api_url.endswith("/api/v2")
    assert settings.api_key.reveal() == "3-secretkey" and settings.verify is True
    chosen = elabftw_settings(url="https://other.example.org", environ=env, config={})
    assert chosen.url == "https://other.example.org"
    assert elabftw_settings(environ={}, config={}) is None
    with pytest.raises(ConfigError, match="ELABFTW_API_KEY"):
        elabftw_settings(environ={"ELABFTW_URL": "https://elab.example.org"}, config={})


def test_config_file_may_not_hold_secrets(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("elabftw:\n  url: https://elab.example.org\n")
    assert read_config_file(path)["elabftw"]["url"] == "https://elab.example.org"
    path.write_text("elabftw:\n  url: https://elab.example.org\n  api_key: 1-abc\n")
    with pytest.raises(ConfigError, match="config files hold no secrets"):
        read_config_file(path)


def test_secrets_never_show(fake_elabftw):
    secret = Secret("1-very-secret-key")
    assert "very-secret" not in repr(secret) + str(secret) + f"{secret}"
    settings = ElabftwSettings(fake_elabftw.url, secret)
    client = ElabftwClient(settings)
    session = Session(elabftw=client)
    shown = repr(settings) + repr(client) + repr(session) + str(session.integration_status())
    assert "very-secret" not in shown
    with pytest.raises(ElabftwError) as failure:
        client.test_connection()
    assert "very-secret" not in str(failure.value)
    with pytest.raises(TypeError):
        import pickle
        pickle.dumps(secret)


# --- reading ---------------------------------------------------------------------------


def test_connection_test_and_info_read_once(fake_elabftw):
    client = client_for(fake_elabftw)
    assert client.test_connection()["userid"] == 1
    assert client.info().version == fake_elabftw.version
    assert client.info().version_int == fake_elabftw.release.number
    client.info()
    assert len(api_calls(fake_elabftw, "GET", "/api/v2/info")) == 1


def test_lists_page_through_everything(fake_elabftw):
    for number in range(130):
        fake_elabftw.add_category(f"Category {number:03d}")
    client = client_for(fake_elabftw)
    titles = [c["title"] for c in client.categories()]
    assert len(titles) == 133 and "Category 129" in titles and "Imaging" in titles
    assert len(api_calls(fake_elabftw, "GET", "/api/v2/teams/current/experiments_categories")) == 2
    assert [s["title"] for s in client.statuses()]
    assert [t["title"] for t in client.templates()] == ["Multi-modal imaging session"]
    assert {t["name"] for t in client.teams()} >= {"Alpha", "Beta"}
    assert [t["title"] for t in client.items_types()]
    assert isinstance(client.extra_field_keys(), list)


def test_web_url(fake_elabftw):
    assert client_for(fake_elabftw).web_url(7) == f"{fake_elabftw.url}/experiments.php?mode=view&id=7"


# --- creating ----------------------------------------------------------------------------


def test_create_in_one_post_with_tags_and_metadata(fake_elabftw):
    client = client_for(fake_elabftw)
    client.info()
    before = len(fake_elabftw.requests_log)
    new_id = client.create_experiment("Heat <stress>", marker="metafoldprojectu1", body="<p>a &amp; b</p>",
                                      category=1, tags=["heat", "imaging", "heat"], metadata=METADATA)
    old_release = not fake_elabftw.release.at_least("5.4.0")  # 5.2-5.3: content type set with a PATCH
    assert len(fake_elabftw.requests_log) - before == 1 + old_release
    experiment = client.get_experiment(new_id)
    assert experiment["title"] == "Heat <stress>"
    assert "metafoldprojectu1" in experiment["body"]
    assert sorted(t for t in str(experiment["tags"]).split("|")) == ["heat", "imaging"]
    assert experiment["metadata"]["extra_fields"]["Laser power"]["value"] == "2"
    assert experiment["metadata"]["elabftw"]["extra_fields_groups"] == [{"id": 1, "name": "Microscope"}]


def test_requests_per_experiment_with_category_name_is_at_most_three(fake_elabftw):
    client = client_for(fake_elabftw)
    client.create_experiment("T", marker="m1", category="Imaging", tags=["a", "b"], metadata=METADATA)
    assert len(fake_elabftw.requests_log) <= 3 + (not fake_elabftw.release.at_least("5.4.0"))


def test_unknown_category_names_the_choices(fake_elabftw):
    client = client_for(fake_elabftw)
    with pytest.raises(ElabftwError, match="no experiment category called 'Nope'.*imaging"):
        client.create_experiment("T", marker="m", category="Nope")
    assert fake_elabftw.experiments() == []


def test_unknown_category_id_quotes_the_server(fake_elabftw):
    with pytest.raises(ElabftwError, match="HTTP 400") as failure:
        client_for(fake_elabftw).create_experiment("T", marker="m", category=999)
    assert failure.value.server_message


def test_bad_key_read_only_key_and_locked_entry_are_clear_errors(fake_elabftw):
    with pytest.raises(ElabftwError, match="HTTP 401.*check the API key"):
        client_for(fake_elabftw, key="1-wrong").test_connection()
    with pytest.raises(ElabftwError, match="HTTP 400.*read-only key.*no experiment was created"):
        client_for(fake_elabftw, key=READ_KEY).create_experiment("T", marker="m")
    client = client_for(fake_elabftw)
    new_id = client.create_experiment("T", marker="mlock")
    fake_elabftw.lock_experiment(new_id)
    with pytest.raises(ElabftwError, match="HTTP 403.*locked"):
        client.update_experiment(new_id, title="changed")


def test_create_is_idempotent_when_checking_existing(fake_elabftw):
    client = client_for(fake_elabftw)
    first = client.create_experiment("T", marker="metafoldprojectsame")
    again = client.create_experiment("T", marker="metafoldprojectsame", check_existing=True)
    assert first == again and len(fake_elabftw.experiments()) == 1


# --- updating, tags, links, uploads ------------------------------------------------------


def test_update_and_merge_values_keep_field_definitions(fake_elabftw):
    client = client_for(fake_elabftw)
    new_id = client.create_experiment("T", marker="mup", metadata=METADATA)
    client.update_experiment(new_id, title="New title", body="<p>new</p>")
    merged = client.merge_metadata_values(new_id, {"Laser power": "5"})
    field = merged["metadata"]["extra_fields"]["Laser power"]
    assert field["value"] == "5" and field["units"] == ["%", "mW"]
    merged_on_server = any(r.body and "metadatamerge" in r.body for r in api_calls(fake_elabftw, "PATCH"))
    assert merged_on_server == fake_elabftw.release.at_least("5.6.0")


def test_merge_on_a_server_without_metadatamerge(fake_elabftw_factory):
    fake = fake_elabftw_factory(version="5.5.0")
    client = client_for(fake)
    new_id = client.create_experiment("T", marker="m55", metadata=METADATA)
    merged = client.merge_metadata_values(new_id, {"Laser power": "7"})
    assert merged["metadata"]["extra_fields"]["Laser power"] == {**METADATA["extra_fields"]["Laser power"],
                                                                 "value": "7"}
    assert not any(r.body and "metadatamerge" in r.body for r in api_calls(fake, "PATCH"))


@pytest.mark.parametrize("version, key", [("5.6.12", "hide_main_text"), ("5.3.0", "metadata")])
def test_hide_main_text_uses_the_key_the_version_knows(fake_elabftw_factory, version, key):
    fake = fake_elabftw_factory(version=version)
    client = client_for(fake)
    new_id = client.create_experiment("T", marker="mh", metadata=METADATA)
    client.set_hide_main_text(new_id, True)
    last_patch = api_calls(fake, "PATCH")[-1]
    assert key in last_patch.body
    if key == "metadata":
        assert json.loads(last_patch.body["metadata"])["elabftw"]["display_main_text"] is False


def test_tags_links_and_uploads(fake_elabftw, tmp_path):
    client = client_for(fake_elabftw)
    new_id = client.create_experiment("T", marker="mlinks", tags=["a"])
    client.add_tags(new_id, ["a", "b"])
    assert len(api_calls(fake_elabftw, "POST", f"/api/v2/experiments/{new_id}/tags")) == 1
    item_id = fake_elabftw.add_item("Antibody A")
    metadata = {"extra_fields": {"Sample": {"type": "items", "value": str(item_id)},
                                 "Related": {"type": "experiments", "value": ""}}}
    assert client.link_metadata_targets(new_id, metadata) == [("items", item_id)]
    other = client.create_experiment("Other", marker="mother")
    client.link(new_id, "experiments", other)
    experiment = client.get_experiment(new_id)
    assert [link["entityid"] for link in experiment["items_links"]] == [item_id]
    assert [link["entityid"] for link in experiment["experiments_links"]] == [other]
    protocol = tmp_path / "protocol.txt"
    protocol.write_text("step 1")
    upload_id = client.upload(new_id, protocol, comment="the protocol")
    uploads = client.uploads(new_id)
    assert [(u["id"], u["real_name"], u["comment"]) for u in uploads] == [(upload_id, "protocol.txt", "the protocol")]


# --- faults ------------------------------------------------------------------------------


def test_server_errors_on_reads_are_retried(fake_elabftw):
    client = client_for(fake_elabftw)
    fake_elabftw.inject(Fault.status(500), method="GET", path_prefix="/api/v2/users/me", times=2)
    assert client.test_connection()["userid"] == 1
    assert client.sleeps == [0.5, 1.0]


def test_rate_limit_honours_retry_after_even_for_post(fake_elabftw):
    client = client_for(fake_elabftw)
    fake_elabftw.inject(Fault.rate_limited(retry_after=3), method="POST", path_prefix="/api/v2/experiments")
    client.create_experiment("T", marker="m429")
    assert client.sleeps == [3.0] and len(fake_elabftw.experiments()) == 1


def test_dropped_connection_and_timeout_on_reads_are_retried(fake_elabftw):
    client = client_for(fake_elabftw, timeout=(2.0, 0.75))
    fake_elabftw.inject(Fault.drop(), method="GET", path_prefix="/api/v2/users/me")
    fake_elabftw.inject(Fault.delay(1.5), method="GET", path_prefix="/api/v2/info")
    assert client.test_connection()["userid"] == 1
    assert client.info().version == fake_elabftw.version


def test_lost_post_response_creates_no_duplicate(fake_elabftw):
    client = client_for(fake_elabftw)
    fake_elabftw.inject(Fault.lose_response(), method="POST", path_prefix="/api/v2/experiments")
    new_id = client.create_experiment("Once", marker="metafoldprojectlost")
    assert [e["id"] for e in fake_elabftw.experiments()] == [new_id]


def test_dropped_post_is_sent_again_once(fake_elabftw):
    client = client_for(fake_elabftw)
    fake_elabftw.inject(Fault.drop(), method="POST", path_prefix="/api/v2/experiments")
    new_id = client.create_experiment("Once", marker="metafoldprojectdropped")
    assert [e["id"] for e in fake_elabftw.experiments()] == [new_id]


def test_post_timeout_is_never_sent_again_and_resume_finds_it(fake_elabftw):
    client = client_for(fake_elabftw, timeout=(2.0, 0.75))
    fake_elabftw.inject(Fault.delay(1.5), method="POST", path_prefix="/api/v2/experiments")
    with pytest.raises(ElabftwError, match="may still be doing it.*resume"):
        client.create_experiment("Slow", marker="metafoldprojectslow")
    assert fake_elabftw.wait_idle()
    found = client.create_experiment("Slow", marker="metafoldprojectslow", check_existing=True)
    assert [e["id"] for e in fake_elabftw.experiments()] == [found]


def test_persistent_server_errors_on_create_are_no_false_success(fake_elabftw):
    client = client_for(fake_elabftw, retries=2)
    fake_elabftw.inject(Fault.status(500), method="POST", path_prefix="/api/v2/experiments", times=10)
    with pytest.raises(ElabftwError, match="did not confirm creating the experiment"):
        client.create_experiment("Never", marker="metafoldprojectnever")
    assert fake_elabftw.experiments() == []


def test_unreachable_server_is_a_clear_error():
    client = ElabftwClient(ElabftwSettings("http://127.0.0.1:9", Secret("k")), retries=1, sleep=lambda s: None,
                           timeout=(0.5, 0.5))
    with pytest.raises(ElabftwError, match="did not answer"):
        client.test_connection()


# --- session ---------------------------------------------------------------------------


def test_session_connects_and_offers_options(fake_elabftw):
    session = Session()
    with pytest.raises(ElabftwError):
        session.connect_elabftw(fake_elabftw.url, "1-wrong")
    assert not session.is_configured("elabftw")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        session.connect_elabftw(fake_elabftw.url + "/api/v2", WRITE_KEY)
    assert f"connected to elabFTW {fake_elabftw.version}" in session.test_connection("elabftw")
    categories = [o.value for o in session.options.options("elabftw_categories_api")]
    assert sorted(categories) == ["Imaging", "Simulation", "Spectroscopy"]  # the caller's team only
    assert [o.label for o in session.options.options("elabftw_templates_api")] == ["Multi-modal imaging session"]
    session.close()


def test_session_from_environment(fake_elabftw):
    session = Session.from_environment({"ELABFTW_URL": fake_elabftw.url, "ELABFTW_API_KEY": OTHER_TEAM_KEY},
                                       config={})
    assert session.is_configured("elabftw")
    assert session.elabftw.test_connection()["userid"] == 3
