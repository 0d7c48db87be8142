"""``poems simulate --n N [--setting S] -o FILE``: a synthetic cohort drawn from the network.

Forward (ancestral) sampling of every node, then the observation process of
:mod:`model.inference.simulate` (VEGF value inside its band, optional missingness). The
file is in the cohort format of ``docs/formats.md`` plus a ``true_diagnosis`` column.
"""

from __future__ import annotations

import argparse
from typing import Any

from model.cli.common import quiet, shown_path, status, writable
from model.constants import DEFAULT_SETTING
from model.inference.simulate import write_cohort
from model.parameters import load_priors


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a fraction between 0 and 1. Got {text!r} instead."
        ) from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(
            f"must be a fraction between 0 and 1. Got {text!r} instead."
        )
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of patients. Got {text!r} instead."
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0. Got {text!r} instead.")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="write a synthetic cohort sampled from the network (with true_diagnosis)",
        description=(
            "Sample patients from the Bayesian network of one clinical setting and write "
            "them as a cohort file (CSV or Parquet by extension) with a true_diagnosis column."
        ),
    )
    parser.add_argument("--n", type=_count, required=True, help="number of patients")
    parser.add_argument(
        "--setting",
        default=DEFAULT_SETTING,
        metavar="S",
        help=f"clinical setting id (default: {DEFAULT_SETTING})",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help=".csv or .parquet (- for CSV on stdout)",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (reproducible)")
    parser.add_argument(
        "--missing",
        type=_fraction,
        default=0.0,
        metavar="FRACTION",
        help="probability that each finding is not assessed (default 0)",
    )
    parser.add_argument(
        "--priors", metavar="DIR", default=None, help="priors folder (default: priors/)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    priors = load_priors(args.priors)
    with writable(args.output) as target:
        rows = write_cohort(
            priors,
            args.setting,
            args.n,
            target,
            seed=args.seed,
            missing=args.missing,
            progress=not (args.no_progress or quiet(args)),
        )
    status(args, f"poems simulate: {rows:,} patients -> {shown_path(args.output)}")
    return 0
