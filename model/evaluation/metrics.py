"""Metrics for a probability score and for a three-valued rule, in plain numpy.

The network gives each patient a probability ``P(POEMS | findings)``; a criteria rule set
gives a verdict ``met`` / ``not met`` / ``indeterminate``. This module scores both against a
reference label, with no dependency beyond numpy, so every number can be checked by hand.

Conventions
-----------
- ``y_true`` is a boolean (or 0/1) array: ``True`` for the positive class (POEMS).
- ``y_score`` is the predicted probability of the positive class, each in [0, 1].
- Log loss uses the natural logarithm and clips probabilities to ``[eps, 1 - eps]`` with
  ``eps = 1e-12`` (so one confident mistake costs at most ``-ln(1e-12) = 27.6`` nats instead
  of infinity); the clip is reported with the result so it is never hidden.
- A rule's verdict is counted two ways: *indeterminate as negative* (a clinician who
  needs the criteria to be met before acting treats "indeterminate" as "not yet") and
  *determinate only* (indeterminate rows left out). The indeterminate rate is reported
  beside both, overall and within each class.

References
----------
.. [HM82] Hanley JA, McNeil BJ. The meaning and use of the area under a receiver operating
   characteristic (ROC) curve. Radiology 1982;143(1):29-36. doi:10.1148/radiology.143.1.7063747
   (AUC = Mann-Whitney U / (n_pos * n_neg), ties counted one half).
.. [Br50] Brier GW. Verification of forecasts expressed in terms of probability. Monthly
   Weather Review 1950;78(1):1-3.
.. [Wi27] Wilson EB. Probable inference, the law of succession, and statistical inference.
   J Am Stat Assoc 1927;22(158):209-212. doi:10.1080/01621459.1927.10502953
.. [Ne98] Newcombe RG. Two-sided confidence intervals for the single proportion: comparison
   of seven methods. Stat Med 1998;17(8):857-872 (worked example 81/263: Wilson 0.2553-0.3662).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

from model.exceptions import InputError

LOG_LOSS_EPS = 1e-12
"""Probabilities are clipped to [LOG_LOSS_EPS, 1 - LOG_LOSS_EPS] before taking logs."""

Z_95 = 1.959963984540054
"""Two-sided 95 % standard-normal quantile."""

VERDICT_MET = "met"
VERDICT_NOT_MET = "not_met"
VERDICT_INDETERMINATE = "indeterminate"
VERDICTS: tuple[str, str, str] = (VERDICT_MET, VERDICT_NOT_MET, VERDICT_INDETERMINATE)

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


# --------------------------------------------------------------------------- validation
def as_labels(y_true: Sequence[Any] | npt.ArrayLike, name: str = "y_true") -> BoolArray:
    """Validate a 0/1 or boolean label vector and return it as booleans."""
    arr = np.asarray(y_true)
    if arr.ndim != 1:
        raise InputError(name, f"shape {arr.shape}", "a one-dimensional array of labels")
    if arr.dtype == np.bool_:
        return arr.astype(bool)
    try:
        numeric = arr.astype(float)
    except (TypeError, ValueError):
        raise InputError(
            name, _head(arr), "0/1 or True/False labels", "Map the label column first."
        ) from None
    bad = ~np.isin(numeric, (0.0, 1.0))
    if bad.any():
        raise InputError(
            name, _head(arr[bad]), "0/1 or True/False labels", "Map the label column first."
        )
    return numeric.astype(bool)


def as_probabilities(y_score: Sequence[Any] | npt.ArrayLike, name: str = "y_score") -> FloatArray:
    """Validate predicted probabilities (finite, within [0, 1])."""
    try:
        arr = np.asarray(y_score, dtype=float)
    except (TypeError, ValueError):
        raise InputError(name, _head(np.asarray(y_score)), "numbers in [0, 1]") from None
    if arr.ndim != 1:
        raise InputError(name, f"shape {arr.shape}", "a one-dimensional array of probabilities")
    bad = ~np.isfinite(arr) | (arr < 0.0) | (arr > 1.0)
    if bad.any():
        raise InputError(
            name, _head(arr[bad]), "finite probabilities in [0, 1]", "Drop unscored rows first."
        )
    return arr


def _pair(y_true: Any, y_score: Any) -> tuple[BoolArray, FloatArray]:
    labels, scores = as_labels(y_true), as_probabilities(y_score)
    if labels.shape != scores.shape:
        raise InputError(
            "y_score",
            f"{scores.size} values",
            f"one score per label ({labels.size})",
            "Score every row, or drop unscored rows from both.",
        )
    if labels.size == 0:
        raise InputError("y_true", "an empty array", "at least one labelled row")
    return labels, scores


def _head(arr: npt.NDArray[Any], limit: int = 3) -> str:
    items = [str(x) for x in arr.ravel()[:limit]]
    more = "" if arr.size <= limit else f", ... ({arr.size} in all)"
    return "[" + ", ".join(items) + more + "]"


def _both_classes(labels: BoolArray, what: str) -> tuple[int, int]:
    """(positives, negatives); refuses a cohort of one class, naming what needs both."""
    n_pos = int(labels.sum())
    n_neg = labels.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise InputError(
            "y_true",
            f"{n_pos} positive and {n_neg} negative rows",
            f"at least one row of each class for {what}",
            "Use a cohort that holds both POEMS and non-POEMS patients.",
        )
    return n_pos, n_neg


# --------------------------------------------------------------------------- score metrics
def roc_auc(y_true: Any, y_score: Any) -> float:
    """Area under the ROC curve by the Mann-Whitney statistic, ties counted one half [HM82].

    ``AUC = (R_pos - n_pos (n_pos + 1) / 2) / (n_pos n_neg)`` where ``R_pos`` is the sum of the
    mid-ranks of the positives among all scores. Needs at least one row of each class.
    """
    labels, scores = _pair(y_true, y_score)
    n_pos, n_neg = _both_classes(labels, "an AUC")
    ranks = _midranks(scores)
    rank_sum = float(ranks[labels].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def _midranks(values: FloatArray) -> FloatArray:
    """Ranks 1..n with tied values sharing the mean of their ranks."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    # start index of each run of equal values
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], sorted_values.size]
    mean_rank = (starts + ends + 1) / 2.0  # ranks are 1-based: mean of start+1 .. end
    ranks = np.empty(values.size, dtype=float)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def brier_score(y_true: Any, y_score: Any) -> float:
    """Mean squared difference between the probability and the 0/1 outcome [Br50]."""
    labels, scores = _pair(y_true, y_score)
    return float(np.mean((scores - labels.astype(float)) ** 2))


