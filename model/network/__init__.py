"""The Bayesian network: fixed structure, tables from the priors, pgmpy model, evidence.

- :mod:`model.network.structure` nodes, states and parents (the contract as data);
- :mod:`model.network.tables` ``build_tables(priors, setting, values=None)`` named tables,
  vectorised over parameter draws;
- :mod:`model.network.builder` ``build_network(priors, setting)`` the pgmpy model (cached);
- :mod:`model.network.evidence` ``evidence_for(case)`` a case as node -> state;
- :mod:`model.network.evidence_codes` the same for cases as columns (a cohort), tested equal.

The structure module is the *contract* both the priors and this package read, so it sits in a
lower layer than ``model.parameters`` (``tests/test_layering.py``); the other modules sit
above it. Names are resolved lazily so importing the contract does not import the rest.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "NodeTable": "model.network.tables",
    "build_tables": "model.network.tables",
    "build_network": "model.network.builder",
    "evidence_for": "model.network.evidence",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'model.network' has no attribute {name!r}")
