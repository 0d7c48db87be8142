"""Draw the core's answers. Every number shown is read from the returned object; nothing is
computed here beyond formatting."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import streamlit as st

from model.analysis.uncertainty import INTERVAL_LABEL, INTERVAL_MEANING
from model.constants import DISCLAIMER as CORE_DISCLAIMER
from model.constants import STATUS_WORDS as CORE_STATUS_WORDS
from model.vocabulary import label

DISCLAIMER = (
    f"**{CORE_DISCLAIMER}** This is a structured second look at the findings "
    "you entered. It does not replace clinical judgement, a haematologist's review, or the "
    "tests it suggests."
)

VERDICT_BADGE: Mapping[str, str] = {
    "met": ":green-badge[criteria met]",
    "not_met": ":gray-badge[criteria not met]",
    "indeterminate": ":orange-badge[indeterminate]",
}
STATUS_WORDS: Mapping[str, str] = {
    **CORE_STATUS_WORDS,
    "inconsistent": "contradicts the case",
}


def percent(p: float) -> str:
    """A probability as the core formats it (one formatter for app, CLI and report)."""
    from model.assessment import percent as core_percent

    return str(core_percent(p))


def diagnosis_label(diagnosis: str) -> str:
    from model.assessment import DIAGNOSIS_LABELS

    return str(DIAGNOSIS_LABELS.get(diagnosis, diagnosis.replace("_", " ")))


def probability_panel(assessment: Any) -> Any:
    """P(POEMS), the base rate and the differential chart.

    Returns the slot where :func:`interval_line` writes the credible interval (it may be
    computed after the rest of the page is drawn).
    """
    st.metric(
        "P(POEMS | findings)",
        percent(assessment.posterior_poems),
        help="Posterior probability from the Bayesian network, given the findings entered.",
    )
    slot = st.empty()
    if assessment.credible_interval is not None:
        interval_line(slot, assessment.credible_interval)
    st.caption(
        f"Base rate before any finding: {percent(assessment.prior_poems)} "
        f"(setting: {assessment.setting_label})."
    )
    differential_chart(assessment)
    return slot


def interval_line(slot: Any, interval: Any) -> None:
    """The 90% credible interval of P(POEMS) from the parameters' uncertainty."""
    if interval is None:
        slot.caption("Credible interval: not available.")
        return
    low, high = interval_bounds(interval)
    draws = getattr(interval, "n_draws", None)
    level = getattr(interval, "level", 0.9)
    source = f" ({draws} parameter draws)" if draws else ""
    slot.markdown(
        f"{level:.0%} credible interval: **{percent(low)} to {percent(high)}**{source}, "
        f"{INTERVAL_LABEL}",
        help=INTERVAL_MEANING,
    )


