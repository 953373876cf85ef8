"""The project record as a typed object: shape checked with the key named, unknown keys kept,
defaults in one place, the log kept inside the project."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from metafold_widgets import create_project, load_template
from metafold_widgets.core.record import (
    IntegrationState,
    ProjectRecord,
    load_record,
    log_event,
    read_record,
    record_integration,
    save_record,
)
from metafold_widgets.errors import InputFileError
from metafold_widgets.workflows.package import build_package

ANSWERS = {"experiment_title": "Typed", "researcher": "Ada", "aim": "a", "create_elabftw_entry": False}


@pytest.fixture
def project(tmp_path) -> Path:
    return create_project(load_template("basic-experiment"), ANSWERS, tmp_path)


def test_reading_gives_typed_fields_and_writing_keeps_the_file(project):
    raw = read_record(project)
    record = load_record(project)
    assert (record.name, record.uid, record.template_id) == (raw["project"]["name"], raw["project"]["uid"],
                                                              "basic-experiment")
    assert record.answers["experiment_title"] == "Typed"
    assert record.integration("elabftw").state == "off" and record.integration("omero").state == "off"
    assert record.log_relpath(project) == raw["project"]["log"]
    save_record(project, record)
    assert read_record(project) == raw  # same keys, same values


def test_unknown_keys_survive_a_round_trip(project):
    raw = read_record(project)
    raw["lab_extension"] = {"x": 1}
    raw["project"]["room"] = "B2"
    raw["integrations"]["elabftw"]["custom"] = [1, 2]
    record = ProjectRecord.from_dict(raw)
    assert record.integration("elabftw").get("custom") == [1, 2]
    assert record.to_dict() == raw


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: r.update(project="x"), "project: expected an object"),
    (lambda r: r["project"].update(uid=""), "project.uid must be a non-empty text"),
    (lambda r: r["project"].update(log=["a"]), "project.log must be a text"),
    (lambda r: r.update(answers=[1]), "answers: expected an object"),
    (lambda r: r["integrations"].update(elabftw="done"), "integrations.elabftw: expected an object"),
    (lambda r: r["integrations"]["elabftw"].update(payload=3), "integrations.elabftw.payload: expected an object"),
    (lambda r: r["template"].update(version={"a": 1}), "template.version must be a text"),
])
def test_a_malformed_record_names_the_key(project, change, message):
    raw = read_record(project)
    change(raw)
    (project / "metafold.json").write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(InputFileError, match=message.replace(".", r"\.")):
        load_record(project)


@pytest.mark.parametrize("log", ["../../victim.txt", "/tmp/victim.txt", "."])
def test_a_log_outside_the_project_is_refused_and_nothing_is_written_there(project, tmp_path, log):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    out = tmp_path / "out"
    out.mkdir()
    raw = read_record(project)
    raw["project"]["log"] = log
    (project / "metafold.json").write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(InputFileError, match="project.log"):
        log_event(project, system="local", action="x")
    with pytest.raises(InputFileError, match="project.log"):
        build_package(project, out, archive=())
    assert victim.read_text() == "keep me\n"
    assert not list(out.iterdir())


def test_record_integration_updates_the_state_and_keeps_the_rest(project):
    record_integration(project, "elabftw", action="create", state="done", id=7, url="https://e/7",
                       attachments={"a.md": "00"})
    state = load_record(project).integration("elabftw")
    assert (state.state, state.id, state.url, state.get("attachments")) == ("done", 7, "https://e/7", {"a.md": "00"})
    assert state.updated_at and state.done
    record_integration(project, "elabftw", action="attach", result="done", attachments={"b.md": "11"})
    state = load_record(project).integration("elabftw")
    assert state.id == 7 and state.get("attachments") == {"b.md": "11"}


def test_defaults_live_in_one_place():
    state = IntegrationState()
    assert (state.state, state.id, state.payload, state.extra) == ("pending", None, None, {})
    assert ProjectRecord("p", "u").log == "integration_log.jsonl"
