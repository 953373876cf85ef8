"""``metafold templates list|validate|export|import``: find, check and convert template files."""
from __future__ import annotations

import argparse
from typing import Any

from ..errors import EXIT_OK, TemplateError
from . import output


def add_commands(commands: Any) -> None:
    """Add ``templates`` and its actions to the ``metafold`` sub-commands."""
    templates = commands.add_parser("templates", help="list, check, convert templates")
    actions = templates.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="list built-in templates or those in a folder")
    listing.add_argument("--dir", help="folder of template files (default: built-in templates)")
    listing.set_defaults(handler=run_templates_list)

    check = actions.add_parser("validate", help="check a template file; lists every problem")
    check.add_argument("file", help="template file, or a built-in template id")
    check.set_defaults(handler=run_templates_validate)

    export = actions.add_parser("export", help="write a template as JSON Schema, elabFTW metadata or YAML")
    export.add_argument("file", help="template file (any supported format) or built-in id")
    export.add_argument("--format", required=True, choices=("jsonschema", "elabftw", "yaml"))
    export.add_argument("--out", help="write to this file instead of standard output")
    export.set_defaults(handler=run_templates_export)

    importing = actions.add_parser("import", help="convert a desktop MetaFold or elabFTW template to ours")
    importing.add_argument("file", help="template file in any supported format (detected from content)")
    importing.add_argument("--out", help="write the YAML template to this file instead of standard output")
    importing.set_defaults(handler=run_templates_import)


def run_templates_list(args: argparse.Namespace) -> int:
    from ..core.loader import find_templates

    found = find_templates(args.dir)
    if not found:
        print(f"no template files (.yaml, .yml, .json) in {args.dir}")
        return EXIT_OK
    print(output.templates_table(found, builtin=not args.dir))
    broken = sum(1 for _, template in found if isinstance(template, TemplateError))
    if broken:
        output.note(f"\n{broken} broken template(s); run 'metafold templates validate FILE' for details")
    return EXIT_OK


def run_templates_validate(args: argparse.Namespace) -> int:
    from ..core.loader import load_template

    template = load_template(args.file)
    print(f"ok: {template.id} {template.version} ({template.type}): {len(template.fields)} fields, "
          f"{len(template.groups)} groups, {len(template.folders.folders)} folders")
    return EXIT_OK


def run_templates_export(args: argparse.Namespace) -> int:
    from ..core.formats.elabftw import to_elabftw
    from ..core.formats.jsonschema import to_json_schema
    from ..core.formats.native import to_native_yaml
    from ..core.loader import load_template

    template = load_template(args.file)
    if args.format == "yaml":
        text = to_native_yaml(template)
    else:
        data = to_json_schema(template) if args.format == "jsonschema" else to_elabftw(template)
        text = output.to_json(data) + "\n"
    output.write_text(text, args.out)
    return EXIT_OK


def run_templates_import(args: argparse.Namespace) -> int:
    from ..core.formats.native import to_native_yaml
    from ..core.loader import load_template

    output.write_text(to_native_yaml(load_template(args.file)), args.out)
    return EXIT_OK
