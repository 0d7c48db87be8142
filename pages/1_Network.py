"""The Bayesian network: its structure, with each node's posterior for the current case.

The DOT text is generated here from the core's structure and marginals (``ui.dot``); the
browser draws it, so no system graphviz is needed.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

import streamlit as st

from model.exceptions import PoemsError
from model.export import MEDIA_TYPES, SUFFIXES, network_text
from model.formatting import NODE_TITLES
from model.network.structure import NODES
from model.vocabulary import FINDINGS, label
from ui import active_priors, compute, render
from ui.dot import network_dot
from ui.state import plain
from ui.widgets import case_entry, messages

st.set_page_config(page_title="POEMS network", page_icon="🕸️", layout="wide")

TITLES = NODE_TITLES
CLUSTER_OF_SPECIAL = {
    "vegf_serum": "major",
    "vegf_plasma": "major",
    "bone_marrow_plasma_cells": "plasma cell",
}
SHOW_ALL = "Whole network"
SHOW_ENTERED = "Entered findings and their causes"


def _title(node: str) -> str:
    return TITLES.get(node, label(node))


def _cluster(node: str) -> str:
    if node in CLUSTER_OF_SPECIAL:
        return CLUSTER_OF_SPECIAL[node]
    spec = FINDINGS.get(node)
    return str(spec.group.value) if spec is not None else ""


def main() -> None:
    entry = case_entry("network")
    st.title("The Bayesian network")
    render.disclaimer()
    priors = active_priors.badge()
    messages(entry)
    case = entry.case
    if case is None:
        return

    case_json = case.to_json()
    try:
        with st.spinner("Computing every node's posterior..."):
            marginals = compute.marginals(case_json)
        evidence = compute.evidence(case_json)
    except PoemsError as err:
        st.error(f"The case cannot be assessed: {plain(err)}")
        return
    st.markdown(
        "Each box is a node with its posterior for this case: P(present) for a finding, the "
        "most likely states otherwise. Grey boxes with a thick border are observed. Arrows run "
        "from cause to effect: the diagnosis drives the plasma cell clone and the POEMS disease "
        "activity, which drive the findings; the mimics cause their own findings directly, "
        "and raised VEGF has causes other than POEMS."
    )
    show = st.segmented_control(
        "Show", (SHOW_ENTERED, SHOW_ALL), key="network_show", default=SHOW_ENTERED
    )
    nodes = list(NODES.values())
    if show == SHOW_ENTERED:
        keep = {"diagnosis", "plasma_cell_clone", "poems_activity", *evidence}
        nodes = [n for n in nodes if n.name in keep]
        nodes = [replace(n, parents=tuple(p for p in n.parents if p in keep)) for n in nodes]
    dot = network_dot(
        nodes,
        marginals,
        evidence,
        {n.name: _title(n.name) for n in nodes},
        {n.name: _cluster(n.name) for n in nodes},
        render.percent,
    )
    st.graphviz_chart(dot, width="stretch")
    with st.expander("Every node's posterior as a table"):
        rows = [
            {
                "node": n.name,
                "title": _title(n.name),
                "parents": ", ".join(n.parents) or "—",
                "observed": evidence.get(n.name, ""),
                "posterior": "; ".join(
                    f"{s}: {render.percent(marginals[n.name][s])}" for s in n.states
                ),
            }
            for n in NODES.values()
        ]
        st.dataframe(rows, hide_index=True, key="network_table")
    _downloads(dot, priors, case.setting)


EXPORT_LABELS = {
    "bif": "BIF",
    "xmlbif": "XMLBIF",
    "xdsl": "XDSL (GeNIe)",
    "net": "Hugin NET",
}


@st.cache_data(max_entries=32, show_spinner=False)
def _export(priors_fingerprint: str, setting: str, fmt: str, _priors: Any) -> str:
    return network_text(_priors, setting, fmt)


def _downloads(dot: str, priors: Any, case_setting: str | None) -> None:
    """The network of the chosen setting, under the session's priors, for other BN tools."""

    st.subheader("Download the network")
    settings = {sid: s.label for sid, s in priors.settings.items()}
    own = case_setting if case_setting in settings else next(iter(settings))
    setting = st.selectbox(
        "Clinical setting (its base rates are the diagnosis node's table)",
        list(settings),
        index=list(settings).index(own),
        format_func=lambda s: settings[s],
        key="network_export_setting",
    )
    st.caption(
        "Each file holds every table under this session's priors "
        f"(fingerprint {active_priors.short(priors.fingerprint)}). pgmpy reads all four; "
        "pyAgrum reads BIF, Hugin NET and XMLBIF (as .bifxml) but misreads the parent order of "
        "any XDSL file, so use XDSL only with GeNIe/SMILE."
    )
    columns = st.columns(len(EXPORT_LABELS) + 1)
    for column, (fmt, title) in zip(columns, EXPORT_LABELS.items(), strict=False):
        column.download_button(
            title,
            functools.partial(_export, priors.fingerprint, setting, fmt, priors),
            file_name=f"poems-network-{setting}{SUFFIXES[fmt]}",
            mime=MEDIA_TYPES[fmt],
            on_click="ignore",
            key=f"network_export_{fmt}",
        )
    columns[-1].download_button(
        "DOT (this drawing)",
        dot,
        file_name="poems-network.dot",
        mime="text/vnd.graphviz",
        on_click="ignore",
        key="network_export_dot",
    )


main()
