"""The criteria engine over many rows at once: :func:`model.criteria.evaluate`'s verdicts,
vectorised over parsed :class:`model.case_columns.CaseColumns`.

Each criterion's status is read from the rule-set data (:mod:`model.criteria.rulesets`) with
the engine's three-valued logic (``met`` / ``not_met`` / ``indeterminate``; unknown is never
absent) and its relative tolerance at cut-offs; rows are then combined exactly as the engine
combines them (every mandatory criterion, ``need`` of the major and of the minor group).
``tests/test_batch.py`` checks it against :func:`model.criteria.evaluate` row by row, for
every rule set.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import numpy as np

from model.case import Case
from model.case_columns import CaseColumns, row_from_case, variants
from model.criteria.results import INDETERMINATE, MET, NOT_MET
from model.criteria.rulesets import CriterionDef, Role, RuleSet, VegfScale, resolve_rule_set
from model.vocabulary import (
    ABSENT,
    AGGREGATES,
    FINDINGS,
    PRESENT,
    VEGF_SPECIMENS,
    Criterion,
    Kind,
)

STATUS_NAMES: tuple[str, ...] = (MET, NOT_MET, INDETERMINATE)
"""Status words in code order (``0`` met, ``1`` not met, ``2`` indeterminate)."""
_MET, _NOT_MET, _INDET = 0, 1, 2
_P = FINDINGS["monoclonal_protein"].states.index(PRESENT)
_A = FINDINGS["monoclonal_protein"].states.index(ABSENT)
REL_TOL = 1e-9
"""Relative tolerance at a cut-off, as ``math.isclose`` in the scalar engine."""


def at_least(x: np.ndarray, cut: float) -> np.ndarray:
    """``x >= cut`` with the criteria engine's relative tolerance."""
    close = np.abs(x - cut) <= REL_TOL * np.maximum(np.abs(x), abs(cut))
    return np.asarray((x > cut) | close)


def above(x: np.ndarray, cut: float) -> np.ndarray:
    """``x > cut`` and not within the tolerance of it."""
    close = np.abs(x - cut) <= REL_TOL * np.maximum(np.abs(x), abs(cut))
    return np.asarray((x > cut) & ~close)


_MET8, _NOT_MET8, _INDET8 = np.int8(_MET), np.int8(_NOT_MET), np.int8(_INDET)
"""The status codes as one-byte scalars: ``np.where`` over them gives one-byte arrays."""


_CODES_ARE_STATUSES = (_P, _A, _INDET) == (_MET, _NOT_MET, 2)
"""Present and absent have the codes of met and not met, and indeterminate is 2: a state's
status is then its code, or 2 for any other code (:func:`_from_state`)."""


def _from_state(state: np.ndarray) -> np.ndarray:
    """Met where present, not met where absent, indeterminate elsewhere.

    With :data:`_CODES_ARE_STATUSES`, one pass: read as unsigned bytes, every code but 0
    and 1 (-1 unassessed is 255) is at least 2, so the least of it and 2 is the status.
    """
    if _CODES_ARE_STATUSES and state.dtype == np.int8:
        return np.minimum(state.view(np.uint8), np.uint8(2)).view(np.int8)
    return np.where(state == _P, _MET8, np.where(state == _A, _NOT_MET8, _INDET8))


