"""Analyses on the compiled engine, each checked against an independent computation."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from pgmpy.inference import VariableElimination

from model.analysis import (
    contributions,
    credible_interval,
    next_tests,
    parameter_range,
    sensitivity,
)
from model.analysis.uncertainty import SWING_DIGITS, _quantiles_and_median
from model.inference.batch import OBSERVABLE, engine_for
from model.inference.compiled import CompiledEngine, ImpossibleEvidenceError
from model.inference.simulate import encode, simulate
from model.network import build_network, build_tables
from model.network.evidence import with_setting
from model.parameters import load_priors

logging.getLogger("pgmpy").setLevel(logging.ERROR)
PRIORS = load_priors()
SETTING = "neuropathy_clinic"
IMPLIES = PRIORS.setting(SETTING).implies
EVIDENCE = {
    "polyneuropathy": "present",
    "monoclonal_protein": "present",
    "light_chain": "lambda",
    "skin_changes": "present",
    "vegf_plasma": "from_2x_to_4x",
}


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _random_evidence(n: int, seed: int) -> list[dict[str, str]]:
    rng = np.random.default_rng(seed)
    engine = engine_for(PRIORS, SETTING)
    codes = encode(simulate(build_tables(PRIORS, SETTING), n, rng, 0.6), OBSERVABLE)
    return [
        {OBSERVABLE[j]: engine.states[OBSERVABLE[j]][c] for j, c in enumerate(row) if c >= 0}
        for row in codes
    ]


def test_contributions_add_up_exactly() -> None:
    engine = engine_for(PRIORS, SETTING)
    prior = PRIORS.setting(SETTING).base_rates["poems"]
    for evidence in _random_evidence(60, 1):
        result = contributions(engine, evidence)
        assert result.prior_log_odds == pytest.approx(_logit(prior), abs=1e-12)
        total = result.prior_log_odds + sum(c.log_odds_change for c in result.items)
        assert total == pytest.approx(result.posterior_log_odds, abs=1e-9)
        assert len(result.items) == len(evidence)


def test_contributions_follow_vocabulary_order_and_match_pgmpy() -> None:
    engine = engine_for(PRIORS, SETTING)
    result = contributions(engine, {"vegf_plasma": "from_2x_to_4x", "polyneuropathy": "present"})
    assert [c.finding for c in result.items] == ["polyneuropathy", "vegf"]
    infer = VariableElimination(build_network(PRIORS, SETTING))

    def p_poems(evidence: dict[str, str]) -> float:
        evidence = with_setting(evidence, IMPLIES)  # the setting's defining findings
        factor = infer.query(["diagnosis"], evidence=evidence or None, show_progress=False)
        return float(factor.get_value(diagnosis="poems"))

    first = _logit(p_poems({"polyneuropathy": "present"})) - _logit(p_poems({}))
    both = {"polyneuropathy": "present", "vegf_plasma": "from_2x_to_4x"}
    second = _logit(p_poems(both)) - _logit(p_poems({"polyneuropathy": "present"}))
    assert result.items[0].log_odds_change == pytest.approx(first, abs=1e-9)
    assert result.items[1].log_odds_change == pytest.approx(second, abs=1e-9)
    assert result.items[1].likelihood_ratio == pytest.approx(math.exp(second))


def test_contributions_refuse_impossible_evidence() -> None:
    engine = engine_for(PRIORS, SETTING)
    with pytest.raises(ImpossibleEvidenceError):
        contributions(engine, {"organomegaly": "absent", "hepatomegaly": "present"})


def test_next_tests_match_a_brute_force_with_pgmpy() -> None:
    engine = engine_for(PRIORS, SETTING)
    evidence = {"polyneuropathy": "present", "monoclonal_protein": "present"}
    tests = next_tests(engine, evidence)
    gains = [t.expected_entropy_reduction_bits for t in tests]
    assert gains == sorted(gains, reverse=True)
    assert {t.node for t in tests}.isdisjoint(evidence)
    infer = VariableElimination(build_network(PRIORS, SETTING))

    def entropy(evidence: dict[str, str]) -> tuple[float, float]:
        evidence = with_setting(evidence, IMPLIES)
        f = infer.query(["diagnosis"], evidence=evidence, show_progress=False)
        p = np.array([f.get_value(diagnosis=s) for s in engine.query_states])
        return float(-(p[p > 0] * np.log2(p[p > 0])).sum()), float(p[0])

    h_now, p_now = entropy(evidence)
    for test in [tests[0], tests[3], tests[-1]]:
        outcome = infer.query(
            [test.node], evidence=with_setting(evidence, IMPLIES), show_progress=False
        )
        expected_h = expected_change = 0.0
        for state in engine.states[test.node]:
            p_x = float(outcome.get_value(**{test.node: state}))
            assert test.p_outcome[state] == pytest.approx(p_x, abs=1e-9)
            if p_x > 0:
                h, p = entropy({**evidence, test.node: state})
                expected_h += p_x * h
                expected_change += p_x * abs(p - p_now)
        assert test.expected_entropy_reduction_bits == pytest.approx(h_now - expected_h, abs=1e-9)
        assert test.expected_abs_change_poems == pytest.approx(expected_change, abs=1e-9)


def test_next_tests_skip_other_vegf_nodes_once_vegf_is_known() -> None:
    engine = engine_for(PRIORS, SETTING)
    nodes = {t.node for t in next_tests(engine, {"vegf_serum": "above_10x"})}
    assert not nodes & {"vegf_plasma", "vegf_elevated", "vegf_serum"}
    assert "monoclonal_protein" in nodes
    # the setting's defining findings and the case context are not tests to order
    assert not nodes & {*IMPLIES, "age_band", "sex", "lesion_imaging"}
    labels = {t.node: t.label for t in next_tests(engine, {})}
    assert labels["vegf_serum"] == "VEGF level (serum)"
    assert labels["vegf_plasma"] == "VEGF level (plasma)"


def test_credible_interval_equals_a_loop_over_the_same_draws() -> None:
    n_draws = 40
    result = credible_interval(
        PRIORS, SETTING, EVIDENCE, n_draws=n_draws, level=0.8, rng=np.random.default_rng(3)
    )
    draws = PRIORS.sample(n_draws, np.random.default_rng(3))
    tables = build_tables(PRIORS, SETTING, values=draws)
    engine = engine_for(PRIORS, SETTING)
    loop = []
    for d in range(n_draws):
        single = engine.with_tables(
            {n: t.array[d] if t.array.ndim == 3 else t.array for n, t in tables.items()}
        )
        loop.append(single.posterior(EVIDENCE)["poems"])
    assert result.low == pytest.approx(np.quantile(loop, 0.1), abs=1e-12)
    assert result.high == pytest.approx(np.quantile(loop, 0.9), abs=1e-12)
    assert result.low < result.point < result.high
    assert result.n_draws == n_draws


def test_sensitivity_ends_equal_engines_built_from_overridden_priors() -> None:
    swings = sensitivity(PRIORS, SETTING, EVIDENCE, top_k=None)
    ranked = [(-np.round(s.swing, SWING_DIGITS), s.key) for s in swings]
    assert ranked == sorted(ranked)  # largest swing first, ties (to rounding) by key
    assert not any(s.key.startswith("settings.hematology_clinic") for s in swings)
    picks = [swings[0], next(s for s in swings if s.key.startswith("findings."))]
    for s in picks:
        for value, expected in ((s.low, s.p_at_low), (s.high, s.p_at_high)):
            changed = PRIORS.with_overrides({s.key: value})
            engine = CompiledEngine.from_pgmpy(build_network(changed, SETTING), implied=IMPLIES)
            assert engine.posterior(EVIDENCE)["poems"] == pytest.approx(expected, abs=1e-9)


def test_parameter_range_uses_low_high_or_the_draw_distribution() -> None:
    params = PRIORS.parameters()
    with_range = next(p for p in params if p.low is not None and p.high is not None)
    assert parameter_range(with_range) == (with_range.low, with_range.high)
    by_n = next(p for p in params if p.low is None and p.n is not None and 0 < p.p < 1)
    span = parameter_range(by_n)
    assert span is not None and span[0] < by_n.p < span[1]


def test_the_assessment_carries_analyses_that_agree_with_the_exact_posterior() -> None:
    import json
    from pathlib import Path

    from model.assessment import assess
    from model.case import Case
    from model.inference.exact import posterior

    case = Case.load(Path(__file__).resolve().parent.parent / "examples" / "classic_poems.json")
    result = assess(case, sensitivity=False)
    p = posterior(case, setting=result.setting)["poems"]
    assert result.contributions.posterior_log_odds == pytest.approx(_logit(p), abs=1e-9)
    assert result.credible_interval.point == pytest.approx(p, abs=1e-9)
    assert {t.node for t in result.next_tests}.isdisjoint(
        {c.node for c in result.contributions.items}
    )
    json.dumps(result.to_dict())


def test_interval_quantiles_are_numpys_to_the_bit() -> None:
    """The interval reads its ends and median from one sort; they equal ``np.quantile``
    (linear) and ``np.median`` bit for bit on samples of every size and shape (spread,
    piled near 0 and 1, tied, constant) and every level."""
    rng = np.random.default_rng(0)
    for trial in range(3000):
        n = int(rng.integers(2, 2500))
        shape = trial % 4
        if shape == 0:
            values = rng.random(n)
        elif shape == 1:
            logit = rng.normal(size=n) * 40
            values = np.exp(logit) / (1 + np.exp(logit))
        elif shape == 2:
            values = rng.integers(0, 3, n) / 2.0
        else:
            values = np.full(n, rng.random())
        tail = (1 - float(rng.choice([0.5, 0.8, 0.9, 0.95, 0.999]))) / 2
        low, high = np.quantile(values, [tail, 1 - tail])
        expected = (float(low), float(high), float(np.median(values)))
        got = _quantiles_and_median(values, tail)
        assert [x.hex() for x in got] == [x.hex() for x in expected], (n, shape, tail)


def test_next_test_keeps_the_dataclass_behaviour_of_its_hand_written_init() -> None:
    """NextTest writes its fields straight into the instance (a faster __init__): it must
    still be frozen, compare and print field by field, default the settling fields, take
    keywords and positions alike, and go through ``dataclasses.replace`` and copies."""
    import copy
    import dataclasses
    from types import MappingProxyType

    from model.analysis.explain import NextTest

    outcome = MappingProxyType({"present": 0.25, "absent": 0.75})
    poems_if = MappingProxyType({"present": 0.5, "absent": 0.1})
    by_position = NextTest("papilledema", "papilledema", 0.5, 0.1, 0.25, outcome, poems_if)
    by_name = NextTest(
        finding="papilledema",
        node="papilledema",
        expected_entropy_reduction_bits=0.5,
        expected_abs_change_poems=0.1,
        p_present=0.25,
        p_outcome=outcome,
        p_poems_if=poems_if,
    )
    assert by_position == by_name
    assert by_position.seed_verdict_if is None and by_position.p_settles_seed is None
    assert [f.name for f in dataclasses.fields(NextTest)] == list(vars(by_position))
    assert repr(by_position).startswith("NextTest(finding='papilledema', node='papilledema'")
    with pytest.raises(dataclasses.FrozenInstanceError):
        by_position.node = "other"  # type: ignore[misc]
    settled = dataclasses.replace(
        by_position, seed_verdict_if={"present": "met"}, p_settles_seed=0.25
    )
    assert settled.p_settles_seed == 0.25 and settled.p_outcome is outcome
    assert settled != by_position
    assert copy.copy(by_position) == by_position and copy.copy(settled) == settled


def test_contributions_and_next_tests_from_one_call_equal_the_two_calls_bit_for_bit() -> None:
    """The merged call stacks the chain's rows on the outcome rows; every number must be the
    one the separate calls give (no finding observed included: a chain of one row keeps its
    own call), with the candidates given or not."""
    from model.analysis import contributions_and_next_tests

    engine = engine_for(PRIORS, SETTING)
    for evidence in [{}, {"polyneuropathy": "present"}, *_random_evidence(25, 7)]:
        for candidates in (None, ("papilledema", "vegf_serum", "light_chain")):
            chain, tests = contributions_and_next_tests(engine, evidence, candidates)
            alone = contributions(engine, evidence)
            assert chain.prior_log_odds == alone.prior_log_odds
            assert chain.posterior_log_odds == alone.posterior_log_odds
            assert chain.items == alone.items
            expected = next_tests(engine, evidence, candidates)
            assert [t.to_dict() for t in tests] == [t.to_dict() for t in expected]


def test_deferred_next_tests_read_copy_and_pickle_as_tests_built_whole() -> None:
    """The tests ``next_tests`` returns build their outcome mappings and settling odds on
    first read; whichever field is read first, and whether the test is first copied,
    pickled or replaced, every field equals that of a test built with all of them, and a
    name that is no field still raises AttributeError."""
    import copy
    import dataclasses
    import pickle

    from model.analysis.explain import NextTest
    from model.analysis.settle import Settling
    from model.case import Case
    from model.criteria import evaluate

    case = Case.from_dict(
        {"findings": {"polyneuropathy": "present", "monoclonal_protein": "present"}}
    )
    engine = engine_for(PRIORS, SETTING)
    settling = Settling(evaluate(case, "seed"))
    names = [f.name for f in dataclasses.fields(NextTest)]

    def whole(test: NextTest) -> NextTest:
        return NextTest(**{name: getattr(test, name) for name in names})

    for field in ("p_outcome", "seed_verdict_if", "p_settles_seed", "p_poems_if"):
        for settle_it in (None, settling):
            reference = next_tests(engine, {"polyneuropathy": "present"}, settling=settle_it)
            fresh = next_tests(engine, {"polyneuropathy": "present"}, settling=settle_it)
            for a, b in zip(reference, fresh, strict=True):
                expected = whole(a)
                getattr(b, field)  # this field read first
                assert b == expected and repr(b) == repr(expected)
            for make in (copy.copy, copy.deepcopy, lambda t: pickle.loads(pickle.dumps(t))):
                again = next_tests(engine, {"polyneuropathy": "present"}, settling=settle_it)
                for a, b in zip(reference, again, strict=True):
                    assert make(b) == whole(a)
                    assert dataclasses.replace(b, p_present=None) == dataclasses.replace(
                        a, p_present=None
                    )
            assert (reference[0].seed_verdict_if is None) == (settle_it is None)
    with pytest.raises(AttributeError, match="no attribute 'p_outcomes'"):
        next_tests(engine, {})[0].p_outcomes  # noqa: B018
