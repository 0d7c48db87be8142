"""Structure of a compiled engine: the nodes, the choice of the core, the clusters it leaves,
and the grouping of small cluster tables into product tables.

Part of :mod:`model.inference.compiled` (see its docstring for the method).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from model.exceptions import InputError


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


def _scope(cluster: _Cluster, nodes: Mapping[str, _Node], core: Sequence[str]) -> tuple[int, ...]:
    """The core axes a cluster's likelihood depends on: those its nodes' tables mention
    (for the pseudo-cluster of a latent core variable, that variable's own axis)."""
    if cluster.core_evidence:
        return (core.index(cluster.nodes[0]),)
    named = {p for n in cluster.nodes for p in nodes[n].parents}
    return tuple(a for a, c in enumerate(core) if c in named)


def _maximal_scopes(scopes: Sequence[tuple[int, ...]]) -> dict[tuple[int, ...], tuple[int, ...]]:
    """Each scope mapped to the smallest scope of the list that contains it and is not
    contained in another (diagnosis alone -> diagnosis x activity).

    The kernel multiplies a case's rows within each scope (cheap: contiguous rows), then
    gathers every scope once per core state (dear): fewer, wider scopes are faster.
    """
    distinct = set(scopes)
    maximal = [s for s in distinct if not any(set(s) < set(t) for t in distinct)]
    return {
        s: min((t for t in maximal if set(s) <= set(t)), key=lambda t: (len(t), t))
        for s in distinct
    }


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


def _check_probabilities(name: str, values: np.ndarray) -> np.ndarray:
    if not np.isfinite(values).all() or (values < 0).any() or (values > 1).any():
        bad = values[~(np.isfinite(values) & (values >= 0) & (values <= 1))].flat[0]
        raise InputError(
            f"CPD of {name}", float(bad), "probabilities in [0, 1]", "Check the table values."
        )
    return values
