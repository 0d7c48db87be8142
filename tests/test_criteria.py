"""Hand-worked cases for every rule set, including every threshold and every item where the
engine used to deviate from the published list (section "as published" below).

Each test states the arithmetic in its docstring. VEGF ratios use a lab ULN of 500 pg/mL
unless stated, so 1500 pg/mL is exactly 3 x ULN, 1750 is 3.5 x and 2000 is 4 x.
"""

from __future__ import annotations

from typing import Any

import pytest

from model.case import Case
from model.cli.criteria import format_trace
from model.criteria import (
    FLAG_TEXT,
    INDETERMINATE,
    MET,
    NOT_MET,
    RULE_SETS,
    CriteriaResult,
    RuleSet,
    criteria_json,
    evaluate,
    evaluate_all,
)
from model.exceptions import InputError

P, A = "present", "absent"


def case(**findings: Any) -> Case:
    sex = findings.pop("sex", None)
    data: dict[str, Any] = {"findings": findings}
    if sex:
        data["sex"] = sex
    return Case.from_dict(data)


def serum(value: float, uln: float | None = 500.0) -> dict[str, Any]:
    out: dict[str, Any] = {"value": value, "unit": "pg/mL", "specimen": "serum"}
    if uln is not None:
        out["uln"] = uln
    return out


def plasma(value: float, uln: float | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"value": value, "unit": "pg/mL", "specimen": "plasma"}
    if uln is not None:
        out["uln"] = uln
    return out


def status(result: CriteriaResult, criterion_id: str) -> str:
    return result.criterion(criterion_id).status


# The two mandatory criteria, met; used as a base throughout.
BASE: dict[str, Any] = {"polyneuropathy": P, "monoclonal_protein": P, "light_chain": "lambda"}


# ---------------------------------------------------------------- the rule-set data
def test_rule_set_ids_and_default() -> None:
    assert list(RULE_SETS) == ["seed", "mayo_2019", "dispenzieri_2003", "suichi_2019"]
    assert evaluate(case(**BASE)).rule_set == "seed"


@pytest.mark.parametrize("rule_set", list(RULE_SETS.values()), ids=list(RULE_SETS))
def test_every_rule_set_carries_a_citation_and_valid_finding_ids(rule_set: RuleSet) -> None:
    from model.vocabulary import FINDINGS

    assert rule_set.citation.url.startswith("https://")
    assert rule_set.citation.verified
    assert all(fid in FINDINGS for fid in rule_set.findings())
    assert all(fid in FINDINGS for fid in rule_set.not_scored)
    assert not set(rule_set.findings()) & set(rule_set.not_scored)
    for _, crit in rule_set.criteria():
        for cutoff in crit.vegf.values():
            assert cutoff.source
        if crit.lesion_min_size_cm is not None:
            assert crit.lesion_min_size_cm.source


def test_rule_set_structure_matches_the_papers() -> None:
    """docs/criteria.md: counts of mandatory, major (need) and minor (need)."""
    shape = {
        rid: (len(r.mandatory), len(r.major.criteria), r.major.need, len(r.minor.criteria))
        for rid, r in RULE_SETS.items()
    }
    assert shape == {
        "seed": (2, 3, 1, 6),
        "mayo_2019": (2, 3, 1, 6),
        "dispenzieri_2003": (2, 0, 0, 7),
        "suichi_2019": (3, 0, 0, 4),
    }
    assert RULE_SETS["suichi_2019"].minor.need == 2
    assert RULE_SETS["dispenzieri_2003"].minor.need == 1


def test_suichi_serum_cutoff_is_marked_unverified() -> None:
    vegf = RULE_SETS["suichi_2019"].mandatory[2].vegf
    assert vegf["serum"].met_at == 1000.0 and not vegf["serum"].verified
    assert "UNVERIFIED" in vegf["serum"].source
    assert "plasma" not in vegf  # Suichi et al. measured serum; no plasma route in the paper


def test_unknown_rule_set_is_an_input_error_with_suggestion() -> None:
    with pytest.raises(InputError, match=r"rule set must be one of seed.*Did you mean 'mayo_2019'"):
        evaluate(case(**BASE), "mayo")


# ---------------------------------------------------------------- a full classic case
def test_classic_case_met_by_every_rule_set() -> None:
    """PN + lambda M-protein + 1.5 cm sclerotic lesion + serum VEGF 2400 (4.8 x ULN 500)
    + splenomegaly + peripheral edema + hyperpigmentation.
    seed/mayo: 2 mandatory, majors lesion and VEGF, minors 3 -> met.
    2003: minors lesion, organomegaly, edema, skin -> met.
    suichi: VEGF 2400 > 1000; minors edema, skin, organomegaly, lesion (4 >= 2) -> met."""
    c = case(
        **BASE,
        sclerotic_bone_lesion=P,
        sclerotic_lesion_size_cm=1.5,
        vegf=serum(2400),
        splenomegaly=P,
        peripheral_edema=P,
        hyperpigmentation=P,
    )
    results = evaluate_all(c)
    assert {k: r.verdict for k, r in results.items()} == dict.fromkeys(RULE_SETS, MET)
    seed = results["seed"]
    assert seed.criterion("monoclonal_plasma_cell_disorder").satisfied_by == (
        "monoclonal_protein",
        "light_chain",
    )
    assert seed.criterion("sclerotic_bone_lesion").satisfied_by == (
        "sclerotic_bone_lesion",
        "sclerotic_lesion_size_cm",
    )
    assert seed.criterion("vegf_elevation").satisfied_by == ("vegf",)
    assert seed.criterion("organomegaly").satisfied_by == ("splenomegaly",)
    assert seed.could_change_with == ()
    assert seed.flags == ()
    assert [c.role for c in seed.criteria].count("mandatory") == 2


