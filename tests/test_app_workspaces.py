"""The researcher's loop with AppTest: edit priors on the Priors page, see every page use them,
download the documented set, load it back, and return to the defaults with one click."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import model.parameters
from model.assessment import assess, percent
from model.case import Case
from model.inference.exact import marginals
from model.parameters import load_priors
from model.parameters.texts import priors_from_texts, source_texts
from model.parameters.writer import Edit, edited_texts
from ui import render, state

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "early_workup_vegf_pending.json"
TIMEOUT = 30
DEFAULT = load_priors()
EDITS = {
    "settings.neuropathy_clinic.probs.poems": 0.02,
    next(p.key for p in DEFAULT.parameters() if p.key.endswith(".leak")): 0.3,
    next(p.key for p in DEFAULT.parameters() if p.key.startswith("latent.")): 0.5,
}


def _expected() -> model.parameters.Priors:
    texts = source_texts(DEFAULT.directory or "")
    return priors_from_texts(edited_texts(texts, DEFAULT, [Edit(k, v) for k, v in EDITS.items()]))


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    """Build the network and its engine once outside AppTest's 30 s timeout (a cold build
    takes tens of seconds on a loaded machine; the app pays it once per process)."""
    case = Case.load(EXAMPLE)
    assess(case)
    marginals(case, priors=DEFAULT)


def value_key(key: str) -> str:
    """The Priors page's widget key for a parameter's new value."""
    return "priors_value_" + key.replace(".", "__")


def _start(page: str = "pages/2_Priors.py") -> tuple[AppTest, Case]:
    case = Case.load(EXAMPLE)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params[state.LINK_PARAM] = state.encode_case(case)
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    return at, case


def _badge(at: AppTest) -> str:
    texts = [w.value for w in at.main.warning] + [c.value for c in at.main.caption]
    return next(t for t in texts if t.removeprefix(":material/tune: ").startswith("Priors:"))


def _edit_three(at: AppTest) -> None:
    at.multiselect(key="priors_pick").set_value(list(EDITS)).run()
    for key, value in EDITS.items():
        at.number_input(key=value_key(key)).set_value(value)
    at.text_input(key="priors_who").input("Dr Test")
    at.text_input(key="priors_why").input("<img src=x> [link](http://example.org)")
    at.button(key="priors_apply").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == []


def test_three_edits_reach_the_assessment_and_network_pages_and_one_click_undoes_them() -> None:
    at, case = _start()
    assert DEFAULT.fingerprint[:12] in _badge(at)
    _edit_three(at)
    expected = _expected()
    active = at.session_state["_active_priors"].priors
    assert active.point_values() == expected.point_values()  # the notes hold the edit's time
    assert active.fingerprint[:12] in _badge(at) and active.fingerprint != DEFAULT.fingerprint
    shown = {m.label: m.value for m in at.main.metric}
    assert shown["P(POEMS), this session's priors"] == percent(
        assess(case, priors=expected).posterior_poems
    )
    at.switch_page("app.py").run()
    assert active.fingerprint[:12] in _badge(at)
    main = [h.value for h in at.main.header]  # P(POEMS) (render.headline_block)
    assert main == [render.headline(assess(case, priors=expected))]
    assert main != [render.headline(assess(case))]
    at.switch_page("pages/1_Network.py").run()
    table = at.main.dataframe[0].value
    want = marginals(case, priors=expected)["diagnosis"]
    row = list(table["node"]).index("diagnosis")
    assert table["posterior"][row] == "; ".join(f"{s}: {percent(p)}" for s, p in want.items())
    at.button(key="priors_reset").click().run()
    assert DEFAULT.fingerprint[:12] in _badge(at)
    at.switch_page("app.py").run()
    main = [h.value for h in at.main.header]  # P(POEMS) (render.headline_block)
    assert main == [render.headline(assess(case))]


def test_the_downloaded_set_is_documented_and_loads_back_on_the_page() -> None:
    at, _ = _start()
    _edit_three(at)
    from ui.active_priors import PriorSet

    prior_set = at.session_state["_active_priors"]
    assert isinstance(prior_set, PriorSet)
    data = prior_set.zip_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        findings = archive.read("priors/findings.toml").decode()
    original = (Path(DEFAULT.directory or "") / "findings.toml").read_text()
    comments = [x for x in original.splitlines() if x.lstrip().startswith("#")]
    assert all(c in findings.splitlines() for c in comments)
    assert 'kind = "user"' in findings and "Edited by Dr Test" in findings
    at.button(key="priors_reset").click().run()
    assert DEFAULT.fingerprint[:12] in _badge(at)
    at.file_uploader(key="priors_upload").set_value(("my-priors.zip", data, "application/zip"))
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == []
    assert prior_set.fingerprint[:12] in _badge(at)
    assert "my-priors.zip" in _badge(at)


def test_a_bad_or_hostile_priors_zip_is_an_escaped_error() -> None:
    at, _ = _start()
    texts = source_texts(DEFAULT.directory or "")
    texts["settings.toml"] = texts["settings.toml"].replace(
        'kind = "inferred"', 'kind = "![x](http://127.0.0.1:9/beacon.png)"', 1
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in texts.items():
            archive.writestr(f"priors/{name}", text)
    at.file_uploader(key="priors_upload").set_value(("<b>x</b>.zip", buffer.getvalue(), "x"))
    at.run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1
    assert r"!\[x\](http" in errors[0]  # Markdown escaped: shown as text, never a live image
    assert "/tmp" not in errors[0] and "poems-priors-" not in errors[0]
    assert DEFAULT.fingerprint[:12] in _badge(at)
    at.file_uploader(key="priors_upload").set_value(("x.zip", b"not a zip", "application/zip"))
    at.run()
    assert not at.exception and "must be a zip file" in at.error[0].value


def test_an_edit_the_priors_refuse_is_an_error_not_an_exception() -> None:
    at, _ = _start()
    row = next(e for e in DEFAULT.entries() if e.key.startswith("latent."))
    keys = [f"{row.key}.probs.{s}" for s in list(row.probs)[:2]]  # type: ignore[union-attr]
    at.multiselect(key="priors_pick").set_value(keys).run()
    for key in keys:
        at.number_input(key=value_key(key)).set_value(0.9)
    at.button(key="priors_apply").click().run()
    assert not at.exception
    assert "cannot be applied" in at.error[0].value
    assert DEFAULT.fingerprint[:12] in _badge(at)


# ------------------------------------------------------------------------- evaluation
def _evaluation_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "5_Evaluation.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


def test_a_simulated_parquet_cohort_evaluates_with_its_label_found_and_intervals(
    tmp_path: Path,
) -> None:
    from model.evaluation.cohort import read_table
    from model.evaluation.evaluate import evaluate_table
    from model.inference.simulate import write_cohort

    path = tmp_path / "cohort.parquet"
    # Most cells missing: with full work-ups the v2 network separates a simulated cohort
    # perfectly (AUC 1.0, a zero-width bootstrap interval), which cannot test the interval.
    write_cohort(
        DEFAULT, "paraproteinemic_neuropathy", 300, path, seed=3, missing=0.7, progress=False
    )
    data = path.read_bytes()
    at = _evaluation_page()
    at.radio(key="ev_source").set_value("Upload a cohort").run()
    at.file_uploader(key="ev_upload").set_value(
        ("cohort.parquet", data, "application/octet-stream")
    )
    at.run()
    assert not at.exception
    assert at.selectbox(key="ev_label").value == "true_diagnosis"  # never 'id'
    at.button(key="ev_run").click().run()
    assert not at.exception and [e.value for e in at.error] == []
    expected = evaluate_table(read_table(data), "true_diagnosis", DEFAULT)
    shown = {m.label: m.value for m in at.main.metric}
    assert shown["AUC"] == f"{expected.network.auc:.3f}"
    assert shown["Brier score"] == f"{expected.network.brier:.3f}"
    cis = [c.value for c in at.main.caption if c.value.startswith("95% bootstrap CI")]
    assert len(cis) == 2
    low, high = (float(x) for x in cis[0].removeprefix("95% bootstrap CI ").split(" to "))
    assert low <= expected.network.auc <= high and low < high
    per_dx = at.main.dataframe[1].value  # rule sets, then the per-diagnosis table
    assert int(per_dx["n"].sum()) == expected.n_scored
    assert len(at.get("image")) == 2  # the ROC curve and the reliability diagram
    labels = [b.label for b in at.get("download_button")]
    assert "Scored rows (CSV)" in labels and "Scored rows (Parquet)" in labels


def test_a_cohort_without_a_label_like_column_asks_for_it() -> None:
    csv = "id,polyneuropathy,outcome_code\np1,present,poems\np2,absent,cidp\n"
    at = _evaluation_page()
    at.radio(key="ev_source").set_value("Upload a cohort").run()
    at.file_uploader(key="ev_upload").set_value(("c.csv", csv.encode(), "text/csv"))
    at.run()
    assert at.selectbox(key="ev_label").value is None
    assert any("Choose the label column" in i.value for i in at.info)


def test_hostile_cohort_text_is_never_live_markdown() -> None:
    csv = (
        "id,true_diagnosis,polyneuropathy,![col](http://127.0.0.1:9/col.png)\n"
        "p1,poems,![v](http://127.0.0.1:9/val.png),x\n"
        "p2,cidp,present,x\n"
        "p3,poems,present,x\n"
    )
    at = _evaluation_page()
    at.radio(key="ev_source").set_value("Upload a cohort").run()
    at.file_uploader(key="ev_upload").set_value(("c.csv", csv.encode(), "text/csv"))
    at.run()
    at.button(key="ev_run").click().run()
    assert not at.exception
    for element in [*at.markdown, *at.error, *at.caption, *at.info]:
        assert "](http" not in element.value.replace("\\]", "").replace("\\(", "(") or (
            "\\[" in element.value
        )
        assert "![" not in element.value


def test_the_network_page_offers_every_export_under_the_sessions_priors() -> None:
    from model.export import FORMATS, SUFFIXES

    at, case = _start("pages/1_Network.py")
    buttons = {b.proto.label: b.proto for b in at.get("download_button")}
    assert {"BIF", "XMLBIF", "XDSL (GeNIe)", "Hugin NET", "DOT (this drawing)"} <= set(buttons)
    setting = at.selectbox(key="network_export_setting").value
    assert setting == (case.setting or setting)
    assert len(FORMATS) == 4 and SUFFIXES["xmlbif"] == ".bifxml"  # pyAgrum's name for XMLBIF
    captions = " ".join(c.value for c in at.main.caption)
    assert "misreads the parent order" in captions and DEFAULT.fingerprint[:12] in captions
