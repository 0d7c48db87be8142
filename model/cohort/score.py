"""Score a cohort with the compiled engine: every row comes out, bad rows with their message.

The output has one row per input row, in the same order: ``id``, ``posterior_poems``,
``posterior_<diagnosis>`` for every other diagnosis, the criteria verdict
(``<rule_set>_verdict``) and ``error`` (empty when the row was scored).

Per chunk of coded columns (:mod:`model.cohort.format`):

1. :func:`model.cohort.fused.parse_with_evidence` reads the cells with numpy, once per
   distinct cell text, then derives the case states, flags the rows that are not plainly
   valid and writes the evidence (one row per node) in one compiled pass (the same as
   :func:`model.case_columns.parse_columns` and :func:`model.cohort.coding.evidence_by_node`);
2. :func:`model.criteria.vectorised.verdict_codes` gives the verdicts;
3. each flagged row goes through ``Case`` (:func:`model.cohort.format.case_from_row`,
   ``evidence_for``, :func:`model.criteria.evaluate`), which scores it or writes its message;
4. rows are grouped by setting and scored by the compiled kernel on this thread
   (:func:`model.inference.compiled_kernel.posteriors_on_this_thread`).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, Full, Queue
from typing import Any, TypeVar

import numpy as np

from model.case_columns import CodedColumn
from model.cohort.format import (
    AtomicOutput,
    CohortSource,
    RawChunk,
    ReadFallback,
    case_from_row,
    chunk_from_frame,
    unknown_columns,
)
from model.cohort.fused import parse_with_evidence
from model.cohort.progress import Progress
from model.criteria import RULE_SETS, evaluate, resolve_rule_set
from model.criteria.vectorised import STATUS_NAMES, verdict_codes
from model.exceptions import InputError, PoemsError
from model.inference.compiled_kernel import posteriors_on_this_thread
from model.inference.engine import DEFAULT_SETTING, default_priors, engine_for
from model.network.evidence import evidence_for
from model.network.evidence_codes import OBSERVABLE
from model.network.structure import DIAGNOSIS, NODES
from model.parameters import SETTING_FIX, Priors
from model.vocabulary import suggest

DEFAULT_CHUNK_ROWS = 65_536
"""Rows per chunk: memory is bounded by this, not by the file."""
DEFAULT_WORKERS = min(4, os.cpu_count() or 1)
"""Chunks scored at once, each in its own thread."""
T = TypeVar("T")
POSITIVE = "poems"
_NO_VERDICT = len(STATUS_NAMES)


@dataclass(frozen=True)
class BatchSummary:
    """What a batch run did."""

    rows: int
    errors: int
    seconds: float
    fast_rows: int
    source: str = ""

    @property
    def scored(self) -> int:
        return self.rows - self.errors

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else math.inf


MAX_COLUMN_NOTICES = 10
"""Ignored columns named one per line on stderr; the rest are counted in one line (a file
with 5,000 unknown columns gives 11 lines, not 5,000)."""


def output_columns(priors: Priors | None = None, rule_set: str = "seed") -> list[str]:
    """The output's columns, in order."""
    diagnoses = NODES[DIAGNOSIS].states
    return [
        "id",
        f"posterior_{POSITIVE}",
        *[f"posterior_{d}" for d in diagnoses if d != POSITIVE],
        f"{rule_set}_verdict",
        "error",
    ]


