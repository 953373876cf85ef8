"""``metafold import``: images into the project's OMERO dataset, announced in its elabFTW experiment."""
from __future__ import annotations

import argparse
from typing import Any

from ..errors import EXIT_FAILED, EXIT_OK, IntegrationError
from . import output
from .settings import open_session


def add_commands(commands: Any) -> None:
    """Add the image commands to the ``metafold`` sub-commands."""
    imports = commands.add_parser(
        "import", help="import images into the project's OMERO dataset and note it in elabFTW",
        description="Runs OMERO's importer (omero-py's 'omero import', with the session key) into the "
                    "project's dataset, records the image ids, then writes an 'N images imported' entry "
                    "and publishes it to the elabFTW experiment. A failed import tells elabFTW nothing.")
    imports.add_argument("project", help="project folder")
    imports.add_argument("files", nargs="*", help="files or folders inside the project to import "
                                                  "(default: the project's raw-image folders)")
    imports.add_argument("--status", metavar="STATUS",
                         help="also set the experiment's status (a status of your elabFTW team, e.g. Success)")
    imports.add_argument("--clientdir", metavar="DIR", help="folder of the OMERO.java importer jars "
                                                            "(default: where 'omero import --fetch-jars' puts them)")
    imports.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace) -> int:
    """Exit 0 when imported and announced, 1 when the import or telling elabFTW failed, 2 for wrong input."""
    from ..workflows.image_import import import_and_announce

    with open_session() as session:
        try:
            report = import_and_announce(session, args.project, args.files, status=args.status,
                                         clientdir=args.clientdir, notify=output.note)
        except IntegrationError as exc:
            output.note(f"error: {exc}")
            output.note("elabFTW was not told anything")
            return EXIT_FAILED
    output.notes(report.notes)
    output.notes(f"warning: {problem}" for problem in report.problems)
    print(output.to_json({"image_ids": list(report.run.image_ids), "log": str(report.run.log_file),
                          "entry": str(report.entry) if report.entry else None,
                          "published": report.published, "status": report.status}))
    return EXIT_OK if report.ok else EXIT_FAILED