def log_loss(y_true: Any, y_score: Any, eps: float = LOG_LOSS_EPS) -> float:
    """Mean negative log-likelihood (natural log) after clipping to ``[eps, 1 - eps]``."""
    if not 0.0 < eps < 0.5:
        raise InputError("eps", eps, "a number in (0, 0.5)", "The default 1e-12 is usual.")
    labels, scores = _pair(y_true, y_score)
    clipped = np.clip(scores, eps, 1.0 - eps)
    ll = np.where(labels, np.log(clipped), np.log1p(-clipped))
    return float(-np.mean(ll))


@dataclass(frozen=True)
class CalibrationBin:
    """One row of a reliability table.

    ``mean_predicted`` and ``observed_fraction`` are ``None`` for an empty bin.
    """

    lower: float
    upper: float
    count: int
    mean_predicted: float | None
    observed_fraction: float | None
    observed_low: float | None
    observed_high: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def calibration_bins(
    y_true: Any,
    y_score: Any,
    n_bins: int = 10,
    strategy: Literal["uniform", "quantile"] = "uniform",
) -> list[CalibrationBin]:
    """Reliability table: per bin, the mean prediction and the observed positive fraction.

    ``uniform`` bins split [0, 1] into equal widths; ``quantile`` bins hold about equal
    counts (useful when nearly every prediction is tiny, as in a rare disease). Every bin is
    half-open ``[lower, upper)`` except the last, which includes its upper edge. The observed
    fraction carries a 95 % Wilson interval.
    """
    labels, scores = _pair(y_true, y_score)
    if not isinstance(n_bins, int) or isinstance(n_bins, bool) or not 1 <= n_bins <= 100:
        raise InputError("n_bins", n_bins, "an integer from 1 to 100", "10 is usual.")
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.unique(np.quantile(scores, np.linspace(0.0, 1.0, n_bins + 1)))
        if edges.size < 2:
            edges = np.array([edges[0], edges[0]])
    else:
        raise InputError("strategy", strategy, "'uniform' or 'quantile'")
    index = np.clip(np.searchsorted(edges, scores, side="right") - 1, 0, edges.size - 2)
    out: list[CalibrationBin] = []
    for b in range(edges.size - 1):
        mask = index == b
        count = int(mask.sum())
        if count == 0:
            out.append(
                CalibrationBin(float(edges[b]), float(edges[b + 1]), 0, None, None, None, None)
            )
            continue
        positives = int(labels[mask].sum())
        low, high = wilson_interval(positives, count)
        out.append(
            CalibrationBin(
                float(edges[b]),
                float(edges[b + 1]),
                count,
                float(scores[mask].mean()),
                positives / count,
                low,
                high,
            )
        )
    return out


