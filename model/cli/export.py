"""``poems export --format bif|xmlbif|xdsl|net -o FILE``: the network for other BN tools."""

from __future__ import annotations

import argparse
from typing import Any

from model.cli.assess import add_priors_options, priors_from
from model.cli.common import shown_path, status, writable
from model.export import FORMATS, export_network
from model.inference.exact import resolve


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write the network as BIF, XMLBIF, Hugin NET or GeNIe XDSL",
        description=(
            "Write the Bayesian network (point values of the priors, one clinical setting's "
            "base rates) for other tools: BIF, XMLBIF and Hugin NET via pgmpy, XDSL for "
            "GeNIe/SMILE. A setting defined by findings (e.g. the neuropathy clinic: a "
            "polyneuropathy with demyelinating nerve conduction) is exported as the population "
            "before that selection: enter its defining findings as evidence in the other tool, "
            "unless the patient's findings say otherwise, to get this tool's posteriors "
            "(docs/network-contract.md)."
        ),
    )
    parser.add_argument("--format", required=True, choices=FORMATS, help="file format")
    parser.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="output file (- for standard output)"
    )
    add_priors_options(parser, with_case=False)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    priors, setting = resolve(None, args.setting, priors_from(args))
    with writable(args.output, suffix=f".{args.format}") as target:
        export_network(priors, setting, args.format, target)
    status(
        args, f"Wrote {args.format} network for setting '{setting}' to {shown_path(args.output)}"
    )
    return 0
