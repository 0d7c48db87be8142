"""Analyses of one case on the compiled engine.

- :func:`contributions` each observed finding's additive share of the log-odds of POEMS
  (ordered chain, vocabulary order; prior + sum = posterior exactly);
- :func:`next_tests` every unassessed finding by expected information gain
  (:func:`contributions_and_next_tests` both from one engine call);
- :func:`credible_interval` P(POEMS) over parameter draws (``Priors.sample``);
- :func:`sensitivity` one-way swings of P(POEMS) over each parameter's range;
- :mod:`model.analysis.settle` the chance each next test settles the criteria verdict;
- :mod:`model.analysis.workup` the next tests as an expert orders them (tiers of orderable
  tests, data in ``workup.toml``).

:func:`model.assessment.assess` runs them for one case and carries the results.
"""

from model.analysis.explain import (
    Contribution,
    Contributions,
    NextTest,
    contributions,
    contributions_and_next_tests,
    finding_of,
    next_tests,
    node_label,
)
from model.analysis.uncertainty import (
    CredibleInterval,
    Sensitivity,
    credible_interval,
    parameter_range,
    sensitivity,
)

__all__ = [
    "Contribution",
    "Contributions",
    "CredibleInterval",
    "NextTest",
    "Sensitivity",
    "contributions",
    "contributions_and_next_tests",
    "credible_interval",
    "finding_of",
    "next_tests",
    "node_label",
    "parameter_range",
    "sensitivity",
]
