"""Kernel-side tests of the widgets: value round trip, conditions, validation, the Create button."""
from __future__ import annotations

import datetime as dt
import html
import json
import threading

import ipywidgets as widgets
import pytest
import yaml

from metafold_widgets import OptionsProviders, load_template
from metafold_widgets.session import Session
from metafold_widgets.widgets import CreateProjectApp, TemplateForm

EVERY_TYPE = """
id: every-type
name: Every Type
fields:
  title: {type: text, required: true, pattern: "^[A-Z]", placeholder: Start with a capital, help_text: The title}
  notes: {type: textarea}
  amount: {type: number, unit: mL, min: 0, max: 10}
  count: {type: integer, default: 3}
  ratio: {type: decimal, precision: 2}
  day: {type: date, default: today}
  clock: {type: time}
  moment: {type: datetime}
  colour: {type: dropdown, options: [red, green]}
  size: {type: radio, options: [S, M, L]}
  enabled: {type: checkbox, default: true}
  extra:
    type: text
    required: true
    condition: {field: enabled, equals: true}
  treatments: {type: checkbox_group, options: [A, B, C], min_selections: 1}
  channels: {type: multi_select, options: [DAPI, GFP]}
  contact: {type: email}
  link: {type: url}
  sample: {type: items}
  section:
    type: group
    label: A section
    fields:
      inside: {type: text}
"""


@pytest.fixture
def template():
    return load_template(EVERY_TYPE)


def test_every_field_type_gets_the_right_widget(template):
    form = TemplateForm(template)
    kinds = {key: type(field_input.widget) for key, field_input in form.inputs.items()}
    assert kinds["title"] is widgets.Text
    assert kinds["notes"] is widgets.Textarea
    assert kinds["amount"] is widgets.Text  # blank stays blank, out of range is reported
    assert kinds["day"] is widgets.DatePicker
    assert kinds["clock"] is widgets.TimePicker
    assert kinds["moment"] is widgets.NaiveDatetimePicker
    assert kinds["colour"] is widgets.Dropdown
    assert kinds["size"] is widgets.RadioButtons
    assert kinds["enabled"] is widgets.Checkbox
    assert kinds["treatments"] is widgets.VBox
    assert kinds["channels"] is widgets.SelectMultiple
    assert kinds["contact"] is widgets.Text and kinds["link"] is widgets.Text
    assert "inside" in form.inputs and "section" in form.sections


def test_labels_help_placeholders_units_and_defaults_are_shown(template):
    form = TemplateForm(template)
    assert "*" in form.labels["title"].value and "*" not in form.labels["notes"].value
    assert "[mL]" in form.labels["amount"].value
    assert "The title" in form.messages["title"].value
    assert form.inputs["title"].widget.placeholder == "Start with a capital"
    assert form.inputs["amount"].widget.placeholder == "number 0–10"
    assert form.value["count"] == 3 and form.value["enabled"] is True
    assert form.value["day"] == dt.date.today().isoformat()
    assert "A section" in form.sections["section"].children[0].value


def test_value_round_trip(template):
    answers = {"title": "Heat", "notes": "n", "amount": "2,5", "count": 4, "ratio": 0.25,
               "day": "2025-06-13", "clock": "09:30", "moment": "2025-06-13T09:30", "colour": "green",
               "size": "M", "enabled": True, "extra": "x", "treatments": ["A", "C"], "channels": ["GFP"],
               "contact": "a@b.org", "link": "https://example.org", "sample": "12", "inside": "in"}
    form = TemplateForm(template, value=answers)
    assert form.valid, form.errors
    expected = dict(answers, amount=2.5)
    assert form.value == expected
    again = TemplateForm(template)
    again.value = form.value
    assert again.value == expected


def test_setting_value_resets_fields_not_given(template):
    form = TemplateForm(template, value={"title": "A", "notes": "old"})
    form.value = {"title": "B"}
    assert form.value["notes"] is None and form.value["title"] == "B"


def test_conditions_act_live(template):
    form = TemplateForm(template, value={"title": "A", "extra": "x", "treatments": ["A"]})
    assert form.rows["extra"].layout.display != "none"
    form.inputs["enabled"].widget.value = False
    assert form.rows["extra"].layout.display == "none"
    assert "extra" not in form.value
    form.inputs["enabled"].widget.value = True
    assert form.rows["extra"].layout.display != "none" and form.value["extra"] == "x"


def test_group_hidden_when_its_condition_fails():
    template = load_template("""
name: t
fields:
  on: {type: checkbox}
  box:
    type: group
    condition: {field: on, equals: true}
    fields:
      a: {type: text}
""")
    form = TemplateForm(template)
    assert form.sections["box"].layout.display == "none"
    form.inputs["on"].widget.value = True
    assert form.sections["box"].layout.display != "none"


