"""RO-Crate 1.1 metadata; written by :mod:`.publishing.rocrate` (this path keeps older imports working)."""
from __future__ import annotations

from .publishing.rocrate import (
                                 CONTEXT,
                                 METADATA_FILE,
                                 PROFILE,
                                 ROOT_ID,
                                 SOFTWARE_ID,
                                 CrateFile,
                                 build_crate,
                                 creation_action,
                                 file_entity,
                                 file_id,
                                 license_entity,
                                 media_type,
                                 metadata_descriptor,
                                 person_entity,
                                 person_id,
                                 project_crate,
                                 software_entity,
                                 system_links,
                                 template_entity,
                                 write_crate,
)

__all__ = ["CONTEXT", "METADATA_FILE", "PROFILE", "ROOT_ID", "SOFTWARE_ID", "CrateFile", "build_crate",
           "creation_action", "file_entity", "file_id", "license_entity", "media_type", "metadata_descriptor",
           "person_entity", "person_id", "project_crate", "software_entity", "system_links", "template_entity",
           "write_crate"]