def score_chunk(
    chunk: RawChunk,
    priors: Priors | None = None,
    setting: str | None = None,
    rule_set: str = "seed",
    first_row: int = 1,
) -> tuple[Any, int]:
    """Score one chunk; returns (pyarrow table in :func:`output_columns` order, fast rows).

    ``setting`` forces a setting for every row; otherwise each row's own ``setting`` is
    used, else the default setting. ``first_row`` numbers rows in messages (1 = the first
    data row of the file).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    priors = priors if priors is not None else default_priors()
    resolve_rule_set(rule_set)
    n = chunk.n
    cases, codes = parse_with_evidence(chunk.columns, n, OBSERVABLE)  # codes: a row per node
    verdicts = verdict_codes(cases, rule_set)
    errors: dict[int, str] = {i: f"row {first_row + i}: {m}" for i, m in chunk.read_errors.items()}
    usable = np.ones(n, dtype=bool)
    usable[list(errors)] = False
    flagged = cases.flagged & usable
    column = {name: j for j, name in enumerate(OBSERVABLE)}
    for i in np.flatnonzero(flagged):
        try:
            case = case_from_row(chunk.row(int(i)))
            evidence = evidence_for(case)
            verdict = evaluate(case, rule_set).verdict
        except PoemsError as err:
            errors[int(i)] = f"row {first_row + i}: {err}"
            usable[i] = False
            continue
        verdicts[i] = STATUS_NAMES.index(verdict)
        codes[:, i] = -1
        for node, state in evidence.items():
            codes[column[node], i] = NODES[node].states.index(state)

    # settings: one decision per distinct cell text
    settings: CodedColumn = cases.setting
    chosen_names = [setting or u or DEFAULT_SETTING for u in settings.uniques]
    distinct = sorted(set(chosen_names))
    chosen = settings.take(np.array([distinct.index(c) for c in chosen_names], dtype=np.intp))
    diagnoses = NODES[DIAGNOSIS].states
    posts = np.full((n, len(diagnoses)), np.nan)
    for k, name in enumerate(distinct):
        rows = usable & (chosen == k)
        if not rows.any():
            continue
        if name not in priors.settings:
            hint = suggest(name, priors.settings)
            for i in np.flatnonzero(rows):
                errors[int(i)] = (
                    f"row {first_row + i}: setting must be one of {', '.join(priors.settings)}. "
                    f"Got {name!r} instead. {hint}".rstrip()
                )
            usable &= ~rows
            continue
        engine = engine_for(priors, name)
        if rows.all():  # the usual chunk: every row scored under one setting, no copies
            posts = posteriors_on_this_thread(engine, codes)
        else:
            posts[rows] = posteriors_on_this_thread(engine, codes[:, rows])
        for i in np.flatnonzero(rows & np.isnan(posts[:, 0])):
            errors[int(i)] = (
                f"row {first_row + i}: findings must be a combination the network can "
                "produce. Got evidence of probability zero instead. Check the entries "
                "for a contradiction."
            )
    bad = np.fromiter(errors, dtype=np.intp, count=len(errors))
    verdicts[bad] = _NO_VERDICT
    posts[bad] = np.nan
    message_of = np.zeros(n, dtype=np.int32)  # 0: no error, k: the k-th message
    message_of[bad] = np.arange(1, len(bad) + 1, dtype=np.int32)
    messages = pa.array(["", *errors.values()], pa.string())
    names = pa.array([*STATUS_NAMES, ""], pa.string())
    by_state = np.ascontiguousarray(posts.T)  # one contiguous column per diagnosis
    # NaN (a row not scored) is written as null; a chunk without one skips the search
    # for it, the most of turning a column into Arrow (the same arrays either way)
    empty = bool(np.isnan(by_state).any())
    table = {
        "id": chunk.ids,
        f"posterior_{POSITIVE}": pa.array(by_state[diagnoses.index(POSITIVE)], from_pandas=empty),
    }
    for j, d in enumerate(diagnoses):
        if d != POSITIVE:
            table[f"posterior_{d}"] = pa.array(by_state[j], from_pandas=empty)
    table[f"{rule_set}_verdict"] = pc.take(names, pa.array(verdicts.astype(np.int32)))
    table["error"] = pc.take(messages, pa.array(message_of))
    fast = int(n - cases.flagged.sum() - len(chunk.read_errors)) if chunk.fast else 0
    return pa.table(table), fast


def score_frame(
    frame: Any,
    priors: Priors | None = None,
    setting: str | None = None,
    rule_set: str = "seed",
    first_row: int = 1,
) -> tuple[Any, int]:
    """Score a pandas frame of cells; returns (output frame, rows on the fast path)."""
    table, fast = score_chunk(chunk_from_frame(frame), priors, setting, rule_set, first_row)
    return table.to_pandas(), fast


def score_file(
    source: str | Path,
    output: str | Path,
    *,
    priors: Priors | None = None,
    setting: str | None = None,
    rule_set: str = "seed",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: bool = True,
    delimiter: str | None = None,
    encoding: str | None = None,
    notify: Callable[[str], None] | None = None,
) -> BatchSummary:
    """Score ``source`` (CSV or Parquet) into ``output`` (by extension), chunk by chunk.

    Memory stays bounded by ``chunk_rows``; the output keeps the input row order and is
    written atomically (:class:`model.cohort.format.AtomicOutput`). ``notify`` receives
    one-line notes for the user (ignored columns, a slower reading of a malformed CSV);
    by default they go to stderr.
    """
    say = notify if notify is not None else (lambda text: print(text, file=sys.stderr))
    source, output = Path(source), Path(output)
    AtomicOutput(output)  # checks the extension before any work
    if output.exists() and source.exists() and source.resolve() == output.resolve():
        raise InputError("-o", str(output), "a file other than the input")
    if chunk_rows < 1:
        raise InputError("chunk_rows", chunk_rows, "at least 1")
    priors = priors if priors is not None else default_priors()
    if setting is not None:
        priors.setting(setting, field="--setting", fix=SETTING_FIX)
    resolve_rule_set(rule_set)
    cohort = CohortSource(source, delimiter=delimiter, encoding=encoding)
    ignored = unknown_columns(cohort.names)
    for column, hint in ignored[:MAX_COLUMN_NOTICES]:
        say(f"poems batch: column {column!r} is not part of the cohort format; ignored. {hint}")
    if len(ignored) > MAX_COLUMN_NOTICES:
        say(
            f"poems batch: {len(ignored) - MAX_COLUMN_NOTICES} more columns are not part of the "
            "cohort format; ignored ('poems vocabulary' lists the finding columns)."
        )
    start = time.perf_counter()
    try:
        rows, errors, fast = _run(cohort, output, priors, setting, rule_set, chunk_rows, progress)
    except ReadFallback as why:
        say(
            f"poems batch: {cohort.where} cannot be read column by column ({why}); "
            "reading it line by line instead (slower), so each malformed line becomes "
            "that row's error."
        )
        rows, errors, fast = _run(
            cohort, output, priors, setting, rule_set, chunk_rows, progress, exact=True
        )
    return BatchSummary(rows, errors, time.perf_counter() - start, fast, cohort.describe())


def _run(
    cohort: CohortSource,
    output: Path,
    priors: Priors,
    setting: str | None,
    rule_set: str,
    chunk_rows: int,
    progress: bool,
    exact: bool = False,
    workers: int | None = None,
) -> tuple[int, int, int]:
    """Read, score and write ``cohort`` chunk by chunk, the three overlapped.

    A reader thread decodes the next chunks while ``workers`` threads score the chunks
    before them (pyarrow, numpy and the compiled kernel release the GIL for most of their
    work) and this thread writes the scored chunks in input order. At most
    ``2 * workers + 2`` chunks are in memory at once, whatever the file's length.
    """
    import pyarrow as pa

    workers = workers or DEFAULT_WORKERS
    rows = errors = fast = 0
    total = cohort.total_rows
    with (
        returning_memory(),
        Progress(
            "scoring",
            total=total if total is not None else cohort.total_bytes,
            unit="rows" if total is not None else "B",
            enabled=progress,
        ) as bar,
        AtomicOutput(output) as out,
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="poems-score") as pool,
    ):
        on_bytes = None if total is not None else bar.update
        chunks = cohort.chunks(chunk_rows, exact=exact, on_bytes=on_bytes)
        pending: deque[Future[tuple[Any, int]]] = deque()
        first_row = 1

        def write_next() -> None:
            nonlocal rows, fast, errors
            table, n_fast = pending.popleft().result()
            out.write(table)
            rows += table.num_rows
            fast += n_fast
            errors += len(table) - int(
                pa.compute.sum(pa.compute.equal(table.column("error"), "")).as_py() or 0
            )
            if total is not None:
                bar.update(table.num_rows)
            bar.rows(rows)

        try:
            for chunk in read_ahead(chunks, depth=1):
                while len(pending) >= workers:
                    write_next()
                pending.append(
                    pool.submit(score_chunk, chunk, priors, setting, rule_set, first_row)
                )
                first_row += chunk.n
            while pending:
                write_next()
        finally:
            for future in pending:
                future.cancel()
        if out.rows == 0:  # empty input: still write the header
            out.write(_empty(rule_set))
        out.commit()
    return rows, errors, fast


@contextlib.contextmanager
def returning_memory() -> Iterator[None]:
    """Arrow's allocations inside the block from a pool that hands freed memory back to
    the system (jemalloc's, else the system allocator), the default pool restored after.

    Arrow's default pool (mimalloc in these wheels) keeps what a chunk freed for reuse, and
    with several threads allocating in turn the kept memory grew with the file's length:
    scoring 100,000 / 1,000,000 / 3,000,000 rows added 140 / 217 / 205 MB at its peak,
    against 104 / 132 / 132 MB with jemalloc's pool (after the engine, the imports and
    one small file; no change in CPU time measured). The pool is process-wide while the
    block runs; buffers made from either pool are freed to their own.
    """
    import pyarrow as pa

    before = pa.default_memory_pool()
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without jemalloc
        pool = pa.system_memory_pool()
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(before)


def read_ahead(items: Iterator[T], depth: int) -> Iterator[T]:
    """``items``, produced by a background thread up to ``depth`` ahead of the consumer.

    An exception raised by ``items`` is raised here, at the position it occurred; when the
    consumer stops early the producer stops at its next item.
    """
    queue: Queue[tuple[bool, Any]] = Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        queue.put((True, item), timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put((False, None))
        except BaseException as err:  # handed to the consumer, raised there
            queue.put((False, err))

    thread = threading.Thread(target=produce, name="poems-read", daemon=True)
    thread.start()
    try:
        while True:
            more, item = queue.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(Empty):
                queue.get(timeout=0.1)


def _empty(rule_set: str) -> Any:
    import pyarrow as pa

    columns = output_columns(None, rule_set)
    types = {c: pa.float64() for c in columns if c.startswith("posterior_")}
    return pa.table({c: pa.array([], types.get(c, pa.string())) for c in columns})


__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "RULE_SETS",
    "BatchSummary",
    "output_columns",
    "score_chunk",
    "score_file",
    "score_frame",
]