def test_validation_is_live_and_per_field(template):
    form = TemplateForm(template, value={"title": "Good", "extra": "x", "treatments": ["A"]})
    assert form.valid
    form.inputs["title"].widget.value = "lowercase"
    assert not form.valid
    assert "metafold-error" in form.messages["title"].value
    assert "Title" in form.summary.value and "block" in form.summary.value
    form.inputs["title"].widget.value = "Upper"
    assert form.valid and "metafold-error" not in form.messages["title"].value
    form.inputs["amount"].widget.value = "11"
    assert "at most 10 mL" in form.messages["amount"].value
    form.inputs["contact"].widget.value = "not-an-address"
    assert "email" in form.messages["contact"].value
    assert [key for key, _, _ in form.errors] == ["amount", "contact"]


def test_untouched_required_fields_are_listed_but_not_flagged_until_revealed(template):
    form = TemplateForm(template)
    assert not form.valid
    assert "metafold-error" not in form.messages["title"].value
    assert "Title" in form.summary.value
    form.reveal_errors()
    assert "is required" in form.messages["title"].value


def test_options_source_without_provider_becomes_free_text():
    template = load_template("multi-modal-imaging")
    form = TemplateForm(template)
    group = form.inputs["omero_group"]
    assert isinstance(group.widget, widgets.Text)
    assert "appear when connected" in form.messages["omero_group"].value
    group.widget.value = "Imaging Lab"
    assert form.value["omero_group"] == "Imaging Lab"


def _wait_for(form: TemplateForm, key: str) -> None:
    future = form.options_loading[key]
    try:
        future.result(timeout=10)
    except Exception:
        pass
    for _ in range(200):  # the done-callback runs right after the result is set
        if "Loading" not in form.messages[key].value:
            return
        threading.Event().wait(0.01)


def test_options_source_with_provider_offers_its_options():
    providers = OptionsProviders()
    providers.register("omero_groups_api", lambda: ["Imaging Lab", ("7", "Other lab")])
    form = TemplateForm(load_template("multi-modal-imaging"), value={"omero_group": "Imaging Lab"},
                        providers=providers)
    _wait_for(form, "omero_group")
    dropdown = form.inputs["omero_group"].widget
    assert isinstance(dropdown, widgets.Dropdown)
    assert ("Other lab", "7") in dropdown.options
    assert form.value["omero_group"] == "Imaging Lab"  # the answer survives the swap


def test_failing_provider_falls_back_to_text_with_a_note():
    providers = OptionsProviders()

    def broken():
        raise ConnectionError("server down")

    providers.register("omero_groups_api", broken)
    form = TemplateForm(load_template("multi-modal-imaging"), providers=providers)
    _wait_for(form, "omero_group")
    assert isinstance(form.inputs["omero_group"].widget, widgets.Text)
    assert "server down" in form.messages["omero_group"].value


def test_slow_provider_times_out_cleanly():
    release = threading.Event()
    providers = OptionsProviders()
    providers.register("omero_groups_api", lambda: (release.wait(5), ["late"])[1])
    form = TemplateForm(load_template("multi-modal-imaging"), providers=providers, options_timeout=0.05)
    assert "metafold-spinner" in form.messages["omero_group"].value or "did not load" in \
        form.messages["omero_group"].value  # a spinner while waiting (unless the timeout already passed)
    for _ in range(300):
        if "did not load" in form.messages["omero_group"].value:
            break
        threading.Event().wait(0.01)
    assert "did not load" in form.messages["omero_group"].value
    assert "metafold-spinner" not in form.messages["omero_group"].value
    assert isinstance(form.inputs["omero_group"].widget, widgets.Text)
    release.set()
    form.options_loading["omero_group"].result(timeout=5)
    assert isinstance(form.inputs["omero_group"].widget, widgets.Text)  # late answer ignored


def test_five_hundred_field_form_builds():
    fields = {f"f{i}": {"type": ["text", "number", "dropdown", "checkbox", "date"][i % 5],
                        **({"options": ["a", "b"]} if i % 5 == 2 else {})} for i in range(500)}
    form = TemplateForm(load_template({"name": "big", "fields": fields}))
    assert len(form.inputs) == 500


# --- the create-project app -------------------------------------------------------------


@pytest.fixture
def app(tmp_path):
    session = Session(projects_dir=tmp_path)
    created = CreateProjectApp(session, template="multi-modal-imaging")
    return created


def test_app_lists_builtin_and_folder_templates(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "mine.yaml").write_text("name: Mine\nfields: {a: {type: text}}\n")
    (folder / "broken.yaml").write_text("name: Broken\nfields: {a: {type: nope}}\n")
    app = CreateProjectApp(Session(projects_dir=tmp_path, templates_dir=folder))
    assert any(label.startswith("Mine 1.0.0") for label in app.picker.options)
    assert any(label.startswith("Multi-Modal Imaging Workflow") for label in app.picker.options)
    assert "broken.yaml" in app.template_problems.value and "nope" in app.template_problems.value


