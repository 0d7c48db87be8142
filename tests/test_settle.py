"""Next-best tests say whether (and which way) they would settle the seed verdict."""

from __future__ import annotations

import pytest

from model.assessment import assess
from model.case import Case
from model.criteria import evaluate
from model.vocabulary import FINDINGS, Kind

HALF_DONE = {
    "polyneuropathy": "present",
    "monoclonal_protein": "present",
    "light_chain": "lambda",
    "sclerotic_bone_lesion": "absent",
    "castleman_disease": "absent",
    "hepatomegaly": "present",
}


def _tests(findings: dict[str, object]) -> dict[str, object]:
    a = assess(Case.from_dict({"findings": findings}))
    return {t.node: t for t in a.next_tests}


def test_binary_outcomes_match_reevaluating_the_criteria() -> None:
    """Independent check: set the finding on the case and run the rule set again."""
    case = Case.from_dict({"findings": HALF_DONE})
    assert evaluate(case, "seed").verdict == "indeterminate"
    for node, test in _tests(HALF_DONE).items():
        spec = FINDINGS.get(node)
        if spec is None or spec.kind not in (Kind.BINARY, Kind.AGGREGATE):
            continue
        for state in ("present", "absent"):
            try:
                expected = evaluate(case.with_finding(node, state), "seed").verdict
            except ValueError:  # a value the case format forbids here
                continue
            assert test.seed_verdict_if[state] == expected, (node, state)


def test_settling_probability_is_the_predictive_mass_of_determinate_outcomes() -> None:
    tests = _tests(HALF_DONE)
    stated = tests["vegf_elevated"]
    assert stated.seed_verdict_if == {"present": "met", "absent": "not_met"}
    assert stated.p_settles_seed == pytest.approx(1.0)
    serum = tests["vegf_serum"]
    assert serum.seed_verdict_if["above_10x"] == "met"
    assert serum.seed_verdict_if["up_to_1x"] == "not_met"
    assert serum.seed_verdict_if["from_2x_to_4x"] == "indeterminate"
    expected = sum(
        p for s, p in serum.p_outcome.items() if serum.seed_verdict_if[s] != "indeterminate"
    )
    assert serum.p_settles_seed == pytest.approx(expected)
    assert sum(serum.p_settles_seed_to.values()) == pytest.approx(expected)
    assert 0.0 < serum.p_settles_seed < 1.0
    # a finding that feeds no seed criterion never settles it
    assert tests["weight_loss"].p_settles_seed == 0.0


def test_a_typed_light_chain_settles_the_missing_monoclonal_protein() -> None:
    findings = {
        "polyneuropathy": "present",
        "sclerotic_bone_lesion": "present",
        "hepatomegaly": "present",
    }
    tests = _tests(findings)
    assert tests["monoclonal_protein"].seed_verdict_if == {"present": "met", "absent": "not_met"}
    assert set(tests["light_chain"].seed_verdict_if.values()) == {"met"}
    assert tests["light_chain"].p_settles_seed == pytest.approx(1.0)


def test_nothing_settles_a_determinate_verdict() -> None:
    tests = _tests({**HALF_DONE, "vegf_elevated": "present"})
    assert all(t.p_settles_seed == 0.0 for t in tests.values())
    assert all(set(t.seed_verdict_if.values()) == {"met"} for t in tests.values())


def test_assess_json_carries_the_settling_figures() -> None:
    data = assess(Case.from_dict({"findings": HALF_DONE})).to_dict()
    first = {t["node"]: t for t in data["next_tests"]}["vegf_elevated"]
    assert first["p_settles_seed"] == pytest.approx(1.0)
    assert set(first["p_settles_seed_to"]) == {"met", "not_met"}


def test_settle_keeps_every_other_field() -> None:
    """``settle`` fills in the two settling fields and copies the rest unchanged (every field
    of ``NextTest``, so a field added later is not silently dropped)."""
    import dataclasses

    from model.analysis import next_tests
    from model.analysis.settle import settle
    from model.inference.engine import engine_for, resolve
    from model.network.evidence import evidence_for

    case = Case.from_dict({"findings": HALF_DONE})
    priors, setting = resolve(case, None, None)
    engine = engine_for(priors, setting)
    tests = next_tests(engine, evidence_for(case))
    settled = settle(tests, evaluate(case, "seed"))
    assert len(settled) == len(tests) > 10
    for before, after in zip(tests, settled, strict=True):
        for field in dataclasses.fields(before):
            if field.name not in ("seed_verdict_if", "p_settles_seed"):
                assert getattr(after, field.name) == getattr(before, field.name), field.name
        assert after.seed_verdict_if is not None and after.p_settles_seed is not None


def test_tests_built_with_their_settling_equal_settle_field_for_field() -> None:
    """``assess`` builds each next test once with its settling odds (``Settling``); every
    field, types included, must be what ``settle`` gives on the tests built without them,
    over the development set (indeterminate, met and not-met seeds alike)."""
    import dataclasses

    from model.analysis import contributions_and_next_tests, next_tests
    from model.analysis.settle import Settling, settle
    from model.analysis.workup import admissible_nodes
    from model.evaluation.devset import load_devset
    from model.inference.engine import engine_for, resolve
    from model.network.evidence import evidence_for

    verdicts = set()
    for patient in load_devset().patients[:30]:
        case = patient.case
        priors, setting = resolve(case, "paraproteinemic_neuropathy", None)
        engine = engine_for(priors, setting)
        evidence = evidence_for(case)
        result = evaluate(case, "seed")
        verdicts.add(result.verdict)
        candidates = admissible_nodes(case, engine, evidence)
        expected = settle(next_tests(engine, evidence, candidates), result)
        _, built = contributions_and_next_tests(
            engine, evidence, candidates, settling=Settling(result)
        )
        assert len(built) == len(expected)
        for mine, theirs in zip(built, expected, strict=True):
            for field in dataclasses.fields(mine):
                a, b = getattr(mine, field.name), getattr(theirs, field.name)
                assert a == b and type(a) is type(b), (patient.file, mine.node, field.name)
    assert {"met", "not_met", "indeterminate"} <= verdicts
