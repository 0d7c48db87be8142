"""The Streamlit app, driven headless with AppTest: the screen shows the core's answer.

Every expectation is computed by calling the core on the same case (never a literal), so
these tests follow the model as it changes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

import model.assessment  # noqa: F401  (pays pgmpy's slow import outside AppTest's timeout)
from model.assessment import assess, percent
from model.case import Case
from model.criteria import evaluate
from model.vocabulary import label
from ui import render, state

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
TIMEOUT = 30


def start(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if query:
        at.query_params.update(query)
    at.run()
    assert not at.exception
    return at


def load_example(at: AppTest, name: str) -> AppTest:
    at.selectbox(key="example_choice").set_value(name).run()
    assert not at.exception
    return at


def case_on_screen(at: AppTest) -> Case:
    """The case the app holds, read back from the link it keeps in the address bar."""
    return state.decode_case(at.query_params[state.LINK_PARAM])


def shown_verdict(at: AppTest) -> str:
    """The seed verdict badge drawn first in the criteria panel."""
    badges = [m.value for m in at.main.markdown if "-badge[" in m.value]
    assert badges, "no verdict shown"
    return badges[0]


def errors(at: AppTest) -> list[str]:
    """Error texts as shown (Markdown escapes removed: messages quote user input literally)."""
    return [re.sub(r"\\(.)", r"\1", e.value) for e in at.error]


def test_empty_app_says_it_is_decision_support_and_shows_no_error() -> None:
    at = start()
    assert any("Decision support, not a diagnosis" in i.value for i in at.info)
    assert errors(at) == []
    assert state.LINK_PARAM not in at.query_params


@pytest.mark.parametrize("name", [p.stem for p in state.example_paths()])
def test_example_verdict_on_screen_is_the_cores(name: str) -> None:
    at = load_example(start(), name)
    case = case_on_screen(at)
    assert case.to_dict() == Case.load(ROOT / "examples" / f"{name}.json").to_dict()
    assert shown_verdict(at) == f"#### {render.VERDICT_BADGE[evaluate(case).verdict]}"


def test_toggling_a_finding_updates_case_link_and_verdict() -> None:
    at = load_example(start(), "classic_poems")
    before = evaluate(case_on_screen(at)).verdict
    at.segmented_control(key=state.widget_key("polyneuropathy")).set_value("absent").run()
    case = case_on_screen(at)
    assert case.state("polyneuropathy") == "absent"
    after = evaluate(case).verdict
    assert after != before
    assert shown_verdict(at) == f"#### {render.VERDICT_BADGE[after]}"
    trace = next(t.value for t in at.main.table if "role" in t.value.columns)
    expected = [render.words(c.status) for c in evaluate(case).criteria]
    assert list(trace["status"]) == expected


def shown_probability(at: AppTest) -> str:
    metrics = [m for m in at.main.metric if m.label.startswith("P(POEMS")]
    assert len(metrics) == 1
    return str(metrics[0].value)


@pytest.mark.parametrize("name", ["classic_poems", "lambda_clone_with_amyloid"])
def test_posterior_on_screen_is_the_cores_before_and_after_a_toggle(name: str) -> None:
    at = load_example(start(), name)
    case = case_on_screen(at)
    assert shown_probability(at) == percent(assess(case).posterior_poems)
    at.segmented_control(key=state.widget_key("hypertrichosis")).set_value("present").run()
    changed = case_on_screen(at)
    assert changed.to_dict() == case.with_finding("hypertrichosis", "present").to_dict()
    answer = assess(changed)
    assert shown_probability(at) == percent(answer.posterior_poems)
    assert shown_verdict(at) == f"#### {render.VERDICT_BADGE[answer.verdict]}"
    assert any(answer.agreement in a.value for a in [*at.main.info, *at.main.warning])
    labels = [b.label for b in at.main.download_button]
    assert "One-page report (HTML)" in labels


def test_what_if_table_matches_the_core_for_every_unassessed_finding() -> None:
    at = load_example(start(), "early_workup_vegf_pending")
    at.session_state["analysis_tab"] = "What if"  # open the tab (AppTest cannot click tabs)
    at.run()
    case = case_on_screen(at)
    table = _what_if_frame(at)
    from ui.whatif import candidates

    assert list(table["finding"]) == [label(f) for f in candidates(case)]
    for fid, row in zip(candidates(case)[:6], table.itertuples(index=False), strict=False):
        for finding_state, posterior_column, verdict_column in (
            ("present", 2, 3),
            ("absent", 4, 5),
        ):
            variant = assess(case.with_finding(fid, finding_state))
            assert row[posterior_column] == pytest.approx(variant.posterior_poems, abs=1e-9)
            assert row[verdict_column] == render.words(variant.verdict)


def test_interval_and_next_tests_on_screen_are_the_analysis_modules() -> None:
    at = load_example(start(), "early_workup_vegf_pending")
    case = case_on_screen(at)
    a = assess(case)
    interval = a.credible_interval
    assert interval.n_draws == 2000
    line = f"credible interval: **{percent(interval.low)} to {percent(interval.high)}**"
    assert any(line in m.value for m in at.main.markdown), line
    tests = a.next_tests
    shown = [d.value for d in at.main.dataframe if "expected information (bits)" in d.value]
    assert len(shown) == 1
    assert list(shown[0]["test"]) == [t.label for t in tests[:10]]
    settles = list(shown[0]["chance it settles the seed verdict"])
    assert settles == pytest.approx([t.p_settles_seed for t in tests[:10]])
    assert a.verdict != "indeterminate" or max(settles) > 0
    for tab in ("Why: what moved it", "Which numbers matter"):
        at.session_state["analysis_tab"] = tab
        at.run()
        assert not at.exception
        assert [e.value for e in at.error] == []


def _what_if_frame(at: AppTest) -> Any:
    frames = [d.value for d in at.main.dataframe if "verdict if present" in d.value.columns]
    assert len(frames) == 1
    return frames[0]


def test_the_setting_changes_the_base_rate_and_the_posterior() -> None:
    at = load_example(start(), "early_workup_vegf_pending")
    at.selectbox(key=state.KEY_SETTING).set_value("general_population").run()
    case = case_on_screen(at)
    assert case.setting == "general_population"
    assert shown_probability(at) == percent(assess(case).posterior_poems)


def test_not_assessed_removes_the_finding_from_the_case() -> None:
    at = load_example(start(), "classic_poems")
    key = state.widget_key("splenomegaly")
    at.segmented_control(key=key).set_value(state.NOT_ASSESSED).run()
    assert "splenomegaly" not in case_on_screen(at).findings


def test_a_link_reopens_the_same_case() -> None:
    case = Case.load(ROOT / "examples" / "early_workup_vegf_pending.json")
    at = start({state.LINK_PARAM: state.encode_case(case)})
    assert errors(at) == []
    assert case_on_screen(at).to_dict() == case.to_dict()
    assert at.segmented_control(key=state.widget_key("light_chain")).value == "lambda"
    assert shown_verdict(at) == f"#### {render.VERDICT_BADGE[evaluate(case).verdict]}"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("not-a-case", "This link could not be opened"),
        ("v1.e30ZZZ", "intact case code"),
        ("v1.eyJmaW5kaW5ncyI6eyJ4eCI6MX19", "finding id"),  # {"findings":{"xx":1}}
    ],
)
def test_a_bad_link_shows_a_clear_error_and_no_exception(code: str, expected: str) -> None:
    at = start({state.LINK_PARAM: code})
    assert any(expected in e for e in errors(at)), errors(at)
    assert not at.exception


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{not json", "valid JSON"),
        (b'{"findings": {"polyneuropaty": "present"}}', "Did you mean 'polyneuropathy'"),
        (b'{"findings": {"platelets": 45000}}', "Enter 45"),
        (b"\x80\x04\x95pickle", "valid JSON"),
    ],
)
def test_a_bad_upload_shows_the_field_and_the_fix(content: bytes, expected: str) -> None:
    at = start()
    at.file_uploader(key="case_upload").set_value(("bad.json", content, "application/json"))
    at.run()
    assert not at.exception
    assert any(expected in e and "bad.json" in e for e in errors(at)), errors(at)


def test_user_text_in_an_error_is_shown_literally_not_as_markdown() -> None:
    hostile = '{"findings": {"polyneuropathy": "[click](http://example.org) :red[x]"}}'
    at = start()
    at.text_area(key="case_paste").set_value(hostile)
    at.button(key="load_pasted").click().run()
    raw = [e.value for e in at.error]
    assert len(raw) == 1
    assert r"\[click\](http\://example.org) \:red\[x\]" in raw[0]


def test_a_good_upload_loads_the_case() -> None:
    raw = (ROOT / "examples" / "classic_poems.json").read_bytes()
    at = start()
    at.file_uploader(key="case_upload").set_value(("classic_poems.json", raw, "application/json"))
    at.run()
    assert errors(at) == []
    assert case_on_screen(at).to_dict() == Case.from_json(raw).to_dict()


def test_pasted_json_loads_or_says_what_to_fix() -> None:
    at = start()
    at.text_area(key="case_paste").set_value('{"findings": {"light_chain": "lamda"}}')
    at.button(key="load_pasted").click().run()
    assert not at.exception
    assert any("light_chain" in e and "'lambda'" in e for e in errors(at)), errors(at)
    good = (ROOT / "examples" / "cidp_looking_neuropathy.json").read_text()
    at.text_area(key="case_paste").set_value(good)
    at.button(key="load_pasted").click().run()
    assert errors(at) == []
    assert case_on_screen(at).to_dict() == Case.from_json(good).to_dict()


def test_new_empty_case_clears_the_findings_and_the_link() -> None:
    at = load_example(start(), "classic_poems")
    at.button(key="new_case").click().run()
    assert not at.exception
    assert state.LINK_PARAM not in at.query_params
    assert at.segmented_control(key=state.widget_key("polyneuropathy")).value == state.NOT_ASSESSED


def test_an_implausible_number_is_an_error_naming_the_field_not_an_exception() -> None:
    at = start()
    at.number_input(key=state.widget_key("platelets")).set_value(45000).run()
    assert not at.exception
    assert any("platelets" in e and "10^9/L" in e for e in errors(at)), errors(at)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_and_keeps_the_case(page: str) -> None:
    at = load_example(start(), "classic_poems")
    case = case_on_screen(at)
    at.switch_page(page).run()
    assert not at.exception
    assert errors(at) == []
    at.switch_page("app.py").run()
    assert at.segmented_control(key=state.widget_key("polyneuropathy")).value == "present"
    assert case_on_screen(at).to_dict() == case.to_dict()
