"""``poems batch COHORT.csv -o OUT.csv``: score a cohort with the compiled engine.

Streams the file in chunks (bounded memory), keeps the row order, never drops a row (a
malformed line becomes that row's error), writes the output atomically, and writes ``id``,
``posterior_poems``, ``posterior_<diagnosis>``, the criteria verdict and ``error`` per row.
CSV or Parquet, in and out, by file extension.
"""

from __future__ import annotations

import argparse
from typing import Any

from model.cli.common import add_reading_arguments, quiet, readable, shown_path, status, writable
from model.cohort.format import delimiter_from_option
from model.cohort.score import DEFAULT_CHUNK_ROWS, score_file
from model.criteria.rulesets import RULE_SETS
from model.exceptions import InputError
from model.parameters import load_priors


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "batch",
        help="score a cohort CSV/Parquet: posterior per diagnosis and criteria verdict per row",
        description=(
            "Score every row of a cohort file (docs/formats.md: one column per finding id, "
            "empty = not assessed) with the compiled exact engine. Bad rows get an error "
            "message; all other rows are scored. '-' reads or writes CSV on standard "
            "input/output. Decision support, not a diagnosis."
        ),
    )
    parser.add_argument("cohort", metavar="COHORT", help="cohort .csv or .parquet")
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="output .csv or .parquet"
    )
    parser.add_argument(
        "--setting",
        metavar="S",
        default=None,
        help="force one clinical setting (default: each row's, else neuropathy_clinic)",
    )
    parser.add_argument(
        "--priors", metavar="DIR", default=None, help="priors folder (default: priors/)"
    )
    parser.add_argument(
        "--rule-set",
        default="seed",
        choices=sorted(RULE_SETS),
        help="criteria rule set for the verdict column (default: seed)",
    )
    parser.add_argument(
        "--chunk-rows",
        type=int,
        default=None,
        metavar="N",
        help=f"rows per chunk; bounds memory (default {DEFAULT_CHUNK_ROWS:,})",
    )
    add_reading_arguments(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    chunk_rows = DEFAULT_CHUNK_ROWS if args.chunk_rows is None else args.chunk_rows
    if chunk_rows < 1:
        raise InputError("--chunk-rows", chunk_rows, "at least 1")
    delimiter = delimiter_from_option(args.delimiter)
    priors = None if args.priors is None else load_priors(args.priors)
    with readable(args.cohort) as source, writable(args.output) as target:
        summary = score_file(
            source,
            target,
            priors=priors,
            setting=args.setting,
            rule_set=args.rule_set,
            chunk_rows=chunk_rows,
            progress=not (args.no_progress or quiet(args)),
            delimiter=delimiter,
            encoding=args.encoding,
        )
    status(
        args,
        f"poems batch: {summary.rows:,} rows in ({summary.source}): {summary.scored:,} scored, "
        f"{summary.errors:,} with an error -> {shown_path(args.output)} in "
        f"{summary.seconds:.2f} s ({summary.rows_per_second:,.0f} rows/s).",
    )
    return 0
