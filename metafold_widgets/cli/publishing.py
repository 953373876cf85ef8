"""``metafold package|archive|verify|export-eln|import-eln``: publish, archive and exchange projects."""
from __future__ import annotations

import argparse
import errno
import os
from pathlib import Path
from typing import Any

from ..errors import EXIT_FAILED, EXIT_OK, UserError
from . import output
from .settings import open_session

ARCHIVE_FORMATS = ("tar.gz", "zip")  # publishing.archive.ARCHIVE_FORMATS, spelled out so that --help stays light


def add_commands(commands: Any) -> None:
    """Add the publishing and archiving commands to the ``metafold`` sub-commands."""
    package = commands.add_parser("package", help="build a project's publication data package and archive it")
    package.add_argument("project", help="project folder")
    package.add_argument("--out", "-o", help="folder to put the package in, made if missing "
                         "(default: beside the project)")
    package.add_argument("--archive", choices=(*ARCHIVE_FORMATS, "both", "none"), default="tar.gz",
                         help="archive(s) to make of the package (default: tar.gz)")
    package.add_argument("--copy", action="store_true", help="copy files (default: hard-link them when possible)")
    package.add_argument("--elabftw-format", action="append", choices=("pdf", "pdfa", "eln", "zip", "json"),
                         help="elabFTW export(s) to include (repeatable; default: pdf and eln)")
    package.add_argument("--no-elabftw-export", action="store_true", help="do not download elabFTW exports")
    _add_checksum_options(package, compresses=True)
    package.add_argument("--json", action="store_true", help="print the package's facts as JSON")
    package.set_defaults(handler=run_package)

    archive = commands.add_parser("archive", help="archive a folder (tar.gz or zip) with manifest and checksums")
    archive.add_argument("folder", help="folder to archive (a project, a package...)")
    archive.add_argument("--format", choices=ARCHIVE_FORMATS, default="tar.gz", help="archive format (default tar.gz)")
    archive.add_argument("--out", "-o", help="folder to put the archive in (default: beside the folder)")
    archive.add_argument("--compression-level", type=int, choices=range(0, 10), default=6, metavar="0-9",
                         help="compression level (default 6; 1 is much faster for images)")
    _add_checksum_options(archive, compresses=True)
    archive.set_defaults(handler=run_archive)

    verify = commands.add_parser(
        "verify", help="re-check a folder or archive against its SHA256SUMS (MD5SUMS too with --md5)",
        description="Re-hash every listed file and compare it with SHA256SUMS (with MD5SUMS when there is no "
                    "SHA256SUMS). MD5SUMS must list the same files with well-formed checksums; --md5 recomputes "
                    "its checksums as well (slower; once SHA-256 matches, an MD5 adds no assurance).")
    verify.add_argument("path", help="folder or archive (.tar.gz, .zip)")
    verify.add_argument("--md5", "--all", dest="md5", action="store_true",
                        help="recompute the MD5 of every file too, not only its SHA-256")
    _add_checksum_options(verify)
    verify.set_defaults(handler=run_verify)

    export = commands.add_parser("export-eln", help="export a project as an .eln file (elabFTW can import it)")
    export.add_argument("project", help="project folder")
    export.add_argument("--out", "-o", help="the .eln file to write, or a folder (default: beside the project)")
    export.add_argument("--metadata-only", action="store_true", help="leave the data files out")
    export.set_defaults(handler=run_export_eln)

    importing = commands.add_parser("import-eln", help="create a project folder from an .eln file")
    importing.add_argument("file", help=".eln file (exported by elabFTW or by metafold)")
    importing.add_argument("--dest", "-d", required=True, help="existing folder to create the project in")
    importing.add_argument("--template", "-t", help="template file or built-in id (default: the one the file names)")
    importing.add_argument("--name", "-n", help="project folder name (default: from the answers)")
    importing.add_argument("--experiment", help="the experiment to import when the file holds several")
    importing.add_argument("--created-by", help="creator recorded in the project (default: login name)")
    importing.set_defaults(handler=run_import_eln)


def _add_checksum_options(parser: argparse.ArgumentParser, compresses: bool = False) -> None:
    jobs = ("threads that checksum files and compress the archive (default: one per CPU for compression, "
            "CPUs + 4 for checksums)" if compresses else "files checksummed at the same time (default: CPUs + 4)")
    parser.add_argument("--jobs", "-j", type=int, default=None, help=jobs)
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress on standard error")


