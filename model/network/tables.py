"""Named conditional probability tables, vectorised over a batch of parameter values.

:func:`build_tables` turns the priors (and, optionally, arrays of parameter values such as
draws or a one-way sensitivity sweep) into one :class:`NodeTable` per node. Arrays have shape
``(*batch, n_states, n_parent_configs)`` with the parent configurations in pgmpy's column
order: the first parent varies slowest, the last fastest. Every other module reads tables by
named states; :mod:`model.network.builder` is the one place they become pgmpy CPDs.

Noisy-OR (cytokine-driven findings, parents ``(cytokine_vegf, diagnosis)``)::

    P(absent | cytokine = c, diagnosis = d) = (1 - leak) (1 - q_c) (1 - r_d)

with ``q_normal = 0`` and ``r_d = 0`` for a diagnosis that is not a listed direct cause.
Aggregates are the deterministic OR of their parts: present iff any part is present.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.exceptions import PriorsError
from model.network.structure import CYTOKINE_STATES, DIAGNOSIS_STATES, NODES, NodeSpec
from model.parameters import Categorical, NodePriors, Parameter, Priors
from model.parameters.overrides import check_keys, resolve_row
from model.vocabulary import PRESENT


@dataclass(frozen=True)
class NodeTable:
    """One node's table.

    Attributes
    ----------
    variable : node name.
    states : the node's states (rows of ``array``).
    parents : parent names, first varies slowest across columns.
    parent_states : each parent's states, in the same order.
    array : shape ``(*batch, len(states), prod(len(s) for s in parent_states))``; columns sum
        to one. May be a read-only broadcast view: never write into it.
    """

    variable: str
    states: tuple[str, ...]
    parents: tuple[str, ...]
    parent_states: tuple[tuple[str, ...], ...]
    array: np.ndarray

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape[:-2])

    def column(self, **parent_values: str) -> np.ndarray:
        """The distribution over ``states`` for one named parent configuration."""
        index = 0
        for parent, states in zip(self.parents, self.parent_states, strict=True):
            index = index * len(states) + states.index(parent_values[parent])
        return self.array[..., index]


class _Values:
    """Parameter key -> value broadcast to the batch shape (point value when not given)."""

    def __init__(self, priors: Priors, values: Mapping[str, Any] | None) -> None:
        self.values: dict[str, np.ndarray] = {}
        if values:
            check_keys(priors, values)
            for key, raw in values.items():
                array = np.asarray(raw, dtype=float)
                if not np.all(np.isfinite(array)) or np.any(array < 0) or np.any(array > 1):
                    raise PriorsError(
                        f"values[{key!r}]",
                        "an array with entries outside [0, 1] or not finite",
                        "probabilities in [0, 1]",
                    )
                self.values[key] = array
        try:
            self.batch: tuple[int, ...] = (
                np.broadcast_shapes(*(v.shape for v in self.values.values())) if self.values else ()
            )
        except ValueError:
            shapes = {k: v.shape for k, v in self.values.items()}
            raise PriorsError(
                "values", shapes, "arrays of one common (broadcastable) batch shape"
            ) from None

    def param(self, p: Parameter) -> np.ndarray:
        return np.broadcast_to(self.values.get(p.key, p.p), self.batch).astype(float)

    def row(self, c: Categorical) -> np.ndarray:
        """Shape (*batch, n_states)."""
        parts = [
            np.broadcast_to(np.asarray(v, dtype=float), self.batch)
            for v in resolve_row(c, self.values)
        ]
        return np.stack(parts, axis=-1)


def _parent_states(spec: NodeSpec) -> tuple[tuple[str, ...], ...]:
    return tuple(NODES[p].states for p in spec.parents)


def _table(spec: NodeSpec, array: np.ndarray) -> NodeTable:
    return NodeTable(spec.name, spec.states, spec.parents, _parent_states(spec), array)


def _rows_table(spec: NodeSpec, node: NodePriors, v: _Values) -> np.ndarray:
    parent_states = NODES[spec.parents[0]].states
    columns = []
    for ps in parent_states:
        entry = node.given[ps]
        if isinstance(entry, Categorical):
            columns.append(v.row(entry))
        else:
            p = v.param(entry)
            columns.append(np.stack([p, 1.0 - p], axis=-1))  # (present, absent)
    return np.stack(columns, axis=-1)


def _noisy_or(node: NodePriors, v: _Values) -> np.ndarray:
    assert node.leak is not None
    leak = v.param(node.leak)
    q = np.zeros((*v.batch, len(CYTOKINE_STATES)))
    for i, state in enumerate(CYTOKINE_STATES):
        if state in node.cytokine_causes:
            q[..., i] = v.param(node.cytokine_causes[state])
    r = np.zeros((*v.batch, len(DIAGNOSIS_STATES)))
    for j, state in enumerate(DIAGNOSIS_STATES):
        if state in node.diagnosis_causes:
            r[..., j] = v.param(node.diagnosis_causes[state])
    absent = (1.0 - leak)[..., None, None] * (1.0 - q)[..., :, None] * (1.0 - r)[..., None, :]
    absent = absent.reshape(*v.batch, -1)  # cytokine slowest, diagnosis fastest
    return np.stack([1.0 - absent, absent], axis=-2)


def deterministic_or(spec: NodeSpec) -> np.ndarray:
    """(2, 2**k) table: present iff any parent is present (present is state 0)."""
    present_index = [states.index(PRESENT) for states in _parent_states(spec)]
    configs = itertools.product(*(range(len(s)) for s in _parent_states(spec)))
    any_present = np.array(
        [any(c == pi for c, pi in zip(cfg, present_index, strict=True)) for cfg in configs],
        dtype=float,
    )
    return np.stack([any_present, 1.0 - any_present])


def build_tables(
    priors: Priors, setting: str, values: Mapping[str, Any] | None = None
) -> dict[str, NodeTable]:
    """One named table per node, in topological order.

    Parameters
    ----------
    priors : the loaded priors.
    setting : a setting id (its base rates become the diagnosis table).
    values : optional parameter key path -> array (all broadcastable to one batch shape);
        parameters not named keep their point value. Overriding some states of a categorical
        row rescales the others (see :func:`model.parameters.overrides.resolve_row`).

    Returns
    -------
    dict node -> :class:`NodeTable` with arrays of shape ``(*batch, n_states, n_configs)``.
    """
    v = _Values(priors, values)
    chosen = priors.setting(setting)
    tables: dict[str, NodeTable] = {}
    for spec in NODES.values():
        if spec.role == "root":
            array = v.row(chosen.distribution)[..., None]
        elif spec.role == "aggregate":
            base = deterministic_or(spec)
            array = np.broadcast_to(base, (*v.batch, *base.shape))
        elif spec.role == "noisy_or":
            array = _noisy_or(priors.node(spec.name), v)
        else:
            array = _rows_table(spec, priors.node(spec.name), v)
        tables[spec.name] = _table(spec, array)
    return tables
