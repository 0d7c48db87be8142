"""Table batches: one evidence pattern under many CPD sets (parameter draws), per cluster,
with deterministic-OR aggregates in closed form (linear, not exponential, in their parts).

Part of :mod:`model.inference.compiled` (see its docstring for the method).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from model.exceptions import InputError
from model.inference.compiled_structure import _check_probabilities, _Cluster, _Node
from model.inference.compiled_tables import _einsum
from model.vocabulary import suggest


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


# OR aggregates
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
