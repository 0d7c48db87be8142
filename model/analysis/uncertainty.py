"""How much the parameters' uncertainty moves one patient's P(POEMS).

Credible interval
-----------------
``Priors.sample`` draws every parameter ``n_draws`` times (Beta from the cohort size, or a
distribution fitted to the published range); ``build_tables(priors, setting, values=draws)``
turns the draws into tables with a leading draw axis; the compiled engine evaluates this one
evidence pattern under every table set at once (:meth:`CompiledEngine.posterior_under`, no
pattern tables built). The interval is the equal-tailed ``level`` quantile range of the
resulting P(POEMS) values. The draws and their tables do not depend on the patient, so they
are made once per (priors, setting, number of draws, seed) and reused (``_draw_batch``); the
same seed therefore gives every patient the same parameter draws, and the same interval on a
rerun.

One-way sensitivity
-------------------
Each parameter in turn is set to the low and the high end of its range, every other
parameter at its point value; the *swing* is ``|P(poems | high) - P(poems | low)|``. The range
is the parameter's published/assumed ``[low, high]`` when given; otherwise the central 90 %
of the distribution ``Priors.sample`` draws it from; parameters held fixed are skipped. A
state of a categorical row moves with the row's other states rescaled in proportion (the rule
of ``Priors.with_overrides``). Base rates of other settings cannot matter and are skipped.
All parameter ends are evaluated as one table batch, built once per (priors, setting).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.constants import POEMS as POSITIVE
from model.exceptions import InputError
from model.inference.compiled import TableBatch
from model.inference.engine import engine_for
from model.network import build_tables
from model.parameters import Priors
from model.parameters.draws_cache import cached_draws
from model.parameters.sampling import draw_for
from model.parameters.schema import Categorical, Parameter

RANGE_QUANTILES = (0.05, 0.95)
SWING_DIGITS = 12
"""Swings are ranked to this many decimals, ties by key: two parameters whose swings agree
to rounding (a categorical state and its complement) keep one order however the arithmetic
is associated."""

INTERVAL_LABEL = "uncertainty in the parameters, not in the structure"
"""What a credible interval is, in a few words, for every place that shows one."""
INTERVAL_MEANING = (
    "Uncertainty in the parameters, not in the structure: the interval shows how far P(POEMS) "
    "moves when the published numbers vary within their evidence (each drawn around its cited "
    "value, inside its cited range), with the network's diagnoses, findings and links taken "
    "as right. It cannot show a diagnosis the network lacks or a dependence it does not "
    "model, so a narrow interval is not proof of a right answer."
)
"""The interval's meaning in full (assessment notes, report, CLI, app help)."""


@dataclass(frozen=True)
class CredibleInterval:
    """P(POEMS) under parameter uncertainty for one case."""

    low: float
    high: float
    median: float
    mean: float
    point: float
    level: float
    n_draws: int

    @property
    def label(self) -> str:
        return INTERVAL_LABEL

    @property
    def meaning(self) -> str:
        return INTERVAL_MEANING

    def to_dict(self) -> dict[str, float | str]:
        return {
            "low": self.low,
            "high": self.high,
            "median": self.median,
            "mean": self.mean,
            "point": self.point,
            "level": self.level,
            "n_draws": self.n_draws,
            "label": INTERVAL_LABEL,
            "meaning": INTERVAL_MEANING,
        }


