"""``poems fhir BUNDLE.json [-o CASE.json]``: a FHIR R4 bundle from a health record as a case."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from model.cli.common import notices, safe, status
from model.fhir import load_bundle
from model.inputs import STDIO


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "fhir",
        help="make a case file from a FHIR R4 bundle (LOINC/SNOMED CT/ICD-10-CM, UCUM units)",
        description=(
            "Read one patient's FHIR R4 Bundle (JSON): laboratory Observations by LOINC code "
            "with their UCUM units (converted, never guessed), findings by SNOMED CT or "
            "ICD-10-CM code from Conditions and Observations, and the Patient's sex. Writes "
            "the case file; lists on stderr what was used and what was ignored, and why. "
            "Mapping: docs/formats.md. Decision support, not a diagnosis."
        ),
    )
    parser.add_argument("bundle", metavar="BUNDLE.json", help="FHIR R4 bundle (- for stdin)")
    parser.add_argument(
        "-o",
        "--output",
        default=STDIO,
        metavar="CASE.json",
        help="case file to write (default: standard output)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    result = load_bundle(args.bundle)
    for line in result.used:
        status(args, f"used: {safe(line)}")
    for line in result.ignored:
        status(args, f"ignored: {safe(line)}")
    if not result.case.findings:
        status(
            args,
            "no entry of the bundle gave a finding: every finding of the case is not assessed "
            "(is it the right patient's bundle, with Observations or Conditions in it?)",
        )
    notices(args, result.case.implied_units())
    text = result.case.to_json() + "\n"
    if args.output == STDIO:
        print(text, end="")
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        status(args, f"Wrote the case to {safe(args.output)}")
    return 0
