"""Credible intervals of P(POEMS) on the bundled examples and the teaching library.

Prints a Markdown table: case, setting, point P(POEMS), 90 % interval and its width, for the
examples (``examples/*.json``) and the final step of every teaching case. Used for the
"How the interval behaves" table in docs/model-card.md::

    .venv/bin/python scripts/interval_table.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.analysis import credible_interval  # noqa: E402
from model.assessment import percent  # noqa: E402
from model.case import Case  # noqa: E402
from model.inference.engine import engine_for, resolve  # noqa: E402
from model.network.evidence import evidence_for  # noqa: E402
from model.teaching.library import load_library  # noqa: E402


def rows() -> list[tuple[str, Case]]:
    out = [
        (f"example `{p.stem}`", Case.load(p)) for p in sorted((ROOT / "examples").glob("*.json"))
    ]
    for case_id, teaching in load_library().items():
        case = teaching.case_at(len(teaching.steps) - 1)
        if case.setting is None and teaching.setting is not None:
            case = case.with_fields(setting=teaching.setting)
        out.append((f"teaching `{case_id}` ({teaching.diagnosis})", case))
    return out


def main() -> None:
    print("| case | setting | P(POEMS) | 90 % interval | width |")
    print("|---|---|---|---|---|")
    for name, case in rows():
        priors, setting = resolve(case, None, None)
        evidence = evidence_for(case)
        point = engine_for(priors, setting).posterior(evidence)["poems"]
        ci = credible_interval(priors, setting, evidence)
        print(
            f"| {name} | {setting} | {percent(point)} | {percent(ci.low)} to "
            f"{percent(ci.high)} | {ci.high - ci.low:.2f} |"
        )


if __name__ == "__main__":
    main()
