"""The seed criteria verdict on each result of the work-up's tests, criterion by criterion.

A result changes only the criteria that read one of the findings it reports; the others
keep the case's own status. And a criterion's status on a result depends only on the
result's values of the findings the criterion reads and on what the case gives those
findings (entered value and state): :func:`criterion_findings` lists them (the criterion's
own findings, and every part of an aggregate among them, which the aggregate's state is
derived from). So each criterion's status is looked up, per result, in a table over the
combinations of the test's findings it reads, kept under that context and shared by every
patient with the same context; a combination not met before is read the usual way (the
results as parsed case rows, :func:`model.criteria.vectorised.criterion_status`). The
verdict is then combined from the statuses by the vectorised criteria engine's own rule
(:func:`model.criteria.vectorised.verdicts_from_statuses`). An enumerated test's
results are the same rows for many patients, so its verdicts are also remembered whole,
under its rows, the contexts of the criteria it can change and what the other criteria
contribute to the combination.

``tests/test_workup_seed.py`` checks the verdicts against
:func:`model.criteria.vectorised.verdict_codes` on the parsed rows of every test's results
for the development set (from empty tables, filled tables and without tables), and the
premise: a result that reports none of a criterion's findings leaves its status alone.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from model.case import Case
from model.case_columns import CaseColumns
from model.criteria.rulesets import CriterionDef, Role, RuleSet, resolve_rule_set
from model.criteria.vectorised import STATUS_NAMES, criterion_status, verdicts_from_statuses
from model.vocabulary import AGGREGATES

MET_CODE, NOT_MET_CODE, INDETERMINATE_CODE = (
    STATUS_NAMES.index(name) for name in ("met", "not_met", "indeterminate")
)
TABLE_LIMIT = 1 << 16
"""Largest number of (state or not reported) combinations a status table is kept over;
beyond, every result is read."""
_TABLES_LIMIT = 4096
"""Status tables, and exact tests' verdict blocks, kept before they are all dropped."""
_TABLE_BYTES = 16 << 20
"""Memory the status tables may take (a table is one byte per combination) before they are
all dropped."""

Parse = Callable[[Case, Sequence[tuple[Any, np.ndarray]]], CaseColumns]
"""Reads blocks of results (a plan and its rows of state indices) as parsed case rows."""


@functools.cache
def seed_rules() -> RuleSet:
    """The seed rule set (the work-up's verdict is always the seed's)."""
    return resolve_rule_set("seed")


@functools.cache
def seed_criteria() -> tuple[tuple[Role, CriterionDef], ...]:
    """The seed rule set's criteria with their roles, in rule-set order."""
    return seed_rules().criteria()


def criterion_findings(crit: CriterionDef) -> frozenset[str]:
    """Every finding whose value can change the criterion's status: its own findings and the
    parts of each aggregate among them (the aggregate's derived state is read from them)."""
    out = set(crit.findings)
    for finding in crit.findings:
        out.update(AGGREGATES.get(finding, ()))
    return frozenset(out)


@functools.cache
def _seed_reads() -> tuple[tuple[str, ...], ...]:
    """:func:`criterion_findings` of each seed criterion in rule-set order, sorted."""
    return tuple(tuple(sorted(criterion_findings(c))) for _, c in seed_criteria())


@functools.lru_cache(maxsize=1024)
def touched(
    pairs: tuple[tuple[str, str], ...],
) -> tuple[tuple[int, tuple[int, ...]], ...]:
    """The criteria (index in rule-set order) a test with these (finding, node) pairs can
    change, each with the positions of the pairs it reads."""
    out = []
    for index, reads in enumerate(_seed_reads()):
        positions = tuple(j for j, (finding, _) in enumerate(pairs) if finding in reads)
        if positions:
            out.append((index, positions))
    return tuple(out)


def _context(case: Case, index: int) -> tuple[Any, ...]:
    """What the case gives the findings the seed criterion at ``index`` reads (entered value
    and state)."""
    return tuple(
        (repr(case.entered(finding)), case.state(finding)) for finding in _seed_reads()[index]
    )


