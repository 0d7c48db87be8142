"""The numba batch kernel of the compiled engine (scoped tables, linear domain, log rescue).

Part of :mod:`model.inference.compiled` (see its docstring for the method).

Layout
------
A cluster's likelihood depends only on the core variables its nodes' tables mention, its
*scope* (diagnosis alone, diagnosis x activity, age alone, ...). The kernel's tables are
stored per scope: every product table of a group of clusters with the same scope holds one
row of ``width`` numbers per evidence pattern, ``width`` the number of joint states of the
scope (15 for diagnosis alone, not the 135 of the whole core). Per case the kernel multiplies
each group's row into its scope's accumulator, then combines the scopes over the core,

    w(c) = P(c) * prod_s R_s(c restricted to s),

and sums ``w`` per query state. A scope no table of the case touched is skipped (all ones).

Two drivers run the same loop over cases (:func:`_score_cases`): :func:`_batch_kernel` in
parallel over blocks of cases (``CompiledEngine.posterior_batch``), and
:func:`_serial_batch_kernel` on the calling thread, over codes laid out one node per row as a
columnar coder writes them (:func:`posteriors_on_this_thread`, the cohort scorer, which runs
one chunk per core itself). Both give the same numbers to the last bit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from model.exceptions import InputError

if TYPE_CHECKING:
    from model.inference.compiled import CompiledEngine

LINEAR_FLOOR = 1e-280
"""Below this largest unnormalised weight a case is rescored in the log domain."""

BLOCK = 512
"""Cases per block of the parallel loop (scratch arrays are allocated once per block)."""


def _batch_kernel(
    codes: np.ndarray,
    group_columns: np.ndarray,
    group_strides: np.ndarray,
    group_first: np.ndarray,
    group_base: np.ndarray,
    group_width: np.ndarray,
    group_acc: np.ndarray,
    group_scope: np.ndarray,
    lin_flat: np.ndarray,
    log_flat: np.ndarray,
    acc_size: int,
    projection: np.ndarray,
    lin_prior: np.ndarray,
    log_prior: np.ndarray,
    out: np.ndarray,
) -> None:
    """Score every case: gather one row per table group, multiply within each scope,
    combine the scopes over the core, normalise.

    Group ``g`` reads the columns ``group_columns[group_first[g] : group_first[g + 1]]``,
    each code (+1, so unobserved is 0) times its digit weight in ``group_strides``: that
    is the case's pattern ``p`` in the group. Its row is
    ``flat[group_base[g] + p * group_width[g] : ... + group_width[g]]`` and multiplies into
    ``acc[group_acc[g] : ... + group_width[g]]``, the accumulator of scope
    ``group_scope[g]``; ``projection[s, c]`` is the accumulator slot of core state ``c``
    in scope ``s``. Pattern 0 (nothing observed in the group) is a row of ones and skipped.
    The query is the slowest core axis: query state ``q`` sums core states
    ``q * per .. (q + 1) * per - 1``.

    The linear rows are the log rows shifted so every row's largest entry is 1 (a factor
    common to all core states, which cancels in the normalisation), so every product
    stays at most 1 and only shrinks. If the largest weight of a case ends below
    :data:`LINEAR_FLOOR` it may have underflowed, and the case is rescored from the log
    rows with a max-shift; otherwise every entry that underflowed to zero is below 1e-28 of
    the largest, far under the 1e-9 agreement. All-zero (log: all ``-inf``) is impossible
    evidence and gives a NaN row.

    Reductions run in independent chains (four running maxima, one sum per query state)
    so they do not wait on each other. Plain Python over numpy arrays; :func:`_kernel`
    compiles it with numba (``prange`` over blocks of :data:`BLOCK` cases).
    """
    n = codes.shape[0]
    for b in _prange((n + BLOCK - 1) // BLOCK):
        _cases(
            b * BLOCK,
            min(n, (b + 1) * BLOCK),
            codes,
            group_columns,
            group_strides,
            group_first,
            group_base,
            group_width,
            group_acc,
            group_scope,
            lin_flat,
            log_flat,
            acc_size,
            projection,
            lin_prior,
            log_prior,
            out,
        )


def _serial_batch_kernel(
    by_node: np.ndarray,
    group_columns: np.ndarray,
    group_strides: np.ndarray,
    group_first: np.ndarray,
    group_base: np.ndarray,
    group_width: np.ndarray,
    group_acc: np.ndarray,
    group_scope: np.ndarray,
    lin_flat: np.ndarray,
    log_flat: np.ndarray,
    acc_size: int,
    projection: np.ndarray,
    lin_prior: np.ndarray,
    log_prior: np.ndarray,
    out: np.ndarray,
) -> None:
    """:func:`_batch_kernel` on the calling thread alone, for codes laid out one node per
    row (``by_node[j, i]`` is case ``i``'s code of node ``j``, as a columnar coder writes
    them). Each block of :data:`BLOCK` cases is transposed into a small scratch array (a
    case's codes together, in cache) and scored from there."""
    n_nodes, n = by_node.shape
    block = np.empty((BLOCK, n_nodes), dtype=np.int8)
    for start in range(0, n, BLOCK):
        stop = min(n, start + BLOCK)
        for j in range(n_nodes):
            row = by_node[j]
            for i in range(start, stop):
                block[i - start, j] = row[i]
        _cases(
            0,
            stop - start,
            block,
            group_columns,
            group_strides,
            group_first,
            group_base,
            group_width,
            group_acc,
            group_scope,
            lin_flat,
            log_flat,
            acc_size,
            projection,
            lin_prior,
            log_prior,
            out[start:stop],
        )


def _score_cases(
    start: int,
    stop: int,
    codes: np.ndarray,
    group_columns: np.ndarray,
    group_strides: np.ndarray,
    group_first: np.ndarray,
    group_base: np.ndarray,
    group_width: np.ndarray,
    group_acc: np.ndarray,
    group_scope: np.ndarray,
    lin_flat: np.ndarray,
    log_flat: np.ndarray,
    acc_size: int,
    projection: np.ndarray,
    lin_prior: np.ndarray,
    log_prior: np.ndarray,
    out: np.ndarray,
) -> None:
    """Cases ``start .. stop - 1`` of :func:`_batch_kernel` (scratch arrays made once)."""
    n_groups = group_base.shape[0]
    n_scopes = projection.shape[0]
    n_core = log_prior.shape[0]
    n_query = out.shape[1]
    per = n_core // n_query
    idx = np.empty(n_groups, dtype=np.int64)
    acc = np.empty(acc_size, dtype=np.float64)
    weight = np.empty(n_core, dtype=np.float64)
    touched = np.empty(n_scopes, dtype=np.bool_)
    for i in range(start, stop):
        for k in range(acc_size):
            acc[k] = 1.0
        for s in range(n_scopes):
            touched[s] = False
        case = codes[i]
        for g in range(n_groups):
            pattern = 0
            for j in range(group_first[g], group_first[g + 1]):
                pattern += (case[group_columns[j]] + 1) * group_strides[j]
            idx[g] = pattern
            if pattern != 0:
                width = group_width[g]
                # views indexed from 0 by a range: no negative-index wraparound, so
                # the loop vectorises
                into = acc[group_acc[g] : group_acc[g] + width]
                row = lin_flat[group_base[g] + pattern * width :][:width]
                for k in range(width):
                    into[k] *= row[k]
                touched[group_scope[g]] = True
        for c in range(n_core):
            weight[c] = lin_prior[c]
        for s in range(n_scopes):
            if touched[s]:
                slots = projection[s]
                for c in range(n_core):
                    weight[c] *= acc[slots[c]]
        m0 = m1 = m2 = m3 = 0.0  # four independent running maxima
        for c in range(0, n_core - 3, 4):
            m0 = max(m0, weight[c])
            m1 = max(m1, weight[c + 1])
            m2 = max(m2, weight[c + 2])
            m3 = max(m3, weight[c + 3])
        for c in range(n_core - n_core % 4, n_core):
            m0 = max(m0, weight[c])
        top = max(max(m0, m1), max(m2, m3))
        if top < LINEAR_FLOOR:
            for k in range(acc_size):
                acc[k] = 0.0
            for g in range(n_groups):
                if idx[g] != 0:
                    width = group_width[g]
                    row = group_base[g] + idx[g] * width
                    offset = group_acc[g]
                    for k in range(width):
                        acc[offset + k] += log_flat[row + k]
            for c in range(n_core):
                weight[c] = log_prior[c]
            for s in range(n_scopes):
                if touched[s]:
                    for c in range(n_core):
                        weight[c] += acc[projection[s, c]]
            top = -np.inf
            for c in range(n_core):
                top = max(top, weight[c])
            if top == -np.inf:
                for q in range(n_query):
                    out[i, q] = np.nan
                continue
            for c in range(n_core):
                weight[c] = np.exp(weight[c] - top)
        total = 0.0
        for q in range(n_query):
            part = 0.0
            for c in range(q * per, (q + 1) * per):
                part += weight[c]
            out[i, q] = part
            total += part
        for q in range(n_query):
            out[i, q] /= total


_prange: Callable[..., Iterable[int]] = range
_cases: Callable[..., None] = _score_cases
_KERNELS: dict[bool, Callable[..., None] | None] = {}
_COMPILING = threading.Lock()


def _kernel() -> Callable[..., None] | None:
    """The numba-compiled batch kernel (``prange`` over blocks of cases on numba's threads),
    built on first use (``None`` without numba)."""
    return _compiled(parallel=True)


def serial_kernel() -> Callable[..., None] | None:
    """The same kernel on the calling thread alone, for codes one node per row
    (:func:`_serial_batch_kernel`; ``nogil``, so several threads may each run one at once),
    or ``None`` without numba."""
    return _compiled(parallel=False)


def _compiled(parallel: bool) -> Callable[..., None] | None:
    """Compile a kernel on first use.

    Compiled functions are cached on disk when numba finds a writable cache directory
    (``NUMBA_CACHE_DIR`` or the package folder); otherwise each process compiles once
    (about a second).
    """
    if parallel in _KERNELS:
        return _KERNELS[parallel]
    with _COMPILING:
        if parallel not in _KERNELS:
            _KERNELS[parallel] = _compile(parallel)
    return _KERNELS[parallel]


def _compile(parallel: bool) -> Callable[..., None] | None:
    global _prange, _cases
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency
        return None

    def jit(function: Callable[..., None], **options: Any) -> Callable[..., None]:
        options = {"nogil": True, "error_model": "numpy", **options}
        try:
            return numba.njit(cache=True, **options)(function)
        except RuntimeError:  # no writable cache location
            return numba.njit(cache=False, **options)(function)

    if _cases is _score_cases:  # the drivers call the compiled range loop
        _prange = numba.prange
        _cases = jit(_score_cases)
    if parallel:
        return jit(_batch_kernel, parallel=True)
    return jit(_serial_batch_kernel)


def check_codes_by_node(engine: CompiledEngine, by_node: np.ndarray) -> np.ndarray:
    """:meth:`CompiledEngine.check_codes` for codes laid out one node per row, shape
    (len(engine.observable), n_cases): the same checks and messages (``codes[i, j]`` names
    case ``i`` and node ``j``, as there), and the engine's implied evidence filled into the
    unobserved cells of its nodes. Returns a C-contiguous int8 array (by node); the caller's
    array is never changed.

    The range is checked per node row (its least and greatest code), a pass over the codes
    rather than a mask the size of the chunk; the mask is built only to name a bad cell.
    """
    arr = np.asarray(by_node)
    observable = engine.observable
    if arr.ndim != 2 or arr.shape[0] != len(observable):
        raise InputError(
            "evidence codes by node",
            f"shape {arr.shape}",
            f"shape ({len(observable)}, n_cases)",
        )
    if arr.dtype.kind not in "iu":
        raise InputError("evidence codes", str(arr.dtype), "an integer array")
    if arr.shape[1]:
        cards = np.array([len(engine.states[node]) for node in observable])
        if ((arr.min(axis=1) < -1) | (arr.max(axis=1) >= cards)).any():
            bad = (arr < -1) | (arr >= cards[:, None])
            j, i = np.argwhere(bad.T)[0][::-1]
            raise engine.code_error(int(i), int(j), int(arr[j, i]))
    if not engine.implied:
        return np.ascontiguousarray(arr, dtype=np.int8)
    out = np.array(arr, dtype=np.int8, order="C")  # a copy: the caller's array is kept
    for node, state in engine.implied.items():
        row = out[observable.index(node)]
        row[row == -1] = engine.states[node].index(state)
    return out


def posteriors_on_this_thread(engine: CompiledEngine, by_node: np.ndarray) -> np.ndarray:
    """``engine.posterior_batch(by_node.T, on_impossible="nan")``, computed on the calling
    thread by :func:`serial_kernel`: the same numbers to the last bit.

    For a caller that runs one batch per core itself (the cohort scorer): numba's thread pool
    would double the CPU of a batch on a busy machine for little gain in time, and its lock
    would keep two threads from scoring at once. Small batches get the kernel too (the numpy
    path costs tens of microseconds a case).

    ``by_node`` holds the evidence codes one *node* per row, shape (len(engine.observable),
    n_cases), as a columnar coder writes them (each row contiguous); the kernel reads it in
    place after :func:`check_codes_by_node`. Without numba, ``posterior_batch``.
    """
    arr = check_codes_by_node(engine, by_node)
    kernel = serial_kernel()
    if kernel is None:  # pragma: no cover - numba is a dependency
        return engine.posterior_batch(arr.T, on_impossible="nan")
    out = np.empty((arr.shape[1], len(engine.query_states)), dtype=np.float64)
    kernel(arr, *engine.kernel_tables(), out)
    return out
