"""A whole rule set: combine criterion statuses into the verdict, and find what would
decide an open verdict."""

from __future__ import annotations

from model.case import Case, Supposed
from model.criteria.criterion import _Outcome, evaluate_criterion
from model.criteria.results import INCONSISTENT, INDETERMINATE, MET, NOT_MET
from model.criteria.rulesets import CriterionDef, Role, RuleSet
from model.criteria.vectorised import _rule_of
from model.vocabulary import ABSENT, FINDINGS, PRESENT, Kind

_STATED = frozenset(f for f, spec in FINDINGS.items() if spec.kind in (Kind.BINARY, Kind.AGGREGATE))
"""Findings with a present/absent state of their own (the candidates' kinds)."""


_DECIDED = frozenset({MET, NOT_MET})


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


class _Tally:
    """:func:`_verdict_of` with one criterion's status changed, read from counts: each
    mandatory criterion not met or open, each group's met and open criteria (the
    one-finding-away search asks this for every criterion a candidate feeds)."""

    def __init__(self, rules: RuleSet, roles: list[Role], statuses: list[str]) -> None:
        self.roles = roles
        self.statuses = statuses
        mandatory = [s for r, s in zip(roles, statuses, strict=True) if r is Role.MANDATORY]
        self.mandatory = (mandatory.count(NOT_MET), mandatory.count(INDETERMINATE))
        self.groups: dict[Role, tuple[int, int, int]] = {}
        for role, group in ((Role.MAJOR, rules.major), (Role.MINOR, rules.minor)):
            if group.need > 0:
                mine = [s for r, s in zip(roles, statuses, strict=True) if r is role]
                self.groups[role] = (mine.count(MET), mine.count(INDETERMINATE), group.need)

    def verdict_if(self, i: int, status: str) -> str:
        """The verdict with criterion ``i`` (in rule-set order) at ``status``."""
        role, old = self.roles[i], self.statuses[i]
        not_met, open_ = self.mandatory
        if role is Role.MANDATORY:
            not_met += (status == NOT_MET) - (old == NOT_MET)
            open_ += (status == INDETERMINATE) - (old == INDETERMINATE)
        any_not, any_open = not_met > 0, open_ > 0
        for group_role, (met, undecided, need) in self.groups.items():
            if group_role is role:
                met += (status == MET) - (old == MET)
                undecided += (status == INDETERMINATE) - (old == INDETERMINATE)
            if met >= need:
                continue
            if met + undecided < need:
                any_not = True
            else:
                any_open = True
        return NOT_MET if any_not else INDETERMINATE if any_open else MET


def _verdict(case: Case, rules: RuleSet, away: OneAway | None = None) -> tuple[str, Trace]:
    """The verdict and its trace; with ``away`` (for ``case``), criteria shared with rule
    sets evaluated before are read from it."""
    if away is not None and away.case is case:
        layout = _layout(rules)
        outcome = away.outcome_of
        trace = [
            (role, crit, outcome(rule, crit))
            for (role, crit), rule in zip(layout.criteria, layout.rules_of, strict=True)
        ]
    else:
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


def _candidates(case: Case, trace: Trace, away: OneAway | None = None) -> list[str]:
    """Unassessed findings that could move the verdict: those feeding an indeterminate
    criterion (each finding feeds one criterion, and a decided criterion stays decided when
    an unassessed finding is set, so only these can matter). With ``away`` (for ``case``),
    whether a finding is unassessed is read from it (the rule sets ask about the same
    findings)."""
    unassessed = away.unassessed if away is not None and away.case is case else None
    out: dict[str, None] = {}
    for _, crit, outcome in trace:
        if outcome.status != INDETERMINATE:
            continue
        for fid in crit.findings:
            if fid not in _STATED or fid in out:
                continue
            if unassessed is not None:
                if unassessed(fid):
                    out[fid] = None
            elif case.state(fid) is None and case.entered(fid) is None:
                out[fid] = None
    return list(out)


class _Layout:
    """What the one-finding-away search reads of a rule set, the same for every case: each
    criterion's role and rule (:func:`~model.criteria.vectorised._rule_of`), in rule-set
    order, and the criteria reading each finding."""

    def __init__(self, rules: RuleSet) -> None:
        criteria = self.criteria = tuple(rules.criteria())
        self.roles = [role for role, _ in criteria]
        self.rules_of = [_rule_of(crit) for _, crit in criteria]
        readers: dict[str, list[int]] = {}
        for i, (_, crit) in enumerate(criteria):
            for fid in crit.findings:
                readers.setdefault(fid, []).append(i)
        self.readers = {fid: tuple(reading) for fid, reading in readers.items()}


_LAYOUTS: dict[int, tuple[RuleSet, _Layout]] = {}
"""Rule set -> its layout, by identity (the rule sets are few and live as long as the
process; a rule set not kept alive elsewhere is replaced when its id is reused)."""


def _layout(rules: RuleSet) -> _Layout:
    known = _LAYOUTS.get(id(rules))
    if known is None or known[0] is not rules:
        if len(_LAYOUTS) >= 64:
            _LAYOUTS.clear()
        known = _LAYOUTS[id(rules)] = (rules, _Layout(rules))
    return known[1]