def differential_chart(assessment: Any) -> None:
    """Posterior of every diagnosis as bars, the setting's base rate as a tick.

    A plain Vega-Lite spec (no altair objects: building those costs tens of milliseconds per
    rerun).
    """
    rows = [
        {
            "diagnosis": f"{diagnosis_label(d)}  {percent(p)}",
            "after": p,
            "base": assessment.prior[d],
            "shown": percent(p),
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
    text = assessment.agreement
    if text.startswith("Disagree"):
        st.warning(text, icon=":material/compare_arrows:")
    else:
        st.info(text, icon=":material/compare_arrows:")
    if assessment.notes:
        with st.expander("How the case was read"):
            for note in assessment.notes:
                st.markdown(f"- {note}")


def report_downloads(assessment: Any, priors: Any) -> None:
    """The one-page report (``model.report.render_report``) for the chart.

    The report is built when the button is clicked, from the assessment itself (it carries
    the contributions, next tests and the interval).
    """
    from model.report import render_report
    from ui.state import file_stem

    name = file_stem(assessment.case.id)

    def build(fmt: str) -> str:
        return str(render_report(assessment, fmt))

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


def interval_bounds(interval: Any) -> tuple[float, float]:
    """(low, high) of a credible interval given as an object or as a pair."""
    if hasattr(interval, "low"):
        return float(interval.low), float(interval.high)
    return float(interval[0]), float(interval[1])


def contributions(assessment: Any, result: Any) -> None:
    """Log-odds waterfall: the base rate, then each observed finding's push, in chain order."""

    rows = [
        {
            "step": "Base rate (setting)",
            "from": result.prior_log_odds,
            "to": result.prior_log_odds,
            "direction": "start",
            "detail": f"prior P(POEMS) {percent(assessment.prior_poems)}",
        }
    ]
    before = result.prior_log_odds
    for item in result.items:
        rows.append(
            {
                "step": f"{item.label}: {item.state.replace('_', ' ')}",
                "from": before,
                "to": item.log_odds_after,
                "direction": "towards POEMS" if item.log_odds_change > 0 else "away from POEMS",
                "detail": f"likelihood ratio {item.likelihood_ratio:.3g}",
            }
        )
        before = item.log_odds_after
    rows.append(
        {
            "step": "After all findings",
            "from": result.posterior_log_odds,
            "to": result.posterior_log_odds,
            "direction": "end",
            "detail": f"P(POEMS) {percent(assessment.posterior_poems)}",
        }
    )
    step = {
        "field": "step",
        "type": "nominal",
        "sort": [r["step"] for r in rows],
        "title": None,
        "axis": {"labelLimit": 320},
    }
    spec = {
        "height": 26 * len(rows) + 40,
        "data": {"values": rows},
        "layer": [
            {
                "mark": {"type": "bar", "height": 14},
                "encoding": {
                    "y": step,
                    "x": {
                        "field": "from",
                        "type": "quantitative",
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
                    "tooltip": [{"field": "step"}, {"field": "detail"}],
                },
            },
            {
                "mark": {"type": "tick", "thickness": 3, "size": 16, "color": "#333333"},
                "encoding": {"y": step, "x": {"field": "to", "type": "quantitative"}},
            },
            {
                "data": {"values": [{"zero": 0}]},
                "mark": {"type": "rule", "strokeDash": [4, 3]},
                "encoding": {"x": {"field": "zero", "type": "quantitative"}},
            },
        ],
    }
    st.vega_lite_chart(spec, width="stretch")
    st.caption(
        "Each bar is one finding's push on the log-odds of POEMS, in the order the network "
        "added them (the order matters when findings share a cause; the pushes always add up "
        "from the base rate to the final answer)."
    )


def next_tests(tests: Any, limit: int = 10) -> None:
    """The unassessed findings that would tell the most, by expected information gain."""

    ranked = list(tests)[:limit]
    if not ranked:
        st.caption("Nothing left to test in the network.")
        return
    rows = []
    for test in ranked:
        states = list(test.p_poems_if)
        rows.append(
            {
                "test": test.label,
                "expected information (bits)": test.expected_entropy_reduction_bits,
                "expected change in P(POEMS)": test.expected_abs_change_poems,
                "chance it is present": test.p_present,
                "P(POEMS) by result": "; ".join(
                    f"{s.replace('_', ' ')}: {percent(test.p_poems_if[s])}" for s in states
                ),
                "chance it settles the seed verdict": test.p_settles_seed,
                "settles it as": "; ".join(
                    f"{v.replace('_', ' ')}: {percent(p)}"
                    for v, p in sorted(test.p_settles_seed_to.items())
                )
                or "-",
            }
        )
    st.dataframe(
        rows,
        hide_index=True,
        key="next_tests_table",
        column_config={
            "expected information (bits)": st.column_config.NumberColumn(format="%.3f"),
            "expected change in P(POEMS)": st.column_config.NumberColumn(format="percent"),
            "chance it is present": st.column_config.NumberColumn(format="percent"),
            "chance it settles the seed verdict": st.column_config.NumberColumn(format="percent"),
        },
    )


def sensitivity(assessment: Any, swings: Any) -> None:
    """One-way sensitivity: P(POEMS) at each end of the parameters that move it most."""
    rows = [
        {
            "parameter": s.key,
            "at low": s.p_at_low,
            "at high": s.p_at_high,
            "range": f"{s.low:.3g} to {s.high:.3g}",
            "kind": s.kind,
            "source": s.source,
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
                        "axis": {"labelLimit": 360},
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
    st.vega_lite_chart(spec, width="stretch")
    st.caption(
        "Each bar spans P(POEMS) with one parameter at the low and at the high end of its "
        "range, everything else at its point value; the dashed line is the current answer. "
        "Try a value on the Priors page to see its effect."
    )


def what_if_table(rows: Any, assessment: Any) -> None:
    """For each unassessed finding: P(POEMS) and the seed verdict if present / if absent."""
    from model.vocabulary import FINDINGS

    st.caption(
        f"Now: P(POEMS) {percent(assessment.posterior_poems)}, seed verdict "
        f"{words(assessment.verdict)}. Each row sets one unassessed finding and leaves "
        "everything else as entered; click a column header to sort. Set the finding in the "
        "sidebar to make it part of the case."
    )
    if not rows:
        st.caption("Every finding is assessed: nothing left to try.")
        return
    data = [
        {
            "finding": label(r.finding),
            "group": str(FINDINGS[r.finding].group.value),
            "P(POEMS) if present": r.if_present.posterior_poems,
            "verdict if present": _outcome_verdict(r.if_present),
            "P(POEMS) if absent": r.if_absent.posterior_poems,
            "verdict if absent": _outcome_verdict(r.if_absent),
        }
        for r in rows
    ]
    bar = st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0)
    st.dataframe(
        data,
        hide_index=True,
        column_config={"P(POEMS) if present": bar, "P(POEMS) if absent": bar},
        key="what_if_table",
    )


def _outcome_verdict(outcome: Any) -> str:
    if outcome.verdict is None:
        return "impossible: " + outcome.reason
    return words(outcome.verdict)


def case_summary(case: Any) -> None:
    """The findings as entered (and what the VEGF value reads as), to check the entry."""
    from model.vocabulary import FINDINGS, Kind

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
            shown = str(value)
        rows.append({"finding": spec.label, "entered": shown, "group": str(spec.group.value)})
    with st.expander("The case as entered"):  # a stable label keeps it open across toggles
        st.caption(f"{len(rows)} findings entered; everything else is not assessed.")
        if rows:
            st.table(rows)


def disclaimer() -> None:
    st.info(DISCLAIMER, icon=":material/info:")


def words(status: str) -> str:
    """A status id in plain words."""
    return STATUS_WORDS.get(status, status.replace("_", " "))


def labels(finding_ids: Iterable[str]) -> str:
    return ", ".join(label(fid) for fid in finding_ids)


def verdict_line(result: Any) -> None:
    """The rule set's verdict as a badge with the rule set's title."""
    badge = VERDICT_BADGE.get(result.verdict, result.verdict)
    st.markdown(f"#### {badge}")
    st.caption(result.title)


def criteria_trace(result: Any) -> None:
    """Every criterion with its status and what satisfied it, then what would decide it."""
    rows = [
        {
            "role": c.role,
            "criterion": c.label,
            "status": words(c.status),
            "because": _because(c),
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
        st.warning(_flag_text(flag), icon=":material/flag:")
    with st.expander("Explanation and source"):
        for line in result.explanation:
            st.markdown(f"- {line}")
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
    from model.criteria import FLAG_TEXT

    return FLAG_TEXT.get(flag, flag.replace("_", " "))


RULE_SET_TAB_KEY = "rule_set_tab"


def criteria_panel(results: Mapping[str, Any], default: str) -> None:
    """Every rule set's verdict in one line; the default rule set's trace first and the
    others one click away in tabs (only the open tab is drawn)."""
    ids = [default, *[r for r in results if r != default]]
    st.markdown(" · ".join(f"{tab_title(rid)}: **{words(results[rid].verdict)}**" for rid in ids))
    tabs = st.tabs([tab_title(rid) for rid in ids], key=RULE_SET_TAB_KEY, on_change="rerun")
    for tab, rid in zip(tabs, ids, strict=True):
        with tab:
            if tab.open:
                verdict_line(results[rid])
                criteria_trace(results[rid])


def tab_title(rule_id: str) -> str:
    """A rule set's short name (stable, so the selected tab survives a new verdict)."""
    return rule_id.replace("_", " ").capitalize()
