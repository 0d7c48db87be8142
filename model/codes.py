"""Standard codes for the vocabulary: LOINC for laboratory values, SNOMED CT and ICD-10-CM for
clinical findings, so that data from an electronic health record (FHIR) can be read.

Each code is data with its code system (the FHIR system URI) and its display name. A code
is listed only where we checked it against a published use of that code with the same
meaning; where we could not, the finding has **no code** and :data:`UNCODED` says why. Leaving
a code out is deliberate: a wrong code would silently import the wrong finding.

Notable gaps (see ``docs/formats.md``, "Codes"):

* **POEMS syndrome has no ICD-10-CM code of its own.** ICD-10-CM ``D47.Z2`` is *Castleman
  disease* (FY2017 onwards), so it is mapped to ``castleman_disease`` here, not to POEMS.
* **VEGF** has no LOINC code here: we found none we could confirm, and the assay's specimen
  (serum or plasma) changes the reading, so a VEGF Observation is reported as ignored; enter
  it in the case file with its specimen.

Code systems
------------
LOINC (Regenstrief Institute), ``http://loinc.org``; SNOMED CT (SNOMED International),
``http://snomed.info/sct``; ICD-10-CM (US National Center for Health Statistics),
``http://hl7.org/fhir/sid/icd-10-cm``; UCUM units, ``http://unitsofmeasure.org``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"

SYSTEM_NAMES: Mapping[str, str] = MappingProxyType(
    {LOINC: "LOINC", SNOMED: "SNOMED CT", ICD10CM: "ICD-10-CM", UCUM: "UCUM"}
)


@dataclass(frozen=True)
class Code:
    """One code of a code system and the vocabulary id it stands for.

    Attributes
    ----------
    system : the FHIR system URI (:data:`LOINC`, :data:`SNOMED`, :data:`ICD10CM`).
    code : the code as the code system writes it.
    display : the code system's name for it.
    target : a finding id of :mod:`model.vocabulary` (or a diagnosis state, see
        :data:`DIAGNOSIS_CODES`).
    """

    system: str
    code: str
    display: str
    target: str

    @property
    def system_name(self) -> str:
        return SYSTEM_NAMES.get(self.system, self.system)


CASTLEMAN_ICD = (ICD10CM, "D47.Z2", "Castleman disease")
GAMMOPATHY_ICD = (ICD10CM, "D47.2", "Monoclonal gammopathy")
"""The two ICD-10-CM codes that name both a finding and a diagnosis state (written once)."""

LAB_CODES: tuple[Code, ...] = (
    Code(LOINC, "718-7", "Hemoglobin [Mass/volume] in Blood", "hemoglobin"),
    Code(LOINC, "59260-0", "Hemoglobin [Moles/volume] in Blood", "hemoglobin"),
    Code(LOINC, "4544-3", "Hematocrit [Volume Fraction] of Blood by Automated count", "hematocrit"),
    Code(LOINC, "20570-8", "Hematocrit [Volume Fraction] of Blood", "hematocrit"),
    Code(LOINC, "777-3", "Platelets [#/volume] in Blood by Automated count", "platelets"),
    Code(LOINC, "26515-7", "Platelets [#/volume] in Blood", "platelets"),
)
"""Laboratory values read from FHIR Observations (``valueQuantity`` with a UCUM unit)."""

FINDING_CODES: tuple[Code, ...] = (
    Code(SNOMED, "42345000", "Polyneuropathy", "polyneuropathy"),
    Code(ICD10CM, "G62.9", "Polyneuropathy, unspecified", "polyneuropathy"),
    Code(SNOMED, "80515008", "Hepatomegaly", "hepatomegaly"),
    Code(ICD10CM, "R16.0", "Hepatomegaly, not elsewhere classified", "hepatomegaly"),
    Code(SNOMED, "16294009", "Splenomegaly", "splenomegaly"),
    Code(ICD10CM, "R16.1", "Splenomegaly, not elsewhere classified", "splenomegaly"),
    Code(SNOMED, "30746006", "Lymphadenopathy", "lymphadenopathy"),
    Code(ICD10CM, "R59.9", "Enlarged lymph nodes, unspecified", "lymphadenopathy"),
    Code(SNOMED, "389026000", "Ascites", "ascites"),
    Code(SNOMED, "60046008", "Pleural effusion", "pleural_effusion"),
    Code(ICD10CM, "J90", "Pleural effusion, not elsewhere classified", "pleural_effusion"),
    Code(SNOMED, "373945007", "Pericardial effusion", "pericardial_effusion"),
    Code(SNOMED, "73211009", "Diabetes mellitus", "diabetes_mellitus"),
    Code(SNOMED, "40930008", "Hypothyroidism", "hypothyroidism"),
    Code(ICD10CM, "E03.9", "Hypothyroidism, unspecified", "hypothyroidism"),
    Code(SNOMED, "271737000", "Anemia", "anemia"),
    Code(ICD10CM, "D64.9", "Anemia, unspecified", "anemia"),
    Code(*CASTLEMAN_ICD, "castleman_disease"),
    Code(*GAMMOPATHY_ICD, "monoclonal_protein"),
    # ids of the network v2 vocabulary (read once the vocabulary has them)
    Code(SNOMED, "74576004", "Thrombocytopenia", "thrombocytopenia"),
    Code(ICD10CM, "D69.6", "Thrombocytopenia, unspecified", "thrombocytopenia"),
    Code(SNOMED, "386661006", "Fever", "fever"),
    Code(ICD10CM, "R50.9", "Fever, unspecified", "fever"),
)
"""Clinical findings read from FHIR Conditions (or coded Observations): present when active."""

DIAGNOSIS_CODES: tuple[Code, ...] = (
    Code(*CASTLEMAN_ICD, "castleman_disease"),
    Code(ICD10CM, "G61.81", "Chronic inflammatory demyelinating polyneuritis", "cidp"),
    Code(ICD10CM, "E85.81", "Light chain (AL) amyloidosis", "al_amyloidosis"),
    Code(ICD10CM, "C90.00", "Multiple myeloma not having achieved remission", "multiple_myeloma"),
    Code(*GAMMOPATHY_ICD, "mgus_without_neuropathy"),
)
"""Diagnosis codes for the network's diagnosis states. A recorded diagnosis is the label the
tool is asked to question (POEMS is most often missed under a CIDP label), so the FHIR import
never uses these as evidence; it reports them. They label cohorts for evaluation."""

UNCODED: Mapping[str, str] = MappingProxyType(
    {
        "poems": "ICD-10-CM has no POEMS-specific code (D47.Z2 is Castleman disease); no "
        "SNOMED CT code was confirmed.",
        "vegf": "No LOINC code confirmed; the specimen (serum or plasma) must be known.",
        "peripheral_edema": "SNOMED CT code not confirmed (sources disagreed).",
    }
)
"""Vocabulary ids deliberately left without a code, with the reason."""

_BY_CODE: Mapping[tuple[str, str], Code] = MappingProxyType(
    {(c.system, c.code): c for c in (*LAB_CODES, *FINDING_CODES)}
)
_DIAGNOSIS_BY_CODE: Mapping[tuple[str, str], Code] = MappingProxyType(
    {(c.system, c.code): c for c in DIAGNOSIS_CODES}
)


def lookup(system: str, code: str) -> Code | None:
    """The finding a coded concept stands for, or ``None`` when it is not in the vocabulary."""
    return _BY_CODE.get((system, code.strip()))


def lookup_diagnosis(system: str, code: str) -> Code | None:
    """The diagnosis state a coded diagnosis stands for, or ``None``."""
    return _DIAGNOSIS_BY_CODE.get((system, code.strip()))


def codes_for(target: str) -> tuple[Code, ...]:
    """Every code listed for a finding id or diagnosis state."""
    return tuple(c for c in (*LAB_CODES, *FINDING_CODES, *DIAGNOSIS_CODES) if c.target == target)
