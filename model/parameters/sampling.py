"""Draws of every parameter, for uncertainty bands (:meth:`Priors.sample`).

The rule (also in ``priors/README.md``, "From evidence to a distribution")
---------------------------------------------------------------------------
Every distribution has its **mean at the cited value** p and **no U or J shape**: Beta
shapes a, b >= 1, so the density is finite everywhere and the mass sits around p, not piled
at 0 or 1. A Beta with mean p is Beta(p c, (1 - p) c); only its concentration c is chosen:

- the floor ``c >= 1 / min(p, 1 - p)`` keeps a, b >= 1;
- with an effective sample size n: ``c >= n`` (97 % of 99 patients gives about Beta(96, 3));
- with a range [low, high]: c is the smallest concentration (the widest Beta) whose central
  95 % lies inside the range, so the range bounds the uncertainty and p stays the mean.
  When p sits near one end, that end binds and the distribution is narrower than the range
  on the other side: the range is respected, the mean is not moved;
- c is the largest of these lower bounds (a range never widens what a sample size gives).

When p lies on an end of its range (or outside it) no distribution with mean p has its
central 95 % inside the range. The range is then widened honestly, on that side only, to the
mirror image of the other side (``low' = max(0, 2 p - high)`` or ``high' = min(1,
2 p - low)``), and :func:`draw_for` reports ``range_widened``; the network-wide check
(``tests/test_sampling.py``) names every such parameter.

A probability without n and without range, or with p exactly 0 or 1, or low == high, is held
at p (no uncertainty is claimed that the data do not give).

A categorical row with n (``probs``, Dirichlet(probs x n) as written in the priors) is drawn
by stick-breaking, states in decreasing order of probability: state i takes a share V_i of
what the states before it left, V_i ~ Beta with mean m_i = p_i / (1 - sum_{j<i} p_j) and
concentration ``max(n (1 - sum_{j<i} p_j), 1 / min(m_i, 1 - m_i))``; the last state takes the
rest. Without the floor this is exactly Dirichlet(probs x n) (its stick-breaking form); with
it, each state's mean is still exactly p_i (the sticks are independent), every stick has
a, b >= 1, and only the splits that involve a rare state are tightened — the generalised
Dirichlet of Connor and Mosimann. Zero states stay zero; a row without n is held at its point
value.

The interval this produces is uncertainty in the **parameters** given the network's
structure, not in the structure itself (``model.analysis.uncertainty.INTERVAL_MEANING``).

Keys are the parameter key paths; categorical rows appear as their per-state keys, so the
result can be passed straight to ``build_tables(..., values=draws)``.

References
----------
.. [CM69] Connor RJ, Mosimann JE. Concepts of independence for proportions with a
   generalization of the Dirichlet distribution. J Am Stat Assoc 1969;64(325):194-206.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from model.exceptions import PriorsError
from model.parameters.schema import Categorical, Parameter

if TYPE_CHECKING:  # Priors is built from these modules; annotations only
    from model.parameters.priors import Priors

CENTRAL = 0.95
"""The central mass that must lie inside a cited range."""
QUANTILES = ((1 - CENTRAL) / 2, 1 - (1 - CENTRAL) / 2)
MIN_SHAPE = 1.0
"""Beta shapes a and b are at least this: no U- or J-shaped distributions."""
MAX_CONCENTRATION = 1e7
"""Upper end of the concentration search (a range narrower than this allows is held fixed)."""
SAMPLER_VERSION = 1
"""Raised whenever a change here would give other draws for the same priors and seed; it is
part of the key of the draws saved on disk (:mod:`model.parameters.draws_cache`)."""


def beta_quantile(
    q: float | np.ndarray, a: float | np.ndarray, b: float | np.ndarray
) -> np.ndarray:
    """The ``q`` quantile of Beta(a, b) (``scipy.stats.beta.ppf``, the same numbers).

    scipy.special is imported here, not at the top: loading priors (every page, the criteria
    on a cold start) then costs no scipy import; only fitting or drawing does. scipy.stats is
    never imported (about 1.5 s).
    """
    from scipy.special import betaincinv  # lazy on purpose, see the docstring

    return np.asarray(betaincinv(a, b, q))


def _floor_concentration(mean: float) -> float:
    """Smallest c with p c >= 1 and (1 - p) c >= 1."""
    return MIN_SHAPE / min(mean, 1.0 - mean)


@functools.lru_cache(maxsize=4096)
def concentration_for_range(p: float, low: float, high: float, at_least: float = 0.0) -> float:
    """Smallest concentration c >= ``at_least`` (and the a, b >= 1 floor) for which the central
    95 % of Beta(p c, (1 - p) c) lies inside [low, high]; requires low < p < high.

    The central interval shrinks towards p as c grows, so the first c on a fine log grid that
    fits is refined by bisection.
    """
    start = max(_floor_concentration(p), at_least)

    def fits(c: np.ndarray) -> np.ndarray:
        q_low = beta_quantile(QUANTILES[0], p * c, (1 - p) * c)
        q_high = beta_quantile(QUANTILES[1], p * c, (1 - p) * c)
        return np.asarray((q_low >= low) & (q_high <= high))

    grid = np.geomspace(start, max(start, MAX_CONCENTRATION), 160)
    ok = fits(grid)
    if not ok.any():
        return MAX_CONCENTRATION
    first = int(np.argmax(ok))
    if first == 0:
        return float(grid[0])
    lo, hi = math.log(grid[first - 1]), math.log(grid[first])
    for _ in range(24):
        mid = 0.5 * (lo + hi)
        if fits(np.array([math.exp(mid)]))[0]:
            hi = mid
        else:
            lo = mid
    return float(math.exp(hi))


@dataclass(frozen=True)
class Draw:
    """How one parameter is drawn: Beta(a, b); fixed when ``a`` is None.

    ``low``/``high`` are the range the fit respects (the cited one, or the widened one when
    ``method`` is ``range_widened``); the draw itself is on [0, 1].
    """

    a: float | None
    b: float | None
    low: float = 0.0
    high: float = 1.0
    method: str = "fixed"

    @property
    def mean(self) -> float | None:
        if self.a is None or self.b is None:
            return None
        return self.a / (self.a + self.b)

    def central(self, mass: float = CENTRAL) -> tuple[float, float] | None:
        """The central ``mass`` interval of the draw, ``None`` when fixed."""
        if self.a is None or self.b is None:
            return None
        tail = (1 - mass) / 2
        q = beta_quantile(np.array([tail, 1 - tail]), self.a, self.b)
        return float(q[0]), float(q[1])


def draw_for(param: Parameter) -> Draw:
    """The distribution used for ``param`` (see the module docstring)."""
    p = param.p
    if p <= 0.0 or p >= 1.0:
        return Draw(None, None)
    low, high = param.low, param.high
    has_range = low is not None and high is not None and high - low > 0
    if not has_range:
        if param.n is None:
            return Draw(None, None)
        c = max(param.n, _floor_concentration(p))
        return Draw(p * c, (1 - p) * c, method="beta_n")
    assert low is not None and high is not None
    method = "beta_n_range" if param.n is not None else "beta_range"
    if not low < p < high:
        low = max(0.0, 2 * p - high) if p <= low else low
        high = min(1.0, 2 * p - low) if p >= high else high
        method = "range_widened"
        if not low < p < high:
            return Draw(None, None)
    c = concentration_for_range(p, low, high, float(param.n or 0.0))
    return Draw(p * c, (1 - p) * c, low, high, method)


@dataclass(frozen=True)
class Stick:
    """One stick of a categorical row: state ``state`` takes Beta(a, b) of what is left."""

    state: str
    a: float | None  # None: the last state, which takes the rest
    b: float | None


def sticks_for(row: Categorical) -> tuple[Stick, ...]:
    """The stick-breaking form of a categorical row (module docstring); empty when fixed."""
    positive = sorted(((p, s) for s, p in row.probs.items() if p > 0), key=lambda t: (-t[0], t[1]))
    if row.n is None or len(positive) < 2:
        return ()
    out: list[Stick] = []
    left = 1.0
    for i, (p, state) in enumerate(positive):
        if i == len(positive) - 1:
            out.append(Stick(state, None, None))
            break
        m = min(max(p / left, 1e-12), 1 - 1e-12)
        c = max(row.n * left, _floor_concentration(m))
        out.append(Stick(state, m * c, (1 - m) * c))
        left -= p
    return tuple(out)


def marginal_means(row: Categorical) -> Iterator[tuple[str, float]]:
    """Each state's mean under :func:`sticks_for` (= its cited value; tested network-wide)."""
    sticks = sticks_for(row)
    if not sticks:
        yield from row.probs.items()
        return
    left = 1.0
    for stick in sticks:
        if stick.a is None or stick.b is None:
            yield stick.state, left
            break
        share = stick.a / (stick.a + stick.b)
        yield stick.state, left * share
        left *= 1 - share
    drawn = {s.state for s in sticks}
    yield from ((s, 0.0) for s in row.probs if s not in drawn)


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
            out[entry.key] = rng.beta(draw.a, draw.b, size=n_draws)
    return out


def _sample_row(row: Categorical, n_draws: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    sticks = sticks_for(row)
    if not sticks:
        return {f"{row.key}.probs.{s}": np.full(n_draws, p) for s, p in row.probs.items()}
    values = {s: np.zeros(n_draws) for s in row.probs}
    left = np.ones(n_draws)
    for stick in sticks:
        if stick.a is None or stick.b is None:
            values[stick.state] = left
            break
        share = rng.beta(stick.a, stick.b, size=n_draws) * left
        values[stick.state] = share
        left = left - share
    return {f"{row.key}.probs.{s}": values[s] for s in row.probs}
