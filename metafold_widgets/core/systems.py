"""The systems a project is linked to, and what people call them and their records."""
from __future__ import annotations

SYSTEMS = ("elabftw", "omero")
SYSTEM_NAMES = {"elabftw": "elabFTW", "omero": "OMERO"}
RECORD_NAMES = {"elabftw": "elabFTW experiment", "omero": "OMERO dataset"}
