"""Closed pages of the standalone Voila app free their kernels at once, in headless Chromium.

A closed or reloaded Voila page asks the server to shut its kernel down; without the
``_xsrf`` cookie that ``metafold_widgets.voila_xsrf`` makes Voila set, the server refused that
with 403 and the kernel lived on until the 15-minute idle cull. Here pages are opened and
closed like tabs (``beforeunload`` runs) and the kernels left are counted: only the one
preheated for the next visitor may remain. ``benchmarks/bench_hub_tti.py`` prints the counts
after 20 pages with and without the fix, and through JupyterHub.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import pytest
from browser_support import Browser, VoilaServer, chromium, expect, kernel_processes, run_voila

PAGES = 5
POOL = 1  # voila_apps/voila.json: default_pool_size


@pytest.fixture(scope="module")
def voila_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoilaServer]:
    base = tmp_path_factory.mktemp("voila-kernels")
    (base / "projects").mkdir()
    with run_voila("create_project.ipynb", base, base / "projects") as server:
        yield server


@pytest.fixture(scope="module")
def browser(voila_server: VoilaServer) -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _kernels_settle_at(pid: int, expected: int, seconds: float = 30) -> int:
    """The number of kernels once it reaches ``expected`` (or after ``seconds``, whatever it is then)."""
    deadline = time.monotonic() + seconds
    while True:
        count = len(kernel_processes(pid))
        if count == expected or time.monotonic() > deadline:
            return count
        time.sleep(0.25)  # polling processes; the browser checks never sleep


def test_closed_pages_free_their_kernels_at_once(browser: Browser, voila_server: VoilaServer) -> None:
    for _ in range(PAGES):
        context = browser.new_context()
        page = context.new_page()
        page.goto(voila_server.url)
        expect(page.locator(".metafold-create-app")).to_be_visible()
        assert any(cookie["name"] == "_xsrf" for cookie in context.cookies()), "the page has no _xsrf cookie"
        page.close(run_before_unload=True)  # as closing the tab does: the page's beforeunload runs
        context.close()
    assert _kernels_settle_at(voila_server.pid, POOL) == POOL
    log = Path(voila_server.log).read_text(errors="replace")
    assert "403 POST" not in log
    assert log.count("Kernel shutdown:") >= PAGES
