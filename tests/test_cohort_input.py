"""Cohort input never loses a row (the reliability review's reproductions, each a test).

A BOM, a semicolon or tab delimiter, a ragged row, an unbalanced quote, a Latin-1 byte, a
failing run, a nested Parquet column: every row still comes out (bad rows with their
message), or the whole file is refused with a clear message and no output is left behind.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from model.cli import main
from model.cohort import score as score_module
from model.cohort.format import delimiter_from_option
from model.cohort.score import score_file
from model.exceptions import InputError
from model.inference.simulate import simulate_chunks
from model.parameters import load_priors

PRIORS = load_priors()
SETTING = "paraproteinemic_neuropathy"


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return next(simulate_chunks(PRIORS, SETTING, 60, seed=11, missing=0.3)).astype(str)


def _score(source: Path, tmp_path: Path, **options: object) -> tuple[pd.DataFrame, object]:
    output = tmp_path / "out.csv"
    notes: list[str] = []
    summary = score_file(
        source, output, priors=PRIORS, progress=False, notify=notes.append, **options
    )
    text = {"id": str, "seed_verdict": str, "error": str}
    result = pd.read_csv(
        output, dtype=text, keep_default_na=False, na_values={"posterior_poems": [""]}
    )
    for column in result.columns:
        if column.startswith("posterior_"):
            result[column] = pd.to_numeric(result[column].replace("", np.nan))
    return result, (summary, notes)


def _reference(cohort: pd.DataFrame, tmp_path: Path) -> pd.DataFrame:
    clean = tmp_path / "clean.csv"
    cohort.to_csv(clean, index=False)
    result, _ = _score(clean, tmp_path)
    return result


def test_bom_keeps_the_first_column(cohort: pd.DataFrame, tmp_path: Path) -> None:
    expected = _reference(cohort, tmp_path)
    source = tmp_path / "bom.csv"
    source.write_bytes(b"\xef\xbb\xbf" + cohort.to_csv(index=False).encode())
    result, (_, notes) = _score(source, tmp_path)
    assert list(result["id"]) == list(cohort["id"])
    assert not any("'id'" in note for note in notes)
    pd.testing.assert_frame_equal(result, expected)


@pytest.mark.parametrize(("sep", "name"), [(";", "semicolon"), ("\t", "tab")])
def test_delimiter_is_detected_and_reported(
    cohort: pd.DataFrame, tmp_path: Path, sep: str, name: str
) -> None:
    expected = _reference(cohort, tmp_path)
    source = tmp_path / "sep.csv"
    cohort.to_csv(source, index=False, sep=sep)
    result, (summary, _) = _score(source, tmp_path)
    pd.testing.assert_frame_equal(result, expected)
    assert f"{name}-separated (detected)" in summary.source  # type: ignore[attr-defined]
    named, (summary, _) = _score(source, tmp_path, delimiter=sep)
    pd.testing.assert_frame_equal(named, expected)
    assert "(as named)" in summary.source  # type: ignore[attr-defined]


def test_delimiter_option_names() -> None:
    assert delimiter_from_option("semicolon") == ";"
    assert delimiter_from_option("tab") == "\t"
    assert delimiter_from_option(",") == ","
    with pytest.raises(InputError, match="--delimiter must be one of comma, semicolon, tab"):
        delimiter_from_option("pipe")


def _lines(cohort: pd.DataFrame) -> list[list[str]]:
    return [list(cohort.columns), *cohort.to_numpy().tolist()]


@pytest.mark.parametrize("damage", ["extra_cell", "missing_cell", "open_quote", "latin1"])
def test_a_malformed_line_is_that_rows_error(
    cohort: pd.DataFrame, tmp_path: Path, damage: str
) -> None:
    expected = _reference(cohort, tmp_path)
    rows = _lines(cohort)
    text = [",".join(csv_quote(c) for c in r) for r in rows]
    bad = 10  # data row 10 is line 11
    if damage == "extra_cell":
        text[bad] += ",x"
    elif damage == "missing_cell":
        text[bad] = text[bad].rsplit(",", 1)[0]
    elif damage == "open_quote":
        head, tail = text[bad].split(",", 1)
        text[bad] = f'{head},"{tail}'
    source = tmp_path / "bad.csv"
    data = ("\n".join(text) + "\n").encode()
    if damage == "latin1":
        data = data.replace(
            f"\n{rows[bad][0]},".encode(), f"\n{rows[bad][0]}\xe9,".encode("latin-1")
        )
    source.write_bytes(data)
    result, (summary, notes) = _score(source, tmp_path)
    assert len(result) == len(cohort)
    assert summary.errors == int((expected["error"] != "").sum()) + 1  # type: ignore[attr-defined]
    message = result.loc[bad - 1, "error"]
    assert message.startswith(f"row {bad}: line {bad + 1} ")
    assert {
        "extra_cell": "cells; the header has",
        "missing_cell": "cells; the header has",
        "open_quote": "never closed",
        "latin1": "--encoding cp1252",
    }[damage] in message
    others = [i for i in range(len(cohort)) if i != bad - 1]
    pd.testing.assert_frame_equal(
        result.iloc[others].reset_index(drop=True), expected.iloc[others].reset_index(drop=True)
    )
    assert any("line by line" in note for note in notes)


def csv_quote(cell: str) -> str:
    return f'"{cell}"' if any(c in cell for c in ',"\n') else cell


def test_latin1_file_read_with_its_encoding(cohort: pd.DataFrame, tmp_path: Path) -> None:
    frame = cohort.copy()
    frame.loc[4, "id"] = "Müller"
    source = tmp_path / "latin.csv"
    source.write_bytes(frame.to_csv(index=False).encode("latin-1"))
    result, (summary, _) = _score(source, tmp_path, encoding="latin-1")
    assert result.loc[4, "id"] == "Müller"
    assert "iso8859-1" in summary.source  # type: ignore[attr-defined]


def test_quoted_line_breaks_are_kept(cohort: pd.DataFrame, tmp_path: Path) -> None:
    frame = cohort.copy()
    frame.loc[2, "id"] = "two\nlines"
    source = tmp_path / "nl.csv"
    frame.to_csv(source, index=False)
    result, _ = _score(source, tmp_path)
    assert len(result) == len(frame) and result.loc[2, "id"] == "two\nlines"
    assert (result["error"] == _reference(cohort, tmp_path)["error"]).all()


def test_failed_run_leaves_no_output(
    cohort: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "c.csv"
    cohort.to_csv(source, index=False)
    output = tmp_path / "out.parquet"
    calls = {"n": 0}
    real = score_module.score_chunk

    def failing(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(score_module, "score_chunk", failing)
    with pytest.raises(KeyboardInterrupt):
        score_file(source, output, priors=PRIORS, chunk_rows=10, progress=False)
    assert list(tmp_path.iterdir()) == [source]  # no output, no partial file


def test_parquet_nested_columns_are_refused_clearly(tmp_path: Path) -> None:
    for kind, values in (
        ("list", pa.array([["present"], ["absent"]])),
        ("struct", pa.array([{"a": 1}, {"a": 2}])),
        ("binary", pa.array([b"present", b"absent"], pa.binary())),
    ):
        source = tmp_path / f"{kind}.parquet"
        pq.write_table(pa.table({"id": ["a", "b"], "ascites": values}), source)
        with pytest.raises(InputError, match="cohort column 'ascites' must be text, numbers"):
            score_file(source, tmp_path / "o.csv", priors=PRIORS, progress=False)
        assert not (tmp_path / "o.csv").exists()
    # a nested column the format does not read is ignored, not an error
    source = tmp_path / "extra.parquet"
    pq.write_table(
        pa.table({"id": ["a"], "notes": pa.array([["x"]]), "ascites": ["present"]}), source
    )
    result, _ = _score(source, tmp_path)
    assert result.loc[0, "error"] == ""
    assert result.loc[0, "posterior_poems"] > 0


def test_cli_summary_and_exit_codes(
    cohort: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "c.csv"
    cohort.to_csv(source, index=False, sep=";")
    output = tmp_path / "o.csv"
    assert main(["batch", str(source), "-o", str(output), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert f"{len(cohort)} rows in" in err and "scored" in err and "with an error" in err
    assert "semicolon-separated (detected)" in err
    nested = tmp_path / "n.parquet"
    pq.write_table(pa.table({"ascites": pa.array([["present"]])}), nested)
    assert main(["batch", str(nested), "-o", str(output), "--no-progress"]) == 2
    assert "cohort column 'ascites'" in capsys.readouterr().err
    assert main(["batch", str(source), "-o", str(output), "--delimiter", "pipe"]) == 2


def test_typed_parquet_columns_are_read(tmp_path: Path) -> None:
    source = tmp_path / "typed.parquet"
    pq.write_table(
        pa.table({"id": [1, 2], "platelets": [520, None], "ascites": ["present", None]}), source
    )
    result, _ = _score(source, tmp_path)
    assert list(result["id"]) == ["1", "2"] and (result["error"] == "").all()
    assert np.isfinite(result["posterior_poems"]).all()
