"""The benchmark: single-case assessment time, batch throughput, and pgmpy in the same run.

Measured on whatever machine runs it (``poems bench``, ``make bench`` or
``python scripts/bench.py``); nothing here is asserted by tests except that it runs and
reports its keys.

- ``single_case_ms``: median wall time of one full assessment of a bundled example case
  (``model.assessment.assess``: exact posterior, every rule set, agreement text,
  contributions, next-best tests with their criteria-settling odds, the work-up, 90 %
  credible interval from 2,000 parameter draws); ``single_case_with_sensitivity_ms`` adds
  the one-way sensitivity over every parameter's range (what ``poems assess`` and the app compute).
- ``batch_cases_per_s``: :meth:`CompiledEngine.posterior_batch` over ``n`` synthetic
  encoded cases (forward samples of the network with random missingness), best of three,
  after the kernel is loaded (its one-off load time is reported as ``kernel_load_s``).
- ``numpy_cases_per_s``: the same computation on the numpy path, on a slice.
- ``pgmpy_cases_per_s``: pgmpy ``VariableElimination`` one query per case on a sample of
  the same cases; ``max_abs_diff_vs_pgmpy`` over that sample, every diagnosis state.
- ``speedup_vs_pgmpy`` = batch rate / pgmpy rate (batch throughput over pgmpy's per-query
  rate; per single query see ``posterior_speedup``).
- ``posterior_us``: one posterior, per-query CPU time (median over queries of the median of
  interleaved rounds) of the compiled API ``engine.posterior(evidence)``, pgmpy
  ``VariableElimination`` and pyAgrum ``LazyPropagation`` (one engine reused) on the same
  evidence: the examples and forward samples with 0-90 % missing; ``posterior_speedup`` is
  the median per-query ratio, ``posterior_max_abs_diff`` the agreement.
- ``assessment_ms``: ``assess`` (posterior, every rule set, contributions, next tests,
  work-up, 2,000-draw interval) median per example case.
- ``new_case_assessment``: the same ``assess``, but each published patient of the
  development set assessed *once* (no case-level memo of an earlier run can help; the
  process-level engine and parameter draws are warm): median, 90th centile and largest CPU
  and wall ms over the patients. This is what a clinician's new patient costs. A second
  pass over freshly read patients splits it: ``without_workup`` is ``assess(...,
  plan=False)`` (the parts issue 14 lists: posterior, every rule set, contributions, next
  tests, interval) and ``workup`` the work-up alone, timed right after it as ``assess``
  would call it. ``assess`` builds some presentation fields on first read (every rule
  set's criterion table, what would decide it and its explanation; each next test's
  outcome mappings and settling odds): ``deferred_fields`` is the CPU of reading them all,
  and ``without_workup_every_field`` the sum, what an assessment costs once everything it
  can show has been built (the JSON output and the app read most of them).
- ``cohort``: ``score_file`` Parquet -> Parquet and CSV -> CSV on ``cohort_n`` synthetic
  rows, beside a plain pyarrow read of the same file (``read_table``, ``read_csv``), wall
  and CPU, both in a fresh process (``fresh_process``), as ``poems batch`` runs;
  ``peak_memory``: peak RSS of a fresh process scoring 10 % and 100 % of the rows.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from model import bench_cohort
from model.analysis.workup import workup
from model.assessment import assess
from model.case import Case
from model.criteria import DEFAULT_RULE_SET
from model.criteria.results import DEFERRED
from model.evaluation.devset import load_devset
from model.inference.batch import OBSERVABLE
from model.inference.compiled import CompiledEngine, _kernel
from model.inference.engine import engine_for, resolve
from model.inference.runtime import freeze_loaded
from model.inference.simulate import encode, simulate
from model.inputs import strict_json
from model.network import build_network, build_tables
from model.parameters import load_priors

DEFAULT_SETTING = "paraproteinemic_neuropathy"
EXAMPLE_CASE = Path(__file__).resolve().parent.parent / "examples" / "classic_poems.json"
FULL = {"n": 1_000_000, "pgmpy_n": 500, "repeats": 15, "cohort_n": 1_000_000}
QUICK = {"n": 200_000, "pgmpy_n": 100, "repeats": 5, "cohort_n": 100_000}


def _example_case() -> Any:
    if EXAMPLE_CASE.exists():
        return Case.load(EXAMPLE_CASE)
    return Case.from_dict(
        {
            "findings": {
                "polyneuropathy": "present",
                "monoclonal_protein": "present",
                "light_chain": "lambda",
                "sclerotic_bone_lesion": "present",
                "vegf": {"value": 2400, "unit": "pg/mL", "specimen": "serum"},
                "splenomegaly": "present",
                "platelets": 520,
            }
        }
    )


def _median_ms(run: Callable[[], Any], repeats: int) -> tuple[float, int, float]:
    """Median wall ms, repeats, and median CPU ms of the calling thread (steadier on a
    shared machine, where wall time includes waiting for a core)."""
    run()  # warm caches (network, engine, parameter draws)
    times, cpu = [], []
    for _ in range(max(1, repeats)):
        start, start_cpu = time.perf_counter(), time.thread_time()
        run()
        times.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - start_cpu)
    return 1000 * statistics.median(times), len(times), 1000 * statistics.median(cpu)


def _spread(values: list[float], name: str) -> dict[str, float]:
    ordered = sorted(values)
    return {
        f"median_{name}": statistics.median(ordered),
        f"p90_{name}": ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))],
        f"max_{name}": ordered[-1],
    }


def _read_deferred_fields(result: Any) -> None:
    """Read every field an assessment builds on first read: each rule set's
    :data:`~model.criteria.results.DEFERRED` fields and each next test's outcome fields."""
    for criteria in result.criteria.values():
        for name in DEFERRED:
            getattr(criteria, name)
    for test in result.next_tests or ():
        test.p_outcome  # noqa: B018 - builds the test's deferred fields at once


