"""``Case._check_consistency`` refuses exactly the cases its earlier, plainer form refused.

The rules were rewritten to read the entered findings once and to skip what cannot refuse a
case (no rule-bound finding entered; a measurement whose state is not stated). The earlier
form is kept here, reading only the public ``entered``, ``number``, ``vegf`` and ``sex``, and
both are run on thousands of random combinations of the findings the rules read: the same
cases pass, and a refused case gets the same message.
"""

from __future__ import annotations

import random
from types import MappingProxyType
from typing import Any

import pytest

from model import measurements as m
from model.case import Case, _check_finding, _measured_parts
from model.exceptions import CaseError
from model.vocabulary import ABSENT, AGGREGATES, FINDINGS, PRESENT, UNKNOWN, Kind

RULE_FINDINGS = sorted(
    {
        *AGGREGATES,
        *(p for parts in AGGREGATES.values() for p in parts),
        "platelets",
        "thrombocytosis",
        "hemoglobin",
        "hematocrit",
        "polycythemia",
        "anemia",
        "vegf",
        "sclerotic_lesion_size_cm",
        "sclerotic_bone_lesion",
        "monoclonal_protein",
        "light_chain",
        "heavy_chain",
        "castleman_disease",
    }
)


def _part_state(case: Case, part: str) -> str | None:
    value = case.entered(part)
    if value is not None:
        return str(value)
    if part == "thrombocytosis" and case.number("platelets") is not None:
        return m.thrombocytosis_from_platelets(float(case.number("platelets") or 0.0))
    return None


def _reference(case: Case) -> None:
    """The rules as they read before (every finding through ``entered``, every measurement
    read)."""
    _ = case.vegf
    for agg, parts in AGGREGATES.items():
        if (
            case.entered(agg) == PRESENT
            and _measured_parts(parts) == ()
            and all(_part_state(case, p) == ABSENT for p in parts)
        ):
            raise CaseError(f"findings.{agg}", PRESENT, "parts all absent")
        if case.entered(agg) != ABSENT:
            continue
        for part in parts:
            if part != "vegf" and _part_state(case, part) == PRESENT:
                raise CaseError(f"findings.{agg}", ABSENT, f"part {part!r} present")
    platelets = case.number("platelets")
    stated = case.entered("thrombocytosis")
    implied = None if platelets is None else m.thrombocytosis_from_platelets(platelets)
    if stated is not None and implied is not None and implied != stated:
        raise CaseError("findings.thrombocytosis", stated, "platelets")
    hb, hct = case.number("hemoglobin"), case.number("hematocrit")
    for name, measured in (
        ("polycythemia", m.polycythemia_from_blood(hb, hct, case.sex)),
        ("anemia", m.anemia_from_hemoglobin(hb, case.sex)),
    ):
        stated = case.entered(name)
        if stated is not None and measured is not None and stated != measured:
            raise CaseError(f"findings.{name}", stated, "blood")
    vegf, elevated = case.vegf, case.entered("vegf_elevated")
    if vegf is not None and elevated is not None:
        ratio = vegf.multiple_of_uln
        if (elevated == PRESENT and ratio <= m.VEGF_NOT_ELEVATED_AT_MOST_ULN_MULTIPLE) or (
            elevated == ABSENT and ratio >= m.VEGF_CLEARLY_ELEVATED_FROM_ULN_MULTIPLE
        ):
            raise CaseError("findings.vegf_elevated", elevated, "vegf")
    size = case.entered("sclerotic_lesion_size_cm")
    if size is not None and case.entered("sclerotic_bone_lesion") == ABSENT:
        raise CaseError("findings.sclerotic_lesion_size_cm", size, "lesion")
    if case.entered("monoclonal_protein") == ABSENT:
        for typed in ("light_chain", "heavy_chain"):
            value = case.entered(typed)
            if value is not None and not (typed == "heavy_chain" and value == "none"):
                raise CaseError(f"findings.{typed}", value, "m-protein")


def _value(rng: random.Random, fid: str) -> Any:
    spec = FINDINGS[fid]
    if spec.kind is Kind.NUMBER:
        assert spec.plausible is not None
        low, high = spec.plausible
        return round(rng.uniform(low, high), 1)
    if spec.kind is Kind.MEASUREMENT:
        value = rng.choice([50, 400, 900, 2000, 5000])
        return {"value": value, "unit": "pg/mL", "specimen": "serum"}
    return rng.choice([*spec.states, UNKNOWN])


def _where(err: CaseError) -> str:
    return str(err).split(" ")[0]


@pytest.mark.parametrize("seed", range(4))
def test_new_rules_refuse_what_the_old_rules_refused(seed: int) -> None:
    rng = random.Random(seed)
    refused = accepted = 0
    for _ in range(3000):
        chosen = rng.sample(RULE_FINDINGS, rng.randint(0, 8))
        findings = {fid: _check_finding(fid, _value(rng, fid)) for fid in chosen}
        sex = rng.choice([None, "male", "female"])
        case = Case(MappingProxyType(findings), None, None, sex, None)
        try:
            _reference(case)
        except CaseError as err:
            with pytest.raises(CaseError) as caught:
                case._check_consistency()
            assert _where(caught.value) == _where(err), findings
            refused += 1
            continue
        case._check_consistency()
        accepted += 1
    assert refused > 100 and accepted > 1000
