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
from model.case_columns import CodedColumn, parse_columns
from model.cohort.coding import evidence_by_node
from model.cohort.format import CohortSource, chunk_from_frame, coded
from model.cohort.score import read_ahead, returning_memory, score_file, score_frame
from model.exceptions import InputError
from model.inference.compiled_kernel import check_codes_by_node, posteriors_on_this_thread
from model.inference.engine import engine_for
from model.inference.simulate import simulate_chunks
from model.network.evidence_codes import OBSERVABLE, evidence_codes
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
    # every chunk, of any size, goes through the same kernel: a row's posteriors do not
    # depend on the chunk it is in, to the last bit
    assert np.array_equal(result[posterior].to_numpy(), whole[posterior].to_numpy(), equal_nan=True)


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


def test_evidence_by_node_is_evidence_codes_transposed() -> None:
    """The columnar coder gives ``evidence_codes`` exactly, on rows with every kind of
    evidence (measured VEGF of both specimens, marrow, lesion size, age, sex) and damage."""
    frame = next(simulate_chunks(PRIORS, SETTING, 3000, seed=5, missing=0.3)).astype(object)
    rng = np.random.default_rng(5)
    for i in rng.choice(len(frame), 300, replace=False):
        column = frame.columns[rng.integers(len(frame.columns))]
        frame.at[i, column] = str(rng.choice(["", "unknown", "present", "absent", "x", "12"]))
    chunk = chunk_from_frame(frame.where(frame.notna(), "").astype(str))
    cases = parse_columns(chunk.columns, chunk.n)
    by_node = evidence_by_node(cases, OBSERVABLE)
    assert by_node.shape == (len(OBSERVABLE), chunk.n) and by_node.flags.c_contiguous
    assert np.array_equal(by_node, evidence_codes(cases, OBSERVABLE).T)
    assert (by_node[OBSERVABLE.index("vegf_serum")] >= 0).any()
    assert (by_node[OBSERVABLE.index("vegf_plasma")] >= 0).any()


@pytest.mark.parametrize("n", [0, 1, 700, 5000])
def test_posteriors_on_this_thread_equal_the_engine_to_the_bit(n: int) -> None:
    """Random evidence (impossible combinations included, which come out as NaN rows),
    scored by the one-thread kernel from codes laid out by node, equals the engine's own
    batch kernel; small batches too (the engine would use its numpy path there)."""
    engine = engine_for(PRIORS, SETTING)
    rng = np.random.default_rng(n)
    cards = np.array([len(engine.states[node]) for node in engine.observable])
    codes = rng.integers(0, 1000, size=(n, len(cards))) % cards
    codes = np.where(rng.random((n, len(cards))) < 0.4, -1, codes).astype(np.int8)
    ours = posteriors_on_this_thread(engine, np.ascontiguousarray(codes.T))
    theirs = engine.posterior_batch(codes, on_impossible="nan", use_numba=True)
    assert np.array_equal(ours, theirs, equal_nan=True)
    if n == 5000:
        assert np.isnan(ours[:, 0]).any() and not np.isnan(ours[:, 0]).all()


def test_posteriors_on_this_thread_refuse_bad_codes() -> None:
    engine = engine_for(PRIORS, SETTING)
    k = len(engine.observable)
    with pytest.raises(InputError, match="shape"):
        posteriors_on_this_thread(engine, np.full((10, k), -1, np.int8))  # cases by node
    codes = np.full((k, 3), -1, np.int8)
    codes[engine.observable.index("sex"), 1] = 7
    sex = engine.observable.index("sex")
    with pytest.raises(InputError, match=rf"evidence codes\[1, {sex}\] \(sex\).*0\.\.1"):
        posteriors_on_this_thread(engine, codes)
    with pytest.raises(InputError, match="an integer array"):
        posteriors_on_this_thread(engine, codes.astype(float))


def test_codes_by_node_are_checked_as_the_engine_checks_codes() -> None:
    """The same cell named with the same message as ``check_codes`` on the transposed
    array; a code too wide for one byte is refused, not wrapped; implied evidence fills
    the unobserved cells of its nodes on a copy."""
    engine = engine_for(PRIORS, SETTING)
    k = len(engine.observable)
    rng = np.random.default_rng(3)
    for _ in range(20):
        codes = np.full((k, 6), -1, np.int64)
        for j, i in zip(rng.integers(0, k, 2), rng.integers(0, 6, 2), strict=True):
            codes[j, i] = rng.choice([-2, 256, 40])
        with pytest.raises(InputError) as by_node:
            check_codes_by_node(engine, codes)
        with pytest.raises(InputError) as by_case:
            engine.check_codes(codes.T)
        assert str(by_node.value) == str(by_case.value)
    codes = np.full((k, 4), -1, np.int8)
    checked = check_codes_by_node(engine, codes)
    assert (codes == -1).all() and checked.flags.c_contiguous and checked.dtype == np.int8
    assert np.array_equal(checked, engine.check_codes(codes.T).T)
    assert engine.implied and (checked != -1).any()


def test_coded_reuses_the_texts_of_an_equal_dictionary() -> None:
    """Parquet hands every batch of a row group its own copy of the group's dictionary: an
    equal one reuses the texts and what was computed from them; another one does not."""
    texts = pa.array(["1.5", " 2 ", "x", ""], pa.string())
    first = coded(pa.DictionaryArray.from_arrays(pa.array([0, 1, 2, 3], pa.int32()), texts))
    values, ok = first.numbers()
    copy = pa.array(["1.5", " 2 ", "x", ""], pa.string())  # equal, not the same buffers
    second = coded(pa.DictionaryArray.from_arrays(pa.array([3, 2, 1, 0], pa.int32()), copy), first)
    assert second.memo is first.memo and second.uniques is first.uniques
    assert np.array_equal(second.numbers()[0], values[::-1], equal_nan=True)
    assert list(second.numbers()[1]) == list(ok[::-1])
    other = pa.array(["1.5", "3", "x", ""], pa.string())
    third = coded(pa.DictionaryArray.from_arrays(pa.array([1, 1], pa.int32()), other), first)
    assert third.memo is not first.memo and list(third.numbers()[0]) == [3.0, 3.0]
    assert third.indices.dtype == np.int8  # four texts: one byte per row


def test_csv_chunks_have_the_chunk_size_and_keep_the_rows(tmp_path: Path) -> None:
    frame = next(simulate_chunks(PRIORS, SETTING, 1000, seed=9, missing=0.4)).astype(object)
    cells = frame.where(frame.notna(), "").astype(str)
    source = tmp_path / "cohort.csv"
    cells.to_csv(source, index=False)
    chunks = list(CohortSource(source).chunks(300))
    assert [c.n for c in chunks] == [300, 300, 300, 100]
    ids = [i for c in chunks for i in c.ids.to_pylist()]
    assert ids == list(cells["id"])
    column = [t for c in chunks for t in c.columns["polyneuropathy"].text()]
    assert column == [t.strip() for t in cells["polyneuropathy"]]


def test_returning_memory_restores_the_default_pool() -> None:
    before = pa.default_memory_pool()
    with returning_memory():
        assert pa.default_memory_pool().backend_name in ("jemalloc", "system")
    assert pa.default_memory_pool().backend_name == before.backend_name
