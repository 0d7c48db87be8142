"""Network structure, tables, evidence mapping and exact posteriors.

Hand computations use the fixture priors (tests/fixtures/priors_minimal), whose numbers are
stated below; the integrity sweep runs over the real priors/ folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model.case import Case
from model.exceptions import CaseError, PriorsError
from model.inference.exact import marginals, posterior, prior, query
from model.network.builder import build_network
from model.network.evidence import NOT_IN_NETWORK, evidence_for, vegf_band
from model.network.structure import DIAGNOSIS_STATES, NODES
from model.network.tables import build_tables
from model.parameters import Categorical, Priors, load_priors
from model.vocabulary import FINDINGS, Kind

FIXTURE = Path(__file__).parent / "fixtures" / "priors_minimal"
REAL = Path(__file__).resolve().parents[1] / "priors"
SETTING = "neuropathy_clinic"


@pytest.fixture(scope="module")
def fx() -> Priors:
    return load_priors(FIXTURE)


@pytest.fixture(scope="module")
def real() -> Priors:
    return load_priors(REAL)


# ------------------------------------------------------------------ structure
def test_network_has_every_contract_node_and_passes_check_model(fx: Priors) -> None:
    model = build_network(fx, SETTING)
    assert set(model.nodes()) == set(NODES)
    assert model.check_model()
    for spec in NODES.values():
        cpd = model.get_cpds(spec.name)
        assert cpd is not None
        assert tuple(cpd.state_names[spec.name]) == spec.states
        assert set(model.get_parents(spec.name)) == set(spec.parents)
    assert model.get_parents("hepatomegaly") == ["poems_activity", "diagnosis"] or set(
        model.get_parents("hepatomegaly")
    ) == {"poems_activity", "diagnosis"}


def test_every_vocabulary_finding_is_a_node_or_derived() -> None:
    derived = {
        "vegf": ("vegf_serum", "vegf_plasma"),
        "bone_marrow_plasma_cells_pct": ("bone_marrow_plasma_cells",),
        "platelets": ("thrombocytosis", "thrombocytopenia"),
        "sclerotic_lesion_size_cm": ("sclerotic_lesion_size",),
        "hemoglobin": ("polycythemia", "anemia"),
        "hematocrit": ("polycythemia",),
    }
    for fid, spec in FINDINGS.items():
        if fid in NOT_IN_NETWORK:
            continue
        if spec.kind in (Kind.NUMBER, Kind.MEASUREMENT):
            assert all(n in NODES for n in derived[fid]), fid
        else:
            assert fid in NODES, fid


def test_network_is_cached_by_content(fx: Priors) -> None:
    again = load_priors(FIXTURE)
    assert again is not fx and again == fx
    assert build_network(again, SETTING) is build_network(fx, SETTING)
    assert build_network(fx, "hematology_clinic") is not build_network(fx, SETTING)


# ------------------------------------------------------------------ tables
def test_named_columns_match_pgmpy_factor(fx: Priors) -> None:
    """Column order is checked through pgmpy's own named lookup, not positions."""
    model = build_network(fx, SETTING)
    tables = build_tables(fx, SETTING)
    for name in ("hepatomegaly", "light_chain", "vegf_serum", "organomegaly", "heavy_chain"):
        table, factor = tables[name], model.get_cpds(name).to_factor()
        for parents in np.ndindex(*(len(s) for s in table.parent_states)):
            named = {
                p: s[i] for p, s, i in zip(table.parents, table.parent_states, parents, strict=True)
            }
            column = table.column(**named)
            for k, state in enumerate(table.states):
                assert factor.get_value(**{name: state}, **named) == pytest.approx(column[k], abs=0)


def test_noisy_or_by_hand(fx: Priors) -> None:
    """Hepatomegaly: leak 0.03, raised 0.10, markedly raised 0.35, AL amyloidosis 0.20."""
    t = build_tables(fx, SETTING)["hepatomegaly"]
    col = t.column(poems_activity="limited", diagnosis="al_amyloidosis")
    assert col[0] == pytest.approx(1 - 0.97 * 0.90 * 0.80, abs=1e-15)
    col = t.column(poems_activity="none", diagnosis="cidp")
    assert col[0] == pytest.approx(0.03, abs=1e-15)
    col = t.column(poems_activity="florid", diagnosis="poems")
    assert col[0] == pytest.approx(1 - 0.97 * 0.65, abs=1e-15)


def test_aggregate_is_deterministic_or(fx: Priors) -> None:
    t = build_tables(fx, SETTING)["organomegaly"]
    assert t.parents == ("hepatomegaly", "splenomegaly", "lymphadenopathy")
    assert t.column(hepatomegaly="absent", splenomegaly="absent", lymphadenopathy="absent")[0] == 0
    assert t.column(hepatomegaly="absent", splenomegaly="present", lymphadenopathy="absent")[0] == 1
    assert t.array.shape == (2, 8)


