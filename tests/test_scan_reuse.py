"""What a scan reuses stays right: templates between scans, the record's modification time,
the inlined blank test, and the one-pass sorting of a folder's entries."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from metafold_widgets import create_project, load_template
from metafold_widgets.core.values import is_blank
from metafold_widgets.workflows import scan as scan_module
from metafold_widgets.workflows.scan import scan

TEMPLATE = """\
id: reuse-test
name: Reuse Test
version: 1.0.0
type: experiment
project_name: "{title}"
folders: [data]
integrations: {elabftw: false, omero: false}
fields:
  title: {type: text, required: true}
  notes: {type: textarea%s}
"""


@pytest.fixture
def lab(tmp_path: Path) -> tuple[Path, Path]:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "reuse.yaml").write_text(TEMPLATE % "", encoding="utf-8")
    projects = tmp_path / "projects"
    projects.mkdir()
    create_project(load_template(templates / "reuse.yaml"), {"title": "Alpha"}, projects)
    return templates, projects


def test_a_changed_template_is_read_again_by_the_next_scan(lab):
    templates, projects = lab
    first = scan(projects, templates_dir=templates).iloc[0]
    assert (first["required_total"], first["optional_total"]) == (1, 1)
    assert scan_module.TemplateIndex.shared(templates) is scan_module.TemplateIndex.shared(templates)
    (templates / "reuse.yaml").write_text(TEMPLATE % ", required: true", encoding="utf-8")
    again = scan(projects, templates_dir=templates).iloc[0]
    assert (again["required_total"], again["optional_total"]) == (2, 0)


def test_a_template_added_to_the_folder_is_found_by_the_next_scan(lab):
    templates, projects = lab
    (templates / "reuse.yaml").unlink()
    unknown = scan(projects, templates_dir=templates).iloc[0]  # counted from elabftw-metadata.json
    assert (unknown["required_total"], unknown["optional_total"]) == (1, 1)
    (templates / "reuse.yaml").write_text(TEMPLATE % ", required: true", encoding="utf-8")
    known = scan(projects, templates_dir=templates).iloc[0]
    assert (known["required_total"], known["optional_total"]) == (2, 0)


def test_last_change_takes_the_record_time_from_the_read_and_a_link_from_the_link(lab, tmp_path):
    _, projects = lab
    project = next(projects.iterdir())
    for entry in project.iterdir():
        os.utime(entry, (1_000_000_000, 1_000_000_000))
    os.utime(project / "metafold.json", (1_500_000_000, 1_500_000_000))
    assert scan(projects).iloc[0]["last_change"].timestamp() == 1_500_000_000
    record = project / "metafold.json"
    target = tmp_path / "record.json"
    target.write_bytes(record.read_bytes())
    os.utime(target, (1_900_000_000, 1_900_000_000))
    record.unlink()
    record.symlink_to(target)
    os.utime(record, (1_200_000_000, 1_200_000_000), follow_symlinks=False)
    row = scan(projects).iloc[0]
    assert row["last_change"].timestamp() == 1_200_000_000  # the link's own time, as before
    assert row["name"] == "Alpha"


@pytest.mark.parametrize("value", [None, "", "  ", "\n", "x", " x ", 0, 0.0, False, True, [], [""], ["a"], {},
                                   {"a": 1}, 3.5])
def test_the_inlined_blank_test_is_is_blank(value):
    assert scan_module._filled(("k",), {"k": value}) == (0 if is_blank(value) else 1)
    assert scan_module._filled(("k",), {}) == 0


def test_entries_sorted_in_one_pass(tmp_path):
    for name in ("sub", ".hidden", "node_modules", "metafold.json"):
        (tmp_path / name).mkdir()
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "sub")
    with os.scandir(tmp_path) as listing:
        source, folders = scan_module._sort_entries(tuple(listing))
    assert source == "metafold"  # a folder named like the record still marks a project, as before
    assert folders == [str(tmp_path / "sub")]
    (tmp_path / "metafold.json").rmdir()
    (tmp_path / "elabftw-metadata.json").write_text("{}")
    with os.scandir(tmp_path) as listing:
        assert scan_module._sort_entries(tuple(listing))[0] == "desktop"
