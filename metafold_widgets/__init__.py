"""metafold-widgets: describe an experiment once, create a consistent project everywhere.

The public API::

    template = load_template("multi-modal-imaging")        # a file, text or built-in id
    errors = validate_answers(template, answers)          # [] when valid
    plan = plan_project(template, answers, "~/projects")  # plain data, nothing written
    path = create_project(template, answers, "~/projects")
"""
from ._version import __version__
from .core.conditions import evaluate as evaluate_condition
from .core.fields import Field, Group, Option
from .core.formats.elabftw import to_elabftw
from .core.formats.jsonschema import to_json_schema
from .core.formats.native import to_native, to_native_yaml
from .core.loader import builtin_template_ids, find_templates, load_template
from .core.options_sources import OptionsProviders, declare_options_source, known_options_sources
from .core.plan import Plan, plan_project
from .core.project import apply_plan, create_project
from .core.record import read_record
from .core.template import Template
from .core.validation import AnswerCheck, check_answers, validate_answers
from .errors import (AnswersError, FieldError, InputFileError, MetafoldError, ProjectExistsError,
                     TemplateError, TemplateProblem, UnsafeNameError, UserError)

__all__ = [
    "__version__", "load_template", "validate_answers", "check_answers", "plan_project", "create_project",
    "apply_plan", "read_record", "builtin_template_ids", "find_templates", "to_json_schema", "to_elabftw",
    "to_native", "to_native_yaml", "evaluate_condition", "OptionsProviders", "declare_options_source",
    "known_options_sources", "Template", "Field", "Group", "Option", "Plan", "AnswerCheck",
    "MetafoldError", "UserError", "TemplateError", "TemplateProblem", "AnswersError", "FieldError",
    "UnsafeNameError", "ProjectExistsError", "InputFileError",
]
