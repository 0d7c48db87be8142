"""Small batches of one case's variants read without parsing text again equal the text parse.

:func:`model.case_columns.variants` reads a case's row once and sets one entered state per
variant; :func:`model.case_columns.rows_with` parses every variant's text. Both must give the
same columns, flags included, for clean rows, for damaged rows (their own cells not plainly
valid: every variant goes the text way) and for changes that are not a state name. A missing
column must read exactly as a column of empty cells.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields

import numpy as np
import pytest
from test_batch import messy_rows

from model.case_columns import (
    ENTERED,
    KNOWN_COLUMNS,
    CaseColumns,
    CodedColumn,
    parse_columns,
    rows_with,
    variants,
)
from model.vocabulary import ABSENT, FINDINGS, PRESENT, Kind


def _assert_same(got: CaseColumns, expected: CaseColumns) -> None:
    for f in fields(CaseColumns):
        a, b = getattr(got, f.name), getattr(expected, f.name)
        if isinstance(a, dict):
            assert a.keys() == b.keys(), f.name
            for key in a:
                np.testing.assert_array_equal(a[key], b[key], err_msg=f"{f.name}[{key}]")
        elif isinstance(a, CodedColumn):
            np.testing.assert_array_equal(a.text(), b.text(), err_msg=f.name)
        else:
            np.testing.assert_array_equal(a, b, err_msg=f.name)


def _records(seed: int, n: int) -> list[dict[str, str]]:
    frame = messy_rows(n, seed).fillna("").astype(str)
    return [{str(k): v for k, v in row.items() if v.strip()} for row in frame.to_dict("records")]


def _one_finding_away(row: Mapping[str, str]) -> list[tuple[str, str]]:
    return [
        (fid, state)
        for fid in FINDINGS
        if FINDINGS[fid].kind in (Kind.BINARY, Kind.AGGREGATE) and not row.get(fid)
        for state in (PRESENT, ABSENT)
    ]


@pytest.mark.parametrize("seed", [3, 17])
def test_variants_equal_the_text_parse_of_every_variant(seed: int) -> None:
    flagged_variants = clean_bases = 0
    for row in _records(seed, 40):
        changes = _one_finding_away(row)
        got = variants(row, changes)
        _assert_same(got, rows_with(row, [{}, *({n: t} for n, t in changes)]))
        if not got.flagged[0]:
            clean_bases += 1
            flagged_variants += int(got.flagged[1:].sum())
    assert clean_bases >= 10  # the read-once way was taken
    assert flagged_variants >= 10  # and it flagged variants Case may refuse


def test_variants_with_other_changes_take_the_text_parse() -> None:
    row = _records(5, 5)[0]
    changes = [("platelets", "520"), ("polycythemia", "Present"), ("skin_changes", "unknown")]
    _assert_same(variants(row, changes), rows_with(row, [{}, *({n: t} for n, t in changes)]))
    assert "skin_changes" in ENTERED  # 'unknown' is read as not given either way
    assert variants({}, [("skin_changes", "unknown")]).entered["skin_changes"].tolist() == [-1, -1]


@pytest.mark.parametrize("seed", [4, 9])
def test_a_missing_column_reads_as_empty_cells(seed: int) -> None:
    rows = _records(seed, 60)
    names = {name for row in rows for name in row}
    given = {name: CodedColumn.from_strings([row.get(name, "") for row in rows]) for name in names}
    every = {name: given.get(name, CodedColumn.empty(len(rows))) for name in KNOWN_COLUMNS}
    assert set(every) - set(given)  # some columns really are missing
    _assert_same(parse_columns(given, len(rows)), parse_columns(every, len(rows)))
    no_vegf = {k: v for k, v in given.items() if k != "vegf_value"}
    every_no_vegf = {**every, "vegf_value": CodedColumn.empty(len(rows))}
    _assert_same(parse_columns(no_vegf, len(rows)), parse_columns(every_no_vegf, len(rows)))


def test_a_row_read_alone_equals_its_row_in_a_batch() -> None:
    """A column with one distinct text (every column of a lone row) reads as the same text
    among many: each damaged row parsed alone equals its row of the whole batch."""
    rows = _records(11, 40)
    names = {name for row in rows for name in row}
    batch = parse_columns(
        {name: CodedColumn.from_strings([row.get(name, "") for row in rows]) for name in names},
        len(rows),
    )
    flagged = 0
    for i, row in enumerate(rows):
        alone = rows_with(row, [{}])
        assert bool(alone.flagged[0]) == bool(batch.flagged[i]), row
        flagged += bool(alone.flagged[0])
        for name in ENTERED:
            assert alone.entered[name][0] == batch.entered[name][i], (name, row)
            assert alone.state[name][0] == batch.state[name][i], (name, row)
    assert 5 <= flagged < len(rows)
