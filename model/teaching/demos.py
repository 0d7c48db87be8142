"""Guided demonstrations for teaching, each a function that returns data (no UI).

- :func:`base_rates` — the same findings under every clinical setting: the posterior follows
  the base rate (base-rate neglect is the error of ignoring this).
- :func:`explaining_away` — Castleman disease or AL amyloidosis accounting for organomegaly
  and edema, so those findings stop pointing at POEMS (and at a raised cytokine state).
- :func:`criteria_versus_probability` — a case that meets the criteria with only a modest
  probability, and one that fails them with a high probability; the finding sets were found
  by :func:`search_disagreements` over clinically sensible candidates (documented below).
- :func:`serum_versus_plasma` — the same patient's VEGF measured in serum and in plasma, read
  against the right and the wrong reference limit.

Every number comes from the live network and criteria, so the demos follow the priors.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from model.case import Case
from model.constants import DEFAULT_SETTING
from model.constants import POEMS as POSITIVE
from model.criteria import DEFAULT_RULE_SET, RULE_SETS, evaluate
from model.exceptions import InputError, PoemsError
from model.inference.exact import default_priors, posterior, query
from model.network.evidence import evidence_for
from model.parameters import Priors
from model.vocabulary import suggest


def _case(findings: Mapping[str, Any], setting: str | None = None) -> Case:
    data: dict[str, Any] = {"findings": dict(findings)}
    if setting:
        data["setting"] = setting
    return Case.from_dict(data)


def _posterior(case: Case, setting: str, priors: Priors | None) -> dict[str, float]:
    return posterior(case, setting=setting, priors=priors)


def _priors(priors: Priors | None) -> Priors:
    return priors if priors is not None else default_priors()


# --------------------------------------------------------------------------- base rates
BASE_RATE_FINDINGS: Mapping[str, Any] = {
    "polyneuropathy": "present",
    "demyelinating_ncs": "present",
    "monoclonal_protein": "present",
    "light_chain": "lambda",
    "thrombocytosis": "present",
    "peripheral_edema": "present",
}
"""A demyelinating neuropathy with a small lambda clone, thrombocytosis and leg edema: the
picture that should make a neurologist order VEGF and a CT skeletal survey."""


@dataclass(frozen=True)
class SettingRow:
    setting: str
    label: str
    prior_poems: float
    p_poems: float
    top_diagnosis: str
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def base_rates(
    findings: Mapping[str, Any] | None = None, priors: Priors | None = None
) -> list[SettingRow]:
    """P(POEMS | the same findings) under every setting of the priors, lowest prior first.

    The criteria verdict is the same on every row: the criteria ignore the base rate.
    """
    priors = _priors(priors)
    case = _case(findings if findings is not None else BASE_RATE_FINDINGS)
    verdict = evaluate(case, DEFAULT_RULE_SET).verdict
    rows = []
    for sid, setting in priors.settings.items():
        post = _posterior(case, sid, priors)
        rows.append(
            SettingRow(
                sid,
                setting.label,
                float(setting.base_rates[POSITIVE]),
                float(post[POSITIVE]),
                max(post, key=lambda d: post[d]),
                verdict,
            )
        )
    return sorted(rows, key=lambda r: r.prior_poems)


# --------------------------------------------------------------------------- explaining away
@dataclass(frozen=True)
class ExplainRow:
    """One scenario of an explaining-away demonstration."""

    scenario: str
    findings: Mapping[str, Any]
    p_poems: float
    p_mimic: float
    p_cytokine_raised: float
    top_diagnosis: str
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        out = self.__dict__.copy()
        out["findings"] = dict(self.findings)
        return out


@dataclass(frozen=True)
class ExplainingAway:
    title: str
    mimic: str
    lesson: str
    rows: tuple[ExplainRow, ...]


EXPLAINING_AWAY: Mapping[str, Mapping[str, Any]] = {
    "al_amyloidosis": {
        "title": "AL amyloidosis explains the liver and the edema",
        "setting": "paraproteinemic_neuropathy",
        "base": {
            "polyneuropathy": "present",
            "monoclonal_protein": "present",
            "light_chain": "lambda",
        },
        "explained": {"hepatomegaly": "present", "peripheral_edema": "present"},
        "explainer": {"amyloid_on_biopsy": "present"},
        "lesson": (
            "Hepatomegaly and edema raise P(POEMS) through the cytokine node; once amyloid is "
            "found, AL amyloidosis accounts for them and P(POEMS) falls back, although the "
            "findings themselves did not change."
        ),
    },
    "castleman_disease": {
        "title": "Castleman disease explains the nodes, the spleen and the fluid",
        "setting": "hematology_clinic",
        "base": {},
        "explained": {
            "lymphadenopathy": "present",
            "splenomegaly": "present",
            "peripheral_edema": "present",
            "ascites": "present",
        },
        "explainer": {"castleman_disease": "present"},
        "lesson": (
            "In a haematology clinic, nodes, a large spleen and fluid raise P(POEMS) through the "
            "cytokine node; Castleman histology explains them directly (iMCD, TAFRO type), so "
            "P(POEMS) falls back and P(Castleman disease) takes the weight. Neither neuropathy "
            "nor clone has been assessed: the criteria stay indeterminate throughout."
        ),
    },
}


def explaining_away(mimic: str = "al_amyloidosis", priors: Priors | None = None) -> ExplainingAway:
    """Three scenarios: base findings; plus the explained findings; plus the explainer."""

    if mimic not in EXPLAINING_AWAY:
        raise InputError(
            "mimic", mimic, "one of " + ", ".join(EXPLAINING_AWAY), suggest(mimic, EXPLAINING_AWAY)
        )
    spec = EXPLAINING_AWAY[mimic]
    priors = _priors(priors)
    setting = str(spec["setting"])
    stages = [
        ("starting findings" if spec["base"] else "no findings yet", dict(spec["base"])),
        ("+ organomegaly / fluid", {**spec["base"], **spec["explained"]}),
        ("+ the mimic's own finding", {**spec["base"], **spec["explained"], **spec["explainer"]}),
    ]
    rows = []
    for name, findings in stages:
        case = _case(findings)
        post = _posterior(case, setting, priors)
        cyto = query(priors, setting, "cytokine_vegf", evidence_for(case))
        rows.append(
            ExplainRow(
                name,
                findings,
                float(post[POSITIVE]),
                float(post[mimic]),
                float(1.0 - cyto["normal"]),
                max(post, key=lambda d: post[d]),
                evaluate(case, DEFAULT_RULE_SET).verdict,
            )
        )
    return ExplainingAway(str(spec["title"]), mimic, str(spec["lesson"]), tuple(rows))


# --------------------------------------------------------------------------- disagreements
@dataclass(frozen=True)
class Disagreement:
    """A finding set where the seed criteria and the network disagree."""

    kind: str  # "met_but_modest" or "not_met_but_high"
    name: str
    n_additions: int
    findings: Mapping[str, Any]
    setting: str
    p_poems: float
    verdicts: Mapping[str, str]
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        out = self.__dict__.copy()
        out["findings"] = dict(self.findings)
        out["verdicts"] = dict(self.verdicts)
        return out


MODEST = 0.5
HIGH = 0.8

CANDIDATE_BASES: Mapping[str, Mapping[str, Any]] = {
    "CIDP with IgG kappa MGUS and a sclerotic bone island": {
        "polyneuropathy": "present",
        "demyelinating_ncs": "present",
        "monoclonal_protein": "present",
        "light_chain": "kappa",
        "heavy_chain": "IgG",
        "sclerotic_bone_lesion": "present",
    },
    "IgM anti-MAG neuropathy with a sclerotic lesion": {
        "polyneuropathy": "present",
        "monoclonal_protein": "present",
        "heavy_chain": "IgM",
        "anti_mag_antibodies": "present",
        "sclerotic_bone_lesion": "present",
    },
    "AL neuropathy with a lambda clone": {
        "polyneuropathy": "present",
        "monoclonal_protein": "present",
        "light_chain": "lambda",
        "amyloid_on_biopsy": "present",
        "sclerotic_bone_lesion": "present",
    },
    "POEMS picture with a negative immunofixation": {
        "polyneuropathy": "present",
        "demyelinating_ncs": "present",
        "monoclonal_protein": "absent",
        "sclerotic_bone_lesion": "present",
        "thrombocytosis": "present",
        "hypertrichosis": "present",
    },
    "POEMS picture with VEGF high but no clone found yet": {
        "polyneuropathy": "present",
        "demyelinating_ncs": "present",
        "monoclonal_protein": "absent",
        "vegf": {"value": 3000, "unit": "pg/mL", "specimen": "serum", "uln": 284},
        "hepatomegaly": "present",
        "peripheral_edema": "present",
    },
    "Lambda clone, VEGF high, minor features not yet examined": {
        "polyneuropathy": "present",
        "demyelinating_ncs": "present",
        "monoclonal_protein": "present",
        "light_chain": "lambda",
        "vegf": {"value": 3000, "unit": "pg/mL", "specimen": "serum", "uln": 284},
    },
}
"""Clinically sensible starting points (each is a recognisable patient). The search adds up
to two of :data:`CANDIDATE_ADDITIONS` to each and keeps the combinations where criteria and
probability disagree."""

CANDIDATE_ADDITIONS: Mapping[str, Mapping[str, Any]] = {
    "edema": {"peripheral_edema": "present"},
    "hypothyroidism": {"hypothyroidism": "present"},
    "diabetes": {"diabetes_mellitus": "present"},
    "hepatomegaly": {"hepatomegaly": "present"},
    "papilledema": {"papilledema": "present"},
    "thrombocytosis": {"thrombocytosis": "present"},
    "skin_thickening": {"skin_thickening": "present"},
    "lymphadenopathy": {"lymphadenopathy": "present"},
}


def search_disagreements(
    priors: Priors | None = None,
    setting: str = DEFAULT_SETTING,
    bases: Mapping[str, Mapping[str, Any]] = CANDIDATE_BASES,
    additions: Mapping[str, Mapping[str, Any]] = CANDIDATE_ADDITIONS,
    max_additions: int = 2,
) -> list[Disagreement]:
    """Every candidate combination where the seed verdict and P(POEMS) disagree.

    *met_but_modest*: seed criteria met, P(POEMS) < :data:`MODEST`. *not_met_but_high*: seed
    criteria not met, P(POEMS) >= :data:`HIGH`. Inconsistent combinations are skipped.
    Sorted simplest first (fewest additions), then by the size of the gap.

    With the repository priors (November 2026) and ``neuropathy_clinic`` the search finds,
    among others: *not met but high* — "POEMS picture with a negative immunofixation"
    (demyelinating neuropathy, sclerotic lesion, thrombocytosis, hypertrichosis, no
    M-protein on immunofixation) at P(POEMS) about 0.94 with every rule set not met; *met but
    modest* — "IgM anti-MAG neuropathy with a sclerotic lesion + edema" at about 0.13 with
    seed, Mayo and Dispenzieri 2003 met. Both are clinically recognisable: small POEMS clones
    are missed by immunofixation, and a sclerotic bone island plus edema in an anti-MAG
    patient satisfies the counting rules while the antibody explains the neuropathy.
    """

    priors = _priors(priors)
    found: list[Disagreement] = []
    for base_name, base in bases.items():
        combos: Iterable[tuple[str, ...]] = itertools.chain.from_iterable(
            itertools.combinations(additions, k) for k in range(max_additions + 1)
        )
        for combo in combos:
            findings = dict(base)
            for name in combo:
                findings.update(additions[name])
            try:
                case = _case(findings)
                p = float(_posterior(case, setting, priors)[POSITIVE])
            except PoemsError:
                continue
            seed = evaluate(case, DEFAULT_RULE_SET).verdict
            kind = None
            if seed == "met" and p < MODEST:
                kind = "met_but_modest"
            elif seed == "not_met" and p >= HIGH:
                kind = "not_met_but_high"
            if kind is None:
                continue
            name = base_name + ("" if not combo else " + " + " + ".join(combo))
            verdicts = {k: evaluate(case, k).verdict for k in RULE_SETS}
            found.append(
                Disagreement(
                    kind, name, len(combo), findings, setting, p, verdicts, _why(kind, findings)
                )
            )
    return sorted(found, key=_strength)


def _strength(d: Disagreement) -> tuple[int, float]:
    """Simplest first (fewest added findings), then the widest gap."""
    return (d.n_additions, d.p_poems if d.kind == "met_but_modest" else 1.0 - d.p_poems)


def _why(kind: str, findings: Mapping[str, Any]) -> str:
    if kind == "met_but_modest":
        clues = [
            c
            for c, present in (
                ("a kappa light chain", findings.get("light_chain") == "kappa"),
                ("an IgM heavy chain", findings.get("heavy_chain") == "IgM"),
                ("anti-MAG antibodies", findings.get("anti_mag_antibodies") == "present"),
                ("amyloid on biopsy", findings.get("amyloid_on_biopsy") == "present"),
            )
            if present
        ]
        return (
            "The criteria count features but do not weigh what points elsewhere: "
            + (", ".join(clues) if clues else "the features are weakly specific")
            + " makes a mimic more likely, so the probability stays modest although the "
            "rule is satisfied."
        )
    return (
        "No rule set can be met without a detected monoclonal plasma cell disorder; the "
        "network treats a negative immunofixation as imperfect evidence (small POEMS clones are "
        "missed) and lets the many specific features carry the probability."
    )


def criteria_versus_probability(
    priors: Priors | None = None, setting: str = DEFAULT_SETTING
) -> dict[str, Disagreement | None]:
    """The strongest example of each kind of disagreement (``None`` if the priors give none)."""
    found = search_disagreements(priors, setting)
    out: dict[str, Disagreement | None] = {"met_but_modest": None, "not_met_but_high": None}
    for d in found:
        if out[d.kind] is None:
            out[d.kind] = d
    return out


# --------------------------------------------------------------------------- serum vs plasma
SERUM_TO_PLASMA_RATIO = 3.3
"""Healthy adults: serum 249 vs plasma 76 pg/mL (Webb et al., Clin Sci 1998;94:395), because
platelets release VEGF while blood clots. Used here only to construct the same patient's two
measurements; the network never converts one specimen into the other."""


@dataclass(frozen=True)
class VegfReading:
    label: str
    vegf: Mapping[str, Any]
    multiple_of_uln: float
    p_poems: float
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        out = self.__dict__.copy()
        out["vegf"] = dict(self.vegf)
        return out


def serum_versus_plasma(
    plasma_pg_ml: float = 150.0,
    base: Mapping[str, Any] | None = None,
    setting: str = DEFAULT_SETTING,
    priors: Priors | None = None,
) -> list[VegfReading]:
    """One patient's VEGF as plasma, as serum (x 3.3), and as serum mislabelled as plasma.

    With the specimen-appropriate reference limit the two real readings land at a similar
    multiple of the ULN (150 pg/mL plasma and 495 pg/mL serum are both about 1.7 x ULN);
    entering the serum value as if it were plasma reads about 5.8 x ULN, overstates the
    evidence and, with one minor criterion present, turns the seed criteria from
    indeterminate to met.
    """
    priors = _priors(priors)
    findings = dict(
        base
        if base is not None
        else {
            "polyneuropathy": "present",
            "demyelinating_ncs": "present",
            "monoclonal_protein": "present",
            "light_chain": "lambda",
            "peripheral_edema": "present",
        }
    )
    serum_value = round(plasma_pg_ml * SERUM_TO_PLASMA_RATIO)
    readings = [
        ("plasma, read against the plasma ULN", {"value": plasma_pg_ml, "specimen": "plasma"}),
        ("serum, read against the serum ULN", {"value": serum_value, "specimen": "serum"}),
        ("serum value entered as plasma (mistake)", {"value": serum_value, "specimen": "plasma"}),
    ]
    rows = []
    for name, vegf in readings:
        entered = {**vegf, "unit": "pg/mL"}
        case = _case({**findings, "vegf": entered})
        assert case.vegf is not None
        post = _posterior(case, setting, priors)
        rows.append(
            VegfReading(
                name,
                entered,
                float(case.vegf.multiple_of_uln),
                float(post[POSITIVE]),
                evaluate(case, DEFAULT_RULE_SET).verdict,
            )
        )
    return rows