def expected_calibration_error(bins: Sequence[CalibrationBin]) -> float:
    """Count-weighted mean of |mean predicted - observed fraction| over non-empty bins."""
    total = sum(b.count for b in bins)
    if total == 0:
        raise InputError("bins", "no rows", "at least one non-empty bin")
    return float(
        sum(
            b.count * abs(b.mean_predicted - b.observed_fraction)
            for b in bins
            if b.mean_predicted is not None and b.observed_fraction is not None
        )
        / total
    )


# --------------------------------------------------------------------------- proportions
def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion [Wi27]; ``(nan, nan)`` when n = 0."""
    if n < 0 or successes < 0 or successes > n:
        raise InputError("successes", f"{successes} of {n}", "an integer between 0 and n (n >= 0)")
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom
    low, high = max(0.0, centre - half), min(1.0, centre + half)
    # exact at the boundaries (floating point can leave 1e-17 residue)
    if successes == 0:
        low = 0.0
    if successes == n:
        high = 1.0
    return (low, high)


@dataclass(frozen=True)
class Proportion:
    """``successes / n`` with its 95 % Wilson interval (``value`` is nan when n = 0)."""

    successes: int
    n: int
    value: float
    low: float
    high: float

    @classmethod
    def of(cls, successes: int, n: int) -> Proportion:
        low, high = wilson_interval(successes, n)
        value = successes / n if n else math.nan
        return cls(int(successes), int(n), value, low, high)

    def to_dict(self) -> dict[str, Any]:
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in asdict(self).items()
        }

    def describe(self) -> str:
        if self.n == 0:
            return "n/a (0 rows)"
        return (
            f"{self.value:.3f} ({self.successes}/{self.n}; 95% CI {self.low:.3f}-{self.high:.3f})"
        )


@dataclass(frozen=True)
class RulePerformance:
    """Sensitivity and specificity of a three-valued rule, counted two ways.

    Attributes
    ----------
    sensitivity, specificity : indeterminate counted as negative (not met).
    sensitivity_determinate, specificity_determinate : indeterminate rows left out.
    indeterminate : indeterminate rate over every row.
    indeterminate_positive, indeterminate_negative : the rate within each true class.
    """

    n: int
    n_positive: int
    n_negative: int
    sensitivity: Proportion
    specificity: Proportion
    sensitivity_determinate: Proportion
    specificity_determinate: Proportion
    indeterminate: Proportion
    indeterminate_positive: Proportion
    indeterminate_negative: Proportion

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            out[key] = value.to_dict() if isinstance(value, Proportion) else value
        return out


def rule_performance(y_true: Any, verdicts: Sequence[str]) -> RulePerformance:
    """Score verdicts (``met`` / ``not_met`` / ``indeterminate``) against labels.

    ``met`` is a positive call. Indeterminate is counted as negative for ``sensitivity`` and
    ``specificity``, and left out for the ``*_determinate`` pair.
    """
    labels = as_labels(y_true)
    calls = np.asarray([str(v) for v in verdicts], dtype=object)
    if calls.shape != labels.shape:
        raise InputError(
            "verdicts", f"{calls.size} values", f"one verdict per label ({labels.size})"
        )
    unknown = ~np.isin(calls, VERDICTS)
    if unknown.any():
        raise InputError(
            "verdicts", _head(calls[unknown]), "one of " + ", ".join(map(repr, VERDICTS))
        )
    met = calls == VERDICT_MET
    indet = calls == VERDICT_INDETERMINATE
    pos, neg = labels, ~labels
    determinate = ~indet
    return RulePerformance(
        n=int(labels.size),
        n_positive=int(pos.sum()),
        n_negative=int(neg.sum()),
        sensitivity=Proportion.of(int((met & pos).sum()), int(pos.sum())),
        specificity=Proportion.of(int((~met & neg).sum()), int(neg.sum())),
        sensitivity_determinate=Proportion.of(
            int((met & pos).sum()), int((pos & determinate).sum())
        ),
        specificity_determinate=Proportion.of(
            int((~met & neg & determinate).sum()), int((neg & determinate).sum())
        ),
        indeterminate=Proportion.of(int(indet.sum()), int(labels.size)),
        indeterminate_positive=Proportion.of(int((indet & pos).sum()), int(pos.sum())),
        indeterminate_negative=Proportion.of(int((indet & neg).sum()), int(neg.sum())),
    )


# --------------------------------------------------------------------------- bundle
@dataclass(frozen=True)
class ScoreMetrics:
    """Metrics of a probability score on one cohort."""

    n: int
    n_positive: int
    prevalence: float
    auc: float | None
    brier: float
    log_loss: float
    log_loss_eps: float
    calibration: tuple[CalibrationBin, ...]
    ece: float

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "calibration"}
        out["calibration"] = [b.to_dict() for b in self.calibration]
        return out


def score_metrics(
    y_true: Any,
    y_score: Any,
    n_bins: int = 10,
    strategy: Literal["uniform", "quantile"] = "uniform",
) -> ScoreMetrics:
    """AUC (``None`` when only one class is present), Brier, log loss and calibration."""
    labels, scores = _pair(y_true, y_score)
    n_pos = int(labels.sum())
    auc = roc_auc(labels, scores) if 0 < n_pos < labels.size else None
    bins = calibration_bins(labels, scores, n_bins, strategy)
    return ScoreMetrics(
        n=int(labels.size),
        n_positive=n_pos,
        prevalence=n_pos / labels.size,
        auc=auc,
        brier=brier_score(labels, scores),
        log_loss=log_loss(labels, scores),
        log_loss_eps=LOG_LOSS_EPS,
        calibration=tuple(bins),
        ece=expected_calibration_error(bins),
    )


def roc_curve(y_true: Any, y_score: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
    """False- and true-positive rates at every distinct threshold, from (0, 0) to (1, 1).

    Returns ``(fpr, tpr, thresholds)``; a row is called positive when its score is at or above
    the threshold (the first threshold is +inf: nobody called). Tied scores move together, so
    the trapezoidal area under the curve equals :func:`roc_auc`.
    """
    labels, scores = _pair(y_true, y_score)
    n_pos, n_neg = _both_classes(labels, "a ROC curve")
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores, sorted_labels = scores[order], labels[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(sorted_scores)), sorted_scores.size - 1]
    tp = np.cumsum(sorted_labels)[last_of_tie]
    fp = (last_of_tie + 1) - tp
    fpr = np.r_[0.0, fp / n_neg]
    tpr = np.r_[0.0, tp / n_pos]
    thresholds = np.r_[np.inf, sorted_scores[last_of_tie]]
    return fpr.astype(float), tpr.astype(float), thresholds.astype(float)


@dataclass(frozen=True)
class BootstrapInterval:
    """A statistic with its percentile bootstrap interval (rows resampled with replacement)."""

    estimate: float
    low: float
    high: float
    n_boot: int
    level: float

    def describe(self) -> str:
        return f"{self.estimate:.3f} ({self.low:.3f} to {self.high:.3f})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


BOOTSTRAP_SAMPLES = 1000


def bootstrap_metrics(
    y_true: Any,
    y_score: Any,
    n_boot: int = BOOTSTRAP_SAMPLES,
    level: float = 0.95,
    seed: int = 20261202,
) -> dict[str, BootstrapInterval]:
    """AUC and Brier score with percentile bootstrap intervals [ET93].

    Resamples stratified by class (each resample keeps the cohort's positives and negatives
    counts), so every resample has an AUC. Seeded: the same cohort gives the same interval.

    References
    ----------
    .. [ET93] Efron B, Tibshirani RJ. An Introduction to the Bootstrap. Chapman & Hall, 1993.
    """
    labels, scores = _pair(y_true, y_score)
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 10:
        raise InputError("n_boot", n_boot, "a whole number of at least 10")
    if not 0 < level < 1:
        raise InputError("level", level, "a number between 0 and 1", "0.95 for 95 %.")
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(labels), np.flatnonzero(~labels)
    tail = (1 - level) / 2 * 100
    briers, aucs = [], []
    chunk = max(1, 4_000_000 // max(1, labels.size))  # bounded memory: resamples per batch
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        idx = np.hstack([rng.choice(pos, (size, pos.size)), rng.choice(neg, (size, neg.size))])
        sampled = scores[idx]
        briers.append(np.mean((sampled - labels[idx]) ** 2, axis=1))
        if pos.size and neg.size:  # Mann-Whitney AUC of each resample (positives come first)
            ranks = stats.rankdata(sampled, axis=1)
            rank_sum = ranks[:, : pos.size].sum(axis=1)
            aucs.append((rank_sum - pos.size * (pos.size + 1) / 2) / (pos.size * neg.size))
    out = {
        "brier": BootstrapInterval(
            brier_score(labels, scores), *_percentiles(np.concatenate(briers), tail), n_boot, level
        )
    }
    if aucs:
        out["auc"] = BootstrapInterval(
            roc_auc(labels, scores), *_percentiles(np.concatenate(aucs), tail), n_boot, level
        )
    return out


def _percentiles(values: FloatArray, tail: float) -> tuple[float, float]:
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


# --------------------------------------------------------------------------- writing
def metric_text(x: float | None) -> str:
    """A metric with three decimals, '-' when it has no value (None or NaN)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.3f}"


def calibration_rows(bins: Sequence[CalibrationBin], edge_decimals: int) -> list[str]:
    """The Markdown rows of a reliability table (bins with no row left out): edges, count,
    mean prediction, observed fraction and its 95 % Wilson interval."""
    f = metric_text
    return [
        f"| {b.lower:.{edge_decimals}f}-{b.upper:.{edge_decimals}f} | {b.count} | "
        f"{f(b.mean_predicted)} | {f(b.observed_fraction)} | "
        f"{f(b.observed_low)}-{f(b.observed_high)} |"
        for b in bins
        if b.count
    ]
