"""End-to-end tests: the create-project Voila app in headless Chromium, driven by Playwright.

A real Voila server (started from ``voila_apps/`` so ``voila.json`` applies) serves
``create_project.ipynb``; the tests pick templates, type answers like a researcher, and
then check the project folder on disk. Screenshots go to ``test-artifacts/``.
Without Chromium or Playwright the tests are skipped (and fail in CI, where both must exist).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterator

import pytest
from browser_support import Browser, Locator, Page, VoilaServer, chromium, expect, open_app, run_voila, screenshot

# A lab template found through $METAFOLD_TEMPLATES_DIR, with every field type the form offers.
TEMPLATE_FOLDER = "lab-templates"
TEMPLATE_YAML = """\
id: browser-all-types
name: Browser All Types
version: 2.0.0
type: experiment
description: Every field type, for the browser tests.
project_name: "{project_identifier}_{experiment_title}"
folders:
  raw_data: [images, spectra]
  analysis:
  integration_logs:
fields:
  identification:
    type: group
    label: Identification
    fields:
      project_identifier:
        type: text
        required: true
        pattern: "^[A-Z]{3}[0-9]{3}$"
        validation_message: Use three capital letters and three digits, e.g. ABC123.
      experiment_title:
        type: text
        required: true
      contact_email:
        type: email
        required: true
      protocol_url:
        type: url
  details:
    type: section
    label: Details
    fields:
      notes:
        type: textarea
      temperature:
        type: number
        unit: degC
        min: -80
        max: 100
        required: true
      replicate_count:
        type: integer
        min: 1
        max: 50
      concentration:
        type: decimal
        unit: mM
      start_date:
        type: date
      start_time:
        type: time
      acquired_at:
        type: datetime
      sample_type:
        type: dropdown
        options: [Cells, Tissue, Other]
        required: true
      orientation:
        type: radio
        options: [Upright, Inverted]
      stains:
        type: checkbox_group
        options: [DAPI, GFP, RFP]
      channels:
        type: multi_select
        options: [Blue, Green, Red, Far red]
      use_cryo:
        type: checkbox
        label: Cryo preparation
      cryo_protocol:
        type: text
        label: Cryo protocol
        required: true
        condition: {field: use_cryo, equals: true}
"""
TEMPLATE_OPTION = f"Browser All Types 2.0.0 ({TEMPLATE_FOLDER})"


# --- server and browser -------------------------------------------------------------------

@pytest.fixture(scope="module")
def voila_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoilaServer]:
    """Voila serving the create-project app, with a projects folder and a lab template folder."""
    base = tmp_path_factory.mktemp("voila")
    projects = base / "projects"
    templates = base / TEMPLATE_FOLDER
    projects.mkdir()
    templates.mkdir()
    (templates / "all-types.yaml").write_text(TEMPLATE_YAML, encoding="utf-8")
    with run_voila("create_project.ipynb", base, projects, {"METAFOLD_TEMPLATES_DIR": str(templates)}) as server:
        yield server


@pytest.fixture(scope="module")
def browser(voila_server: VoilaServer) -> Iterator[Browser]:
    """Headless Debian Chromium (Playwright cannot download its own browsers here)."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def app(browser: Browser, voila_server: VoilaServer) -> Iterator[Page]:
    """A fresh page with the create-project app rendered (its own kernel)."""
    with open_app(browser, voila_server, ".metafold-create-app") as page:
        yield page


# --- helpers ------------------------------------------------------------------------------

def _field(page: Page, key: str) -> Locator:
    return page.locator(f".metafold-field-{key}")


def _error(page: Page, key: str) -> Locator:
    return _field(page, key).locator(".metafold-error")


def _pick_template(page: Page, name: str, first_key: str) -> None:
    """Choose the template whose picker entry starts with ``name``; wait for its ``first_key`` field."""
    picker = page.get_by_label("Template", exact=True)
    values = picker.locator("option").evaluate_all("options => options.map(o => o.value)")
    matching = [value for value in values if value.startswith(name)]
    assert matching, f"no template starting with {name!r} in {values}"
    picker.select_option(value=matching[0])
    expect(_field(page, first_key)).to_be_visible()


def _type(page: Page, key: str, text: str) -> None:
    _field(page, key).locator("input, textarea").fill(text)


