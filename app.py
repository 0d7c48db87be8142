"""POEMS syndrome decision support: the formal criteria and the posterior, side by side.

Run with ``make run`` (``.venv/bin/streamlit run app.py``). The app only wires: it reads the
sidebar into a :class:`model.case.Case`, calls the core, and renders what the core returns.
"""

from __future__ import annotations

import streamlit as st

from ui import compute, render
from ui.widgets import case_entry, messages

st.set_page_config(
    page_title="POEMS decision support", page_icon=":material/neurology:", layout="wide"
)

entry = case_entry("assessment")
st.title("POEMS syndrome: criteria and probability")
render.disclaimer()
messages(entry)

case = entry.case
if case is not None and not case.findings:
    st.markdown(
        "Enter what is known in the sidebar and leave the rest *not assessed*, or open an "
        "example under **Load, save or share a case**."
    )
if case is not None:
    case_json = case.to_json()
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Probability")
        st.caption("Available when the Bayesian network lands.")
    with right:
        st.subheader("Formal criteria")
        if compute.criteria_available():
            render.criteria_panel(compute.criteria_all(case_json), compute.default_rule_set())
        else:
            st.caption("Available when the criteria engine lands.")
