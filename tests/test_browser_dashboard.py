"""End-to-end tests: the projects dashboard Voila app in headless Chromium, driven by Playwright.

Before the server starts, three projects are created with the Python API (two imaging
projects, one of them with a recorded elabFTW experiment, and a folder-only one) beside
a desktop MetaFold project (only ``elabftw-metadata.json``). The tests search, filter, open
details and run a check like a researcher. Screenshots go to ``test-artifacts/``. Without
Chromium, Playwright or Voila the tests are skipped (and fail in CI, where all must exist).
"""
from __future__ import annotations

import json
import re
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
from metafold_widgets.core.record import record_integration

ANSWERS = {  # valid answers for the built-in imaging template, without elabFTW or OMERO
    "project_identifier": "IMG202501", "experiment_title": "Heat stress",
    "principal_investigator": "Dr. Ada Example", "enable_elabftw": False, "enable_omero": False,
    "research_question": "Where do heat shock proteins go?", "experimental_approach": "Live imaging.",
    "sample_type": "Live Cells", "sample_preparation_protocol": "HeLa v2", "imaging_modality": "Confocal",
    "microscope_system": "Zeiss LSM 880", "data_sharing_level": "Group",
}
PROJECTS = ["cold-shock", "desk-old", "heat-stress", "lab-notes"]
ELAB_URL = "https://elab.example.org/experiments.php?mode=view&id=42"


@dataclass
class Projects:
    server: VoilaServer
    folder: Path


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Projects]:
    """Voila serving the dashboard over four projects."""
    require_browser_tools()  # skip before writing anything when the browser tools are missing
    base = tmp_path_factory.mktemp("voila-dashboard")
    folder = base / "projects"
    (folder / "2025").mkdir(parents=True)
    imaging = load_template("multi-modal-imaging")
    heat = create_project(imaging, ANSWERS, folder, name="heat-stress", created_by="ada")
    record_integration(heat, "elabftw", action="create", state="done", id=42, url=ELAB_URL)
    create_project(imaging, {**ANSWERS, "experiment_title": "Cold shock"}, folder / "2025", name="cold-shock",
                   created_by="bob")
    create_project(load_template("folder-only"), {"project_name": "Lab notes", "owner": "carol"}, folder,
                   name="lab-notes", created_by="carol")
    desktop = folder / "desk-old"
    desktop.mkdir()
    (desktop / "elabftw-metadata.json").write_text(json.dumps({"extra_fields": {
        "Sample ID": {"type": "text", "value": "S-17", "required": True}}}), encoding="utf-8")
    (folder / "node_modules" / "not-a-project").mkdir(parents=True)  # skipped folders list nothing
    (folder / "node_modules" / "not-a-project" / "metafold.json").write_text("{}", encoding="utf-8")
    with run_voila("projects.ipynb", base, folder) as server:
        yield Projects(server, folder)


@pytest.fixture(scope="module")
def browser(projects: Projects) -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def app(browser: Browser, projects: Projects) -> Iterator[Page]:
    """A fresh page with the dashboard rendered (its own kernel)."""
    with open_app(browser, projects.server, ".metafold-dashboard") as page:
        expect(_rows(page)).to_have_count(len(PROJECTS))
        yield page


def _rows(page: Page) -> Locator:
    return page.locator(".metafold-projects tbody tr")


def _names(page: Page) -> list[str]:
    return sorted(text.split()[0] for text in _rows(page).locator("td:first-child").all_inner_texts())


def test_lists_every_project_with_charts(app: Page) -> None:
    assert _names(app) == PROJECTS
    expect(app.locator(".metafold-summary")).to_contain_text("4 of 4 projects")
    charts = app.locator(".metafold-charts svg[role='img']")
    expect(charts).to_have_count(4)
    for index in range(4):
        expect(charts.nth(index)).to_be_visible()
    per_template = app.get_by_role("img", name="Projects per template")
    expect(per_template).to_be_visible()
    box = per_template.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 100
    expect(per_template).to_contain_text("multi-modal-imaging")
    heat = _rows(app).filter(has_text="heat-stress")
    expect(heat.locator(".metafold-state-done")).to_have_text("done")
    shot = screenshot(app.locator(".metafold-dashboard"), "browser-dashboard.png")
    assert shot.stat().st_size > 0


def test_search_filters_the_table_and_the_charts(app: Page) -> None:
    search = app.get_by_role("textbox", name="Search")
    search.fill("cold")
    expect(_rows(app)).to_have_count(1)
    expect(_rows(app).first).to_contain_text("cold-shock")
    expect(app.locator(".metafold-summary")).to_contain_text("1 of 4 projects")
    expect(app.get_by_role("img", name="Projects per template")).not_to_contain_text("folder-only")
    search.fill("carol")  # the creator
    expect(_rows(app)).to_have_count(1)
    expect(_rows(app).first).to_contain_text("lab-notes")
    search.fill("")
    expect(_rows(app)).to_have_count(len(PROJECTS))


def test_template_and_integration_filters(app: Page) -> None:
    app.get_by_role("combobox", name="Template").select_option(label="multi-modal-imaging")
    expect(_rows(app)).to_have_count(2)
    app.get_by_role("combobox", name="Integration").select_option(label="elabFTW: done")
    expect(_rows(app)).to_have_count(1)
    expect(_rows(app).first).to_contain_text("heat-stress")


def test_details_open_with_answers_links_and_a_check(app: Page) -> None:
    app.get_by_role("combobox", name="Details of").select_option(label="heat-stress")
    details = app.locator(".metafold-details")
    expect(details.locator("h3")).to_have_text("heat-stress")
    expect(details).to_contain_text("Dr. Ada Example")
    expect(details).to_contain_text("Principal investigator")
    expect(details.get_by_role("link", name="elabFTW 42", exact=True)).to_have_attribute("href", ELAB_URL)
    check = app.get_by_role("button", name=re.compile(r"Check project$"))
    expect(check).to_be_enabled()
    check.click()
    report = app.locator(".metafold-reports .metafold-report")
    expect(report).to_have_count(1)
    expect(report.locator(".metafold-score")).to_have_text(re.compile(r"^\d+$"))
    screenshot(app.locator(".metafold-dashboard"), "browser-dashboard-details.png")


def test_desktop_project_details(app: Page) -> None:
    app.get_by_role("combobox", name="Details of").select_option(label="desk-old")
    details = app.locator(".metafold-details")
    expect(details).to_contain_text("desktop MetaFold project")
    expect(details).to_contain_text("S-17")
    expect(app.get_by_role("button", name=re.compile(r"Check project$"))).to_be_disabled()


@pytest.mark.parametrize("width", [1280, 600])
def test_nothing_scrolls_sideways(app: Page, width: int) -> None:
    app.set_viewport_size({"width": width, "height": 1000})
    expect(_rows(app)).to_have_count(len(PROJECTS))
    # the page re-flows after the resize: wait for it (a layout that never fits times out and fails)
    app.wait_for_function("""w => { const e = document.querySelector('.metafold-dashboard');
        return e !== null && e.getBoundingClientRect().right <= w + 1; }""", arg=width, timeout=15_000)
    overflowing = app.evaluate("""() => [...document.querySelectorAll('.metafold-dashboard, .metafold-dashboard *')]
        .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1
                && !['visible', 'clip', 'auto', 'scroll'].includes(getComputedStyle(e).overflowX))
        .map(e => e.tagName + '.' + e.className + ': ' + e.scrollWidth + ' > ' + e.clientWidth)""")
    assert overflowing == []
    box = app.locator(".metafold-dashboard").bounding_box()
    assert box is not None and box["x"] + box["width"] <= width + 1
