"""A one-page summary of an assessment for the chart: Markdown or self-contained HTML.

:func:`render_report` is pure: the same assessment gives the same text, nothing is read from
disk or the clock, and the assessment is not changed. Both formats are rendered from one list
of blocks, so they say the same thing; in HTML every piece of text is escaped (a case id such
as ``<script>`` is shown, never run), and in Markdown user text cannot break the tables.

The report holds the case as entered, the answer (P(POEMS) with its credible interval when
computed, and the differential against the setting's base rates), the default rule set's
criterion trace and every other rule set's verdict, the agreement text, the analyses that were
computed (contributions, next tests), the sources, and the statement that this is decision
support, not a diagnosis.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from model.analysis.uncertainty import INTERVAL_LABEL, INTERVAL_MEANING
from model.assessment import DIAGNOSIS_LABELS, Assessment, percent
from model.constants import DISCLAIMER, STATUS_WORDS
from model.criteria import DEFAULT_RULE_SET, FLAG_TEXT, CriteriaResult
from model.exceptions import InputError
from model.vocabulary import FINDINGS, Kind, label, suggest

FORMATS: tuple[str, str] = ("markdown", "html")
TITLE = "POEMS syndrome: decision-support summary"
STATEMENT = (
    f"{DISCLAIMER} This summary is a structured second look at the "
    "findings entered. It does not replace clinical judgement, a haematologist's review, or "
    "the tests it suggests."
)
PRIORS_SOURCE = (
    "Network parameters: the repository's priors/ files; every probability carries its "
    "source, cohort and range (priors/references.toml)."
)
MAX_LIST_ITEMS = 6
"""Longer rankings (contributions, next tests) are cut to keep the report to one page."""

_STATUS_WORDS = STATUS_WORDS


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


@dataclass(frozen=True)
class _Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class _Bullets:
    items: tuple[str, ...]


_Block = _Heading | _Paragraph | _Table | _Bullets


def render_report(assessment: Assessment, fmt: str = "markdown") -> str:
    """The one-page report of ``assessment`` as Markdown (``fmt="markdown"``) or HTML.

    Parameters
    ----------
    assessment : the object :func:`model.assessment.assess` returns.
    fmt : ``"markdown"`` or ``"html"`` (a complete, self-contained, escaped HTML page).

    Returns
    -------
    str
        The report text.
    """
    if fmt not in FORMATS:
        raise InputError("report format", fmt, "'markdown' or 'html'", suggest(str(fmt), FORMATS))
    blocks = _blocks(assessment)
    return _markdown(blocks) if fmt == "markdown" else _html(blocks)


def _blocks(a: Assessment) -> list[_Block]:
    blocks: list[_Block] = [_Heading(1, TITLE), _Paragraph(STATEMENT, strong=True, boxed=True)]
    blocks += _case_blocks(a)
    blocks += _answer_blocks(a)
    blocks += _criteria_blocks(a.criteria)
    blocks += [_Heading(2, "Criteria and probability"), _Paragraph(a.agreement)]
    blocks += _analysis_blocks(a)
    if a.notes:
        blocks += [_Heading(2, "How the case was read"), _Bullets(tuple(a.notes))]
    blocks += [_Heading(2, "Sources"), _Bullets(_sources(a.criteria))]
    blocks.append(_Paragraph(STATEMENT, strong=True, boxed=True))
    return blocks


def _case_blocks(a: Assessment) -> list[_Block]:
    case = a.case
    facts = [
        f"Case: {case.id or 'unnamed'}",
        f"age: {_number(case.age) if case.age is not None else 'not given'}",
        f"sex: {case.sex or 'not given'}",
        f"setting: {a.setting_label}",
    ]
    rows = tuple(
        (label(fid), _entered(a, fid)) for fid in FINDINGS if case.entered(fid) is not None
    )
    missing = sum(
        1
        for fid, spec in FINDINGS.items()
        if spec.kind is not Kind.AGGREGATE and case.entered(fid) is None
    )
    out: list[_Block] = [_Heading(2, "Case"), _Paragraph("; ".join(facts) + ".")]
    if rows:
        out.append(_Table(("finding", "entered"), rows))
    else:
        out.append(_Paragraph("No findings entered."))
    out.append(
        _Paragraph(
            f"{missing} findings were not assessed; they are left out of both answers, never "
            "counted as absent."
        )
    )
    return out


def _entered(a: Assessment, finding_id: str) -> str:
    case = a.case
    spec = FINDINGS[finding_id]
    if spec.kind is Kind.MEASUREMENT:
        vegf = case.vegf
        return vegf.describe() if vegf is not None else "not measured"
    if spec.kind is Kind.NUMBER:
        value = case.number(finding_id)
        return f"{_number(value)} {spec.unit}" if value is not None else "not measured"
    return str(case.entered(finding_id))


def _answer_blocks(a: Assessment) -> list[_Block]:
    headline = f"P(POEMS | findings) = {percent(a.posterior_poems)}"
    if a.credible_interval is not None:
        low, high = _bounds(a.credible_interval)
        headline += f" (90% credible interval {percent(low)} to {percent(high)}: {INTERVAL_LABEL})"
    else:
        headline += " (credible interval not computed)"
    rows = tuple(
        (DIAGNOSIS_LABELS.get(d, d), percent(a.prior[d]), percent(p)) for d, p in a.differential
    )
    return [
        _Heading(2, "Answer"),
        _Paragraph(headline + ".", strong=True),
        _Paragraph(
            f"Base rate of POEMS before any finding: {percent(a.prior_poems)} in the setting "
            f"'{a.setting_label}'."
        ),
        _Table(("diagnosis", "base rate", "after findings"), rows),
        *([_Paragraph(INTERVAL_MEANING)] if a.credible_interval is not None else []),
    ]


def _criteria_blocks(results: Mapping[str, CriteriaResult]) -> list[_Block]:
    default = results.get(DEFAULT_RULE_SET) or next(iter(results.values()))
    trace = tuple(
        (c.role, c.label, _STATUS_WORDS.get(c.status, c.status), _because(c))
        for c in default.criteria
    )
    out: list[_Block] = [
        _Heading(2, "Formal criteria"),
        _Paragraph(
            f"{default.title}: {_STATUS_WORDS.get(default.verdict, default.verdict)}.", strong=True
        ),
        _Table(("role", "criterion", "status", "because"), trace),
    ]
    if default.could_change_with:
        out.append(_Paragraph("What would decide it (each finding alone):"))
        out.append(
            _Bullets(
                tuple(
                    f"{label(c['finding'])}: if present {_words(c['if_present'])}, "
                    f"if absent {_words(c['if_absent'])}"
                    for c in default.could_change_with
                )
            )
        )
    if default.flags:
        out.append(_Bullets(tuple(FLAG_TEXT.get(f, f) for f in default.flags)))
    others = tuple(
        (r.title, _words(r.verdict)) for rid, r in results.items() if rid != default.rule_set
    )
    if others:
        out += [_Paragraph("Other rule sets:"), _Table(("rule set", "verdict"), others)]
    return out


def _bounds(interval: Any) -> tuple[float, float]:
    """(low, high) of a credible interval given as an object or as a pair."""
    if hasattr(interval, "low"):
        return float(interval.low), float(interval.high)
    return float(interval[0]), float(interval[1])


def _because(c: Any) -> str:
    parts = []
    if c.satisfied_by:
        parts.append(", ".join(label(f) for f in c.satisfied_by))
    if c.note:
        parts.append(c.note)
    return "; ".join(parts) or "-"


def _analysis_blocks(a: Assessment) -> list[_Block]:
    out: list[_Block] = []
    contributions = getattr(a.contributions, "items", None)
    if contributions:
        ranked = sorted(contributions, key=lambda c: -abs(c.log_odds_change))
        out += [
            _Heading(2, "Why: what moved the probability"),
            _Paragraph(
                "Each observed finding multiplies the odds of POEMS by its likelihood ratio "
                "(largest effects first):"
            ),
            _Bullets(tuple(_contribution(c) for c in ranked[:MAX_LIST_ITEMS])),
        ]
    if a.workup is not None:
        items = tuple(f"[{item.tier}] {item.label}: {item.why}" for item in a.workup.items)
        out += [
            _Heading(2, "Next tests, in the order an expert orders them"),
            _Paragraph(a.workup.message),
        ]
        if items:
            out += [_Bullets(items), _Paragraph(a.workup.order_rule)]
    next_tests = list(a.next_tests or ())
    if next_tests:
        out += [
            _Heading(2, "What to test next"),
            _Paragraph("Single unassessed findings by expected information about the diagnosis:"),
            _Bullets(tuple(_next_test(t) for t in next_tests[:MAX_LIST_ITEMS])),
        ]
    return out


def _contribution(c: Any) -> str:
    state = str(c.state).replace("_", " ")
    return f"{c.label} ({state}): odds x {c.likelihood_ratio:.3g}"


def _next_test(t: Any) -> str:
    outcomes = "; ".join(
        f"if {str(s).replace('_', ' ')} {percent(p)}" for s, p in t.p_poems_if.items()
    )
    return f"{t.label}: {t.expected_entropy_reduction_bits:.2g} bits expected; P(POEMS) {outcomes}"


def _sources(results: Mapping[str, CriteriaResult]) -> tuple[str, ...]:
    lines = []
    for result in results.values():
        citation = result.citation
        where = f"doi:{citation.doi}" if citation.doi else citation.url
        lines.append(f"{result.title}: {citation.text}. {where}")
    lines.append(PRIORS_SOURCE)
    return tuple(lines)


def _words(status: str) -> str:
    return _STATUS_WORDS.get(status, status.replace("_", " "))


def _number(value: float | int | None) -> str:
    return "" if value is None else f"{value:g}"


# ---------------------------------------------------------------- Markdown
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def _md(text: str) -> str:
    """Text safe inside Markdown: special characters escaped, one line."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


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
    "body{font-family:system-ui,sans-serif;max-width:48rem;margin:1.5rem auto;"
    "font-size:10.5pt;line-height:1.3;color:#222}"
    "table{border-collapse:collapse;margin:.4rem 0 .8rem;width:100%}"
    "th,td{border:1px solid #bbb;padding:.2rem .4rem;text-align:left;vertical-align:top}"
    "th{background:#f0f0f0}h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.2rem}"
    ".statement{border:1px solid #4c78a8;background:#eef4fb;padding:.5rem}"
    "@media print{body{margin:0}}"
)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _html(blocks: Iterable[_Block]) -> str:
    body: list[str] = []
    for block in blocks:
        if isinstance(block, _Heading):
            body.append(f"<h{block.level}>{_e(block.text)}</h{block.level}>")
        elif isinstance(block, _Paragraph):
            text = f"<strong>{_e(block.text)}</strong>" if block.strong else _e(block.text)
            css = ' class="statement"' if block.boxed else ""
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