def criterion_status(cases: CaseColumns, crit: CriterionDef) -> np.ndarray:
    """Status codes of one criterion, as ``model.criteria.engine.evaluate_criterion``."""
    s = cases.state
    concept = crit.concept
    if concept is Criterion.MONOCLONAL_PCD:
        heavy_none = FINDINGS["heavy_chain"].states.index("none")
        met = (
            (s["monoclonal_protein"] == _P)
            | (s["light_chain"] >= 0)
            | ((s["heavy_chain"] >= 0) & (s["heavy_chain"] != heavy_none))
        )
        if "clonal_plasma_cells_on_biopsy" in crit.findings:
            met |= s["clonal_plasma_cells_on_biopsy"] == _P
        return np.where(met, _MET8, _from_state(s["monoclonal_protein"]))
    if concept is Criterion.SCLEROTIC_BONE_LESION:
        size = cases.numbers["sclerotic_lesion_size_cm"]
        lesion = s["sclerotic_bone_lesion"]
        lesion = np.where((lesion < 0) & ~np.isnan(size), _P, lesion)
        status = _from_state(lesion)
        if crit.lesion_min_size_cm is not None:
            small = ~np.isnan(size) & ~at_least(size, crit.lesion_min_size_cm.value)
            status = np.where((lesion == _P) & small, _NOT_MET8, status)
        return status
    if concept is Criterion.VEGF_ELEVATION:
        stated = cases.entered["vegf_elevated"]
        status = np.full(cases.n, _INDET8)
        for i, specimen in enumerate(VEGF_SPECIMENS):
            if specimen not in crit.vegf:
                continue  # a specimen the rule set does not read: indeterminate
            cutoff = crit.vegf[specimen]
            rows = cases.vegf_specimen == i
            if cutoff.scale is VegfScale.MULTIPLE_OF_ULN:
                reading = cases.vegf_multiple
            else:
                reading = cases.vegf_pg_ml
            passes = (
                at_least(reading, cutoff.met_at)
                if cutoff.inclusive
                else above(reading, cutoff.met_at)
            )
            value = np.where(passes, _MET8, _NOT_MET8)
            status = np.where(rows, value, status)
        return np.where(stated >= 0, _from_state(stated), status)
    if concept is Criterion.THROMBOCYTOSIS_POLYCYTHEMIA:
        a, b = s["thrombocytosis"], s["polycythemia"]
        met = (a == _P) | (b == _P)
        return np.where(met, _MET8, np.where((a == _A) & (b == _A), _NOT_MET8, _INDET8))
    if crit.findings[0] in AGGREGATES:
        return _any_listed(cases, crit.findings[0], crit.findings[1:])
    return _from_state(s[crit.findings[0]])


def _any_listed(cases: CaseColumns, aggregate: str, parts: tuple[str, ...]) -> np.ndarray:
    """Vectorised ``model.criteria.engine._any_of``: the parts the rule set lists, or the
    aggregate as stated; parts it does not list are never read."""
    stated = cases.entered[aggregate]
    covered = set(AGGREGATES[aggregate])
    met = stated == _P
    all_absent = np.ones(cases.n, dtype=bool)
    for part in parts:
        state = cases.state[part]
        met |= state == _P
        absent = state == _A
        if part in covered:
            absent |= stated == _A
        all_absent &= absent
    return np.where(met, _MET8, np.where(all_absent, _NOT_MET8, _INDET8))


def _group(statuses: list[np.ndarray], need: int) -> np.ndarray:
    """Met when at least ``need`` are met; not met when even the indeterminate ones could
    not make up ``need``; else indeterminate. Counted in place (no stacked copy)."""
    met = np.zeros(len(statuses[0]), dtype=np.int16)
    indet = np.zeros(len(statuses[0]), dtype=np.int16)
    for status in statuses:
        met += status == _MET
        indet += status == _INDET
    return np.where(met >= need, _MET8, np.where(met + indet < need, _NOT_MET8, _INDET8))


def verdict_codes(cases: CaseColumns, rule_set: str | RuleSet = "seed") -> np.ndarray:
    """Verdict code of every row (index into :data:`STATUS_NAMES`), int8."""
    rules = resolve_rule_set(rule_set)
    trace = [(role, criterion_status(cases, crit)) for role, crit in rules.criteria()]
    return verdicts_from_statuses(rules, trace, cases.n)


def verdicts_from_statuses(
    rules: RuleSet, trace: Sequence[tuple[Role, np.ndarray]], n: int
) -> np.ndarray:
    """Combine status codes per criterion (``trace``: each criterion's role and its status
    codes over ``n`` rows, in rule-set order) into verdict codes: the one vectorised home
    of how a rule set combines its criteria (the work-up's seed verdicts use it too)."""
    parts = [status for role, status in trace if role is Role.MANDATORY]
    for role, group in ((Role.MAJOR, rules.major), (Role.MINOR, rules.minor)):
        if group.need > 0:
            parts.append(_group([s for r, s in trace if r is role], group.need))
    any_not_met = np.zeros(n, dtype=bool)
    any_indeterminate = np.zeros(n, dtype=bool)
    for status in parts:
        any_not_met |= status == _NOT_MET
        any_indeterminate |= status == _INDET
    verdict = np.where(any_not_met, _NOT_MET8, np.where(any_indeterminate, _INDET8, _MET8))
    return verdict.astype(np.int8, copy=False)


