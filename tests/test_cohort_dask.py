"""Cohort scoring on a local Dask cluster gives exactly what ``poems batch`` gives."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from model.cohort.dask import output_schema_ddl, score_dask, score_partition
from model.cohort.score import output_columns, score_file
from model.inference.simulate import simulate_chunks
from model.parameters import load_priors

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

PRIORS = load_priors()


def test_dask_over_partitioned_parquet_equals_poems_batch(tmp_path: Path) -> None:
    frame = next(simulate_chunks(PRIORS, "neuropathy_clinic", 90, seed=31, missing=0.4))
    frame = frame.astype(str)
    frame.loc[40, "ascites"] = "maybe"  # a bad row in the second partition
    folder = tmp_path / "cohort"
    folder.mkdir()
    for k, start in enumerate(range(0, 90, 30)):
        frame.iloc[start : start + 30].to_parquet(folder / f"part-{k}.parquet", index=False)
    whole = tmp_path / "whole.csv"
    frame.to_csv(whole, index=False)
    expected_path = tmp_path / "expected.parquet"
    score_file(whole, expected_path, priors=PRIORS, progress=False, notify=lambda _: None)
    expected = pd.read_parquet(expected_path)

    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        cohort = dd.read_parquet(str(folder))
        assert cohort.npartitions == 3
        result = score_dask(cohort, priors=PRIORS).compute().reset_index(drop=True)

    assert list(result.columns) == output_columns(PRIORS)
    for column in result.columns:  # identical values, NaN where a row has an error
        assert result[column].fillna(-1).tolist() == expected[column].fillna(-1).tolist()
    assert result.loc[40, "error"].startswith("row 41: findings.ascites")


def test_partition_function_and_spark_schema() -> None:
    frame = next(simulate_chunks(PRIORS, "neuropathy_clinic", 5, seed=32)).astype(str)
    out = score_partition(frame, priors=PRIORS)
    assert len(out) == 5 and (out["error"] == "").all()
    ddl = output_schema_ddl()
    assert ddl.startswith("id string, posterior_poems double") and "seed_verdict string" in ddl
