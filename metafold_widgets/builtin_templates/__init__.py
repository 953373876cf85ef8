"""Templates shipped with metafold-widgets (found by id, e.g. ``multi-modal-imaging``)."""
