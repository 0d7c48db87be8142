"""Labelled cohorts go through the one cohort reader (``model.cohort.format``): empty = not
assessed, every row kept (a bad one reported with its row number and the fix), typos in
column names surfaced, and the files Excel writes (byte-order mark, semicolons, cp1252, a
ragged line) read as the user meant."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from model.cli import main
from model.cohort.format import read_cohort_table
from model.evaluation.cohort import case_from_row
from model.evaluation.evaluate import evaluate_table
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
    table = read_cohort_table(CSV.encode())
    assert len(table.frame) == 5 and not table.read_errors
    rows = table.frame.to_dict(orient="records")
    a, b = (case_from_row(row, "true_diagnosis") for row in rows[:2])
    assert a.id == "a" and b.id == "b"
    assert a.state("thrombocytosis") == "present"  # from platelets 520
    assert a.vegf is not None and a.vegf.multiple_of_uln == pytest.approx(4.8)
    assert a.state("hepatomegaly") is None  # empty cell = not assessed, never absent
    assert b.state("hepatomegaly") == "absent"
    assert b.setting is None


def test_bad_rows_are_reported_with_row_number_and_fix() -> None:
    result = evaluate_table(read_cohort_table(CSV.encode()), "true_diagnosis")
    assert result.n_rows == 5 and result.n_scored == 2
    messages = {b.row: b.message for b in result.bad_rows}
    assert set(messages) == {3, 4, 5}
    assert "empty" in messages[3]
    assert "'present', 'absent' or 'unknown'" in messages[4]
    assert "Enter 45" in messages[5]  # the platelets unit hint from measurements


def test_unknown_columns_are_listed_with_a_suggestion() -> None:
    result = evaluate_table(read_cohort_table(CSV.encode()), "true_diagnosis")
    ((column, hint),) = result.ignored_columns
    assert column == "hepatomegally" and "Did you mean 'hepatomegaly'" in hint


def test_missing_label_column_suggests() -> None:
    with pytest.raises(InputError, match="Did you mean 'true_diagnosis'"):
        evaluate_table(read_cohort_table(CSV.encode()), "true_diagnoses")


def test_case_from_row_parses_numbers_and_age() -> None:
    case = case_from_row({"age": "51", "sex": "male", "hemoglobin": "17.2", "x": "1"})
    assert case.age == 51 and case.state("polycythemia") == "present"


def test_oversized_upload_is_refused() -> None:
    with pytest.raises(InputError, match="at most 10 bytes"):
        read_cohort_table(CSV.encode(), max_bytes=10)


EXCEL = (
    "id;true_diagnosis;polyneuropathy;monoclonal_protein;light_chain\r\n"
    "x1;poems;present;present;lambda\r\n"
    "x2;cidp;present;absent;;too many\r\n"
    "x3;cidp;present;absent;\r\n"
)


def test_an_excel_file_keeps_every_column_and_row() -> None:
    """BOM + semicolons: before, the BOM hid the first column and every row scored at the base
    rate; a ragged line refused the whole file. Now the ragged line is that row's error."""
    table = read_cohort_table(b"\xef\xbb\xbf" + EXCEL.encode(), name="excel.csv")
    assert str(table.frame.columns[0]) == "id"
    assert "semicolon-separated (detected)" in table.description
    assert list(table.read_errors) == [1] and "line 3 has 6 cells" in table.read_errors[1]
    result = evaluate_table(table, "true_diagnosis")
    assert result.n_rows == 3 and result.n_scored == 2
    (bad,) = result.bad_rows
    assert (bad.row, bad.id) == (2, "x2") and "header has 5" in bad.message
    plain = evaluate_table(
        read_cohort_table(EXCEL.replace(";too many", "").encode()), "true_diagnosis"
    )
    assert result.scores.tolist() == [plain.scores[0], plain.scores[2]]
    assert plain.scores[0] > 10 * plain.scores[2]  # the findings were read, not left blank


def test_bytes_that_are_not_utf8_are_read_as_cp1252_and_said_so() -> None:
    text = "id,true_diagnosis,polyneuropathy,note\nJosé,poems,present,café\n"
    table = read_cohort_table(text.encode("cp1252"))
    assert "cp1252" in table.description
    assert table.frame.loc[0, "id"] == "José" and table.frame.loc[0, "note"] == "café"


def test_parquet_of_any_column_type(tmp_path: Path) -> None:
    """Numbers and booleans read as text; a list column outside the format is skipped and
    listed, never a reason to refuse the file."""
    path = tmp_path / "c.parquet"
    pq.write_table(
        pa.table(
            {
                "id": ["p1", "p2"],
                "true_diagnosis": ["poems", "cidp"],
                "platelets": [520.0, 250.0],
                "age": pa.array([51, 60], pa.int64()),
                "tags": pa.array([["a"], []], pa.list_(pa.string())),
            }
        ),
        path,
    )
    table = read_cohort_table(path.read_bytes(), name="upload.parquet")
    assert table.skipped == ("tags",)
    assert table.frame.loc[0, "platelets"] == "520" and table.frame.loc[1, "age"] == "60"
    assert evaluate_table(table, "true_diagnosis").n_scored == 2


def test_evaluate_reads_an_excel_file_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cohort = tmp_path / "excel.csv"
    cohort.write_bytes(b"\xef\xbb\xbf" + EXCEL.encode())
    assert main(["evaluate", str(cohort), "--label", "true_diagnosis", "--json"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["n_rows"] == 3 and out["n_scored"] == 2
    assert [b["row"] for b in out["bad_rows"]] == [2]
    assert "CSV, semicolon-separated (detected), utf-8, 3 rows" in captured.err
    assert "1 line(s) could not be read" in captured.err
    named = main(
        ["evaluate", str(cohort), "--label", "true_diagnosis", "--delimiter", "comma", "--json"]
    )
    assert named == 2  # one column named 'id;true_diagnosis;...': no label column
    assert "--label" in capsys.readouterr().err
