"""``metafold report``: a project's compliance report (FAIR, retention, backup, access, documentation)."""
from __future__ import annotations

import argparse
import os
from typing import Any

from ..errors import EXIT_OK, UserError
from .settings import open_session

REPORT_FORMATS = ("md", "html", "json")  # compliance.REPORT_FORMATS, spelled out so that --help stays light


def add_commands(commands: Any) -> None:
    """Add the report command to the ``metafold`` sub-commands."""
    report = commands.add_parser("report", help="a project's compliance report: FAIR, retention, backup, access, "
                                                "documentation")
    report.add_argument("project", help="project folder")
    report.add_argument("--format", "-f", choices=REPORT_FORMATS, default="md", help="output format (default: md)")
    report.add_argument("--out", "-o", help="file to write (atomically), or a folder to hold compliance-report.FORMAT "
                                            "(default: print it)")
    report.add_argument("--local", action="store_true",
                        help="do not contact elabFTW or OMERO (their records are judged from the project only)")
    report.set_defaults(handler=run_report)


def run_report(args: argparse.Namespace) -> int:
    """Print or write the report; exit 2 when the project is missing or not a project."""
    if not os.path.isdir(args.project):
        raise UserError(f"{args.project}: no such project folder")
    from ..workflows.compliance import compliance_report
    from ..workflows.compliance_render import render, write_report

    if args.local:
        report = compliance_report(args.project)
    else:
        with open_session() as session:
            report = compliance_report(args.project, session)
    if args.out:
        path = write_report(report, args.out, args.format)
        counts = ", ".join(f"{status} {count}" for status, count in report.summary.items())
        print(f"{path} ({counts})")
    else:
        print(render(report, args.format), end="")
    return EXIT_OK
