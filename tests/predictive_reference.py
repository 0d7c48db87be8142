"""The predictive draws as :mod:`model.inference.predictive` made them before its tables were
remembered (one conditional cdf per call, at the distinct core states drawn): the reference
that ``tests/test_predictive.py`` compares the current draws with, bit for bit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from model.inference import predictive
from model.inference.compiled import UNOBSERVED, CompiledEngine
from model.inference.predictive import _core_cdf, _stratified, _stratified_rows


def sample_open(
    engine: CompiledEngine,
    codes: np.ndarray,
    columns: Sequence[int],
    n: int,
    rng: np.random.Generator,
    enumerate_limit: int = predictive.ENUMERATE_LIMIT,
) -> np.ndarray:
    columns = [int(c) for c in columns]
    out = np.empty((n, len(columns)), dtype=np.int64)
    if not columns:
        return out
    row = engine.check_codes(np.asarray(codes).reshape(1, -1))[0].copy()
    row[columns] = UNOBSERVED
    groups, cdf = _core_cdf(engine, row)
    log_tables = engine._log_tables
    if cdf is None:
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
    cluster_of = predictive._cluster_of(engine)
    units: dict[int, list[int]] = {}
    for j, column in enumerate(columns):
        units.setdefault(cluster_of[column], []).append(j)
    uniforms = _stratified_rows(rng, len(units), n)
    unit_row = {k: i for i, k in enumerate(units)}
    single = [js[0] for js in units.values() if len(js) == 1]
    cores, inverse = np.unique(core, return_inverse=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        if single:  # a node alone in its cluster: P(x | core) from its own column
            index = np.array([columns[j] for j in single])
            strides = engine._col_stride[index]
            cards = engine._cards[index]
            width = int(cards.max())
            steps = strides[:, None] * np.arange(1, width + 1)[None, :]
            valid = np.arange(1, width + 1)[None, :] <= cards[:, None]
            base = groups[engine._col_cluster[index]]
            rows = np.where(valid, base[:, None] + steps, base[:, None])
            at_cores = log_tables.take(rows.ravel(), axis=0).take(cores, axis=1)
            own = log_tables.take(base, axis=0).take(cores, axis=1)
            ratio = np.exp(at_cores.reshape(*rows.shape, len(cores)) - own[:, None, :])
            ratio = np.where(np.isnan(ratio), 0.0, ratio)
            ratio = np.where(valid[:, :, None], ratio, 0.0)
            u = uniforms[[unit_row[cluster_of[columns[j]]] for j in single]]
            out[:, single] = _draw(ratio[:, :, inverse], u).T
        for cluster, js in units.items():
            if len(js) > 1:
                _draw_cluster(
                    engine,
                    columns,
                    js,
                    groups,
                    core,
                    (cores, inverse),
                    uniforms[unit_row[cluster]],
                    out,
                    rng,
                    enumerate_limit,
                )
    return out


def _draw(probs: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    cdf = probs.cumsum(axis=1)
    total = cdf[:, -1:, :]
    cdf = np.where(total > 0, cdf / total, 1.0)
    chosen = (cdf <= uniforms[:, None, :]).sum(axis=1)
    return np.minimum(chosen, probs.shape[1] - 1)


def _draw_cluster(
    engine: CompiledEngine,
    columns: Sequence[int],
    positions: Sequence[int],
    groups: np.ndarray,
    core: np.ndarray,
    distinct_core: tuple[np.ndarray, np.ndarray],
    uniform: np.ndarray,
    out: np.ndarray,
    rng: np.random.Generator,
    enumerate_limit: int,
) -> None:
    log_tables = engine._log_tables
    cols = [columns[j] for j in positions]
    strides = [int(engine._col_stride[c]) for c in cols]
    cards = [int(engine._cards[c]) for c in cols]
    base = int(groups[engine._col_cluster[cols[0]]])
    if int(np.prod(cards)) <= enumerate_limit:
        states = np.indices(cards).reshape(len(cards), -1).T
        rows = base + (states + 1) @ np.array(strides)
        cores, inverse = distinct_core
        at_cores = log_tables.take(rows, axis=0).take(cores, axis=1)
        probs = np.exp(at_cores - log_tables[base, cores][None, :])
        cdf = probs.cumsum(axis=0)
        cdf = np.where(cdf[-1:] > 0, cdf / cdf[-1:], 1.0)
        by_draw = np.ascontiguousarray(cdf.T)[inverse]
        chosen = np.minimum((by_draw <= uniform[:, None]).sum(axis=1), len(states) - 1)
        out[:, list(positions)] = states[chosen]
        return
    current = np.full(len(core), base, dtype=np.int64)
    for i, (j, stride, card) in enumerate(zip(positions, strides, cards, strict=True)):
        u = uniform if i == 0 else _stratified(rng, len(core))
        rows = current[:, None] + stride * np.arange(1, card + 1, dtype=np.int64)[None, :]
        probs = np.exp(log_tables[rows, core[:, None]] - log_tables[current, core][:, None])
        chosen = _draw(probs.T[None], u[None])[0]
        out[:, j] = chosen
        current = current + stride * (chosen + 1)
