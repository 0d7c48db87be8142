"""``poems evaluate COHORT.csv --label COLUMN``: network and criteria metrics on a cohort."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from model.cli.common import print_json, readable, status
from model.cli.evaluate_devset import add_devset_arguments, run_devset
from model.evaluation.cohort import read_table
from model.evaluation.evaluate import DEFAULT_SETTING, POSITIVE, evaluate_table
from model.evaluation.plots import save_reliability_png
from model.exceptions import InputError
from model.parameters import load_priors


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score a labelled cohort: network AUC/Brier/log loss/calibration, rule sets' "
        "sensitivity and specificity",
        description=(
            "Score every row of a labelled cohort CSV (docs/formats.md) with the network and "
            "every criteria rule set. LABEL is a column holding a diagnosis state; the positive "
            "class is 'poems' unless --positive says otherwise. Indeterminate verdicts are "
            "counted as negative for sensitivity/specificity, and also reported as a rate and "
            "left out for the '(determinate)' pair. Invalid rows are listed, not fatal."
        ),
    )
    parser.add_argument(
        "cohort",
        nargs="?",
        metavar="COHORT.csv",
        help="cohort CSV, one row per patient (- for stdin)",
    )
    parser.add_argument("--label", metavar="COLUMN", help="label column (needed with a cohort)")
    parser.add_argument("--positive", default=POSITIVE, metavar="STATE", help="positive class")
    parser.add_argument(
        "--setting",
        default=None,
        metavar="S",
        help=f"force one clinical setting for every row (default: each row's own, else "
        f"{DEFAULT_SETTING})",
    )
    parser.add_argument("--priors", default=None, metavar="DIR", help="priors folder")
    parser.add_argument(
        "--bins", type=int, default=None, help="calibration bins (default 10; 5 with --devset)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--rows",
        default=None,
        metavar="OUT.csv",
        help="also write one line per scored row: row number, label, P(positive), verdicts",
    )
    parser.add_argument(
        "--plot", default=None, metavar="OUT.png", help="write the reliability diagram"
    )

    add_devset_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.devset is not None:
        return run_devset(args)
    if args.cohort is None or args.label is None:
        raise InputError(
            "evaluate",
            "no cohort" if args.cohort is None else "no --label",
            "a cohort CSV with --label COLUMN, or --devset",
            "For example: poems evaluate cohort.csv --label true_diagnosis.",
        )

    priors = load_priors(args.priors)
    with readable(args.cohort) as source:
        table = read_table(source)
    result = evaluate_table(
        table,
        args.label,
        priors,
        setting=args.setting,
        positive=args.positive,
        n_bins=args.bins or 10,
    )
    if args.plot:
        save_reliability_png(
            args.plot,
            result.network.calibration,
            result.scores,
            result.y_true,
            title=f"{Path(args.cohort).name}: P({args.positive}) vs observed",
        )
    if args.rows:
        import pandas as pd

        pd.DataFrame(result.to_dict(with_rows=True)["rows"]).to_csv(args.rows, index=False)
    if args.json:
        out = result.to_dict()
        if args.plot:
            out["plot"] = args.plot
        print_json(out, priors)
    else:
        print(result.to_markdown(), end="")
        if args.plot:
            status(args, f"Reliability diagram written to {args.plot}")
    return 0
