"""The errors this package raises.

Every error names *where* (file and key path), *what* was found, *what is allowed* and, when we
can guess it, *the likely fix*. The core only raises; the CLI and the app turn these into
messages, so no traceback ever reaches a user.
"""

from __future__ import annotations

from typing import Any


class PoemsError(Exception):
    """Base class for every error a user can cause."""


class InputError(PoemsError, ValueError):
    """A value in a case, cohort or priors file is not acceptable.

    The message has one shape everywhere:
    ``<where>: <field> must be <allowed>. Got <value> instead. <hint>``
    """

    def __init__(
        self,
        field: str,
        value: Any,
        allowed: str,
        hint: str = "",
        *,
        where: str = "",
    ) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        self.hint = hint
        self.where = where
        super().__init__(self._render())

    def _render(self) -> str:
        prefix = f"{self.where}: " if self.where else ""
        text = (
            f"{prefix}{_bounded(self.field)} must be {self.allowed}. "
            f"Got {_shown(self.value)} instead."
        )
        return f"{text} {self.hint}".rstrip()

    def located(self, where: str) -> InputError:
        """Return a copy of this error that also names the file (or row) it came from."""
        where = f"{where}: {self.where}" if self.where else where
        return type(self)(self.field, self.value, self.allowed, self.hint, where=where)


MAX_SHOWN = 120
"""Longest excerpt of a bad value a message repeats (a 100,000-character id is not echoed)."""


def _shown(value: Any) -> str:
    text = repr(value)
    if len(text) <= MAX_SHOWN:
        return text
    return f"{text[: MAX_SHOWN - 20]}... ({len(text):,} characters)"


def _bounded(field: str) -> str:
    """A field name as written in the message: a key path can hold user text (an unknown
    sub-key), so it is cut like a value."""
    if len(field) <= MAX_SHOWN:
        return field
    return f"{field[: MAX_SHOWN - 20]}... ({len(field):,} characters)"


class CaseError(InputError):
    """A case file (JSON) or a cohort row (CSV/Parquet) is invalid."""


class PriorsError(InputError):
    """A priors file is invalid: unknown ids, bad tables or missing provenance."""
