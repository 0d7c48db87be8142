"""The one place a :class:`~model.case.Case` becomes network evidence (node -> state).

- Binary, category and aggregate findings: ``Case.state(id)`` when it is known. Not assessed
  findings are left out, never set to absent (unknown is not absent).
- Thrombocytosis, polycythemia and anemia come from the measured blood values through
  ``Case.state`` (WHO thresholds in :mod:`model.measurements`).
- A measured VEGF sets ``vegf_serum`` or ``vegf_plasma`` (by specimen) to the band holding its
  multiple of the ULN (edges inclusive upper: 1.0 x ULN is ``up_to_1x``). ``vegf_elevated``
  is used only when no value is given.
- Marrow plasma cells: ``lt_10_pct`` below 10 %, ``ge_10_pct`` from 10 %.
- ``sclerotic_lesion_size_cm`` is read by the criteria only.

Consistency (an aggregate against its parts) is the case's rule: :class:`~model.case.Case`
refuses a contradictory case before it gets here, so the criteria and the network accept and
refuse exactly the same cases.
"""

from __future__ import annotations

from model.case import Case
from model.network.structure import (
    MARROW_NODE,
    MARROW_STATES,
    MARROW_THRESHOLD_PCT,
    NODES,
    VEGF_BAND_UPPER_EDGES,
    VEGF_BANDS,
    VEGF_NODES,
)
from model.vocabulary import FINDINGS

NOT_IN_NETWORK: tuple[str, ...] = ("sclerotic_lesion_size_cm",)
"""Findings the network does not read (the criteria do)."""


def vegf_band(multiple_of_uln: float) -> str:
    """The band of a VEGF multiple of the ULN (upper edges inclusive)."""
    for band, edge in zip(VEGF_BANDS, VEGF_BAND_UPPER_EDGES, strict=True):
        if multiple_of_uln <= edge:
            return band
    return VEGF_BANDS[-1]


def marrow_band(percent: float) -> str:
    return MARROW_STATES[0] if percent < MARROW_THRESHOLD_PCT else MARROW_STATES[1]


def evidence_for(case: Case) -> dict[str, str]:
    """Node -> observed state for every finding the case gives (see module docstring)."""
    evidence: dict[str, str] = {}
    for node in NODES:
        if node in FINDINGS and node != "vegf_elevated":
            state = case.state(node)
            if state is not None:
                evidence[node] = str(state)
    vegf = case.vegf
    if vegf is not None:
        evidence[VEGF_NODES[vegf.specimen]] = vegf_band(vegf.multiple_of_uln)
    else:
        stated = case.state("vegf_elevated")
        if stated is not None:
            evidence["vegf_elevated"] = str(stated)
    pct = case.number("bone_marrow_plasma_cells_pct")
    if pct is not None:
        evidence[MARROW_NODE] = marrow_band(pct)
    return evidence
