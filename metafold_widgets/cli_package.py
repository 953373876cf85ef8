"""The ``metafold`` commands for publishing and archiving: package, archive, verify, export-eln, import-eln.

They only parse arguments, call the workflows and print; exit status 0 on success, 1 when
``verify`` finds a problem, 2 for a user error (raised as UserError, printed by ``cli.main``).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from typing import Any, Callable

from .errors import UserError
from .session import Session
from .workflows.archive import ARCHIVE_FORMATS, create_archive, describe_size, verify
from .workflows.eln import export_eln, import_eln
from .workflows.package import ELABFTW_EXPORT_FORMATS, build_package

EXIT_OK, EXIT_PROBLEMS = 0, 1
COMMANDS = ("package", "archive", "verify", "export-eln", "import-eln")


def add_package_commands(subparsers: Any) -> None:
    """Add the publishing and archiving commands to the ``metafold`` parser's subcommands."""
    package = subparsers.add_parser("package", help="build a project's publication data package and archive it")
    package.add_argument("project", help="project folder")
    package.add_argument("--out", "-o", help="folder to put the package in (default: beside the project)")
    package.add_argument("--archive", choices=(*ARCHIVE_FORMATS, "both", "none"), default="tar.gz",
                         help="archive(s) to make of the package (default: tar.gz)")
    package.add_argument("--copy", action="store_true", help="copy files (default: hard-link them when possible)")
    package.add_argument("--elabftw-format", action="append", choices=("pdf", "pdfa", "eln", "zip", "json"),
                         help="elabFTW export(s) to include (repeatable; default: pdf and eln)")
    package.add_argument("--no-elabftw-export", action="store_true", help="do not download elabFTW exports")
    _common(package)
    package.add_argument("--json", action="store_true", help="print the package's facts as JSON")

    archive = subparsers.add_parser("archive", help="archive a folder (tar.gz or zip) with manifest and checksums")
    archive.add_argument("folder", help="folder to archive (a project, a package...)")
    archive.add_argument("--format", choices=ARCHIVE_FORMATS, default="tar.gz", help="archive format (default tar.gz)")
    archive.add_argument("--out", "-o", help="folder to put the archive in (default: beside the folder)")
    archive.add_argument("--compression-level", type=int, choices=range(0, 10), default=6, metavar="0-9",
                         help="compression level (default 6; 1 is much faster for images)")
    _common(archive)

    check = subparsers.add_parser("verify", help="re-check a folder or archive against its SHA256SUMS/MD5SUMS")
    check.add_argument("path", help="folder or archive (.tar.gz, .zip)")
    _common(check)

    export = subparsers.add_parser("export-eln", help="export a project as an .eln file (elabFTW can import it)")
    export.add_argument("project", help="project folder")
    export.add_argument("--out", "-o", help="the .eln file to write, or a folder (default: beside the project)")
    export.add_argument("--metadata-only", action="store_true", help="leave the data files out")

    importing = subparsers.add_parser("import-eln", help="create a project folder from an .eln file")
    importing.add_argument("file", help=".eln file (exported by elabFTW or by metafold)")
    importing.add_argument("--dest", "-d", required=True, help="existing folder to create the project in")
    importing.add_argument("--template", "-t", help="template file or built-in id (default: the one the file names)")
    importing.add_argument("--name", "-n", help="project folder name (default: from the answers)")
    importing.add_argument("--experiment", help="the experiment to import when the file holds several")
    importing.add_argument("--created-by", help="creator recorded in the project (default: login name)")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jobs", "-j", type=int, default=None, help="files checksummed at the same time")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress on standard error")


def run_package_command(args: argparse.Namespace) -> int | None:
    """Run one of this module's commands; None when ``args.command`` is not one of them."""
    handler = _HANDLERS.get(getattr(args, "command", None) or "")
    return None if handler is None else handler(args)


def _package(args: argparse.Namespace) -> int:
    archives = {"both": ARCHIVE_FORMATS, "none": ()}.get(args.archive, (args.archive,))
    formats = () if args.no_elabftw_export else tuple(dict.fromkeys(args.elabftw_format or ELABFTW_EXPORT_FORMATS))
    session = Session.from_environment()
    try:
        with _TextProgress(args.quiet) as progress:
            result = build_package(args.project, args.out, session, archive=archives, link=not args.copy,
                                   elabftw_formats=formats, workers=_jobs(args), progress=progress)
    finally:
        session.close()
    if args.json:
        print(json.dumps({"path": str(result.path), "archives": [str(a.path) for a in result.archives],
                          "warnings": result.warnings, "package": result.data}, indent=2, ensure_ascii=False))
    else:
        print(result.summary())
    return EXIT_OK


def _archive(args: argparse.Namespace) -> int:
    with _TextProgress(args.quiet) as progress:
        result = create_archive(args.folder, args.out, args.format, workers=_jobs(args), progress=progress,
                                compresslevel=args.compression_level)
    print(f"{result.path} ({result.file_count} files, {describe_size(result.total_size)}; "
          f"its checksum: {result.checksum_file})")
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    with _TextProgress(args.quiet) as progress:
        report = verify(args.path, workers=_jobs(args), progress=progress)
    print(report.summary())
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def _export_eln(args: argparse.Namespace) -> int:
    result = export_eln(args.project, args.out, include_files=not args.metadata_only)
    print(f"{result.path} ({result.file_count} files, {describe_size(result.total_size)})")
    return EXIT_OK


def _import_eln(args: argparse.Namespace) -> int:
    session = Session.from_environment()
    try:
        result = import_eln(args.file, args.dest, template=args.template, name=args.name,
                            experiment=args.experiment, session=session, created_by=args.created_by)
    finally:
        session.close()
    print(result.path)
    print(result.summary(), file=sys.stderr)
    return EXIT_OK


def _jobs(args: argparse.Namespace) -> int | None:
    if args.jobs is not None and args.jobs < 1:
        raise UserError("--jobs must be at least 1")
    return args.jobs


class _TextProgress:
    """``progress(done, total, message)`` as one updating line on a terminal (a line every 5 s otherwise)."""

    def __init__(self, quiet: bool, stream: Any = None):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = 0.2 if self.tty else 5.0
        self.last = 0.0
        self.shown = False

    def __enter__(self) -> Callable[[int, int, str], None]:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.shown and self.tty:
            self.stream.write("\r" + " " * self._width() + "\r")
            self.stream.flush()

    def __call__(self, done: int, total: int, message: str) -> None:
        now = time.monotonic()
        if self.quiet or (now - self.last < self.interval and done < total):
            return
        self.last = now
        percent = 100.0 * done / total if total else 100.0
        line = f"{percent:5.1f}% {message}"
        if self.tty:
            width = self._width()
            self.stream.write("\r" + line[:width].ljust(width))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.shown = True

    @staticmethod
    def _width() -> int:
        return max(20, shutil.get_terminal_size((80, 20)).columns - 1)


_HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "package": _package, "archive": _archive, "verify": _verify, "export-eln": _export_eln,
    "import-eln": _import_eln}
