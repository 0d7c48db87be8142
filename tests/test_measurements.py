"""Measurements become states with cited thresholds; unit slips are caught, not rescaled."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model import measurements as m
from model.exceptions import CaseError
from model.vocabulary import ABSENT, PRESENT


def test_vegf_ng_per_ml_is_converted_to_pg_per_ml() -> None:
    v = m.parse_vegf({"value": 2.4, "unit": "ng/mL", "specimen": "serum", "uln": 0.5})
    assert v.value_pg_ml == pytest.approx(2400.0)
    assert v.uln_pg_ml == pytest.approx(500.0)
    assert v.multiple_of_uln == pytest.approx(4.8)
    assert not v.uln_is_default


def test_vegf_default_uln_is_specimen_aware() -> None:
    plasma = m.parse_vegf({"value": 344, "unit": "pg/mL", "specimen": "plasma"})
    serum = m.parse_vegf({"value": 344, "unit": "pg/mL", "specimen": "serum"})
    assert plasma.uln_is_default and plasma.uln_pg_ml == 86.0
    assert plasma.multiple_of_uln == pytest.approx(4.0)
    # serum default = plasma ULN x healthy serum/plasma ratio 3.3 (Webb 1998), rounded
    assert serum.uln_pg_ml == pytest.approx(86 * 3.3, abs=1.0)
    assert serum.multiple_of_uln < plasma.multiple_of_uln


def test_vegf_that_looks_like_ng_per_ml_is_rejected_with_the_conversion() -> None:
    with pytest.raises(CaseError, match=r"looks like ng/mL: 2.4 ng/mL = 2400 pg/mL"):
        m.parse_vegf({"value": 2.4, "unit": "pg/mL", "specimen": "serum", "uln": 500})


def test_vegf_uln_in_the_wrong_unit_is_rejected() -> None:
    with pytest.raises(CaseError, match=r"vegf.uln must be between"):
        m.parse_vegf({"value": 2400, "unit": "pg/mL", "specimen": "serum", "uln": 0.5})


@pytest.mark.parametrize(
    ("field", "value", "fix"),
    [
        ("platelets", 45000, r"45 x 10\^9/L"),
        ("hemoglobin", 140, r"14 g/dL"),
        ("hematocrit", 0.45, r"45 %"),
        ("sclerotic_lesion_size_cm", 80, r"8 cm"),
    ],
)
def test_number_in_the_wrong_unit_names_the_fix(field: str, value: float, fix: str) -> None:
    from model.vocabulary import FINDINGS

    spec = FINDINGS[field]
    assert spec.unit is not None and spec.plausible is not None
    with pytest.raises(CaseError, match=fix):
        m.check_number(f"findings.{field}", value, spec.unit, spec.plausible)


def test_nan_and_strings_are_rejected() -> None:
    with pytest.raises(CaseError, match="finite"):
        m.check_number("findings.platelets", math.nan, "10^9/L", (1, 3000))
    with pytest.raises(CaseError, match="without quotes"):
        m.check_number("findings.platelets", "520", "10^9/L", (1, 3000))


def test_thrombocytosis_threshold_is_strictly_above_450() -> None:
    assert m.thrombocytosis_from_platelets(450) == ABSENT
    assert m.thrombocytosis_from_platelets(451) == PRESENT


@pytest.mark.parametrize(
    ("hb", "hct", "sex", "expected"),
    [
        (16.6, None, "male", PRESENT),
        (16.4, None, "male", ABSENT),
        (16.2, None, "female", PRESENT),
        (16.2, None, None, None),  # between the two sexes' thresholds: undecidable
        (17.0, None, None, PRESENT),
        (15.0, None, None, ABSENT),
        (None, 50.0, "male", PRESENT),
        (None, 48.5, "female", PRESENT),
        (None, 48.5, "male", ABSENT),
        (15.0, 50.0, "male", PRESENT),  # either value above its threshold
        (None, None, "male", None),
    ],
)
def test_polycythemia_follows_who_2016(
    hb: float | None, hct: float | None, sex: str | None, expected: str | None
) -> None:
    assert m.polycythemia_from_blood(hb, hct, sex) == expected


@pytest.mark.parametrize(
    ("hb", "sex", "expected"),
    [(12.5, "male", PRESENT), (12.5, "female", ABSENT), (12.5, None, None), (11.0, None, PRESENT)],
)
def test_anemia_follows_who_2011(hb: float, sex: str | None, expected: str | None) -> None:
    assert m.anemia_from_hemoglobin(hb, sex) == expected


@given(
    st.floats(min_value=10, max_value=m.VEGF_PLAUSIBLE_PG_ML[1]),
    st.sampled_from(["serum", "plasma"]),
)
def test_any_plausible_vegf_parses_and_its_multiple_is_positive(
    value: float, specimen: str
) -> None:
    v = m.parse_vegf({"value": value, "unit": "pg/mL", "specimen": specimen})
    assert v.multiple_of_uln > 0
    assert v.value_pg_ml == value
