"""The teaching, evaluation and compare-priors pages, driven headless with AppTest.

Expectations come from calling the core on the same inputs, so the tests follow the model.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import model.inference.exact  # noqa: F401  (pays pgmpy's slow import outside the timeout)
from model.evaluation.compare import diff_parameters, priors_from_files
from model.parameters import default_directory, load_priors
from model.teaching.library import load_library
from model.teaching.walk import walk

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 30


@pytest.fixture(scope="module", autouse=True)
def _warm_networks() -> None:
    """Build each setting's network once outside AppTest's 30 s timeout (a cold build takes
    tens of seconds on a loaded machine; the app pays it once per process)."""
    from model.case import Case
    from model.inference.exact import posterior

    empty = Case.from_dict({"findings": {}})
    for setting in {c.setting for c in load_library().values()} | {"neuropathy_clinic"}:
        if setting:
            posterior(empty, setting=setting)


def page(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


SHOWN = ("poems_kappa_atypical", "anti_mag_igm_neuropathy", "tafro_multicentric_castleman")
"""One POEMS case whose verdict flips, one mimic with a discriminator, one Castleman case;
every case's steps are walked at the core level in tests/test_teaching_walk.py."""


def test_teaching_cases_reveal_one_step_at_a_time() -> None:
    from model.assessment import DIAGNOSIS_LABELS
    from model.formatting import interval_text, probability

    at = page("4_Teaching.py")
    library = load_library()
    assert at.selectbox(key="teach_case").options == [c.title for c in library.values()]
    for case_id in SHOWN:
        tcase = library[case_id]
        at.selectbox(key="teach_case").set_value(case_id).run()
        assert not at.exception and not at.error, case_id
        steps = walk(tcase, setting=tcase.setting)  # with intervals, as the page shows
        published = DIAGNOSIS_LABELS[tcase.diagnosis]
        for shown in range(1, len(steps) + 1):
            table = at.dataframe[0].value
            assert list(table["step"]) == list(range(1, shown + 1))  # the table grows
            # each P(POEMS) with the digits its interval supports, as on the assessment page
            expected = [probability(s.p_poems, s.interval) for s in steps[:shown]]
            assert list(table["P(POEMS)"]) == expected
            assert at.metric[0].value == expected[-1]
            assert list(table["90% interval"]) == [
                interval_text(*s.interval) for s in steps[:shown] if s.interval is not None
            ]
            notes = " ".join(m.value for m in at.markdown).replace("\\", "")
            assert steps[shown - 1].teaching_note.split(",")[0] in notes
            captions = " ".join(c.value for c in at.caption)
            # the ending (summary, source, published diagnosis) only after the last step
            assert (f"Published diagnosis: {published}" in captions) == (shown == len(steps))
            assert "{" not in notes  # findings as clinical words, never JSON
            if shown < len(steps):
                at.button(key="teach_next").click().run()
                assert not at.exception, (case_id, shown)
        at.button(key="teach_prev").click().run()
        assert len(at.dataframe[0].value) == len(steps) - 1


def test_a_teaching_step_opens_in_the_assessment_page() -> None:
    from ui import state

    at = page("4_Teaching.py")
    tcase = load_library()[SHOWN[1]]
    at.selectbox(key="teach_case").set_value(SHOWN[1]).run()
    at.button(key="teach_next").click().run()
    [link] = at.get("link_button")
    assert link.proto.url == f"./?{state.LINK_PARAM}={state.encode_case(tcase.case_at(1))}"
    assert state.decode_case(link.proto.url.split("=", 1)[1]) == tcase.case_at(1)


def test_presenter_mode_hides_the_sidebar_and_computed_notes() -> None:
    at = page("4_Teaching.py")
    before = len(at.caption)
    at.toggle(key="teach_presenter").set_value(True).run()
    assert not at.exception
    assert any("stSidebar" in h.proto.body for h in at.get("html"))
    assert len(at.caption) < before


