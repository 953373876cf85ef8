"""ipywidgets views: forms and apps. They hold no business logic; the core and workflows decide."""
from .connections import ConnectionPanel
from .create_app import CreateProjectApp
from .dashboard import ProjectsDashboard
from .entries import EntryPanel
from .form import TemplateForm
from .progress import ProgressBar
from .validate_app import ValidateProjectApp

__all__ = ["ConnectionPanel", "CreateProjectApp", "EntryPanel", "ProgressBar", "ProjectsDashboard", "TemplateForm",
           "ValidateProjectApp"]
