"""Check that a change to the single-case path kept every output of an assessment.

``python scripts/assessment_equality.py dump FILE`` records, for every example case and every
development-set patient under two settings, the full ``assess(...).to_dict()`` (sensitivity
included), and for every example what ``poems assess`` prints (text and JSON, standard
output and error). ``... check FILE`` computes them again, twice over in one process (each
case seen for the first time, then again with every cache warm), and compares each with the
record: strings and types exactly, floats bit for bit. It prints the number of differences
(and the first few) and the largest difference between floats; the exit code is 1 when
anything differs.
"""

from __future__ import annotations

import contextlib
import io
import math
import pickle
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.assessment import assess
from model.case import Case
from model.cli import main as cli_main
from model.evaluation.devset import load_devset

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ("paraproteinemic_neuropathy", "neuropathy_clinic")


def _cli(arguments: list[str]) -> tuple[str, str, int]:
    """What ``poems`` prints on standard output and standard error, and its exit code."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(arguments)
    return out.getvalue(), err.getvalue(), code


def compute() -> dict[str, Any]:
    examples = sorted((ROOT / "examples").glob("*.json"))
    cases = [(p.stem, Case.load(p)) for p in examples]
    cases += [(p.file, p.case) for p in load_devset().patients]
    out: dict[str, Any] = {}
    for setting in SETTINGS:
        for name, case in cases:
            out[f"assess|{setting}|{name}"] = assess(case, setting=setting).to_dict()
        for path in examples:
            for extra in ([], ["--json"]):
                key = f"cli|{setting}|{path.stem}|{' '.join(extra)}"
                out[key] = _cli(["assess", str(path), "--setting", setting, *extra])
    return out


def _differences(old: Any, new: Any, where: str, found: list[str], worst: list[float]) -> None:
    if type(old) is not type(new):
        found.append(f"{where}: type {type(old).__name__} -> {type(new).__name__}")
        return
    if isinstance(old, dict):
        if list(old) != list(new):
            found.append(f"{where}: keys {list(old)} -> {list(new)}")
            return
        for key in old:
            _differences(old[key], new[key], f"{where}.{key}", found, worst)
    elif isinstance(old, list | tuple):
        if len(old) != len(new):
            found.append(f"{where}: length {len(old)} -> {len(new)}")
            return
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _differences(a, b, f"{where}[{i}]", found, worst)
    elif isinstance(old, float):
        if old.hex() != new.hex() and not (math.isnan(old) and math.isnan(new)):
            worst.append(abs(old - new))
            found.append(f"{where}: {old!r} -> {new!r}")
    elif old != new:
        found.append(f"{where}: {old!r} -> {new!r}")


def check(reference: dict[str, Any]) -> int:
    status = 0
    for attempt in ("first", "warm"):
        now = compute()
        found: list[str] = []
        worst: list[float] = []
        _differences(reference, now, "", found, worst)
        print(
            f"{attempt} pass: {len(reference)} records, {len(found)} differences, largest "
            f"float difference {max(worst, default=0.0):.3g}"
        )
        for line in found[:20]:
            print("  " + line)
        status |= bool(found)
    return status


def main(command: str, path: str) -> int:
    if command == "dump":
        Path(path).write_bytes(pickle.dumps(compute()))
        return 0
    if command == "check":
        return check(pickle.loads(Path(path).read_bytes()))
    raise SystemExit("usage: assessment_equality.py dump|check FILE")


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
