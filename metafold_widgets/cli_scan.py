"""``metafold scan ROOT``: list every project under a folder as a table, CSV or JSON.

Unreadable folders and broken records are warnings on standard error; the exit status
is 0 unless ROOT itself is not a folder (2, as for every input problem).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from .errors import UserError

FORMATS = ("table", "csv", "json")
_TABLE_COLUMNS = (("NAME", "name"), ("SOURCE", "source"), ("TEMPLATE", "template"), ("CREATED", "created"),
                  ("CREATOR", "creator"), ("COMPLETE", "completeness"), ("ELABFTW", "elabftw_state"),
                  ("OMERO", "omero_state"), ("SIZE", "size_bytes"), ("PATH", "path"))


def add_scan_commands(subparsers: Any) -> None:
    """Add ``scan`` to the ``metafold`` sub-commands."""
    scan = subparsers.add_parser("scan", help="find every project under a folder and summarize them")
    scan.add_argument("root", help="folder to search (projects are found by metafold.json or elabftw-metadata.json)")
    scan.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    scan.add_argument("--sizes", action="store_true", help="add each project's size (reads every file's size)")
    scan.add_argument("--max-depth", type=int, default=6, metavar="N",
                      help="how many folder levels below ROOT to search (default 6)")


def run_scan_command(args: argparse.Namespace) -> int | None:
    """Run ``metafold scan``; None when ``args`` is another command."""
    if getattr(args, "command", None) != "scan":
        return None
    from .session import Session
    from .workflows.scan import scan

    if not os.path.isdir(args.root):
        raise UserError(f"{args.root}: is not a folder")
    if args.max_depth < 0:
        raise UserError("--max-depth must be 0 or more")
    frame = scan(args.root, max_depth=args.max_depth, sizes=args.sizes,
                 templates_dir=Session.from_environment().templates_dir)
    for path, message in frame.attrs.get("errors", []):
        print(f"warning: cannot read {path}: {message}", file=sys.stderr)
    for path, message in frame.loc[frame["error"].notna(), ["path", "error"]].itertuples(index=False):
        print(f"warning: {path}: {message}", file=sys.stderr)
    print(_render(frame, args.format), end="")
    return 0


def _render(frame: Any, fmt: str) -> str:
    if fmt == "json":
        records = json.loads(frame.to_json(orient="records", date_format="iso"))  # NA -> null, dates ISO
        return json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    return text_table(frame)


def text_table(frame: Any) -> str:
    """The projects as an aligned plain-text table, one line each."""
    if frame.empty:
        return "no projects found\n"
    columns = [(title, key) for title, key in _TABLE_COLUMNS if key in frame]
    rows = [[title for title, _ in columns]]
    for record in frame.to_dict("records"):
        rows.append([_cell(key, record.get(key)) for _, key in columns])
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines) + f"\n\n{len(frame)} projects\n"


def _cell(key: str, value: Any) -> str:
    import pandas as pd

    if pd.api.types.is_scalar(value) and pd.isna(value):
        return "-"
    if key == "created":
        return value.strftime("%Y-%m-%d")
    if key == "completeness":
        return f"{value:.0%}"
    if key == "size_bytes":
        return _human_size(int(value))
    return str(value)


def _human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    scaled = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        scaled /= 1024
        if scaled < 1024 or unit == "TB":
            break
    return f"{scaled:.1f} {unit}"
