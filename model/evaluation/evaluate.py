"""Evaluate the network and every criteria rule set on a labelled cohort.

The *label* is a column holding a diagnosis state (``poems``, ``cidp``, ...); the positive
class is ``poems`` unless told otherwise. For the network the score is P(POEMS | findings)
under the row's setting (or the one forced with ``setting``); it is summarised by AUC, Brier
score, log loss and a reliability table. For each rule set a verdict of ``met`` is a positive
call; sensitivity and specificity are given twice, counting *indeterminate* as negative and
leaving indeterminate rows out, with the indeterminate rate beside them (see
:mod:`model.evaluation.metrics`).

Scoring uses the compiled engine, vectorised over all rows of one setting (exact, it agrees
with pgmpy to rounding); rows whose evidence is impossible under the network, and rows that
fail validation, are reported as bad rows and left out of every metric.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model.case import Case
from model.cohort.score import score_frame
from model.constants import DEFAULT_SETTING
from model.constants import POEMS as POSITIVE
from model.criteria.rulesets import RULE_SETS
from model.evaluation.cohort import BadRow, ignored_columns
from model.evaluation.metrics import (
    RulePerformance,
    ScoreMetrics,
    bootstrap_metrics,
    roc_curve,
    rule_performance,
    score_metrics,
)
from model.exceptions import InputError, PoemsError
from model.inference.engine import engine_for
from model.network.evidence import evidence_for
from model.parameters import Priors, load_priors
from model.vocabulary import suggest


@dataclass(frozen=True)
class Scores:
    """P(positive) per usable row, and the rows that could not be scored."""

    p_positive: np.ndarray
    posteriors: np.ndarray  # (n, n_diagnoses)
    diagnoses: tuple[str, ...]
    settings: tuple[str, ...]
    failed: tuple[tuple[int, str], ...]  # (index into the input cases, message)


def _engine(priors: Priors, setting: str) -> Any:
    return engine_for(priors, setting)  # applies the setting's defining findings


def score_cases(
    cases: Sequence[Case],
    priors: Priors,
    setting: str | None = None,
    positive: str = POSITIVE,
) -> Scores:
    """Posterior over diagnoses for every case, grouped by setting and scored in batches.

    ``setting`` forces one setting for all rows; otherwise each case's own setting is used,
    falling back to :data:`DEFAULT_SETTING`. Unknown settings raise (they are a cohort-level
    mistake, not a row-level one).
    """

    chosen = [setting or c.setting or DEFAULT_SETTING for c in cases]
    for s in sorted(set(chosen)):
        priors.setting(s)  # raises with a suggestion
    diagnoses: tuple[str, ...] = ()
    n = len(cases)
    posteriors = np.full((n, 0), np.nan)
    failed: list[tuple[int, str]] = []
    evidence: list[dict[str, str] | None] = []
    for i, case in enumerate(cases):
        try:
            evidence.append(dict(evidence_for(case)))
        except PoemsError as err:
            evidence.append(None)
            failed.append((i, str(err)))
    for s in sorted(set(chosen)):
        engine = _engine(priors, s)
        if not diagnoses:
            diagnoses = tuple(engine.query_states)
            posteriors = np.full((n, len(diagnoses)), np.nan)
        idx = [i for i in range(n) if chosen[i] == s and evidence[i] is not None]
        if not idx:
            continue
        codes = engine.encode([evidence[i] for i in idx])
        out = engine.posterior_batch(codes, on_impossible="nan")
        posteriors[idx] = out
        for j, i in enumerate(idx):
            if np.isnan(out[j, 0]):
                failed.append((i, "findings have probability zero under the network"))
    if positive not in diagnoses and diagnoses:
        raise InputError(
            "--positive",
            positive,
            "a diagnosis state (" + ", ".join(diagnoses) + ")",
            suggest(positive, diagnoses),
        )
    p = posteriors[:, diagnoses.index(positive)] if diagnoses else np.zeros(0)
    return Scores(p, posteriors, diagnoses, tuple(chosen), tuple(sorted(failed)))


@dataclass(frozen=True)
class Evaluation:
    """The evaluation of one cohort: network metrics and per-rule-set performance."""

    label_column: str
    positive: str
    n_rows: int
    n_scored: int
    network: ScoreMetrics
    rules: Mapping[str, RulePerformance]
    settings_used: Mapping[str, int]
    label_counts: Mapping[str, int]
    bad_rows: tuple[BadRow, ...]
    ignored_columns: tuple[tuple[str, str], ...]
    priors_directory: str | None
    scores: np.ndarray = field(repr=False)
    y_true: np.ndarray = field(repr=False)
    verdicts: Mapping[str, tuple[str, ...]] = field(repr=False)
    row_numbers: tuple[int, ...] = field(repr=False)
    row_ids: tuple[str, ...] = field(default=(), repr=False)
    row_labels: tuple[str, ...] = field(default=(), repr=False)

    def to_dict(self, with_rows: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "label_column": self.label_column,
            "positive": self.positive,
            "n_rows": self.n_rows,
            "n_scored": self.n_scored,
            "label_counts": dict(self.label_counts),
            "settings_used": dict(self.settings_used),
            "priors": self.priors_directory,
            "network": _clean(self.network.to_dict()),
            "rules": {k: _clean(v.to_dict()) for k, v in self.rules.items()},
            "indeterminate_counting": (
                "sensitivity/specificity count an indeterminate verdict as negative (not met); "
                "*_determinate leave indeterminate rows out; indeterminate is the rate."
            ),
            "bad_rows": [b.to_dict() for b in self.bad_rows],
            "ignored_columns": [{"column": c, "hint": h} for c, h in self.ignored_columns],
        }
        if with_rows:
            out["rows"] = [
                {
                    "row": r,
                    "id": self.row_ids[i] if self.row_ids else "",
                    "label": self.row_labels[i] if self.row_labels else "",
                    "label_positive": bool(y),
                    "p_positive": float(p),
                    **{k: v[i] for k, v in self.verdicts.items()},
                }
                for i, (r, y, p) in enumerate(
                    zip(self.row_numbers, self.y_true, self.scores, strict=True)
                )
            ]
        return out

    def intervals(self, n_boot: int = 1000) -> dict[str, Any]:
        """AUC and Brier score with 95 % bootstrap intervals (``metrics.bootstrap_metrics``)."""

        return dict(bootstrap_metrics(self.y_true, self.scores, n_boot=n_boot))

    def roc(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fpr, tpr, thresholds) of the network's score (``metrics.roc_curve``)."""

        return roc_curve(self.y_true, self.scores)

    def per_diagnosis(self) -> list[dict[str, Any]]:
        """One row per true diagnosis: count, mean and median P(positive), and for each rule
        set the fraction of rows whose verdict is met (the criteria's hit rate in that group)."""
        labels = np.array(self.row_labels, dtype=object)
        out = []
        for diagnosis in sorted(set(self.row_labels), key=lambda d: -int((labels == d).sum())):
            rows = labels == diagnosis
            row: dict[str, Any] = {
                "diagnosis": diagnosis,
                "n": int(rows.sum()),
                f"mean P({self.positive})": float(self.scores[rows].mean()),
                f"median P({self.positive})": float(np.median(self.scores[rows])),
            }
            for name, calls in self.verdicts.items():
                met = np.array(calls, dtype=object)[rows] == "met"
                row[f"{name}: met"] = float(met.mean())
            out.append(row)
        return out

    def scored_rows(self) -> Any:
        """The scored rows as a pandas frame (row, id, label, P(positive), each verdict)."""
        import pandas as pd

        return pd.DataFrame(self.to_dict(with_rows=True)["rows"])

    def metrics_row(self) -> dict[str, Any]:
        """The headline network metrics (used to put two prior sets side by side)."""
        return {
            "n": self.network.n,
            "prevalence": self.network.prevalence,
            "auc": self.network.auc,
            "brier": self.network.brier,
            "log_loss": self.network.log_loss,
            "ece": self.network.ece,
        }

    def to_markdown(self) -> str:
        net = self.network
        lines = [
            f"Cohort: {self.n_rows} rows, {self.n_scored} scored "
            f"({len(self.bad_rows)} left out); positive = `{self.positive}` "
            f"({net.n_positive} rows, prevalence {net.prevalence:.3f}).",
            "Settings: " + ", ".join(f"{k} ({v})" for k, v in self.settings_used.items()) + ".",
            "",
            "| network metric | value |",
            "|---|---|",
            f"| AUC | {_f(net.auc)} |",
            f"| Brier score | {_f(net.brier)} |",
            f"| log loss (nats, clipped at {net.log_loss_eps:g}) | {_f(net.log_loss)} |",
            f"| expected calibration error | {_f(net.ece)} |",
            "",
            "| rule set | sensitivity (indet. = negative) | specificity (indet. = negative) "
            "| sensitivity (determinate) | specificity (determinate) | indeterminate |",
            "|---|---|---|---|---|---|",
        ]
        for name, r in self.rules.items():
            lines.append(
                f"| {name} | {r.sensitivity.describe()} | {r.specificity.describe()} | "
                f"{r.sensitivity_determinate.describe()} | "
                f"{r.specificity_determinate.describe()} | {r.indeterminate.describe()} |"
            )
        lines += ["", "| bin | n | mean P | observed | 95% CI |", "|---|---|---|---|---|"]
        for b in net.calibration:
            if b.count:
                lines.append(
                    f"| {b.lower:.2f}-{b.upper:.2f} | {b.count} | {_f(b.mean_predicted)} | "
                    f"{_f(b.observed_fraction)} | {_f(b.observed_low)}-{_f(b.observed_high)} |"
                )
        if self.bad_rows:
            lines += ["", f"Rows left out ({len(self.bad_rows)}):"]
            lines += [f"- row {b.row}: {b.message}" for b in self.bad_rows[:20]]
            if len(self.bad_rows) > 20:
                lines.append(f"- ... and {len(self.bad_rows) - 20} more")
        if self.ignored_columns:
            lines += ["", "Columns ignored: " + ", ".join(c for c, _ in self.ignored_columns)]
        return "\n".join(lines) + "\n"


