"""Metrics against values worked out by hand.

The tiny cohort used throughout (row: label, predicted P(POEMS), rule verdict)::

    row  label  p     verdict
    0    1      0.9   met
    1    1      0.4   indeterminate
    2    0      0.4   not_met
    3    0      0.2   met
    4    0      0.6   indeterminate
    5    1      0.8   met

AUC: the 9 positive/negative pairs. Positive 0.9 beats 0.4, 0.2, 0.6 (3); positive 0.4 ties
0.4 (1/2), beats 0.2 (1), loses to 0.6 (0) -> 1.5; positive 0.8 beats all three (3).
AUC = 7.5 / 9 = 0.8333...

Brier: (0.1^2 + 0.6^2 + 0.4^2 + 0.2^2 + 0.6^2 + 0.2^2) / 6 = 0.97 / 6 = 0.161666...

Log loss: -(ln 0.9 + ln 0.4 + ln 0.6 + ln 0.8 + ln 0.4 + ln 0.8) / 6 = 0.482509...
(row 2 and 4 are negatives, so they contribute ln(1 - p) = ln 0.6 and ln 0.4).

Calibration with 2 uniform bins: [0, 0.5) holds p = 0.4, 0.4, 0.2 (labels 1, 0, 0): mean
predicted 1/3, observed 1/3; [0.5, 1] holds 0.9, 0.6, 0.8 (labels 1, 0, 1): mean 2.3/3 =
0.7667, observed 2/3. ECE = (3 * 0 + 3 * |0.7667 - 0.6667|) / 6 = 0.05.

Rule, indeterminate as negative: sensitivity = rows 0, 5 met of positives {0, 1, 5} = 2/3;
specificity = rows 2, 4 not called positive of negatives {2, 3, 4} = 2/3. Determinate only:
sensitivity 2/2, specificity 1/2 (rows 2, 3). Indeterminate 2/6 overall, 1/3 in each class.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from model.evaluation import metrics as mx
from model.exceptions import InputError

Y = [1, 1, 0, 0, 0, 1]
P = [0.9, 0.4, 0.4, 0.2, 0.6, 0.8]
V = ["met", "indeterminate", "not_met", "met", "indeterminate", "met"]


def test_auc_counts_ties_as_half() -> None:
    assert mx.roc_auc(Y, P) == pytest.approx(7.5 / 9, abs=1e-12)


def test_auc_against_brute_force_pairs() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 200)
    p = np.round(rng.random(200), 1)  # many ties
    pos, neg = p[y == 1], p[y == 0]
    pairs = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert mx.roc_auc(y, p) == pytest.approx(pairs / (pos.size * neg.size), abs=1e-12)


def test_auc_perfect_and_reversed() -> None:
    assert mx.roc_auc([0, 0, 1], [0.1, 0.2, 0.3]) == 1.0
    assert mx.roc_auc([1, 0, 0], [0.1, 0.2, 0.3]) == 0.0
    assert mx.roc_auc([1, 0], [0.5, 0.5]) == 0.5


def test_auc_needs_both_classes() -> None:
    with pytest.raises(InputError, match="at least one row of each class"):
        mx.roc_auc([1, 1], [0.2, 0.3])


def test_brier() -> None:
    assert mx.brier_score(Y, P) == pytest.approx(0.97 / 6, abs=1e-12)


def test_log_loss_hand_value_and_clip() -> None:
    expected = (
        -(
            math.log(0.9)
            + math.log(0.4)
            + math.log(0.6)
            + math.log(0.8)
            + math.log(0.4)
            + math.log(0.8)
        )
        / 6
    )
    assert mx.log_loss(Y, P) == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx(0.482509, abs=1e-6)
    # a certain mistake is clipped, not infinite: -ln(1e-12) = 27.631
    assert mx.log_loss([1], [0.0]) == pytest.approx(-math.log(1e-12), rel=1e-9)


def test_calibration_two_bins() -> None:
    bins = mx.calibration_bins(Y, P, n_bins=2)
    assert [(b.lower, b.upper, b.count) for b in bins] == [(0.0, 0.5, 3), (0.5, 1.0, 3)]
    assert bins[0].mean_predicted == pytest.approx(1 / 3)
    assert bins[0].observed_fraction == pytest.approx(1 / 3)
    assert bins[1].mean_predicted == pytest.approx(2.3 / 3)
    assert bins[1].observed_fraction == pytest.approx(2 / 3)
    assert mx.expected_calibration_error(bins) == pytest.approx(0.05, abs=1e-12)


def test_calibration_last_bin_closed_and_empty_bins_kept() -> None:
    bins = mx.calibration_bins([1, 0], [1.0, 0.0], n_bins=4)
    assert [b.count for b in bins] == [1, 0, 0, 1]
    assert bins[1].mean_predicted is None


def test_calibration_quantile_bins_hold_equal_counts() -> None:
    p = np.linspace(0.001, 0.01, 100)
    bins = mx.calibration_bins(np.zeros(100), p, n_bins=4, strategy="quantile")
    assert [b.count for b in bins] == [25, 25, 25, 25]


def test_wilson_textbook_values() -> None:
    # Newcombe 1998, example 81/263: 0.2553 - 0.3662
    low, high = mx.wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    # 2/3 by the closed form: 0.2077 - 0.9385; 0/10: 0 - 0.2775
    assert tuple(round(x, 4) for x in mx.wilson_interval(2, 3)) == (0.2077, 0.9385)
    assert tuple(round(x, 4) for x in mx.wilson_interval(0, 10)) == (0.0, 0.2775)
    assert all(math.isnan(x) for x in mx.wilson_interval(0, 0))


def test_rule_performance_counts_indeterminate_both_ways() -> None:
    r = mx.rule_performance(Y, V)
    assert (r.sensitivity.successes, r.sensitivity.n) == (2, 3)
    assert (r.specificity.successes, r.specificity.n) == (2, 3)
    assert (r.sensitivity_determinate.successes, r.sensitivity_determinate.n) == (2, 2)
    assert (r.specificity_determinate.successes, r.specificity_determinate.n) == (1, 2)
    assert (r.indeterminate.successes, r.indeterminate.n) == (2, 6)
    assert r.indeterminate_positive.value == pytest.approx(1 / 3)
    assert r.indeterminate_negative.value == pytest.approx(1 / 3)
    assert r.to_dict()["sensitivity"]["low"] == pytest.approx(0.2077, abs=1e-4)


def test_rule_performance_rejects_unknown_verdict() -> None:
    with pytest.raises(InputError, match="verdicts must be one of"):
        mx.rule_performance([1], ["maybe"])


def test_bad_inputs_name_the_field() -> None:
    with pytest.raises(InputError, match="y_score must be finite probabilities"):
        mx.brier_score([1, 0], [0.5, 1.5])
    with pytest.raises(InputError, match="y_true must be 0/1"):
        mx.brier_score([2, 0], [0.5, 0.5])
    with pytest.raises(InputError, match="one score per label"):
        mx.brier_score([1, 0], [0.5])


def test_score_metrics_bundle() -> None:
    s = mx.score_metrics(Y, P, n_bins=2)
    assert s.auc == pytest.approx(7.5 / 9)
    assert s.prevalence == 0.5
    assert s.to_dict()["calibration"][1]["count"] == 3
    assert mx.score_metrics([0, 0], [0.1, 0.2]).auc is None
