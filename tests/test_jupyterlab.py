"""The widgets in a real JupyterLab 4, in headless Chromium, as a researcher uses them in a notebook.

A JupyterLab server (token login, 127.0.0.1, its own settings and workspaces folders) serves
a scratch folder of notebooks. As JupyterLab's own UI tests do, the server exposes its
application to the page (``LabApp.expose_app_in_browser``): the tests open notebooks and run
their cells through ``window.jupyterapp``'s commands, type and tick in the rendered widgets
like a person, and read ``form.value`` back from the notebook's kernel. The dark theme test
checks every visible text of the create app against its background (WCAG AA contrast, 4.5:1).
Screenshots go to ``test-artifacts/``. Without JupyterLab, Chromium or Playwright the tests are
skipped (and fail in CI, where all of them must exist).
"""
from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from browser_support import (
    Browser,
    Page,
    chromium,
    expect,
    free_port,
    isolated_environment,
    missing,
    require_browser_tools,
    screenshot,
    stop_process,
    wait_until_answering,
)

TEMPLATE_FOLDER = "lab-templates"
TEMPLATE_YAML = """\
id: lab-sample-prep
name: Lab Sample Prep
version: 1.0.0
type: experiment
description: A small template for the JupyterLab tests.
project_name: "{sample_id}_{title}"
folders: [raw_data, analysis]
integrations: {elabftw: false, omero: false}
fields:
  sample_id:
    type: text
    required: true
    pattern: "^S[0-9]{3}$"
    help_text: The sample's number, e.g. S042.
    validation_message: Use S and three digits, e.g. S042.
  title:
    type: text
    required: true
  temperature:
    type: decimal
    unit: degC
    default: 21
  stains:
    type: checkbox_group
    options: [DAPI, GFP]
  use_cryo:
    type: checkbox
    label: Cryo preparation
  cryo_protocol:
    type: text
    label: Cryo protocol
    required: true
    condition: {field: use_cryo, equals: true}
"""
TEMPLATE_OPTION = f"Lab Sample Prep 1.0.0 ({TEMPLATE_FOLDER})"
FORM_CELL = f"""\
from metafold_widgets import load_template
from metafold_widgets.widgets import TemplateForm

form = TemplateForm(load_template({json.dumps(f"{TEMPLATE_FOLDER}/sample-prep.yaml")}))
form"""
APP_CELL = """\
from metafold_widgets.session import Session
from metafold_widgets.widgets import CreateProjectApp

app = CreateProjectApp(Session.from_environment())
app"""


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    projects_dir: Path


def _notebook(path: Path, source: str) -> None:
    """Write a one-cell Python notebook (no outputs) to ``path``."""
    path.write_text(json.dumps({
        "cells": [{"cell_type": "code", "execution_count": None, "id": "cell-1", "metadata": {}, "outputs": [],
                   "source": source.splitlines(keepends=True)}],
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5}, indent=1), encoding="utf-8")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab serving a folder with the test notebooks and a lab template folder; stopped afterwards."""
    require_browser_tools()
    jupyter_lab = Path(sys.executable).with_name("jupyter-lab")
    if not jupyter_lab.exists():
        missing(f"JupyterLab is not installed beside {sys.executable} (scripts/setup-env dev installs it)")
    base = tmp_path_factory.mktemp("jupyterlab")
    root, projects, settings = base / "notebooks", base / "projects", base / "lab-settings"
    for folder in (root / TEMPLATE_FOLDER, projects, settings / "@jupyterlab" / "apputils-extension"):
        folder.mkdir(parents=True)
    (root / TEMPLATE_FOLDER / "sample-prep.yaml").write_text(TEMPLATE_YAML, encoding="utf-8")
    # no news or update checks (no internet here): answer JupyterLab's question up front
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}), encoding="utf-8")
    token = secrets.token_hex(16)
    port = free_port()
    env = isolated_environment(base, {
        "METAFOLD_PROJECTS_DIR": str(projects),
        "METAFOLD_TEMPLATES_DIR": str(root / TEMPLATE_FOLDER),
        "JUPYTER_CONFIG_DIR": str(base / "jupyter-config"),  # not the developer's own settings
        "JUPYTER_RUNTIME_DIR": str(base / "jupyter-runtime"),
    })
    command = [str(jupyter_lab), "--no-browser", f"--port={port}", "--ServerApp.port_retries=0",
               "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               "--LabApp.expose_app_in_browser=True", f"--LabApp.user_settings_dir={settings}",
               f"--LabApp.workspaces_dir={base / 'lab-workspaces'}"]
    if os.geteuid() == 0:  # CI runs as root; a Jupyter server refuses that unless told
        command.append("--allow-root")
    log = base / "jupyterlab.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=base, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_answering(url, process, log, "api", "jupyter lab")
        yield Lab(url, token, root, projects)
    finally:
        stop_process(process)


@pytest.fixture(scope="module")
def browser(lab: Lab) -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _open_notebook(browser: Browser, lab: Lab, name: str, source: str, ready: str) -> Page:
    """Write notebook ``name``, open it in JupyterLab, run its cell; the page once ``ready`` is visible."""
    _notebook(lab.root / name, source)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{lab.url}lab?reset&token={lab.token}")
    page.wait_for_function("() => window.jupyterapp !== undefined")
    page.evaluate("""async (path) => {
        const app = window.jupyterapp;
        await app.restored;
        const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
        await panel.context.ready;
        await panel.sessionContext.ready;
        app.shell.activateById(panel.id);
        window.metafoldPanel = panel;
        await app.commands.execute('notebook:run-all-cells');
    }""", name)
    expect(page.locator(ready)).to_be_visible()
    return page


def _kernel_json(page: Page, expression: str) -> Any:
    """``expression`` evaluated in the open notebook's kernel, returned through JSON."""
    code = f"import json as _json\nprint(_json.dumps({expression}, default=str))"
    text = page.evaluate("""async (code) => {
        const kernel = window.metafoldPanel.sessionContext.session.kernel;
        const future = kernel.requestExecute({code, store_history: false});
        let out = '';
        future.onIOPub = (msg) => {
            if (msg.header.msg_type === 'stream') out += msg.content.text;
            if (msg.header.msg_type === 'error') out += 'ERROR ' + msg.content.ename + ': ' + msg.content.evalue;
        };
        await future.done;
        return out;
    }""", code)
    assert not text.startswith("ERROR"), text
    return json.loads(text)


