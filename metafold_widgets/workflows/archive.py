"""Archives, manifests and verification; made by :mod:`.publishing.archive`, :mod:`.publishing.manifest`
and :mod:`.publishing.verify` (this path keeps older imports working)."""
from __future__ import annotations

from .publishing.archive import (
                                 ARCHIVE_FORMATS,
                                 DEFAULT_COMPRESSLEVEL,
                                 SIDECAR_SUFFIX,
                                 ArchiveExistsError,
                                 ArchiveResult,
                                 archive_path,
                                 create_archive,
)
from .publishing.manifest import (
                                 MANIFEST_FILE,
                                 MANIFEST_FORMAT,
                                 TRAILER_FILES,
                                 ChecksummedFolder,
                                 build_trailer,
                                 checksum_tree,
                                 manifest_data,
                                 write_checksums,
)
from .publishing.statement import describe_size
from .publishing.verify import VerifyReport, verify

__all__ = ["ARCHIVE_FORMATS", "DEFAULT_COMPRESSLEVEL", "MANIFEST_FILE", "MANIFEST_FORMAT", "SIDECAR_SUFFIX",
           "TRAILER_FILES", "ArchiveExistsError", "ArchiveResult", "ChecksummedFolder", "VerifyReport", "archive_path",
           "build_trailer", "checksum_tree", "create_archive", "describe_size", "manifest_data", "verify",
           "write_checksums"]