class _StatusTables(dict[tuple[Any, ...], np.ndarray]):
    """Status tables by key, emptied when they reach :data:`_TABLES_LIMIT` tables or
    :data:`_TABLE_BYTES` bytes."""

    size = 0

    def new(self, key: tuple[Any, ...], combinations: int) -> np.ndarray:
        """A table for ``key`` with every status not read yet (``-1``)."""
        if len(self) >= _TABLES_LIMIT or self.size + combinations > _TABLE_BYTES:
            self.clear()
            self.size = 0
        table = self[key] = np.full(combinations, -1, dtype=np.int8)
        self.size += combinations
        return table


_STATUS_TABLES = _StatusTables()


def seed_verdict_codes(
    case: Case,
    blocks: Sequence[tuple[Any, np.ndarray]],
    parse: Parse,
    case_statuses: Sequence[str],
) -> np.ndarray:
    """The seed verdict code (index into ``STATUS_NAMES``) of ``case`` with each row of
    ``blocks`` entered, one block per test (its plan, whose ``pairs`` and ``states`` name
    the findings, and rows of state indices, ``-1`` = not reported).

    ``parse`` reads blocks of rows as parsed case rows (the work-up's own reading of
    results); ``case_statuses``: the seed criteria's statuses on the case itself, in
    rule-set order (the criteria engine's trace). Combinations no table holds yet are read
    together, in one ``parse`` call, each criterion evaluated once on them.
    """
    rules = seed_rules()
    n = sum(len(rows) for _, rows in blocks)
    own_codes = tuple(STATUS_NAMES.index(s) for s in case_statuses)
    own = np.array(own_codes, dtype=np.int8)
    verdicts = np.empty(n, dtype=np.int8)
    status = np.repeat(own[:, None], n, axis=1)
    contexts: dict[int, tuple[Any, ...]] = {}
    pending: list[tuple[Any, ...]] = []
    read: list[tuple[int, int, tuple[Any, ...] | None]] = []  # blocks read, with memo key
    start = 0
    for plan, rows in blocks:
        stop = start + len(rows)
        reads = _reads_of(plan.pairs, plan.states)
        for index, *_ in reads:
            if index not in contexts:
                contexts[index] = _context(case, index)
        key = None
        if plan.exact:  # the same rows for many patients: the block's verdicts remembered
            key = (
                plan.pairs,
                rows.shape,
                rows.tobytes(),
                tuple(contexts[index] for index, *_ in reads),
                _others(own_codes, reads),
            )
            known = _BLOCK_VERDICTS.get(key)
            if known is not None:
                verdicts[start:stop] = known
                start = stop
                continue
        pending += _look_up(plan, rows, reads, contexts, status, start)
        read.append((start, stop, key))
        start = stop
    if read:
        if pending:
            _read_pending(case, pending, parse, status)
        roles = [role for role, _ in seed_criteria()]
        combined = verdicts_from_statuses(rules, list(zip(roles, status, strict=True)), n)
        for first, last, key in read:
            verdicts[first:last] = combined[first:last]
            if key is not None:
                if len(_BLOCK_VERDICTS) >= _TABLES_LIMIT:
                    _BLOCK_VERDICTS.clear()
                found = combined[first:last].copy()
                found.setflags(write=False)
                _BLOCK_VERDICTS[key] = found
    return verdicts


_BLOCK_VERDICTS: dict[tuple[Any, ...], np.ndarray] = {}


@functools.lru_cache(maxsize=1024)
def _reads_of(
    pairs: tuple[tuple[str, str], ...], states: tuple[tuple[str, ...], ...]
) -> tuple[tuple[int, tuple[int, ...], tuple[Any, ...], int, np.ndarray], ...]:
    """For each seed criterion a test with these (finding, node) pairs and node states can
    change: its index, the positions of the pairs it reads, its table key's part from the
    test (those pairs and states), its number of combinations (``-1`` no table) and the
    multipliers that pack a result row into the combination's index (its state indices plus
    one, mixed radix, as ``np.ravel_multi_index``; ``+ 1`` folded in as the last entry)."""
    out = []
    for index, positions in touched(pairs):
        chosen = tuple(states[j] for j in positions)
        radix = [len(s) + 1 for s in chosen]
        size = math.prod(radix)
        multipliers = np.zeros(len(pairs) + 1, dtype=np.int64)
        if size <= TABLE_LIMIT:
            step = 1
            for j, r in zip(reversed(positions), reversed(radix), strict=True):
                multipliers[j] = step
                multipliers[-1] += step
                step *= r
        multipliers.setflags(write=False)
        part = (index, tuple(pairs[j] for j in positions), chosen)
        out.append((index, positions, part, size if size <= TABLE_LIMIT else -1, multipliers))
    return tuple(out)


