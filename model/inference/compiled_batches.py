"""Table batches: one evidence pattern under many CPD sets (parameter draws), per cluster,
with deterministic-OR aggregates in closed form (linear, not exponential, in their parts).

Part of :mod:`model.inference.compiled` (see its docstring for the clusters and the core).

How a batch is evaluated
------------------------
Once per batch (:meth:`~model.inference.compiled.CompiledEngine.prepare`, independent of the
patient): a never-observed node with a single child is summed into that child
(:func:`_sum_out_hidden`: the incidental-MGUS state into the plasma cell clone); every table is
stored with the draw axis last and contiguous (:func:`_draws_last`), a finding hanging off the
core state-major so one of its states is one block; the core prior is kept as one factor per
core node; for each OR aggregate the probability that all its parts are absent is made; for
each observable node with a single child, the child's table summed over it, used whenever that
node is not observed (:func:`_unobserved_variants`).

Per evidence (:meth:`~model.inference.compiled.CompiledEngine.posterior_under`): each observed
cluster becomes one factor over only the core variables it depends on
(:func:`_likelihood_factors`; a finding is a view of its column, an OR aggregate its closed
form, any other cluster its members summed out one variable at a time along the draws,
:func:`_eliminate`); an observed core variable other than the query restricts every factor to
its state. Factors on the same core variables are multiplied, the non-query core variables
summed out, and each draw normalised (:func:`_posterior_linear`). Every array operation runs
along the draws (thousands of numbers at a time), never over the full core unless needed.

The products are linear, not logs: every factor is a probability, so a partial product is
never below the whole, and a draw whose total stays above :data:`LINEAR_FLOOR` has lost no
precision. A draw below it (extreme or impossible evidence) is recomputed over the full
core in the log domain (:func:`_posterior_logs`), which also flags impossible evidence.
The numbers equal the earlier full-core log computation up to the order of the floating
point operations (about 1e-15).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from model.exceptions import InputError
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


def _draws_last(
    nodes: Mapping[str, _Node], core: Sequence[str], leaves: Iterable[str], skip: Iterable[str]
) -> dict[str, _Node]:
    """The same tables, stored with the batch (draw) axis last and contiguous.

    Every product and sum of :meth:`~model.inference.compiled.CompiledEngine.posterior_under`
    then runs along the batch axis (thousands of numbers at a time) instead of along a
    table's few states. Each node keeps a transposed view of its copy, with the usual axes
    (n_batch, state, *parents). A *leaf* (a finding alone in its cluster, a part of an OR
    aggregate: parents all core) is stored state-major with its parents in core order, so
    one of its states is one contiguous (*parents, n_batch) block (:func:`_on_core`). Nodes in
    ``skip`` (deterministic aggregates, core nodes) are left as they are.
    """
    out = dict(nodes)
    leaves, skip = set(leaves), set(skip)
    for name, node in nodes.items():
        if name in skip:
            continue
        axes = list(range(1, node.values.ndim))
        if name in leaves and set(node.parents) <= set(core):
            order = sorted(node.parents, key=core.index)
            axes = [1] + [2 + node.parents.index(p) for p in order]
        perm = [*axes, 0]
        stored = np.ascontiguousarray(node.values.transpose(perm))
        out[name] = _Node(node.name, node.states, node.parents, stored.transpose(np.argsort(perm)))
    return out


def _summed_into(node: _Node, child: _Node) -> _Node:
    """``child``'s table with ``node`` (one of its parents) summed out:
    ``P(y | rest, pa(x)) = sum_x P(y | rest, x) P(x | pa(x))``."""
    parents = tuple(p for p in child.parents if p != node.name)
    parents += tuple(p for p in node.parents if p not in parents)
    pair = [
        (child.values, (child.name, *child.parents)),
        (node.values, (node.name, *node.parents)),
    ]
    values = _einsum(pair, (child.name, *parents), batch=True)
    return _Node(child.name, child.states, parents, values)


def _sum_out_hidden(
    nodes: Mapping[str, _Node], keep: frozenset[str] | set[str]
) -> dict[str, _Node]:
    """Sum every node outside ``keep`` (the core and the observable nodes) that has exactly
    one child into that child's table (:func:`_summed_into`).

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
            out[children[0].name] = _summed_into(node, children[0])
            del out[name]
            changed = True
    return out


