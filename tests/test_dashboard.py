"""Kernel-side tests of ProjectsDashboard: search, filters, sort, details, checks and charts."""
from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

import pytest

from metafold_widgets import create_project, load_template
from metafold_widgets.core.record import record_integration
from metafold_widgets.session import Session
from metafold_widgets.widgets import ProjectsDashboard
from metafold_widgets.widgets.dashboard import charts_html, filter_projects, sort_projects
from metafold_widgets.workflows.scan import scan

IMAGING = {
    "project_identifier": "IMG202501", "experiment_title": "Heat", "principal_investigator": "Dr. Ada Example",
    "enable_elabftw": False, "enable_omero": False, "research_question": "Where do the proteins go?",
    "experimental_approach": "Live imaging.", "sample_type": "Live Cells",
    "sample_preparation_protocol": "HeLa v2", "imaging_modality": "Confocal", "microscope_system": "LSM 880",
    "data_sharing_level": "Group",
}
ELAB_URL = "https://elab.example.org/experiments.php?mode=view&id=42"


def _at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day + "T10:00:00+00:00")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Two imaging projects (elabFTW done / failed), a folder-only one and a desktop MetaFold one."""
    base = tmp_path / "projects"
    base.mkdir()
    imaging, folder = load_template("multi-modal-imaging"), load_template("folder-only")
    heat = create_project(imaging, IMAGING, base, name="heat-stress", created_by="ada", now=_at("2025-01-10"))
    record_integration(heat, "elabftw", action="create", state="done", id=42, url=ELAB_URL)
    cold = create_project(imaging, {**IMAGING, "experiment_title": "Cold", "expected_outcomes": "Less motion."},
                          base, name="cold-shock", created_by="bob", now=_at("2025-03-05"))
    record_integration(cold, "elabftw", action="create", state="failed", error="server down")
    (base / "admin").mkdir()
    create_project(folder, {"project_name": "Lab notes", "owner": "carol"}, base / "admin", name="lab-notes",
                   created_by="carol", now=_at("2025-03-20"))
    desktop = base / "desk-old"
    desktop.mkdir()
    (desktop / "elabftw-metadata.json").write_text(json.dumps({"extra_fields": {
        "Sample ID": {"type": "text", "value": "S-17", "required": True, "position": 1},
        "Stain": {"type": "select", "value": "", "options": ["DAPI"], "position": 2}}}), encoding="utf-8")
    return base


@pytest.fixture
def dashboard(root: Path) -> ProjectsDashboard:
    return ProjectsDashboard(Session(projects_dir=root))


def table_names(board: ProjectsDashboard) -> list[str]:
    """The project names in table order (from each row's path)."""
    paths = [html.unescape(p) for p in re.findall(r"<tr data-path='([^']*)'", board.table.value)]
    return [Path(p).name for p in paths]


# --- listing, search, filters, sort -----------------------------------------------------------

def test_lists_every_project(dashboard: ProjectsDashboard) -> None:
    assert sorted(table_names(dashboard)) == ["cold-shock", "desk-old", "heat-stress", "lab-notes"]
    assert len(dashboard.projects) == 4
    assert "<b>4</b> of 4 projects" in dashboard.summary.value
    assert "desktop" in dashboard.table.value


def test_search_matches_name_template_and_creator(dashboard: ProjectsDashboard) -> None:
    dashboard.search.value = "COLD"
    assert table_names(dashboard) == ["cold-shock"]
    dashboard.search.value = "carol"
    assert table_names(dashboard) == ["lab-notes"]
    dashboard.search.value = "multi-modal"
    assert sorted(table_names(dashboard)) == ["cold-shock", "heat-stress"]
    dashboard.search.value = "nothing like this"
    assert table_names(dashboard) == []
    assert "No projects match" in dashboard.table.value
    assert "<b>0</b> of 4" in dashboard.summary.value


def test_template_filter(dashboard: ProjectsDashboard) -> None:
    values = [value for _, value in dashboard.template.options]
    assert "multi-modal-imaging" in values and "folder-only" in values
    dashboard.template.value = "folder-only"
    assert table_names(dashboard) == ["lab-notes"]
    dashboard.template.value = "multi-modal-imaging"
    assert sorted(table_names(dashboard)) == ["cold-shock", "heat-stress"]


def test_integration_state_filter(dashboard: ProjectsDashboard) -> None:
    dashboard.state.value = "elabftw:done"
    assert table_names(dashboard) == ["heat-stress"]
    dashboard.state.value = "any:failed"
    assert table_names(dashboard) == ["cold-shock"]
    dashboard.state.value = "omero:off"  # the desktop project records no state
    assert sorted(table_names(dashboard)) == ["cold-shock", "heat-stress", "lab-notes"]


def test_sort_orders(dashboard: ProjectsDashboard) -> None:
    dashboard.sort.value = "Newest first"  # the desktop project dates from its metadata file: today
    assert table_names(dashboard) == ["desk-old", "lab-notes", "cold-shock", "heat-stress"]
    dashboard.sort.value = "Oldest first"
    assert table_names(dashboard)[0] == "heat-stress"
    dashboard.sort.value = "Name (A-Z)"
    names = list(dashboard.shown["name"])
    assert names == sorted(names, key=str.lower)
    dashboard.sort.value = "Most complete first"
    shares = list(dashboard.shown["completeness"].dropna())
    assert shares == sorted(shares, reverse=True)
    dashboard.sort.value = "Least complete first"
    assert list(dashboard.shown["completeness"].dropna()) == sorted(shares)


def test_filter_and_sort_functions_work_on_any_scan(root: Path) -> None:
    frame = scan(root)
    assert len(filter_projects(frame, search="ada")) == 1
    assert len(filter_projects(frame, state="any:pending")) == 0
    ordered = sort_projects(frame, "Oldest first")
    assert Path(ordered.iloc[0]["path"]).name == "heat-stress"


# --- details and checks ---------------------------------------------------------------------

def _pick(board: ProjectsDashboard, name: str) -> None:
    path = next(value for _, value in board.picker.options if Path(value).name == name)
    board.picker.value = path


def test_details_show_answers_and_links(dashboard: ProjectsDashboard) -> None:
    assert "Pick a project" in dashboard.details.value
    assert dashboard.check_button.disabled
    _pick(dashboard, "heat-stress")
    details = dashboard.details.value
    assert "Dr. Ada Example" in details
    assert "Principal investigator" in details  # labels from the template
    assert f"href='{html.escape(ELAB_URL)}'" in details
    assert ">elabFTW 42</a>" in details
    assert "metafold-state-done" in details
    assert not dashboard.check_button.disabled


def test_check_shows_the_report(dashboard: ProjectsDashboard, root: Path) -> None:
    _pick(dashboard, "cold-shock")
    assert dashboard.report.value == ""
    dashboard.check_button.click()
    assert "metafold-score" in dashboard.report.value
    assert "creation failed: server down" in dashboard.report.value
    dashboard.sort.value = "Name (A-Z)"  # the same projects in another order: the report stays
    assert "metafold-score" in dashboard.report.value
    _pick(dashboard, "heat-stress")
    assert dashboard.report.value == ""  # another project clears the old report


def test_desktop_project_details(dashboard: ProjectsDashboard) -> None:
    _pick(dashboard, "desk-old")
    assert "S-17" in dashboard.details.value
    assert "desktop MetaFold project" in dashboard.details.value
    assert dashboard.check_button.disabled


def test_details_follow_the_filter(dashboard: ProjectsDashboard) -> None:
    _pick(dashboard, "heat-stress")
    dashboard.search.value = "cold"
    assert [Path(v).name for _, v in dashboard.picker.options] == ["cold-shock"]
    assert dashboard.picker.value is None
    assert "Pick a project" in dashboard.details.value


# --- charts and refresh -----------------------------------------------------------------------

def test_charts_render_and_follow_the_filter(dashboard: ProjectsDashboard) -> None:
    charts = dashboard.charts.value
    assert charts.count("<svg") == 4
    assert charts.count("role='img'") == 4
    for title in ("Projects per template", "Projects per month", "Completeness", "Integration status"):
        assert title in charts
    assert "multi-modal-imaging: 2" in charts and "folder-only: 1" in charts
    assert "2025-03: 2" in charts and "2025-01: 1" in charts
    assert "elabFTW done: 1" in charts and "elabFTW failed: 1" in charts
    dashboard.template.value = "folder-only"
    assert "multi-modal-imaging" not in dashboard.charts.value
    dashboard.search.value = "no such project"
    assert dashboard.charts.value.count("no projects") == 4


def test_charts_of_nothing(root: Path) -> None:
    frame = scan(root / "nowhere")
    assert charts_html(frame).count("no projects") == 4


def test_refresh_finds_new_projects(dashboard: ProjectsDashboard, root: Path) -> None:
    create_project(load_template("folder-only"), {"project_name": "Fresh", "owner": "dan"}, root)
    assert len(dashboard.projects) == 4
    dashboard.refresh_button.click()
    assert len(dashboard.projects) == 5
    assert "Fresh" in table_names(dashboard)


def test_another_folder(dashboard: ProjectsDashboard, root: Path, tmp_path: Path) -> None:
    dashboard.folder.value = str(root / "admin")
    assert len(dashboard.projects) == 1
    dashboard.folder.value = str(tmp_path / "missing")
    assert len(dashboard.projects) == 0
    assert "could not be read" in dashboard.summary.value
