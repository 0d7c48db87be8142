"""The compiled engine against pgmpy's variable elimination, on random networks of the family.

Every random network has the POEMS shape: a root query, a hub latent with many children
(which the automatic core choice must condition on), a latent with a single cluster (summed
inside it), findings with one or two parents, deterministic OR aggregates over binary parts,
random state counts 2-5 and CPTs with exact zeros. Evidence patterns are drawn at random over
every observable node (latents and aggregates included); the engine must match pgmpy to
1e-9 wherever the evidence is possible, and must flag exactly the impossible patterns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from network_helpers import (
    TOLERANCE,
    compare_with_pgmpy,
    random_columns,
    random_evidence,
    random_network,
)
from pgmpy.factors.discrete import TabularCPD
from pgmpy.inference import VariableElimination
from pgmpy.models import DiscreteBayesianNetwork

from model.exceptions import InputError
from model.inference.compiled import (
    NUMBA_MIN_CASES,
    RECENT_POSTERIORS,
    CompiledEngine,
    ImpossibleEvidenceError,
)
from model.inference.compiled_structure import _maximal_scopes
from model.inference.engine import default_priors, engine_for


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_agrees_with_pgmpy_on_random_networks(seed: int) -> None:
    """2,400 random patterns per network: >= 10,000 possible ones over the five networks."""
    model = random_network(seed)
    engine = CompiledEngine.from_pgmpy(model, query="q", max_patterns=2000)
    assert "hub" in engine.core, engine.core
    assert "lone" not in engine.core  # a latent with one cluster is summed inside it
    patterns = random_evidence(model, "q", 2400, np.random.default_rng(100 + seed))
    worst, n_impossible = compare_with_pgmpy(model, engine, patterns)
    assert worst <= TOLERANCE
    assert len(patterns) - n_impossible >= 2000
    assert n_impossible > 0  # the impossible branch is exercised too


@pytest.mark.parametrize(
    ("core", "label"), [(["hub", "lone"], "lone in the core"), (["hub"], "hub given")]
)
def test_any_core_gives_the_same_answer(core: list[str], label: str) -> None:
    model = random_network(7)
    engine = CompiledEngine.from_pgmpy(model, query="q", core=core, group_patterns=1)
    auto = CompiledEngine.from_pgmpy(model, query="q", max_patterns=2000)
    patterns = random_evidence(model, "q", 300, np.random.default_rng(7))
    codes = engine.encode(patterns)
    a = engine.posterior_batch(codes, on_impossible="nan", use_numba=False)
    b = auto.posterior_batch(codes, on_impossible="nan", use_numba=False)
    assert np.array_equal(np.isnan(a), np.isnan(b)), label
    assert np.nanmax(np.abs(a - b)) <= TOLERANCE, label
    worst, _ = compare_with_pgmpy(model, engine, patterns[:100])
    assert worst <= TOLERANCE, label


def test_a_core_that_leaves_a_huge_cluster_is_refused() -> None:
    model = random_network(7)
    with pytest.raises(InputError, match="add one of its latents to the core"):
        CompiledEngine.from_pgmpy(model, query="q", core=[], max_patterns=1000)


def test_numba_and_numpy_paths_agree() -> None:
    model = random_network(11)
    engine = CompiledEngine.from_pgmpy(model, query="q", max_patterns=2000)
    patterns = random_evidence(model, "q", 500, np.random.default_rng(11))
    codes = np.repeat(engine.encode(patterns), 6, axis=0)  # above the numba threshold
    fast = engine.posterior_batch(codes, on_impossible="nan", use_numba=True)
    slow = engine.posterior_batch(codes, on_impossible="nan", use_numba=False)
    assert np.array_equal(np.isnan(fast), np.isnan(slow))
    assert np.nanmax(np.abs(fast - slow)) <= 1e-12
    rows = ~CompiledEngine.impossible(fast)
    assert np.allclose(fast[rows].sum(axis=1), 1.0, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scoped_kernel_agrees_with_pgmpy_on_random_networks(seed: int) -> None:
    """The batch kernel stores each table over its scope only (the core variables its
    clusters read) and combines the scopes per core state;
    it must give pgmpy's posterior to 1e-9 and flag exactly the impossible patterns."""
    model = random_network(seed)
    # with the single-cluster latent in the core, the core is q x hub x lone and the
    # tables fall into the scopes q x hub and lone
    engine = CompiledEngine.from_pgmpy(model, query="q", core=["hub", "lone"])
    scopes = engine.describe()["scopes"]
    assert len(scopes) >= 2 and all(len(s) < len(engine.core) for s in scopes), scopes
    patterns = random_evidence(model, "q", 400, np.random.default_rng(200 + seed))
    codes = engine.encode(patterns)
    fast = engine.posterior_batch(codes, on_impossible="nan", use_numba=True)
    slow = engine.posterior_batch(codes, on_impossible="nan", use_numba=False)
    assert np.array_equal(np.isnan(fast), np.isnan(slow))
    assert np.nanmax(np.abs(fast - slow)) <= 1e-12
    infer = VariableElimination(model)
    checked = 0
    for i, evidence in enumerate(patterns[:150]):
        if np.isnan(fast[i, 0]):
            continue
        ref = infer.query(["q"], evidence=evidence or None, show_progress=False)
        expected = [ref.get_value(q=s) for s in engine.query_states]
        assert np.abs(fast[i] - expected).max() <= TOLERANCE, evidence
        checked += 1
    assert checked >= 50


