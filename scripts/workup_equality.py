"""Check that a change to the work-up kept its output to the last bit.

``python scripts/workup_equality.py dump FILE`` writes, for every example case and every
development-set patient under two settings, the full work-up as ``assess`` computes it
(``Workup.to_dict()``, every float written with ``repr``), each proposed test's possible
results (findings entered, probability) and the admissible nodes ``next_tests`` is given, to a
JSON file. ``... check FILE`` recomputes them and prints every case-setting whose output
differs (exit status 1 if any). Each case is computed once in a fresh process, in the order
of the file (so the work-up's memo tables are filled as in a run of first-seen patients),
then the first ten again with the memos warm: both must match. Run ``dump`` before a change
and ``check`` after it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.analysis.workup import admissible_nodes, workup
from model.case import Case
from model.criteria import DEFAULT_RULE_SET, evaluate_all
from model.evaluation.devset import load_devset
from model.inference.engine import engine_for, resolve
from model.network.evidence import evidence_for

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ("paraproteinemic_neuropathy", "neuropathy_clinic")


def _exact(value: Any) -> Any:
    """``value`` with every float as its ``repr`` (JSON round trips then compare bitwise)."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _exact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_exact(v) for v in value]
    return value


def one(case: Case, setting: str) -> dict[str, Any]:
    priors, chosen = resolve(case, setting, None)
    engine = engine_for(priors, chosen)
    evidence = evidence_for(case)
    seed = evaluate_all(case)[DEFAULT_RULE_SET]
    result = workup(case, engine, evidence, seed)
    return _exact(
        {
            "workup": result.to_dict(),
            "outcomes": [
                [[dict(findings), p] for findings, p in item.outcomes] for item in result.items
            ],
            "admissible": list(admissible_nodes(case, engine, evidence)),
        }
    )


def compute() -> dict[str, Any]:
    cases = [(p.stem, Case.load(p)) for p in sorted((ROOT / "examples").glob("*.json"))]
    cases += [(p.file, p.case) for p in load_devset().patients]
    out: dict[str, Any] = {}
    for setting in SETTINGS:
        for name, case in cases:
            out[f"{setting}|{name}"] = one(case, setting)
    for setting in SETTINGS:  # again, memos warm
        for name, case in cases[:10]:
            out[f"warm|{setting}|{name}"] = one(case, setting)
    return out


def main(command: str, path: str) -> int:
    if command == "dump":
        Path(path).write_text(json.dumps(compute(), indent=1, sort_keys=True))
        return 0
    reference = json.loads(Path(path).read_text())
    now = compute()
    differ = [key for key in reference if reference[key] != now.get(key)]
    differ += [key for key in now if key not in reference]
    differ += [
        f"{key} (warm against cold)"
        for key in now
        if key.startswith("warm|") and now[key] != now[key[5:]]
    ]
    for key in differ:
        print(f"differs: {key}")
    print(f"{len(reference)} case-settings compared; {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("dump", "check"):
        sys.exit("usage: workup_equality.py dump|check FILE")
    sys.exit(main(sys.argv[1], sys.argv[2]))
