"""Evaluation: score a labelled cohort with the network and every criteria rule set.

Upload a cohort (CSV or Parquet, bounded size) or use a bundled one; the label column is
guessed from its name (``true_diagnosis``, ``diagnosis``, ...) or asked for, never taken to
be ``id``. The page shows what ``model.evaluation`` returns under this session's priors: AUC
and Brier score with bootstrap intervals, the ROC curve and the reliability diagram, each rule
set's sensitivity and specificity with Wilson intervals, a table per true diagnosis, and the
scored rows to download. Uploaded text (cells, column names) is shown in tables or escaped.
"""

from __future__ import annotations

import io
from typing import Any

import streamlit as st

from model.cohort.format import CohortTable, read_cohort_table
from model.evaluation.bundled import BUNDLED, bundled_frame
from model.evaluation.cohort import guess_label_column
from model.evaluation.evaluate import Evaluation, evaluate_table
from model.evaluation.plots import reliability_figure, roc_figure
from model.exceptions import PoemsError
from model.parameters import Priors
from ui import active_priors, render
from ui.state import plain

# The server accepts uploads up to 1 MiB (.streamlit/config.toml), about 3,000 rows; larger
# cohorts belong on the command line (``poems evaluate``). The same bound is checked here.
MAX_UPLOAD_BYTES = 1024 * 1024
EACH_ROW = "each row's own setting"

st.set_page_config(page_title="POEMS evaluation", page_icon="📈", layout="wide")


@st.cache_resource(max_entries=4, show_spinner="Reading the cohort...")
def _read_upload(key: str, name: str, _data: bytes) -> CohortTable:
    """An upload read by the one cohort reader (``model.cohort.format``), keyed by content."""
    return read_cohort_table(_data, name=name, max_bytes=MAX_UPLOAD_BYTES)


@st.cache_resource(max_entries=8, show_spinner="Scoring the cohort...")
def _evaluate(
    key: str,
    label: str,
    positive: str,
    setting: str,
    priors_fingerprint: str,
    _table: Any,
    _priors: Priors,
) -> tuple[Evaluation, dict[str, Any]]:
    result = evaluate_table(_table, label, _priors, setting=setting or None, positive=positive)
    intervals = (
        result.intervals()
        if result.network.n_positive and result.network.n > result.network.n_positive
        else {}
    )
    return result, intervals


def _table(source: str) -> tuple[str, Any] | None:
    """The chosen cohort: (cache key, an uploaded :class:`CohortTable` or a bundled frame)."""
    if source == "Upload a cohort":
        upload = st.file_uploader(
            "Cohort (CSV or Parquet, up to 1 MB)", type=["csv", "parquet"], key="ev_upload"
        )
        if upload is None:
            return None
        data = upload.getvalue()
        key = f"upload:{len(data)}:{hash(data)}"
        table = _read_upload(key, upload.name, data)
        st.caption(read_note(upload.name, table))
        return key, table
    key = st.selectbox(
        "Bundled cohort", list(BUNDLED), format_func=lambda k: BUNDLED[k].label, key="ev_bundled"
    )
    st.caption(BUNDLED[key].description)
    return key, bundled_frame(key)


def read_note(name: str, table: CohortTable) -> str:
    """How an upload was read, for a caption (the file name escaped)."""
    note = f"Read {plain(name)} as {table.description}: {len(table.frame)} rows."
    if table.read_errors:
        note += (
            f" {len(table.read_errors)} line(s) could not be read; they are listed under "
            "'Rows left out' and every other row is scored."
        )
    return note


def _headline(result: Evaluation, intervals: dict[str, Any]) -> None:
    net = result.network
    st.markdown(
        f"{result.n_rows} rows, {result.n_scored} scored ({len(result.bad_rows)} left out); "
        f"positive: {plain(render.diagnosis_label(result.positive))} "
        f"({net.n_positive} rows, prevalence {net.prevalence:.3f})."
    )
    cols = st.columns(4)
    auc, brier = intervals.get("auc"), intervals.get("brier")
    cols[0].metric("AUC", "-" if auc is None else f"{auc.estimate:.3f}")
    cols[0].caption("" if auc is None else f"95% bootstrap CI {auc.low:.3f} to {auc.high:.3f}")
    cols[1].metric("Brier score", "-" if brier is None else f"{brier.estimate:.3f}")
    cols[1].caption(
        "" if brier is None else f"95% bootstrap CI {brier.low:.3f} to {brier.high:.3f}"
    )
    cols[2].metric("Log loss", f"{net.log_loss:.3f}")
    cols[3].metric("Expected calibration error", f"{net.ece:.3f}")


