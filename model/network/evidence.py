"""The one place a :class:`~model.case.Case` becomes network evidence (node -> state).

- Binary, category and aggregate findings: ``Case.state(id)`` when it is known. Not assessed
  findings are left out, never set to absent (unknown is not absent).
- Thrombocytosis, polycythemia and anemia come from the measured blood values through
  ``Case.state`` (WHO thresholds in :mod:`model.measurements`).
- A measured VEGF sets ``vegf_serum`` or ``vegf_plasma`` (by specimen) to the band holding its
  multiple of the ULN (edges inclusive upper: 1.0 x ULN is ``up_to_1x``). ``vegf_elevated``
  is used only when no value is given.
- Marrow plasma cells: ``lt_10_pct`` below 10 %, ``ge_10_pct`` from 10 %.
- Thrombocytopenia comes from the platelet count (< 150) like thrombocytosis (> 450).
- ``sclerotic_lesion_size_cm`` sets ``sclerotic_lesion_size`` (under 10 mm or not); the
  case-level ``age`` sets ``age_band`` and ``sex`` sets ``sex``.
- A setting may be *defined* by findings (``Setting.implies``: a polyneuropathy in a
  neuropathy clinic). :func:`with_setting` adds them to the evidence when the case does not
  state them; :func:`setting_conflicts` names the ones the case contradicts. The inference
  layers (``model.inference.exact.query`` and the compiled engine from
  ``model.inference.engine.engine_for``) apply them, so every caller gets the same answer.

Consistency (an aggregate against its parts) is the case's rule: :class:`~model.case.Case`
refuses a contradictory case before it gets here, so the criteria and the network accept and
refuse exactly the same cases.
"""

from __future__ import annotations

from collections.abc import Mapping

from model.case import Case
from model.network.structure import (
    AGE_BAND,
    AGE_BAND_LOWER_EDGES,
    AGE_BANDS,
    LESION_SIZE,
    LESION_SIZE_EDGE_CM,
    LESION_SIZE_STATES,
    MARROW_NODE,
    MARROW_STATES,
    MARROW_THRESHOLD_PCT,
    NODES,
    SEX,
    VEGF_BAND_UPPER_EDGES,
    VEGF_BANDS,
    VEGF_NODES,
)
from model.vocabulary import FINDINGS

NOT_IN_NETWORK: tuple[str, ...] = ()
"""Findings the network does not read (the criteria do): none since v2."""


def vegf_band(multiple_of_uln: float) -> str:
    """The band of a VEGF multiple of the ULN (upper edges inclusive)."""
    for band, edge in zip(VEGF_BANDS, VEGF_BAND_UPPER_EDGES, strict=True):
        if multiple_of_uln <= edge:
            return band
    return VEGF_BANDS[-1]


def marrow_band(percent: float) -> str:
    return MARROW_STATES[0] if percent < MARROW_THRESHOLD_PCT else MARROW_STATES[1]


def age_band(years: float) -> str:
    """The age band holding ``years`` (lower edges inclusive)."""
    band = AGE_BANDS[0]
    for name, edge in zip(AGE_BANDS, AGE_BAND_LOWER_EDGES, strict=True):
        if years >= edge:
            band = name
    return band


def lesion_size_band(size_cm: float) -> str:
    return LESION_SIZE_STATES[0] if size_cm < LESION_SIZE_EDGE_CM else LESION_SIZE_STATES[1]


def with_setting(evidence: Mapping[str, str], implies: Mapping[str, str]) -> dict[str, str]:
    """The evidence plus the setting's defining findings the case does not state."""
    out = dict(evidence)
    for node, state in implies.items():
        out.setdefault(node, state)
    return out


def setting_conflicts(
    evidence: Mapping[str, str], implies: Mapping[str, str]
) -> dict[str, tuple[str, str]]:
    """Defining findings the case contradicts: node -> (setting's state, case's state)."""
    return {
        node: (state, evidence[node])
        for node, state in implies.items()
        if node in evidence and evidence[node] != state
    }


_STATED_NODES: tuple[str, ...] = tuple(n for n in NODES if n in FINDINGS and n != "vegf_elevated")
"""Network nodes that read a finding's own state (``vegf_elevated`` only without a value)."""


def evidence_for(case: Case) -> dict[str, str]:
    """Node -> observed state for every finding the case gives (see module docstring)."""
    evidence: dict[str, str] = {}
    for node in _STATED_NODES:
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
    size = case.number("sclerotic_lesion_size_cm")
    if size is not None:
        evidence[LESION_SIZE] = lesion_size_band(size)
    if case.age is not None:
        evidence[AGE_BAND] = age_band(float(case.age))
    if case.sex is not None:
        evidence[SEX] = str(case.sex)
    return evidence
