"""Cases to test case-level rules on (shared by the criteria and case tests)."""

from __future__ import annotations

from pathlib import Path

from model.case import Case
from model.cohort.format import case_from_row
from model.exceptions import PoemsError
from model.inference.simulate import simulate_chunks
from model.parameters import load_priors

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.json"))


def simulated_cases(setting: str, n: int, seed: int, missing: float) -> list[Case]:
    """Forward samples of the network read as cohort rows; rows the case format refuses (a
    sampled combination it rejects as inconsistent) are left out."""
    frame = next(simulate_chunks(load_priors(), setting, n, seed=seed, missing=missing))
    cases = []
    for record in frame.drop(columns=["true_diagnosis"]).astype(str).to_dict(orient="records"):
        try:
            cases.append(case_from_row(record))
        except PoemsError:
            continue
    return cases
