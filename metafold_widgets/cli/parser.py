"""The one argument parser of ``metafold``: each command's parser names its handler.

Every leaf parser sets ``handler`` (``set_defaults(handler=...)``): a function taking the
parsed arguments and returning the exit status. Command modules import nothing heavy
at the top, so that building the parser (and ``--help``) stays fast.
"""
from __future__ import annotations

import argparse

from .._version import __version__
from . import checks, config, imaging, projects, publishing, records, reports, templates

TOPICS = (templates, projects, records, checks, reports, imaging, publishing, config)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``metafold`` command."""
    parser = argparse.ArgumentParser(prog="metafold", description=(
        "Create standardized research projects from templates: a project folder, "
        "plus elabFTW and OMERO records when configured."))
    parser.add_argument("--version", action="version", version=f"metafold-widgets {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for topic in TOPICS:
        topic.add_commands(commands)
    return parser
