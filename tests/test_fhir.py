"""Clinical data in: FHIR R4 bundles, codes and units (small hand-written bundles).

The worked conversions: haemoglobin 8.1 mmol/L x 1.61145 (g/dL per mmol/L of the monomer,
molar mass 16,114.5 g/mol) = 13.05 g/dL, which is *not* anaemia in a man (WHO: < 13 g/dL);
read as g/dL it would be severe anaemia. 130 g/L = 13 g/dL. 520 x 10^3/uL = 520 x 10^9/L.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from model import codes, units
from model.case import Case
from model.cli import main
from model.exceptions import CaseError
from model.fhir import FhirError, case_from_bundle
from model.vocabulary import FINDINGS, NUMBER_FINDINGS


def _observation(code: str, value: float | None, unit: str | None, **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": codes.LOINC, "code": code}]},
    }
    if value is not None:
        quantity: dict[str, Any] = {"value": value}
        if unit is not None:
            quantity |= {"unit": unit, "system": codes.UCUM, "code": unit}
        resource["valueQuantity"] = quantity
    return resource | extra


def _condition(system: str, code: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "code": {"coding": [{"system": system, "code": code}]},
    } | extra


def _bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "id": "patient-7",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }


PATIENT = {"resourceType": "Patient", "gender": "male", "birthDate": "1970-01-01"}


def test_haemoglobin_in_mmol_per_litre_is_converted_not_read_as_g_per_dl() -> None:
    result = case_from_bundle(_bundle(PATIENT, _observation("718-7", 8.1, "mmol/L")))
    case = result.case
    assert case.findings["hemoglobin"] == {"value": 8.1, "unit": "mmol/L"}
    assert case.number("hemoglobin") == pytest.approx(13.052745)
    assert case.state("anemia") == "absent"  # 13.05 g/dL >= 13 in a man
    as_g_per_dl = Case.from_dict({"sex": "male", "findings": {"hemoglobin": 8.1}})
    assert as_g_per_dl.state("anemia") == "present"  # what the old reading would have said
    assert case.sex == "male" and case.id == "patient-7"
    assert any("Patient.birthDate" in line for line in result.ignored)


@pytest.mark.parametrize(
    ("code", "value", "unit", "finding", "expected"),
    [
        ("718-7", 130, "g/L", "hemoglobin", 13.0),
        ("718-7", 13.5, "g/dL", "hemoglobin", 13.5),
        ("59260-0", 9.0, "mmol/L", "hemoglobin", 14.50305),
        ("777-3", 520, "10*3/uL", "platelets", 520.0),
        ("26515-7", 520, "10*9/L", "platelets", 520.0),
        ("4544-3", 0.45, "L/L", "hematocrit", 45.0),
        ("20570-8", 45, "%", "hematocrit", 45.0),
    ],
)
def test_laboratory_values_are_converted_to_the_vocabulary_unit(
    code: str, value: float, unit: str, finding: str, expected: float
) -> None:
    case = case_from_bundle(_bundle(_observation(code, value, unit))).case
    assert case.number(finding) == pytest.approx(expected)


def test_a_value_without_a_unit_is_refused_never_guessed() -> None:
    with pytest.raises(FhirError, match=r"valueQuantity\.unit must be a unit.*not read"):
        case_from_bundle(_bundle(_observation("718-7", 8.1, None)))


def test_a_unit_that_is_not_a_unit_of_the_value_is_refused() -> None:
    with pytest.raises(CaseError, match=r"hemoglobin\.unit must be one of 'g/dL', 'g/L'"):
        case_from_bundle(_bundle(_observation("718-7", 8.1, "mg")))


def test_an_implausible_converted_value_is_refused_with_the_field() -> None:
    with pytest.raises(CaseError, match=r"findings\.hemoglobin must be between"):
        case_from_bundle(_bundle(_observation("718-7", 81, "mmol/L")))


def test_conditions_by_snomed_and_icd10_and_what_is_ignored() -> None:
    result = case_from_bundle(
        _bundle(
            _condition(codes.SNOMED, "42345000"),
            _condition(codes.ICD10CM, "R16.1"),
            _condition(codes.SNOMED, "80515008", verificationStatus=_status("refuted")),
            _condition(codes.SNOMED, "389026000", clinicalStatus=_status("resolved")),
            _condition(codes.ICD10CM, "G61.81"),  # a recorded CIDP diagnosis
            _condition(codes.SNOMED, "22298006"),  # not in the vocabulary
            {"resourceType": "MedicationRequest", "status": "active"},
            _observation("2345-7", 5.5, "mmol/L"),  # glucose: not read
            _condition(codes.SNOMED, "30746006", status="entered-in-error"),
        )
    )
    findings = result.case.findings
    assert findings == {
        "polyneuropathy": "present",
        "splenomegaly": "present",
        "hepatomegaly": "absent",
    }
    ignored = "\n".join(result.ignored)
    assert "a recorded diagnosis (Chronic inflammatory demyelinating polyneuritis)" in ignored
    assert "SNOMED CT 22298006: not a finding of the vocabulary" in ignored
    assert "MedicationRequest: not read" in ignored
    assert "LOINC 2345-7" in ignored
    assert "not active" in ignored and "entered-in-error" in ignored
    assert len(result.used) == 3


def test_the_latest_result_of_a_laboratory_value_is_used() -> None:
    early = _observation("777-3", 300, "10*9/L", effectiveDateTime="2026-01-01")
    late = _observation("777-3", 520, "10*9/L", effectiveDateTime="2026-03-01")
    for order in ((early, late), (late, early)):
        case = case_from_bundle(_bundle(*order)).case
        assert case.number("platelets") == 520


def test_a_contradictory_bundle_is_refused_like_a_case() -> None:
    bundle = _bundle(
        _condition(codes.SNOMED, "80515008", verificationStatus=_status("refuted")),
        _condition(codes.SNOMED, "16294009", verificationStatus=_status("refuted")),
        _condition(codes.SNOMED, "30746006", verificationStatus=_status("refuted")),
    )
    case = case_from_bundle(bundle).case
    assert case.state("organomegaly") == "absent"


@pytest.mark.parametrize(
    "bundle",
    [[], "Bundle", {"entry": []}, {"resourceType": "Bundle", "entry": [1]}],
)
def test_something_that_is_not_a_bundle_is_a_clear_error(bundle: Any) -> None:
    with pytest.raises(FhirError):
        case_from_bundle(bundle)


def test_cli_writes_the_case_and_reports_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(
        json.dumps(_bundle(PATIENT, _observation("718-7", 8.1, "mmol/L"))), encoding="utf-8"
    )
    out = tmp_path / "case.json"
    assert main(["fhir", str(path), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "used: entry 1 Observation LOINC 718-7 -> hemoglobin 8.1 mmol/L" in err
    assert "ignored: entry 0 Patient.birthDate" in err
    case = Case.load(out)
    assert case.number("hemoglobin") == pytest.approx(13.052745)
    assert main(["criteria", str(out)]) == 0
    capsys.readouterr()
    assert main(["fhir", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["findings"]["hemoglobin"]["unit"] == "mmol/L"


def test_cli_says_when_a_bundle_gives_no_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty or unreadable-for-us bundle still makes a (valid, empty) case, but never
    silently: the user is told that nothing in it became a finding."""
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(_bundle(PATIENT)), encoding="utf-8")
    assert main(["fhir", str(path)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["findings"] == {}
    assert "no entry of the bundle gave a finding" in captured.err
    path.write_text(
        json.dumps(_bundle(PATIENT, _observation("718-7", 8.1, "mmol/L"))), encoding="utf-8"
    )
    assert main(["fhir", str(path)]) == 0
    assert "no entry of the bundle gave a finding" not in capsys.readouterr().err


def test_cli_refuses_a_unitless_value_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(_bundle(_observation("718-7", 8.1, None))), encoding="utf-8")
    assert main(["fhir", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bundle.json: entry 0 Observation 718-7" in err


# ------------------------------------------------------------------ codes and units
def test_every_code_names_a_vocabulary_id_or_a_pending_v2_id() -> None:
    pending = {"thrombocytopenia", "fever"}  # network v2 ids (V2_VOCAB.md)
    for code in (*codes.LAB_CODES, *codes.FINDING_CODES):
        assert code.target in FINDINGS or code.target in pending, code
        assert code.system in (codes.LOINC, codes.SNOMED, codes.ICD10CM), code
        assert code.display and code.code == code.code.strip()
    for code in codes.LAB_CODES:
        assert code.system == codes.LOINC and code.target in NUMBER_FINDINGS


def test_d47_z2_is_castleman_disease_and_poems_has_no_invented_code() -> None:
    assert codes.lookup(codes.ICD10CM, "D47.Z2").target == "castleman_disease"  # type: ignore[union-attr]
    assert codes.codes_for("poems") == ()
    assert "D47.Z2 is Castleman disease" in codes.UNCODED["poems"]


def test_codes_are_unique_per_system() -> None:
    seen = [(c.system, c.code) for c in (*codes.LAB_CODES, *codes.FINDING_CODES)]
    assert len(seen) == len(set(seen))


def test_every_numeric_finding_has_units_and_the_stored_unit_converts_to_itself() -> None:
    for fid in NUMBER_FINDINGS:
        accepted = units.accepted(fid)
        assert accepted and accepted[0] == units.CANONICAL_UCUM[fid], fid
        assert units.convert(fid, 12.5, accepted[0]) == 12.5


def test_units_in_a_case_file_round_trip_and_bare_numbers_name_their_unit() -> None:
    data = {
        "sex": "female",
        "findings": {
            "hemoglobin": {"value": 118, "unit": "g/L"},
            "platelets": 520,
            "sclerotic_lesion_size_cm": {"value": 14, "unit": "mm"},
        },
    }
    case = Case.from_dict(data)
    assert Case.from_json(case.to_json()) == case
    assert case.to_dict()["findings"]["hemoglobin"] == {"value": 118, "unit": "g/L"}
    assert case.number("hemoglobin") == pytest.approx(11.8)
    assert case.state("anemia") == "present"  # 11.8 < 12 g/dL in a woman
    assert case.number("sclerotic_lesion_size_cm") == pytest.approx(1.4)
    assert case.implied_units() == ("platelets 520 was read as 10^9/L (no unit given).",)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({"value": 8.1}, 'with "value" and "unit"'),
        ({"value": 8.1, "unit": "mmol"}, r"hemoglobin\.unit must be one of"),
        ({"value": 8.1, "unit": 5}, r"unit must be"),
        ({"value": [1], "unit": "g/dL"}, r"hemoglobin\.value must be a number"),
        ({"value": 8.1, "unit": "g/dL", "ref": 1}, r"hemoglobin\.ref must be one of value, unit"),
        ({"value": 135, "unit": "g/dL"}, r"hemoglobin must be between 2 and 25 g/dL"),
    ],
)
def test_bad_units_in_a_case_file_are_clear_errors(value: Any, match: str) -> None:
    with pytest.raises(CaseError, match=match):
        Case.from_dict({"findings": {"hemoglobin": value}})


def _status(code: str) -> dict[str, Any]:
    return {"coding": [{"code": code}]}


def test_the_case_made_from_a_bundle_is_valid_against_the_published_schema() -> None:
    import jsonschema

    from model.case_schema import case_schema

    result = case_from_bundle(
        _bundle(
            PATIENT,
            _observation("718-7", 8.1, "mmol/L"),
            _observation("777-3", 520, "10*3/uL"),
            _condition(codes.SNOMED, "42345000"),
        )
    )
    jsonschema.Draft202012Validator(case_schema()).validate(result.case.to_dict())
