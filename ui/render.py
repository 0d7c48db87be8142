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
            "satisfied by": labels(c.satisfied_by) or "—",
            "why": c.note,
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
