"""Export: BIF and XMLBIF read back by pgmpy, and XDSL read back by pgmpy's reader and by our
own parser, give the same tables and the same posteriors as the network (to 1e-9)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from model.cli import main
from model.exceptions import InputError
from model.export import export_network, read_xdsl_tables, to_xdsl
from model.inference.exact import default_priors, query
from model.network.structure import DIAGNOSIS_STATES, NODES
from model.network.tables import NodeTable, build_tables

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    from pgmpy.inference import VariableElimination
    from pgmpy.models import DiscreteBayesianNetwork
    from pgmpy.readwrite import BIFReader, XDSLReader, XMLBIFReader

SETTING = "paraproteinemic_neuropathy"
EVIDENCE: list[dict[str, str]] = [
    {},
    {"polyneuropathy": "present", "sclerotic_bone_lesion": "present"},
    {
        "monoclonal_protein": "present",
        "light_chain": "kappa",
        "heavy_chain": "IgM",
        "anti_mag_antibodies": "present",
    },
    {"vegf_serum": "above_10x", "organomegaly": "present", "skin_changes": "absent"},
    {
        "amyloid_on_biopsy": "present",
        "peripheral_edema": "present",
        "cardiomyopathy": "present",
        "bone_marrow_plasma_cells": "ge_10_pct",
    },
    {
        "castleman_disease": "present",
        "monoclonal_protein": "absent",
        "endocrinopathy": "present",
        "vegf_elevated": "present",
    },
]


def _reference_posteriors() -> list[dict[str, float]]:
    priors = default_priors()
    return [query(priors, SETTING, "diagnosis", ev) for ev in EVIDENCE]


def _posteriors(model: DiscreteBayesianNetwork) -> list[dict[str, float]]:
    infer = VariableElimination(model)
    out = []
    for ev in EVIDENCE:
        factor = infer.query(["diagnosis"], evidence=ev, show_progress=False)
        states = factor.state_names["diagnosis"]
        out.append({str(s): float(factor.values[i]) for i, s in enumerate(states)})
    return out


def _assert_same(got: list[dict[str, float]], want: list[dict[str, float]]) -> None:
    for g, w in zip(got, want, strict=True):
        assert set(g) == set(DIAGNOSIS_STATES)
        for d in DIAGNOSIS_STATES:
            assert g[d] == pytest.approx(w[d], abs=1e-9)


@pytest.mark.parametrize(
    ("fmt", "reader"),
    [("bif", BIFReader), ("xmlbif", XMLBIFReader), ("xdsl", XDSLReader)],
)
def test_export_reads_back_with_pgmpy_and_gives_the_same_posteriors(
    tmp_path: Path, fmt: str, reader: type
) -> None:
    path = export_network(default_priors(), SETTING, fmt, tmp_path / f"net.{fmt}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = reader(str(path)).get_model()
    assert set(model.nodes()) == set(NODES)
    assert model.check_model()
    _assert_same(_posteriors(model), _reference_posteriors())


def test_xdsl_tables_parse_back_exactly(tmp_path: Path) -> None:
    tables = build_tables(default_priors(), SETTING)
    parsed = read_xdsl_tables(to_xdsl(tables))
    assert list(parsed) == list(NODES)  # parents before children, as GeNIe expects
    for name, table in tables.items():
        states, parents, probs = parsed[name]
        assert states == table.states and parents == table.parents
        n_configs = table.array.shape[1]
        # listed per configuration (last parent fastest), the node's states fastest
        listed = np.array(probs).reshape(n_configs, len(states)).T
        np.testing.assert_array_equal(listed, table.array)


def test_xdsl_order_by_hand() -> None:
    """Two parents A (a0, a1) and B (b0, b1, b2): configurations a0b0, a0b1, a0b2, a1b0, ..."""
    array = np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]])
    table = NodeTable("x", ("yes", "no"), ("A", "B"), (("a0", "a1"), ("b0", "b1", "b2")), array)
    _, _, probs = read_xdsl_tables(to_xdsl({"x": table}))["x"]
    assert probs == [0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6, 0.5, 0.5, 0.6, 0.4]


def test_xdsl_rejects_invalid_ids() -> None:
    table = NodeTable("x", ("1st", "no"), (), (), np.array([[0.5], [0.5]]))
    with pytest.raises(InputError, match="XDSL state id"):
        to_xdsl({"x": table})


def test_cli_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "net.xdsl"
    assert main(["export", "--format", "xdsl", "-o", str(target), "--setting", SETTING]) == 0
    assert "Wrote xdsl" in capsys.readouterr().err  # status on stderr, data on stdout
    assert read_xdsl_tables(target.read_text(encoding="utf-8"))["diagnosis"][2][0] == (
        pytest.approx(default_priors().setting(SETTING).base_rates["poems"])
    )
    code = main(["export", "--format", "bif", "-o", str(tmp_path / "no" / "net.bif")])
    assert code == 2
    assert "existing folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["export", "--format", "net", "-o", str(target)])
