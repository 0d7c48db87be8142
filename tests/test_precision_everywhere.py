"""One precision policy (``model.formatting``) in every text output: the CLI and the teaching
walk write each probability exactly as the app and the report do, and no output writes a
percentage with more digits than the policy gives its value.

The general check reads every "x %" in a text and fails when it has more decimals than
:func:`model.formatting.percent` writes for that same value ("92.2 %" where the policy allows
"92 %" or "92.2 %" is fine; "92.25 %" or "0.00540 %" is not); a point estimate with an
interval must also equal :func:`model.formatting.probability` for it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from model.assessment import assess
from model.case import Case
from model.cli import main
from model.cli.assess import format_text, headline
from model.evaluation.compare import compare_case
from model.formatting import diagnosis_label, interval_text, percent, probability
from model.parameters import load_priors
from model.report import render_report
from model.teaching.library import load_library
from model.teaching.walk import step_note, walk

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
BOUNDS = ("< 0.0001 %", "> 99.9 %", "> 99.99 %")
"""The policy's bounds, written instead of a number that would round to 0 or 100 %."""
PERCENT = re.compile(r"[<>]?\s?(\d+(?:\.\d+)?)\s?%")


def _decimals(text: str) -> int:
    number = text.strip("<> %")
    return len(number.split(".")[1]) if "." in number else 0


def too_precise(text: str) -> list[str]:
    """Every percentage in ``text`` written with more decimals than the policy allows."""
    out = []
    for match in PERCENT.finditer(text):
        token = match.group(0).strip()
        if token in BOUNDS:
            continue
        value = float(match.group(1)) / 100
        if not 0 < value < 1:
            continue
        if _decimals(token) > _decimals(percent(value)):
            out.append(token)
    return out


def test_the_check_catches_extra_digits() -> None:
    assert too_precise("P = 92.25 %, 0.00540 %, 91.55% and 4.21 %") == [
        "92.25 %",
        "0.00540 %",
        "91.55%",
        "4.21 %",
    ]
    assert too_precise("P = 92 %, 92.2 %, 0.0054 %, < 0.0001 %, > 99.9 %, 10 %") == []


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_cli_assess_writes_each_probability_by_the_policy(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-q", "assess", str(path)]) == 0
    out = capsys.readouterr().out
    a = assess(Case.load(path))
    ci = a.credible_interval
    assert ci is not None
    headline = probability(a.posterior_poems, (ci.low, ci.high))
    first = next(line for line in out.splitlines() if line.startswith("P(POEMS)"))
    assert first.startswith(f"P(POEMS) {headline if headline[0] in '<>' else '= ' + headline}  ")
    assert interval_text(ci.low, ci.high) in out
    rows = {line.split("  ")[0]: line for line in out.splitlines()}
    for diagnosis, p in a.differential:
        row = rows[diagnosis_label(diagnosis)].split()
        expected = headline if diagnosis == "poems" else percent(p)  # see the test below
        assert f"{percent(a.prior[diagnosis])} {expected}" in " ".join(row), diagnosis
    assert too_precise(out) == []


def test_cli_compare_priors_writes_percentages_by_the_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "priors"
    shutil.copytree(ROOT / "priors", other)  # the same numbers in another folder
    case = ROOT / "examples" / "early_workup_vegf_pending.json"
    argv = ["-q", "compare-priors", str(ROOT / "priors"), str(other), "--case", str(case)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    shift = compare_case(Case.load(case), load_priors(), load_priors(other))
    for row in shift.rows():
        cells = f"| {row['diagnosis']} | {percent(row['a'])} | {percent(row['b'])} | 0 |"
        assert cells in out
    assert too_precise(out) == []


@pytest.mark.parametrize("case_id", sorted(load_library()))
def test_teaching_walk_writes_each_probability_as_the_app_does(case_id: str) -> None:
    steps = walk(load_library()[case_id])
    for i, step in enumerate(steps):
        assert step.interval is not None
        shown = probability(step.p_poems, step.interval)
        assert shown in step.note
        assert step.note == step_note(step, steps[i - 1] if i else None)
        assert too_precise(step.note) == [], (case_id, step.index)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_poems_reads_the_same_in_the_headline_and_the_differential(path: Path) -> None:
    """P(POEMS) appears twice on every surface (headline and differential row); both follow
    its interval, so a reader never sees "0.005 %" above "0.0054 %"."""
    a = assess(Case.load(path))
    shown = headline(a)
    row = next(line for line in format_text(a).splitlines() if line.startswith("POEMS syndrome "))
    assert f"{percent(a.prior_poems)} {shown}" in " ".join(row.split()), (row, shown)
    report = render_report(a)
    table_row = next(line for line in report.splitlines() if line.startswith("| after findings"))
    assert shown in table_row, (table_row, shown)