def credible_interval(
    priors: Priors,
    setting: str,
    evidence: Mapping[str, str],
    n_draws: int = 2000,
    level: float = 0.9,
    rng: np.random.Generator | None = None,
    positive: str = POSITIVE,
    seed: int = 0,
    draws: Mapping[str, np.ndarray] | TableBatch | None = None,
) -> CredibleInterval:
    """Equal-tailed interval of P(``positive`` | evidence) over ``n_draws`` parameter draws.

    Without ``rng`` the draws come from ``seed`` and are cached (module docstring); with an
    ``rng`` they are drawn afresh. ``draws`` hands in draws made elsewhere (a draws cache):
    parameter key -> values with a leading draw axis (what ``Priors.sample`` returns), or a
    :class:`TableBatch` already prepared from them; ``n_draws``, ``rng`` and ``seed`` are
    then not used. Every draw is evaluated in one batched pass
    (:meth:`CompiledEngine.posterior_under`).
    """
    if not 0.0 < level < 1.0:
        raise InputError("level", level, "a probability strictly between 0 and 1", "Try 0.9.")
    if n_draws < 2:
        raise InputError("n_draws", n_draws, "at least 2", "Use 2000 for a stable interval.")
    engine = engine_for(priors, setting)
    if isinstance(draws, TableBatch):
        batch = draws
    elif draws is not None:
        batch = engine.prepare(build_tables(priors, setting, values=dict(draws)))
    elif rng is None:
        batch = _draw_batch(priors, setting, n_draws, seed)
    else:
        batch = engine.prepare(build_tables(priors, setting, values=priors.sample(n_draws, rng)))
    probs = engine.posterior_under(batch, evidence)
    k = engine.query_states.index(positive)
    p = probs.reshape(-1, len(engine.query_states))[:, k]
    tail = (1.0 - level) / 2.0
    point = engine.posterior(evidence)[positive]
    low, high, median = _quantiles_and_median(p, tail)
    return CredibleInterval(
        low=low,
        high=high,
        median=median,
        mean=float(p.mean()),
        point=point,
        level=level,
        n_draws=int(p.size),
    )


def _quantiles_and_median(values: np.ndarray, tail: float) -> tuple[float, float, float]:
    """``np.quantile(values, [tail, 1 - tail])`` and ``np.median(values)``, the same numbers
    bit for bit, from one partition at the positions they read (numpy's steps for its
    default linear method: the neighbours of each virtual index ``(n - 1) q``, interpolated
    from below, or from above when the fraction is at least one half; the median the mean
    of the one or two middle values). ``tests/test_analysis.py`` compares them on many samples."""
    n = values.size
    half = n // 2
    middle_at = (half,) if n % 2 else (half - 1, half)
    at = {i for q in (tail, 1.0 - tail) for i in _neighbours(n, q)}.union(middle_at)
    # only these order statistics are read: a partition puts each where a sort would
    ordered = np.partition(values, sorted(at))
    low, high = (_quantile_of_sorted(ordered, n, q) for q in (tail, 1.0 - tail))
    middle = ordered[half] if n % 2 else (ordered[half - 1] + ordered[half]) / 2.0
    return low, high, float(middle)


def _neighbours(n: int, q: float) -> tuple[int, int]:
    """The two sorted positions :func:`_quantile_of_sorted` reads for ``q``."""
    virtual = (n - 1) * q
    if virtual >= n - 1:
        return n - 1, n - 1
    if virtual < 0:
        return 0, 0
    below = math.floor(virtual)
    return below, below + 1


def _quantile_of_sorted(ordered: np.ndarray, n: int, q: float) -> float:
    """One quantile of :func:`_quantiles_and_median`, in Python floats (the same IEEE
    operations as numpy's on one element, without a dozen array calls)."""
    virtual = (n - 1) * q
    below, above = _neighbours(n, q)
    # at or past the last value numpy indexes the largest value as -1
    gamma = virtual - (-1) if virtual >= n - 1 else virtual - below
    a, b = float(ordered[below]), float(ordered[above])
    gap = b - a
    return b - gap * (1 - gamma) if gamma >= 0.5 else a + gap * gamma


@functools.lru_cache(maxsize=8)
def _draw_batch(priors: Priors, setting: str, n_draws: int, seed: int) -> TableBatch:
    """Parameter draws as a prepared table batch (independent of the patient; cached here per
    process, and the draws on disk across processes: :mod:`model.parameters.draws_cache`)."""
    draws = cached_draws(priors, n_draws, seed)
    return engine_for(priors, setting).prepare(build_tables(priors, setting, values=draws))


