"""The create app through JupyterHub's proxy, beside the same app served directly; kernels of closed pages.

Three ways to serve ``voila_apps/create_project.ipynb``, measured in one run:

  Voila, direct       standalone Voila with the app's voila.json (``scripts/app``: a preheated
                      kernel pool of 1), as ``bench_tti.py`` measures it;
  hub, via proxy      a real JupyterHub (``deploy/jupyterhub/jupyterhub_config_local.py``) with
                      configurable-http-proxy: ``/user/ada/voila/render/...`` on the hub's address,
                      Voila running as an extension of ada's single-user server (no preheating:
                      every page starts its kernel);
  hub, no proxy       the same single-user server on its own port (the hub's login cookie works
                      there too), which separates what the proxy adds from what the server does.

Time to interactive as in ``bench_tti.py``: from navigation start to the app visible, and to a
typed character round-tripped through the kernel, in a fresh browser context (empty cache;
the hub's login cookies are copied in); every page is closed as a tab is (``beforeunload``
runs, so Voila shuts its kernel down); a load starts only when every server is idle; the three
alternate. Medians of ``--loads`` loads after one warm-up each.

Second, kernels alive after ``--pages`` page opens and closes (20 by default), counted as
kernel processes under each server: standalone Voila with Voila's default login handling
(before the fix), with the app's voila.json (after), and through the hub.

    .venv/bin/python benchmarks/bench_hub_tti.py [--loads N] [--pages N]
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import bench_tti  # noqa: E402 - the same measurement, the same selectors
from browser_support import kernel_processes  # noqa: E402 - kernels counted as the browser tests count them

ROOT = Path(__file__).resolve().parent.parent
APPS = ROOT / "voila_apps"
HUB_CONFIG = ROOT / "deploy" / "jupyterhub" / "jupyterhub_config_local.py"
APP_PATH = "voila/render/voila_apps/create_project.ipynb"
USER, PASSWORD = "ada", secrets.token_hex(8)
CREATE_APP = bench_tti.APPS_UNDER_TEST[0]
BEFORE_FIX = "--Voila.identity_provider_class=jupyter_server.auth.identity.PasswordIdentityProvider"


@dataclass
class Served:
    """One way of serving the app: its URL, the processes to watch, and the measurements."""

    name: str
    url: str
    pids: list[int]
    visible: list[float] = field(default_factory=list)
    interactive: list[float] = field(default_factory=list)


def _wait_for(url: str, process: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=10):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer means the server is up
        except (urllib.error.URLError, OSError):
            time.sleep(0.25)
    raise SystemExit(f"{what} did not answer on {url}")


def _stop(process: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def start_voila(folder: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    """Standalone Voila serving a copy of the create app with the app's voila.json (as bench_tti)."""
    folder.mkdir(parents=True)
    for name in ("create_project.ipynb", "voila.json", "jupyter_config.json"):
        if (APPS / name).exists():
            shutil.copy(APPS / name, folder / name)
    port = bench_tti.free_port()
    log = folder / "voila.log"
    env = {**os.environ, "METAFOLD_PROJECTS_DIR": str(folder / "projects")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("voila")), "create_project.ipynb", "--no-browser", f"--port={port}",
             "--Voila.port_retries=0", "--Voila.ip=127.0.0.1", *extra],
            cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    _wait_for(url + "voila/static/extension.js", process, log, "voila")
    return process, url


def start_hub(base: Path) -> tuple[subprocess.Popen, str]:
    """JupyterHub with its proxy on 127.0.0.1, the facility configuration on one machine."""
    base.mkdir(parents=True)
    bin_dir = Path(sys.executable).parent
    port = bench_tti.free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith(("ELABFTW_", "OMERO_"))}
    env.update({"PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", "METAFOLD_HUB_STATE_DIR": str(base / "state"),
                "METAFOLD_HUB_PORT": str(port), "METAFOLD_HUB_PASSWORD": PASSWORD, "METAFOLD_HUB_USERS": USER,
                "METAFOLD_HUB_PROJECTS_ROOT": str(base / "projects"),
                "METAFOLD_HUB_TEMPLATES_DIR": str(base / "templates"),
                "METAFOLD_HUB_SECRETS_DIR": str(base / "secrets")})
    log = base / "jupyterhub.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(bin_dir / "jupyterhub"), "-f", str(HUB_CONFIG)], cwd=base, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    _wait_for(url + "hub/api", process, log, "jupyterhub")
    return process, url


def log_in(browser: Browser, hub_url: str) -> dict:
    """Log in through the hub's page and launch the server; the browser state holding the login cookies."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(bench_tti.TIMEOUT_MS)
    page.goto(f"{hub_url}hub/login?next=/user/{USER}/{APP_PATH}")
    page.get_by_label("Username:").fill(USER)
    page.get_by_label("Password:").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Launch Server").click()
    page.locator(CREATE_APP.root).wait_for(state="visible")
    state = context.storage_state()
    page.close(run_before_unload=True)
    context.close()
    return state


def server_url(user: str) -> str:
    """The single-user server's own address (``JUPYTERHUB_SERVICE_URL`` in its environment)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = dict(item.split("=", 1) for item in (entry / "environ").read_bytes().decode(errors="replace")
                       .split("\0") if "=" in item)
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if env.get("JUPYTERHUB_USER") == user and b"jupyterhub-singleuser" in command:
            return env["JUPYTERHUB_SERVICE_URL"]
    raise SystemExit(f"no single-user server of {user} found")


