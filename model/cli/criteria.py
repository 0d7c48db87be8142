"""``poems criteria CASE.json``: every rule set's verdict on a case, with its trace."""

from __future__ import annotations

import argparse
from typing import Any

from model.case import Case
from model.cli.common import notices, print_json, safe
from model.criteria import RULE_SETS, CriteriaResult, evaluate, resolve_rule_set
from model.parameters import load_priors

_STATUS_MARK = {"met": "[+]", "not_met": "[-]", "indeterminate": "[?]"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "criteria",
        help="evaluate the formal diagnostic criteria on a case file",
        description=(
            "Evaluate the published POEMS criteria (" + ", ".join(RULE_SETS) + ") on a case "
            "file, in three-valued logic: met, not met, or indeterminate (depends on findings "
            "not assessed). Decision support, not a diagnosis."
        ),
    )
    parser.add_argument(
        "case", metavar="CASE.json", help="case file (docs/formats.md; - reads standard input)"
    )
    parser.add_argument(
        "--rule-set",
        metavar="ID",
        default=None,
        help="evaluate only this rule set (one of " + ", ".join(RULE_SETS) + ")",
    )
    parser.add_argument(
        "--priors",
        metavar="DIR",
        default=None,
        help="priors folder whose settings the case's 'setting' may name (default: priors/)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def format_trace(result: CriteriaResult) -> str:
    """A readable plain-text trace of one rule set's result."""
    lines = [
        f"== {result.rule_set}: {result.verdict.replace('_', ' ').upper()}",
        f"   {result.title}",
    ]
    for c in result.criteria:
        by = f" <- {', '.join(c.satisfied_by)}" if c.satisfied_by else ""
        note = f"  ({c.note})" if c.note else ""
        lines.append(f"   {_STATUS_MARK[c.status]} {c.role:<9} {c.id}{by}{note}")
    if result.could_change_with:
        lines.append("   What would decide it:")
        lines += [
            f"     {c['finding']}: present -> {c['if_present']}, absent -> {c['if_absent']}"
            for c in result.could_change_with
        ]
    elif result.verdict == "indeterminate":
        lines.append("   No single unassessed finding decides it.")
    for flag in result.flags:
        lines.append(f"   ! {flag}")
    source = f"doi:{result.citation.doi}" if result.citation.doi else result.citation.url
    lines.append(f"   Source: {source}")
    return "\n".join(lines)


def check_setting(case: Case, priors_dir: str | None) -> None:
    """Refuse a case whose ``setting`` the priors do not define, as ``poems assess`` does.

    The criteria never read the setting, but a case file either is valid or is not: both
    commands accept and refuse the same files (``tests/test_reliability_review.py``). The
    settings come from the priors folder (``settings.toml``), read only when needed; loading
    the priors validates them and imports no inference package.
    """
    if case.setting is None and priors_dir is None:
        return
    priors = load_priors(priors_dir)
    if case.setting is not None:
        priors.setting(
            case.setting,
            fix="Remove 'setting' from the case (the criteria do not read it), or pass "
            "--priors with the folder that defines it.",
        )


def run(args: argparse.Namespace) -> int:
    ids = tuple(RULE_SETS) if args.rule_set is None else (resolve_rule_set(args.rule_set).id,)
    case = Case.load(args.case)
    check_setting(case, args.priors)
    results = {rule_id: evaluate(case, rule_id) for rule_id in ids}
    notices(args, case.implied_units())  # after success: an error stays the only line
    if args.json:
        print_json({k: r.to_dict() for k, r in results.items()})
        return 0
    print(f"Case {safe(case.id or args.case)}: formal criteria (decision support, not a diagnosis)")
    for result in results.values():
        print()
        print(format_trace(result))
        for line in result.explanation[1:]:
            print(f"   - {line}")
    return 0
