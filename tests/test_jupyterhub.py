"""End to end through a real JupyterHub: two researchers log in and create projects in the app.

``deploy/jupyterhub/jupyterhub_config_local.py`` (the facility's ``jupyterhub_config.py`` with
dummy logins and servers as the current user) runs with its real proxy,
``configurable-http-proxy``, on 127.0.0.1. A fake elabFTW server tells the users' API keys
apart: ada's key reaches her server through her auth state, grace's through the hub's
secrets folder. In headless Chromium each user follows a link to the create app at
``/user/<name>/voila/render/voila_apps/create_project.ipynb``, logs in, launches the server,
picks the facility's shared template and creates a project. Then: each project is in its own
user's folder, each elabFTW experiment was created with that user's key, neither server has the
other's key, one user cannot open the other's server, closed pages free their kernels, and
everything the hub started is gone after it stops. Without JupyterHub, its proxy, Chromium or
Playwright the tests are skipped (and fail in CI, where all of them must exist).
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest
from browser_support import (
    ROOT,
    UI_TIMEOUT_MS,
    Browser,
    Page,
    chromium,
    expect,
    free_port,
    isolated_environment,
    kernel_processes,
    missing,
    require_browser_tools,
    screenshot,
    stop_process,
    wait_until_answering,
)

from metafold_widgets.testing.fake_elabftw import FakeElabftw

HUB_CONFIG = ROOT / "deploy" / "jupyterhub" / "jupyterhub_config_local.py"
APP = "voila/render/voila_apps/create_project.ipynb"
PASSWORD = "not-a-real-password"
KEYS = {"key-a": {"userid": 1, "team": 1, "can_write": True},
        "key-b": {"userid": 3, "team": 2, "can_write": True}}
USERS = {"ada": "key-a", "grace": "key-b"}  # each user's elabFTW key
SHARED_TEMPLATE = """\
id: facility-imaging-request
name: Facility Imaging Request
version: 1.0.0
type: experiment
description: The facility's shared template, from a read-only folder.
project_name: "{request_id}_{title}"
folders: [raw_data, analysis]
integrations:
  elabftw: {enabled_by: create_elabftw_entry, title: "{title}"}
  omero: false
fields:
  request_id: {type: text, required: true, pattern: "^REQ[0-9]{3}$"}
  title: {type: text, required: true}
  create_elabftw_entry: {type: checkbox, label: Create elabFTW experiment, default: true}
"""
ANSWERS = {"ada": ("REQ101", "Ada membrane imaging"), "grace": ("REQ202", "Grace spindle imaging")}


@dataclass
class Hub:
    url: str
    api_url: str  # what each user's server calls the hub (identifies this hub's processes)
    run_marker: str  # in the hub's and the proxy's environment
    projects_root: Path
    templates: Path
    elabftw: FakeElabftw
    log: Path
    pages: dict[str, Page] = field(default_factory=dict)
    projects: dict[str, Path] = field(default_factory=dict)


# --- processes -----------------------------------------------------------------------------

def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {key.decode(errors="replace"): value.decode(errors="replace") for key, value in pairs}


def _processes_of(hub: Hub) -> dict[int, dict[str, str]]:
    """Every process this hub started, with its environment: the proxy, the users' servers and kernels."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            env = _environ(int(entry.name))
            if env.get("METAFOLD_HUB_RUN") == hub.run_marker or env.get("JUPYTERHUB_API_URL") == hub.api_url:
                found[int(entry.name)] = env
    return found


def _server_pid(hub: Hub, user: str) -> int:
    """The process id of ``user``'s single-user server."""
    for pid, env in _processes_of(hub).items():
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if env.get("JUPYTERHUB_USER") == user and b"jupyterhub-singleuser" in command:
            return pid
    raise AssertionError(f"no server process for {user}")


# --- the hub -------------------------------------------------------------------------------

