"""What evaluation adds to the cohort format: the label column, and rows left out.

A labelled cohort is read by the one cohort reader, :func:`model.cohort.format.read_cohort_table`
(CSV or Parquet; docs/formats.md, "Cohorts"): byte-order mark, delimiter, malformed lines and
encodings are handled there, and a line that cannot be read becomes that row's
:class:`BadRow`. This module names the label column (:func:`guess_label_column`), lists the
columns an evaluation ignores (:func:`ignored_columns`, each with a "did you mean" hint) and
holds the shape of a row left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from model.case_columns import CASE_COLUMNS, VEGF_COLUMNS
from model.cohort.format import case_from_row as case_from_row
from model.vocabulary import FINDINGS, suggest


@dataclass(frozen=True)
class BadRow:
    """A row that could not be used, and why."""

    row: int  # 1-based data row (the header is row 0)
    id: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "id": self.id, "message": self.message}


def ignored_columns(columns: Sequence[str], label_column: str) -> list[tuple[str, str]]:
    """Columns that are neither finding ids, case fields, VEGF fields nor the label, each
    with a "did you mean" hint."""
    known = set(FINDINGS) | set(CASE_COLUMNS) | set(VEGF_COLUMNS) | {label_column}
    return [(c, suggest(c, FINDINGS) or "not a finding id") for c in columns if c not in known]


LABEL_COLUMN_NAMES: tuple[str, ...] = (
    "true_diagnosis",
    "diagnosis",
    "final_diagnosis",
    "label",
    "dx",
)
"""Column names read as the diagnosis label, in order of preference (``poems simulate`` writes
``true_diagnosis``)."""


def guess_label_column(columns: Sequence[str]) -> str | None:
    """The column named like a diagnosis label (case and spaces ignored), else None. Never
    ``id`` or a finding: when nothing matches, the caller asks the user."""
    lowered = {str(c).lower().strip(): str(c) for c in columns}
    return next((lowered[name] for name in LABEL_COLUMN_NAMES if name in lowered), None)
