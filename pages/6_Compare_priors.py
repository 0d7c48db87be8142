"""Compare priors: the repository's default priors against an uploaded or saved prior set.

Upload the zip the Priors page downloads, or one or more of the four priors files (the others
are taken from the default set), or name a priors folder. The page shows what
``model.evaluation.compare`` returns: every parameter that differs, with both sources, and
the posterior of a chosen case under each set, side by side.
"""

from __future__ import annotations

import streamlit as st

from model.assessment import DISCLAIMER
from model.evaluation.compare import compare_priors, priors_from_files
from model.exceptions import InputError, PoemsError
from model.parameters import Priors, load_priors
from model.parameters.loader import FILES
from model.teaching.library import load_library

st.set_page_config(page_title="Compare priors", page_icon=":material/compare:", layout="wide")
st.title("Compare two prior sets")
st.info(DISCLAIMER, icon=":material/info:")


@st.cache_resource(max_entries=1, show_spinner=False)
def _default() -> Priors:
    return load_priors()


@st.cache_resource(max_entries=4, show_spinner="Loading the priors...")
def _uploaded(files: tuple[tuple[str, bytes], ...]) -> Priors:
    zips = [data for name, data in files if name.lower().endswith(".zip")]
    if zips:
        from ui.priors_io import priors_from_zip

        if len(files) != 1:
            raise InputError(
                "upload", f"{len(files)} files", "one zip, or TOML files without a zip"
            )
        loaded: Priors = priors_from_zip(zips[0])
        return loaded
    return priors_from_files(dict(files))


@st.cache_resource(max_entries=4, show_spinner="Loading the priors...")
def _folder(path: str) -> Priors:
    return load_priors(path)


def _pct(p: float) -> str:
    return f"{p * 100:.3g}%"


a = _default()
st.markdown(f"**A** — the default priors (`{a.directory}`).")
mode = st.radio(
    "Prior set B",
    ["Upload priors files", "A priors folder"],
    horizontal=True,
    key="cmp_mode",
)
b: Priors | None = None
try:
    if mode == "Upload priors files":
        uploads = st.file_uploader(
            "The zip from the Priors page, or priors files ("
            + ", ".join(FILES)
            + "; files not uploaded are taken from A)",
            type=["toml", "zip"],
            accept_multiple_files=True,
            key="cmp_upload",
        )
        if uploads:
            b = _uploaded(tuple(sorted((u.name, u.getvalue()) for u in uploads)))
    else:
        folder = st.text_input("Folder holding the four priors files", key="cmp_folder")
        if folder.strip():
            b = _folder(folder.strip())
    if b is not None:
        library = load_library()
        case_id = st.selectbox(
            "Case for the side-by-side posterior (a teaching case, all its findings)",
            list(library),
            format_func=lambda i: library[i].title,
            key="cmp_case",
        )
        settings = [s for s in a.settings if s in b.settings]
        setting = st.selectbox("Setting", settings, key="cmp_setting")
        result = compare_priors(a, b, case=library[case_id].final_case(), setting=setting)
        st.subheader(f"{len(result.differences)} parameter(s) differ")
        if result.differences:
            st.dataframe(
                [
                    {
                        "key": d.key,
                        "change": d.change,
                        "A": d.value_a,
                        "B": d.value_b,
                        "B - A": d.delta,
                        "source A": d.source_a,
                        "source B": d.source_b,
                    }
                    for d in result.differences
                ],
                hide_index=True,
                width="stretch",
            )
        if result.case is not None:
            st.subheader("Posterior of the case under A and B")
            left, right = st.columns(2)
            rows = result.case.rows()
            left.dataframe(
                [{"diagnosis": r["diagnosis"], "A": _pct(r["a"])} for r in rows],
                hide_index=True,
                width="stretch",
            )
            right.dataframe(
                [
                    {"diagnosis": r["diagnosis"], "B": _pct(r["b"]), "B - A": f"{r['delta']:+.4f}"}
                    for r in rows
                ],
                hide_index=True,
                width="stretch",
            )
    else:
        st.caption("Choose prior set B to compare.")
except PoemsError as err:
    st.error(str(err))