def test_mandatory_absent_means_not_met_everywhere() -> None:
    c = case(
        polyneuropathy=A,
        monoclonal_protein=P,
        sclerotic_bone_lesion=P,
        vegf=serum(2400),
        splenomegaly=P,
        skin_changes=P,
        peripheral_edema=P,
    )
    assert {r.verdict for r in evaluate_all(c).values()} == {NOT_MET}


def test_empty_case_is_indeterminate_everywhere_and_nothing_alone_decides() -> None:
    """Nothing assessed: every verdict depends on several findings at once."""
    results = evaluate_all(case())
    for result in results.values():
        assert result.verdict == INDETERMINATE
    # one finding can decide "not met": a mandatory criterion absent
    seed = results["seed"]
    decisive = {c["finding"]: c for c in seed.could_change_with}
    assert decisive["polyneuropathy"] == {
        "finding": "polyneuropathy",
        "if_present": INDETERMINATE,
        "if_absent": NOT_MET,
    }
    assert decisive["monoclonal_protein"]["if_absent"] == NOT_MET
    assert "splenomegaly" not in decisive  # present or absent, still indeterminate


# ---------------------------------------------------------------- VEGF reading (seed)
@pytest.mark.parametrize(
    ("value", "criterion_status", "verdict", "reading_flag"),
    [
        (1400, NOT_MET, NOT_MET, False),  # 2.8 x ULN < 3
        (1500, MET, MET, True),  # exactly 3 x: met under the >= 3 x reading, flagged
        (1750, MET, MET, True),  # 3.5 x
        (1999, MET, MET, True),  # 3.998 x
        (2000, MET, MET, False),  # exactly 4 x: met under either reading
        (2400, MET, MET, False),  # 4.8 x
    ],
)
def test_seed_vegf_reading(
    value: float, criterion_status: str, verdict: str, reading_flag: bool
) -> None:
    """Seed 'at least 3 to 4 times the ULN' is read as >= 3 x ULN; 3-4 x is met and flagged
    (the stricter >= 4 x reading would not count it). A measured value always resolves it.
    Lesion and Castleman absent so VEGF alone decides the major criteria; one minor met."""
    c = case(**BASE, sclerotic_bone_lesion=A, castleman_disease=A, vegf=serum(value), papilledema=P)
    result = evaluate(c, "seed")
    assert status(result, "vegf_elevation") == criterion_status
    assert result.verdict == verdict
    assert ("vegf_reading_applied" in result.flags) is reading_flag
    if reading_flag:
        assert FLAG_TEXT["vegf_reading_applied"] in result.explanation
        assert "stricter" in result.criterion("vegf_elevation").note
    assert result.could_change_with == ()


def test_seed_vegf_label_names_the_reading() -> None:
    crit = RULE_SETS["seed"].major.criteria[2]
    assert "read as >= 3 x ULN" in crit.label
    assert crit.vegf["serum"].met_at == 3.0 and crit.vegf["serum"].stricter_at == 4.0


def test_seed_vegf_ratio_is_exact_at_awkward_ulns() -> None:
    """258 / 86 and 344 / 86 are 3 and 4 in exact arithmetic; floating point must agree."""
    below = evaluate(case(vegf=plasma(257, uln=86)), "seed")
    at_three = evaluate(case(vegf=plasma(258, uln=86)), "seed")
    at_four = evaluate(case(vegf=plasma(344, uln=86)), "seed")
    assert status(below, "vegf_elevation") == NOT_MET
    assert status(at_three, "vegf_elevation") == MET
    assert "vegf_reading_applied" in at_three.flags
    assert status(at_four, "vegf_elevation") == MET
    assert "vegf_reading_applied" not in at_four.flags


def test_seed_default_uln_is_flagged() -> None:
    """Plasma 400 pg/mL, no ULN: default 86 -> 4.65 x ULN -> met, flag default_vegf_uln."""
    result = evaluate(case(vegf=plasma(400)), "seed")
    assert status(result, "vegf_elevation") == MET
    assert "default_vegf_uln" in result.flags
    assert "default ULN 86" in result.criterion("vegf_elevation").note
    assert FLAG_TEXT["default_vegf_uln"] in result.explanation