def load(browser: Browser, url: str, state: dict | None) -> tuple[float, float]:
    """One page load as bench_tti.load, with the login cookies, closed as a tab (its kernel shut down)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, storage_state=state)
    page = context.new_page()
    try:
        return bench_tti.measure_page(page, url, CREATE_APP)
    finally:
        page.close(run_before_unload=True)
        context.close()


def wait_until_idle(pids: list[int]) -> None:
    bench_tti.wait_until_warm(tuple(bench_tti.App("", Path(), "", "", "", process=_Pid(pid)) for pid in pids))


class _Pid:
    """What bench_tti.wait_until_warm needs of a process: its pid."""

    def __init__(self, pid: int):
        self.pid = pid


def kernels_under(pid: int) -> int:
    """Kernel processes descended from ``pid`` (counted as the browser tests count them)."""
    return len(kernel_processes(pid))


def kernels_after_pages(browser: Browser, url: str, pid: int, pages: int, state: dict | None) -> int:
    """Open and close ``pages`` pages (as tabs), then count the kernels once the count is steady for 3 s."""
    for _ in range(pages):
        context = browser.new_context(storage_state=state)
        page = context.new_page()
        page.set_default_timeout(bench_tti.TIMEOUT_MS)
        page.goto(url)
        page.locator(CREATE_APP.root).wait_for(state="visible")
        page.close(run_before_unload=True)
        context.close()
    last, steady_since, deadline = -1, time.monotonic(), time.monotonic() + 30
    while time.monotonic() < deadline:
        count = kernels_under(pid)
        if count != last:
            last, steady_since = count, time.monotonic()
        elif time.monotonic() - steady_since >= 3:
            break
        time.sleep(0.25)
    return last


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=7, help="measured page loads per way of serving (default 7)")
    parser.add_argument("--pages", type=int, default=20, help="pages opened and closed for the kernel count (20)")
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("Chromium is missing (scripts/browser installs it)")
    if shutil.which("configurable-http-proxy", path=f"{Path(sys.executable).parent}{os.pathsep}"
                    f"{os.environ.get('PATH', '')}") is None:
        raise SystemExit("configurable-http-proxy is missing (scripts/setup-env dev installs it)")
    started: list[subprocess.Popen] = []
    kernels: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="metafold-hub-tti-") as scratch_name:
        scratch = Path(scratch_name)
        try:
            voila, voila_url = start_voila(scratch / "voila")
            started.append(voila)
            hub, hub_url = start_hub(scratch / "hub")
            started.append(hub)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=bench_tti.CHROMIUM_ARGS)
                state = log_in(browser, hub_url)
                direct_server = server_url(USER) + APP_PATH
                ways = (Served("Voila, direct", voila_url, [voila.pid]),
                        Served("hub, via proxy", f"{hub_url}user/{USER}/{APP_PATH}", [hub.pid]),
                        Served("hub, no proxy", direct_server, [hub.pid]))
                for round_ in range(args.loads + 1):  # round 0 warms caches and is not counted
                    for way in (ways if round_ % 2 else ways[::-1]):
                        wait_until_idle([voila.pid, hub.pid])
                        visible, interactive = load(browser, way.url, None if way is ways[0] else state)
                        if round_:
                            way.visible.append(visible)
                            way.interactive.append(interactive)
                # kernels alive after N pages: with the fix (the app's voila.json), before it, via the hub
                wait_until_idle([voila.pid, hub.pid])
                kernels["standalone Voila, app's voila.json (fixed)"] = kernels_after_pages(
                    browser, voila_url, voila.pid, args.pages, None)
                before, before_url = start_voila(scratch / "voila-before", BEFORE_FIX)
                started.append(before)
                kernels["standalone Voila, Voila's own login handling (before)"] = kernels_after_pages(
                    browser, before_url, before.pid, args.pages, None)
                kernels["JupyterHub user server, via proxy"] = kernels_after_pages(
                    browser, ways[1].url, hub.pid, args.pages, state)
                browser.close()
        finally:
            for process in reversed(started):
                _stop(process)
    print(f"Time to interactive of the create app in headless Chromium, median of {args.loads} loads each "
          "after one warm-up load;")
    print("every page closed as a tab (its kernel shut down), every load with the servers idle.")
    header = f"{'served':<18}{'visible ms':>12}{'interactive ms':>16}{'min':>8}{'max':>8}"
    print(header)
    print("-" * len(header))
    for way in ways:
        print(f"{way.name:<18}{statistics.median(way.visible):>12.0f}{statistics.median(way.interactive):>16.0f}"
              f"{min(way.interactive):>8.0f}{max(way.interactive):>8.0f}")
    medians = {way.name: statistics.median(way.interactive) for way in ways}
    print(f"proxy's share: via proxy / no proxy = {medians['hub, via proxy'] / medians['hub, no proxy']:.2f}x; "
          f"hub via proxy / Voila direct = {medians['hub, via proxy'] / medians['Voila, direct']:.2f}x")
    print()
    print(f"Kernels alive after {args.pages} pages opened and closed:")
    for name, count in kernels.items():
        print(f"  {name:<55}{count:>4}")
    print(json.dumps({"interactive_ms": medians, "kernels_after_pages": kernels}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