@dataclass(frozen=True)
class Sensitivity:
    """P(POEMS) at the two ends of one parameter's range."""

    key: str
    low: float
    high: float
    p_at_low: float
    p_at_high: float
    kind: str
    source: str

    @property
    def swing(self) -> float:
        return abs(self.p_at_high - self.p_at_low)

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "low": self.low,
            "high": self.high,
            "p_at_low": self.p_at_low,
            "p_at_high": self.p_at_high,
            "swing": self.swing,
            "kind": self.kind,
            "source": self.source,
        }


def parameter_range(param: Parameter) -> tuple[float, float] | None:
    """The range a one-way analysis sweeps (module docstring); ``None`` if fixed."""
    if param.low is not None and param.high is not None and param.high > param.low:
        return float(param.low), float(param.high)
    central = draw_for(param).central(RANGE_QUANTILES[1] - RANGE_QUANTILES[0])
    if central is None:
        return None
    low, high = central
    return (low, high) if high > low else None


def sensitivity(
    priors: Priors,
    setting: str,
    evidence: Mapping[str, str],
    top_k: int | None = 10,
    positive: str = POSITIVE,
) -> tuple[Sensitivity, ...]:
    """One-way sensitivity of P(``positive`` | evidence), largest swing first."""
    chosen, batch, key_ranks = _sensitivity_batch(priors, setting)
    if batch is None:
        return ()
    engine = engine_for(priors, setting)
    probs: Any = engine.posterior_under(batch, evidence)
    k = engine.query_states.index(positive)
    p = probs[:, k]
    at_low, at_high = p[0::2], p[1::2]
    swing = np.round(np.abs(at_high - at_low), SWING_DIGITS)  # Sensitivity.swing, rounded
    ranked = np.lexsort((key_ranks, -swing))  # largest first, ties by key
    out = []
    for i in ranked[:top_k]:
        param, low, high = chosen[i]
        out.append(
            Sensitivity(
                param.key, low, high, float(at_low[i]), float(at_high[i]), param.kind, param.source
            )
        )
    return tuple(out)


@functools.lru_cache(maxsize=8)
def _sensitivity_batch(
    priors: Priors, setting: str
) -> tuple[tuple[tuple[Parameter, float, float], ...], TableBatch | None, np.ndarray]:
    """Every swept parameter at its low and high end, as one prepared table batch, and each
    parameter's place in the alphabetical order of the keys (cached: none of it depends on
    the patient)."""

    rows: dict[str, Categorical] = {}
    for entry in priors.entries():
        if isinstance(entry, Categorical):
            for param in entry.components():
                rows[param.key] = entry
    chosen: list[tuple[Parameter, float, float]] = []
    for param in priors.parameters():
        if param.key.startswith("settings.") and not param.key.startswith(f"settings.{setting}."):
            continue
        span = parameter_range(param)
        if span is not None:
            chosen.append((param, *span))
    if not chosen:
        return (), None, np.zeros(0, dtype=np.int64)
    n = 2 * len(chosen)
    point = priors.point_values()
    values: dict[str, np.ndarray] = {}

    def column(key: str) -> np.ndarray:
        if key not in values:
            values[key] = np.full(n, point[key], dtype=float)
        return values[key]

    for i, (param, low, high) in enumerate(chosen):
        for j, v in ((2 * i, low), (2 * i + 1, high)):
            column(param.key)[j] = v
            row = rows.get(param.key)
            if row is None:
                continue
            own = row.probs[param.key.rsplit(".", 1)[-1]]
            rest = 1.0 - own
            for state, p in row.probs.items():
                key = f"{row.key}.probs.{state}"
                if key != param.key:
                    column(key)[j] = (
                        p * (1.0 - v) / rest if rest > 0 else (1.0 - v) / (len(row.probs) - 1)
                    )
    tables = build_tables(priors, setting, values=values)
    key_ranks = np.empty(len(chosen), dtype=np.int64)
    key_ranks[sorted(range(len(chosen)), key=lambda i: chosen[i][0].key)] = np.arange(len(chosen))
    return tuple(chosen), engine_for(priors, setting).prepare(tables), key_ranks
