"""Every analysis of one case in one call, for the assessment, the CLI and the app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model.analysis.explain import Contributions, NextTest, contributions, next_tests
from model.analysis.uncertainty import (
    CredibleInterval,
    Sensitivity,
    credible_interval,
    sensitivity,
)
from model.case import Case
from model.parameters import Priors


@dataclass(frozen=True)
class CaseAnalysis:
    """Contributions, next-best tests, credible interval and sensitivity of one case."""

    setting: str
    contributions: Contributions
    next_tests: tuple[NextTest, ...]
    credible_interval: CredibleInterval
    sensitivity: tuple[Sensitivity, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "setting": self.setting,
            "contributions": self.contributions.to_dict(),
            "next_tests": [t.to_dict() for t in self.next_tests],
            "credible_interval": self.credible_interval.to_dict(),
            "sensitivity": [s.to_dict() for s in self.sensitivity],
        }


def analyse(
    case: Case,
    setting: str | None = None,
    priors: Priors | None = None,
    *,
    n_draws: int = 2000,
    level: float = 0.9,
    top_k: int = 10,
    seed: int = 0,
) -> CaseAnalysis:
    """All analyses of ``case`` (setting: the argument, else the case's, else the default).

    Raises :class:`model.inference.compiled.ImpossibleEvidenceError` for findings of
    probability zero under the network.
    """
    from model.inference.engine import engine_for, resolve
    from model.network import evidence_for

    priors, chosen = resolve(case, setting, priors)
    evidence = evidence_for(case)
    engine = engine_for(priors, chosen)
    return CaseAnalysis(
        setting=chosen,
        contributions=contributions(engine, evidence),
        next_tests=next_tests(engine, evidence),
        credible_interval=credible_interval(
            priors, chosen, evidence, n_draws=n_draws, level=level, seed=seed
        ),
        sensitivity=sensitivity(priors, chosen, evidence, top_k=top_k),
    )