def test_scopes_absorb_their_subsets() -> None:
    """A scope inside another (q alone inside hub x q) is stored over the larger one, so
    the kernel gathers fewer scopes per core state; maximal scopes stay as they are."""
    absorbed = _maximal_scopes([(0,), (1,), (0, 1), (0, 2), ()])
    assert absorbed == {(0,): (0, 1), (1,): (0, 1), (0, 1): (0, 1), (0, 2): (0, 2), (): (0, 1)}


def test_impossible_evidence_is_an_error_not_nan() -> None:
    model = random_network(3)
    engine = CompiledEngine.from_pgmpy(model, query="q")
    # an OR aggregate absent while one of its parts is present has probability zero
    evidence = {"agg0": "absent", "agg0_part0": "present"}
    with pytest.raises(ImpossibleEvidenceError, match="probability zero"):
        engine.posterior(evidence)
    posts = engine.posterior_batch(engine.encode([evidence, {}]), on_impossible="nan")
    assert np.isnan(posts[0]).all()
    assert np.isclose(posts[1].sum(), 1.0)


def test_no_evidence_gives_the_prior() -> None:
    model = random_network(5)
    engine = CompiledEngine.from_pgmpy(model, query="q")
    prior = model.get_cpds("q").values
    assert np.allclose(list(engine.posterior({}).values()), prior, atol=1e-15)


def test_encode_names_unknown_nodes_and_states() -> None:
    model = random_network(2)
    engine = CompiledEngine.from_pgmpy(model, query="q")
    with pytest.raises(InputError, match="evidence node must be one of"):
        engine.encode([{"hubb": "hub_s0"}])
    with pytest.raises(InputError, match=r"evidence hub must be one of 'hub_s0'"):
        engine.encode([{"hub": "hub_s9"}])
    with pytest.raises(InputError, match="other than the query"):
        engine.encode([{"q": "q_s0"}])
    with pytest.raises(InputError, match="state index"):
        engine.posterior_batch(np.full((1, len(engine.observable)), 7, dtype=np.int8))


