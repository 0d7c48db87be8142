"""Progress with an ETA on stderr for long commands (rows, or bytes when the row count is
not known in advance, as for CSV); ``enabled=False`` (``--no-progress``) silences it."""

from __future__ import annotations

import sys
from typing import Any


class Progress:
    """A tqdm bar on stderr: ``update(k)`` advances, ``rows(n)`` shows the rows done."""

    def __init__(self, desc: str, total: int | None, unit: str, enabled: bool = True) -> None:
        self._bar: Any = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total,
                unit=unit,
                unit_scale=unit == "B",
                desc=desc,
                file=sys.stderr,
                smoothing=0.1,
                leave=False,
            )
        self._unit = unit

    def update(self, k: int) -> None:
        if self._bar is not None and k > 0:
            self._bar.update(k)

    def rows(self, n: int) -> None:
        if self._bar is not None and self._unit != "rows":
            self._bar.set_postfix_str(f"{n:,} rows", refresh=False)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()
