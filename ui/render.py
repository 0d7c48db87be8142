"""Draw the core's answers. Every number shown is read from the returned object; nothing is
computed here beyond formatting."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from model.analysis.uncertainty import INTERVAL_MEANING
from model.constants import DISCLAIMER as CORE_DISCLAIMER
from model.criteria import DEFAULT_RULE_SET, FLAG_TEXT
from model.formatting import (
    clinical_text,
    diagnosis_label,
    interval_text,
    parameter_label,
    percent,
    posterior_text,
    probability,
    rule_set_name,
    state_words,
)
from model.report import NO_DECISIVE_TEST, decisive_tests, render_report
from model.vocabulary import FINDINGS, Kind, label
from ui.state import file_stem

DISCLAIMER = (
    f"**{CORE_DISCLAIMER}** A second look at the findings entered; it does not replace "
    "clinical judgement or a haematologist's review."
)

VERDICT_BADGE: Mapping[str, str] = {
    "met": ":green-badge[criteria met]",
    "not_met": ":gray-badge[criteria not met]",
    "indeterminate": ":orange-badge[indeterminate]",
}
METRIC_LABEL = "P(POEMS syndrome | findings)"


def words(status: str) -> str:
    """A status id in plain words."""
    return state_words(status)


def interval_bounds(interval: Any) -> tuple[float, float]:
    """(low, high) of a credible interval given as an object or as a pair."""
    if hasattr(interval, "low"):
        return float(interval.low), float(interval.high)
    return float(interval[0]), float(interval[1])


def headline(assessment: Any) -> str:
    """P(POEMS) as shown in the metric: rounded to what its credible interval supports."""
    interval = assessment.credible_interval
    bounds = None if interval is None else interval_bounds(interval)
    return probability(assessment.posterior_poems, bounds)


INTERVAL_PENDING = "90% credible interval: being computed…"
"""Shown under the point estimate while the interval's parameter draws are prepared."""


def answer(assessment: Any, default: str, *, interval_pending: bool = False) -> None:
    """The answer in one band: P(POEMS) with its interval, every verdict, the agreement.

    ``interval_pending``: the assessment is the point estimate alone (``analyses=False``) and
    the interval is on its way; the caption says so instead of "not available".
    """
    left, right = st.columns([1, 2], gap="medium")
    with left:
        headline_block(headline(assessment), stage="point" if interval_pending else "")
        if interval_pending and assessment.credible_interval is None:
            st.caption(INTERVAL_PENDING)
        else:
            interval_line(st.empty(), assessment.credible_interval)
    with right:
        verdicts(assessment.criteria, default)
        agreement(assessment)


PENDING_VALUE = "…"
"""The metric's value while P(POEMS) is being computed (never an empty heading)."""


HEADLINE_KEY = "poems_headline"
"""Key of the container holding P(POEMS) (the page gives it the CSS class
``st-key-poems_headline``; the browser tests and ``scripts/measure_app.py`` find it so)."""
HEADLINE_HELP = "Posterior probability from the Bayesian network, given the findings entered."


def headline_block(value: str, help_text: str = HEADLINE_HELP, stage: str = "") -> None:
    """P(POEMS) in large type under its label; ``stage`` ("pending", "point") names a block
    drawn before the final one in the same run (its key gets the suffix ``_<stage>``).

    A heading, not ``st.metric``: a new browser session loads the metric's code separately,
    1.5 to 3 s after the rest of the page's text is drawn (measured with
    ``scripts/measure_app.py``), and the answer must not be the last thing to appear.
    """
    with st.container(key=f"{HEADLINE_KEY}_{stage}" if stage else HEADLINE_KEY, gap="small"):
        st.caption(METRIC_LABEL)
        st.header(value, anchor=False, help=help_text)


def answer_pending(results: Mapping[str, Any], default: str) -> None:
    """The answer band before P(POEMS) is known: the verdicts (they need no network) and
    P(POEMS) marked as being computed, laid out as :func:`answer` will fill it."""
    left, right = st.columns([1, 2], gap="medium")
    with left:
        headline_block(PENDING_VALUE, "Being computed: loading the network.", "pending")
    with right:
        verdicts(results, default)


def verdicts(results: Mapping[str, Any], default: str) -> None:
    """Every rule set's verdict on one line, the default first."""
    ids = [default, *[r for r in results if r != default]]
    st.markdown(" · ".join(f"{tab_title(rid)}: **{words(results[rid].verdict)}**" for rid in ids))


