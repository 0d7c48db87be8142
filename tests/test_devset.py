"""The development set of published patients: every file valid, kept apart from the
parameters and the other published cases, and the evaluation's figures checked by hand."""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from model.cli import main
from model.evaluation.devset import (
    DEVSET_DIRECTORY,
    DEVSET_LABELS,
    POSITIVE_LABEL,
    V2_FINDINGS,
    DevsetEvaluation,
    evaluate_devset,
    load_devset,
    patient_source_keys,
    source_keys,
    summarise,
    write_citations,
)
from model.evaluation.metrics import bootstrap_metrics
from model.exceptions import InputError
from model.vocabulary import FINDINGS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def devset() -> Any:
    return load_devset()


@pytest.fixture(scope="module")
def evaluation(devset: Any) -> DevsetEvaluation:
    return evaluate_devset(devset, n_bootstrap=200)


# --------------------------------------------------------------------------- the data
def test_set_is_large_enough_and_balanced(devset: Any) -> None:
    """Issue 10: at least 60 patients, POEMS and about as many mimics (>= 25 of each)."""
    assert devset.n >= 60
    assert devset.n_poems >= 25
    assert devset.n - devset.n_poems >= 25


def test_every_patient_has_a_valid_label_group_and_citation(devset: Any) -> None:
    for p in devset.patients:
        assert p.label in DEVSET_LABELS, p.file
        assert p.group, p.file
        assert len(p.source["citation"]) > 20, p.file
        assert any(k in p.source for k in ("url", "doi", "pmcid", "pmid")), p.file
        assert p.file == f"{p.case.id}.json"


def test_every_recorded_finding_is_known_to_v1_or_agreed_for_v2(devset: Any) -> None:
    for p in devset.patients:
        for fid in p.findings:
            assert fid in FINDINGS or fid in V2_FINDINGS, (p.file, fid)
        assert set(p.dropped) == {f for f in p.findings if f not in FINDINGS}


SAME_RECORD_BY_DESIGN = {
    # Two different patients of one series whose abstract states the same findings for both.
    frozenset({"tempi-xu-2022-patient1.json", "tempi-xu-2022-patient2.json"}),
}


def test_no_two_patients_are_the_same_record(devset: Any) -> None:
    """A patient entered twice would count twice; identical records must be declared."""
    seen: dict[tuple[Any, ...], str] = {}
    for p in devset.patients:
        key = (p.label, json.dumps(dict(p.findings), sort_keys=True), p.case.age, p.case.sex)
        if key in seen:
            assert frozenset({p.file, seen[key]}) in SAME_RECORD_BY_DESIGN, (p.file, seen[key])
        seen[key] = p.file


def _excluded_sources() -> set[str]:
    """Every source address/id used by priors/, the test vignettes and the teaching cases."""
    keys: set[str] = set()

    def walk(obj: Any) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                if k in ("url", "doi", "pmcid", "pmid") and isinstance(v, str):
                    keys.update(source_keys(v))
                else:
                    walk(v)
        elif isinstance(obj, list):
            for v in obj:
                walk(v)

    files = [ROOT / "priors" / "references.toml", ROOT / "tests" / "cases" / "index.toml"]
    files += sorted((ROOT / "model" / "teaching" / "cases").glob("*.toml"))
    for path in files:
        walk(tomllib.loads(path.read_text(encoding="utf-8")))
    return keys


def test_no_patient_comes_from_a_source_used_elsewhere(devset: Any) -> None:
    """Kept apart from the parameters and from the published cases already in the repo."""
    excluded = _excluded_sources()
    assert len(excluded) > 50  # the walk found the references (guards against a silent no-op)
    for p in devset.patients:
        overlap = patient_source_keys(p) & excluded
        assert not overlap, (p.file, overlap)


