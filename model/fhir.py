"""A FHIR R4 Bundle (from an electronic health record) made into a case, without hand editing.

What is read (codes in :mod:`model.codes`, units in :mod:`model.units`):

* **Observation** with a LOINC code of a laboratory value and a ``valueQuantity``: the value
  keeps its unit in the case (``{"value": 8.1, "unit": "mmol/L"}``), which the case converts
  by dimensional analysis. A quantity without a unit, or in a unit that is not a unit of that
  value, is an error: never guessed. With several results for one value, the latest
  (``effectiveDateTime``) is used and the others are reported.
* **Observation** or **Condition** with a SNOMED CT or ICD-10-CM code of a finding: present
  (``valueBoolean`` false, or a Condition whose ``verificationStatus`` is *refuted*, gives
  absent). Resolved/inactive conditions are reported and not used.
* **Patient**: ``gender`` male/female gives ``sex``.

Everything else is **reported as ignored, with the reason** (an unknown code, a recorded
diagnosis such as CIDP, a resource type the tool does not read, an entry marked
entered-in-error). The result is validated as a :class:`~model.case.Case`, so a bundle that
contradicts itself is refused like a hand-written case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.case import Case
from model.codes import ICD10CM, LOINC, SNOMED, UCUM, Code, lookup, lookup_diagnosis
from model.exceptions import CaseError
from model.inputs import STDIO, parse_json, read_bounded
from model.vocabulary import ABSENT, FINDINGS, PRESENT, SEXES, Kind

MAX_BUNDLE_BYTES = 32 * 1024 * 1024
"""A patient's bundle of observations and conditions; far larger is a population export."""

MAX_BUNDLE_DEPTH = 64
"""FHIR resources nest deeper than a case file (extensions, codings), but not this deep."""

_IGNORED_STATUSES = frozenset({"entered-in-error", "cancelled"})
_INACTIVE_CLINICAL = frozenset({"inactive", "resolved", "remission"})


class FhirError(CaseError):
    """A bundle that cannot be made into a case (the message names the entry and the field)."""


@dataclass(frozen=True)
class FhirImport:
    """The case made from a bundle and an account of every entry.

    Attributes
    ----------
    case : the validated case.
    used : one line per entry that became a finding (``"entry 3 Observation 718-7 ->
        hemoglobin 8.1 mmol/L"``).
    ignored : one line per entry not used, with the reason.
    """

    case: Case
    used: tuple[str, ...]
    ignored: tuple[str, ...]


def load_bundle(path: str | Path) -> FhirImport:
    """Read a bundle file (``-`` reads standard input), bounded before it is read."""
    where = "<stdin>" if str(path) == STDIO else str(path)
    raw = read_bounded(
        path,
        MAX_BUNDLE_BYTES,
        what="FHIR bundle",
        allowed="a readable FHIR JSON file",
        hint="Export one patient's bundle, not the whole server.",
        error=FhirError,
    )
    data = parse_json(
        raw, what="FHIR bundle", where=where, error=FhirError, max_depth=MAX_BUNDLE_DEPTH
    )
    try:
        return case_from_bundle(data)
    except CaseError as err:
        raise err.located(where) from None


def case_from_bundle(bundle: Any) -> FhirImport:
    """Map a parsed FHIR R4 Bundle (or a single resource) to a case; see the module docstring."""
    resources = _resources(bundle)
    findings: dict[str, Any] = {}
    dated: dict[str, str] = {}
    sex: str | None = None
    used: list[str] = []
    ignored: list[str] = []
    for index, resource in resources:
        where = f"entry {index}"
        kind = resource.get("resourceType")
        if resource.get("status") in _IGNORED_STATUSES:
            ignored.append(f"{where} {kind}: status {resource['status']!r}")
            continue
        if kind == "Patient":
            gender = resource.get("gender")
            if gender in SEXES:
                sex = str(gender)
                used.append(f"{where} Patient.gender -> sex {gender}")
            elif gender is not None:
                ignored.append(f"{where} Patient.gender {gender!r}: the network reads male/female")
            if "birthDate" in resource:
                ignored.append(
                    f"{where} Patient.birthDate: age needs the date of the findings; add 'age'"
                )
            continue
        if kind not in ("Observation", "Condition"):
            ignored.append(f"{where} {kind}: not read (Observation, Condition and Patient are)")
            continue
        coding = _codings(resource.get("code"), f"{where} {kind}.code")
        match = next((c for c in (lookup(s, k) for s, k in coding) if c is not None), None)
        if match is None:
            diagnosis = next(
                (d for d in (lookup_diagnosis(s, k) for s, k in coding) if d is not None), None
            )
            label = ", ".join(f"{_system(s)} {k}" for s, k in coding) or "no code"
            if diagnosis is not None:
                ignored.append(
                    f"{where} {kind} {label}: a recorded diagnosis ({diagnosis.display}), "
                    "not a finding; the tool weighs the findings, not the label"
                )
            else:
                ignored.append(f"{where} {kind} {label}: not a finding of the vocabulary")
            continue
        if match.target not in FINDINGS:
            ignored.append(
                f"{where} {kind} {_system(match.system)} {match.code}: {match.target!r} is not "
                "in this version's vocabulary"
            )
            continue
        if match.target in findings and match.system == LOINC:
            when = str(resource.get("effectiveDateTime", ""))
            if when <= dated.get(match.target, ""):
                ignored.append(f"{where} {kind} {match.code}: an earlier {match.target} result")
                continue
            ignored.append(f"(an earlier {match.target} result was replaced by {where})")
        value = _value(resource, match, where)
        if value is None:
            ignored.append(f"{where} {kind} {match.code} ({match.display}): not active")
            continue
        findings[match.target] = value
        dated[match.target] = str(resource.get("effectiveDateTime", ""))
        shown = f"{value['value']} {value['unit']}" if isinstance(value, dict) else value
        used.append(
            f"{where} {kind} {_system(match.system)} {match.code} -> {match.target} {shown}"
        )
    data: dict[str, Any] = {"findings": findings}
    if sex is not None:
        data["sex"] = sex
    bundle_id = bundle.get("id") if isinstance(bundle, Mapping) else None
    if isinstance(bundle_id, str):
        data["id"] = bundle_id
    return FhirImport(Case.from_dict(data), tuple(used), tuple(ignored))


