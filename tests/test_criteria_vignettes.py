"""Published patient vignettes (tests/cases/*.json) give the verdicts that follow from them.

``tests/cases/index.toml`` holds each case's source, what the source reports, how it was
encoded, and the expected verdict per rule set; see the header of that file.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from model.case import Case
from model.criteria import RULE_SETS, STATUSES, evaluate

CASES_DIR = Path(__file__).parent / "cases"
INDEX: list[dict[str, Any]] = tomllib.loads((CASES_DIR / "index.toml").read_text("utf-8"))["case"]


def test_index_and_files_match_one_to_one() -> None:
    listed = sorted(entry["file"] for entry in INDEX)
    on_disk = sorted(p.name for p in CASES_DIR.glob("*.json"))
    assert listed == on_disk
    assert len(listed) >= 12


@pytest.mark.parametrize("entry", INDEX, ids=[e["file"].removesuffix(".json") for e in INDEX])
def test_index_entry_is_complete(entry: dict[str, Any]) -> None:
    for key in ("source", "url", "kind", "reports", "encoding", "expected"):
        assert entry.get(key), f"{entry['file']}: missing {key}"
    assert entry["url"].startswith("http")
    assert set(entry["expected"]) <= set(RULE_SETS)
    assert set(entry["expected"].values()) <= set(STATUSES)
    if set(entry["expected"]) != set(RULE_SETS):
        assert entry.get("not_checked"), "say why a rule set is not checked"


@pytest.mark.parametrize("entry", INDEX, ids=[e["file"].removesuffix(".json") for e in INDEX])
def test_vignette_verdicts(entry: dict[str, Any]) -> None:
    case = Case.load(CASES_DIR / entry["file"])
    for rule_set, verdict in entry["expected"].items():
        result = evaluate(case, rule_set)
        assert result.verdict == verdict, f"{rule_set}: {result.explanation}"
    for rule_set, flags in entry.get("flags", {}).items():
        assert set(flags) <= set(evaluate(case, rule_set).flags), rule_set
    for flag in entry.get("no_flags", []):
        for rule_set in RULE_SETS:
            assert flag not in evaluate(case, rule_set).flags
    for rule_set, changes in entry.get("could_change_with", {}).items():
        listed = evaluate(case, rule_set).could_change_with
        for change in changes:
            assert change in listed, f"{rule_set}: {change} not in {listed}"


def test_vignettes_cover_poems_and_mimics() -> None:
    """At least one met-by-every-rule POEMS case, mimics not met, and an indeterminate one."""
    outcomes = {e["file"]: tuple(sorted(set(e["expected"].values()))) for e in INDEX}
    assert ("met",) in outcomes.values()
    assert ("not_met",) in outcomes.values()
    assert any("indeterminate" in v for v in outcomes.values())
