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

The Session and the workflows are loaded on first use: importing the package for the core
functions loads no HTTP or widget library.
"""
from importlib import import_module
from typing import Any

from ._version import __version__
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


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
