"""``python -m metafold_widgets`` runs the ``metafold`` command line."""
import sys

from .cli import main

sys.exit(main())
