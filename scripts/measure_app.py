"""Measure the app: server-side rerun time after a finding toggle, and cold start.

Usage::

    .venv/bin/python scripts/measure_app.py                # reruns + cold start (AppTest)
    .venv/bin/python scripts/measure_app.py --browser      # also: real server + chromium
    .venv/bin/python scripts/measure_app.py --browser-only # only the browser figures
    .venv/bin/python scripts/measure_app.py --json

Rerun
    One AppTest session opens an example case, then toggles findings in the sidebar, timing
    each ``AppTest.run()`` (the whole script: case entry, criteria, assessment, what-if
    table, report, plus AppTest's own message handling) and, separately, the script body
    alone (``app.py`` records its run time in session state: *script_only*) and the time
    until P(POEMS) and the verdict are drawn (*until_answer_drawn*; the credible interval and
    the analysis tab follow in the same run). Two series:
    *new case* (every toggle makes a case never seen before, so nothing is served from the
    cache) and *revisit* (toggling one finding back and forth, the cached path). Target:
    median <= 150 ms for a new case.

Cold start
    ``appTest``: a fresh Python process imports the app and runs it once with the example
    case (imports of pgmpy and friends included), timed from process start.
    ``browser``: ``.venv/bin/streamlit run app.py`` on a free port, then Debian's chromium
    opens the case link; timed from launching streamlit until the criteria and then the
    P(POEMS) metric are drawn, and from opening the page.

Browser, warm server
    *new session*: a new browser context (a new Streamlit session) opens the case link on the
    server that is already running, timed from navigation to P(POEMS) on screen (n times).
    *toggle to answer*: in one session, click a finding in the sidebar and time until the
    P(POEMS) metric shows the core's answer for the new case (n toggles, each a new case).
    For a case the server has not answered yet the page draws the point estimate first and
    its credible interval when ready: "P(POEMS)" times the first, "to interval" the second
    (the metric at its final digits and the interval line on screen).

``--empty-cache`` starts the server with an empty parameter-draws cache (the first start after
installing); without it the server reads the user's cache (``POEMS_CACHE_DIR``).

Wall times depend on the machine and its load; the script prints the load average with the
numbers. Tests never assert wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE_ENV = "POEMS_CACHE_DIR"  # model.parameters.draws_cache.CACHE_ENV
EXAMPLE = ROOT / "examples" / "early_workup_vegf_pending.json"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# Findings toggled one after another: each step adds one more, so every case is new. Taken
# from the vocabulary (binary findings the example leaves unassessed), never listed twice.
def _toggles() -> tuple[str, ...]:
    from model.vocabulary import BINARY_FINDINGS

    entered = json.loads(EXAMPLE.read_text(encoding="utf-8"))["findings"]
    return tuple(f for f in BINARY_FINDINGS if f not in entered)[:30]


TOGGLES = _toggles()


def _summary(times_s: list[float]) -> dict[str, float]:
    ms = sorted(t * 1000 for t in times_s)
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 1),
        "p90_ms": round(ms[min(len(ms) - 1, int(0.9 * len(ms)))], 1),
        "min_ms": round(ms[0], 1),
        "max_ms": round(ms[-1], 1),
    }


def measure_reruns(n: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from streamlit.testing.v1 import AppTest

    import model.assessment  # noqa: F401  (heavy imports before timing)
    from model.case import Case
    from ui import state

    case = Case.load(EXAMPLE)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params[state.LINK_PARAM] = state.encode_case(case)
    at.run()
    if at.exception:
        raise SystemExit(f"the app raised: {at.exception}")
    # warm every cache path once (engine compile, what-if scorer) with a throw-away toggle
    at.segmented_control(key=state.widget_key("clubbing")).set_value("present").run()
    at.segmented_control(key=state.widget_key("clubbing")).set_value(state.NOT_ASSESSED).run()

    new_case: list[float] = []
    new_case_script: list[float] = []
    new_case_answer: list[float] = []
    for i in range(n):
        fid = TOGGLES[i % len(TOGGLES)]
        value = "present" if (i // len(TOGGLES)) % 2 == 0 else "absent"
        at.segmented_control(key=state.widget_key(fid)).set_value(value)
        start = time.perf_counter()
        at.run()
        new_case.append(time.perf_counter() - start)
        new_case_script.append(at.session_state["_run_seconds"])
        new_case_answer.append(at.session_state["_answer_seconds"])
        if at.exception:
            raise SystemExit(f"the app raised: {at.exception}")

    revisit: list[float] = []
    revisit_script: list[float] = []
    widget = state.widget_key("papilledema")
    for i in range(n):
        at.segmented_control(key=widget).set_value("absent" if i % 2 else "present")
        start = time.perf_counter()
        at.run()
        revisit.append(time.perf_counter() - start)
        revisit_script.append(at.session_state["_run_seconds"])
    return {
        "new_case": _summary(new_case),
        "new_case_script_only": _summary(new_case_script),
        "new_case_until_answer_drawn": _summary(new_case_answer),
        "revisit": _summary(revisit),
        "revisit_script_only": _summary(revisit_script),
    }


_COLD_SCRIPT = textwrap.dedent(
    """
    import sys, time
    start = float(sys.argv[1])
    sys.path.insert(0, sys.argv[2])
    from streamlit.testing.v1 import AppTest
    from model.case import Case
    from ui import state
    at = AppTest.from_file(sys.argv[2] + "/app.py", default_timeout=300)
    at.query_params[state.LINK_PARAM] = state.encode_case(Case.load(sys.argv[3]))
    at.run()
    assert not at.exception, at.exception
    assert len(at.main.header) == 1  # P(POEMS) is drawn (ui.render.headline_block)
    print(time.time() - start)
    """
)


def measure_cold_apptest() -> float:
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-c", _COLD_SCRIPT, repr(start), str(ROOT), str(EXAMPLE)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _case_in(url: str, state: Any) -> dict[str, Any] | None:
    import urllib.parse

    codes = urllib.parse.parse_qs(urllib.parse.urlparse(url).query).get(state.LINK_PARAM)
    return state.decode_case(codes[-1]).to_dict() if codes else None


def measure_browser(
    sessions: int = 5, toggles: int = 10, empty_cache: bool = False
) -> dict[str, Any]:
    """Cold start, warm new sessions and toggle-to-answer, all in the browser.

    With ``empty_cache`` the server starts with an empty draws cache (``POEMS_CACHE_DIR`` in a
    new temporary folder): the very first start after installing. Otherwise it uses the
    user's cache, as every later start does.
    """
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT))
    from model.assessment import assess
    from model.case import Case
    from model.formatting import interval_text
    from ui import render, state

    case = Case.load(EXAMPLE)
    link = f"?{state.LINK_PARAM}={state.encode_case(case)}"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    if empty_cache:
        env[CACHE_ENV] = tempfile.mkdtemp(prefix="poems-measure-cache-")
    start = time.time()
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "streamlit"), "run", "app.py", "--server.port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                    break
            except OSError:
                if time.time() - start > 120:
                    raise SystemExit("streamlit did not start within 120 s") from None
                time.sleep(0.1)
        healthy = time.time() - start
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

            def exactly(*texts: str) -> re.Pattern[str]:
                return re.compile("^(" + "|".join(re.escape(t) for t in texts) + ")$")

            def expect(c: Case) -> tuple[str, str, str]:
                """What the page shows for ``c``: the point estimate's headline, the full
                answer's headline and its interval (computed before the clock starts)."""
                full = assess(c)
                ci = full.credible_interval
                assert ci is not None
                point = render.headline(assess(c, analyses=False))
                return point, render.headline(full), interval_text(ci.low, ci.high)

            def wait_answer(page: Any, texts: tuple[str, str, str]) -> tuple[float, float]:
                """When P(POEMS) is on screen (point or full) and when the full answer (the
                headline and its credible interval) is; absolute times."""
                point, full, interval = texts
                main = page.get_by_test_id("stMain")
                metric = main.locator(
                    f"[class*=st-key-{render.HEADLINE_KEY}] [data-testid=stHeading]"
                )
                metric.filter(has_text=exactly(point, full)).first.wait_for()
                at_point = time.time()
                main.get_by_text(interval).first.wait_for()
                metric.filter(has_text=exactly(full)).first.wait_for()
                return at_point, time.time()

            first = expect(case)

            def open_case() -> tuple[Any, Any, dict[str, float]]:
                context = browser.new_context(viewport={"width": 1440, "height": 1000})
                page = context.new_page()
                page.set_default_timeout(120_000)
                opened = time.time()
                page.goto(url + "/" + link)
                main = page.get_by_test_id("stMain")
                main.get_by_text(render.tab_title("seed") + ":").first.wait_for()
                criteria = time.time()
                point, full = wait_answer(page, first)
                times = {"criteria": criteria - opened, "point": point - opened}
                return context, page, times | {"full": full - opened}

            context, page, times = open_case()
            cold = {
                "server_healthy_s": round(healthy, 2),
                "page_open_to_criteria_s": round(times["criteria"], 2),
                "page_open_to_posterior_s": round(times["point"], 2),
                "page_open_to_interval_s": round(times["full"], 2),
                "launch_to_posterior_s": round(healthy + times["point"], 2),
            }
            context.close()
            warm: list[float] = []
            warm_full: list[float] = []
            for _ in range(sessions):
                context, page, times = open_case()
                warm.append(times["point"])
                warm_full.append(times["full"])
                context.close()
            context, page, _ = open_case()
            sidebar = page.get_by_test_id("stSidebar")
            for title in ("Minor criteria", "Other signs"):
                sidebar.get_by_text(title, exact=True).click()
            current = case
            toggle_point: list[float] = []
            toggle_full: list[float] = []
            for fid in TOGGLES:
                if len(toggle_full) == toggles:
                    break
                control = page.locator(f".st-key-{state.widget_key(fid)}")
                if control.count() == 0 or not control.is_visible():
                    continue
                current = current.with_finding(fid, "present")
                texts = expect(current)
                clicked = time.time()
                control.get_by_role("radio", name="Yes", exact=True).click()
                point, full = wait_answer(page, texts)
                toggle_point.append(point - clicked)
                toggle_full.append(full - clicked)
            context.close()
            browser.close()
        return {
            "cold_start": cold,
            "warm_new_session": _summary(warm),
            "warm_new_session_to_interval": _summary(warm_full),
            "toggle_to_answer": _summary(toggle_point),
            "toggle_to_interval": _summary(toggle_full),
        }
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reruns", type=int, default=30, help="toggles per series (30)")
    parser.add_argument("--browser", action="store_true", help="also time the real browser")
    parser.add_argument(
        "--browser-only", action="store_true", help="only the browser figures (no AppTest)"
    )
    parser.add_argument("--sessions", type=int, default=5, help="warm new sessions (5)")
    parser.add_argument(
        "--empty-cache",
        action="store_true",
        help="start the server with an empty draws cache (the first start after installing)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    result: dict[str, Any] = {"load_average_before": os.getloadavg()}
    if not args.browser_only:
        result["cold_start_apptest_s"] = round(measure_cold_apptest(), 2)
        result["rerun"] = measure_reruns(args.reruns)
    if args.browser or args.browser_only:
        if not CHROMIUM.exists():
            raise SystemExit(f"{CHROMIUM} is not installed")
        result["browser"] = measure_browser(args.sessions, empty_cache=args.empty_cache)
        result["browser"]["draws_cache"] = "empty" if args.empty_cache else "user's"
    result["load_average_after"] = os.getloadavg()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"load average before: {result['load_average_before']}")
    if "cold_start_apptest_s" in result:
        print(
            "cold start, fresh process to first full AppTest run: "
            f"{result['cold_start_apptest_s']} s"
        )
    for series, stats in result.get("rerun", {}).items():
        print(
            f"rerun after a toggle ({series}): median {stats['median_ms']} ms, p90 "
            f"{stats['p90_ms']} ms, min {stats['min_ms']} ms, max {stats['max_ms']} ms "
            f"(n={stats['n']})"
        )
    if "browser" in result:
        cold = result["browser"]["cold_start"]
        print(f"draws cache at server start: {result['browser']['draws_cache']}")
        print(
            f"browser cold start: server healthy {cold['server_healthy_s']} s after launch; "
            f"page open -> criteria {cold['page_open_to_criteria_s']} s, -> P(POEMS) "
            f"{cold['page_open_to_posterior_s']} s (launch -> P(POEMS) "
            f"{cold['launch_to_posterior_s']} s)"
        )
        print(f"browser cold start: page open -> interval {cold['page_open_to_interval_s']} s")
        for series in (
            "warm_new_session",
            "warm_new_session_to_interval",
            "toggle_to_answer",
            "toggle_to_interval",
        ):
            stats = result["browser"][series]
            print(
                f"browser {series.replace('_', ' ')}: median {stats['median_ms']} ms, p90 "
                f"{stats['p90_ms']} ms, min {stats['min_ms']} ms, max {stats['max_ms']} ms "
                f"(n={stats['n']})"
            )
    print(f"load average after: {result['load_average_after']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
