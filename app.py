"""POEMS syndrome decision support: the formal criteria and the posterior, side by side.

Run with ``make run`` (``.venv/bin/streamlit run app.py``). This file is the app's entry: it
names the pages (the assessment page here, the others in ``pages/``) and draws the
assessment page. The app only wires: it reads the sidebar into a :class:`model.case.Case`,
calls the core, and renders what the core returns.
The answer (P(POEMS) with its interval, every verdict, the one-line agreement) comes first,
so it is on the first screen; an entry that cannot be used is named and left out, and
everything that can still be computed is shown.
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from model.case import Case
from model.exceptions import PoemsError
from ui import active_priors, compute, render
from ui.state import plain
from ui.widgets import MAIN_PAGE_TITLE, case_entry, messages, page_titles

RUN_SECONDS_KEY = "_run_seconds"
ANSWER_SECONDS_KEY = "_answer_seconds"  # P(POEMS) and the verdict are on the page
POINT_SECONDS_KEY = "_point_seconds"  # cold start: the point estimate is on the page
PAGE_TITLE = "POEMS syndrome: criteria and probability"
PAGE_ICON = "🩺"  # an emoji is drawn locally; a ":material/...:" icon is fetched from a CDN

st.set_page_config(page_title=PAGE_TITLE, page_icon=PAGE_ICON, layout="wide")


def _assessment(case: Case, *, point_only: bool = False) -> Any:
    """The core's answer for the case, or ``None`` (with the reason on the page);
    ``point_only``: without the analyses (no interval, no next tests)."""
    try:
        if point_only:
            return compute.point_assessment(case.to_json())
        return compute.assessment(case.to_json())
    except PoemsError as err:
        st.error(f"The probability cannot be computed for this case: {plain(err)}")
        return None


ANALYSIS_TAB_KEY = "analysis_tab"
TAB_NEXT = "Which test next"
TAB_WHY = "Why: what moved it"
TAB_WHAT_IF = "What if"
TAB_SENSITIVITY = "Which numbers matter"


def _why_and_what_next(assessment: Any) -> None:
    """Next tests, contributions, the what-if table and sensitivity: all carried by the
    assessment (only the open tab is drawn)."""
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
            render.what_if_table(assessment)
    if tabs[TAB_SENSITIVITY].open:
        with tabs[TAB_SENSITIVITY]:
            render.sensitivity(assessment, assessment.sensitivity)


def main() -> None:
    entry = case_entry("assessment")
    st.title(PAGE_TITLE)
    render.disclaimer()
    priors = active_priors.badge()  # the session's prior set, used by every call below
    messages(entry)
    case = entry.case
    default = compute.default_rule_set()
    answer_slot = st.container()  # the answer band, filled as soon as it is known
    assessment = None
    st.session_state.pop(POINT_SECONDS_KEY, None)
    if compute.assessment_ready(case.to_json()):
        assessment = _assessment(case)
    else:  # a case not seen yet: P(POEMS) by exact inference first (milliseconds once the
        # network is loaded), then the interval and the next tests; each step is on screen
        waiting = answer_slot.empty()
        with waiting.container():
            if compute.network_warm():
                point = _assessment(case, point_only=True)
            else:  # cold start: the criteria need no network, so they show while it loads
                render.answer_pending(compute.criteria_all(case.to_json()), default)
                with st.spinner("Computing P(POEMS): loading the Bayesian network (first use)"):
                    point = _assessment(case, point_only=True)
        if point is not None:
            with waiting.container():
                render.answer(point, default, interval_pending=True)
                st.session_state[POINT_SECONDS_KEY] = time.perf_counter() - _started
                with st.spinner("Computing the credible interval and the next tests"):
                    assessment = _assessment(case)
        waiting.empty()
    if assessment is not None:
        with answer_slot:
            render.answer(assessment, default)
        st.session_state[ANSWER_SECONDS_KEY] = time.perf_counter() - _started
    if not case.findings:
        st.markdown(
            "Enter what is known in the sidebar and leave the rest *unknown* (not assessed), "
            "or open an example under **Load, save or share a case**. With no findings the "
            "probabilities are the setting's base rates."
        )
    left, right = st.columns([2, 3], gap="large")
    with right:
        st.subheader("Formal criteria")
        criteria = (
            assessment.criteria if assessment is not None else compute.criteria_all(case.to_json())
        )
        render.criteria_panel(criteria, default)
    with left:
        st.subheader("Differential")
        if assessment is not None:
            render.probability_panel(assessment)
        render.case_summary(case)
    if assessment is not None:
        render.report_downloads(assessment, priors)
        _why_and_what_next(assessment)
        compute.prepare_ahead()  # once per process, after the first answer is drawn


def assessment_page() -> None:
    global _started
    _started = time.perf_counter()
    main()
    st.session_state[RUN_SECONDS_KEY] = time.perf_counter() - _started  # read by measure_app


_started = time.perf_counter()
_pages = [st.Page(assessment_page, title=MAIN_PAGE_TITLE, default=True)]
_pages += [st.Page(path, title=title) for path, title in page_titles().items() if path != "app.py"]
st.navigation(_pages).run()
