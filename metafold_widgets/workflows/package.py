"""The publication data package; built by :mod:`.publishing.package` (this path keeps older imports working)."""
from __future__ import annotations

from .publishing.facts import PACKAGE_FORMAT, package_data
from .publishing.package import (
                                   ELABFTW_EXPORT_FORMATS,
                                   PackageExistsError,
                                   PackageProgress,
                                   PackageResult,
                                   build_package,
)
from .publishing.people import ANSWER_ROLES, EXACT_ROLES, answer_for
from .publishing.placement import (
                                   CATEGORIES,
                                   FOLDER_KEYWORDS,
                                   PACKAGE_FILE,
                                   PACKAGE_SUFFIX,
                                   PROJECT_COPIES,
                                   STATEMENT_FILE,
                                   category_of,
                                   place_file,
                                   plan_placements,
)
from .publishing.statement import availability_statement

__all__ = ["ANSWER_ROLES", "CATEGORIES", "ELABFTW_EXPORT_FORMATS", "EXACT_ROLES", "FOLDER_KEYWORDS", "PACKAGE_FILE",
           "PACKAGE_FORMAT", "PACKAGE_SUFFIX", "PROJECT_COPIES", "STATEMENT_FILE", "PackageExistsError",
           "PackageProgress", "PackageResult", "answer_for", "availability_statement", "build_package", "category_of",
           "package_data", "place_file", "plan_placements"]
