"""``poems bench [--quick] [--json]``: speed and agreement of the engines, in one run."""

from __future__ import annotations

import argparse
from typing import Any

from model.bench import main
from model.exceptions import InputError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="benchmark: single-case time, batch cases/s, pgmpy cases/s, agreement",
        description=(
            "Measure on this machine: one full assessment (median ms), compiled batch "
            "throughput over synthetic cases, pgmpy VariableElimination on a sample of the "
            "same cases, the speed-up and the largest difference between them; one "
            "posterior beside pgmpy and pyAgrum; cohort files end to end beside a plain "
            "pyarrow read, and peak memory against rows."
        ),
    )
    parser.add_argument("--quick", action="store_true", help="smaller run (under a minute)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--n", type=int, default=None, help="synthetic cases for the batch")
    parser.add_argument("--pgmpy-n", type=int, default=None, help="cases run through pgmpy")
    parser.add_argument("--repeats", type=int, default=None, help="single-case repetitions")
    parser.add_argument(
        "--cohort-n", type=int, default=None, help="rows of the end-to-end cohort files"
    )
    parser.add_argument("--setting", default=None, metavar="S", help="clinical setting id")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    for name in ("n", "pgmpy_n", "repeats", "cohort_n"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise InputError(f"--{name.replace('_', '-')}", value, "at least 1")
    return main(
        quick=args.quick,
        as_json=args.json,
        n=args.n,
        pgmpy_n=args.pgmpy_n,
        repeats=args.repeats,
        setting=args.setting,
        cohort_n=args.cohort_n,
    )