def probability_panel(assessment: Any) -> None:
    """The base rate and the differential chart."""
    st.caption(
        f"Base rate before any finding: {percent(assessment.prior_poems)} "
        f"(setting: {assessment.setting_label})."
    )
    differential_chart(assessment)


def interval_line(slot: Any, interval: Any) -> None:
    """The 90% credible interval of P(POEMS) from the parameters' uncertainty."""
    if interval is None:
        slot.caption("Credible interval: not available.")
        return
    low, high = interval_bounds(interval)
    draws = getattr(interval, "n_draws", None)
    level = getattr(interval, "level", 0.9)
    source = f" From {draws} parameter draws." if draws else ""
    slot.markdown(
        f"{level:.0%} credible interval: **{interval_text(low, high)}**",
        help=INTERVAL_MEANING + source,  # opens with INTERVAL_LABEL: what the interval shows
    )


def differential_chart(assessment: Any) -> None:
    """Posterior of every diagnosis as bars, the setting's base rate as a tick.

    A plain Vega-Lite spec (no altair objects: building those costs tens of milliseconds per
    rerun).
    """
    interval = assessment.credible_interval
    bounds = None if interval is None else interval_bounds(interval)
    rows = [
        {
            "diagnosis": f"{diagnosis_label(d)}  {posterior_text(d, p, bounds)}",
            "after": p,
            "base": assessment.prior[d],
            "shown": posterior_text(d, p, bounds),
            "base_shown": percent(assessment.prior[d]),
        }
        for d, p in assessment.differential
    ]
    y = {
        "field": "diagnosis",
        "type": "nominal",
        "sort": [r["diagnosis"] for r in rows],
        "title": None,
        "axis": {"labelLimit": 260, "labelFontSize": 12},
    }
    x_scale = {"domain": [0, 1]}
    spec = {
        "height": 240,
        "data": {"values": rows},
        "encoding": {"y": y},
        "layer": [
            {
                "mark": {"type": "bar", "color": "#4c78a8"},
                "encoding": {
                    "x": {
                        "field": "after",
                        "type": "quantitative",
                        "scale": x_scale,
                        "axis": {"format": "%"},
                        "title": "probability",
                    },
                    "tooltip": [
                        {"field": "diagnosis"},
                        {"field": "shown", "title": "after findings"},
                        {"field": "base_shown", "title": "base rate"},
                    ],
                },
            },
            {
                "mark": {"type": "tick", "color": "#e45756", "thickness": 2, "size": 18},
                "encoding": {"x": {"field": "base", "type": "quantitative", "scale": x_scale}},
            },
        ],
    }
    st.vega_lite_chart(spec, width="stretch")
    st.caption("Bars: probability after the findings. Red ticks: the setting's base rate.")


def agreement(assessment: Any) -> None:
    """The assessment's plain words on whether criteria and probability agree."""
    text = clinical_text(assessment.agreement)
    if text.startswith("Disagree"):
        st.warning(text, icon=":material/compare_arrows:")
    else:
        st.info(text, icon=":material/compare_arrows:")
    checks = tuple(assessment.checks)
    for check in checks:  # findings that are possible together but suspicious (by label)
        st.warning(clinical_text(check), icon=":material/fact_check:")
    notes = [n for n in assessment.notes if n not in checks]
    if notes:
        with st.expander("How the case was read"):
            for note in notes:
                st.markdown(f"- {clinical_text(note)}")


def report_downloads(assessment: Any, priors: Any) -> None:
    """The one-page report (``model.report.render_report``) for the chart.

    The report is built when the button is clicked, from the assessment itself (it carries
    the contributions, next tests and the interval).
    """

    name = file_stem(assessment.case.id)

    def build(fmt: str) -> str:
        return str(render_report(assessment, fmt, generated_at=datetime.now(UTC)))

    left, right, _ = st.columns([1, 1, 2])
    left.download_button(
        "One-page report (HTML)",
        lambda: build("html"),
        file_name=f"{name}-report.html",
        mime="text/html",
        on_click="ignore",
        icon=":material/description:",
    )
    right.download_button(
        "Report (Markdown)",
        lambda: build("markdown"),
        file_name=f"{name}-report.md",
        mime="text/markdown",
        on_click="ignore",
    )


ROW_PX = 30


