"""``poems compare-priors DIR_A DIR_B``: which parameters differ, and what that changes."""

from __future__ import annotations

import argparse
from typing import Any

from model.case import Case
from model.cli.common import about, print_json, readable
from model.evaluation.cohort import read_table
from model.evaluation.compare import compare_priors
from model.evaluation.evaluate import evaluate_table
from model.exceptions import InputError
from model.parameters import load_priors


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare-priors",
        help="compare two priors folders: differing parameters and their effect",
        description=(
            "List every parameter whose value (or provenance) differs between two priors "
            "folders, with both sources, and show the effect on a case's posterior over all "
            "diagnoses (--case) and/or on a labelled cohort's network metrics (--cohort "
            "with --label)."
        ),
    )
    parser.add_argument("dir_a", metavar="DIR_A", help="first priors folder")
    parser.add_argument("dir_b", metavar="DIR_B", help="second priors folder")
    parser.add_argument("--case", default=None, metavar="CASE.json", help="a case file")
    parser.add_argument("--setting", default=None, metavar="S", help="clinical setting")
    parser.add_argument("--cohort", default=None, metavar="COHORT.csv", help="a labelled cohort")
    parser.add_argument("--label", default=None, metavar="COLUMN", help="label column of --cohort")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.cohort and not args.label:
        raise InputError(
            "--label",
            None,
            "a column name when --cohort is given",
            "Add --label true_diagnosis (or your label column).",
        )
    a = load_priors(args.dir_a)
    b = load_priors(args.dir_b)
    case = Case.load(args.case) if args.case else None
    metrics = None
    if args.cohort:
        with readable(args.cohort) as source:
            table = read_table(source)
        metrics = (
            evaluate_table(table, args.label, a, setting=args.setting).metrics_row(),
            evaluate_table(table, args.label, b, setting=args.setting).metrics_row(),
        )
    result = compare_priors(a, b, case=case, setting=args.setting, cohort_metrics=metrics)
    if args.json:
        out = result.to_dict()
        out["priors_a"], out["priors_b"] = about(a)["priors"], about(b)["priors"]
        print_json(out)
    else:
        print(result.to_markdown(), end="")
    return 0
