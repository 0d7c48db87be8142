"""The work-up: orderable tests in the order an expert orders them.

The classic starting points follow the order of the cited work-up (``workup.toml``
[ranking].order_sources: the seed page's history and examination first; the clinical review's
"cheap blood tests first - immunofixation with free light chains, blood count, VEGF - then
whole-body CT, then tissue"); no proposed test can produce a result the case format rejects
(hypothesis, over random cases); a settled case says so plainly; mimic-directed tests appear
when their mimic leads.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from model.analysis.workup import (
    DATA,
    Catalogue,
    OrderableTest,
    Workup,
    admissible_nodes,
    load_catalogue,
    workup,
)
from model.assessment import assess
from model.case import Case
from model.exceptions import CaseError, PriorsError
from model.inference.engine import engine_for, resolve
from model.network.evidence import evidence_for
from model.vocabulary import FINDINGS

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
P, A = "present", "absent"


def run(findings: dict[str, Any], setting: str) -> tuple[Case, Workup]:
    case = Case.from_dict({"setting": setting, "findings": findings})
    priors, chosen = resolve(case, None, None)
    engine = engine_for(priors, chosen)
    return case, workup(case, engine, evidence_for(case))


def order(w: Workup) -> list[str]:
    return [item.test for item in w.items]


def tiers(w: Workup) -> list[int]:
    return [load_catalogue().tiers.index(item.tier) for item in w.items]


# ---------------------------------------------------------------- the data
def test_catalogue_is_cited_and_every_order_source_exists() -> None:
    cat = load_catalogue()
    assert cat.tiers == ("bedside", "blood", "imaging", "biopsy")
    assert set(cat.order_sources) <= set(cat.sources)
    for test in cat.tests:
        assert test.sources and all(key in cat.sources for key in test.sources)
        assert test.tier in cat.tiers
    ids = [t.id for t in cat.tests]
    for needed in (
        "immunofixation_flc",
        "full_blood_count",
        "vegf",
        "whole_body_ct",
        "skeletal_survey",
        "bone_marrow_biopsy",
        "lesion_or_node_biopsy",
        "endocrine_panel",
        "nerve_conduction_study",
        "echocardiography",
        "fat_pad_biopsy",
        "nt_probnp",
        "anti_mag",
    ):
        assert needed in ids


def test_one_entry_per_orderable_test_vegf_once() -> None:
    """The v1 list named VEGF three times (serum, plasma, 'elevated'); now one test."""
    revealing_vegf = [t.id for t in load_catalogue().tests if "vegf" in t.reveals]
    assert revealing_vegf == ["vegf"]


def test_unknown_findings_are_skipped_not_rejected() -> None:
    """Network-v2 ids may be named before the vocabulary has them."""
    test = OrderableTest("x", "X", "blood", "", ("monoclonal_protein", "no_such_finding"), ("CR3",))
    assert test.known_findings() == ("monoclonal_protein",)


def test_bad_catalogue_names_the_key(tmp_path: Path) -> None:
    text = DATA.read_text()
    bad = tmp_path / "w.toml"
    bad.write_text(text.replace('tier = "biopsy"', 'tier = "surgery"', 1))
    expected = r"bone_marrow_biopsy.*tier must be one of bedside.*Got 'surgery'"
    with pytest.raises(PriorsError, match=expected):
        load_catalogue(bad)


# ---------------------------------------------------------------- classic starting points
def _assert_expert_order(w: Workup) -> None:
    assert tiers(w) == sorted(tiers(w)), order(w)  # least invasive first


def test_cidp_not_responding_to_ivig() -> None:
    """Demyelinating neuropathy labelled CIDP: examination, then blood tests - immunofixation
    with free light chains first, blood count and VEGF among them - before any imaging or
    biopsy; no typing of a chain that has not been found."""
    _, w = run({"polyneuropathy": P, "demyelinating_ncs": P}, "neuropathy_clinic")
    _assert_expert_order(w)
    blood = [i.test for i in w.items if i.tier == "blood"]
    assert blood[0] == "immunofixation_flc"
    assert {"full_blood_count", "vegf"} <= set(blood)
    first_imaging = next(n for n, i in enumerate(w.items) if i.tier == "imaging")
    assert all(i.tier in ("bedside", "blood") for i in w.items[:first_imaging])
    assert order(w).count("vegf") == 1


def test_neuropathy_with_a_lambda_band() -> None:
    """PN + lambda M-protein: VEGF and the blood count before whole-body CT; the CT is the
    test most likely to decide the seed criteria (a sclerotic lesion is the usual major)."""
    _, w = run(
        {"polyneuropathy": P, "monoclonal_protein": P, "light_chain": "lambda"},
        "paraproteinemic_neuropathy",
    )
    _assert_expert_order(w)
    ids = order(w)
    assert ids.index("vegf") < ids.index("whole_body_ct")
    assert ids.index("full_blood_count") < ids.index("whole_body_ct")
    ct = w.items[ids.index("whole_body_ct")]
    assert ct.p_settles_seed_to.get("met", 0.0) > 0.2
    assert ct.alternatives == ("Skeletal survey (plain films)",)
    assert "skeletal_survey" not in ids


def test_incidental_sclerotic_lesion() -> None:
    """A sclerotic lesion found incidentally: immunofixation with FLC, blood count and VEGF
    before the marrow biopsy; biopsies last."""
    _, w = run({"sclerotic_bone_lesion": P}, "hematology_clinic")
    _assert_expert_order(w)
    ids = order(w)
    for blood in ("immunofixation_flc", "full_blood_count", "vegf"):
        assert ids.index(blood) < ids.index("bone_marrow_biopsy")
    assert w.items[-1].tier == "biopsy"


def test_negative_immunofixation_never_proposes_chain_typing() -> None:
    case, w = run({"polyneuropathy": P, "monoclonal_protein": A}, "neuropathy_clinic")
    for item in w.items:
        assert "light_chain" not in item.open_findings
        assert "heavy_chain" not in item.open_findings
    priors, chosen = resolve(case, None, None)
    nodes = admissible_nodes(case, engine_for(priors, chosen), evidence_for(case))
    assert "light_chain" not in nodes and "heavy_chain" not in nodes


def test_settled_case_says_so_plainly() -> None:
    """The classic POEMS example: nothing worth doing changes the answer."""
    case = Case.load(EXAMPLES / "classic_poems.json")
    a = assess(case, sensitivity=False)
    assert a.workup.settled
    assert a.workup.items == ()
    assert a.workup.message.startswith("Settled")


def test_mimic_directed_tests_appear_when_the_mimic_leads() -> None:
    """Lambda clone, cardiomyopathy, renal insufficiency, hepatomegaly: AL leads, so the fat-pad
    biopsy is offered and says what it is aimed at."""
    findings = {
        "polyneuropathy": P,
        "monoclonal_protein": P,
        "light_chain": "lambda",
        "cardiomyopathy": P,
        "renal_insufficiency": P,
        "hepatomegaly": P,
        "sclerotic_bone_lesion": A,
    }
    case, w = run(findings, "hematology_clinic")
    priors, chosen = resolve(case, None, None)
    posterior = engine_for(priors, chosen).posterior(evidence_for(case))
    assert max(posterior, key=lambda d: posterior[d]) == "al_amyloidosis"
    fat_pad = next(i for i in w.items if i.test == "fat_pad_biopsy")
    assert fat_pad.mimic == "al_amyloidosis"
    assert "aimed at AL amyloidosis" in fat_pad.why
    _, classic = run({"polyneuropathy": P, "demyelinating_ncs": P}, "neuropathy_clinic")
    assert "fat_pad_biopsy" not in order(classic)


def test_assessment_json_carries_the_workup() -> None:
    case = Case.load(EXAMPLES / "early_workup_vegf_pending.json")
    out = assess(case, sensitivity=False).to_dict()
    assert "workup" in out and "next_tests" in out
    first = out["workup"]["items"][0]
    assert {"test", "label", "tier", "why", "p_settles_seed", "sources"} <= set(first)
    assert "outcomes" not in first


# ---------------------------------------------------------------- property
STATE = st.sampled_from([None, None, None, P, A])
BINARIES = [
    f
    for f, spec in FINDINGS.items()
    if spec.kind.value == "binary"
    and f
    in (
        "polyneuropathy",
        "demyelinating_ncs",
        "monoclonal_protein",
        "sclerotic_bone_lesion",
        "castleman_disease",
        "splenomegaly",
        "peripheral_edema",
        "hyperpigmentation",
        "thrombocytosis",
        "amyloid_on_biopsy",
        "anti_mag_antibodies",
        "cardiomyopathy",
    )
]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    findings: dict[str, Any] = {}
    for fid in BINARIES:
        state = draw(STATE)
        if state is not None:
            findings[fid] = state
    for agg in ("organomegaly", "skin_changes", "endocrinopathy"):
        if draw(st.integers(0, 5)) == 0:
            findings[agg] = A
    chain = draw(st.sampled_from([None, "lambda", "kappa"]))
    if chain:
        findings["light_chain"] = chain
    heavy = draw(st.sampled_from([None, None, "IgA", "IgG", "IgM", "none"]))
    if heavy:
        findings["heavy_chain"] = heavy
    if draw(st.booleans()):
        findings["vegf"] = {
            "value": draw(st.sampled_from([80, 400, 2500])),
            "unit": "pg/mL",
            "specimen": draw(st.sampled_from(["serum", "plasma"])),
        }
    setting = draw(st.sampled_from(["neuropathy_clinic", "hematology_clinic"]))
    try:
        return Case.from_dict({"setting": setting, "findings": findings})
    except CaseError:
        assume(False)
        raise


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_no_proposed_test_can_produce_a_result_the_case_format_rejects(case: Case) -> None:
    """Every possible result of every proposed test, entered into the case, is accepted by
    the validator; and every proposed test reveals something still open."""
    priors, chosen = resolve(case, None, None)
    engine = engine_for(priors, chosen)
    w = workup(case, engine, evidence_for(case))
    for item in w.items:
        assert item.open_findings, item.test
        for finding in item.open_findings:
            assert case.entered(finding) is None
        total = 0.0
        for findings, probability in item.outcomes:
            data = case.to_dict()
            data["findings"] = {**data["findings"], **findings}
            Case.from_dict(data)  # raises CaseError if the result were impossible
            total += probability
        if item.outcomes:
            assert total == pytest.approx(1.0, abs=1e-9)
    if case.state("monoclonal_protein") == A:
        assert all("light_chain" not in i.open_findings for i in w.items)
    assert w.settled == (not w.items)


def test_a_custom_catalogue_changes_the_order() -> None:
    """The order is data: raising the bar for 'worth doing' empties the list into 'settled'."""
    strict: Catalogue = dataclasses.replace(
        load_catalogue(),
        min_information_bits=10.0,
        min_abs_change_poems=2.0,
        min_verdict_information_bits=10.0,
    )
    case = Case.from_dict({"setting": "neuropathy_clinic", "findings": {"polyneuropathy": P}})
    priors, chosen = resolve(case, None, None)
    w = workup(case, engine_for(priors, chosen), evidence_for(case), catalogue=strict)
    assert w.settled and w.message.startswith("Settled")
