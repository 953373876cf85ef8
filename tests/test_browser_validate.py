"""End-to-end tests: the check-projects Voila app in headless Chromium, driven by Playwright.

Before the server starts, two projects are created from the built-in multi-modal imaging
template with the Python API; one is then damaged (a folder deleted, a value changed in
elabftw-metadata.json). The tests pick projects in the app like a researcher, click Check
and read the colour-coded reports. Screenshots go to ``test-artifacts/``. Without Chromium,
Playwright or Voila the tests are skipped (and fail in CI, where all of them must exist).
"""
from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from browser_support import (
    Browser,
    Locator,
    Page,
    VoilaServer,
    chromium,
    expect,
    open_app,
    require_browser_tools,
    run_voila,
    screenshot,
)

from metafold_widgets import create_project, load_template

HEALTHY, DAMAGED = "healthy-project", "damaged-project"
ANSWERS = {  # valid answers for the built-in template; no elabFTW or OMERO, so nothing stays pending
    "project_identifier": "IMG202501",
    "experiment_title": "Protein Localization in Response to Heat Stress",
    "principal_investigator": "Dr. Ada Example",
    "enable_elabftw": False,
    "enable_omero": False,
    "research_question": "How does heat stress move heat shock proteins in HeLa cells?",
    "experimental_approach": "Live cell fluorescence microscopy with temperature control.",
    "sample_type": "Live Cells",
    "sample_preparation_protocol": "HeLa_transfection_protocol_v2.1",
    "imaging_modality": "Confocal",
    "microscope_system": "Zeiss LSM 880 with environmental control",
    "data_sharing_level": "Group",
}
RED, GREEN = "rgb(176, 0, 32)", "rgb(27, 94, 32)"  # check.py's fail and pass colours


@dataclass
class Projects:
    """The running server and the two projects it lists."""

    server: VoilaServer
    healthy: Path
    damaged: Path


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Projects]:
    """Voila serving the check-projects app over a healthy and a damaged project."""
    require_browser_tools()  # skip before writing anything when the browser tools are missing
    base = tmp_path_factory.mktemp("voila-validate")
    folder = base / "projects"
    folder.mkdir()
    template = load_template("multi-modal-imaging")
    healthy = create_project(template, ANSWERS, folder, name=HEALTHY)
    damaged = create_project(template, {**ANSWERS, "project_identifier": "IMG202502"}, folder, name=DAMAGED)
    (folder / "notes").mkdir()  # not a project (no metafold.json): must not be listed

    shutil.rmtree(damaged / "03_imaging" / "raw_images")
    metadata_file = damaged / "elabftw-metadata.json"
    metadata = json.loads(metadata_file.read_text(encoding="utf-8"))
    assert metadata["extra_fields"]["Sample type"]["value"] == "Live Cells"
    metadata["extra_fields"]["Sample type"]["value"] = "Tissue"
    metadata_file.write_text(json.dumps(metadata, indent=2), encoding="utf-8")

    with run_voila("validate_project.ipynb", base, folder) as server:
        yield Projects(server, healthy, damaged)


@pytest.fixture(scope="module")
def browser(projects: Projects) -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def app(browser: Browser, projects: Projects) -> Iterator[Page]:
    """A fresh page with the check-projects app rendered (its own kernel)."""
    with open_app(browser, projects.server, ".metafold-validate-app") as page:
        yield page


# --- helpers ------------------------------------------------------------------------------

def _project_list(page: Page) -> Locator:
    return page.get_by_role("listbox", name="Projects", exact=True)


def _check(page: Page, expected_reports: int) -> Locator:
    """Click Check and wait for ``expected_reports`` reports; returns them."""
    button = page.get_by_role("button", name=re.compile(r"^\W*Check$"))
    expect(button).to_be_enabled()
    button.click()
    reports = page.locator(".metafold-reports .metafold-report")
    expect(reports).to_have_count(expected_reports)
    return reports


def _report_of(reports: Locator, project: str) -> Locator:
    report = reports.filter(has=reports.page.locator("h3", has_text=re.compile(rf"^{re.escape(project)}:")))
    expect(report).to_have_count(1)
    return report


def _row(report: Locator, status: str, check: str) -> Locator:
    """The row of ``check`` with ``status`` (pass, warn, fail or skip)."""
    return report.locator(f"tr.metafold-check-{status}").filter(
        has=report.page.locator("td:nth-child(2)", has_text=re.compile(rf"^{re.escape(check)}$")))


def _score(report: Locator) -> int:
    return int(report.locator(".metafold-score").inner_text().strip())


# --- tests --------------------------------------------------------------------------------

