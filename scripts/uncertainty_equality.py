"""Check that a change to the interval or sensitivity arithmetic kept their numbers.

``python scripts/uncertainty_equality.py dump FILE`` writes, for every example case and every
development-set patient under two settings, the 2,000-draw credible interval (low, high,
median, mean, point) and the full one-way sensitivity (every parameter's P(POEMS) at both
ends and its swing, in ranked order) to a JSON file. ``... check FILE`` recomputes them and
prints the largest absolute difference and any ranking that differs other than between
swings tied to rounding (within 1e-12). Run ``dump`` before a change and ``check`` after it.
Figures only; nothing is asserted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.analysis.uncertainty import credible_interval, sensitivity
from model.case import Case
from model.evaluation.devset import load_devset
from model.inference.engine import resolve
from model.network.evidence import evidence_for

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ("paraproteinemic_neuropathy", "general_population")
TIE = 1e-12


def compute() -> dict[str, dict[str, Any]]:
    cases = [(p.stem, Case.load(p)) for p in sorted((ROOT / "examples").glob("*.json"))]
    cases += [(p.file, p.case) for p in load_devset().patients]
    out: dict[str, dict[str, Any]] = {}
    for setting in SETTINGS:
        for name, case in cases:
            priors, chosen = resolve(case, setting, None)
            evidence = evidence_for(case)
            ci = credible_interval(priors, chosen, evidence)
            swings = sensitivity(priors, chosen, evidence, top_k=None)
            out[f"{setting}|{name}"] = {
                "interval": [ci.low, ci.high, ci.median, ci.mean, ci.point],
                "sensitivity": [[s.key, s.p_at_low, s.p_at_high, s.swing] for s in swings],
            }
    return out


def check(reference: dict[str, dict[str, Any]], now: dict[str, dict[str, Any]]) -> None:
    worst_interval = worst_sensitivity = 0.0
    reordered = 0
    for key, ref in reference.items():
        new = now[key]
        worst_interval = max(
            worst_interval, float(np.max(np.abs(np.subtract(ref["interval"], new["interval"]))))
        )
        by_key = {row[0]: row for row in new["sensitivity"]}
        for row in ref["sensitivity"]:
            other = by_key[row[0]]
            worst_sensitivity = max(
                worst_sensitivity, *(abs(a - b) for a, b in zip(row[1:], other[1:], strict=True))
            )
        old_order = [row[0] for row in ref["sensitivity"]]
        new_order = [row[0] for row in new["sensitivity"]]
        swing = {row[0]: row[3] for row in ref["sensitivity"]}
        for a, b in zip(old_order, new_order, strict=True):
            if a != b and abs(swing[a] - swing[b]) > TIE:
                reordered += 1
                print(f"{key}: {a} ranked where {b} was (swings differ by more than {TIE})")
                break
    print(
        f"{len(reference)} case-settings; largest |difference|: interval (low, high, median, "
        f"mean, point) {worst_interval:.3g}, sensitivity (ends, swing) {worst_sensitivity:.3g}; "
        f"rankings differing beyond ties: {reordered}"
    )


def main(command: str, path: str) -> None:
    if command == "dump":
        Path(path).write_text(json.dumps(compute()))
    elif command == "check":
        check(json.loads(Path(path).read_text()), compute())
    else:
        raise SystemExit("usage: uncertainty_equality.py dump|check FILE")


if __name__ == "__main__":
    main(*sys.argv[1:3])
