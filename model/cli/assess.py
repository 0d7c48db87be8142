"""``poems assess CASE.json``: P(POEMS) and the differential beside the criteria verdicts."""

from __future__ import annotations

import argparse
from typing import Any

from model.assessment import DISCLAIMER, Assessment, assess
from model.case import Case
from model.cli.common import notices, print_json, safe
from model.constants import DEFAULT_SETTING
from model.formatting import (
    diagnosis_label,
    interval_text,
    node_title,
    percent,
    posterior_text,
    probability,
    rule_set_name,
    state_words,
)
from model.inference.exact import default_priors
from model.parameters import Priors, load_priors


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "assess",
        help="posterior probability of POEMS and the differential, beside the criteria",
        description=(
            "Assess a case file: the Bayesian network's exact posterior over the diagnoses "
            "(the compiled exact engine, checked against pgmpy) next to every rule set's "
            f"verdict, and whether they agree. {DISCLAIMER}"
        ),
    )
    parser.add_argument(
        "case", metavar="CASE.json", help="case file (docs/formats.md; - reads standard input)"
    )
    add_priors_options(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def add_priors_options(parser: argparse.ArgumentParser, *, with_case: bool = True) -> None:
    """``--setting`` and ``--priors``, shared by the network subcommands."""
    default = f"the case's, else {DEFAULT_SETTING}" if with_case else DEFAULT_SETTING
    parser.add_argument(
        "--setting",
        metavar="S",
        default=None,
        help=f"clinical setting id (default: {default})",
    )
    parser.add_argument(
        "--priors", metavar="DIR", default=None, help="priors folder (default: priors/)"
    )


def priors_from(args: argparse.Namespace) -> Priors | None:
    return None if args.priors is None else load_priors(args.priors)


def headline(a: Assessment) -> str:
    """P(POEMS) as the app's metric writes it: no more digits than its interval supports."""
    ci = a.credible_interval
    return probability(a.posterior_poems, None if ci is None else (ci.low, ci.high))


def interval_line(ci: Any) -> str:
    """``90 % credible interval 12 % to 40 % (what it means; n draws).``"""
    return (
        f"{round(100 * ci.level)} % credible interval {interval_text(ci.low, ci.high)} "
        f"({ci.label}; {ci.n_draws} parameter draws)."
    )


def format_text(a: Assessment) -> str:
    """P(POEMS) and the differential in the left column, criteria verdicts on the right.

    Every probability is written by :mod:`model.formatting` (the app's and the report's
    precision policy); ``--json`` keeps the full numbers.
    """
    shown = headline(a)
    ci = a.credible_interval
    bounds = None if ci is None else (ci.low, ci.high)
    names = [diagnosis_label(d) for d, _ in a.differential]
    width = max(len("diagnosis"), *(len(n) for n in names)) + 2
    left = [
        f"P(POEMS) {shown if shown[0] in '<>' else '= ' + shown}   "
        f"(base rate {percent(a.prior_poems)})",
        "",
        f"{'diagnosis':<{width}}{'prior':>10}{'posterior':>12}",
    ]
    left += [
        f"{name:<{width}}{percent(a.prior[d]):>10}{posterior_text(d, p, bounds):>12}"
        for name, (d, p) in zip(names, a.differential, strict=True)
    ]
    right = ["Criteria", ""]
    right += [f"{rule_set_name(rid):<18}{state_words(r.verdict)}" for rid, r in a.criteria.items()]
    column = max(len(line) for line in left) + 4
    rows = [
        f"{(left[i] if i < len(left) else ''):<{column}}{right[i] if i < len(right) else ''}"
        for i in range(max(len(left), len(right)))
    ]
    header = [
        f"Case {safe(a.case.id or '')}".rstrip() + f" - setting: {safe(a.setting_label)}",
        "",
    ]
    footer = ["", a.agreement]
    if a.credible_interval is not None:
        footer += ["", interval_line(a.credible_interval)]
    if a.workup is not None:
        footer += ["", "Next tests: " + a.workup.message]
        footer += [
            f"  {n}. [{item.tier}] {item.label}: {item.why}"
            for n, item in enumerate(a.workup.items, start=1)
        ]
    if a.evidence:
        used = (f"{node_title(k)}: {state_words(v)}" for k, v in a.evidence.items())
        footer += ["", "Evidence used: " + "; ".join(used)]
    footer += [f"Note: {n}" for n in a.notes]
    footer += ["", DISCLAIMER]
    return "\n".join(line.rstrip() for line in header + rows + footer)


def run(args: argparse.Namespace) -> int:
    case = Case.load(args.case)
    priors = priors_from(args)
    result = assess(case, setting=args.setting, priors=priors)
    notices(args, case.implied_units())  # after success: an error stays the only line
    if args.json:
        out = result.to_dict() | {"input_notices": list(case.implied_units())}
        print_json(out, priors or default_priors())
    else:
        print(format_text(result))
    return 0
