"""CPU time of the work-up alone for patients seen for the first time.

``python scripts/workup_times.py [SETTING] [--profile FILE] [--freeze] [--against DIR]``
computes, in one process, the work-up of every development-set patient once, each as
``assess`` calls it (the engine, the evidence and the seed verdict made beforehand and not
timed), after one warm-up patient, and prints the median, 90th centile and largest CPU
milliseconds of the calling thread (``time.thread_time``). With ``--profile`` the timed loop
runs under cProfile and the statistics are written to FILE. With ``--freeze``,
:func:`model.inference.runtime.freeze_loaded` is called after the warm-up (what is loaded is
then no longer walked by full garbage collections, one of which otherwise lands on a
patient: the largest figure).

With ``--against DIR`` (a checkout of another version, e.g. ``git worktree add --detach DIR
main``) the work-up of that version runs in the same process beside this one: its
``model/analysis/workup.py`` and ``model/inference/predictive.py`` are loaded as separate
modules (everything else, and any other module they import, is this checkout's), each
patient is computed once by each version (each sees it for the first time), which goes
first alternating, and both are printed with the ratio of medians. On a shared machine the
two then run under the same load, which separate runs do not. Figures only; nothing is
asserted.
"""

from __future__ import annotations

import cProfile
import statistics
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.analysis.workup import workup
from model.criteria import DEFAULT_RULE_SET, evaluate_all
from model.evaluation.devset import load_devset
from model.inference.engine import engine_for, resolve
from model.inference.runtime import freeze_loaded
from model.network.evidence import evidence_for


def _load(name: str, path: Path, replace: tuple[tuple[str, str], ...] = ()) -> types.ModuleType:
    """The module at ``path`` as a new module ``name`` (with the ``replace`` edits)."""
    source = path.read_text()
    for old, new in replace:
        source = source.replace(old, new)
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


def _other_workup(root: Path) -> Callable[..., Any]:
    _load("other_predictive", root / "model/inference/predictive.py")
    other = _load(
        "other_workup",
        root / "model/analysis/workup.py",
        (("from model.inference.predictive import", "from other_predictive import"),),
    )
    return other.workup


def _summary(label: str, times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return (
        f"{label}: {len(times)} patients, work-up CPU ms median {statistics.median(ordered):.3f}"
        f", p90 {p90:.3f}, largest {ordered[-1]:.3f}, total {sum(times):.1f}"
    )


def main(
    setting: str = "paraproteinemic_neuropathy",
    profile: str | None = None,
    freeze: bool = False,
    against: str | None = None,
) -> None:
    prepared = []
    for patient in load_devset().patients:
        priors, chosen = resolve(patient.case, setting, None)
        engine = engine_for(priors, chosen)
        evidence = evidence_for(patient.case)
        seed = evaluate_all(patient.case)[DEFAULT_RULE_SET]
        prepared.append((patient.case, engine, evidence, seed))
    versions: list[tuple[str, Callable[..., Any], list[float]]] = [(setting, workup, [])]
    if against is not None:
        versions.append((f"{setting} ({against})", _other_workup(Path(against)), []))
    for _, run, _ in versions:
        run(*prepared[0])  # process-level warm-up (imports, the catalogue, per-engine facts)
    if freeze:
        freeze_loaded()
    profiler = cProfile.Profile() if profile else None
    for i, (case, engine, evidence, seed) in enumerate(prepared[1:]):
        for _, run, times in versions[i % 2 :] + versions[: i % 2]:
            if profiler is not None:
                profiler.enable()
            start = time.thread_time()
            run(case, engine, evidence, seed)
            times.append(1000 * (time.thread_time() - start))
            if profiler is not None:
                profiler.disable()
    if profiler is not None and profile is not None:
        profiler.dump_stats(profile)
    for label, _, times in versions:
        print(_summary(label, times))
    if against is not None:
        ratio = statistics.median(versions[0][2]) / statistics.median(versions[1][2])
        print(f"median of this checkout / median of {against}: {ratio:.3f}")


if __name__ == "__main__":
    args = sys.argv[1:]
    options: dict[str, str | None] = {"--profile": None, "--against": None}
    for flag in options:
        if flag in args:
            at = args.index(flag)
            options[flag] = args[at + 1]
            del args[at : at + 2]
    freeze = "--freeze" in args
    args = [a for a in args if a != "--freeze"]
    main(
        args[0] if args else "paraproteinemic_neuropathy",
        profile=options["--profile"],
        freeze=freeze,
        against=options["--against"],
    )
