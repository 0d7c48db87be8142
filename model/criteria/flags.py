"""Flags the engine can raise, in plain words, and the Castleman-without-a-clone notes."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from model.case import Case
from model.vocabulary import ABSENT, FINDINGS, PRESENT

FLAG_TEXT: Mapping[str, str] = MappingProxyType(
    {
        "castleman_variant": (
            "Castleman disease with POEMS-type features and no monoclonal protein found. This "
            "is not a diagnosis: both the Castleman-disease variant of POEMS and idiopathic "
            "multicentric Castleman disease fit, and the POEMS rules exclude both, so nothing "
            "is scored here; it must be considered separately (a clone on marrow or node "
            "biopsy, and the iMCD consensus criteria, decide it)."
        ),
        "castleman_without_clone": (
            "Castleman disease with no monoclonal protein found and features of idiopathic "
            "multicentric Castleman disease (thrombocytopenia, fever or raised CRP, as in "
            "TAFRO): the POEMS rules do not apply; assess it against the iMCD consensus "
            "criteria (Fajgenbaum 2017)."
        ),
        "vegf_reading_applied": (
            "VEGF lies between 3 and 4 x ULN: the seed's 'at least 3 to 4 times the ULN' is "
            "read here as >= 3 x, so it counts; under the stricter reading (>= 4 x) it would "
            "not."
        ),
        "vegf_specimen_not_read": (
            "This rule set gives no cut-off for the VEGF specimen entered, so VEGF was not "
            "read (as if not measured). Enter a value in the specimen it reads, or your own "
            "judgement as 'vegf_elevated'."
        ),
        "default_vegf_uln": (
            "No ULN was given with the VEGF value: the documented default ULN for the "
            "specimen was used. Enter your lab's ULN for a firmer reading."
        ),
        "lesion_size_unknown": (
            "A sclerotic lesion of unknown size was counted as meeting the size limit. "
            "Enter 'sclerotic_lesion_size_cm' to check it."
        ),
        "vegf_cutoff_unverified": (
            "The VEGF cut-off this rule set was read with is commonly quoted but was not "
            "confirmed in the source."
        ),
        "vegf_statement_used": (
            "Both a VEGF value and 'vegf_elevated' were given: the statement was used."
        ),
    }
)
"""Plain-language meaning of every flag the engine can raise."""


_POEMS_TYPE_FEATURES = (
    "polyneuropathy",
    "sclerotic_bone_lesion",
    "endocrinopathy",
    "skin_changes",
    "papilledema",
    "thrombocytosis",
    "polycythemia",
)
"""Features of POEMS that idiopathic multicentric Castleman disease does not explain.
Organomegaly, effusions and a raised VEGF are shared with iMCD, so they alone do not count."""

_IMCD_FEATURES = ("thrombocytopenia", "fever", "raised_crp")
"""Features of iMCD (TAFRO: thrombocytopenia, anasarca, fever, ...) [Fa17 in
literature.md]; ids not in the running vocabulary are skipped."""

THROMBOCYTOPENIA_BELOW = 150.0
"""Platelets below this (x 10^9/L) count as thrombocytopenia (the usual lower reference limit,
as in the vocabulary contract for ``thrombocytopenia``)."""


def _castleman_without_clone(case: Case) -> bool:
    return case.state("castleman_disease") == PRESENT and case.state("monoclonal_protein") == ABSENT


def _imcd_features(case: Case) -> bool:
    platelets = case.number("platelets")
    if platelets is not None and platelets < THROMBOCYTOPENIA_BELOW:
        return True
    return any(f in FINDINGS and case.state(f) == PRESENT for f in _IMCD_FEATURES)


def _castleman_variant(case: Case) -> bool:
    """Castleman disease, no clone found, POEMS-type features and no iMCD/TAFRO features."""
    if not _castleman_without_clone(case) or _imcd_features(case):
        return False
    return any(case.state(f) == PRESENT for f in _POEMS_TYPE_FEATURES)
