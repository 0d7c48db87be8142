"""A chunk's network evidence laid out one node per row, as the cohort scorer reads it.

:func:`model.network.evidence_codes.evidence_codes` gives the evidence of parsed rows one
*case* per row, shape (cases, nodes): each node's codes are written down a column, one byte
every ``nodes`` bytes. :func:`evidence_by_node` gives the same codes transposed, shape
(nodes, cases), so each node's codes are one contiguous row written in one pass, and the
compiled kernel reads that layout in place
(:func:`model.inference.compiled_kernel.posteriors_on_this_thread`). The reading is the same
(``tests/test_cohort_pipeline.py`` checks the two equal on damaged rows); a state whose
finding and node orders agree is copied without a lookup.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from model.case_columns import CaseColumns
from model.network.evidence_codes import MEASURED_STATEMENTS, OBSERVABLE, recode
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
from model.vocabulary import FINDINGS, SEXES, VEGF_SPECIMENS


@functools.cache
def _same_order(node: str) -> bool:
    """Whether finding ``node``'s states are in the node's order (no recoding needed)."""
    return tuple(FINDINGS[node].states) == tuple(NODES[node].states)


def _put(into: np.ndarray, node: str, states: np.ndarray) -> None:
    if _same_order(node):
        into[:] = states
    else:
        into[:] = recode(states, FINDINGS[node].states, NODES[node].states)


def evidence_by_node(cases: CaseColumns, observable: Sequence[str] = OBSERVABLE) -> np.ndarray:
    """Evidence of every row, shape (len(observable), n), int8: ``evidence_codes(cases,
    observable).T``, written row by row (``-1`` = not observed)."""
    codes = np.full((len(observable), cases.n), -1, dtype=np.int8)
    measured = cases.vegf_specimen >= 0
    for j, node in enumerate(observable):
        if node in MEASURED_STATEMENTS:
            _put(codes[j], node, np.where(measured, -1, cases.entered[node]))
        elif node in FINDINGS:
            _put(codes[j], node, cases.state[node])
        elif node == MARROW_NODE:
            pct = cases.numbers["bone_marrow_plasma_cells_pct"]
            codes[j] = np.where(np.isnan(pct), -1, np.where(pct < MARROW_THRESHOLD_PCT, 0, 1))
        elif node == LESION_SIZE:
            size = cases.numbers["sclerotic_lesion_size_cm"]
            codes[j] = np.where(np.isnan(size), -1, np.where(size < LESION_SIZE_EDGE_CM, 0, 1))
        elif node == AGE_BAND:
            band = np.searchsorted(np.array(AGE_BAND_LOWER_EDGES), cases.age, side="right") - 1
            codes[j] = np.where(np.isnan(cases.age), -1, band)
        elif node == SEX:
            codes[j] = recode(cases.sex, SEXES, NODES[SEX].states)
    band = np.searchsorted(np.array(VEGF_BAND_UPPER_EDGES), cases.vegf_multiple, side="left")
    for i, specimen in enumerate(VEGF_SPECIMENS):
        node = VEGF_NODES[specimen]
        if node in observable:
            rows = cases.vegf_specimen == i
            codes[list(observable).index(node), rows] = band[rows]
    return codes