# ---------------------------------------------------------------- VEGF under mayo_2019
@pytest.mark.parametrize(
    ("vegf", "expected"),
    [
        (plasma(199), NOT_MET),  # plasma < 200 pg/mL
        (plasma(200), MET),  # plasma >= 200 (inclusive)
        (plasma(180, uln=40), NOT_MET),  # 4.5 x ULN but < 200: Mayo reads pg/mL for plasma
        (serum(500, uln=500), NOT_MET),  # serum not above ULN
        (serum(510, uln=500), MET),  # serum above ULN
        (serum(150, uln=100), MET),  # 150 pg/mL serum above a 100 ULN, far below 200
    ],
)
def test_mayo_2019_vegf_convention(vegf: dict[str, Any], expected: str) -> None:
    """Plasma >= 200 pg/mL [D12]; serum > the lab ULN [P18]."""
    assert status(evaluate(case(vegf=vegf), "mayo_2019"), "vegf_elevation") == expected


def test_mayo_serum_default_uln_is_flagged_but_plasma_is_not() -> None:
    serum_default = evaluate(case(vegf=serum(300, uln=None)), "mayo_2019")
    # v2: no guessed ULN near the healthy mean (249 pg/mL, We98) turns 300 into a criterion;
    # without the lab's ULN the assay-level 1000 pg/mL is used, and flagged
    assert status(serum_default, "vegf_elevation") == NOT_MET
    assert "default_vegf_uln" in serum_default.flags
    high_default = evaluate(case(vegf=serum(1200, uln=None)), "mayo_2019")
    assert status(high_default, "vegf_elevation") == MET
    assert "default_vegf_uln" in high_default.flags
    plasma_no_uln = evaluate(case(vegf=plasma(300)), "mayo_2019")
    assert "default_vegf_uln" not in plasma_no_uln.flags  # absolute cut-off, ULN unused


def test_serum_and_plasma_same_number_differ() -> None:
    """190 pg/mL: serum above a 150 ULN is met, plasma below 200 is not."""
    assert status(evaluate(case(vegf=serum(190, uln=150)), "mayo_2019"), "vegf_elevation") == MET
    assert status(evaluate(case(vegf=plasma(190)), "mayo_2019"), "vegf_elevation") == NOT_MET


# ---------------------------------------------------------------- vegf_elevated statement
@pytest.mark.parametrize("rule_set", ["seed", "mayo_2019", "suichi_2019"])
def test_vegf_elevated_statement_is_met_or_not_met_in_every_rule_set(rule_set: str) -> None:
    assert status(evaluate(case(vegf_elevated=P), rule_set), "vegf_elevation") == MET
    assert status(evaluate(case(vegf_elevated=A), rule_set), "vegf_elevation") == NOT_MET
    assert status(evaluate(case(), rule_set), "vegf_elevation") == INDETERMINATE


def test_vegf_statement_wins_over_a_measured_value() -> None:
    c = case(vegf=serum(1400), vegf_elevated=P)
    result = evaluate(c, "seed")
    assert status(result, "vegf_elevation") == MET
    assert "vegf_statement_used" in result.flags
    assert result.criterion("vegf_elevation").satisfied_by == ("vegf_elevated",)


def test_dispenzieri_2003_does_not_score_vegf() -> None:
    c = case(**BASE, vegf=serum(5000))
    result = evaluate(c, "dispenzieri_2003")
    assert all(r.id != "vegf_elevation" for r in result.criteria)
    assert result.verdict == INDETERMINATE
    assert any("not scored" in line and "vegf" in line for line in result.explanation)


# ---------------------------------------------------------------- sclerotic lesion size
@pytest.mark.parametrize(
    ("size", "seed_status", "flag"),
    [(0.5, NOT_MET, False), (0.79, NOT_MET, False), (0.8, MET, False), (None, MET, True)],
)
def test_seed_lesion_size_limit(size: float | None, seed_status: str, flag: bool) -> None:
    """Seed needs >= 0.8 cm; unknown size counts as present and says so. mayo_2019, 2003 and
    suichi set no size limit, so every lesion counts there."""
    findings: dict[str, Any] = {"sclerotic_bone_lesion": P}
    if size is not None:
        findings["sclerotic_lesion_size_cm"] = size
    c = case(**findings)
    seed = evaluate(c, "seed")
    assert status(seed, "sclerotic_bone_lesion") == seed_status
    assert ("lesion_size_unknown" in seed.flags) is flag
    for other in ("mayo_2019", "dispenzieri_2003", "suichi_2019"):
        result = evaluate(c, other)
        assert status(result, "sclerotic_bone_lesion") == MET
        assert "lesion_size_unknown" not in result.flags
    if size is not None and size < 0.8:
        assert "< 0.8 cm" in seed.criterion("sclerotic_bone_lesion").note


