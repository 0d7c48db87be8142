"""Comparing prior folders: exactly the edited parameter is reported, and its effect shows."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from model.case import Case
from model.cli import main
from model.evaluation.compare import compare_priors, diff_parameters
from model.parameters import default_directory, load_priors

PRIORS = default_directory()


def _copy_with_edit(tmp_path: Path, old: str, new: str) -> Path:
    """Copy priors/ and replace the first `old` after the [hepatomegaly] header (its leak is
    the first parameter of the section)."""
    target = tmp_path / "priors_b"
    shutil.copytree(PRIORS, target)
    path = target / "findings.toml"
    text = path.read_text()
    header = text.index("[hepatomegaly]\n")
    start = text.index(old, header)
    path.write_text(text[:start] + new + text[start + len(old) :])
    return target


@pytest.fixture(scope="module")
def default_priors():  # type: ignore[no-untyped-def]
    return load_priors(PRIORS)


def test_identical_folders_have_no_differences(default_priors, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / "same"
    shutil.copytree(PRIORS, copy)
    assert diff_parameters(default_priors, load_priors(copy)) == []


def test_one_textual_edit_gives_exactly_one_difference(default_priors, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    leak = default_priors.findings["hepatomegaly"].leak
    assert leak is not None
    old = f"p = {leak.p:g}"
    b_dir = _copy_with_edit(tmp_path, old, "p = 0.09")
    diffs = diff_parameters(default_priors, load_priors(b_dir))
    assert [(d.key, d.change) for d in diffs] == [("findings.hepatomegaly.leak", "value")]
    (d,) = diffs
    assert d.value_a == pytest.approx(leak.p) and d.value_b == pytest.approx(0.09)
    assert d.source_a == d.source_b == leak.source
    assert d.delta == pytest.approx(0.09 - leak.p)


def test_provenance_only_change_is_labelled(default_priors, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    leak = default_priors.findings["hepatomegaly"].leak
    assert leak is not None and leak.high is not None
    b_dir = _copy_with_edit(tmp_path, f"high = {leak.high:g}", "high = 0.2")
    diffs = diff_parameters(default_priors, load_priors(b_dir))
    assert [(d.key, d.change) for d in diffs] == [("findings.hepatomegaly.leak", "provenance")]


def test_effect_on_a_case_moves_only_with_the_finding(default_priors, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A larger background rate of hepatomegaly makes hepatomegaly weaker evidence for
    POEMS: P(POEMS) must fall for a case with hepatomegaly, and not move without it."""
    leak = default_priors.findings["hepatomegaly"].leak
    assert leak is not None
    b = load_priors(_copy_with_edit(tmp_path, f"p = {leak.p:g}", "p = 0.09"))
    base = {"polyneuropathy": "present", "monoclonal_protein": "present"}
    with_liver = Case.from_dict({"findings": {**base, "hepatomegaly": "present"}})
    without = Case.from_dict({"findings": base})
    moved = compare_priors(default_priors, b, case=with_liver, setting="neuropathy_clinic")
    still = compare_priors(default_priors, b, case=without, setting="neuropathy_clinic")
    poems = {r["diagnosis"]: r for r in moved.case.rows()}["poems"]  # type: ignore[union-attr]
    assert poems["delta"] < -0.005
    assert all(abs(r["delta"]) < 1e-12 for r in still.case.rows())  # type: ignore[union-attr]
    assert sum(r["b"] for r in moved.case.rows()) == pytest.approx(1.0)  # type: ignore[union-attr]
    text = moved.to_markdown()
    assert "findings.hepatomegaly.leak" in text and "| poems |" in text


def test_cli_json_names_the_parameter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (PRIORS / "findings.toml").read_text()
    leak_p = re.search(
        r"\[hepatomegaly\]\s*\nmodel = \"noisy_or\"\s*\nleak = \{p = ([0-9.]+)", text
    )
    assert leak_p is not None
    b_dir = _copy_with_edit(tmp_path, f"p = {leak_p.group(1)}", "p = 0.09")
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"findings": {"hepatomegaly": "present"}}))
    code = main(["compare-priors", str(PRIORS), str(b_dir), "--case", str(case), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["n_differences"] == 1
    assert out["differences"][0]["key"] == "findings.hepatomegaly.leak"
    assert {r["diagnosis"] for r in out["case"]["posterior"]} >= {"poems", "cidp"}


def test_cli_missing_folder_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["compare-priors", str(PRIORS), str(tmp_path / "nope")])
    err = capsys.readouterr().err
    assert code == 2 and "priors folder" in err and "Traceback" not in err


def test_cli_cohort_metrics_side_by_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (PRIORS / "findings.toml").read_text()
    leak_p = re.search(
        r"\[hepatomegaly\]\s*\nmodel = \"noisy_or\"\s*\nleak = \{p = ([0-9.]+)", text
    )
    assert leak_p is not None
    b_dir = _copy_with_edit(tmp_path, f"p = {leak_p.group(1)}", "p = 0.09")
    cohort = tmp_path / "c.csv"
    cohort.write_text(
        "dx,polyneuropathy,monoclonal_protein,light_chain,hepatomegaly\n"
        "poems,present,present,lambda,present\n"
        "cidp,present,absent,,present\n"
        "cidp,present,,,absent\n"
    )
    code = main(
        [
            "compare-priors",
            str(PRIORS),
            str(b_dir),
            "--cohort",
            str(cohort),
            "--label",
            "dx",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    a, b = out["cohort"]["a"], out["cohort"]["b"]
    assert a["n"] == b["n"] == 3 and a["auc"] == b["auc"] == 1.0
    assert a["brier"] != b["brier"]  # the edited leak changes the scores


def test_cli_cohort_needs_a_label(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["compare-priors", str(PRIORS), str(PRIORS), "--cohort", "x.csv"])
    assert code == 2 and "--label must be a column name" in capsys.readouterr().err
