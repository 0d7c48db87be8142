"""Cohort evaluation end to end on a tiny cohort whose answers can be checked by hand.

Rows (setting neuropathy_clinic unless said):

    row  label   findings                                         seed verdict
    1    poems   PN, lambda M-protein, sclerotic lesion, edema    met
    2    poems   PN, lambda M-protein                             indeterminate
    3    cidp    PN, demyelinating NCS, M-protein absent          not met
    4    cidp    PN, demyelinating NCS                            indeterminate
    5    cidp    PN, 'maybe' for hepatomegaly                     (bad row: reported)
    6    flu     PN                                               (bad label: reported)

Seed sensitivity (indeterminate = negative) = 1/2, specificity = 2/2, indeterminate 2/4.
The network metrics are checked against :mod:`model.evaluation.metrics` applied to the
posteriors computed independently with pgmpy's exact inference.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from model.case import Case
from model.cli import main
from model.cohort.format import read_cohort_table
from model.evaluation import metrics as mx
from model.evaluation.cohort import case_from_row
from model.evaluation.evaluate import evaluate_table
from model.inference.exact import posterior

HEADER = (
    "id,dx,setting,polyneuropathy,demyelinating_ncs,monoclonal_protein,light_chain,"
    "sclerotic_bone_lesion,peripheral_edema,hepatomegaly\n"
)
CSV = (
    HEADER
    + """r1,poems,neuropathy_clinic,present,,present,lambda,present,present,
r2,poems,neuropathy_clinic,present,,present,lambda,,,
r3,cidp,neuropathy_clinic,present,present,absent,,,,
r4,cidp,,present,present,,,,,
r5,cidp,neuropathy_clinic,present,,,,,,maybe
r6,flu,neuropathy_clinic,present,,,,,,
"""
)


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    return evaluate_table(read_cohort_table(CSV.encode()), "dx", n_bins=2)


def test_rule_counts_by_hand(result) -> None:  # type: ignore[no-untyped-def]
    seed = result.rules["seed"]
    assert (seed.sensitivity.successes, seed.sensitivity.n) == (1, 2)
    assert (seed.specificity.successes, seed.specificity.n) == (2, 2)
    assert (seed.indeterminate.successes, seed.indeterminate.n) == (2, 4)
    assert result.verdicts["seed"] == ("met", "indeterminate", "not_met", "indeterminate")


def test_bad_rows_are_listed_not_fatal(result) -> None:  # type: ignore[no-untyped-def]
    assert result.n_rows == 6 and result.n_scored == 4
    messages = {b.row: b.message for b in result.bad_rows}
    assert set(messages) == {5, 6}
    assert "hepatomegaly" in messages[5]
    assert "dx must be a diagnosis state" in messages[6]


def test_network_metrics_match_independent_exact_posteriors(result) -> None:  # type: ignore[no-untyped-def]
    rows = read_cohort_table(CSV.encode()).frame.to_dict(orient="records")
    cases = [case_from_row(r, "dx") for r in rows if r["dx"] != "flu" and r["hepatomegaly"] == ""]
    p = [posterior(c, setting=c.setting or "neuropathy_clinic")["poems"] for c in cases]
    y = [1, 1, 0, 0]
    assert result.scores.tolist() == pytest.approx(p, abs=1e-9)
    assert result.network.auc == pytest.approx(mx.roc_auc(y, p))
    assert result.network.brier == pytest.approx(mx.brier_score(y, p))
    assert result.settings_used == {"neuropathy_clinic": 4}  # row 4 falls back to the default


def test_markdown_and_json_say_how_indeterminate_is_counted(result) -> None:  # type: ignore[no-untyped-def]
    text = result.to_markdown()
    assert "indet. = negative" in text and "row 5" in text
    data = result.to_dict(with_rows=True)
    assert "indeterminate" in data["indeterminate_counting"]
    assert data["rows"][0]["seed"] == "met"
    assert (data["rows"][0]["id"], data["rows"][0]["label"]) == ("r1", "poems")
    json.dumps(data)  # no NaN, no numpy types


def test_cli_json_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cohort = tmp_path / "c.csv"
    cohort.write_text(CSV)
    png = tmp_path / "rel.png"
    rows = tmp_path / "rows.csv"
    code = main(
        [
            "evaluate",
            str(cohort),
            "--label",
            "dx",
            "--json",
            "--plot",
            str(png),
            "--rows",
            str(rows),
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["n_scored"] == 4 and out["rules"]["seed"]["sensitivity"]["successes"] == 1
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = rows.read_text().splitlines()
    assert lines[0].startswith("row,id,label,label_positive,p_positive,seed") and len(lines) == 5


def test_cli_unknown_setting_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cohort = tmp_path / "c.csv"
    cohort.write_text(CSV)
    code = main(["evaluate", str(cohort), "--label", "dx", "--setting", "neuropathy_clinc"])
    err = capsys.readouterr().err
    assert code == 2 and "Did you mean 'neuropathy_clinic'" in err


def test_forced_setting_changes_scores_not_verdicts() -> None:
    cohort = read_cohort_table(CSV.encode())
    a = evaluate_table(cohort, "dx", setting="general_population")
    b = evaluate_table(cohort, "dx", setting="paraproteinemic_neuropathy")
    assert a.verdicts == b.verdicts
    assert (a.scores < b.scores).all()
    assert Case.from_dict({"findings": {}}).setting is None


def test_evaluate_and_compare_priors_read_the_parquet_simulate_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from model.evaluation.cohort import guess_label_column
    from model.parameters import default_directory

    cohort = tmp_path / "cohort.parquet"
    assert (
        main(["simulate", "--n", "150", "--setting", "neuropathy_clinic", "-o", str(cohort)]) == 0
    )
    columns = list(read_cohort_table(cohort).frame.columns)
    assert guess_label_column(columns) == "true_diagnosis" and "id" in columns
    csv = tmp_path / "cohort.csv"
    read_cohort_table(cohort).frame.to_csv(csv, index=False)
    capsys.readouterr()
    assert main(["evaluate", str(cohort), "--label", "true_diagnosis", "--json"]) == 0
    from_parquet = json.loads(capsys.readouterr().out)
    assert main(["evaluate", str(csv), "--label", "true_diagnosis", "--json"]) == 0
    from_csv = json.loads(capsys.readouterr().out)
    assert from_parquet["network"] == from_csv["network"] and from_parquet["n_scored"] == 150
    folder = str(default_directory())
    code = main(
        ["compare-priors", folder, folder, "--cohort", str(cohort), "--label", "true_diagnosis"]
    )
    assert code == 0 and "0 parameter(s) differ" in capsys.readouterr().out


def test_bootstrap_intervals_and_roc_curve_follow_the_scores(result) -> None:  # type: ignore[no-untyped-def]
    fpr, tpr, _ = result.roc()
    assert fpr[0] == tpr[0] == 0.0 and fpr[-1] == tpr[-1] == 1.0
    assert float(np.trapezoid(tpr, fpr)) == pytest.approx(result.network.auc)
    intervals = result.intervals(n_boot=200)
    for name in ("auc", "brier"):
        ci = intervals[name]
        assert ci.low <= ci.estimate <= ci.high
    assert intervals["brier"].estimate == pytest.approx(result.network.brier)
    per_dx = {r["diagnosis"]: r for r in result.per_diagnosis()}
    assert per_dx["poems"]["n"] == 2 and per_dx["cidp"]["n"] == 2
    assert per_dx["poems"]["seed: met"] == 0.5
