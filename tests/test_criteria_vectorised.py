"""The criteria's "what would decide it" (could_change_with) equals a full re-evaluation.

``evaluate`` scores every one-finding-away variant in one vectorised pass
(:func:`model.criteria.vectorised.verdicts_if_set`) and sends only the rows it cannot settle
through ``Case``. Here every variant is rebuilt as a new ``Case`` and evaluated from scratch,
for the bundled examples and for simulated cases with many findings missing, under every
rule set.
"""

from __future__ import annotations

import pytest
from case_helpers import EXAMPLES, simulated_cases

from model.case import Case
from model.criteria import INDETERMINATE, MET, NOT_MET, RULE_SETS, evaluate
from model.criteria.engine import INCONSISTENT, _candidates, _verdict
from model.criteria.vectorised import verdicts_if_set
from model.exceptions import CaseError
from model.vocabulary import ABSENT, PRESENT


def _cases() -> list[Case]:
    examples = [Case.load(p) for p in EXAMPLES]
    return examples + simulated_cases("paraproteinemic_neuropathy", 120, seed=21, missing=0.6)


def _brute_force(case: Case, rule_set: str, finding: str, state: str) -> str:
    try:
        return evaluate(case.with_finding(finding, state), rule_set).verdict
    except CaseError:
        return INCONSISTENT


@pytest.mark.parametrize("rule_set", sorted(RULE_SETS))
def test_could_change_with_equals_full_reevaluation(rule_set: str) -> None:
    checked = 0
    for case in _cases():
        result = evaluate(case, rule_set)
        if result.verdict != INDETERMINATE:
            assert result.could_change_with == ()
            continue
        _, trace = _verdict(case, RULE_SETS[rule_set])
        expected = []
        for fid in _candidates(case, trace):
            present = _brute_force(case, rule_set, fid, PRESENT)
            absent = _brute_force(case, rule_set, fid, ABSENT)
            if MET in (present, absent) or NOT_MET in (present, absent):
                expected.append({"finding": fid, "if_present": present, "if_absent": absent})
            checked += 1
        assert list(result.could_change_with) == expected
    assert checked >= 100


def test_variants_the_fast_path_cannot_vouch_for_go_through_case() -> None:
    """A variant the vectorised path flags gets ``None`` and is decided by ``Case``: some of
    those are refused by ``Case`` (``inconsistent`` in the result)."""
    refused = 0
    for case in _cases():
        for rule_set, rules in RULE_SETS.items():
            verdict, trace = _verdict(case, rules)
            if verdict != INDETERMINATE:
                continue
            candidates = _candidates(case, trace)
            statuses = [o.status for _, _, o in trace]
            fast = verdicts_if_set(case, rules, candidates, statuses)
            for (fid, state), known in fast.items():
                if known is None:  # the others are checked by the test above
                    refused += _brute_force(case, rule_set, fid, state) == INCONSISTENT
    assert refused >= 1
