"""Shared machinery of the browser tests: a real Voila server and headless Debian Chromium.

Each test module starts its own Voila server (from ``voila_apps/`` so ``voila.json``
applies) on a free port, with an environment stripped of the developer's own
elabFTW/OMERO/MetaFold settings, and drives it with Playwright. Without Chromium,
Playwright or Voila the tests are skipped (and fail in CI, where all of them must exist).
Screenshots go to ``test-artifacts/``.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping

import pytest

try:
    from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    Browser = Locator = Page = None  # type: ignore[assignment,misc]
    expect = sync_playwright = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parent.parent
APPS = ROOT / "voila_apps"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SERVER_START_SECONDS = 120
UI_TIMEOUT_MS = 60_000  # the first render waits for a kernel, which can take seconds on a busy machine

__all__ = ["APPS", "ARTIFACTS", "ROOT", "Browser", "Locator", "Page", "UI_TIMEOUT_MS", "VoilaServer", "chromium",
           "expect", "free_port", "isolated_environment", "kernel_processes", "missing", "open_app",
           "require_browser_tools", "run_voila", "screenshot", "stop_process", "wait_until_answering"]


def missing(reason: str) -> None:
    """Skip on a developer machine, fail in CI (where Chromium and Playwright must exist)."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


# --- server -------------------------------------------------------------------------------

@dataclass
class VoilaServer:
    """A running Voila server and the folders it was configured with."""

    url: str
    projects_dir: Path
    log: Path
    pid: int = 0  # the server process (its kernels are its descendants)


def require_browser_tools() -> Path:
    """The ``voila`` beside this Python; skips (fails in CI) when a browser-test tool is missing."""
    if sync_playwright is None:
        missing("Playwright is not installed (scripts/setup-env dev installs it)")
    if shutil.which("chromium") is None:
        missing("Chromium is not installed (scripts/browser installs Debian's chromium)")
    voila = Path(sys.executable).with_name("voila")
    if not voila.exists():
        missing(f"voila is not installed beside {sys.executable} (scripts/setup-env dev installs it)")
    return voila


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    return _free_port()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_answering(url: str, process: subprocess.Popen, log: Path,
                          probe: str = "voila/static/extension.js", name: str = "voila") -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited with status {process.returncode}:\n{log.read_text(errors='replace')}")
        try:  # not the notebook itself: that would take the preheated kernel
            with urllib.request.urlopen(url + probe, timeout=5):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer means the server is up
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)  # polling a starting process; the browser checks never sleep
    pytest.fail(f"{name} did not answer on {url} within {SERVER_START_SECONDS} s:\n"
                f"{log.read_text(errors='replace')}")


def wait_until_answering(url: str, process: subprocess.Popen, log: Path, probe: str, name: str) -> None:
    """Wait until ``url + probe`` gives any HTTP answer; fails with ``log`` if ``process`` exits or it takes
    too long."""
    _wait_until_answering(url, process, log, probe, name)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (Voila shuts its kernels down), SIGKILL if it hangs."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM the process group of a server started with ``start_new_session=True``, SIGKILL if it hangs."""
    _stop(process)


def kernel_processes(pid: int) -> list[int]:
    """Process ids of the Jupyter kernels descended from process ``pid`` (Linux ``/proc``)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    family = {pid}
    grew = True
    while grew:
        children = {child for child, parent in parents.items() if parent in family} - family
        family |= children
        grew = bool(children)
    kernels = []
    for child in family - {pid}:
        try:
            command = (Path("/proc") / str(child) / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(part.endswith((b"ipykernel_launcher", b"ipykernel")) for part in command):
            kernels.append(child)
    return kernels


def isolated_environment(base: Path, settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without the developer's own servers and config file, plus ``settings``."""
    return _isolated_environment(base, settings)


def _isolated_environment(base: Path, settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without the developer's own servers and config file, plus ``settings``."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("ELABFTW_", "OMERO_", "METAFOLD_")) or name == "METAFOLD_SHARED"}
    env["METAFOLD_CONFIG"] = str(base / "no-config.yaml")
    env.update(settings)
    return env


@contextmanager
def run_voila(notebook: str, base: Path, projects_dir: Path,
              settings: Mapping[str, str] | None = None) -> Iterator[VoilaServer]:
    """Voila serving ``voila_apps/<notebook>`` with ``METAFOLD_PROJECTS_DIR=projects_dir``.

    ``settings`` adds environment variables (e.g. ``METAFOLD_TEMPLATES_DIR``). The log is
    ``base/voila.log``; the server is stopped on exit.
    """
    voila = require_browser_tools()
    env = _isolated_environment(base, {"METAFOLD_PROJECTS_DIR": str(projects_dir), **(settings or {})})
    port = _free_port()
    log = base / "voila.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(voila), notebook, "--no-browser", f"--port={port}",
             "--Voila.port_retries=0", "--Voila.ip=127.0.0.1"],
            cwd=APPS, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_until_answering(url, process, log)
        yield VoilaServer(url, projects_dir, log, process.pid)
    finally:
        _stop(process)


# --- browser ------------------------------------------------------------------------------

@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Debian Chromium (Playwright cannot download its own browsers here)."""
    require_browser_tools()
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def open_app(browser: Browser, server: VoilaServer, ready: str) -> Iterator[Page]:
    """A fresh page (its own kernel) once the element matching the CSS selector ``ready`` is visible."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(UI_TIMEOUT_MS)
        page.goto(server.url)
        expect(page.locator(ready)).to_be_visible()
        yield page
    finally:
        context.close()


def screenshot(locator: Locator, name: str) -> Path:
    """Save a screenshot of ``locator`` in test-artifacts/, all of it; returns its path.

    Voila scrolls inside a panel, not the page, so parts below the viewport would be
    blank: the viewport is made tall enough for the element first.
    """
    ARTIFACTS.mkdir(exist_ok=True)
    page = locator.page
    size = page.viewport_size or {"width": 1280, "height": 1000}
    bottom = locator.evaluate("""e => {
        for (let p = e.parentElement; p; p = p.parentElement) p.scrollTop = 0;
        return Math.ceil(e.getBoundingClientRect().top + e.scrollHeight);
    }""")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], bottom + 20)})
    path = ARTIFACTS / name
    try:
        locator.screenshot(path=str(path))
    finally:
        page.set_viewport_size(size)
    return path
