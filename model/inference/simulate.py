"""Forward sampling from the network: synthetic patients and synthetic cohort files.

Every node is drawn in topological order from its table given its sampled parents
(vectorised over patients: one cumulative-sum lookup per node), using the named tables of
``model.network.build_tables`` for the chosen setting. Aggregates are the deterministic OR
of their parts, so they always agree with them.

What a synthetic cohort row shows (the observation process, documented because it is a
choice, not part of the network):

- each patient has one VEGF measurement, serum or plasma with equal probability; the
  specimen's band node gives the band, and the value is drawn uniformly inside the band (as
  a multiple of the specimen's default ULN, 2 % away from the band edges so rounding to
  0.1 pg/mL never changes the band; ``up_to_1x`` from 0.3 x ULN, ``above_10x`` up to
  30 x ULN) and written in pg/mL with ``vegf_uln`` set to that default ULN;
- ``vegf_elevated`` (a statement) is written only when the VEGF value is missing;
- light and heavy chain are blank when the monoclonal protein is absent (typing needs a
  detected protein; heavy chain ``none`` stays);
- the marrow band becomes a percentage drawn uniformly inside it (1-9.5 % or 10-60 %);
- with ``missing = f`` every finding cell (and the VEGF measurement as a whole) is blanked
  independently with probability f: not assessed, never absent.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model import measurements as m
from model.case_columns import VEGF_COLUMNS
from model.exceptions import InputError
from model.network import build_tables
from model.network.structure import (
    AGE_BAND,
    DIAGNOSIS,
    LESION_SIZE,
    MARROW_NODE,
    NODES,
    SEX,
    VEGF_BAND_UPPER_EDGES,
    VEGF_NODES,
)
from model.parameters import SETTING_FIX, Priors
from model.vocabulary import FINDINGS, VEGF_SPECIMENS

VEGF_BAND_RANGES: tuple[tuple[float, float], ...] = tuple(
    (lo, hi)
    for lo, hi in zip(
        (0.3, *VEGF_BAND_UPPER_EDGES[:-1]), (*VEGF_BAND_UPPER_EDGES[:-1], 30.0), strict=True
    )
)
"""The multiple-of-ULN interval a value of each band is drawn from."""
EDGE_MARGIN = 0.02
MARROW_RANGES: Mapping[str, tuple[float, float]] = {"lt_10_pct": (1.0, 9.5), "ge_10_pct": (10, 60)}
AGE_RANGES: Mapping[str, tuple[int, int]] = {
    "under_50": (25, 49),
    "from_50_to_69": (50, 69),
    "from_70": (70, 85),
}
LESION_SIZE_RANGES: Mapping[str, tuple[float, float]] = {
    "under_10_mm": (0.3, 0.95),
    "from_10_mm": (1.0, 5.0),
}
DEFAULT_CHUNK = 100_000


def sample_nodes(
    tables: Mapping[str, Any], n: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Ancestral sample of every node: node -> state indices (int8), shape (n,).

    ``tables`` is ``build_tables(priors, setting)`` (point tables, no batch axis), in
    topological order.
    """
    drawn: dict[str, np.ndarray] = {}
    for name, table in tables.items():
        array = np.asarray(table.array, dtype=np.float64)
        if array.ndim != 2:
            raise InputError(
                f"table {name}", f"shape {array.shape}", "a point table (no batch axis)"
            )
        column = np.zeros(n, dtype=np.int64)
        for parent, states in zip(table.parents, table.parent_states, strict=True):
            column = column * len(states) + drawn[parent]
        cumulative = np.cumsum(array, axis=0)[:, column]  # (n_states, n)
        u = rng.random(n) * cumulative[-1]
        index = (u[None, :] >= cumulative).sum(axis=0)
        drawn[name] = np.minimum(index, array.shape[0] - 1).astype(np.int8)
    return drawn


@dataclass(frozen=True)
class Synthetic:
    """Sampled patients: node states, which VEGF specimen each has, and the shown cells."""

    nodes: dict[str, np.ndarray]
    specimen: np.ndarray  # index into VEGF_SPECIMENS
    shown: dict[str, np.ndarray]  # finding column -> bool (not blanked)
    vegf_shown: np.ndarray


