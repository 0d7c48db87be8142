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
``numpy`` generator, so the same seed gives the same draws. Each uniform vector is
*stratified* (:func:`_stratified`: one value in each of ``n`` equal slices of [0, 1), in a
random order, the orders independent between vectors; a Latin hypercube). Each draw on its
own is still exactly distributed as above, so an average over the draws stays unbiased, but
the draws cover the distribution evenly: on the work-up's Monte Carlo tests (6 examples and
12 development-set patients, 30 seeds each, 128 draws) the median standard deviation of the
expected information fell from 0.031 to 0.021 bits, up to 2.5-fold on single tests, at no
cost in time. A node the evidence states is
not drawn (leave it out of ``columns``); the engine's implied evidence applies to the other
unobserved nodes, exactly as when the drawn outcome is scored.

The engine is read, never changed: this module uses its compiled arrays (``_log_tables``,
``_log_prior``, ``_offsets``, ``_col_cluster``, ``_col_stride``, ``_stride_matrix``).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.inference.compiled import UNOBSERVED, CompiledEngine


def _cluster_of(engine: CompiledEngine) -> dict[int, int]:
    """Observable column -> index of the cluster holding it (remembered per engine)."""
    known = _CLUSTERS.get(engine)
    if known is None:
        column = engine.column
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
    groups, cdf = _core_cdf(engine, row)
    log_tables = engine._log_tables
    if cdf is None:  # impossible evidence: nothing to condition on
        return np.stack(
            [
                np.minimum(
                    (rng.random(n) * engine._cards[c]).astype(np.int64), engine._cards[c] - 1
                )
                for c in columns
            ],
            axis=1,
        )
    core = np.minimum(np.searchsorted(cdf, _stratified(rng, n), side="right"), len(cdf) - 1)
    cluster_of = _cluster_of(engine)
    units: dict[int, list[int]] = {}  # cluster -> positions in ``columns``
    for j, column in enumerate(columns):
        units.setdefault(cluster_of[column], []).append(j)
    uniforms = _stratified_rows(rng, len(units), n)
    unit_uniform = {k: uniforms[i] for i, k in enumerate(units)}
    single = [js[0] for js in units.values() if len(js) == 1]
    distinct_core = np.unique(core, return_inverse=True)  # each core state's numbers once
    # -inf - -inf (a core state the evidence rules out) and 0 / 0 are handled where they arise
    with np.errstate(divide="ignore", invalid="ignore"):
        if single:  # one node alone in its cluster: P(x | core) from its own column
            layout = _singles(engine, tuple(columns[j] for j in single))
            base = groups[layout.groups]
            rows = base[:, None] + layout.steps
            if layout.ragged:
                rows = np.where(layout.valid, rows, base[:, None])
            cores, inverse = distinct_core  # the ratio at each core state drawn, once
            at_cores = log_tables.take(rows.ravel(), axis=0).take(cores, axis=1)
            own = log_tables.take(base, axis=0).take(cores, axis=1)
            ratio = np.exp(at_cores.reshape(*rows.shape, len(cores)) - own[:, None, :])
            ratio = np.where(np.isnan(ratio), 0.0, ratio)  # (k, width, distinct cores)
            if layout.ragged:
                ratio = np.where(layout.valid[:, :, None], ratio, 0.0)
            probs = ratio[:, :, inverse]  # (k, width, n)
            unit_row = {k: i for i, k in enumerate(units)}
            u = uniforms[[unit_row[cluster_of[columns[j]]] for j in single]]
            chosen = _draw(probs, u)
            out[:, single] = chosen.T
        for js in units.values():
            if len(js) > 1:
                _draw_cluster(
                    engine, columns, js, groups, core, distinct_core, unit_uniform, out, rng
                )
    return out


