"""Teaching: published cases revealed step by step, and guided demonstrations.

A case is shown as the class would meet it: the patient's age, sex and setting, then one step
of the work-up at a time (next / previous); the trajectory chart and the table grow with the
steps, and the case report's summary, source and published diagnosis appear only after the last
step. Every step can be opened in the assessment page through the app's case link. Presenter
mode hides the sidebar and enlarges the type. The page only wires: ``model.teaching`` computes,
under this session's priors (``ui.active_priors``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import streamlit as st

from model.case import Case
from model.exceptions import PoemsError
from model.teaching import demos
from model.teaching.figures import trajectory_figure
from model.teaching.library import TeachingCase, load_library
from model.teaching.walk import (
    Step,
    default_interval,
    shown_interval,
    shown_p,
    step_note,
    walk,
)
from model.vocabulary import FINDINGS, label
from ui import active_priors, render
from ui.state import LINK_PARAM, encode_case, plain

st.set_page_config(page_title="POEMS teaching", page_icon="🎓", layout="wide")

LIBRARY = load_library()
PRESENTER_KEY = "teach_presenter"
PRESENTER_CSS = """
<style>
section[data-testid="stSidebar"], div[data-testid="stSidebarCollapsedControl"] {display: none;}
div[data-testid="stMainBlockContainer"] p, div[data-testid="stMainBlockContainer"] li,
div[data-testid="stMainBlockContainer"] td, div[data-testid="stMainBlockContainer"] th
{font-size: 1.45rem; line-height: 1.5;}
div[data-testid="stMainBlockContainer"] h1 {font-size: 3rem;}
div[data-testid="stMainBlockContainer"] h3 {font-size: 2.1rem;}
div[data-testid="stMetricValue"] {font-size: 3.2rem;}
</style>
"""


@st.cache_resource(max_entries=64, show_spinner="Walking the case...")
def _walk(case_id: str, setting: str, priors_fingerprint: str, _priors: Any) -> list[Step]:
    """The walk without intervals (fast); each revealed step's interval comes from
    :func:`_interval`, so a click costs one interval, not the whole case's."""
    return walk(LIBRARY[case_id], setting=setting, priors=_priors, interval=False)


@st.cache_resource(max_entries=512, show_spinner=False)
def _interval(
    case_json: str, setting: str, priors_fingerprint: str, _priors: Any
) -> tuple[float, float] | None:
    return default_interval()(Case.from_json(case_json), setting, _priors)


def _with_intervals(steps: list[Step], priors: Any) -> list[Step]:
    """The steps with their intervals, and their notes rewritten so each number reads as the
    step's metric does (:func:`model.teaching.walk.step_note`)."""
    out: list[Step] = []
    for step in steps:
        band = _interval(step.case.to_json(), step.setting, priors.fingerprint, priors)
        with_band = replace(step, interval=band)
        out.append(replace(with_band, note=step_note(with_band, out[-1] if out else None)))
    return out


@st.cache_resource(max_entries=16, show_spinner="Computing...")
def _demo(name: str, arg: str, priors_fingerprint: str, _priors: Any) -> Any:
    if name == "base_rates":
        return demos.base_rates(priors=_priors)
    if name == "explaining_away":
        return demos.explaining_away(arg, priors=_priors)
    if name == "disagreements":
        return demos.criteria_versus_probability(priors=_priors)
    return demos.serum_versus_plasma(priors=_priors)


def _pct(p: float) -> str:
    return render.percent(p)


def _value_words(finding: str, value: Any) -> str:
    if isinstance(value, dict):
        text = f"{value.get('value')} {value.get('unit', 'pg/mL')}"
        if value.get("specimen"):
            text += f" ({value['specimen']})"
        return text
    spec = FINDINGS.get(finding)
    if spec is not None and spec.unit:
        return f"{value} {spec.unit}"
    return str(value).replace("_", " ")


def findings_summary(findings: dict[str, Any]) -> list[str]:
    """Each finding as 'Label: value' in clinical words (never ids or JSON)."""
    return [f"{label(f)}: {_value_words(f, v)}" for f, v in findings.items()]


def _step_key(case_id: str, setting: str) -> str:
    return f"teach_step_{case_id}_{setting}"


def _move(key: str, delta: int, last: int) -> None:
    st.session_state[key] = min(last, max(0, int(st.session_state.get(key, 0)) + delta))


def _opener(tcase: TeachingCase) -> str:
    who = []
    if tcase.age is not None:
        who.append(f"{tcase.age:g} years")
    if tcase.sex:
        who.append(str(tcase.sex))
    return ", ".join(who) or "age and sex not given"


