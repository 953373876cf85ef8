"""The lean record reader scan uses gives exactly what the full record gives, errors included;
the bounded reader reads what a file holds and parses shallow JSON without the depth scan."""
from __future__ import annotations

import copy
import json
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest

from metafold_widgets.core import bounded
from metafold_widgets.core.bounded import parse_json, read_bytes
from metafold_widgets.core.record import ProjectRecord, RecordSummary, read_summary
from metafold_widgets.errors import InputFileError

GOOD: dict[str, Any] = {
    "format": "metafold-project", "format_version": 1,
    "project": {"name": "P1", "uid": "u-1", "created_at": "2025-01-02T03:04:05Z", "created_by": "ada",
                "tool": "metafold", "log": "logs/integration_log.jsonl", "custom": [1, 2]},
    "template": {"id": "multi-modal-imaging", "name": "Imaging", "version": "1.0.0", "type": "folder"},
    "answers": {"title": "Heat", "count": 3, "tags": ["a"], "blank": None},
    "integrations": {"elabftw": {"state": "done", "id": 17, "url": "https://eln/17", "error": None,
                                 "payload": {"title": "Heat"}, "linked_omero": True},
                     "omero": {"state": "failed", "error": "timeout"}},
}


def variant(path: tuple[Any, ...], value: Any, *, delete: bool = False) -> dict[str, Any]:
    """GOOD with the key at ``path`` set to ``value`` (or removed)."""
    data = copy.deepcopy(GOOD)
    target = data
    for key in path[:-1]:
        target = target[key]
    if delete:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return data


ODD_VALUES = [None, "", "x", 0, 1, 2.5, True, False, [], ["a"], {}, {"a": 1}, ("t",), OrderedDict(a=1)]
PATHS = [("project",), ("template",), ("answers",), ("integrations",), ("project", "name"), ("project", "uid"),
         ("project", "log"), ("project", "created_at"), ("project", "created_by"), ("project", "tool"),
         ("template", "id"), ("template", "name"), ("template", "version"), ("template", "type"),
         ("integrations", "elabftw"), ("integrations", "elabftw", "state"), ("integrations", "elabftw", "id"),
         ("integrations", "elabftw", "url"), ("integrations", "elabftw", "payload"), ("integrations", "omero")]
CASES = ([GOOD, {}, [], None, "text", 3, OrderedDict(GOOD), {**GOOD, "integrations": {1: {"state": "done"}}},
          {"project": OrderedDict(name="n", uid="u")}, {"project": {"name": "n", "uid": "u"}, "answers": OrderedDict()}]
         + [variant(path, value) for path in PATHS for value in ODD_VALUES]
         + [variant(path, None, delete=True) for path in PATHS])


def full(data: Any) -> RecordSummary | str:
    try:
        return RecordSummary.from_record(ProjectRecord.from_dict(data, "rec.json"))
    except InputFileError as exc:
        return f"InputFileError: {exc}"


def lean(data: Any) -> RecordSummary | str:
    try:
        return read_summary(data, "rec.json")
    except InputFileError as exc:
        return f"InputFileError: {exc}"


@pytest.mark.parametrize("data", CASES, ids=range(len(CASES)))
def test_the_lean_reader_agrees_with_the_full_record(data):
    assert lean(data) == full(data)


def test_the_cases_cover_both_readings_and_errors():
    results = [lean(data) for data in CASES]
    assert sum(isinstance(r, RecordSummary) for r in results) > 20
    assert sum(isinstance(r, str) for r in results) > 20
    summary = lean(GOOD)
    assert isinstance(summary, RecordSummary)
    assert summary.states == {"elabftw": ("done", 17, "https://eln/17"), "omero": ("failed", None, None)}
    assert (summary.name, summary.template_id, summary.template_version) == ("P1", "multi-modal-imaging", "1.0.0")


def test_the_lean_reader_agrees_on_records_read_from_json_text():
    """What a scan meets: JSON text, with numbers and booleans where text belongs."""
    for data in CASES:
        try:
            parsed = json.loads(json.dumps(data))
        except (TypeError, ValueError):
            continue
        assert lean(parsed) == full(parsed)


# --- the bounded reader ------------------------------------------------------------------------

def test_read_bytes_reads_small_and_chunked_files_whole(tmp_path, monkeypatch):
    small, big = tmp_path / "small", tmp_path / "big"
    small.write_bytes(b"{}")
    big.write_bytes(os.urandom(5000))
    monkeypatch.setattr(bounded, "READ_CHUNK_BYTES", 7)
    assert read_bytes(small, 10) == b"{}"
    assert read_bytes(big, 5000) == big.read_bytes()
    with pytest.raises(InputFileError, match="too large"):
        read_bytes(big, 4999)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="no /proc file system")
def test_read_bytes_reads_a_file_that_says_it_is_empty_but_is_not():
    data = read_bytes("/proc/self/status", 1 << 20)
    assert data.startswith(b"Name:") and len(data) > 100
    with pytest.raises(InputFileError, match="too large"):
        read_bytes("/proc/self/status", 10)


def test_parse_json_keeps_the_nesting_cap_with_and_without_the_bracket_shortcut():
    assert parse_json('{"a": "[[[[[[[[[["}', "f", max_nesting=3) == {"a": "[[[[[[[[[["}  # brackets in text
    assert parse_json(b"[[[1]]]", "f", max_nesting=3) == [[[1]]]
    with pytest.raises(InputFileError, match="nested more than 3 levels"):
        parse_json("[[[[1]]]]", "f", max_nesting=3)
    with pytest.raises(InputFileError, match="nested more than 3 levels"):
        parse_json(b"[[[[1]]]]", "f", max_nesting=3)
    with pytest.raises(InputFileError, match="not valid JSON"):
        parse_json("{", "f")


def test_scan_rows_are_what_the_full_record_says(tmp_path):
    """Each project's row, from records good and broken, against the full record read the slow way."""
    from metafold_widgets.workflows.scan import scan

    records = [data for data in CASES if isinstance(data, dict)][::3]
    for number, data in enumerate(records):
        folder = tmp_path / f"p{number:03d}"
        folder.mkdir()
        try:
            text = json.dumps({**data, "format": "metafold-project"})
        except (TypeError, ValueError):
            continue
        (folder / "metafold.json").write_text(text, encoding="utf-8")
    frame = scan(tmp_path)
    assert len(frame) > 30
    for row in frame.to_dict("records"):
        expected = full(json.loads(Path(row["path"], "metafold.json").read_text(encoding="utf-8")))
        if isinstance(expected, str):
            assert row["error"] == expected.removeprefix("InputFileError: ").replace("rec.json", "metafold.json")
            continue
        assert plain(row["error"]) is None
        assert (row["name"], row["uid"], plain(row["template"]), plain(row["creator"])) == (
            expected.name, expected.uid, expected.template_id, expected.created_by)
        for system in ("elabftw", "omero"):
            state, remote_id, url = expected.states.get(system, (None, None, None))
            assert (plain(row[f"{system}_state"]), plain(row[f"{system}_id"]), plain(row[f"{system}_url"])) == (
                state, remote_id, url)


def plain(value: Any) -> Any:
    """None for what pandas shows as missing (None, NaN, NA), else the value."""
    import pandas as pd

    return None if not isinstance(value, (list, dict)) and pd.isna(value) else value
