"""The small fixes: form options arriving during the build, the result panel's outcome text,
the user in every logged event, and the one-line plain-http warning."""
from __future__ import annotations

import getpass
import html
import json
import os
import subprocess
import sys
import warnings
from concurrent.futures import Future
from typing import Any, Callable

import ipywidgets as widgets
import pytest
import yaml

from metafold_widgets import OptionsProviders, create_project, load_template
from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.config import ElabftwSettings, Secret, normalize_elabftw_url
from metafold_widgets.core.entries import KINDS
from metafold_widgets.core.plan import plan_project
from metafold_widgets.core.record import load_record, log_event, record_integration
from metafold_widgets.core.users import USER_VARIABLES, current_user
from metafold_widgets.errors import InsecureConnectionWarning
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_elabftw import WRITE_KEY
from metafold_widgets.widgets import CreateProjectApp, TemplateForm
from metafold_widgets.widgets import form as form_module
from metafold_widgets.widgets.entries import EntryPanel
from metafold_widgets.workflows.audit import audit_summary, audit_table, project_events
from metafold_widgets.workflows.create import CreateResult, StepOutcome, create_project_everywhere
from metafold_widgets.workflows.entries import publish_entries


class _AnswerAtOnce:
    """An executor whose futures are done before anyone can add a callback (a fast server)."""

    def submit(self, function: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        future.set_result(function(*args))
        return future


# --- options that arrive while the form is still being built ------------------------------


def test_options_arriving_during_the_build_do_not_break_the_form(monkeypatch, caplog):
    """A provider that answers before the rest of the form exists (the demo's in-process servers):
    no KeyError for a section not built yet, and the options are used."""
    monkeypatch.setattr(form_module, "_options_pool", _AnswerAtOnce())
    providers = OptionsProviders()
    providers.register("omero_groups_api", lambda: ["Imaging Lab", "Other Lab"])
    providers.register("elabftw_categories_api", lambda: ["Microscopy"])
    form = TemplateForm(load_template("multi-modal-imaging"), value={"omero_group": "Other Lab"},
                        providers=providers)
    dropdown = form.inputs["omero_group"].widget
    assert isinstance(dropdown, widgets.Dropdown) and ("Other Lab", "Other Lab") in dropdown.options
    assert form.value["omero_group"] == "Other Lab"
    assert "Loading" not in form.messages["omero_group"].value
    assert set(form.rows) == {f.key for f in form.template.fields}
    # a failing done-callback is only logged by concurrent.futures: that log must stay empty
    assert not [r for r in caplog.records if r.name == "concurrent.futures"], caplog.text


# --- the create app's result panel --------------------------------------------------------


def _panel(tmp_path, *outcomes: StepOutcome) -> str:
    app = CreateProjectApp(Session(projects_dir=tmp_path), template="folder-only")
    plan = plan_project(app.form.template, {"project_name": "Panel", "owner": "Ada"}, tmp_path)
    return app._result_html(CreateResult(tmp_path / "Panel", plan, {o.system: o for o in outcomes}))


def test_result_panel_says_a_dataset_without_a_web_address_was_created(tmp_path):
    """OMERO_WEB_URL unset: the dataset was created, so the panel says so with its id."""
    text = _panel(tmp_path, StepOutcome("omero", "done", 12, None))
    assert "OMERO: created, id 12" in text and "OMERO_WEB_URL" in text
    assert "not used" not in text and "()" not in text


def test_result_panel_links_a_created_record_and_never_shows_empty_parentheses(tmp_path):
    url = "https://elab.example.org/experiments.php?mode=view&id=7"
    text = _panel(tmp_path, StepOutcome("elabftw", "done", 7, url), StepOutcome("omero", "off"))
    assert "elabFTW: created, id <a href='https://elab.example.org/experiments.php?mode=view&amp;id=7'" in text
    assert "OMERO: not used</li>" in text and "()" not in text
    text = _panel(tmp_path, StepOutcome("omero", "off", message="turned off in the form"),
                  StepOutcome("elabftw", "pending"))
    assert "OMERO: not used (turned off in the form)" in text
    assert "elabFTW: not created yet; once it is connected" in text and "()" not in text


# --- the plain-http warning -----------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://localhost:3148", "http://127.0.0.1:3148", "http://127.0.1.1",
                                 "http://[::1]:3148/api/v2", "http://elab.localhost"])
def test_plain_http_to_this_machine_does_not_warn(url):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert normalize_elabftw_url(url) == url.removesuffix("/api/v2")


@pytest.mark.parametrize("url", ["http://elab.example.org", "http://10.0.0.5:3148", "http://localhost.example.org"])
def test_plain_http_elsewhere_warns(url):
    with pytest.warns(InsecureConnectionWarning, match="plain http"):
        normalize_elabftw_url(url)


def test_the_warning_is_one_line_without_python_source():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        normalize_elabftw_url("http://elab.example.org")
    (warning,) = caught
    text = warnings.formatwarning(warning.message, warning.category, warning.filename, warning.lineno)
    assert text == ("warning: elabFTW address http://elab.example.org uses plain http: the API key travels "
                    "unencrypted. Use https except for a server on this machine.\n")


