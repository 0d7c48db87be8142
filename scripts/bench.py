"""Run the benchmark from a checkout: ``python scripts/bench.py [--quick] [--json]``.

The same as ``poems bench``; see :mod:`model.bench` for what is measured.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