def _core_cdf(engine: CompiledEngine, row: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The table groups' rows for the checked evidence ``row`` and the cumulative
    P(core | evidence) (``None`` when the evidence is impossible). The last answer is kept
    per engine: a patient's Monte Carlo tests usually leave the same evidence row."""
    key = row.tobytes()
    last = _LAST_CORE.get(engine)
    if last is not None and last[0] == key:
        return last[1], last[2]
    groups = engine._offsets + (row.astype(np.int64) + 1) @ engine._stride_matrix
    loglik = engine._log_prior + engine._log_tables[groups].sum(axis=0)
    top = loglik.max()
    cdf = None
    if np.isfinite(top):
        cdf = np.exp(loglik - top).cumsum()
        cdf /= cdf[-1]
        cdf.setflags(write=False)
    groups.setflags(write=False)
    _LAST_CORE[engine] = (key, groups, cdf)
    return groups, cdf


_LAST_CORE: weakref.WeakKeyDictionary[
    CompiledEngine, tuple[bytes, np.ndarray, np.ndarray | None]
] = weakref.WeakKeyDictionary()


def _stratified(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` uniforms on [0, 1), one in each slice [i/n, (i+1)/n), in a random order: each is
    exactly uniform on its own, and together they cover [0, 1) evenly."""
    return (rng.permutation(n) + rng.random(n)) / n


def _stratified_rows(rng: np.random.Generator, k: int, n: int) -> np.ndarray:
    """``k`` rows of :func:`_stratified` uniforms, drawn in the same order from ``rng`` and
    with the same arithmetic (element by element), shape (k, n)."""
    if not k:
        return np.empty((0, n))
    slices = np.empty((k, n), dtype=np.int64)
    offsets = np.empty((k, n))
    for i in range(k):
        slices[i] = rng.permutation(n)
        offsets[i] = rng.random(n)
    return (slices + offsets) / n


@dataclass(frozen=True)
class _Singles:
    """Open nodes alone in their clusters, read from the engine once per set of columns: each
    one's table group, the row offsets of its states from the group's base row (``steps``,
    padded to the widest node), and which of those are real states."""

    groups: np.ndarray  # (k,)
    steps: np.ndarray  # (k, width)
    valid: np.ndarray  # (k, width)
    ragged: bool  # some node has fewer states than the widest


def _singles(engine: CompiledEngine, cols: tuple[int, ...]) -> _Singles:
    known = _SINGLES.setdefault(engine, {})
    found = known.get(cols)
    if found is None:
        index = np.array(cols)
        strides = engine._col_stride[index]
        cards = engine._cards[index]
        width = int(cards.max())
        steps = np.arange(1, width + 1)
        valid = steps[None, :] <= cards[:, None]
        found = _Singles(
            groups=engine._col_cluster[index],
            steps=strides[:, None] * steps[None, :],
            valid=valid,
            ragged=not bool(valid.all()),
        )
        for array in (found.groups, found.steps, found.valid):
            array.setflags(write=False)
        if len(known) >= 256:
            known.clear()
        known[cols] = found
    return found


_SINGLES: weakref.WeakKeyDictionary[CompiledEngine, dict[tuple[int, ...], _Singles]] = (
    weakref.WeakKeyDictionary()
)


def _draw(probs: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws along axis 1 of ``probs`` (k, states, n), one uniform per (k, n);
    rows need not be normalised."""
    cdf = probs.cumsum(axis=1)
    total = cdf[:, -1:, :]
    cdf = np.where(total > 0, cdf / total, 1.0)  # 0 / 0 ignored by the caller's errstate
    chosen = (cdf <= uniforms[:, None, :]).sum(axis=1)
    return np.minimum(chosen, probs.shape[1] - 1)


_PATTERNS: weakref.WeakKeyDictionary[CompiledEngine, dict[tuple[int, ...], Any]] = (
    weakref.WeakKeyDictionary()
)


def _cluster_patterns(
    engine: CompiledEngine, cols: tuple[int, ...]
) -> tuple[int, np.ndarray, list[int], tuple[np.ndarray, np.ndarray] | None]:
    """For open nodes at ``cols`` (one cluster): its table group, the nodes' strides and
    numbers of states, and (when at most :data:`ENUMERATE_LIMIT`) every joint pattern (the
    last node fastest) with its table row offset from the group's base row. Remembered per
    engine (bounded)."""
    known = _PATTERNS.setdefault(engine, {})
    found = known.get(cols)
    if found is None:
        group = int(engine._col_cluster[cols[0]])
        strides = np.array([int(engine._col_stride[c]) for c in cols], dtype=np.int64)
        cards = [int(engine._cards[c]) for c in cols]
        patterns = None
        if int(np.prod(cards)) <= ENUMERATE_LIMIT:
            states = np.indices(cards).reshape(len(cards), -1).T  # (patterns, nodes)
            offsets = (states + 1) @ strides
            states.setflags(write=False)
            offsets.setflags(write=False)
            patterns = (states, offsets)
        strides.setflags(write=False)
        if len(known) >= 256:
            known.clear()
        found = known[cols] = (group, strides, cards, patterns)
    return found


def _draw_cluster(
    engine: CompiledEngine,
    columns: Sequence[int],
    positions: Sequence[int],
    groups: np.ndarray,
    core: np.ndarray,
    distinct_core: tuple[np.ndarray, np.ndarray],
    unit_uniform: dict[int, np.ndarray],
    out: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Draw the open nodes of one cluster (all in one table group) given the core draws
    (``distinct_core``: the distinct core states drawn and each draw's index among them)."""
    log_tables = engine._log_tables
    cols = tuple(columns[j] for j in positions)
    group, strides, cards, patterns = _cluster_patterns(engine, cols)
    base = int(groups[group])
    uniform = unit_uniform[_cluster_of(engine)[cols[0]]]
    if patterns is not None:
        states, offsets = patterns
        n_patterns = len(states)
        rows = base + offsets
        cores, inverse = distinct_core  # each core state's cdf once
        at_cores = log_tables.take(rows, axis=0).take(cores, axis=1)  # (patterns, cores)
        probs = np.exp(at_cores - log_tables[base, cores][None, :])
        cdf = probs.cumsum(axis=0)
        cdf = np.where(cdf[-1:] > 0, cdf / cdf[-1:], 1.0)
        by_draw = np.ascontiguousarray(cdf.T)[inverse]  # each draw's core's cdf, a row each
        chosen = np.minimum((by_draw <= uniform[:, None]).sum(axis=1), n_patterns - 1)
        out[:, list(positions)] = states[chosen]
        return
    current = np.full(len(core), base, dtype=np.int64)  # chain rule, node after node
    for i, (j, stride, card) in enumerate(zip(positions, strides, cards, strict=True)):
        u = uniform if i == 0 else _stratified(rng, len(core))
        rows = current[:, None] + stride * np.arange(1, card + 1, dtype=np.int64)[None, :]
        probs = np.exp(log_tables[rows, core[:, None]] - log_tables[current, core][:, None])
        chosen = _draw(probs.T[None], u[None])[0]
        out[:, j] = chosen
        current = current + stride * (chosen + 1)
