"""The one place that names every finding, its states, group, unit and criterion.

Finding ids are a public interface (case files, cohorts, priors, the CLI and the app all use
them), so they never change (``docs/formats.md``; ``poems vocabulary`` lists them).
Criteria, priors, the network and the UI import from here; nothing else defines a finding.

Every finding is *present*, *absent* or *not assessed*. Not assessed is never absent: it is
represented by the finding being missing from a case (or by the explicit string ``"unknown"``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from model.exceptions import CaseError

PRESENT = "present"
ABSENT = "absent"
UNKNOWN = "unknown"
BINARY_STATES: tuple[str, str] = (PRESENT, ABSENT)


class Kind(StrEnum):
    """How a finding is entered."""

    BINARY = "binary"  # present / absent
    CATEGORY = "category"  # one of a few named values (light chain, heavy chain)
    NUMBER = "number"  # a number with a unit (platelets, hemoglobin, ...)
    MEASUREMENT = "measurement"  # a structured lab result (VEGF: value, unit, specimen, ULN)
    AGGREGATE = "aggregate"  # a criterion-level judgement over named parts


class Group(StrEnum):
    """Groups in the order the criteria read them; the app lays out case entry by group."""

    NEUROLOGICAL = "neurological"
    PLASMA_CELL = "plasma cell"
    MAJOR = "major"
    ORGANOMEGALY = "organomegaly"
    VOLUME_OVERLOAD = "volume overload"
    ENDOCRINE = "endocrine"
    SKIN = "skin"
    EYE = "eye"
    BLOOD = "blood"
    OTHER_SIGNS = "other signs"
    MIMIC = "mimic discriminators"
    AGGREGATE = "criterion-level aggregates"


class Criterion(StrEnum):
    """Criterion-level concepts shared by the published rule sets (which combine them)."""

    POLYNEUROPATHY = "polyneuropathy"
    MONOCLONAL_PCD = "monoclonal_plasma_cell_disorder"
    SCLEROTIC_BONE_LESION = "sclerotic_bone_lesion"
    CASTLEMAN_DISEASE = "castleman_disease"
    VEGF_ELEVATION = "vegf_elevation"
    ORGANOMEGALY = "organomegaly"
    VOLUME_OVERLOAD = "extravascular_volume_overload"
    ENDOCRINOPATHY = "endocrinopathy"
    SKIN_CHANGES = "skin_changes"
    PAPILLEDEMA = "papilledema"
    THROMBOCYTOSIS_POLYCYTHEMIA = "thrombocytosis_polycythemia"


@dataclass(frozen=True)
class Finding:
    """One entry of the vocabulary.

    Attributes
    ----------
    id : the public identifier used in case files, priors and the network.
    label : short human label for screens and reports.
    group : where the finding sits in case entry.
    kind : how it is entered (see :class:`Kind`).
    states : allowed values for binary and category findings (empty for numbers).
    unit : unit of a number (``None`` otherwise).
    criterion : the criterion concept this finding can satisfy, if any.
    parts : for aggregates, the findings the aggregate summarises.
    plausible : for numbers, the accepted range (outside it the value is rejected).
    note : one line shown as help text.
    """

    id: str
    label: str
    group: Group
    kind: Kind = Kind.BINARY
    states: tuple[str, ...] = BINARY_STATES
    unit: str | None = None
    criterion: Criterion | None = None
    parts: tuple[str, ...] = ()
    plausible: tuple[float, float] | None = None
    note: str = ""


def _binary(
    id: str, label: str, group: Group, criterion: Criterion | None = None, note: str = ""
) -> Finding:
    return Finding(id, label, group, Kind.BINARY, BINARY_STATES, None, criterion, (), None, note)


def _number(
    id: str, label: str, group: Group, unit: str, plausible: tuple[float, float], note: str = ""
) -> Finding:
    return Finding(id, label, group, Kind.NUMBER, (), unit, None, (), plausible, note)


G = Group
C = Criterion

_FINDINGS: tuple[Finding, ...] = (
    # neurological
    _binary("polyneuropathy", "Polyneuropathy", G.NEUROLOGICAL, C.POLYNEUROPATHY),
    _binary(
        "demyelinating_ncs",
        "Demyelination on nerve conduction",
        G.NEUROLOGICAL,
        note="Nerve conduction studies show demyelinating features.",
    ),
    # plasma cell
    _binary(
        "monoclonal_protein",
        "Monoclonal protein (M-protein)",
        G.PLASMA_CELL,
        C.MONOCLONAL_PCD,
        note="Serum/urine immunofixation; electrophoresis alone misses small POEMS M-proteins.",
    ),
    Finding(
        "light_chain",
        "Light chain type",
        G.PLASMA_CELL,
        Kind.CATEGORY,
        ("lambda", "kappa"),
        criterion=C.MONOCLONAL_PCD,
        note="Light chain of the monoclonal protein (POEMS is almost always lambda).",
    ),
    Finding(
        "heavy_chain",
        "Heavy chain type",
        G.PLASMA_CELL,
        Kind.CATEGORY,
        ("IgA", "IgG", "IgM", "none"),
        note="Heavy chain of the monoclonal protein; 'none' for light-chain only.",
    ),
    _number(
        "bone_marrow_plasma_cells_pct",
        "Bone-marrow plasma cells",
        G.PLASMA_CELL,
        "%",
        (0.0, 100.0),
        "Percentage of plasma cells in the marrow aspirate or biopsy.",
    ),
    # major
    _binary(
        "sclerotic_bone_lesion",
        "Sclerotic or mixed sclerotic/lytic bone lesion",
        G.MAJOR,
        C.SCLEROTIC_BONE_LESION,
        "On plain film or CT.",
    ),
    _number(
        "sclerotic_lesion_size_cm",
        "Largest sclerotic lesion",
        G.MAJOR,
        "cm",
        (0.0, 20.0),
        "Longest dimension of the largest sclerotic lesion (POEMS lesions are mostly under "
        "1 cm on CT; above 20 cm is read as a unit slip).",
    ),
    _binary(
        "castleman_disease",
        "Castleman disease (histology)",
        G.MAJOR,
        C.CASTLEMAN_DISEASE,
        "Lymph-node histology of Castleman disease.",
    ),
    Finding(
        "vegf",
        "VEGF level",
        G.MAJOR,
        Kind.MEASUREMENT,
        (),
        "pg/mL",
        C.VEGF_ELEVATION,
        note="Serum or plasma VEGF with the lab's upper limit of normal (ULN).",
    ),
    # organomegaly
    _binary("hepatomegaly", "Hepatomegaly", G.ORGANOMEGALY, C.ORGANOMEGALY),
    _binary("splenomegaly", "Splenomegaly", G.ORGANOMEGALY, C.ORGANOMEGALY),
    _binary("lymphadenopathy", "Lymphadenopathy", G.ORGANOMEGALY, C.ORGANOMEGALY),
    # volume overload
    _binary("peripheral_edema", "Peripheral edema", G.VOLUME_OVERLOAD, C.VOLUME_OVERLOAD),
    _binary("pleural_effusion", "Pleural effusion", G.VOLUME_OVERLOAD, C.VOLUME_OVERLOAD),
    _binary("ascites", "Ascites", G.VOLUME_OVERLOAD, C.VOLUME_OVERLOAD),
    _binary("pericardial_effusion", "Pericardial effusion", G.VOLUME_OVERLOAD, C.VOLUME_OVERLOAD),
    # endocrine
    _binary(
        "hypogonadism",
        "Hypogonadism",
        G.ENDOCRINE,
        C.ENDOCRINOPATHY,
        "Includes gynecomastia, erectile dysfunction and amenorrhea.",
    ),
    _binary("adrenal_insufficiency", "Adrenal insufficiency", G.ENDOCRINE, C.ENDOCRINOPATHY),
    _binary("hyperprolactinemia", "Hyperprolactinemia", G.ENDOCRINE, C.ENDOCRINOPATHY),
    _binary("hypoparathyroidism", "Hypoparathyroidism", G.ENDOCRINE, C.ENDOCRINOPATHY),
    _binary(
        "hypothyroidism",
        "Hypothyroidism",
        G.ENDOCRINE,
        note="Common in everyone: alone it does not satisfy the endocrine criterion.",
    ),
    _binary(
        "diabetes_mellitus",
        "Diabetes mellitus",
        G.ENDOCRINE,
        note="Common in everyone: alone it does not satisfy the endocrine criterion.",
    ),
    # skin
    _binary("hyperpigmentation", "Hyperpigmentation", G.SKIN, C.SKIN_CHANGES),
    _binary("hypertrichosis", "Hypertrichosis", G.SKIN, C.SKIN_CHANGES),
    _binary("glomeruloid_hemangioma", "Glomeruloid hemangioma", G.SKIN, C.SKIN_CHANGES),
    _binary("plethora", "Plethora", G.SKIN, C.SKIN_CHANGES),
    _binary("acrocyanosis", "Acrocyanosis", G.SKIN, C.SKIN_CHANGES),
    _binary("flushing", "Flushing", G.SKIN, C.SKIN_CHANGES),
    _binary("white_nails", "White nails", G.SKIN, C.SKIN_CHANGES),
    _binary("skin_thickening", "Skin thickening", G.SKIN, C.SKIN_CHANGES),
    # eye
    _binary("papilledema", "Papilledema", G.EYE, C.PAPILLEDEMA),
    # blood
    _number(
        "platelets",
        "Platelet count",
        G.BLOOD,
        "10^9/L",
        (1.0, 3000.0),
        "Above 450 x 10^9/L counts as thrombocytosis.",
    ),
    _binary("thrombocytosis", "Thrombocytosis", G.BLOOD, C.THROMBOCYTOSIS_POLYCYTHEMIA),
    _number(
        "hemoglobin",
        "Hemoglobin",
        G.BLOOD,
        "g/dL",
        (2.0, 25.0),
        "Polycythemia above 16.5 g/dL (men) / 16.0 g/dL (women).",
    ),
    _number(
        "hematocrit",
        "Hematocrit",
        G.BLOOD,
        "%",
        (5.0, 80.0),
        "Polycythemia above 49 % (men) / 48 % (women).",
    ),
    _binary("polycythemia", "Polycythemia", G.BLOOD, C.THROMBOCYTOSIS_POLYCYTHEMIA),
    # other signs
    _binary("clubbing", "Clubbing", G.OTHER_SIGNS),
    _binary("weight_loss", "Weight loss", G.OTHER_SIGNS),
    _binary("hyperhidrosis", "Hyperhidrosis", G.OTHER_SIGNS),
    _binary("pulmonary_hypertension", "Pulmonary hypertension", G.OTHER_SIGNS),
    _binary("thrombosis", "Arterial or venous thrombosis", G.OTHER_SIGNS),
    _binary("diarrhea", "Diarrhea", G.OTHER_SIGNS),
    _binary("low_vitamin_b12", "Low vitamin B12", G.OTHER_SIGNS),
    _binary("cardiomyopathy", "Cardiomyopathy", G.OTHER_SIGNS),
    # mimic discriminators
    _binary("anti_mag_antibodies", "Anti-MAG antibodies", G.MIMIC),
    _binary("amyloid_on_biopsy", "Amyloid on biopsy", G.MIMIC),
    _binary("lytic_bone_lesions", "Purely lytic bone lesions", G.MIMIC),
    _binary("anemia", "Anemia", G.MIMIC, note="Hb below 13 g/dL (men) / 12 g/dL (women)."),
    _binary("hypercalcemia", "Hypercalcemia", G.MIMIC),
    _binary("renal_insufficiency", "Renal insufficiency", G.MIMIC),
    # criterion-level aggregates
    Finding(
        "organomegaly",
        "Organomegaly (any)",
        G.AGGREGATE,
        Kind.AGGREGATE,
        BINARY_STATES,
        criterion=C.ORGANOMEGALY,
        parts=("hepatomegaly", "splenomegaly", "lymphadenopathy"),
    ),
    Finding(
        "extravascular_volume_overload",
        "Extravascular volume overload (any)",
        G.AGGREGATE,
        Kind.AGGREGATE,
        BINARY_STATES,
        criterion=C.VOLUME_OVERLOAD,
        parts=("peripheral_edema", "pleural_effusion", "ascites", "pericardial_effusion"),
    ),
    Finding(
        "endocrinopathy",
        "Qualifying endocrinopathy",
        G.AGGREGATE,
        Kind.AGGREGATE,
        BINARY_STATES,
        criterion=C.ENDOCRINOPATHY,
        parts=("hypogonadism", "adrenal_insufficiency", "hyperprolactinemia", "hypoparathyroidism"),
        note="Not diabetes or hypothyroidism alone.",
    ),
    Finding(
        "skin_changes",
        "Skin changes (any)",
        G.AGGREGATE,
        Kind.AGGREGATE,
        BINARY_STATES,
        criterion=C.SKIN_CHANGES,
        parts=(
            "hyperpigmentation",
            "hypertrichosis",
            "glomeruloid_hemangioma",
            "plethora",
            "acrocyanosis",
            "flushing",
            "white_nails",
            "skin_thickening",
        ),
    ),
    Finding(
        "vegf_elevated",
        "VEGF elevated (per the rule set)",
        G.AGGREGATE,
        Kind.AGGREGATE,
        BINARY_STATES,
        criterion=C.VEGF_ELEVATION,
        parts=("vegf",),
        note="Your statement that VEGF meets the elevation criterion, when no value is at hand.",
    ),
)

FINDINGS: Mapping[str, Finding] = MappingProxyType({f.id: f for f in _FINDINGS})
"""Every finding by id, in vocabulary order."""

AGGREGATES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {f.id: f.parts for f in _FINDINGS if f.kind is Kind.AGGREGATE}
)
"""Aggregate id -> the findings it summarises."""

BINARY_FINDINGS: tuple[str, ...] = tuple(f.id for f in _FINDINGS if f.kind is Kind.BINARY)
NUMBER_FINDINGS: tuple[str, ...] = tuple(f.id for f in _FINDINGS if f.kind is Kind.NUMBER)

# Case-level fields beside `findings`.
SEXES: tuple[str, str] = ("male", "female")
AGE_RANGE: tuple[float, float] = (0.0, 120.0)
CASE_FIELDS: tuple[str, ...] = ("id", "age", "sex", "setting", "findings")

# VEGF measurement fields (docs/formats.md).
VEGF_SPECIMENS: tuple[str, str] = ("serum", "plasma")
VEGF_UNITS: Mapping[str, float] = MappingProxyType({"pg/mL": 1.0, "ng/L": 1.0, "ng/mL": 1000.0})
"""Accepted VEGF units and the factor that converts each to pg/mL."""
VEGF_FIELDS: tuple[str, ...] = ("value", "unit", "specimen", "uln")


def suggest(name: str, candidates: Iterable[str]) -> str:
    """Return a "did you mean" hint for a mistyped id, or an empty string."""
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    if name.lower() in lowered:
        return f"Did you mean {lowered[name.lower()]!r}?"
    close = difflib.get_close_matches(name, pool, n=2, cutoff=0.6)
    if not close:
        close = [c for c in pool if name and (name in c or c in name)][:2]
    if not close:
        return ""
    return "Did you mean " + " or ".join(repr(c) for c in close) + "?"


def finding(id: str) -> Finding:
    """Look up a finding, raising a clear error for an unknown id."""
    try:
        return FINDINGS[id]
    except KeyError:
        raise CaseError(
            "finding id",
            id,
            "an id listed by 'poems vocabulary'",
            suggest(id, FINDINGS),
        ) from None


def label(id: str) -> str:
    """Human label of a finding id (the id itself if unknown)."""
    f = FINDINGS.get(id)
    return f.label if f else id.replace("_", " ")