def _unobserved_variants(
    nodes: Mapping[str, _Node], candidates: Iterable[str], or_nodes: frozenset[str]
) -> dict[str, _Node]:
    """For each candidate (an observable node outside the core) with exactly one child that is
    not an OR aggregate: that child's table with the candidate summed out, keyed by the
    candidate. When the candidate is not observed, the pair is one factor instead of two and
    one fewer variable to sum per patient (thrombocytosis into serum VEGF, the imaging
    modality into the sclerotic lesion, sex into hypogonadism)."""
    out: dict[str, _Node] = {}
    for name in candidates:
        children = [c for c in nodes.values() if name in c.parents]
        if len(children) == 1 and children[0].name not in or_nodes:
            out[name] = _summed_into(nodes[name], children[0])
    return out


def _cluster_likelihood_batched(
    cluster: _Cluster,
    nodes: Mapping[str, _Node],
    core: Sequence[str],
    observed: Mapping[str, int],
    n_batch: int,
    or_nodes: frozenset[str] = frozenset(),
    fixed: Mapping[int, int] | None = None,
    variants: Mapping[str, _Node] | None = None,
) -> np.ndarray | None:
    """Likelihood of the cluster's evidence per table set, shaped (*core, n_batch) with 1 on
    the core axes it does not depend on (and on the ``fixed`` core axes, taken at their
    state: :func:`_likelihood_factors`)."""
    at = {core[axis]: state for axis, state in (fixed or {}).items()}
    members = [name for name in cluster.nodes if name in nodes]  # less any summed out
    # Barren nodes: unobserved and without children left in the cluster sum to one.
    # (Removing one can make its parents barren; the nodes left do not depend on the order.)
    parents_of = {m: nodes[m].parents for m in members}
    changed = True
    while changed:
        parents = set().union(*(parents_of[m] for m in members))
        kept = [m for m in members if m in observed or m in parents]
        changed = len(kept) != len(members)
        members = kept
    if not members:
        return None
    # An unobserved node with a ready-made variant of its one child's table summed over it
    # (:func:`_unobserved_variants`) is dropped for that variant, if neither table is
    # already a variant.
    local: dict[str, _Node] = {}
    for name in list(members):
        variant = (variants or {}).get(name)
        if name in observed or variant is None or name in local:
            continue
        if variant.name in members and variant.name not in local:
            local[variant.name] = variant
            members.remove(name)
    nodes = {**nodes, **local} if local else nodes
    # An OR aggregate whose parts feed nothing else here (and not each other) is taken in
    # closed form over the parts' parents (:func:`_or_closed_form`), never as its 2^k table.
    closed: dict[str, tuple[str, ...]] = {}
    for agg in members:
        parts = nodes[agg].parents
        if agg not in or_nodes or not set(parts) <= set(members):
            continue
        if any(p in nodes[m].parents for p in parts for m in members if m != agg):
            continue
        closed[agg] = parts
    in_closed = {n for agg, parts in closed.items() for n in (agg, *parts)}

    variables = [m for m in members if m not in observed and m not in in_closed] + list(core)
    position = {v: i for i, v in enumerate(variables)}
    cards = [1 if v in at else nodes[v].card for v in variables]

    def place(name: str, state: int | None) -> np.ndarray:
        """The node's table (at ``state`` if given, else at its observed state if any), laid
        out on (variables..., batch) with 1 on the axes it lacks."""
        axes = (name, *nodes[name].parents)
        index: list[Any] = [slice(None)]
        kept: list[str] = []
        for axis in axes:
            if axis == name and state is not None:
                index.append(state)
            elif axis in at:
                index.append(slice(at[axis], at[axis] + 1))
                kept.append(axis)
            elif axis in observed and axis not in core:
                index.append(observed[axis])
            else:
                index.append(slice(None))
                kept.append(axis)
        arr = nodes[name].values[tuple(index)]
        order = sorted(kept, key=position.__getitem__)
        shape = [1] * len(variables) + [arr.shape[0]]
        for axis in order:
            shape[position[axis]] = cards[position[axis]]
        return arr.transpose([1 + kept.index(a) for a in order] + [0]).reshape(shape)

    placed = [place(name, None) for name in members if name not in in_closed]
    for agg, parts in closed.items():
        seen = [place(p, observed[p]) for p in parts if p in observed]
        absent = [place(p, nodes[p].states.index(_OFF)) for p in parts if p not in observed]
        any_on = any(nodes[p].states[observed[p]] == _ON for p in parts if p in observed)
        agg_state = nodes[agg].states[observed[agg]] if agg in observed else None
        if seen or agg_state is not None:
            placed.append(_or_closed_form(seen, absent, any_on, agg_state))
    # Sum the members out one at a time (:func:`_eliminate`).
    n_members = len(variables) - len(core)
    step = max(1, (1 << 21) // max(math.prod(cards), 1))
    chunks = [
        _eliminate(
            [f[..., start : start + step] if f.shape[-1] != 1 else f for f in placed],
            range(n_members, len(variables)),
        )
        for start in range(0, n_batch, step)
    ]
    joined = chunks[0] if len(chunks) == 1 else np.concatenate(chunks, axis=-1)
    return joined.reshape(joined.shape[n_members:])


def _product(factors: Sequence[np.ndarray]) -> np.ndarray:
    """The broadcast product of the factors, smallest first (a new array after the first
    multiplication, then multiplied in place while its shape holds the result)."""
    if len(factors) == 1:
        return factors[0]
    ordered = sorted(factors, key=_size)
    out = ordered[0]
    owned = False
    for factor in ordered[1:]:
        if owned and (out.shape == factor.shape or _holds(out.shape, factor.shape)):
            np.multiply(out, factor, out=out)
        else:
            out, owned = out * factor, True
    return out


def _size(factor: np.ndarray) -> int:
    return factor.size


def _holds(shape: tuple[int, ...], other: tuple[int, ...]) -> bool:
    """Whether an array of ``shape`` can take the broadcast product with ``other`` in place."""
    return all(a >= b for a, b in zip(shape, other, strict=True))


def _eliminate(factors: Sequence[np.ndarray], keep: Iterable[int]) -> np.ndarray:
    """Sum the product of the factors over every variable not in ``keep``.

    Each factor is shaped (*variables, n_batch or 1) with 1 on the variables it does not
    mention. Variables are summed out one at a time, the one whose factors span the fewest
    cells first; each time only the factors that mention it are multiplied. The result is
    shaped (*variables, n_batch) with 1 on every summed axis.
    """
    factors = list(factors)
    todo = set(range(factors[0].ndim - 1)) - set(keep)

    def span(v: int) -> int:
        shapes = [f.shape for f in factors if f.shape[v] != 1]
        return math.prod(max(sizes) for sizes in zip(*shapes, strict=True)) if shapes else 0

    while todo:
        v = min(sorted(todo), key=span)
        todo.remove(v)
        involved = [f for f in factors if f.shape[v] != 1]
        if involved:
            factors = [f for f in factors if f.shape[v] == 1]
            factors.append(_product(involved).sum(axis=v, keepdims=True))
    return _product(factors)


LINEAR_FLOOR = 1e-250
"""A table set whose unnormalised posterior sums below this (or to zero) is recomputed in the
log domain (:func:`_posterior_logs`): every factor is a probability, so a partial product is
never smaller than the whole, and above this floor no partial product is subnormal."""


def _core_factor(node: _Node, core: Sequence[str]) -> np.ndarray:
    """P(core node | its parents), shaped (*core, n_batch) with 1 on the axes it lacks."""
    axes = (node.name, *node.parents)
    order = sorted(axes, key=core.index)
    arr = node.values.transpose([1 + axes.index(a) for a in order] + [0])
    shape = [1] * len(core) + [arr.shape[-1]]
    for i, axis in enumerate(order):
        shape[core.index(axis)] = arr.shape[i]
    return arr.reshape(shape)


def _core_evidence_factor(card: int, axis: int, n_core_axes: int, state: int) -> np.ndarray:
    """1 where the core variable on ``axis`` is in ``state``, else 0; shape (*core, 1)."""
    shape = [1] * (n_core_axes + 1)
    shape[axis] = card
    return (np.arange(card) == state).astype(np.float64).reshape(shape)


def _likelihood_factors(
    clusters: Sequence[_Cluster],
    nodes: Mapping[str, _Node],
    or_nodes: frozenset[str],
    core: Sequence[str],
    observed: Mapping[str, int],
    n_batch: int,
    all_absent: Mapping[str, np.ndarray],
    fixed: Mapping[int, int] | None = None,
    variants: Mapping[str, _Node] | None = None,
    columns: Mapping[tuple[str, int], np.ndarray] | None = None,
) -> list[np.ndarray]:
    """One factor per observed cluster (and per observed latent core variable): its evidence
    likelihood per table set, shaped (*core, n_batch or 1) with 1 on the core axes it does not
    depend on. Unobserved clusters sum to one and are left out.

    ``fixed`` (core axis -> observed state, from :func:`_fixed_core`) restricts those core
    axes to their observed state instead of a 0/1 factor: each factor keeps that axis with
    size 1, and a cluster that depends on it is contracted on that state only.
    """
    fixed = fixed or {}
    out: list[np.ndarray] = []
    seen = observed.keys()
    for cluster in clusters:
        if seen.isdisjoint(cluster.nodes):
            continue  # nothing observed in the cluster: it sums to one
        if cluster.core_evidence:
            name = cluster.nodes[0]
            if core.index(name) not in fixed:
                card = nodes[name].card
                out.append(_core_evidence_factor(card, core.index(name), len(core), observed[name]))
            continue
        if columns and len(cluster.nodes) == 1:  # a finding alone: its column, ready-made
            found = columns.get((cluster.nodes[0], observed[cluster.nodes[0]]))
            if found is not None:
                out.append(_at_fixed(found, fixed))
                continue
        lik = _single_node_likelihood(cluster, nodes, core, observed)
        if lik is None:
            agg = next((n for n in cluster.nodes if n in all_absent), None)
            absent = all_absent[agg] if agg is not None else None
            lik = _or_cluster_likelihood(cluster, nodes, core, observed, or_nodes, absent, columns)
        if lik is None:
            lik = _cluster_likelihood_batched(
                cluster, nodes, core, observed, n_batch, or_nodes, fixed, variants
            )
        if lik is not None:
            out.append(_at_fixed(lik, fixed))
    return out


def _fixed_core(core: Sequence[str], observed: Mapping[str, int]) -> dict[int, int]:
    """The observed core variables other than the query (core axis -> state)."""
    return {i: observed[name] for i, name in enumerate(core) if i > 0 and name in observed}


def _at_fixed(factor: np.ndarray, fixed: Mapping[int, int]) -> np.ndarray:
    """``factor`` (*core, n) restricted to the fixed core states (a view; size-1 axes kept)."""
    if all(factor.shape[axis] == 1 for axis in fixed):
        return factor
    index: list[Any] = [slice(None)] * factor.ndim
    for axis, state in fixed.items():
        if factor.shape[axis] != 1:
            index[axis] = slice(state, state + 1)
    return factor[tuple(index)]


def _posterior_linear(factors: Sequence[np.ndarray], n_batch: int) -> tuple[np.ndarray, np.ndarray]:
    """Posterior of the first core axis from the core prior and likelihood factors (all shaped
    (*core, n_batch or 1) with 1 on absent axes), without ever forming the full core.

    Factors on the same core axes are multiplied together; the other core axes are then
    summed out (:func:`_eliminate`). Returns the posterior (n_batch, n_query) and which rows
    are sound: a row whose unnormalised total is zero, not finite or below
    :data:`LINEAR_FLOOR` must be recomputed with :func:`_posterior_logs`.
    """
    groups: dict[tuple[int, ...], list[np.ndarray]] = {}
    for factor in factors:
        key = tuple(i for i, size in enumerate(factor.shape[:-1]) if size != 1)
        groups.setdefault(key, []).append(factor)
    summed = _eliminate([_product(group) for group in groups.values()], [0])
    if summed.shape[-1] != n_batch:  # no factor varied along the batch
        summed = np.broadcast_to(summed, (*summed.shape[:-1], n_batch))
    weights = summed.reshape(-1, n_batch).T
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
            part = factor[..., rows] if factor.shape[-1] != 1 else factor
            full = np.broadcast_to(part, (*core_cards, n)).reshape(-1, n).T
            loglik = loglik + np.log(full)
    return _normalise(loglik, core_to_query, n_query)


def _single_node_likelihood(
    cluster: _Cluster, nodes: Mapping[str, _Node], core: Sequence[str], observed: Mapping[str, int]
) -> np.ndarray | None:
    """An observed cluster of one node whose parents are all core: its CPT column, as a view
    shaped (*core, n_batch) (1 on core axes it does not depend on); else ``None``."""
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


def _leaf_columns(
    nodes: Mapping[str, _Node], core: Sequence[str], leaves: Iterable[str]
) -> dict[tuple[str, int], np.ndarray]:
    """Every state of every leaf (parents all core) as its :func:`_on_core` view, made once
    per batch so a patient's finding is one dictionary lookup."""
    out: dict[tuple[str, int], np.ndarray] = {}
    for name in leaves:
        node = nodes[name]
        if name in core or not set(node.parents) <= set(core):
            continue
        for state in range(node.card):
            out[name, state] = _on_core(node, core, node.values.shape[0], state)
    return out


def _column(
    columns: Mapping[tuple[str, int], np.ndarray] | None,
    node: _Node,
    core: Sequence[str],
    n_batch: int,
    state: int,
) -> np.ndarray:
    """:func:`_on_core`, from ``columns`` (:func:`_leaf_columns`) when it is there."""
    found = columns.get((node.name, state)) if columns else None
    return found if found is not None else _on_core(node, core, n_batch, state)


def _on_core(node: _Node, core: Sequence[str], n_batch: int, state: int) -> np.ndarray:
    """P(node = state | its core parents), shape (*core, n_batch) with 1 for absent axes."""
    in_core_order = sorted(node.parents, key=core.index)
    arr = node.values[:, state].transpose([1 + node.parents.index(p) for p in in_core_order] + [0])
    shape = [1] * len(core) + [n_batch]
    for i, parent in enumerate(in_core_order):
        shape[core.index(parent)] = arr.shape[i]
    return arr.reshape(shape)


def _or_parts(
    cluster: _Cluster, nodes: Mapping[str, _Node], core: Sequence[str], or_nodes: frozenset[str]
) -> tuple[str, tuple[str, ...]] | None:
    """The aggregate and its parts if the cluster is one OR aggregate whose parts hang off the
    core only (the closed form applies), else ``None``."""
    aggregates = [n for n in cluster.nodes if n in or_nodes]
    if len(aggregates) != 1:
        return None
    agg = aggregates[0]
    parts = nodes[agg].parents
    if set(cluster.nodes) != {agg, *parts}:
        return None
    if any(not set(nodes[p].parents) <= set(core) for p in parts):
        return None
    return agg, parts


def _all_absent(
    clusters: Sequence[_Cluster],
    nodes: Mapping[str, _Node],
    core: Sequence[str],
    or_nodes: frozenset[str],
) -> dict[str, np.ndarray]:
    """For each OR aggregate with the closed form: P(every part absent | core), (*core, n)."""
    out: dict[str, np.ndarray] = {}
    for cluster in clusters:
        found = _or_parts(cluster, nodes, core, or_nodes)
        if found is not None:
            agg, parts = found
            n_batch = nodes[agg].values.shape[0]
            columns = [
                _on_core(nodes[p], core, n_batch, nodes[p].states.index(_OFF)) for p in parts
            ]
            out[agg] = np.ascontiguousarray(_product(columns))
    return out


def _or_cluster_likelihood(
    cluster: _Cluster,
    nodes: Mapping[str, _Node],
    core: Sequence[str],
    observed: Mapping[str, int],
    or_nodes: frozenset[str],
    all_absent: np.ndarray | None = None,
    columns: Mapping[tuple[str, int], np.ndarray] | None = None,
) -> np.ndarray | None:
    """Closed form for an OR aggregate whose parts hang off the core only, else ``None``.

    Given the core the parts are independent, so with ``f`` the product of the observed
    parts' probabilities and ``A`` the probability that every unobserved part is absent:
    aggregate present -> ``f`` if an observed part is present, else ``f (1 - A)``;
    aggregate absent -> 0 if an observed part is present, else ``f A``; not observed -> ``f``.
    Shaped (*core, n_batch) with 1 on the core axes no part depends on. ``all_absent``, if
    given, is ``A`` with every part unobserved (:func:`_all_absent`).
    """
    found = _or_parts(cluster, nodes, core, or_nodes)
    if found is None:
        return None
    agg, parts = found
    n_batch = nodes[agg].values.shape[0]
    seen: list[np.ndarray] = []  # the observed parts' probabilities
    absent: list[np.ndarray] = []  # P(absent) of the unobserved parts
    any_observed_on = False
    for part in parts:
        node = nodes[part]
        if part in observed:
            seen.append(_column(columns, node, core, n_batch, observed[part]))
            any_observed_on |= node.states[observed[part]] == _ON
        else:
            absent.append(_column(columns, node, core, n_batch, node.states.index(_OFF)))
    if not seen and all_absent is not None:
        absent = [all_absent]  # the same product, made once per table batch
    agg_state = nodes[agg].states[observed[agg]] if agg in observed else None
    return _or_closed_form(seen, absent, any_observed_on, agg_state)


def _or_closed_form(
    seen: list[np.ndarray], absent: list[np.ndarray], any_on: bool, agg_state: str | None
) -> np.ndarray:
    """The OR aggregate's likelihood (:func:`_or_cluster_likelihood`) from the observed parts'
    probabilities ``seen``, the unobserved parts' P(absent) ``absent``, whether an observed
    part is present and the aggregate's observed state (``None`` if unobserved)."""
    if agg_state == _ON and not any_on:  # f (1 - A); no part left unobserved: A = 1
        seen.append(1.0 - _product(absent) if absent else np.zeros_like(seen[0]))
    elif agg_state == _OFF and any_on:  # a present part contradicts it
        seen.append(np.zeros_like(seen[0]))
    elif agg_state == _OFF and absent:  # f A
        seen.append(_product(absent))
    return _product(seen)
