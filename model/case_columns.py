"""Cases as columns: the rules of :class:`model.case.Case`, vectorised over many rows.

A cohort chunk arrives as *coded columns*: for every column, the distinct cell texts
(``uniques``) and each row's index into them (``indices``). Cohort columns repeat a handful
of values ('present', 'absent', ''), so every check and lookup runs once per distinct value
and reaches the rows through one ``take``; no Python runs per row.

:func:`parse_columns` reads only *canonical* cells (``present``/``absent``/``unknown``/empty,
exact state names, numbers inside the vocabulary's plausible range, a complete VEGF triple)
and derives the same states ``Case`` derives (thrombocytosis from platelets, polycythemia and
anemia from hemoglobin/hematocrit and sex, aggregates from their parts). Every row that is
not plainly valid, or that breaks one of ``Case``'s consistency rules, is *flagged*: the
caller sends it through ``Case`` itself, which either accepts it or writes the message. The
fast and the ``Case`` path are tested to agree row by row (``tests/test_batch.py``).

The thresholds come from :mod:`model.measurements` and the states from
:mod:`model.vocabulary`; nothing is restated here.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from model import measurements as m
from model.case import SETTING_PATTERN, Case
from model.inputs import _DECIMAL, is_decimal
from model.vocabulary import (
    ABSENT,
    AGE_RANGE,
    AGGREGATES,
    FINDINGS,
    NUMBER_FINDINGS,
    PRESENT,
    SEXES,
    UNKNOWN,
    VEGF_SPECIMENS,
    VEGF_UNITS,
    Kind,
)

VEGF_COLUMNS: tuple[str, ...] = ("vegf_value", "vegf_unit", "vegf_specimen", "vegf_uln")
"""The measured VEGF of a case as four columns (the ``vegf`` object of a case file)."""
CASE_COLUMNS: tuple[str, ...] = ("id", "age", "sex", "setting")
"""The case fields that are not findings."""
STATED: tuple[str, ...] = tuple(
    f.id for f in FINDINGS.values() if f.kind in (Kind.BINARY, Kind.CATEGORY)
)
"""Findings entered as a state (binary and category)."""
ENTERED: tuple[str, ...] = (*STATED, *AGGREGATES)
"""Every finding a row can state, aggregates included."""
FINDING_COLUMNS: tuple[str, ...] = tuple(
    f for f in FINDINGS if FINDINGS[f].kind is not Kind.MEASUREMENT
)
"""Findings that are one column each (the VEGF measurement is :data:`VEGF_COLUMNS`)."""
MEASUREMENT_COLUMNS: tuple[str, ...] = tuple(
    f for f in FINDINGS if FINDINGS[f].kind is Kind.MEASUREMENT
)
"""Measurement findings given as an object in a case file; a column of that name is not the
cohort format (its rows are refused by ``Case`` with the reason)."""
KNOWN_COLUMNS: tuple[str, ...] = (
    *CASE_COLUMNS,
    *FINDING_COLUMNS,
    *MEASUREMENT_COLUMNS,
    *VEGF_COLUMNS,
)
"""Every column a cohort reader looks at; any other column is ignored (and reported)."""

T = TypeVar("T")
_P = FINDINGS[next(iter(AGGREGATES))].states.index(PRESENT)
_A = FINDINGS[next(iter(AGGREGATES))].states.index(ABSENT)
_NOT_GIVEN = -1
_P8, _A8, _NONE8 = np.int8(_P), np.int8(_A), np.int8(_NOT_GIVEN)
"""Present, absent and not assessed as one-byte scalars (``np.where`` keeps one byte)."""
_NOT_CANONICAL = -2


@dataclass(frozen=True)
class CodedColumn:
    """One column as its distinct cell texts and each row's index into them."""

    indices: np.ndarray  # (n,) integer index into uniques (any integer type)
    uniques: np.ndarray  # object array of str (stripped)
    texts: Any = None  # the same uniques but the last ('') as a pyarrow string array, if read
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Tables computed from ``uniques`` (:meth:`per_unique`), shared by the chunks whose
    columns have the same texts."""
    source: Any = field(default=None, compare=False, repr=False)
    """The texts as read (before trimming), to tell whether the next chunk's are the same."""

    @classmethod
    def empty(cls, n: int) -> CodedColumn:
        return cls(np.zeros(n, dtype=np.intp), np.array([""], dtype=object))

    @classmethod
    def from_strings(cls, values: Any) -> CodedColumn:
        """Code a sequence of cell texts (None -> ''); used for small frames and tests."""
        import pandas as pd

        inverse, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)
        stripped = np.array(
            ["" if u is None or u != u else str(u).strip() for u in uniques], dtype=object
        )
        return cls(np.asarray(inverse, dtype=np.intp), stripped)

    def per_unique(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()``, a table over ``uniques``, remembered under ``key`` (chunks that
        share these texts share the table; the table is never mutated)."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    def take(self, table: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Each row's entry of ``table`` (one entry per unique text), into ``out`` if given.

        A chunk's column of one-byte (or two-byte) indices into a table of numbers, flags
        or states is gathered by a compiled loop (:func:`_gather`); numpy's ``take`` would
        first widen the indices to its own index type (eight bytes a row, one copy per
        call). Small columns and tables of texts take numpy's ``take``, indices widened
        (``take`` with narrower indices converts them inside every call, about 3 x
        slower).
        """
        if len(self.indices) >= GATHER_MIN_ROWS and table.dtype.kind in "bif":
            gather = _gather()
            if gather is not None:
                if out is None:
                    out = np.empty(len(self.indices), dtype=table.dtype)
                gather(table, self.indices, out)
                return out
        found = np.asarray(table.take(self.indices.astype(np.intp, copy=False)))
        if out is None:
            return found
        out[:] = found
        return out

    def text(self) -> np.ndarray:
        return self.take(self.uniques)

    def map(self, fn: Callable[[str], Any], dtype: Any) -> np.ndarray:
        return self.take(np.array([fn(u) for u in self.uniques], dtype=dtype))

    def equals(self, value: str) -> np.ndarray:
        return self.take(self.per_unique(f"equals {value}", lambda: self.uniques == value))

    def numbers(self) -> tuple[np.ndarray, np.ndarray]:
        """(values, ok) of every row: empty -> NaN and ok; unparsable or non-finite -> not ok.

        Parsed once per distinct text; a text that is not a plain decimal number
        (:func:`model.inputs.is_decimal`: ``4_50``, Arabic-Indic digits) is not ok, so the
        row goes to ``Case``, which refuses it with the reason.
        """
        clean, ok = self.number_table()
        return self.take(clean), self.take(ok)

    def number_table(self) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`numbers` of each distinct text (one entry per unique)."""
        return self.per_unique("numbers", self._number_table)

    def _number_table(self) -> tuple[np.ndarray, np.ndarray]:
        if self.texts is not None and len(self.texts) == len(self.uniques) - 1:
            return _arrow_numbers(self.texts)
        given = self.uniques != ""
        plain = np.fromiter(
            (not g or is_decimal(u) for g, u in zip(given, self.uniques, strict=True)),
            dtype=bool,
            count=len(self.uniques),
        )
        try:
            parsed = np.where(given, self.uniques, "nan").astype(np.float64)
        except (TypeError, ValueError):
            parsed = np.array([_float_or_nan(u) for u in self.uniques], dtype=np.float64)
        ok = ~given | (np.isfinite(parsed) & plain)
        clean = np.where(given & ok, parsed, np.nan)
        return clean, ok


GATHER_MIN_ROWS = 4096
"""Columns of at least this many rows are gathered by the compiled loop
(:meth:`CodedColumn.take`); a case's variants and small frames stay on numpy."""
_GATHERS: dict[str, Callable[..., None] | None] = {}
_GATHER_LOCK = threading.Lock()


def _gather_into(table: np.ndarray, indices: np.ndarray, out: np.ndarray) -> None:
    for i in range(indices.shape[0]):
        out[i] = table[indices[i]]


def _gather() -> Callable[..., None] | None:
    """:func:`_gather_into` compiled by numba on first use (once per pair of types, cached on
    disk when numba finds a writable cache directory), or ``None`` without numba."""
    if "gather" not in _GATHERS:
        with _GATHER_LOCK:
            if "gather" not in _GATHERS:
                try:
                    import numba
                except ImportError:  # pragma: no cover - numba is a dependency
                    _GATHERS["gather"] = None
                else:
                    try:
                        compiled = numba.njit(cache=True, nogil=True)(_gather_into)
                    except RuntimeError:  # no writable cache location
                        compiled = numba.njit(cache=False, nogil=True)(_gather_into)
                    _GATHERS["gather"] = compiled
    return _GATHERS["gather"]


_DECIMAL_RE2 = rf"\A(?:{_DECIMAL.pattern})\z"
""":func:`model.inputs.is_decimal` as a whole-text pattern for Arrow (RE2)."""


def _arrow_numbers(texts: Any) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`CodedColumn.numbers` on distinct texts held by Arrow, plus the empty text
    (appended last, as in ``uniques``): the same plain-decimal test, and Arrow's parse,
    which rounds correctly as Python's ``float`` does (both give the nearest double)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    texts = pc.fill_null(texts, "")
    given = pc.not_equal(texts, "").to_numpy(zero_copy_only=False)
    plain = pc.match_substring_regex(texts, _DECIMAL_RE2).to_numpy(zero_copy_only=False)
    parsed = pc.cast(pc.if_else(pa.array(plain), texts, "0"), pa.float64()).to_numpy(
        zero_copy_only=False
    )
    ok = ~given | (np.isfinite(parsed) & plain)
    clean = np.where(given & ok, parsed, np.nan)
    return np.append(clean, np.nan), np.append(ok, True)


def _state_index(lookup: Mapping[str, int], text: str) -> int:
    return lookup.get(text, _NOT_CANONICAL)


def _float_or_nan(text: str) -> float:
    try:
        return float(text) if text else float("nan")
    except ValueError:
        return float("inf")  # not a number: marked not ok (not finite)


@dataclass
class CaseColumns:
    """Parsed rows; rows with ``flagged`` set must go through ``Case`` instead.

    ``state`` holds the derived state of every binary, category and aggregate finding
    (``-1`` not assessed, else the index in ``FINDINGS[id].states``), exactly as
    :meth:`model.case.Case.state`; ``entered`` what the row itself states.
    """

    n: int
    flagged: np.ndarray
    entered: dict[str, np.ndarray]
    state: dict[str, np.ndarray]
    numbers: dict[str, np.ndarray]  # NaN = not given
    vegf_pg_ml: np.ndarray  # NaN = no measurement
    vegf_multiple: np.ndarray
    vegf_specimen: np.ndarray  # index in VEGF_SPECIMENS, -1 none
    vegf_uln_default: np.ndarray
    setting: CodedColumn  # "" = not given
    age: np.ndarray  # years, NaN = not given
    sex: np.ndarray  # index in SEXES, -1 = not given


@functools.cache
def _state_lookup(fid: str) -> dict[str, int]:
    """Cell text -> state index of an entered finding (empty and ``unknown``: not given)."""
    lookup = {name: i for i, name in enumerate(FINDINGS[fid].states)}
    lookup.update({"": _NOT_GIVEN, UNKNOWN: _NOT_GIVEN})
    return lookup


@dataclass
class _Cells:
    """What :func:`parse_columns` reads from the cells, before the derived states: every
    field holds one value per row (``flagged``: a cell is not plainly valid)."""

    n: int
    flagged: np.ndarray
    entered: dict[str, np.ndarray]  # rows of entered_rows
    entered_rows: np.ndarray  # (len(ENTERED), n) int8, in ENTERED order
    numbers: dict[str, np.ndarray]
    measured: np.ndarray
    vegf_pg_ml: np.ndarray
    vegf_multiple: np.ndarray
    vegf_specimen: np.ndarray
    vegf_uln_default: np.ndarray
    setting: CodedColumn
    age: np.ndarray
    sex: dict[str, np.ndarray]


def parse_columns(columns: Mapping[str, CodedColumn], n: int) -> CaseColumns:
    """Parse coded columns (name -> :class:`CodedColumn`; a missing name is all empty)."""
    return derive(read_cells(columns, n))


def read_cells(columns: Mapping[str, CodedColumn], n: int) -> _Cells:
    """The cells of every row: entered states, numbers, the VEGF measurement, age, sex and
    setting, with the rows whose cells are not plainly valid flagged. A missing column is
    all empty (not given) and costs no per-column work."""

    def column(name: str) -> CodedColumn:
        found = columns.get(name)
        return found if found is not None else CodedColumn.empty(n)

    flagged = np.zeros(n, dtype=bool)
    entered: dict[str, np.ndarray] = {}
    rows = np.full((len(ENTERED), n), _NOT_GIVEN, dtype=np.int8)  # a row per finding
    for k, fid in enumerate(ENTERED):
        entered[fid] = rows[k]
        if (cells := columns.get(fid)) is None:
            continue
        if len(cells.uniques) == 1:  # one text for every row (a case and its variants)
            only = _state_index(_state_lookup(fid), cells.uniques[0])
            if only == _NOT_CANONICAL:
                flagged[:] = True
            rows[k] = max(only, _NOT_GIVEN)
            continue
        lookup = _state_lookup(fid)
        codes = np.array([lookup.get(u, _NOT_CANONICAL) for u in cells.uniques], dtype=np.int8)
        cells.take(np.maximum(codes, _NOT_GIVEN), out=rows[k])
        if (codes == _NOT_CANONICAL).any():  # a text that is not a state: the row is flagged
            flagged |= cells.take(codes == _NOT_CANONICAL)
    numbers: dict[str, np.ndarray] = {}
    for fid in NUMBER_FINDINGS:
        if (cells := columns.get(fid)) is None:
            numbers[fid] = np.full(n, np.nan)
            continue
        plausible = FINDINGS[fid].plausible
        assert plausible is not None
        numbers[fid] = _plausible_numbers(cells, plausible, flagged)
    age = _plausible_numbers(column("age"), AGE_RANGE, flagged)
    sex_column = column("sex")
    _flag(flagged, sex_column, [u not in ("", *SEXES) for u in sex_column.uniques])
    sex = {s: sex_column.equals(s) for s in SEXES}
    setting = column("setting")
    _flag(flagged, setting, [u != "" and not SETTING_PATTERN.match(u) for u in setting.uniques])
    for name in MEASUREMENT_COLUMNS:  # a 'vegf' cell is not the cohort format
        if (cells := columns.get(name)) is not None:
            _flag(flagged, cells, cells.uniques != "")

    if columns.get("vegf_value") is None:  # no measurement: the other VEGF cells are unread
        measured = np.zeros(n, dtype=bool)
        value_pg, multiple = np.full(n, np.nan), np.full(n, np.nan)
        specimen = np.full(n, -1, dtype=np.int8)
        uln_default = np.zeros(n, dtype=bool)
    else:
        refused, measured, value_pg, multiple, specimen, uln_default = _read_vegf(column, n)
        flagged |= refused
    return _Cells(
        n=n,
        flagged=flagged,
        entered=entered,
        entered_rows=rows,
        numbers=numbers,
        measured=measured,
        vegf_pg_ml=value_pg,
        vegf_multiple=multiple,
        vegf_specimen=specimen,
        vegf_uln_default=uln_default & measured,
        setting=setting,
        age=age,
        sex=sex,
    )


def _flag(flagged: np.ndarray, cells: CodedColumn, bad: Any) -> None:
    """Flag the rows whose text is bad (``bad``: one truth value per unique text); a column
    whose texts are all fine costs nothing per row."""
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        flagged |= cells.take(bad)


def _plausible_numbers(
    cells: CodedColumn, plausible: tuple[float, float], flagged: np.ndarray
) -> np.ndarray:
    """The numbers of a column (NaN when empty); rows whose text is not a plain number, or
    is outside ``plausible``, are flagged. Checked once per distinct text."""
    values, ok = cells.number_table()
    inside = np.isnan(values) | ((values >= plausible[0]) & (values <= plausible[1]))
    _flag(flagged, cells, ~ok | ~inside)
    return cells.take(values)


def _read_vegf(
    column: Callable[[str], CodedColumn], n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The VEGF measurement of every row (``measurements.parse_vegf``, vectorised): refused
    (given but not plainly valid), measured, value in pg/mL, multiple of the ULN, specimen
    index and whether the ULN is the specimen's default."""
    value_column = column("vegf_value")
    measured = ~value_column.equals("")
    factor = column("vegf_unit").map(lambda u: VEGF_UNITS.get(u or "pg/mL", np.nan), float)
    specimen_column = column("vegf_specimen")
    specimen = np.full(n, -1, dtype=np.int8)
    for i, name in enumerate(VEGF_SPECIMENS):
        specimen[measured & specimen_column.equals(name)] = i
    value, ok_value = value_column.numbers()
    uln_raw, ok_uln = column("vegf_uln").numbers()
    default_uln = np.array([m.DEFAULT_VEGF_ULN_PG_ML[s].value for s in VEGF_SPECIMENS])
    uln_default = np.isnan(uln_raw)
    uln = np.where(uln_default, default_uln[np.maximum(specimen, 0)], uln_raw * factor)
    value_pg = value * factor
    low, high = m.VEGF_PLAUSIBLE_PG_ML
    uln_low = np.array([m.VEGF_ULN_PLAUSIBLE_PG_ML[s][0] for s in VEGF_SPECIMENS])[
        np.maximum(specimen, 0)
    ]
    uln_high = np.array([m.VEGF_ULN_PLAUSIBLE_PG_ML[s][1] for s in VEGF_SPECIMENS])[
        np.maximum(specimen, 0)
    ]
    vegf_ok = (
        np.isfinite(factor)
        & (specimen >= 0)
        & ok_value
        & ok_uln
        & (uln_default | ((uln >= uln_low) & (uln <= uln_high)))
        & (value_pg > 0)
        & (value_pg >= low)
        & (value_pg <= high)
    )
    refused = measured & ~vegf_ok
    measured &= vegf_ok
    value_pg = np.where(measured, value_pg, np.nan)
    multiple = value_pg / uln
    specimen = np.where(measured, specimen, -1).astype(np.int8)
    return refused, measured, value_pg, multiple, specimen, uln_default


def derive(cells: _Cells) -> CaseColumns:
    """The derived states (``Case._derived``) and ``Case``'s consistency rules over read
    cells."""
    n, entered, numbers, sex = cells.n, cells.entered, cells.numbers, cells.sex
    flagged = cells.flagged.copy()
    measured, multiple = cells.measured, cells.vegf_multiple

    # derived states (Case._derived)
    state = {fid: entered[fid].copy() for fid in STATED}
    platelets = numbers["platelets"]
    hb, hct = numbers["hemoglobin"], numbers["hematocrit"]
    implied_thrombocytosis = np.where(
        np.isnan(platelets), -1, np.where(platelets > m.THROMBOCYTOSIS_PLATELETS.value, _P, _A)
    ).astype(np.int8)
    implied_thrombocytopenia = np.where(
        np.isnan(platelets), -1, np.where(platelets < m.THROMBOCYTOPENIA_PLATELETS.value, _P, _A)
    ).astype(np.int8)
    state["thrombocytopenia"] = np.where(
        entered["thrombocytopenia"] >= 0, entered["thrombocytopenia"], implied_thrombocytopenia
    ).astype(np.int8)
    for name, implied in (
        ("thrombocytosis", implied_thrombocytosis),
        ("polycythemia", polycythemia(hb, hct, sex)),
        ("anemia", anemia(hb, sex)),
    ):
        stated = entered[name]
        flagged |= (stated >= 0) & (implied >= 0) & (stated != implied)
        state[name] = np.where(stated >= 0, stated, implied).astype(np.int8)
    for agg, parts in AGGREGATES.items():
        stated = entered[agg]
        parts = tuple(p for p in parts if p in state)
        if not parts:  # summarises a measurement (vegf_elevated): read as stated
            state[agg] = stated.copy()
            continue
        any_present = np.zeros(n, dtype=bool)
        all_absent = np.ones(n, dtype=bool)
        part_entered_present = np.zeros(n, dtype=bool)
        for part in parts:
            any_present |= state[part] == _P
            all_absent &= state[part] == _A
            part_entered_present |= entered[part] == _P
        derived = np.where(any_present, _P8, np.where(all_absent, _A8, _NONE8))
        state[agg] = np.where(stated >= 0, stated, derived).astype(np.int8)
        flagged |= (stated == _A) & part_entered_present  # Case consistency
        flagged |= (stated == _P) & all_absent  # evidence_for consistency

    # remaining Case consistency rules
    elevated = entered["vegf_elevated"]
    flagged |= measured & (
        ((elevated == _P) & (multiple <= m.VEGF_NOT_ELEVATED_AT_MOST_ULN_MULTIPLE))
        | ((elevated == _A) & (multiple >= m.VEGF_CLEARLY_ELEVATED_FROM_ULN_MULTIPLE))
    )
    flagged |= ~np.isnan(numbers["sclerotic_lesion_size_cm"]) & (
        entered["sclerotic_bone_lesion"] == _A
    )
    no_protein = entered["monoclonal_protein"] == _A
    heavy_none = FINDINGS["heavy_chain"].states.index("none")
    flagged |= no_protein & (entered["light_chain"] >= 0)
    flagged |= no_protein & (entered["heavy_chain"] >= 0) & (entered["heavy_chain"] != heavy_none)

    return CaseColumns(
        n=n,
        flagged=flagged,
        entered=entered,
        state=state,
        numbers=numbers,
        vegf_pg_ml=cells.vegf_pg_ml,
        vegf_multiple=multiple,
        vegf_specimen=cells.vegf_specimen,
        vegf_uln_default=cells.vegf_uln_default,
        setting=cells.setting,
        age=cells.age,
        sex=np.where(sex["male"], 0, np.where(sex["female"], 1, -1)).astype(np.int8),
    )


def polycythemia(hb: np.ndarray, hct: np.ndarray, sex: Mapping[str, np.ndarray]) -> np.ndarray:
    """Vectorised :func:`model.measurements.polycythemia_from_blood`."""
    n = len(hb)
    any_present = np.zeros(n, dtype=bool)
    all_absent = np.ones(n, dtype=bool)
    n_verdicts = np.zeros(n, dtype=np.int8)  # at most 2
    for values, table in ((hb, m.POLYCYTHEMIA_HB), (hct, m.POLYCYTHEMIA_HCT)):
        given = ~np.isnan(values)
        top = max(t.value for t in table.values())
        bottom = min(t.value for t in table.values())
        verdict = np.where(values > top, _P8, np.where(values <= bottom, _A8, _NONE8))
        for s, rows in sex.items():
            verdict = np.where(rows, np.where(values > table[s].value, _P8, _A8), verdict)
        verdict = np.where(given, verdict, np.int8(-2))  # -2: no verdict from this value
        any_present |= verdict == _P
        all_absent &= (verdict == _A) | (verdict == -2)
        n_verdicts += given
    out = np.where(any_present, _P8, np.where(all_absent & (n_verdicts > 0), _A8, _NONE8))
    return out.astype(np.int8, copy=False)


def anemia(hb: np.ndarray, sex: Mapping[str, np.ndarray]) -> np.ndarray:
    """Vectorised :func:`model.measurements.anemia_from_hemoglobin`."""
    table = m.ANEMIA_HB
    low = min(t.value for t in table.values())
    high = max(t.value for t in table.values())
    out = np.where(hb < low, _P8, np.where(hb >= high, _A8, _NONE8))
    for s, rows in sex.items():
        out = np.where(rows, np.where(hb < table[s].value, _P8, _A8), out)
    return np.where(np.isnan(hb), _NONE8, out).astype(np.int8, copy=False)


def row_from_case(case: Case) -> dict[str, str]:
    """A case as one cohort row of strings (the inverse of reading a row; empty = not given)."""
    row = {key: str(value) for key in CASE_COLUMNS if (value := getattr(case, key)) is not None}
    row.update(row_texts(case.findings))
    return row


def variants(row: Mapping[str, str], changes: list[tuple[str, str]]) -> CaseColumns:
    """Parsed rows: ``row`` itself (row 0), then ``row`` with each (column, text) change.

    When every change sets an entered finding to one of its state names and the row's own
    cells are plainly valid, the row is read once and each variant is that read with one
    entered state replaced (what reading the changed text gives), then derived as usual;
    otherwise every variant's text is parsed. Both are tested equal
    (``tests/test_batch.py``)."""
    codes = [
        _state_lookup(name).get(text, _NOT_CANONICAL) if name in _ENTERED_SET else _NOT_CANONICAL
        for name, text in changes
    ]
    if _NOT_CANONICAL in codes:
        return rows_with(row, [{}, *({name: text} for name, text in changes)])
    cells = read_cells(_coded_rows(row, len(changes) + 1), len(changes) + 1)
    if cells.flagged[0]:
        return rows_with(row, [{}, *({name: text} for name, text in changes)])
    for i, ((name, _), code) in enumerate(zip(changes, codes, strict=True), start=1):
        cells.entered[name][i] = max(code, _NOT_GIVEN)
    return derive(cells)


_ENTERED_SET = frozenset(ENTERED)


def _coded_rows(row: Mapping[str, str], n: int) -> dict[str, CodedColumn]:
    """One row of cell texts as coded columns of ``n`` identical rows."""
    index = np.zeros(n, dtype=np.intp)
    return {
        name: CodedColumn(index, np.array([text.strip()], dtype=object))
        for name, text in row.items()
    }


def row_texts(findings: Mapping[str, Any]) -> dict[str, str]:
    """Findings (id -> case-file value) as the row cells :func:`row_from_case` writes."""
    row: dict[str, str] = {}
    for fid, value in findings.items():
        if FINDINGS[fid].kind is Kind.MEASUREMENT:
            row["vegf_value"] = str(value["value"])
            row["vegf_unit"] = str(value.get("unit", "pg/mL"))
            row["vegf_specimen"] = str(value.get("specimen", ""))
            if "uln" in value:
                row["vegf_uln"] = str(value["uln"])
        else:
            row[fid] = str(value)
    return row


def rows_with(row: Mapping[str, str], changes: Sequence[Mapping[str, str]]) -> CaseColumns:
    """Parsed rows: ``row`` with each set of (column -> text) changes, one row per set."""
    n = len(changes)
    columns: dict[str, tuple[list[str], np.ndarray]] = {}
    names = {*row, *(name for change in changes for name in change)}
    for name in names:
        columns[name] = ([row.get(name, "").strip()], np.zeros(n, dtype=np.intp))
    for i, change in enumerate(changes):
        for name, text in change.items():
            uniques, indices = columns[name]
            if text not in uniques:
                uniques.append(text)
            indices[i] = uniques.index(text)
    coded = {
        name: CodedColumn(indices, np.array(uniques, dtype=object))
        for name, (uniques, indices) in columns.items()
    }
    return parse_columns(coded, n)
