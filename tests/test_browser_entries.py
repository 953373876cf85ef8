"""The create app with stand-in servers, in headless Chromium: the result panel and a new entry.

Voila serves ``voila_apps/create_project.ipynb`` in demo mode (``METAFOLD_DEMO_OMERO=1``):
its kernel gets the in-process fake OMERO and a fake elabFTW server, so a project is created
in both systems, with no OMERO.web address (``OMERO_WEB_URL`` unset). The fake OMERO needs
omero-py, so the server is the Voila of ``.venv-omero`` (scripts/setup-omero-env makes it);
this process drives Chromium with Playwright as the other browser tests do.
"""
from __future__ import annotations

import json
import re
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from browser_support import (
    APPS,
    ROOT,
    Browser,
    Locator,
    Page,
    VoilaServer,
    chromium,
    expect,
    free_port,
    isolated_environment,
    missing,
    open_app,
    screenshot,
    stop_process,
    wait_until_answering,
)

OMERO_VOILA = ROOT / ".venv-omero" / "bin" / "voila"
TEXTS = {
    "experiment_title": "Entries from the app",
    "principal_investigator": "Dr. Ada Lovelace",
    "research_question": "Where does the protein go under heat stress?",
    "experimental_approach": "Live confocal imaging at 37 and 42 degrees.",
    "sample_preparation_protocol": "HeLa seeding v3",
    "microscope_system": "Zeiss LSM 980",
}
CHOICES = {"sample_type": "Live Cells", "imaging_modality": "Confocal", "data_sharing_level": "Group",
           "elabftw_experiment_type": "Microscopy"}


@contextmanager
def _demo_voila(base: Path, projects: Path) -> Iterator[VoilaServer]:
    """The create app served by the Voila of .venv-omero, in demo mode."""
    if not OMERO_VOILA.exists():
        missing(f"{OMERO_VOILA} is missing (scripts/setup-omero-env makes .venv-omero with Voila)")
    env = isolated_environment(base, {"METAFOLD_PROJECTS_DIR": str(projects), "METAFOLD_DEMO_OMERO": "1"})
    port = free_port()
    log = base / "voila.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(OMERO_VOILA), "create_project.ipynb", "--no-browser", f"--port={port}",
             "--Voila.port_retries=0", "--Voila.ip=127.0.0.1"],
            cwd=APPS, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_answering(url, process, log, "voila/static/extension.js", "voila")
        yield VoilaServer(url, projects, log, process.pid)
    finally:
        stop_process(process)


@pytest.fixture(scope="module")
def voila_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoilaServer]:
    base = tmp_path_factory.mktemp("voila-entries")
    projects = base / "projects"
    projects.mkdir()
    with _demo_voila(base, projects) as server:
        yield server


@pytest.fixture(scope="module")
def browser(voila_server: VoilaServer) -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def app(browser: Browser, voila_server: VoilaServer) -> Iterator[Page]:
    with open_app(browser, voila_server, ".metafold-create-app") as page:
        yield page


def _field(page: Page, key: str) -> Locator:
    return page.locator(f".metafold-field-{key}")


def _create_imaging_project(page: Page, projects: Path, identifier: str) -> Path:
    """Fill the multi-modal imaging template (project ``identifier``), create the project, return its folder."""
    picker = page.get_by_label("Template", exact=True)
    values = picker.locator("option").evaluate_all("options => options.map(o => o.value)")
    picker.select_option(value=next(v for v in values if v.startswith("Multi-Modal Imaging Workflow ")))
    expect(_field(page, "principal_investigator")).to_be_visible()
    for key, text in {**TEXTS, "project_identifier": identifier}.items():
        _field(page, key).locator("input, textarea").fill(text)
    for key, option in CHOICES.items():
        _field(page, key).locator("select").select_option(option)
    # the OMERO groups come from the (fake) server: wait for them, then pick one
    expect(_field(page, "omero_group").locator("select option", has_text="Imaging Lab")).to_have_count(1)
    _field(page, "omero_group").locator("select").select_option("Imaging Lab")
    create = page.get_by_role("button", name=re.compile(r"^\W*Create project$"))
    expect(create).to_be_enabled()
    create.click()
    path = page.locator(".metafold-result .metafold-path")
    expect(path).to_be_visible()
    project = Path(path.inner_text().strip())
    assert project.parent == projects and project.is_dir()
    return project


def test_result_panel_says_omero_created_with_its_id(app: Page, voila_server: VoilaServer) -> None:
    """Without an OMERO.web address the dataset is still created: the panel says so, with its id."""
    project = _create_imaging_project(app, voila_server.projects_dir, "IMG654321")
    record = json.loads((project / "metafold.json").read_text(encoding="utf-8"))
    omero, elabftw = record["integrations"]["omero"], record["integrations"]["elabftw"]
    assert omero["state"] == "done" and omero["url"] is None and elabftw["state"] == "done"
    result = app.locator(".metafold-result")
    expect(result.locator(".metafold-outcome-done")).to_have_count(2)
    expect(result.locator(".metafold-outcome-done", has_text="OMERO")).to_contain_text(
        f"OMERO: created, id {omero['id']}")
    expect(result.locator(".metafold-outcome-done", has_text="elabFTW")).to_contain_text(
        f"elabFTW: created, id {elabftw['id']}")
    text = result.inner_text()
    assert "not used" not in text and "()" not in text
    screenshot(result, "browser-entries-result.png")


def test_a_new_entry_from_the_result_panel_lands_in_the_project(app: Page, voila_server: VoilaServer) -> None:
    project = _create_imaging_project(app, voila_server.projects_dir, "IMG654322")
    panel = app.locator(".metafold-entries")
    expect(panel).to_be_visible()
    panel.get_by_label("Entry kind", exact=True).select_option(label="Imaging session")
    panel.get_by_label("Title", exact=True).fill("First heat-shock session")
    panel.get_by_role("button", name=re.compile(r"^\W*Create entry$")).click()
    shown = panel.locator(".metafold-entry-path")
    expect(shown).to_be_visible()
    entry = project / shown.inner_text().strip()
    assert entry.is_file() and entry.suffix == ".md"
    assert "First heat-shock session" in entry.read_text(encoding="utf-8")
    panel.get_by_role("button", name=re.compile(r"^\W*Publish to elabFTW$")).click()
    expect(panel.locator(".metafold-entry-summary")).to_contain_text(
        f"add section {entry.relative_to(project).as_posix()}")
    expect(panel.locator(".metafold-error")).to_have_count(0)
    screenshot(panel, "browser-entries-new-entry.png")
