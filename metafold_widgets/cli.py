"""The ``metafold`` command line: the same engine as the widgets, headless.

Exit status: 0 success, 2 a problem in the user's input (template, answers, paths),
1 anything unexpected. User errors print a message, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Sequence

from . import __version__
from .core.answers_file import load_answers
from .core.atomic import write_atomic
from .core.formats.elabftw import to_elabftw
from .core.formats.jsonschema import to_json_schema
from .core.formats.native import to_native_yaml
from .core.loader import find_templates, load_template
from .core.plan import plan_project
from .core.project import apply_plan
from .errors import TemplateError, UserError

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
    except Exception as exc:  # a bug, not the user's fault: say so plainly
        if os.environ.get("METAFOLD_DEBUG"):
            raise
        print(f"unexpected error ({type(exc).__name__}): {exc}\n"
              "This is a bug in metafold-widgets; run with METAFOLD_DEBUG=1 for details.", file=sys.stderr)
        return EXIT_UNEXPECTED


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "templates":
        return {"list": _templates_list, "validate": _templates_validate, "export": _templates_export,
                "import": _templates_import}[args.action](args)
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
    if target.exists():
        raise UserError(f"{out} already exists; choose another file name")
    if not target.parent.is_dir():
        raise UserError(f"folder {target.parent} does not exist")
    write_atomic(target, text)
    print(f"wrote {out}", file=sys.stderr)
    return EXIT_OK


def _create(args: argparse.Namespace) -> int:
    template = load_template(args.template)
    answers = load_answers(args.answers) if args.answers else {}
    plan = plan_project(template, answers, args.dest, args.name, created_by=args.created_by,
                        answers_source=args.answers)
    if args.dry_run:
        print(json.dumps(plan.to_dict(), indent=2, ensure_ascii=False) if args.json else plan.describe())
        return EXIT_OK
    path = apply_plan(plan)
    print(json.dumps({"path": str(path)}) if args.json else str(path))
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
