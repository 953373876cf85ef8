"""The ``metafold`` command line: the same workflows as the widgets, headless.

``parser`` builds the one argument parser, whose commands name their handlers; the
handlers live in one module per topic (``templates``, ``projects``, ``checks``,
``publishing``, ``config``) and print through ``output``. Handlers parse, call a
workflow, print and return an exit status; the workflows they need are imported
when they run, so that ``metafold --help`` starts fast.

Exit status (:func:`metafold_widgets.errors.exit_code`): 0 success, 2 a problem in the
user's input (template, answers, paths, settings), 1 anything else: a system that failed,
a full disk, a bug. User errors print a message, never a traceback.
"""
from __future__ import annotations

import os
import sys
from typing import Sequence

from ..errors import EXIT_OK, UserError, exit_code
from .parser import build_parser

__all__ = ["main", "build_parser"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_code(exc)
    except KeyboardInterrupt as exc:
        print("interrupted", file=sys.stderr)
        return exit_code(exc)
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:  # the machine's fault (disk full, permissions), not a bug of ours
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return exit_code(exc)
    except Exception as exc:  # a bug, not the user's fault: say so plainly
        if os.environ.get("METAFOLD_DEBUG"):
            raise
        print(f"unexpected error ({type(exc).__name__}): {exc}\n"
              "This is a bug in metafold-widgets; run with METAFOLD_DEBUG=1 for details.", file=sys.stderr)
        return exit_code(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