def new_case_times(priors: Any, setting: str) -> dict[str, Any]:
    """Every development-set patient assessed once (all analyses but sensitivity): CPU of the
    calling thread and wall ms, median / 90th centile / largest. The first patient warms
    nothing case-specific; the engine and draws are warm from the runs before.

    A second pass over the patients read afresh (new ``Case`` objects; every case-keyed
    memo holds fewer entries than there are patients) times ``assess(..., plan=False)`` and
    then the work-up alone, as ``assess`` calls it, for each patient once."""
    cases = [patient.case for patient in load_devset().patients]
    assess(cases[0], setting=setting, priors=priors, sensitivity=False)  # process-level warm-up
    freeze_loaded()  # as the app does once its engines are loaded (model.inference.runtime)
    cpu, wall = [], []
    for case in cases[1:]:
        start, start_cpu = time.perf_counter(), time.thread_time()
        assess(case, setting=setting, priors=priors, sensitivity=False)
        wall.append(1000 * (time.perf_counter() - start))
        cpu.append(1000 * (time.thread_time() - start_cpu))
    out: dict[str, Any] = {"cases": len(cpu), **_spread(cpu, "cpu_ms"), **_spread(wall, "wall_ms")}
    engine = engine_for(*resolve(cases[0], setting, priors))
    without, deferred, plan = [], [], []
    for case in [patient.case for patient in load_devset().patients][1:]:
        start_cpu = time.thread_time()
        result = assess(case, setting=setting, priors=priors, sensitivity=False, plan=False)
        middle = time.thread_time()
        _read_deferred_fields(result)
        built = time.thread_time()
        workup(case, engine, result.evidence, result.criteria[DEFAULT_RULE_SET])
        plan.append(1000 * (time.thread_time() - built))
        deferred.append(1000 * (built - middle))
        without.append(1000 * (middle - start_cpu))
    out["without_workup"] = _spread(without, "cpu_ms")
    out["deferred_fields"] = _spread(deferred, "cpu_ms")
    out["without_workup_every_field"] = _spread(
        [a + b for a, b in zip(without, deferred, strict=True)], "cpu_ms"
    )
    out["workup"] = _spread(plan, "cpu_ms")
    return out