def test_small_lesion_only_major_means_seed_not_met_but_mayo_met() -> None:
    """0.5 cm lesion, Castleman absent, VEGF stated absent: seed has no major -> not met;
    mayo_2019 has no size limit -> met (with a minor)."""
    c = case(
        **BASE,
        sclerotic_bone_lesion=P,
        sclerotic_lesion_size_cm=0.5,
        castleman_disease=A,
        vegf_elevated=A,
        hepatomegaly=P,
    )
    assert evaluate(c, "seed").verdict == NOT_MET
    assert evaluate(c, "mayo_2019").verdict == MET


# ---------------------------------------------------------------- endocrinopathy
@pytest.mark.parametrize("alone", ["diabetes_mellitus", "hypothyroidism"])
def test_diabetes_or_hypothyroidism_alone_is_not_an_endocrinopathy(alone: str) -> None:
    """Only minor finding: diabetes (or hypothyroidism). It does not count, and the other
    endocrine parts are unknown, so the criterion is indeterminate and says why."""
    c = case(**BASE, sclerotic_bone_lesion=P, sclerotic_lesion_size_cm=1.0, **{alone: P})
    result = evaluate(c, "seed")
    endo = result.criterion("endocrinopathy")
    assert endo.status == INDETERMINATE
    assert endo.satisfied_by == ()
    assert "does not count" in endo.note and alone in endo.note
    assert any(line.startswith("Endocrinopathy:") for line in result.explanation)
    assert result.verdict == INDETERMINATE


def test_diabetes_with_every_qualifying_part_absent_is_not_met() -> None:
    c = case(
        diabetes_mellitus=P,
        hypothyroidism=P,
        hypogonadism=A,
        adrenal_insufficiency=A,
        hyperprolactinemia=A,
        hypoparathyroidism=A,
    )
    assert status(evaluate(c, "seed"), "endocrinopathy") == NOT_MET
    # 2003 as published lists thyroid and pancreatic disease: both count there
    assert evaluate(c, "dispenzieri_2003").criterion("endocrinopathy").satisfied_by == (
        "hypothyroidism",
        "diabetes_mellitus",
    )


def test_qualifying_part_beside_diabetes_is_met() -> None:
    result = evaluate(case(diabetes_mellitus=P, hypogonadism=P), "seed")
    assert result.criterion("endocrinopathy").satisfied_by == ("hypogonadism",)
    assert status(result, "endocrinopathy") == MET


# ---------------------------------------------------------------- aggregates vs parts
@pytest.mark.parametrize(
    ("aggregate", "part", "criterion_id"),
    [
        ("organomegaly", "lymphadenopathy", "organomegaly"),
        ("extravascular_volume_overload", "pleural_effusion", "extravascular_volume_overload"),
        ("endocrinopathy", "adrenal_insufficiency", "endocrinopathy"),
        ("skin_changes", "white_nails", "skin_changes"),
    ],
)
def test_aggregate_and_part_give_the_same_status(
    aggregate: str, part: str, criterion_id: str
) -> None:
    by_aggregate = evaluate(case(**{aggregate: P}), "seed").criterion(criterion_id)
    by_part = evaluate(case(**{part: P}), "seed").criterion(criterion_id)
    assert by_aggregate.status == by_part.status == MET
    assert by_aggregate.satisfied_by == (aggregate,)
    assert by_part.satisfied_by == (part,)
    assert evaluate(case(**{aggregate: A}), "seed").criterion(criterion_id).status == NOT_MET


def test_one_part_absent_is_not_the_aggregate_absent() -> None:
    """Hepatomegaly absent, spleen and nodes not assessed: organomegaly is indeterminate."""
    result = evaluate(case(hepatomegaly=A), "seed")
    organ = result.criterion("organomegaly")
    assert organ.status == INDETERMINATE
    assert "splenomegaly" in organ.note and "lymphadenopathy" in organ.note
    every = case(hepatomegaly=A, splenomegaly=A, lymphadenopathy=A)
    assert status(evaluate(every, "seed"), "organomegaly") == NOT_MET


def test_thrombocytosis_from_platelets_and_polycythemia_from_hemoglobin() -> None:
    """Platelets 520 > 450 -> met by 'platelets'; female Hb 16.2 > 16.0 -> met by 'hemoglobin';
    platelets 300 and male Hb 15 -> not met."""
    assert evaluate(case(platelets=520), "seed").criterion(
        "thrombocytosis_polycythemia"
    ).satisfied_by == ("platelets",)
    female = evaluate(case(hemoglobin=16.2, sex="female"), "seed")
    assert female.criterion("thrombocytosis_polycythemia").satisfied_by == ("hemoglobin",)
    normal = evaluate(case(platelets=300, hemoglobin=15.0, sex="male"), "seed")
    assert status(normal, "thrombocytosis_polycythemia") == NOT_MET
    no_sex = evaluate(case(platelets=300, hemoglobin=16.2), "seed")  # between 16.0 and 16.5
    assert status(no_sex, "thrombocytosis_polycythemia") == INDETERMINATE


