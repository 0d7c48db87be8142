"""Network-implied frequencies P(finding = state | diagnosis) beside the published ones.

This is the first check of the parameters (``priors/README.md``): for every published frequency in
``findings.toml`` the network's marginal, computed exactly with pgmpy VariableElimination
given the diagnosis, must fall inside the published range. The setting does not matter here
(the diagnosis is the root and is observed).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from model.inference.exact import query
from model.parameters import Priors, Published
from model.parameters.schema import Setting


@dataclass(frozen=True)
class FitRow:
    """One published frequency next to the network's implied value."""

    published: Published
    implied: float

    @property
    def inside(self) -> bool:
        return self.published.low - 1e-12 <= self.implied <= self.published.high + 1e-12

    @property
    def node(self) -> str:
        return self.published.node

    @property
    def diagnosis(self) -> str:
        return self.published.diagnosis

    def to_dict(self) -> dict[str, object]:
        pub = self.published
        return {
            "node": pub.node,
            "state": pub.state,
            "diagnosis": pub.diagnosis,
            "published_p": pub.p,
            "low": pub.low,
            "high": pub.high,
            "source": pub.source,
            "implied": self.implied,
            "inside": self.inside,
        }


def _any_setting(priors: Priors) -> Setting:
    return next(iter(priors.settings.values()))


def implied(priors: Priors, node: str, diagnosis: str, state: str = "present") -> float:
    """P(node = state | diagnosis), exactly (VariableElimination)."""
    setting = _any_setting(priors).id
    return query(priors, setting, node, {"diagnosis": diagnosis})[state]


def literature_fit(priors: Priors) -> list[FitRow]:
    """Every published frequency with its implied value, in file order."""
    return list(_rows(priors))


def _rows(priors: Priors) -> Iterator[FitRow]:
    for pub in priors.published():
        yield FitRow(pub, implied(priors, pub.node, pub.diagnosis, pub.state))
