"""The trajectory chart of a walked case: P(POEMS) per step with its interval and verdicts.

Built with matplotlib's object-oriented API on the Agg canvas (no pyplot, no display), so the
app only shows the returned figure.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from model.teaching.walk import Step

FLOOR = 1e-6
"""The logit axis shows 0.0001 % to 99.9999 %; values beyond are drawn at the edge."""

TICKS = (1e-5, 1e-3, 0.1, 0.5, 0.9, 0.999, 0.99999)

VERDICT_MARKERS = {"met": ("o", "C2"), "not_met": ("X", "C3"), "indeterminate": ("s", "C7")}


def trajectory_figure(steps: Sequence[Step], title: str = "") -> Figure:
    """P(POEMS) after each step (log-odds axis), the 90 % interval when present, and the seed
    verdict as the marker (circle met, cross not met, square indeterminate)."""
    fig = Figure(figsize=(7.5, 3.6))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    x = list(range(1, len(steps) + 1))
    p = [_clip(s.p_poems) for s in steps]
    ax.plot(x, p, color="C0", linewidth=1.5, zorder=1)
    lows = [_clip(s.interval[0]) if s.interval else None for s in steps]
    highs = [_clip(s.interval[1]) if s.interval else None for s in steps]
    if all(v is not None for v in lows + highs):
        ax.fill_between(x, lows, highs, color="C0", alpha=0.18, label="90% interval")  # type: ignore[arg-type]
    for verdict, (marker, color) in VERDICT_MARKERS.items():
        xs = [xi for xi, s in zip(x, steps, strict=True) if s.verdict == verdict]
        ys = [_clip(s.p_poems) for s in steps if s.verdict == verdict]
        if xs:
            ax.scatter(
                xs,
                ys,
                marker=marker,
                color=color,
                s=60,
                zorder=2,
                label=f"criteria {verdict.replace('_', ' ')}",
            )
    ax.set_yscale("logit")
    ax.set_ylim(FLOOR, 1 - FLOOR)
    ax.set_yticks(TICKS, [f"{t * 100:g}%" for t in TICKS])
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xticks(x, [f"{i}" for i in x])
    ax.set_xlabel("work-up step")
    ax.set_ylabel("P(POEMS)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def _clip(p: float) -> float:
    return min(max(p, FLOOR), 1 - FLOOR)
