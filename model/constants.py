"""Names used across the layers, defined once: the default setting, the diagnosis the tool is
about, the disclaimer and the criteria status words.

This module sits at the bottom of the layering beside :mod:`model.vocabulary` (it imports
nothing from the project), so every layer can use it. Percentages are formatted elsewhere
(the precision policy belongs to the report layer).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

DEFAULT_SETTING = "neuropathy_clinic"
"""The clinical setting used when neither the user nor the case names one: the clinic where
POEMS is most often missed (chronic acquired demyelinating neuropathy labelled CIDP)."""

SETTING_ID_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
"""A clinical setting id: lower-case words joined by '_' (case files, priors, cohorts)."""

POEMS = "poems"
"""The diagnosis state the tool is about: P(POEMS) is the headline, and the positive class
of every evaluation unless the user names another."""

DISCLAIMER = "Decision support, not a diagnosis."
"""The one sentence every output carries (the report and the app add their longer text to
it)."""


class Status(StrEnum):
    """A criterion's or a rule set's three-valued verdict."""

    MET = "met"
    NOT_MET = "not_met"
    INDETERMINATE = "indeterminate"

    @property
    def words(self) -> str:
        """The status as plain words ("not met")."""
        return STATUS_WORDS[self]


STATUS_WORDS: Mapping[str, str] = MappingProxyType(
    {Status.MET: "met", Status.NOT_MET: "not met", Status.INDETERMINATE: "indeterminate"}
)
"""Status id -> words for screens and reports (keys compare equal to the plain strings)."""