def test_monoclonal_pcd_from_typed_chains() -> None:
    assert evaluate(case(light_chain="kappa"), "seed").criterion(
        "monoclonal_plasma_cell_disorder"
    ).satisfied_by == ("light_chain",)
    heavy = evaluate(case(heavy_chain="IgA"), "seed")
    assert status(heavy, "monoclonal_plasma_cell_disorder") == MET
    light_only = evaluate(case(heavy_chain="none"), "seed")
    assert status(light_only, "monoclonal_plasma_cell_disorder") == INDETERMINATE
    assert (
        status(evaluate(case(monoclonal_protein=A), "seed"), "monoclonal_plasma_cell_disorder")
        == NOT_MET
    )


# ---------------------------------------------------------------- Castleman variant
def test_castleman_variant_is_flagged_and_never_scored() -> None:
    """Castleman + organomegaly + edema + skin changes, M-protein absent: every rule set
    fails the PCD criterion (not met), and flags the variant for separate consideration."""
    c = case(
        castleman_disease=P,
        monoclonal_protein=A,
        lymphadenopathy=P,
        peripheral_edema=P,
        hyperpigmentation=P,
        vegf=serum(3000),
    )
    for result in evaluate_all(c).values():
        assert result.verdict == NOT_MET
        assert "castleman_variant" in result.flags
        assert any("considered separately" in line for line in result.explanation)


def test_castleman_with_m_protein_is_scored_not_flagged() -> None:
    c = case(**BASE, castleman_disease=P, lymphadenopathy=P)
    seed = evaluate(c, "seed")
    assert seed.verdict == MET
    assert "castleman_variant" not in seed.flags
    assert evaluate(c, "suichi_2019").verdict == INDETERMINATE  # Castleman dropped; VEGF open


def test_castleman_alone_without_features_is_not_flagged() -> None:
    assert (
        "castleman_variant" not in evaluate(case(castleman_disease=P, monoclonal_protein=A)).flags
    )


def test_castleman_with_unknown_m_protein_warns_in_explanation() -> None:
    result = evaluate(case(castleman_disease=P, lymphadenopathy=P))
    assert "castleman_variant" not in result.flags
    assert any("Castleman-disease variant" in line for line in result.explanation)


# ---------------------------------------------------------------- dispenzieri_2003, suichi
def test_dispenzieri_2003_counts_sclerotic_and_castleman_as_minors_only() -> None:
    c = case(**BASE, sclerotic_bone_lesion=P)
    assert evaluate(c, "dispenzieri_2003").verdict == MET  # lesion is one of 7 minors
    seed = evaluate(c, "seed")
    assert seed.verdict == INDETERMINATE  # seed still needs a minor
    assert evaluate(case(**BASE, castleman_disease=P), "dispenzieri_2003").verdict == MET


def test_dispenzieri_2003_ignores_thrombocytosis() -> None:
    c = case(**BASE, platelets=700, sclerotic_bone_lesion=P, sclerotic_lesion_size_cm=2.0)
    assert evaluate(c, "seed").verdict == MET  # thrombocytosis is a seed minor
    d03 = evaluate(c, "dispenzieri_2003")
    assert d03.verdict == MET  # via the lesion
    assert all(r.id != "thrombocytosis_polycythemia" for r in d03.criteria)


@pytest.mark.parametrize(
    ("minors", "verdict"),
    [
        ({"peripheral_edema": P}, INDETERMINATE),  # 1 met, 3 unknown
        ({"peripheral_edema": P, "hypertrichosis": P}, MET),  # 2 met
        (
            {
                "peripheral_edema": P,
                "skin_changes": A,
                "organomegaly": A,
                "sclerotic_bone_lesion": A,
            },
            NOT_MET,
        ),  # 1 met, 3 not met
        ({"peripheral_edema": P, "skin_changes": A, "organomegaly": A}, INDETERMINATE),
    ],
)
def test_suichi_needs_two_minors(minors: dict[str, str], verdict: str) -> None:
    """Suichi: PN + PCD + VEGF (serum 1500 > 1000) all met; then >= 2 of 4 minors."""
    c = case(**BASE, vegf=serum(1500), **minors)
    result = evaluate(c, "suichi_2019")
    assert result.verdict == verdict
    assert "vegf_cutoff_unverified" in result.flags


def test_suichi_vegf_is_mandatory_and_absolute() -> None:
    """Serum 900 pg/mL with ULN 200 is 4.5 x ULN (seed met) but not > 1000 (suichi not met)."""
    c = case(**BASE, vegf=serum(900, uln=200), peripheral_edema=P, hypertrichosis=P)
    assert status(evaluate(c, "seed"), "vegf_elevation") == MET
    suichi = evaluate(c, "suichi_2019")
    assert suichi.criterion("vegf_elevation").role == "mandatory"
    assert suichi.verdict == NOT_MET
    assert evaluate(c.with_finding("vegf", serum(1200, uln=200)), "suichi_2019").verdict == MET


