"""``python -m model`` runs the ``poems`` command line."""

import sys

from model.cli import main

sys.exit(main())
