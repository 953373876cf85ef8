"""Finding projects under a folder: ``scan`` and ``metafold scan``."""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from metafold_widgets import create_project, load_template
from metafold_widgets.cli import main
from metafold_widgets.core.record import record_integration
from metafold_widgets.workflows.scan import COLUMNS, project_answers, scan

TEMPLATE_YAML = """\
id: scan-test
name: Scan Test
version: 1.0.0
type: experiment
project_name: "{title}"
folders: [data, analysis]
integrations: {elabftw: false, omero: false}
fields:
  title: {type: text, required: true}
  owner: {type: text, required: true}
  site: {type: text, required: true, condition: {field: has_samples, equals: true}}
  notes: {type: textarea}
  has_samples: {type: checkbox}
  keywords: {type: text}
"""
DESKTOP_METADATA = {"extra_fields": {
    "Sample ID": {"type": "text", "value": "S-1", "required": True, "position": 1},
    "Acquisition date": {"type": "date", "value": "", "required": True, "position": 2},
    "Stain": {"type": "select", "value": "DAPI", "options": ["DAPI", "GFP"], "position": 3},
    "Fixed": {"type": "checkbox", "value": "", "position": 4},
    "Notes": {"type": "text", "value": "", "position": 5},
}}


@pytest.fixture
def templates_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "scan-test.yaml").write_text(TEMPLATE_YAML, encoding="utf-8")
    return folder


@pytest.fixture
def root(tmp_path: Path, templates_dir: Path) -> Path:
    """Projects at several depths, a desktop MetaFold one, and folders that must be skipped."""
    base = tmp_path / "projects"
    template = load_template(templates_dir / "scan-test.yaml")
    (base / "lab" / "2025").mkdir(parents=True)
    create_project(template, {"title": "Alpha", "owner": "ada", "has_samples": True, "site": "Bonn",
                              "notes": "first"}, base, created_by="ada")
    create_project(template, {"title": "Beta", "owner": "bob"}, base / "lab" / "2025",
                   created_by="bob")
    desktop = base / "old" / "desktop-project"
    desktop.mkdir(parents=True)
    (desktop / "elabftw-metadata.json").write_text(json.dumps(DESKTOP_METADATA), encoding="utf-8")
    (desktop / "raw").mkdir()
    return base


def _copy_record(source: Path, folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "metafold.json").write_bytes((source / "metafold.json").read_bytes())


def names(frame: pd.DataFrame) -> list[str]:
    return sorted(frame["name"])


# --- finding ------------------------------------------------------------------------------

def test_finds_metafold_and_desktop_projects(root: Path, templates_dir: Path) -> None:
    frame = scan(root, templates_dir=templates_dir)
    assert list(frame.columns) == list(COLUMNS)
    assert names(frame) == ["Alpha", "Beta", "desktop-project"]
    by_name = frame.set_index("name")
    assert by_name.loc["Alpha", "source"] == "metafold"
    assert by_name.loc["desktop-project", "source"] == "desktop"
    assert by_name.loc["Beta", "path"] == str(root / "lab" / "2025" / "Beta")
    assert by_name.loc["Alpha", "template"] == "scan-test"
    assert by_name.loc["Alpha", "template_version"] == "1.0.0"
    assert by_name.loc["Alpha", "creator"] == "ada"
    assert by_name.loc["Alpha", "elabftw_state"] == "off"
    assert by_name.loc["Alpha", "omero_state"] == "off"
    assert isinstance(by_name.loc["Alpha", "created"], pd.Timestamp)
    assert by_name.loc["Alpha", "created"].tzinfo is not None
    assert frame["error"].isna().all()
    assert frame.attrs["errors"] == []


def test_root_itself_can_be_a_project(root: Path) -> None:
    frame = scan(root / "Alpha")
    assert names(frame) == ["Alpha"]