def test_batched_tables_equal_tables_of_overridden_priors(fx: Priors) -> None:
    draws = fx.sample(3, np.random.default_rng(1))
    batched = build_tables(fx, SETTING, values=draws)
    assert batched["hepatomegaly"].array.shape == (3, 2, 3 * len(DIAGNOSIS_STATES))
    assert batched["diagnosis"].array.shape == (3, len(DIAGNOSIS_STATES), 1)
    assert batched["skin_changes"].array.shape == (3, 2, 256)
    for i in range(3):
        one = fx.with_overrides({k: float(v[i]) for k, v in draws.items()})
        point = build_tables(one, SETTING)
        for name, table in point.items():
            np.testing.assert_allclose(batched[name].array[i], table.array, rtol=0, atol=1e-12)
        for table in batched.values():
            np.testing.assert_allclose(table.array[i].sum(axis=0), 1.0, atol=1e-12)


def test_values_override_one_parameter_and_broadcast(fx: Priors) -> None:
    sweep = np.linspace(0.0, 0.5, 4)
    tables = build_tables(fx, SETTING, values={"findings.hepatomegaly.leak": sweep})
    normal_cidp = tables["hepatomegaly"].column(poems_activity="none", diagnosis="cidp")
    np.testing.assert_allclose(normal_cidp[:, 0], sweep)
    assert tables["splenomegaly"].array.shape == (4, 2, 3 * len(DIAGNOSIS_STATES))
    with pytest.raises(PriorsError, match="Did you mean"):
        build_tables(fx, SETTING, values={"findings.hepatomegaly.leek": sweep})
    with pytest.raises(PriorsError, match=r"\[0, 1\]"):
        build_tables(fx, SETTING, values={"findings.hepatomegaly.leak": sweep + 0.9})


# ------------------------------------------------------------------ evidence
def _case(**findings: object) -> Case:
    return Case.from_dict({"findings": findings})


@pytest.mark.parametrize(
    ("multiple", "band"),
    [
        (0.5, "up_to_1x"),
        (1.0, "up_to_1x"),
        (1.0001, "from_1x_to_2x"),
        (2.0, "from_1x_to_2x"),
        (4.0, "from_2x_to_4x"),
        (9.99, "from_4x_to_10x"),
        (10.0, "from_4x_to_10x"),
        (10.5, "above_10x"),
    ],
)
def test_vegf_band_edges_are_inclusive_upper(multiple: float, band: str) -> None:
    assert vegf_band(multiple) == band


def test_evidence_mapping() -> None:
    case = _case(
        polyneuropathy="present",
        hepatomegaly="unknown",
        vegf={"value": 1000, "unit": "pg/mL", "specimen": "plasma", "uln": 100},
        platelets=520,
        bone_marrow_plasma_cells_pct=12,
        sclerotic_lesion_size_cm=1.5,
        sclerotic_bone_lesion="present",
        light_chain="lambda",
        monoclonal_protein="present",
    )
    ev = evidence_for(case)
    assert ev["vegf_plasma"] == "from_4x_to_10x"  # 10 x ULN: inclusive upper edge
    assert "vegf_serum" not in ev and "vegf_elevated" not in ev
    assert ev["thrombocytosis"] == "present"
    assert ev["bone_marrow_plasma_cells"] == "ge_10_pct"
    assert "hepatomegaly" not in ev  # unknown is never absent
    assert "organomegaly" not in ev
    assert ev["light_chain"] == "lambda"
    assert "sclerotic_lesion_size_cm" not in ev
    serum = evidence_for(_case(vegf={"value": 284, "unit": "pg/mL", "specimen": "serum"}))
    assert serum == {"vegf_serum": "up_to_1x"}  # default serum ULN 284 pg/mL
    assert evidence_for(_case(vegf_elevated="present")) == {"vegf_elevated": "present"}


def test_aggregate_evidence_follows_parts_and_rejects_contradiction() -> None:
    ev = evidence_for(_case(splenomegaly="present"))
    assert ev == {"splenomegaly": "present", "organomegaly": "present"}
    assert evidence_for(_case(organomegaly="present")) == {"organomegaly": "present"}
    with pytest.raises(CaseError, match="organomegaly"):
        evidence_for(
            _case(
                organomegaly="present",
                hepatomegaly="absent",
                splenomegaly="absent",
                lymphadenopathy="absent",
            )
        )


