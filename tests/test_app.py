"""The Streamlit app, driven headless with AppTest: the screen shows the core's answer.

Every expectation is computed by calling the core on the same case (never a literal), so
these tests follow the model as it changes.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

import model.assessment  # noqa: F401  (pays pgmpy's slow import outside AppTest's timeout)
from model.assessment import assess
from model.case import Case
from model.criteria import evaluate
from model.formatting import clinical_text, interval_text, percent
from model.report import decisive_tests
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


def headline(case: Case) -> str:
    """P(POEMS) as the app writes it: rounded to what the credible interval supports."""
    return render.headline(assess(case))


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


def render_headline(at: AppTest) -> str:
    """P(POEMS) as drawn: the one heading in the headline block (``render.headline_block``)."""
    heads = [h.value for h in at.main.header]
    assert len(heads) == 1, heads
    return str(heads[0])


def shown_probability(at: AppTest) -> str:
    return render_headline(at)


@pytest.mark.parametrize("name", ["classic_poems", "lambda_clone_with_amyloid"])
def test_posterior_on_screen_is_the_cores_before_and_after_a_toggle(name: str) -> None:
    at = load_example(start(), name)
    case = case_on_screen(at)
    assert shown_probability(at) == headline(case)
    at.segmented_control(key=state.widget_key("hypertrichosis")).set_value("present").run()
    changed = case_on_screen(at)
    assert changed.to_dict() == case.with_finding("hypertrichosis", "present").to_dict()
    answer = assess(changed)
    assert shown_probability(at) == headline(changed)
    assert shown_verdict(at) == f"#### {render.VERDICT_BADGE[answer.verdict]}"
    agreement = clinical_text(answer.agreement)
    assert any(agreement in a.value for a in [*at.main.info, *at.main.warning])
    labels = [b.label for b in at.main.download_button]
    assert "One-page report (HTML)" in labels


def test_what_if_table_is_the_assessments_own_next_test_figures() -> None:
    at = load_example(start(), "early_workup_vegf_pending")
    at.session_state["analysis_tab"] = "What if"  # open the tab (AppTest cannot click tabs)
    at.run()
    case = case_on_screen(at)
    a = assess(case)
    table = _what_if_frame(at)
    binary = {t.label: t for t in a.next_tests if set(t.p_poems_if) == {"present", "absent"}}
    assert set(table["finding"]) == set(binary)
    swings = []
    for row in table.itertuples(index=False):
        test = binary[row[0]]
        assert row[1] == pytest.approx(test.p_poems_if["present"], abs=1e-12)
        assert row[3] == pytest.approx(test.p_poems_if["absent"], abs=1e-12)
        assert row[2] == render.words(test.seed_verdict_if["present"])
        swings.append(max(abs(v - a.posterior_poems) for v in test.p_poems_if.values()))
    assert swings == sorted(swings, reverse=True)  # largest effect first
    for fid, finding_state in (("sclerotic_bone_lesion", "present"), ("papilledema", "absent")):
        row = table[table["finding"] == label(fid)].iloc[0]
        variant = assess(case.with_finding(fid, finding_state))
        column = f"P(POEMS) if {finding_state}"
        assert row[column] == pytest.approx(variant.posterior_poems, abs=1e-9)


def test_interval_and_next_tests_on_screen_are_the_analysis_modules() -> None:
    at = load_example(start(), "early_workup_vegf_pending")
    case = case_on_screen(at)
    a = assess(case)
    interval = a.credible_interval
    assert interval.n_draws == 2000
    line = f"credible interval: **{interval_text(interval.low, interval.high)}**"
    assert any(line in m.value for m in at.main.markdown), line
    useful = decisive_tests(a.next_tests, 8)
    assert useful
    shown = [d.value for d in at.main.dataframe if "settles the criteria" in d.value]
    assert len(shown) == 1
    assert list(shown[0]["test"]) == [t.label for t in useful]
    assert list(shown[0]["settles the criteria"]) == [percent(t.p_settles_seed) for t in useful]
    assert "None" not in shown[0].to_string()
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
    assert shown_probability(at) == headline(case)


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
        ("v1.eyJmaW5kaW5ncyI6eyJ4eCI6MX19", "Unknown finding"),  # {"findings":{"xx":1}}
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
    assert r"\[click\](http\:" + "\u2060" + r"//example.org) \:red\[x\]" in raw[0]


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
    assert any("Platelet count" in e and "Enter 45" in e for e in errors(at)), errors(at)
    assert shown_probability(at)  # the answer stays on screen, computed without the count


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


def test_a_bad_field_is_marked_at_the_field_and_the_answer_stays() -> None:
    at = load_example(start(), "classic_poems")
    case = case_on_screen(at)
    at.number_input(key=state.KEY_VEGF_VALUE).set_value(-50).run()
    assert not at.exception
    without = case.with_finding("vegf", None)
    assert case_on_screen(at).to_dict() == without.to_dict()
    assert shown_probability(at) == headline(without)
    assert shown_verdict(at) == f"#### {render.VERDICT_BADGE[evaluate(without).verdict]}"
    assert any("VEGF" in e.value for e in at.sidebar.error)
    assert any("Left out of the answer below: VEGF" in w.value for w in at.main.warning)


def test_a_platelet_count_sets_thrombocytosis_shown_as_such() -> None:
    at = start()
    at.number_input(key=state.widget_key("platelets")).set_value(650).run()
    control = at.segmented_control(key=state.widget_key("thrombocytosis"))
    assert control.value == "present" and control.disabled
    assert any("platelet count" in c.value for c in at.sidebar.caption)
    assert "thrombocytosis" not in case_on_screen(at).findings
    at.number_input(key=state.widget_key("platelets")).set_value(None).run()
    control = at.segmented_control(key=state.widget_key("thrombocytosis"))
    assert control.value == state.NOT_ASSESSED and not control.disabled


def test_a_crafted_link_leaves_the_session_usable() -> None:
    raw = b'{"age": ' + b"9" * 400 + b', "findings": {"polyneuropathy": []}}'
    code = state.LINK_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    at = start({state.LINK_PARAM: code})
    assert not at.exception
    assert any("Polyneuropathy" in e and "Age" in e for e in errors(at)), errors(at)
    at.run()  # a rerun (the old crash: the case values were lost)
    assert not at.exception
    at.segmented_control(key=state.widget_key("papilledema")).set_value("present").run()
    assert case_on_screen(at).findings == {"papilledema": "present"}
    assert shown_probability(at)


def test_the_pages_have_proper_names_and_the_main_page_is_not_app() -> None:
    from ui.widgets import page_titles

    titles = page_titles()
    assert titles["app.py"] == "Assessment"
    assert set(titles) == {"app.py", *PAGES}
    assert all(t and "_" not in t and not t[0].isdigit() for t in titles.values())