@pytest.mark.parametrize("skipped", [".hidden", ".git", ".venv-3.11", ".ipynb_checkpoints", ".cache",
                                     "node_modules", "__pycache__", "build", "dist"])
def test_skips_hidden_build_and_cache_folders(root: Path, skipped: str) -> None:
    _copy_record(root / "Alpha", root / skipped / "inside")
    assert names(scan(root)) == ["Alpha", "Beta", "desktop-project"]


def test_does_not_descend_into_a_project(root: Path) -> None:
    _copy_record(root / "Alpha", root / "Alpha" / "data" / "nested")
    (root / "Alpha" / "analysis" / "elabftw-metadata.json").write_text("{}", encoding="utf-8")
    frame = scan(root)
    assert names(frame) == ["Alpha", "Beta", "desktop-project"]


def test_depth_limit(root: Path) -> None:
    deep = root / "a" / "b" / "c" / "d" / "e" / "f" / "deep"  # depth 7
    _copy_record(root / "Alpha", deep)
    assert str(deep) not in set(scan(root)["path"])
    assert str(deep) in set(scan(root, max_depth=7)["path"])
    assert names(scan(root, max_depth=0)) == []


def test_depth_counts_folders_below_the_root(root: Path) -> None:
    assert names(scan(root, max_depth=1)) == ["Alpha"]  # old/desktop-project is at depth 2
    assert names(scan(root, max_depth=2)) == ["Alpha", "desktop-project"]
    assert names(scan(root, max_depth=3)) == ["Alpha", "Beta", "desktop-project"]


def test_symlink_loops_are_safe(root: Path) -> None:
    os.symlink(root, root / "lab" / "loop")
    os.symlink(root / "lab", root / "lab" / "2025" / "up")
    frame = scan(root, max_depth=50)
    assert names(frame) == ["Alpha", "Beta", "desktop-project"]


def deny(monkeypatch: pytest.MonkeyPatch, locked: str) -> None:
    """os.scandir refuses ``locked`` as for a folder without read permission (tests run as root)."""
    real_scandir = os.scandir

    def scandir(path: str = ".") -> object:
        if os.fspath(path) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_unreadable_folder_is_reported_not_fatal(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = str(root / "lab")
    deny(monkeypatch, locked)
    seen: list[tuple[str, OSError]] = []
    frame = scan(root, on_error=lambda path, error: seen.append((path, error)))
    assert names(frame) == ["Alpha", "desktop-project"]
    assert frame.attrs["errors"] == [(locked, "Permission denied")]
    assert [path for path, _ in seen] == [locked]
    assert isinstance(seen[0][1], PermissionError)


def test_missing_root_is_an_error_entry(tmp_path: Path) -> None:
    frame = scan(tmp_path / "nowhere")
    assert frame.empty
    assert list(frame.columns) == list(COLUMNS)
    assert frame.attrs["errors"][0][0] == str(tmp_path / "nowhere")


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"format": "something-else"}', "\xff\xfe"])
def test_broken_record_is_listed_with_its_error(root: Path, content: str) -> None:
    broken = root / "broken"
    broken.mkdir()
    (broken / "metafold.json").write_bytes(content.encode("latin-1"))
    frame = scan(root).set_index("name")
    assert frame.loc["broken", "source"] == "metafold"
    assert "metafold.json" in frame.loc["broken", "error"]
    assert pd.isna(frame.loc["broken", "completeness"])
    assert frame.loc[["Alpha", "Beta"], "error"].isna().all()


def test_integration_ids_and_urls(root: Path) -> None:
    record_integration(root / "Alpha", "elabftw", action="create", state="done", id=42, url="https://elab/42")
    row = scan(root).set_index("name").loc["Alpha"]
    assert (row["elabftw_state"], row["elabftw_id"], row["elabftw_url"]) == ("done", 42, "https://elab/42")
    assert str(scan(root)["elabftw_id"].dtype) == "Int64"


