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
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from model.case import Case
from model.criteria.rulesets import (
    DEFAULT_RULE_SET,
    RULE_SETS,
    Citation,
    CriterionDef,
    Role,
    RuleSet,
    VegfScale,
)
from model.exceptions import CaseError, InputError
from model.vocabulary import ABSENT, AGGREGATES, FINDINGS, PRESENT, Criterion, Kind, suggest

MET = "met"
NOT_MET = "not_met"
INDETERMINATE = "indeterminate"
STATUSES: tuple[str, str, str] = (MET, NOT_MET, INDETERMINATE)
INCONSISTENT = "inconsistent"
"""Used in ``could_change_with`` when setting the finding would contradict the case."""

FLAG_TEXT: Mapping[str, str] = MappingProxyType(
    {
        "castleman_variant": (
            "Castleman disease with POEMS-type features and no monoclonal protein found. This "
            "is not a diagnosis: both the Castleman-disease variant of POEMS and idiopathic "
            "multicentric Castleman disease fit, and the POEMS rules exclude both, so nothing "
            "is scored here; it must be considered separately (a clone on marrow or node "
            "biopsy, and the iMCD consensus criteria, decide it)."
        ),
        "castleman_without_clone": (
            "Castleman disease with no monoclonal protein found and features of idiopathic "
            "multicentric Castleman disease (thrombocytopenia, fever or raised CRP, as in "
            "TAFRO): the POEMS rules do not apply; assess it against the iMCD consensus "
            "criteria (Fajgenbaum 2017)."
        ),
        "vegf_reading_applied": (
            "VEGF lies between 3 and 4 x ULN: the seed's 'at least 3 to 4 times the ULN' is "
            "read here as >= 3 x, so it counts; under the stricter reading (>= 4 x) it would "
            "not."
        ),
        "vegf_specimen_not_read": (
            "This rule set gives no cut-off for the VEGF specimen entered, so VEGF was not "
            "read (as if not measured). Enter a value in the specimen it reads, or your own "
            "judgement as 'vegf_elevated'."
        ),
        "default_vegf_uln": (
            "No ULN was given with the VEGF value: the documented default ULN for the "
            "specimen was used. Enter your lab's ULN for a firmer reading."
        ),
        "lesion_size_unknown": (
            "A sclerotic lesion of unknown size was counted as meeting the size limit. "
            "Enter 'sclerotic_lesion_size_cm' to check it."
        ),
        "vegf_cutoff_unverified": (
            "The VEGF cut-off this rule set was read with is commonly quoted but was not "
            "confirmed in the source."
        ),
        "vegf_statement_used": (
            "Both a VEGF value and 'vegf_elevated' were given: the statement was used."
        ),
    }
)
"""Plain-language meaning of every flag the engine can raise."""


@dataclass(frozen=True)
class CriterionResult:
    """The status of one criterion on one case.

    Attributes
    ----------
    id : the criterion id (a :class:`~model.vocabulary.Criterion` value).
    label : the rule set's wording.
    role : ``mandatory``, ``major`` or ``minor``.
    status : ``met``, ``not_met`` or ``indeterminate``.
    satisfied_by : finding ids that made it met (empty otherwise).
    note : why, in one line.
    """

    id: str
    label: str
    role: str
    status: str
    satisfied_by: tuple[str, ...]
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "role": self.role,
            "status": self.status,
            "satisfied_by": list(self.satisfied_by),
            "note": self.note,
        }


