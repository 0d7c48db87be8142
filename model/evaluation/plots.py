"""Figures for an evaluation, drawn with matplotlib's object-oriented API on the Agg canvas.

No pyplot and no global backend state: every function builds its own
:class:`~matplotlib.figure.Figure` (safe in a multi-threaded app) and returns it or writes a
PNG. Nothing touches a display. matplotlib is imported when a figure is drawn, so the
commands that import this module and draw nothing (``poems evaluate`` without ``--plot``) do
not pay for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from model.evaluation.metrics import CalibrationBin

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _figure(width: float, height: float) -> Figure:
    """A new figure on its own Agg canvas (no pyplot, no global backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def reliability_figure(
    bins: Sequence[CalibrationBin],
    scores: np.ndarray | None = None,
    y_true: np.ndarray | None = None,
    title: str = "Reliability diagram",
) -> Figure:
    """Observed fraction (95% Wilson interval) against mean predicted probability per bin,
    with the diagonal, and below it a histogram of predictions by true class."""
    fig = _figure(5.5, 6.5)
    ax, hist = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfect calibration")
    full = [b for b in bins if b.count and b.mean_predicted is not None]
    if full:
        x = np.array([b.mean_predicted for b in full], dtype=float)
        yv = np.array([b.observed_fraction for b in full], dtype=float)
        lo = np.array([b.observed_low for b in full], dtype=float)
        hi = np.array([b.observed_high for b in full], dtype=float)
        ax.errorbar(
            x,
            yv,
            yerr=[yv - lo, hi - yv],
            fmt="o-",
            color="C0",
            capsize=3,
            label="observed (95% Wilson CI)",
        )
        for b, xi, yi in zip(full, x, yv, strict=True):
            ax.annotate(
                f"n={b.count}",
                (xi, yi),
                textcoords="offset points",
                xytext=(4, -10),
                fontsize=7,
                color="C0",
            )
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("observed fraction positive")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    if scores is not None and y_true is not None:
        edges = np.linspace(0, 1, 21)
        hist.hist(scores[~y_true], bins=edges, alpha=0.6, label="negatives", color="C1")
        hist.hist(scores[y_true], bins=edges, alpha=0.6, label="positives", color="C0")
        hist.set_yscale("log")
        hist.legend(fontsize=7)
    hist.set_xlabel("predicted P(POEMS)")
    hist.set_ylabel("rows (log)")
    fig.tight_layout()
    return fig


def save_reliability_png(
    path: str | Path,
    bins: Sequence[CalibrationBin],
    scores: np.ndarray | None = None,
    y_true: np.ndarray | None = None,
    title: str = "Reliability diagram",
) -> Path:
    """Write the reliability diagram to ``path`` (PNG) and return the path."""
    out = Path(path)
    fig = reliability_figure(bins, scores, y_true, title)
    fig.savefig(out, dpi=120)
    return out


def roc_figure(
    fpr: np.ndarray, tpr: np.ndarray, auc_text: str = "", title: str = "ROC curve"
) -> Figure:
    """The ROC curve (true- against false-positive rate) with the chance diagonal."""
    fig = _figure(5.5, 5.0)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="chance")
    ax.step(
        fpr,
        tpr,
        where="post",
        color="C0",
        label=f"network{': AUC ' + auc_text if auc_text else ''}",
    )
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_xlabel("false-positive rate (1 - specificity)")
    ax.set_ylabel("true-positive rate (sensitivity)")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig
