"""The ``metafold`` command line: the same engine as the widgets, headless.

Exit status: 0 success, 2 a problem in the user's input (template, answers, paths),
1 anything unexpected. User errors print a message, never a traceback.
"""
from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Sequence

from . import __version__
from .core.answers_file import load_answers
from .core.atomic import write_new_file
from .core.formats.elabftw import to_elabftw
from .core.formats.jsonschema import to_json_schema
from .core.formats.native import to_native_yaml
from .core.loader import find_templates, load_template
from .core.plan import plan_project
from .cli_package import add_package_commands, run_package_command
from .config import KEYRING_SERVICE, config_path, normalize_elabftw_url
from .core.project import check_destination
from .cli_scan import add_scan_commands, run_scan_command
from .errors import IntegrationError, TemplateError, UserError
from .session import SYSTEM_NAMES, Session
from .workflows.audit import audit_summary, audit_table, project_events
from .workflows.batch import create_batch, read_rows
from .workflows.check import check_project
from .workflows.resume import resume_project
from .workflows.sync import attach_files, sync_project, watch_project
from .workflows.create import apply_everywhere

EXIT_OK, EXIT_UNEXPECTED, EXIT_USER = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``metafold`` command."""
    parser = argparse.ArgumentParser(prog="metafold", description=(
        "Create standardized research projects from templates: a project folder, "
        "plus elabFTW and OMERO records when configured."))
    parser.add_argument("--version", action="version", version=f"metafold-widgets {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    templates = commands.add_parser("templates", help="list, check, convert templates")
    actions = templates.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list built-in templates or those in a folder")
    listing.add_argument("--dir", help="folder of template files (default: built-in templates)")
    check = actions.add_parser("validate", help="check a template file; lists every problem")
    check.add_argument("file", help="template file, or a built-in template id")
    export = actions.add_parser("export", help="write a template as JSON Schema, elabFTW metadata or YAML")
    export.add_argument("file", help="template file (any supported format) or built-in id")
    export.add_argument("--format", required=True, choices=("jsonschema", "elabftw", "yaml"))
    export.add_argument("--out", help="write to this file instead of standard output")
    importing = actions.add_parser("import", help="convert a desktop MetaFold or elabFTW template to ours")
    importing.add_argument("file", help="template file in any supported format (detected from content)")
    importing.add_argument("--out", help="write the YAML template to this file instead of standard output")

    create = commands.add_parser("create", help="create a project folder from a template and answers")
    create.add_argument("--template", "-t", required=True, help="template file or built-in id")
    create.add_argument("--answers", "-a", help="answers file (YAML or JSON); defaults only when omitted")
    create.add_argument("--dest", "-d", required=True, help="existing folder to create the project in")
    create.add_argument("--name", "-n", help="project folder name (default: from the answers)")
    create.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    create.add_argument("--json", action="store_true", help="print machine-readable JSON")
    create.add_argument("--created-by", help="creator recorded in the project (default: login name)")
    create.add_argument("--no-elabftw", action="store_true", help="do not create an elabFTW experiment")
    create.add_argument("--no-omero", action="store_true", help="do not create an OMERO dataset")

    batch = commands.add_parser("batch", help="create many projects from a table (CSV, Excel, JSON)")
    batch.add_argument("--template", "-t", required=True, help="template file or built-in id")
    batch.add_argument("--table", required=True, help="CSV/Excel/JSON file, one row of answers per project")
    batch.add_argument("--dest", "-d", required=True, help="existing folder to create the projects in")
    batch.add_argument("--jobs", "-j", type=int, default=4, help="projects created at the same time (default 4)")
    batch.add_argument("--no-elabftw", action="store_true", help="do not create elabFTW experiments")
    batch.add_argument("--no-omero", action="store_true", help="do not create OMERO datasets")
    batch.add_argument("--format", choices=("table", "csv", "json"), default="table", help="results format")
    batch.add_argument("--created-by", help="creator recorded in each project (default: login name)")

    check = commands.add_parser("check", help="check projects: structure, metadata, linked records")
    check.add_argument("projects", nargs="+", help="project folders")
    check.add_argument("--format", choices=("table", "json"), default="table")

    resume = commands.add_parser("resume", help="finish a project's pending or failed systems")
    resume.add_argument("project", help="project folder")
    resume.add_argument("--no-elabftw", action="store_true", help="leave elabFTW out")
    resume.add_argument("--no-omero", action="store_true", help="leave OMERO out")

    sync = commands.add_parser("sync", help="bring the folder, elabFTW and OMERO back into agreement")
    sync.add_argument("project", help="project folder")
    sync.add_argument("--answers", "-a", help="new answers (YAML/JSON) to apply everywhere")
    sync.add_argument("--dry-run", action="store_true", help="show what would change, change nothing")
    sync.add_argument("--no-attach", action="store_true", help="do not attach protocol/documentation files")
    sync.add_argument("--watch", action="store_true", help="keep syncing at an interval until Ctrl-C")
    sync.add_argument("--interval", type=float, default=60.0, help="seconds between syncs with --watch")
    attach = commands.add_parser("attach", help="attach new or changed protocol/documentation files to elabFTW")
    attach.add_argument("project", help="project folder")
    attach.add_argument("--dry-run", action="store_true", help="list what would be uploaded")

    audit = commands.add_parser("audit", help="who created a project when, and every integration event")
    audit.add_argument("project", help="project folder")
    audit.add_argument("--format", choices=("text", "csv", "json"), default="text")

    config = commands.add_parser("config", help="show or test the elabFTW/OMERO connection settings")
    config_actions = config.add_subparsers(dest="action", required=True, metavar="ACTION")
    config_actions.add_parser("show", help="print the settings in use (never the secrets)")
    config_actions.add_parser("test", help="connect to each configured system and report")
    set_secret = config_actions.add_parser("set-secret", help="store an API key or password in the keyring")
    set_secret.add_argument("system", choices=("elabftw", "omero"))
    add_scan_commands(commands)
    add_package_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:  # the machine's fault (disk full, permissions), not a bug of ours
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_UNEXPECTED
    except Exception as exc:  # a bug, not the user's fault: say so plainly
        if os.environ.get("METAFOLD_DEBUG"):
            raise
        print(f"unexpected error ({type(exc).__name__}): {exc}\n"
              "This is a bug in metafold-widgets; run with METAFOLD_DEBUG=1 for details.", file=sys.stderr)
        return EXIT_UNEXPECTED


def _dispatch(args: argparse.Namespace) -> int:
    code = run_package_command(args)
    if code is not None:
        return code
    code = run_scan_command(args)
    if code is not None:
        return code
    if args.command == "templates":
        return {"list": _templates_list, "validate": _templates_validate, "export": _templates_export,
                "import": _templates_import}[args.action](args)
    if args.command == "check":
        return _check(args)
    if args.command == "batch":
        return _batch(args)
    if args.command == "audit":
        return _audit(args)
    if args.command == "resume":
        return _resume(args)
    if args.command in ("sync", "attach"):
        return _sync(args)
    if args.command == "config":
        return {"show": _config_show, "test": _config_test, "set-secret": _config_set_secret}[args.action](args)
    return _create(args)


def _templates_list(args: argparse.Namespace) -> int:
    found = find_templates(args.dir)
    if not found:
        print(f"no template files (.yaml, .yml, .json) in {args.dir}")
        return EXIT_OK
    rows = [("ID", "VERSION", "FIELDS", "NAME", "FILE")]
    broken = []
    for path, template in found:
        if isinstance(template, TemplateError):
            broken.append((path, template))
            rows.append(("-", "-", "-", f"BROKEN: {template.problems[0].message}", path.name))
        else:
            rows.append((template.id, template.version, str(len(template.fields)), template.name,
                         path.name if args.dir else "(built-in)"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    if broken:
        print(f"\n{len(broken)} broken template(s); run 'metafold templates validate FILE' for details",
              file=sys.stderr)
    return EXIT_OK


def _templates_validate(args: argparse.Namespace) -> int:
    template = load_template(args.file)
    print(f"ok: {template.id} {template.version} ({template.type}): {len(template.fields)} fields, "
          f"{len(template.groups)} groups, {len(template.folders.folders)} folders")
    return EXIT_OK


def _templates_export(args: argparse.Namespace) -> int:
    template = load_template(args.file)
    if args.format == "yaml":
        text = to_native_yaml(template)
    else:
        data = to_json_schema(template) if args.format == "jsonschema" else to_elabftw(template)
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return _emit(text, args.out)


def _templates_import(args: argparse.Namespace) -> int:
    return _emit(to_native_yaml(load_template(args.file)), args.out)


def _emit(text: str, out: str | None) -> int:
    if out is None:
        sys.stdout.write(text)
        return EXIT_OK
    target = Path(out)
    if not target.parent.is_dir():
        raise UserError(f"folder {target.parent} does not exist")
    try:
        write_new_file(target, text)
    except FileExistsError:
        raise UserError(f"{out} already exists; choose another file name") from None
    print(f"wrote {out}", file=sys.stderr)
    return EXIT_OK


def _create(args: argparse.Namespace) -> int:
    template = load_template(args.template)
    answers = load_answers(args.answers) if args.answers else {}
    plan = plan_project(template, answers, args.dest, args.name, created_by=args.created_by,
                        answers_source=args.answers)
    check_destination(plan)
    if args.dry_run:
        print(json.dumps(plan.to_dict(), indent=2, ensure_ascii=False) if args.json else plan.describe())
        return EXIT_OK
    skip = {system for system, off in (("elabftw", args.no_elabftw), ("omero", args.no_omero)) if off}
    session = Session.from_environment()
    try:
        result = apply_everywhere(session, plan, skip=skip, template=template,
                                  on_step=lambda system, message: print(message, file=sys.stderr))
    finally:
        session.close()
    if args.json:
        print(json.dumps({"path": str(result.path), "integrations": {
            s: {"state": o.state, "id": o.id, "url": o.url, "message": o.message}
            for s, o in result.outcomes.items()}}, ensure_ascii=False))
    else:
        print(result.path)
        for outcome in result.outcomes.values():
            if outcome.state in ("done", "failed", "skipped"):
                detail = outcome.url or outcome.message
                print(f"{SYSTEM_NAMES[outcome.system]}: {outcome.state}" + (f" ({detail})" if detail else ""),
                      file=sys.stderr)
    if not result.ok:
        print("error: the project folder was created, but some systems failed (see above and the "
              "project record metafold.json)", file=sys.stderr)
        return EXIT_UNEXPECTED
    return EXIT_OK


def _batch(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise UserError("--jobs must be at least 1")
    template = load_template(args.template)
    rows = read_rows(args.table)
    if not Path(args.dest).is_dir():
        raise UserError(f"destination folder {args.dest} does not exist (or is not a folder)")
    skip = {system for system, off in (("elabftw", args.no_elabftw), ("omero", args.no_omero)) if off}

    def progress(done: int, total: int, message: str) -> None:
        print(f"[{done}/{total}] {message}", file=sys.stderr)

    session = Session.from_environment()
    try:
        result = create_batch(session, template, rows, args.dest, jobs=args.jobs, skip=skip,
                              created_by=args.created_by, progress=progress)
    finally:
        session.close()
    frame = result.to_dataframe()
    if args.format == "json":
        print(frame.to_json(orient="records", indent=2))
    elif args.format == "csv":
        print(frame.to_csv(index=False), end="")
    else:
        print(frame.to_string(index=False))
    for row in result.invalid:
        print(f"error: row {row.row} ({args.table}): {row.error}", file=sys.stderr)
    if result.invalid:
        return EXIT_USER
    return EXIT_OK if result.ok else EXIT_UNEXPECTED


def _resume(args: argparse.Namespace) -> int:
    skip = {system for system, off in (("elabftw", args.no_elabftw), ("omero", args.no_omero)) if off}
    session = Session.from_environment()
    try:
        outcomes = resume_project(session, args.project, skip=skip,
                                  on_step=lambda system, message: print(message, file=sys.stderr))
    finally:
        session.close()
    for outcome in outcomes.values():
        detail = outcome.url or outcome.message
        print(f"{SYSTEM_NAMES[outcome.system]}: {outcome.state}" + (f" ({detail})" if detail else ""),
              file=sys.stderr)
    return EXIT_UNEXPECTED if any(o.state == "failed" for o in outcomes.values()) else EXIT_OK


def _sync(args: argparse.Namespace) -> int:
    session = Session.from_environment()
    try:
        if args.command == "attach":
            report = attach_files(session, args.project, dry_run=args.dry_run)
        elif args.watch:
            if args.interval <= 0:
                raise UserError("--interval must be more than 0 seconds")
            print(f"watching {args.project} every {args.interval:g} s; Ctrl-C stops", file=sys.stderr)
            watch_project(session, args.project, args.interval, on_report=lambda r: print(r.summary(), flush=True))
            return EXIT_OK
        else:
            answers = load_answers(args.answers) if args.answers else None
            report = sync_project(session, args.project, answers, dry_run=args.dry_run,
                                  attach=not args.no_attach)
    finally:
        session.close()
    print(report.summary())
    if report.errors:
        return EXIT_UNEXPECTED
    return EXIT_USER if report.conflicts else EXIT_OK


def _audit(args: argparse.Namespace) -> int:
    if args.format == "text":
        print(audit_summary(args.project))
        print()
        print(audit_table(args.project).astype(object).fillna("").to_string(index=False))
    elif args.format == "csv":
        print(audit_table(args.project).to_csv(index=False), end="")
    else:
        print(json.dumps(project_events(args.project), indent=2, ensure_ascii=False))
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    session = Session.from_environment()
    try:
        reports = [check_project(path, session) for path in args.projects]
    finally:
        session.close()
    if args.format == "json":
        print(json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False))
    else:
        print("\n\n".join(r.to_table() for r in reports))
    return EXIT_UNEXPECTED if any(r.failed for r in reports) else EXIT_OK


def _config_show(args: argparse.Namespace) -> int:
    session = Session.from_environment()
    print(f"config file: {config_path()}")
    print(f"projects folder: {session.projects_dir}")
    print(f"templates folder: {session.templates_dir or '-'}")
    for system, status in session.integration_status().items():
        print(f"{SYSTEM_NAMES[system]}: {status}")
    return EXIT_OK


def _config_test(args: argparse.Namespace) -> int:
    session = Session.from_environment()
    failed = False
    try:
        for system in ("elabftw", "omero"):
            try:
                print(f"{SYSTEM_NAMES[system]}: {session.test_connection(system)}")
            except IntegrationError as exc:
                failed = True
                print(f"{SYSTEM_NAMES[system]}: FAILED: {exc}")
    finally:
        session.close()
    return EXIT_UNEXPECTED if failed else EXIT_OK


def _config_set_secret(args: argparse.Namespace) -> int:
    if not sys.stdin.isatty():
        raise UserError("set-secret asks for the secret interactively; run it in a terminal")
    try:
        import keyring
    except ImportError:
        raise UserError("storing secrets needs the keyring package: pip install keyring") from None
    if args.system == "elabftw":
        address = normalize_elabftw_url(input("elabFTW address (as in the browser): "))
        account, secret = f"elabftw:{address}", getpass.getpass("API key: ")
    else:
        user, host = input("OMERO user: ").strip(), input("OMERO host: ").strip()
        account, secret = f"omero:{user}@{host}", getpass.getpass("Password: ")
    keyring.set_password(KEYRING_SERVICE, account, secret)
    print(f"stored in the system keyring as {account}")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