def contribution_rows(assessment: Any, result: Any) -> list[dict[str, Any]]:
    """One row per bar of the *Why* chart, each with its label and its number."""
    rows = [
        {
            "step": f"Base rate ({percent(assessment.prior_poems)})",
            "from": result.prior_log_odds,
            "to": result.prior_log_odds,
            "direction": "start",
            "number": f"P(POEMS) {percent(assessment.prior_poems)}",
        }
    ]
    before = result.prior_log_odds
    for item in result.items:
        change = float(item.log_odds_change)
        rows.append(
            {
                "step": f"{item.label}: {state_words(item.state)}",
                "from": before,
                "to": item.log_odds_after,
                "direction": "towards POEMS" if change > 0 else "away from POEMS",
                "number": f"{change:+.1f} (odds x{item.likelihood_ratio:.2g})",
            }
        )
        before = item.log_odds_after
    rows.append(
        {
            "step": f"After all findings ({headline(assessment)})",
            "from": result.posterior_log_odds,
            "to": result.posterior_log_odds,
            "direction": "end",
            "number": f"P(POEMS) {headline(assessment)}",
        }
    )
    return rows


def contributions(assessment: Any, result: Any) -> None:
    """Log-odds waterfall: the base rate, then each observed finding's push, in chain order.

    Every bar carries its label on the axis and its number beside it (log-odds change and
    the odds factor); the chart is tall enough that no label is dropped.
    """
    rows = contribution_rows(assessment, result)
    finite = [v for r in rows for v in (r["from"], r["to"]) if abs(v) < 1e9]
    low, high = min([*finite, 0.0]), max([*finite, 0.0])
    pad = max(1.0, 0.35 * (high - low))  # room for the numbers at the bar ends
    step = {
        "field": "step",
        "type": "nominal",
        "sort": [r["step"] for r in rows],
        "title": None,
        "axis": {"labelLimit": 340, "labelOverlap": False, "labelFontSize": 12},
    }
    x_scale = {"domain": [low - 0.1, high + pad], "nice": False, "clamp": True}
    height = ROW_PX * len(rows) + 50
    spec = {
        "height": height,
        "data": {"values": rows},
        "encoding": {"y": step},
        "layer": [
            {
                "mark": {"type": "bar", "height": 16},
                "encoding": {
                    "x": {
                        "field": "from",
                        "type": "quantitative",
                        "scale": x_scale,
                        "title": "log-odds of POEMS (0 = 50 %, +2.2 = 90 %, -2.2 = 10 %)",
                    },
                    "x2": {"field": "to"},
                    "color": {
                        "field": "direction",
                        "type": "nominal",
                        "scale": {
                            "domain": ["towards POEMS", "away from POEMS", "start", "end"],
                            "range": ["#4c78a8", "#e45756", "#333333", "#333333"],
                        },
                        "legend": {"title": None, "orient": "top"},
                    },
                    "tooltip": [{"field": "step"}, {"field": "number"}],
                },
            },
            {
                "mark": {"type": "tick", "thickness": 3, "size": 18, "color": "#333333"},
                "encoding": {"x": {"field": "to", "type": "quantitative", "scale": x_scale}},
            },
            {
                "transform": [{"calculate": "max(datum['from'], datum['to'])", "as": "end"}],
                "mark": {"type": "text", "align": "left", "dx": 6, "fontSize": 12},
                "encoding": {
                    "x": {"field": "end", "type": "quantitative", "scale": x_scale},
                    "text": {"field": "number"},
                },
            },
            {
                "data": {"values": [{"zero": 0}]},
                "mark": {"type": "rule", "strokeDash": [4, 3]},
                "encoding": {"x": {"field": "zero", "type": "quantitative", "scale": x_scale}},
            },
        ],
    }
    st.vega_lite_chart(spec, width="stretch", height=height, key="why_chart")
    st.caption(
        "Each bar is one finding's push on the log-odds of POEMS (the number beside it, and "
        "the factor it multiplies the odds by), in the order the network added them. The "
        "order matters when findings share a cause; the pushes always add up from the base "
        "rate to the final answer. The agreement text names the largest of these pushes."
    )


