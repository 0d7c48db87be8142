"""Where ``assess`` spends its CPU on patients it has never seen, part by part.

``python scripts/profile_new_cases.py [SETTING] [ROUNDS]`` assesses every development-set
patient once (all analyses, sensitivity included; the engine and the parameter draws warm
from one patient before) and times each call ``assess`` makes, by wrapping the names
``model.assessment`` calls with a CPU timer (``time.thread_time``). It prints, per part, the
median and 90th centile CPU ms over the patients, then ``assess`` without the work-up and
without sensitivity (the part the single-case path owns). With ``ROUNDS`` > 1 the whole
pass is repeated in fresh copies of the cases (``Case.from_dict`` of each), and the median
of each patient's rounds is reported. Figures only; nothing is asserted.

Work deferred to the first read is timed where it is read: the rule sets' one-finding-away
lists, explanations and per-criterion tables (``CriteriaResult``), the next tests' outcome
mappings and settling odds (``NextTest``). ``assess`` reads the default rule set's
criteria (the agreement text) and nothing else of them; the work-up and the sensitivity
read what they need inside their own times.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import model.assessment as assessment
from model import analysis
from model.case import Case
from model.evaluation.devset import load_devset
from model.inference.compiled import CompiledEngine

PARTS: dict[str, tuple[Any, str]] = {
    "resolve": (assessment, "resolve"),
    "evidence_for": (assessment, "evidence_for"),
    "engine_for": (assessment, "engine_for"),
    "criteria": (assessment, "evaluate_all"),
    "contributions": (analysis, "contributions"),
    "contributions + next tests": (analysis, "contributions_and_next_tests"),
    "setting conflicts": (assessment, "setting_conflicts"),
    "checks": (assessment, "check_notes"),
    "notes": (assessment, "_notes"),
    "admissible nodes": (assessment, "admissible_nodes"),
    "next tests": (analysis, "next_tests"),
    "settling odds, prepared (filled in with the next tests)": (assessment, "Settling"),
    "work-up": (assessment, "workup"),
    "interval": (analysis, "credible_interval"),
    "sensitivity": (analysis, "sensitivity"),
    "agreement": (assessment, "agreement_text"),
    "agreement check": (assessment, "_agreement"),
    "strongest findings": (assessment, "strongest_findings"),
    "Assessment object": (assessment, "Assessment"),
    "engine.posterior (all callers)": (CompiledEngine, "posterior"),
}


def _timed(name: str, run: Callable[..., Any], spent: dict[str, float]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return run(*args, **kwargs)
        finally:
            spent[name] += 1000 * (time.thread_time() - start)

    return timed


def main(setting: str = "paraproteinemic_neuropathy", rounds: str = "1") -> None:
    patients = [p.case for p in load_devset().patients]
    spent: dict[str, float] = defaultdict(float)
    for name, (owner, attribute) in PARTS.items():
        setattr(owner, attribute, _timed(name, getattr(owner, attribute), spent))
    assessment.assess(patients[0], setting=setting)  # warm the engine and the draws
    per_case: dict[str, list[list[float]]] = defaultdict(lambda: [[] for _ in patients])
    for _ in range(int(rounds)):
        fresh = [Case.from_dict(case.to_dict()) for case in patients]
        for i, case in enumerate(fresh):
            spent.clear()
            start = time.thread_time()
            assessment.assess(case, setting=setting)
            total = 1000 * (time.thread_time() - start)
            spent["assess"] = total
            own = total - spent["work-up"] - spent["sensitivity"]
            spent["assess - work-up - sensitivity"] = own
            for name, value in spent.items():
                per_case[name][i].append(value)
    print(f"setting {setting}, {len(patients)} patients, {rounds} round(s); CPU ms per patient:")
    for name, rows in per_case.items():
        values = sorted(statistics.median(r) for r in rows if r)
        p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
        print(f"  {name:55s} median {statistics.median(values):6.3f}  p90 {p90:6.3f}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
