"""Files and text from outside, as a hostile user would write them: records pointing outside the
project, error bodies echoing the API key, FIFOs and devices where files should be, formulas in
CSV cells, passwords in URLs. Each ends in a clear error (exit 2) or a harmless result, never a
hang, a crash or a leaked secret. (Patterns: test_hostile_patterns.py; archives and .eln:
test_hostile_publishing.py.)"""
from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metafold_widgets import cli, create_project, load_template, read_record
from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.config import ElabftwSettings, Secret, elabftw_settings
from metafold_widgets.errors import MetafoldError
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_elabftw import WRITE_KEY, Fault
from metafold_widgets.workflows import create_project_everywhere
from metafold_widgets.workflows.audit import audit_summary
from metafold_widgets.workflows.check import check_project
from metafold_widgets.workflows.package import build_package
from metafold_widgets.workflows.resume import resume_project
from metafold_widgets.workflows.sync import sync_project

pytestmark = pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")

ANSWERS = {"experiment_title": "Hostile", "researcher": "Ada", "aim": "a", "create_elabftw_entry": False}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "projects").mkdir()
    return create_project(load_template("basic-experiment"), ANSWERS, tmp_path / "projects")


def point_log(project: Path, log: str) -> None:
    raw = read_record(project)
    raw["project"]["log"] = log
    (project / "metafold.json").write_text(json.dumps(raw), encoding="utf-8")


# --- 1. a record whose log points outside the project -------------------------------------------


@pytest.mark.parametrize("command", [["audit"], ["package", "--archive", "none"], ["resume"], ["sync"],
                                     ["export-eln"]])
def test_a_log_outside_the_project_is_refused_by_every_command(capsys, project, tmp_path, command):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    point_log(project, "../../victim.txt")
    code, _, err = run(capsys, *command, str(project))
    assert code == 2 and "project.log" in err and "outside the project" in err
    assert victim.read_text() == "keep me\n"
    assert not (tmp_path / "projects" / f"{project.name}_publication_package").exists()


def test_check_reports_a_log_outside_the_project(project):
    point_log(project, "/etc/passwd")
    found = {r.check: r for r in check_project(project).results}
    assert found["project record"].status == "fail" and "project.log" in found["project record"].message


# --- 2. an error body that echoes the API key ----------------------------------------------------


def test_a_key_echoed_by_the_server_reaches_no_record_log_or_output(capsys, tmp_path, fake_elabftw, monkeypatch):
    fake_elabftw.add_category("Imaging")
    fake_elabftw.inject(Fault.status(400, f"refused: header Authorization: {WRITE_KEY}"),
                        method="POST", path_prefix="/api/v2/experiments", times=20)
    client = ElabftwClient(ElabftwSettings(fake_elabftw.url, Secret(WRITE_KEY)), sleep=lambda s: None, retries=1)
    template = load_template("basic-experiment")
    answers = {**ANSWERS, "create_elabftw_entry": True}
    result = create_project_everywhere(Session(elabftw=client), template, answers, tmp_path)
    files = [p for p in result.path.rglob("*") if p.is_file()]
    assert files and not any(WRITE_KEY in p.read_text(errors="replace") for p in files)
    assert "********" in read_record(result.path)["integrations"]["elabftw"]["error"]
    monkeypatch.setenv("ELABFTW_URL", fake_elabftw.url)
    monkeypatch.setenv("ELABFTW_API_KEY", WRITE_KEY)
    fake_elabftw.inject(Fault.status(500, f"bad key {WRITE_KEY}"), path_prefix="/api/v2/users", times=5)
    _, out, err = run(capsys, "config", "test")
    assert WRITE_KEY not in out + err and "********" in out + err


