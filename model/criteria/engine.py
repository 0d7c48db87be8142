"""One engine that evaluates any :class:`~model.criteria.rulesets.RuleSet` on a case.

Three-valued (Kleene) logic throughout: a criterion is *met*, *not met* or *indeterminate*
(it depends on findings that were not assessed). A finding that was not assessed is never
treated as absent. A group "need at least k" is met when k criteria are met, not met when
even the indeterminate ones could not reach k, and indeterminate otherwise. The verdict is
met when everything required is met, not met when anything required is not met, and
indeterminate otherwise.

Two readings are deliberately *not* "unknown = indeterminate":

* a sclerotic lesion of unknown size counts as meeting a size limit (``docs/criteria.md``, flag
  ``lesion_size_unknown``), so adding a size below the limit can turn a verdict from met to
  not met or indeterminate;
* a VEGF value in a specimen the rule set does not read (plasma under Suichi 2019) leaves the
  criterion indeterminate, exactly as if VEGF had not been measured (flag
  ``vegf_specimen_not_read``).

A criterion that lists the parts of an aggregate (skin changes, volume overload,
endocrinopathy) reads only the parts its source lists, or the aggregate when the user states
it; a part the source does not list never changes that rule set's verdict.

Everything else is monotone: assessing one more finding never turns a determinate verdict
indeterminate.

The engine is split by job: :mod:`~model.criteria.results` (what it returns),
:mod:`~model.criteria.criterion` (one criterion), :mod:`~model.criteria.verdict` (a whole rule
set and what would decide it), :mod:`~model.criteria.flags` (flags and the Castleman notes) and
:mod:`~model.criteria.explain` (the explanation); this module holds the public calls.
"""

from __future__ import annotations

from typing import Any

from model.case import Case
from model.criteria.criterion import evaluate_criterion
from model.criteria.explain import _explain
from model.criteria.flags import (
    FLAG_TEXT,
    _castleman_variant,
    _castleman_without_clone,
    _imcd_features,
)
from model.criteria.results import (
    INCONSISTENT,
    INDETERMINATE,
    MET,
    NOT_MET,
    STATUSES,
    CriteriaResult,
    CriterionResult,
)
from model.criteria.rulesets import DEFAULT_RULE_SET, RULE_SETS, Role, RuleSet, resolve_rule_set
from model.criteria.verdict import OneAway, _candidates, _could_change_with, _verdict

__all__ = [
    "FLAG_TEXT",
    "INCONSISTENT",
    "INDETERMINATE",
    "MET",
    "NOT_MET",
    "STATUSES",
    "CriteriaResult",
    "CriterionResult",
    "_candidates",
    "_verdict",
    "criteria_json",
    "evaluate",
    "evaluate_all",
    "evaluate_criterion",
    "resolve_rule_set",
    "verdict",
]


_ROLE_NAMES: dict[Role, str] = {role: role.value for role in Role}
"""Each role's name (read without the enum's ``value`` descriptor)."""


def evaluate(case: Case, rule_set: str | RuleSet = DEFAULT_RULE_SET) -> CriteriaResult:
    """Evaluate one rule set on a case.

    Parameters
    ----------
    case : a validated :class:`~model.case.Case`.
    rule_set : a rule-set id from :data:`~model.criteria.rulesets.RULE_SETS` (default
        ``"seed"``) or a :class:`~model.criteria.rulesets.RuleSet`.

    Returns
    -------
    CriteriaResult
        Verdict, per-criterion trace, what would decide an indeterminate verdict, flags and
        explanation.
    """
    return _evaluate(case, resolve_rule_set(rule_set), OneAway(case))


def _evaluate(case: Case, rules: RuleSet, away: OneAway) -> CriteriaResult:
    """:func:`evaluate`, with the one-finding-away variants shared through ``away``."""
    verdict, trace = _verdict(case, rules, away)
    flags: dict[str, None] = {}
    if _castleman_variant(case):
        flags["castleman_variant"] = None
    elif _castleman_without_clone(case) and _imcd_features(case):
        flags["castleman_without_clone"] = None
    for _, _, outcome in trace:
        for flag in outcome.flags:
            flags.setdefault(flag, None)
    flagged = tuple(flags)

    def criteria(result: CriteriaResult) -> tuple[CriterionResult, ...]:
        return tuple(
            CriterionResult(
                crit.id, crit.label, _ROLE_NAMES[role], o.status, o.satisfied_by, o.note
            )
            for role, crit, o in trace
        )

    def could_change_with(result: CriteriaResult) -> tuple[dict[str, str], ...]:
        return _could_change_with(case, rules, trace, away) if verdict == INDETERMINATE else ()

    def explanation(result: CriteriaResult) -> tuple[str, ...]:
        return _explain(case, rules, verdict, result.criteria, result.could_change_with, flagged)

    pending = {
        "criteria": criteria,
        "could_change_with": could_change_with,
        "explanation": explanation,
    }  # each built on first read (CriteriaResult._deferred)
    return CriteriaResult._deferred(
        rules.id, rules.title, rules.citation, verdict, flagged, pending
    )


def verdict(case: Case, rule_set: str | RuleSet = DEFAULT_RULE_SET) -> str:
    """Only the verdict of :func:`evaluate` (no trace, no what-would-decide-it): cheap enough
    to call once per possible test result."""
    return _verdict(case, resolve_rule_set(rule_set))[0]


def evaluate_all(case: Case) -> dict[str, CriteriaResult]:
    """Every rule set's result, keyed by rule-set id, default first."""
    away = OneAway(case)  # the rule sets share the variants they try
    return {rule_id: _evaluate(case, rules, away) for rule_id, rules in RULE_SETS.items()}


def criteria_json(case: Case, rule_sets: tuple[str, ...] | None = None) -> dict[str, Any]:
    """JSON-ready results keyed by rule-set id (all rule sets unless ``rule_sets`` is given)."""
    ids = tuple(RULE_SETS) if rule_sets is None else rule_sets
    return {rule_id: evaluate(case, rule_id).to_dict() for rule_id in ids}
