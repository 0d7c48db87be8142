"""Joint draws of unobserved findings from the network's predictive distribution.

Given evidence ``e`` and a set of open nodes ``X``, :func:`sample_open` draws ``X`` from
``P(X | e)`` without scoring any case: it works on the compiled engine's pattern tables
(:mod:`model.inference.compiled`, whose module docstring gives the factorisation)

    P(core, e, X) = P(core) * prod_K L_K(e_K, X_K | core),

where ``L_K`` is a table group's likelihood of an evidence pattern given the core state. So

1. the core state is drawn from ``P(core | e)`` (the normalised sum of the evidence rows),
2. given the core state the groups are independent, and inside a group the open nodes are
   drawn one after the other by the chain rule: the pattern with the nodes drawn so far
   set and the rest unobserved has likelihood ``L(pattern | core)``, so

       P(x_j | core, e, x_1..x_{j-1}) = L(pattern + x_j | core) / L(pattern | core).

Every draw is exact (no approximation beyond the random numbers): the draws of all cases
are vectorised, one uniform vector for the core and one per open node, from a seeded
``numpy`` generator, so the same seed gives the same draws. A node the evidence states is
not drawn (leave it out of ``columns``); the engine's implied evidence applies to the other
unobserved nodes, exactly as when the drawn outcome is scored.

The engine is read, never changed: this module uses its compiled arrays (``_log_tables``,
``_log_prior``, ``_offsets``, ``_col_cluster``, ``_col_stride``, ``_stride_matrix``).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import numpy as np

from model.inference.compiled import UNOBSERVED, CompiledEngine


def _cluster_of(engine: CompiledEngine) -> dict[int, int]:
    """Observable column -> index of the cluster holding it (remembered per engine)."""
    known = _CLUSTERS.get(engine)
    if known is None:
        column = {name: j for j, name in enumerate(engine.observable)}
        known = {
            column[name]: k
            for k, cluster in enumerate(engine._clusters)
            for name in cluster.observable
            if name in column
        }
        _CLUSTERS[engine] = known
    return known


_CLUSTERS: weakref.WeakKeyDictionary[CompiledEngine, dict[int, int]] = weakref.WeakKeyDictionary()
ENUMERATE_LIMIT = 1024
"""A cluster's open nodes are drawn as one joint pattern when they have at most this many;
beyond, one node after the other by the chain rule (the same distribution)."""


def sample_open(
    engine: CompiledEngine,
    codes: np.ndarray,
    columns: Sequence[int],
    n: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``n`` joint draws of the nodes at ``columns`` given the evidence ``codes``.

    Parameters
    ----------
    engine : the compiled engine.
    codes : one encoded evidence row (``engine.encode``), shape (n_observable,).
    columns : observable column indices of the nodes to draw.
    n : number of draws.
    rng : the random generator: one vector of ``n`` uniforms for the core state, then one
        per cluster holding open nodes (in the order of their first column), plus one per
        further node of a cluster too large to draw its nodes jointly.

    Returns
    -------
    int array (n, len(columns)): the state index drawn for each column. When the evidence
    is impossible (probability zero), every node is drawn uniformly.
    """
    columns = [int(c) for c in columns]
    out = np.empty((n, len(columns)), dtype=np.int64)
    if not columns:
        return out
    row = engine.check_codes(np.asarray(codes).reshape(1, -1))[0].copy()
    row[columns] = UNOBSERVED
    groups = engine._offsets + (row.astype(np.int64) + 1) @ engine._stride_matrix
    log_tables = engine._log_tables
    loglik = engine._log_prior + log_tables[groups].sum(axis=0)
    top = loglik.max()
    if not np.isfinite(top):  # impossible evidence: nothing to condition on
        return np.stack(
            [
                np.minimum(
                    (rng.random(n) * engine._cards[c]).astype(np.int64), engine._cards[c] - 1
                )
                for c in columns
            ],
            axis=1,
        )
    cdf = np.exp(loglik - top).cumsum()
    cdf /= cdf[-1]
    core = np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1)
    cluster_of = _cluster_of(engine)
    units: dict[int, list[int]] = {}  # cluster -> positions in ``columns``
    for j, column in enumerate(columns):
        units.setdefault(cluster_of[column], []).append(j)
    single = [js[0] for js in units.values() if len(js) == 1]
    uniforms = rng.random((len(units), n))
    unit_uniform = {k: uniforms[i] for i, k in enumerate(units)}
    if single:  # one node alone in its cluster: P(x | core) from its own column
        cols = np.array([columns[j] for j in single])
        base = groups[engine._col_cluster[cols]]
        strides = engine._col_stride[cols]
        cards = engine._cards[cols]
        width = int(cards.max())
        steps = np.arange(1, width + 1)
        rows = base[:, None] + strides[:, None] * steps[None, :]
        valid = steps[None, :] <= cards[:, None]
        rows = np.where(valid, rows, base[:, None])
        with np.errstate(invalid="ignore"):  # -inf - -inf: a core state the evidence rules out
            ratio = np.exp(log_tables[rows] - log_tables[base][:, None, :])  # (k, width, core)
        ratio = np.where(np.isnan(ratio), 0.0, ratio)
        ratio = np.where(valid[:, :, None], ratio, 0.0)
        probs = ratio[:, :, core]  # (k, width, n)
        u = np.stack([unit_uniform[cluster_of[columns[j]]] for j in single])
        chosen = _draw(probs, u)
        out[:, single] = chosen.T
    for js in units.values():
        if len(js) > 1:
            _draw_cluster(engine, columns, js, groups, core, unit_uniform, out, rng)
    return out