def _kernel_json_until(page: Page, expression: str, wanted: Callable[[Any], bool], seconds: float = 15) -> Any:
    """``expression`` in the kernel once ``wanted`` holds for it (its last value otherwise).

    What is typed in the page reaches the kernel as a widget message, and the browser holds
    widget messages back while the kernel is busy (ipywidgets' throttling), so an execute
    request sent right after typing can overtake them.
    """
    deadline = time.monotonic() + seconds
    while True:
        value = _kernel_json(page, expression)
        if wanted(value) or time.monotonic() > deadline:
            return value
        page.wait_for_timeout(100)


@pytest.fixture
def form_page(browser: Browser, lab: Lab, request: pytest.FixtureRequest) -> Iterator[Page]:
    page = _open_notebook(browser, lab, f"{request.node.name}.ipynb", FORM_CELL, ".metafold-form")
    try:
        yield page
    finally:
        page.context.close()


@pytest.fixture
def app_page(browser: Browser, lab: Lab, request: pytest.FixtureRequest) -> Iterator[Page]:
    name = re.sub(r"\W", "_", request.node.name)
    page = _open_notebook(browser, lab, f"{name}.ipynb", APP_CELL, ".metafold-create-app")
    try:
        yield page
    finally:
        page.context.close()


def _field(page: Page, key: str):
    return page.locator(f".metafold-field-{key}")


def _pick_template(page: Page) -> None:
    page.get_by_label("Template", exact=True).select_option(value=TEMPLATE_OPTION)
    expect(_field(page, "sample_id")).to_be_visible()


# --- tests ---------------------------------------------------------------------------------

def test_typing_and_ticking_in_the_page_reach_form_value(form_page: Page) -> None:
    page = form_page
    _field(page, "sample_id").locator("input").fill("S042")
    _field(page, "title").locator("input").fill("Membrane prep")
    _field(page, "temperature").locator("input").fill("4,5")  # a decimal comma
    _field(page, "stains").get_by_label("GFP").check()
    _field(page, "use_cryo").locator("input[type=checkbox]").check()
    _field(page, "cryo_protocol").locator("input").fill("Plunge v2")
    expect(page.locator(".metafold-summary")).to_contain_text("All answers are valid")
    value = _kernel_json(page, "form.value")
    assert value["sample_id"] == "S042"
    assert value["title"] == "Membrane prep"
    assert value["temperature"] == pytest.approx(4.5)
    assert value["stains"] == ["GFP"]
    assert value["use_cryo"] is True
    assert value["cryo_protocol"] == "Plunge v2"
    assert _kernel_json(page, "form.valid") is True
    screenshot(page.locator(".metafold-form"), "jupyterlab-form.png")


def test_a_condition_hides_fields_in_the_page_and_in_form_value(form_page: Page) -> None:
    page = form_page
    cryo, protocol = _field(form_page, "use_cryo").locator("input[type=checkbox]"), _field(page, "cryo_protocol")
    expect(protocol).to_be_hidden()
    assert "cryo_protocol" not in _kernel_json(page, "form.value")
    cryo.check()
    expect(protocol).to_be_visible()
    protocol.locator("input").fill("typed, then hidden")
    typed = _kernel_json_until(page, "form.value", lambda v: v.get("cryo_protocol") == "typed, then hidden")
    assert typed["cryo_protocol"] == "typed, then hidden"
    cryo.uncheck()
    expect(protocol).to_be_hidden()
    value = _kernel_json_until(page, "form.value", lambda v: v.get("use_cryo") is False)
    assert value["use_cryo"] is False
    assert value.get("cryo_protocol") is None


