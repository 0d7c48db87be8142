"""Evaluation: score a labelled cohort with the network and every criteria rule set.

Upload a cohort CSV (bounded size) or use a bundled one, pick the label column, and the page
shows what ``model.evaluation`` returns: the network's metrics, the reliability diagram, and
each rule set's sensitivity and specificity with Wilson intervals.
"""

from __future__ import annotations

import streamlit as st

from model.assessment import DISCLAIMER
from model.evaluation.bundled import BUNDLED, bundled_frame
from model.evaluation.cohort import read_table
from model.evaluation.evaluate import Evaluation, evaluate_table
from model.evaluation.plots import reliability_figure
from model.exceptions import PoemsError

# The server accepts uploads up to 1 MiB (.streamlit/config.toml), about 3,000 rows; larger
# cohorts belong on the command line (``poems evaluate``). The same bound is checked here.
MAX_UPLOAD_BYTES = 1024 * 1024

st.set_page_config(page_title="POEMS evaluation", page_icon=":material/query_stats:", layout="wide")
st.title("Evaluate on a labelled cohort")
st.info(DISCLAIMER, icon=":material/info:")
st.markdown(
    "A cohort is a CSV (up to 1 MB here, about 3,000 rows; use `poems evaluate` for more) "
    "with one column per finding id (empty cell = not assessed) and a label "
    "column holding each patient's diagnosis state (`poems`, `cidp`, ...). Indeterminate "
    "criteria verdicts are counted as negative for sensitivity and specificity; the "
    "'determinate' columns leave them out, and the indeterminate rate is shown beside them. "
    "Synthetic cohorts drawn from the network itself only check self-consistency: they are "
    "not a validation."
)


@st.cache_resource(max_entries=8, show_spinner="Scoring the cohort...")
def _evaluate(key: str, data: bytes | None, label: str, positive: str, setting: str) -> Evaluation:
    frame = bundled_frame(key) if data is None else read_table(data, MAX_UPLOAD_BYTES)
    return evaluate_table(frame, label, setting=setting or None, positive=positive)


source = st.radio("Cohort", ["Bundled cohort", "Upload a CSV"], horizontal=True, key="ev_source")
data: bytes | None = None
key = ""
try:
    if source == "Upload a CSV":
        upload = st.file_uploader("Cohort CSV", type=["csv"], key="ev_upload")
        if upload is not None:
            data = upload.getvalue()
            key = f"upload:{upload.name}:{len(data)}"
            frame = read_table(data, MAX_UPLOAD_BYTES)
    else:
        key = st.selectbox(
            "Bundled cohort",
            list(BUNDLED),
            format_func=lambda k: BUNDLED[k].label,
            key="ev_bundled",
        )
        st.caption(BUNDLED[key].description)
        frame = bundled_frame(key)
    if key:
        columns = list(frame.columns)
        default = BUNDLED[key].label_column if key in BUNDLED else None
        label = st.selectbox(
            "Label column",
            columns,
            index=columns.index(default) if default in columns else 0,
            key="ev_label",
        )
        positive = st.text_input("Positive class", value="poems", key="ev_positive")
        setting = st.text_input(
            "Force one setting for every row (leave empty to use each row's own)",
            value="",
            key="ev_setting",
        )
        if st.button("Evaluate", type="primary", key="ev_run"):
            st.session_state["ev_request"] = (key, label, positive.strip(), setting.strip())
        request = st.session_state.get("ev_request")
        if request and request[0] == key:
            result = _evaluate(key, data, *request[1:])
            st.markdown(result.to_markdown())
            st.pyplot(
                reliability_figure(
                    result.network.calibration,
                    result.scores,
                    result.y_true,
                    title=f"P({result.positive}) against the observed fraction",
                ),
                clear_figure=False,
            )
except PoemsError as err:
    st.error(str(err))