def test_the_command_line_shows_the_warning_as_one_clean_line(tmp_path):
    env = {**os.environ, "METAFOLD_CONFIG": str(tmp_path / "none.yaml"), "ELABFTW_URL": "http://elab.example.org",
           "ELABFTW_API_KEY": "not-a-real-key", "METAFOLD_PROJECTS_DIR": str(tmp_path), "PYTHONWARNINGS": "default"}
    env.pop("OMERO_HOST", None)
    done = subprocess.run([sys.executable, "-m", "metafold_widgets", "config", "show"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == ["warning: elabFTW address http://elab.example.org uses plain http: the API "
                                        "key travels unencrypted. Use https except for a server on this machine."]
    assert "not-a-real-key" not in done.stdout + done.stderr


# --- the user of every logged event ---------------------------------------------------------


@pytest.fixture
def logged_project(tmp_path, monkeypatch):
    """A project created by ``ada`` (the record's created_by), no user variables set."""
    for variable in USER_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(getpass, "getuser", lambda: "labaccount")
    return create_project(load_template("folder-only"), {"project_name": "Audited", "owner": "Ada"},
                          tmp_path, created_by="ada")


def test_events_name_the_jupyterhub_user_not_the_shared_account(logged_project, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "grace")
    record_integration(logged_project, "elabftw", action="create", state="failed", error="HTTP 500")
    log_event(logged_project, system="local", action="sync", result="done")
    events = project_events(logged_project)
    assert [e["user"] for e in events] == ["ada", "grace", "grace"]
    raw = [json.loads(line) for line in
           load_record(logged_project).log_path(logged_project).read_text(encoding="utf-8").splitlines()]
    assert [e.get("user") for e in raw[1:]] == ["grace", "grace"]  # written to the log itself
    table = audit_table(logged_project)
    assert list(table.columns[:3]) == ["time", "user", "system"] and list(table["user"]) == ["ada", "grace", "grace"]
    assert "3 logged events by ada, grace" in audit_summary(logged_project)


def test_event_user_precedence_and_cleaning(logged_project, monkeypatch):
    log_event(logged_project, system="local", action="a")          # the OS login
    monkeypatch.setenv("JUPYTERHUB_USER", "grace")
    monkeypatch.setenv("METAFOLD_USER", " batch\nrunner ")          # explicit beats the hub, cleaned
    log_event(logged_project, system="local", action="b")
    log_event(logged_project, system="local", action="c", user="https://ada:hunter22@example.org")
    users = [e["user"] for e in project_events(logged_project)[1:]]
    assert users == ["labaccount", "batch runner", "https://ada:********@example.org"]
    monkeypatch.delenv("METAFOLD_USER")
    monkeypatch.delenv("JUPYTERHUB_USER")

    def no_login() -> str:
        raise KeyError("uid not found")

    monkeypatch.setattr(getpass, "getuser", no_login)
    assert current_user() == "unknown"
    assert current_user({"JUPYTERHUB_USER": "x" * 500}) == "x" * 128


# --- the "New entry" panel ---------------------------------------------------------------------


@pytest.fixture
def imaging_project(tmp_path, example_answers_path):
    """A multi-modal imaging project, created locally (no server)."""
    answers = yaml.safe_load(example_answers_path.read_text())
    return create_project(load_template("multi-modal-imaging"), answers, tmp_path)


def test_entry_panel_creates_the_chosen_entry_and_shows_its_path(imaging_project):
    panel = EntryPanel(imaging_project)
    assert [value for _, value in panel.kind.options] == list(KINDS)
    panel.kind.value = "protocol"
    panel.entry_title.value = "Heat stress protocol"
    panel.create_button.click()
    created = [p for p in imaging_project.rglob("*.md") if p.name != "README.md"]
    assert len(created) == 1 and "Heat stress protocol" in created[0].read_text(encoding="utf-8")
    shown = created[0].relative_to(imaging_project).as_posix()
    assert f"<code class='metafold-entry-path'>{shown}</code>" in panel.result.value
    assert panel.publish_button.disabled  # no elabFTW configured: nothing to publish to


def test_entry_panel_reports_a_mistake_instead_of_raising(imaging_project):
    panel = EntryPanel(imaging_project.parent / "not-a-project")  # no record there
    panel.create_button.click()
    assert "metafold-error" in panel.result.value and "not-a-project" in panel.result.value


def test_create_app_offers_a_new_entry_once_the_project_exists(tmp_path, example_answers_path):
    app = CreateProjectApp(Session(projects_dir=tmp_path), template="multi-modal-imaging")
    assert app.entries.children == ()
    app.form.value = yaml.safe_load(example_answers_path.read_text())
    app.create_button.click()
    (panel,) = app.entries.children
    assert isinstance(panel, EntryPanel) and panel.project == tmp_path / app.name.placeholder
    panel.kind.value = "imaging-session"
    panel.create_button.click()
    assert "metafold-entry-path" in panel.result.value


@pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")
def test_entry_panel_publishes_to_elabftw_and_shows_the_summary(tmp_path, fake_elabftw, example_answers_path):
    fake_elabftw.add_category("Microscopy")
    client = ElabftwClient(ElabftwSettings(fake_elabftw.url, Secret(WRITE_KEY)), sleep=lambda s: None)
    session = Session(projects_dir=tmp_path, elabftw=client)
    answers = {**yaml.safe_load(example_answers_path.read_text()), "enable_omero": False}
    result = create_project_everywhere(session, load_template("multi-modal-imaging"), answers, tmp_path)
    assert result.outcomes["elabftw"].state == "done"
    panel = EntryPanel(result.path, session)
    assert not panel.publish_button.disabled
    panel.kind.value = "protocol"
    panel.entry_title.value = "Heat stress protocol"
    panel.create_button.click()
    panel.publish_button.click()
    assert "metafold-error" not in panel.result.value
    assert "add section 01_project_management/protocols/" in panel.result.value
    assert "Heat stress protocol" in fake_elabftw.experiment(result.outcomes["elabftw"].id)["body"]
    panel.publish_button.click()  # nothing changed: the summary says so
    assert html.unescape(panel.result.value).count("entries already published (1 file)") == 1
    assert not publish_entries(session, result.path, dry_run=True).changed
    session.close()
