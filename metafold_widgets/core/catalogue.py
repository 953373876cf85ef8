"""The templates a user can pick from: the built-in ones and the lab's folder, in one place.

The create app lists them, ``metafold scan`` counts fields with them, and resume, sync, check
and packaging find the template a project record names (by id, preferring its version).
Each file is loaded once per catalogue; broken files are kept with their error.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import TemplateError
from .loader import find_templates
from .record import ProjectRecord
from .template import Template


@dataclass(frozen=True)
class CatalogueEntry:
    """One template file: where it is from (``built-in`` or ``lab``), and the template or its error."""

    path: Path
    source: str
    template: Template | TemplateError

    @property
    def ok(self) -> bool:
        """True when the file is a valid template."""
        return isinstance(self.template, Template)


class TemplateCatalogue:
    """Built-in templates plus those in ``folder`` (the lab's templates), loaded on first use."""

    def __init__(self, folder: str | os.PathLike[str] | None = None):
        self.folder = Path(folder).expanduser() if folder else None
        self._entries: list[CatalogueEntry] | None = None
        self.folder_error: TemplateError | None = None

    def entries(self) -> list[CatalogueEntry]:
        """Every template file, built-ins first; a lab folder that cannot be read sets ``folder_error``."""
        if self._entries is None:
            entries = [CatalogueEntry(path, "built-in", template) for path, template in find_templates(None)]
            if self.folder is not None:
                try:
                    entries += [CatalogueEntry(path, "lab", template) for path, template in find_templates(self.folder)]
                except TemplateError as exc:
                    self.folder_error = exc
            self._entries = entries
        return self._entries

    def templates(self) -> list[Template]:
        """The valid templates, built-ins first."""
        return [entry.template for entry in self.entries() if isinstance(entry.template, Template)]

    def find(self, template_id: str, version: str | None = None) -> tuple[Template | None, bool]:
        """The template ``template_id``: (template, whether it is the exact ``version``).

        The exact version wins; otherwise the first one found is returned with False.
        """
        candidates = [t for t in self.templates() if t.id == template_id]
        for candidate in candidates:
            if version is None or candidate.version == version:
                return candidate, True
        return (candidates[0], False) if candidates else (None, False)

    def for_record(self, record: ProjectRecord) -> tuple[Template | None, bool]:
        """The template a project record names (see :meth:`find`)."""
        return self.find(str(record.template_id), record.template_version)