def test_lists_every_project_folder_and_nothing_else(app: Page) -> None:
    listbox = _project_list(app)
    expect(listbox).to_be_visible()
    expect(listbox.locator("option")).to_have_text([DAMAGED, HEALTHY])
    expect(app.locator(".metafold-reports .metafold-report")).to_have_count(0)


@pytest.mark.parametrize("width", [1280, 480])
def test_nothing_scrolls_sideways(app: Page, width: int) -> None:
    """The list, the buttons and the reports fit the window, even on a narrow screen."""
    app.set_viewport_size({"width": width, "height": 1000})
    _check(app, 2)
    overflowing = app.evaluate("""() => [...document.querySelectorAll(
        '.metafold-validate-app, .metafold-validate-app *')]
        .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1
                && !['visible', 'clip'].includes(getComputedStyle(e).overflowX))
        .map(e => e.tagName + '.' + e.className + ': ' + e.scrollWidth + ' > ' + e.clientWidth)""")
    assert overflowing == []
    app_box = app.locator(".metafold-validate-app").bounding_box()
    assert app_box is not None
    wide = app.evaluate("""limit => [...document.querySelectorAll('.metafold-validate-app *')]
        .filter(e => e.offsetParent !== null && e.getBoundingClientRect().right > limit + 1)
        .map(e => e.tagName + '.' + e.className + ': ' + Math.round(e.getBoundingClientRect().right))""",
        app_box["x"] + app_box["width"])
    assert wide == []


def test_the_damaged_project_fails_in_red_with_a_score_and_recommendations(app: Page) -> None:
    _project_list(app).select_option(label=DAMAGED)
    reports = _check(app, 1)
    report = _report_of(reports, DAMAGED)

    structure = _row(report, "fail", "folder structure")
    expect(structure).to_have_count(1)
    expect(structure).to_contain_text("03_imaging/raw_images")
    metadata = _row(report, "fail", "record vs elabftw-metadata.json")
    expect(metadata).to_have_count(1)
    expect(metadata).to_contain_text("'Sample type' is 'Tissue' but the record says 'Live Cells'")
    for row in (structure, metadata):
        status = row.locator("td").first
        expect(status).to_have_text("FAIL")
        expect(status).to_have_css("color", RED)
    expect(_row(report, "pass", "project record")).to_have_count(1)  # the rest is still checked
    expect(_row(report, "pass", "metadata")).to_have_count(1)

    assert 0 <= _score(report) < 100
    expect(report).to_contain_text("Recommendations:")
    advice = report.locator("ul > li")
    expect(advice.filter(has_text="Recreate the missing folders")).to_have_count(1)
    expect(advice.filter(has_text="metafold sync")).to_have_count(1)
    shot = screenshot(app.locator(".metafold-validate-app"), "browser-validate-report.png")
    assert shot.stat().st_size > 0


def test_nothing_selected_checks_every_listed_project(app: Page) -> None:
    expect(_project_list(app).locator("option")).to_have_count(2)
    assert _project_list(app).evaluate("select => select.selectedOptions.length") == 0
    reports = _check(app, 2)
    damaged, healthy = _report_of(reports, DAMAGED), _report_of(reports, HEALTHY)
    expect(damaged.locator("tr.metafold-check-fail")).to_have_count(2)
    expect(healthy.locator("tr.metafold-check-fail")).to_have_count(0)
    assert _score(damaged) < _score(healthy)


def test_the_healthy_project_passes_in_green(app: Page) -> None:
    _project_list(app).select_option(label=HEALTHY)
    report = _report_of(_check(app, 1), HEALTHY)
    expect(report.locator("tr.metafold-check-fail")).to_have_count(0)
    for check in ("project record", "template", "folder structure", "metadata", "record vs elabftw-metadata.json"):
        row = _row(report, "pass", check)
        expect(row).to_have_count(1)
        expect(row.locator("td").first).to_have_text("PASS")
        expect(row.locator("td").first).to_have_css("color", GREEN)
    # elabFTW and OMERO were switched off in the answers: not applicable, not failed
    expect(_row(report, "skip", "elabFTW record")).to_have_count(1)
    expect(_row(report, "skip", "OMERO record")).to_have_count(1)
    assert _score(report) == 100
    expect(report).not_to_contain_text("Recommendations:")
    screenshot(app.locator(".metafold-validate-app"), "browser-validate-healthy.png")


def test_selecting_both_projects_checks_both(app: Page) -> None:
    _project_list(app).select_option(label=[DAMAGED, HEALTHY])
    reports = _check(app, 2)
    expect(reports.locator("h3")).to_have_text([re.compile(rf"^{DAMAGED}:"), re.compile(rf"^{HEALTHY}:")])
    # picking one afterwards replaces both reports with that one
    _project_list(app).select_option(label=HEALTHY)
    reports = _check(app, 1)
    _report_of(reports, HEALTHY)
