"""The one-pass derivation and evidence coder (:mod:`model.cohort.fused`) against the numpy
path it replaces in the cohort scorer (``parse_columns`` then ``evidence_by_node``): every
field of the parsed rows, the flags and the evidence codes equal, on simulated rows under
every setting, on damaged rows, and on rows whose cells are drawn at random from each
column's states, junk and numbers around every threshold."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd
import pytest
from test_batch import messy_rows

from model.case_columns import (
    ENTERED,
    GATHER_MIN_ROWS,
    CaseColumns,
    CodedColumn,
    parse_columns,
)
from model.cohort.coding import evidence_by_node
from model.cohort.format import chunk_from_frame
from model.cohort.fused import parse_with_evidence
from model.inference.simulate import simulate_chunks
from model.network.evidence_codes import OBSERVABLE
from model.parameters import load_priors
from model.vocabulary import FINDINGS, SEXES

PRIORS = load_priors()
NUMBER_TEXTS = {
    "platelets": ["", "100", "149", "150", "151", "399", "400", "401", "450", "x", "5000"],
    "hemoglobin": ["", "11.9", "12", "12.5", "13", "15.9", "16", "16.2", "16.5", "17", "130"],
    "hematocrit": ["", "40", "47.9", "48", "48.5", "49", "49.5", "0.45"],
    "sclerotic_lesion_size_cm": ["", "0.5", "0.79", "0.8", "2", "80"],
    "bone_marrow_plasma_cells_pct": ["", "0", "4.9", "5", "9.9", "10", "60", "-1"],
    "age": ["", "0", "17", "49.9", "50", "69.99", "70", "95", "130", "fifty"],
    "vegf_value": ["", "80", "200", "258", "300", "860", "1000", "3000", "x", "0"],
    "vegf_uln": ["", "86", "284", "500", "0", "x"],
}
CHOICES = {
    "sex": ["", "male", "female", "M", "unknown"],
    "vegf_specimen": ["", "serum", "plasma", "blood"],
    "vegf_unit": ["", "pg/mL", "ng/mL", "pg/ml"],
    "setting": ["", "neuropathy_clinic"],
}


def _assert_same(got: CaseColumns, expected: CaseColumns) -> None:
    for f in fields(CaseColumns):
        a, b = getattr(got, f.name), getattr(expected, f.name)
        if isinstance(a, dict):
            assert list(a) == list(b), f.name
            for key in a:
                np.testing.assert_array_equal(a[key], b[key], err_msg=f"{f.name}[{key}]")
                assert a[key].dtype == b[key].dtype, f"{f.name}[{key}]"
        elif isinstance(a, CodedColumn):
            np.testing.assert_array_equal(a.text(), b.text(), err_msg=f.name)
        elif isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=f.name)
            assert a.dtype == b.dtype, f.name
        else:
            assert a == b, f.name


def _check(frame: pd.DataFrame) -> CaseColumns:
    chunk = chunk_from_frame(frame.where(frame.notna(), "").astype(str))
    expected = parse_columns(chunk.columns, chunk.n)
    cases, codes = parse_with_evidence(chunk.columns, chunk.n, compiled=True)
    _assert_same(cases, expected)
    reference = evidence_by_node(expected, OBSERVABLE)
    assert codes.shape == reference.shape and codes.flags.c_contiguous
    np.testing.assert_array_equal(codes, reference)
    return cases


@pytest.mark.parametrize("setting", list(PRIORS.settings))
def test_simulated_rows_of_every_setting(setting: str) -> None:
    frame = next(simulate_chunks(PRIORS, setting, 3000, seed=4, missing=0.4))
    cases = _check(frame.drop(columns=["true_diagnosis"]).astype(object))
    assert not cases.flagged.all()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_damaged_rows(seed: int) -> None:
    cases = _check(messy_rows(3000, seed))
    assert cases.flagged.any() and not cases.flagged.all()


@pytest.mark.parametrize("seed", range(6))
def test_random_cells_around_every_threshold(seed: int) -> None:
    """Each cell drawn from its column's states, 'unknown', junk, empty, or numbers at and
    around the thresholds: contradictions, bad cells and every derived state occur."""
    rng = np.random.default_rng(seed)
    n = 5000  # over GATHER_MIN_ROWS: the cells are gathered by the compiled loop
    columns: dict[str, list[str]] = {}
    for fid in ENTERED:
        texts = [*FINDINGS[fid].states, "", "unknown"]
        cells = rng.choice(texts, n)
        junk = rng.random(n) < 0.002  # a row in about seven has one cell that is not a state
        cells[junk] = rng.choice(["Present", "x", "absent "], int(junk.sum()))
        columns[fid] = list(cells)
    for name, texts in {**NUMBER_TEXTS, **CHOICES}.items():
        columns[name] = list(rng.choice(texts, n))
    frame = pd.DataFrame(columns)
    frame["id"] = [f"r{i}" for i in range(n)]
    cases = _check(frame)
    assert cases.flagged.any() and not cases.flagged.all()
    for k in range(len(SEXES)):
        assert (cases.sex == k).any()
    assert (cases.vegf_specimen >= 0).any()


@pytest.mark.parametrize("index_type", [np.int8, np.int16, np.int32, np.intp])
def test_compiled_gather_equals_numpy_take(index_type: type) -> None:
    """``CodedColumn.take`` of a long column (the compiled gather) equals numpy's ``take``
    for every table type it gathers, into a new array or into ``out``."""
    rng = np.random.default_rng(8)
    n = GATHER_MIN_ROWS + 17
    uniques = np.array([f"t{k}" for k in range(100)], dtype=object)
    column = CodedColumn(rng.integers(0, 100, n).astype(index_type), uniques)
    tables = [
        rng.integers(-2, 5, 100).astype(np.int8),
        rng.random(100) < 0.5,
        np.where(rng.random(100) < 0.2, np.nan, rng.normal(size=100)),
    ]
    for table in tables:
        expected = table.take(column.indices.astype(np.intp))
        got = column.take(table)
        assert got.dtype == table.dtype
        np.testing.assert_array_equal(got, expected)
        into = np.full(n, 0, dtype=table.dtype)
        assert column.take(table, out=into) is into
        np.testing.assert_array_equal(into, expected)
    np.testing.assert_array_equal(column.text(), uniques.take(column.indices.astype(np.intp)))


def test_small_chunks_take_numpy_and_agree() -> None:
    """Below the size for compiled loops the numpy path runs (the same answer)."""
    frame = messy_rows(300, 5)
    chunk = chunk_from_frame(frame.where(frame.notna(), "").astype(str))
    numpy_cases, numpy_codes = parse_with_evidence(chunk.columns, chunk.n)
    compiled_cases, compiled_codes = parse_with_evidence(chunk.columns, chunk.n, compiled=True)
    _assert_same(numpy_cases, compiled_cases)
    np.testing.assert_array_equal(numpy_codes, compiled_codes)


def test_columns_missing_and_no_rows() -> None:
    _check(pd.DataFrame({"id": ["a", "b"], "platelets": ["500", ""]}))
    _check(pd.DataFrame({"id": ["a"], "hemoglobin": ["17"], "sex": ["male"]}))
    _check(pd.DataFrame({"id": pd.Series([], dtype=object), "anemia": []}))


def test_status_of_every_state_code() -> None:
    """The criteria's one-pass status of a state equals present -> met, absent -> not met,
    anything else -> indeterminate, for every one-byte code and for wider arrays."""
    from model.criteria import vectorised

    codes = np.arange(-128, 128, dtype=np.int8)
    expected = np.array(
        [0 if c == vectorised._P else 1 if c == vectorised._A else 2 for c in codes.tolist()],
        dtype=np.int8,
    )
    got = vectorised._from_state(codes)
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(vectorised._from_state(codes.astype(np.int64)), expected)
