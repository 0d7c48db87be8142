"""POEMS syndrome decision support: the formal criteria and the posterior, side by side.

Run with ``make run`` (``.venv/bin/streamlit run app.py``). The app only wires: it reads the
sidebar into a :class:`model.case.Case`, calls the core, and renders what the core returns.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from model.case import Case
from model.exceptions import PoemsError
from ui import compute, render
from ui.widgets import case_entry, messages

st.set_page_config(
    page_title="POEMS decision support", page_icon=":material/neurology:", layout="wide"
)


def _assessment(case: Case) -> Any:
    """The core's answer for the case, or ``None`` (with the reason on the page)."""
    if not compute.assessment_available():
        return None
    try:
        return compute.assessment(case.to_json())
    except PoemsError as err:
        st.error(f"The case cannot be assessed: {err}")
        return None


def _why_and_what_next(case: Case, assessment: Any) -> None:
    """Contributions, next-best tests (when the analysis exists) and the what-if table."""
    st.subheader("Why, and what next")
    if assessment.contributions is not None:
        st.markdown("**Why:** what each finding did to the probability")
        render.contributions(assessment)
    if assessment.next_tests is not None:
        st.markdown("**Which test next:** the unassessed findings that would tell the most")
        render.next_tests(assessment)
    st.markdown("**What if** an unassessed finding were present, or absent?")
    try:
        rows = compute.what_if(case.to_json(), assessment.setting)
    except PoemsError as err:
        st.error(f"The what-if table cannot be computed: {err}")
        return
    render.what_if_table(rows, assessment)


def main() -> None:
    entry = case_entry("assessment")
    st.title("POEMS syndrome: criteria and probability")
    render.disclaimer()
    messages(entry)
    case = entry.case
    if case is None:
        return
    if not case.findings:
        st.markdown(
            "Enter what is known in the sidebar and leave the rest *unknown* (not assessed), "
            "or open an example under **Load, save or share a case**. With no findings the "
            "probabilities below are the setting's base rates."
        )
    agreement_slot = st.container()  # filled once the probability is known
    left, right = st.columns([2, 3], gap="large")
    with right:  # the criteria first: they need no network, so they show at once
        st.subheader("Formal criteria")
        if compute.criteria_available():
            render.criteria_panel(compute.criteria_all(case.to_json()), compute.default_rule_set())
        else:
            st.caption("Available when the criteria engine lands.")
    with left:
        st.subheader("Probability")
        with st.spinner("Loading the Bayesian network..."):
            assessment = _assessment(case)
        if assessment is not None:
            render.probability_panel(assessment)
        else:
            st.caption("Available when the Bayesian network lands.")
    if assessment is not None:
        with agreement_slot:
            render.agreement(assessment)
            render.report_downloads(assessment)
        _why_and_what_next(case, assessment)


main()
