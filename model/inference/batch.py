"""Cohort scoring, kept importable under its first name.

The pieces now live where a newcomer looks for them:

- the engine for a case: :mod:`model.inference.engine` (``engine_for``);
- cases as columns (vectorised ``Case``): :mod:`model.case_columns`;
- evidence codes (vectorised ``evidence_for``): :mod:`model.network.evidence_codes`;
- criteria verdicts over rows: :mod:`model.criteria.vectorised`;
- the cohort file format (CSV/Parquet in, atomic output): :mod:`model.cohort.format`;
- the scorer: :mod:`model.cohort.score`.
"""

from __future__ import annotations

from typing import Any

from model.case_columns import CaseColumns, parse_columns
from model.cohort.format import chunk_from_frame, unknown_columns
from model.cohort.score import (
    DEFAULT_CHUNK_ROWS,
    RULE_SETS,
    BatchSummary,
    output_columns,
    score_chunk,
    score_file,
    score_frame,
)
from model.criteria.vectorised import rule_verdicts
from model.inference.engine import DEFAULT_SETTING, default_priors, engine_for
from model.network.evidence_codes import OBSERVABLE

ParsedChunk = CaseColumns


def parse_chunk(frame: Any) -> CaseColumns:
    """Parse a pandas frame of cells (see :func:`model.case_columns.parse_columns`)."""
    chunk = chunk_from_frame(frame)
    return parse_columns(chunk.columns, chunk.n)


__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "DEFAULT_SETTING",
    "OBSERVABLE",
    "RULE_SETS",
    "BatchSummary",
    "ParsedChunk",
    "default_priors",
    "engine_for",
    "output_columns",
    "parse_chunk",
    "rule_verdicts",
    "score_chunk",
    "score_file",
    "score_frame",
    "unknown_columns",
]
