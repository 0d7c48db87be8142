"""A compiled exact inference engine built from a pgmpy network, vectorised over cases.

Method
------
The networks this engine is made for have a small *core*: the query (``diagnosis``) and the
latent variables many findings hang from (``cytokine_vegf``). Once the core is fixed, every
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
core. On the POEMS network this gives ``diagnosis`` x ``cytokine_vegf`` (21 core states).

Parameter uncertainty needs the other direction: one evidence pattern under many table sets
(say 2,000 Dirichlet draws). :meth:`CompiledEngine.posterior_under` does that without
compiling any pattern table: per cluster it drops barren unobserved nodes, slices the
observed axes and contracts the rest with one batched ``einsum``.

Small cluster tables are merged into product tables (the outer sum of their log tables),
so a case gathers about a dozen rows instead of one per cluster. Batch scoring runs a numba
kernel (``prange`` over blocks of cases) in the linear domain, each table row scaled to a
maximum of 1, and rescores a case from the log tables if its weights fall below
:data:`LINEAR_FLOOR` (see :func:`_batch_kernel`); the log-domain numpy computation is the
path for small batches (it needs no compilation). Measured by ``poems bench``: numba about
6x the numpy path and about 10,000x pgmpy's per-case rate on this network.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from model.exceptions import InputError, PoemsError
from model.vocabulary import suggest

UNOBSERVED = -1
"""Code for a node without evidence in an encoded evidence array."""

NUMBA_MIN_CASES = 2048
"""Below this many cases the numpy path is used (no compilation)."""

_LETTERS = string.ascii_letters


class ImpossibleEvidenceError(PoemsError, ValueError):
    """The evidence has probability zero under the network: no posterior exists."""


@dataclass(frozen=True)
class _Node:
    name: str
    states: tuple[str, ...]
    parents: tuple[str, ...]
    values: np.ndarray  # shape (card, *parent_cards); batched: (batch, card, *parent_cards)

    @property
    def card(self) -> int:
        return len(self.states)


@dataclass(frozen=True)
class _Cluster:
    nodes: tuple[str, ...]  # in topological order
    observable: tuple[str, ...]  # the nodes evidence may name, in column order of the table
    core_evidence: bool  # True for the pseudo-cluster of one latent core variable


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
        )

    def _compile(self) -> None:
        core_axes = {c: i for i, c in enumerate(self.core)}
        pieces: list[tuple[np.ndarray, list[tuple[str, int]]]] = []
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
            pieces.append((log_table, list(zip(cluster.observable, strides, strict=True))))
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
        stride_matrix = np.zeros((len(self.observable), max(len(offsets), 1)), dtype=np.int64)
        stride_matrix[np.arange(len(self.observable)), col_cluster] = col_stride
        self._stride_matrix = stride_matrix
        prior = _core_prior(self._nodes, self.core, self._core_cards)
        with np.errstate(divide="ignore"):
            self._log_prior = np.log(prior.reshape(-1))
        self._lin_tables = np.ascontiguousarray(_shifted_exp(self._log_tables))
        self._lin_prior = _shifted_exp(self._log_prior[None, :])[0]
        self._core_to_query = np.repeat(
            np.arange(len(self.query_states), dtype=np.int64), self.n_core // len(self.query_states)
        )

    # ------------------------------------------------------------------ description
    @property
    def clusters(self) -> tuple[tuple[str, ...], ...]:
        """The clusters (node names) the network was split into given the core."""
        return tuple(c.nodes for c in self._clusters)

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
        if not np.issubdtype(arr.dtype, np.integer):
            raise InputError("evidence codes", str(arr.dtype), "an integer array")
        bad = (arr < UNOBSERVED) | (arr >= self._cards[None, :])
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise InputError(
                f"evidence codes[{i}, {j}] ({self.observable[j]})",
                int(arr[i, j]),
                f"-1 (unobserved) or a state index 0..{self._cards[j] - 1}",
            )
        return np.ascontiguousarray(arr, dtype=np.int8)

    # ------------------------------------------------------------------ scoring
    def posterior(self, evidence: Mapping[str, str]) -> dict[str, float]:
        """Posterior over the query states for one evidence dict (node -> state)."""
        probs = self._numpy_block(self.encode([evidence]))[0]  # encode() validated it
        if np.isnan(probs[0]):
            self.posterior_batch(self.encode([evidence]), use_numba=False)  # raises, naming it
        return {s: float(p) for s, p in zip(self.query_states, probs, strict=True)}

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
            kernel(
                arr,
                self._col_cluster,
                self._col_stride,
                self._offsets,
                self._lin_tables,
                self._lin_prior,
                self._log_tables,
                self._log_prior,
                self._core_to_query,
                out,
            )
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
        idx = self._offsets[None, :] + (arr.astype(np.int64) + 1) @ self._stride_matrix
        loglik = self._log_prior[None, :] + self._log_tables[idx].sum(axis=1)
        top = loglik.max(axis=1, keepdims=True)
        finite_top = np.where(np.isfinite(top), top, 0.0)
        weights = np.exp(loglik - finite_top)
        n_query = len(self.query_states)
        per_query = np.stack(
            [weights[:, self._core_to_query == q].sum(axis=1) for q in range(n_query)], axis=1
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            log_evidence = np.log(per_query.sum(axis=1)) + finite_top[:, 0]
            log_post = np.log(per_query) + finite_top - log_evidence[:, None]
        impossible = ~np.isfinite(top[:, 0])
        log_post[impossible] = -np.inf
        log_evidence[impossible] = -np.inf
        return log_post, log_evidence

    @staticmethod
    def impossible(posteriors: np.ndarray) -> np.ndarray:
        """Boolean mask of the rows ``posterior_batch(..., on_impossible='nan')`` flagged."""
        return np.isnan(posteriors[:, 0])

    def _numpy_block(self, arr: np.ndarray) -> np.ndarray:
        idx = self._offsets[None, :] + (arr.astype(np.int64) + 1) @ self._stride_matrix
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

        Everything here is independent of the evidence (checking the tables, broadcasting them
        to one batch axis, the core prior), so a credible interval or a sensitivity sweep pays
        for it once per parameter set, not once per patient.
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
        or_nodes = frozenset(n for n in nodes if _is_or_node(nodes, n))
        return TableBatch(nodes, batch_shape, n_batch, log_prior, or_nodes)

    def posterior_under(
        self, tables: Mapping[str, Any] | TableBatch, evidence: Mapping[str, str]
    ) -> np.ndarray:
        """Posterior for ONE evidence dict under many CPD sets; shape (*batch, n_query).

        ``tables`` maps node -> table with leading batch axes, shape
        ``(*batch, n_states, n_parent_configs)`` in pgmpy column order, or an object with
        such an ``array`` (``model.network.build_tables(priors, setting, values=draws)``), or
        a :class:`TableBatch` from :meth:`prepare` (reuse it across patients). Nodes not
        named keep the compiled point values; batch shapes broadcast. No pattern table is
        built: each cluster is contracted for this evidence only, and a deterministic-OR
        aggregate with its parts in closed form (linear, not exponential, in the parts).
        """
        self.encode([evidence])  # validates node and state names
        batch = tables if isinstance(tables, TableBatch) else self.prepare(tables)
        nodes, n_batch = batch.nodes, batch.n_batch
        observed = {n: self.states[n].index(s) for n, s in evidence.items()}
        loglik = batch.log_core_prior
        linear: np.ndarray | None = None  # product of likelihoods not yet folded into logs
        pending = 0
        for cluster in self._clusters:
            if cluster.core_evidence:
                name = cluster.nodes[0]
                if name in observed:
                    mask = _core_evidence_table(name, self._nodes, self.core, self._core_cards)
                    with np.errstate(divide="ignore"):
                        loglik = loglik + np.log(mask[observed[name] + 1])[None, :]
                continue
            if not any(name in observed for name in cluster.nodes):
                continue  # an unobserved cluster sums to one
            lik = _single_node_likelihood(cluster, nodes, self.core, observed)
            if lik is None:
                lik = _or_cluster_likelihood(cluster, nodes, self.core, observed, batch.or_nodes)
            if lik is None:
                flat = _cluster_likelihood_batched(cluster, nodes, self.core, observed, n_batch)
                if flat is None:
                    continue
                lik = flat.reshape(n_batch, *self._core_cards)
            linear = lik if linear is None else linear * lik
            pending += 1
            if pending == FOLD_EVERY:  # keep the linear product far from underflow
                loglik = loglik + _log_full(linear, n_batch, self._core_cards)
                linear, pending = None, 0
        if linear is not None:
            loglik = loglik + _log_full(linear, n_batch, self._core_cards)
        probs = _normalise(loglik, self._core_to_query, len(self.query_states))
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

    nodes: Mapping[str, _Node]
    batch_shape: tuple[int, ...]
    n_batch: int
    log_core_prior: np.ndarray  # (n_batch, core states)
    or_nodes: frozenset[str]  # deterministic-OR nodes in every table set of the batch


# ---------------------------------------------------------------------- structure
def _nodes_from_pgmpy(model: Any) -> dict[str, _Node]:
    nodes: dict[str, _Node] = {}
    order = list(nx.topological_sort(nx.DiGraph(model.edges()))) if model.edges() else []
    names = order + [n for n in model.nodes() if n not in order]
    for name in names:
        cpd = model.get_cpds(name)
        if cpd is None:
            raise InputError(
                f"network node {name}", "no CPD", "a TabularCPD", "Add it with model.add_cpds."
            )
        variables = [str(v) for v in cpd.variables]
        states = {str(k): tuple(str(s) for s in v) for k, v in cpd.state_names.items()}
        values = _check_probabilities(str(name), np.asarray(cpd.values, dtype=np.float64))
        nodes[str(name)] = _Node(str(name), states[str(name)], tuple(variables[1:]), values)
    return _checked_cards(nodes)


def _nodes_from_tables(tables: Mapping[str, Any]) -> dict[str, _Node]:
    """Nodes from named tables (``NodeTable``-like: variable, states, parents, array)."""
    graph = nx.DiGraph()
    for name, table in tables.items():
        graph.add_node(str(name))
        graph.add_edges_from((str(p), str(name)) for p in table.parents)
    missing = [n for n in graph if n not in tables]
    if missing:
        raise InputError("tables", missing, "a table for every parent", "Build all tables.")
    if not nx.is_directed_acyclic_graph(graph):
        raise InputError("tables", "a cycle", "a directed acyclic graph", "Check the parents.")
    nodes: dict[str, _Node] = {}
    for name in nx.topological_sort(graph):
        table = tables[name]
        states = tuple(str(s) for s in table.states)
        parents = tuple(str(p) for p in table.parents)
        cards = [len(tables[p].states) for p in parents]
        arr = np.asarray(table.array, dtype=np.float64)
        if arr.shape != (len(states), int(np.prod(cards))):
            raise InputError(
                f"table {name}",
                f"shape {arr.shape}",
                f"shape ({len(states)}, {int(np.prod(cards))}) with no batch axis",
                "Use posterior_under for batches of tables.",
            )
        values = _check_probabilities(name, arr.reshape(len(states), *cards))
        nodes[name] = _Node(name, states, parents, values)
    return _checked_cards(nodes)


def _checked_cards(nodes: dict[str, _Node]) -> dict[str, _Node]:
    for node in nodes.values():
        for axis, parent in enumerate(node.parents, start=1):
            if nodes[parent].card != node.values.shape[axis]:
                raise InputError(
                    f"CPD of {node.name}",
                    f"parent {parent} with {node.values.shape[axis]} states",
                    f"{nodes[parent].card} states as in the CPD of {parent}",
                )
    return nodes


def _graph(nodes: Mapping[str, _Node]) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    for node in nodes.values():
        graph.add_edges_from((p, node.name) for p in node.parents)
    return graph


def _ancestral_core(graph: nx.DiGraph, seeds: Sequence[str]) -> tuple[str, ...]:
    members: set[str] = set()
    for seed in seeds:
        members.add(seed)
        members |= nx.ancestors(graph, seed)
    query = seeds[0]
    ordered = [n for n in nx.topological_sort(graph) if n in members and n != query]
    return (query, *ordered)


def _components(nodes: Mapping[str, _Node], core: Sequence[str]) -> list[tuple[str, ...]]:
    skeleton = _graph(nodes).to_undirected()
    skeleton.remove_nodes_from(core)
    order = {n: i for i, n in enumerate(nodes)}
    comps = [tuple(sorted(c, key=order.__getitem__)) for c in nx.connected_components(skeleton)]
    return sorted(comps, key=lambda c: order[c[0]])


def _cluster_size(nodes: Mapping[str, _Node], comp: Sequence[str]) -> tuple[int, int]:
    patterns = int(np.prod([nodes[n].card + 1 for n in comp], dtype=float))
    assignments = int(np.prod([nodes[n].card for n in comp], dtype=float))
    return patterns, assignments


def _too_big(
    nodes: Mapping[str, _Node], comp: Sequence[str], max_patterns: int, max_work: int
) -> bool:
    patterns, assignments = _cluster_size(nodes, comp)
    return patterns > max_patterns or patterns * assignments > max_work


def _choose_core(
    nodes: Mapping[str, _Node],
    graph: nx.DiGraph,
    query: str,
    max_patterns: int,
    max_work: int,
) -> tuple[str, ...]:
    core = list(_ancestral_core(graph, [query]))
    skeleton = graph.to_undirected()
    while True:
        too_big = [
            comp
            for comp in _components(nodes, core)
            if _too_big(nodes, comp, max_patterns, max_work)
        ]
        if not too_big:
            return tuple(core)
        comp = too_big[0]
        inside = set(comp)
        candidates = [n for n in comp if all(p in core for p in nodes[n].parents)]
        best = max(candidates, key=lambda n: sum(1 for m in skeleton[n] if m in inside))
        core.append(best)


def _clusters(
    nodes: Mapping[str, _Node], core: Sequence[str], observable: Sequence[str]
) -> list[_Cluster]:
    obs = set(observable)
    clusters = [
        _Cluster(comp, tuple(n for n in comp if n in obs), False)
        for comp in _components(nodes, core)
    ]
    clusters = [c for c in clusters if c.observable]  # no evidence possible: likelihood 1
    clusters += [_Cluster((c,), (c,), True) for c in core[1:] if c in obs]
    return clusters


def _grouped(
    pieces: Sequence[tuple[np.ndarray, list[tuple[str, int]]]], limit: int
) -> list[tuple[np.ndarray, list[tuple[str, int]]]]:
    """Merge small cluster tables into product tables of at most ``limit`` rows.

    Clusters are independent given the core, so the log table of two clusters together is
    the outer sum of their log tables; a case then gathers one row per group instead of one
    per cluster. The combined pattern index is mixed radix (the first member slowest).
    """
    order = sorted(range(len(pieces)), key=lambda i: pieces[i][0].shape[0])
    groups: list[list[int]] = []
    for i in order:
        rows = pieces[i][0].shape[0]
        if groups and rows * int(np.prod([pieces[j][0].shape[0] for j in groups[-1]])) <= limit:
            groups[-1].append(i)
        else:
            groups.append([i])
    out = []
    for members in groups:
        table = pieces[members[0]][0]
        columns = list(pieces[members[0]][1])
        for j in members[1:]:
            other, other_columns = pieces[j]
            n = other.shape[0]
            table = (table[:, None, :] + other[None, :, :]).reshape(-1, table.shape[1])
            columns = [(name, stride * n) for name, stride in columns] + list(other_columns)
        out.append((np.ascontiguousarray(table), columns))
    return out


def _shifted_exp(log_rows: np.ndarray) -> np.ndarray:
    """exp(row - max(row)) per row (largest entry 1); an all ``-inf`` row becomes zeros."""
    top = log_rows.max(axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.asarray(np.exp(log_rows - top))


def _strides(shape: Sequence[int]) -> list[int]:
    strides = [1] * len(shape)
    for i in range(len(shape) - 2, -1, -1):
        strides[i] = strides[i + 1] * shape[i + 1]
    return strides


# ---------------------------------------------------------------------- point tables
def _einsum(
    factors: Sequence[tuple[np.ndarray, Sequence[str]]],
    output: Sequence[str],
    batch: bool = False,
) -> np.ndarray:
    """Contract named-axis factors; ``batch`` adds a leading shared axis to all."""
    names = sorted({a for _, axes in factors for a in axes} | set(output))
    if len(names) + 1 > len(_LETTERS):
        raise PoemsError(f"cluster too large for einsum ({len(names)} variables)")
    letter = {n: _LETTERS[i + 1] for i, n in enumerate(names)}
    b = _LETTERS[0] if batch else ""
    terms = [b + "".join(letter[a] for a in axes) for _, axes in factors]
    spec = ",".join(terms) + "->" + b + "".join(letter[a] for a in output)
    return np.asarray(np.einsum(spec, *[f for f, _ in factors], optimize="greedy"))


def _core_prior(
    nodes: Mapping[str, _Node], core: Sequence[str], core_cards: Sequence[int]
) -> np.ndarray:
    factors = [(nodes[c].values, (c, *nodes[c].parents)) for c in core]
    return _einsum(factors, core).reshape(core_cards)


def _core_prior_batched(
    nodes: Mapping[str, _Node], core: Sequence[str], n_batch: int
) -> np.ndarray:
    factors = [(nodes[c].values, (c, *nodes[c].parents)) for c in core]
    return _einsum(factors, core, batch=True).reshape(n_batch, -1)


def _core_evidence_table(
    name: str, nodes: Mapping[str, _Node], core: Sequence[str], core_cards: Sequence[int]
) -> np.ndarray:
    axis = core.index(name)
    card = nodes[name].card
    state_of_core = np.unravel_index(np.arange(int(np.prod(core_cards))), core_cards)[axis]
    table = np.ones((card + 1, len(state_of_core)))
    table[1:, :] = (np.arange(card)[:, None] == state_of_core[None, :]).astype(float)
    return table


def _cluster_table(
    cluster: _Cluster,
    nodes: Mapping[str, _Node],
    core: Sequence[str],
    core_axes: Mapping[str, int],
) -> np.ndarray:
    """Likelihood of every evidence pattern of the cluster, shape (patterns, core states)."""
    core_cards = [nodes[c].card for c in core]
    factors: list[tuple[np.ndarray, Sequence[str]]] = [
        (nodes[n].values, (n, *nodes[n].parents)) for n in cluster.nodes
    ]
    factors.append((np.ones(core_cards), tuple(core)))
    joint = _einsum(factors, (*cluster.nodes, *core))
    cards = [nodes[n].card for n in cluster.nodes]
    joint = joint.reshape(int(np.prod(cards)), -1)
    # Unobservable members are summed out first; the mask runs over observable members.
    obs_axes = [cluster.nodes.index(n) for n in cluster.observable]
    if len(obs_axes) < len(cluster.nodes):
        full = joint.reshape(*cards, -1)
        hidden = tuple(i for i in range(len(cards)) if i not in obs_axes)
        joint = full.sum(axis=hidden).reshape(-1, full.shape[-1])
        cards = [cards[i] for i in obs_axes]
    pattern_shape = [c + 1 for c in cards]
    pattern_digits = np.unravel_index(np.arange(int(np.prod(pattern_shape))), pattern_shape)
    assign_digits = np.unravel_index(np.arange(int(np.prod(cards))), cards)
    mask = np.ones((len(pattern_digits[0]), len(assign_digits[0])), dtype=bool)
    for pd, ad in zip(pattern_digits, assign_digits, strict=True):
        mask &= (pd[:, None] == 0) | (pd[:, None] - 1 == ad[None, :])
    return np.asarray(mask.astype(np.float64) @ joint)


def _normalise(loglik: np.ndarray, core_to_query: np.ndarray, n_query: int) -> np.ndarray:
    top = loglik.max(axis=1, keepdims=True)
    impossible = ~np.isfinite(top[:, 0])
    with np.errstate(invalid="ignore"):
        weights = np.exp(loglik - np.where(impossible[:, None], 0.0, top))
    n_core = core_to_query.shape[0]
    if n_core % n_query == 0 and np.array_equal(
        core_to_query, np.repeat(np.arange(n_query), n_core // n_query)
    ):  # the query is the slowest core axis: one reshape, one sum
        out = weights.reshape(loglik.shape[0], n_query, n_core // n_query).sum(axis=2)
    else:
        out = np.zeros((loglik.shape[0], n_query))
        for q in range(n_query):
            out[:, q] = weights[:, core_to_query == q].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out /= out.sum(axis=1, keepdims=True)
    out[impossible] = np.nan
    return out


# ---------------------------------------------------------------------- table batches
def _table_array(name: str, node: _Node, table: Any) -> np.ndarray:
    if hasattr(table, "array"):
        for attr, expected in (("states", node.states), ("parents", node.parents)):
            given = getattr(table, attr, None)
            if given is not None and tuple(given) != tuple(expected):
                raise InputError(
                    f"table {name}.{attr}",
                    tuple(given),
                    f"{tuple(expected)} as in the compiled network",
                    "Tables are matched by name; rebuild them for this network.",
                )
        arr = np.asarray(table.array, dtype=np.float64)
    else:
        arr = np.asarray(table, dtype=np.float64)
    n_configs = int(np.prod(node.values.shape[1:]))
    if arr.ndim < 2 or arr.shape[-2:] != (node.card, n_configs):
        raise InputError(
            f"table {name}",
            f"shape {arr.shape}",
            f"shape (*batch, {node.card}, {n_configs})",
            "Columns are parent configurations in pgmpy order (first parent slowest).",
        )
    return _check_probabilities(name, arr.reshape(*arr.shape[:-2], *node.values.shape))


def _check_probabilities(name: str, values: np.ndarray) -> np.ndarray:
    if not np.isfinite(values).all() or (values < 0).any() or (values > 1).any():
        bad = values[~(np.isfinite(values) & (values >= 0) & (values <= 1))].flat[0]
        raise InputError(
            f"CPD of {name}", float(bad), "probabilities in [0, 1]", "Check the table values."
        )
    return values


def _replace_values(
    nodes: Mapping[str, _Node], tables: Mapping[str, Any], *, batched: bool
) -> dict[str, _Node]:
    out = dict(nodes)
    for name, table in tables.items():
        if name not in nodes:
            raise InputError("table", name, "a node of the network", suggest(name, nodes))
        arr = _table_array(name, nodes[name], table)
        if not batched and arr.ndim != nodes[name].values.ndim:
            raise InputError(
                f"table {name}",
                f"shape {arr.shape}",
                "no batch axis (use posterior_under for batches)",
            )
        out[name] = _Node(name, nodes[name].states, nodes[name].parents, arr)
    return out


def _batched_nodes(
    nodes: Mapping[str, _Node], tables: Mapping[str, Any]
) -> tuple[dict[str, _Node], tuple[int, ...]]:
    replaced = _replace_values(nodes, tables, batched=True)
    shapes = [
        replaced[n].values.shape[: replaced[n].values.ndim - nodes[n].values.ndim] for n in replaced
    ]
    batch_shape = tuple(np.broadcast_shapes(*shapes)) if shapes else ()
    return replaced, batch_shape


def _cluster_likelihood_batched(
    cluster: _Cluster,
    nodes: Mapping[str, _Node],
    core: Sequence[str],
    observed: Mapping[str, int],
    n_batch: int,
) -> np.ndarray | None:
    """Likelihood of the cluster's evidence per table set, (n_batch, core states)."""
    members = list(cluster.nodes)
    # Barren nodes: unobserved and without children left in the cluster sum to one.
    changed = True
    while changed:
        changed = False
        for name in list(members):
            if name in observed:
                continue
            if not any(name in nodes[m].parents for m in members if m != name):
                members.remove(name)
                changed = True
    if not members:
        return None
    factors: list[tuple[np.ndarray, Sequence[str]]] = []
    for name in members:
        axes = (name, *nodes[name].parents)
        arr = nodes[name].values
        index: list[Any] = [slice(None)]
        kept: list[str] = []
        for axis in axes:
            if axis in observed and axis not in core:
                index.append(observed[axis])
            else:
                index.append(slice(None))
                kept.append(axis)
        factors.append((arr[tuple(index)], kept))
    core_cards = [nodes[c].card for c in core]
    # Contract onto the core variables the factors mention; the others are broadcast.
    used = tuple(c for c in core if any(c in axes for _, axes in factors))
    used_cards = [nodes[c].card for c in used]
    size = int(np.prod([nodes[m].card for m in members if m not in observed])) * int(
        np.prod(used_cards)
    )
    step = max(1, (1 << 21) // max(size, 1))
    small = np.empty((n_batch, *used_cards))
    for start in range(0, n_batch, step):
        part = [(f[start : start + step], axes) for f, axes in factors]
        small[start : start + step] = _einsum(part, used, batch=True)
    shape = [n_batch] + [nodes[c].card if c in used else 1 for c in core]
    full = np.broadcast_to(small.reshape(shape), (n_batch, *core_cards))
    return np.asarray(full.reshape(n_batch, -1))


FOLD_EVERY = 8
"""Likelihood factors multiplied in the linear domain before one log (each factor is a
probability; eight of them cannot underflow unless one is already zero)."""


def _log_full(linear: np.ndarray, n_batch: int, core_cards: Sequence[int]) -> np.ndarray:
    """log of a broadcastable likelihood product, as (n_batch, core states)."""
    with np.errstate(divide="ignore"):
        return np.log(np.broadcast_to(linear, (n_batch, *core_cards))).reshape(n_batch, -1)


def _single_node_likelihood(
    cluster: _Cluster, nodes: Mapping[str, _Node], core: Sequence[str], observed: Mapping[str, int]
) -> np.ndarray | None:
    """An observed cluster of one node whose parents are all core: its CPT column, as a view
    shaped (n_batch, *core) (1 on core axes it does not depend on); else ``None``."""
    if len(cluster.nodes) != 1:
        return None
    node = nodes[cluster.nodes[0]]
    if not set(node.parents) <= set(core):
        return None
    return _on_core(node, core, node.values.shape[0], observed[node.name])


# ---------------------------------------------------------------------- OR aggregates
_ON, _OFF = "present", "absent"


def _is_or_node(nodes: Mapping[str, _Node], name: str) -> bool:
    """True when ``name`` is present exactly when any of its (present/absent) parents is."""
    node = nodes[name]
    if not node.parents or set(node.states) != {_ON, _OFF}:
        return False
    if any(set(nodes[p].states) != {_ON, _OFF} for p in node.parents):
        return False
    batched = node.values.ndim == len(node.parents) + 2
    values = node.values if batched else node.values[None]
    on = node.states.index(_ON)
    grids = np.meshgrid(*[np.arange(nodes[p].card) for p in node.parents], indexing="ij")
    any_on = np.zeros(grids[0].shape, dtype=bool)
    for parent, grid in zip(node.parents, grids, strict=True):
        any_on |= grid == nodes[parent].states.index(_ON)
    expected = any_on.astype(np.float64)
    return bool(
        np.array_equal(values[:, on], np.broadcast_to(expected, values[:, on].shape))
        and np.array_equal(values[:, 1 - on], 1.0 - values[:, on])
    )


def _on_core(node: _Node, core: Sequence[str], n_batch: int, state: int) -> np.ndarray:
    """P(node = state | its core parents), shape (n_batch, *core) with 1 for absent axes."""
    in_core_order = sorted(node.parents, key=core.index)
    perm = [0] + [1 + node.parents.index(p) for p in in_core_order]
    arr = node.values[:, state].transpose(perm)
    shape = [n_batch] + [1] * len(core)
    for parent in in_core_order:
        shape[1 + core.index(parent)] = arr.shape[1 + in_core_order.index(parent)]
    return arr.reshape(shape)


def _or_cluster_likelihood(
    cluster: _Cluster,
    nodes: Mapping[str, _Node],
    core: Sequence[str],
    observed: Mapping[str, int],
    or_nodes: frozenset[str],
) -> np.ndarray | None:
    """Closed form for an OR aggregate whose parts hang off the core only, else ``None``.

    Given the core the parts are independent, so with ``f`` the product of the observed
    parts' probabilities and ``A`` the probability that every unobserved part is absent:
    aggregate present -> ``f`` if an observed part is present, else ``f (1 - A)``;
    aggregate absent -> 0 if an observed part is present, else ``f A``; not observed -> ``f``.
    """
    aggregates = [n for n in cluster.nodes if n in or_nodes]
    if len(aggregates) != 1:
        return None
    agg = aggregates[0]
    parts = nodes[agg].parents
    if set(cluster.nodes) != {agg, *parts}:
        return None
    if any(not set(nodes[p].parents) <= set(core) for p in parts):
        return None
    n_batch = nodes[agg].values.shape[0]
    core_cards = [nodes[c].card for c in core]
    lik = np.ones([n_batch] + [1] * len(core))
    all_absent = np.ones_like(lik)
    any_observed_on = False
    for part in parts:
        node = nodes[part]
        if part in observed:
            lik = lik * _on_core(node, core, n_batch, observed[part])
            any_observed_on |= node.states[observed[part]] == _ON
        else:
            all_absent = all_absent * _on_core(node, core, n_batch, node.states.index(_OFF))
    if agg in observed:
        agg_on = nodes[agg].states[observed[agg]] == _ON
        if agg_on and not any_observed_on:
            lik = lik * (1.0 - all_absent)
        elif not agg_on:
            lik = lik * all_absent if not any_observed_on else lik * 0.0
    return np.broadcast_to(lik, (n_batch, *core_cards))


# ---------------------------------------------------------------------- numba kernel
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