def _require_hub_tools() -> tuple[Path, str]:
    require_browser_tools()
    jupyterhub = Path(sys.executable).with_name("jupyterhub")
    if not jupyterhub.exists():
        missing(f"jupyterhub is not installed beside {sys.executable} (scripts/setup-env dev installs it)")
    proxy = shutil.which("configurable-http-proxy", path=f"{jupyterhub.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if proxy is None:
        missing("configurable-http-proxy is not installed (scripts/setup-env dev installs it from npm)")
    return jupyterhub, proxy


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A real JupyterHub and its proxy on 127.0.0.1, with a fake elabFTW server; all stopped afterwards."""
    jupyterhub, _ = _require_hub_tools()
    base = tmp_path_factory.mktemp("jupyterhub")
    templates = base / "facility-templates"
    templates.mkdir()
    (templates / "imaging-request.yaml").write_text(SHARED_TEMPLATE, encoding="utf-8")
    (templates / "imaging-request.yaml").chmod(0o444)
    templates.chmod(0o555)  # read-only for everyone (root still could: the users' servers do not try)
    secrets_dir = base / "secrets"
    secrets_dir.mkdir(mode=0o700)
    (secrets_dir / "grace.env").write_text(f"ELABFTW_API_KEY={USERS['grace']}\n", encoding="utf-8")
    (secrets_dir / "grace.env").chmod(0o600)
    auth_state = base / "auth-state.json"  # what a real authenticator would attach at ada's login
    auth_state.write_text(json.dumps({"ada": {"elabftw_api_key": USERS["ada"]}}), encoding="utf-8")
    port, api_port = free_port(), free_port()
    run_marker = uuid.uuid4().hex
    with FakeElabftw(keys=KEYS) as elabftw:
        env = isolated_environment(base, {
            "PATH": f"{jupyterhub.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "METAFOLD_HUB_RUN": run_marker,
            "METAFOLD_HUB_STATE_DIR": str(base / "state"),
            "METAFOLD_HUB_PORT": str(port),
            "METAFOLD_HUB_API_PORT": str(api_port),
            "METAFOLD_HUB_PASSWORD": PASSWORD,
            "METAFOLD_HUB_USERS": ",".join(USERS),
            "METAFOLD_HUB_AUTH_STATE": str(auth_state),
            "JUPYTERHUB_CRYPT_KEY": secrets.token_hex(32),
            "METAFOLD_HUB_TEMPLATES_DIR": str(templates),
            "METAFOLD_HUB_PROJECTS_ROOT": str(base / "projects"),
            "METAFOLD_HUB_SECRETS_DIR": str(secrets_dir),
            "ELABFTW_URL": elabftw.url,
        })
        log = base / "jupyterhub.log"
        with log.open("wb") as out:
            process = subprocess.Popen([str(jupyterhub), "-f", str(HUB_CONFIG)], cwd=base, env=env,
                                       stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        hub = Hub(f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{api_port}/hub/api", run_marker,
                  base / "projects", templates, elabftw, log)
        try:
            wait_until_answering(hub.url, process, log, "hub/api", "jupyterhub")
            yield hub
        finally:
            stop_process(process)  # the hub stops the users' servers and its proxy on the way out
            left = _processes_of(hub)
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            templates.chmod(0o755)
            assert not left, f"still running after the hub stopped: {sorted(left)}"


@pytest.fixture(scope="module")
def browser(hub: Hub) -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _open_app_as(browser: Browser, hub: Hub, user: str) -> Page:
    """Follow a link to the create app, log in, launch the server: the page with the app shown."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(f"{hub.url}hub/login?next=/user/{user}/{APP}")
    page.get_by_label("Username:").fill(user)
    page.get_by_label("Password:").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    launch = page.get_by_role("button", name=re.compile(r"Launch"))
    expect(launch).to_be_visible()  # "Server not running": the first visit starts it
    launch.click()  # the server starts, then Voila starts the page's kernel: allow for both
    expect(page.locator(".metafold-create-app")).to_be_visible(timeout=2 * UI_TIMEOUT_MS)
    assert page.url.startswith(f"{hub.url}user/{user}/{APP}")
    return page


def _create_with_shared_template(page: Page, request_id: str, title: str) -> Path:
    picker = page.get_by_label("Template", exact=True)
    values = picker.locator("option").evaluate_all("options => options.map(o => o.value)")
    shared = [value for value in values if value.startswith("Facility Imaging Request 1.0.0")]
    assert shared, f"the shared template is not offered: {values}"
    picker.select_option(value=shared[0])
    page.locator(".metafold-field-request_id input").fill(request_id)
    page.locator(".metafold-field-title input").fill(title)
    create = page.get_by_role("button", name=re.compile(r"^\W*Create project$"))
    expect(create).to_be_enabled()
    create.click()
    path = page.locator(".metafold-result .metafold-path")
    expect(path).to_be_visible()
    expect(page.locator(".metafold-result .metafold-outcome-done")).to_contain_text("elabFTW")
    return Path(path.inner_text().strip())


@pytest.fixture(scope="module")
def created(browser: Browser, hub: Hub) -> Hub:
    """Both users log in through the browser and create a project with the shared template."""
    for user, (request_id, title) in ANSWERS.items():
        page = _open_app_as(browser, hub, user)
        hub.pages[user] = page
        hub.projects[user] = _create_with_shared_template(page, request_id, title)
        screenshot(page.locator(".metafold-result"), f"jupyterhub-{user}-result.png")
    return hub


# --- tests ---------------------------------------------------------------------------------

def test_each_project_lands_in_its_own_users_folder(created: Hub) -> None:
    for user, (request_id, title) in ANSWERS.items():
        project = created.projects[user]
        assert project.parent == created.projects_root / user
        assert project.name == f"{request_id}_{title.replace(' ', '_')}"
        record = json.loads((project / "metafold.json").read_text(encoding="utf-8"))
        assert record["template"]["id"] == "facility-imaging-request"
        assert record["answers"]["title"] == title
    assert sorted(p.name for p in created.projects_root.iterdir()) == sorted(ANSWERS)


def test_each_experiment_is_created_with_its_users_key(created: Hub) -> None:
    experiments = {e["title"]: e for e in created.elabftw.experiments()}
    assert sorted(experiments) == sorted(title for _, title in ANSWERS.values())
    for user, (_, title) in ANSWERS.items():
        assert experiments[title]["userid"] == KEYS[USERS[user]]["userid"], user
        record = json.loads((created.projects[user] / "metafold.json").read_text(encoding="utf-8"))
        elabftw = record["integrations"]["elabftw"]
        assert elabftw["state"] == "done"
        assert elabftw["id"] == experiments[title]["id"]


def test_no_server_holds_another_users_secret(created: Hub) -> None:
    processes = _processes_of(created)
    for user, key in USERS.items():
        theirs = [env for env in processes.values() if env.get("JUPYTERHUB_USER") == user]
        assert theirs, f"no processes of {user}'s server"
        assert {env.get("ELABFTW_API_KEY") for env in theirs} == {key}, user
        assert all(env.get("METAFOLD_PROJECTS_DIR") == str(created.projects_root / user) for env in theirs)
        assert all(env.get("METAFOLD_TEMPLATES_DIR") == str(created.templates) for env in theirs)
    hub_side = [env for env in processes.values() if "JUPYTERHUB_USER" not in env]
    assert hub_side and not any(env.get("ELABFTW_API_KEY") for env in hub_side)  # the proxy


def test_a_user_cannot_open_another_users_server(created: Hub) -> None:
    page = created.pages["ada"].context.new_page()
    grace_kernels = len(kernel_processes(_server_pid(created, "grace")))
    response = page.goto(f"{created.url}user/grace/{APP}")
    assert response is not None and response.status == 403
    expect(page.locator("body")).to_contain_text("403")
    expect(page.locator(".metafold-create-app")).to_have_count(0)
    response = page.goto(f"{created.url}user/grace/api/contents")
    assert response is not None and response.status == 403
    assert len(kernel_processes(_server_pid(created, "grace"))) == grace_kernels
    page.close()


def test_closed_pages_free_their_kernels(created: Hub) -> None:
    for user, page in created.pages.items():
        server = _server_pid(created, user)
        assert len(kernel_processes(server)) == 1
        context = page.context
        page.close(run_before_unload=True)  # as closing the tab does: Voila asks to shut the kernel down
        context.close()
        deadline = time.monotonic() + 30
        while kernel_processes(server) and time.monotonic() < deadline:
            time.sleep(0.25)  # polling processes; the browser checks never sleep
        assert kernel_processes(server) == [], f"{user}'s kernel lives on after the page closed"
    assert "403 POST" not in created.log.read_text(errors="replace")