def _rules(result: Evaluation) -> None:
    st.subheader("Criteria rule sets")
    st.dataframe(
        [
            {
                "rule set": render.tab_title(name),
                "sensitivity (indeterminate = negative)": r.sensitivity.describe(),
                "specificity (indeterminate = negative)": r.specificity.describe(),
                "sensitivity (determinate rows)": r.sensitivity_determinate.describe(),
                "specificity (determinate rows)": r.specificity_determinate.describe(),
                "indeterminate": r.indeterminate.describe(),
            }
            for name, r in result.rules.items()
        ],
        hide_index=True,
        width="stretch",
        key="ev_rules",
    )


def _per_diagnosis(result: Evaluation) -> None:
    st.subheader("By true diagnosis")
    rows = result.per_diagnosis()
    for row in rows:
        row["diagnosis"] = render.diagnosis_label(row["diagnosis"])
    st.dataframe(rows, hide_index=True, width="stretch", key="ev_per_diagnosis")


def _downloads(result: Evaluation) -> None:
    frame = result.scored_rows()
    left, right, _ = st.columns([1, 1, 2])
    left.download_button(
        "Scored rows (CSV)",
        frame.to_csv(index=False),
        file_name="poems-scored-rows.csv",
        mime="text/csv",
        on_click="ignore",
        key="ev_rows_csv",
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    right.download_button(
        "Scored rows (Parquet)",
        buffer.getvalue(),
        file_name="poems-scored-rows.parquet",
        mime="application/vnd.apache.parquet",
        on_click="ignore",
        key="ev_rows_parquet",
    )


def _problems(result: Evaluation) -> None:
    if result.bad_rows:
        with st.expander(f"Rows left out ({len(result.bad_rows)})"):
            st.dataframe([b.to_dict() for b in result.bad_rows], hide_index=True, key="ev_bad_rows")
    if result.ignored_columns:
        with st.expander(f"Columns ignored ({len(result.ignored_columns)})"):
            st.dataframe(
                [{"column": c, "hint": h} for c, h in result.ignored_columns],
                hide_index=True,
                key="ev_ignored",
            )


def main() -> None:
    st.title("Evaluate on a labelled cohort")
    render.disclaimer()
    priors = active_priors.badge()
    st.markdown(
        "A cohort holds one row per patient: one column per finding id (empty cell = not "
        "assessed) and a label column with each patient's diagnosis (`poems`, `cidp`, ...). "
        "Indeterminate criteria verdicts count as negative for sensitivity and specificity; "
        "the 'determinate rows' columns leave them out. Synthetic cohorts drawn from the "
        "network itself only check self-consistency: they are not a validation."
    )
    source = st.radio(
        "Cohort", ["Bundled cohort", "Upload a cohort"], horizontal=True, key="ev_source"
    )
    try:
        chosen = _table(source)
        if chosen is None:
            return
        key, table = chosen
        frame = table.frame if isinstance(table, CohortTable) else table
        columns = [str(c) for c in frame.columns]
        default = BUNDLED[key].label_column if key in BUNDLED else guess_label_column(columns)
        label = st.selectbox(
            "Label column (each patient's diagnosis)",
            columns,
            index=columns.index(default) if default in columns else None,
            key="ev_label",
            placeholder="Choose the column holding the diagnosis",
        )
        diagnoses = list(next(iter(priors.settings.values())).base_rates)
        left, right = st.columns(2)
        positive = left.selectbox(
            "Positive class",
            diagnoses,
            index=diagnoses.index("poems") if "poems" in diagnoses else 0,
            format_func=render.diagnosis_label,
            key="ev_positive",
        )
        settings = {"": EACH_ROW} | {sid: s.label for sid, s in priors.settings.items()}
        setting = right.selectbox(
            "Setting (base rates)",
            list(settings),
            format_func=lambda s: settings[s],
            key="ev_setting",
        )
        if label is None:
            st.info("Choose the label column to evaluate.")
            return
        if st.button("Evaluate", type="primary", key="ev_run"):
            st.session_state["ev_request"] = (key, label, positive, setting)
        if st.session_state.get("ev_request") != (key, label, positive, setting):
            return
        result, intervals = _evaluate(
            key, label, positive, setting, priors.fingerprint, table, priors
        )
        _headline(result, intervals)
        left, right = st.columns(2)
        if "auc" in intervals:
            fpr, tpr, _ = result.roc()
            left.pyplot(
                roc_figure(fpr, tpr, intervals["auc"].describe(), "ROC curve of P(POEMS)"),
                clear_figure=False,
            )
        right.pyplot(
            reliability_figure(
                result.network.calibration,
                result.scores,
                result.y_true,
                title="Reliability: predicted P against the observed fraction",
            ),
            clear_figure=False,
        )
        _rules(result)
        _per_diagnosis(result)
        _downloads(result)
        _problems(result)
    except PoemsError as err:
        st.error(plain(err))


main()
