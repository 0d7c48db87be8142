"""A one-page summary of an assessment for the chart: Markdown or self-contained HTML.

:func:`render_report` is pure: the same arguments give the same text, nothing is read from
disk or the clock (the caller passes the time it was made), and the assessment is not
changed. Both formats are rendered from one list of blocks, so they say the same thing; in
HTML every piece of text is escaped (a case id such as ``<script>`` is shown, never run), and
in Markdown user text cannot break the tables. This is the project's one renderer of an
assessment (the app's report download calls it).

The report fits one A4 page (``tests/test_browser.py`` prints it with Chromium and counts the
pages): when and with what it was made (time, app version, priors fingerprint), the case as
entered, P(POEMS) with its credible interval and the differential, every rule set's verdict,
the agreement text, the strongest reasons, the next steps, and the statement that this is
decision support, not a diagnosis.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from model.analysis.uncertainty import INTERVAL_LABEL, INTERVAL_MEANING
from model.assessment import Assessment, strongest_findings
from model.constants import DISCLAIMER
from model.criteria import DEFAULT_RULE_SET, FLAG_TEXT, CriteriaResult
from model.exceptions import InputError
from model.formatting import (
    clinical_text,
    diagnosis_label,
    interval_text,
    percent,
    posterior_text,
    probability,
    rule_set_name,
    state_words,
)
from model.inputs import no_autolink, printable
from model.vocabulary import FINDINGS, Kind, label, suggest

FORMATS: tuple[str, str] = ("markdown", "html")
TITLE = "POEMS syndrome: decision-support summary"
STATEMENT = (
    f"{DISCLAIMER} This summary is a structured second look at the "
    "findings entered. It does not replace clinical judgement, a haematologist's review, or "
    "the tests it suggests."
)
MAX_LIST_ITEMS = 4
"""Longer rankings (reasons, next tests) are cut to keep the report to one page."""
DECISIVE_CHANGE = 0.01
"""A next test "changes the answer" when it is expected to move P(POEMS) by at least one
percentage point, or may settle the default rule set's verdict (a reading aid chosen by the
team, not a published threshold)."""
DECISIVE_SETTLE = 0.05


def app_version() -> str:
    """The installed version of poems-dx (``"unknown"`` when run from an unpacked tree)."""

    try:
        return version("poems-dx")
    except PackageNotFoundError:
        return "unknown"


def decisive_tests(tests: Iterable[Any] | None, limit: int = MAX_LIST_ITEMS) -> list[Any]:
    """The next tests that could change the answer, best first (at most ``limit``).

    A test counts when its expected change in P(POEMS) is at least :data:`DECISIVE_CHANGE`
    or its chance of settling the default rule set's verdict is at least
    :data:`DECISIVE_SETTLE`. Reads whatever fields a test carries (missing ones count 0).
    """
    out = []
    for test in tests or ():
        change = getattr(test, "expected_abs_change_poems", None) or 0.0
        settles = getattr(test, "p_settles_seed", None) or 0.0
        if change >= DECISIVE_CHANGE or settles >= DECISIVE_SETTLE:
            out.append(test)
    return out[:limit]


NO_DECISIVE_TEST = (
    "No remaining test is expected to change the answer: each would move P(POEMS) by less "
    "than one percentage point on average and none would settle the criteria."
)


# ---------------------------------------------------------------- blocks
@dataclass(frozen=True)
class _Heading:
    level: int
    text: str


@dataclass(frozen=True)
class _Paragraph:
    text: str
    strong: bool = False
    boxed: bool = False
    small: bool = False


@dataclass(frozen=True)
class _Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class _Bullets:
    items: tuple[str, ...]


_Block = _Heading | _Paragraph | _Table | _Bullets


def render_report(
    assessment: Assessment,
    fmt: str = "markdown",
    *,
    generated_at: datetime | None = None,
    version: str | None = None,
) -> str:
    """The one-page report of ``assessment`` as Markdown (``fmt="markdown"``) or HTML.

    Parameters
    ----------
    assessment : the object :func:`model.assessment.assess` returns.
    fmt : ``"markdown"`` or ``"html"`` (a complete, self-contained, escaped HTML page).
    generated_at : when the report was made (printed; omitted when ``None``).
    version : the app version printed (default: the installed package's).

    Returns
    -------
    str
        The report text.
    """
    if fmt not in FORMATS:
        raise InputError("report format", fmt, "'markdown' or 'html'", suggest(str(fmt), FORMATS))
    blocks = _blocks(assessment, generated_at, version or app_version())
    return _markdown(blocks) if fmt == "markdown" else _html(blocks)


def _blocks(a: Assessment, generated_at: datetime | None, version: str) -> list[_Block]:
    made = [f"poems-dx {version}"]
    fingerprint = getattr(a, "priors_fingerprint", "")
    if fingerprint:
        made.append(f"priors {fingerprint[:12]}")
    made.append(f"{a.engine} engine")
    if generated_at is not None:
        made.insert(0, "Made " + generated_at.strftime("%Y-%m-%d %H:%M %Z").strip())
    blocks: list[_Block] = [
        _Heading(1, TITLE),
        _Paragraph(" · ".join(made), small=True),
        _Paragraph(STATEMENT, strong=True, boxed=True),
    ]
    blocks += _case_blocks(a)
    blocks += _answer_blocks(a)
    blocks += _criteria_blocks(a.criteria)
    blocks += _analysis_blocks(a)
    flags = {FLAG_TEXT.get(f, f) for r in a.criteria.values() for f in r.flags}
    shown = flags | set(a.checks)  # flags and checks are printed above
    notes = tuple(_words(n) for n in a.notes if n not in shown)
    if notes:
        blocks += [_Heading(2, "How the case was read"), _Bullets(notes)]
    blocks += [_Paragraph("Sources: " + " ".join(_sources(a.criteria)), small=True)]
    blocks.append(_Paragraph(STATEMENT, strong=True, boxed=True))
    return blocks


def _case_blocks(a: Assessment) -> list[_Block]:
    case = a.case
    facts = [
        f"Case: {no_autolink(case.id) if case.id else 'no id given'}",  # user text: no link
        f"age {_number(case.age)} years" if case.age is not None else "age not given",
        f"sex {case.sex}" if case.sex else "sex not given",
        f"setting: {no_autolink(a.setting_label)} (base rate of POEMS {percent(a.prior_poems)})",
    ]
    entered = [f"{label(fid)}: {_entered(a, fid)}" for fid in FINDINGS if case.entered(fid)]
    missing = sum(
        1
        for fid, spec in FINDINGS.items()
        if spec.kind is not Kind.AGGREGATE and case.entered(fid) is None
    )
    findings = "; ".join(entered) + "." if entered else "No findings entered."
    return [
        _Heading(2, "Case"),
        _Paragraph("; ".join(facts) + "."),
        _Paragraph(
            f"Entered: {findings} {missing} findings were not assessed; they are left out of "
            "both answers, never counted as absent."
        ),
    ]


def _entered(a: Assessment, finding_id: str) -> str:
    case = a.case
    spec = FINDINGS[finding_id]
    if spec.kind is Kind.MEASUREMENT:
        vegf = case.vegf
        return vegf.describe() if vegf is not None else "not measured"
    if spec.kind is Kind.NUMBER:
        value = case.number(finding_id)
        return f"{_number(value)} {spec.unit}" if value is not None else "not measured"
    return state_words(case.entered(finding_id))


def _answer_blocks(a: Assessment) -> list[_Block]:
    interval = None if a.credible_interval is None else _bounds(a.credible_interval)
    headline = f"P(POEMS | findings) = {probability(a.posterior_poems, interval)}"
    if interval is not None:
        headline += f" (90% credible interval {interval_text(*interval)}: {INTERVAL_LABEL})"
    else:
        headline += " (credible interval not computed)"
    order = [d for d, _ in a.differential]
    return [
        _Heading(2, "Answer"),
        _Paragraph(headline + ".", strong=True),
        _Paragraph(_words(a.agreement)),
        *(_Paragraph(_words(check), strong=True) for check in a.checks),  # suspicious pairs
        _Table(
            ("", *(diagnosis_label(d) for d in order)),
            (
                ("after findings", *(posterior_text(d, a.posterior[d], interval) for d in order)),
                ("base rate", *(percent(a.prior[d]) for d in order)),
            ),
        ),
        *([_Paragraph(INTERVAL_MEANING, small=True)] if a.credible_interval is not None else []),
    ]


def _criteria_blocks(results: Mapping[str, CriteriaResult]) -> list[_Block]:
    default = results.get(DEFAULT_RULE_SET) or next(iter(results.values()))
    names = [
        rule_set_name(rid) + (" (default)" if rid == default.rule_set else "") for rid in results
    ]
    out: list[_Block] = [
        _Heading(2, "Formal criteria"),
        _Table(tuple(names), (tuple(state_words(r.verdict) for r in results.values()),)),
    ]
    if default.verdict == "indeterminate":
        out.append(
            _Paragraph(
                f"Not yet decided for {rule_set_name(default.rule_set)}: {_open_criteria(default)}."
            )
        )
    if default.could_change_with:
        decide = [
            f"{label(c['finding'])} (present: {state_words(c['if_present'])}, absent: "
            f"{state_words(c['if_absent'])})"
            for c in default.could_change_with[:MAX_LIST_ITEMS]
        ]
        out.append(
            _Paragraph(f"What would decide {rule_set_name(default.rule_set)}: " + "; ".join(decide))
        )
    if default.flags:
        out.append(_Bullets(tuple(_words(FLAG_TEXT.get(f, f)) for f in default.flags)))
    return out


def _open_criteria(result: CriteriaResult) -> str:
    open_ = [c.label for c in result.criteria if c.status == "indeterminate"]
    return ", ".join(open_) or "-"


def _bounds(interval: Any) -> tuple[float, float]:
    """(low, high) of a credible interval given as an object or as a pair."""
    if hasattr(interval, "low"):
        return float(interval.low), float(interval.high)
    return float(interval[0]), float(interval[1])


def _analysis_blocks(a: Assessment) -> list[_Block]:
    out: list[_Block] = []
    if a.contributions is not None and getattr(a.contributions, "items", None):
        up, down = strongest_findings(a.contributions, MAX_LIST_ITEMS)
        lines = []
        if up:
            lines.append("For POEMS: " + "; ".join(up) + ".")
        if down:
            lines.append("Against: " + "; ".join(down) + ".")
        out += [
            _Heading(2, "Why: the strongest reasons"),
            _Paragraph(
                " ".join(lines) + " (Each finding's push on the odds of POEMS, in the order "
                "shown in the app's Why chart.)"
            ),
        ]
    workup = getattr(a, "workup", None)
    steps = tuple(getattr(workup, "items", ()) or ())
    if workup is not None:  # the tiered work-up, in the order an expert orders the tests
        out += [
            _Heading(2, "Next tests, in the order an expert orders them"),
            _Paragraph(_words(str(getattr(workup, "message", "")))),
            _Bullets(
                tuple(
                    _words(f"{getattr(i, 'label', '')}: {getattr(i, 'why', '')}")
                    for i in steps[:MAX_LIST_ITEMS]
                )
            ),
        ]
    elif a.next_tests is not None:
        useful = decisive_tests(a.next_tests)
        items = tuple(_next_test(t) for t in useful) if useful else (NO_DECISIVE_TEST,)
        out += [_Heading(2, "Next steps"), _Bullets(items)]
    return out


def _next_test(t: Any) -> str:
    text = str(getattr(t, "label", "") or label(str(getattr(t, "finding", ""))))
    outcomes = getattr(t, "p_poems_if", None) or {}
    if outcomes:
        text += ": P(POEMS) " + "; ".join(
            f"if {state_words(s)} {percent(p)}" for s, p in outcomes.items()
        )
    settles = getattr(t, "p_settles_seed", None)
    if settles:
        text += f"; settles the criteria {percent(settles)} of the time"
    return text


def _sources(results: Mapping[str, CriteriaResult]) -> tuple[str, ...]:
    lines = []
    for result in results.values():
        citation = result.citation
        where = f"doi:{citation.doi}" if citation.doi else citation.url
        lines.append(f"{rule_set_name(result.rule_set)}: {where}.")
    lines.append("Network parameters: the priors/ files, each number with its source and range.")
    return tuple(lines)


def _words(text: str) -> str:
    return clinical_text(text)


def _number(value: float | int | None) -> str:
    return "" if value is None else f"{value:g}"


# ---------------------------------------------------------------- Markdown
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def _md(text: str) -> str:
    """Text safe inside Markdown: special characters escaped, one line."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(printable(text).split()))


def _markdown(blocks: Iterable[_Block]) -> str:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, _Heading):
            lines += ["#" * block.level + " " + _md(block.text), ""]
        elif isinstance(block, _Paragraph):
            text = _md(block.text)
            lines += [f"**{text}**" if block.strong else text, ""]
        elif isinstance(block, _Table):
            lines.append("| " + " | ".join(_md(h) for h in block.header) + " |")
            lines.append("|" + "---|" * len(block.header))
            lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in block.rows]
            lines.append("")
        else:
            lines += [f"- {_md(item)}" for item in block.items]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------- HTML
