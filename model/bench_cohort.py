"""Benchmark parts beyond the engine: one posterior beside pgmpy and pyAgrum, the full
assessment on every example, and cohort files end to end beside a plain pyarrow read.

Called by :func:`model.bench.run_benchmark`; every figure is measured in the same run on the
same inputs. Times are reported as wall time and as CPU time (all threads of the process),
because a shared machine inflates wall time by waiting for a core; ratios are per query
(posteriors) or per file (cohorts).
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from model.assessment import assess
from model.case import Case
from model.cohort.score import score_file
from model.export import export_network
from model.inference.engine import engine_for
from model.inference.exact import inference_for
from model.inference.simulate import encode, simulate, simulate_chunks
from model.network import build_tables, evidence_for
from model.network.evidence_codes import OBSERVABLE

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _cpu_wall(run: Callable[[], Any]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    run()
    return time.process_time() - cpu, time.perf_counter() - wall


# ---------------------------------------------------------------------- one posterior
def _pyagrum_engine(priors: Any, setting: str) -> tuple[Any, Any] | None:
    """pyAgrum's LazyPropagation on the network exported as XMLBIF (exact; BIF is float32)."""
    try:
        import pyagrum as gum
    except ImportError:
        return None

    with tempfile.TemporaryDirectory() as folder:
        path = export_network(priors, setting, "xmlbif", Path(folder) / "poems.bifxml")
        bn = gum.loadBN(str(path))
    engine = gum.LazyPropagation(bn)
    if hasattr(engine, "setNumberOfThreads"):
        engine.setNumberOfThreads(1)  # one query, one thread, as the compiled API
    return bn, engine


def posterior_comparison(
    priors: Any, setting: str, patterns: list[dict[str, str]], rounds: int
) -> dict[str, Any]:
    """Per-query CPU time of one posterior: compiled API, pgmpy VE, pyAgrum LazyPropagation.

    Interleaved per query (the same evidence, the engines in turn), ``rounds`` times; the
    figure per engine is the median over queries of each query's median.
    """

    engine = engine_for(priors, setting)
    states = engine.query_states
    infer = inference_for(priors, setting)
    agrum = _pyagrum_engine(priors, setting)

    # Every engine gets the same evidence: the pattern plus the setting's defining findings
    # (the compiled engine adds them itself; the pgmpy and pyAgrum networks do not).
    patterns = [engine.with_implied(ev) for ev in patterns]

    def compiled(ev: dict[str, str]) -> np.ndarray:
        post = engine.posterior(ev)
        return np.array([post[s] for s in states])

    def pgmpy(ev: dict[str, str]) -> np.ndarray:
        factor = infer.query(["diagnosis"], evidence=ev or None, show_progress=False)
        return np.array([factor.get_value(diagnosis=s) for s in states])

    runners: dict[str, Callable[[dict[str, str]], np.ndarray]] = {
        "compiled": compiled,
        "pgmpy": pgmpy,
    }
    if agrum is not None:
        bn, lazy = agrum
        labels = list(bn.variable("diagnosis").labels())
        order = [labels.index(s) for s in states]

        def pyagrum(ev: dict[str, str]) -> np.ndarray:
            lazy.eraseAllEvidence()
            for node, state in ev.items():
                lazy.addEvidence(node, state)
            lazy.makeInference()
            return np.asarray(lazy.posterior("diagnosis").toarray())[order]

        runners["pyagrum"] = pyagrum
    times: dict[str, list[list[float]]] = {k: [[] for _ in patterns] for k in runners}
    diffs: dict[str, float] = {k: 0.0 for k in runners if k != "compiled"}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for ev in patterns:  # warm-up and agreement
            reference = compiled(ev)
            for name, run in runners.items():
                if name != "compiled":
                    diffs[name] = max(diffs[name], float(np.max(np.abs(run(ev) - reference))))
        names = list(runners)
        for r in range(rounds):
            for q, ev in enumerate(patterns):
                for name in names[r % len(names) :] + names[: r % len(names)]:
                    start = time.thread_time()
                    runners[name](ev)
                    times[name][q].append(time.thread_time() - start)
    per_query = {k: np.array([statistics.median(t) for t in v]) for k, v in times.items()}
    out: dict[str, Any] = {
        "posterior_queries": len(patterns),
        "posterior_rounds": rounds,
        "posterior_us": {k: 1e6 * float(np.median(v)) for k, v in per_query.items()},
        "posterior_max_abs_diff": diffs,
        "posterior_speedup": {
            k: float(np.median(per_query[k] / per_query["compiled"]))
            for k in per_query
            if k != "compiled"
        },
    }
    if agrum is None:
        out["pyagrum"] = "not installed (uv sync installs it with the dev group)"
    return out


