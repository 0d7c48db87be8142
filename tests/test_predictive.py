"""Joint predictive draws (:mod:`model.inference.predictive`) against exact enumeration.

- the draws of a test's open findings follow the exact joint P(X | e) that
  ``log_posterior_batch`` gives for every enumerated outcome (chi-square), including
  tests whose findings share a cluster (the skin-changes and organomegaly parts) and so
  depend on each other beyond the core;
- the same seed gives the same draws; the stratified uniforms put one value in each slice
  and make an estimate vary less between seeds than independent uniforms;
- the work-up's Monte Carlo estimates agree with its exact enumeration on tests small
  enough to enumerate, within a stated Monte Carlo tolerance.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import predictive_reference
import pytest

from model.analysis import workup as w
from model.case import Case
from model.inference import predictive
from model.inference.compiled import CompiledEngine
from model.inference.engine import engine_for, resolve
from model.inference.predictive import _stratified, sample_open
from model.network.evidence import evidence_for

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
N_DRAWS = 20_000


FEW_FINDINGS = Case.from_dict({"findings": {"polyneuropathy": "present"}})
"""Little evidence: the open findings depend strongly on each other through the core."""


def _setup(name: str, setting: str) -> tuple[Case, CompiledEngine, np.ndarray]:
    case = FEW_FINDINGS if name == "few" else Case.load(EXAMPLES / f"{name}.json")
    priors, chosen = resolve(case, setting, None)
    engine = engine_for(priors, chosen)
    return case, engine, engine.encode([evidence_for(case)])[0]


def _exact_joint(engine: CompiledEngine, base: np.ndarray, columns: list[int]) -> np.ndarray:
    cards = [len(engine.states[engine.observable[c]]) for c in columns]
    outcomes = np.indices(cards).reshape(len(cards), -1).T
    rows = np.repeat(base[None, :], len(outcomes), axis=0)
    rows[:, columns] = outcomes
    _, log_ev = engine.log_posterior_batch(rows)
    p = np.exp(log_ev - log_ev.max())
    return np.asarray(p / p.sum())


@pytest.mark.parametrize(
    ("name", "setting", "test_id"),
    [
        ("early_workup_vegf_pending", "paraproteinemic_neuropathy", "whole_body_ct"),
        ("early_workup_vegf_pending", "paraproteinemic_neuropathy", "endocrine_panel"),
        ("early_workup_vegf_pending", "paraproteinemic_neuropathy", "immunofixation_flc"),
        ("cidp_looking_neuropathy", "neuropathy_clinic", "whole_body_ct"),
        ("cidp_looking_neuropathy", "neuropathy_clinic", "endocrine_panel"),
        ("few", "neuropathy_clinic", "whole_body_ct"),
        ("few", "neuropathy_clinic", "echocardiography"),
    ],
)
def test_joint_draws_follow_the_exact_predictive_distribution(
    name: str, setting: str, test_id: str
) -> None:
    case, engine, base = _setup(name, setting)
    test = next(t for t in w.load_catalogue().tests if t.id == test_id)
    pairs = w.open_findings(case, test, engine)
    columns = [engine.observable.index(node) for _, node in pairs]
    cards = [len(engine.states[node]) for _, node in pairs]
    p = _exact_joint(engine, base, columns)
    draws = sample_open(engine, base, columns, N_DRAWS, np.random.default_rng(17))
    counts = np.bincount(np.ravel_multi_index(draws.T, cards), minlength=len(p))
    expected = N_DRAWS * p
    assert counts[expected == 0].sum() == 0  # nothing the network rules out is ever drawn
    big = expected >= 5  # Pearson's chi-square over the cells it is valid for
    pooled_observed = counts[~big].sum()
    pooled_expected = expected[~big].sum()
    chi2 = float(((counts[big] - expected[big]) ** 2 / expected[big]).sum())
    if pooled_expected >= 5:
        chi2 += (pooled_observed - pooled_expected) ** 2 / pooled_expected
    df = int(big.sum()) + (pooled_expected >= 5) - 1
    # mean df, sd sqrt(2 df): six standard deviations above is never reached by chance here
    assert chi2 < df + 6 * math.sqrt(2 * df), (chi2, df)


def test_draws_ignoring_the_shared_cluster_would_fail() -> None:
    """The check above has power: drawing each finding from its own marginal (dropping the
    dependence through the core and the cluster) is refused by the same statistic."""
    case, engine, base = _setup("few", "neuropathy_clinic")
    test = next(t for t in w.load_catalogue().tests if t.id == "whole_body_ct")
    pairs = w.open_findings(case, test, engine)
    columns = [engine.observable.index(node) for _, node in pairs]
    cards = [len(engine.states[node]) for _, node in pairs]
    p = _exact_joint(engine, base, columns).reshape(cards)
    rng = np.random.default_rng(17)
    independent = np.stack(
        [
            rng.choice(
                card, size=N_DRAWS, p=p.sum(axis=tuple(a for a in range(len(cards)) if a != j))
            )
            for j, card in enumerate(cards)
        ],
        axis=1,
    )
    counts = np.bincount(np.ravel_multi_index(independent.T, cards), minlength=p.size)
    expected = N_DRAWS * p.reshape(-1)
    big = expected >= 5
    chi2 = float(((counts[big] - expected[big]) ** 2 / expected[big]).sum())
    df = int(big.sum()) - 1
    assert chi2 > df + 6 * math.sqrt(2 * df)


def test_draws_are_reproducible_by_seed() -> None:
    case, engine, base = _setup("classic_poems", "paraproteinemic_neuropathy")
    pairs = w.open_findings(case, w.load_catalogue().tests[0], engine)
    columns = [engine.observable.index(node) for _, node in pairs]
    assert len(columns) > 10

    def draw(seed: int) -> np.ndarray:
        return sample_open(engine, base, columns, 128, np.random.default_rng(seed))

    np.testing.assert_array_equal(draw(3), draw(3))
    assert not np.array_equal(draw(3), draw(4))
    a = w.workup(case, engine, evidence_for(case), seed=5)
    b = w.workup(case, engine, evidence_for(case), seed=5)
    assert a.to_dict() == b.to_dict()


MC_CHECK_DRAWS = 6_000
MC_TOLERANCE = {"bits": 0.03, "abs_change": 0.02, "p_settles": 0.03}
"""Largest accepted |MC - exact| with MC_CHECK_DRAWS draws: about five Monte Carlo standard
errors of each estimate on these tests (the per-draw spread is at most ~0.5 bits, ~0.3 in
P(POEMS) and 0.5 for settling: 0.5 / sqrt(6000) = 0.0065)."""


@pytest.mark.parametrize(
    ("name", "setting"),
    [
        ("early_workup_vegf_pending", "paraproteinemic_neuropathy"),
        ("lambda_clone_with_amyloid", "paraproteinemic_neuropathy"),
        ("cidp_looking_neuropathy", "neuropathy_clinic"),
        ("few", "neuropathy_clinic"),
    ],
)
def test_monte_carlo_estimates_agree_with_exact_enumeration(
    name: str, setting: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    case, engine, _ = _setup(name, setting)
    catalogue = w.load_catalogue()
    small = tuple(
        t
        for t in catalogue.tests
        if 2 < math.prod(len(engine.states[n]) for _, n in w.open_findings(case, t, engine)) <= 64
    )
    everything = dataclasses.replace(
        catalogue,
        tests=small,
        min_information_bits=-1.0,
        min_abs_change_poems=-1.0,
        min_verdict_information_bits=-1.0,
        mimic_min_posterior=2.0,
    )
    evidence = evidence_for(case)
    exact = {i.test: i for i in w.workup(case, engine, evidence, None, everything).items}
    assert exact and all(i.method == "exact" for i in exact.values())
    monkeypatch.setattr(w, "EXACT_LIMIT", 0)
    monkeypatch.setattr(w, "MC_DRAWS", MC_CHECK_DRAWS)
    drawn = {i.test: i for i in w.workup(case, engine, evidence, None, everything, seed=9).items}
    assert drawn.keys() == exact.keys()
    for test, item in drawn.items():
        assert item.method == "monte_carlo"
        truth = exact[test]
        for field, tolerance in (
            ("expected_information_bits", "bits"),
            ("expected_abs_change_poems", "abs_change"),
        ):
            drawn_value, exact_value = getattr(item, field), getattr(truth, field)
            assert drawn_value is not None and exact_value is not None, (test, field)
            assert abs(drawn_value - exact_value) <= MC_TOLERANCE[tolerance], (test, field)
        assert item.p_settles_seed is not None and truth.p_settles_seed is not None
        assert abs(item.p_settles_seed - truth.p_settles_seed) <= MC_TOLERANCE["p_settles"], test


def test_stratified_uniforms_put_one_value_in_each_slice() -> None:
    rng = np.random.default_rng(7)
    for n in (1, 2, 128, 1000):
        u = _stratified(rng, n)
        assert u.shape == (n,) and ((u >= 0) & (u < 1)).all()
        assert sorted(np.floor(u * n).astype(int)) == list(range(n))  # one per slice
    first, second = _stratified(rng, 128), _stratified(rng, 128)
    assert not np.array_equal(np.argsort(first), np.argsort(second))  # orders are independent


def test_stratified_draws_spread_less_between_seeds_than_independent_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The point of the stratification: the same Monte Carlo estimate (here the mean
    probability of one drawn outcome over 128 draws) varies less from seed to seed than with
    independent uniforms, and both centre on the exact value."""
    _, engine, codes = _setup("few", "neuropathy_clinic")
    column = list(engine.observable).index("papilledema")
    exact_present = float(_exact_joint(engine, codes, [column])[0])

    def spread() -> tuple[float, float]:
        means = [
            float((sample_open(engine, codes, [column], 128, np.random.default_rng(s)) == 0).mean())
            for s in range(200)
        ]
        return float(np.mean(means)), float(np.std(means))

    mean_strat, sd_strat = spread()
    with monkeypatch.context() as patch:
        patch.setattr(predictive, "_stratified", lambda rng, n: rng.random(n))
        mean_iid, sd_iid = spread()
    assert abs(mean_iid - exact_present) < 4 * sd_iid / math.sqrt(200)
    assert abs(mean_strat - exact_present) < 4 * max(sd_strat, 1e-3) / math.sqrt(200)
    assert sd_strat < 0.8 * sd_iid


