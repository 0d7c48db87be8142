"""The benchmark runs and reports its keys (its numbers are never asserted)."""

from __future__ import annotations

import json

import pytest

from model.cli import main

KEYS = (
    "single_case_ms",
    "single_case_cpu_ms",
    "batch_cases_per_s",
    "pgmpy_cases_per_s",
    "speedup_vs_pgmpy",
    "max_abs_diff_vs_pgmpy",
)


def test_bench_quick_json_prints_the_keys(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["bench", "--quick", "--json", "--n", "3000", "--pgmpy-n", "4", "--repeats", "1"]
    args += ["--cohort-n", "500"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    for key in KEYS:
        assert isinstance(report[key], float), key
    assert report["n_batch"] == 3000 and report["n_pgmpy"] == 4
    assert report["max_abs_diff_vs_pgmpy"] <= 1e-9
    assert max(report["posterior_max_abs_diff"].values()) <= 1e-9  # pgmpy and pyAgrum
    assert set(report["posterior_us"]) >= {"compiled", "pgmpy", "pyagrum"}
    assert set(report["assessment_cpu_ms"]) == set(report["assessment_ms"])
    new = report["new_case_assessment"]
    assert new["cases"] >= 50  # every development-set patient but the warm-up one
    assert 0 < new["median_cpu_ms"] <= new["p90_cpu_ms"] <= new["max_cpu_ms"]
    # the split of the second pass
    for part in ("without_workup", "deferred_fields", "without_workup_every_field", "workup"):
        assert 0 < new[part]["median_cpu_ms"] <= new[part]["p90_cpu_ms"] <= new[part]["max_cpu_ms"]
    built, lazy = new["without_workup_every_field"], new["without_workup"]
    assert built["median_cpu_ms"] >= lazy["median_cpu_ms"]  # a sum of non-negative parts
    cohort = report["cohort"]
    assert cohort["cohort_rows"] == 500
    assert {"parquet", "csv", "peak_memory"} <= set(cohort)
    assert cohort["fresh_process"] is True  # measured apart from the bench's own process
    assert [m["rows"] for m in cohort["peak_memory"]] == [50, 500]


def test_bench_rejects_a_zero_count(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick", "--n", "0"]) == 2
    assert "--n must be at least 1" in capsys.readouterr().err
