"""Network evidence for many rows at once: :func:`model.network.evidence.evidence_for`, vectorised.

The same reading as ``evidence_for`` (see its module docstring), on parsed
:class:`model.case_columns.CaseColumns`, as an int8 array in the engine's column order
(``-1`` = not observed, else the state's index in ``NODES[node].states``). Finding and node
states are matched by *name*, so the vocabulary's state order and the network's may differ.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from model.case_columns import CaseColumns
from model.network.structure import (
    AGE_BAND,
    AGE_BAND_LOWER_EDGES,
    DIAGNOSIS,
    LATENT_NODES,
    LESION_SIZE,
    LESION_SIZE_EDGE_CM,
    MARROW_NODE,
    MARROW_THRESHOLD_PCT,
    NODES,
    SEX,
    VEGF_BAND_UPPER_EDGES,
    VEGF_NODES,
)
from model.vocabulary import AGGREGATES, FINDINGS, SEXES, VEGF_SPECIMENS

OBSERVABLE: tuple[str, ...] = tuple(n for n in NODES if n != DIAGNOSIS and n not in LATENT_NODES)
"""Network nodes a case can give evidence on, in the engine's column order."""

MEASURED_STATEMENTS = tuple(
    agg for agg, parts in AGGREGATES.items() if parts and all(p not in NODES for p in parts)
)
"""Aggregates that state what a measurement would show (``vegf_elevated``): read only when
the measurement itself is missing."""


def recode(codes: np.ndarray, source: Sequence[str], target: Sequence[str]) -> np.ndarray:
    """Map state indices between two state orders by name (-1 stays -1)."""
    lookup = np.array([target.index(s) for s in source] + [-1], dtype=np.int8)
    return np.asarray(lookup[codes])


def evidence_codes(cases: CaseColumns, observable: Sequence[str] | None = None) -> np.ndarray:
    """Evidence of every row, shape (n, len(observable)), as ``evidence_for`` gives it."""
    columns = tuple(OBSERVABLE if observable is None else observable)
    codes = np.full((cases.n, len(columns)), -1, dtype=np.int8)
    column = {name: j for j, name in enumerate(columns)}
    measured = cases.vegf_specimen >= 0
    for node in columns:
        if node in FINDINGS and node not in MEASURED_STATEMENTS:
            codes[:, column[node]] = recode(
                cases.state[node], FINDINGS[node].states, NODES[node].states
            )
    band = np.searchsorted(np.array(VEGF_BAND_UPPER_EDGES), cases.vegf_multiple, side="left")
    for i, specimen in enumerate(VEGF_SPECIMENS):
        node = VEGF_NODES[specimen]
        if node in column:
            rows = cases.vegf_specimen == i
            codes[rows, column[node]] = band[rows]
    for node in MEASURED_STATEMENTS:
        if node in column:
            stated = np.where(measured, -1, cases.entered[node])
            codes[:, column[node]] = recode(stated, FINDINGS[node].states, NODES[node].states)
    if MARROW_NODE in column:
        pct = cases.numbers["bone_marrow_plasma_cells_pct"]
        marrow = np.where(np.isnan(pct), -1, np.where(pct < MARROW_THRESHOLD_PCT, 0, 1))
        codes[:, column[MARROW_NODE]] = marrow
    if LESION_SIZE in column:
        size = cases.numbers["sclerotic_lesion_size_cm"]
        codes[:, column[LESION_SIZE]] = np.where(
            np.isnan(size), -1, np.where(size < LESION_SIZE_EDGE_CM, 0, 1)
        )
    if AGE_BAND in column:
        band = np.searchsorted(np.array(AGE_BAND_LOWER_EDGES), cases.age, side="right") - 1
        codes[:, column[AGE_BAND]] = np.where(np.isnan(cases.age), -1, band)
    if SEX in column:
        codes[:, column[SEX]] = recode(cases.sex, SEXES, NODES[SEX].states)
    return codes