def test_odd_record_values_do_not_crash(root: Path) -> None:
    odd = root / "odd"
    odd.mkdir()
    (odd / "metafold.json").write_text(json.dumps({
        "format": "metafold-project", "project": "not a mapping", "template": {"id": "scan-test"},
        "answers": ["not", "a", "mapping"], "integrations": {"elabftw": "done"}}), encoding="utf-8")
    frame = scan(root).set_index("name")
    assert frame.loc["odd", "source"] == "metafold"
    assert "project: expected an object" in frame.loc["odd", "error"]  # the row says which key is wrong
    assert pd.isna(frame.loc["odd", "elabftw_state"])


# --- figures ------------------------------------------------------------------------------

def test_completeness_from_the_template(root: Path, templates_dir: Path) -> None:
    frame = scan(root, templates_dir=templates_dir).set_index("name")
    alpha, beta = frame.loc["Alpha"], frame.loc["Beta"]
    # Alpha: title, owner, site (shown: has samples) filled; notes and the checkbox filled, keywords blank
    assert (alpha["required_filled"], alpha["required_total"]) == (3, 3)
    assert (alpha["optional_filled"], alpha["optional_total"]) == (2, 3)
    assert alpha["completeness"] == pytest.approx(5 / 6)
    # Beta: site is hidden (no samples), so it counts for nothing; the unchecked checkbox is an answer
    assert (beta["required_filled"], beta["required_total"]) == (2, 2)
    assert (beta["optional_filled"], beta["optional_total"]) == (1, 3)
    assert beta["completeness"] == pytest.approx(3 / 5)


def test_completeness_of_a_desktop_project_from_its_metadata(root: Path) -> None:
    row = scan(root).set_index("name").loc["desktop-project"]
    assert (row["required_filled"], row["required_total"]) == (1, 2)
    assert (row["optional_filled"], row["optional_total"]) == (2, 3)  # Stain, and the checkbox
    assert row["completeness"] == pytest.approx(3 / 5)
    assert pd.isna(row["template"])
    assert isinstance(row["created"], pd.Timestamp)


def test_unknown_template_falls_back_to_the_elabftw_metadata(root: Path) -> None:
    # without templates_dir, scan-test is unknown: the counts come from elabftw-metadata.json
    row = scan(root).set_index("name").loc["Alpha"]
    assert row["required_total"] == 3
    assert row["required_filled"] == 3
    assert 0 < row["completeness"] <= 1


def test_builtin_template_project(tmp_path: Path) -> None:
    template = load_template("folder-only")
    create_project(template, {"project_name": "Lab", "owner": "ada"}, tmp_path)
    row = scan(tmp_path).iloc[0]
    assert row["template"] == "folder-only"
    assert row["required_filled"] == row["required_total"] == 2
    assert row["completeness"] < 1  # the description was left blank


def test_last_change_follows_the_top_level(root: Path) -> None:
    before = scan(root).set_index("name").loc["Alpha", "last_change"]
    os.utime(root / "Alpha" / "data", (2_000_000_000, 2_000_000_000))
    after = scan(root).set_index("name").loc["Alpha", "last_change"]
    assert after > before
    assert after == pd.Timestamp(2_000_000_000, unit="s", tz="UTC")


def test_sizes_only_on_request(root: Path) -> None:
    assert "size_bytes" not in scan(root).columns
    (root / "Alpha" / "data" / "image.tif").write_bytes(b"x" * 10_000)
    frame = scan(root, sizes=True).set_index("name")
    assert frame.loc["Alpha", "size_bytes"] > 10_000
    expected = sum(p.stat().st_size for p in (root / "Alpha").rglob("*") if p.is_file())
    assert frame.loc["Alpha", "size_bytes"] == expected


