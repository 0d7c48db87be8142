"""``poems vocabulary``: list every finding id with its group, kind, states and unit."""

from __future__ import annotations

import argparse
from typing import Any

from model.cli.common import print_json
from model.vocabulary import FINDINGS


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("vocabulary", help="list the finding ids a case file may use")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = [
        {
            "id": f.id,
            "label": f.label,
            "group": str(f.group),
            "kind": str(f.kind),
            "states": list(f.states),
            "unit": f.unit,
            "criterion": None if f.criterion is None else str(f.criterion),
            "parts": list(f.parts),
        }
        for f in FINDINGS.values()
    ]
    if args.json:
        print_json(rows)
        return 0
    group = None
    for row in rows:
        if row["group"] != group:
            group = row["group"]
            print(f"\n{group}")
        detail = row["unit"] or "/".join(row["states"]) or row["kind"]
        print(f"  {row['id']:<32} {row['label']:<44} {detail}")
    return 0
