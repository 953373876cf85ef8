"""Adapters to remote systems: elabFTW (requests) and OMERO (omero-py, imported lazily)."""
