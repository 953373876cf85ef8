"""The compliance report of a project whose OMERO dataset lives on the fake OMERO server."""
from __future__ import annotations

from metafold_widgets import load_template
from metafold_widgets.session import Session
from metafold_widgets.workflows.compliance import compliance_report
from metafold_widgets.workflows.compliance_render import render_html
from metafold_widgets.workflows.create import create_project_everywhere


def test_the_dataset_is_confirmed_live_and_its_group_permissions_reported(conn, answers, tmp_path) -> None:
    session = Session(omero=conn)
    result = create_project_everywhere(session, load_template("multi-modal-imaging"), answers, tmp_path)
    dataset = result.outcomes["omero"].id
    report = compliance_report(result.path, session)
    f4 = report.item("F4")
    assert f4.status == "met" and f"OMERO dataset {dataset}" in "\n".join(f4.evidence)
    assert "confirmed just now" in "\n".join(f4.evidence)
    permissions = report.item("permissions-omero")
    assert permissions.status == "met"  # a read-annotate group fits the sharing level "Group"
    assert "OMERO key-value pairs" in "\n".join(report.item("R1.3").evidence)
    assert f"OMERO dataset {dataset}" in render_html(report)


def test_without_a_connection_the_dataset_is_recorded_not_confirmed(conn, answers, tmp_path) -> None:
    result = create_project_everywhere(Session(omero=conn), load_template("multi-modal-imaging"), answers, tmp_path)
    report = compliance_report(result.path)
    assert "not confirmed" in "\n".join(report.item("F4").evidence)
    assert report.item("permissions-omero").status == "unknown"
