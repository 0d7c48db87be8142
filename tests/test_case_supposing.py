"""``Case.supposing`` and ``Case.accepts`` answer as ``Case.with_finding`` does.

The criteria's "what would decide it" reads every unassessed binary finding and aggregate of
a case set present and absent through :class:`model.case.Supposed` (without making the new
case) and asks :meth:`model.case.Case.accepts` whether the case would take it. Here each such
variant of the bundled examples, the development set and simulated cases with many findings
missing is also made with ``with_finding`` and compared finding by finding.
"""

from __future__ import annotations

import pytest
from case_helpers import EXAMPLES, simulated_cases

from model.case import Case, Supposed
from model.evaluation.devset import load_devset
from model.exceptions import CaseError
from model.vocabulary import ABSENT, FINDINGS, PRESENT, Kind

STATED = tuple(f for f, spec in FINDINGS.items() if spec.kind in (Kind.BINARY, Kind.AGGREGATE))


def _cases() -> list[Case]:
    examples = [Case.load(p) for p in EXAMPLES] + [p.case for p in load_devset().patients]
    return examples + simulated_cases("neuropathy_clinic", 150, seed=5, missing=0.5)


def test_supposed_reads_as_the_case_with_the_finding() -> None:
    compared = refused = 0
    for case in _cases():
        for fid in STATED:
            if case.entered(fid) is not None:
                continue
            for state in (PRESENT, ABSENT):
                try:
                    made = case.with_finding(fid, state)
                except CaseError:
                    assert not case.accepts(fid, state), (case, fid, state)
                    refused += 1
                    continue
                assert case.accepts(fid, state), (case, fid, state)
                supposed = case.supposing(fid, state)
                for other in FINDINGS:
                    assert supposed.state(other) == made.state(other), (fid, state, other)
                    assert supposed.entered(other) == made.entered(other), (fid, state, other)
                    if FINDINGS[other].kind is Kind.NUMBER:
                        assert supposed.number(other) == made.number(other)
                assert supposed.vegf == made.vegf
                compared += 1
    assert compared > 5000
    assert refused > 20  # the consistency rules do refuse some


def test_supposing_adds_a_finding_and_never_replaces_one() -> None:
    case = Case.from_dict({"findings": {"polyneuropathy": "present", "ascites": "unknown"}})
    assert case.supposing("ascites", PRESENT).state("extravascular_volume_overload") == PRESENT
    with pytest.raises(CaseError, match="not entered"):
        Supposed(case, "polyneuropathy", ABSENT)
    with pytest.raises(CaseError, match="binary finding or aggregate"):
        Supposed(case, "platelets", PRESENT)
    with pytest.raises(CaseError, match="binary finding or aggregate"):
        Supposed(case, "ascites", "maybe")
