"""Combinations of findings that are possible but suspicious: a check note, never a refusal.

:meth:`model.case.Case._check_consistency` refuses what cannot be true by definition (an
aggregate absent while a part is present, a stated state against its measured value). The
rules here are different: each combination can happen, but is rare enough that an entry error
is as likely as the clinical explanation, so the assessment carries a ``Check:`` note that
names the findings by their labels and says what would explain it. The notes change no number
(``tests/test_plausibility.py``).

Each rule is data: the conditions that must all hold (a condition holds when any of its
findings is in the state, or at least the value) and the words a clinician would write.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.case import Case
from model.vocabulary import ABSENT, FINDINGS, PRESENT, label


@dataclass(frozen=True)
class Condition:
    """Any of ``findings`` in ``state`` (tri-state, derived values included), or, for a
    numeric finding, a value of at least ``at_least`` in the vocabulary's unit."""

    findings: tuple[str, ...]
    state: str = PRESENT
    at_least: float | None = None


@dataclass(frozen=True)
class PlausibilityRule:
    """One suspicious combination: ``when`` all hold, the note says ``explanation``."""

    id: str
    when: tuple[Condition, ...]
    explanation: str
    reasoning: str


RULES: tuple[PlausibilityRule, ...] = (
    PlausibilityRule(
        "anemia_with_polycythemia",
        (Condition(("anemia",)), Condition(("polycythemia",))),
        "anemia and polycythemia cannot both hold at one time: check which was meant, or "
        "enter the hemoglobin and hematocrit and let the values decide.",
        "Both are read from the same red-cell measures at opposite ends of their range; "
        "two readings at different times entered as one case are the usual cause.",
    ),
    PlausibilityRule(
        "thrombocytosis_with_low_platelets",
        (Condition(("thrombocytosis",)), Condition(("thrombocytopenia",))),
        "a raised and a low platelet count cannot both hold at one time: check which was "
        "meant, or enter the platelet count.",
        "Opposite ends of one count; thrombocytosis may be derived from the platelet count "
        "entered, so this also catches a stated low count against a high measured one.",
    ),
    PlausibilityRule(
        "nerve_conduction_without_polyneuropathy",
        (
            Condition(("polyneuropathy",), ABSENT),
            Condition(("demyelinating_ncs", "conduction_block", "high_terminal_latency_index")),
        ),
        "demyelination on nerve conduction without clinical polyneuropathy: subclinical, or "
        "an entry error. Re-examine, or check the entry.",
        "Subclinical demyelination on nerve conduction exists, but in a case assessed for "
        "POEMS an absent polyneuropathy beside demyelinating studies is more often a slip; "
        "the polyneuropathy is the first mandatory criterion, so it matters which is right.",
    ),
    PlausibilityRule(
        "marrow_plasmacytosis_without_mprotein",
        (
            Condition(("monoclonal_protein",), ABSENT),
            Condition(("bone_marrow_plasma_cells_pct",), at_least=10.0),
        ),
        "10 % or more marrow plasma cells with no monoclonal protein found: a non-secretory "
        "or oligosecretory clone, or a reactive plasmacytosis. A marrow biopsy with "
        "light-chain immunohistochemistry (and a serum free light-chain assay) answers it.",
        "10 % clonal marrow plasma cells is the IMWG threshold of myeloma (Rajkumar et al., "
        "Lancet Oncol 2014;15:e538-48); a clone that large seldom escapes immunofixation, "
        "and a reactive plasmacytosis that large is uncommon.",
    ),
    PlausibilityRule(
        "spep_band_without_mprotein",
        (
            Condition(("monoclonal_protein",), ABSENT),
            Condition(("mprotein_visible_on_spep",)),
        ),
        "a band on electrophoresis with no monoclonal protein on immunofixation: often not "
        "monoclonal (fibrinogen in a plasma sample, an acute-phase protein), or an entry "
        "error. Immunofixation decides.",
        "Immunofixation is more sensitive than electrophoresis, so a true M-spike seen on "
        "electrophoresis is also seen on immunofixation; the two entries disagree.",
    ),
)
"""The suspicious combinations, each with its reasoning (``docs/reliability.md``, D9)."""


def _holds(case: Case, condition: Condition) -> tuple[str, ...]:
    """The words for the findings that satisfy ``condition`` (empty if none does)."""
    out = []
    for fid in condition.findings:
        if condition.at_least is not None:
            value = case.number(fid)
            if value is not None and value >= condition.at_least:
                out.append(f"'{label(fid)}' {value:g} {FINDINGS[fid].unit}")
        elif case.state(fid) == condition.state:
            out.append(f"'{label(fid)}' {condition.state}")
    return tuple(out)


def check_notes(case: Case, rules: tuple[PlausibilityRule, ...] = RULES) -> tuple[str, ...]:
    """One ``Check:`` note per rule whose conditions all hold, findings named by label."""
    notes = []
    for rule in rules:
        parts = [_holds(case, c) for c in rule.when]
        if all(parts):
            found = " with ".join(", ".join(p) for p in parts)
            notes.append(f"Check: {found} — {rule.explanation}")
    return tuple(notes)
