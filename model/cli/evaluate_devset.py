"""``poems evaluate --devset``: the development set of published patients.

Not a subcommand of its own: :mod:`model.cli.evaluate` adds these options and hands over
when ``--devset`` is given. The figures are computed in :mod:`model.evaluation.devset`.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from model.evaluation.devset import (
    DEFAULT_BINS,
    DEFAULT_BOOTSTRAP,
    DEFAULT_SEED,
    evaluate_devset,
    load_devset,
    write_citations,
)
from model.evaluation.plots import save_reliability_png
from model.exceptions import InputError
from model.inputs import strict_json
from model.parameters import load_priors


def add_devset_arguments(parser: Any) -> None:
    group = parser.add_argument_group(
        "development set",
        "Score the published patients of model/evaluation/devset (or DIR): AUC of P(POEMS) "
        "with a bootstrap 95%% interval, Brier, reliability table, per-group results and each "
        "rule set's sensitivity/specificity. Findings the running vocabulary lacks are dropped "
        "and counted. --priors, --setting, --bins, --json, --rows and --plot apply.",
    )
    group.add_argument(
        "--devset",
        nargs="?",
        const="",
        default=None,
        metavar="DIR",
        help="evaluate the development set (default: the built-in one)",
    )
    group.add_argument(
        "--bootstrap",
        type=int,
        default=DEFAULT_BOOTSTRAP,
        metavar="N",
        help=(
            "bootstrap draws for the AUC interval: 0 for none, else 10-100000 "
            f"(default {DEFAULT_BOOTSTRAP})"
        ),
    )
    group.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="random seed of the bootstrap"
    )
    group.add_argument(
        "--citations", default=None, metavar="OUT.csv", help="also write the citation list"
    )


def run_devset(args: argparse.Namespace) -> int:
    if args.cohort is not None:
        raise InputError(
            "evaluate",
            args.cohort,
            "either a cohort or --devset, not both",
            "Run the two evaluations separately.",
        )
    if args.label is not None:
        raise InputError(
            "--label",
            args.label,
            "left out with --devset (each patient file carries its label)",
            "Drop --label, or evaluate a cohort CSV instead.",
        )
    if args.bootstrap != 0 and not 10 <= args.bootstrap <= 100_000:
        raise InputError(
            "--bootstrap",
            args.bootstrap,
            "0 (no interval) or between 10 and 100000",
            "2000 is usual.",
        )
    devset = load_devset(args.devset or None)
    result = evaluate_devset(
        devset,
        load_priors(args.priors),
        setting=args.setting,
        n_bins=args.bins or DEFAULT_BINS,
        n_bootstrap=args.bootstrap,
        seed=args.seed,
    )
    if args.citations:
        write_citations(devset, args.citations)
    if args.plot:
        save_reliability_png(
            args.plot,
            result.summary.calibration,
            result.p_poems,
            np.array([p.is_poems for p in result.scored]),
            title="Development set: P(POEMS) vs observed",
        )
    if args.rows:
        import pandas as pd

        pd.DataFrame(result.rows()).to_csv(args.rows, index=False)
    if args.json:
        print(json.dumps(strict_json(result.to_dict()), indent=2, allow_nan=False))
    else:
        print(result.to_markdown(), end="")
        if args.citations:
            print(f"Citation list written to {args.citations}")
        if args.plot:
            print(f"Reliability diagram written to {args.plot}")
    return 0
