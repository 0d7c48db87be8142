"""Cohorts: scoring a table of cases (one row per patient) in bounded memory.

- :mod:`model.cohort.format`: the cohort file format in one place: which columns are read,
  how CSV (encoding, byte-order mark, delimiter, malformed lines) and Parquet (column types)
  are read into coded columns, and how the output is written atomically.
- :mod:`model.cohort.score`: the scorer: vectorised parse, evidence and criteria verdicts,
  the compiled engine, the ``Case`` path for every row that is not plainly valid.
- :mod:`model.cohort.dask`: the same scorer as a partition function for Dask (and Spark).
"""
