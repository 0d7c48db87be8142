"""``poems priors report``: published frequencies beside the network-implied ones."""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from model.cli.common import print_json
from model.inference.exact import default_priors
from model.inference.implied import FitRow, literature_fit
from model.parameters import Priors, load_priors


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "priors", help="check the priors", description="Inspect and check the priors folder."
    )
    actions = parser.add_subparsers(dest="priors_command", required=True, metavar="ACTION")
    report = actions.add_parser(
        "report",
        help="published frequency vs network-implied P(finding | diagnosis)",
        description=(
            "For every published frequency in findings.toml, print the published value and "
            "range beside the marginal the network implies (exact, pgmpy variable "
            "elimination with the diagnosis observed); flag those outside the range."
        ),
    )
    report.add_argument("--priors", metavar="DIR", default=None, help="priors folder")
    report.add_argument("--json", action="store_true", help="print JSON")
    report.set_defaults(handler=run_report)


def format_report(rows: list[FitRow], priors: Priors) -> str:
    lines = [
        f"{'finding':<30}{'diagnosis':<19}{'published':>10}{'range':>15}{'network':>9}  source",
    ]
    for row in rows:
        pub = row.published
        name = pub.node if pub.state == "present" else f"{pub.node}={pub.state}"
        flag = "" if row.inside else "  <-- OUTSIDE"
        lines.append(
            f"{name:<30}{pub.diagnosis:<19}{pub.p:>10.3f}"
            f"{f'[{pub.low:.3f}, {pub.high:.3f}]':>15}{row.implied:>9.3f}  {pub.source}{flag}"
        )
    outside = sum(not r.inside for r in rows)
    kinds = Counter(p.kind for p in priors.parameters())
    lines += [
        "",
        f"{len(rows)} published frequencies, {outside} outside their range "
        f"(priors: {priors.directory or 'in memory'}).",
        "Parameters by kind: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) + ".",
    ]
    return "\n".join(lines)


def run_report(args: argparse.Namespace) -> int:
    priors = default_priors() if args.priors is None else load_priors(args.priors)
    rows = literature_fit(priors)
    if args.json:
        print_json([r.to_dict() for r in rows], priors)
    else:
        print(format_report(rows, priors))
    return 0
