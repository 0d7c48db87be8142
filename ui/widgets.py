"""Case entry in the sidebar, shared by every page.

The widgets' values live in session state; a copy (``_case_values``) survives page switches
and is what a loaded file, example or link writes. :func:`case_entry` draws the sidebar and
returns the case made of every usable entry; an entry that cannot be used (out of range, or
contradicting another) is marked at its control with the fix, and left out of the case.
A finding that another entry decides (thrombocytosis from the platelet count, an aggregate
from its parts) is shown in its control, greyed, with what set it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from model.case import Case
from model.exceptions import PoemsError
from model.formatting import state_words
from model.vocabulary import FINDINGS, SEXES, Group, Kind
from ui import compute
from ui import state as s

VALUES_KEY = "_case_values"
BOOTED_KEY = "_booted"
LOAD_ERROR_KEY = "_load_error"
NOTICE_KEY = "_notice"
PAGE_KEY = "_page"
DERIVED_KEY = "_derived"
UPLOAD_KEY = "case_upload"
EXAMPLE_KEY = "example_choice"
PASTE_KEY = "case_paste"
MAX_UPLOAD_MB = 1

_TRI_LABELS = {"present": "Yes", "absent": "No", s.NOT_ASSESSED: "Unknown"}
"""Button words: Yes = present, No = absent, Unknown = not assessed (left out of the case,
never absent). Short, so the three fit on one line in the sidebar."""


@dataclass(frozen=True)
class Entry:
    """What case entry produced this run: the case of every usable entry, and the entries
    left out (each with its fix)."""

    case: Case
    problems: tuple[s.Problem, ...] = ()

    @property
    def error(self) -> str | None:
        """All problems in one message (``None`` when every entry was used)."""
        if not self.problems:
            return None
        return " ".join(p.message for p in self.problems)


def _all_keys() -> tuple[str, ...]:
    return tuple(s.default_values())


def _boot() -> None:
    """First run of a session: start empty, or from the case in the link."""
    ss = st.session_state
    if BOOTED_KEY in ss and VALUES_KEY in ss:
        return
    values = s.default_values()
    link = st.query_params.get_all(s.LINK_PARAM)
    if link:
        values, error = _values_from_link(link[-1])
        if error:
            ss[LOAD_ERROR_KEY] = error
        else:
            ss[NOTICE_KEY] = "Case opened from the link."
    ss[VALUES_KEY] = values
    ss[BOOTED_KEY] = True


def _values_from_link(code: str) -> tuple[dict[str, Any], str]:
    """Widget values from a link's good parts, and the message naming what was left out."""
    case, problems = s.decode_link(code)
    try:
        values = s.values_from_case(case)
    except Exception:  # the app's boundary: a link never breaks the session
        values, problems = s.default_values(), (*problems, s.Problem("", "Link", "unreadable"))
    if not problems:
        return values, ""
    if not case.findings and case.to_dict() == {"findings": {}}:
        lead = "This link could not be opened."
    else:
        lead = "The link was opened without the parts that could not be used."
    return values, lead + " " + " ".join(s.plain(p.message) for p in problems)


LINK_WRITTEN_KEY = "_link_written"


def _follow_history(page: str) -> None:
    """Back / Forward changed the address: show the case it holds (before widgets draw).

    The app writes the case into the address after every change and remembers what it
    wrote; an address it did not write came from the browser's history. A switch to another
    page drops the address's query, which is not a step back: the session's case stays.
    """
    ss = st.session_state
    if LINK_WRITTEN_KEY not in ss:
        return
    code = st.query_params.get(s.LINK_PARAM)
    if code == ss[LINK_WRITTEN_KEY]:
        return
    if not code and ss.get(PAGE_KEY) != page:
        return
    values, error = _values_from_link(code) if code else (s.default_values(), "")
    for key, value in values.items():
        ss[key] = value
    ss[VALUES_KEY] = values
    ss.pop(DERIVED_KEY, None)
    ss[LINK_WRITTEN_KEY] = code
    if error:
        ss[LOAD_ERROR_KEY] = error


def _restore(page: str) -> None:
    """Give every widget its value: after a page switch the widgets start afresh, so the
    remembered values are written back."""
    ss = st.session_state
    switched = ss.get(PAGE_KEY) != page
    ss[PAGE_KEY] = page
    present = set(ss.keys())  # one read of the state, not one per widget
    for key, value in ss[VALUES_KEY].items():
        if switched or key not in present:
            ss[key] = value


def _remember(values: Mapping[str, Any]) -> None:
    st.session_state[VALUES_KEY] = {key: values.get(key) for key in _all_keys()}


def load_case(case: Case, notice: str) -> None:
    """Show ``case`` in every widget (called from callbacks, before widgets are drawn)."""
    ss = st.session_state
    values = s.values_from_case(case)
    for key, value in values.items():
        ss[key] = value
    ss[VALUES_KEY] = values
    ss[NOTICE_KEY] = notice
    ss.pop(LOAD_ERROR_KEY, None)
    ss.pop(DERIVED_KEY, None)