def _resources(bundle: Any) -> list[tuple[int, Mapping[str, Any]]]:
    if not isinstance(bundle, Mapping) or "resourceType" not in bundle:
        raise FhirError(
            "FHIR bundle",
            type(bundle).__name__,
            'a FHIR resource: {"resourceType": "Bundle", "entry": [...]}',
            "Export the patient's data as a FHIR R4 Bundle in JSON.",
        )
    if bundle["resourceType"] != "Bundle":
        return [(0, bundle)]
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise FhirError("Bundle.entry", type(entries).__name__, "a list of entries")
    out = []
    for index, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if not isinstance(resource, Mapping):
            raise FhirError(f"Bundle.entry[{index}].resource", resource, "a FHIR resource")
        out.append((index, resource))
    return out


def _codings(concept: Any, where: str) -> list[tuple[str, str]]:
    if concept is None:
        return []
    if not isinstance(concept, Mapping) or not isinstance(concept.get("coding", []), list):
        raise FhirError(where, concept, 'a CodeableConcept {"coding": [{"system", "code"}]}')
    out = []
    for coding in concept.get("coding", []):
        if isinstance(coding, Mapping) and isinstance(coding.get("code"), str):
            out.append((str(coding.get("system", "")), coding["code"]))
    return out


def _system(uri: str) -> str:
    return {LOINC: "LOINC", SNOMED: "SNOMED CT", ICD10CM: "ICD-10-CM"}.get(uri, uri or "?")


def _value(resource: Mapping[str, Any], match: Code, where: str) -> Any:
    """The case value of one matched resource; ``None`` when it should not be used."""
    kind = resource.get("resourceType")
    spec = FINDINGS[match.target]
    if spec.kind is Kind.NUMBER:
        return _quantity(resource, match, where)
    if kind == "Condition":
        clinical = _first_code(resource.get("clinicalStatus"))
        verification = _first_code(resource.get("verificationStatus"))
        if verification == "refuted":
            return ABSENT
        if verification == "entered-in-error" or clinical in _INACTIVE_CLINICAL:
            return None
        return PRESENT
    if "valueBoolean" in resource:
        return PRESENT if resource["valueBoolean"] is True else ABSENT
    return PRESENT


def _first_code(concept: Any) -> str | None:
    codings = _codings(concept, "status") if isinstance(concept, Mapping) else []
    return codings[0][1] if codings else None


def _quantity(resource: Mapping[str, Any], match: Code, where: str) -> dict[str, Any]:
    field = f"{where} Observation {match.code} ({match.display}).valueQuantity"
    quantity = resource.get("valueQuantity")
    if not isinstance(quantity, Mapping) or "value" not in quantity:
        raise FhirError(
            field,
            quantity,
            'a quantity {"value": 8.1, "unit": "mmol/L", "system": "' + UCUM + '", "code": ...}',
            "The laboratory result has no numeric value.",
        )
    unit = quantity.get("code") if quantity.get("system") == UCUM else None
    unit = unit or quantity.get("unit")
    if not isinstance(unit, str) or not unit.strip():
        raise FhirError(
            f"{field}.unit",
            unit,
            "a unit (UCUM code)",
            f"A {match.target} value without a unit is not read: the unit decides the "
            "finding (8.1 g/dL is anaemia, 8.1 mmol/L is not).",
        )
    return {"value": quantity["value"], "unit": unit.strip()}