def test_suichi_drops_castleman_endocrinopathy_papilledema_thrombocytosis() -> None:
    c = case(
        **BASE,
        vegf_elevated=P,
        castleman_disease=P,
        hypogonadism=P,
        papilledema=P,
        thrombocytosis=P,
        skin_changes=A,
        organomegaly=A,
        extravascular_volume_overload=A,
        sclerotic_bone_lesion=A,
    )
    assert evaluate(c, "suichi_2019").verdict == NOT_MET
    assert evaluate(c, "seed").verdict == MET


# ---------------------------------------------------------------- could_change_with
def test_could_change_with_lists_exactly_the_deciding_findings() -> None:
    """Seed: mandatory met, minor met (ascites), majors: lesion absent, VEGF stated absent,
    Castleman not assessed -> indeterminate; only castleman_disease decides it."""
    c = case(**BASE, ascites=P, sclerotic_bone_lesion=A, vegf_elevated=A)
    result = evaluate(c, "seed")
    assert result.verdict == INDETERMINATE
    assert result.could_change_with == (
        {"finding": "castleman_disease", "if_present": MET, "if_absent": NOT_MET},
    )
    assert "One finding away: castleman_disease (present: met, absent: not met)." in (
        result.explanation
    )


@pytest.mark.parametrize("rule_set", list(RULE_SETS))
def test_could_change_with_agrees_with_re_evaluation(rule_set: str) -> None:
    """Every entry is what re-evaluating the changed case gives; no omitted unassessed
    finding decides the verdict alone."""
    c = case(**BASE, hepatomegaly=A, sclerotic_bone_lesion=A)
    result = evaluate(c, rule_set)
    listed = {e["finding"]: e for e in result.could_change_with}
    assert result.verdict == INDETERMINATE
    for fid in RULE_SETS[rule_set].findings():
        if c.state(fid) is not None or fid in ("vegf", "light_chain", "heavy_chain"):
            continue
        from model.vocabulary import FINDINGS, Kind

        if FINDINGS[fid].kind not in (Kind.BINARY, Kind.AGGREGATE):
            continue
        outcomes = {s: evaluate(c.with_finding(fid, s), rule_set).verdict for s in (P, A)}
        decides = any(v != INDETERMINATE for v in outcomes.values())
        assert (fid in listed) is decides, fid
        if decides:
            assert listed[fid] == {
                "finding": fid,
                "if_present": outcomes[P],
                "if_absent": outcomes[A],
            }


def test_could_change_with_marks_an_inconsistent_setting() -> None:
    """Organomegaly stated present with one part absent: setting the aggregate absent would
    contradict nothing, but setting it is not offered because its state is known."""
    c = case(**BASE, organomegaly=P, sclerotic_bone_lesion=A, castleman_disease=A)
    result = evaluate(c, "seed")
    assert result.verdict == INDETERMINATE
    assert {e["finding"] for e in result.could_change_with} == {"vegf_elevated"}


# ---------------------------------------------------------------- output shapes
def test_to_dict_and_markdown_and_criteria_json() -> None:
    c = case(**BASE, sclerotic_bone_lesion=P, ascites=P)
    data = criteria_json(c)
    assert list(data) == list(RULE_SETS)
    seed = data["seed"]
    assert seed["verdict"] == MET
    assert seed["criteria"][0] == {
        "id": "polyneuropathy",
        "label": RULE_SETS["seed"].mandatory[0].label,
        "role": "mandatory",
        "status": MET,
        "satisfied_by": ["polyneuropathy"],
        "note": "",
    }
    assert seed["flags"] == ["lesion_size_unknown"]
    assert seed["citation"]["doi"] == "10.1002/ajh.27081"
    text = format_trace(evaluate(c))  # the command line's rendering (the report has its own)
    assert "MET" in text and "mandatory polyneuropathy" in text and "doi:10.1002/ajh.27081" in text
    assert criteria_json(c, ("suichi_2019",)).keys() == {"suichi_2019"}


def test_results_are_immutable() -> None:
    result = evaluate(case(**BASE))
    with pytest.raises(AttributeError):
        result.verdict = MET  # type: ignore[misc]


# ---------------------------------------------------------------- as published, item by item
# Each test below is an item where the engine used to deviate from its source (clinical
# review section 7); the verdicts are worked by hand from the source's list.
@pytest.mark.parametrize(
    ("rule_set", "verdict"),
    [("seed", NOT_MET), ("mayo_2019", NOT_MET), ("dispenzieri_2003", NOT_MET)],
)
def test_pericardial_effusion_alone_is_not_volume_overload(rule_set: str, verdict: str) -> None:
    """Seed/Mayo: 'peripheral edema, ascites, or pleural effusion'; 2003: 'peripheral edema,
    pleural effusion, or ascites'. PN + lambda + 1 cm lesion (seed/Mayo: the major; 2003: a
    minor, so it is set absent there), every other minor absent, pericardial effusion the
    only finding of volume overload: the minor group has 0 met -> not met; the effusion is
    listed as entered but not scored."""
    lesion: dict[str, Any] = (
        {"sclerotic_bone_lesion": A}
        if rule_set == "dispenzieri_2003"
        else {"sclerotic_bone_lesion": P, "sclerotic_lesion_size_cm": 1.0}
    )
    c = case(
        **BASE,
        **lesion,
        pericardial_effusion=P,
        peripheral_edema=A,
        pleural_effusion=A,
        ascites=A,
        organomegaly=A,
        endocrinopathy=A,
        diabetes_mellitus=A,
        hypothyroidism=A,
        skin_changes=A,
        papilledema=A,
        thrombocytosis=A,
        polycythemia=A,
        castleman_disease=A,
    )
    result = evaluate(c, rule_set)
    assert status(result, "extravascular_volume_overload") == NOT_MET
    assert result.verdict == verdict
    assert any("pericardial_effusion" in line for line in result.explanation)