def evidence_patterns(priors: Any, setting: str, n_random: int, seed: int) -> list[dict[str, str]]:
    """The examples' evidence plus forward samples with 0-90 % of findings missing."""

    patterns = [dict(evidence_for(Case.load(p))) for p in sorted(EXAMPLES.glob("*.json"))]
    engine = engine_for(priors, setting)
    rng = np.random.default_rng(seed)
    for missing in (0.0, 0.3, 0.6, 0.9):
        count = n_random // 4
        if count < 1:
            continue
        codes = encode(simulate(build_tables(priors, setting), count, rng, missing), OBSERVABLE)
        for row in codes:
            ev = {
                OBSERVABLE[j]: engine.states[OBSERVABLE[j]][c] for j, c in enumerate(row) if c >= 0
            }
            patterns.append(ev)
    return patterns


def assessment_times(
    priors: Any, setting: str, repeats: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall ms and median CPU ms (calling thread) of ``assess`` with every analysis but
    sensitivity, per example case."""
    wall, cpu = {}, {}
    for path in sorted(EXAMPLES.glob("*.json")):
        case = Case.load(path)
        assess(case, setting=setting, priors=priors, sensitivity=False)
        times, cpu_times = [], []
        for _ in range(max(1, repeats)):
            start, start_cpu = time.perf_counter(), time.thread_time()
            assess(case, setting=setting, priors=priors, sensitivity=False)
            times.append(time.perf_counter() - start)
            cpu_times.append(time.thread_time() - start_cpu)
        wall[path.stem] = 1000 * statistics.median(times)
        cpu[path.stem] = 1000 * statistics.median(cpu_times)
    return wall, cpu


# ---------------------------------------------------------------------- cohorts end to end
def write_cohort_files(
    priors: Any, setting: str, n: int, folder: Path, seed: int
) -> dict[str, Path]:
    """A synthetic cohort of ``n`` rows as Parquet and as CSV (strings, as users write them)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    paths = {"parquet": folder / "cohort.parquet", "csv": folder / "cohort.csv"}
    parquet: Any = None
    with paths["csv"].open("wb") as csv_handle:
        csv_writer: Any = None
        for frame in simulate_chunks(priors, setting, n, seed=seed, missing=0.3):
            table = pa.Table.from_pandas(frame.astype(str), preserve_index=False)
            if parquet is None:
                parquet = pq.ParquetWriter(paths["parquet"], table.schema)
                csv_writer = pacsv.CSVWriter(csv_handle, table.schema)
            parquet.write_table(table)
            csv_writer.write_table(table)
        if parquet is not None:
            parquet.close()
            csv_writer.close()
    return paths


def _read_floor(kind: str, path: Path) -> None:
    if kind == "parquet":
        import pyarrow.parquet as pq

        pq.read_table(path)
    else:
        import pyarrow.csv as pacsv

        pacsv.read_csv(path)


def cohort_throughput(priors: Any, paths: dict[str, Path], n: int, repeats: int) -> dict[str, Any]:
    """``score_file`` (Parquet -> Parquet, CSV -> CSV) beside a plain pyarrow read, in turn."""

    out: dict[str, Any] = {"cohort_rows": n}
    for kind, path in paths.items():
        target = path.with_name(f"scores.{kind}")

        def score(path: Path = path, target: Path = target) -> None:
            score_file(path, target, priors=priors, progress=False, notify=lambda _: None)

        score()  # warm: kernel and engine loaded
        pairs = []
        for _ in range(max(1, repeats)):
            read = functools.partial(_read_floor, kind, path)
            pairs.append((_cpu_wall(score), _cpu_wall(read)))
        best_score = min(pairs, key=lambda p: p[0][1])[0]
        best_read = min(pairs, key=lambda p: p[1][1])[1]
        out[kind] = {
            "rows_per_s": n / best_score[1],
            "rows_per_cpu_s": n / best_score[0],
            "score_wall_s": best_score[1],
            "score_cpu_s": best_score[0],
            "read_wall_s": best_read[1],
            "read_cpu_s": best_read[0],
            "ratio_to_read_wall": statistics.median(p[0][1] / p[1][1] for p in pairs),
            "ratio_to_read_cpu": statistics.median(p[0][0] / p[1][0] for p in pairs),
            "mb": round(path.stat().st_size / 1e6, 1),
        }
    return out


_PEAK = """
import json, sys
import numpy as np
from model.cohort.score import score_file
from model.parameters import load_priors
from model.inference.engine import engine_for

def status(key):
    text = open("/proc/self/status").read()
    return int(text.split(key + ":")[1].split()[0]) / 1024

priors = load_priors()
engine = engine_for(priors, {setting!r})
engine.posterior_batch(np.full((4096, len(engine.observable)), -1, np.int8))  # kernel loaded
rss = status("VmRSS")
score_file(sys.argv[3], sys.argv[2], priors=priors, progress=False, notify=lambda _: None)
with open("/proc/self/clear_refs", "w") as handle:  # reset the peak (VmHWM) to the current RSS
    handle.write("5")
warm = status("VmRSS")
score_file(sys.argv[1], sys.argv[2], priors=priors, progress=False, notify=lambda _: None)
print(json.dumps({{"rss_mb": rss, "warm_mb": warm, "peak_mb": status("VmHWM")}}))
"""


def peak_memory(
    path: Path, rows: int, setting: str, fractions: tuple[float, ...]
) -> list[dict[str, Any]]:
    """Peak RSS of ``score_file`` in a fresh process (engine and kernel loaded first), for
    the first fraction of the rows; ``added_mb`` is the peak over the resident size before
    scoring, ``added_after_warmup_mb`` the peak over the resident size after scoring the
    first 1,000 rows once (the modules and pools a first run loads, whatever its length)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    warmup = path.with_name("first_1000_warmup.parquet")
    pq.write_table(table.slice(0, 1000), warmup)
    out = []
    for fraction in fractions:
        k = max(1, int(rows * fraction))
        part = path.with_name(f"first_{k}.parquet")
        pq.write_table(table.slice(0, k), part, row_group_size=65_536)
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                _PEAK.format(setting=setting),
                str(part),
                str(part.with_suffix(".out.parquet")),
                str(warmup),
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        out.append(
            {
                "rows": k,
                "peak_mb": round(figures["peak_mb"], 1),
                "rss_before_mb": round(figures["rss_mb"], 1),
                "added_mb": round(figures["peak_mb"] - figures["rss_mb"], 1),
                "added_after_warmup_mb": round(figures["peak_mb"] - figures["warm_mb"], 1),
            }
        )
    del table
    return out


_THROUGHPUT = """
import json, sys
from pathlib import Path
from model.bench_cohort import cohort_throughput
from model.parameters import load_priors
paths = {{"parquet": Path(sys.argv[1]), "csv": Path(sys.argv[2])}}
print(json.dumps(cohort_throughput(load_priors({priors!r}), paths, {n}, {repeats})))
"""


def _fresh_throughput(
    priors: Any, paths: dict[str, Path], n: int, repeats: int
) -> dict[str, Any] | None:
    """:func:`cohort_throughput` in a fresh process, as a researcher's ``poems batch`` runs:
    the benchmark's own process holds gigabytes of earlier measures and numba's thread pool,
    which moved the cohort figures by up to half. ``None`` when the priors have no folder to
    load them from again (then the caller measures in this process)."""
    folder = getattr(priors, "directory", None)
    if folder is None or not Path(str(folder)).is_dir():
        return None
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _THROUGHPUT.format(priors=str(folder), n=n, repeats=repeats),
            str(paths["parquet"]),
            str(paths["csv"]),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def run_cohort_benchmark(
    priors: Any, setting: str, n: int, repeats: int, seed: int
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="poems-bench-") as folder:
        paths = write_cohort_files(priors, setting, n, Path(folder), seed)
        fresh = _fresh_throughput(priors, paths, n, repeats)
        results = fresh if fresh is not None else cohort_throughput(priors, paths, n, repeats)
        results["fresh_process"] = fresh is not None
        results["peak_memory"] = peak_memory(paths["parquet"], n, setting, (0.1, 1.0))
    return results


__all__ = [
    "assessment_times",
    "evidence_patterns",
    "posterior_comparison",
    "run_cohort_benchmark",
]
