"""The numba batch kernel of the compiled engine (linear domain, log-domain rescue).

Part of :mod:`model.inference.compiled` (see its docstring for the method).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

LINEAR_FLOOR = 1e-280
"""Below this largest unnormalised weight a case is rescored in the log domain."""


def _batch_kernel(
    codes: np.ndarray,
    col_cluster: np.ndarray,
    col_stride: np.ndarray,
    offsets: np.ndarray,
    lin_tables: np.ndarray,
    lin_prior: np.ndarray,
    log_tables: np.ndarray,
    log_prior: np.ndarray,
    core_to_query: np.ndarray,
    out: np.ndarray,
) -> None:
    """Score every case: gather one row per table, multiply, normalise.

    The linear tables are the log tables shifted so every row's largest entry is 1 (the
    shift is a factor common to all core states and cancels in the normalisation), so the
    running product never exceeds 1 and only shrinks. If the largest weight of a case ends
    below :data:`LINEAR_FLOOR` it may have underflowed, and the case is rescored from the
    log tables with a max-shift; otherwise every entry that underflowed to zero is below
    1e-28 of the largest, far under the 1e-9 agreement. All-zero (log: all ``-inf``) is
    impossible evidence and gives a NaN row.

    Plain Python over numpy arrays; :func:`_kernel` compiles it with numba (``prange`` over
    blocks of 512 cases, so the scratch arrays are allocated once per block).
    """
    n, m = codes.shape
    n_clusters = offsets.shape[0]
    n_core = log_prior.shape[0]
    n_query = out.shape[1]
    block = 512
    n_blocks = (n + block - 1) // block
    for b in _prange(n_blocks):
        idx = np.empty(n_clusters, dtype=np.int64)
        acc = np.empty(n_core, dtype=np.float64)
        for i in range(b * block, min(n, (b + 1) * block)):
            for k in range(n_clusters):
                idx[k] = offsets[k]
            for j in range(m):
                idx[col_cluster[j]] += (codes[i, j] + 1) * col_stride[j]
            for c in range(n_core):
                acc[c] = lin_prior[c]
            for k in range(n_clusters):
                row = idx[k]
                if row != offsets[k]:
                    for c in range(n_core):
                        acc[c] *= lin_tables[row, c]
            top = 0.0
            for c in range(n_core):
                top = max(top, acc[c])
            if top < LINEAR_FLOOR:
                for c in range(n_core):
                    acc[c] = log_prior[c]
                for k in range(n_clusters):
                    row = idx[k]
                    if row != offsets[k]:
                        for c in range(n_core):
                            acc[c] += log_tables[row, c]
                top = -np.inf
                for c in range(n_core):
                    top = max(top, acc[c])
                if top == -np.inf:
                    for q in range(n_query):
                        out[i, q] = np.nan
                    continue
                for c in range(n_core):
                    acc[c] = np.exp(acc[c] - top)
            for q in range(n_query):
                out[i, q] = 0.0
            total = 0.0
            for c in range(n_core):
                total += acc[c]
                out[i, core_to_query[c]] += acc[c]
            for q in range(n_query):
                out[i, q] /= total


_prange: Callable[..., Iterable[int]] = range
_KERNEL: list[Callable[..., None] | None] = []


def _kernel() -> Callable[..., None] | None:
    """The numba-compiled batch kernel, built on first use (``None`` without numba).

    Compiled functions are cached on disk when numba finds a writable cache directory
    (``NUMBA_CACHE_DIR`` or the package folder); otherwise each process compiles once
    (about a second).
    """
    global _prange
    if _KERNEL:
        return _KERNEL[0]
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency
        _KERNEL.append(None)
        return None
    _prange = numba.prange
    options: dict[str, Any] = {"parallel": True, "nogil": True}
    try:
        compiled = numba.njit(cache=True, **options)(_batch_kernel)
    except RuntimeError:  # no writable cache location
        compiled = numba.njit(cache=False, **options)(_batch_kernel)
    _KERNEL.append(compiled)
    return compiled
