"""``poems assess``: text and JSON output, options, and errors as one line with exit code 2."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from model.assessment import DISCLAIMER, Assessment, agreement_text, assess, strongest_findings
from model.case import Case
from model.cli import main
from model.criteria import criteria_json, evaluate
from model.network.structure import DIAGNOSIS_STATES
from model.report import render_report

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FIXTURE = Path(__file__).parent / "fixtures" / "priors_minimal"
CLASSIC = EXAMPLES / "classic_poems.json"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_text_output_puts_probability_beside_criteria(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "assess", str(CLASSIC))
    assert code == 0
    from model.assessment import assess
    from model.case import Case
    from model.cli.assess import headline
    from model.formatting import rule_set_name

    # near certainty is printed as a bound ("> 99.99 %"), never "= 100.0 %"
    assert f"P(POEMS) {headline(assess(Case.load(CLASSIC)))}" in out
    assert "100.0 %" not in out
    assert "POEMS syndrome" in out and "CIDP" in out
    for rule_set in ("seed", "mayo_2019", "dispenzieri_2003", "suichi_2019"):
        assert f"{rule_set_name(rule_set):<18}met" in out  # by name, not by id
    assert DISCLAIMER in out
    assert "Agree" in out


def test_json_output_has_posterior_criteria_setting_evidence(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = _run(capsys, "assess", str(CLASSIC), "--json")
    assert code == 0
    data = json.loads(out)
    assert list(data["posterior"]) == list(DIAGNOSIS_STATES)
    assert math.fsum(data["posterior"].values()) == pytest.approx(1.0, abs=1e-9)
    case = Case.load(CLASSIC)
    assert data["criteria"] == json.loads(json.dumps(criteria_json(case)))
    assert data["setting"] == (case.setting or "neuropathy_clinic")
    assert data["evidence"]["polyneuropathy"] == "present"
    assert data["posterior_poems"] == data["posterior"]["poems"]


def test_setting_and_priors_options(capsys: pytest.CaptureFixture[str]) -> None:
    _, out_default, _ = _run(capsys, "assess", str(CLASSIC), "--json", "--priors", str(FIXTURE))
    _, out_hem, _ = _run(
        capsys,
        "assess",
        str(CLASSIC),
        "--json",
        "--priors",
        str(FIXTURE),
        "--setting",
        "general_population",
    )
    default, hem = json.loads(out_default), json.loads(out_hem)
    assert hem["setting"] == "general_population"
    assert hem["posterior"]["poems"] < default["posterior"]["poems"]
    assert hem["prior"]["poems"] == pytest.approx(3e-6)


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["--setting", "neuropathy_clinc"], "Did you mean 'neuropathy_clinic'"),
        (["--priors", "/nonexistent/priors"], "priors folder must be"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], pattern: str
) -> None:
    code, out, err = _run(capsys, "assess", str(CLASSIC), *argv)
    assert code == 2 and out == ""
    assert err.startswith("poems assess: error:") and pattern in err
    assert "Traceback" not in err


def test_missing_case_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(capsys, "assess", str(tmp_path / "none.json"))
    assert code == 2 and "case file" in err


def test_assessment_is_frozen_and_renders() -> None:
    a = assess(Case.load(CLASSIC))
    assert isinstance(a, Assessment)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.setting = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        a.posterior["poems"] = 0.0  # type: ignore[index]
    md = render_report(a, "markdown")  # the one renderer of an assessment
    assert DISCLAIMER in md and "P(POEMS)" in md
    json.dumps(a.to_dict())  # JSON-serialisable
    interval = a.to_dict()["credible_interval"]
    assert interval["n_draws"] == 2000 and interval["level"] == 0.9
    assert interval["low"] <= a.posterior_poems <= interval["high"]
    lean = assess(Case.load(CLASSIC), analyses=False)
    for name in ("contributions", "next_tests", "credible_interval", "sensitivity"):
        assert name in a.to_dict() and name not in lean.to_dict()


def test_notes_name_default_uln_and_lesion_size() -> None:
    case = Case.from_dict(
        {
            "findings": {
                "sclerotic_bone_lesion": "present",
                "sclerotic_lesion_size_cm": 1.2,
                "vegf": {"value": 900, "unit": "pg/mL", "specimen": "serum"},
            }
        }
    )
    notes = " ".join(assess(case).notes)
    assert "default ULN" in notes
    assert "does not read" not in notes  # network v2 reads the lesion size too


def test_a_finding_against_the_setting_is_a_notice() -> None:
    """A neuropathy clinic is defined by a (demyelinating) polyneuropathy: a case without one
    is not a patient of that setting, and the assessment says so (field and note)."""
    case = Case.from_dict({"findings": {"polyneuropathy": "absent"}})
    a = assess(case, setting="neuropathy_clinic", analyses=False)
    assert [dict(c) for c in a.setting_conflicts] == [
        {"finding": "polyneuropathy", "setting_state": "present", "case_state": "absent"}
    ]
    assert any("defined by Polyneuropathy present" in n for n in a.notes)
    assert a.to_dict()["setting_conflicts"][0]["finding"] == "polyneuropathy"
    fitting = assess(case.with_finding("polyneuropathy", "present"), analyses=False)
    assert fitting.setting_conflicts == ()


def test_castleman_variant_is_noted() -> None:
    case = Case.from_dict(
        {
            "findings": {
                "castleman_disease": "present",
                "monoclonal_protein": "absent",
                "polyneuropathy": "present",
                "lymphadenopathy": "present",
            }
        }
    )
    assert any("Castleman" in n for n in assess(case).notes)


def test_agreement_texts() -> None:
    met = evaluate(Case.load(CLASSIC))
    assert met.verdict == "met"
    high = dict.fromkeys(DIAGNOSIS_STATES, 0.0) | {"poems": 0.9, "cidp": 0.1}
    low = dict.fromkeys(DIAGNOSIS_STATES, 0.0) | {"poems": 0.02, "cidp": 0.98}
    assert agreement_text(met, high, high).startswith("Agree")
    text = agreement_text(met, low, low)
    assert text.startswith("Disagree") and "CIDP" in text
    not_met = evaluate(
        Case.from_dict({"findings": {"polyneuropathy": "present", "monoclonal_protein": "absent"}})
    )
    assert not_met.verdict == "not_met"
    assert agreement_text(not_met, low, low).startswith("Agree")
    assert agreement_text(not_met, high, high).startswith("Disagree")
    undecided = evaluate(Case.from_dict({"findings": {"polyneuropathy": "present"}}))
    assert agreement_text(undecided, low, low).startswith("Undecided")


def test_strongest_findings_and_disagreement_names_them() -> None:
    case = Case.from_dict(
        {
            "findings": {
                "polyneuropathy": "present",
                "monoclonal_protein": "absent",
                "sclerotic_bone_lesion": "present",
                "papilledema": "present",
            }
        }
    )
    up, down = strongest_findings(assess(case).contributions)
    # v2: papilledema and a sclerotic lesion are near-equal evidence here (the lesion is
    # shared with myeloma and solitary plasmacytoma), so both lead, whichever is first.
    assert sorted(u.split()[0] for u in up[:2]) == ["Papilledema", "Sclerotic"]
    assert down[0].startswith("Monoclonal protein")
    text = assess(case).agreement
    assert "Strongest for POEMS: " in text and "Sclerotic" in text and "Papilledema" in text
    assert "Strongest against: Monoclonal" in text
