"""Log posteriors of a few hundred evidence rows, the numbers of
:meth:`CompiledEngine.log_posterior_batch` to the last bit, at a lower fixed cost.

The work-up scores a few hundred result rows per patient. ``log_posterior_batch`` spends
most of that on two steps whose cost is not arithmetic: the table index of every row and
group, an integer product ``(codes + 1) @ stride_matrix`` that numpy does without BLAS, and
one masked copy per diagnosis to add its core states. Here

- the index is the same product in floating point (BLAS): every term and partial sum is an
  integer far below 2**53, so it is exact, and the same integers come out;
- a diagnosis's core states are one contiguous block of the core (the engine orders the
  core diagnosis first), so the per-diagnosis sums are read from a (rows, diagnoses, block)
  view, one addition per position in the block for every row and diagnosis at once, in the
  order numpy adds the columns of each masked copy (which comes out column-major, so its
  sum along the rows' axis adds the columns one after the other); a lone row's masked copy
  is contiguous and numpy sums it pairwise, so a lone row's blocks are summed the same way;
- everything else (adding the groups' table rows in group order, the prior, the shift by
  the largest term, ``exp`` and ``log``) is the same numpy calls on the same arrays.

``tests/test_row_scores.py`` checks equality to the last bit on simulated rows of every
setting and on the work-up's own rows. The engine is read, never changed (``_offsets``,
``_stride_matrix``, ``_log_tables``, ``_log_prior``, ``_core_to_query``).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from model.inference.compiled import CompiledEngine


@dataclass(frozen=True)
class _Layout:
    strides: np.ndarray  # the engine's stride matrix as float64 (observable, groups)
    offsets: np.ndarray  # float64 (groups,)
    block: int  # core states per query state; 0: not contiguous blocks, or indices too large


_LAYOUTS: weakref.WeakKeyDictionary[CompiledEngine, _Layout] = weakref.WeakKeyDictionary()
_EXACT_INTEGERS = 2.0**53


def _layout(engine: CompiledEngine) -> _Layout:
    known = _LAYOUTS.get(engine)
    if known is None:
        n_query = len(engine.query_states)
        core_to_query = np.asarray(engine._core_to_query)
        block = len(core_to_query) // n_query if n_query else 0
        contiguous = block > 0 and np.array_equal(
            core_to_query, np.repeat(np.arange(n_query), block)
        )
        strides = engine._stride_matrix.astype(np.float64)
        cards = engine._cards.astype(np.float64)
        largest = float(engine._offsets.max(initial=0)) + float(
            (cards + 1) @ np.abs(strides).sum(axis=1)
        )
        exact = largest < _EXACT_INTEGERS  # every partial sum of the product an exact integer
        known = _LAYOUTS[engine] = _Layout(
            strides=strides,
            offsets=engine._offsets.astype(np.float64),
            block=block if contiguous and exact else 0,
        )
    return known


def log_posterior_rows(engine: CompiledEngine, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``engine.log_posterior_batch(codes)``: log posteriors (n, n_query) and log P(evidence)
    (n,), equal to the last bit."""
    arr = engine.check_codes(codes)
    layout = _layout(engine)
    if not len(arr) or not layout.block or engine._stride_matrix.shape[1] == 0:
        return engine.log_posterior_batch(arr)
    idx = (layout.offsets + (arr + 1.0) @ layout.strides).astype(np.int64)
    tables = engine._log_tables
    total = tables.take(idx[:, 0], axis=0)
    for g in range(1, idx.shape[1]):
        total += tables.take(idx[:, g], axis=0)
    loglik = np.add(engine._log_prior[None, :], total, out=total)
    top = loglik.max(axis=1, keepdims=True)
    finite_top = np.where(np.isfinite(top), top, 0.0)
    weights = np.exp(loglik - finite_top, out=loglik)
    n_query = len(engine.query_states)
    if len(arr) == 1:  # the masked copy of a lone row is contiguous: numpy's pairwise sum
        per_query = weights.reshape(n_query, layout.block).sum(axis=1)[None, :]
    else:
        blocks = weights.reshape(len(arr), n_query, layout.block)
        per_query = blocks[:, :, 0].copy()
        for k in range(1, layout.block):
            per_query += blocks[:, :, k]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_evidence = np.log(per_query.sum(axis=1)) + finite_top[:, 0]
        log_post = np.log(per_query) + finite_top - log_evidence[:, None]
    impossible = ~np.isfinite(top[:, 0])
    log_post[impossible] = -np.inf
    log_evidence[impossible] = -np.inf
    return log_post, log_evidence