def _batched_tables(
    model: DiscreteBayesianNetwork, n_draws: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Random (non-aggregate) CPDs with a leading draw axis, in pgmpy column order."""
    tables = {}
    for cpd in model.get_cpds():
        if cpd.variable.startswith("agg") and "part" not in cpd.variable:
            continue
        flat = cpd.get_values()
        draws = np.stack([random_columns(rng, *flat.shape) for _ in range(n_draws)])
        tables[cpd.variable] = draws
    return tables


def test_posterior_under_table_batches_matches_recompiled_engines() -> None:
    model = random_network(9)
    engine = CompiledEngine.from_pgmpy(model, query="q", max_patterns=2000)
    rng = np.random.default_rng(9)
    tables = _batched_tables(model, 6, rng)
    patterns = [p for p in random_evidence(model, "q", 40, rng) if "agg0" in p][:8]
    patterns.append({})
    for evidence in patterns:
        try:
            batched = engine.posterior_under(tables, evidence)
        except ImpossibleEvidenceError:
            continue
        assert batched.shape == (6, len(engine.query_states))
        for d in range(6):
            single = engine.with_tables({k: v[d] for k, v in tables.items()})
            expected = single.posterior_batch(single.encode([evidence]), use_numba=False)[0]
            assert np.abs(batched[d] - expected).max() <= TOLERANCE


def test_posterior_under_point_tables_equals_posterior() -> None:
    model = random_network(4)
    engine = CompiledEngine.from_pgmpy(model, query="q", max_patterns=2000)
    point = {cpd.variable: cpd.get_values()[None] for cpd in model.get_cpds()}
    for evidence in random_evidence(model, "q", 30, np.random.default_rng(4)):
        try:
            expected = engine.posterior(evidence)
        except ImpossibleEvidenceError:
            with pytest.raises(ImpossibleEvidenceError):
                engine.posterior_under(point, evidence)
            continue
        got = engine.posterior_under(point, evidence)[0]
        assert np.abs(got - np.array(list(expected.values()))).max() <= TOLERANCE


def test_with_tables_checks_names_and_shapes() -> None:
    model = random_network(1)
    engine = CompiledEngine.from_pgmpy(model, query="q")

    class Table:
        def __init__(self, array: np.ndarray, parents: tuple[str, ...]) -> None:
            self.array = array
            self.parents = parents
            self.states: Any = None

    hub = model.get_cpds("hub").get_values()
    with pytest.raises(InputError, match=r"table hub.parents must be \('q',\)"):
        engine.with_tables({"hub": Table(hub, ("x",))})
    with pytest.raises(InputError, match="table hub must be shape"):
        engine.with_tables({"hub": hub[:, :1]})
    with pytest.raises(InputError, match="no batch axis"):
        engine.with_tables({"hub": hub[None]})


def _root_with_findings(
    tables: list[list[list[float]]],
) -> tuple[DiscreteBayesianNetwork, dict[str, str]]:
    """A two-state root q (prior 0.3 / 0.7) with one binary finding per table below it, every
    finding observed present."""
    states = {"q": ["a", "b"]}
    model = DiscreteBayesianNetwork()
    model.add_node("q")
    cpds = [TabularCPD("q", 2, [[0.3], [0.7]], state_names=states)]
    evidence = {}
    for i, table in enumerate(tables):
        name = f"f{i}"
        model.add_edge("q", name)
        cpds.append(
            TabularCPD(
                name,
                2,
                table,
                evidence=["q"],
                evidence_card=[2],
                state_names={name: ["present", "absent"], **states},
            )
        )
        evidence[name] = "present"
    model.add_cpds(*cpds)
    return model, evidence


def test_extreme_likelihoods_fall_back_to_the_log_domain() -> None:
    """Findings pulling both ways with likelihoods of 1e-30 drive every unnormalised weight
    below 1e-280; the batch kernel must then rescore in the log domain, not return 0/0."""
    model, evidence = _root_with_findings(
        [
            [[1e-30, 0.5], [1 - 1e-30, 0.5]] if i % 2 else [[0.5, 1e-30], [0.5, 1 - 1e-30]]
            for i in range(24)
        ]
    )
    engine = CompiledEngine.from_pgmpy(model, query="q", group_patterns=1)
    codes = np.repeat(engine.encode([evidence]), NUMBA_MIN_CASES, axis=0)
    fast = engine.posterior_batch(codes, use_numba=True)[0]
    slow = engine.posterior_batch(codes[:1], use_numba=False)[0]
    # 12 findings favour each state equally: the posterior is the prior
    assert np.abs(fast - [0.3, 0.7]).max() <= 1e-12
    assert np.abs(slow - [0.3, 0.7]).max() <= 1e-12


def test_log_domain_rescue_with_scoped_tables() -> None:
    """Underflow in a core of three variables whose tables have different scopes: q alone
    (24 findings of likelihood 1e-200 pulling both ways equally, so they cancel), hub x q
    (ordinary findings) and an observed root r (core evidence, scope r alone). The kernel
    must rescore from the log rows and give the posterior without the cancelling findings."""
    q_states, hub_states, r_states = ["a", "b", "c"], ["lo", "hi"], ["young", "old"]
    model = DiscreteBayesianNetwork()
    model.add_edges_from([("r", "q"), ("q", "hub")])
    cpds = [
        TabularCPD("r", 2, [[0.4], [0.6]], state_names={"r": r_states}),
        TabularCPD(
            "q",
            3,
            [[0.2, 0.5], [0.3, 0.3], [0.5, 0.2]],
            evidence=["r"],
            evidence_card=[2],
            state_names={"q": q_states, "r": r_states},
        ),
        TabularCPD(
            "hub",
            2,
            [[0.9, 0.4, 0.1], [0.1, 0.6, 0.9]],
            evidence=["q"],
            evidence_card=[3],
            state_names={"hub": hub_states, "q": q_states},
        ),
    ]
    tiny_evidence = {}
    for i in range(24):  # q alone: favour a or b by 1e200 in turn; c is 1e-200 in all
        name = f"f{i}"
        model.add_edge("q", name)
        present = [0.5, 1e-200, 1e-200] if i % 2 else [1e-200, 0.5, 1e-200]
        cpds.append(
            TabularCPD(
                name,
                2,
                [present, [1 - x for x in present]],
                evidence=["q"],
                evidence_card=[3],
                state_names={name: ["present", "absent"], "q": q_states},
            )
        )
        tiny_evidence[name] = "present"
    ordinary = {}
    for i in range(6):  # hub x q
        name = f"g{i}"
        model.add_edges_from([("hub", name), ("q", name)])
        present = [0.1 + 0.1 * i, 0.7, 0.3, 0.2, 0.9 - 0.1 * i, 0.5]
        cpds.append(
            TabularCPD(
                name,
                2,
                [present, [1 - x for x in present]],
                evidence=["hub", "q"],
                evidence_card=[2, 3],
                state_names={name: ["present", "absent"], "hub": hub_states, "q": q_states},
            )
        )
        ordinary[name] = "present" if i % 3 else "absent"
    model.add_cpds(*cpds)
    engine = CompiledEngine.from_pgmpy(model, query="q", core=["hub"])
    assert set(engine.core) == {"q", "hub", "r"}
    scopes = engine.describe()["scopes"]
    assert len(scopes) >= 2, scopes
    ordinary["r"] = "old"
    codes = np.repeat(engine.encode([{**tiny_evidence, **ordinary}]), NUMBA_MIN_CASES, axis=0)
    fast = engine.posterior_batch(codes, use_numba=True)
    # a and b keep the same weight (0.5^12 * 1e-2400 each), c is 1e-2400 below them
    ref = VariableElimination(model).query(["q"], evidence=ordinary, show_progress=False)
    weights = np.array([ref.get_value(q=s) for s in q_states]) * [1.0, 1.0, 0.0]
    expected = weights / weights.sum()
    assert np.isfinite(fast).all()
    assert np.abs(fast - expected).max() <= 1e-12


def test_posterior_under_extreme_and_impossible_rows_take_the_log_domain() -> None:
    """posterior_under multiplies likelihoods in the linear domain; a table set whose weights
    all fall below the floor is redone with logs (the right posterior, not 0/0), and one whose
    evidence is impossible is reported, while the other rows keep their values."""
    model, evidence = _root_with_findings([[[0.5, 0.5], [0.5, 0.5]]] * 24)
    engine = CompiledEngine.from_pgmpy(model, query="q")
    tiny = np.array([[1e-30, 0.5], [1 - 1e-30, 0.5]])
    tables = {}
    for i in range(24):
        extreme = tiny if i % 2 else tiny[:, ::-1]
        tables[f"f{i}"] = np.stack([extreme, [[0.5, 0.5], [0.5, 0.5]], [[0.2, 0.6], [0.8, 0.4]]])
    got = engine.posterior_under(tables, evidence)
    assert np.abs(got[0] - [0.3, 0.7]).max() <= 1e-12  # 12 findings each way: the prior
    assert np.abs(got[1] - [0.3, 0.7]).max() <= 1e-12
    ratio = 0.3 * 0.2**24 / (0.3 * 0.2**24 + 0.7 * 0.6**24)
    assert got[2, 0] == pytest.approx(ratio, rel=1e-12)
    impossible = dict(tables)
    impossible["f0"] = np.stack([tables["f0"][0], [[0.0, 0.0], [1.0, 1.0]], tables["f0"][2]])
    with pytest.raises(ImpossibleEvidenceError, match="1 of 3 table sets"):
        engine.posterior_under(impossible, evidence)


def test_log_posterior_batch_keeps_the_reference_arithmetic() -> None:
    """The table rows come from a floating-point product, a few cases gather their rows at
    once, and each query state's core states are summed as one block: the numbers equal, bit
    for bit, the integer product, the group-by-group additions and the masked sums
    (pairwise for one row, left to right for several) the engine used before."""
    engine = engine_for(default_priors(), "neuropathy_clinic")
    rng = np.random.default_rng(3)
    cards = np.array([len(engine.states[n]) for n in engine.observable])
    for n in (1, 1, 1, 2, 3, 7, 8, 9, 64):
        codes = (rng.integers(-1, cards, size=(n, len(cards)))).astype(np.int8)
        codes[:, rng.random(len(cards)) < 0.7] = -1
        arr = engine.check_codes(codes)
        idx = engine._offsets[None, :] + (arr.astype(np.int64) + 1) @ engine._stride_matrix
        assert np.array_equal(engine._group_rows(arr), idx)
        loglik = engine._log_tables.take(idx[:, 0], axis=0)
        for g in range(1, idx.shape[1]):
            loglik += engine._log_tables.take(idx[:, g], axis=0)
        loglik = engine._log_prior[None, :] + loglik
        assert np.array_equal(engine._log_likelihood(arr), loglik)
        top = loglik.max(axis=1, keepdims=True)
        finite_top = np.where(np.isfinite(top), top, 0.0)
        weights = np.exp(loglik - finite_top)
        n_query = len(engine.query_states)
        to_query = np.repeat(np.arange(n_query), engine.n_core // n_query)
        masks = [to_query == q for q in range(n_query)]
        per_query = np.stack([weights[:, m].sum(axis=1) for m in masks], axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_evidence = np.log(per_query.sum(axis=1)) + finite_top[:, 0]
            log_post = np.log(per_query) + finite_top - log_evidence[:, None]
        got_post, got_evidence = engine.log_posterior_batch(codes)
        finite = np.isfinite(top[:, 0])
        assert np.array_equal(got_post[finite], log_post[finite])
        assert np.array_equal(got_evidence[finite], log_evidence[finite])


def test_remembered_posteriors_equal_fresh_ones_and_stay_few() -> None:
    """``posterior`` remembers its last answers: the same numbers as a fresh engine's, a
    returned dict can be changed without touching them, and at most RECENT_POSTERIORS are
    kept however many patients are seen."""
    engine = engine_for(default_priors(), "neuropathy_clinic")
    fresh = engine.with_tables({})
    evidence = {"polyneuropathy": "present", "sclerotic_bone_lesion": "present"}
    first = engine.posterior(evidence)
    first["poems"] = -1.0
    again = engine.posterior(evidence)
    assert again == fresh.posterior(evidence)
    assert again["poems"] != -1.0
    for state in ("present", "absent"):
        for node in engine.observable[3:40]:
            if state in engine.states[node]:
                engine.posterior({**evidence, node: state})
    assert 0 < len(engine._recent) <= RECENT_POSTERIORS


def test_check_codes_fills_implied_evidence_on_a_copy() -> None:
    """Implied evidence (the setting's defining findings) fills only the unobserved cells of
    its columns, in a new array: the caller's codes are left as they were."""
    engine = engine_for(default_priors(), "paraproteinemic_neuropathy")
    assert engine.implied
    codes = np.full((3, len(engine.observable)), -1, dtype=np.int8)
    first = next(iter(engine.implied))
    column = engine.column[first]
    codes[1, column] = 1 - engine.states[first].index(engine.implied[first])
    given = codes.copy()
    checked = engine.check_codes(codes)
    assert np.array_equal(codes, given)
    for node, state in engine.implied.items():
        filled = checked[:, engine.column[node]]
        expected = np.full(3, engine.states[node].index(state))
        if node == first:
            expected[1] = codes[1, column]
        assert np.array_equal(filled, expected)
    others = [j for j in range(codes.shape[1]) if engine.observable[j] not in engine.implied]
    assert np.array_equal(checked[:, others], codes[:, others])
