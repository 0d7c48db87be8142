"""The fixed structure of the network: every node, its states and its parents.

This is the network contract (``docs/network-contract.md``) written as data. The priors files
fill in numbers for these nodes; they cannot add nodes or parents, so the graph is acyclic by
construction (checked once at import by :func:`_check_acyclic`).

Node roles
----------
``root``        the diagnosis; its table is the chosen setting's base rates.
``latent``      plasma_cell_clone and cytokine_vegf: a categorical given the diagnosis
                (``latent.toml``).
``noisy_or``    a binary finding caused by the cytokine state and, optionally, directly by
                some diagnoses (a mimic): P(absent) = (1 - leak) x prod(1 - cause).
``direct``      a binary finding with one table row per diagnosis (``model = "by_diagnosis"``).
``binary``      a binary finding with a parent other than the diagnosis
                (monoclonal_protein | plasma_cell_clone, vegf_elevated | cytokine_vegf).
``categorical`` a multi-state node with one distribution per parent state.
``aggregate``   the deterministic OR of its parts (``vocabulary.AGGREGATES``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from model.vocabulary import AGGREGATES, BINARY_STATES

DIAGNOSIS = "diagnosis"
PLASMA_CELL_CLONE = "plasma_cell_clone"
CYTOKINE = "cytokine_vegf"

DIAGNOSIS_STATES: tuple[str, ...] = (
    "poems",
    "cidp",
    "mgus_neuropathy",
    "al_amyloidosis",
    "multiple_myeloma",
    "castleman_disease",
    "other_neuropathy",
)
CLONE_STATES: tuple[str, ...] = ("none", "lambda", "kappa")
CYTOKINE_STATES: tuple[str, ...] = ("normal", "raised", "markedly_raised")
CYTOKINE_CAUSE_STATES: tuple[str, ...] = ("raised", "markedly_raised")
"""Cytokine states that can cause a finding; ``normal`` is the off state of the noisy-OR."""

VEGF_BANDS: tuple[str, ...] = (
    "up_to_1x",
    "from_1x_to_2x",
    "from_2x_to_4x",
    "from_4x_to_10x",
    "above_10x",
)
VEGF_BAND_UPPER_EDGES: tuple[float, ...] = (1.0, 2.0, 4.0, 10.0, float("inf"))
"""Inclusive upper edge of each band, as a multiple of the specimen's ULN."""
VEGF_NODES: Mapping[str, str] = MappingProxyType({"serum": "vegf_serum", "plasma": "vegf_plasma"})
"""Specimen -> the node that reads a measured VEGF value of that specimen."""

MARROW_NODE = "bone_marrow_plasma_cells"
MARROW_STATES: tuple[str, ...] = ("lt_10_pct", "ge_10_pct")
MARROW_THRESHOLD_PCT = 10.0
"""Clonal marrow plasma cells >= 10 % separate myeloma from MGUS (IMWG definition)."""

NOISY_OR_FINDINGS: tuple[str, ...] = (
    *AGGREGATES["organomegaly"],
    *AGGREGATES["extravascular_volume_overload"],
    *AGGREGATES["endocrinopathy"],
    "hypothyroidism",
    "diabetes_mellitus",
    *AGGREGATES["skin_changes"],
    "papilledema",
    "thrombocytosis",
    "polycythemia",
    "clubbing",
    "weight_loss",
    "pulmonary_hypertension",
    "thrombosis",
    "hyperhidrosis",
)
DIRECT_FINDINGS: tuple[str, ...] = (
    "polyneuropathy",
    "demyelinating_ncs",
    "sclerotic_bone_lesion",
    "castleman_disease",
    "anti_mag_antibodies",
    "amyloid_on_biopsy",
    "lytic_bone_lesions",
    "anemia",
    "hypercalcemia",
    "renal_insufficiency",
    "diarrhea",
    "low_vitamin_b12",
    "cardiomyopathy",
)
DETERMINISTIC_AGGREGATES: tuple[str, ...] = tuple(a for a in AGGREGATES if a != "vegf_elevated")
"""Aggregates modelled as the OR of their parts (``vegf_elevated`` is a child of the cytokine)."""


@dataclass(frozen=True)
class NodeSpec:
    """One node: name, states in table order, parents in table order (first slowest), role."""

    name: str
    states: tuple[str, ...]
    parents: tuple[str, ...]
    role: str
    source_file: str


def _specs() -> tuple[NodeSpec, ...]:
    b = BINARY_STATES
    specs = [
        NodeSpec(DIAGNOSIS, DIAGNOSIS_STATES, (), "root", "settings.toml"),
        NodeSpec(PLASMA_CELL_CLONE, CLONE_STATES, (DIAGNOSIS,), "latent", "latent.toml"),
        NodeSpec(CYTOKINE, CYTOKINE_STATES, (DIAGNOSIS,), "latent", "latent.toml"),
        NodeSpec("monoclonal_protein", b, (PLASMA_CELL_CLONE,), "binary", "findings.toml"),
        NodeSpec(
            "light_chain", ("lambda", "kappa"), (PLASMA_CELL_CLONE,), "categorical", "findings.toml"
        ),
        NodeSpec(
            "heavy_chain",
            ("IgA", "IgG", "IgM", "none"),
            (DIAGNOSIS,),
            "categorical",
            "findings.toml",
        ),
        NodeSpec(MARROW_NODE, MARROW_STATES, (DIAGNOSIS,), "categorical", "findings.toml"),
        NodeSpec("vegf_serum", VEGF_BANDS, (CYTOKINE,), "categorical", "findings.toml"),
        NodeSpec("vegf_plasma", VEGF_BANDS, (CYTOKINE,), "categorical", "findings.toml"),
        NodeSpec("vegf_elevated", b, (CYTOKINE,), "binary", "findings.toml"),
    ]
    specs += [
        NodeSpec(f, b, (CYTOKINE, DIAGNOSIS), "noisy_or", "findings.toml")
        for f in NOISY_OR_FINDINGS
    ]
    specs += [NodeSpec(f, b, (DIAGNOSIS,), "direct", "findings.toml") for f in DIRECT_FINDINGS]
    specs += [NodeSpec(a, b, AGGREGATES[a], "aggregate", "") for a in DETERMINISTIC_AGGREGATES]
    return tuple(specs)


NODES: Mapping[str, NodeSpec] = MappingProxyType({s.name: s for s in _specs()})
"""Every node in topological order (parents before children)."""

PARAMETERISED_FINDING_NODES: tuple[str, ...] = tuple(
    s.name for s in NODES.values() if s.source_file == "findings.toml"
)
"""Nodes whose tables come from findings.toml."""

LATENT_NODES: tuple[str, ...] = (PLASMA_CELL_CLONE, CYTOKINE)


def _check_acyclic() -> None:
    seen: set[str] = set()
    for spec in NODES.values():
        missing = [p for p in spec.parents if p not in seen]
        if missing:
            raise RuntimeError(f"node {spec.name} listed before its parents {missing}")
        seen.add(spec.name)


_check_acyclic()
