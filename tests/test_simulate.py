"""Forward sampling: frequencies match the network's exact marginals; rows render faithfully."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pgmpy.inference import VariableElimination

from model.cli import main
from model.inference.batch import OBSERVABLE, engine_for, parse_chunk
from model.inference.simulate import cohort_frame, encode, sample_nodes, simulate
from model.network import build_network, build_tables
from model.network.evidence_codes import evidence_codes
from model.network.structure import NODES
from model.parameters import load_priors
from model.vocabulary import AGGREGATES

logging.getLogger("pgmpy").setLevel(logging.ERROR)
PRIORS = load_priors()


@pytest.mark.parametrize("setting", ["paraproteinemic_neuropathy", "hematology_clinic"])
def test_sample_frequencies_match_exact_marginals(setting: str) -> None:
    n = 40_000
    drawn = sample_nodes(build_tables(PRIORS, setting), n, np.random.default_rng(11))
    infer = VariableElimination(build_network(PRIORS, setting))
    for node, spec in NODES.items():
        exact = infer.query([node], show_progress=False)
        for i, state in enumerate(spec.states):
            p = float(exact.get_value(**{node: state}))
            freq = float((drawn[node] == i).mean())
            sigma = np.sqrt(max(p * (1 - p), 1e-12) / n)
            assert abs(freq - p) <= 5 * sigma + 1e-4, (node, state, freq, p)


def test_aggregates_are_the_or_of_their_parts() -> None:
    drawn = sample_nodes(build_tables(PRIORS, "neuropathy_clinic"), 5000, np.random.default_rng(2))
    for aggregate, parts in AGGREGATES.items():
        if aggregate not in NODES or aggregate == "vegf_elevated":
            continue
        any_part = np.zeros(5000, dtype=bool)
        for part in parts:
            any_part |= drawn[part] == NODES[part].states.index("present")
        assert np.array_equal(
            drawn[aggregate] == NODES[aggregate].states.index("present"), any_part
        )


@pytest.mark.parametrize("missing", [0.0, 0.5])
def test_rendered_rows_read_back_as_the_sampled_evidence(missing: float) -> None:
    """VEGF values land in their sampled band, marrow % in its band, cells as shown."""
    rng = np.random.default_rng(5)
    synthetic = simulate(build_tables(PRIORS, "neuropathy_clinic"), 3000, rng, missing)
    frame = cohort_frame(synthetic, rng, "neuropathy_clinic")
    parsed = parse_chunk(frame)
    assert not parsed.flagged.any()
    read, sampled = evidence_codes(parsed), encode(synthetic, OBSERVABLE)
    plain = [j for j, node in enumerate(OBSERVABLE) if node not in AGGREGATES]
    assert np.array_equal(read[:, plain], sampled[:, plain])
    # a blank aggregate is derived from its parts when they decide it (as Case does): the
    # evidence grows but the posterior cannot change
    engine = engine_for(PRIORS, "neuropathy_clinic")
    difference = engine.posterior_batch(read) - engine.posterior_batch(sampled)
    assert np.abs(difference).max() <= 1e-12
    shown = (frame.drop(columns=["id", "age", "sex", "setting", "true_diagnosis"]) != "").to_numpy()
    if missing:
        assert 0.3 < shown.mean() < 0.5
    assert set(frame["true_diagnosis"]) <= set(NODES["diagnosis"].states)


def test_cli_simulate_is_reproducible(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.parquet"
    args = ["--n", "250", "--setting", "hematology_clinic", "--seed", "3", "--no-progress"]
    assert main(["simulate", *args, "-o", str(a), "--missing", "0.2"]) == 0
    assert main(["simulate", *args, "-o", str(b), "--missing", "0.2"]) == 0
    left = pd.read_csv(a, dtype=str, keep_default_na=False)
    right = pd.read_parquet(b)
    assert len(left) == 250 and "true_diagnosis" in left.columns
    pd.testing.assert_frame_equal(left, right.astype(str), check_dtype=False)


def test_cli_simulate_rejects_bad_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "x.csv")
    assert main(["simulate", "--n", "5", "--setting", "neuropathy_clinik", "-o", out]) == 2
    assert "did you mean 'neuropathy_clinic'" in capsys.readouterr().err.lower()
    with pytest.raises(SystemExit):
        main(
            ["simulate", "--n", "5", "--setting", "neuropathy_clinic", "-o", out, "--missing", "2"]
        )
