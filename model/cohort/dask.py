"""Cohort scoring beyond one machine: the batch scorer as a Dask partition function.

A health system's cohort usually lives in partitioned Parquet on a cluster. Each partition
is a pandas frame of cells, and :func:`score_partition` scores it exactly as ``poems batch``
scores a chunk (same parse, same engine, same messages), so the results are identical to
``poems batch`` on the same rows (``tests/test_cohort_dask.py`` checks it on a local
cluster)::

    import dask.dataframe as dd
    from model.cohort.dask import score_dask

    cohort = dd.read_parquet("s3://bucket/cohort/")        # or a local folder
    scores = score_dask(cohort, priors="priors/")          # lazy; one task per partition
    scores.to_parquet("s3://bucket/scores/")

``priors`` may be a folder (loaded once per worker process, which is what a multi-process or
multi-machine cluster needs) or a loaded :class:`~model.parameters.Priors` (threads only).
Row numbers in messages count from the first row of the whole frame, as in ``poems batch``;
that needs the partition lengths, which :func:`score_dask` computes first (one cheap pass).

The same function under Spark (``pyspark.sql.DataFrame.mapInPandas``)::

    from model.cohort.dask import output_schema_ddl, score_partition

    def score(frames):
        for frame in frames:
            yield score_partition(frame, priors="/path/to/priors")

    spark.read.parquet(path).mapInPandas(score, schema=output_schema_ddl()).write.parquet(out)

(Spark gives no global row offset per batch, so its messages number rows within a batch;
the ``id`` column identifies the row.) Dask is an optional dependency:
``pip install 'poems-dx[dask]'``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from model.cohort.score import output_columns, score_frame
from model.parameters import Priors, load_priors


@functools.lru_cache(maxsize=4)
def _priors_from(folder: str) -> Priors:
    return load_priors(folder)


def _priors(priors: Priors | str | Path | None) -> Priors | None:
    if priors is None or isinstance(priors, Priors):
        return priors
    return _priors_from(str(priors))


def score_partition(
    frame: Any,
    priors: Priors | str | Path | None = None,
    setting: str | None = None,
    rule_set: str = "seed",
    first_row: int = 1,
) -> Any:
    """Score one partition (a pandas frame of cells); one output row per input row."""
    out, _ = score_frame(frame, _priors(priors), setting, rule_set, first_row)
    out.index = frame.index
    return out


def meta(rule_set: str = "seed") -> Any:
    """An empty frame with the output's columns and types (Dask's ``meta``)."""
    import pandas as pd

    out, _ = score_frame(pd.DataFrame({"id": pd.Series([], dtype=object)}), None, None, rule_set)
    return out


def output_schema_ddl(rule_set: str = "seed") -> str:
    """The output schema as Spark DDL (``id string, posterior_poems double, ...``)."""
    kinds = {c: "double" if c.startswith("posterior_") else "string" for c in output_columns()}
    columns = output_columns(None, rule_set)
    return ", ".join(f"{c} {kinds.get(c, 'string')}" for c in columns)


def score_dask(
    frame: Any,
    *,
    priors: Priors | str | Path | None = None,
    setting: str | None = None,
    rule_set: str = "seed",
) -> Any:
    """Score a ``dask.dataframe.DataFrame`` of cohort rows; returns a lazy Dask frame."""

    lengths = frame.map_partitions(len).compute()
    starts = [1, *(1 + np.cumsum(np.asarray(lengths, dtype=np.int64))[:-1]).tolist()]

    def score(part: Any, partition_info: dict[str, Any] | None = None) -> Any:
        number = partition_info["number"] if partition_info else 0
        return score_partition(part, priors, setting, rule_set, first_row=int(starts[number]))

    return frame.map_partitions(score, meta=meta(rule_set))


__all__ = ["meta", "output_schema_ddl", "score_dask", "score_partition"]
