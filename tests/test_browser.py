"""Real-browser smoke test: the app started the README's way, driven by Debian's chromium.

Starts ``.venv/bin/streamlit run app.py`` on a free port (everything else from
``.streamlit/config.toml``), opens a case link in ``/usr/bin/chromium`` through Playwright's
sync API, toggles a finding in the sidebar, and checks that the answer on the page changes to
the core's answer for the new case. Screenshots go to ``artifacts/`` (git-ignored).

Without chromium the test is skipped locally, but fails when ``POEMS_REQUIRE_BROWSER=1``
(CI sets it). Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from model.assessment import assess, percent
from model.case import Case
from ui import render, state

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_S = 60.0
UI_TIMEOUT_MS = 30_000


def _missing(reason: str) -> None:
    if os.environ.get("POEMS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"POEMS_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _streamlit() -> Path:
    readme_way = ROOT / ".venv" / "bin" / "streamlit"
    return readme_way if readme_way.exists() else Path(sys.executable).parent / "streamlit"


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"streamlit did not answer on {url} within {START_TIMEOUT_S:g} s")


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the playwright python package is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    port = _free_port()
    log = ARTIFACTS / "browser-streamlit.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(_streamlit()), "run", "app.py", "--server.port", str(port)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser_page(app_url: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.set_default_timeout(UI_TIMEOUT_MS)
        try:
            yield page
        finally:
            browser.close()


def _badge_text(verdict: str) -> str:
    """The words inside the verdict badge (``:green-badge[criteria met]`` -> ``criteria met``)."""
    return render.VERDICT_BADGE[verdict].split("[", 1)[1].rstrip("]")


def _case_in(url: str) -> dict[str, Any] | None:
    """The case a page address carries (``None`` when it carries none)."""
    query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    codes = query.get(state.LINK_PARAM)
    return state.decode_case(codes[-1]).to_dict() if codes else None


def _metric_value(page: Any) -> str:
    return str(page.get_by_test_id("stMetricValue").first.inner_text()).strip()


def test_toggling_a_finding_in_the_browser_changes_the_answer(
    app_url: str, browser_page: Any
) -> None:
    page = browser_page
    case = Case.load(ROOT / "examples" / "early_workup_vegf_pending.json")
    page.goto(f"{app_url}/?{state.LINK_PARAM}={state.encode_case(case)}")
    main = page.get_by_test_id("stMain")
    before = assess(case)
    main.get_by_text(_badge_text(before.verdict), exact=True).first.wait_for()
    main.get_by_test_id("stMetricValue").filter(has_text=percent(before.posterior_poems)).wait_for()
    main.get_by_test_id("stTable").filter(has_text="because").first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "browser-before.png"))

    page.get_by_test_id("stSidebar").get_by_text("Major criteria", exact=True).click()
    toggle = page.locator(f".st-key-{state.widget_key('sclerotic_bone_lesion')}")
    toggle.get_by_role("radio", name="Yes", exact=True).click()

    changed = case.with_finding("sclerotic_bone_lesion", "present")
    after = assess(changed)
    assert after.verdict != before.verdict
    assert percent(after.posterior_poems) != percent(before.posterior_poems)
    main.get_by_text(_badge_text(after.verdict), exact=True).first.wait_for()
    main.get_by_test_id("stMetricValue").filter(has_text=percent(after.posterior_poems)).wait_for()
    assert _metric_value(page) == percent(after.posterior_poems)
    page.wait_for_url(lambda url: _case_in(url) == changed.to_dict())
    main.get_by_test_id("stTable").filter(has_text="because").first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "browser-after.png"))
    page.set_viewport_size({"width": 1440, "height": 3000})
    page.screenshot(path=str(ARTIFACTS / "browser-after-long.png"))
    page.set_viewport_size({"width": 1440, "height": 1000})


@pytest.mark.parametrize("page_path", ["Network", "Priors"])
def test_every_page_draws_in_the_browser(app_url: str, browser_page: Any, page_path: str) -> None:
    page = browser_page
    case = Case.load(ROOT / "examples" / "lambda_clone_with_amyloid.json")
    page.goto(f"{app_url}/{page_path}?{state.LINK_PARAM}={state.encode_case(case)}")
    main = page.get_by_test_id("stMain")
    main.get_by_role("heading").first.wait_for()
    if page_path == "Network":
        # the first posterior of every node for a new setting is computed cold: allow longer
        main.get_by_test_id("stGraphVizChart").locator("svg").first.wait_for(timeout=120_000)
    else:
        main.get_by_test_id("stMultiSelect").first.wait_for()
    assert page.get_by_test_id("stException").count() == 0
    page.screenshot(path=str(ARTIFACTS / f"browser-{page_path.lower()}.png"))


def test_a_bad_link_shows_an_error_in_the_browser(app_url: str, browser_page: Any) -> None:
    page = browser_page
    page.goto(f"{app_url}/?{state.LINK_PARAM}=v1.damaged")
    page.get_by_test_id("stAlert").filter(has_text="could not be opened").first.wait_for()
    assert page.get_by_test_id("stException").count() == 0


def _sidebar_page(page: Any, name: str) -> None:
    """Switch page inside the same session (a new address would start a new session)."""
    page.get_by_test_id("stSidebarNav").get_by_role("link").filter(has_text=name).first.click()


def test_three_edited_parameters_change_the_main_page_and_the_badge(
    app_url: str, browser_page: Any
) -> None:
    from model.assessment import DIAGNOSIS_LABELS
    from model.parameters import load_priors
    from model.parameters.overrides import parameter_label
    from model.parameters.texts import priors_from_texts, source_texts
    from model.parameters.writer import Edit, edited_texts

    page = browser_page
    default = load_priors()
    case = Case.load(ROOT / "examples" / "early_workup_vegf_pending.json")
    edits = {
        "settings.neuropathy_clinic.probs.poems": 0.02,
        "settings.paraproteinemic_neuropathy.probs.poems": 0.05,
        "settings.hematology_clinic.probs.poems": 0.01,
    }
    edits = {k: v for k, v in edits.items() if k in default.point_values()}
    assert len(edits) == 3
    expected = priors_from_texts(
        edited_texts(
            source_texts(default.directory or ""), default, [Edit(k, v) for k, v in edits.items()]
        )
    )
    before, after = assess(case), assess(case, priors=expected)
    assert percent(before.posterior_poems) != percent(after.posterior_poems)
    page.goto(f"{app_url}/Priors?{state.LINK_PARAM}={state.encode_case(case)}")
    main = page.get_by_test_id("stMain")
    main.get_by_text(default.fingerprint[:12]).first.wait_for()
    picker = main.get_by_test_id("stMultiSelect").first
    for key in edits:
        picker.locator("input").fill(parameter_label(key, DIAGNOSIS_LABELS))
        page.get_by_role("option", name=parameter_label(key, DIAGNOSIS_LABELS)).first.click()
    page.keyboard.press("Escape")
    for key, value in edits.items():
        box = main.locator(f".st-key-priors_value_{key.replace('.', '__')} input")
        box.fill(str(value))
        box.press("Enter")
    main.get_by_role("button", name="Apply the edits").click()
    badge = main.get_by_test_id("stAlert").filter(has_text="3 edited value(s)").first
    badge.wait_for()
    fingerprint = badge.inner_text().split("fingerprint")[1].split()[0].strip("`· ")
    assert len(fingerprint) == 12 and fingerprint != default.fingerprint[:12]
    _sidebar_page(page, "app")
    main.get_by_test_id("stMetricValue").filter(has_text=percent(after.posterior_poems)).wait_for()
    main.get_by_text(fingerprint).first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "browser-edited-priors.png"))
    main.get_by_role("button", name="Back to the default priors").click()
    main.get_by_test_id("stMetricValue").filter(has_text=percent(before.posterior_poems)).wait_for()
    assert page.get_by_test_id("stException").count() == 0


def test_teaching_reveals_a_case_step_by_step_in_the_browser(
    app_url: str, browser_page: Any
) -> None:
    from model.assessment import DIAGNOSIS_LABELS
    from model.teaching.library import load_library

    page = browser_page
    page.goto(f"{app_url}/Teaching")
    main = page.get_by_test_id("stMain")
    tcase = next(iter(load_library().values()))  # the page opens on the first case
    ending = f"Published diagnosis: {DIAGNOSIS_LABELS[tcase.diagnosis]}"
    for i, step in enumerate(tcase.steps):
        main.get_by_role("heading", name=f"Step {i + 1}: {step.label}").wait_for()
        if i < len(tcase.steps) - 1:
            assert main.get_by_text(ending).count() == 0  # the ending stays hidden
            main.get_by_role("button", name="Next step").click()
    main.get_by_text(ending).first.wait_for()
    main.get_by_role("button", name="Previous step").click()
    main.get_by_role("heading", name=f"Step {len(tcase.steps) - 1}:").first.wait_for()
    main.get_by_text("Presenter mode").click()
    page.wait_for_function(
        "() => !document.querySelector('section[data-testid=\"stSidebar\"]') || "
        "getComputedStyle(document.querySelector('section[data-testid=\"stSidebar\"]'))"
        ".display === 'none'"
    )
    page.screenshot(path=str(ARTIFACTS / "browser-teaching-presenter.png"))
    assert page.get_by_test_id("stException").count() == 0
