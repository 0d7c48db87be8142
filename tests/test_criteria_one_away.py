"""The shortcuts of the criteria's "what would decide it" equal the plain computation.

``_Tally.verdict_if`` reads the verdict with one criterion's status changed from counts;
here it is compared with :func:`model.criteria.verdict._verdict_of` on the changed list, for
every rule set, criterion and status, over random status lists. (The whole
``could_change_with`` is compared with a full re-evaluation of every variant in
``tests/test_criteria_vectorised.py`` and ``tests/test_criteria_properties.py``.)
"""

from __future__ import annotations

import random

import pytest

from model.criteria import RULE_SETS, STATUSES
from model.criteria.verdict import _Tally, _verdict_of


@pytest.mark.parametrize("rule_set", sorted(RULE_SETS))
def test_tally_gives_the_verdict_of_the_changed_statuses(rule_set: str) -> None:
    rules = RULE_SETS[rule_set]
    roles = [role for role, _ in rules.criteria()]
    rng = random.Random(rule_set)
    seen = set()
    for _ in range(300):
        statuses = [rng.choice(STATUSES) for _ in roles]
        tally = _Tally(rules, roles, statuses)
        for i in range(len(roles)):
            for status in STATUSES:
                changed = list(statuses)
                changed[i] = status
                expected = _verdict_of(rules, list(zip(roles, changed, strict=True)))
                assert tally.verdict_if(i, status) == expected, (statuses, i, status)
                seen.add(expected)
    assert seen == set(STATUSES)
