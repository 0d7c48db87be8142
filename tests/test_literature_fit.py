"""The first check of the parameters: for every published frequency in priors/findings.toml,
the network-implied P(finding | diagnosis) lies inside the published range.

One test per published frequency (test id ``node-state-diagnosis``). The implied value is
computed twice: by pgmpy variable elimination (:mod:`model.inference.implied`) and by hand
with numpy from the named tables, so the check does not rest on one implementation.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from model.cli import main
from model.cli.priors import format_report
from model.inference.implied import implied, literature_fit
from model.network.structure import CYTOKINE, NODES, PLASMA_CELL_CLONE
from model.network.tables import NodeTable, build_tables
from model.parameters import Published, load_priors

PRIORS = load_priors()
PUBLISHED = PRIORS.published()
TABLES = build_tables(PRIORS, next(iter(PRIORS.settings)))


def _by_hand(node: str, state: str, diagnosis: str) -> float:
    """P(node = state | diagnosis) by summing the named tables (binary parts of aggregates
    are conditionally independent given the diagnosis and the cytokine)."""
    cyt = TABLES[CYTOKINE].column(diagnosis=diagnosis)
    spec = NODES[node]
    if spec.role == "aggregate":
        absent_all = np.zeros(len(cyt))
        for i, c in enumerate(NODES[CYTOKINE].states):
            prod = 1.0
            for part in spec.parents:
                prod *= _given(TABLES[part], "absent", diagnosis, c)
            absent_all[i] = prod
        p_absent = float(cyt @ absent_all)
        return 1 - p_absent if state == "present" else p_absent
    table = TABLES[node]
    if table.parents == (PLASMA_CELL_CLONE,):
        clone = TABLES[PLASMA_CELL_CLONE].column(diagnosis=diagnosis)
        k = table.states.index(state)
        return float(sum(clone[j] * table.array[k, j] for j in range(len(clone))))
    return float(
        sum(
            cyt[i] * _given(table, state, diagnosis, c)
            for i, c in enumerate(NODES[CYTOKINE].states)
        )
    )


def _given(table: NodeTable, state: str, diagnosis: str, cytokine: str) -> float:
    named = {"diagnosis": diagnosis, CYTOKINE: cytokine}
    column = table.column(**{p: named[p] for p in table.parents})
    return float(column[table.states.index(state)])


def test_there_are_published_frequencies_for_poems_and_mimics() -> None:
    assert len(PUBLISHED) >= 30
    assert {p.diagnosis for p in PUBLISHED} >= {"poems", "multiple_myeloma"}


@pytest.mark.parametrize(
    "pub", PUBLISHED, ids=[f"{p.node}-{p.state}-{p.diagnosis}" for p in PUBLISHED]
)
def test_implied_frequency_inside_published_range(pub: Published) -> None:
    value = implied(PRIORS, pub.node, pub.diagnosis, pub.state)
    assert value == pytest.approx(_by_hand(pub.node, pub.state, pub.diagnosis), abs=1e-9)
    assert pub.low - 1e-9 <= value <= pub.high + 1e-9, (
        f"{pub.key}: network implies {value:.3f}, published {pub.p:.3f} "
        f"[{pub.low:.3f}, {pub.high:.3f}] ({pub.source})"
    )


def test_priors_report_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["priors", "report"]) == 0
    text = capsys.readouterr().out
    assert f"{len(PUBLISHED)} published frequencies" in text
    assert main(["priors", "report", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert len(rows) == len(PUBLISHED)
    fit = literature_fit(PRIORS)
    for row, expected in zip(rows, fit, strict=True):
        assert row["implied"] == pytest.approx(expected.implied, abs=1e-12)
        assert row["inside"] == expected.inside
        assert math.isfinite(row["implied"])


def test_report_flags_a_frequency_outside_its_range() -> None:
    pub = next(p for p in PUBLISHED if p.node == "sclerotic_bone_lesion")
    shifted = PRIORS.with_overrides({f"findings.{pub.node}.given.{pub.diagnosis}": 0.05})
    fit = literature_fit(shifted)
    rows = {r.published.key: r for r in fit}
    assert not rows[pub.key].inside
    flagged = [line for line in format_report(fit, shifted).splitlines() if "OUTSIDE" in line]
    assert len(flagged) == 1 and flagged[0].startswith("sclerotic_bone_lesion")