def rule_verdicts(cases: CaseColumns, rule_set: str | RuleSet = "seed") -> np.ndarray:
    """Verdict (``met``/``not_met``/``indeterminate``) of every row, as an object array."""
    names = np.array(STATUS_NAMES, dtype=object)
    return np.asarray(names[verdict_codes(cases, rule_set)])


def verdicts_if_set(
    case: Case, rules: RuleSet, findings: list[str], statuses: list[str]
) -> dict[tuple[str, str], str | None]:
    """The verdict if each unassessed finding were set present, or absent, in one pass.

    ``statuses`` are the case's own criterion statuses in rule-set order (the engine's
    trace): only the criteria that read one of ``findings`` are evaluated on the variants,
    as :func:`model.criteria.verdict._verdict_with` does for one. ``None`` where the row is
    not plainly valid (the change may contradict the case): the caller decides those through
    ``Case`` itself, which refuses or accepts them. The parsed variants (every unentered
    binary finding and aggregate, present and absent) are cached per case, so the rule sets
    of one assessment share them.
    """
    row = tuple(sorted(row_from_case(case).items()))
    away = _one_finding_away(row)
    changed = set(findings)
    trace = []
    for (role, crit), status in zip(rules.criteria(), statuses, strict=True):
        if not changed.intersection(crit.findings):
            trace.append((role, np.full(away.cases.n, STATUS_NAMES.index(status))))
            continue
        key = _rule_of(crit)
        if key not in away.statuses:
            away.statuses[key] = criterion_status(away.cases, crit)
        trace.append((role, away.statuses[key]))
    codes = verdicts_from_statuses(rules, trace, away.cases.n).tolist()
    out: dict[tuple[str, str], str | None] = {}
    for fid in findings:
        for state in (PRESENT, ABSENT):
            i = away.position.get((fid, state))
            out[fid, state] = None if i is None or away.flagged[i] else STATUS_NAMES[codes[i]]
    return out


@dataclasses.dataclass(frozen=True)
class _Variants:
    """A case's row and its one-finding-away variants (row 0 the case itself)."""

    cases: CaseColumns
    position: dict[tuple[str, str], int]  # (finding, state) -> row
    flagged: list[bool]  # the row must go through ``Case``
    statuses: dict[str, np.ndarray]  # criterion statuses computed so far, by _rule_of


_RULE_KEYS: dict[int, tuple[CriterionDef, str]] = {}


def _rule_of(crit: CriterionDef) -> str:
    """What :func:`criterion_status` reads of a criterion: every field but its wording, so
    rule sets that share a criterion share its statuses (remembered per criterion object)."""
    known = _RULE_KEYS.get(id(crit))
    if known is not None and known[0] is crit:
        return known[1]
    if len(_RULE_KEYS) > 4096:  # rule sets built on the fly: keep the memo bounded
        _RULE_KEYS.clear()
    key = repr(dataclasses.replace(crit, label="", note=""))
    _RULE_KEYS[id(crit)] = (crit, key)
    return key


@functools.lru_cache(maxsize=64)
def _one_finding_away(row: tuple[tuple[str, str], ...]) -> _Variants:
    """The case's row and its variants with every unentered binary finding and aggregate
    set present, and absent (statuses are added as rule sets ask; arrays never mutated)."""
    given = dict(row)
    changes = [
        (fid, state)
        for fid in FINDINGS
        if FINDINGS[fid].kind in (Kind.BINARY, Kind.AGGREGATE) and not given.get(fid)
        for state in (PRESENT, ABSENT)
    ]
    cases = variants(given, changes)
    position = {c: i for i, c in enumerate(changes, start=1)}
    return _Variants(cases, position, cases.flagged.tolist(), {})
