"""Published POEMS diagnostic criteria as declarative data, each with its citation.

A rule set is a table, not code: which criteria are mandatory, which are major and minor and
how many of each are needed, which vocabulary findings satisfy each criterion, and every
threshold with its source. :mod:`model.criteria.engine` reads these tables; it holds no
thresholds of its own.

References
----------
.. [SEED] Patient-information page the project started from
   (an internal document; docs/sources.md says what it is). It restates the Mayo/IMWG criteria:
   sclerotic lesion >= 0.8 cm on plain film or CT, and serum or plasma VEGF "at least 3 to 4
   times the upper limit of normal".
.. [AJH23] Dispenzieri A. POEMS syndrome: update on diagnosis, risk-stratification, and
   management. Am J Hematol 2023. doi:10.1002/ajh.27081. The 2019, 2021 and 2023 updates
   word the rule the same way (two mandatory majors, >= 1 other major, >= 1 minor).
.. [AJH19] Dispenzieri A. POEMS syndrome: 2019 update on diagnosis, risk-stratification,
   and management. Am J Hematol 2019. doi:10.1002/ajh.25495.
.. [D12] Dispenzieri A. How I treat POEMS syndrome. Blood 2012;119(24):5650-5658.
   doi:10.1182/blood-2012-03-378992 (PMC3425020), Table 1 and its footnotes: diabetes or
   thyroid disease alone do not satisfy the endocrine criterion; plasma VEGF >= 200 pg/mL is
   95% specific and 68% sensitive; the Castleman variant without a clonal plasma cell
   disorder is considered separately.
.. [D03] Dispenzieri A, Kyle RA, Lacy MQ, et al. POEMS syndrome: definitions and long-term
   outcome. Blood 2003;101(7):2496-2506. https://ashpublications.org/blood/article/101/7/2496
   (DOI 10.1182/blood-2002-07-2299 not confirmed in a retrieved page).
.. [S19] Suichi T, Misawa S, Sato Y, et al. Proposal of new clinical diagnostic criteria for
   POEMS syndrome. J Neurol Neurosurg Psychiatry 2019;90(2):133-137.
   https://jnnp.bmj.com/content/90/2/133 (DOI 10.1136/jnnp-2018-318514 not confirmed).
.. [P18] Pihan M, Keddie S, D'Sa S, et al. Raised VEGF: high sensitivity and specificity in
   the diagnosis of POEMS syndrome. Neurol Neuroimmunol Neuroinflamm 2018;5(5):e486.
   doi:10.1212/NXI.0000000000000486. Serum VEGF above the lab's ULN as the positive test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from model.exceptions import InputError
from model.measurements import Threshold
from model.vocabulary import AGGREGATES, Criterion, suggest


class Role(StrEnum):
    """Where a criterion sits in a rule set."""

    MANDATORY = "mandatory"
    MAJOR = "major"
    MINOR = "minor"


class VegfScale(StrEnum):
    """What a VEGF cut-off is compared with."""

    MULTIPLE_OF_ULN = "multiple_of_uln"  # value / ULN
    PG_ML = "pg/mL"  # absolute concentration


@dataclass(frozen=True)
class Citation:
    """Where a rule set comes from.

    Attributes
    ----------
    text : authors, title, journal, year.
    doi : the DOI when known (``None`` otherwise).
    url : a stable address.
    verified : what was actually seen in a retrieved copy, and what was not.
    """

    text: str
    doi: str | None
    url: str
    verified: str


@dataclass(frozen=True)
class VegfCutoff:
    """How one specimen's VEGF is read by one rule set.

    Attributes
    ----------
    scale : compare the value in pg/mL, or as a multiple of the ULN.
    met_at : the cut-off on that scale.
    inclusive : ``True`` for ``>=``, ``False`` for ``>``.
    source : where the number comes from, and how sure it is.
    stricter_at : where the source's wording admits a stricter reading (the seed's "at least
        3 to 4 times"), the cut-off of that stricter reading on the same scale. A value from
        ``met_at`` up to it is met under the reading applied and flagged
        (``vegf_reading_applied``), so the output says which reading decided it.
    verified : ``False`` when the source is a commonly quoted value not seen in a retrieved copy.
    """

    scale: VegfScale
    met_at: float
    inclusive: bool
    source: str
    stricter_at: float | None = None
    verified: bool = True

    def describe(self) -> str:
        op = ">=" if self.inclusive else ">"
        unit = "x ULN" if self.scale is VegfScale.MULTIPLE_OF_ULN else "pg/mL"
        text = f"{op} {self.met_at:g} {unit}"
        if self.stricter_at is not None:
            text += f" (the stricter reading would need {op} {self.stricter_at:g} {unit})"
        return text + ("" if self.verified else " [UNVERIFIED]")


@dataclass(frozen=True)
class CriterionDef:
    """One criterion of one rule set.

    Attributes
    ----------
    id : stable id, the :class:`~model.vocabulary.Criterion` value it evaluates.
    label : wording shown to users.
    concept : the shared criterion concept the engine evaluates.
    findings : vocabulary ids that can satisfy it (parts and the aggregate).
    note : the rule set's own wording or footnote for this criterion.
    lesion_min_size_cm : sclerotic lesions only: smallest qualifying size, or ``None``.
    vegf : VEGF only: the cut-off per specimen (``serum``, ``plasma``).
    """

    concept: Criterion
    label: str
    findings: tuple[str, ...]
    note: str = ""
    lesion_min_size_cm: Threshold | None = None
    vegf: Mapping[str, VegfCutoff] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def id(self) -> str:
        return str(self.concept)


@dataclass(frozen=True)
class CriterionGroup:
    """Criteria of one role and how many of them must be met."""

    criteria: tuple[CriterionDef, ...]
    need: int


@dataclass(frozen=True)
class RuleSet:
    """A published set of diagnostic criteria.

    The verdict is met when every mandatory criterion is met, at least ``major.need`` of the
    major criteria and at least ``minor.need`` of the minor criteria are met.

    Attributes
    ----------
    id, title : identifier and human title.
    citation : the source.
    mandatory : criteria that must all be met.
    major, minor : groups with their "need at least k".
    not_scored : vocabulary findings the source lists as associated but does not score.
    notes : conventions this implementation had to choose, stated openly.
    """

    id: str
    title: str
    citation: Citation
    mandatory: tuple[CriterionDef, ...]
    major: CriterionGroup
    minor: CriterionGroup
    not_scored: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def criteria(self) -> tuple[tuple[Role, CriterionDef], ...]:
        """Every criterion with its role, in reading order."""
        return (
            tuple((Role.MANDATORY, c) for c in self.mandatory)
            + tuple((Role.MAJOR, c) for c in self.major.criteria)
            + tuple((Role.MINOR, c) for c in self.minor.criteria)
        )

    def findings(self) -> tuple[str, ...]:
        """Every vocabulary id some criterion of this rule set reads."""
        seen: dict[str, None] = {}
        for _, crit in self.criteria():
            for fid in crit.findings:
                seen.setdefault(fid, None)
        return tuple(seen)


C = Criterion


def _with_aggregate(aggregate: str) -> tuple[str, ...]:
    return (aggregate, *AGGREGATES[aggregate])


# ---------------------------------------------------------------- shared criterion wording
POLYNEUROPATHY = CriterionDef(
    C.POLYNEUROPATHY,
    "Polyneuropathy (polyradiculoneuropathy, typically demyelinating)",
    ("polyneuropathy",),
)
MONOCLONAL_PCD = CriterionDef(
    C.MONOCLONAL_PCD,
    "Monoclonal plasma cell proliferative disorder",
    ("monoclonal_protein", "light_chain", "heavy_chain", "clonal_plasma_cells_on_biopsy"),
    "A monoclonal protein, a typed light or heavy chain (which implies one), or light-chain-"
    "restricted plasma cells on marrow or lesion biopsy (the criteria ask for a monoclonal "
    "plasma cell disorder, not only a serum M-protein [D12-T1]). POEMS is almost always "
    "lambda.",
)
CASTLEMAN = CriterionDef(C.CASTLEMAN_DISEASE, "Castleman disease", ("castleman_disease",))
ORGANOMEGALY = CriterionDef(
    C.ORGANOMEGALY,
    "Organomegaly (splenomegaly, hepatomegaly or lymphadenopathy)",
    _with_aggregate("organomegaly"),
)
VOLUME_OVERLOAD = CriterionDef(
    C.VOLUME_OVERLOAD,
    "Extravascular volume overload (peripheral edema, pleural effusion or ascites)",
    ("extravascular_volume_overload", "peripheral_edema", "pleural_effusion", "ascites"),
    "The source lists edema, pleural effusion and ascites [SEED, D12]; pericardial effusion "
    "alone is not one of them and is not scored.",
)
ENDOCRINOPATHY = CriterionDef(
    C.ENDOCRINOPATHY,
    "Endocrinopathy (adrenal, pituitary, gonadal, parathyroid), not diabetes or "
    "hypothyroidism alone",
    _with_aggregate("endocrinopathy"),
    "Diabetes mellitus or hypothyroidism alone does not satisfy this criterion: both are "
    "common in the general population [D12].",
)
SKIN_CHANGES = CriterionDef(
    C.SKIN_CHANGES,
    "Skin changes (hyperpigmentation, hypertrichosis, glomeruloid hemangiomata, plethora, "
    "acrocyanosis, flushing, white nails)",
    (
        "skin_changes",
        "hyperpigmentation",
        "hypertrichosis",
        "glomeruloid_hemangioma",
        "plethora",
        "acrocyanosis",
        "flushing",
        "white_nails",
    ),
    "The seven skin changes of the Mayo table [D12]; skin thickening is not among them and "
    "is not scored.",
)
SKIN_CHANGES_ANY = CriterionDef(
    C.SKIN_CHANGES,
    "Skin changes",
    _with_aggregate("skin_changes"),
    "The source names the criterion without listing its parts: every skin change in the "
    "vocabulary counts.",
)
PAPILLEDEMA = CriterionDef(C.PAPILLEDEMA, "Papilledema", ("papilledema",))
THROMBOCYTOSIS_POLYCYTHEMIA = CriterionDef(
    C.THROMBOCYTOSIS_POLYCYTHEMIA,
    "Thrombocytosis or polycythemia",
    ("thrombocytosis", "polycythemia", "platelets", "hemoglobin", "hematocrit"),
    "From the counts when given: platelets > 450 x 10^9/L; hemoglobin > 16.5/16.0 g/dL or "
    "hematocrit > 49/48 % (men/women), WHO 2016 thresholds.",
)
SCLEROTIC_ANY_SIZE = CriterionDef(
    C.SCLEROTIC_BONE_LESION,
    "Sclerotic or mixed sclerotic/lytic bone lesions",
    ("sclerotic_bone_lesion", "sclerotic_lesion_size_cm"),
    "No size limit in this rule set.",
)

_VEGF_FINDINGS = ("vegf_elevated", "vegf")
_MAYO_OTHER_SIGNS = (
    "clubbing",
    "weight_loss",
    "hyperhidrosis",
    "pulmonary_hypertension",
    "thrombosis",
    "diarrhea",
    "low_vitamin_b12",
)
"""'Other symptoms and signs' of the Mayo table [D12]: associated, not scored."""
_MAYO_PLASMA = VegfCutoff(
    VegfScale.PG_ML,
    200.0,
    True,
    "[D12] Table 1 footnote: plasma VEGF >= 200 pg/mL, specificity 95%, sensitivity 68%",
)
_SERUM_ABOVE_ULN = VegfCutoff(
    VegfScale.MULTIPLE_OF_ULN,
    1.0,
    False,
    "Convention chosen here: serum VEGF above the lab's ULN counts as elevated, as in the UCL "
    "validation [P18]; the Mayo tables give no serum threshold",
)

# ---------------------------------------------------------------- the rule sets
SEED = RuleSet(
    id="seed",
    title="Mayo/IMWG criteria, wording of the seed page (default)",
    citation=Citation(
        "Dispenzieri A. POEMS syndrome: update on diagnosis, risk-stratification, and "
        "management. Am J Hematol 2023; as restated by the project's seed patient page",
        "10.1002/ajh.27081",
        "https://doi.org/10.1002/ajh.27081",
        "Rule structure seen in the 2019/2021/2023 abstracts. The 0.8 cm lesion size and the "
        "'3 to 4 x ULN' VEGF wording come from the seed page; a multiple of the ULN was not "
        "found in the retrieved Mayo tables.",
    ),
    mandatory=(POLYNEUROPATHY, MONOCLONAL_PCD),
    major=CriterionGroup(
        (
            CriterionDef(
                C.SCLEROTIC_BONE_LESION,
                "Sclerotic or mixed sclerotic/lytic lesion >= 0.8 cm on plain film or CT",
                ("sclerotic_bone_lesion", "sclerotic_lesion_size_cm"),
                "A lesion of unknown size counts as present (flag lesion_size_unknown).",
                lesion_min_size_cm=Threshold(0.8, "cm", "[SEED] longest dimension >= 0.8 cm"),
            ),
            CASTLEMAN,
            CriterionDef(
                C.VEGF_ELEVATION,
                "Serum or plasma VEGF at least 3 to 4 x ULN (read as >= 3 x ULN)",
                _VEGF_FINDINGS,
                "'At least 3 to 4 times the ULN' is read as >= 3 x ULN, the lower end of the "
                "stated range; a value from 3 to 4 x ULN is met under this reading and "
                "flagged, because the stricter reading (>= 4 x) would not count it.",
                vegf=MappingProxyType(
                    {
                        specimen: VegfCutoff(
                            VegfScale.MULTIPLE_OF_ULN,
                            3.0,
                            True,
                            "[SEED] 'at least 3 to 4 times the upper limit of normal', read "
                            "as >= 3 x ULN",
                            stricter_at=4.0,
                        )
                        for specimen in ("serum", "plasma")
                    }
                ),
            ),
        ),
        need=1,
    ),
    minor=CriterionGroup(
        (
            ORGANOMEGALY,
            VOLUME_OVERLOAD,
            ENDOCRINOPATHY,
            SKIN_CHANGES,
            PAPILLEDEMA,
            THROMBOCYTOSIS_POLYCYTHEMIA,
        ),
        need=1,
    ),
    not_scored=(*_MAYO_OTHER_SIGNS, "pericardial_effusion", "skin_thickening"),
    notes=(
        "VEGF: the ULN is the lab's when given, otherwise the documented default per specimen "
        "(flag default_vegf_uln).",
        "VEGF 'at least 3 to 4 times the ULN' is read as >= 3 x ULN; a value from 3 to 4 x is "
        "met and flagged (vegf_reading_applied).",
        "The page's bullet says only 'skin changes'; the seven of the Mayo table it restates "
        "are scored.",
        "The Castleman-disease variant (no clonal plasma cell disorder) is excluded by the "
        "rules and flagged, never scored.",
    ),
)

MAYO_2019 = RuleSet(
    id="mayo_2019",
    title="Mayo criteria, AJH 2019 update (VEGF as plasma >= 200 pg/mL or serum > ULN)",
    citation=Citation(
        "Dispenzieri A. POEMS syndrome: 2019 update on diagnosis, risk-stratification, and "
        "management. Am J Hematol 2019; criteria table as in Dispenzieri A, How I treat POEMS "
        "syndrome, Blood 2012;119:5650",
        "10.1002/ajh.25495",
        "https://doi.org/10.1002/ajh.25495",
        "Rule wording seen in the 2019 abstract; the table and its footnotes seen in the "
        "separately published Table 1 of Blood 2012 (PMC3425020).",
    ),
    mandatory=(POLYNEUROPATHY, MONOCLONAL_PCD),
    major=CriterionGroup(
        (
            SCLEROTIC_ANY_SIZE,
            CASTLEMAN,
            CriterionDef(
                C.VEGF_ELEVATION,
                "VEGF elevation (plasma >= 200 pg/mL, or serum above the lab's ULN)",
                _VEGF_FINDINGS,
                "The criteria table sets no VEGF number; plasma uses the 200 pg/mL footnote, "
                "serum the lab's ULN (the documented default ULN when none is given).",
                vegf=MappingProxyType({"plasma": _MAYO_PLASMA, "serum": _SERUM_ABOVE_ULN}),
            ),
        ),
        need=1,
    ),
    minor=SEED.minor,
    not_scored=SEED.not_scored,
    notes=(
        "VEGF convention: plasma >= 200 pg/mL [D12]; serum > the lab's ULN [P18].",
        "No lesion size limit.",
        "The Castleman-disease variant is excluded and flagged, never scored.",
    ),
)

DISPENZIERI_2003 = RuleSet(
    id="dispenzieri_2003",
    title="Dispenzieri 2003 criteria (Blood 2003;101:2496)",
    citation=Citation(
        "Dispenzieri A, Kyle RA, Lacy MQ, et al. POEMS syndrome: definitions and long-term "
        "outcome. Blood 2003;101(7):2496-2506",
        None,
        "https://ashpublications.org/blood/article/101/7/2496/106657",
        "Abstract seen; the criteria table seen as reproduced by ASH-SAP and in Suichi 2019 "
        "Table 2. DOI 10.1182/blood-2002-07-2299 not confirmed in a retrieved page.",
    ),
    mandatory=(POLYNEUROPATHY, MONOCLONAL_PCD),
    major=CriterionGroup((), need=0),
    minor=CriterionGroup(
        (
            CriterionDef(
                C.SCLEROTIC_BONE_LESION,
                "Sclerotic bone lesions",
                ("sclerotic_bone_lesion", "sclerotic_lesion_size_cm"),
                "A minor criterion in 2003; no size limit.",
            ),
            CASTLEMAN,
            ORGANOMEGALY,
            CriterionDef(
                C.VOLUME_OVERLOAD,
                "Edema (peripheral edema, pleural effusion or ascites)",
                (
                    "extravascular_volume_overload",
                    "peripheral_edema",
                    "pleural_effusion",
                    "ascites",
                ),
                "The 2003 table lists peripheral edema, pleural effusion and ascites; "
                "pericardial effusion alone is not scored.",
            ),
            CriterionDef(
                C.ENDOCRINOPATHY,
                "Endocrinopathy (adrenal, thyroid, pituitary, gonadal, parathyroid, pancreatic)",
                (*_with_aggregate("endocrinopathy"), "hypothyroidism", "diabetes_mellitus"),
                "As published in 2003: thyroid and pancreatic disease count, so hypothyroidism "
                "or diabetes mellitus satisfies it. The exclusion of diabetes and thyroid "
                "disease alone came with the later Mayo table [D12] and is not applied here.",
            ),
            CriterionDef(
                C.SKIN_CHANGES,
                "Skin changes (hyperpigmentation, hypertrichosis, plethora, hemangiomata, "
                "white nails)",
                (
                    "skin_changes",
                    "hyperpigmentation",
                    "hypertrichosis",
                    "plethora",
                    "glomeruloid_hemangioma",
                    "white_nails",
                ),
                "The five skin changes of the 2003 table; acrocyanosis, flushing and skin "
                "thickening are not among them and are not scored.",
            ),
            PAPILLEDEMA,
        ),
        need=1,
    ),
    not_scored=(
        "vegf",
        "vegf_elevated",
        "thrombocytosis",
        "polycythemia",
        "platelets",
        "hemoglobin",
        "hematocrit",
        *_MAYO_OTHER_SIGNS,
        "cardiomyopathy",
        "pericardial_effusion",
        "acrocyanosis",
        "flushing",
        "skin_thickening",
    ),
    notes=(
        "VEGF, thrombocytosis and polycythemia are known associations in 2003, not scored.",
        "Endocrinopathy as published in 2003, without the later diabetes/thyroid exclusion.",
        "The Castleman-disease variant is flagged, never scored.",
    ),
)

SUICHI_2019 = RuleSet(
    id="suichi_2019",
    title="Suichi 2019 proposed criteria (JNNP 2019;90:133)",
    citation=Citation(
        "Suichi T, Misawa S, Sato Y, Beppu M, Sakaida E, Sekiguchi Y, Shibuya K, Watanabe K, "
        "Amino H, Kuwabara S. Proposal of new clinical diagnostic criteria for POEMS "
        "syndrome. J Neurol Neurosurg Psychiatry 2019;90(2):133-137",
        None,
        "https://jnnp.bmj.com/content/90/2/133",
        "Abstract and Table 2 seen; the methods (VEGF cut-off) not read. DOI "
        "10.1136/jnnp-2018-318514 not confirmed.",
    ),
    mandatory=(
        POLYNEUROPATHY,
        MONOCLONAL_PCD,
        CriterionDef(
            C.VEGF_ELEVATION,
            "VEGF elevation (serum > 1000 pg/mL)",
            _VEGF_FINDINGS,
            "Suichi et al. measured serum VEGF; serum > 1000 pg/mL is the Chiba group's usual "
            "cut-off, quoted but UNVERIFIED in this paper. No plasma cut-off is in the paper, "
            "so a plasma value is not read (enter a serum value, or your judgement as "
            "'vegf_elevated').",
            vegf=MappingProxyType(
                {
                    "serum": VegfCutoff(
                        VegfScale.PG_ML,
                        1000.0,
                        False,
                        "Chiba group's usual serum cut-off, commonly quoted; not seen in the "
                        "methods of [S19] (UNVERIFIED)",
                        verified=False,
                    ),
                }
            ),
        ),
    ),
    major=CriterionGroup((), need=0),
    minor=CriterionGroup(
        (
            CriterionDef(
                C.VOLUME_OVERLOAD,
                "Extravascular volume overload (edema or effusion)",
                _with_aggregate("extravascular_volume_overload"),
                "The source says 'effusion' without naming a cavity: pericardial effusion "
                "counts here.",
            ),
            SKIN_CHANGES_ANY,
            ORGANOMEGALY,
            CriterionDef(
                C.SCLEROTIC_BONE_LESION,
                "Sclerotic bone lesions",
                ("sclerotic_bone_lesion", "sclerotic_lesion_size_cm"),
                "No size limit.",
            ),
        ),
        need=2,
    ),
    not_scored=(
        "castleman_disease",
        "endocrinopathy",
        *AGGREGATES["endocrinopathy"],
        "papilledema",
        "thrombocytosis",
        "polycythemia",
        "platelets",
        "hemoglobin",
        "hematocrit",
        *_MAYO_OTHER_SIGNS,
    ),
    notes=(
        "Castleman disease, endocrinopathy, papilledema and thrombocytosis/polycythemia are "
        "dropped from this rule set.",
        "VEGF convention: serum > 1000 pg/mL (UNVERIFIED Chiba cut-off); the paper gives no "
        "plasma cut-off, so plasma VEGF is not read (flag vegf_specimen_not_read).",
    ),
)

DEFAULT_RULE_SET = "seed"

RULE_SETS: Mapping[str, RuleSet] = MappingProxyType(
    {r.id: r for r in (SEED, MAYO_2019, DISPENZIERI_2003, SUICHI_2019)}
)
"""Every rule set by id; ``seed`` is the default."""


def resolve_rule_set(rule_set: str | RuleSet) -> RuleSet:
    """The rule set object for an id (or the object itself)."""
    if isinstance(rule_set, RuleSet):
        return rule_set
    try:
        return RULE_SETS[rule_set]
    except (KeyError, TypeError):
        raise InputError(
            "rule set",
            rule_set,
            "one of " + ", ".join(RULE_SETS),
            suggest(str(rule_set), RULE_SETS),
        ) from None
