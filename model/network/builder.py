"""The pgmpy model: the one place named tables become pgmpy's positional CPD arrays.

:func:`build_network` is cached (``functools.lru_cache``) by ``(priors, setting)``; priors
compare and hash by content, so equal priors share a model. The returned model is shared:
never mutate it (add CPDs, change states or edges) — build from other priors instead
(:meth:`model.parameters.Priors.with_overrides` makes new priors).
"""

from __future__ import annotations

import functools
import warnings

with warnings.catch_warnings():  # pgmpy 1.1 warns about its own deprecated estimators on import
    warnings.simplefilter("ignore", FutureWarning)
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

from model.network.structure import NODES
from model.network.tables import NodeTable, build_tables
from model.parameters import Priors

CACHE_SIZE = 16


def to_cpd(table: NodeTable) -> TabularCPD:
    """A pgmpy CPD from one point table (batch shape must be empty)."""
    if table.batch_shape:
        raise ValueError(f"{table.variable}: build pgmpy CPDs from point tables only")
    state_names = {table.variable: list(table.states)}
    for parent, states in zip(table.parents, table.parent_states, strict=True):
        state_names[parent] = list(states)
    return TabularCPD(
        variable=table.variable,
        variable_card=len(table.states),
        values=table.array.copy(),
        evidence=list(table.parents) or None,
        evidence_card=[len(s) for s in table.parent_states] or None,
        state_names=state_names,
    )


@functools.lru_cache(maxsize=CACHE_SIZE)
def build_network(priors: Priors, setting: str) -> DiscreteBayesianNetwork:
    """The network for ``setting`` at the priors' point values; ``check_model()`` passes.

    Cached and shared: do not mutate the result.
    """
    tables = build_tables(priors, setting)
    model = DiscreteBayesianNetwork()
    model.add_nodes_from(NODES)
    model.add_edges_from((parent, spec.name) for spec in NODES.values() for parent in spec.parents)
    model.add_cpds(*(to_cpd(t) for t in tables.values()))
    model.check_model()
    return model
