"""Table batches: one evidence pattern under many CPD sets (parameter draws), per cluster,
with deterministic-OR aggregates in closed form (linear, not exponential, in their parts).

Part of :mod:`model.inference.compiled` (see its docstring for the method).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from model.exceptions import InputError, PoemsError
from model.inference.compiled_structure import _check_probabilities, _Cluster, _Node
from model.inference.compiled_tables import _einsum, _normalise
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


def _core_ordered(nodes: Mapping[str, _Node], core: Sequence[str]) -> dict[str, _Node]:
    """The same tables, laid out so that one state of a node hanging off the core only is one
    contiguous (n_batch, *parents in core order) block.

    Each such table is copied state-major, parents in core order, and the node keeps a
    transposed view of the copy (same values, same axes), so :func:`_on_core` returns a
    contiguous array and multiplying it runs at memory speed instead of through strides.
    """
    out = dict(nodes)
    for name, node in nodes.items():
        if name in core or not node.parents or not set(node.parents) <= set(core):
            continue
        order = sorted(node.parents, key=core.index)
        perm = [1, 0] + [2 + node.parents.index(p) for p in order]
        state_major = np.ascontiguousarray(node.values.transpose(perm))
        out[name] = _Node(name, node.states, node.parents, state_major.transpose(np.argsort(perm)))
    return out


def _sum_out_hidden(
    nodes: Mapping[str, _Node], keep: frozenset[str] | set[str]
) -> dict[str, _Node]:
    """Sum every node outside ``keep`` (the core and the observable nodes) that has exactly
    one child into that child's table: ``P(y | rest, pa(x)) = sum_x P(y | rest, x) P(x | pa(x))``.

    The joint of the other nodes is unchanged, so every posterior is too (up to the order of
    the additions); done once per table batch, it takes a hidden root such as the
    incidental-MGUS state out of every later contraction.
    """
    out = dict(nodes)
    changed = True
    while changed:
        changed = False
        for name, node in list(out.items()):
            if name in keep:
                continue
            children = [c for c in out.values() if name in c.parents]
            if len(children) != 1:
                continue
            child = children[0]
            parents = tuple(p for p in child.parents if p != name)
            parents += tuple(p for p in node.parents if p not in parents)
            pair = [
                (child.values, (child.name, *child.parents)),
                (node.values, (name, *node.parents)),
            ]
            values = _einsum(pair, (child.name, *parents), batch=True)
            out[child.name] = _Node(child.name, child.states, parents, values)
            del out[name]
            changed = True
    return out


def _cluster_likelihood_batched(
    cluster: _Cluster,
    nodes: Mapping[str, _Node],
    core: Sequence[str],
    observed: Mapping[str, int],
    n_batch: int,
) -> np.ndarray | None:
    """Likelihood of the cluster's evidence per table set, shaped (n_batch, *core) with 1 on
    the core axes it does not depend on."""
    members = [name for name in cluster.nodes if name in nodes]  # less any summed out
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
    return small.reshape(shape)


LINEAR_FLOOR = 1e-250
"""A table set whose unnormalised posterior sums below this (or to zero) is recomputed in the
log domain (:func:`_posterior_logs`): every factor is a probability, so a partial product is
never smaller than the whole, and above this floor no partial product is subnormal."""


def _core_factor(node: _Node, core: Sequence[str]) -> np.ndarray:
    """P(core node | its parents), shaped (n_batch, *core) with 1 on the axes it lacks."""
    axes = (node.name, *node.parents)
    order = sorted(axes, key=core.index)
    arr = node.values.transpose([0] + [1 + axes.index(a) for a in order])
    shape = [arr.shape[0]] + [1] * len(core)
    for i, axis in enumerate(order):
        shape[1 + core.index(axis)] = arr.shape[1 + i]
    return arr.reshape(shape)


def _core_evidence_factor(card: int, axis: int, n_core_axes: int, state: int) -> np.ndarray:
    """1 where the core variable on ``axis`` is in ``state``, else 0; shape (1, *core)."""
    shape = [1] * (n_core_axes + 1)
    shape[1 + axis] = card
    return (np.arange(card) == state).astype(np.float64).reshape(shape)


def _likelihood_factors(
    clusters: Sequence[_Cluster],
    nodes: Mapping[str, _Node],
    or_nodes: frozenset[str],
    core: Sequence[str],
    observed: Mapping[str, int],
    n_batch: int,
) -> list[np.ndarray]:
    """One factor per observed cluster (and per observed latent core variable): its evidence
    likelihood per table set, shaped (n_batch or 1, *core) with 1 on the core axes it does not
    depend on. Unobserved clusters sum to one and are left out."""
    out: list[np.ndarray] = []
    for cluster in clusters:
        if cluster.core_evidence:
            name = cluster.nodes[0]
            if name in observed:
                card = nodes[name].card
                out.append(_core_evidence_factor(card, core.index(name), len(core), observed[name]))
            continue
        if not any(name in observed for name in cluster.nodes):
            continue
        lik = _single_node_likelihood(cluster, nodes, core, observed)
        if lik is None:
            lik = _or_cluster_likelihood(cluster, nodes, core, observed, or_nodes)
        if lik is None:
            lik = _cluster_likelihood_batched(cluster, nodes, core, observed, n_batch)
        if lik is not None:
            out.append(lik)
    return out


_AXES = "bcdefghijklmnopqrstuvwxyz"  # core axes; "a" is the batch axis


@functools.lru_cache(maxsize=256)
def _contraction(spec: str, shapes: tuple[tuple[int, ...], ...]) -> list[Any]:
    """The einsum path for ``spec`` on operands of these shapes (computed once)."""
    dummies = [np.broadcast_to(np.float64(0.0), shape) for shape in shapes]
    return list(np.einsum_path(spec, *dummies, optimize="greedy")[0])


def _posterior_linear(
    factors: Sequence[np.ndarray], core_cards: Sequence[int], n_batch: int
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior of the first core axis from the core prior and likelihood factors (all shaped
    (n_batch or 1, *core) with 1 on absent axes), without ever forming the full core.

    Factors on the same core axes are multiplied together; the groups are then contracted
    with one ``einsum`` (sum over the other core axes). Returns the posterior (n_batch,
    n_query) and which rows are sound: a row whose unnormalised total is zero, not finite or
    below :data:`LINEAR_FLOOR` must be recomputed with :func:`_posterior_logs`.
    """
    if len(core_cards) > len(_AXES):
        raise PoemsError(f"core too large for einsum ({len(core_cards)} variables)")
    groups: dict[tuple[int, ...], np.ndarray] = {}
    for factor in factors:
        key = tuple(i for i, size in enumerate(factor.shape[1:]) if size != 1)
        group = groups.get(key)
        groups[key] = factor if group is None else group * factor
    operands: list[np.ndarray] = []
    terms: list[str] = []
    for key, group in groups.items():
        letters = "".join(_AXES[i] for i in key)
        cards = [core_cards[i] for i in key]
        if group.shape[0] == 1:
            operands.append(group.reshape(cards))
            terms.append(letters)
        else:
            operands.append(group.reshape(group.shape[0], *cards))
            terms.append("a" + letters)
    spec = ",".join(terms) + "->a" + _AXES[0]
    if not any(t.startswith("a") for t in terms):  # no batched operand: add the batch axis
        operands.append(np.ones(n_batch))
        spec = ",".join([*terms, "a"]) + "->a" + _AXES[0]
    path = _contraction(spec, tuple(o.shape for o in operands))
    weights = np.einsum(spec, *operands, optimize=path)
    total = weights.sum(axis=1)
    sound = total > LINEAR_FLOOR  # False for NaN as well
    with np.errstate(divide="ignore", invalid="ignore"):
        return weights / total[:, None], sound


def _posterior_logs(
    factors: Sequence[np.ndarray],
    log_core_prior: np.ndarray,
    core_cards: Sequence[int],
    core_to_query: np.ndarray,
    n_query: int,
    rows: np.ndarray,
) -> np.ndarray:
    """The posterior of the given rows in the log domain over the full core (the exact path
    for extreme likelihoods; NaN where the evidence is impossible)."""
    loglik = log_core_prior[rows]
    n = rows.size
    with np.errstate(divide="ignore"):
        for factor in factors:
            part = factor[rows] if factor.shape[0] != 1 else factor
            loglik = loglik + np.log(np.broadcast_to(part, (n, *core_cards))).reshape(n, -1)
    return _normalise(loglik, core_to_query, n_query)


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
    Shaped (n_batch, *core) with 1 on the core axes no part depends on.
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
    return lik