def run_benchmark(
    *,
    n: int = FULL["n"],
    pgmpy_n: int = FULL["pgmpy_n"],
    repeats: int = FULL["repeats"],
    setting: str = DEFAULT_SETTING,
    missing: float = 0.5,
    seed: int = 0,
    cohort_n: int = FULL["cohort_n"],
) -> dict[str, Any]:
    """Run every measurement once; return the figures as a JSON-ready dict."""
    from pgmpy.inference import VariableElimination

    logging.getLogger("pgmpy").setLevel(logging.ERROR)
    priors = load_priors()
    results: dict[str, Any] = {"setting": setting, "cpu_count": os.cpu_count()}

    start = time.perf_counter()
    model = build_network(priors, setting)
    engine = CompiledEngine.from_pgmpy(model, query="diagnosis", observable=OBSERVABLE)
    results["compile_s"] = time.perf_counter() - start
    results["engine"] = engine.describe()

    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    synthetic = simulate(build_tables(priors, setting), n, rng, missing)
    codes = encode(synthetic, OBSERVABLE)
    results["simulate_s"] = time.perf_counter() - start
    results["n_batch"] = n
    results["missing"] = missing

    start = time.perf_counter()
    kernel = _kernel()
    engine.posterior_batch(codes[: min(n, 4096)], use_numba=kernel is not None)
    results["kernel_load_s"] = time.perf_counter() - start
    timings = []
    posts = np.empty((0, len(engine.query_states)))
    for _ in range(3):
        start = time.perf_counter()
        posts = engine.posterior_batch(codes, on_impossible="nan")
        timings.append(time.perf_counter() - start)
    results["batch_cases_per_s"] = n / min(timings) if n else 0.0
    results["batch_impossible"] = int(np.isnan(posts[:, 0]).sum())
    numpy_n = min(n, 50_000)
    start = time.perf_counter()
    engine.posterior_batch(codes[:numpy_n], on_impossible="nan", use_numba=False)
    results["numpy_cases_per_s"] = numpy_n / (time.perf_counter() - start) if numpy_n else 0.0

    infer = VariableElimination(model)
    sample = rng.choice(n, size=min(pgmpy_n, n), replace=False) if n else np.zeros(0, int)
    names = {node: engine.states[node] for node in OBSERVABLE}
    evidence = [
        {OBSERVABLE[j]: names[OBSERVABLE[j]][c] for j, c in enumerate(codes[i]) if c >= 0}
        for i in sample
    ]
    reference = np.empty((len(sample), len(engine.query_states)))
    start = time.perf_counter()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for k, ev in enumerate(evidence):
            factor = infer.query(["diagnosis"], evidence=ev or None, show_progress=False)
            reference[k] = [factor.get_value(diagnosis=s) for s in engine.query_states]
    elapsed = time.perf_counter() - start
    results["n_pgmpy"] = len(sample)
    results["pgmpy_cases_per_s"] = len(sample) / elapsed if len(sample) else 0.0
    results["max_abs_diff_vs_pgmpy"] = (
        float(np.nanmax(np.abs(reference - posts[sample]))) if len(sample) else 0.0
    )
    results["speedup_vs_pgmpy"] = (
        results["batch_cases_per_s"] / results["pgmpy_cases_per_s"]
        if results["pgmpy_cases_per_s"]
        else 0.0
    )

    case = _example_case()
    (
        results["single_case_ms"],
        results["single_case_repeats"],
        results["single_case_cpu_ms"],
    ) = _median_ms(lambda: assess(case, setting=setting, priors=priors, sensitivity=False), repeats)
    results["single_case_parts"] = [
        "posterior",
        "all rule sets",
        "contributions",
        "next-best tests",
        "work-up",
        "credible interval (2,000 draws)",
    ]
    (
        results["single_case_with_sensitivity_ms"],
        _,
        results["single_case_with_sensitivity_cpu_ms"],
    ) = _median_ms(lambda: assess(case, setting=setting, priors=priors), repeats)

    results["assessment_ms"], results["assessment_cpu_ms"] = bench_cohort.assessment_times(
        priors, setting, repeats
    )
    results["new_case_assessment"] = new_case_times(priors, setting)
    patterns = bench_cohort.evidence_patterns(priors, setting, max(4, pgmpy_n // 2), seed)
    results.update(
        bench_cohort.posterior_comparison(priors, setting, patterns, rounds=max(3, repeats))
    )
    results["cohort"] = bench_cohort.run_cohort_benchmark(
        priors, setting, cohort_n, repeats=2 if repeats > 1 else 1, seed=seed
    )
    return results


def format_text(r: dict[str, Any]) -> str:
    lines = [
        f"setting {r['setting']}, {r['cpu_count']} CPUs; engine: core {r['engine']['core']} "
        f"({r['engine']['core_states']} states), {r['engine']['clusters']} clusters in "
        f"{r['engine']['groups']} tables, {r['engine']['table_mb']} MB; compiled in "
        f"{r['compile_s']:.2f} s",
        f"single-case assessment   {r['single_case_ms']:10.1f} ms wall, "
        f"{r['single_case_cpu_ms']:.1f} ms CPU (median of "
        f"{r['single_case_repeats']}; {', '.join(r['single_case_parts'])})",
        f"  with one-way sensitivity {r['single_case_with_sensitivity_ms']:8.1f} ms wall, "
        f"{r['single_case_with_sensitivity_cpu_ms']:.1f} ms CPU",
        f"batch (numba)            {r['batch_cases_per_s']:12,.0f} cases/s over "
        f"{r['n_batch']:,} cases (missing {r['missing']:.0%}; kernel load "
        f"{r['kernel_load_s']:.2f} s)",
        f"batch (numpy)            {r['numpy_cases_per_s']:12,.0f} cases/s",
        f"pgmpy VariableElimination{r['pgmpy_cases_per_s']:12,.1f} cases/s over "
        f"{r['n_pgmpy']} cases",
        f"speedup vs pgmpy         {r['speedup_vs_pgmpy']:12,.0f} x",
        f"max |difference| vs pgmpy {r['max_abs_diff_vs_pgmpy']:.2e}",
        "",
        "full assessment (all but sensitivity), median ms per example, wall / CPU: "
        + ", ".join(
            f"{k} {v:.1f} / {r['assessment_cpu_ms'][k]:.1f}" for k, v in r["assessment_ms"].items()
        ),
        "new patients (development set, each assessed once): "
        + "median {median_cpu_ms:.1f} / 90th centile {p90_cpu_ms:.1f} / largest {max_cpu_ms:.1f}"
        " ms CPU, median {median_wall_ms:.1f} ms wall over {cases} patients".format(
            **r["new_case_assessment"]
        ),
        "  split (second pass): without the work-up median {median_cpu_ms:.1f} / 90th centile "
        "{p90_cpu_ms:.1f} ms CPU".format(**r["new_case_assessment"]["without_workup"])
        + "; the work-up alone median {median_cpu_ms:.1f} / 90th centile {p90_cpu_ms:.1f} ms"
        " CPU".format(**r["new_case_assessment"]["workup"]),
        "  without the work-up, every field built (criterion tables, explanations, next-test "
        "outcomes): median {median_cpu_ms:.1f} / 90th centile {p90_cpu_ms:.1f} ms CPU".format(
            **r["new_case_assessment"]["without_workup_every_field"]
        ),
        f"one posterior, CPU us per query (median of {r['posterior_queries']} queries x "
        f"{r['posterior_rounds']} interleaved rounds): "
        + ", ".join(f"{k} {v:,.1f}" for k, v in r["posterior_us"].items()),
        "  compiled is faster by (median per-query ratio): "
        + ", ".join(f"{k} {v:,.1f} x" for k, v in r["posterior_speedup"].items())
        + "; max |difference| "
        + ", ".join(f"{k} {v:.1e}" for k, v in r["posterior_max_abs_diff"].items()),
    ]
    c = r["cohort"]
    for kind, label, floor in (
        ("parquet", "Parquet -> Parquet", "pq.read_table"),
        ("csv", "CSV -> CSV", "pyarrow.csv.read_csv"),
    ):
        k = c[kind]
        lines.append(
            f"cohort {label:18} {k['rows_per_s']:12,.0f} rows/s wall ({k['rows_per_cpu_s']:,.0f} "
            f"per CPU s) over {c['cohort_rows']:,} rows ({k['mb']} MB); "
            f"{k['ratio_to_read_wall']:.2f} x the wall time of {floor} "
            f"({k['ratio_to_read_cpu']:.2f} x its CPU)"
        )
    lines.append(
        "cohort peak memory (fresh process, Parquet): "
        + ", ".join(
            f"{m['rows']:,} rows: peak {m['peak_mb']:.0f} MB (+{m['added_mb']:.0f} MB over "
            "the resident engine)"
            for m in c["peak_memory"]
        )
    )
    return "\n".join(lines)


def main(quick: bool = False, as_json: bool = False, **overrides: Any) -> int:
    """Run and print (text or JSON); ``overrides`` replace n, pgmpy_n, repeats, setting,
    cohort_n."""
    options: dict[str, Any] = dict(QUICK if quick else FULL)
    options.update({k: v for k, v in overrides.items() if v is not None})
    results = run_benchmark(**options)
    results["quick"] = quick
    print(
        json.dumps(strict_json(results), indent=2, allow_nan=False)
        if as_json
        else format_text(results)
    )
    return 0
