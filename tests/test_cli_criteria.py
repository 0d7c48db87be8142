"""``poems criteria``: JSON shape, text trace, and one clear error line for bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from model.cli import SUBCOMMANDS, main
from model.criteria import RULE_SETS

CASES = Path(__file__).parent / "cases"
CLASSIC = {
    "id": "case-17",
    "findings": {
        "polyneuropathy": "present",
        "monoclonal_protein": "present",
        "light_chain": "lambda",
        "sclerotic_bone_lesion": "present",
        "vegf": {"value": 2400, "unit": "pg/mL", "specimen": "serum", "uln": 500},
        "splenomegaly": "present",
        "peripheral_edema": "present",
    },
}


@pytest.fixture
def classic(tmp_path: Path) -> Path:
    path = tmp_path / "classic.json"
    path.write_text(json.dumps(CLASSIC), encoding="utf-8")
    return path


def test_criteria_is_registered() -> None:
    assert "criteria" in SUBCOMMANDS


def test_json_is_one_object_keyed_by_rule_set(
    classic: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["criteria", str(classic), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data.pop("about")["tool"] == "poems-dx"
    assert list(data) == list(RULE_SETS)
    for rule_set, result in data.items():
        assert result["verdict"] in ("met", "not_met", "indeterminate"), rule_set
        assert isinstance(result["could_change_with"], list)
        for criterion in result["criteria"]:
            assert {"id", "status", "satisfied_by"} <= set(criterion)
    assert data["seed"]["verdict"] == "met"
    assert data["seed"]["flags"] == ["lesion_size_unknown"]
    assert data["suichi_2019"]["verdict"] == "met"  # 2400 > 1000; edema + organomegaly + lesion


def test_json_for_one_rule_set_and_indeterminate_entries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "open.json"
    findings = {"polyneuropathy": "present", "light_chain": "lambda", "ascites": "present"}
    findings |= {"sclerotic_bone_lesion": "absent", "vegf_elevated": "absent"}
    path.write_text(json.dumps({"findings": findings}), encoding="utf-8")
    assert main(["criteria", str(path), "--json", "--rule-set", "seed"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["about", "seed"]
    assert data["seed"]["verdict"] == "indeterminate"
    assert data["seed"]["could_change_with"] == [
        {"finding": "castleman_disease", "if_present": "met", "if_absent": "not_met"}
    ]


def test_text_trace_covers_every_rule_set(
    classic: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["criteria", str(classic)]) == 0
    out = capsys.readouterr().out
    for rule_set in RULE_SETS:
        assert f"== {rule_set}: " in out
    assert "== seed: MET" in out
    assert "[+] mandatory polyneuropathy <- polyneuropathy" in out
    assert "decision support, not a diagnosis" in out
    assert "! lesion_size_unknown" in out
    assert "Source: doi:10.1002/ajh.27081" in out


def test_text_trace_shows_what_would_decide(capsys: pytest.CaptureFixture[str]) -> None:
    path = CASES / "abeykoon_elusive_no_immunofixation.json"
    assert main(["criteria", str(path), "--rule-set", "mayo_2019"]) == 0
    out = capsys.readouterr().out
    assert "== mayo_2019: INDETERMINATE" in out
    assert "What would decide it:" in out
    assert "monoclonal_protein: present -> met, absent -> not_met" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, r"case file must be a readable JSON file"),
        ('{"findings": {', r"must be valid JSON"),
        ('{"findings": {"polyneuropthy": "present"}}', r"Did you mean 'polyneuropathy'"),
        ('{"findings": {"platelets": 45000}}', r"Enter 45\."),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert main(["criteria", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("poems criteria: error: ")
    assert str(path) in lines[0]
    assert re.search(message, lines[0])


def test_unknown_rule_set_is_exit_2_with_suggestion(
    classic: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["criteria", str(classic), "--rule-set", "suichi"]) == 2
    err = capsys.readouterr().err
    assert "rule set must be one of seed, mayo_2019, dispenzieri_2003, suichi_2019" in err
    assert "Did you mean 'suichi_2019'?" in err


def test_subprocess_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"findings": {"vegf": {"value": 2.4, "unit": "pg/mL", "specimen": "serum", "uln": 500}}}',
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "model", "criteria", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "Set unit to 'ng/mL'" in proc.stderr


def test_json_for_a_vignette_lists_the_deciding_finding(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["criteria", str(CASES / "kang_poems_castleman.json"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["suichi_2019"]["could_change_with"] == [
        {"finding": "vegf_elevated", "if_present": "met", "if_absent": "not_met"}
    ]
