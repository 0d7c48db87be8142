"""Write the published vignettes of ``tests/cases`` (or, with ``--teaching``, the teaching
cases of ``model/teaching/cases``) as a labelled cohort CSV.

Each vignette is a case file holding only the findings its source reports; ``index.toml``
describes it. The label (the published final diagnosis as a network ``diagnosis`` state) is
assigned here, by hand, from each entry's ``kind`` and ``reports``; the reason is written
beside it. A vignette whose final diagnosis was not read is left out and listed.

Usage::

    .venv/bin/python scripts/vignette_cohort.py docs/evaluation/vignettes_cohort.csv
    .venv/bin/poems evaluate docs/evaluation/vignettes_cohort.csv --label published_diagnosis
    .venv/bin/python scripts/vignette_cohort.py --teaching docs/evaluation/teaching_cohort.csv
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pandas as pd

from model.case import Case
from model.evaluation.bundled import row_from_case

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"

LABELS: dict[str, tuple[str | None, str]] = {
    "actas_glomeruloid_hemangioma_poems.json": ("poems", "POEMS (IgG kappa)"),
    "suntext_poems_without_m_protein.json": ("poems", "atypical POEMS, no M-protein found"),
    "balkan_tafro_imcd.json": ("castleman_disease", "iMCD-TAFRO"),
    "pascual_goni_anti_mag_cidp.json": (
        "mgus_neuropathy",
        "anti-MAG neuropathy without a gammopathy: the network's anti-MAG group",
    ),
    "bmj_anti_mag_igm_waldenstrom.json": ("mgus_neuropathy", "anti-MAG IgM neuropathy"),
    "tracy_al_amyloid_mononeuropathies.json": ("al_amyloidosis", "AL amyloidosis (lambda)"),
    "kang_poems_castleman.json": ("poems", "POEMS with Castleman disease"),
    "karger_cutaneous_poems.json": ("poems", "POEMS with skin changes"),
    "sotelo_castleman_with_iga_lambda.json": ("poems", "POEMS with Castleman disease (IgA lambda)"),
    "mksap_poems_quiz.json": ("poems", "POEMS teaching vignette"),
    "shm_poems_igm_lambda_volume_overload.json": ("poems", "POEMS with IgM lambda"),
    "abeykoon_elusive_no_immunofixation.json": ("poems", "POEMS first diagnosed as CIDP"),
    "nawas_protean_protein_first_visit.json": (
        None,
        "first visit only; the final diagnosis was not read, so it is not labelled",
    ),
    "uchicago_case4_vegf_three_times.json": ("poems", "POEMS (IgA lambda)"),
    "palha_poems_castleman.json": ("poems", "POEMS with Castleman disease"),
}


def build() -> tuple[pd.DataFrame, list[str]]:
    index = tomllib.loads((CASES / "index.toml").read_text(encoding="utf-8"))
    rows, skipped = [], []
    for entry in index["case"]:
        name = entry["file"]
        label, why = LABELS.get(name, (None, "no label assigned in scripts/vignette_cohort.py"))
        if label is None:
            skipped.append(f"{name}: {why}")
            continue
        row = row_from_case(Case.load(CASES / name))
        row["published_diagnosis"] = label
        row["source"] = entry.get("source", "")
        rows.append(row)
    return pd.DataFrame(rows, dtype=object).fillna("").astype(str), skipped


def main(argv: list[str]) -> int:
    teaching = "--teaching" in argv
    paths = [a for a in argv if a != "--teaching"]
    if len(paths) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    if teaching:
        from model.evaluation.bundled import teaching_frame

        frame, skipped = teaching_frame(), []
    else:
        frame, skipped = build()
    argv = paths
    frame.to_csv(argv[0], index=False)
    print(f"{len(frame)} cases -> {argv[0]}")
    for line in skipped:
        print(f"left out: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
