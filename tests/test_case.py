"""The case file format (docs/formats.md): every kind of bad input gives one clear error.

Each bad input must raise :class:`~model.exceptions.CaseError` whose message names the field,
the value and the fix; ``match`` pins the part of the message a user needs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from model.case import MAX_CASE_BYTES, Case
from model.exceptions import CaseError, PoemsError


def _findings(**findings: Any) -> str:
    return json.dumps({"findings": findings})


def _vegf(value: float, unit: str = "pg/mL", specimen: str | None = "serum", **extra: Any) -> Any:
    out: dict[str, Any] = {"value": value, "unit": unit, **extra}
    if specimen is not None:
        out["specimen"] = specimen
    return out


BAD_INPUTS: list[tuple[str, str | bytes, str]] = [
    (
        "unknown finding id with did-you-mean",
        _findings(polyneuropthy="present"),
        r"finding id must be an id listed by .poems vocabulary."
        r".*'polyneuropthy'.*Did you mean 'polyneuropathy'",
    ),
    (
        "unknown top-level key",
        json.dumps({"findngs": {}}),
        r"case key must be one of id, age, sex, setting, findings.*Did you mean 'findings'",
    ),
    (
        "finding placed at top level",
        json.dumps({"polyneuropathy": "present"}),
        r"move 'polyneuropathy' there",
    ),
    (
        "binary value not a state",
        _findings(polyneuropathy="maybe"),
        r"findings\.polyneuropathy must be 'present', 'absent' or 'unknown'\. Got 'maybe'",
    ),
    ("JSON boolean", _findings(polyneuropathy=True), r"Got True instead\. Write 'present'"),
    ("'yes'", _findings(sclerotic_bone_lesion="yes"), r"Got 'yes' instead\. Write 'present'"),
    ("capitalised state", _findings(ascites="Absent"), r"Got 'Absent' instead\. Write 'absent'"),
    ("number for a binary", _findings(papilledema=0), r"Got 0 instead\. Write 'absent'"),
    ("null value", _findings(papilledema=None), r"Use 'unknown' or leave the finding out"),
    (
        "wrong category case",
        _findings(monoclonal_protein="present", light_chain="Lambda"),
        r"light_chain must be one of 'lambda', 'kappa'\. Got 'Lambda'.*Did you mean 'lambda'",
    ),
    (
        "heavy chain spelling",
        _findings(monoclonal_protein="present", heavy_chain="iga"),
        r"Did you mean 'IgA'",
    ),
    (
        "VEGF in the wrong unit (2.4 pg/mL with ULN 500)",
        _findings(vegf=_vegf(2.4, uln=500)),
        r"vegf\.value must be between 10 and 30000 pg/mL.*looks like ng/mL.*Set unit to 'ng/mL'",
    ),
    (
        "VEGF ng/mL implausibly large",
        _findings(vegf=_vegf(2400, unit="ng/mL")),
        r"vegf\.value must be between 0\.01 and 30 ng/mL.*set unit to 'pg/mL'",
    ),
    (
        "VEGF missing specimen",
        _findings(vegf=_vegf(2400, specimen=None)),
        r"vegf\.specimen must be 'serum' or 'plasma'\. Got None.*platelets release VEGF",
    ),
    (
        "VEGF bad specimen",
        _findings(vegf=_vegf(2400, specimen="blood")),
        r"vegf\.specimen must be 'serum' or 'plasma'\. Got 'blood'",
    ),
    (
        "VEGF bad unit",
        _findings(vegf=_vegf(2400, unit="pg/dL")),
        r"vegf\.unit must be one of pg/mL, ng/L, ng/mL\. Got 'pg/dL'",
    ),
    (
        "VEGF unit spelled differently",
        _findings(vegf=_vegf(2400, unit="PG/ML")),
        r"Write it exactly as 'pg/mL'",
    ),
    ("VEGF as a bare number", _findings(vegf=2400), r"use the finding 'vegf_elevated'"),
    (
        "VEGF unknown field",
        _findings(vegf=_vegf(2400, ref=3)),
        r"vegf\.ref must be one of value, unit, specimen, uln",
    ),
    (
        "VEGF value missing",
        _findings(vegf={"unit": "pg/mL", "specimen": "serum"}),
        r"vegf\.value must be a number.*needs a 'value'",
    ),
    ("VEGF value zero", _findings(vegf=_vegf(0)), r"cannot be zero or negative"),
    (
        "VEGF ULN in the wrong unit",
        _findings(vegf=_vegf(2400, uln=0.5)),
        r"vegf\.uln must be between 20 and 5000 pg/mL",
    ),
    (
        "VEGF value quoted",
        _findings(vegf=_vegf("2400")),  # type: ignore[arg-type]
        r"vegf\.value must be a number in pg/mL\. Got '2400'.*without quotes",
    ),
    (
        "negative value",
        _findings(platelets=-5),
        r"platelets must be between 1 and 3000 10\^9/L\. Got -5.*negative",
    ),
    (
        "NaN token",
        '{"findings": {"platelets": NaN}}',
        r"platelets must be a finite number in 10\^9/L\. Got nan",
    ),
    ("Infinity token", '{"findings": {"hemoglobin": Infinity}}', r"a finite number in g/dL"),
    (
        "NaN VEGF",
        '{"findings": {"vegf": {"value": NaN, "unit": "pg/mL", "specimen": "serum"}}}',
        r"vegf\.value must be a finite number",
    ),
    (
        "platelets 45000 per microlitre",
        _findings(platelets=45000),
        r"looks like a count per microlitre.*Enter 45\.",
    ),
    ("platelets quoted", _findings(platelets="520"), r"Got '520' instead\. Write the number"),
    ("hemoglobin 140 g/L", _findings(hemoglobin=140), r"looks like g/L: 140 g/L = 14 g/dL"),
    ("hematocrit 0.45", _findings(hematocrit=0.45), r"looks like a fraction.*Enter 45"),
    (
        "lesion size in mm",
        _findings(sclerotic_bone_lesion="present", sclerotic_lesion_size_cm=80),
        r"sclerotic_lesion_size_cm must be between 0 and 20 cm.*millimetres: 80 mm = 8 cm",
    ),
    (
        "marrow plasma cells over 100",
        _findings(bone_marrow_plasma_cells_pct=150),
        r"cannot exceed 100",
    ),
    ("age 200", json.dumps({"age": 200, "findings": {}}), r"age must be between 0 and 120"),
    ("age quoted", json.dumps({"age": "51", "findings": {}}), r"age must be a number in years"),
    ("age NaN", '{"age": NaN, "findings": {}}', r"age must be a finite number"),
    ("sex 'M'", json.dumps({"sex": "M"}), r"sex must be 'male' or 'female'\. Got 'M'.*'male'"),
    ("non-string id", json.dumps({"id": 17}), r"id must be a string\. Got 17.*quotes"),
    (
        "bad setting",
        json.dumps({"setting": "Neuropathy Clinic"}),
        r"setting must be a setting id",
    ),
    (
        "findings not an object",
        json.dumps({"findings": ["polyneuropathy"]}),
        r"findings must be an object of finding id -> value",
    ),
    ("top level not an object", "[1, 2]", r"case must be a JSON object\. Got 'list'"),
    ("invalid JSON", '{"findings": {', r"case file must be valid JSON.*JSON parser"),
    ("invalid UTF-8", b'{"findings": {"x": "\xff"}}', r"valid JSON.*utf-8"),
    (
        "duplicate key",
        '{"findings": {"ascites": "present", "ascites": "absent"}}',
        r"each key once.*'ascites' twice",
    ),
    (
        "oversized file",
        json.dumps({"id": "x" * (MAX_CASE_BYTES + 1)}),
        rf"at most {MAX_CASE_BYTES} bytes.*cohort CSV",
    ),
    (
        "aggregate absent with a part present",
        _findings(organomegaly="absent", hepatomegaly="present"),
        r"findings\.organomegaly must be consistent with its part 'hepatomegaly'",
    ),
    (
        "platelets vs thrombocytosis",
        _findings(platelets=520, thrombocytosis="absent"),
        r"thrombocytosis must be 'present' as implied by platelets 520",
    ),
    (
        "hemoglobin vs polycythemia",
        json.dumps({"sex": "male", "findings": {"hemoglobin": 18.0, "polycythemia": "absent"}}),
        r"polycythemia must be 'present' as implied by the hemoglobin",
    ),
    (
        "vegf_elevated present vs a normal value",
        _findings(vegf_elevated="present", vegf=_vegf(50, specimen="plasma")),
        r"vegf_elevated must be consistent with the measured VEGF \(plasma VEGF 50",
    ),
    (
        "vegf_elevated absent vs a high value",
        _findings(vegf_elevated="absent", vegf=_vegf(2000, specimen="plasma")),
        r"vegf_elevated must be consistent.*Remove 'vegf_elevated'",
    ),
    (
        "light chain with monoclonal protein absent",
        _findings(monoclonal_protein="absent", light_chain="lambda"),
        r"light_chain must be given only when 'monoclonal_protein' is present",
    ),
    (
        "heavy chain with monoclonal protein absent",
        _findings(monoclonal_protein="absent", heavy_chain="IgA"),
        r"heavy_chain must be given only when 'monoclonal_protein' is present",
    ),
    (
        "lesion size with lesion absent",
        _findings(sclerotic_bone_lesion="absent", sclerotic_lesion_size_cm=1.0),
        r"sclerotic_lesion_size_cm must be given only when 'sclerotic_bone_lesion' is present",
    ),
]


def test_bad_inputs_are_distinct_and_many() -> None:
    names = [name for name, _, _ in BAD_INPUTS]
    texts = [text for _, text, _ in BAD_INPUTS]
    assert len(set(names)) == len(names) >= 25
    assert len(set(texts)) == len(texts)


@pytest.mark.parametrize(("name", "text", "match"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_case_input_is_rejected_with_a_clear_message(
    name: str, text: str | bytes, match: str
) -> None:
    with pytest.raises(CaseError, match=match) as info:
        Case.from_json(text, where="case.json")
    message = str(info.value)
    assert message.startswith("case.json: "), message
    assert "\n" not in message
    assert " must be " in message and " instead." in message


@pytest.mark.parametrize(("name", "text", "match"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_case_file_names_the_file(
    tmp_path: Path, name: str, text: str | bytes, match: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(CaseError, match=match) as info:
        Case.load(path)
    assert str(info.value).startswith(f"{path}: ")


def test_missing_file_is_a_case_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(CaseError, match=r"case file must be a readable JSON file.*nope\.json"):
        Case.load(missing)


def test_directory_is_not_a_case_file(tmp_path: Path) -> None:
    with pytest.raises(PoemsError, match=r"readable JSON file"):
        Case.load(tmp_path)


# ---------------------------------------------------------------- what is accepted
def test_unknown_is_not_assessed_not_absent() -> None:
    case = Case.from_json(_findings(polyneuropathy="unknown", ascites="absent"))
    assert case.state("polyneuropathy") is None
    assert case.state("ascites") == "absent"
    assert case.state("papilledema") is None
    assert case.assessed() == ("ascites",)


def test_aggregates_derive_from_parts_but_only_qualifying_endocrine_parts() -> None:
    case = Case.from_json(
        _findings(hepatomegaly="present", diabetes_mellitus="present", hypothyroidism="present")
    )
    assert case.state("organomegaly") == "present"
    assert case.state("endocrinopathy") is None  # diabetes/hypothyroidism are not parts
    every_part_absent = Case.from_json(
        _findings(
            hypogonadism="absent",
            adrenal_insufficiency="absent",
            hyperprolactinemia="absent",
            hypoparathyroidism="absent",
            diabetes_mellitus="present",
        )
    )
    assert every_part_absent.state("endocrinopathy") == "absent"


def test_endocrinopathy_absent_with_diabetes_is_consistent() -> None:
    case = Case.from_json(_findings(endocrinopathy="absent", diabetes_mellitus="present"))
    assert case.state("endocrinopathy") == "absent"


def test_platelets_imply_thrombocytosis_above_450_only() -> None:
    assert Case.from_json(_findings(platelets=451)).state("thrombocytosis") == "present"
    assert Case.from_json(_findings(platelets=450)).state("thrombocytosis") == "absent"


def test_vegf_ng_per_ml_is_converted() -> None:
    case = Case.from_json(_findings(vegf=_vegf(2.4, unit="ng/mL", uln=0.5)))
    assert case.vegf is not None
    assert case.vegf.value_pg_ml == pytest.approx(2400.0)
    assert case.vegf.multiple_of_uln == pytest.approx(4.8)


def test_light_chain_with_unassessed_protein_is_accepted() -> None:
    case = Case.from_json(_findings(light_chain="lambda"))
    assert case.state("light_chain") == "lambda"
    assert case.state("monoclonal_protein") is None


# ---------------------------------------------------------------- round trips
FULL_CASE: dict[str, Any] = {
    "id": "case-17",
    "age": 51,
    "sex": "male",
    "setting": "neuropathy_clinic",
    "findings": {
        "polyneuropathy": "present",
        "monoclonal_protein": "present",
        "light_chain": "lambda",
        "heavy_chain": "IgA",
        "sclerotic_bone_lesion": "present",
        "sclerotic_lesion_size_cm": 1.2,
        "vegf": {"value": 2400, "unit": "pg/mL", "specimen": "serum", "uln": 500},
        "hepatomegaly": "absent",
        "platelets": 520,
        "hemoglobin": 15.1,
        "diabetes_mellitus": "present",
        "papilledema": "unknown",
    },
}


def test_round_trip_through_json_text() -> None:
    case = Case.from_dict(FULL_CASE)
    again = Case.from_json(case.to_json())
    assert again == case
    assert again.to_dict() == FULL_CASE


def test_round_trip_through_a_file_is_byte_exact(tmp_path: Path) -> None:
    case = Case.from_dict(FULL_CASE)
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    case.save(first)
    loaded = Case.load(first)
    loaded.save(second)
    assert loaded == case
    assert first.read_bytes() == second.read_bytes()


def test_with_finding_makes_a_new_case_and_validates() -> None:
    case = Case.from_dict(FULL_CASE)
    changed = case.with_finding("ascites", "present")
    assert case.state("ascites") is None
    assert changed.state("ascites") == "present"
    assert changed.with_finding("ascites", None) == case
    with pytest.raises(CaseError, match=r"thrombocytosis must be 'present'"):
        case.with_finding("thrombocytosis", "absent")