def _case_walk(priors: Any, presenter: bool) -> None:
    settings = {sid: s.label for sid, s in priors.settings.items()}
    left, right = st.columns(2)
    case_id = left.selectbox(
        "Case", list(LIBRARY), format_func=lambda i: LIBRARY[i].title, key="teach_case"
    )
    tcase = LIBRARY[case_id]
    own = tcase.setting if tcase.setting in settings else next(iter(settings))
    setting = right.selectbox(
        "Clinical setting (the base rate)",
        list(settings),
        index=list(settings).index(own),
        format_func=lambda s: settings[s],
        key=f"teach_setting_{case_id}",
    )
    steps = _walk(case_id, setting, priors.fingerprint, priors)
    key = _step_key(case_id, setting)
    last = len(steps) - 1
    shown = min(int(st.session_state.get(key, 0)), last)
    st.markdown(f"**The patient:** {plain(_opener(tcase))}; seen in: {plain(settings[setting])}.")
    prev_col, next_col, all_col, count_col = st.columns([1, 1, 1, 2], vertical_alignment="center")
    prev_col.button(
        "Previous step",
        on_click=_move,
        args=(key, -1, last),
        disabled=shown == 0,
        key="teach_prev",
        icon=":material/arrow_back:",
    )
    next_col.button(
        "Next step",
        on_click=_move,
        args=(key, 1, last),
        disabled=shown == last,
        type="primary",
        key="teach_next",
        icon=":material/arrow_forward:",
    )
    all_col.button("Start again", on_click=_move, args=(key, -last, last), key="teach_restart")
    count_col.markdown(f"Step **{shown + 1}** of {len(steps)}")
    revealed = _with_intervals(steps[: shown + 1], priors)
    _step(revealed[-1], presenter)
    st.pyplot(trajectory_figure(revealed, title=""), clear_figure=False)
    st.dataframe(
        [
            {
                "step": s.index + 1,
                "work-up": s.label,
                "P(POEMS)": shown_p(s),
                "90% interval": shown_interval(s) or "-",
                "criteria (seed)": render.words(s.verdict),
                "most likely": render.diagnosis_label(s.top_diagnosis),
            }
            for s in revealed
        ],
        hide_index=True,
        width="stretch",
        key="teach_table",
    )
    if shown == last:
        st.subheader("The case report")
        st.markdown(plain(tcase.summary))
        st.caption(
            f"Source: {plain(tcase.citation.describe())}"
            + (f" ({plain(tcase.citation.note.rstrip('.'))})" if tcase.citation.note else "")
            + f". Published diagnosis: {plain(render.diagnosis_label(tcase.diagnosis))}."
        )


def _step(step: Step, presenter: bool) -> None:
    st.subheader(f"Step {step.index + 1}: {step.label}")
    left, right = st.columns([1, 2])
    left.metric("P(POEMS)", shown_p(step))
    if step.interval is not None:
        left.caption(f"90% interval {shown_interval(step)}")
    left.markdown(f"Criteria (seed): **{plain(render.words(step.verdict))}**")
    left.markdown(f"Most likely: **{plain(render.diagnosis_label(step.top_diagnosis))}**")
    with right:
        st.markdown("**New at this step:**")
        st.markdown("\n".join(f"- {plain(line)}" for line in findings_summary(dict(step.added))))
        st.markdown(f"**Teaching point.** {plain(step.teaching_note)}")
        if not presenter:
            st.caption(plain(step.note))
        st.link_button(
            "Open this step in the assessment page",
            f"./?{LINK_PARAM}={encode_case(step.case)}",  # the app's own case link
            icon=":material/open_in_new:",
        )


def _demos(priors: Any) -> None:
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
    fp = priors.fingerprint
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
                    "most likely": render.diagnosis_label(r.top_diagnosis),
                    "criteria (seed)": render.words(r.verdict),
                }
                for r in _demo("base_rates", "", fp, priors)
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
        result = _demo("explaining_away", mimic, fp, priors)
        st.markdown(result.lesson)
        st.dataframe(
            [
                {
                    "scenario": r.scenario,
                    "P(POEMS)": _pct(r.p_poems),
                    f"P({render.diagnosis_label(result.mimic)})": _pct(r.p_mimic),
                    "P(cytokine raised)": _pct(r.p_cytokine_raised),
                    "most likely": render.diagnosis_label(r.top_diagnosis),
                    "criteria (seed)": render.words(r.verdict),
                }
                for r in result.rows
            ],
            hide_index=True,
            width="stretch",
        )
    elif demo == "Criteria versus probability":
        found = _demo("disagreements", "", fp, priors)
        for kind, title in (
            ("met_but_modest", "Criteria met, probability modest"),
            ("not_met_but_high", "Criteria not met, probability high"),
        ):
            st.subheader(title)
            d = found.get(kind)
            if d is None:
                st.caption("The current priors give no such case among the candidates.")
                continue
            setting_label = priors.settings[d.setting].label if d.setting in priors.settings else ""
            st.markdown(
                f"**{plain(d.name)}**: P(POEMS) {_pct(d.p_poems)} ({plain(setting_label)})."
            )
            st.markdown(d.explanation)
            st.markdown("\n".join(f"- {plain(x)}" for x in findings_summary(dict(d.findings))))
            st.caption(
                "Verdicts: "
                + ", ".join(
                    f"{render.tab_title(k)}: {render.words(v)}" for k, v in d.verdicts.items()
                )
            )
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
                    "criteria (seed)": render.words(r.verdict),
                }
                for r in _demo("serum_versus_plasma", "", fp, priors)
            ],
            hide_index=True,
            width="stretch",
        )


def main() -> None:
    presenter = bool(st.session_state.get(PRESENTER_KEY, False))
    if presenter:
        st.html(PRESENTER_CSS)
    st.title("Teaching: cases and demonstrations")
    if not presenter:
        render.disclaimer()
    priors = active_priors.badge()
    st.toggle(
        "Presenter mode (large type, no sidebar)",
        key=PRESENTER_KEY,
        help="For a projector: hides the sidebar and the step's computed note, enlarges text.",
    )
    cases_tab, demos_tab = st.tabs(["Published cases", "Demonstrations"])
    try:
        with cases_tab:
            _case_walk(priors, presenter)
        with demos_tab:
            _demos(priors)
    except PoemsError as err:
        st.error(plain(err))


main()
