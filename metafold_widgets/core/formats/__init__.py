"""Template formats we read and write: desktop MetaFold, elabFTW metadata, JSON Schema, our own."""
