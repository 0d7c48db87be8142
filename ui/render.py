"""Draw the core's answers. Every number shown is read from the returned object; nothing is
computed here beyond formatting."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import streamlit as st

from model.vocabulary import label

DISCLAIMER = (
    "**Decision support, not a diagnosis.** This is a structured second look at the findings "
    "you entered. It does not replace clinical judgement, a haematologist's review, or the "
    "tests it suggests."
)

VERDICT_BADGE: Mapping[str, str] = {
    "met": ":green-badge[criteria met]",
    "not_met": ":gray-badge[criteria not met]",
    "indeterminate": ":orange-badge[indeterminate]",
}
STATUS_WORDS: Mapping[str, str] = {
    "met": "met",
    "not_met": "not met",
    "indeterminate": "indeterminate",
    "inconsistent": "contradicts the case",
}


def percent(p: float) -> str:
    """A probability as the core formats it (one formatter for app, CLI and report)."""
    from model.assessment import percent as core_percent

    return str(core_percent(p))


def diagnosis_label(diagnosis: str) -> str:
    from model.assessment import DIAGNOSIS_LABELS

    return str(DIAGNOSIS_LABELS.get(diagnosis, diagnosis.replace("_", " ")))


def probability_panel(assessment: Any) -> None:
    """P(POEMS) with its interval, the base rate, and the differential chart."""
    interval = assessment.credible_interval
    st.metric(
        "P(POEMS | findings)",
        percent(assessment.posterior_poems),
        help="Posterior probability from the Bayesian network, given the findings entered.",
    )
    if interval is not None:
        low, high = interval_bounds(interval)
        st.markdown(f"90% credible interval: **{percent(low)} to {percent(high)}**")
    else:
        st.caption("Credible interval: available when the uncertainty analysis lands.")
    st.caption(
        f"Base rate before any finding: {percent(assessment.prior_poems)} "
        f"(setting: {assessment.setting_label})."
    )
    differential_chart(assessment)


def differential_chart(assessment: Any) -> None:
    """Posterior of every diagnosis as bars, the setting's base rate as a tick."""
    import altair as alt

    rows = [
        {
            "diagnosis": diagnosis_label(d),
            "after findings": p,
            "base rate": assessment.prior[d],
            "shown": percent(p),
        }
        for d, p in assessment.differential
    ]
    order = [r["diagnosis"] for r in rows]
    base = alt.Chart(alt.Data(values=rows)).encode(
        y=alt.Y("diagnosis:N", sort=order, title=None, axis=alt.Axis(labelLimit=220))
    )
    x_scale = alt.Scale(domain=[0, 1])
    bars = base.mark_bar(color="#4c78a8").encode(
        x=alt.X("after findings:Q", scale=x_scale, axis=alt.Axis(format="%"), title="probability"),
        tooltip=["diagnosis:N", "shown:N"],
    )
    ticks = base.mark_tick(color="#e45756", thickness=2, size=18).encode(
        x=alt.X("base rate:Q", scale=x_scale)
    )
    labels = base.mark_text(align="left", dx=4).encode(
        x=alt.X("after findings:Q", scale=x_scale), text="shown:N"
    )
    st.altair_chart((bars + ticks + labels).properties(height=240), width="stretch")
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


def report_downloads(assessment: Any) -> None:
    """The one-page report (``model.report.render_report``) for the chart."""
    from model.report import render_report
    from ui.state import file_stem

    name = file_stem(assessment.case.id)
    left, right, _ = st.columns([1, 1, 2])
    left.download_button(
        "One-page report (HTML)",
        render_report(assessment, "html"),
        file_name=f"{name}-report.html",
        mime="text/html",
        on_click="ignore",
        icon=":material/description:",
    )
    right.download_button(
        "Report (Markdown)",
        render_report(assessment, "markdown"),
        file_name=f"{name}-report.md",
        mime="text/markdown",
        on_click="ignore",
    )


def interval_bounds(interval: Any) -> tuple[float, float]:
    """(low, high) of a credible interval given as an object or as a pair."""
    if hasattr(interval, "low"):
        return float(interval.low), float(interval.high)
    return float(interval[0]), float(interval[1])


def contributions(assessment: Any) -> None:
    """Log-odds waterfall: the base rate, then each observed finding's push, in chain order."""
    import altair as alt

    from model.analysis import finding_of

    result = assessment.contributions
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
                "step": f"{label(finding_of(item.node))}: {item.state.replace('_', ' ')}",
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
    order = [r["step"] for r in rows]
    colours = alt.Scale(
        domain=["towards POEMS", "away from POEMS", "start", "end"],
        range=["#4c78a8", "#e45756", "#333333", "#333333"],
    )
    base = alt.Chart(alt.Data(values=rows)).encode(
        y=alt.Y("step:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    )
    bars = base.mark_bar(height=14).encode(
        x=alt.X("from:Q", title="log-odds of POEMS (0 = 50 %, +2.2 = 90 %, -2.2 = 10 %)"),
        x2="to:Q",
        color=alt.Color("direction:N", scale=colours, legend=alt.Legend(title=None, orient="top")),
        tooltip=["step:N", "detail:N"],
    )
    points = base.mark_tick(thickness=3, size=16, color="#333333").encode(x="to:Q")
    zero = alt.Chart(alt.Data(values=[{"x": 0}])).mark_rule(strokeDash=[4, 3]).encode(x="x:Q")
    height = 26 * len(rows) + 40
    st.altair_chart((bars + points + zero).properties(height=height), width="stretch")
    st.caption(
        "Each bar is one finding's push on the log-odds of POEMS, in the order the network "
        "added them (the order matters when findings share a cause; the pushes always add up "
        "from the base rate to the final answer)."
    )


def next_tests(assessment: Any, limit: int = 8) -> None:
    """The unassessed findings that would tell the most, by expected information gain."""
    from model.analysis import finding_of

    ranked = list(assessment.next_tests)[:limit]
    if not ranked:
        st.caption("Nothing left to test in the network.")
        return
    rows = []
    for test in ranked:
        states = list(test.p_poems_if)
        rows.append(
            {
                "test": label(finding_of(test.node)),
                "expected information (bits)": test.expected_entropy_reduction_bits,
                "expected change in P(POEMS)": test.expected_abs_change_poems,
                "chance it is present": test.p_present,
                "P(POEMS) by result": "; ".join(
                    f"{s.replace('_', ' ')}: {percent(test.p_poems_if[s])}" for s in states
                ),
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
        },
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


def criteria_panel(results: Mapping[str, Any], default: str) -> None:
    """The default rule set first; the other rule sets one click away in tabs."""
    ids = [default, *[r for r in results if r != default]]
    tabs = st.tabs([_tab_title(rid, results[rid]) for rid in ids])
    for tab, rid in zip(tabs, ids, strict=True):
        with tab:
            verdict_line(results[rid])
            criteria_trace(results[rid])


def _tab_title(rule_id: str, result: Any) -> str:
    return f"{rule_id.replace('_', ' ').capitalize()}: {words(result.verdict)}"
