"""Point tables of a compiled engine: the core prior, each cluster's pattern table (every
evidence pattern's likelihood for every core state), and the normalisation of a posterior.

Part of :mod:`model.inference.compiled` (see its docstring for the method).
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.exceptions import PoemsError
from model.inference.compiled_structure import _Cluster, _grouped, _Node, _shifted_exp

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


def _restrict(table: np.ndarray, core_cards: Sequence[int], scope: Sequence[int]) -> np.ndarray:
    """A (rows, core states) table that depends only on the core axes ``scope``, stored
    over those axes alone: shape (rows, states of the scope), the other axes at state 0."""
    full = table.reshape(table.shape[0], *core_cards)
    picked = tuple(slice(None) if a in scope else 0 for a in range(len(core_cards)))
    return np.ascontiguousarray(full[(slice(None), *picked)].reshape(table.shape[0], -1))


@dataclass(frozen=True)
class _ScopedTables:
    """The batch kernel's tables, stored per scope (see :mod:`~model.inference.compiled_kernel`).

    Arrays as the kernel takes them: per group its columns and their digit weights (the
    group's slice ``group_first[g]:group_first[g + 1]`` of both), the element offset of
    its table in ``lin_flat``/``log_flat``, its row width, its scope's offset in the
    accumulator and its scope; per scope and core state the accumulator slot.
    """

    scopes: tuple[tuple[int, ...], ...]
    group_columns: np.ndarray
    group_strides: np.ndarray
    group_first: np.ndarray
    group_base: np.ndarray
    group_width: np.ndarray
    group_acc: np.ndarray
    group_scope: np.ndarray
    lin_flat: np.ndarray
    log_flat: np.ndarray
    acc_size: int
    projection: np.ndarray

    def kernel_arguments(self) -> tuple[Any, ...]:
        """The tables in the order the batch kernels take them after the codes."""
        return (
            self.group_columns,
            self.group_strides,
            self.group_first,
            self.group_base,
            self.group_width,
            self.group_acc,
            self.group_scope,
            self.lin_flat,
            self.log_flat,
            self.acc_size,
            self.projection,
        )

    @classmethod
    def build(
        cls,
        pieces: Mapping[tuple[int, ...], Sequence[tuple[np.ndarray, list[tuple[str, int]]]]],
        observable: Sequence[str],
        core_cards: Sequence[int],
        group_patterns: int,
    ) -> _ScopedTables:
        """Group each scope's log tables into product tables and lay them out flat.

        A scope of ``w`` states merges tables up to ``group_patterns * (core states // w)``
        rows (the same bytes per table as a whole-core table of ``group_patterns`` rows);
        ``group_patterns=1`` disables merging.
        """
        n_core = int(np.prod(core_cards))
        column = {name: j for j, name in enumerate(observable)}
        col_group = np.zeros(len(observable), dtype=np.int64)
        col_stride = np.zeros(len(observable), dtype=np.int64)
        scopes = tuple(sorted(pieces, key=lambda s: (len(s), s)))
        digits = np.unravel_index(np.arange(n_core), tuple(core_cards))
        projection = np.zeros((len(scopes), n_core), dtype=np.int64)
        bases: list[int] = []
        widths: list[int] = []
        accs: list[int] = []
        owners: list[int] = []
        log_parts: list[np.ndarray] = []
        acc_size = base = 0
        for s, scope in enumerate(scopes):
            cards = [core_cards[a] for a in scope]
            width = int(np.prod(cards))
            local = (
                np.ravel_multi_index(tuple(digits[a] for a in scope), cards)
                if scope
                else np.zeros(n_core, dtype=np.int64)
            )
            projection[s] = acc_size + local
            limit = group_patterns if group_patterns <= 1 else group_patterns * (n_core // width)
            for table, columns in _grouped(pieces[scope], max(1, limit)):
                for name, stride in columns:
                    col_group[column[name]] = len(bases)
                    col_stride[column[name]] = stride
                bases.append(base)
                widths.append(width)
                accs.append(acc_size)
                owners.append(s)
                log_parts.append(table.reshape(-1))
                base += table.size
            acc_size += width
        log_flat = np.concatenate(log_parts) if log_parts else np.zeros(1)
        lin_parts = [
            _shifted_exp(part.reshape(-1, w)).reshape(-1)
            for part, w in zip(log_parts, widths, strict=True)
        ]
        lin_flat = np.concatenate(lin_parts) if lin_parts else np.ones(1)
        order = np.argsort(col_group, kind="stable")  # unsigned indices: no wraparound
        first = np.searchsorted(col_group[order], np.arange(len(bases) + 1))
        return cls(
            scopes,
            order.astype(np.uintp),
            col_stride[order],
            first.astype(np.int64),
            np.array(bases, dtype=np.int64),
            np.array(widths, dtype=np.int64),
            np.array(accs, dtype=np.int64),
            np.array(owners, dtype=np.int64),
            np.ascontiguousarray(lin_flat),
            np.ascontiguousarray(log_flat),
            max(acc_size, 1),
            projection.astype(np.uintp),
        )