def _buttons(page: Page) -> tuple[Locator, Locator]:
    """The Preview and Create buttons (their accessible names start with an icon)."""
    return (page.get_by_role("button", name=re.compile(r"^\W*Preview$")),
            page.get_by_role("button", name=re.compile(r"^\W*Create project$")))


def _created_project(page: Page, projects_dir: Path) -> Path:
    path_text = page.locator(".metafold-result .metafold-path")
    expect(path_text).to_be_visible()
    project = Path(path_text.inner_text().strip())
    assert project.parent == projects_dir
    assert project.is_dir()
    return project


# --- tests --------------------------------------------------------------------------------

def test_template_picker_lists_builtins_and_lab_templates(app: Page) -> None:
    picker = app.get_by_label("Template", exact=True)
    values = picker.locator("option").evaluate_all("options => options.map(o => o.value)")
    assert TEMPLATE_OPTION in values
    assert any(value.startswith("Multi-Modal Imaging Workflow ") for value in values)
    assert any(value.startswith("Basic Experiment ") for value in values)
    expect(app.locator(".metafold-template-problems")).to_have_count(0)


@pytest.mark.parametrize("width", [1280, 480])
def test_no_field_row_scrolls_sideways(app: Page, width: int) -> None:
    """Inputs fit their rows: no row (or the app) gets a horizontal scrollbar, even on a narrow screen."""
    app.set_viewport_size({"width": width, "height": 1000})
    _pick_template(app, TEMPLATE_OPTION, "contact_email")
    overflowing = app.evaluate("""() => [...document.querySelectorAll(
        '.metafold-create-app, .metafold-form, .metafold-section, .metafold-field')]
        .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth)
        .map(e => e.className.split(' ').pop() + ': ' + e.scrollWidth + ' > ' + e.clientWidth)""")
    assert overflowing == []


def test_every_input_is_named_by_its_field_label(app: Page) -> None:
    """Screen readers (and get_by_label) find each input by its label; the label is shown once."""
    _pick_template(app, TEMPLATE_OPTION, "contact_email")
    _field(app, "use_cryo").locator("input[type=checkbox]").check()  # show the conditional field
    labels = {"Project identifier": "textbox", "Contact email": "textbox", "Protocol url": "textbox",
              "Notes": "textbox", "Temperature": "textbox", "Replicate count": "textbox",
              "Concentration": "textbox", "Start date": None, "Start time": None, "Acquired at": None,
              "Sample type": "combobox", "Channels": "listbox", "Cryo preparation": "checkbox",
              "Cryo protocol": "textbox"}
    form = app.locator(".metafold-form")
    for label, role in labels.items():
        named = (form.get_by_label(label, exact=True) if role is None
                 else form.get_by_role(role, name=label, exact=True))
        expect(named).to_have_count(1)
        expect(named).to_be_visible()
    for option in ("Upright", "Inverted", "DAPI", "GFP", "RFP"):
        expect(form.get_by_label(option, exact=True)).to_be_visible()
    # the label is shown once, above the input: the description beside it takes no room
    for key in ("contact_email", "start_date", "sample_type", "orientation", "channels"):
        box = _field(app, key).locator("label.widget-label").filter(has_text=re.compile(r"\w")).bounding_box()
        assert box is not None and box["width"] <= 1 and box["height"] <= 1, key
    span = _field(app, "use_cryo").locator(".widget-label-basic > span").bounding_box()
    assert span is not None and span["width"] <= 1 and span["height"] <= 1


def test_invalid_answers_show_errors_that_go_when_fixed(app: Page) -> None:
    _pick_template(app, TEMPLATE_OPTION, "contact_email")
    checks = [  # (field, invalid text, message part, valid text)
        ("project_identifier", "abc-12", "three capital letters", "ABC123"),
        ("contact_email", "not-an-address", "email address", "ada@example.org"),
        ("protocol_url", "lab wiki", "web address", "https://example.org/protocol"),
        ("temperature", "250", "100", "21"),
        ("temperature", "warm", "number", "21"),
        ("replicate_count", "2.5", "whole number", "2"),
    ]
    for key, invalid, message, valid in checks:
        _type(app, key, invalid)
        expect(_error(app, key)).to_contain_text(message)
        expect(app.locator(".metafold-summary")).to_contain_text(message)
        _type(app, key, valid)
        expect(_error(app, key)).to_have_count(0)


