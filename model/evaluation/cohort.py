"""Read a labelled cohort (CSV or Parquet; docs/formats.md, "Cohorts") into cases, keeping bad
rows as messages.

One column per finding id, plus ``id``, ``age``, ``sex``, ``setting`` and the VEGF columns
``vegf_value`` / ``vegf_unit`` / ``vegf_specimen`` / ``vegf_uln``; an empty cell means *not
assessed*. A row that fails validation is reported (row number, field, value, fix) and left
out; it never stops the run. Columns that are neither vocabulary ids nor case fields are
ignored and listed, each with a "did you mean" hint, so a typo is visible.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from model.case import Case
from model.case_columns import CASE_COLUMNS as CASE_COLUMNS
from model.case_columns import VEGF_COLUMNS as VEGF_COLUMNS
from model.cohort.format import case_from_row as case_from_row
from model.exceptions import InputError, PoemsError
from model.vocabulary import FINDINGS, suggest

MAX_COHORT_BYTES = 64 * 1024 * 1024
"""A cohort of 100,000 patients is about 20 MB; larger files are refused, not truncated."""
MAX_ROWS = 200_000


@dataclass(frozen=True)
class BadRow:
    """A row that could not be used, and why."""

    row: int  # 1-based data row (the header is row 0)
    id: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "id": self.id, "message": self.message}


@dataclass(frozen=True)
class Cohort:
    """The usable rows of a cohort: cases with their raw label, plus what was left out."""

    cases: tuple[Case, ...]
    labels: tuple[str, ...]
    rows: tuple[int, ...]
    bad_rows: tuple[BadRow, ...]
    ignored_columns: tuple[tuple[str, str], ...]
    n_rows: int
    label_column: str


PARQUET_MAGIC = b"PAR1"


def read_table(
    source: str | Path | bytes | io.IOBase, max_bytes: int = MAX_COHORT_BYTES
) -> pd.DataFrame:
    """Read a cohort CSV or Parquet file as strings (no type guessing: '0012' stays '0012',
    'NA' stays 'NA'; an empty or null cell is ''). Parquet is recognised by its magic bytes,
    so an upload or a file of either kind is read whatever its name."""
    if isinstance(source, bytes):
        if len(source) > max_bytes:
            raise InputError(
                "cohort file",
                f"{len(source)} bytes",
                f"at most {max_bytes} bytes",
                "Split the cohort or score it with the command line.",
            )
        buffer: Any = io.BytesIO(source)
        where = "uploaded cohort"
        head = source[:4]
    elif isinstance(source, str | Path):
        path = Path(source)
        try:
            size = path.stat().st_size
            with path.open("rb") as handle:
                head = handle.read(4)
        except OSError as err:
            raise InputError(
                "cohort file", path.name, "a readable CSV or Parquet file", err.strerror or str(err)
            ) from None
        if size > max_bytes:
            raise InputError(
                "cohort file", f"{size} bytes", f"at most {max_bytes} bytes", where=path.name
            )
        buffer = path
        where = path.name
    else:
        buffer = source
        where = "cohort"
        head = b""
    if head == PARQUET_MAGIC:
        frame = _read_parquet(buffer, where)
    else:
        try:
            frame = pd.read_csv(
                buffer, dtype=str, keep_default_na=False, na_filter=False, nrows=MAX_ROWS + 1
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
            raise InputError(
                "cohort file",
                where,
                "a comma-separated file with a header row, or a Parquet file",
                f"CSV parser: {err}",
            ) from None
    if len(frame) > MAX_ROWS:
        raise InputError("cohort rows", f"more than {MAX_ROWS}", f"at most {MAX_ROWS}", where=where)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _read_parquet(buffer: Any, where: str) -> pd.DataFrame:
    """A Parquet cohort as a frame of strings; nested or binary columns are refused by name."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(buffer)
    except (pa.ArrowException, OSError, ValueError) as err:
        raise InputError(
            "cohort file", where, "a readable Parquet file", f"Parquet reader: {err}"
        ) from None
    if table.num_rows > MAX_ROWS:
        raise InputError("cohort rows", f"{table.num_rows}", f"at most {MAX_ROWS}", where=where)
    for column in table.schema:
        kind = column.type
        if pa.types.is_nested(kind) or pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
            raise InputError(
                f"cohort column {column.name}",
                str(kind),
                "text, numbers or booleans (one value per cell)",
                "Write the column as text.",
                where=where,
            )
    frame = table.to_pandas()
    out = pd.DataFrame(
        {
            str(name): ["" if _missing(v) else _text(v) for v in frame[name].tolist()]
            for name in frame.columns
        },
        dtype=str,
    )
    return out


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def ignored_columns(columns: Sequence[str], label_column: str) -> list[tuple[str, str]]:
    """Columns that are neither finding ids, case fields, VEGF fields nor the label, each
    with a "did you mean" hint."""
    known = set(FINDINGS) | set(CASE_COLUMNS) | set(VEGF_COLUMNS) | {label_column}
    return [(c, suggest(c, FINDINGS) or "not a finding id") for c in columns if c not in known]


def read_cohort(
    source: str | Path | bytes | io.IOBase | pd.DataFrame,
    label_column: str,
    *,
    max_bytes: int = MAX_COHORT_BYTES,
) -> Cohort:
    """Parse a labelled cohort; invalid rows become :class:`BadRow` entries."""
    frame = source if isinstance(source, pd.DataFrame) else read_table(source, max_bytes)
    columns = [str(c) for c in frame.columns]
    if label_column not in columns:
        raise InputError(
            "--label",
            label_column,
            "a column of the cohort ("
            + ", ".join(columns[:12])
            + (", ..." if len(columns) > 12 else "")
            + ")",
            suggest(label_column, columns),
        )
    ignored = tuple(ignored_columns(columns, label_column))
    cases: list[Case] = []
    labels: list[str] = []
    rows: list[int] = []
    bad: list[BadRow] = []
    records = frame.to_dict(orient="records")
    for i, record in enumerate(records, start=1):
        row = {str(k): ("" if v is None else str(v)) for k, v in record.items()}
        label = row[label_column].strip()
        rid = row.get("id") or None
        if not label:
            bad.append(BadRow(i, rid, f"{label_column} is empty: a label is needed to score"))
            continue
        try:
            case = case_from_row(row, label_column)
        except PoemsError as err:
            bad.append(BadRow(i, rid, str(err)))
            continue
        cases.append(case)
        labels.append(label)
        rows.append(i)
    return Cohort(
        tuple(cases), tuple(labels), tuple(rows), tuple(bad), ignored, len(records), label_column
    )


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
