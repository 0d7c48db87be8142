"""Suspicious combinations of findings (reliability review D9): a ``Check:`` note, by label,
on the CLI (text and JSON), in the app near the answer and in the report; never a refusal,
and never a changed number."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

import model.assessment
from model.assessment import assess
from model.case import Case
from model.cli import main
from model.plausibility import RULES, check_notes
from model.report import render_report
from model.vocabulary import FINDINGS, label
from ui import state

ROOT = Path(__file__).resolve().parent.parent

FIRES: dict[str, dict[str, Any]] = {
    "anemia_with_polycythemia": {"anemia": "present", "polycythemia": "present"},
    "thrombocytosis_with_low_platelets": {"platelets": 650, "thrombocytopenia": "present"},
    "nerve_conduction_without_polyneuropathy": {
        "polyneuropathy": "absent",
        "demyelinating_ncs": "present",
    },
    "marrow_plasmacytosis_without_mprotein": {
        "monoclonal_protein": "absent",
        "bone_marrow_plasma_cells_pct": {"value": 60, "unit": "%"},
    },
    "spep_band_without_mprotein": {
        "monoclonal_protein": "absent",
        "mprotein_visible_on_spep": "present",
    },
}
"""One case per rule that it must flag."""

NEIGHBOURS: dict[str, list[dict[str, Any]]] = {
    "anemia_with_polycythemia": [
        {"anemia": "present", "polycythemia": "absent"},
        {"anemia": "present"},
        {"sex": "male", "hemoglobin": 9.0},
        {"sex": "male", "hemoglobin": 18.0},
    ],
    "thrombocytosis_with_low_platelets": [
        {"platelets": 650},
        {"thrombocytopenia": "present", "thrombocytosis": "absent"},
        {"platelets": 80, "thrombocytopenia": "present"},
    ],
    "nerve_conduction_without_polyneuropathy": [
        {"polyneuropathy": "present", "demyelinating_ncs": "present"},
        {"polyneuropathy": "absent", "demyelinating_ncs": "absent"},
        {"polyneuropathy": "unknown", "conduction_block": "present"},
        {"demyelinating_ncs": "present"},
    ],
    "marrow_plasmacytosis_without_mprotein": [
        {"monoclonal_protein": "absent", "bone_marrow_plasma_cells_pct": 9.9},
        {"monoclonal_protein": "present", "bone_marrow_plasma_cells_pct": 60},
        {"monoclonal_protein": "unknown", "bone_marrow_plasma_cells_pct": 60},
        {"bone_marrow_plasma_cells_pct": 60},
    ],
    "spep_band_without_mprotein": [
        {"monoclonal_protein": "present", "mprotein_visible_on_spep": "present"},
        {"monoclonal_protein": "absent", "mprotein_visible_on_spep": "absent"},
        {"mprotein_visible_on_spep": "present"},
    ],
}
"""Cases one step away from each pattern, which it must leave alone."""


def _case(findings: dict[str, Any]) -> Case:
    data = dict(findings)
    sex = data.pop("sex", None)
    return Case.from_dict({"findings": data} | ({"sex": sex} if sex else {}))


def _rule(rule_id: str) -> Any:
    return next(r for r in RULES if r.id == rule_id)


def test_every_rule_has_a_firing_case_neighbours_and_its_reasoning() -> None:
    assert {r.id for r in RULES} == set(FIRES) == set(NEIGHBOURS)
    assert all(r.reasoning and r.explanation for r in RULES)
    assert len(RULES) <= 6


@pytest.mark.parametrize("rule_id", sorted(FIRES))
def test_rule_fires_on_its_pattern_by_label(rule_id: str) -> None:
    case = _case(FIRES[rule_id])  # accepted: a check, never a refusal
    notes = check_notes(case)
    mine = check_notes(case, (_rule(rule_id),))
    assert len(mine) == 1 and mine[0] in notes
    note = mine[0]
    assert note.startswith("Check: ") and _rule(rule_id).explanation in note
    for fid in FIRES[rule_id]:
        if fid in {c for cond in _rule(rule_id).when for c in cond.findings}:
            assert f"'{label(fid)}'" in note
    assert not [fid for fid in FINDINGS if "_" in fid and fid in note], note


@pytest.mark.parametrize(
    ("rule_id", "findings"),
    [(rule_id, f) for rule_id, cases in sorted(NEIGHBOURS.items()) for f in cases],
)
def test_rule_leaves_the_neighbours_alone(rule_id: str, findings: dict[str, Any]) -> None:
    assert check_notes(_case(findings), (_rule(rule_id),)) == ()


def test_the_nerve_conduction_rule_names_each_finding_that_holds() -> None:
    case = _case(
        {"polyneuropathy": "absent", "demyelinating_ncs": "present", "conduction_block": "present"}
    )
    (note,) = check_notes(case, (_rule("nerve_conduction_without_polyneuropathy"),))
    assert f"'{label('demyelinating_ncs')}' present, '{label('conduction_block')}' present" in note


def test_the_notes_change_no_number(monkeypatch: pytest.MonkeyPatch) -> None:
    case = _case(
        {**FIRES["marrow_plasmacytosis_without_mprotein"], **FIRES["anemia_with_polycythemia"]}
    )
    with_checks = assess(case, analyses=False)
    assert len(with_checks.checks) == 2
    assert with_checks.notes[:2] == with_checks.checks
    monkeypatch.setattr(model.assessment, "check_notes", lambda case: ())
    without = assess(case, analyses=False)
    assert without.checks == () and not any(n.startswith("Check:") for n in without.notes)
    assert dict(with_checks.posterior) == dict(without.posterior)
    assert dict(with_checks.evidence) == dict(without.evidence)
    assert with_checks.agreement == without.agreement
    assert {k: r.verdict for k, r in with_checks.criteria.items()} == {
        k: r.verdict for k, r in without.criteria.items()
    }


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_cli_prints_the_check_in_text_and_json(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps({"findings": FIRES["spep_band_without_mprotein"]}), "utf-8")
    (expected,) = check_notes(Case.load(path))
    code, text, _ = _cli("assess", str(path))
    assert code == 0 and f"Note: {expected}" in text
    code, out, _ = _cli("assess", str(path), "--json")
    data = json.loads(out)
    assert code == 0 and data["checks"] == [expected] and expected in data["notes"]


def test_report_shows_the_check() -> None:
    a = assess(_case(FIRES["nerve_conduction_without_polyneuropathy"]), analyses=False)
    assert len(a.checks) == 1
    for fmt in ("markdown", "html"):
        text = render_report(a, fmt)
        assert text.count("Check:") == 1  # beside the answer, not repeated with the notes
        assert "without clinical polyneuropathy: subclinical" in text
        assert text.index("Check:") < text.index("Formal criteria")
        assert label("demyelinating_ncs") in text, fmt


def test_app_shows_the_check_as_a_warning_near_the_answer() -> None:
    case = _case(FIRES["marrow_plasmacytosis_without_mprotein"])
    (expected,) = check_notes(case)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.query_params.update({state.LINK_PARAM: state.encode_case(case)})
    at.run()
    assert not at.exception
    warnings = [w.value for w in at.warning if w.value.startswith("Check:")]
    assert warnings == [expected]
    assert "bone_marrow_plasma_cells_pct" not in warnings[0]
    assert "monoclonal_protein" not in warnings[0]
