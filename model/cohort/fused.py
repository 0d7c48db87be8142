"""Derived states, consistency flags and network evidence of a chunk in one compiled pass.

:func:`model.case_columns.parse_columns` derives the case states with numpy, one array
operation over the chunk per rule (about 300 for a chunk, each reading and writing whole
columns), and :func:`model.cohort.coding.evidence_by_node` then lays the evidence out one
node per row. :func:`parse_with_evidence` reads the cells the same way
(:func:`model.case_columns.read_cells`) and does the rest row by row in one numba loop
that reads each row's cells once: the same derived states (``Case._derived``), the same
rows flagged for ``Case``, the same evidence codes. Every rule is integer logic or a
comparison with a threshold, so the two agree exactly; the rules are passed in as tables
built from :mod:`model.vocabulary`, :mod:`model.measurements` and the network's structure
(:func:`_rules`), never restated. ``tests/test_cohort_fused.py`` checks the two equal on
random rows with bad cells.

Without numba the numpy path runs.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from model import measurements as m
from model.case_columns import (
    ENTERED,
    GATHER_MIN_ROWS,
    STATED,
    CaseColumns,
    CodedColumn,
    derive,
    read_cells,
)
from model.cohort.coding import evidence_by_node
from model.network.evidence_codes import MEASURED_STATEMENTS, OBSERVABLE
from model.network.structure import (
    AGE_BAND,
    AGE_BAND_LOWER_EDGES,
    LESION_SIZE,
    LESION_SIZE_EDGE_CM,
    MARROW_NODE,
    MARROW_THRESHOLD_PCT,
    NODES,
    SEX,
    VEGF_BAND_UPPER_EDGES,
    VEGF_NODES,
)
from model.vocabulary import ABSENT, AGGREGATES, FINDINGS, PRESENT, SEXES, VEGF_SPECIMENS

# How an evidence row is read (``_Rules.node_kind``).
_UNREAD, _STATEMENT, _FINDING, _MARROW, _LESION, _AGE, _SEX = range(7)


@dataclass(frozen=True)
class _Rules:
    """The rules of :func:`model.case_columns.derive` and :func:`evidence_by_node` as
    arrays the compiled loop reads (indices into :data:`ENTERED` unless said otherwise)."""

    present: int
    absent: int
    thrombocytopenia: int
    thrombocytosis: int
    polycythemia: int
    anemia: int
    platelets_low: float  # thrombocytopenia below
    platelets_high: float  # thrombocytosis above
    poly_hb: np.ndarray  # per sex (SEXES order), then the highest and the lowest
    poly_hct: np.ndarray
    anemia_hb: np.ndarray
    aggregate: np.ndarray  # the aggregates, in AGGREGATES order
    part_first: np.ndarray  # parts of aggregate k: part_index[part_first[k]:part_first[k+1]]
    part_index: np.ndarray
    vegf_elevated: int
    vegf_not_elevated_at_most: float
    vegf_clearly_elevated_from: float
    lesion: int
    monoclonal_protein: int
    light_chain: int
    heavy_chain: int
    heavy_none: int
    node_kind: np.ndarray  # per observable node
    node_entered: np.ndarray  # its finding in ENTERED (statements and findings), else -1
    node_lookup: np.ndarray  # (nodes, width + 1): finding state -> node state, [-1] = -1
    node_same: np.ndarray  # the finding's states are the node's, in the same order
    node_specimen: np.ndarray  # the VEGF specimen the node reads, else -1
    marrow_threshold: float
    lesion_edge: float
    age_edges: np.ndarray
    vegf_edges: np.ndarray

    def arguments(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__dataclass_fields__)


def _recode_table(source: tuple[str, ...], target: tuple[str, ...], width: int) -> list[int]:
    table = [target.index(s) for s in source]
    return table + [-1] * (width + 1 - len(table))


def _sex_thresholds(table: Any) -> np.ndarray:
    values = [table[s].value for s in SEXES]
    return np.array([*values, max(values), min(values)], dtype=np.float64)


@functools.cache
def _rules(observable: tuple[str, ...] = OBSERVABLE) -> _Rules:
    index = {fid: k for k, fid in enumerate(ENTERED)}
    binary = FINDINGS[next(iter(AGGREGATES))].states
    aggregates: list[int] = []
    parts: list[int] = []
    firsts = [0]
    known = set(STATED)
    for agg, members in AGGREGATES.items():
        aggregates.append(index[agg])
        parts.extend(index[p] for p in members if p in known)
        firsts.append(len(parts))
        known.add(agg)
    width = max(len(NODES[node].states) for node in observable)
    kinds, entered, lookups, specimens = [], [], [], []
    specimen_of = {VEGF_NODES[s]: i for i, s in enumerate(VEGF_SPECIMENS)}
    for node in observable:
        kind, k, lookup = _UNREAD, -1, [-1] * (width + 1)
        if node in MEASURED_STATEMENTS or node in FINDINGS:
            kind = _STATEMENT if node in MEASURED_STATEMENTS else _FINDING
            k = index[node]
            lookup = _recode_table(tuple(FINDINGS[node].states), NODES[node].states, width)
        elif node == MARROW_NODE:
            kind = _MARROW
        elif node == LESION_SIZE:
            kind = _LESION
        elif node == AGE_BAND:
            kind = _AGE
        elif node == SEX:
            kind = _SEX
            lookup = _recode_table(SEXES, NODES[SEX].states, width)
        kinds.append(kind)
        entered.append(k)
        lookups.append(lookup)
        specimens.append(specimen_of.get(node, -1))
    return _Rules(
        present=binary.index(PRESENT),
        absent=binary.index(ABSENT),
        thrombocytopenia=index["thrombocytopenia"],
        thrombocytosis=index["thrombocytosis"],
        polycythemia=index["polycythemia"],
        anemia=index["anemia"],
        platelets_low=m.THROMBOCYTOPENIA_PLATELETS.value,
        platelets_high=m.THROMBOCYTOSIS_PLATELETS.value,
        poly_hb=_sex_thresholds(m.POLYCYTHEMIA_HB),
        poly_hct=_sex_thresholds(m.POLYCYTHEMIA_HCT),
        anemia_hb=_sex_thresholds(m.ANEMIA_HB),
        aggregate=np.array(aggregates, dtype=np.int64),
        part_first=np.array(firsts, dtype=np.int64),
        part_index=np.array(parts, dtype=np.int64),
        vegf_elevated=index["vegf_elevated"],
        vegf_not_elevated_at_most=m.VEGF_NOT_ELEVATED_AT_MOST_ULN_MULTIPLE,
        vegf_clearly_elevated_from=m.VEGF_CLEARLY_ELEVATED_FROM_ULN_MULTIPLE,
        lesion=index["sclerotic_bone_lesion"],
        monoclonal_protein=index["monoclonal_protein"],
        light_chain=index["light_chain"],
        heavy_chain=index["heavy_chain"],
        heavy_none=FINDINGS["heavy_chain"].states.index("none"),
        node_kind=np.array(kinds, dtype=np.int64),
        node_entered=np.array(entered, dtype=np.int64),
        node_lookup=np.array(lookups, dtype=np.int8),
        node_same=np.array(
            [
                k >= 0 and tuple(FINDINGS[node].states) == tuple(NODES[node].states)
                for node, k in zip(observable, entered, strict=True)
            ],
            dtype=np.bool_,
        ),
        node_specimen=np.array(specimens, dtype=np.int64),
        marrow_threshold=float(MARROW_THRESHOLD_PCT),
        lesion_edge=float(LESION_SIZE_EDGE_CM),
        age_edges=np.array(AGE_BAND_LOWER_EDGES, dtype=np.float64),
        vegf_edges=np.array(VEGF_BAND_UPPER_EDGES, dtype=np.float64),
    )


def _blood_verdict(value: float, thresholds: np.ndarray, sex: int, p: int, a: int) -> int:
    """One measurement's polycythemia verdict: present above the sex's threshold, absent at
    or under it; without a sex, present above every sex's, absent at or under every one,
    else none (-1); not given: -2 (no verdict)."""
    if value != value:
        return -2
    if sex >= 0:
        return p if value > thresholds[sex] else a
    n = thresholds.shape[0]
    if value > thresholds[n - 2]:
        return p
    if value <= thresholds[n - 1]:
        return a
    return -1


def _derive_rows(
    entered: np.ndarray,
    platelets: np.ndarray,
    hb: np.ndarray,
    hct: np.ndarray,
    lesion_size: np.ndarray,
    marrow_pct: np.ndarray,
    age: np.ndarray,
    sex: np.ndarray,
    measured: np.ndarray,
    multiple: np.ndarray,
    specimen: np.ndarray,
    flagged: np.ndarray,
    state: np.ndarray,
    codes: np.ndarray,
    present: int,
    absent: int,
    thrombocytopenia: int,
    thrombocytosis: int,
    polycythemia: int,
    anemia: int,
    platelets_low: float,
    platelets_high: float,
    poly_hb: np.ndarray,
    poly_hct: np.ndarray,
    anemia_hb: np.ndarray,
    aggregate: np.ndarray,
    part_first: np.ndarray,
    part_index: np.ndarray,
    vegf_elevated: int,
    vegf_not_elevated_at_most: float,
    vegf_clearly_elevated_from: float,
    lesion: int,
    monoclonal_protein: int,
    light_chain: int,
    heavy_chain: int,
    heavy_none: int,
    node_kind: np.ndarray,
    node_entered: np.ndarray,
    node_lookup: np.ndarray,
    node_same: np.ndarray,
    node_specimen: np.ndarray,
    marrow_threshold: float,
    lesion_edge: float,
    age_edges: np.ndarray,
    vegf_edges: np.ndarray,
) -> None:
    """Fill ``state`` (one row per :data:`ENTERED` finding), ``codes`` (one row per
    observable node) and ``flagged`` (updated in place); the rules of
    :func:`model.case_columns.derive` and :func:`evidence_by_node`, in their order.

    The arrays hold one finding (node) per row, each row contiguous, so each rule is one
    loop along the rows it reads: the numpy path's order of work without its temporaries
    (reading a case's cells down a column instead, every cell a row of bytes from the
    next, ran three times slower).
    """
    n_entered, n = entered.shape
    for k in range(n_entered):
        into, source = state[k], entered[k]
        for i in range(n):
            into[i] = source[i]
    stated = entered[thrombocytopenia]
    into = state[thrombocytopenia]
    for i in range(n):
        plt = platelets[i]
        if stated[i] < 0 and plt == plt:
            into[i] = present if plt < platelets_low else absent
    # measured-derived states: the stated one wins; a disagreement is Case's to judge
    stated, into = entered[thrombocytosis], state[thrombocytosis]
    for i in range(n):
        plt = platelets[i]
        implied = -1 if plt != plt else (present if plt > platelets_high else absent)
        if stated[i] >= 0 and implied >= 0 and stated[i] != implied:
            flagged[i] = True
        if stated[i] < 0:
            into[i] = implied
    stated, into = entered[polycythemia], state[polycythemia]
    for i in range(n):
        v_hb = _blood_verdict(hb[i], poly_hb, sex[i], present, absent)
        v_hct = _blood_verdict(hct[i], poly_hct, sex[i], present, absent)
        if v_hb == present or v_hct == present:
            implied = present
        elif (
            (v_hb == absent or v_hb == -2)
            and (v_hct == absent or v_hct == -2)
            and (v_hb != -2 or v_hct != -2)
        ):
            implied = absent
        else:
            implied = -1
        if stated[i] >= 0 and implied >= 0 and stated[i] != implied:
            flagged[i] = True
        if stated[i] < 0:
            into[i] = implied
    stated, into = entered[anemia], state[anemia]
    low, high = anemia_hb[anemia_hb.shape[0] - 1], anemia_hb[anemia_hb.shape[0] - 2]
    for i in range(n):
        value, s = hb[i], sex[i]
        if value != value:
            implied = -1
        elif s >= 0:
            implied = present if value < anemia_hb[s] else absent
        elif value < low:
            implied = present
        elif value >= high:
            implied = absent
        else:
            implied = -1
        if stated[i] >= 0 and implied >= 0 and stated[i] != implied:
            flagged[i] = True
        if stated[i] < 0:
            into[i] = implied
    any_present = np.empty(n, dtype=np.bool_)  # of an aggregate's parts, per row
    all_absent = np.empty(n, dtype=np.bool_)
    part_entered_present = np.empty(n, dtype=np.bool_)
    for a in range(aggregate.shape[0]):
        first, last = part_first[a], part_first[a + 1]
        if first == last:  # summarises a measurement: read as stated
            continue
        any_present[:] = False
        all_absent[:] = True
        part_entered_present[:] = False
        for j in range(first, last):  # part by part, each a loop along its row
            part_state, part_entered = state[part_index[j]], entered[part_index[j]]
            for i in range(n):
                any_present[i] |= part_state[i] == present
                all_absent[i] &= part_state[i] == absent
                part_entered_present[i] |= part_entered[i] == present
        stated, into = entered[aggregate[a]], state[aggregate[a]]
        for i in range(n):
            if stated[i] < 0:
                into[i] = present if any_present[i] else (absent if all_absent[i] else -1)
            if (stated[i] == absent and part_entered_present[i]) or (
                stated[i] == present and all_absent[i]
            ):
                flagged[i] = True
    # the remaining consistency rules of Case
    elevated, lesion_stated = entered[vegf_elevated], entered[lesion]
    protein, light, heavy = entered[monoclonal_protein], entered[light_chain], entered[heavy_chain]
    for i in range(n):
        if measured[i] and (
            (elevated[i] == present and multiple[i] <= vegf_not_elevated_at_most)
            or (elevated[i] == absent and multiple[i] >= vegf_clearly_elevated_from)
        ):
            flagged[i] = True
        if lesion_size[i] == lesion_size[i] and lesion_stated[i] == absent:
            flagged[i] = True
        if protein[i] == absent and (light[i] >= 0 or (heavy[i] >= 0 and heavy[i] != heavy_none)):
            flagged[i] = True
    # evidence, one row per observable node
    for j in range(node_kind.shape[0]):
        kind, out, lookup = node_kind[j], codes[j], node_lookup[j]
        if kind == _STATEMENT:  # read only when the measurement is missing
            source = entered[node_entered[j]]
            for i in range(n):
                out[i] = lookup[source[i]] if specimen[i] < 0 else -1
        elif kind == _FINDING and node_same[j]:  # a copy, which vectorises
            source = state[node_entered[j]]
            for i in range(n):
                out[i] = source[i]
        elif kind == _FINDING:
            source = state[node_entered[j]]
            for i in range(n):
                out[i] = lookup[source[i]]
        elif kind in (_MARROW, _LESION):
            values = marrow_pct if kind == _MARROW else lesion_size
            cut = marrow_threshold if kind == _MARROW else lesion_edge
            for i in range(n):
                x = values[i]
                out[i] = -1 if x != x else (0 if x < cut else 1)
        elif kind == _AGE:
            for i in range(n):
                years = age[i]
                band = -1
                if years == years:
                    for edge in age_edges:
                        band += edge <= years
                out[i] = band
        elif kind == _SEX:
            for i in range(n):
                out[i] = lookup[sex[i]]
        else:
            for i in range(n):
                out[i] = -1
        if node_specimen[j] >= 0:
            for i in range(n):
                if specimen[i] == node_specimen[j]:
                    x = multiple[i]
                    band = vegf_edges.shape[0]  # numpy's searchsorted puts NaN last
                    if x == x:
                        band = 0
                        for edge in vegf_edges:
                            band += edge < x
                    out[i] = band


_COMPILED: dict[str, Callable[..., None] | None] = {}
_COMPILING = threading.Lock()


def _kernel() -> Callable[..., None] | None:
    """:func:`_derive_rows` compiled by numba on first use (cached on disk when numba finds
    a writable cache directory), or ``None`` without numba."""
    if "derive" not in _COMPILED:
        with _COMPILING:
            if "derive" not in _COMPILED:
                _COMPILED["derive"] = _compile()
    return _COMPILED["derive"]


def _compile() -> Callable[..., None] | None:
    global _blood_verdict
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency
        return None

    def jit(function: Callable[..., Any], **options: Any) -> Any:
        try:
            return numba.njit(cache=True, nogil=True, **options)(function)
        except RuntimeError:  # no writable cache location
            return numba.njit(cache=False, nogil=True, **options)(function)

    _blood_verdict = jit(_blood_verdict, inline="always")
    kernel: Callable[..., None] = jit(_derive_rows)
    return kernel


def parse_with_evidence(
    columns: dict[str, CodedColumn],
    n: int,
    observable: tuple[str, ...] = OBSERVABLE,
    compiled: bool | None = None,
) -> tuple[CaseColumns, np.ndarray]:
    """``(parse_columns(columns, n), evidence_by_node(cases, observable))``, the derived
    states, flags and evidence computed in one compiled pass (:func:`_derive_rows`).

    ``compiled``: ``None`` takes the compiled pass for chunks of at least
    :data:`model.case_columns.GATHER_MIN_ROWS` rows and numpy below (a small file then
    never waits for a compilation: about two seconds where numba cannot keep its cache);
    ``True`` or ``False`` forces one.
    """
    cells = read_cells(columns, n)
    if compiled is None:
        compiled = n >= GATHER_MIN_ROWS
    kernel = _kernel() if compiled else None
    if kernel is None:
        cases = derive(cells)
        return cases, evidence_by_node(cases, observable)
    entered = cells.entered_rows
    sex = np.full(n, -1, dtype=np.int8)
    for k, name in enumerate(SEXES):
        sex[cells.sex[name]] = k
    state = np.empty_like(entered)
    codes = np.empty((len(observable), n), dtype=np.int8)
    flagged = cells.flagged.copy()
    numbers = cells.numbers
    kernel(
        entered,
        numbers["platelets"],
        numbers["hemoglobin"],
        numbers["hematocrit"],
        numbers["sclerotic_lesion_size_cm"],
        numbers["bone_marrow_plasma_cells_pct"],
        cells.age,
        sex,
        cells.measured,
        cells.vegf_multiple,
        cells.vegf_specimen,
        flagged,
        state,
        codes,
        *_rules(tuple(observable)).arguments(),
    )
    cases = CaseColumns(
        n=n,
        flagged=flagged,
        entered={fid: entered[k] for k, fid in enumerate(ENTERED)},
        state={fid: state[k] for k, fid in enumerate(ENTERED)},
        numbers=numbers,
        vegf_pg_ml=cells.vegf_pg_ml,
        vegf_multiple=cells.vegf_multiple,
        vegf_specimen=cells.vegf_specimen,
        vegf_uln_default=cells.vegf_uln_default,
        setting=cells.setting,
        age=cells.age,
        sex=sex,
    )
    return cases, codes