@dataclass(frozen=True)
class CriteriaResult:
    """A rule set's verdict on one case, with the trace that explains it.

    Attributes
    ----------
    rule_set : the rule set id.
    title : its title.
    citation : its source.
    verdict : ``met``, ``not_met`` or ``indeterminate``.
    criteria : every criterion's result, mandatory first, then major, then minor.
    could_change_with : for an indeterminate verdict, each unassessed finding that alone
        would decide it: ``{"finding", "if_present", "if_absent"}`` (verdicts after setting
        the finding, found by re-evaluating; ``"inconsistent"`` when the case forbids it).
    flags : ids from :data:`FLAG_TEXT`.
    explanation : plain-language lines.
    """

    rule_set: str
    title: str
    citation: Citation
    verdict: str
    criteria: tuple[CriterionResult, ...]
    could_change_with: tuple[dict[str, str], ...]
    flags: tuple[str, ...]
    explanation: tuple[str, ...]

    def criterion(self, criterion_id: str) -> CriterionResult:
        """The result of one criterion by id."""
        for result in self.criteria:
            if result.id == criterion_id:
                return result
        raise InputError(
            "criterion id",
            criterion_id,
            "one of " + ", ".join(r.id for r in self.criteria),
            suggest(criterion_id, [r.id for r in self.criteria]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_set": self.rule_set,
            "title": self.title,
            "citation": {
                "text": self.citation.text,
                "doi": self.citation.doi,
                "url": self.citation.url,
                "verified": self.citation.verified,
            },
            "verdict": self.verdict,
            "criteria": [c.to_dict() for c in self.criteria],
            "could_change_with": [dict(c) for c in self.could_change_with],
            "flags": list(self.flags),
            "explanation": list(self.explanation),
        }

    def to_markdown(self) -> str:
        lines = [
            f"### {self.title} — **{self.verdict.replace('_', ' ')}**",
            "",
            "| role | criterion | status | satisfied by |",
            "|---|---|---|---|",
        ]
        for c in self.criteria:
            by = ", ".join(c.satisfied_by) or "—"
            lines.append(f"| {c.role} | {c.label} | {c.status.replace('_', ' ')} | {by} |")
        if self.could_change_with:
            lines += ["", "What would decide it:", ""]
            lines += [
                f"- `{c['finding']}`: if present → {c['if_present']}, if absent → {c['if_absent']}"
                for c in self.could_change_with
            ]
        if self.explanation:
            lines += ["", *[f"- {line}" for line in self.explanation]]
        source = f"doi:{self.citation.doi}" if self.citation.doi else self.citation.url
        lines += ["", f"Source: {self.citation.text}. {source}"]
        return "\n".join(lines)


# ---------------------------------------------------------------- one criterion
@dataclass(frozen=True)
class _Outcome:
    status: str
    satisfied_by: tuple[str, ...] = ()
    note: str = ""
    flags: tuple[str, ...] = ()


def _from_state(state: str | None, finding_id: str) -> _Outcome:
    if state == PRESENT:
        return _Outcome(MET, (finding_id,))
    if state == ABSENT:
        return _Outcome(NOT_MET, (), f"{finding_id} absent")
    return _Outcome(INDETERMINATE, (), f"{finding_id} not assessed")


def _any_of(case: Case, aggregate: str, parts: tuple[str, ...]) -> _Outcome:
    """Any of ``parts`` (the items the rule set lists), or the aggregate as the user states it.

    Parts of the vocabulary's aggregate that the rule set does not list are never read. A
    listed item outside the vocabulary's aggregate (diabetes under the 2003 rule) is not
    covered by a stated-absent aggregate and must be assessed on its own.
    """
    stated = case.entered(aggregate)
    present = tuple(p for p in parts if case.state(p) == PRESENT)
    if stated == PRESENT:
        return _Outcome(MET, (aggregate, *present))
    if present:
        return _Outcome(MET, present)
    covered = AGGREGATES[aggregate] if stated == ABSENT else ()
    missing = [p for p in parts if p not in covered and case.state(p) != ABSENT]
    if not missing:
        how = f"{aggregate} stated absent" if stated == ABSENT else "every listed part absent"
        return _Outcome(NOT_MET, (), how)
    return _Outcome(INDETERMINATE, (), f"none present; not assessed: {', '.join(missing)}")


def _pcd(case: Case) -> _Outcome:
    by: list[str] = []
    if case.state("monoclonal_protein") == PRESENT:
        by.append("monoclonal_protein")
    if case.state("light_chain") is not None:
        by.append("light_chain")
    if case.state("heavy_chain") not in (None, "none"):
        by.append("heavy_chain")
    if by:
        chain = case.state("light_chain")
        return _Outcome(MET, tuple(by), f"{chain} light chain" if chain else "")
    return _from_state(case.state("monoclonal_protein"), "monoclonal_protein")


def _lesion(case: Case, crit: CriterionDef) -> _Outcome:
    state = case.state("sclerotic_bone_lesion")
    size = case.number("sclerotic_lesion_size_cm")
    if state is None and size is not None:
        state = PRESENT  # a measured lesion is a lesion
    if state != PRESENT:
        return _from_state(state, "sclerotic_bone_lesion")
    limit = crit.lesion_min_size_cm
    if limit is None:
        by: tuple[str, ...] = ("sclerotic_bone_lesion",)
        if size is not None:
            by += ("sclerotic_lesion_size_cm",)
        return _Outcome(MET, by)
    if size is None:
        return _Outcome(
            MET,
            ("sclerotic_bone_lesion",),
            f"size not given: counted as present (the rule needs >= {limit.value:g} {limit.unit})",
            ("lesion_size_unknown",),
        )
    if _at_least(size, limit.value):
        return _Outcome(
            MET,
            ("sclerotic_bone_lesion", "sclerotic_lesion_size_cm"),
            f"{size:g} cm >= {limit.value:g} cm",
        )
    return _Outcome(
        NOT_MET, (), f"largest lesion {size:g} cm < {limit.value:g} cm ({limit.source})"
    )


def _vegf(case: Case, crit: CriterionDef) -> _Outcome:
    stated = case.entered("vegf_elevated")
    measured = case.vegf
    if stated is not None:
        used: tuple[str, ...] = ("vegf_statement_used",) if measured is not None else ()
        if stated == PRESENT:
            return _Outcome(MET, ("vegf_elevated",), "stated elevated", used)
        return _Outcome(NOT_MET, (), "vegf_elevated stated absent", used)
    if measured is None:
        return _Outcome(INDETERMINATE, (), "VEGF not measured")
    if measured.specimen not in crit.vegf:
        read = ", ".join(crit.vegf) or "none"
        return _Outcome(
            INDETERMINATE,
            (),
            f"{measured.describe()}: this rule set reads {read} VEGF only, so the value is "
            "not read",
            ("vegf_specimen_not_read",),
        )
    cutoff = crit.vegf[measured.specimen]
    flags: tuple[str, ...] = ()
    if cutoff.scale is VegfScale.MULTIPLE_OF_ULN:
        reading, unit = measured.multiple_of_uln, "x ULN"
        if measured.uln_is_default:
            flags += ("default_vegf_uln",)
    else:
        reading, unit = measured.value_pg_ml, "pg/mL"
    if not cutoff.verified:
        flags += ("vegf_cutoff_unverified",)
    shown = f"{measured.describe()}; rule {measured.specimen} {cutoff.describe()}"
    passes = (
        _at_least(reading, cutoff.met_at) if cutoff.inclusive else _above(reading, cutoff.met_at)
    )
    stricter = cutoff.stricter_at
    if passes and stricter is not None and not _at_least(reading, stricter):
        return _Outcome(
            MET,
            ("vegf",),
            f"{reading:.2f} {unit}: met under the reading applied ({cutoff.describe()}), not "
            f"under the stricter one; {shown}",
            (*flags, "vegf_reading_applied"),
        )
    if passes:
        return _Outcome(MET, ("vegf",), shown, flags)
    return _Outcome(NOT_MET, (), shown, flags)


def _blood(case: Case) -> _Outcome:
    by: list[str] = []
    states = []
    for name, sources in (
        ("thrombocytosis", ("platelets",)),
        ("polycythemia", ("hemoglobin", "hematocrit")),
    ):
        state = case.state(name)
        states.append(state)
        if state == PRESENT:
            if case.entered(name) is not None:
                by.append(name)
            else:
                by += [s for s in sources if case.entered(s) is not None]
    if by:
        return _Outcome(MET, tuple(by))
    if all(s == ABSENT for s in states):
        return _Outcome(NOT_MET, (), "no thrombocytosis, no polycythemia")
    return _Outcome(INDETERMINATE, (), "thrombocytosis or polycythemia not assessed")


def _endocrine(case: Case, crit: CriterionDef) -> _Outcome:
    outcome = _any_of(case, crit.findings[0], crit.findings[1:])
    alone = [
        f
        for f in ("diabetes_mellitus", "hypothyroidism")
        if f not in crit.findings and case.state(f) == PRESENT
    ]
    if alone and outcome.status != MET:
        note = (
            f"{' and '.join(alone)} present but does not count: diabetes or hypothyroidism "
            f"alone is not a qualifying endocrinopathy; {outcome.note}"
        )
        return _Outcome(outcome.status, (), note)
    return outcome


def evaluate_criterion(case: Case, crit: CriterionDef) -> _Outcome:
    """Status of one criterion definition on a case."""
    concept = crit.concept
    if concept is Criterion.MONOCLONAL_PCD:
        return _pcd(case)
    if concept is Criterion.SCLEROTIC_BONE_LESION:
        return _lesion(case, crit)
    if concept is Criterion.VEGF_ELEVATION:
        return _vegf(case, crit)
    if concept is Criterion.THROMBOCYTOSIS_POLYCYTHEMIA:
        return _blood(case)
    if concept is Criterion.ENDOCRINOPATHY:
        return _endocrine(case, crit)
    if FINDINGS[crit.findings[0]].kind is Kind.AGGREGATE:
        return _any_of(case, crit.findings[0], crit.findings[1:])
    return _from_state(case.state(crit.findings[0]), crit.findings[0])


def _at_least(x: float, cut: float) -> bool:
    return x > cut or math.isclose(x, cut, rel_tol=1e-9)


def _above(x: float, cut: float) -> bool:
    return x > cut and not math.isclose(x, cut, rel_tol=1e-9)


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


# ---------------------------------------------------------------- a whole rule set
def resolve_rule_set(rule_set: str | RuleSet) -> RuleSet:
    """The rule set object for an id (or the object itself)."""
    if isinstance(rule_set, RuleSet):
        return rule_set
    try:
        return RULE_SETS[rule_set]
    except (KeyError, TypeError):
        raise InputError(
            "rule set",
            rule_set,
            "one of " + ", ".join(RULE_SETS),
            suggest(str(rule_set), RULE_SETS),
        ) from None


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
    from model.criteria.vectorised import verdicts_if_set

    candidates = _candidates(case, trace)
    fast = verdicts_if_set(case, rules, candidates) if candidates else {}
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


_POEMS_TYPE_FEATURES = (
    "polyneuropathy",
    "sclerotic_bone_lesion",
    "endocrinopathy",
    "skin_changes",
    "papilledema",
    "thrombocytosis",
    "polycythemia",
)
"""Features of POEMS that idiopathic multicentric Castleman disease does not explain.
Organomegaly, effusions and a raised VEGF are shared with iMCD, so they alone do not count."""

_IMCD_FEATURES = ("thrombocytopenia", "fever", "raised_crp")
"""Features of iMCD (TAFRO: thrombocytopenia, anasarca, fever, ...) [Fa17 in
literature.md]; ids not in the running vocabulary are skipped."""

THROMBOCYTOPENIA_BELOW = 150.0
"""Platelets below this (x 10^9/L) count as thrombocytopenia (the usual lower reference limit,
as in the vocabulary contract for ``thrombocytopenia``)."""


def _castleman_without_clone(case: Case) -> bool:
    return case.state("castleman_disease") == PRESENT and case.state("monoclonal_protein") == ABSENT


def _imcd_features(case: Case) -> bool:
    platelets = case.number("platelets")
    if platelets is not None and platelets < THROMBOCYTOPENIA_BELOW:
        return True
    return any(f in FINDINGS and case.state(f) == PRESENT for f in _IMCD_FEATURES)


def _castleman_variant(case: Case) -> bool:
    """Castleman disease, no clone found, POEMS-type features and no iMCD/TAFRO features."""
    if not _castleman_without_clone(case) or _imcd_features(case):
        return False
    return any(case.state(f) == PRESENT for f in _POEMS_TYPE_FEATURES)


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
        if result.id == Criterion.ENDOCRINOPATHY and "does not count" in result.note:
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
    ignored = [f for f in rules.not_scored if _is_entered_or_present(case, f)]
    if ignored:
        lines.append(f"Entered but not scored by this rule set: {', '.join(ignored)}.")
    return tuple(lines)


def _words(status: str) -> str:
    return status.replace("_", " ")


def _is_entered_or_present(case: Case, finding_id: str) -> bool:
    if FINDINGS[finding_id].kind in (Kind.NUMBER, Kind.MEASUREMENT):
        return case.entered(finding_id) is not None
    return case.state(finding_id) == PRESENT


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
    rules = resolve_rule_set(rule_set)
    verdict, trace = _verdict(case, rules)
    results = tuple(
        CriterionResult(crit.id, crit.label, role.value, o.status, o.satisfied_by, o.note)
        for role, crit, o in trace
    )
    flags: dict[str, None] = {}
    if _castleman_variant(case):
        flags["castleman_variant"] = None
    elif _castleman_without_clone(case) and _imcd_features(case):
        flags["castleman_without_clone"] = None
    for _, _, outcome in trace:
        for flag in outcome.flags:
            flags.setdefault(flag, None)
    changes = _could_change_with(case, rules, trace) if verdict == INDETERMINATE else ()
    explanation = _explain(case, rules, verdict, results, changes, tuple(flags))
    return CriteriaResult(
        rules.id, rules.title, rules.citation, verdict, results, changes, tuple(flags), explanation
    )


def evaluate_all(case: Case) -> dict[str, CriteriaResult]:
    """Every rule set's result, keyed by rule-set id, default first."""
    return {rule_id: evaluate(case, rule_id) for rule_id in RULE_SETS}


def criteria_json(case: Case, rule_sets: tuple[str, ...] | None = None) -> dict[str, Any]:
    """JSON-ready results keyed by rule-set id (all rule sets unless ``rule_sets`` is given)."""
    ids = tuple(RULE_SETS) if rule_sets is None else rule_sets
    return {rule_id: evaluate(case, rule_id).to_dict() for rule_id in ids}