# --- 4 and 6. devices, pipes and huge files where files should be -------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
def test_scan_lists_a_fifo_or_a_device_as_a_broken_project_without_hanging(capsys, tmp_path):
    fifo, device = tmp_path / "fifo", tmp_path / "device"
    fifo.mkdir()
    device.mkdir()
    os.mkfifo(fifo / "metafold.json")
    (device / "metafold.json").symlink_to("/dev/zero")
    code, out, _ = run(capsys, "scan", str(tmp_path), "--format", "json")
    rows = {Path(r["path"]).name: r for r in json.loads(out)}
    assert code == 0
    assert "device or a pipe" in rows["fifo"]["error"] and "device or a pipe" in rows["device"]["error"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
@pytest.mark.parametrize("kind", ["fifo", "device", "huge"])
def test_an_answers_file_that_is_no_file_is_refused(capsys, tmp_path, kind):
    answers = tmp_path / "answers.yaml"
    if kind == "fifo":
        os.mkfifo(answers)
    elif kind == "device":
        answers.symlink_to("/dev/zero")
    else:
        with open(answers, "wb") as handle:
            handle.truncate(64 * 1024 * 1024)  # sparse: no disk used
    code, _, err = run(capsys, "create", "-t", "basic-experiment", "-a", str(answers), "-d", str(tmp_path),
                       "--dry-run")
    assert code == 2 and str(answers) in err
    assert ("too large" in err) if kind == "huge" else ("device or a pipe" in err)


def test_a_record_nested_too_deep_is_refused(capsys, project):
    (project / "metafold.json").write_text("[" * 100_000 + "]" * 100_000)
    code, _, err = run(capsys, "audit", str(project))
    assert code == 2 and "nested more than" in err


# --- 8. CSV cells a spreadsheet would run -------------------------------------------------------


def test_csv_output_defuses_formulas(capsys, tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text("experiment_title,researcher,aim,create_elabftw_entry\n"
                    "=HYPERLINK(\"http://x\"),+SUM(A1),@cmd,false\n", encoding="utf-8")
    code, out, _ = run(capsys, "batch", "-t", "basic-experiment", "--table", str(rows), "-d", str(tmp_path),
                       "--format", "csv")
    assert code in (0, 1)
    for line in out.splitlines()[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in line.split(","))
    (tmp_path / "proj").mkdir()
    create_project(load_template("basic-experiment"), ANSWERS, tmp_path / "proj", created_by="=cmd|' /C calc'!A0")
    code, out, _ = run(capsys, "scan", str(tmp_path / "proj"), "--format", "csv")
    assert code == 0 and "'=cmd" in out and ",=cmd" not in out


# --- 10. a password in the elabFTW address ------------------------------------------------------


def test_a_password_in_the_address_is_never_shown(capsys, monkeypatch):
    monkeypatch.setenv("ELABFTW_URL", "http://ada:hunter2secret@elab.example.org")
    monkeypatch.setenv("ELABFTW_API_KEY", "3-abcdefghijkl")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        settings_ = elabftw_settings()
    assert all("hunter2secret" not in str(w.message) for w in caught)
    assert "hunter2secret" not in repr(settings_) and "hunter2secret" not in repr(Session(elabftw=settings_))
    _, out, err = run(capsys, "config", "show")
    assert "hunter2secret" not in out + err and "ada:********@elab.example.org" in out
    client = ElabftwClient(settings_)
    assert client.web_url(3) == "http://elab.example.org/experiments.php?mode=view&id=3"


# --- property: whatever a record says, nothing outside the project is read or written -----------

_OPENED: list[str] = []
_WATCHING = [False]


def _audit(event: str, args: tuple) -> None:
    if _WATCHING[0] and event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)

LOG_VALUES = st.sampled_from(["../outside.txt", "../../outside.txt", "/tmp/outside.txt", "sub/../../outside.txt",
                              ".", "", "integration_log.jsonl", "documentation/integration_logs/x.jsonl"])
ODD = st.one_of(st.none(), st.integers(), st.text(max_size=20), st.lists(st.integers(), max_size=2))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(log=LOG_VALUES, name=st.one_of(st.just("Hostile"), ODD), integration=st.one_of(st.just({}), ODD))
def test_no_file_outside_the_project_is_read_or_written(tmp_path_factory, log, name, integration):
    root = tmp_path_factory.mktemp("prop")
    (root / "projects").mkdir()
    project = create_project(load_template("basic-experiment"), ANSWERS, root / "projects")
    outside = root / "outside.txt"
    outside.write_text("untouched\n")
    raw = read_record(project)
    raw["project"].update(log=log, name=name)
    raw["integrations"]["elabftw"] = integration
    (project / "metafold.json").write_text(json.dumps(raw), encoding="utf-8")
    out = root / "out"
    out.mkdir()
    session = Session(projects_dir=root)
    _OPENED.clear()
    _WATCHING[0] = True
    try:
        for action in (lambda: build_package(project, out, archive=()), lambda: audit_summary(project),
                       lambda: resume_project(session, project), lambda: sync_project(session, project),
                       lambda: check_project(project, session)):
            try:
                action()
            except MetafoldError:
                pass
    finally:
        _WATCHING[0] = False
    assert outside.read_text() == "untouched\n"
    touched = {str(Path(p).resolve()) for p in _OPENED if not os.path.isabs(p) or p.startswith(str(root))}
    assert str(outside.resolve()) not in touched
    assert sorted(p.name for p in root.iterdir()) == ["out", "outside.txt", "projects"]


# --- answers from a server that is not what it claims -------------------------------------------


DEEP = b"[" * 100_000 + b"]" * 100_000
HUGE = b'{"elabftw_version": "5.6.12", "x": "' + b"a" * 70_000_000 + b'"}'


class _Endless:
    """A body that never ends: a refusal is read only as far as its detail could reach."""


SERVER_ANSWERS = {
    "deep": (200, DEEP, "not JSON|more than"),
    "huge": (200, HUGE, "more than"),
    "deep refusal": (400, DEEP, r"HTTP 400"),
    "endless refusal": (400, _Endless, r"HTTP 400"),
    "long detail": (400, b'{"message": "' + b"x" * 10_000 + b'"}', r"HTTP 400 \(x{500}\)"),
}


@pytest.mark.parametrize("status, body, expected", SERVER_ANSWERS.values(), ids=SERVER_ANSWERS.keys())
def test_a_hostile_server_answer_is_bounded(status, body, expected):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if body is not _Endless:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                if body is _Endless:
                    while True:
                        self.wfile.write(b"[" * 65536)
                self.wfile.write(body)
            except OSError:
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = ElabftwClient(ElabftwSettings(f"http://127.0.0.1:{server.server_address[1]}", Secret("1-abcdefgh")),
                               sleep=lambda s: None, retries=0)
        with pytest.raises(MetafoldError, match=expected) as failure:
            client.info()
        assert len(str(failure.value)) < 1000
    finally:
        server.shutdown()
        server.server_close()
