"""The overlapped cohort pipeline (a reader thread, scoring threads, writing in input order)
and the Arrow parse of number cells: same rows, same order, same messages, same numbers as
scoring one chunk at a time and parsing each cell with Python."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import model.cohort.score as score_module
from model.case_columns import CodedColumn
from model.cohort.format import coded
from model.cohort.score import read_ahead, score_file, score_frame
from model.inference.simulate import simulate_chunks
from model.parameters import load_priors

PRIORS = load_priors()
SETTING = "paraproteinemic_neuropathy"


def test_read_ahead_keeps_order_and_raises_where_the_source_failed() -> None:
    def source() -> Iterator[int]:
        yield from range(5)
        raise ValueError("line 6 is broken")

    seen = []
    with pytest.raises(ValueError, match="line 6 is broken"):
        for item in read_ahead(source(), depth=2):
            seen.append(item)
    assert seen == [0, 1, 2, 3, 4]


def test_read_ahead_stops_its_producer_when_the_consumer_stops() -> None:
    produced = []

    def source() -> Iterator[int]:
        for i in range(10_000):
            produced.append(i)
            yield i

    before = threading.active_count()
    for item in read_ahead(source(), depth=1):
        if item == 3:
            break
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == before  # the reader thread has ended
    assert len(produced) < 10  # it stopped a few items ahead, not at the end


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_overlapped_chunks_equal_one_chunk_at_a_time(
    tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = next(simulate_chunks(PRIORS, SETTING, 400, seed=21, missing=0.4)).astype(object)
    frame.loc[5, "ascites"] = "maybe"  # a bad cell: that row's message
    frame.loc[77, "platelets"] = "4_50"  # not a plain number
    frame.loc[200, "setting"] = "nowhere"
    cells = frame.where(frame.notna(), "").astype(str)  # empty = not assessed
    source = tmp_path / f"cohort{suffix}"
    if suffix == ".csv":
        cells.to_csv(source, index=False)
    else:
        cells.to_parquet(source, index=False)
    outputs = {}
    for workers in (1, 3):
        monkeypatch.setattr(score_module, "DEFAULT_WORKERS", workers)
        target = tmp_path / f"out{workers}.parquet"
        summary = score_file(source, target, priors=PRIORS, chunk_rows=37, progress=False)
        assert (summary.rows, summary.errors) == (400, 3)
        outputs[workers] = pd.read_parquet(target)
    pd.testing.assert_frame_equal(outputs[1], outputs[3])  # bit for bit
    whole, _ = score_frame(cells, PRIORS)  # the whole cohort as one chunk
    result = outputs[3]
    assert list(result["id"]) == list(whole["id"])
    assert list(result["error"]) == list(whole["error"])
    assert result.loc[5, "error"].startswith("row 6: ") and "ascites" in result.loc[5, "error"]
    assert result.loc[77, "error"].startswith("row 78: ") and "4_50" in result.loc[77, "error"]
    assert list(result["seed_verdict"]) == list(whole["seed_verdict"])
    posterior = [c for c in result.columns if c.startswith("posterior_")]
    difference = np.nan_to_num(result[posterior].to_numpy() - whole[posterior].to_numpy())
    assert np.abs(difference).max() <= 1e-12


def test_arrow_numbers_equal_python_numbers() -> None:
    """Arrow parses a column's distinct texts; each must give the same double (or the same
    refusal) as the Python parse, including the cases Python's float reads but the cohort
    format refuses."""
    texts = [
        "1.",
        ".5",
        "+1",
        "-2.5e3",
        "5.2E+02",
        "0.1",
        "123456789012345678901234567890",
        "1e-400",
        "2.2250738585072011e-308",
        "1e999",
        "4_50",
        "\u0661\u0662",  # Arabic-Indic digits
        "nan",
        "inf",
        "0x10",
        "1,5",
        "5\n",
        "",
        " 7 ",
        None,
    ]
    arrow = coded(pa.array(texts, pa.string()))
    assert arrow.texts is not None
    python = CodedColumn(arrow.indices, arrow.uniques)  # the same uniques, no Arrow texts
    values_arrow, ok_arrow = arrow.numbers()
    values_python, ok_python = python.numbers()
    assert list(ok_arrow) == list(ok_python)
    assert np.array_equal(values_arrow, values_python, equal_nan=True)
    assert values_arrow[texts.index("0.1")] == 0.1
    assert not ok_arrow[texts.index("4_50")] and not ok_arrow[texts.index("1e999")]
