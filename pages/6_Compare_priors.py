"""Compare priors: the default priors (A) against this session's prior set or an uploaded one
(B), parameter by parameter, on your own patient and on your cohort.

B is the session's prior set (``ui.active_priors``) unless a zip is uploaded here; no server
path is ever read. The page shows what ``model.evaluation.compare`` returns: every parameter
that differs (in clinical words, with both sources), what each difference alone does to the
patient entered in the sidebar, the patient's posterior under both sets, and, for an uploaded
labelled cohort, the network's metrics under both sets. Uploaded text is shown in tables or
escaped, never as Markdown.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from model.assessment import DIAGNOSIS_LABELS
from model.case import Case
from model.evaluation.cohort import guess_label_column, read_table
from model.evaluation.compare import compare_case, diff_parameters, effect_of_each
from model.evaluation.evaluate import evaluate_table
from model.exceptions import PoemsError
from model.parameters import Priors
from model.parameters.overrides import parameter_label
from ui import active_priors, compute, render
from ui.state import plain
from ui.widgets import case_entry, messages

st.set_page_config(page_title="Compare priors", page_icon="⚖️", layout="wide")

MAX_UPLOAD_BYTES = 1024 * 1024


@st.cache_resource(max_entries=4, show_spinner="Loading the priors...")
def _uploaded(name: str, data: bytes) -> active_priors.PriorSet:
    return active_priors.load_zip(name, data)


@st.cache_resource(max_entries=8, show_spinner="Scoring the cohort under both prior sets...")
def _cohort_metrics(
    data: bytes, label: str, fp_a: str, fp_b: str, _a: Priors, _b: Priors
) -> tuple[dict[str, Any], dict[str, Any]]:
    table = read_table(data, MAX_UPLOAD_BYTES)
    return (
        evaluate_table(table, label, _a).metrics_row(),
        evaluate_table(table, label, _b).metrics_row(),
    )


@st.cache_resource(max_entries=16, show_spinner="Measuring each difference on the patient...")
def _effects(case_json: str, setting: str, fp_a: str, fp_b: str, _a: Priors, _b: Priors) -> Any:
    return effect_of_each(Case.from_json(case_json), _a, _b, setting)


def _prior_set_b() -> tuple[str, Priors] | None:
    chosen = active_priors.current_set()
    mode = st.radio(
        "Prior set B",
        ["This session's priors", "Upload a prior set (zip)"],
        horizontal=True,
        key="cmp_mode",
    )
    if mode == "This session's priors":
        if chosen.is_default:
            st.caption(
                "This session uses the default priors, so A and B are the same: edit values or "
                "load a prior set on the Priors page, or upload one here."
            )
        return chosen.name, chosen.priors
    upload = st.file_uploader("The zip the Priors page downloads", type=["zip"], key="cmp_upload")
    if upload is None:
        return None
    loaded = _uploaded(upload.name, upload.getvalue())
    return loaded.name, loaded.priors


def _differences(a: Priors, b: Priors) -> list[Any]:
    diffs = diff_parameters(a, b)
    st.subheader(f"{len(diffs)} parameter(s) differ")
    if diffs:
        st.dataframe(
            [
                {
                    "parameter": parameter_label(d.key, DIAGNOSIS_LABELS),
                    "change": d.change.replace("_", " "),
                    "A": d.value_a,
                    "B": d.value_b,
                    "B - A": d.delta,
                    "kind A": d.kind_a,
                    "kind B": d.kind_b,
                    "source A": d.source_a,
                    "source B": d.source_b,
                    "key": d.key,
                }
                for d in diffs
            ],
            hide_index=True,
            width="stretch",
            key="cmp_differences",
            column_config={
                "A": st.column_config.NumberColumn(format="%.4g"),
                "B": st.column_config.NumberColumn(format="%.4g"),
                "B - A": st.column_config.NumberColumn(format="%+.4g"),
            },
        )
    return diffs


def _patient(case: Any, a: Priors, b: Priors) -> None:
    setting = case.setting or "neuropathy_clinic"
    shift = compare_case(case, a, b, setting)
    st.subheader("Your patient under A and B")
    st.caption(
        f"The case entered in the sidebar ({len(case.findings)} findings), setting "
        f"{plain(a.settings[shift.setting].label)}."
    )
    left, right = st.columns(2)
    left.metric("P(POEMS), A", render.percent(shift.posterior_a["poems"]))
    right.metric("P(POEMS), B", render.percent(shift.posterior_b["poems"]))
    st.dataframe(
        [
            {
                "diagnosis": render.diagnosis_label(r["diagnosis"]),
                "A": render.percent(r["a"]),
                "B": render.percent(r["b"]),
                "change (points)": f"{r['delta'] * 100:+.1f}",
            }
            for r in shift.rows()
        ],
        hide_index=True,
        width="stretch",
        key="cmp_posterior",
    )
    effects = _effects(case.to_json(), shift.setting, a.fingerprint, b.fingerprint, a, b)
    if effects:
        st.markdown("**Each difference alone** (A with only that entry taken from B)")
        st.dataframe(
            [
                {
                    "entry": parameter_label(e.key, DIAGNOSIS_LABELS),
                    "P(POEMS), A": render.percent(e.p_a),
                    "with this entry from B": render.percent(e.p_with_b),
                    "change (points)": f"{(e.p_with_b - e.p_a) * 100:+.1f}",
                }
                for e in effects
            ],
            hide_index=True,
            width="stretch",
            key="cmp_effects",
        )


def _cohort(a: Priors, b: Priors) -> None:
    st.subheader("Your cohort under A and B")
    upload = st.file_uploader(
        "A labelled cohort (CSV or Parquet, up to 1 MB)",
        type=["csv", "parquet"],
        key="cmp_cohort",
    )
    if upload is None:
        return
    data = upload.getvalue()
    columns = [str(c) for c in read_table(data, MAX_UPLOAD_BYTES).columns]
    guess = guess_label_column(columns)
    label = st.selectbox(
        "Label column (each patient's diagnosis)",
        columns,
        index=columns.index(guess) if guess else None,
        key="cmp_label",
        placeholder="Choose the column holding the diagnosis",
    )
    if label is None:
        return
    metrics_a, metrics_b = _cohort_metrics(data, label, a.fingerprint, b.fingerprint, a, b)
    st.dataframe(
        [
            {"metric": name, "A": metrics_a.get(key), "B": metrics_b.get(key)}
            for key, name in (
                ("n", "rows scored"),
                ("auc", "AUC"),
                ("brier", "Brier score"),
                ("log_loss", "log loss"),
                ("ece", "expected calibration error"),
            )
        ],
        hide_index=True,
        key="cmp_cohort_metrics",
        column_config={
            "A": st.column_config.NumberColumn(format="%.4g"),
            "B": st.column_config.NumberColumn(format="%.4g"),
        },
    )


def main() -> None:
    entry = case_entry("compare")
    st.title("Compare two prior sets")
    render.disclaimer()
    active_priors.badge()
    messages(entry)
    a = compute.default_priors()
    st.markdown("**A**: the default priors.")
    try:
        chosen = _prior_set_b()
        if chosen is None:
            st.caption("Choose prior set B to compare.")
            return
        name, b = chosen
        st.markdown(f"**B**: {plain(name)} (fingerprint `{active_priors.short(b.fingerprint)}`).")
        _differences(a, b)
        if entry.case is not None:
            _patient(entry.case, a, b)
        _cohort(a, b)
    except PoemsError as err:
        st.error(plain(err))


main()