def test_source_keys_match_one_article_however_it_is_addressed() -> None:
    a = source_keys("https://pmc.ncbi.nlm.nih.gov/articles/PMC2947379/")
    b = source_keys("PMC2947379")
    c = source_keys("http://dx.doi.org/10.1002/MUS.21561")
    assert a & b == {"pmc:PMC2947379"}
    assert "doi:10.1002/mus.21561" in c & source_keys("10.1002/mus.21561")
    assert source_keys("https://www.x.org/a/") & source_keys("http://x.org/a")


def test_the_citation_list_is_up_to_date(devset: Any, tmp_path: Path) -> None:
    fresh = tmp_path / "c.csv"
    write_citations(devset, fresh)
    committed = DEVSET_DIRECTORY / "CITATIONS.csv"
    assert committed.read_text(encoding="utf-8") == fresh.read_text(encoding="utf-8"), (
        "Regenerate with: poems evaluate --devset --citations model/evaluation/devset/CITATIONS.csv"
    )
    with committed.open(encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == devset.n


# --------------------------------------------------------------------------- the loader
def _write(folder: Path, name: str = "p1", **changes: Any) -> Path:
    data: dict[str, Any] = {
        "label": "tempi",
        "group": "tempi",
        "source": {"citation": "Someone A. A case. J Case 2020;1:1", "url": "https://x.org/1"},
        "notes": "",
        "case": {"id": name, "findings": {"telangiectasia": "present", "polycythemia": "present"}},
    }
    data.update(changes)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_v2_findings_are_dropped_and_counted_while_the_vocabulary_lacks_them(
    tmp_path: Path,
) -> None:
    _write(tmp_path)
    loaded = load_devset(tmp_path)
    patient = loaded.patients[0]
    expected = () if "telangiectasia" in FINDINGS else ("telangiectasia",)
    assert patient.dropped == expected
    assert loaded.dropped_counts() == {f: 1 for f in expected}
    assert patient.case.findings["polycythemia"] == "present"
    assert patient.findings["telangiectasia"] == "present"  # kept as recorded


def test_the_agreed_v2_findings_match_the_vocabulary_where_it_has_them() -> None:
    for fid, states in V2_FINDINGS.items():
        if fid in FINDINGS:
            assert FINDINGS[fid].states == states, fid


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"label": "poem"}, "label must be a v2 diagnosis id.*'poems'"),
        ({"source": {"url": "https://x.org"}}, "source.citation must be present"),
        ({"source": {"citation": "A. B. C 2020"}}, "a url, doi, pmcid or pmid"),
        ({"group": "Not An Id"}, "group must be a lower-case id"),
        ({"extra": 1}, "key must be one of"),
        (
            {"case": {"id": "p1", "findings": {"fevr": "present"}}},
            "finding id must be a v1 or agreed v2 finding id.*'fever'",
        ),
        (
            # fever is a vocabulary finding in v2, so the case loader names its states
            {"case": {"id": "p1", "findings": {"fever": "yes"}}},
            "findings.fever must be 'present', 'absent' or 'unknown'",
        ),
        ({"case": {"id": "other", "findings": {}}}, "case.id must be the file name"),
        (
            {"case": {"id": "p1", "findings": {"platelets": -5}}},
            "platelets",
        ),
    ],
)
def test_bad_patient_files_are_rejected_with_the_file_named(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    path = _write(tmp_path, **change)
    with pytest.raises(InputError, match=message) as err:
        load_devset(tmp_path)
    assert str(path) in str(err.value)


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--devset must be a folder"):
        load_devset(tmp_path)


# --------------------------------------------------------------------------- the figures
def test_summary_against_a_hand_computation() -> None:
    """Six patients worked by hand.

    P(POEMS): POEMS 0.9, 0.6, 0.3; not POEMS (cidp 0.4, tempi 0.2 and 0.6).
    AUC: 0.9 beats all three (3); 0.6 beats 0.4 and 0.2 and ties 0.6 (2.5); 0.3 beats 0.2
    (1); 6.5 / 9 = 0.7222. Brier: (0.01 + 0.16 + 0.49 + 0.16 + 0.04 + 0.36) / 6 = 0.20333.
    Bins of 0.2: [0.2, 0.4) holds 0.3 (POEMS) and 0.2 (tempi): mean 0.25, observed 0.5.
    Rule: met, indeterminate, not_met | not_met, met, not_met -> sensitivity 1/3,
    specificity 2/3. Group tempi: mean P 0.4, share above 0.5 = 0.5; its top diagnosis is
    the state with the higher mean posterior: tempi rows (0.2, 0.8) and (0.6, 0.4) -> b.
    """
    labels = ["poems", "poems", "poems", "cidp", "tempi", "tempi"]
    groups = ["poems", "poems", "poems", "cidp", "tempi", "tempi"]
    p = [0.9, 0.6, 0.3, 0.4, 0.2, 0.6]
    post = np.array([[x, 1 - x] for x in p])
    verdicts = {"r": ["met", "indeterminate", "not_met", "not_met", "met", "not_met"]}
    s = summarise(labels, groups, p, post, ("a", "b"), verdicts, n_bins=5, n_bootstrap=500)
    assert s.n == 6 and s.n_positive == 3
    assert s.auc == pytest.approx(6.5 / 9)
    assert s.brier == pytest.approx(1.22 / 6)
    second = s.calibration[1]
    assert (second.count, second.mean_predicted, second.observed_fraction) == (
        2,
        pytest.approx(0.25),
        pytest.approx(0.5),
    )
    assert s.rules["r"].sensitivity.value == pytest.approx(1 / 3)
    assert s.rules["r"].specificity.value == pytest.approx(2 / 3)
    tempi = next(g for g in s.groups if g.group == "tempi")
    assert (tempi.n, tempi.mean_p_poems, tempi.share_above_half) == (2, pytest.approx(0.4), 0.5)
    assert (tempi.top_diagnosis, tempi.top_diagnosis_mean) == ("b", pytest.approx(0.6))
    assert s.groups[0].group == "poems"
    assert s.auc_low is not None and s.auc_high is not None
    assert 0.0 <= s.auc_low <= s.auc <= s.auc_high <= 1.0


def test_bootstrap_interval_is_reproducible_and_degenerate_when_separation_is_perfect() -> None:
    # The interval comes from metrics.bootstrap_metrics, the one AUC bootstrap of the project.
    labels = groups = ["poems", "poems", "x", "x", "x"]

    def interval(scores: list[float], n: int, seed: int = 1) -> tuple[float | None, float | None]:
        p = np.asarray(scores)
        s = summarise(
            labels, groups, p, np.column_stack([p, 1 - p]), ("a", "b"), {}, n_bootstrap=n, seed=seed
        )
        return (s.auc_low, s.auc_high)

    assert interval([0.9, 0.8, 0.1, 0.2, 0.3], 300) == (1.0, 1.0)
    scores = [0.9, 0.2, 0.1, 0.5, 0.3]
    assert interval(scores, 300) == interval(scores, 300)
    direct = bootstrap_metrics([True, True, False, False, False], scores, n_boot=300, seed=7)
    assert interval(scores, 300, seed=7) == (direct["auc"].low, direct["auc"].high)
    assert interval(scores, 0) == (None, None)  # no draws, no interval


def test_evaluation_matches_the_network_and_a_hand_count_on_the_real_set(
    evaluation: DevsetEvaluation,
) -> None:
    """The AUC is the share of (POEMS, not-POEMS) pairs ranked right, counted here pair by
    pair; the Brier score is recomputed patient by patient."""
    p = evaluation.p_poems
    y = [pt.label == POSITIVE_LABEL for pt in evaluation.scored]
    pos = [p[i] for i in range(len(y)) if y[i]]
    neg = [p[i] for i in range(len(y)) if not y[i]]
    pairs = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in pos for b in neg)
    s = evaluation.summary
    assert s.auc == pytest.approx(pairs / (len(pos) * len(neg)))
    assert s.brier == pytest.approx(sum((p[i] - y[i]) ** 2 for i in range(len(y))) / len(y))
    assert s.n == len(evaluation.scored) == evaluation.devset.n - len(evaluation.left_out)
    assert sum(g.n for g in s.groups) == s.n
    for name, calls in evaluation.verdicts.items():
        met_pos = sum(1 for c, t in zip(calls, y, strict=True) if c == "met" and t)
        assert s.rules[name].sensitivity.successes == met_pos


