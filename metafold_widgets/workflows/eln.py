"""The ``.eln`` exchange format; written by :mod:`.publishing.eln_export`, read by :mod:`.publishing.eln_read`,
imported by :mod:`.publishing.eln_import` (this path keeps older imports working)."""
from __future__ import annotations

from .publishing.eln_crate import property_values
from .publishing.eln_export import ElnExport, eln_path, export_eln, project_metadata
from .publishing.eln_import import IMPORT_FOLDER, ElnImport, answers_from_metadata, import_eln
from .publishing.eln_read import (
                                  ELN_SUFFIX,
                                  EXPORT_JSON,
                                  METADATA_PROPERTY,
                                  REBUILT_ON_IMPORT,
                                  ElnExperiment,
                                  ElnFile,
                                  read_eln,
)

__all__ = ["ELN_SUFFIX", "EXPORT_JSON", "IMPORT_FOLDER", "METADATA_PROPERTY", "REBUILT_ON_IMPORT", "ElnExperiment",
           "ElnExport", "ElnFile", "ElnImport", "answers_from_metadata", "eln_path", "export_eln", "import_eln",
           "project_metadata", "property_values", "read_eln"]
