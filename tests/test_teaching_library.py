"""The bundled teaching cases load, cite their source and validate at every step."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.exceptions import CaseError, InputError
from model.teaching.library import DIAGNOSES, get_case, load_case, load_library

LIBRARY = load_library()


def test_library_has_at_least_eight_cases_with_mimics() -> None:
    assert len(LIBRARY) >= 8
    diagnoses = {c.diagnosis for c in LIBRARY.values()}
    assert "poems" in diagnoses
    assert len(diagnoses - {"poems"}) >= 4  # CIDP, anti-MAG, AL, Castleman, myeloma


@pytest.mark.parametrize("case_id", sorted(LIBRARY))
def test_every_case_cites_and_every_step_is_a_valid_case(case_id: str) -> None:
    case = LIBRARY[case_id]
    assert case.diagnosis in DIAGNOSES
    c = case.citation
    assert c.authors and c.journal and 1950 < c.year < 2030
    assert c.doi or c.pmcid or c.url
    assert len(case.steps) >= 2
    previous = 0
    for i, step in enumerate(case.steps):
        assert step.note and step.label and step.findings
        now = case.case_at(i)
        assert len(now.assessed()) >= previous or any(
            v == "unknown" for v in step.findings.values()
        )
        previous = len(now.assessed())


def test_steps_accumulate_and_later_results_replace_earlier_ones() -> None:
    case = get_case("poems_kappa_atypical")
    before = case.case_at(3)
    after = case.case_at(4)
    assert before.state("monoclonal_protein") == "absent"
    assert after.state("monoclonal_protein") == "present"
    assert after.state("papilledema") == "present"  # from step 2, still there
    assert after.vegf is not None and "vegf_elevated" not in after.assessed()


def test_unknown_case_id_suggests() -> None:
    with pytest.raises(InputError, match="Did you mean 'al_amyloid_neuropathy'"):
        get_case("al_amyloid_neuropaty")


def test_bad_finding_in_a_file_names_file_and_step(tmp_path: Path) -> None:
    text = (Path(LIBRARY["anti_mag_igm_neuropathy"].path or "")).read_text()
    bad = tmp_path / "anti_mag_igm_neuropathy.toml"
    bad.write_text(text.replace("anti_mag_antibodies", "anti_mag_antibody"))
    with pytest.raises(CaseError, match=r"anti_mag_igm_neuropathy.toml.*step 3.*Did you mean"):
        load_case(bad)


def test_file_name_must_match_id(tmp_path: Path) -> None:
    text = (Path(LIBRARY["anti_mag_igm_neuropathy"].path or "")).read_text()
    other = tmp_path / "other.toml"
    other.write_text(text)
    with pytest.raises(InputError, match=r"the file name without \.toml"):
        load_case(other)


def test_descriptive_titles_are_marked_in_the_citation_line() -> None:
    marked = [c for c in LIBRARY.values() if c.citation.title_is_descriptive]
    assert marked, "cases whose original title was not retrieved must say so"
    for c in marked:
        assert f"[{c.citation.title}]" in c.citation.describe()
