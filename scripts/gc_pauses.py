"""Full garbage-collection passes during new patients' assessments, with and without a remedy.

``python scripts/gc_pauses.py [SETTING [ROUNDS]]`` runs, for each remedy, a fresh process
that loads the default priors, assesses one development-set patient (the engine and the parameter
draws are then loaded), applies the remedy, and runs ``model.bench.new_case_times`` (every
patient assessed once, then ``assess(plan=False)`` and the work-up alone on a second pass),
then ROUNDS (default 3) passes of fresh copies of the patients with the full ``assess``
(sensitivity included, as the app calls it). It prints the CPU median / 90th centile /
largest ms of the assessment, of the work-up and of the full assessment,
the number of full (generation-2) collections during the timed passes and their longest CPU
ms, and the memory: resident set at the end and its peak (kB), and the objects the
collector tracks (with those frozen). Remedies:

- ``none``: the interpreter's defaults;
- ``freeze``: :func:`model.inference.runtime.freeze_loaded` (collect, then
  :func:`gc.freeze`);
- ``threshold``: ``gc.set_threshold(700, 10, 1000)`` (a full pass is considered after
  1,000 generation-1 passes instead of 10).

Figures only; nothing is asserted.
"""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REMEDIES = ("none", "freeze", "threshold")


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def measure(remedy: str, setting: str, rounds: int) -> dict[str, Any]:
    from model.assessment import assess
    from model.bench import _spread, new_case_times
    from model.case import Case
    from model.evaluation.devset import load_devset
    from model.inference.runtime import freeze_loaded
    from model.parameters import load_priors

    priors = load_priors()
    assess(load_devset().patients[0].case, setting=setting, priors=priors)  # loads everything
    if remedy == "freeze":
        freeze_loaded()
    elif remedy == "threshold":
        gc.set_threshold(700, 10, 1000)
    pauses: list[float] = []
    started: list[float] = []

    def watch(phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            started.append(time.thread_time())
        else:
            pauses.append(1000 * (time.thread_time() - started.pop()))

    gc.callbacks.append(watch)
    times = new_case_times(priors, setting)
    full: list[float] = []
    for _ in range(rounds):  # the app: fresh patients, sensitivity included
        for patient in load_devset().patients:
            case = Case.from_dict(patient.case.to_dict())
            start = time.thread_time()
            assess(case, setting=setting, priors=priors)
            full.append(1000 * (time.thread_time() - start))
    gc.callbacks.remove(watch)
    spread = _spread(full, "cpu_ms")
    return {
        "remedy": remedy,
        "assess": [times["median_cpu_ms"], times["p90_cpu_ms"], times["max_cpu_ms"]],
        "workup": [times["workup"][k] for k in ("median_cpu_ms", "p90_cpu_ms", "max_cpu_ms")],
        "full": [spread[k] for k in ("median_cpu_ms", "p90_cpu_ms", "max_cpu_ms")],
        "full_passes": len(pauses),
        "longest_pass_ms": max(pauses, default=0.0),
        "rss_kb": _rss_kb(),
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "tracked": len(gc.get_objects()),
        "frozen": gc.get_freeze_count(),
    }


def main(setting: str, rounds: int) -> None:
    for remedy in REMEDIES:
        out = subprocess.run(
            [sys.executable, __file__, "--one", remedy, setting, str(rounds)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        r = json.loads(out.splitlines()[-1])
        a, w, f = r["assess"], r["workup"], r["full"]
        print(
            f"{remedy:9s} assess CPU ms {a[0]:.1f} / {a[1]:.1f} / {a[2]:.1f}; work-up "
            f"{w[0]:.2f} / {w[1]:.2f} / {w[2]:.2f}; with sensitivity, {rounds} rounds "
            f"{f[0]:.1f} / {f[1]:.1f} / {f[2]:.1f}; full passes {r['full_passes']} "
            f"(longest {r['longest_pass_ms']:.1f} ms); RSS {r['rss_kb']} kB, peak "
            f"{r['peak_rss_kb']} kB; tracked {r['tracked']}, frozen {r['frozen']}"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        print(json.dumps(measure(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    else:
        args = sys.argv[1:]
        main(args[0] if args else "paraproteinemic_neuropathy", int(args[1]) if args[1:] else 3)