def test_evaluation_scores_each_patient_as_the_single_case_path_does(
    evaluation: DevsetEvaluation,
) -> None:
    """Spot-check three patients against the one-patient assessment on the pgmpy reference."""
    from model.assessment import assess

    for i in (0, len(evaluation.scored) // 2, len(evaluation.scored) - 1):
        patient = evaluation.scored[i]
        one = assess(
            patient.case,
            setting=evaluation.settings[i],
            analyses=False,
            sensitivity=False,
            engine="pgmpy",
        )
        assert one.posterior["poems"] == pytest.approx(evaluation.p_poems[i], abs=1e-9)


# --------------------------------------------------------------------------- the command
SMALL = (
    "poems-bosco-1991-osteosclerotic-castleman-40f",
    "poems-jimr2021-no-mprotein-62m",
    "poems-jnnp2017-asct-b-igg-lambda-oedema",
    "tempi-xu-2022-patient3",
    "schnitzler-kim-2018-korea",
    "imcd-landeiro-2021-nephrotic-polyneuropathy-64m",
)


@pytest.fixture(scope="module")
def small_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six real patients (3 POEMS, 3 not) copied to a folder: the command on a small set."""
    folder = tmp_path_factory.mktemp("small_devset")
    for name in SMALL:
        src = DEVSET_DIRECTORY / f"{name}.json"
        (folder / src.name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def test_cli_devset_json_matches_the_library(
    capsys: pytest.CaptureFixture[str], small_dir: Path
) -> None:
    code = main(["evaluate", "--devset", str(small_dir), "--bootstrap", "100", "--json"])
    out = json.loads(capsys.readouterr().out)
    direct = evaluate_devset(load_devset(small_dir), n_bootstrap=100)
    assert code == 0
    assert out["n"] == 6 and out["n_poems"] == 3
    assert out["auc"] == pytest.approx(direct.summary.auc)
    assert out["auc_95ci"] == pytest.approx([direct.summary.auc_low, direct.summary.auc_high])
    assert out["brier"] == pytest.approx(direct.summary.brier)
    assert {g["group"] for g in out["groups"]} == {p.group for p in direct.scored}


def test_cli_markdown_rows_and_citations(
    capsys: pytest.CaptureFixture[str], small_dir: Path, tmp_path: Path
) -> None:
    rows, cites = tmp_path / "rows.csv", tmp_path / "cites.csv"
    argv = ["evaluate", "--devset", str(small_dir), "--bootstrap", "50"]
    assert main([*argv, "--rows", str(rows), "--citations", str(cites)]) == 0
    text = capsys.readouterr().out
    for needle in ("AUC of P(POEMS)", "Brier score", "| group |", "| rule set |", "dropped"):
        assert needle in text
    with rows.open(encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert {r["id"] for r in table} == set(SMALL)
    assert all(0.0 <= float(r["p_poems"]) <= 1.0 for r in table)
    assert len(cites.read_text(encoding="utf-8").splitlines()) == 7


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate"], "a cohort CSV with --label COLUMN, or --devset"),
        (["evaluate", "x.csv", "--devset"], "either a cohort or --devset"),
        (
            ["evaluate", "--devset", "--bootstrap", "-1"],
            "--bootstrap must be 0 (no interval) or between",
        ),
        (
            ["evaluate", "--devset", "--bootstrap", "5"],
            "--bootstrap must be 0 (no interval) or between",
        ),
        (["evaluate", "--devset", "--label", "dx"], "--label must be left out with --devset"),
    ],
)
def test_cli_usage_errors_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err
