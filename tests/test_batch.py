"""Batch creation: reading tables, validating every row first, bounded concurrency, results."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from metafold_widgets import cli, load_template, read_record
from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.config import ElabftwSettings, Secret
from metafold_widgets.errors import InputFileError
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_elabftw import WRITE_KEY
from metafold_widgets.workflows.batch import create_batch, read_rows

pytestmark = pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")

TEMPLATE = """
id: batch-demo
name: Batch demo
project_name: "{sample}"
folders: [raw, results]
fields:
  sample: {type: text, required: true, pattern: "^S-[0-9]+$"}
  temperature: {type: number, min: 0, max: 100}
  stain: {type: dropdown, options: [DAPI, GFP]}
  make_entry: {type: checkbox, default: true}
integrations:
  elabftw: {enabled_by: make_entry}
  omero: false
"""


@pytest.fixture
def template():
    return load_template(TEMPLATE)


def write_csv(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_tables_of_every_kind_read_the_same(tmp_path):
    rows = [{"sample": "S-1", "temperature": "37"}, {"sample": "S-2"}]
    csv_path = write_csv(tmp_path / "rows.csv", "sample,temperature\nS-1,37\nS-2,\n")
    semicolon = write_csv(tmp_path / "rows2.csv", "sample;temperature\nS-1;37\nS-2;\n")
    json_path = tmp_path / "rows.json"
    json_path.write_text(json.dumps(rows))
    frame = pd.DataFrame([{"sample": "S-1", "temperature": "37"}, {"sample": "S-2", "temperature": None}])
    assert read_rows(csv_path) == read_rows(semicolon) == read_rows(json_path) == read_rows(frame) == rows
    assert read_rows(rows) == rows


def test_unreadable_tables_are_clear_errors(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        read_rows(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"sample\n\xff\xfe\n")
    with pytest.raises(InputFileError, match="UTF-8"):
        read_rows(bad)
    extra = write_csv(tmp_path / "extra.csv", "sample\nS-1,oops\n")
    with pytest.raises(InputFileError, match="more cells"):
        read_rows(extra)


def test_every_bad_row_is_reported_and_only_good_rows_are_created(tmp_path, template):
    rows = [{"sample": "S-1"}, {"sample": "bad", "temperature": "200"}, {"sample": "S-3"}, {"sample": "S-1"},
            {"temperature": "5"}]
    (tmp_path / "S-3").mkdir()  # an existing folder is never touched
    result = create_batch(Session(), template, rows, tmp_path, jobs=3)
    by_row = {r.row: r for r in result.rows}
    assert [r.row for r in result.rows] == [1, 2, 3, 4, 5]
    assert by_row[1].status == by_row[4].status == "invalid" and "same project folder name" in by_row[1].error
    assert by_row[2].status == "invalid" and "Sample" in by_row[2].error and "at most 100" in by_row[2].error
    assert by_row[3].status == "invalid" and "already exists" in by_row[3].error
    assert by_row[5].status == "invalid" and "is required" in by_row[5].error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["S-3"]


def test_batch_creates_projects_and_experiments_without_duplicates(tmp_path, template, fake_elabftw):
    client = ElabftwClient(ElabftwSettings(fake_elabftw.url, Secret(WRITE_KEY)), sleep=lambda s: None)
    session = Session(elabftw=client)
    rows = [{"sample": f"S-{n}", "stain": "GFP", "make_entry": n % 5 != 0} for n in range(1, 21)]
    seen = []
    result = create_batch(session, template, rows, tmp_path, jobs=8, progress=lambda d, t, m: seen.append((d, t)))
    assert result.ok
    frame = result.to_dataframe()
    assert list(frame.columns) == ["row", "status", "path", "elabftw_id", "omero_id", "error"]
    assert (frame["status"] == "created").all() and len(frame) == 20
    assert len(fake_elabftw.experiments()) == 16  # every fifth row turned elabFTW off
    assert frame["elabftw_id"].dropna().nunique() == 16
    assert seen[-1] == (20, 20)
    assert read_record(tmp_path / "S-7")["integrations"]["elabftw"]["state"] == "done"
    session.close()


def test_cli_batch(tmp_path, capsys, monkeypatch):
    template_file = tmp_path / "t.yaml"
    template_file.write_text(TEMPLATE)
    table = write_csv(tmp_path / "rows.csv", "sample,stain\nS-1,DAPI\nS-2,GFP\n")
    dest = tmp_path / "out"
    dest.mkdir()
    code = cli.main(["batch", "-t", str(template_file), "--table", str(table), "-d", str(dest), "--format", "csv"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines()[0] == "row,status,path,elabftw_id,omero_id,error"
    assert "[2/2]" in err and sorted(p.name for p in dest.iterdir()) == ["S-1", "S-2"]
    bad = write_csv(tmp_path / "bad.csv", "sample,stain\nS-3,DAPI\nnope,Red\n")
    code = cli.main(["batch", "-t", str(template_file), "--table", str(bad), "-d", str(dest)])
    out, err = capsys.readouterr()
    assert code == 2 and "row 2" in err and "Stain" in err
    assert sorted(p.name for p in dest.iterdir()) == ["S-1", "S-2", "S-3"]


def test_progress_bar_follows_a_batch(tmp_path, template):
    from metafold_widgets.widgets import ProgressBar

    bar = ProgressBar("Creating")
    create_batch(Session(), template, [{"sample": f"S-{n}"} for n in range(5)], tmp_path, jobs=2,
                 progress=bar.update)
    assert (bar.bar.value, bar.bar.max) == (5, 5) and "5/5" in bar.message.value