def simulate(
    tables: Mapping[str, Any],
    n: int,
    rng: np.random.Generator,
    missing: float = 0.0,
    implies: Mapping[str, str] | None = None,
) -> Synthetic:
    """Sample ``n`` patients and decide which cells a cohort row shows (module docstring).

    ``implies`` (a setting's defining findings) keeps only patients who have them: the
    network's root is the population before the setting's selection."""
    if not 0.0 <= missing <= 1.0:
        raise InputError("--missing", missing, "a fraction between 0 and 1")
    nodes = _sample_selected(tables, n, rng, implies or {})
    specimen = rng.integers(0, len(VEGF_SPECIMENS), size=n).astype(np.int8)
    shown = {
        fid: rng.random(n) >= missing
        for fid in FINDINGS
        if fid in NODES or fid == "bone_marrow_plasma_cells_pct"
    }
    vegf_shown = rng.random(n) >= missing
    lesion_present = nodes["sclerotic_bone_lesion"] == NODES["sclerotic_bone_lesion"].states.index(
        "present"
    )
    shown["sclerotic_lesion_size_cm"] = (rng.random(n) >= missing) & lesion_present
    absent_protein = nodes["monoclonal_protein"] == NODES["monoclonal_protein"].states.index(
        "absent"
    )
    shown["light_chain"] &= ~absent_protein
    heavy_none = NODES["heavy_chain"].states.index("none")
    shown["heavy_chain"] &= ~absent_protein | (nodes["heavy_chain"] == heavy_none)
    shown["vegf_elevated"] &= ~vegf_shown
    return Synthetic(nodes, specimen, shown, vegf_shown)


def encode(synthetic: Synthetic, observable: tuple[str, ...]) -> np.ndarray:
    """Engine evidence codes (n, len(observable)) of what the rows show (-1 = not shown)."""
    nodes, n = synthetic.nodes, len(synthetic.specimen)
    codes = np.full((n, len(observable)), -1, dtype=np.int8)
    for j, node in enumerate(observable):
        if node in VEGF_NODES.values():
            which = VEGF_SPECIMENS.index(next(s for s, v in VEGF_NODES.items() if v == node))
            mask = synthetic.vegf_shown & (synthetic.specimen == which)
        elif node == MARROW_NODE:
            mask = synthetic.shown["bone_marrow_plasma_cells_pct"]
        elif node == LESION_SIZE:
            mask = synthetic.shown["sclerotic_lesion_size_cm"]
        elif node in (AGE_BAND, SEX):
            mask = np.ones(n, dtype=bool)
        else:
            mask = synthetic.shown[node]
        codes[mask, j] = nodes[node][mask]
    return codes


def cohort_frame(
    synthetic: Synthetic, rng: np.random.Generator, setting: str, first_id: int = 0
) -> pd.DataFrame:
    """The cohort rows (``docs/formats.md`` cohort columns, strings; empty = not assessed)."""
    nodes, n = synthetic.nodes, len(synthetic.specimen)
    columns: dict[str, Any] = {
        "id": [f"sim-{i}" for i in range(first_id, first_id + n)],
        "age": _ages(nodes[AGE_BAND], rng),
        "sex": np.array(NODES[SEX].states, dtype=object)[nodes[SEX]],
        "setting": np.full(n, setting, dtype=object),
        "true_diagnosis": np.array(NODES[DIAGNOSIS].states, dtype=object)[nodes[DIAGNOSIS]],
    }
    for fid in FINDINGS:
        if fid not in NODES:
            continue
        names = np.array([*NODES[fid].states, ""], dtype=object)
        codes = np.where(synthetic.shown[fid], nodes[fid], -1)
        columns[fid] = names[codes]
    # marrow percentage and lesion size inside their bands (same draws, in this order)
    for column, node, ranges, decimals in (
        ("bone_marrow_plasma_cells_pct", MARROW_NODE, MARROW_RANGES, 1),
        ("sclerotic_lesion_size_cm", LESION_SIZE, LESION_SIZE_RANGES, 2),
    ):
        values = np.full(n, "", dtype=object)
        for i, band in enumerate(NODES[node].states):
            rows = (nodes[node] == i) & synthetic.shown[column]
            lo, hi = ranges[band]
            values[rows] = np.round(rng.uniform(lo, hi, size=int(rows.sum())), decimals).astype(str)
        columns[column] = values
    # VEGF value inside the sampled band of the patient's specimen
    value = np.full(n, "", dtype=object)
    specimen_col = np.full(n, "", dtype=object)
    unit = np.full(n, "", dtype=object)
    uln_col = np.full(n, "", dtype=object)
    for s_index, specimen in enumerate(VEGF_SPECIMENS):
        rows = synthetic.vegf_shown & (synthetic.specimen == s_index)
        band = nodes[VEGF_NODES[specimen]][rows]
        lo = np.array([r[0] for r in VEGF_BAND_RANGES])[band]
        hi = np.array([r[1] for r in VEGF_BAND_RANGES])[band]
        width = hi - lo
        multiple = rng.uniform(lo + EDGE_MARGIN * width, hi - EDGE_MARGIN * width)
        uln = m.DEFAULT_VEGF_ULN_PG_ML[specimen].value
        value[rows] = np.round(multiple * uln, 1).astype(str)
        specimen_col[rows] = specimen
        unit[rows] = "pg/mL"
        uln_col[rows] = f"{uln:g}"
    for fid in FINDINGS:  # numbers the network does not model: not assessed
        if fid not in columns and fid != "vegf":
            columns[fid] = np.full(n, "", dtype=object)
    head = ["id", "age", "sex", "setting", "true_diagnosis"]
    order = head + [f for f in FINDINGS if f != "vegf"]
    columns.update(vegf_value=value, vegf_unit=unit, vegf_specimen=specimen_col, vegf_uln=uln_col)
    return pd.DataFrame({c: columns[c] for c in [*order, *VEGF_COLUMNS]})


