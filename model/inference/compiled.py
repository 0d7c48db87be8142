"""A compiled exact inference engine built from a pgmpy network, vectorised over cases.

Method
------
The networks this engine is made for have a small *core*: the query (``diagnosis``) and the
latent variables many findings hang from (``poems_activity``). Once the core is fixed, every
other node belongs to exactly one *cluster*: a connected component of the network's skeleton
after the core nodes are removed (an aggregate with its parts; the plasma cell clone with
its two observations; most findings alone). Every CPD of a non-core node mentions only core
variables and variables of its own cluster, and the core is closed under parents, so

    P(core, e) = P(core) * prod_K L_K(e_K | core),

where ``L_K(e_K | core)`` is the probability of the cluster's evidence given the core,
summed over the cluster's unobserved variables. A latent with a single cluster (the clone)
is therefore summed inside its cluster and never enlarges the core.

Compilation enumerates, for every cluster, every *evidence pattern* (each node unobserved or
in one of its states) and computes ``L_K`` for all core states at once: the cluster joint
(one ``einsum`` of its CPDs, shape assignments x core states) is multiplied by a 0/1
pattern-assignment consistency mask. The result is stored as ``log L_K`` (``-inf`` for an
exact zero). Scoring a case is then a gather and a sum: the row of each cluster's table
picked by the case's pattern index, plus ``log P(core)``; the result is normalised with the
max-shift and the non-query core variables are summed out. Nothing is approximated: the
numbers differ from variable elimination by rounding only.

Evidence on a latent core variable is a pseudo-cluster whose table is 0 where the core state
agrees and ``-inf`` where not. Evidence whose probability is exactly zero leaves every core
state at ``-inf``; the engine reports it (an :class:`ImpossibleEvidenceError`, or a flag per
case in batch mode), never a NaN posterior.

The core is chosen automatically (or given): start from the query and its ancestors; while
some cluster has more than ``max_patterns`` evidence patterns or more than ``max_work``
pattern-assignment pairs (the size of its consistency mask), move into the core the node of
that cluster with the most neighbours in it among those whose parents are already in the
core. On the POEMS network (v2) the core is chosen the same way (``poems bench`` prints it).

Parameter uncertainty needs the other direction: one evidence pattern under many table sets
(say 2,000 Dirichlet draws). :meth:`CompiledEngine.posterior_under` does that without
compiling any pattern table: each observed cluster becomes one factor over only the core
variables it depends on, its unobserved members summed out one at a time along the draws
(details in :mod:`~model.inference.compiled_batches`).

Small cluster tables are merged into product tables (the outer sum of their log tables),
so a case gathers about a dozen rows instead of one per cluster. Batch scoring runs a numba
kernel (``prange`` over blocks of cases) in the linear domain, each table row scaled to a
maximum of 1, and rescores a case from the log tables if its weights fall below
:data:`LINEAR_FLOOR` (see :func:`_batch_kernel`). The kernel's tables are stored per
*scope*, the core variables a cluster's likelihood depends on (on the POEMS network
diagnosis x age band and diagnosis x activity: 45 numbers a row instead of the 135 core
states), and multiplied together per core state at the end. The log-domain numpy
computation over whole-core tables is the path for small batches (it needs no
compilation) and for :meth:`CompiledEngine.log_posterior_batch`. Measured by
``poems bench``: numba about 6x the numpy path and about 10,000x pgmpy's per-case rate on
this network.

Modules
-------
This module holds the engine and its API. Its parts, one job each:
:mod:`~model.inference.compiled_structure` (nodes, core choice, clusters, table grouping),
:mod:`~model.inference.compiled_tables` (core prior, pattern tables, normalisation),
:mod:`~model.inference.compiled_batches` (table batches and OR aggregates for
``posterior_under``) and :mod:`~model.inference.compiled_kernel` (the numba kernel).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from model.exceptions import InputError, PoemsError
from model.inference.compiled_batches import (
    _all_absent,
    _at_fixed,
    _batched_nodes,
    _core_factor,
    _draws_last,
    _fixed_core,
    _is_or_node,
    _leaf_columns,
    _likelihood_factors,
    _posterior_linear,
    _posterior_logs,
    _replace_values,
    _sum_out_hidden,
    _unobserved_variants,
)
from model.inference.compiled_kernel import _kernel
from model.inference.compiled_structure import (
    _ancestral_core,
    _choose_core,
    _cluster_size,
    _clusters,
    _graph,
    _grouped,
    _maximal_scopes,
    _nodes_from_pgmpy,
    _nodes_from_tables,
    _scope,
    _shifted_exp,
    _strides,
    _too_big,
)
from model.inference.compiled_structure import _Node as _Node
from model.inference.compiled_tables import (
    _cluster_table,
    _core_evidence_table,
    _core_prior,
    _core_prior_batched,
    _normalise,
    _restrict,
    _ScopedTables,
)
from model.vocabulary import suggest

UNOBSERVED = -1
"""Code for a node without evidence in an encoded evidence array."""

RECENT_POSTERIORS = 16
"""How many single-case posteriors an engine remembers (by evidence, in the order given)."""
SMALL_BATCH = 8
"""Up to this many cases, :meth:`CompiledEngine.log_posterior_batch` gathers every table row
at once (fewer calls; the same additions in the same order, tested)."""
NUMBA_MIN_CASES = 2048
"""Below this many cases the numpy path is used (no compilation)."""
_KERNEL_LOCK = threading.Lock()
"""One batch kernel at a time per process: it already runs on every core, and numba's
fallback threading layer (workqueue) aborts the process if two threads launch kernels at
once (``poems batch`` scores chunks in several threads, Dask in a thread pool)."""


class ImpossibleEvidenceError(PoemsError, ValueError):
    """The evidence has probability zero under the network: no posterior exists."""


class CompiledEngine:
    """Exact posterior of one query variable, compiled from a pgmpy network.

    Build it with :meth:`from_pgmpy`. The engine is immutable; :meth:`with_tables` returns a
    new engine with other CPD values.

    Attributes
    ----------
    query : the query variable; ``query_states`` its states in output column order.
    core : the variables conditioned on (query first).
    observable : the nodes evidence may name, in the column order of :meth:`encode`.
    states : node -> its states (evidence codes index into these).
    """

    def __init__(
        self,
        nodes: Mapping[str, _Node],
        query: str,
        core: Sequence[str],
        observable: Sequence[str],
        *,
        max_patterns: int = 100_000,
        max_work: int = 30_000_000,
        group_patterns: int = 256,
        implied: Mapping[str, str] | None = None,
    ) -> None:
        self._nodes = dict(nodes)
        self.query = query
        self.core = tuple(core)
        self.observable = tuple(observable)
        self.max_patterns = max_patterns
        self.max_work = max_work
        self.group_patterns = group_patterns
        self.states: dict[str, tuple[str, ...]] = {n: v.states for n, v in self._nodes.items()}
        self.query_states = self.states[query]
        self._core_cards = tuple(self._nodes[c].card for c in self.core)
        self.n_core = int(np.prod(self._core_cards))
        self._clusters = _clusters(self._nodes, self.core, self.observable)
        for cluster in self._clusters:
            if _too_big(self._nodes, cluster.nodes, max_patterns, max_work):
                patterns, assignments = _cluster_size(self._nodes, cluster.nodes)
                raise InputError(
                    "core",
                    list(self.core),
                    f"a core that splits the network into clusters of at most {max_patterns} "
                    f"evidence patterns and {max_work} pattern-assignment pairs",
                    f"The cluster {', '.join(cluster.nodes[:6])}... has {patterns} patterns x "
                    f"{assignments} assignments; add one of its latents to the core, or pass "
                    "core=None to choose automatically.",
                )
        self._column = {name: j for j, name in enumerate(self.observable)}
        self._state_index = {
            n: {s: i for i, s in enumerate(self.states[n])} for n in self.observable
        }  # built once: encode() is on every single-case call
        self._cards = np.array([self._nodes[n].card for n in self.observable], dtype=np.int64)
        self.implied: dict[str, str] = dict(implied or {})
        for node, state in self.implied.items():
            if node not in self._column or state not in self.states[node]:
                raise InputError(
                    "implied evidence",
                    f"{node}={state}",
                    "an observable node and one of its states",
                    suggest(str(node), self.observable),
                )
        self._implied_codes = [
            (self._column[n], self.states[n].index(s)) for n, s in self.implied.items()
        ]
        self._implied_columns = np.array([c for c, _ in self._implied_codes], dtype=np.int64)
        self._implied_values = np.array([v for _, v in self._implied_codes], dtype=np.int8)
        self._recent: dict[tuple[tuple[str, str], ...], tuple[float, ...]] = {}
        self._compile()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_pgmpy(
        cls,
        model: Any,
        query: str = "diagnosis",
        core: Iterable[str] | None = None,
        *,
        observable: Iterable[str] | None = None,
        max_patterns: int = 100_000,
        max_work: int = 30_000_000,
        group_patterns: int = 256,
        implied: Mapping[str, str] | None = None,
    ) -> CompiledEngine:
        """Compile a pgmpy ``DiscreteBayesianNetwork`` (its CPDs are read, never changed).

        Parameters
        ----------
        model : the network; every node needs a CPD with ``state_names``.
        query : the variable whose posterior is returned.
        core : variables to condition on; ``None`` chooses them (see the module docstring).
            Ancestors of the given variables are added.
        observable : nodes evidence may name (default: every node but the query).
        max_patterns, max_work : cluster size limits (see the module docstring); a given core
            whose clusters exceed them is refused.
        group_patterns : small cluster tables are merged into product tables of at most this
            many rows (fewer gathers per case; 1 disables merging).
        """
        return cls._from_nodes(
            _nodes_from_pgmpy(model),
            query,
            core,
            observable=observable,
            max_patterns=max_patterns,
            max_work=max_work,
            group_patterns=group_patterns,
            implied=implied,
        )

    @classmethod
    def from_tables(
        cls,
        tables: Mapping[str, Any],
        query: str = "diagnosis",
        core: Iterable[str] | None = None,
        *,
        observable: Iterable[str] | None = None,
        max_patterns: int = 100_000,
        max_work: int = 30_000_000,
        group_patterns: int = 256,
        implied: Mapping[str, str] | None = None,
    ) -> CompiledEngine:
        """Compile from the named tables the pgmpy network is built from.

        ``tables`` maps node -> ``model.network.NodeTable`` (variable, states, parents,
        parent_states, array of shape (states, parent configurations) in pgmpy column order):
        exactly what ``model.network.build_network`` hands to pgmpy's ``TabularCPD``, so the
        engine is the same model (``tests/test_compiled_real_network.py`` checks that both
        routes give identical engines). It avoids importing pgmpy (several seconds), which
        matters for the app's first answer. Arguments as in :meth:`from_pgmpy`.
        """
        return cls._from_nodes(
            _nodes_from_tables(tables),
            query,
            core,
            observable=observable,
            max_patterns=max_patterns,
            max_work=max_work,
            group_patterns=group_patterns,
            implied=implied,
        )

    @classmethod
    def _from_nodes(
        cls,
        nodes: dict[str, _Node],
        query: str,
        core: Iterable[str] | None,
        *,
        observable: Iterable[str] | None,
        max_patterns: int,
        max_work: int,
        group_patterns: int,
        implied: Mapping[str, str] | None = None,
    ) -> CompiledEngine:
        if query not in nodes:
            raise InputError("query", query, "a node of the network", suggest(query, nodes) or "")
        graph = _graph(nodes)
        if core is None:
            chosen = _choose_core(nodes, graph, query, max_patterns, max_work)
        else:
            given = list(core)
            for name in given:
                if name not in nodes:
                    raise InputError("core", name, "a node of the network", suggest(name, nodes))
            chosen = _ancestral_core(graph, [query, *given])
        if observable is None:
            obs = [n for n in nodes if n != query]
        else:
            obs = list(observable)
            for name in obs:
                if name not in nodes or name == query:
                    raise InputError(
                        "observable",
                        name,
                        "a node of the network other than the query",
                        suggest(name, nodes),
                    )
        return cls(
            nodes,
            query,
            chosen,
            obs,
            max_patterns=max_patterns,
            max_work=max_work,
            group_patterns=group_patterns,
            implied=implied,
        )

    def with_tables(self, tables: Mapping[str, Any]) -> CompiledEngine:
        """A new engine whose CPDs are replaced by ``tables`` (node -> table, no batch axis).

        A table is an array of shape ``(n_states, n_parent_configs)`` in pgmpy column order
        (first parent slowest), or an object with such an ``array`` attribute (and,
        optionally, ``states`` and ``parents`` that are checked against the network).
        Nodes not named keep their values.
        """
        replaced = _replace_values(self._nodes, tables, batched=False)
        return CompiledEngine(
            replaced,
            self.query,
            self.core,
            self.observable,
            max_patterns=self.max_patterns,
            max_work=self.max_work,
            group_patterns=self.group_patterns,
            implied=self.implied,
        )

    def _compile(self) -> None:
        core_axes = {c: i for i, c in enumerate(self.core)}
        pieces: list[tuple[np.ndarray, list[tuple[str, int]]]] = []
        scoped: dict[tuple[int, ...], list[tuple[np.ndarray, list[tuple[str, int]]]]] = {}
        absorbing = _maximal_scopes([_scope(c, self._nodes, self.core) for c in self._clusters])
        for cluster in self._clusters:
            if cluster.core_evidence:
                table = _core_evidence_table(
                    cluster.nodes[0], self._nodes, self.core, self._core_cards
                )
            else:
                table = _cluster_table(cluster, self._nodes, self.core, core_axes)
            with np.errstate(divide="ignore"):
                log_table = np.log(table)
            log_table[0, :] = 0.0  # no evidence in the cluster: likelihood exactly 1
            pattern_shape = [self._nodes[n].card + 1 for n in cluster.observable]
            strides = _strides(pattern_shape)
            columns = list(zip(cluster.observable, strides, strict=True))
            pieces.append((log_table, columns))
            scope = absorbing[_scope(cluster, self._nodes, self.core)]
            scoped.setdefault(scope, []).append(
                (_restrict(log_table, self._core_cards, scope), columns)
            )
        tables: list[np.ndarray] = []
        offsets: list[int] = []
        col_cluster = np.zeros(len(self.observable), dtype=np.int64)
        col_stride = np.zeros(len(self.observable), dtype=np.int64)
        total = 0
        for k, (log_table, columns) in enumerate(_grouped(pieces, self.group_patterns)):
            for name, stride in columns:
                col_cluster[self._column[name]] = k
                col_stride[self._column[name]] = stride
            offsets.append(total)
            total += log_table.shape[0]
            tables.append(log_table)
        self._log_tables = np.ascontiguousarray(
            np.concatenate(tables, axis=0) if tables else np.zeros((1, self.n_core))
        )
        self._offsets = np.array(offsets, dtype=np.int64)
        self._col_cluster = col_cluster
        self._col_stride = col_stride
        self._offsets_list = [int(o) for o in offsets]  # the single-case path works on lists
        self._col_cluster_list = [int(c) for c in col_cluster]
        self._col_stride_list = [int(c) for c in col_stride]
        stride_matrix = np.zeros((len(self.observable), max(len(offsets), 1)), dtype=np.int64)
        stride_matrix[np.arange(len(self.observable)), col_cluster] = col_stride
        self._stride_matrix = stride_matrix
        self._stride_matrix_float = stride_matrix.astype(np.float64)  # see _group_rows
        prior = _core_prior(self._nodes, self.core, self._core_cards)
        with np.errstate(divide="ignore"):
            self._log_prior = np.log(prior.reshape(-1))
        self._lin_prior = _shifted_exp(self._log_prior[None, :])[0]
        self._scoped = _ScopedTables.build(
            scoped, self.observable, self._core_cards, self.group_patterns
        )
        self._core_to_query = np.repeat(
            np.arange(len(self.query_states), dtype=np.int64), self.n_core // len(self.query_states)
        )
        self._query_blocks = self.core[0] == self.query  # each query state one block of core

    # ------------------------------------------------------------------ description
    @property
    def clusters(self) -> tuple[tuple[str, ...], ...]:
        """The clusters (node names) the network was split into given the core."""
        return tuple(c.nodes for c in self._clusters)

    @property
    def column(self) -> Mapping[str, int]:
        """Observable node -> its column in the encoded rows (:meth:`encode`)."""
        return MappingProxyType(self._column)

    @property
    def n_patterns(self) -> int:
        """Rows of all compiled pattern tables together."""
        return int(self._log_tables.shape[0])

    def describe(self) -> dict[str, Any]:
        """Sizes of the compiled form (for benchmarks and logs)."""
        return {
            "query": self.query,
            "core": list(self.core),
            "core_states": self.n_core,
            "clusters": len(self._clusters),
            "largest_cluster": max((len(c) for c in self.clusters), default=0),
            "table_rows": self.n_patterns,
            "groups": len(self._offsets),
            "table_mb": round(self._log_tables.nbytes / 1e6, 3),
            "scopes": [[self.core[a] for a in scope] for scope in self._scoped.scopes],
            "kernel_groups": len(self._scoped.group_base),
            "kernel_table_mb": round(self._scoped.lin_flat.nbytes / 1e6, 3),
            "observable": len(self.observable),
        }

    # ------------------------------------------------------------------ evidence
    def encode(self, evidence: Iterable[Mapping[str, str]]) -> np.ndarray:
        """Encode evidence dicts (node -> state) as an int8 array (n_cases, n_observable).

        ``-1`` marks a node without evidence; otherwise the state's index in
        ``states[node]``. Unknown nodes and states raise :class:`InputError` naming them.
        """
        rows = list(evidence)
        codes = np.full((len(rows), len(self.observable)), UNOBSERVED, dtype=np.int8)
        index = self._state_index
        for i, row in enumerate(rows):
            for node, state in row.items():
                j = self._column.get(node)
                if j is None:
                    if node == self.query:
                        raise InputError(
                            "evidence node",
                            node,
                            "a node other than the query",
                            f"{node!r} is what the engine computes; leave it out.",
                        )
                    raise InputError(
                        "evidence node",
                        node,
                        "one of the network's observable nodes",
                        suggest(str(node), self.observable),
                    )
                code = index[node].get(state)
                if code is None:
                    raise InputError(
                        f"evidence {node}",
                        state,
                        "one of " + ", ".join(map(repr, self.states[node])),
                        suggest(str(state), self.states[node]),
                    )
                codes[i, j] = code
        return codes

    def kernel_tables(self) -> tuple[Any, ...]:
        """What every batch kernel takes between the codes and its output: the scoped
        tables (``_ScopedTables.kernel_arguments``), then the linear and log priors. The one
        accessor for callers that run a kernel themselves (the cohort's scoring threads)."""
        return (*self._scoped.kernel_arguments(), self._lin_prior, self._log_prior)

    def code_error(self, case: int, node: int, code: int) -> InputError:
        """The error for an evidence code out of range: case ``case``'s code for observable
        node ``node`` (its index in :attr:`observable`). One wording for every layout."""
        return InputError(
            f"evidence codes[{case}, {node}] ({self.observable[node]})",
            code,
            f"-1 (unobserved) or a state index 0..{self._cards[node] - 1}",
        )

    def check_codes(self, codes: np.ndarray) -> np.ndarray:
        """Validate an encoded evidence array; return it as a C-contiguous int8 array."""
        arr = np.asarray(codes)
        if arr.ndim != 2 or arr.shape[1] != len(self.observable):
            raise InputError(
                "evidence codes",
                f"shape {arr.shape}",
                f"shape (n_cases, {len(self.observable)})",
                "Use CompiledEngine.encode to build the array.",
            )
        if arr.dtype.kind not in "iu":  # signed or unsigned integers (np.integer)
            raise InputError("evidence codes", str(arr.dtype), "an integer array")
        if (arr < UNOBSERVED).any() or (arr >= self._cards[None, :]).any():
            bad = (arr < UNOBSERVED) | (arr >= self._cards[None, :])
            i, j = np.argwhere(bad)[0]
            raise self.code_error(int(i), int(j), int(arr[i, j]))
        if not self._implied_codes:
            return np.ascontiguousarray(arr, dtype=np.int8)
        out = np.array(arr, dtype=np.int8, order="C")  # a copy: the caller's array is kept
        columns, codes = self._implied_columns, self._implied_values
        given = out[:, columns]
        out[:, columns] = np.where(given == UNOBSERVED, codes, given)
        return out

    def with_implied(self, evidence: Mapping[str, str]) -> dict[str, str]:
        """``evidence`` plus the implied evidence it does not state (the setting's defining
        findings; the same rule as :func:`model.network.evidence.with_setting`)."""
        return {**self.implied, **evidence}

    # ------------------------------------------------------------------ scoring
    def posterior(self, evidence: Mapping[str, str]) -> dict[str, float]:
        """Posterior over the query states for one evidence dict (node -> state), with the
        implied evidence added where the dict does not state it.

        The last few answers are remembered (:data:`RECENT_POSTERIORS`): an assessment asks
        for the same evidence from several analyses."""
        key = tuple(evidence.items())
        known = self._recent.get(key)
        if known is not None:
            return dict(zip(self.query_states, known, strict=True))
        evidence = self.with_implied(evidence)
        rows = list(self._offsets_list)  # one row per table group, from the evidence
        for node, state in evidence.items():
            j = self._column.get(node)
            code = self._state_index[node].get(state) if j is not None else None
            if j is None or code is None:
                self.encode([evidence])  # raises, naming the node or state and the fix
                raise AssertionError("unreachable")  # pragma: no cover
            rows[self._col_cluster_list[j]] += (code + 1) * self._col_stride_list[j]
        loglik = self._log_prior + self._log_tables[rows].sum(axis=0)
        top = loglik.max()
        if self._query_blocks and np.isfinite(top):
            # _normalise's steps for one row whose query is the slowest core axis, without
            # its per-call check of the layout: the same numbers, bit for bit
            weights = np.exp(loglik - top).reshape(len(self.query_states), -1).sum(axis=1)
            probs = weights / weights.sum()
        else:
            probs = _normalise(loglik[None, :], self._core_to_query, len(self.query_states))[0]
        if np.isnan(probs[0]):
            self.posterior_batch(self.encode([evidence]), use_numba=False)  # raises, naming it
        values = tuple(probs.tolist())
        if len(self._recent) >= RECENT_POSTERIORS:
            self._recent.clear()
        self._recent[key] = values
        return dict(zip(self.query_states, values, strict=True))

    def posterior_batch(
        self,
        codes: np.ndarray,
        *,
        on_impossible: str = "raise",
        use_numba: bool | None = None,
        chunk: int = 8192,
    ) -> np.ndarray:
        """Posteriors for encoded evidence, shape (n_cases, n_query_states).

        Parameters
        ----------
        codes : int array (n_cases, n_observable), see :meth:`encode`.
        on_impossible : ``"raise"`` (an :class:`ImpossibleEvidenceError` naming the first
            such row) or ``"nan"`` (that row is NaN; see :meth:`impossible`).
        use_numba : force a path; ``None`` uses numba for batches of at least
            :data:`NUMBA_MIN_CASES` cases when it is available.
        chunk : cases per block of the numpy path (bounds its memory).
        """
        if on_impossible not in ("raise", "nan"):
            raise InputError("on_impossible", on_impossible, "'raise' or 'nan'")
        arr = self.check_codes(codes)
        n = arr.shape[0]
        if use_numba is None:
            use_numba = n >= NUMBA_MIN_CASES and _kernel() is not None
        out = np.empty((n, len(self.query_states)), dtype=np.float64)
        if use_numba:
            kernel = _kernel()
            if kernel is None:
                raise PoemsError("numba is not available; call with use_numba=False")
            with _KERNEL_LOCK:  # numba's workqueue layer must not run two kernels at once
                kernel(arr, *self.kernel_tables(), out)
        else:
            for start in range(0, n, chunk):
                out[start : start + chunk] = self._numpy_block(arr[start : start + chunk])
        if on_impossible == "raise":
            bad = np.isnan(out[:, 0])
            if bad.any():
                i = int(np.argmax(bad))
                raise ImpossibleEvidenceError(
                    f"evidence (case {i}) has probability zero under the network: "
                    f"{self._describe_codes(arr[i])}. Check it for a contradiction "
                    "(an aggregate absent while a part is present, or a state the "
                    "network rules out)."
                )
        return out

    def log_posterior_batch(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Log posteriors (n, n_query) and log P(evidence) (n,), numpy path.

        For analyses that need the evidence probability (predictive distributions) or
        exact log-odds near 0 and 1. Impossible evidence gives ``-inf`` everywhere.
        """
        arr = self.check_codes(codes)
        loglik = self._log_likelihood(arr)
        top = loglik.max(axis=1, keepdims=True)
        finite_top = np.where(np.isfinite(top), top, 0.0)
        weights = np.exp(loglik - finite_top, out=loglik)
        # each query state's core states are one block (the query is the first core axis);
        # summed as numpy sums a masked copy of them: pairwise for one row, left to right
        # over the block for several (the same numbers, bit for bit, as before)
        blocks = weights.reshape(len(arr), len(self.query_states), -1)
        if len(arr) == 1:
            per_query = blocks.sum(axis=2)
        else:
            per_query = blocks[:, :, 0].copy()
            for j in range(1, blocks.shape[2]):
                per_query += blocks[:, :, j]
        with np.errstate(divide="ignore", invalid="ignore"):
            log_evidence = np.log(per_query.sum(axis=1)) + finite_top[:, 0]
            log_post = np.log(per_query) + finite_top - log_evidence[:, None]
        impossible = ~np.isfinite(top[:, 0])
        log_post[impossible] = -np.inf
        log_evidence[impossible] = -np.inf
        return log_post, log_evidence

    def _log_likelihood(self, arr: np.ndarray) -> np.ndarray:
        """log P(core, e) per row of checked codes: the table rows of every group, added in
        group order (the same additions, in the same order, as a sum over the group axis)."""
        idx = self._group_rows(arr)
        if idx.shape[1] == 0:
            return np.repeat(self._log_prior[None, :], len(arr), axis=0)
        if len(arr) <= SMALL_BATCH:  # one gather; numpy sums the group axis in order too
            return np.add(self._log_prior[None, :], self._log_tables.take(idx, axis=0).sum(axis=1))
        total = self._log_tables.take(idx[:, 0], axis=0)
        for g in range(1, idx.shape[1]):
            total += self._log_tables.take(idx[:, g], axis=0)
        total = np.add(self._log_prior[None, :], total, out=total)
        return total

    def _group_rows(self, arr: np.ndarray) -> np.ndarray:
        """The row of every table group for each row of checked codes (int64, n x groups):
        ``_offsets + (codes + 1) @ _stride_matrix``, multiplied in floating point (BLAS;
        exact: every term and sum is an integer below the number of table rows, far below
        2**53)."""
        rows = (arr + 1.0) @ self._stride_matrix_float
        return self._offsets[None, :] + rows.astype(np.int64)

    @staticmethod
    def impossible(posteriors: np.ndarray) -> np.ndarray:
        """Boolean mask of the rows ``posterior_batch(..., on_impossible='nan')`` flagged."""
        return np.isnan(posteriors[:, 0])

    def _numpy_block(self, arr: np.ndarray) -> np.ndarray:
        idx = self._group_rows(arr)
        loglik = self._log_prior[None, :] + self._log_tables[idx].sum(axis=1)
        return _normalise(loglik, self._core_to_query, len(self.query_states))

    def _describe_codes(self, row: np.ndarray) -> str:
        parts = [
            f"{self.observable[j]}={self.states[self.observable[j]][c]}"
            for j, c in enumerate(row)
            if c >= 0
        ]
        return ", ".join(parts) if parts else "(no evidence)"

    # ------------------------------------------------------------------ parameter batches
    def prepare(self, tables: Mapping[str, Any]) -> TableBatch:
        """Validate and broadcast a table batch once, for many :meth:`posterior_under` calls.

        Everything here is independent of the evidence, so a credible interval or a
        sensitivity sweep pays for it once per parameter set, not once per patient: checking
        the tables and broadcasting them to one batch axis; summing each never-observed node
        with a single child into that child (the incidental-MGUS state into the clone);
        storing every table with the batch axis last and contiguous, a finding that hangs off
        the core state-major in core order (one state is one block); the core prior and its
        factors; each OR aggregate's probability that all its parts are absent; for each
        observable node with one child, that child's table summed over it. The nodes
        keep their usual axes (batch, state, *parents) as views of those copies, so the batch
        takes about the memory of the tables themselves
        (:mod:`~model.inference.compiled_batches`).
        """
        nodes, batch_shape = _batched_nodes(self._nodes, tables)
        n_batch = int(np.prod(batch_shape)) if batch_shape else 1
        for name in list(nodes):
            base = self._nodes[name].values.shape
            full = np.broadcast_to(nodes[name].values, (*batch_shape, *base))
            nodes[name] = _Node(
                name, nodes[name].states, nodes[name].parents, full.reshape(n_batch, *base)
            )
        with np.errstate(divide="ignore"):
            log_prior = np.log(_core_prior_batched(nodes, self.core, n_batch))
        nodes = _sum_out_hidden(nodes, {*self.core, *self.observable})
        or_nodes = frozenset(n for n in nodes if _is_or_node(nodes, n))
        leaves = {c.nodes[0] for c in self._clusters if len(c.nodes) == 1 and c.nodes[0] in nodes}
        leaves.update(p for n in or_nodes for p in nodes[n].parents)
        nodes = _draws_last(nodes, self.core, leaves, skip={*or_nodes, *self.core})
        candidates = [n for n in self.observable if n in nodes and n not in self.core]
        variants = _draws_last(_unobserved_variants(nodes, candidates, or_nodes), self.core, (), ())
        core_factors = tuple(
            np.ascontiguousarray(_core_factor(nodes[c], self.core)) for c in self.core
        )
        all_absent = _all_absent(self._clusters, nodes, self.core, or_nodes)
        columns = _leaf_columns(nodes, self.core, leaves)
        return TableBatch(
            nodes,
            batch_shape,
            n_batch,
            log_prior,
            or_nodes,
            core_factors,
            all_absent,
            variants,
            columns,
        )

    def posterior_under(
        self, tables: Mapping[str, Any] | TableBatch, evidence: Mapping[str, str]
    ) -> np.ndarray:
        """Posterior for ONE evidence dict under many CPD sets; shape (*batch, n_query).

        ``tables`` maps node -> table with leading batch axes, shape
        ``(*batch, n_states, n_parent_configs)`` in pgmpy column order, or an object with
        such an ``array`` (``model.network.build_tables(priors, setting, values=draws)``), or
        a :class:`TableBatch` from :meth:`prepare` (reuse it across patients). Nodes not
        named keep the compiled point values; batch shapes broadcast. No pattern table is
        built: each observed cluster is contracted for this evidence only onto the core
        variables it depends on (a deterministic-OR aggregate with its parts in closed form,
        linear in the parts); likelihoods on the same core variables are multiplied together
        and the groups contracted with the core prior down to the query, never over the
        full core. That product is in the linear domain; a table set whose weights all fall
        below :data:`~model.inference.compiled_batches.LINEAR_FLOOR` (extreme or impossible
        evidence) is recomputed over the full core in the log domain.
        """
        index = self._state_index
        if any(n not in index or s not in index[n] for n, s in evidence.items()):
            self.encode([evidence])  # raises, naming the node or state and the fix
        evidence = self.with_implied(evidence)
        batch = tables if isinstance(tables, TableBatch) else self.prepare(tables)
        n_batch = batch.n_batch
        observed = {n: index[n][s] for n, s in evidence.items()}
        fixed = _fixed_core(self.core, observed)  # observed core variables: one state each
        common = (
            self._clusters,
            batch.nodes,
            batch.or_nodes,
            self.core,
            observed,
            n_batch,
            batch.all_absent,
        )
        factors = _likelihood_factors(*common, fixed, batch.variants, batch.columns)
        prior = [_at_fixed(f, fixed) for f in batch.core_factors]
        probs, sound = _posterior_linear([*prior, *factors], n_batch)
        if not sound.all():  # extreme or impossible evidence: redo those rows with logs
            rows = np.flatnonzero(~sound)
            full = _likelihood_factors(*common)  # over the full core
            probs[rows] = _posterior_logs(
                full,
                batch.log_core_prior,
                self._core_cards,
                self._core_to_query,
                len(self.query_states),
                rows,
            )
        if np.isnan(probs[:, 0]).any():
            raise ImpossibleEvidenceError(
                "evidence has probability zero under the network for "
                f"{int(np.isnan(probs[:, 0]).sum())} of {n_batch} table sets: {dict(evidence)}."
            )
        return probs.reshape(*batch.batch_shape, len(self.query_states))


@dataclass(frozen=True)
class TableBatch:
    """Tables with one leading batch axis, checked and broadcast (:meth:`CompiledEngine.prepare`).

    Immutable by convention: the arrays are shared between calls and never written.
    """

    nodes: Mapping[str, _Node]  # less never-observed nodes summed into their one child
    batch_shape: tuple[int, ...]
    n_batch: int
    log_core_prior: np.ndarray  # (n_batch, core states)
    or_nodes: frozenset[str]  # deterministic-OR nodes in every table set of the batch
    core_factors: tuple[np.ndarray, ...]  # each core CPD shaped (*core, n_batch), 1 if absent
    all_absent: Mapping[str, np.ndarray]  # OR aggregate -> P(all its parts absent | core)
    variants: Mapping[str, _Node]  # node -> its one child's table with it summed out
    columns: Mapping[tuple[str, int], np.ndarray]  # (leaf, state) -> its column on the core
