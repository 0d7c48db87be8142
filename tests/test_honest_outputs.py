"""The interval label, the work-up and the criteria notes reach every output: the assessment
JSON (what `poems assess --json` prints), the CLI text and the report."""

from __future__ import annotations

from pathlib import Path

from model.analysis.uncertainty import INTERVAL_LABEL, INTERVAL_MEANING
from model.assessment import assess
from model.case import Case
from model.cli.assess import format_text
from model.criteria import FLAG_TEXT
from model.report import render_report

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _case() -> Case:
    """PN + M-protein + serum VEGF 3.5 x ULN: the seed's VEGF reading is flagged."""
    return Case.from_dict(
        {
            "setting": "paraproteinemic_neuropathy",
            "findings": {
                "polyneuropathy": "present",
                "monoclonal_protein": "present",
                "vegf": {"value": 350, "unit": "pg/mL", "specimen": "serum", "uln": 100},
            },
        }
    )


def test_json_carries_interval_label_workup_and_criteria_notes() -> None:
    out = assess(_case(), sensitivity=False).to_dict()
    assert out["credible_interval"]["label"] == INTERVAL_LABEL
    assert out["credible_interval"]["meaning"] == INTERVAL_MEANING
    assert out["workup"]["items"] and out["workup"]["items"][0]["tier"] == "bedside"
    assert any(FLAG_TEXT["vegf_reading_applied"] in note for note in out["notes"])
    assert "vegf_reading_applied" in out["criteria"]["seed"]["flags"]


def test_cli_text_and_report_show_them() -> None:
    a = assess(_case(), sensitivity=False)
    text = format_text(a)
    assert INTERVAL_LABEL in text
    assert "Next tests:" in text and "[blood]" in text
    report = render_report(a)
    assert INTERVAL_LABEL in report and INTERVAL_MEANING in report
    assert "in the order an expert orders them" in report


def test_settled_example_reads_settled_everywhere() -> None:
    a = assess(Case.load(EXAMPLES / "classic_poems.json"), sensitivity=False)
    assert "Next tests: Settled" in format_text(a)
    assert "Settled" in render_report(a)
