"""One criterion of one rule set on one case (three-valued)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

from model.criteria.results import INDETERMINATE, MET, NOT_MET
from model.criteria.rulesets import CriterionDef, VegfScale
from model.measurements import VegfMeasurement
from model.vocabulary import ABSENT, AGGREGATES, FINDINGS, PRESENT, Criterion, Kind


class Findings(Protocol):
    """What a criterion reads of a case: a :class:`~model.case.Case`, or a
    :class:`~model.case.Supposed` one-finding-away reading of one."""

    @property
    def vegf(self) -> VegfMeasurement | None: ...

    def state(self, finding_id: str) -> str | None: ...

    def entered(self, finding_id: str) -> Any: ...

    def number(self, finding_id: str) -> float | None: ...


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


def _any_of(case: Findings, aggregate: str, parts: tuple[str, ...]) -> _Outcome:
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


def _pcd(case: Findings, crit: CriterionDef) -> _Outcome:
    by: list[str] = []
    if case.state("monoclonal_protein") == PRESENT:
        by.append("monoclonal_protein")
    biopsy = "clonal_plasma_cells_on_biopsy"  # a route only where the rule set lists it
    if biopsy in crit.findings and case.state(biopsy) == PRESENT:
        by.append(biopsy)
    if case.state("light_chain") is not None:
        by.append("light_chain")
    if case.state("heavy_chain") not in (None, "none"):
        by.append("heavy_chain")
    if by:
        chain = case.state("light_chain")
        return _Outcome(MET, tuple(by), f"{chain} light chain" if chain else "")
    return _from_state(case.state("monoclonal_protein"), "monoclonal_protein")


def _lesion(case: Findings, crit: CriterionDef) -> _Outcome:
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


def _vegf(case: Findings, crit: CriterionDef) -> _Outcome:
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


def _blood(case: Findings) -> _Outcome:
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


def _endocrine(case: Findings, crit: CriterionDef) -> _Outcome:
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


def evaluate_criterion(case: Findings, crit: CriterionDef) -> _Outcome:
    """Status of one criterion definition on a case."""
    concept = crit.concept
    if concept is Criterion.MONOCLONAL_PCD:
        return _pcd(case, crit)
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
