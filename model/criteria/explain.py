"""The plain-language explanation of a rule set's verdict."""

from __future__ import annotations

import functools

from model.case import Case
from model.criteria.flags import FLAG_TEXT
from model.criteria.results import INDETERMINATE, MET, CriterionResult
from model.criteria.rulesets import Role, RuleSet
from model.vocabulary import FINDINGS, PRESENT, Criterion, Kind


def _explain(
    case: Case,
    rules: RuleSet,
    verdict: str,
    results: tuple[CriterionResult, ...],
    changes: tuple[dict[str, str], ...],
    flags: tuple[str, ...],
) -> tuple[str, ...]:
    lines = [f"{rules.title}: {verdict.replace('_', ' ')}."]
    for result in results:
        if result.role == Role.MANDATORY:
            by = f" by {', '.join(result.satisfied_by)}" if result.satisfied_by else ""
            note = f" ({result.note})" if result.note else ""
            lines.append(f"Mandatory: {result.label}: {result.status.replace('_', ' ')}{by}{note}.")
    for role, group in ((Role.MAJOR, rules.major), (Role.MINOR, rules.minor)):
        if group.need == 0:
            continue
        mine = [r for r in results if r.role == role]
        met = [r.id for r in mine if r.status == MET]
        open_ = [r.id for r in mine if r.status == INDETERMINATE]
        text = f"{role.value.capitalize()} criteria: need {group.need} of {len(mine)}; "
        text += f"met: {', '.join(met) or 'none'}"
        if open_:
            text += f"; not yet decided: {', '.join(open_)}"
        lines.append(text + ".")
    for result in results:
        if result.id == _ENDOCRINOPATHY and "does not count" in result.note:
            lines.append(f"Endocrinopathy: {result.note}.")
    lines += [FLAG_TEXT[f] for f in flags]
    if case.state("castleman_disease") == PRESENT and case.state("monoclonal_protein") is None:
        lines.append(
            "Castleman disease is present and no monoclonal protein result is entered: if none "
            "is found, the POEMS rules do not apply (the Castleman-disease variant of POEMS "
            "and idiopathic multicentric Castleman disease are both excluded by them)."
        )
    if verdict == INDETERMINATE:
        if changes:
            lines.append(
                "One finding away: "
                + "; ".join(
                    f"{c['finding']} (present: {_words(c['if_present'])}, "
                    f"absent: {_words(c['if_absent'])})"
                    for c in changes
                )
                + "."
            )
        else:
            lines.append("No single unassessed finding decides it; several are needed.")
    ignored = [
        f
        for f, valued in _kinds(rules.not_scored)
        if (case.entered(f) is not None if valued else case.state(f) == PRESENT)
    ]
    if ignored:
        lines.append(f"Entered but not scored by this rule set: {', '.join(ignored)}.")
    return tuple(lines)


_ENDOCRINOPATHY = str(Criterion.ENDOCRINOPATHY)


@functools.lru_cache(maxsize=64)
def _kinds(findings: tuple[str, ...]) -> tuple[tuple[str, bool], ...]:
    """Each finding with whether it is a value (a number or a measurement, listed when
    entered) rather than a state (listed when present)."""
    return tuple((f, FINDINGS[f].kind in (Kind.NUMBER, Kind.MEASUREMENT)) for f in findings)


def _words(status: str) -> str:
    return status.replace("_", " ")
