"""Batch scoring: the vectorised row parse and verdicts agree with the Case path row by row.

Rows come from the simulator (valid, realistic) and are then damaged at random: synonyms and
capitalised states, junk, numbers out of range or in the wrong unit, contradictions between
aggregates and parts, measured and stated blood counts, VEGF statements against values,
typed chains without a protein, lesion sizes near the 0.8 cm limit and VEGF near the 3-4 x
ULN borderline. For every row the fast path does not flag, its evidence and its verdict under
every rule set must equal ``case_from_row`` + ``evidence_for`` + ``evaluate``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.cli import main
from model.criteria import RULE_SETS, evaluate
from model.evaluation.cohort import case_from_row
from model.exceptions import InputError, PoemsError
from model.inference.batch import (
    OBSERVABLE,
    engine_for,
    output_columns,
    parse_chunk,
    rule_verdicts,
    score_file,
    score_frame,
)
from model.inference.simulate import simulate_chunks
from model.network import evidence_for
from model.network.evidence_codes import evidence_codes
from model.network.structure import NODES
from model.parameters import load_priors

PRIORS = load_priors()
SETTING = "paraproteinemic_neuropathy"

_JUNK = ["Present", "yes", "no", "ABSENT", "abc", "-1", "na", "n/a", "not assessed", "1"]


def messy_rows(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = next(simulate_chunks(PRIORS, SETTING, n, seed=seed, missing=0.4))
    frame = frame.drop(columns=["true_diagnosis"]).astype(object)
    columns = list(frame.columns)
    for i in range(n):
        kind = rng.integers(12)
        col = columns[rng.integers(len(columns))]
        if kind == 0:
            frame.at[i, col] = str(rng.choice(_JUNK))
        elif kind == 1:
            frame.at[i, "platelets"] = str(rng.choice(["520", "300", "450", "45000", "-3", "x"]))
            frame.at[i, "thrombocytosis"] = str(rng.choice(["present", "absent", ""]))
        elif kind == 2:
            frame.at[i, "hemoglobin"] = str(rng.choice(["16.2", "17", "11.5", "12.5", "130"]))
            frame.at[i, "hematocrit"] = str(rng.choice(["", "48.5", "50", "0.45"]))
            frame.at[i, "polycythemia"] = str(rng.choice(["present", "absent", ""]))
            frame.at[i, "anemia"] = str(rng.choice(["present", "absent", ""]))
            frame.at[i, "sex"] = str(rng.choice(["male", "female", "", "M"]))
        elif kind == 3:
            frame.at[i, "skin_changes"] = str(rng.choice(["present", "absent"]))
            frame.at[i, "hyperpigmentation"] = str(rng.choice(["present", "absent", ""]))
        elif kind == 4:
            frame.at[i, "sclerotic_bone_lesion"] = str(rng.choice(["present", "absent", ""]))
            frame.at[i, "sclerotic_lesion_size_cm"] = str(
                rng.choice(["0.8", "0.79", "0.5", "2", "", "80"])
            )
        elif kind == 5:
            uln = float(rng.choice([86.0, 284.0, 500.0]))
            multiple = float(rng.choice([2.9, 3.0, 3.5, 4.0, 4.2, 1.0, 0.8]))
            frame.at[i, "vegf_value"] = f"{uln * multiple:g}"
            frame.at[i, "vegf_uln"] = str(rng.choice([f"{uln:g}", ""]))
            frame.at[i, "vegf_specimen"] = str(rng.choice(["serum", "plasma", "blood"]))
            frame.at[i, "vegf_unit"] = str(rng.choice(["pg/mL", "", "ng/mL", "pg/ml"]))
            frame.at[i, "vegf_elevated"] = str(rng.choice(["present", "absent", "", ""]))
        elif kind == 6:
            frame.at[i, "monoclonal_protein"] = "absent"
            frame.at[i, "light_chain"] = str(rng.choice(["lambda", "", "kappa"]))
            frame.at[i, "heavy_chain"] = str(rng.choice(["none", "IgA", ""]))
        elif kind == 7:
            frame.at[i, "age"] = str(rng.choice(["", "51", "130", "fifty"]))
            frame.at[i, "setting"] = str(rng.choice(["", "neuropathy_clinic", "Bad Setting"]))
        elif kind == 8:
            frame.at[i, "bone_marrow_plasma_cells_pct"] = str(rng.choice(["9.99", "10", "150"]))
        elif kind == 9:
            frame.at[i, col] = "unknown"
        elif kind == 10:
            frame.at[i, "endocrinopathy"] = "present"
            for part in ("hypogonadism", "adrenal_insufficiency"):
                frame.at[i, part] = str(rng.choice(["absent", ""]))
    return frame


def reference(row: dict[str, str]) -> tuple[np.ndarray | None, dict[str, str] | None]:
    """Evidence codes and verdicts through Case, or (None, None) for an invalid row."""
    try:
        case = case_from_row(row)
        evidence = evidence_for(case)
    except PoemsError:
        return None, None
    codes = np.full(len(OBSERVABLE), -1, dtype=np.int8)
    for node, state in evidence.items():
        codes[OBSERVABLE.index(node)] = NODES[node].states.index(state)
    return codes, {rid: evaluate(case, rid).verdict for rid in RULE_SETS}


@pytest.mark.parametrize("seed", [1, 2])
def test_fast_path_agrees_with_the_case_path_row_by_row(seed: int) -> None:
    frame = messy_rows(300, seed)
    parsed = parse_chunk(frame)
    codes = evidence_codes(parsed)
    verdicts = {rid: rule_verdicts(parsed, rid) for rid in RULE_SETS}
    records = frame.to_dict(orient="records")
    fast = 0
    for i, record in enumerate(records):
        expected_codes, expected_verdicts = reference({k: str(v) for k, v in record.items()})
        if parsed.flagged[i]:
            continue
        fast += 1
        assert expected_codes is not None, record  # the fast path never accepts a bad row
        assert expected_verdicts is not None
        assert np.array_equal(codes[i], expected_codes), record
        for rid in RULE_SETS:
            assert verdicts[rid][i] == expected_verdicts[rid], (rid, record)
    assert fast >= 100


def test_clean_simulated_rows_all_take_the_fast_path() -> None:
    frame = next(simulate_chunks(PRIORS, SETTING, 400, seed=3, missing=0.3))
    parsed = parse_chunk(frame)
    assert not parsed.flagged.any()


def test_score_frame_scores_good_rows_and_explains_bad_ones() -> None:
    frame = next(simulate_chunks(PRIORS, SETTING, 50, seed=4, missing=0.2))
    frame = frame.astype(object)
    frame.at[3, "hepatomegaly"] = "yes"
    frame.at[7, "vegf_value"] = "2.4"
    frame.at[7, "vegf_unit"] = "pg/mL"
    frame.at[7, "vegf_specimen"] = "serum"
    frame.at[7, "vegf_uln"] = "500"
    frame.at[9, "setting"] = "neuropathy_clinik"
    out, _ = score_frame(frame, PRIORS)
    assert list(out.columns) == output_columns(PRIORS)
    assert list(out["id"]) == list(frame["id"])
    assert "findings.hepatomegaly must be 'present', 'absent' or 'unknown'" in out.at[3, "error"]
    assert "Write 'present'" in out.at[3, "error"]
    assert "vegf.value" in out.at[7, "error"] and "ng/mL" in out.at[7, "error"]
    assert "setting must be one of" in out.at[9, "error"]
    assert "neuropathy_clinic" in out.at[9, "error"]
    good = out["error"] == ""
    assert good.sum() == 47
    posterior_columns = [c for c in out.columns if c.startswith("posterior_")]
    assert np.allclose(out.loc[good, posterior_columns].sum(axis=1), 1.0)
    assert out.loc[~good, "posterior_poems"].isna().all()


def test_posteriors_equal_the_engine_on_case_evidence() -> None:
    frame = messy_rows(120, 5)
    out, _ = score_frame(frame, PRIORS)
    engine = engine_for(PRIORS, SETTING)
    for i, record in enumerate(frame.to_dict(orient="records")):
        row = {k: str(v) for k, v in record.items()}
        try:
            case = case_from_row(row)
            evidence = evidence_for(case)
        except PoemsError:
            assert out.at[i, "error"] != ""
            continue
        setting = case.setting or "neuropathy_clinic"
        if setting not in PRIORS.settings:
            continue
        expected = engine_for(PRIORS, setting).posterior(evidence)
        assert abs(out.at[i, "posterior_poems"] - expected["poems"]) <= 1e-12
    assert engine.query_states[0] == "poems"


@pytest.mark.parametrize(("suffix_in", "suffix_out"), [(".csv", ".parquet"), (".parquet", ".csv")])
def test_score_file_streams_in_order(tmp_path: Path, suffix_in: str, suffix_out: str) -> None:
    frame = next(simulate_chunks(PRIORS, SETTING, 230, seed=6, missing=0.3))
    frame.loc[17, "ascites"] = "maybe"
    source = tmp_path / f"cohort{suffix_in}"
    if suffix_in == ".csv":
        frame.to_csv(source, index=False)
    else:
        frame.to_parquet(source, index=False)
    output = tmp_path / f"out{suffix_out}"
    summary = score_file(source, output, priors=PRIORS, chunk_rows=50, progress=False)
    result = (
        pd.read_csv(output, keep_default_na=False)
        if suffix_out == ".csv"
        else (pd.read_parquet(output))
    )
    assert summary.rows == 230 and summary.errors == 1
    assert list(result["id"].astype(str)) == list(frame["id"])
    assert "row 18" in result.loc[17, "error"] and "ascites" in result.loc[17, "error"]


def test_cli_batch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "c.csv"
    next(simulate_chunks(PRIORS, SETTING, 40, seed=7)).to_csv(source, index=False)
    output = tmp_path / "o.csv"
    assert main(["batch", str(source), "-o", str(output), "--no-progress"]) == 0
    assert "40 rows" in capsys.readouterr().err
    assert len(pd.read_csv(output)) == 40
    assert main(["batch", str(source), "-o", str(tmp_path / "o.txt"), "--no-progress"]) == 2
    assert "-o must be a .csv or .parquet file name" in capsys.readouterr().err


def test_header_only_and_malformed_csv(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("id,polyneuropathy\n")
    output = tmp_path / "out.csv"
    assert score_file(empty, output, priors=PRIORS, progress=False).rows == 0
    assert list(pd.read_csv(output).columns) == output_columns(PRIORS)
    broken = tmp_path / "broken.csv"
    broken.write_text("id,polyneuropathy\na,present\nb,present,absent\n")
    summary = score_file(broken, output, priors=PRIORS, progress=False, notify=lambda _: None)
    assert (summary.rows, summary.errors) == (2, 1)  # the ragged row is that row's error
    result = pd.read_csv(output, keep_default_na=False)
    assert result.loc[1, "error"].startswith("row 2: line 3 has 3 cells; the header has 2")
    assert result.loc[0, "error"] == ""
    twice = tmp_path / "twice.csv"
    twice.write_text("id,ascites, ascites\na,present,absent\n")
    with pytest.raises(InputError, match="cohort column must be a name used once"):
        score_file(twice, output, priors=PRIORS, progress=False)
    with pytest.raises(InputError, match="an existing file"):
        score_file(tmp_path / "missing.csv", output, priors=PRIORS, progress=False)


def test_unknown_and_empty_cells_score_the_same_and_never_as_absent() -> None:
    frame = next(simulate_chunks(PRIORS, SETTING, 60, seed=8, missing=0.5)).astype(object)
    marked = frame.copy()
    finding_columns = [c for c in frame.columns if c in NODES]
    for column in finding_columns:
        marked[column] = marked[column].where(marked[column] != "", "unknown")
    absent = frame.copy()
    absent["papilledema"] = absent["papilledema"].where(absent["papilledema"] != "", "absent")
    a, _ = score_frame(frame, PRIORS)
    b, _ = score_frame(marked, PRIORS)
    c, _ = score_frame(absent, PRIORS)
    assert np.array_equal(a["posterior_poems"].to_numpy(), b["posterior_poems"].to_numpy())
    # papilledema has no aggregate: an empty cell set to absent always moves the posterior
    moved = (a["posterior_poems"] - c["posterior_poems"]).abs() > 1e-12
    assert (moved == (frame["papilledema"] == "")).all()
    assert (a["error"] == "").all()