def test_suichi_effusion_includes_pericardial() -> None:
    """Suichi says 'oedema / effusion' without a cavity: pericardial effusion counts."""
    c = case(pericardial_effusion=P)
    assert evaluate(c, "suichi_2019").criterion("extravascular_volume_overload").satisfied_by == (
        "pericardial_effusion",
    )


@pytest.mark.parametrize(
    ("part", "seed", "mayo_2019", "dispenzieri_2003", "suichi_2019"),
    [
        ("hyperpigmentation", MET, MET, MET, MET),
        ("hypertrichosis", MET, MET, MET, MET),
        ("plethora", MET, MET, MET, MET),
        ("glomeruloid_hemangioma", MET, MET, MET, MET),
        ("white_nails", MET, MET, MET, MET),
        ("acrocyanosis", MET, MET, INDETERMINATE, MET),  # not among the 2003 five
        ("flushing", MET, MET, INDETERMINATE, MET),  # not among the 2003 five
        ("skin_thickening", INDETERMINATE, INDETERMINATE, INDETERMINATE, MET),  # Mayo lists 7
    ],
)
def test_skin_items_per_rule_set(
    part: str, seed: str, mayo_2019: str, dispenzieri_2003: str, suichi_2019: str
) -> None:
    """One skin change present, the others not assessed. Mayo (and the seed that restates
    it) lists seven, the 2003 table five; Suichi names 'skin changes' without parts, so
    every skin change counts. An unlisted part leaves the criterion open, not met."""
    c = case(**{part: P})
    expected = {
        "seed": seed,
        "mayo_2019": mayo_2019,
        "dispenzieri_2003": dispenzieri_2003,
        "suichi_2019": suichi_2019,
    }
    assert {r: status(evaluate(c, r), "skin_changes") for r in RULE_SETS} == expected


def test_unlisted_skin_change_alone_is_not_met_when_the_listed_ones_are_absent() -> None:
    """2003: acrocyanosis present, the five listed absent -> skin criterion not met, and PN +
    lambda + nothing else is not met; Mayo with the same case: acrocyanosis counts -> met."""
    listed = ("hyperpigmentation", "hypertrichosis", "plethora", "glomeruloid_hemangioma")
    c = case(**BASE, acrocyanosis=P, white_nails=A, **dict.fromkeys(listed, A))
    assert status(evaluate(c, "dispenzieri_2003"), "skin_changes") == NOT_MET
    assert status(evaluate(c, "mayo_2019"), "skin_changes") == MET


def test_stated_skin_changes_counts_in_every_rule_set() -> None:
    """The user's 'skin_changes: present' is their judgement that the criterion is met."""
    c = case(skin_changes=P)
    for rule_set in RULE_SETS:
        assert evaluate(c, rule_set).criterion("skin_changes").satisfied_by == ("skin_changes",)


@pytest.mark.parametrize("alone", ["diabetes_mellitus", "hypothyroidism"])
def test_2003_endocrinopathy_has_no_later_exclusion(alone: str) -> None:
    """Literal 2003 table: PN + clone + hypothyroidism (or diabetes) -> endocrinopathy met ->
    1 of 7 minors -> met. Seed/Mayo: diabetes or hypothyroidism alone does not count; every
    other criterion absent -> not met."""
    others = dict.fromkeys(
        (
            "sclerotic_bone_lesion",
            "castleman_disease",
            "organomegaly",
            "extravascular_volume_overload",
            "endocrinopathy",
            "skin_changes",
            "papilledema",
            "thrombocytosis",
            "polycythemia",
            "vegf_elevated",
        ),
        A,
    )
    c = case(**BASE, **others, **{alone: P})
    old = evaluate(c, "dispenzieri_2003")
    assert old.criterion("endocrinopathy").satisfied_by == (alone,)
    assert old.verdict == MET
    assert evaluate(c, "seed").verdict == NOT_MET
    assert evaluate(c, "mayo_2019").verdict == NOT_MET


def test_2003_endocrinopathy_stated_absent_leaves_thyroid_and_pancreas_open() -> None:
    """The vocabulary's 'endocrinopathy' aggregate excludes diabetes and hypothyroidism, so
    stating it absent does not settle the 2003 item until both are assessed."""
    c = case(endocrinopathy=A)
    assert status(evaluate(c, "seed"), "endocrinopathy") == NOT_MET
    assert status(evaluate(c, "dispenzieri_2003"), "endocrinopathy") == INDETERMINATE
    settled = case(endocrinopathy=A, diabetes_mellitus=A, hypothyroidism=A)
    assert status(evaluate(settled, "dispenzieri_2003"), "endocrinopathy") == NOT_MET