class OneAway:
    """One case's one-finding-away variants, shared by the rule sets that ask about them.

    ``accepts(fid, state)`` is whether ``case.with_finding(fid, state)`` succeeds
    (:meth:`model.case.Case.accepts`); ``status`` is one criterion's status on that case,
    read through :meth:`model.case.Case.supposing` (the case itself is never made) and
    remembered per criterion rule, so rule sets sharing a criterion share it
    (:func:`model.criteria.vectorised._rule_of`). Lives for one evaluation of one case, so
    it never grows across cases.
    """

    def __init__(self, case: Case) -> None:
        self.case = case
        self._accepts: dict[tuple[str, str], bool] = {}
        self._supposed: dict[tuple[str, str], Supposed] = {}
        self._statuses: dict[tuple[str, str, str], str] = {}
        self._outcomes: dict[str, _Outcome] = {}
        self._unassessed: dict[str, bool] = {}
        self._both: dict[tuple[str, str], tuple[str | None, str | None]] = {}

    def unassessed(self, finding_id: str) -> bool:
        """Whether the finding is neither entered nor derived on the case (remembered)."""
        known = self._unassessed.get(finding_id)
        if known is None:
            case = self.case
            known = self._unassessed[finding_id] = (
                case.state(finding_id) is None and case.entered(finding_id) is None
            )
        return known

    def outcome_of(self, rule: str, crit: CriterionDef) -> _Outcome:
        """``crit`` on the case itself (``rule`` its
        :func:`~model.criteria.vectorised._rule_of`; remembered per criterion rule)."""
        known = self._outcomes.get(rule)
        if known is None:
            known = self._outcomes[rule] = evaluate_criterion(self.case, crit)
        return known

    def accepts(self, finding_id: str, state: str) -> bool:
        key = (finding_id, state)
        known = self._accepts.get(key)
        if known is None:
            known = self._accepts[key] = self.case.accepts(finding_id, state)
        return known

    def statuses(
        self, rule: str, crit: CriterionDef, finding_id: str
    ) -> tuple[str | None, str | None]:
        """:meth:`status` with ``finding_id`` present and absent (``None`` where the case
        refuses it: :meth:`accepts`), remembered per rule and finding."""
        key = (rule, finding_id)
        known = self._both.get(key)
        if known is None:
            known = self._both[key] = (
                self.status(rule, crit, finding_id, PRESENT)
                if self.accepts(finding_id, PRESENT)
                else None,
                self.status(rule, crit, finding_id, ABSENT)
                if self.accepts(finding_id, ABSENT)
                else None,
            )
        return known

    def status(self, rule: str, crit: CriterionDef, finding_id: str, state: str) -> str:
        """``crit``'s status on the case with ``finding_id`` set (``rule`` its
        :func:`~model.criteria.vectorised._rule_of`)."""
        key = (rule, finding_id, state)
        known = self._statuses.get(key)
        if known is None:
            supposed = self._supposed.get(key[1:])
            if supposed is None:
                supposed = self._supposed[key[1:]] = self.case.supposing(finding_id, state)
            known = self._statuses[key] = evaluate_criterion(supposed, crit).status
        return known


def _could_change_with(
    case: Case, rules: RuleSet, trace: Trace, away: OneAway | None = None
) -> tuple[dict[str, str], ...]:
    """Each candidate set present and absent, as :func:`_verdict_with` gives it on
    ``case.with_finding`` (``inconsistent`` where the case refuses it). The statuses of the
    criteria reading the candidate come from ``away`` (shared by the rule sets of one
    evaluation), and each distinct change of statuses is combined into a verdict once."""
    if away is None or away.case is not case:
        away = OneAway(case)
    candidates = _candidates(case, trace, away)
    statuses = [o.status for _, _, o in trace]
    layout = _layout(rules)
    if [role for role, _, _ in trace] != layout.roles:  # pragma: no cover - trace of rules
        raise ValueError(f"the trace is not that of rule set {rules.id!r}")
    roles, readers, rules_of = layout.roles, layout.readers, layout.rules_of
    tally = _Tally(rules, roles, statuses)
    single: dict[tuple[int, str], str] = {}  # the verdict with one status changed

    def verdict_single(i: int, status: str) -> str:
        key = (i, status)
        known = single.get(key)
        if known is None:
            known = single[key] = tally.verdict_if(i, status)
        return known

    decisive: dict[int, bool] = {}  # criterion -> can a change of its status decide?
    changes = []
    for fid in candidates:
        reading = readers[fid]
        outcomes = {}
        if len(reading) == 1:
            # the common case, written out: one criterion reads the finding
            i = reading[0]
            is_decisive = decisive.get(i)
            if is_decisive is None:
                is_decisive = decisive[i] = (
                    verdict_single(i, MET) != INDETERMINATE
                    or verdict_single(i, NOT_MET) != INDETERMINATE
                )
            if not is_decisive:
                continue  # whatever the finding does to its one criterion, the verdict stays open
            if_present, if_absent = away.statuses(rules_of[i], trace[i][1], fid)
            outcomes[PRESENT] = (
                INCONSISTENT if if_present is None else verdict_single(i, if_present)
            )
            outcomes[ABSENT] = INCONSISTENT if if_absent is None else verdict_single(i, if_absent)
        else:
            for state in (PRESENT, ABSENT):
                if not away.accepts(fid, state):
                    outcomes[state] = INCONSISTENT
                    continue
                changed = list(statuses)
                for i in reading:
                    changed[i] = away.status(rules_of[i], trace[i][1], fid, state)
                outcomes[state] = _verdict_of(rules, list(zip(roles, changed, strict=True)))
        if outcomes[PRESENT] in _DECIDED or outcomes[ABSENT] in _DECIDED:
            changes.append(
                {"finding": fid, "if_present": outcomes[PRESENT], "if_absent": outcomes[ABSENT]}
            )
    return tuple(changes)