def test_teaching_demos_render() -> None:
    at = page("4_Teaching.py")
    radio = at.radio(key="teach_demo")
    for option in radio.options:
        at.radio(key="teach_demo").set_value(option).run()
        assert not at.exception and not at.error, option
    at.radio(key="teach_demo").set_value("Explaining away").run()
    at.selectbox(key="teach_mimic").set_value("castleman_disease").run()
    assert not at.exception
    assert "Castleman disease" in " ".join(at.dataframe[-1].value["most likely"])
    at.radio(key="teach_demo").set_value("Criteria versus probability").run()
    assert not [j for j in at.get("json")]  # patients as clinical summaries, not raw JSON


def test_evaluation_page_on_the_bundled_teaching_cohort() -> None:
    from ui.render import tab_title

    at = page("5_Evaluation.py")
    at.selectbox(key="ev_bundled").set_value("teaching_cases").run()
    assert at.selectbox(key="ev_label").value == "published_diagnosis"
    at.button(key="ev_run").click().run()
    assert not at.exception and not at.error
    text = " ".join(m.value for m in at.markdown)
    assert "12 rows, 12 scored" in text
    assert tab_title("seed") in list(at.main.dataframe[0].value["rule set"])


def test_evaluation_page_reports_a_wrong_label_column() -> None:
    at = page("5_Evaluation.py")
    at.selectbox(key="ev_bundled").set_value("teaching_cases").run()
    at.selectbox(key="ev_label").set_value("id").run()
    at.button(key="ev_run").click().run()
    assert not at.exception
    assert at.error and "a column of diagnosis states" in at.error[0].value


def _zip(texts: dict[str, str]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in texts.items():
            archive.writestr(f"priors/{name}", text)
    return buffer.getvalue()


def test_compare_page_with_an_uploaded_zip() -> None:
    source = default_directory()
    texts = {
        name: (source / name).read_text()
        for name in ("references.toml", "settings.toml", "latent.toml", "findings.toml")
    }
    edited = texts["findings.toml"].replace("leak = {p = 0.03,", "leak = {p = 0.05,", 1)
    assert edited != texts["findings.toml"]
    b = priors_from_files({"findings.toml": edited.encode()})
    expected = [d.key for d in diff_parameters(load_priors(source), b)]
    at = page("6_Compare_priors.py")
    assert "folder" not in " ".join(at.radio(key="cmp_mode").options)  # no server paths
    at.radio(key="cmp_mode").set_value("Upload a prior set (zip)").run()
    data = _zip({**texts, "findings.toml": edited})
    at.file_uploader(key="cmp_upload").set_value(("b.zip", data, "application/zip")).run()
    assert not at.exception and not at.error
    assert list(at.main.dataframe[0].value["key"]) == expected == ["findings.hepatomegaly.leak"]
    assert at.subheader[0].value == "1 parameter(s) differ"
    shown = " ".join(m.value for m in at.markdown)
    assert str(source) not in shown and "/" not in shown.replace("</", "")


def test_compare_page_bad_upload_is_an_escaped_error_without_paths() -> None:
    at = page("6_Compare_priors.py")
    at.radio(key="cmp_mode").set_value("Upload a prior set (zip)").run()
    source = default_directory()
    texts = {
        name: (source / name).read_text()
        for name in ("references.toml", "settings.toml", "latent.toml", "findings.toml")
    }
    texts["settings.toml"] = texts["settings.toml"].replace(
        'kind = "inferred"', 'kind = "![x](http://127.0.0.1:9/toml.png)"', 1
    )
    at.file_uploader(key="cmp_upload").set_value(("b.zip", _zip(texts), "x")).run()
    assert not at.exception
    assert at.error and r"!\[x\]" in at.error[0].value
    assert "/tmp" not in at.error[0].value and "poems-priors-" not in at.error[0].value


def test_compare_core_reads_the_priors_page_zip() -> None:
    """The zip the Priors page offers loads as prior set B and shows exactly its override."""
    from ui.priors_io import priors_from_zip, priors_zip

    a = load_priors(default_directory())
    leak = a.findings["hepatomegaly"].leak
    assert leak is not None
    b = priors_from_zip(priors_zip(a.with_overrides({"findings.hepatomegaly.leak": 0.05})))
    diffs = diff_parameters(a, b)
    assert [(d.key, d.value_b) for d in diffs] == [("findings.hepatomegaly.leak", 0.05)]
