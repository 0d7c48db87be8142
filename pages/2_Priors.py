"""The priors: every parameter with its source and range; the session's prior set.

The page sets the prior set every page of the session uses (``ui.active_priors``): load a
zip of priors files, or edit values (search by finding or diagnosis, several at once, each
beside its cited value, range and source). Edits are written into the original files with
their provenance (``model.parameters.writer.edited_texts``), so the download is a documented
prior set that loads back unchanged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from model.assessment import DIAGNOSIS_LABELS
from model.exceptions import PoemsError
from model.parameters.overrides import parameter_label
from model.parameters.writer import Edit
from ui import active_priors, compute, render
from ui.state import plain
from ui.widgets import case_entry, messages

st.set_page_config(page_title="POEMS priors", page_icon="🎛️", layout="wide")

SEARCH_KEY = "priors_search"
PICK_KEY = "priors_pick"
WHO_KEY = "priors_who"
WHY_KEY = "priors_why"
UPLOAD_KEY = "priors_upload"
ERROR_KEY = "_priors_error"
NOTICE_KEY = "_priors_notice"
MAX_MATCHES = 2000


def _diagnosis_labels() -> dict[str, str]:
    return dict(DIAGNOSIS_LABELS)


def _value_key(key: str) -> str:
    """The widget key of a parameter's new value (no dots: it doubles as a CSS class)."""
    return "priors_value_" + key.replace(".", "__")


def _rows(priors: Any) -> list[dict[str, Any]]:
    references = priors.references
    names = _diagnosis_labels()
    return [
        {
            "parameter": parameter_label(p.key, names),
            "value": p.p,
            "low": p.low,
            "high": p.high,
            "n": p.n,
            "kind": p.kind,
            "source": p.source,
            "citation": references[p.source].citation if p.source in references else "",
            "note": p.note or "",
            "key": p.key,
        }
        for p in priors.parameters()
    ]


