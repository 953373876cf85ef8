"""Time to interactive of the create-project Voila app against a 20-text-field baseline, in Chromium.

Each notebook is served by its own Voila server, started from a scratch folder holding
a copy of the notebook and of ``voila_apps/voila.json`` (and ``jupyter_config.json``), so
both run with the app's settings: preheated kernels (a pool of one), stripped sources.
Voila hands every page a kernel that already ran the notebook, then starts the next one
in the background. A load is measured only once every server is warm again (the pool
refilled: each server and its kernels idle), and loads of the two notebooks alternate so
machine load hits both alike. Every load uses a fresh browser context (empty cache).

Per load, in page time from navigation start (``performance.now()``):
  visible      the app root and the input to type in are visible (the create app: its
               first form field; the baseline: its 20th input);
  interactive  a typed character has round-tripped: the kernel re-rendered something
               (the create app: the form summary; the baseline: an echo of the text).

Goal: the create app is interactive within 1.3x the baseline's time (medians).

    .venv/bin/python benchmarks/bench_tti.py [--loads N]
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
APPS = ROOT / "voila_apps"
BASELINE = Path(__file__).resolve().parent / "baseline_20_text.ipynb"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
GOAL_RATIO = 1.3
TIMEOUT_MS = 120_000
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class App:
    """One notebook under test: where it is served and what to wait for and type into."""

    name: str
    notebook: Path
    root: str  # selector of the app root
    target: str  # selector of the input to type into (its first match)
    echo: str  # selector of what the kernel re-renders after a keystroke
    process: subprocess.Popen | None = None
    url: str = ""
    log: Path | None = None
    preheated: int = 0  # page loads that got a preheated kernel (from Voila's log)
    visible: list[float] = field(default_factory=list)
    interactive: list[float] = field(default_factory=list)


APPS_UNDER_TEST = (
    App("create app", APPS / "create_project.ipynb", root=".metafold-create-app",
        target=".metafold-form .metafold-field input[type=text]", echo=".metafold-summary"),
    App("baseline (20 Text)", BASELINE, root=".baseline-root",
        target=".baseline-root .widget-text:nth-child(20) input", echo=".baseline-echo"),
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(app: App, scratch: Path) -> None:
    """Serve ``app.notebook`` from a folder with copies of the notebook and the app's Voila config."""
    folder = scratch / app.notebook.stem
    folder.mkdir()
    shutil.copy(app.notebook, folder / app.notebook.name)
    for config in ("voila.json", "jupyter_config.json"):
        if (APPS / config).exists():
            shutil.copy(APPS / config, folder / config)
    port = free_port()
    env = {**os.environ, "METAFOLD_PROJECTS_DIR": str(scratch / "projects")}
    app.log = folder / "voila.log"
    with app.log.open("wb") as log:
        app.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("voila")), app.notebook.name, "--no-browser", f"--port={port}",
             "--Voila.port_retries=0", "--Voila.ip=127.0.0.1"],
            cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    app.url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            raise SystemExit(f"voila for {app.name} exited:\n{app.log.read_text()}")
        try:  # not the notebook itself: that would take the preheated kernel
            with urllib.request.urlopen(app.url + "voila/static/extension.js", timeout=10):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer means the server is up
        except (urllib.error.URLError, OSError):
            time.sleep(0.25)
    raise SystemExit(f"voila for {app.name} did not answer on {app.url}")


def stop(app: App) -> None:
    if app.process is None:
        return
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(app.process.pid, sig)
            app.process.wait(timeout=wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def _cpu_ticks(root_pids: list[int]) -> int:
    """CPU time (clock ticks) of the given processes and all their descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
    family = set(root_pids)
    grew = True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in family} - family
        grew = bool(children)
        family |= children
    return sum(ticks.get(pid, 0) for pid in family)


def wait_until_warm(apps: tuple[App, ...], quiet: float = 1.5, timeout: float = 120) -> None:
    """Wait until every server and its kernels used < 5% of a CPU for ``quiet`` seconds (pool refilled)."""
    pids = [app.process.pid for app in apps if app.process is not None]
    deadline = time.monotonic() + timeout
    samples: list[tuple[float, int]] = []
    while time.monotonic() < deadline:
        samples.append((time.monotonic(), _cpu_ticks(pids)))
        old = [s for s in samples if s[0] <= samples[-1][0] - quiet]
        if old:
            then, ticks = old[-1]
            if (samples[-1][1] - ticks) / _TICKS <= 0.05 * (samples[-1][0] - then):
                return
        time.sleep(0.25)
    print(f"warning: servers still busy after {timeout:.0f} s; measuring anyway", file=sys.stderr)


def load(browser: Browser, app: App) -> tuple[float, float]:
    """One page load: ms from navigation start to visible and to a round-tripped keystroke."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        return measure_page(context.new_page(), app.url, app)
    finally:
        context.close()


def measure_page(page: Page, url: str, app: App) -> tuple[float, float]:
    """Open ``url`` in ``page``: ms from navigation start to ``app`` visible, and to a keystroke
    in its input echoed back by the kernel."""
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url, wait_until="commit")
    page.locator(app.root).wait_for(state="visible")
    target = page.locator(app.target).first
    target.wait_for(state="visible")
    visible = page.evaluate("performance.now()")
    before = page.evaluate("s => document.querySelector(s)?.outerHTML ?? ''", app.echo)
    target.press("A")
    changed = page.wait_for_function(
        """([s, before]) => {
            const e = document.querySelector(s);
            return e !== null && e.outerHTML !== before ? performance.now() : false;
        }""", arg=[app.echo, before], polling="raf")
    return visible, changed.json_value()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=7, help="measured page loads per notebook (default 7)")
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("Chromium is missing (scripts/browser installs it)")
    with tempfile.TemporaryDirectory(prefix="metafold-tti-") as scratch:
        apps = APPS_UNDER_TEST
        try:
            for app in apps:
                start(app, Path(scratch))
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                for round_ in range(args.loads + 1):  # round 0 warms caches and is not counted
                    for app in (apps if round_ % 2 else apps[::-1]):
                        wait_until_warm(apps)
                        visible, interactive = load(browser, app)
                        if round_:
                            app.visible.append(visible)
                            app.interactive.append(interactive)
                browser.close()
        finally:
            for app in apps:
                stop(app)
                if app.log is not None and app.log.exists():
                    app.preheated = app.log.read_text(errors="replace").count("Using pre-heated kernel")
    print(f"Time to interactive in headless Chromium, median of {args.loads} loads each after one warm-up load;")
    print("Voila with the app's voila.json (preheated kernel pool of 1), every load with the pool warm.")
    header = f"{'notebook':<22}{'visible ms':>12}{'interactive ms':>16}{'min':>8}{'max':>8}{'typing ms':>11}"
    print(header)
    print("-" * len(header))
    for app in apps:
        typing = [i - v for v, i in zip(app.visible, app.interactive)]
        print(f"{app.name:<22}{statistics.median(app.visible):>12.0f}{statistics.median(app.interactive):>16.0f}"
              f"{min(app.interactive):>8.0f}{max(app.interactive):>8.0f}{statistics.median(typing):>11.0f}")
    ratio = statistics.median(apps[0].interactive) / statistics.median(apps[1].interactive)
    print(f"ratio create app / baseline (interactive, median): {ratio:.2f}")
    print("loads served from the preheated pool (Voila log): "
          + ", ".join(f"{app.name} {app.preheated}/{args.loads + 1}" for app in apps))
    print(f"Goal: create app <= {GOAL_RATIO}x baseline: {'met' if ratio <= GOAL_RATIO else 'NOT met'} "
          f"({ratio:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