def _draw(probs: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws along axis 1 of ``probs`` (k, states, n), one uniform per (k, n);
    rows need not be normalised."""
    cdf = probs.cumsum(axis=1)
    total = cdf[:, -1:, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        cdf = np.where(total > 0, cdf / total, 1.0)
    chosen = (cdf <= uniforms[:, None, :]).sum(axis=1)
    return np.minimum(chosen, probs.shape[1] - 1)


def _draw_cluster(
    engine: CompiledEngine,
    columns: Sequence[int],
    positions: Sequence[int],
    groups: np.ndarray,
    core: np.ndarray,
    unit_uniform: dict[int, np.ndarray],
    out: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Draw the open nodes of one cluster (all in one table group) given the core draws."""
    log_tables = engine._log_tables
    cols = [columns[j] for j in positions]
    group = int(engine._col_cluster[cols[0]])
    base = int(groups[group])
    strides = np.array([int(engine._col_stride[c]) for c in cols], dtype=np.int64)
    cards = [int(engine._cards[c]) for c in cols]
    uniform = unit_uniform[_cluster_of(engine)[cols[0]]]
    n_patterns = int(np.prod(cards))
    if n_patterns <= ENUMERATE_LIMIT:
        states = np.indices(cards).reshape(len(cards), -1).T  # (patterns, nodes), last fastest
        rows = base + (states + 1) @ strides
        cores, inverse = np.unique(core, return_inverse=True)  # each core state's cdf once
        probs = np.exp(log_tables[rows][:, cores] - log_tables[base, cores][None, :])
        cdf = probs.cumsum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            cdf = np.where(cdf[-1:] > 0, cdf / cdf[-1:], 1.0)
        chosen = np.minimum((cdf[:, inverse] <= uniform[None, :]).sum(axis=0), n_patterns - 1)
        out[:, list(positions)] = states[chosen]
        return
    current = np.full(len(core), base, dtype=np.int64)  # chain rule, node after node
    for i, (j, stride, card) in enumerate(zip(positions, strides, cards, strict=True)):
        u = uniform if i == 0 else rng.random(len(core))
        rows = current[:, None] + stride * np.arange(1, card + 1, dtype=np.int64)[None, :]
        probs = np.exp(log_tables[rows, core[:, None]] - log_tables[current, core][:, None])
        chosen = _draw(probs.T[None], u[None])[0]
        out[:, j] = chosen
        current = current + stride * (chosen + 1)