def _ages(bands: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    ages = np.zeros(len(bands), dtype=np.int64)
    for i, band in enumerate(NODES[AGE_BAND].states):
        rows = bands == i
        lo, hi = AGE_RANGES[band]
        ages[rows] = rng.integers(lo, hi + 1, size=int(rows.sum()))
    return ages.astype(str)


def _sample_selected(
    tables: Mapping[str, Any], n: int, rng: np.random.Generator, implies: Mapping[str, str]
) -> dict[str, np.ndarray]:
    """Ancestral samples, keeping only those with the setting's defining findings."""
    if not implies:
        return sample_nodes(tables, n, rng)
    kept: list[dict[str, np.ndarray]] = []
    count = 0
    while count < n:
        batch = sample_nodes(tables, max(2 * (n - count), 64), rng)
        keep = np.ones(len(batch[DIAGNOSIS]), dtype=bool)
        for node, state in implies.items():
            keep &= batch[node] == NODES[node].states.index(state)
        kept.append({k: v[keep] for k, v in batch.items()})
        count += int(keep.sum())
    return {k: np.concatenate([b[k] for b in kept])[:n] for k in kept[0]}


def band_of(multiple: np.ndarray) -> np.ndarray:
    """Band index of multiples of the ULN (upper edges inclusive), vectorised."""
    return np.searchsorted(np.array(VEGF_BAND_UPPER_EDGES), multiple, side="left")


def simulate_chunks(
    priors: Priors,
    setting: str,
    n: int,
    seed: int | None = None,
    missing: float = 0.0,
    chunk: int = DEFAULT_CHUNK,
) -> Iterator[pd.DataFrame]:
    """Synthetic cohort rows in chunks (bounded memory for millions of rows).

    The arguments are checked when this is called, before the first chunk is asked for, so a
    bad setting or count is refused before any progress bar starts.
    """
    implies = priors.setting(setting, field="--setting", fix=SETTING_FIX).implies
    if n < 0:
        raise InputError("--n", n, "a count of at least 0")
    tables = build_tables(priors, setting)
    rng = np.random.default_rng(seed)

    def chunks() -> Iterator[pd.DataFrame]:
        for start in range(0, n, chunk):
            size = min(chunk, n - start)
            synthetic = simulate(tables, size, rng, missing, implies)
            yield cohort_frame(synthetic, rng, setting, first_id=start)

    return chunks()


def write_cohort(
    priors: Priors,
    setting: str,
    n: int,
    output: str | Path,
    seed: int | None = None,
    missing: float = 0.0,
    progress: bool = False,
) -> int:
    """Write a synthetic cohort (CSV or Parquet by extension); returns the row count."""
    from tqdm import tqdm

    path = Path(output)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InputError("-o", str(path), "a .csv or .parquet file name")
    writer: Any = None
    rows = 0
    frames = simulate_chunks(priors, setting, n, seed, missing)  # checks before the bar
    with tqdm(
        total=n, unit="rows", disable=not progress, file=sys.stderr, desc="simulating"
    ) as bar:
        for frame in frames:
            if suffix == ".parquet":
                import pyarrow as pa
                import pyarrow.parquet as pq

                table = pa.Table.from_pandas(frame.astype(str), preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(path, table.schema)
                writer.write_table(table)
            else:
                frame.to_csv(path, mode="a" if rows else "w", header=rows == 0, index=False)
            rows += len(frame)
            bar.update(len(frame))
    if writer is not None:
        writer.close()
    if rows == 0:
        empty = cohort_frame(
            simulate(_tables(priors, setting), 0, np.random.default_rng(seed)),
            np.random.default_rng(seed),
            setting,
        )
        if suffix == ".parquet":
            empty.astype(str).to_parquet(path, index=False)
        else:
            empty.to_csv(path, index=False)
    return rows


def _tables(priors: Priors, setting: str) -> Mapping[str, Any]:
    return build_tables(priors, setting)
