"""End-to-end test: the compliance report in the check-projects Voila app, in headless Chromium.

Before the server starts, a project is created from the built-in multi-modal imaging template
with the Python API, given a protocol, a lab record entry whose file name is hostile HTML and a
checksum manifest. The test picks the project like a researcher, clicks "Compliance report",
reads the sections and statuses, downloads the HTML page and saves it into the project.
Screenshots go to ``test-artifacts/``. Without Chromium, Playwright or Voila the tests are
skipped (and fail in CI, where all of them must exist).
"""
from __future__ import annotations

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
from metafold_widgets.workflows.archive import write_checksums

PROJECT = "heat-stress"
HOSTILE = "<img src=x onerror=alert(1)>"
ANSWERS = {  # valid answers for the built-in template; no elabFTW or OMERO
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
RED, GREEN = "rgb(176, 0, 32)", "rgb(27, 94, 32)"  # compliance_render's "not met" and "met" colours


@dataclass
class Served:
    server: VoilaServer
    project: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Voila serving the check-projects app over one project with some documentation and a manifest."""
    require_browser_tools()
    base = tmp_path_factory.mktemp("voila-compliance")
    folder = base / "projects"
    folder.mkdir()
    project = create_project(load_template("multi-modal-imaging"), ANSWERS, folder, name=PROJECT)
    (project / "01_project_management/protocols/fixation.md").write_text("# Fixation\n4% PFA", encoding="utf-8")
    (project / "05_documentation/daily_notes" / f"{HOSTILE}.md").write_text("# Day 1", encoding="utf-8")
    write_checksums(project)
    with run_voila("validate_project.ipynb", base, folder) as server:
        yield Served(server, project)


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def app(browser: Browser, served: Served) -> Iterator[Page]:
    with open_app(browser, served.server, ".metafold-validate-app") as page:
        yield page


def _show_report(page: Page) -> Locator:
    page.get_by_role("listbox", name="Projects", exact=True).select_option(label=PROJECT)
    button = page.get_by_role("button", name=re.compile(r"^\W*Compliance report$"))
    expect(button).to_be_enabled()
    button.click()
    report = page.locator(".metafold-reports .metafold-compliance")
    expect(report).to_have_count(1)
    return report


def _item(report: Locator, key: str) -> Locator:
    row = report.locator(f"tr.compliance-item[data-key='{key}']")
    expect(row).to_have_count(1)
    return row


def test_the_report_shows_every_section_with_evidence_and_coloured_statuses(app: Page, served: Served) -> None:
    report = _show_report(app)
    expect(report.locator("h1")).to_have_text(f"Compliance report: {PROJECT}")
    expect(report.locator("h2")).to_have_text(["FAIR principles", "Retention", "Backup and integrity",
                                               "Access controls", "Documentation completeness"])
    fair = report.locator("section[data-section='fair'] tr.compliance-item")
    expect(fair).to_have_count(15)
    f4 = _item(report, "F4")
    expect(f4.locator("td.status")).to_have_text("not met")
    expect(f4.locator("td.status")).to_have_css("color", RED)
    expect(f4.locator("td").first).not_to_have_css("color", RED)  # only the status is coloured
    manifest = _item(report, "manifest")
    expect(manifest.locator("td.status")).to_have_text("met")
    expect(manifest.locator("td.status")).to_have_css("color", GREEN)
    expect(manifest).to_contain_text("SHA256SUMS, MD5SUMS written")
    expect(_item(report, "verify")).to_contain_text("re-hashed")
    expect(_item(report, "retention").locator("td.status")).to_have_text("unknown")
    expect(_item(report, "sharing-level")).to_contain_text("Group (answer 'data_sharing_level')")
    entries = _item(report, "entries")
    expect(entries).to_contain_text("01_project_management/protocols/fixation.md")
    expect(entries).to_contain_text(HOSTILE)  # shown as text ...
    expect(app.locator(".metafold-validate-app img")).to_have_count(0)  # ... never made an element
    summary = report.locator("table.summary")
    expect(summary).to_contain_text("not met")
    screenshot(app.locator(".metafold-validate-app"), "browser-compliance-report.png")


def test_the_report_downloads_as_a_self_contained_page(app: Page) -> None:
    report = _show_report(app)
    with app.expect_download() as started:
        app.locator(".metafold-reports a.metafold-download").click()
    download = started.value
    assert download.suggested_filename == f"{PROJECT}-compliance-report.html"
    page = Path(download.path()).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "<img" not in page
    assert f"Compliance report: {PROJECT}" in page
    expect(report).to_be_visible()


def test_save_in_project_writes_the_report_into_the_project(app: Page, served: Served) -> None:
    saved = served.project / "compliance-report.html"
    saved.unlink(missing_ok=True)
    _show_report(app)
    app.get_by_role("button", name=re.compile(r"^\W*Save in project$")).click()
    expect(app.locator(".metafold-validate-app .metafold-info")).to_contain_text(str(saved))
    assert saved.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_nothing_scrolls_sideways_on_a_narrow_screen(app: Page) -> None:
    app.set_viewport_size({"width": 480, "height": 1000})
    _show_report(app)
    overflowing = app.evaluate("""() => [...document.querySelectorAll(
        '.metafold-validate-app, .metafold-validate-app *')]
        .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1
                && !['visible', 'clip'].includes(getComputedStyle(e).overflowX))
        .map(e => e.tagName + '.' + e.className + ': ' + e.scrollWidth + ' > ' + e.clientWidth)""")
    assert overflowing == []
