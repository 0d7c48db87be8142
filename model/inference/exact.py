"""Exact inference with pgmpy's VariableElimination: the reference every engine must match.

The inference object is cached per network (``functools.lru_cache`` keyed like the network),
so repeated queries only pay for the elimination itself.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from model.case import Case
from model.exceptions import CaseError, PriorsError
from model.inference.engine import DEFAULT_SETTING as DEFAULT_SETTING
from model.inference.engine import default_priors as default_priors
from model.inference.engine import resolve as resolve
from model.network.evidence import evidence_for
from model.network.structure import DIAGNOSIS, NODES
from model.parameters import Priors
from model.vocabulary import suggest

# The choice of priors and setting lives with the engine for a case (one place).


if TYPE_CHECKING:
    from pgmpy.inference import VariableElimination

CACHE_SIZE = 8


@functools.lru_cache(maxsize=CACHE_SIZE)
def inference_for(priors: Priors, setting: str) -> VariableElimination:
    """The cached VariableElimination object of ``build_network(priors, setting)``.

    pgmpy is imported here, not at module load: it takes seconds, and the compiled engine
    (``model.inference.engine.engine_for``) answers without it.
    """
    with warnings.catch_warnings():  # pgmpy 1.1 warns about its own deprecated estimators
        warnings.simplefilter("ignore", FutureWarning)
        from pgmpy.inference import VariableElimination

    from model.network.builder import build_network  # deliberate lazy import: pgmpy (seconds)

    return VariableElimination(build_network(priors, setting))


def query(
    priors: Priors, setting: str, variable: str, evidence: Mapping[str, str]
) -> dict[str, float]:
    """P(variable | evidence) by state name; impossible evidence raises :class:`CaseError`."""
    if variable not in NODES:
        raise PriorsError("node", variable, "a network node", suggest(variable, NODES))
    if variable in evidence:
        return {s: float(s == evidence[variable]) for s in NODES[variable].states}
    with np.errstate(invalid="ignore", divide="ignore"):  # impossible evidence: 0/0 below
        factor = inference_for(priors, setting).query(
            [variable], evidence=dict(evidence), show_progress=False, joint=True
        )
    states = factor.state_names[variable]
    raw = factor.values
    out = {str(s): float(raw[i]) for i, s in enumerate(states)}
    if not all(math.isfinite(v) for v in out.values()):
        raise CaseError(
            "findings",
            ", ".join(f"{k}={v}" for k, v in evidence.items()),
            "a combination the network can produce",
            "Some findings contradict each other under the model (probability zero); "
            "check the entries.",
        )
    return {s: out[s] for s in NODES[variable].states}


def posterior(
    case: Case, setting: str | None = None, priors: Priors | None = None
) -> dict[str, float]:
    """P(diagnosis | case) for every diagnosis state."""
    priors, chosen = resolve(case, setting, priors)
    return query(priors, chosen, DIAGNOSIS, evidence_for(case))


def prior(setting: str | None = None, priors: Priors | None = None) -> dict[str, float]:
    """The setting's base rates (the diagnosis table)."""
    priors, chosen = resolve(None, setting, priors)
    return dict(priors.setting(chosen).base_rates)


def marginals(
    case: Case,
    nodes: Iterable[str] | None = None,
    setting: str | None = None,
    priors: Priors | None = None,
) -> dict[str, dict[str, float]]:
    """Posterior marginal of each node (default: every node); observed nodes are certain."""
    priors, chosen = resolve(case, setting, priors)
    evidence = evidence_for(case)
    wanted = list(NODES) if nodes is None else list(nodes)
    return {node: query(priors, chosen, node, evidence) for node in wanted}
