"""What if an unassessed finding came back present, or absent? (pure, no streamlit)

For every binary finding the case leaves unassessed, two new cases are made with
:meth:`~model.case.Case.with_finding` (the case itself is never changed) and all of them are
scored in one call of the core's batch scorer (:func:`model.inference.batch.score_frame`:
the compiled exact engine for P(POEMS) and the vectorised criteria for the seed verdict).
A variant the case forbids (an aggregate absent while one of its parts is present) is
reported as impossible with the case's own message, never scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model.case import Case
from model.exceptions import PoemsError
from model.vocabulary import ABSENT, FINDINGS, PRESENT, Kind


@dataclass(frozen=True)
class Outcome:
    """P(POEMS) and the seed verdict if one finding took one state (``None``: impossible)."""

    posterior_poems: float | None
    verdict: str | None
    reason: str = ""


@dataclass(frozen=True)
class WhatIf:
    """One unassessed finding and what each of its states would do."""

    finding: str
    if_present: Outcome
    if_absent: Outcome


def candidates(case: Case) -> tuple[str, ...]:
    """Binary findings and aggregates the case leaves unassessed, in vocabulary order.

    ``vegf_elevated`` is left out when a VEGF value is entered (the value decides it).
    """
    out = []
    for fid, spec in FINDINGS.items():
        if spec.kind not in (Kind.BINARY, Kind.AGGREGATE) or case.state(fid) is not None:
            continue
        if fid == "vegf_elevated" and case.entered("vegf") is not None:
            continue
        out.append(fid)
    return tuple(out)


def what_if(
    case: Case, priors: Any, setting: str | None = None, rule_set: str = "seed"
) -> list[WhatIf]:
    """For each unassessed finding: P(POEMS) and the verdict if present, and if absent."""
    import pandas as pd

    from model.evaluation.bundled import row_from_case
    from model.inference.batch import score_frame

    slots: list[tuple[str, str, Case | None, str]] = []
    for fid in candidates(case):
        for state in (PRESENT, ABSENT):
            try:
                slots.append((fid, state, case.with_finding(fid, state), ""))
            except PoemsError as err:
                slots.append((fid, state, None, str(err)))
    scored = [variant for _, _, variant, _ in slots if variant is not None]
    results: list[Outcome] = []
    if scored:
        rows = [{k: _cell(v) for k, v in row_from_case(v).items()} for v in scored]
        frame = pd.DataFrame(rows, dtype=object).fillna("")
        out, _ = score_frame(frame, priors=priors, setting=setting, rule_set=rule_set)
        for post, verdict, error in zip(
            out["posterior_poems"], out[f"{rule_set}_verdict"], out["error"], strict=True
        ):
            if error:
                results.append(Outcome(None, None, str(error)))
            else:
                results.append(Outcome(float(post), str(verdict)))
    outcomes = iter(results)
    by_finding: dict[str, dict[str, Outcome]] = {}
    for fid, state, variant, reason in slots:
        outcome = next(outcomes) if variant is not None else Outcome(None, None, reason)
        by_finding.setdefault(fid, {})[state] = outcome
    return [WhatIf(fid, states[PRESENT], states[ABSENT]) for fid, states in by_finding.items()]


def _cell(value: Any) -> str:
    """A cohort cell: the batch scorer reads strings (as a CSV would give them)."""
    return "" if value is None else str(value)