def test_create_project_app_creates_a_project_from_a_notebook(app_page: Page, lab: Lab) -> None:
    page = app_page
    _pick_template(page)
    _field(page, "sample_id").locator("input").fill("S007")
    _field(page, "title").locator("input").fill("Notebook project")
    create = page.get_by_role("button", name=re.compile(r"^\W*Create project$"))
    expect(create).to_be_enabled()
    create.click()
    path = page.locator(".metafold-result .metafold-path")
    expect(path).to_be_visible()
    project = Path(path.inner_text().strip())
    assert project.parent == lab.projects_dir
    assert project.name == "S007_Notebook_project"
    assert (project / "raw_data").is_dir() and (project / "analysis").is_dir()
    record = json.loads((project / "metafold.json").read_text(encoding="utf-8"))
    assert record["template"]["id"] == "lab-sample-prep"
    assert record["answers"]["title"] == "Notebook project"
    screenshot(page.locator(".metafold-create-app"), "jupyterlab-create-app.png")


_CONTRAST_JS = """(root) => {
    const rgba = (css) => {
        const parts = (css.match(/rgba?\\(([^)]*)\\)/) || [null, ''])[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
        return parts.length >= 3 ? [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1] : null;
    };
    const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
    const background = (element) => {
        const layers = [];
        for (let e = element; e; e = e.parentElement) {
            const colour = rgba(getComputedStyle(e).backgroundColor);
            if (colour && colour[3] > 0) { layers.push(colour); if (colour[3] >= 1) break; }
        }
        return layers.reverse().reduce((below, layer) => over(layer, below), [255, 255, 255, 1]);
    };
    const luminance = (c) => {
        const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const problems = [];
    let checked = 0;
    for (const element of root.querySelectorAll('*')) {
        const style = getComputedStyle(element);
        const field = ['INPUT', 'SELECT', 'TEXTAREA'].includes(element.tagName);
        const text = [...element.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
        if (!(field || text) || !element.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
        if (element.closest(':disabled, [disabled]') || style.fontSize === '0px') continue;
        if (element.getBoundingClientRect().width <= 1) continue;  // visually hidden (read by screen readers)
        const back = background(element);
        const fore = over(rgba(style.color), back);
        const [hi, lo] = [luminance(fore), luminance(back)].sort((a, b) => b - a);
        const ratio = (hi + 0.05) / (lo + 0.05);
        checked += 1;
        if (ratio < 4.5) {
            problems.push(`${element.tagName.toLowerCase()}.${[...element.classList].join('.')} ` +
                          `"${(element.value || element.textContent).trim().slice(0, 40)}": ${ratio.toFixed(2)} ` +
                          `(${style.color} on rgb(${back.slice(0, 3).map(Math.round).join(', ')}))`);
        }
    }
    return {checked, problems};
}"""


@pytest.mark.parametrize("theme", ["JupyterLab Dark", "JupyterLab Light"])
def test_the_create_app_is_readable_in_each_theme(app_page: Page, theme: str) -> None:
    """Every visible text (labels, help, errors, summary, plan, inputs) keeps 4.5:1 contrast to its background."""
    page = app_page
    page.evaluate("(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme)
    light = "true" if theme == "JupyterLab Light" else "false"
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}' && "
                           f"document.body.dataset.jpThemeName === '{theme}'")
    _pick_template(page)
    app = page.locator(".metafold-create-app")
    _field(page, "sample_id").locator("input").fill("S1")  # an error under the field and in the summary
    _field(page, "title").locator("input").fill("Readable")
    expect(_field(page, "sample_id").locator(".metafold-error")).to_contain_text("three digits")
    with_errors = app.evaluate(_CONTRAST_JS)
    screenshot(app, f"jupyterlab-{theme.split()[-1].lower()}-theme-errors.png")
    _field(page, "sample_id").locator("input").fill("S001")
    expect(page.locator(".metafold-summary")).to_contain_text("All answers are valid")
    page.get_by_role("button", name=re.compile(r"^\W*Preview$")).click()
    expect(page.locator(".metafold-plan")).to_be_visible()
    with_plan = app.evaluate(_CONTRAST_JS)
    screenshot(app, f"jupyterlab-{theme.split()[-1].lower()}-theme-preview.png")
    assert with_errors["checked"] > 15 and with_plan["checked"] > 15  # labels, help, inputs, messages, plan
    problems = with_errors["problems"] + with_plan["problems"]
    assert problems == [], "\n".join(problems)
