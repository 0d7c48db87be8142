"""The engine for a case: one place that picks the priors and setting and builds (once) the
compiled exact engine the assessment, the analyses, cohort scoring and evaluation all use.

- :func:`resolve`: priors (default: the repository's, loaded once) and setting (the argument,
  else the case's, else :data:`DEFAULT_SETTING`); an unknown setting is refused with a
  suggestion.
- :func:`engine_for`: the :class:`~model.inference.compiled.CompiledEngine` of
  ``build_tables(priors, setting)`` over the observable clinical nodes, cached per
  (priors, setting), with the setting's defining findings as implied evidence
  (``Setting.implies``). Built from the named tables, so pgmpy is never imported; it is the same
  engine as ``CompiledEngine.from_pgmpy(build_network(priors, setting))`` (tested).
- :func:`engine_for_case`: both at once.

Nothing here imports pandas or pgmpy: the single-case path starts fast.
"""

from __future__ import annotations

import functools

from model.case import Case
from model.inference.compiled import CompiledEngine
from model.network.evidence_codes import OBSERVABLE
from model.network.structure import DIAGNOSIS
from model.network.tables import build_tables
from model.parameters import Priors, load_priors

DEFAULT_SETTING = "neuropathy_clinic"
"""The clinical setting used when neither the caller nor the case names one."""
CACHE_SIZE = 8


@functools.lru_cache(maxsize=4)
def default_priors() -> Priors:
    """The repository's priors, loaded once."""
    return load_priors()


def resolve(case: Case | None, setting: str | None, priors: Priors | None) -> tuple[Priors, str]:
    """Priors (default: the repository's) and setting (argument, else the case's, else
    :data:`DEFAULT_SETTING`); an unknown setting raises with a suggestion."""
    priors = priors if priors is not None else default_priors()
    chosen = setting or (case.setting if case is not None else None) or DEFAULT_SETTING
    priors.setting(chosen)  # an unknown setting raises with a suggestion
    return priors, chosen


@functools.lru_cache(maxsize=CACHE_SIZE)
def engine_for(priors: Priors, setting: str) -> CompiledEngine:
    """The compiled engine of the network over :data:`OBSERVABLE` (cached)."""

    return CompiledEngine.from_tables(
        build_tables(priors, setting),
        query=DIAGNOSIS,
        observable=OBSERVABLE,
        implied=priors.setting(setting).implies,  # the setting's defining findings
    )


def engine_for_case(
    case: Case | None, setting: str | None = None, priors: Priors | None = None
) -> tuple[CompiledEngine, Priors, str]:
    """The engine for this case, with the priors and setting it was built from."""
    priors, chosen = resolve(case, setting, priors)
    return engine_for(priors, chosen), priors, chosen


__all__ = [
    "DEFAULT_SETTING",
    "OBSERVABLE",
    "default_priors",
    "engine_for",
    "engine_for_case",
    "resolve",
]
