"""A whole rule set: combine criterion statuses into the verdict, and find what would
decide an open verdict."""

from __future__ import annotations

from model.case import Case
from model.criteria.criterion import _Outcome, evaluate_criterion
from model.criteria.results import INCONSISTENT, INDETERMINATE, MET, NOT_MET
from model.criteria.rulesets import CriterionDef, Role, RuleSet
from model.criteria.vectorised import verdicts_if_set
from model.exceptions import CaseError
from model.vocabulary import ABSENT, FINDINGS, PRESENT, Kind


def _group_status(statuses: list[str], need: int) -> str:
    met = statuses.count(MET)
    if met >= need:
        return MET
    if met + statuses.count(INDETERMINATE) < need:
        return NOT_MET
    return INDETERMINATE


def _combine(parts: list[str]) -> str:
    if NOT_MET in parts:
        return NOT_MET
    if INDETERMINATE in parts:
        return INDETERMINATE
    return MET


Trace = list[tuple[Role, CriterionDef, _Outcome]]


def _verdict_of(rules: RuleSet, statuses: list[tuple[Role, str]]) -> str:
    """Combine criterion statuses (in rule-set order) into the verdict."""
    parts = [status for role, status in statuses if role is Role.MANDATORY]
    for role, group in ((Role.MAJOR, rules.major), (Role.MINOR, rules.minor)):
        if group.need > 0:
            parts.append(_group_status([s for r, s in statuses if r is role], group.need))
    return _combine(parts)


def _verdict(case: Case, rules: RuleSet) -> tuple[str, Trace]:
    trace = [(role, crit, evaluate_criterion(case, crit)) for role, crit in rules.criteria()]
    return _verdict_of(rules, [(role, o.status) for role, _, o in trace]), trace


def _verdict_with(case: Case, rules: RuleSet, trace: Trace, finding_id: str) -> str:
    """The verdict on ``case`` (the traced case with ``finding_id`` newly set): only the
    criteria that read ``finding_id`` are evaluated again."""
    statuses = [
        (role, evaluate_criterion(case, crit).status if finding_id in crit.findings else o.status)
        for role, crit, o in trace
    ]
    return _verdict_of(rules, statuses)


def _candidates(case: Case, trace: Trace) -> list[str]:
    """Unassessed findings that could move the verdict: those feeding an indeterminate
    criterion (each finding feeds one criterion, and a decided criterion stays decided when
    an unassessed finding is set, so only these can matter)."""
    out: dict[str, None] = {}
    for _, crit, outcome in trace:
        if outcome.status != INDETERMINATE:
            continue
        for fid in crit.findings:
            if FINDINGS[fid].kind not in (Kind.BINARY, Kind.AGGREGATE):
                continue
            if case.state(fid) is None and case.entered(fid) is None:
                out.setdefault(fid, None)
    return list(out)


def _could_change_with(case: Case, rules: RuleSet, trace: Trace) -> tuple[dict[str, str], ...]:
    """Each candidate set present and absent: the rows are scored together by the
    vectorised engine (:func:`model.criteria.vectorised.verdicts_if_set`, tested equal to
    this engine), and only a change it cannot settle goes through a new ``Case``."""
    candidates = _candidates(case, trace)
    statuses = [o.status for _, _, o in trace]
    fast = verdicts_if_set(case, rules, candidates, statuses) if candidates else {}
    changes = []
    for fid in candidates:
        outcomes = {}
        for state in (PRESENT, ABSENT):
            known = fast.get((fid, state))
            if known is not None:
                outcomes[state] = known
                continue
            try:
                outcomes[state] = _verdict_with(case.with_finding(fid, state), rules, trace, fid)
            except CaseError:
                outcomes[state] = INCONSISTENT
        if any(v in (MET, NOT_MET) for v in outcomes.values()):
            changes.append(
                {"finding": fid, "if_present": outcomes[PRESENT], "if_absent": outcomes[ABSENT]}
            )
    return tuple(changes)