def _on_upload() -> None:
    uploaded = st.session_state.get(UPLOAD_KEY)
    if uploaded is None:
        return
    try:
        case = Case.from_json(uploaded.getvalue(), where=uploaded.name)
    except PoemsError as err:
        st.session_state[LOAD_ERROR_KEY] = f"The file could not be loaded. {s.plain(err)}"
        return
    load_case(case, f"Loaded {s.plain(uploaded.name)}.")


def _on_paste() -> None:
    text = st.session_state.get(PASTE_KEY) or ""
    try:
        case = Case.from_json(text, where="pasted case")
    except PoemsError as err:
        st.session_state[LOAD_ERROR_KEY] = f"The pasted case could not be loaded. {s.plain(err)}"
        return
    load_case(case, "Loaded the pasted case.")


def _on_example() -> None:
    choice = st.session_state.get(EXAMPLE_KEY)
    paths = {p.stem: p for p in s.example_paths()}
    if choice not in paths:
        return
    try:
        case = Case.load(paths[choice])
    except PoemsError as err:
        st.session_state[LOAD_ERROR_KEY] = f"The example could not be loaded. {s.plain(err)}"
        return
    load_case(case, f"Loaded the example '{s.example_title(paths[choice])}'.")


def _on_clear() -> None:
    load_case(Case(), "Started a new, empty case.")


def _settings() -> Mapping[str, str]:
    """Setting id -> label from the default priors (empty until the priors land)."""

    return compute.setting_labels()


def _tri_state(fid: str, derived: s.Derived | None) -> None:
    spec = FINDINGS[fid]
    options: tuple[str, ...]
    if spec.kind is Kind.CATEGORY:
        options = (*spec.states, s.NOT_ASSESSED)
        labels = {o: _TRI_LABELS.get(o, state_words(o)) for o in options}
    else:
        options = s.TRI_STATES
        labels = _TRI_LABELS
    st.segmented_control(
        spec.label,
        options,
        key=s.widget_key(fid),
        format_func=labels.__getitem__,
        help=spec.note or None,
        disabled=derived is not None,
    )
    if derived is not None:
        st.caption(f"{state_words(derived.state).capitalize()}: {derived.because}.")


def _number(fid: str) -> None:
    spec = FINDINGS[fid]
    st.number_input(
        f"{spec.label} ({spec.unit})",
        value=None,
        key=s.widget_key(fid),
        help=spec.note or None,
        placeholder="not measured",
        format="%g",
    )


def _vegf() -> None:
    spec = FINDINGS["vegf"]
    st.number_input(
        "VEGF value",
        value=None,
        key=s.KEY_VEGF_VALUE,
        help=spec.note,
        placeholder="not measured",
        format="%g",
    )
    st.segmented_control("Unit", s.vegf_units(), key=s.KEY_VEGF_UNIT)
    st.segmented_control(
        "Specimen",
        s.vegf_specimens(),
        key=s.KEY_VEGF_SPECIMEN,
        format_func=str.capitalize,
        help="Serum runs about 3.3x plasma (platelets release VEGF on clotting).",
    )
    st.number_input(
        "Lab upper limit of normal (same unit)",
        value=None,
        key=s.KEY_VEGF_ULN,
        placeholder="default for the specimen",
        format="%g",
        help="Leave empty to use the documented default ULN for the specimen.",
    )


def _finding(fid: str, derived: Mapping[str, s.Derived], problems: Mapping[str, str]) -> None:
    kind = FINDINGS[fid].kind
    if kind is Kind.MEASUREMENT:
        _vegf()
        for key in (s.KEY_VEGF_VALUE, s.KEY_VEGF_ULN):
            _field_problem(problems.get(key))
        return
    if kind is Kind.NUMBER:
        _number(fid)
    else:
        _tri_state(fid, derived.get(fid))
    _field_problem(problems.get(s.widget_key(fid)))


def _field_problem(message: str | None) -> None:
    """The problem with the entry just drawn, right under it."""
    if message:
        st.error(s.plain(message), icon=":material/error:")


def _load_and_save(case: Case | None) -> None:
    with st.expander("Load, save or share a case", expanded=False):
        names = [p.stem for p in s.example_paths()]
        titles = {p.stem: s.example_title(p) for p in s.example_paths()}
        st.selectbox(
            "Start from an example",
            names,
            index=None,
            key=EXAMPLE_KEY,
            format_func=titles.__getitem__,
            placeholder="Choose an example case",
            on_change=_on_example,
        )
        st.button("New empty case", on_click=_on_clear, key="new_case")
        st.file_uploader(
            "Open a case file (JSON)",
            type=["json"],
            key=UPLOAD_KEY,
            on_change=_on_upload,
            max_upload_size=MAX_UPLOAD_MB,
            help="A case file in the JSON format of the specification; at most 1 MB.",
        )
        st.text_area("Or paste a case (JSON)", key=PASTE_KEY, height=80)
        st.button("Load pasted case", on_click=_on_paste, key="load_pasted")
        if case is not None:
            st.download_button(
                "Save this case (JSON)",
                case.to_json(),
                file_name=f"{s.file_stem(case.id)}.json",
                mime="application/json",
                on_click="ignore",
            )
        st.caption("The address bar always holds the current case: copy it to share.")


