"""Would a test settle an indeterminate criteria verdict, and which way?

For each candidate test (:func:`model.analysis.next_tests`) and each of its outcomes, the seed
verdict after that outcome is read from the criteria engine's own one-finding-away list
(``CriteriaResult.could_change_with``, computed by re-evaluating the rule set), and the
probability of settling is the network's predictive probability of the outcomes that give a
determinate verdict.

Mapping of network outcomes to findings:

- a binary finding or aggregate: its own entry;
- a VEGF band: bands at or above 4 x ULN read as ``vegf_elevated: present``, bands up to
  2 x ULN as ``absent``; the 2-4 x band straddles the seed rule's 3 x cut-off and is
  counted as not settling (an approximation: within that band it depends on the value);
- a light chain type: implies a monoclonal protein, so it reads as
  ``monoclonal_protein: present``.

Any other outcome leaves the verdict as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from model.analysis.explain import NextTest
from model.criteria import INDETERMINATE, CriteriaResult

VEGF_BANDS_ELEVATED = frozenset({"from_4x_to_10x", "above_10x"})
VEGF_BANDS_NOT_ELEVATED = frozenset({"up_to_1x", "from_1x_to_2x"})


def _stand_in(node: str, state: str) -> tuple[str, str] | None:
    """The (finding, present/absent) an outcome amounts to for the criteria, if any."""
    if node in ("vegf_serum", "vegf_plasma"):
        if state in VEGF_BANDS_ELEVATED:
            return "vegf_elevated", "present"
        if state in VEGF_BANDS_NOT_ELEVATED:
            return "vegf_elevated", "absent"
        return None
    if node == "light_chain":
        return "monoclonal_protein", "present"
    if state in ("present", "absent"):
        return node, state
    return None


_StandIns = tuple[tuple[tuple[str, str] | None, ...], frozenset[str]]
_STAND_INS: dict[tuple[str, tuple[str, ...]], _StandIns] = {}


def _stand_ins(node: str, states: tuple[str, ...]) -> _StandIns:
    """:func:`_stand_in` of each of ``states``, and the findings they name (the same for
    every case: kept per node)."""
    key = (node, states)
    known = _STAND_INS.get(key)
    if known is None:
        each = tuple(_stand_in(node, state) for state in states)
        known = _STAND_INS[key] = (each, frozenset(s[0] for s in each if s is not None))
    return known


DETERMINATE = frozenset({"met", "not_met"})


class Settling:
    """What :func:`settle` reads from one criteria result, prepared once for all the tests
    of an assessment: the result's one-finding-away list (read when a test first asks for
    it) and whether anything can settle the verdict (only an indeterminate one can).

    :func:`model.analysis.explain.contributions_and_next_tests` fills the settling fields in
    as it builds each test, so no test is made twice (``tests/test_settle.py`` checks the
    tests equal :func:`settle`'s field for field)."""

    def __init__(self, result: CriteriaResult) -> None:
        self.verdict = result.verdict
        self.open = result.verdict == INDETERMINATE
        self._result = result
        self._changes: Mapping[str, Mapping[str, str]] | None = None

    @property
    def changes(self) -> Mapping[str, Mapping[str, str]]:
        """Finding -> the verdict if present / absent (the result's ``could_change_with``,
        read when first needed)."""
        if self._changes is None:
            self._changes = {
                str(entry["finding"]): {
                    "present": str(entry["if_present"]),
                    "absent": str(entry["if_absent"]),
                }
                for entry in self._result.could_change_with
            }
        return self._changes

    def outcomes(
        self, node: str, states: tuple[str, ...], p_outcome: Sequence[float]
    ) -> tuple[dict[str, str], float]:
        """The seed verdict after each of ``states`` of ``node`` (``p_outcome`` their
        probabilities, in order) and P(the verdict is settled): the predictive mass of the
        outcomes with a determinate verdict, 0 when the verdict is already determinate."""
        verdict = self.verdict
        if not self.open:
            return dict.fromkeys(states, verdict), 0.0
        changes = self.changes
        each, named = _stand_ins(node, states)
        if named.isdisjoint(changes):  # no outcome moves the verdict (most nodes)
            return dict.fromkeys(states, verdict), 0
        verdict_if = {}
        # summed in order from the integer 0, as sum() would (an outcome-free total stays
        # the integer 0)
        settled: float = 0
        for state, stand_in, p in zip(states, each, p_outcome, strict=True):
            after = verdict
            if stand_in is not None:
                change = changes.get(stand_in[0])
                if change is not None:
                    after = change[stand_in[1]]
            verdict_if[state] = after
            if after in DETERMINATE:
                settled += p
        return verdict_if, settled


def settle(tests: Sequence[NextTest], result: CriteriaResult) -> tuple[NextTest, ...]:
    """``tests`` with ``seed_verdict_if`` and ``p_settles_seed`` filled in from ``result``.

    When ``result`` is already determinate nothing can settle it: every test keeps its verdict
    and its settling probability is 0.
    """
    settling = Settling(result)
    out = []
    for test in tests:
        verdict_if, settles = settling.outcomes(
            test.node, tuple(test.p_outcome), tuple(test.p_outcome.values())
        )
        out.append(_with_settling(test, verdict_if, settles))
    return tuple(out)


def _with_settling(test: NextTest, verdict_if: dict[str, str], settles: float) -> NextTest:
    """``test`` with its settling filled in (what ``dataclasses.replace`` gives, without its
    per-call introspection; ``tests/test_settle.py`` checks every other field is kept)."""
    return NextTest(
        finding=test.finding,
        node=test.node,
        expected_entropy_reduction_bits=test.expected_entropy_reduction_bits,
        expected_abs_change_poems=test.expected_abs_change_poems,
        p_present=test.p_present,
        p_outcome=test.p_outcome,
        p_poems_if=test.p_poems_if,
        seed_verdict_if=verdict_if,
        p_settles_seed=settles,
    )