def _jobs(args: argparse.Namespace) -> int | None:
    if args.jobs is not None and args.jobs < 1:
        raise UserError("--jobs must be at least 1")
    return args.jobs


def run_package(args: argparse.Namespace) -> int:
    from ..workflows.publishing.package import ELABFTW_EXPORT_FORMATS, build_package

    archives = {"both": ARCHIVE_FORMATS, "none": ()}.get(args.archive, (args.archive,))
    formats = () if args.no_elabftw_export else tuple(dict.fromkeys(args.elabftw_format or ELABFTW_EXPORT_FORMATS))
    workers = _jobs(args)
    made = make_output_folder(args.out) if args.out is not None else []
    try:
        with open_session() as session, output.Progress(args.quiet) as progress:
            result = build_package(args.project, args.out, session, archive=archives, link=not args.copy,
                                   elabftw_formats=formats, workers=workers, progress=progress)
    except BaseException:
        remove_empty(made)
        raise
    if args.json:
        print(output.to_json({"path": str(result.path), "archives": [str(a.path) for a in result.archives],
                              "warnings": result.warnings, "package": result.data}))
    else:
        print(result.summary())
    return EXIT_OK


def make_output_folder(out: str | os.PathLike[str]) -> list[Path]:
    """Make the folder ``out`` and its missing parents; returns the folders made, outermost first.

    UserError (exit 2) naming the path when a file (or anything but a folder) is in the way or
    the folder cannot be made or written into.
    """
    target = Path(out)
    missing: list[Path] = []
    for folder in (target, *target.parents):
        if folder.is_dir():
            break
        if folder.exists() or folder.is_symlink():
            raise UserError(f"--out {out}: {folder} is a file, not a folder")
        missing.append(folder)
    made: list[Path] = []
    try:
        for folder in reversed(missing):
            try:
                folder.mkdir()
            except FileExistsError:  # made meanwhile: fine if it is a folder
                if not folder.is_dir():
                    raise UserError(f"--out {out}: {folder} is a file, not a folder") from None
                continue
            made.append(folder)
    except OSError as exc:
        remove_empty(made)
        raise UserError(f"--out {out}: cannot make the folder {folder} ({exc.strerror or exc})") from None
    if not os.access(target, os.W_OK | os.X_OK):
        remove_empty(made)
        raise UserError(f"--out {out}: cannot write into this folder ({os.strerror(errno.EACCES)})")
    return made


def remove_empty(folders: list[Path]) -> None:
    """Remove the folders :func:`make_output_folder` made, innermost first, as long as they are empty."""
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            return


def run_archive(args: argparse.Namespace) -> int:
    from ..workflows.publishing.archive import create_archive

    workers = _jobs(args)
    with output.Progress(args.quiet) as progress:
        result = create_archive(args.folder, args.out, args.format, workers=workers, progress=progress,
                                compresslevel=args.compression_level)
    print(f"{result.path} ({result.file_count} files, {output.size(result.total_size)}; "
          f"its checksum: {result.checksum_file})")
    return EXIT_OK


def run_verify(args: argparse.Namespace) -> int:
    from ..workflows.publishing.verify import verify

    workers = _jobs(args)
    with output.Progress(args.quiet) as progress:
        report = verify(args.path, workers=workers, progress=progress, md5=args.md5)
    print(report.summary())
    return EXIT_OK if report.ok else EXIT_FAILED


def run_export_eln(args: argparse.Namespace) -> int:
    from ..workflows.publishing.eln_export import export_eln

    result = export_eln(args.project, args.out, include_files=not args.metadata_only)
    print(f"{result.path} ({result.file_count} files, {output.size(result.total_size)})")
    return EXIT_OK


def run_import_eln(args: argparse.Namespace) -> int:
    from ..workflows.publishing.eln_import import import_eln

    with open_session() as session:
        result = import_eln(args.file, args.dest, template=args.template, name=args.name,
                            experiment=args.experiment, session=session, created_by=args.created_by)
    print(result.path)
    output.note(result.summary())
    return EXIT_OK