# ------------------------------------------------------------------ exact posteriors
def test_no_findings_gives_the_setting_prior(fx: Priors) -> None:
    post = posterior(_case(), priors=fx)
    base = prior(SETTING, fx)
    assert list(post) == list(DIAGNOSIS_STATES)
    for d in DIAGNOSIS_STATES:
        assert post[d] == pytest.approx(base[d], abs=1e-12)


def test_posterior_by_hand_for_a_direct_finding(fx: Priors) -> None:
    """Sclerotic lesion present: P(d | e) = prior_d p_d / sum_k prior_k p_k (the fixture's
    lesion rates do not depend on the imaging; the v2 states use the default row, 0.01)."""
    p_lesion = {
        "poems": 0.95,
        "cidp": 0.01,
        "mgus_neuropathy": 0.01,
        "al_amyloidosis": 0.01,
        "multiple_myeloma": 0.03,
        "castleman_disease": 0.02,
        "other_neuropathy": 0.01,
    }
    p_lesion = {d: p_lesion.get(d, 0.01) for d in DIAGNOSIS_STATES}
    base = prior(SETTING, fx)
    z = sum(base[d] * p_lesion[d] for d in DIAGNOSIS_STATES)
    post = posterior(_case(sclerotic_bone_lesion="present"), priors=fx)
    for d in DIAGNOSIS_STATES:
        assert post[d] == pytest.approx(base[d] * p_lesion[d] / z, abs=1e-12)


def test_posterior_by_hand_through_the_latent_activity(fx: Priors) -> None:
    """Hepatomegaly present: marginalise poems_activity with numpy, independently of pgmpy."""
    tables = build_tables(fx, SETTING)
    n = len(DIAGNOSIS_STATES)
    cyt = tables["poems_activity"].array  # (3 states, n diagnoses)
    hep = tables["hepatomegaly"].array[0].reshape(3, n)  # P(present | a, d)
    base = tables["diagnosis"].array[:, 0]
    joint = base * (cyt * hep).sum(axis=0)
    expected = joint / joint.sum()
    post = posterior(_case(hepatomegaly="present"), priors=fx)
    np.testing.assert_allclose([post[d] for d in DIAGNOSIS_STATES], expected, rtol=0, atol=1e-12)


def test_setting_choice_and_errors(fx: Priors) -> None:
    case = Case.from_dict({"setting": "hematology_clinic", "findings": {}})
    assert posterior(case, priors=fx)["multiple_myeloma"] == pytest.approx(0.3)
    assert posterior(case, setting=SETTING, priors=fx)["multiple_myeloma"] == pytest.approx(0.01)
    with pytest.raises(PriorsError, match="Did you mean 'neuropathy_clinic'"):
        posterior(_case(), setting="neuropathy_clinc", priors=fx)


def test_marginals_cover_every_node_and_observed_nodes_are_certain(fx: Priors) -> None:
    case = _case(polyneuropathy="present", hepatomegaly="present")
    result = marginals(case, priors=fx)
    assert set(result) == set(NODES)
    assert result["hepatomegaly"] == {"present": 1.0, "absent": 0.0}
    assert result["organomegaly"]["present"] == pytest.approx(1.0, abs=1e-12)
    for dist in result.values():
        assert sum(dist.values()) == pytest.approx(1.0, abs=1e-9)
    assert result["diagnosis"] == pytest.approx(posterior(case, priors=fx), abs=1e-12)


def test_impossible_evidence_is_reported(fx: Priors) -> None:
    # polyneuropathy given POEMS is 1.0 in the fixture; with every other diagnosis excluded by
    # setting base rates to POEMS only, 'absent' has probability zero.
    rates = dict.fromkeys(DIAGNOSIS_STATES, 0.0)
    rates["poems"] = 1.0
    only_poems = fx.with_setting("only_poems", rates)
    with pytest.raises(CaseError, match="contradict"):
        query(only_poems, "only_poems", "diagnosis", {"polyneuropathy": "absent"})


# ------------------------------------------------------------------ the real priors
def test_real_priors_integrity_sweep(real: Priors) -> None:
    """Every node has a table, every parameter its provenance, every setting builds."""
    for setting in real.settings:
        model = build_network(real, setting)
        assert model.check_model()
        tables = build_tables(real, setting)
        assert set(tables) == set(NODES)
        for table in tables.values():
            np.testing.assert_allclose(table.array.sum(axis=0), 1.0, atol=1e-9)
    for p in real.parameters():
        assert p.source in real.references, p.key
        assert p.kind in ("literature", "inferred", "assumption"), p.key
        if p.kind == "assumption" and ".probs." not in p.key:
            assert p.low is not None and p.high is not None, p.key
    for entry in real.entries():
        if isinstance(entry, Categorical):
            assert abs(sum(entry.probs.values()) - 1.0) <= 1e-9, entry.key
