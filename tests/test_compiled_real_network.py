"""The compiled engine on the real POEMS network (repository priors) against pgmpy.

Random evidence over every clinically observable node (findings, aggregates, VEGF bands by
specimen, ``vegf_elevated``, marrow band, light and heavy chain), in every setting: masked
forward samples (always possible) and uniformly random states (often contradictory: an
aggregate absent with a part present must be flagged, never scored).
"""

from __future__ import annotations

import numpy as np
import pytest
from network_helpers import TOLERANCE, compare_with_pgmpy, random_evidence

from model.inference.compiled import CompiledEngine
from model.network import build_network, build_tables
from model.network.structure import ACTIVITY, DIAGNOSIS, LATENT_NODES, NODES
from model.parameters import load_priors

PRIORS = load_priors()
OBSERVABLE = tuple(n for n in NODES if n != DIAGNOSIS and n not in LATENT_NODES)


def _engine(setting: str) -> tuple[object, CompiledEngine]:
    model = build_network(PRIORS, setting)
    return model, CompiledEngine.from_pgmpy(model, query=DIAGNOSIS, observable=OBSERVABLE)


def test_core_is_small_and_holds_the_diagnosis_and_the_activity() -> None:
    _, engine = _engine("neuropathy_clinic")
    assert engine.core[0] == DIAGNOSIS and ACTIVITY in engine.core
    assert engine.n_core <= 15 * 3 * 3  # diagnosis x activity x at most one more small latent
    assert engine.query_states == NODES[DIAGNOSIS].states
    clusters = {frozenset(c) for c in engine.clusters}
    assert any(
        {"plasma_cell_clone", "monoclonal_protein", "light_chain", "heavy_chain"} <= c
        for c in clusters
    )
    assert frozenset({"organomegaly", "hepatomegaly", "splenomegaly", "lymphadenopathy"}) in (
        clusters
    )


@pytest.mark.slow
@pytest.mark.parametrize("setting", sorted(PRIORS.settings))
def test_agrees_with_pgmpy_on_the_real_network(setting: str) -> None:
    model, engine = _engine(setting)
    rng = np.random.default_rng(sum(map(ord, setting)))
    patterns = random_evidence(model, DIAGNOSIS, 500, rng, uniform_fraction=0.3)
    patterns = [{k: v for k, v in p.items() if k in OBSERVABLE} for p in patterns]
    worst, n_impossible = compare_with_pgmpy(model, engine, patterns)
    assert worst <= TOLERANCE
    assert len(patterns) - n_impossible >= 320
    assert n_impossible > 0


def test_table_batches_from_build_tables_match_point_engine() -> None:
    """posterior_under with build_tables(values=...) equals engines compiled per value."""
    setting = "paraproteinemic_neuropathy"
    _, engine = _engine(setting)
    parameter = next(
        p for p in PRIORS.parameters() if p.key.startswith("latent.poems_activity.given.poems")
    )
    grid = np.array([max(parameter.p * 0.5, 1e-3), parameter.p, min(parameter.p * 1.5, 0.95)])
    tables = build_tables(PRIORS, setting, values={parameter.key: grid})
    evidence = {
        "polyneuropathy": "present",
        "monoclonal_protein": "present",
        "light_chain": "lambda",
        "vegf_serum": "from_4x_to_10x",
        "skin_changes": "present",
        "hepatomegaly": "absent",
    }
    batched = engine.posterior_under(tables, evidence)
    assert batched.shape == (3, len(engine.query_states))
    for i in range(3):
        point = {n: t.array[i] if t.array.ndim == 3 else t.array for n, t in tables.items()}
        single = engine.with_tables(point)
        expected = single.posterior(evidence)
        assert np.abs(batched[i] - np.array(list(expected.values()))).max() <= TOLERANCE


def test_or_aggregate_closed_form_agrees_with_pgmpy() -> None:
    """Table batches take a closed form for OR aggregates; check it on every mix of
    aggregate and part evidence (aggregate present/absent/unobserved x parts in any state),
    against pgmpy's variable elimination at the point values."""
    from pgmpy.inference import VariableElimination

    from model.inference.compiled import ImpossibleEvidenceError
    from model.vocabulary import AGGREGATES

    setting = "neuropathy_clinic"
    model, engine = _engine(setting)
    point = {n: t.array[None] for n, t in build_tables(PRIORS, setting).items()}
    batch = engine.prepare(point)
    assert {"organomegaly", "skin_changes", "endocrinopathy"} <= batch.or_nodes
    ve = VariableElimination(model)
    rng = np.random.default_rng(2026)
    checked = impossible = 0
    for _ in range(120):
        evidence: dict[str, str] = {"polyneuropathy": "present"}
        for agg, parts in AGGREGATES.items():
            if agg == "vegf_elevated":
                continue
            choice = rng.integers(3)
            if choice < 2:
                evidence[agg] = ("present", "absent")[choice]
            for part in parts:
                if rng.random() < 0.4:
                    evidence[part] = ("present", "absent")[int(rng.integers(2))]
        try:
            got = engine.posterior_under(batch, evidence)[0]
        except ImpossibleEvidenceError:
            impossible += 1
            assert any(
                evidence.get(agg) == "absent" and any(evidence.get(p) == "present" for p in parts)
                for agg, parts in AGGREGATES.items()
            )
            continue
        expected = ve.query([DIAGNOSIS], evidence=evidence, show_progress=False)
        want = np.array([expected.get_value(diagnosis=s) for s in engine.query_states])
        assert np.abs(got - want).max() <= TOLERANCE
        checked += 1
    assert checked >= 40 and impossible >= 5


