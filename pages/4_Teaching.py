"""Teaching: published cases walked step by step, and guided demonstrations.

The page only wires: it picks a case and a setting, calls ``model.teaching`` and shows what
comes back (tables, the trajectory figure, the notes). No arithmetic happens here.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from model.assessment import DISCLAIMER
from model.exceptions import PoemsError
from model.teaching import demos
from model.teaching.figures import trajectory_figure
from model.teaching.library import load_library
from model.teaching.walk import Step, walk

st.set_page_config(page_title="POEMS teaching", page_icon=":material/school:", layout="wide")
st.title("Teaching: cases and demonstrations")
st.info(DISCLAIMER, icon=":material/info:")

LIBRARY = load_library()


@st.cache_resource(max_entries=64, show_spinner="Walking the case...")
def _walk(case_id: str, setting: str | None) -> list[Step]:
    return walk(LIBRARY[case_id], setting=setting)


@st.cache_resource(max_entries=8, show_spinner="Computing...")
def _demo(name: str, arg: str = "") -> Any:
    if name == "base_rates":
        return demos.base_rates()
    if name == "explaining_away":
        return demos.explaining_away(arg)
    if name == "disagreements":
        return demos.criteria_versus_probability()
    return demos.serum_versus_plasma()


def _pct(p: float) -> str:
    return f"{p * 100:.2g}%" if p < 0.001 else f"{p * 100:.1f}%"


def _settings() -> dict[str, str]:
    from model.inference.exact import default_priors

    return {k: v.label for k, v in default_priors().settings.items()}


cases_tab, demos_tab = st.tabs(["Published cases", "Demonstrations"])

with cases_tab:
    ids = list(LIBRARY)
    case_id = st.selectbox(
        "Case", ids, format_func=lambda i: f"{LIBRARY[i].title}", key="teach_case"
    )
    tcase = LIBRARY[case_id]
    settings = _settings()
    own = tcase.setting if tcase.setting in settings else next(iter(settings))
    setting = st.selectbox(
        "Clinical setting (the base rate)",
        list(settings),
        index=list(settings).index(own),
        format_func=lambda s: settings[s],
        key=f"teach_setting_{case_id}",
    )
    st.markdown(tcase.summary)
    st.caption(
        f"Source: {tcase.citation.describe()}"
        + (f" — {tcase.citation.note.rstrip('.')}" if tcase.citation.note else "")
        + f". Published diagnosis: **{tcase.diagnosis}**."
    )
    try:
        steps = _walk(case_id, setting)
    except PoemsError as err:
        st.error(str(err))
        steps = []
    if steps:
        st.pyplot(trajectory_figure(steps, title=tcase.title), clear_figure=False)
        st.dataframe(
            [
                {
                    "step": s.index + 1,
                    "work-up": s.label,
                    "P(POEMS)": _pct(s.p_poems),
                    "90% interval": "-"
                    if s.interval is None
                    else f"{_pct(s.interval[0])} - {_pct(s.interval[1])}",
                    "criteria (seed)": s.verdict.replace("_", " "),
                    "most likely": s.top_diagnosis,
                }
                for s in steps
            ],
            hide_index=True,
            width="stretch",
        )
        for s in steps:
            with st.expander(f"Step {s.index + 1}: {s.label}", expanded=s.index == 0):
                st.markdown(f"**Teaching point.** {s.teaching_note}")
                st.markdown(f"**What changed.** {s.note}")
                added = ", ".join(f"{k} = {v}" for k, v in s.added.items())
                st.caption(f"Findings added at this step: {added}")
                st.caption(
                    "Verdicts: "
                    + ", ".join(f"{k}: {v.replace('_', ' ')}" for k, v in s.verdicts.items())
                )

with demos_tab:
    demo = st.radio(
        "Demonstration",
        [
            "Base rates: same findings, different settings",
            "Explaining away",
            "Criteria versus probability",
            "Serum versus plasma VEGF",
        ],
        key="teach_demo",
    )
    try:
        if demo.startswith("Base rates"):
            st.markdown(
                "The same patient (demyelinating neuropathy, lambda M-protein, thrombocytosis, "
                "leg edema) in each setting. The criteria verdict does not change; the "
                "probability follows the base rate."
            )
            st.dataframe(
                [
                    {
                        "setting": r.label,
                        "prior P(POEMS)": _pct(r.prior_poems),
                        "P(POEMS | findings)": _pct(r.p_poems),
                        "most likely": r.top_diagnosis,
                        "criteria (seed)": r.verdict.replace("_", " "),
                    }
                    for r in _demo("base_rates")
                ],
                hide_index=True,
                width="stretch",
            )
        elif demo == "Explaining away":
            mimic = st.selectbox(
                "Mimic",
                list(demos.EXPLAINING_AWAY),
                key="teach_mimic",
                format_func=lambda m: str(demos.EXPLAINING_AWAY[m]["title"]),
            )
            result = _demo("explaining_away", mimic)
            st.markdown(result.lesson)
            st.dataframe(
                [
                    {
                        "scenario": r.scenario,
                        "P(POEMS)": _pct(r.p_poems),
                        f"P({result.mimic})": _pct(r.p_mimic),
                        "P(cytokine raised)": _pct(r.p_cytokine_raised),
                        "most likely": r.top_diagnosis,
                        "criteria (seed)": r.verdict.replace("_", " "),
                    }
                    for r in result.rows
                ],
                hide_index=True,
                width="stretch",
            )
        elif demo == "Criteria versus probability":
            found = _demo("disagreements")
            for kind, title in (
                ("met_but_modest", "Criteria met, probability modest"),
                ("not_met_but_high", "Criteria not met, probability high"),
            ):
                st.subheader(title)
                d = found.get(kind)
                if d is None:
                    st.caption("The current priors give no such case among the candidates.")
                    continue
                st.markdown(f"**{d.name}** — P(POEMS) {_pct(d.p_poems)} ({d.setting}).")
                st.markdown(d.explanation)
                st.caption("Verdicts: " + ", ".join(f"{k}: {v}" for k, v in d.verdicts.items()))
                st.json(dict(d.findings), expanded=False)
        else:
            st.markdown(
                "One patient's VEGF measured in plasma and in serum (serum runs about 3.3 "
                "times higher because platelets release VEGF during clotting). Read against "
                "the right reference limit the two agree; a serum value entered as plasma "
                "overstates the evidence."
            )
            st.dataframe(
                [
                    {
                        "reading": r.label,
                        "VEGF (pg/mL)": r.vegf["value"],
                        "specimen entered": r.vegf["specimen"],
                        "x ULN": f"{r.multiple_of_uln:.1f}",
                        "P(POEMS)": _pct(r.p_poems),
                        "criteria (seed)": r.verdict.replace("_", " "),
                    }
                    for r in _demo("serum_versus_plasma")
                ],
                hide_index=True,
                width="stretch",
            )
    except PoemsError as err:
        st.error(str(err))
