"""Draws of every parameter, for uncertainty bands (:meth:`Priors.sample`).

Distributions
-------------
- A probability with an effective sample size ``n``: Beta(p n, (1 - p) n), whose mean is p
  (97 % of 99 patients gives about Beta(96, 3)).
- A probability with a range [low, high] but no ``n``: a Beta with mean p whose concentration
  c is chosen so its 5 % and 95 % quantiles come closest (least squares) to low and high;
  c is searched on a log scale in [0.5, 1e5]. When p sits near one end of a wide range no
  Beta with mean p has that interval; if either fitted quantile misses its end by more than
  a quarter of the range width, the draw comes instead from a PERT distribution on
  [low, high] with mode p (a Beta(1 + 4 (p - low) / w, 1 + 4 (high - p) / w) scaled to the
  range, w = high - low): the range is then respected and p is the most likely value, at the
  cost of a mean that moves towards the middle of the range.
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
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import optimize, stats

from model.exceptions import PriorsError
from model.parameters.schema import Categorical, Parameter

if TYPE_CHECKING:  # Priors is built from these modules; annotations only
    from model.parameters.priors import Priors

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


RANGE_FIT_TOLERANCE = 0.25
"""A fitted 5/95 % quantile may miss its range end by this fraction of the range width."""


@dataclass(frozen=True)
class Draw:
    """How one parameter is drawn: ``low + (high - low) * Beta(a, b)``; fixed when a is None."""

    a: float | None
    b: float | None
    low: float = 0.0
    high: float = 1.0
    method: str = "fixed"


def draw_for(param: Parameter) -> Draw:
    """The distribution used for ``param`` (see the module docstring)."""
    p = param.p
    if p <= 0.0 or p >= 1.0:
        return Draw(None, None)
    if param.n is not None:
        return Draw(p * param.n, (1 - p) * param.n, method="beta_n")
    low, high = param.low, param.high
    if low is None or high is None or high - low <= 0:
        return Draw(None, None)
    c = concentration_for_range(p, low, high)
    q05, q95 = stats.beta.ppf(QUANTILES, p * c, (1 - p) * c)
    width = high - low
    if max(abs(q05 - low), abs(q95 - high)) <= RANGE_FIT_TOLERANCE * width:
        return Draw(p * c, (1 - p) * c, method="beta_range")
    return Draw(1 + 4 * (p - low) / width, 1 + 4 * (high - p) / width, low, high, method="pert")


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
        draw = draw_for(entry)
        if draw.a is None or draw.b is None:
            out[entry.key] = np.full(n_draws, entry.p)
        else:
            unit = rng.beta(draw.a, draw.b, size=n_draws)
            out[entry.key] = draw.low + (draw.high - draw.low) * unit
    return out


def _sample_row(row: Categorical, n_draws: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    states = list(row.probs)
    probs = np.array([row.probs[s] for s in states])
    draws = np.tile(probs, (n_draws, 1))
    positive = probs > 0
    if row.n is not None and positive.sum() > 1:
        draws[:, positive] = rng.dirichlet(probs[positive] * row.n, size=n_draws)
    return {f"{row.key}.probs.{s}": draws[:, i].copy() for i, s in enumerate(states)}