def _others(own: tuple[int, ...], reads: Sequence[tuple[Any, ...]]) -> tuple[int, ...]:
    """What the verdict reads of the criteria a test cannot change (their statuses on the
    case, ``own``): whether a mandatory one is not met or open, and per group how many are
    met and open (the combination reads nothing else)."""
    return _summary(own, tuple(index for index, *_ in reads))


@functools.lru_cache(maxsize=4096)
def _summary(own: tuple[int, ...], changed: tuple[int, ...]) -> tuple[int, ...]:
    counts = [0] * 6
    for index, (role, _) in enumerate(seed_criteria()):
        if index in changed:
            continue
        code = own[index]
        if role is Role.MANDATORY:
            counts[0] |= code == NOT_MET_CODE
            counts[1] |= code == INDETERMINATE_CODE
        else:
            at = 2 if role is Role.MAJOR else 4
            counts[at] += code == MET_CODE
            counts[at + 1] += code == INDETERMINATE_CODE
    return tuple(counts)


def _look_up(
    plan: Any,
    rows: np.ndarray,
    reads: Sequence[tuple[Any, ...]],
    contexts: dict[int, tuple[Any, ...]],
    status: np.ndarray,
    start: int,
) -> list[tuple[Any, ...]]:
    """Fill ``status`` (a row per criterion, a column per result row; this block's from
    ``start``) from the tables of the criteria the test can change; return what no table
    holds yet (for :func:`_read_pending`)."""
    pending: list[tuple[Any, ...]] = []
    every = slice(start, start + len(rows))
    if not len(rows):
        return pending
    with_one = np.empty((len(rows), rows.shape[1] + 1), dtype=np.int64)
    with_one[:, :-1] = rows
    with_one[:, -1] = 1
    for index, positions, part, size, multipliers in reads:
        if size < 0:  # no table: every row read
            pending.append((index, every, plan, positions, rows[:, list(positions)], None))
            continue
        key = (*part, contexts[index])
        table = _STATUS_TABLES.get(key)
        if table is None:
            table = _STATUS_TABLES.new(key, size)
        packed = with_one @ multipliers
        found = table[packed]
        if found.min() < 0:
            codes = np.unique(packed[found < 0])
            radix = tuple(len(s) + 1 for s in part[2])
            combos = np.stack(np.unravel_index(codes, radix), axis=1) - 1
            pending.append((index, every, plan, positions, combos, (table, codes, packed)))
        else:
            status[index, every] = found
    return pending


def _read_pending(
    case: Case, pending: list[tuple[Any, ...]], parse: Parse, status: np.ndarray
) -> None:
    """Read every pending combination in one ``parse`` call (each as the case with the
    combination entered and the test's other findings not reported), evaluate each
    criterion once over them, and fill the tables and ``status``."""
    read_blocks = []
    for _, _, plan, positions, combos, _ in pending:
        rows = np.full((len(combos), len(plan.pairs)), -1, dtype=np.int64)
        rows[:, list(positions)] = combos
        read_blocks.append((plan, rows))
    parsed = parse(case, read_blocks)
    criteria = seed_criteria()
    evaluated: dict[int, np.ndarray] = {}
    first = 0
    for index, rows_of, _, _, combos, table in pending:
        if index not in evaluated:
            evaluated[index] = criterion_status(parsed, criteria[index][1])
        read = evaluated[index][first : first + len(combos)]
        first += len(combos)
        if table is None:
            status[index, rows_of] = read
        else:
            values, codes, packed = table
            values[codes] = read
            status[index, rows_of] = values[packed]
