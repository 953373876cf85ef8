"""``metafold create|resume|batch|sync|attach``: make projects and keep them in agreement everywhere."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import EXIT_FAILED, EXIT_OK, EXIT_USER, UserError
from . import output
from .settings import open_session


def add_commands(commands: Any) -> None:
    """Add the project commands to the ``metafold`` sub-commands."""
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
    create.set_defaults(handler=run_create)

    batch = commands.add_parser("batch", help="create many projects from a table (CSV, Excel, JSON)")
    batch.add_argument("--template", "-t", required=True, help="template file or built-in id")
    batch.add_argument("--table", required=True, help="CSV/Excel/JSON file, one row of answers per project")
    batch.add_argument("--dest", "-d", required=True, help="existing folder to create the projects in")
    batch.add_argument("--jobs", "-j", type=int, default=4, help="projects created at the same time (default 4)")
    batch.add_argument("--no-elabftw", action="store_true", help="do not create elabFTW experiments")
    batch.add_argument("--no-omero", action="store_true", help="do not create OMERO datasets")
    batch.add_argument("--format", choices=output.FORMATS, default="table", help="results format")
    batch.add_argument("--created-by", help="creator recorded in each project (default: login name)")
    batch.set_defaults(handler=run_batch)

    resume = commands.add_parser("resume", help="finish a project's pending or failed systems")
    resume.add_argument("project", help="project folder")
    resume.add_argument("--no-elabftw", action="store_true", help="leave elabFTW out")
    resume.add_argument("--no-omero", action="store_true", help="leave OMERO out")
    resume.set_defaults(handler=run_resume)

    sync = commands.add_parser("sync", help="bring the folder, elabFTW and OMERO back into agreement")
    sync.add_argument("project", help="project folder")
    sync.add_argument("--answers", "-a", help="new answers (YAML/JSON) to apply everywhere")
    sync.add_argument("--dry-run", action="store_true", help="show what would change, change nothing")
    sync.add_argument("--no-attach", action="store_true", help="do not attach the documentation folders' files")
    sync.add_argument("--no-publish", action="store_true", help="do not publish the lab record entries")
    sync.add_argument("--watch", action="store_true", help="keep syncing at an interval until Ctrl-C")
    sync.add_argument("--interval", type=float, default=60.0, help="seconds between syncs with --watch")
    sync.set_defaults(handler=run_sync)

    attach = commands.add_parser("attach", help="attach new or changed protocol/documentation files to elabFTW")
    attach.add_argument("project", help="project folder")
    attach.add_argument("--dry-run", action="store_true", help="list what would be uploaded")
    attach.set_defaults(handler=run_attach)


def skipped_systems(args: argparse.Namespace) -> set[str]:
    """The systems left out with ``--no-elabftw`` / ``--no-omero``."""
    return {system for system, off in (("elabftw", args.no_elabftw), ("omero", args.no_omero)) if off}


def run_create(args: argparse.Namespace) -> int:
    from ..core.answers_file import load_answers
    from ..core.loader import load_template
    from ..core.plan import plan_project
    from ..core.project import check_destination

    template = load_template(args.template)
    answers = load_answers(args.answers) if args.answers else {}
    plan = plan_project(template, answers, args.dest, args.name, created_by=args.created_by,
                        answers_source=args.answers)
    check_destination(plan)
    if args.dry_run:
        print(output.to_json(plan.to_dict()) if args.json else plan.describe())
        return EXIT_OK

    from ..workflows.create import apply_everywhere

    with open_session() as session:
        result = apply_everywhere(session, plan, skip=skipped_systems(args), template=template,
                                  on_step=output.step_note)
    if args.json:
        print(output.created_json(result))
    else:
        print(result.path)
        output.notes(output.outcome(step) for step in result.outcomes.values()
                     if step.state in ("done", "failed", "pending", "skipped"))
    if not result.ok:
        output.note("error: the project folder was created, but some systems failed (see above and the "
                    "project record metafold.json)")
        return EXIT_FAILED
    return EXIT_OK


def run_batch(args: argparse.Namespace) -> int:
    from ..core.loader import load_template
    from ..workflows.batch import create_batch, read_rows

    if args.jobs < 1:
        raise UserError("--jobs must be at least 1")
    template = load_template(args.template)
    rows = read_rows(args.table)
    if not Path(args.dest).is_dir():
        raise UserError(f"destination folder {args.dest} does not exist (or is not a folder)")

    def progress(done: int, total: int, message: str) -> None:
        output.note(f"[{done}/{total}] {message}")

    with open_session() as session:
        result = create_batch(session, template, rows, args.dest, jobs=args.jobs, skip=skipped_systems(args),
                              created_by=args.created_by, progress=progress)
    print(output.frame(result.to_dataframe(), args.format), end="")
    output.notes(f"error: row {row.row} ({args.table}): {row.error}" for row in result.invalid)
    if result.invalid:
        return EXIT_USER
    return EXIT_OK if result.ok else EXIT_FAILED


def run_resume(args: argparse.Namespace) -> int:
    from ..workflows.resume import resume_project

    with open_session() as session:
        outcomes = resume_project(session, args.project, skip=skipped_systems(args), on_step=output.step_note)
    output.notes(output.outcome(step) for step in outcomes.values())
    return EXIT_FAILED if any(step.state == "failed" for step in outcomes.values()) else EXIT_OK


def run_sync(args: argparse.Namespace) -> int:
    from ..core.answers_file import load_answers
    from ..workflows.sync import sync_project, watch_project

    if args.watch:
        if args.interval <= 0:
            raise UserError("--interval must be more than 0 seconds")
        output.note(f"watching {args.project} every {args.interval:g} s; Ctrl-C stops")
        with open_session() as session:
            watch_project(session, args.project, args.interval,
                          on_report=lambda report: print(report.summary(), flush=True))
        return EXIT_OK
    answers = load_answers(args.answers) if args.answers else None
    with open_session() as session:
        report = sync_project(session, args.project, answers, dry_run=args.dry_run, attach=not args.no_attach,
                              publish=not args.no_publish)
    return _report_status(report)


def _report_status(report: Any) -> int:
    print(report.summary())
    if report.errors:
        return EXIT_FAILED
    return EXIT_USER if report.conflicts else EXIT_OK  # a conflict waits for the user's decision


def run_attach(args: argparse.Namespace) -> int:
    from ..workflows.sync import attach_files

    with open_session() as session:
        report = attach_files(session, args.project, dry_run=args.dry_run)
    return _report_status(report)
