"""CPU time of the work-up alone for patients seen for the first time.

``python scripts/workup_times.py [SETTING] [--profile FILE] [--freeze]`` computes, in one
process, the work-up of every development-set patient once, each as ``assess`` calls it
(the engine, the evidence and the seed verdict made beforehand and not timed), after one
warm-up patient, and prints the median, 90th centile and largest CPU milliseconds of the
calling thread (``time.thread_time``). With ``--profile`` the timed loop runs under cProfile and the
statistics are written to FILE. With ``--freeze``, :func:`model.inference.runtime.freeze_loaded` is
called after the warm-up (what is loaded is then no longer walked by full garbage
collections, one of which otherwise lands on a patient: the largest figure). Figures only;
nothing is asserted.
"""

from __future__ import annotations

import cProfile
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.analysis.workup import workup
from model.criteria import DEFAULT_RULE_SET, evaluate_all
from model.evaluation.devset import load_devset
from model.inference.engine import engine_for, resolve
from model.inference.runtime import freeze_loaded
from model.network.evidence import evidence_for


def main(
    setting: str = "paraproteinemic_neuropathy", profile: str | None = None, freeze: bool = False
) -> None:
    prepared = []
    for patient in load_devset().patients:
        priors, chosen = resolve(patient.case, setting, None)
        engine = engine_for(priors, chosen)
        evidence = evidence_for(patient.case)
        seed = evaluate_all(patient.case)[DEFAULT_RULE_SET]
        prepared.append((patient.case, engine, evidence, seed))
    workup(*prepared[0])  # process-level warm-up (imports, the catalogue, per-engine facts)
    if freeze:
        freeze_loaded()
    profiler = cProfile.Profile() if profile else None
    times = []
    for case, engine, evidence, seed in prepared[1:]:
        if profiler is not None:
            profiler.enable()
        start = time.thread_time()
        workup(case, engine, evidence, seed)
        times.append(1000 * (time.thread_time() - start))
        if profiler is not None:
            profiler.disable()
    if profiler is not None and profile is not None:
        profiler.dump_stats(profile)
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    print(
        f"{setting}: {len(times)} patients, work-up CPU ms median {statistics.median(ordered):.3f}"
        f", p90 {p90:.3f}, largest {ordered[-1]:.3f}, total {sum(times):.1f}"
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    path = None
    if "--profile" in args:
        at = args.index("--profile")
        path = args[at + 1]
        del args[at : at + 2]
    freeze = "--freeze" in args
    args = [a for a in args if a != "--freeze"]
    main(args[0] if args else "paraproteinemic_neuropathy", profile=path, freeze=freeze)