def next_tests(tests: Any, limit: int = 8) -> None:
    """The unassessed findings that could change the answer, with the decisive columns first.

    Reads whatever fields each test carries (a missing one shows as an empty cell, never
    "None"); says so plainly when no remaining test changes the answer.
    """

    useful = decisive_tests(tests, limit)
    if not useful:
        st.success(NO_DECISIVE_TEST, icon=":material/check_circle:")
        return
    rows = []
    for test in useful:
        outcomes = getattr(test, "p_poems_if", None) or {}
        settles_to = getattr(test, "p_settles_seed_to", None) or {}
        settles = getattr(test, "p_settles_seed", None)
        rows.append(
            {
                "test": str(getattr(test, "label", "") or label(str(test.finding))),
                "P(POEMS) by result": "; ".join(
                    f"{state_words(s)}: {percent(p)}" for s, p in outcomes.items()
                ),
                "settles the criteria": "" if settles is None else percent(settles),
                "as": "; ".join(f"{words(v)} {percent(p)}" for v, p in sorted(settles_to.items())),
                "expected change": percent(getattr(test, "expected_abs_change_poems", 0.0)),
            }
        )
    st.dataframe(
        rows,
        hide_index=True,
        key="next_tests_table",
        width="stretch",
        column_config={
            "test": st.column_config.TextColumn(width="medium"),
            "P(POEMS) by result": st.column_config.TextColumn(width="medium"),
            "settles the criteria": st.column_config.TextColumn(
                width="small", help="Chance the test settles the default rule set's verdict."
            ),
            "as": st.column_config.TextColumn(width="small"),
            "expected change": st.column_config.TextColumn(
                width="small", help="Expected absolute change in P(POEMS)."
            ),
        },
    )
    st.caption(
        "Tests that would move P(POEMS) by at least one percentage point on average, or could "
        "settle the default rule set's verdict, ranked by expected information."
    )


def sensitivity(assessment: Any, swings: Any) -> None:
    """One-way sensitivity: P(POEMS) at each end of the parameters that move it most."""
    rows = [
        {
            "parameter": parameter_label(s.key),
            "at low": s.p_at_low,
            "at high": s.p_at_high,
            "range": f"{s.low:.3g} to {s.high:.3g}",
            "kind": str(s.kind),
            "source": "assumption" if str(s.source) == "ASSUMPTION" else str(s.source),
        }
        for s in swings
    ]
    if not rows:
        st.caption("No parameter moves P(POEMS) for this case.")
        return
    spec = {
        "height": 24 * len(rows) + 40,
        "data": {"values": rows},
        "layer": [
            {
                "mark": {"type": "bar", "height": 12, "color": "#9ecae9"},
                "encoding": {
                    "y": {
                        "field": "parameter",
                        "type": "nominal",
                        "sort": None,
                        "title": None,
                        "axis": {"labelLimit": 360, "labelOverlap": False},
                    },
                    "x": {
                        "field": "at low",
                        "type": "quantitative",
                        "axis": {"format": "%"},
                        "title": "P(POEMS) across the parameter's range",
                    },
                    "x2": {"field": "at high"},
                    "tooltip": [
                        {"field": "parameter"},
                        {"field": "range"},
                        {"field": "kind"},
                        {"field": "source"},
                    ],
                },
            },
            {
                "data": {"values": [{"now": assessment.posterior_poems}]},
                "mark": {"type": "rule", "color": "#333333", "strokeDash": [4, 3]},
                "encoding": {"x": {"field": "now", "type": "quantitative"}},
            },
        ],
    }
    st.vega_lite_chart(spec, width="stretch", height=24 * len(rows) + 40)
    st.caption(
        "Each bar spans P(POEMS) with one parameter at the low and at the high end of its "
        "range, everything else at its point value; the dashed line is the current answer. "
        "Try a value on the Priors page to see its effect."
    )


def what_if_rows(assessment: Any) -> list[dict[str, Any]]:
    """For each unassessed yes/no finding: P(POEMS) and the default verdict if present or
    absent, read from the assessment's next tests (nothing recomputed), largest effect
    first."""
    now = assessment.posterior_poems
    rows = []
    for test in assessment.next_tests or ():
        outcomes = getattr(test, "p_poems_if", None) or {}
        verdict_if = getattr(test, "seed_verdict_if", None) or {}
        if set(outcomes) != {"present", "absent"}:
            continue
        swing = max(abs(outcomes["present"] - now), abs(outcomes["absent"] - now))
        rows.append(
            {
                "finding": str(getattr(test, "label", "") or label(test.finding)),
                "P(POEMS) if present": outcomes["present"],
                "verdict if present": words(verdict_if.get("present", "")) or "-",
                "P(POEMS) if absent": outcomes["absent"],
                "verdict if absent": words(verdict_if.get("absent", "")) or "-",
                "_swing": swing,
            }
        )
    rows.sort(key=lambda r: -float(r["_swing"]))
    for row in rows:
        del row["_swing"]
    return rows