def _f(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.3f}"


def _clean(obj: Any) -> Any:
    if isinstance(obj, float):
        return None if math.isnan(obj) else obj
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def _diagnoses(priors: Priors) -> tuple[str, ...]:
    first = next(iter(priors.settings.values()))
    return tuple(first.base_rates)


def evaluate_table(
    frame: Any,
    label_column: str,
    priors: Priors | None = None,
    *,
    setting: str | None = None,
    positive: str = POSITIVE,
    n_bins: int = 10,
    rule_sets: Sequence[str] | None = None,
) -> Evaluation:
    """Evaluate a cohort table of string cells (as read by :func:`cohort.read_table`).

    The one cohort evaluator: scoring goes through ``model.cohort.score.score_frame``
    (vectorised parsing, criteria and compiled-engine posteriors, with the row path for any
    row it cannot parse plainly), which is what makes 5,000-row cohorts take seconds.
    """

    priors = priors if priors is not None else load_priors()
    columns = [str(c) for c in frame.columns]
    if label_column not in columns:
        raise InputError(
            "--label", label_column, "a column of the cohort", suggest(label_column, columns)
        )
    diagnoses = _diagnoses(priors)
    if positive not in diagnoses:
        raise InputError(
            "--positive",
            positive,
            "a diagnosis state (" + ", ".join(diagnoses) + ")",
            suggest(positive, diagnoses),
        )
    if setting is not None:
        priors.setting(setting)
    names = tuple(rule_sets) if rule_sets else tuple(RULE_SETS)
    labels = np.array([str(x).strip() for x in frame[label_column]], dtype=object)
    features = frame.drop(columns=[label_column])
    bad: list[BadRow] = []
    scored = None
    verdicts: dict[str, np.ndarray] = {}
    for name in names:
        out, _fast = score_frame(features, priors, setting, rule_set=name)
        verdicts[name] = out[f"{name}_verdict"].to_numpy(dtype=object)
        scored = out if scored is None else scored
    assert scored is not None
    errors = scored["error"].to_numpy(dtype=object)
    ids = scored["id"].to_numpy(dtype=object)
    ok = np.ones(len(frame), dtype=bool)
    for i in range(len(frame)):
        rid = str(ids[i]) or None
        if not labels[i]:
            bad.append(BadRow(i + 1, rid, f"{label_column} is empty: a label is needed to score"))
            ok[i] = False
        elif labels[i] not in diagnoses:
            bad.append(
                BadRow(
                    i + 1,
                    rid,
                    f"{label_column} must be a diagnosis state ({', '.join(diagnoses)}). "
                    f"Got {labels[i]!r} instead. {suggest(labels[i], diagnoses)}".rstrip(),
                )
            )
            ok[i] = False
        elif errors[i]:
            bad.append(BadRow(i + 1, rid, str(errors[i]).split(": ", 1)[-1]))
            ok[i] = False
    unknown = sorted({lab for lab in labels if lab and lab not in diagnoses})
    if unknown and not any(lab in diagnoses for lab in labels):
        raise InputError(
            label_column,
            ", ".join(repr(x) for x in unknown[:3]) + (", ..." if len(unknown) > 3 else ""),
            "a column of diagnosis states (" + ", ".join(diagnoses) + ")",
            "Choose the column that holds each patient's diagnosis.",
        )
    if not ok.any():
        raise InputError(
            "cohort",
            "no usable rows",
            "at least one valid row with a diagnosis label",
            f"Check that {label_column!r} holds diagnosis states; see the bad rows with --json.",
        )
    y = labels[ok] == positive
    p = np.clip(scored["posterior_" + positive].to_numpy(dtype=float)[ok], 0.0, 1.0)
    row_setting = (
        [setting] * int(ok.sum())
        if setting
        else [str(s).strip() or DEFAULT_SETTING for s in _column(frame, "setting")[ok]]
    )
    kept = {k: tuple(str(x) for x in v[ok]) for k, v in verdicts.items()}
    return Evaluation(
        label_column=label_column,
        positive=positive,
        n_rows=len(frame),
        n_scored=int(ok.sum()),
        network=score_metrics(y, p, n_bins=n_bins),
        rules={k: rule_performance(y, v) for k, v in kept.items()},
        settings_used=dict(Counter(row_setting)),
        label_counts=dict(Counter(labels[ok].tolist())),
        bad_rows=tuple(bad),
        ignored_columns=tuple(ignored_columns(columns, label_column)),
        priors_directory=priors.directory,
        scores=p,
        y_true=y,
        verdicts=kept,
        row_numbers=tuple(int(i) + 1 for i in np.flatnonzero(ok)),
        row_ids=tuple(str(x) for x in ids[ok]),
        row_labels=tuple(str(x) for x in labels[ok]),
    )


def _column(frame: Any, name: str) -> np.ndarray:
    if name in frame.columns:
        return frame[name].to_numpy(dtype=object)
    return np.full(len(frame), "", dtype=object)
