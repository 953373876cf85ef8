"""The audit trail of a project."""
from __future__ import annotations

import yaml

from metafold_widgets import create_project, load_template
from metafold_widgets.core.record import read_record, record_integration
from metafold_widgets.workflows.audit import audit_summary, audit_table, project_events


def test_audit_lists_every_event_and_the_state(tmp_path, example_answers_path):
    project = create_project(load_template("multi-modal-imaging"),
                             yaml.safe_load(example_answers_path.read_text()), tmp_path, created_by="ada")
    record_integration(project, "elabftw", action="create", result="failed", state="failed", error="HTTP 500")
    record_integration(project, "elabftw", action="create", state="done", id=7, url="https://elab/x?id=7", error=None)
    log = project / read_record(project)["project"]["log"]
    with open(log, "a") as handle:
        handle.write("not json\n")
    events = project_events(project)
    assert [(e["system"], e["result"]) for e in events] == [
        ("local", "done"), ("elabftw", "failed"), ("elabftw", "done"), ("log", "line 4")]
    table = audit_table(project)
    assert list(table.columns) == ["time", "user", "system", "action", "result", "id", "url", "error"]
    assert table.loc[2, "id"] == 7
    summary = audit_summary(project)
    assert "by ada" in summary and "elabftw: done 7 https://elab/x?id=7; 2 events" in summary
    assert f"template multi-modal-imaging {read_record(project)['template']['version']}" in summary


def test_cli_audit(tmp_path, example_answers_path, capsys):
    from metafold_widgets import cli
    project = create_project(load_template("multi-modal-imaging"),
                             yaml.safe_load(example_answers_path.read_text()), tmp_path)
    assert cli.main(["audit", str(project)]) == 0
    assert "create_project" in capsys.readouterr().out
    assert cli.main(["audit", str(project), "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("time,user,system,action,result")
    assert cli.main(["audit", str(tmp_path)]) == 2
