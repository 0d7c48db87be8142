"""Point tables of a compiled engine: the core prior, each cluster's pattern table (every
evidence pattern's likelihood for every core state), and the normalisation of a posterior.

Part of :mod:`model.inference.compiled` (see its docstring for the method).
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence

import numpy as np

from model.exceptions import PoemsError
from model.inference.compiled_structure import _Cluster, _Node

_LETTERS = string.ascii_letters


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