def test_checkbox_shows_and_hides_the_conditional_field(app: Page) -> None:
    _pick_template(app, TEMPLATE_OPTION, "contact_email")
    cryo, protocol = _field(app, "use_cryo"), _field(app, "cryo_protocol")
    expect(protocol).to_be_hidden()
    cryo.locator("input[type=checkbox]").check()
    expect(protocol).to_be_visible()
    expect(app.locator(".metafold-summary")).to_contain_text("Cryo protocol")  # required once shown
    cryo.locator("input[type=checkbox]").uncheck()
    expect(protocol).to_be_hidden()
    expect(app.locator(".metafold-summary")).not_to_contain_text("Cryo protocol")


def test_fill_every_field_type_preview_and_create(app: Page, voila_server: VoilaServer) -> None:
    _pick_template(app, TEMPLATE_OPTION, "contact_email")
    preview, create = _buttons(app)
    expect(create).to_be_disabled()

    _type(app, "project_identifier", "abc")
    expect(_error(app, "project_identifier")).to_contain_text("three capital letters")
    _type(app, "project_identifier", "ABC123")
    expect(_error(app, "project_identifier")).to_have_count(0)
    _type(app, "experiment_title", "Heat shock series")
    _type(app, "contact_email", "ada@example")
    expect(_error(app, "contact_email")).to_contain_text("email address")
    _type(app, "contact_email", "ada@example.org")
    expect(_error(app, "contact_email")).to_have_count(0)
    _type(app, "protocol_url", "https://example.org/protocols/42")
    _field(app, "notes").locator("textarea").fill("Line one\nLine two")
    _type(app, "temperature", "36.6")
    _type(app, "replicate_count", "3")
    _type(app, "concentration", "0,125")  # a decimal comma, as typed in many labs
    _field(app, "start_date").locator("input[type=date]").fill("2025-06-13")
    _field(app, "start_time").locator("input[type=time]").fill("09:30")
    _field(app, "acquired_at").locator("input[type=datetime-local]").fill("2025-06-13T14:45")
    _field(app, "orientation").get_by_label("Inverted").check()
    stains = _field(app, "stains")
    stains.get_by_label("DAPI").check()
    stains.get_by_label("RFP").check()
    _field(app, "channels").locator("select[multiple]").select_option(["Green", "Far red"])
    expect(create).to_be_disabled()  # the sample type is still missing
    expect(app.locator(".metafold-summary")).to_contain_text("Sample type")
    _field(app, "sample_type").locator("select").select_option("Tissue")
    expect(create).to_be_enabled()

    _field(app, "use_cryo").locator("input[type=checkbox]").check()
    expect(_field(app, "cryo_protocol")).to_be_visible()
    expect(create).to_be_disabled()  # the conditional field is required
    _type(app, "cryo_protocol", "Plunge freezing v2")
    expect(create).to_be_enabled()
    expect(app.locator(".metafold-summary")).to_contain_text("All answers are valid")
    screenshot(app.locator(".metafold-create-app"), "browser-filled-form.png")

    preview.click()
    plan = app.locator(".metafold-preview .metafold-plan")
    expect(plan).to_contain_text("ABC123_Heat")
    for name in ("raw_data/", "images/", "spectra/", "analysis/", "integration_logs/"):
        expect(plan).to_contain_text(name)
    assert not list(voila_server.projects_dir.glob("ABC123*")), "a preview must not write anything"

    create.click()
    project = _created_project(app, voila_server.projects_dir)
    screenshot(app.locator(".metafold-result"), "browser-result.png")
    assert project.name.startswith("ABC123_Heat")
    for folder in ("raw_data/images", "raw_data/spectra", "analysis", "integration_logs"):
        assert (project / folder).is_dir(), folder

    record = json.loads((project / "metafold.json").read_text(encoding="utf-8"))
    assert record["template"]["id"] == "browser-all-types"
    assert record["template"]["version"] == "2.0.0"
    answers = record["answers"]
    assert answers["project_identifier"] == "ABC123"                       # text with a pattern
    assert answers["experiment_title"] == "Heat shock series"
    assert answers["contact_email"] == "ada@example.org"                   # email
    assert answers["protocol_url"] == "https://example.org/protocols/42"   # url
    assert answers["notes"] == "Line one\nLine two"                         # textarea
    assert answers["temperature"] == pytest.approx(36.6)                    # number
    assert answers["replicate_count"] == 3 and isinstance(answers["replicate_count"], int)  # integer
    assert answers["concentration"] == pytest.approx(0.125)                 # decimal
    assert answers["start_date"] == "2025-06-13"                            # date
    assert re.fullmatch(r"09:30(:00)?", answers["start_time"])              # time
    assert re.fullmatch(r"2025-06-13T14:45(:00)?", answers["acquired_at"])  # datetime
    assert answers["sample_type"] == "Tissue"                               # dropdown
    assert answers["orientation"] == "Inverted"                             # radio
    assert answers["stains"] == ["DAPI", "RFP"]                             # checkbox group
    assert answers["channels"] == ["Green", "Far red"]                      # multi-select
    assert answers["use_cryo"] is True                                      # checkbox
    assert answers["cryo_protocol"] == "Plunge freezing v2"                 # conditional field

    metadata = json.loads((project / "elabftw-metadata.json").read_text(encoding="utf-8"))
    extra = metadata["extra_fields"]
    assert extra["Project identifier"]["value"] == "ABC123"
    assert extra["Temperature"]["value"] == "36.6"
    assert extra["Temperature"]["unit"] == "degC"
    assert extra["Channels"]["value"] == ["Green", "Far red"]
    assert extra["Cryo preparation"]["value"] == "on"
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "Heat shock series" in readme
    assert "Plunge freezing v2" in readme


