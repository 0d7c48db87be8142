"""A case the server has not answered yet: P(POEMS) by exact inference first (on a cold server
after the criteria, while the network loads), then the interval and the analyses; once the
run ends the page is the same as for a case answered before.

``ui.compute.network_warm`` is made to answer "not yet" for the cold-start path in this
process (the network itself is already loaded, which does not change what is drawn).
AppTest sees only the end of a run, so the intermediate screens are checked by the elements
each step leaves behind (a metric of the same label, the interval line) and by the run's
timing keys; the browser shows them as they arrive.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import model.assessment  # noqa: F401  (pays the network's import outside AppTest's timeout)
from model.assessment import assess
from model.case import Case
from ui import compute, render, state

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 30
EXAMPLE = ROOT / "examples" / "early_workup_vegf_pending.json"


def _page(case: Case) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params[state.LINK_PARAM] = state.encode_case(case)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_a_new_case_ends_on_the_full_answer_with_nothing_pending(
    warm: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compute, "network_warm", lambda: warm)
    case = Case.load(EXAMPLE).with_finding("clubbing", "present" if warm else "absent")
    assert not compute.assessment_ready(case.to_json())  # never seen by this process
    at = _page(case)
    expected = assess(case)
    metrics = [h.value for h in at.main.header]
    assert metrics == [render.headline(expected)]  # one headline: no pending one left behind
    captions = " ".join(c.value for c in at.main.caption)
    assert render.INTERVAL_PENDING not in captions
    lines = " ".join(m.value for m in at.main.markdown)
    assert "credible interval" in lines
    assert "_point_seconds" in at.session_state  # the point estimate was drawn first
    assert compute.assessment_ready(case.to_json())
    again = _page(case)  # a case already answered is drawn at once, without the point step
    assert "_point_seconds" not in again.session_state
    assert [h.value for h in again.main.header] == metrics


def test_the_point_estimate_is_the_full_answers_point() -> None:
    case = Case.load(EXAMPLE)
    point = assess(case, analyses=False)
    full = assess(case)
    assert point.credible_interval is None and full.credible_interval is not None
    assert dict(point.posterior) == dict(full.posterior)
    assert render.headline(point) == render.percent(full.posterior_poems)
