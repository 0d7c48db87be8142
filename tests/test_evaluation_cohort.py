"""Cohort CSV reading: empty = not assessed, bad rows reported, typos in columns surfaced."""

from __future__ import annotations

import pytest

from model.evaluation.cohort import case_from_row, read_cohort
from model.exceptions import InputError

CSV = (
    "id,true_diagnosis,setting,polyneuropathy,platelets,vegf_value,vegf_specimen,vegf_uln,"
    "hepatomegaly,hepatomegally\n"
    "a,poems,neuropathy_clinic,present,520,2400,serum,500,,x\n"
    "b,cidp,,present,,,,,absent,\n"
    "c,,neuropathy_clinic,present,,,,,,\n"
    "d,poems,neuropathy_clinic,maybe,,,,,,\n"
    "e,poems,neuropathy_clinic,present,45000,,,,,\n"
)


def test_rows_become_cases_with_unknowns_left_out() -> None:
    cohort = read_cohort(CSV.encode(), "true_diagnosis")
    assert cohort.n_rows == 5
    assert [c.id for c in cohort.cases] == ["a", "b"]
    a, b = cohort.cases
    assert a.state("thrombocytosis") == "present"  # from platelets 520
    assert a.vegf is not None and a.vegf.multiple_of_uln == pytest.approx(4.8)
    assert a.state("hepatomegaly") is None  # empty cell = not assessed, never absent
    assert b.state("hepatomegaly") == "absent"
    assert b.setting is None
    assert cohort.labels == ("poems", "cidp")


def test_bad_rows_are_reported_with_row_number_and_fix() -> None:
    cohort = read_cohort(CSV.encode(), "true_diagnosis")
    messages = {b.row: b.message for b in cohort.bad_rows}
    assert set(messages) == {3, 4, 5}
    assert "empty" in messages[3]
    assert "'present', 'absent' or 'unknown'" in messages[4]
    assert "Enter 45" in messages[5]  # the platelets unit hint from measurements


def test_unknown_columns_are_listed_with_a_suggestion() -> None:
    cohort = read_cohort(CSV.encode(), "true_diagnosis")
    ((column, hint),) = cohort.ignored_columns
    assert column == "hepatomegally" and "Did you mean 'hepatomegaly'" in hint


def test_missing_label_column_suggests() -> None:
    with pytest.raises(InputError, match="Did you mean 'true_diagnosis'"):
        read_cohort(CSV.encode(), "true_diagnoses")


def test_case_from_row_parses_numbers_and_age() -> None:
    case = case_from_row({"age": "51", "sex": "male", "hemoglobin": "17.2", "x": "1"})
    assert case.age == 51 and case.state("polycythemia") == "present"


def test_oversized_upload_is_refused() -> None:
    with pytest.raises(InputError, match="at most 10 bytes"):
        read_cohort(CSV.encode(), "true_diagnosis", max_bytes=10)
