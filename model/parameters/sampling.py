"""Draws of every parameter, for uncertainty bands (:meth:`Priors.sample`).

Distributions
-------------
- A probability with an effective sample size ``n``: Beta(p n, (1 - p) n), whose mean is p
  (97 % of 99 patients gives about Beta(96, 3)).
- A probability with a range [low, high] but no ``n``: a Beta with mean p whose concentration
  c is chosen so its 5 % and 95 % quantiles come closest (least squares) to low and high;
  c is searched on a log scale in [0.5, 1e5]. When p sits near one end of a wide range the
  fitted interval cannot match both ends; it then lies between them, and the mean is kept at
  p because p is the published point estimate.
- A probability without ``n`` and without range, or with p exactly 0 or 1, or low == high:
  held at p (no uncertainty is claimed that the data do not give).
- A categorical row with ``n``: Dirichlet(probs x n) over its non-zero states (zero states
  stay zero); without ``n`` it is held at its point value.

Keys are the parameter key paths; categorical rows appear as their per-state keys, so the
result can be passed straight to ``build_tables(..., values=draws)``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import optimize, stats

from model.exceptions import PriorsError
from model.parameters.schema import Categorical, Parameter, Priors

QUANTILES = (0.05, 0.95)
CONCENTRATION_BOUNDS = (0.5, 1e5)


@functools.lru_cache(maxsize=4096)
def concentration_for_range(p: float, low: float, high: float) -> float:
    """Beta concentration c (a = p c, b = (1 - p) c) whose 5-95 % interval best fits the range."""

    def loss(log_c: float) -> float:
        c = math.exp(log_c)
        q = stats.beta.ppf(QUANTILES, p * c, (1 - p) * c)
        return float((q[0] - low) ** 2 + (q[1] - high) ** 2)

    lo, hi = (math.log(b) for b in CONCENTRATION_BOUNDS)
    result = optimize.minimize_scalar(
        loss, bounds=(lo, hi), method="bounded", options={"xatol": 1e-4}
    )
    return float(math.exp(result.x))


def beta_for(param: Parameter) -> tuple[float, float] | None:
    """(a, b) of the Beta used for ``param``, or None when it is held fixed."""
    p = param.p
    if p <= 0.0 or p >= 1.0:
        return None
    if param.n is not None:
        return p * param.n, (1 - p) * param.n
    if param.low is None or param.high is None or param.high - param.low <= 0:
        return None
    c = concentration_for_range(p, param.low, param.high)
    return p * c, (1 - p) * c


def sample_priors(priors: Priors, n_draws: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """See the module docstring."""
    if isinstance(n_draws, bool) or not isinstance(n_draws, int) or n_draws < 1:
        raise PriorsError("n_draws", n_draws, "a positive integer")
    if not isinstance(rng, np.random.Generator):
        raise PriorsError(
            "rng",
            type(rng).__name__,
            "a numpy.random.Generator",
            "Use numpy.random.default_rng(seed).",
        )
    out: dict[str, np.ndarray] = {}
    for entry in priors.entries():
        if isinstance(entry, Categorical):
            out.update(_sample_row(entry, n_draws, rng))
            continue
        ab = beta_for(entry)
        if ab is None:
            out[entry.key] = np.full(n_draws, entry.p)
        else:
            out[entry.key] = rng.beta(ab[0], ab[1], size=n_draws)
    return out


def _sample_row(row: Categorical, n_draws: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    states = list(row.probs)
    probs = np.array([row.probs[s] for s in states])
    draws = np.tile(probs, (n_draws, 1))
    positive = probs > 0
    if row.n is not None and positive.sum() > 1:
        draws[:, positive] = rng.dirichlet(probs[positive] * row.n, size=n_draws)
    return {f"{row.key}.probs.{s}": draws[:, i].copy() for i, s in enumerate(states)}
