"""Read the claims a teaching note makes about the numbers, and check them against a step.

A teaching note is prose written by a person ("the network shifts to AL amyloidosis", "the
probability moves, but from a very low start"). Prose drifts when the priors change, so the
phrases that state a checkable fact about the step are listed here as data, each with the test
it implies, and ``tests/test_teaching_claims.py`` checks every note of every published case
against the walked numbers. A note that says something these patterns do not recognise is not
checked; a note that says something they recognise and the numbers contradict fails the test.

Claims
------
- ``leads``: a named diagnosis is the most likely one after the step ("shifts to X",
  "moves to X", "X becomes the most likely", "almost all the weight on X": the last also
  needs P(X) >= 0.8).
- ``rises`` / ``falls``: P(POEMS) went up / down from the previous step ("the probability
  rises", "P(POEMS) falls", "the probability moves" counts as either, only not "stays").
- ``low``: P(POEMS) stays below 5 % after the step ("POEMS stays negligible", "POEMS is not yet
  in view", "the probability stays low").
- ``minority``: P(POEMS) is below one half ("POEMS is a minority diagnosis").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from model.teaching.walk import Step

DIAGNOSIS_WORDS: tuple[tuple[str, str], ...] = (
    (r"AL amyloid(?:osis)?", "al_amyloidosis"),
    (r"(?:multiple )?myeloma", "multiple_myeloma"),
    (r"MGUS(?: / anti-MAG)?(?: neuropathy)?|anti-MAG(?: neuropathy)?", "mgus_neuropathy"),
    (r"Castleman disease", "castleman_disease"),
    (r"CIDP", "cidp"),
    (r"POEMS(?: syndrome)?", "poems"),
)
"""Words a note uses for a diagnosis state, most specific first."""

_DX = "(?P<dx>" + "|".join(words for words, _ in DIAGNOSIS_WORDS) + ")"
LOW_POEMS = 0.05
MOST_WEIGHT = 0.8

PATTERNS: tuple[tuple[str, str], ...] = (
    (rf"\b(?:shifts|moves|swings) to {_DX}", "leads"),
    (rf"{_DX} becomes the most likely", "leads"),
    (rf"almost all the weight on {_DX}", "most_weight"),
    (r"\b(?:the probability|P\(POEMS\)) (?:rises|climbs|goes up)", "rises"),
    (r"\b(?:the probability|P\(POEMS\)) (?:falls|drops|goes down)", "falls"),
    (r"\bthe probability moves\b", "moves"),
    (r"POEMS stays negligible|POEMS is not yet in view|the probability stays low", "low"),
    (r"POEMS is (?:still )?a minority diagnosis", "minority"),
)


@dataclass(frozen=True)
class Claim:
    """One checkable statement found in a note."""

    kind: str
    text: str
    diagnosis: str | None = None

    def holds(self, step: Step, previous: Step | None) -> bool:
        """Whether the walked numbers bear the claim out."""
        if self.kind in ("leads", "most_weight"):
            assert self.diagnosis is not None
            leads = step.top_diagnosis == self.diagnosis
            if self.kind == "most_weight":
                return leads and step.posterior[self.diagnosis] >= MOST_WEIGHT
            return leads
        if self.kind == "low":
            return step.p_poems < LOW_POEMS
        if self.kind == "minority":
            return step.p_poems < 0.5
        if previous is None:
            return False  # a change needs a step before it
        if self.kind == "rises":
            return step.p_poems > previous.p_poems
        if self.kind == "falls":
            return step.p_poems < previous.p_poems
        return step.p_poems != previous.p_poems  # "moves"


def _diagnosis(words: str) -> str:
    for pattern, state in DIAGNOSIS_WORDS:
        if re.fullmatch(pattern, words, flags=re.IGNORECASE):
            return state
    raise ValueError(words)


def claims(note: str) -> list[Claim]:
    """Every checkable claim in ``note`` (see the module docstring)."""
    found = []
    for pattern, kind in PATTERNS:
        for match in re.finditer(pattern, note, flags=re.IGNORECASE):
            dx = match.groupdict().get("dx")
            found.append(Claim(kind, match.group(0), _diagnosis(dx) if dx else None))
    return found


def broken_claims(steps: list[Step]) -> list[tuple[int, Claim]]:
    """(step index, claim) for every claim in the steps' teaching notes the numbers contradict."""
    out: list[tuple[int, Claim]] = []
    for i, step in enumerate(steps):
        previous = steps[i - 1] if i else None
        out.extend((i, c) for c in claims(step.teaching_note) if not c.holds(step, previous))
    return out
