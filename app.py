"""POEMS syndrome decision support: the formal criteria and the posterior, side by side.

Run with ``make run`` (``.venv/bin/streamlit run app.py``). The app only wires: it reads the
sidebar into a :class:`model.case.Case`, calls the core, and renders what the core returns.
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from model.case import Case
from model.exceptions import PoemsError
from ui import active_priors, compute, render
from ui.state import plain
from ui.widgets import case_entry, messages

RUN_SECONDS_KEY = "_run_seconds"
ANSWER_SECONDS_KEY = "_answer_seconds"  # P(POEMS) and the verdict are on the page

st.set_page_config(
    page_title="POEMS decision support", page_icon=":material/neurology:", layout="wide"
)


def _assessment(case: Case) -> Any:
    """The core's answer for the case, or ``None`` (with the reason on the page)."""
    try:
        return compute.assessment(case.to_json())
    except PoemsError as err:
        st.error(f"The case cannot be assessed: {plain(err)}")
        return None


ANALYSIS_TAB_KEY = "analysis_tab"
TAB_NEXT = "Which test next"
TAB_WHY = "Why: what moved it"
TAB_WHAT_IF = "What if"
TAB_SENSITIVITY = "Which numbers matter"


def _why_and_what_next(case: Case, assessment: Any) -> None:
    """Next-best tests, contributions, the what-if table and sensitivity, all carried by the
    assessment except the what-if table, which is computed only when its tab is open."""
    st.subheader("Why, and what next")
    names = [TAB_NEXT, TAB_WHY, TAB_WHAT_IF, TAB_SENSITIVITY]
    tabs = dict(zip(names, st.tabs(names, key=ANALYSIS_TAB_KEY, on_change="rerun"), strict=True))
    if tabs[TAB_NEXT].open:
        with tabs[TAB_NEXT]:
            render.next_tests(assessment.next_tests)
    if tabs[TAB_WHY].open:
        with tabs[TAB_WHY]:
            render.contributions(assessment, assessment.contributions)
    if tabs[TAB_WHAT_IF].open:
        with tabs[TAB_WHAT_IF]:
            try:
                render.what_if_table(
                    compute.what_if(case.to_json(), assessment.setting), assessment
                )
            except PoemsError as err:
                st.error(f"The what-if table cannot be computed for the case: {plain(err)}")
    if tabs[TAB_SENSITIVITY].open:
        with tabs[TAB_SENSITIVITY]:
            render.sensitivity(assessment, assessment.sensitivity)


def main() -> None:
    entry = case_entry("assessment")
    st.title("POEMS syndrome: criteria and probability")
    render.disclaimer()
    priors = active_priors.badge()  # the session's prior set, used by every call below
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
    render.case_summary(case)
    agreement_slot = st.container()  # filled once the probability is known
    left, right = st.columns([2, 3], gap="large")
    assessment = None
    if compute.network_warm():  # one call answers both columns
        assessment = _assessment(case)
    with right:
        st.subheader("Formal criteria")
        if assessment is not None:
            render.criteria_panel(assessment.criteria, compute.default_rule_set())
        else:  # cold start: the criteria need no network, so they show while it loads
            render.criteria_panel(compute.criteria_all(case.to_json()), compute.default_rule_set())
    with left:
        st.subheader("Probability")
        if assessment is None:
            with st.spinner("Loading the Bayesian network..."):
                assessment = _assessment(case)
        if assessment is not None:
            render.probability_panel(assessment)
            st.session_state[ANSWER_SECONDS_KEY] = time.perf_counter() - _started
    if assessment is not None:
        with agreement_slot:
            render.agreement(assessment)
            render.report_downloads(assessment, priors)
        _why_and_what_next(case, assessment)


_started = time.perf_counter()
main()
st.session_state[RUN_SECONDS_KEY] = time.perf_counter() - _started  # read by measure_app.py