def test_create_button_follows_validity_and_creates(app, tmp_path, example_answers_path):
    assert app.create_button.disabled
    app.form.value = yaml.safe_load(example_answers_path.read_text())
    assert not app.create_button.disabled
    assert app.name.placeholder.startswith("IMG202501_")
    app.preview_button.click()
    assert "03_imaging" in app.preview.value and "OMERO dataset: will be created" in app.preview.value
    app.create_button.click()
    created = tmp_path / app.name.placeholder
    assert created.is_dir()
    assert str(created) in app.result.value
    record = json.loads((created / "metafold.json").read_text())
    assert record["answers"]["omero_group"] == "Imaging Lab"
    assert app.progress.value == app.progress.max


def test_existing_project_is_reported_and_untouched(app, tmp_path, example_answers_path):
    app.form.value = yaml.safe_load(example_answers_path.read_text())
    existing = tmp_path / app.name.placeholder
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    app.create_button.click()
    assert "already exists" in app.result.value and "Nothing was created" in app.result.value
    assert [p.name for p in existing.iterdir()] == ["keep.txt"]


def test_pasted_templates_are_checked_then_used(app):
    app.paste.value = "name: Pasted\nfields:\n  a: {type: txt}\n"
    app.paste_button.click()
    assert "unknown type 'txt'" in html.unescape(app.template_problems.value)
    app.paste.value = "name: Pasted\nfields:\n  a: {type: text, required: true}\n"
    app.paste_button.click()
    assert app.template_problems.value == ""
    assert app.form.template.name == "Pasted"


def test_uploaded_template_is_used(app):
    content = b"name: Uploaded\nfields:\n  a: {type: text}\n"
    app.upload.value = ({"name": "up.yaml", "type": "", "size": len(content),
                         "content": memoryview(content), "last_modified": dt.datetime.now()},)
    assert app.form.template.name == "Uploaded"


def test_integrations_are_shown_as_off_without_servers(app):
    assert "elabFTW" in app.integrations.value and "not configured" in app.integrations.value


# --- the connections panel ----------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")
def test_connection_panel_connects_and_forgets_the_key(fake_elabftw, tmp_path):
    from metafold_widgets.testing.fake_elabftw import WRITE_KEY
    from metafold_widgets.widgets import ConnectionPanel

    session = Session(projects_dir=tmp_path)
    changed = []
    panel = ConnectionPanel(session, on_change=lambda: changed.append(True))
    panel.elab_url.value = fake_elabftw.url
    panel.elab_key.value = "1-wrong-key"
    panel.elab_button.click()
    assert "HTTP 401" in panel.elab_status.value and panel.elab_key.value == ""
    assert "1-wrong-key" not in panel.elab_status.value and not changed
    panel.elab_key.value = WRITE_KEY
    panel.elab_button.click()
    assert "connected to elabFTW 5.6.12" in panel.elab_status.value
    assert panel.elab_key.value == "" and changed == [True]
    assert session.is_configured("elabftw") and WRITE_KEY not in repr(session)
    state = json.dumps([w.get_state() for w in panel.children if hasattr(w, "get_state")], default=str)
    assert WRITE_KEY not in state


def test_connection_panel_says_how_to_install_omero(tmp_path):
    from metafold_widgets.widgets import ConnectionPanel

    panel = ConnectionPanel(Session(projects_dir=tmp_path))
    panel.omero_host.value, panel.omero_user.value, panel.omero_password.value = "omero.example.org", "ada", "pw"
    panel.omero_button.click()
    assert panel.omero_password.value == ""
    try:
        import omero  # noqa: F401
    except ImportError:
        assert "omero-py" in panel.omero_status.value and "pip install" in panel.omero_status.value


@pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")
def test_app_uses_a_new_connection_for_dropdowns(fake_elabftw, tmp_path):
    from metafold_widgets.testing.fake_elabftw import WRITE_KEY

    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "cat.yaml").write_text("name: Cat\nfields:\n  category: {type: dropdown, options_source: "
                                      "elabftw_categories_api}\n")
    app = CreateProjectApp(Session(projects_dir=tmp_path, templates_dir=folder), template=str(folder / "cat.yaml"))
    assert isinstance(app.form.inputs["category"].widget, widgets.Text)
    app.connections.elab_url.value = fake_elabftw.url
    app.connections.elab_key.value = WRITE_KEY
    app.connections.elab_button.click()
    _wait_for(app.form, "category")
    assert [label for label, _ in app.form.inputs["category"].widget.options][1:] == [
        "Imaging", "Spectroscopy", "Simulation"]
    assert "configured" in app.integrations.value
