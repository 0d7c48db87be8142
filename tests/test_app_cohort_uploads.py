"""Cohort uploads on the Evaluation and Compare-priors pages go through the one cohort reader
(``model.cohort.format.read_cohort_table``): a file saved by Excel (byte-order mark,
semicolons, a ragged line) keeps every column and every row, the ragged line is reported as
that row's error, and how the file was read is said on the page with the file name escaped.

Expectations come from calling the core on the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import model.inference.exact  # noqa: F401  (pays pgmpy's slow import outside the timeout)
from model.cohort.format import read_cohort_table
from model.evaluation.evaluate import evaluate_table
from model.parameters import load_priors

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 30
EXCEL = b"\xef\xbb\xbf" + (
    b"id;true_diagnosis;polyneuropathy;monoclonal_protein;light_chain;sclerotic_bone_lesion\r\n"
    b"x1;poems;present;present;lambda;present\r\n"
    b"x2;cidp;present;absent;;absent;one cell too many\r\n"
    b"x3;cidp;present;absent;;\r\n"
    b"x4;poems;present;present;lambda;\r\n"
)
NAME = "![x](http://127.0.0.1:9/a.png).csv"


@pytest.fixture(scope="module", autouse=True)
def _warm_engines() -> None:
    """Build the compiled engine of the default setting outside AppTest's 30 s timeout (a
    cold build is slow on a loaded machine; the app pays it once per process)."""
    evaluate_table(read_cohort_table(EXCEL), "true_diagnosis", load_priors())


def _page(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def _captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.main.caption)


def test_evaluation_page_reads_an_excel_upload_and_reports_the_ragged_row() -> None:
    at = _page("5_Evaluation.py")
    at.radio(key="ev_source").set_value("Upload a cohort").run()
    at.file_uploader(key="ev_upload").set_value((NAME, EXCEL, "text/csv")).run()
    assert not at.exception and not at.error
    captions = _captions(at)
    assert "CSV, semicolon-separated (detected), utf-8: 4 rows" in captions
    assert "1 line(s) could not be read" in captions
    assert r"!\[x\]" in captions  # the file name is text, never a live image
    assert at.selectbox(key="ev_label").value == "true_diagnosis"  # the BOM did not hide 'id'
    at.button(key="ev_run").click().run()
    assert not at.exception and not at.error
    expected = evaluate_table(read_cohort_table(EXCEL), "true_diagnosis", load_priors())
    assert (expected.n_rows, expected.n_scored) == (4, 3)
    text = " ".join(m.value for m in at.markdown)
    assert "4 rows, 3 scored (1 left out)" in text
    bad = next(d.value for d in at.main.dataframe if "message" in d.value.columns)
    assert list(bad["row"]) == [2] and list(bad["id"]) == ["x2"]
    assert "line 3 has 7 cells; the header has 6" in bad["message"][0]
    shown = {m.label: m.value for m in at.main.metric}
    assert shown["Log loss"] == f"{expected.network.log_loss:.3f}"


def test_compare_page_reads_the_same_upload_through_the_same_reader() -> None:
    at = _page("6_Compare_priors.py")
    at.file_uploader(key="cmp_cohort").set_value((NAME, EXCEL, "text/csv")).run()
    assert not at.exception and not at.error
    assert "semicolon-separated (detected)" in _captions(at)
    assert "1 line(s) could not be read and are left out" in _captions(at)
    assert at.selectbox(key="cmp_label").value == "true_diagnosis"
    metrics = next(d.value for d in at.main.dataframe if "metric" in d.value.columns)
    rows = dict(zip(metrics["metric"], metrics["A"], strict=True))
    assert rows["rows scored"] == 3
