"""The seed verdict on the work-up's results, criterion by criterion from remembered tables
(:mod:`model.analysis.workup_seed`), equals the vectorised criteria on every result read as
a parsed case row (:func:`model.criteria.vectorised.verdict_codes` of
``workup._result_columns``), the path it replaces, on every test of many patients: from
empty tables, with the tables filled by other patients, and with no tables at all."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from model.analysis import workup as w
from model.analysis import workup_seed
from model.case import Case
from model.criteria.vectorised import verdict_codes
from model.evaluation.devset import load_devset
from model.inference.engine import engine_for, resolve
from model.network.evidence import evidence_for


def _blocks(case: Case, setting: str) -> list[tuple[Any, np.ndarray]]:
    """Every offered test's seed reads for ``case`` (Monte Carlo tests included)."""
    priors, chosen = resolve(case, setting, None)
    engine = engine_for(priors, chosen)
    base = engine.encode([evidence_for(case)])[0]
    blocks = []
    for order, test in enumerate(w.load_catalogue().tests):
        pairs = w.open_findings(case, test, engine)
        plan = w._plan(case, pairs, engine, base, order, need_seed=True) if pairs else None
        if plan is not None and plan.seed_reads is not None:
            blocks.append((plan, plan.seed_reads))
    return blocks


PATIENTS = [p.case for p in load_devset().patients]


@pytest.mark.parametrize("table_limit", [workup_seed.TABLE_LIMIT, 1])
@pytest.mark.parametrize("setting", ["paraproteinemic_neuropathy", "neuropathy_clinic"])
def test_verdicts_from_status_tables_equal_the_vectorised_criteria(
    setting: str, table_limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every development-set patient twice (tables empty at the start, then filled: the
    second pass reads the exact tests' verdicts from the block memo), with status tables
    and (``table_limit`` 1) without: the same verdict code on every result."""
    monkeypatch.setattr(workup_seed, "TABLE_LIMIT", table_limit)
    monkeypatch.setattr(workup_seed, "_STATUS_TABLES", workup_seed._StatusTables())
    monkeypatch.setattr(workup_seed, "_BLOCK_VERDICTS", {})
    workup_seed._reads_of.cache_clear()  # its table sizes depend on the limit
    compared = 0
    for _ in range(2):
        for case in PATIENTS:
            blocks = _blocks(case, setting)
            if not blocks:
                continue
            expected = verdict_codes(w._result_columns(case, blocks), "seed")
            statuses = w._seed_statuses(case, None)
            got = workup_seed.seed_verdict_codes(case, blocks, w._result_columns, statuses)
            np.testing.assert_array_equal(got, expected)
            compared += len(got)
    assert compared > 10_000
    assert bool(workup_seed._STATUS_TABLES) == (table_limit > 1)
    assert workup_seed._BLOCK_VERDICTS  # exact tests' verdicts remembered, and read back
    workup_seed._reads_of.cache_clear()


def test_a_criterion_is_changed_only_by_the_findings_it_is_said_to_read() -> None:
    """The tables' premise: a result that reports none of the findings a criterion reads
    (:func:`model.analysis.workup_seed.criterion_findings`) leaves its status as on the case;
    checked on every result of every test for the development set."""
    from model.criteria.vectorised import criterion_status

    rules = workup_seed.seed_rules()
    for case in PATIENTS[:30]:
        blocks = _blocks(case, "paraproteinemic_neuropathy")
        if not blocks:
            continue
        for plan, rows in blocks:
            parsed = w._result_columns(case, [(plan, rows)])
            itself = w._result_columns(case, [(plan, np.full_like(rows[:1], -1))])
            touched = {index for index, _ in workup_seed.touched(plan.pairs)}
            for index, (_, crit) in enumerate(rules.criteria()):
                if index not in touched:
                    status = criterion_status(parsed, crit)
                    assert (status == criterion_status(itself, crit)[0]).all(), crit.id


def test_status_tables_are_dropped_at_their_memory_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """With room for a few hundred combinations the tables are emptied again and again,
    and every verdict is still the vectorised criteria's."""
    monkeypatch.setattr(workup_seed, "_TABLE_BYTES", 300)
    monkeypatch.setattr(workup_seed, "_STATUS_TABLES", workup_seed._StatusTables())
    monkeypatch.setattr(workup_seed, "_BLOCK_VERDICTS", {})
    largest = 0
    for case in PATIENTS[:25]:
        blocks = _blocks(case, "paraproteinemic_neuropathy")
        if not blocks:
            continue
        expected = verdict_codes(w._result_columns(case, blocks), "seed")
        statuses = w._seed_statuses(case, None)
        got = workup_seed.seed_verdict_codes(case, blocks, w._result_columns, statuses)
        np.testing.assert_array_equal(got, expected)
        tables = workup_seed._STATUS_TABLES
        largest = max(largest, max((len(t) for t in tables.values()), default=0))
        assert tables.size == sum(len(t) for t in tables.values()) <= 300 + largest
