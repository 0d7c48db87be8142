"""Where one full assessment spends its CPU: each part timed as ``assess`` calls it.

``python scripts/profile_assessment.py [SETTING]`` prints, per example case, the median CPU
milliseconds (``time.process_time``, 7 runs after a warm one) of the posterior, the four rule
sets, contributions, next tests with their settling odds, the work-up, the 2,000-draw
credible interval, the one-way sensitivity, and ``assess`` itself with and without
sensitivity. Figures only; nothing is asserted.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model import analysis
from model.analysis.settle import settle
from model.analysis.workup import admissible_nodes, workup
from model.assessment import assess
from model.case import Case
from model.criteria import DEFAULT_RULE_SET, evaluate_all
from model.inference.engine import engine_for, resolve
from model.network.evidence import evidence_for

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def cpu_ms(run: Callable[[], Any], repeats: int = 7) -> float:
    run()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return 1000 * statistics.median(times)


def parts_of(path: Path, setting: str) -> tuple[str, dict[str, Callable[[], Any]]]:
    """The seed verdict of one example and its parts, each as ``assess`` calls it."""
    case = Case.load(path)
    priors, chosen = resolve(case, setting, None)
    engine = engine_for(priors, chosen)
    evidence = evidence_for(case)
    seed = evaluate_all(case)[DEFAULT_RULE_SET]
    candidates = admissible_nodes(case, engine, evidence)
    return seed.verdict, {
        "assess(sensitivity=False)": lambda: assess(case, setting=setting, sensitivity=False),
        "assess": lambda: assess(case, setting=setting),
        "posterior": lambda: engine.posterior(evidence),
        "criteria": lambda: evaluate_all(case),
        "contributions": lambda: analysis.contributions(engine, evidence),
        "next tests + settle": lambda: settle(
            analysis.next_tests(engine, evidence, candidates), seed
        ),
        "work-up": lambda: workup(case, engine, evidence, seed),
        "interval": lambda: analysis.credible_interval(priors, chosen, evidence),
        "sensitivity": lambda: analysis.sensitivity(priors, chosen, evidence),
    }


def main(setting: str = "paraproteinemic_neuropathy") -> None:
    for path in sorted(EXAMPLES.glob("*.json")):
        verdict, parts = parts_of(path, setting)
        figures = ", ".join(f"{name} {cpu_ms(run):.2f}" for name, run in parts.items())
        print(f"{path.stem} ({verdict}): {figures}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:2])
