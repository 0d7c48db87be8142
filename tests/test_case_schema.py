"""The published case JSON Schema is generated from the vocabulary, up to date, and every case
file in the repository (examples, published vignettes, teaching cases, FHIR output) is valid
against it; files the loader refuses for their shape are refused by the schema too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from model.case import Case
from model.case_schema import case_schema, schema_text
from model.teaching.library import load_library

ROOT = Path(__file__).parents[1]
PUBLISHED = ROOT / "docs" / "case.schema.json"
CASE_FILES = sorted(
    [*(ROOT / "examples").glob("*.json"), *(ROOT / "tests" / "cases").glob("*.json")]
)
VALIDATOR = jsonschema.Draft202012Validator(case_schema())


def test_the_published_schema_is_up_to_date() -> None:
    assert PUBLISHED.read_text(encoding="utf-8") == schema_text(), (
        "docs/case.schema.json is stale: run 'python -m model.case_schema > docs/case.schema.json'"
    )
    jsonschema.Draft202012Validator.check_schema(json.loads(schema_text()))


def test_there_are_case_files_to_check() -> None:
    assert len(CASE_FILES) >= 20


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.name)
def test_every_case_file_is_valid(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    VALIDATOR.validate(data)
    VALIDATOR.validate(Case.from_dict(data).to_dict())


def test_every_teaching_case_step_is_valid() -> None:
    checked = 0
    for case in load_library().values():
        for step in range(len(case.steps)):
            VALIDATOR.validate(case.case_at(step).to_dict())
            checked += 1
    assert checked >= 12


@pytest.mark.parametrize(
    "data",
    [
        {"findings": {"polyneuropathy": "yes"}},
        {"findings": {"polyneuropthy": "present"}},
        {"findings": {"hepatomegaly": []}},
        {"findings": {"platelets": "520"}},
        {"findings": {"platelets": 520000}},
        {"findings": {"hemoglobin": {"value": 8.1}}},
        {"findings": {"hemoglobin": {"value": 8.1, "unit": "mmol"}}},
        {"findings": {"vegf": {"value": 2400, "unit": "pg/ml", "specimen": "serum"}}},
        {"findings": {"light_chain": "Lambda"}},
        {"sex": "other"},
        {"setting": "ICU"},
        {"hepatomegaly": "present"},
    ],
)
def test_shapes_the_loader_refuses_are_refused_by_the_schema(data: dict[str, Any]) -> None:
    assert not VALIDATOR.is_valid(data)
    with pytest.raises(Exception) as info:
        Case.from_dict(data)
    assert type(info.value).__name__ == "CaseError"


def test_units_and_unknown_are_valid() -> None:
    VALIDATOR.validate(
        {
            "findings": {
                "hemoglobin": {"value": 8.1, "unit": "mmol/L"},
                "platelets": "unknown",
                "vegf": "unknown",
                "polyneuropathy": "unknown",
            }
        }
    )


# Phrases that send a reader to a document outside the repository. Internal documents are
# described in docs/sources.md instead ("not shipped" was the old wording for them).
OUTSIDE_POINTERS = ("SPEC section", "SPEC.md", "shared/domain", "not shipped")


def test_internal_sources_are_described_in_the_repository() -> None:
    """Each text that cites an internal document points to docs/sources.md, which has it."""
    sources = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    for heading in ("## [SEED]", "## [CR3]"):
        assert heading in sources, heading
    for needed in ("0.8 cm", "3 to 4 times", "physical examination", "immunofixation"):
        assert needed in sources, needed
    citing = (
        "model/analysis/workup.toml",
        "model/criteria/rulesets.py",
        "priors/README.md",
        "docs/reliability.md",
    )
    for name in citing:
        assert "docs/sources.md" in (ROOT / name).read_text(encoding="utf-8"), name


def test_formats_md_lists_every_code_and_no_text_points_outside_the_repository() -> None:
    from model import codes

    text = (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
    for code in (*codes.LAB_CODES, *codes.FINDING_CODES):
        assert f"| `{code.target}` | {code.system_name} | `{code.code}` |" in text, code
    offenders = []
    for folder in ("model", "ui", "pages", "docs", "priors"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".md", ".toml") and path.is_file():
                body = path.read_text(encoding="utf-8")
                if any(phrase in body for phrase in OUTSIDE_POINTERS):
                    offenders.append(str(path.relative_to(ROOT)))
    for path in (ROOT / "README.md", ROOT / "app.py"):
        body = path.read_text(encoding="utf-8")
        if any(phrase in body for phrase in OUTSIDE_POINTERS):
            offenders.append(path.name)
    assert not offenders, f"pointers to a document outside the repository: {offenders}"