@pytest.mark.parametrize("setting", sorted(PRIORS.settings))
def test_engine_from_tables_is_the_engine_from_the_pgmpy_model(setting: str) -> None:
    """The app compiles from the named tables (no pgmpy import); it must be the very same
    model as compiling the pgmpy network built from those tables."""
    model, from_pgmpy = _engine(setting)
    from_tables = CompiledEngine.from_tables(
        build_tables(PRIORS, setting), query=DIAGNOSIS, observable=OBSERVABLE
    )
    assert from_tables.core == from_pgmpy.core
    assert from_tables.observable == from_pgmpy.observable
    assert from_tables.states == from_pgmpy.states
    for cpd in model.get_cpds():
        node = from_tables._nodes[cpd.variable]
        assert node.parents == tuple(cpd.variables[1:])
        assert np.array_equal(node.values, np.asarray(cpd.values))
    rng = np.random.default_rng(7)
    patterns = random_evidence(model, DIAGNOSIS, 300, rng, uniform_fraction=0.0)
    codes = from_pgmpy.encode([{k: v for k, v in p.items() if k in OBSERVABLE} for p in patterns])
    a = from_pgmpy.posterior_batch(codes, on_impossible="nan", use_numba=False)
    b = from_tables.posterior_batch(codes, on_impossible="nan", use_numba=False)
    assert np.allclose(a, b, rtol=0, atol=1e-15, equal_nan=True)


@pytest.mark.parametrize("setting", ["paraproteinemic_neuropathy", "general_population"])
def test_table_batches_of_draws_match_engines_built_per_draw(setting: str) -> None:
    """posterior_under over parameter draws (the incidental-MGUS state summed into the clone
    once per batch, an observed age band fixing the core, OR aggregates in closed form alone
    and inside the endocrine cluster, the draws stored last) equals, row by row, the engine
    compiled from that draw's tables, on random evidence over every observable node."""
    from model.inference.compiled import ImpossibleEvidenceError

    model, engine = _engine(setting)
    rng = np.random.default_rng(14)
    tables = build_tables(PRIORS, setting, values=PRIORS.sample(3, rng))
    batch = engine.prepare(tables)
    singles = [
        engine.with_tables(
            {n: t.array[i] if t.array.ndim == 3 else t.array for n, t in tables.items()}
        )
        for i in range(3)
    ]
    patterns = random_evidence(model, DIAGNOSIS, 80, rng, uniform_fraction=0.3)
    patterns = [{k: v for k, v in p.items() if k in OBSERVABLE} for p in patterns]
    assert sum("age_band" in p for p in patterns) >= 20
    assert sum("plasma_cell_clone" not in p and "monoclonal_protein" in p for p in patterns) >= 20
    checked = impossible = 0
    for evidence in patterns:
        try:
            got = engine.posterior_under(batch, evidence)
        except ImpossibleEvidenceError:
            impossible += 1
            with pytest.raises(ImpossibleEvidenceError):
                singles[0].posterior(evidence)
            continue
        for i, single in enumerate(singles):
            expected = np.array(list(single.posterior(evidence).values()))
            assert np.abs(got[i] - expected).max() <= 1e-12
        checked += 1
    assert checked >= 50


def test_single_case_posterior_normalises_as_the_shared_routine_bit_for_bit() -> None:
    """``CompiledEngine.posterior`` normalises one row itself (the query is the slowest core
    axis); every number must be the one ``_normalise`` gives on the same log-likelihoods."""
    from model.inference.compiled_tables import _normalise
    from model.inference.engine import engine_for

    setting = "paraproteinemic_neuropathy"
    engine = engine_for(PRIORS, setting)
    model = build_network(PRIORS, setting)
    rng = np.random.default_rng(11)
    checked = 0
    for pattern in random_evidence(model, DIAGNOSIS, 300, rng, uniform_fraction=0.3):
        evidence = {n: s for n, s in pattern.items() if n in engine.column}
        try:
            got = engine.posterior(evidence)
        except ValueError:  # impossible evidence: raised as before
            continue
        codes = engine.check_codes(engine.encode([engine.with_implied(evidence)]))
        expected = _normalise(
            engine._log_likelihood(codes), engine._core_to_query, len(engine.query_states)
        )[0]
        assert [v.hex() for v in got.values()] == [float(v).hex() for v in expected]
        checked += 1
    assert checked > 200
