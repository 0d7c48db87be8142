"""Score ten million rows of Parquet on one machine, as ``poems batch`` does, and say how it went.

``python scripts/ten_million.py [--rows N] [--base-rows B] [--folder DIR] [--keep]``

1. Simulates ``B`` synthetic rows (:func:`model.inference.simulate.simulate_chunks`, 30 %
   of findings missing, as the benchmark's cohort) and writes them ``N / B`` times over to
   one Parquet file with fresh row ids (``r0`` .. ``r{N-1}``), in row groups of 100,000 rows
   as the benchmark's file: about twenty seconds for ten million rows, where simulating
   every row takes minutes. Repeated rows cost the scorer what new ones cost (nothing is remembered
   per row).
2. Scores the file with :func:`model.cohort.score.score_file` (what ``poems batch`` calls;
   default chunk size and workers) in this process, after the engine and the kernel are
   loaded by scoring the first 1,000 rows once.
3. Prints the wall time, rows per second, CPU seconds of the process (all threads), the peak
   resident memory added by the run (``VmHWM`` over the resident size before it, the peak
   reset first), the load average, and checks that every row came out: the output's row
   count and its ids, in order, against the input's.

Linux only (reads ``/proc/self/status``). The files go to a temporary folder, removed at
the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from model.cohort.score import score_file
from model.inference.engine import DEFAULT_SETTING
from model.inference.simulate import simulate_chunks
from model.parameters import load_priors

ROW_GROUP = 100_000
"""Rows per row group of the written file (as the benchmark's cohort file)."""


def memory_mb(key: str) -> float:
    """A ``/proc/self/status`` figure (``VmRSS``, ``VmHWM``) in MB."""
    text = Path("/proc/self/status").read_text()
    return int(text.split(f"{key}:")[1].split()[0]) / 1024


def reset_peak() -> None:
    """Reset the peak resident size (``VmHWM``) to the current one."""
    Path("/proc/self/clear_refs").write_text("5")


def write_cohort(path: Path, rows: int, base_rows: int, seed: int) -> float:
    """Write ``rows`` rows: ``base_rows`` simulated rows repeated, fresh ids; returns seconds."""
    start = time.perf_counter()
    priors = load_priors()
    frames = simulate_chunks(priors, DEFAULT_SETTING, base_rows, seed=seed, missing=0.3)
    base = pa.concat_tables(
        pa.Table.from_pandas(frame.astype(str), preserve_index=False) for frame in frames
    )
    base = base.drop_columns([c for c in ("true_diagnosis",) if c in base.column_names])
    # Each text column dictionary-encoded once, so the writer copies indices instead of
    # hashing every cell again for each copy; without the Arrow schema in the file the
    # columns read back as text, as the benchmark's (the Parquet pages are the same kind:
    # a dictionary page, then the indices).
    id_type = base.schema.field("id").type
    base = pa.table(
        {
            name: column if name == "id" else pc.dictionary_encode(column.combine_chunks())
            for name, column in zip(base.column_names, base.columns, strict=True)
        }
    )
    id_column = base.column_names.index("id")
    with pq.ParquetWriter(path, base.schema, store_schema=False) as writer:
        for first in range(0, rows, base_rows):
            part = base.slice(0, min(base_rows, rows - first))
            numbers = pa.array(range(first, first + part.num_rows), pa.int64())
            ids = pc.binary_join_element_wise(
                pa.scalar("r", id_type), pc.cast(numbers, id_type), pa.scalar("", id_type)
            )
            part = part.set_column(id_column, "id", ids)
            writer.write_table(part, row_group_size=ROW_GROUP)
    return time.perf_counter() - start


def all_rows_out(source: Path, output: Path) -> tuple[int, bool]:
    """(rows written, whether the output's ids are the input's, in order), column by column
    per row group, so checking does not hold ten million ids at once."""
    read_in, read_out = pq.ParquetFile(source), pq.ParquetFile(output)
    same = True
    into = read_in.iter_batches(batch_size=ROW_GROUP, columns=["id"])
    out = read_out.iter_batches(batch_size=ROW_GROUP, columns=["id"])
    for a, b in zip(into, out, strict=False):
        same &= a.column(0).cast(pa.string()).equals(b.column(0).cast(pa.string()))
    return read_out.metadata.num_rows, same and read_in.metadata.num_rows == (
        read_out.metadata.num_rows
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows to score")
    parser.add_argument("--base-rows", type=int, default=100_000, help="rows simulated")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--folder", type=Path, default=None, help="where to write the files")
    parser.add_argument("--keep", action="store_true", help="keep the files")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.base_rows < 1:
        parser.error("--rows and --base-rows must be at least 1")
    folder = Path(tempfile.mkdtemp(prefix="poems-10m-", dir=args.folder))
    try:
        source, output = folder / "cohort.parquet", folder / "scores.parquet"
        made = write_cohort(source, args.rows, min(args.base_rows, args.rows), args.seed)
        warm = folder / "first_1000.parquet"
        pq.write_table(pq.ParquetFile(source).read_row_group(0).slice(0, 1000), warm)
        priors = load_priors()
        score_file(warm, folder / "warm.parquet", priors=priors, progress=False)
        rss = memory_mb("VmRSS")
        reset_peak()
        load = os.getloadavg()
        cpu, wall = time.process_time(), time.perf_counter()
        summary = score_file(source, output, priors=priors, progress=False)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        peak = memory_mb("VmHWM")
        rows, same_ids = all_rows_out(source, output)
        figures = {
            "rows": summary.rows,
            "rows_written": rows,
            "ids_in_order": same_ids,
            "errors": summary.errors,
            "wall_s": round(wall, 2),
            "rows_per_s": round(summary.rows / wall),
            "cpu_s": round(cpu, 2),
            "cpu_s_per_million": round(cpu / summary.rows * 1e6, 3),
            "rss_before_mb": round(rss, 1),
            "peak_added_mb": round(peak - rss, 1),
            "input_mb": round(source.stat().st_size / 1e6, 1),
            "output_mb": round(output.stat().st_size / 1e6, 1),
            "file_written_s": round(made, 1),
            "load_before": [round(x, 2) for x in load],
            "load_after": [round(x, 2) for x in os.getloadavg()],
            "cpus": os.cpu_count(),
        }
        print(json.dumps(figures, indent=1))
        return 0 if rows == args.rows and same_ids else 1
    finally:
        if args.keep:
            print(f"files kept in {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