def _matches(rows: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """Rows whose label, key, source, citation or note hold every word of ``text``."""
    words = text.lower().split()
    fields = ("parameter", "key", "source", "citation", "note")
    return [r for r in rows if all(any(w in str(r[f]).lower() for f in fields) for w in words)]


def _cited(row: dict[str, Any]) -> str:
    text = f"now {row['value']:.4g}"
    if row["low"] is not None and row["high"] is not None:
        text += f", range {row['low']:.3g} to {row['high']:.3g}"
    if row["n"] is not None:
        text += f", n = {row['n']:g}"
    text += f"; {row['kind']}, source {row['source']}"
    if row["citation"]:
        text += f" ({row['citation'][:140]})"
    return plain(text)


def _apply() -> None:
    """Button callback: turn the chosen keys' new values into documented edits."""
    ss = st.session_state
    priors = active_priors.current()
    values = priors.point_values()
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    edits = []
    for key in ss.get(PICK_KEY) or []:
        new = ss.get(_value_key(key))
        if new is None or key not in values or float(new) == values[key]:
            continue
        who, why = str(ss.get(WHO_KEY) or ""), str(ss.get(WHY_KEY) or "")
        edits.append(Edit(key, float(new), who, why, when))
    if not edits:
        ss[ERROR_KEY] = "No value was changed: pick parameters and enter new values first."
        return
    try:
        active_priors.edit(edits)
    except PoemsError as err:
        ss[ERROR_KEY] = f"The edits cannot be applied: {plain(err)}"
        return
    for key in ss.get(PICK_KEY) or []:
        ss.pop(_value_key(key), None)
    ss[PICK_KEY] = []
    ss[NOTICE_KEY] = f"{len(edits)} value(s) changed; every page now uses the edited priors."


def _load_upload() -> None:
    upload = st.session_state.get(UPLOAD_KEY)
    if upload is None:
        return
    try:
        active_priors.use(active_priors.load_zip(upload.name, upload.getvalue()))
    except PoemsError as err:
        st.session_state[ERROR_KEY] = f"The priors cannot be loaded: {plain(err)}"
        return
    st.session_state[NOTICE_KEY] = "Priors loaded; every page now uses them."


def _prior_set_section() -> None:
    chosen = active_priors.current_set()
    st.subheader("The prior set this session uses")
    left, right = st.columns(2)
    with left:
        st.file_uploader(
            "Load a prior set (the zip this page downloads)",
            type=["zip"],
            key=UPLOAD_KEY,
            on_change=_load_upload,
            help="A zip holding references.toml, settings.toml, latent.toml and findings.toml.",
        )
    with right:
        st.download_button(
            "Download this prior set (zip of documented TOML files)",
            chosen.zip_bytes(),
            file_name=f"poems-priors-{active_priors.short(chosen.fingerprint)}.zip",
            mime="application/zip",
            on_click="ignore",
            key="priors_download",
            help="The original files with your edits: every comment kept, each edited value "
            'marked kind = "user" with who, when, why and the value it replaced. Unzip and '
            "pass the folder to the CLI's --priors, or load the zip here again.",
        )
        if chosen.edits:
            st.caption(f"{len(chosen.edits)} edited value(s) in this set.")


def _edit_section(priors: Any, rows: list[dict[str, Any]]) -> None:
    st.subheader("Edit values")
    st.caption(
        "Search by finding, diagnosis, source or words of the note; pick one or several "
        "parameters; enter the new values. Changing one state of a distribution rescales its "
        "other states so they still sum to one. The edit applies to every page of the session."
    )
    text = st.text_input(
        "Search parameters", key=SEARCH_KEY, placeholder="e.g. hepatomegaly poems, VEGF, P18"
    )
    found = _matches(rows, text) if text.strip() else rows
    by_key = {r["key"]: r for r in rows}
    chosen_keys = [k for k in st.session_state.get(PICK_KEY) or [] if k in by_key]
    options = list(dict.fromkeys([*chosen_keys, *(r["key"] for r in found[:MAX_MATCHES])]))
    st.multiselect(
        f"Parameters to edit ({len(found)} match the search)",
        options,
        format_func=lambda k: by_key[k]["parameter"],
        key=PICK_KEY,
        placeholder="Choose one or more parameters",
    )
    for key in st.session_state.get(PICK_KEY) or []:
        row = by_key[key]
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        left.markdown(f"**{plain(row['parameter'])}**  \n{_cited(row)}")
        right.number_input(
            "New value",
            min_value=0.0,
            max_value=1.0,
            value=float(row["value"]),
            step=0.01,
            format="%.4g",
            key=_value_key(key),
        )
    if st.session_state.get(PICK_KEY):
        left, right = st.columns(2)
        left.text_input("Your name (kept in the file's note)", key=WHO_KEY)
        right.text_input("Why (kept in the file's note)", key=WHY_KEY)
        st.button("Apply the edits", on_click=_apply, type="primary", key="priors_apply")


def _compare(before: Any, after: Any) -> None:
    left, right = st.columns(2)
    left.metric("P(POEMS), default priors", render.percent(before.posterior_poems))
    right.metric("P(POEMS), this session's priors", render.percent(after.posterior_poems))
    rows = [
        {
            "diagnosis": render.diagnosis_label(d),
            "default priors": render.percent(before.posterior[d]),
            "this session's priors": render.percent(after.posterior[d]),
        }
        for d, _ in before.differential
    ]
    st.table(rows)


def _table(rows: list[dict[str, Any]]) -> None:
    with st.expander(f"Every parameter ({len(rows)}) with its source and range"):
        left, right = st.columns([3, 2])
        text = left.text_input("Filter", key="priors_filter")
        kinds = right.multiselect(
            "Kind", ["literature", "inferred", "assumption", "user"], key="priors_kinds"
        )
        shown = [
            r
            for r in (_matches(rows, text) if text.strip() else rows)
            if not kinds or r["kind"] in kinds
        ]
        st.caption(f"{len(shown)} of {len(rows)} parameters.")
        st.dataframe(
            shown,
            hide_index=True,
            key="priors_table",
            column_config={
                "value": st.column_config.NumberColumn(format="%.4g"),
                "low": st.column_config.NumberColumn(format="%.3g"),
                "high": st.column_config.NumberColumn(format="%.3g"),
                "n": st.column_config.NumberColumn(format="%g"),
            },
        )


def main() -> None:
    entry = case_entry("priors")
    st.title("Priors: every number, its source, and your edits")
    render.disclaimer()
    messages(entry)
    error = st.session_state.pop(ERROR_KEY, None)
    if error:
        st.error(error)
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.success(notice)
    priors = active_priors.badge()
    rows = _rows(priors)
    _prior_set_section()
    _edit_section(priors, rows)
    case = entry.case
    if case is not None and not active_priors.current_set().is_default:
        st.subheader("Your case under the default priors and this session's")
        case_json = case.to_json()
        try:
            default = compute.default_priors()
            before = compute.assessment_with(case_json, default.fingerprint, default)
            after = compute.assessment(case_json)
        except PoemsError as err:
            st.error(f"The case cannot be assessed: {plain(err)}")
        else:
            _compare(before, after)
    _table(rows)


main()