def test_suichi_does_not_read_plasma_vegf() -> None:
    """Plasma 5000 pg/mL under Suichi: no plasma cut-off in the paper, so the mandatory VEGF
    criterion stays indeterminate and says why; seed reads it (58 x the default 86 ULN)."""
    c = case(**BASE, vegf=plasma(5000), peripheral_edema=P, hypertrichosis=P)
    suichi = evaluate(c, "suichi_2019")
    assert status(suichi, "vegf_elevation") == INDETERMINATE
    assert "vegf_specimen_not_read" in suichi.flags
    assert suichi.verdict == INDETERMINATE
    assert status(evaluate(c, "seed"), "vegf_elevation") == MET


def test_castleman_note_never_fires_on_tafro() -> None:
    """TAFRO: Castleman histology, no M-protein, platelets 62, edema, splenomegaly. The
    variant note is not raised; the iMCD pointer is, and nothing reads as a diagnosis."""
    c = case(
        castleman_disease=P,
        monoclonal_protein=A,
        platelets=62,
        peripheral_edema=P,
        splenomegaly=P,
        hyperpigmentation=P,
    )
    for result in evaluate_all(c).values():
        assert "castleman_variant" not in result.flags
        assert "castleman_without_clone" in result.flags
        assert result.verdict == NOT_MET


def test_castleman_note_needs_a_poems_type_feature() -> None:
    """Organomegaly and effusions are shared with iMCD: alone they do not raise the note."""
    c = case(castleman_disease=P, monoclonal_protein=A, splenomegaly=P, ascites=P)
    assert "castleman_variant" not in evaluate(c).flags
    assert "castleman_variant" in evaluate(c.with_finding("polyneuropathy", P)).flags


def test_castleman_note_is_not_worded_as_a_diagnosis() -> None:
    text = FLAG_TEXT["castleman_variant"]
    assert "not a diagnosis" in text
    assert "idiopathic multicentric Castleman disease" in text


def test_deferred_results_read_copy_and_pickle_as_results_built_whole() -> None:
    """``evaluate_all`` builds ``criteria``, ``could_change_with`` and ``explanation`` on
    first read; whichever is read first, or if the result is first copied or pickled, each
    result equals one built with every field (indeterminate verdicts included), and a name
    that is no field still raises."""
    import copy
    import dataclasses
    import pickle

    from model.criteria import evaluate_all
    from model.criteria.results import CriteriaResult

    names = [f.name for f in dataclasses.fields(CriteriaResult)]
    case = Case.from_dict(
        {
            "findings": {
                "polyneuropathy": "present",
                "monoclonal_protein": "present",
                "hepatomegaly": "present",
            }
        }
    )
    reference = evaluate_all(case)
    whole = {k: CriteriaResult(**{n: getattr(r, n) for n in names}) for k, r in reference.items()}
    assert any(r.verdict == "indeterminate" and r.could_change_with for r in whole.values())
    makers = (lambda r: r, copy.copy, copy.deepcopy, lambda r: pickle.loads(pickle.dumps(r)))
    for first in ("criteria", "could_change_with", "explanation", None):  # None: none read
        for make in makers:
            for key, result in evaluate_all(case).items():
                if first is not None:
                    getattr(result, first)
                made = make(result)
                assert made == whole[key] and made.to_dict() == whole[key].to_dict()
    with pytest.raises(AttributeError, match="no attribute 'verdicts'"):
        evaluate_all(case)["seed"].verdicts  # noqa: B018


def test_criterion_result_keeps_the_dataclass_behaviour_of_its_hand_written_init() -> None:
    """CriterionResult writes its fields straight into the instance (a faster __init__): it
    must still be frozen, hashable, compare and print field by field, take keywords and
    positions alike, and go through ``dataclasses.replace`` and copies."""
    import copy
    import dataclasses

    from model.criteria import CriterionResult

    by_position = CriterionResult("m_protein", "Monoclonal", "mandatory", "met", ("x",), "")
    by_name = CriterionResult(
        id="m_protein",
        label="Monoclonal",
        role="mandatory",
        status="met",
        satisfied_by=("x",),
        note="",
    )
    assert by_position == by_name and hash(by_position) == hash(by_name)
    assert [f.name for f in dataclasses.fields(CriterionResult)] == list(vars(by_position))
    assert repr(by_position).startswith("CriterionResult(id='m_protein', label='Monoclonal'")
    with pytest.raises(dataclasses.FrozenInstanceError):
        by_position.status = "not_met"  # type: ignore[misc]
    changed = dataclasses.replace(by_position, status="not_met")
    assert changed.status == "not_met" and changed.id == "m_protein" and changed != by_position
    assert copy.copy(by_position) == by_position