def test_stratified_rows_are_the_stratified_uniforms_drawn_one_after_the_other() -> None:
    """The uniforms of every cluster drawn at once are, to the last bit and in the same
    order from the generator, those of one :func:`_stratified` call per cluster."""
    for k, n in ((0, 5), (1, 1), (3, 128), (7, 33)):
        one_by_one = np.random.default_rng(k + n)
        expected = [_stratified(one_by_one, n) for _ in range(k)]
        rng = np.random.default_rng(k + n)
        rows = predictive._stratified_rows(rng, k, n)
        assert rows.shape == (k, n)
        for row, want in zip(rows, expected, strict=True):
            np.testing.assert_array_equal(row, want)
        assert rng.random() == one_by_one.random()  # the generator left in the same state


def _random_evidence(
    engine: CompiledEngine, rng: np.random.Generator, start: np.ndarray
) -> np.ndarray:
    """``start`` with a random few of its unobserved nodes set to random states."""
    row = start.copy()
    free = np.flatnonzero(row < 0)
    for column in rng.choice(free, size=int(rng.integers(0, min(6, len(free)) + 1)), replace=False):
        row[column] = rng.integers(engine._cards[column])
    return row


@pytest.mark.parametrize("setting", ["paraproteinemic_neuropathy", "neuropathy_clinic"])
@pytest.mark.parametrize("enumerate_limit", [predictive.ENUMERATE_LIMIT, 4])
def test_draws_equal_the_reference_draws_bit_for_bit(
    setting: str, enumerate_limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over 150 random patients (development-set cases with a few more findings drawn at
    random) and random sets of open nodes, the draws from the remembered tables and the
    side-by-side arena are those of the previous algorithm
    (``tests/predictive_reference.py``: one cdf per call at the distinct core states drawn),
    to the last draw, and the generator is left in the same state. With a pattern limit of
    4 most clusters are drawn node after node (the chain rule), so that path is compared
    too; the tables are emptied midway, as when their memory bound is reached."""
    from model.evaluation.devset import load_devset

    monkeypatch.setattr(predictive, "ENUMERATE_LIMIT", enumerate_limit)
    monkeypatch.setattr(predictive, "_PATTERNS", type(predictive._PATTERNS)())
    monkeypatch.setattr(predictive, "_LAYOUTS", type(predictive._LAYOUTS)())
    patients = [p.case for p in load_devset().patients]
    chooser = np.random.default_rng(14)
    for trial in range(150):
        case = patients[trial % len(patients)]
        priors, chosen = resolve(case, setting, None)
        engine = engine_for(priors, chosen)
        base = engine.encode([evidence_for(case)])[0]
        row = _random_evidence(engine, chooser, base) if trial >= len(patients) else base
        free = np.flatnonzero(engine.check_codes(row[None, :])[0] < 0)
        size = int(chooser.integers(1, min(26, len(free)) + 1))
        columns = sorted(chooser.choice(free, size=size, replace=False).tolist())
        n = int(chooser.choice([1, 7, 128]))
        seed = int(chooser.integers(1 << 30))
        if trial == 75:
            predictive._ARENAS.clear()
            predictive._CDFS.clear()
        new_rng, old_rng = np.random.default_rng(seed), np.random.default_rng(seed)
        drawn = sample_open(engine, row, columns, n, new_rng)
        expected = predictive_reference.sample_open(
            engine, row, columns, n, old_rng, enumerate_limit
        )
        np.testing.assert_array_equal(drawn, expected, err_msg=f"trial {trial}")
        assert new_rng.random() == old_rng.random()


def test_the_arena_grows_and_empties_without_changing_a_draw(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Small units' cdfs placed in an arena that has to grow (and, past its bound, is
    emptied) give the same draws as from a fresh arena."""
    case, engine, base = _setup("early_workup_vegf_pending", "paraproteinemic_neuropathy")
    test = next(t for t in w.load_catalogue().tests if t.id == "history_and_examination")
    columns = [engine.column[n] for _, n in w.open_findings(case, test, engine)]
    predictive._ARENAS.pop(engine, None)
    fresh = sample_open(engine, base, columns, 128, np.random.default_rng(5))
    arena = predictive._ARENAS[engine]
    monkeypatch.setattr(predictive, "ARENA_COLUMNS", arena.used)  # full: emptied next call
    again = sample_open(engine, base, columns, 128, np.random.default_rng(5))
    assert arena.used <= predictive.ARENA_COLUMNS
    np.testing.assert_array_equal(fresh, again)
    predictive._ARENAS.pop(engine, None)


def test_the_kept_core_distribution_is_the_evidence_row_s_own() -> None:
    """The draws do not depend on which evidence was drawn for before (the last core
    distribution is kept per engine): the same seed gives the same draws whether the
    previous call had the same evidence, other evidence, or none."""
    case, engine, base = _setup("early_workup_vegf_pending", "paraproteinemic_neuropathy")
    other = engine.encode([evidence_for(FEW_FINDINGS)])[0]
    test = next(t for t in w.load_catalogue().tests if t.id == "whole_body_ct")
    columns = [engine.column[n] for _, n in w.open_findings(case, test, engine)]
    predictive._LAST_CORE.clear()
    fresh = sample_open(engine, base, columns, 64, np.random.default_rng(3))
    again = sample_open(engine, base, columns, 64, np.random.default_rng(3))
    sample_open(engine, other, columns, 64, np.random.default_rng(4))
    after_other = sample_open(engine, base, columns, 64, np.random.default_rng(3))
    np.testing.assert_array_equal(fresh, again)
    np.testing.assert_array_equal(fresh, after_other)
    assert not np.array_equal(
        fresh, sample_open(engine, other, columns, 64, np.random.default_rng(3))
    )
