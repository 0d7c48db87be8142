"""The priors: every parameter with its source, range and kind; live overrides.

An override makes a new Priors (``Priors.with_overrides``); the cached default priors are never
changed. The same case is assessed under both, and the modified priors download as a zip of
the TOML files ``load_priors`` reads.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from model.exceptions import PoemsError
from ui import compute, render
from ui.state import plain
from ui.widgets import case_entry, messages

st.set_page_config(page_title="POEMS priors", page_icon=":material/tune:", layout="wide")

OVERRIDES_KEY = "_priors_overrides"
PICK_KEY = "override_key"
VALUE_KEY = "override_value"


def _overrides() -> dict[str, float]:
    return dict(st.session_state.get(OVERRIDES_KEY, {}))


def _add_override() -> None:
    key, value = st.session_state.get(PICK_KEY), st.session_state.get(VALUE_KEY)
    if key is None or value is None:
        return
    overrides = _overrides()
    overrides[key] = float(value)
    st.session_state[OVERRIDES_KEY] = overrides


def _clear_overrides() -> None:
    st.session_state[OVERRIDES_KEY] = {}


def _parameter_table(priors: Any) -> None:
    references = priors.references
    rows = [
        {
            "key": p.key,
            "p": p.p,
            "low": p.low,
            "high": p.high,
            "n": p.n,
            "kind": p.kind,
            "source": p.source,
            "citation": references[p.source].citation if p.source in references else "",
            "cohort": p.cohort or "",
            "note": p.note or "",
        }
        for p in priors.parameters()
    ]
    left, right = st.columns([3, 2])
    text = left.text_input("Filter by key, source or note", key="priors_filter").strip().lower()
    kinds = right.multiselect("Kind", ["literature", "inferred", "assumption"], key="priors_kinds")
    shown = [
        r
        for r in rows
        if (
            not text
            or any(text in str(r[c]).lower() for c in ("key", "source", "note", "citation"))
        )
        and (not kinds or r["kind"] in kinds)
    ]
    st.caption(f"{len(shown)} of {len(rows)} parameters.")
    st.dataframe(
        shown,
        hide_index=True,
        key="priors_table",
        column_config={
            "p": st.column_config.NumberColumn(format="%.4g"),
            "low": st.column_config.NumberColumn(format="%.3g"),
            "high": st.column_config.NumberColumn(format="%.3g"),
            "n": st.column_config.NumberColumn(format="%g"),
        },
    )


def _compare(before: Any, after: Any) -> None:
    left, right = st.columns(2)
    left.metric("P(POEMS), default priors", render.percent(before.posterior_poems))
    right.metric("P(POEMS), your priors", render.percent(after.posterior_poems))
    rows = [
        {
            "diagnosis": render.diagnosis_label(d),
            "default priors": render.percent(before.posterior[d]),
            "your priors": render.percent(after.posterior[d]),
        }
        for d, _ in before.differential
    ]
    st.table(rows)


def main() -> None:
    entry = case_entry("priors")
    st.title("Priors: every number, its source, and what-ifs")
    render.disclaimer()
    messages(entry)
    default = compute.default_priors()
    st.markdown(
        "Every probability in the network with its provenance: the source (a key of "
        "`priors/references.toml`), the published or assumed range, the effective sample size "
        "*n* and the kind (*literature*, *inferred* or *assumption*)."
    )
    _parameter_table(default)

    st.subheader("Override parameters")
    st.caption(
        "An override is a what-if: it makes a new set of priors for this page only (the main "
        "page keeps the defaults). Overriding one state of a distribution rescales its other "
        "states so they still sum to one."
    )
    values = default.point_values()
    left, mid, right = st.columns([4, 1.3, 1.3], vertical_alignment="bottom")
    left.selectbox("Parameter", list(values), index=None, key=PICK_KEY, placeholder="Choose a key")
    mid.number_input(
        "New value",
        min_value=0.0,
        max_value=1.0,
        value=None,
        step=0.01,
        format="%.4g",
        key=VALUE_KEY,
    )
    right.button("Apply override", on_click=_add_override, type="primary", key="apply_override")
    if st.session_state.get(PICK_KEY):
        st.caption(f"Current value: {values[st.session_state[PICK_KEY]]:g}")
    overrides = _overrides()
    if not overrides:
        st.info("No overrides yet: the priors below are the defaults.")
    else:
        st.table(
            [{"key": k, "default": values.get(k), "override": v} for k, v in overrides.items()]
        )
        st.button("Remove all overrides", on_click=_clear_overrides, key="clear_overrides")
    try:
        modified = compute.priors_with(tuple(sorted(overrides.items()))) if overrides else default
    except PoemsError as err:
        st.error(f"The overrides cannot be applied: {plain(err)}")
        return

    case = entry.case
    if case is not None:
        st.subheader("This case under both sets of priors")
        case_json = case.to_json()
        try:
            before = compute.assessment(case_json)
            after = compute.assessment_with(case_json, modified.fingerprint, modified)
        except PoemsError as err:
            st.error(f"The case cannot be assessed: {plain(err)}")
        else:
            _compare(before, after)

    st.download_button(
        "Download these priors (zip of TOML files)",
        compute.priors_zip(modified.fingerprint, modified),
        file_name="poems-priors.zip",
        mime="application/zip",
        on_click="ignore",
        help="Unzip and point load_priors (or the CLI's --priors) at the folder.",
    )


main()
