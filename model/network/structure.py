"""The fixed structure of the network (v2): every node, its states and its parents.

This is the network contract (``docs/network-contract.md``) written as data. The priors files
fill in numbers for these nodes; they cannot add nodes or parents, so the graph is acyclic by
construction (checked once at import by :func:`_check_acyclic`).

Node roles
----------
``root``        the diagnosis; its table is the chosen setting's base rates (divided by the
                probability of the findings that define the setting, see
                :func:`model.network.tables.build_tables`).
``table``       any other node: one row (a parameter for a binary node, a categorical
                otherwise) per configuration of its parents, written in the priors as
                ``given.<parent 1 state>.<parent 2 state>...``; a ``default`` key at any level
                stands for every state of that parent not written out. A node without parents
                has one ``prior`` row.
``clone``       plasma_cell_clone | (diagnosis, incidental_mgus): the disease's own clone (a
                categorical per diagnosis) unless it has none, in which case an incidental
                MGUS clone shows through.
``noisy_or``    a binary finding caused by the POEMS activity and, optionally, directly by
                some diagnoses (a mimic): P(absent) = (1 - leak) x (1 - a_activity) x (1 - b_d).
``aggregate``   the deterministic OR of its parts (``vocabulary.AGGREGATES``).

The v2 changes (each justified in ``priors/`` and ``docs/model-card.md``): ``poems_activity``
(none / limited / florid) replaces v1's shared ``cytokine_vegf``, and only POEMS, its
Castleman variant and, weakly, other diseases named in ``latent.toml`` can switch it on;
raised VEGF has its own non-POEMS cause (``vegf_other_cause``) and serum VEGF also depends on
the platelet count; the M-protein's heavy chain is read only given that an M-protein was
detected; an age-dependent incidental MGUS feeds the clone; the lesion's imaging and size
inform the lesion observation; sex informs hypogonadism.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from model.vocabulary import AGGREGATES, BINARY_STATES, FINDINGS

DIAGNOSIS = "diagnosis"
PLASMA_CELL_CLONE = "plasma_cell_clone"
ACTIVITY = "poems_activity"
INCIDENTAL_MGUS = "incidental_mgus"
VEGF_OTHER_CAUSE = "vegf_other_cause"
AGE_BAND = "age_band"
SEX = "sex"
LESION_IMAGING = "lesion_imaging"
LESION_SIZE = "sclerotic_lesion_size"

DIAGNOSIS_STATES: tuple[str, ...] = (
    "poems",
    "castleman_variant_poems",
    "cidp",
    "mgus_neuropathy",
    "al_amyloidosis",
    "multiple_myeloma",
    "castleman_disease",
    "diabetic_neuropathy",
    "other_neuropathy",
    "mgus_without_neuropathy",
    "solitary_plasmacytoma",
    "mpn",
    "tempi",
    "scleromyxedema",
    "schnitzler_syndrome",
)
CLONE_STATES: tuple[str, ...] = ("none", "lambda", "kappa")
ACTIVITY_STATES: tuple[str, ...] = ("none", "limited", "florid")
ACTIVITY_CAUSE_STATES: tuple[str, ...] = ("limited", "florid")
"""Activity states that can cause a finding; ``none`` is the off state of the noisy-OR."""

AGE_BANDS: tuple[str, ...] = ("under_50", "from_50_to_69", "from_70")
AGE_BAND_LOWER_EDGES: tuple[float, ...] = (0.0, 50.0, 70.0)
"""Inclusive lower edge (years) of each age band (the MGUS prevalence bands of Ky06/La17)."""
SEX_STATES: tuple[str, ...] = ("male", "female")
LESION_SIZE_STATES: tuple[str, ...] = ("under_10_mm", "from_10_mm")
LESION_SIZE_EDGE_CM = 1.0
"""Sh11: 71 % of CT-detected POEMS lesions are under 10 mm."""

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
    "thrombocytosis",  # first: serum VEGF depends on it
    *AGGREGATES["organomegaly"],
    *AGGREGATES["extravascular_volume_overload"],
    *(p for p in AGGREGATES["endocrinopathy"] if p != "hypogonadism"),
    "hypothyroidism",
    "diabetes_mellitus",
    *AGGREGATES["skin_changes"],
    "papilledema",
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
    "neuropathic_pain",
    "distal_weakness_atrophy",
    "conduction_block",
    "high_terminal_latency_index",
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
    "thrombocytopenia",
    "fever",
    "raised_crp",
    "telangiectasia",
    "perinephric_fluid",
    "urticarial_rash",
    "waxy_papules",
    "jak2_mutation",
    "macroglossia",
    "proteinuria",
    "raised_nt_probnp",
)
"""Binary findings with one row per diagnosis (``given.<diagnosis>``, ``default`` allowed)."""
DETERMINISTIC_AGGREGATES: tuple[str, ...] = tuple(a for a in AGGREGATES if a != "vegf_elevated")
"""Aggregates modelled as the OR of their parts (``vegf_elevated`` is a child of the causes)."""


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
    lat, fin = "latent.toml", "findings.toml"
    specs = [
        NodeSpec(DIAGNOSIS, DIAGNOSIS_STATES, (), "root", "settings.toml"),
        NodeSpec(AGE_BAND, AGE_BANDS, (), "table", lat),
        NodeSpec(SEX, SEX_STATES, (DIAGNOSIS,), "table", lat),
        NodeSpec(LESION_IMAGING, FINDINGS[LESION_IMAGING].states, (), "table", lat),
        NodeSpec(INCIDENTAL_MGUS, CLONE_STATES, (AGE_BAND,), "table", lat),
        NodeSpec(PLASMA_CELL_CLONE, CLONE_STATES, (DIAGNOSIS, INCIDENTAL_MGUS), "clone", lat),
        NodeSpec(ACTIVITY, ACTIVITY_STATES, (DIAGNOSIS,), "table", lat),
        NodeSpec(VEGF_OTHER_CAUSE, b, (DIAGNOSIS,), "table", lat),
        NodeSpec("monoclonal_protein", b, (PLASMA_CELL_CLONE, DIAGNOSIS), "table", fin),
        NodeSpec("light_chain", ("lambda", "kappa"), (PLASMA_CELL_CLONE,), "table", fin),
        NodeSpec(
            "heavy_chain",
            ("IgA", "IgG", "IgM", "none"),
            ("monoclonal_protein", DIAGNOSIS),
            "table",
            fin,
        ),
        NodeSpec("mprotein_visible_on_spep", b, ("monoclonal_protein", DIAGNOSIS), "table", fin),
        NodeSpec("abnormal_flc_ratio", b, (PLASMA_CELL_CLONE, DIAGNOSIS), "table", fin),
        NodeSpec("clonal_plasma_cells_on_biopsy", b, (PLASMA_CELL_CLONE,), "table", fin),
        NodeSpec(MARROW_NODE, MARROW_STATES, (DIAGNOSIS,), "table", fin),
    ]
    specs += [NodeSpec(f, b, (ACTIVITY, DIAGNOSIS), "noisy_or", fin) for f in NOISY_OR_FINDINGS]
    specs += [
        NodeSpec(
            "vegf_serum", VEGF_BANDS, (ACTIVITY, VEGF_OTHER_CAUSE, "thrombocytosis"), "table", fin
        ),
        NodeSpec("vegf_plasma", VEGF_BANDS, (ACTIVITY, VEGF_OTHER_CAUSE), "table", fin),
        NodeSpec("vegf_elevated", b, (ACTIVITY, VEGF_OTHER_CAUSE), "table", fin),
        NodeSpec("hypogonadism", b, (ACTIVITY, SEX), "table", fin),
        NodeSpec("sclerotic_bone_lesion", b, (DIAGNOSIS, LESION_IMAGING), "table", fin),
        NodeSpec(
            LESION_SIZE, LESION_SIZE_STATES, ("sclerotic_bone_lesion", DIAGNOSIS), "table", fin
        ),
    ]
    specs += [NodeSpec(f, b, (DIAGNOSIS,), "table", fin) for f in DIRECT_FINDINGS]
    specs += [NodeSpec(a, b, AGGREGATES[a], "aggregate", "") for a in DETERMINISTIC_AGGREGATES]
    return tuple(specs)


NODES: Mapping[str, NodeSpec] = MappingProxyType({s.name: s for s in _specs()})
"""Every node in topological order (parents before children)."""

PARAMETERISED_FINDING_NODES: tuple[str, ...] = tuple(
    s.name for s in NODES.values() if s.source_file == "findings.toml"
)
"""Nodes whose tables come from findings.toml."""

LATENT_FILE_NODES: tuple[str, ...] = tuple(
    s.name for s in NODES.values() if s.source_file == "latent.toml"
)
"""Nodes whose tables come from latent.toml (latent variables and case context)."""

CONTEXT_NODES: tuple[str, ...] = (AGE_BAND, SEX, LESION_IMAGING)
"""Nodes read from the case's context (age, sex, the imaging used): observable."""

LATENT_NODES: tuple[str, ...] = tuple(n for n in LATENT_FILE_NODES if n not in CONTEXT_NODES)
"""Nodes never observed (summed out by inference)."""


def _check_acyclic() -> None:
    seen: set[str] = set()
    for spec in NODES.values():
        missing = [p for p in spec.parents if p not in seen]
        if missing:
            raise RuntimeError(f"node {spec.name} listed before its parents {missing}")
        seen.add(spec.name)


_check_acyclic()