def test_never_lists_inside_a_project(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    listed: list[str] = []
    real_scandir = os.scandir

    def scandir(path: str = ".") -> object:
        listed.append(os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    scan(root)
    assert not any(path.startswith(str(root / "Alpha") + os.sep) for path in listed)


def test_project_answers(root: Path, templates_dir: Path) -> None:
    answers = dict(project_answers(root / "Alpha", templates_dir))
    assert answers["Title"] == "Alpha"
    assert answers["Site"] == "Bonn"
    desktop = project_answers(root / "old" / "desktop-project")
    assert desktop[0] == ("Sample ID", "S-1")
    assert [label for label, _ in desktop] == list(DESKTOP_METADATA["extra_fields"])


# --- command line -------------------------------------------------------------------------

def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_table(capsys: pytest.CaptureFixture[str], root: Path) -> None:
    code, out, err = run(capsys, "scan", str(root))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["NAME", "SOURCE", "TEMPLATE"]
    assert any(line.startswith("Alpha ") and "metafold" in line for line in lines)
    assert any(line.startswith("desktop-project ") and "desktop" in line for line in lines)
    assert "3 projects" in out
    assert "SIZE" not in lines[0]


def test_cli_csv_with_sizes(capsys: pytest.CaptureFixture[str], root: Path) -> None:
    code, out, _ = run(capsys, "scan", str(root), "--format", "csv", "--sizes")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert sorted(r["name"] for r in rows) == ["Alpha", "Beta", "desktop-project"]
    assert all(int(r["size_bytes"]) > 0 for r in rows)
    assert rows[0]["created"].endswith("Z")


def test_cli_json_and_max_depth(capsys: pytest.CaptureFixture[str], root: Path) -> None:
    code, out, _ = run(capsys, "scan", str(root), "--format", "json", "--max-depth", "1")
    assert code == 0
    records = json.loads(out)
    assert [r["name"] for r in records] == ["Alpha"]
    assert records[0]["path"] == str(root / "Alpha")
    assert records[0]["elabftw_id"] is None
    assert "size_bytes" not in records[0]


def test_cli_warns_about_broken_records_and_unreadable_folders(
        capsys: pytest.CaptureFixture[str], root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (root / "broken").mkdir()
    (root / "broken" / "metafold.json").write_text("{", encoding="utf-8")
    locked = str(root / "old")
    deny(monkeypatch, locked)
    code, out, err = run(capsys, "scan", str(root))
    assert code == 0
    assert f"cannot read {locked}: Permission denied" in err
    assert "metafold.json: is not valid JSON" in err
    assert "broken" in out


def test_cli_root_must_be_a_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "scan", str(tmp_path / "nowhere"))
    assert code == 2
    assert "is not a folder" in err


def test_cli_empty_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "scan", str(tmp_path))
    assert code == 0
    assert "no projects found" in out


@pytest.mark.parametrize("sizes", [False, True])
def test_the_table_without_pandas_is_the_dataframes_table(root: Path, templates_dir: Path, sizes: bool) -> None:
    """``metafold scan``'s table comes from plain rows: the same text as from the DataFrame."""
    from metafold_widgets.cli.output import project_rows_table, projects_table
    from metafold_widgets.workflows.scan import scan_rows

    source = next(root.rglob("metafold.json")).parent
    for number, created in enumerate(["2026-12-06T23:30:00-05:00", "2026-12-06", "not a date", 5, None, ""]):
        folder = root / "odd" / f"p{number}"
        _copy_record(source, folder)
        record = json.loads((folder / "metafold.json").read_text())
        record["project"]["created_at"] = created
        (folder / "metafold.json").write_text(json.dumps(record))
    broken = root / "odd" / "broken"
    broken.mkdir()
    (broken / "metafold.json").write_text("{not json")
    rows, errors = scan_rows(root, templates_dir=templates_dir, sizes=sizes)
    frame = scan(root, templates_dir=templates_dir, sizes=sizes)
    assert project_rows_table(rows, sizes=sizes) == projects_table(frame)
    assert errors == frame.attrs["errors"] and len(rows) == len(frame) == 10
