"""``metafold note|publish``: write lab record entries and publish them into the elabFTW experiment."""
from __future__ import annotations

import argparse
from typing import Any

from ..errors import EXIT_FAILED, EXIT_OK
from .settings import open_session, templates_folder

# The built-in entry kinds (core/entries.py KINDS; kept here so that --help imports nothing more)
ENTRY_KINDS = ("protocol", "sample-preparation", "microscope-configuration", "imaging-session", "analysis-plan",
               "results-summary", "images-imported")


def add_commands(commands: Any) -> None:
    """Add the lab record commands to the ``metafold`` sub-commands."""
    note = commands.add_parser("note", help="write a new lab record entry (Markdown) pre-filled with the "
                                            "project's facts")
    note.add_argument("project", help="project folder")
    note.add_argument("--kind", required=True, choices=ENTRY_KINDS, metavar="KIND",
                      help=f"the kind of entry: {', '.join(ENTRY_KINDS)}")
    note.add_argument("--title", help="the entry's heading (default: the kind and the project's title)")
    note.set_defaults(handler=run_note)

    publish = commands.add_parser("publish", help="publish the Markdown entries as sections of the elabFTW "
                                                  "experiment, their checklists as its steps")
    publish.add_argument("project", help="project folder")
    publish.add_argument("--dry-run", action="store_true", help="show what would change, change nothing")
    publish.set_defaults(handler=run_publish)


def run_note(args: argparse.Namespace) -> int:
    from ..workflows.entries import new_entry

    print(new_entry(args.project, args.kind, title=args.title, templates_dir=templates_folder()))
    return EXIT_OK


def run_publish(args: argparse.Namespace) -> int:
    from ..workflows.entries import publish_entries

    with open_session() as session:
        report = publish_entries(session, args.project, dry_run=args.dry_run)
    print(report.summary())
    return EXIT_FAILED if report.errors else EXIT_OK
