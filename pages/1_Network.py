"""The Bayesian network: its structure, with each node's posterior for the current case."""

from __future__ import annotations

import streamlit as st

from ui import render
from ui.widgets import case_entry, messages

st.set_page_config(page_title="POEMS network", page_icon=":material/hub:", layout="wide")

entry = case_entry("network")
st.title("The Bayesian network")
render.disclaimer()
messages(entry)
st.caption("Available when the network lands.")
