"""The one-page report: pure, complete, escaped, and saying it is decision support."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from model.assessment import Assessment, assess
from model.case import Case
from model.criteria import DEFAULT_RULE_SET
from model.exceptions import InputError
from model.formatting import clinical_text, interval_text, probability, rule_set_name
from model.report import NO_DECISIVE_TEST, STATEMENT, decisive_tests, render_report
from model.vocabulary import label

ROOT = Path(__file__).resolve().parent.parent
VOID = {"meta", "br", "hr", "img", "link", "input"}


@pytest.fixture(scope="module")
def assessment() -> Assessment:
    return assess(Case.load(ROOT / "examples" / "early_workup_vegf_pending.json"))


class _TagBalance(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_report_holds_case_answer_trace_sources_and_statement(
    assessment: Assessment, fmt: str
) -> None:
    text = render_report(assessment, fmt)
    if fmt == "html":
        parser = _TagBalance()
        parser.feed(text)
        assert parser.problems == [] and parser.stack == []
        text = "".join(parser.text)
    plain = text.replace("\\", "")  # Markdown escapes
    assert plain.count(STATEMENT) == 2  # top and bottom
    interval = (assessment.credible_interval.low, assessment.credible_interval.high)
    assert probability(assessment.posterior_poems, interval) in plain
    seed = assessment.criteria[DEFAULT_RULE_SET]
    for result in assessment.criteria.values():
        assert rule_set_name(result.rule_set) in plain
        citation = result.citation
        assert (f"doi:{citation.doi}" if citation.doi else citation.url) in plain
    for criterion in seed.criteria:
        if criterion.status == "indeterminate":
            assert criterion.label in plain
    for fid in assessment.case.assessed():
        assert label(fid) in plain
    for change in seed.could_change_with[:4]:
        assert label(change["finding"]) in plain
    assert clinical_text(assessment.agreement) in plain
    assert rule_set_name(DEFAULT_RULE_SET) in plain
    if assessment.credible_interval is None:
        assert "credible interval not computed" in plain
    else:
        assert "90% credible interval" in plain


def test_credible_interval_is_reported_when_computed(assessment: Assessment) -> None:
    with_interval = dataclasses.replace(assessment, credible_interval=(0.61, 0.93))
    text = render_report(with_interval)
    assert f"90% credible interval {interval_text(0.61, 0.93)}" in text
    assert "not computed" not in text


def test_html_escapes_user_text_and_markdown_cannot_break_tables() -> None:
    case = Case.from_dict(
        {"id": '<script>alert("x")</script> | **bold**', "findings": {"polyneuropathy": "present"}}
    )
    a = assess(case)
    page = render_report(a, "html")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    markdown = render_report(a, "markdown")
    assert "<script>" not in markdown
    assert r"\<script\>" in markdown and r"\| \*\*bold\*\*" in markdown


def test_report_is_pure(assessment: Assessment) -> None:
    before = assessment.to_dict()
    first = render_report(assessment, "html")
    assert render_report(assessment, "html") == first
    assert assessment.to_dict() == before


def test_an_unknown_format_names_the_choices(assessment: Assessment) -> None:
    with pytest.raises(InputError, match=r"report format must be 'markdown' or 'html'.*'html'"):
        render_report(assessment, "htm")


def test_an_empty_case_says_no_findings_were_entered() -> None:
    text = render_report(assess(Case()), "markdown")
    assert "No findings entered." in text


def test_report_carries_interval_contributions_and_next_tests(
    assessment: Assessment,
) -> None:
    full = assessment
    assert full.credible_interval is not None and full.next_tests is not None
    text = render_report(full)
    low, high = full.credible_interval.low, full.credible_interval.high
    plain = text.replace("\\", "")  # Markdown escapes (a bound such as "> 99.9 %")
    assert f"90% credible interval {interval_text(low, high)}" in plain
    assert "## Why: the strongest reasons" in text
    assert "## Next tests, in the order an expert orders them" in text
    strongest = max(full.contributions.items, key=lambda c: abs(c.log_odds_change))
    assert strongest.label in text


def test_report_names_when_and_with_what_it_was_made(assessment: Assessment) -> None:
    made = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)
    text = render_report(assessment, "markdown", generated_at=made, version="9.9.9")
    assert "Made 2026-12-02 01:30 UTC" in text
    assert "poems-dx 9.9.9" in text
    assert f"priors {assessment.priors_fingerprint[:12]}" in text


def test_next_steps_say_plainly_when_no_test_changes_the_answer() -> None:
    settled = dataclasses.replace(
        assess(Case.load(ROOT / "examples" / "classic_poems.json")), workup=None
    )
    useful = decisive_tests(settled.next_tests)
    text = render_report(settled, "markdown")
    if useful:
        assert useful[0].label in text
    else:
        assert NO_DECISIVE_TEST in text
    assert "bits" not in text
    none_left = dataclasses.replace(settled, next_tests=(), workup=None)
    assert NO_DECISIVE_TEST in render_report(none_left, "markdown")
