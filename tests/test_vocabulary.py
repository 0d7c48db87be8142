"""The vocabulary is the public interface: fixed ids, consistent aggregates."""

from __future__ import annotations

import re

import pytest

from model.exceptions import CaseError
from model.vocabulary import (
    AGGREGATES,
    BINARY_STATES,
    FINDINGS,
    Criterion,
    Kind,
    finding,
    suggest,
)

# The original ids (docs/formats.md): if one is renamed, other tools break.
SPEC_IDS = """
polyneuropathy demyelinating_ncs monoclonal_protein light_chain heavy_chain
bone_marrow_plasma_cells_pct sclerotic_bone_lesion sclerotic_lesion_size_cm castleman_disease
vegf hepatomegaly splenomegaly lymphadenopathy peripheral_edema pleural_effusion ascites
pericardial_effusion hypogonadism adrenal_insufficiency hyperprolactinemia hypoparathyroidism
hypothyroidism diabetes_mellitus hyperpigmentation hypertrichosis glomeruloid_hemangioma
plethora acrocyanosis flushing white_nails skin_thickening papilledema platelets thrombocytosis
hemoglobin hematocrit polycythemia clubbing weight_loss hyperhidrosis pulmonary_hypertension
thrombosis diarrhea low_vitamin_b12 cardiomyopathy anti_mag_antibodies amyloid_on_biopsy
lytic_bone_lesions anemia hypercalcemia renal_insufficiency organomegaly
extravascular_volume_overload endocrinopathy skin_changes vegf_elevated
""".split()


def test_vocabulary_is_exactly_the_spec() -> None:
    assert list(FINDINGS) == SPEC_IDS


def test_ids_are_identifiers_usable_as_network_nodes() -> None:
    for fid in FINDINGS:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", fid), fid


def test_every_aggregate_part_is_a_finding_and_not_an_aggregate() -> None:
    for agg, parts in AGGREGATES.items():
        assert FINDINGS[agg].kind is Kind.AGGREGATE
        assert parts, agg
        for part in parts:
            assert part in FINDINGS and part not in AGGREGATES


def test_qualifying_endocrinopathy_excludes_diabetes_and_hypothyroidism() -> None:
    parts = AGGREGATES["endocrinopathy"]
    assert "diabetes_mellitus" not in parts and "hypothyroidism" not in parts
    assert FINDINGS["diabetes_mellitus"].criterion is None
    assert FINDINGS["hypothyroidism"].criterion is None


def test_binary_findings_have_the_two_states_and_numbers_have_units() -> None:
    for f in FINDINGS.values():
        if f.kind is Kind.BINARY:
            assert f.states == BINARY_STATES
        if f.kind is Kind.NUMBER:
            assert f.unit and f.plausible and f.plausible[0] < f.plausible[1]


def test_every_criterion_concept_is_fed_by_some_finding() -> None:
    fed = {f.criterion for f in FINDINGS.values()}
    assert set(Criterion) <= fed


@pytest.mark.parametrize(
    ("typo", "expected"),
    [("hepatomegally", "hepatomegaly"), ("Papilledema", "papilledema"), ("vegf_high", "vegf")],
)
def test_suggest_finds_the_intended_id(typo: str, expected: str) -> None:
    assert expected in suggest(typo, FINDINGS)


def test_unknown_finding_lookup_names_the_fix() -> None:
    with pytest.raises(CaseError, match=r"Got 'splenomegally'.*Did you mean 'splenomegaly'"):
        finding("splenomegally")
