"""Every teaching note's checkable claim agrees with the walked numbers (``model.teaching.claims``).

The checker must be able to fail: claims it recognises are tested against made-up steps whose
numbers contradict them, and the old AL-amyloid note ("the network shifts to AL amyloidosis"
beside a P(POEMS) that barely moved) is recognised as a 'leads' claim.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from model.teaching.claims import broken_claims, claims
from model.teaching.library import load_library
from model.teaching.walk import Step, walk

LIBRARY = load_library()


@pytest.fixture(scope="module")
def walks() -> dict[str, list[Step]]:
    return {cid: walk(case, interval=False) for cid, case in LIBRARY.items()}


def test_every_published_cases_notes_agree_with_its_numbers(walks: dict[str, list[Step]]) -> None:
    broken = {
        cid: [(i + 1, c.text) for i, c in broken_claims(steps)] for cid, steps in walks.items()
    }
    assert {cid: b for cid, b in broken.items() if b} == {}


def test_the_library_makes_claims_the_checker_reads(walks: dict[str, list[Step]]) -> None:
    found = [c.kind for steps in walks.values() for s in steps for c in claims(s.teaching_note)]
    assert {"leads", "most_weight", "falls", "minority"} <= set(found)


def test_claims_are_read_from_the_words() -> None:
    [c] = claims("Amyloid on biopsy: the network shifts to AL amyloidosis.")
    assert (c.kind, c.diagnosis) == ("leads", "al_amyloidosis")
    [c] = claims("the network should now put almost all the weight on MGUS / anti-MAG neuropathy")
    assert (c.kind, c.diagnosis) == ("most_weight", "mgus_neuropathy")
    assert [c.kind for c in claims("P(POEMS) rises, then the probability falls")] == [
        "rises",
        "falls",
    ]
    assert claims("Lambda is shared by POEMS and AL amyloidosis.") == []


def test_a_contradicted_claim_is_caught(walks: dict[str, list[Step]]) -> None:
    steps = walks["al_amyloid_neuropathy"]
    last, before = steps[-1], steps[-2]
    wrong = replace(last, teaching_note="The network shifts to CIDP and P(POEMS) rises.")
    assert last.top_diagnosis != "cidp" and last.p_poems < before.p_poems
    assert [c.kind for _, c in broken_claims([before, wrong])] == ["leads", "rises"]
    flat = {d: 1 / len(last.posterior) for d in last.posterior}
    weak = replace(
        last,
        posterior={**flat, "al_amyloidosis": 0.5},
        teaching_note="almost all the weight on AL amyloidosis",
    )
    assert len(broken_claims([before, weak])) == 1