def what_if_table(assessment: Any) -> None:
    """The what-if table, drawn from the assessment."""
    st.caption(
        f"Now: P(POEMS) {headline(assessment)}, {rule_set_name(DEFAULT_RULE_SET)} "
        f"verdict {words(assessment.verdict)}. Each row sets one unassessed finding and "
        "leaves everything else as entered; the largest effects come first. Set the finding "
        "in the sidebar to make it part of the case."
    )
    rows = what_if_rows(assessment)
    if not rows:
        st.caption("Every finding is assessed: nothing left to try.")
        return
    bar = st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0)
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        column_config={"P(POEMS) if present": bar, "P(POEMS) if absent": bar},
        key="what_if_table",
    )


def case_summary(case: Any) -> None:
    """The findings as entered (and what the VEGF value reads as), to check the entry."""

    rows = []
    for fid, spec in FINDINGS.items():
        value = case.entered(fid)
        if value is None:
            continue
        if spec.kind is Kind.MEASUREMENT:
            shown = case.vegf.describe()
        elif spec.kind is Kind.NUMBER:
            shown = f"{case.number(fid):g} {spec.unit}"
        else:
            shown = state_words(value)
        group = str(spec.group.value).replace("_", " ")
        rows.append({"finding": spec.label, "entered": shown, "group": group})
    with st.expander("The case as entered"):  # a stable label keeps it open across toggles
        st.caption(f"{len(rows)} findings entered; everything else is not assessed.")
        if rows:
            st.table(rows)


_TIGHT_TOP = "<style>[data-testid='stMainBlockContainer']{padding-top:2.5rem}</style>"
"""Less empty space above the title, so the answer fits the first screen (static CSS only)."""


def disclaimer() -> None:
    st.html(_TIGHT_TOP)
    st.info(DISCLAIMER, icon=":material/info:")


def labels(finding_ids: Iterable[str]) -> str:
    return ", ".join(label(fid) for fid in finding_ids)


def verdict_line(result: Any) -> None:
    """The rule set's verdict as a badge with the rule set's title."""
    badge = VERDICT_BADGE.get(result.verdict, result.verdict)
    st.markdown(f"#### {badge}")
    st.caption(clinical_text(result.title))


def criteria_trace(result: Any) -> None:
    """Every criterion with its status and what satisfied it, then what would decide it."""
    rows = [
        {
            "role": str(c.role),
            "criterion": c.label,
            "status": words(c.status),
            "because": clinical_text(_because(c)),
        }
        for c in result.criteria
    ]
    st.table(rows)
    if result.could_change_with:
        st.markdown("**What would decide it** (each finding alone)")
        decide = [
            {
                "finding": label(c["finding"]),
                "if present": words(c["if_present"]),
                "if absent": words(c["if_absent"]),
            }
            for c in result.could_change_with
        ]
        st.table(decide)
    for flag in result.flags:
        st.warning(clinical_text(_flag_text(flag)), icon=":material/flag:")
    with st.expander("Explanation and source"):
        for line in result.explanation:
            st.markdown(f"- {clinical_text(line)}")
        citation = result.citation
        link = f"https://doi.org/{citation.doi}" if citation.doi else citation.url
        st.caption(f"Source: {citation.text}. {link}")


def _because(criterion: Any) -> str:
    """What satisfied a criterion, and the engine's one-line note."""
    parts = []
    if criterion.satisfied_by:
        parts.append(labels(criterion.satisfied_by))
    if criterion.note:
        parts.append(criterion.note)
    return "; ".join(parts) or "—"


def _flag_text(flag: str) -> str:
    return FLAG_TEXT.get(flag, flag.replace("_", " "))


RULE_SET_TAB_KEY = "rule_set_tab"


def criteria_panel(results: Mapping[str, Any], default: str) -> None:
    """The default rule set's trace first and the others one click away in tabs (only the
    open tab is drawn)."""
    ids = [default, *[r for r in results if r != default]]
    tabs = st.tabs([tab_title(rid) for rid in ids], key=RULE_SET_TAB_KEY, on_change="rerun")
    for tab, rid in zip(tabs, ids, strict=True):
        with tab:
            if tab.open:
                verdict_line(results[rid])
                criteria_trace(results[rid])


def tab_title(rule_id: str) -> str:
    """A rule set's short name (stable, so the selected tab survives a new verdict)."""
    return rule_set_name(rule_id)
