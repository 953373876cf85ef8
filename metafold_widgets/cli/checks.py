"""``metafold check|audit|scan``: is a project complete and consistent, what happened to it, where are they all."""
from __future__ import annotations

import argparse
import os
from typing import Any, Iterable

from ..errors import EXIT_FAILED, EXIT_OK, UserError
from . import output
from .settings import open_session, templates_folder


def add_commands(commands: Any) -> None:
    """Add the checking and finding commands to the ``metafold`` sub-commands."""
    check = commands.add_parser("check", help="check projects: structure, metadata, linked records, basic facts "
                                "across the systems, permissions against the sharing level")
    check.add_argument("projects", nargs="+", help="project folders")
    check.add_argument("--format", choices=("table", "json"), default="table")
    check.set_defaults(handler=run_check)

    audit = commands.add_parser("audit", help="who created a project when, and every integration event")
    audit.add_argument("project", help="project folder")
    audit.add_argument("--format", choices=("text", "csv", "json"), default="text")
    audit.set_defaults(handler=run_audit)

    scan = commands.add_parser("scan", help="find every project under a folder and summarize them")
    scan.add_argument("root", help="folder to search (projects are found by metafold.json or elabftw-metadata.json)")
    scan.add_argument("--format", choices=output.FORMATS, default="table", help="output format (default: table)")
    scan.add_argument("--sizes", action="store_true", help="add each project's size (reads every file's size)")
    scan.add_argument("--max-depth", type=int, default=6, metavar="N",
                      help="how many folder levels below ROOT to search (default 6)")
    scan.set_defaults(handler=run_scan)


def run_check(args: argparse.Namespace) -> int:
    from ..workflows.check import check_project

    with open_session() as session:
        reports = [check_project(path, session) for path in args.projects]
    if args.format == "json":
        print(output.to_json([report.to_dict() for report in reports]))
    else:
        print("\n\n".join(f"{output.check_report(report)}\nby kind: {report.sections_line()}" for report in reports))
    return EXIT_FAILED if any(report.failed for report in reports) else EXIT_OK


def run_audit(args: argparse.Namespace) -> int:
    from ..workflows.audit import audit_summary, audit_table, project_events

    if args.format == "json":
        print(output.to_json(project_events(args.project)))
    elif args.format == "csv":
        print(output.frame(audit_table(args.project), "csv"), end="")
    else:
        print(audit_summary(args.project))
        print()
        print(output.frame(audit_table(args.project), "table"), end="")
    return EXIT_OK


def run_scan(args: argparse.Namespace) -> int:
    """Unreadable folders and broken records are warnings; only a ROOT that is not a folder is an error."""
    if not os.path.isdir(args.root):
        raise UserError(f"{args.root}: is not a folder")
    if args.max_depth < 0:
        raise UserError("--max-depth must be 0 or more")
    from ..workflows.scan import scan, scan_rows

    options = {"max_depth": args.max_depth, "sizes": args.sizes, "templates_dir": templates_folder()}
    if args.format == "table":  # the table needs no pandas: start-up stays short
        rows, errors = scan_rows(args.root, **options)
        _scan_warnings(errors, [(row["path"], row["error"]) for row in rows if row.get("error") is not None])
        print(output.project_rows_table(rows, sizes=args.sizes), end="")
        return EXIT_OK
    projects = scan(args.root, **options)
    _scan_warnings(projects.attrs.get("errors", []),
                   projects.loc[projects["error"].notna(), ["path", "error"]].itertuples(index=False))
    print(output.frame(projects, args.format), end="")
    return EXIT_OK


def _scan_warnings(unreadable: Iterable[tuple[str, str]], broken: Iterable[tuple[str, str]]) -> None:
    output.notes(f"warning: cannot read {path}: {message}" for path, message in unreadable)
    output.notes(f"warning: {path}: {message}" for path, message in broken)
