"""Random networks of the POEMS family and comparison with pgmpy (shared by engine tests)."""

from __future__ import annotations

import logging

import networkx as nx
import numpy as np
from pgmpy.factors.discrete import TabularCPD
from pgmpy.inference import VariableElimination
from pgmpy.models import DiscreteBayesianNetwork

from model.inference.compiled import CompiledEngine

logging.getLogger("pgmpy").setLevel(logging.ERROR)

TOLERANCE = 1e-9
BINARY = ["present", "absent"]


def random_columns(rng: np.random.Generator, card: int, n_cols: int) -> np.ndarray:
    """Dirichlet columns with some exact zeros (never a whole zero column)."""
    values = rng.dirichlet(np.full(card, 0.8), size=n_cols).T
    zeros = rng.random(values.shape) < 0.15
    values[zeros] = 0.0
    for col in range(n_cols):
        if values[:, col].sum() == 0.0:
            values[rng.integers(card), col] = 1.0
    return values / values.sum(axis=0, keepdims=True)


def random_network(seed: int) -> DiscreteBayesianNetwork:
    """A random network of the POEMS family (see the module docstring)."""
    rng = np.random.default_rng(seed)
    states: dict[str, list[str]] = {}
    parents: dict[str, list[str]] = {}

    def add(name: str, card_or_states: int | list[str], pars: list[str]) -> None:
        if isinstance(card_or_states, int):
            states[name] = [f"{name}_s{i}" for i in range(card_or_states)]
        else:
            states[name] = list(card_or_states)
        parents[name] = pars

    add("q", int(rng.integers(2, 6)), [])
    add("hub", int(rng.integers(2, 6)), ["q"])
    add("lone", int(rng.integers(2, 6)), ["q"])
    for i in range(int(rng.integers(2, 4))):
        add(f"lone_obs{i}", int(rng.integers(2, 6)), ["lone"])
    aggregates: dict[str, list[str]] = {}
    for a in range(int(rng.integers(1, 4))):
        parts = []
        for p in range(int(rng.integers(2, 5))):
            name = f"agg{a}_part{p}"
            add(name, BINARY, ["hub", "q"] if rng.random() < 0.5 else ["hub"])
            parts.append(name)
        aggregates[f"agg{a}"] = parts
        add(f"agg{a}", BINARY, parts)
    for f in range(int(rng.integers(4, 9))):
        kind = rng.integers(3)
        pars = [["hub"], ["hub", "q"], ["q"]][kind]
        add(f"finding{f}", int(rng.integers(2, 6)), pars)

    model = DiscreteBayesianNetwork()
    model.add_nodes_from(states)
    for child, pars in parents.items():
        model.add_edges_from((p, child) for p in pars)
    cpds = []
    for name, pars in parents.items():
        card = len(states[name])
        n_cols = int(np.prod([len(states[p]) for p in pars])) if pars else 1
        if name in aggregates:
            n_parts = len(pars)
            configs = np.array(np.unravel_index(np.arange(n_cols), [2] * n_parts)).T
            any_present = (configs == 0).any(axis=1)  # state 0 is "present"
            values = np.vstack([any_present, ~any_present]).astype(float)
        else:
            values = random_columns(rng, card, n_cols)
        cpds.append(
            TabularCPD(
                name,
                card,
                values,
                evidence=pars or None,
                evidence_card=[len(states[p]) for p in pars] or None,
                state_names={n: states[n] for n in [name, *pars]},
            )
        )
    model.add_cpds(*cpds)
    model.check_model()
    return model


def forward_sample(
    model: DiscreteBayesianNetwork, n: int, rng: np.random.Generator
) -> list[dict[str, str]]:
    """Ancestral samples of every node (so any subset of them is possible evidence)."""
    order = list(nx.topological_sort(model))
    drawn: dict[str, np.ndarray] = {}
    for node in order:
        cpd = model.get_cpds(node)
        parents = cpd.variables[1:]
        flat = cpd.get_values()
        col = np.zeros(n, dtype=np.int64)
        for p in parents:
            col = col * cpd.cardinality[cpd.variables.index(p)] + drawn[p]
        cum = np.cumsum(flat[:, col], axis=0)
        u = rng.random(n)
        drawn[node] = np.minimum((u[None, :] >= cum).sum(axis=0), flat.shape[0] - 1)
    names = {v: model.get_cpds(v).state_names[v] for v in order}
    return [{v: names[v][int(drawn[v][i])] for v in order} for i in range(n)]


def random_evidence(
    model: DiscreteBayesianNetwork,
    query: str,
    n: int,
    rng: np.random.Generator,
    uniform_fraction: float = 0.2,
) -> list[dict[str, str]]:
    """Random evidence: masked forward samples, and some uniformly random states."""
    observable = [v for v in model.nodes() if v != query]
    names = {v: model.get_cpds(v).state_names[v] for v in observable}
    n_uniform = int(n * uniform_fraction)
    samples = forward_sample(model, n - n_uniform, rng)
    patterns = []
    for i in range(n):
        rate = rng.uniform(0.05, 0.9)
        keep = [v for v in observable if rng.random() < rate]
        if i < n - n_uniform:
            patterns.append({v: samples[i][v] for v in keep})
        else:
            patterns.append({v: str(rng.choice(names[v])) for v in keep})
    order = rng.permutation(n)
    return [patterns[i] for i in order]


def evidence_probability_is_zero(
    infer: VariableElimination, query: str, evidence: dict[str, str]
) -> bool:
    """P(evidence) = 0 by the chain rule over pgmpy conditionals.

    pgmpy prunes d-separated evidence, so it can return a finite answer for impossible
    evidence; each conditional P(e_i | e_<i) is right while e_<i is possible, so the first
    zero factor in the chain proves the evidence impossible.
    """
    seen: dict[str, str] = {}
    for node, state in evidence.items():
        factor = infer.query([node], evidence=seen or None, show_progress=False)
        if factor.get_value(**{node: state}) == 0.0:
            return True
        seen[node] = state
    return False


def compare_with_pgmpy(
    model: DiscreteBayesianNetwork, engine: CompiledEngine, patterns: list[dict[str, str]]
) -> tuple[float, int]:
    """Max abs difference over possible patterns; number of impossible ones (all checked)."""
    infer = VariableElimination(model)
    posts = engine.posterior_batch(engine.encode(patterns), on_impossible="nan", use_numba=False)
    impossible = CompiledEngine.impossible(posts)
    worst = 0.0
    checked_impossible = 0
    for i, evidence in enumerate(patterns):
        if impossible[i]:
            if checked_impossible < 15:
                assert evidence_probability_is_zero(infer, engine.query, evidence), evidence
            checked_impossible += 1
            continue
        ref = infer.query([engine.query], evidence=evidence or None, show_progress=False)
        ref_values = np.array([ref.get_value(**{engine.query: s}) for s in engine.query_states])
        worst = max(worst, float(np.abs(ref_values - posts[i]).max()))
    return worst, int(impossible.sum())
