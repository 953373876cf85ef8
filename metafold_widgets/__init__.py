"""metafold-widgets: describe an experiment once, create a consistent project everywhere.

The public API::

    template = load_template("multi-modal-imaging")        # a file, text or built-in id
    errors = validate_answers(template, answers)          # [] when valid
    plan = plan_project(template, answers, "~/projects")  # plain data, nothing written
    path = create_project(template, answers, "~/projects")

    session = Session.from_environment()                  # elabFTW and OMERO, when configured
    result = create_project_everywhere(session, template, answers, "~/projects")
    resume_project(session, result.path); sync_project(session, result.path)
    check_project(result.path, session); build_package(result.path, session=session)

Every name is loaded on first use: importing the package loads no HTTP or widget library,
and a command that needs no template (``metafold --help``, ``metafold verify``) no core.
"""
from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    AnswersError,
    FieldError,
    InputFileError,
    MetafoldError,
    ProjectExistsError,
    TemplateError,
    TemplateProblem,
    UnsafeNameError,
    UserError,
)

if TYPE_CHECKING:  # what the names below are, for type checkers; loaded on first use at run time
    from .core.catalogue import TemplateCatalogue
    from .core.conditions import evaluate as evaluate_condition
    from .core.fields import Field, Group, Option
    from .core.formats.elabftw import to_elabftw
    from .core.formats.jsonschema import to_json_schema
    from .core.formats.native import to_native, to_native_yaml
    from .core.loader import builtin_template_ids, find_templates, load_template
    from .core.options_sources import OptionsProviders, declare_options_source, known_options_sources
    from .core.plan import Plan, plan_project
    from .core.project import apply_plan, create_project
    from .core.record import IntegrationState, ProjectRecord, load_record, read_record
    from .core.template import Template
    from .core.validation import AnswerCheck, check_answers, validate_answers

# The core, loaded on first use too: `metafold --help` and `metafold verify` need none of it.
_CORE = {
    "TemplateCatalogue": ".core.catalogue", "evaluate_condition": ".core.conditions",
    "Field": ".core.fields", "Group": ".core.fields", "Option": ".core.fields",
    "to_elabftw": ".core.formats.elabftw", "to_json_schema": ".core.formats.jsonschema",
    "to_native": ".core.formats.native", "to_native_yaml": ".core.formats.native",
    "builtin_template_ids": ".core.loader", "find_templates": ".core.loader", "load_template": ".core.loader",
    "OptionsProviders": ".core.options_sources", "declare_options_source": ".core.options_sources",
    "known_options_sources": ".core.options_sources", "Plan": ".core.plan", "plan_project": ".core.plan",
    "apply_plan": ".core.project", "create_project": ".core.project",
    "IntegrationState": ".core.record", "ProjectRecord": ".core.record", "load_record": ".core.record",
    "read_record": ".core.record", "Template": ".core.template", "AnswerCheck": ".core.validation",
    "check_answers": ".core.validation", "validate_answers": ".core.validation",
}
_ALIASES = {"evaluate_condition": "evaluate"}  # public name -> name in its module

# name -> module it lives in, imported on first use (see __getattr__)
_LAZY = {
    "Session": ".session",
    "new_entry": ".workflows.entries", "publish_entries": ".workflows.entries",
    "create_project_everywhere": ".workflows.create", "apply_everywhere": ".workflows.create",
    "CreateResult": ".workflows.create", "StepOutcome": ".workflows.create",
    "resume_project": ".workflows.resume",
    "sync_project": ".workflows.sync", "attach_files": ".workflows.sync", "watch_project": ".workflows.sync",
    "check_project": ".workflows.check", "ProjectReport": ".workflows.check",
    "compliance_report": ".workflows.compliance", "ComplianceReport": ".workflows.compliance",
    "create_batch": ".workflows.batch", "read_rows": ".workflows.batch",
    "scan": ".workflows.scan", "project_answers": ".workflows.scan",
    "audit_summary": ".workflows.audit", "audit_table": ".workflows.audit",
    "build_package": ".workflows.publishing.package",
    "create_archive": ".workflows.publishing.archive", "verify": ".workflows.publishing.verify",
    "export_eln": ".workflows.publishing.eln_export", "import_eln": ".workflows.publishing.eln_import",
}

__all__ = [
    "__version__", "load_template", "validate_answers", "check_answers", "plan_project", "create_project",
    "apply_plan", "read_record", "builtin_template_ids", "find_templates", "to_json_schema", "to_elabftw",
    "to_native", "to_native_yaml", "evaluate_condition", "OptionsProviders", "declare_options_source",
    "known_options_sources", "Template", "Field", "Group", "Option", "Plan", "AnswerCheck",
    "MetafoldError", "UserError", "TemplateError", "TemplateProblem", "AnswersError", "FieldError",
    "UnsafeNameError", "ProjectExistsError", "InputFileError", "TemplateCatalogue", "ProjectRecord",
    "IntegrationState", "load_record", *_LAZY,
]
_LAZY = {**_CORE, **_LAZY}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), _ALIASES.get(name, name))
        globals()[name] = value  # found at once next time
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