def test_unticking_the_checkbox_leaves_the_conditional_answer_out(app: Page, voila_server: VoilaServer) -> None:
    _pick_template(app, TEMPLATE_OPTION, "contact_email")
    _type(app, "project_identifier", "XYZ789")
    _type(app, "experiment_title", "No cryo")
    _type(app, "contact_email", "grace@example.org")
    _type(app, "temperature", "-20")
    _field(app, "sample_type").locator("select").select_option("Cells")
    cryo = _field(app, "use_cryo").locator("input[type=checkbox]")
    cryo.check()
    _type(app, "cryo_protocol", "typed, then hidden")
    cryo.uncheck()
    expect(_field(app, "cryo_protocol")).to_be_hidden()
    _, create = _buttons(app)
    expect(create).to_be_enabled()
    create.click()
    project = _created_project(app, voila_server.projects_dir)
    answers = json.loads((project / "metafold.json").read_text(encoding="utf-8"))["answers"]
    assert answers["temperature"] == -20
    assert answers["use_cryo"] is False
    assert "cryo_protocol" not in answers or answers["cryo_protocol"] is None


def test_builtin_multi_modal_imaging_template_creates_a_project(app: Page, voila_server: VoilaServer) -> None:
    _pick_template(app, "Multi-Modal Imaging Workflow ", "principal_investigator")
    _, create = _buttons(app)
    expect(create).to_be_disabled()
    texts = {
        "project_identifier": "IMG123456",
        "experiment_title": "Protein Localization",
        "principal_investigator": "Dr. Ada Lovelace",
        "research_question": "Where does the protein go under heat stress?",
        "experimental_approach": "Live confocal imaging at 37 and 42 degrees.",
        "sample_preparation_protocol": "HeLa seeding v3",
        "microscope_system": "Zeiss LSM 980",
    }
    for key, text in texts.items():
        _type(app, key, text)
    for key, option in (("sample_type", "Live Cells"), ("imaging_modality", "Confocal"),
                        ("data_sharing_level", "Group")):
        _field(app, key).locator("select").select_option(option)
    expect(create).to_be_enabled()
    create.click()
    project = _created_project(app, voila_server.projects_dir)
    screenshot(app.locator(".metafold-result"), "browser-multi-modal-result.png")
    assert project.name == "IMG123456_Protein_Localization"
    assert (project / "03_imaging/raw_images/controls").is_dir()
    record = json.loads((project / "metafold.json").read_text(encoding="utf-8"))
    assert record["template"]["id"] == "multi-modal-imaging"
    for key, text in texts.items():
        assert record["answers"][key] == text, key
    assert record["answers"]["imaging_modality"] == "Confocal"
    assert record["answers"]["omero_project_link"] == "Create New"  # the radio's default
    assert (project / "elabftw-metadata.json").is_file()
    assert "Protein Localization" in (project / "README.md").read_text(encoding="utf-8")
