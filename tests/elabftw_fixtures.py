"""pytest fixtures: a fake elabFTW server whose every exchange is checked against the spec.

Registered as a plugin by ``pytest_plugins = ["elabftw_fixtures"]`` in tests/conftest.py, which
also turns contract violations into failures of the test itself (not only of its teardown).

* ``fake_elabftw``: a FakeElabftw (5.6.12) with contract validation on.
* ``fake_elabftw_factory(version=..., latency=..., keys=..., contract=True)``: more of them.
* ``elabftw_contract``: the loaded ElabftwContract (session-wide).

A test that provokes a violation on purpose wraps it in
``checker_of(fake).expect_violation()``. Without the shared spec files the contract fixtures
skip, or fail in CI (``shared_file``).
"""
from __future__ import annotations

from typing import Any, Callable, Generator, Iterator, Mapping

import pytest
from conftest import shared_file  # tests/conftest.py (rootdir-style imports, no tests package)
from elabftw_contract import FIXED_SPEC_FILE, SPEC_FILE, ContractChecker, ElabftwContract

from metafold_widgets.testing.fake_elabftw import FakeElabftw

FakeFactory = Callable[..., FakeElabftw]
_FAKES = pytest.StashKey[list[FakeElabftw]]()


def checker_of(fake: FakeElabftw) -> ContractChecker:
    """The contract checker installed on a fake made by these fixtures."""
    hook = fake.contract_hook
    if not isinstance(hook, ContractChecker):
        raise AssertionError("this fake runs without contract validation")
    return hook


def _unreported(fakes: list[FakeElabftw]) -> str:
    lines: list[str] = []
    for fake in fakes:
        if isinstance(fake.contract_hook, ContractChecker):
            lines.extend(str(v) for v in fake.contract_hook.unreported())
        lines.extend(f"contract hook error: {e!r}" for e in fake.hook_errors)
        fake.hook_errors.clear()
    return "\n".join(lines)


@pytest.fixture(scope="session")
def elabftw_contract() -> ElabftwContract:
    """The official elabFTW API description (5.6.12, corrected where the server differs)."""
    return ElabftwContract.from_files(shared_file(SPEC_FILE), shared_file(FIXED_SPEC_FILE))


@pytest.fixture
def fake_elabftw_factory(request: pytest.FixtureRequest) -> Iterator[FakeFactory]:
    """Start fake elabFTW servers; all are closed, and their violations reported, at the end."""
    fakes: list[FakeElabftw] = []
    request.node.stash[_FAKES] = fakes

    def make(*, version: str = "5.6.12", latency: float = 0.0,
             keys: Mapping[str, Mapping[str, Any]] | None = None, contract: bool = True,
             **options: Any) -> FakeElabftw:
        hook = ContractChecker(request.getfixturevalue("elabftw_contract")) if contract else None
        fake = FakeElabftw(keys, version=version, latency=latency, contract_hook=hook, **options)
        fakes.append(fake)
        return fake

    yield make
    for fake in fakes:
        fake.close()
    report = _unreported(fakes)
    if report:
        pytest.fail(f"elabFTW contract violations:\n{report}", pytrace=False)


@pytest.fixture
def fake_elabftw(fake_elabftw_factory: FakeFactory) -> FakeElabftw:
    """A fake elabFTW 5.6.12 on 127.0.0.1 with contract validation on."""
    return fake_elabftw_factory()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Fail the test itself when its fake servers saw contract violations."""
    result = yield
    report = _unreported(item.stash.get(_FAKES, []))
    if report:
        pytest.fail(f"elabFTW contract violations:\n{report}", pytrace=False)
    return result