_STYLE = (
    "@page{size:A4;margin:10mm}"
    "body{font-family:system-ui,sans-serif;max-width:48rem;margin:1rem auto;"
    "font-size:8.8pt;line-height:1.2;color:#222}"
    "table{border-collapse:collapse;margin:.2rem 0 .4rem;width:100%}"
    "th,td{border:1px solid #bbb;padding:.1rem .3rem;text-align:left;vertical-align:top}"
    "th{background:#f0f0f0}h1{font-size:1.25rem;margin:0 0 .2rem}"
    "h2{font-size:1rem;margin:.5rem 0 .2rem}p{margin:.2rem 0}ul{margin:.2rem 0}"
    ".statement{border:1px solid #4c78a8;background:#eef4fb;padding:.2rem .3rem}"
    ".small{font-size:8pt;color:#444}"
    "@media print{body{margin:0;max-width:none}}"
)


def _e(text: str) -> str:
    return html.escape(printable(text), quote=True)


def _html(blocks: Iterable[_Block]) -> str:
    body: list[str] = []
    for block in blocks:
        if isinstance(block, _Heading):
            body.append(f"<h{block.level}>{_e(block.text)}</h{block.level}>")
        elif isinstance(block, _Paragraph):
            text = f"<strong>{_e(block.text)}</strong>" if block.strong else _e(block.text)
            css = ' class="statement"' if block.boxed else ' class="small"' if block.small else ""
            body.append(f"<p{css}>{text}</p>")
        elif isinstance(block, _Table):
            head = "".join(f"<th>{_e(h)}</th>" for h in block.header)
            rows = "".join(
                "<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>"
                for row in block.rows
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        else:
            items = "".join(f"<li>{_e(item)}</li>" for item in block.items)
            body.append(f"<ul>{items}</ul>")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(TITLE)}</title><style>{_STYLE}</style></head>\n"
        "<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
