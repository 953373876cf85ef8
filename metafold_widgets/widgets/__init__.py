"""ipywidgets views: forms and apps. They hold no business logic; the core decides."""
from .create_app import CreateProjectApp
from .form import TemplateForm

__all__ = ["CreateProjectApp", "TemplateForm"]
