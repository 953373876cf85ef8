"""Sync's OMERO step: a key-value rewrite is logged when the pairs changed, and only then."""
from __future__ import annotations

import json
from typing import Any

from metafold_widgets import load_template, read_record
from metafold_widgets.adapters.omero import update_key_values
from metafold_widgets.session import Session
from metafold_widgets.workflows.create import create_project_everywhere
from metafold_widgets.workflows.sync import sync_project, watch_project


def _actions(project: Any) -> list[str]:
    log = project / "01_project_management" / "integration_logs" / "integration_log.jsonl"
    return [json.loads(line)["action"] for line in log.read_text().splitlines()]


def test_an_omero_rewrite_is_logged_when_the_pairs_changed(conn, answers, tmp_path) -> None:
    session = Session(omero=conn)
    project = create_project_everywhere(session, load_template("multi-modal-imaging"), answers, tmp_path).path
    before = _actions(project)
    assert watch_project(session, project, interval=1, rounds=2, sleep=lambda s: None) == 2
    assert _actions(project) == before  # the pairs are as created: nothing to log
    dataset_id = int(read_record(project)["integrations"]["omero"]["id"])
    update_key_values(conn, dataset_id, [("Sample type", "Tissue")])  # someone changed ours in OMERO
    report = sync_project(session, project)
    assert "key-value pairs in agreement" in report.omero
    assert _actions(project)[len(before):] == ["rewrite key-value pairs"]
    sync_project(session, project)
    assert _actions(project)[len(before):] == ["rewrite key-value pairs"]