def _demographics(problems: Mapping[str, str]) -> None:
    st.text_input("Case id (optional)", key=s.KEY_ID)
    st.number_input(
        "Age (years)", value=None, key=s.KEY_AGE, placeholder="not given", step=1.0, format="%g"
    )
    _field_problem(problems.get(s.KEY_AGE))
    st.segmented_control(
        "Sex",
        SEXES,
        key=s.KEY_SEX,
        format_func=str.capitalize,
        help="Sets the hemoglobin and hematocrit thresholds. Click again to clear.",
    )
    settings = dict(_settings())
    current = st.session_state.get(s.KEY_SETTING)
    if current and current not in settings:
        settings[current] = current.replace("_", " ")
    st.selectbox(
        "Clinical setting (sets the base rate)",
        list(settings),
        index=None,
        key=s.KEY_SETTING,
        format_func=lambda sid: settings.get(sid, sid),
        placeholder="default setting" if settings else "available when the priors land",
    )
    _field_problem(problems.get(s.KEY_SETTING))


def case_entry(page: str) -> Entry:
    """Draw the sidebar case entry and return this run's case and the entries left out.

    ``page`` names the calling page, so a page switch restores the entered values.
    """
    _boot()
    _follow_history(page)
    _restore(page)
    ss = st.session_state
    values = ss.to_dict()
    derived = s.derived_states(values)
    for key in ss.get(DERIVED_KEY, ()):  # a control no longer decided elsewhere starts empty
        if key not in derived:
            ss[s.widget_key(key)] = s.NOT_ASSESSED
            values[s.widget_key(key)] = s.NOT_ASSESSED
    for fid, fact in derived.items():
        ss[s.widget_key(fid)] = fact.state
        values[s.widget_key(fid)] = fact.state
    ss[DERIVED_KEY] = tuple(derived)
    try:
        case, problems = s.case_and_problems(values)
    except Exception:  # the app's boundary: entry never breaks the session
        case, problems = Case(), (s.Problem("", "Case", "The entries could not be read."),)
    at_field = {p.key: p.message for p in problems if p.key}
    with st.sidebar:
        st.header("Case")
        _load_and_save(case)
        _demographics(at_field)
        for title, groups in s.SECTIONS:
            keys = {s.widget_key(f) for g in groups for f in s.findings_in(g)}
            if any(f == "vegf" for g in groups for f in s.findings_in(g)):
                keys |= {s.KEY_VEGF_VALUE, s.KEY_VEGF_ULN}
            open_ = title == "Mandatory criteria" or bool(keys & set(at_field))
            with st.expander(title, expanded=open_):
                for group in groups:
                    if len(groups) > 1:
                        st.markdown(f"**{_group_title(group)}**")
                    for fid in s.findings_in(group):
                        _finding(fid, derived, at_field)
    _remember(values)
    _sync_link(case)
    return Entry(case, problems)


MAIN_PAGE = "app.py"
MAIN_PAGE_TITLE = "Assessment"


def page_titles() -> dict[str, str]:
    """Page file -> its name in the navigation (the main page is "Assessment", not "app";
    ``app.py`` builds the navigation from this)."""
    pages = sorted((s.EXAMPLES_DIR.parent / "pages").glob("*.py"))
    titles = {MAIN_PAGE: MAIN_PAGE_TITLE}
    for path in pages:
        words = path.stem.split("_", 1)[-1] if path.stem[:1].isdigit() else path.stem
        titles[f"pages/{path.name}"] = words.replace("_", " ")
    return titles


def _group_title(group: Group) -> str:
    return str(group.value).replace("_", " ").capitalize()


def _sync_link(case: Case) -> None:
    """Keep the case in the address bar so the link reopens the same what-if."""
    if case.to_dict() == {"findings": {}}:
        if s.LINK_PARAM in st.query_params:
            del st.query_params[s.LINK_PARAM]
        st.session_state[LINK_WRITTEN_KEY] = None
        return
    code = s.encode_case(case)
    if st.query_params.get(s.LINK_PARAM) != code:
        st.query_params[s.LINK_PARAM] = code
    st.session_state[LINK_WRITTEN_KEY] = code


def messages(entry: Entry) -> None:
    """Show load notices and errors at the top of the page (messages, never tracebacks)."""
    ss = st.session_state
    error = ss.pop(LOAD_ERROR_KEY, None)
    if error:
        st.error(error)
    notice = ss.pop(NOTICE_KEY, None)
    if notice:
        st.toast(notice)
    if entry.problems:
        names = ", ".join(s.plain(p.name) for p in entry.problems)
        st.warning(
            f"**Left out of the answer below: {names}.** Everything shown is computed without "
            "these entries; the sidebar marks each one with its fix.",
            icon=":material/error:",
        )
