"""Check that ``poems batch`` of this checkout writes what a reference checkout writes.

``python scripts/cohort_equality.py REFERENCE_POEMS [--ours POEMS] [--rows N] [--keep DIR
[--reuse]]`` builds cohorts (clean simulated rows under every setting, and the same rows
damaged at random: synonyms, junk, numbers out of range or in the wrong unit, VEGF triples
with bad units or specimens, contradictions, padded and empty cells, duplicate and
formula-like ids, an unknown setting, impossible evidence; CSV with a byte-order mark and
semicolons; CSV with ragged lines, an unbalanced quote and a byte that is not UTF-8; Parquet
with text, integer, float and dictionary columns and small row groups), scores each with
``REFERENCE_POEMS batch`` (for instance the ``poems`` of a checkout of main) and with this
checkout's ``poems batch``, under every rule set and two chunk sizes, CSV and Parquet out,
and compares the outputs: column names and types, every text cell, the summary line on
stderr without its timing, and every posterior to the bit. Posteriors that differ by
rounding only (at most :data:`TOLERANCE`) are reported with their count and largest
difference but pass: the engine's numpy path and its compiled kernel agree to rounding, and
a reference may take either for a small chunk. Prints one line per comparison and exits 1
if any differs. ``--reuse`` keeps the reference's outputs in ``--keep`` between runs.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.criteria import RULE_SETS
from model.inference.simulate import simulate_chunks
from model.parameters import load_priors

ROOT = Path(__file__).resolve().parent.parent
OURS = [str(Path(sys.executable).with_name("poems"))]
TOLERANCE = 5e-15
"""Posteriors may differ by this much: the engine's numpy path (which main takes for fewer
than 2,048 rows of one setting in a chunk) and its compiled kernel agree to rounding only."""
JUNK = ["Present", "yes", "no", "ABSENT", "abc", "-1", "na", "n/a", "not assessed", "1", " absent "]


def clean_rows(n: int, seed: int) -> pd.DataFrame:
    """Simulated rows under every setting, in turn (each row names its setting)."""
    priors = load_priors()
    parts = []
    for k, setting in enumerate(priors.settings):
        frame = next(simulate_chunks(priors, setting, n // 4 + 1, seed=seed + k, missing=0.4))
        parts.append(frame.drop(columns=["true_diagnosis"]))
    frame = pd.concat(parts, ignore_index=True).iloc[:n].astype(object)
    frame["id"] = [f"p{i}" for i in range(len(frame))]
    return frame.reset_index(drop=True)


def damaged_rows(n: int, seed: int) -> pd.DataFrame:
    """The clean rows with one random damage in most rows."""
    rng = np.random.default_rng(seed)
    frame = clean_rows(n, seed)
    columns = [c for c in frame.columns if c != "id"]
    for i in range(n):
        kind = int(rng.integers(16))
        col = columns[rng.integers(len(columns))]
        pick = rng.choice
        if kind == 0:
            frame.at[i, col] = str(pick(JUNK))
        elif kind == 1:
            frame.at[i, "platelets"] = str(pick(["520", "300", "450", "45000", "-3", "x", "4_50"]))
            frame.at[i, "thrombocytosis"] = str(pick(["present", "absent", ""]))
        elif kind == 2:
            frame.at[i, "hemoglobin"] = str(pick(["16.2", "17", "11.5", "12.5", "130", "8.1"]))
            frame.at[i, "hematocrit"] = str(pick(["", "48.5", "50", "0.45"]))
            frame.at[i, "polycythemia"] = str(pick(["present", "absent", ""]))
            frame.at[i, "anemia"] = str(pick(["present", "absent", ""]))
            frame.at[i, "sex"] = str(pick(["male", "female", "", "M", "unknown"]))
        elif kind == 3:
            frame.at[i, "skin_changes"] = str(pick(["present", "absent"]))
            frame.at[i, "hyperpigmentation"] = str(pick(["present", "absent", ""]))
        elif kind == 4:
            frame.at[i, "sclerotic_bone_lesion"] = str(pick(["present", "absent", ""]))
            frame.at[i, "sclerotic_lesion_size_cm"] = str(pick(["0.8", "0.79", "2", "", "80"]))
        elif kind == 5:
            uln = float(pick([86.0, 284.0, 500.0]))
            multiple = float(pick([2.9, 3.0, 3.5, 4.0, 4.2, 1.0, 0.8]))
            frame.at[i, "vegf_value"] = str(pick([f"{uln * multiple:g}", "5.2E+02", "abc"]))
            frame.at[i, "vegf_uln"] = str(pick([f"{uln:g}", "", "0"]))
            frame.at[i, "vegf_specimen"] = str(pick(["serum", "plasma", "blood", ""]))
            frame.at[i, "vegf_unit"] = str(pick(["pg/mL", "", "ng/mL", "pg/ml", "mg"]))
            frame.at[i, "vegf_elevated"] = str(pick(["present", "absent", "", ""]))
        elif kind == 6:
            frame.at[i, "monoclonal_protein"] = "absent"
            frame.at[i, "light_chain"] = str(pick(["lambda", "", "kappa"]))
            frame.at[i, "heavy_chain"] = str(pick(["none", "IgA", ""]))
        elif kind == 7:
            frame.at[i, "age"] = str(pick(["", "51", "130", "fifty", " 62 ", "1e1"]))
            frame.at[i, "setting"] = str(pick(["", "neuropathy_clinic", "Bad Setting", "clinic"]))
        elif kind == 8:
            frame.at[i, "bone_marrow_plasma_cells_pct"] = str(pick(["9.99", "10", "150", "٣"]))
        elif kind == 9:
            frame.at[i, col] = str(pick(["unknown", "", "  ", "UNKNOWN"]))
        elif kind == 10:
            frame.at[i, "endocrinopathy"] = "present"
            for part in ("hypogonadism", "adrenal_insufficiency"):
                frame.at[i, part] = str(pick(["absent", ""]))
        elif kind == 11:
            frame.at[i, "id"] = str(pick(["p1", "=HYPERLINK(1)", "+1", "-5", "", " padded "]))
        elif kind == 12:  # everything absent: often evidence the network cannot produce
            for c in ("polyneuropathy", "monoclonal_protein", "light_chain"):
                frame.at[i, c] = str(pick(["absent", "", "present"]))
            frame.at[i, "setting"] = "paraproteinemic_neuropathy"
        elif kind == 13:
            frame.at[i, col] = f" {frame.at[i, col]}\t"
    return frame


def write_csv(frame: pd.DataFrame, path: Path, *, bom: bool = False, sep: str = ",") -> None:
    text = frame.to_csv(index=False, sep=sep, lineterminator="\n")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))


def write_ragged_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV with a cell too many, one too few, an unbalanced quote and a cp1252 byte."""
    lines = frame.to_csv(index=False, lineterminator="\n").encode("utf-8").split(b"\n")
    for k, line in enumerate(lines[1:-1], start=1):
        if k % 97 == 0:
            lines[k] = line + b",extra"
        elif k % 89 == 0:
            lines[k] = line.rsplit(b",", 1)[0]
        elif k % 83 == 0:
            lines[k] = line.replace(b",", b',"', 1)
        elif k % 79 == 0:
            lines[k] = line.replace(b"absent", b"abs\xe9nt", 1)
    path.write_bytes(b"\n".join(lines))


def write_parquet(frame: pd.DataFrame, path: Path, *, typed: bool) -> None:
    """Text columns, or (``typed``) numbers as floats, age as integers where possible and
    states as dictionaries; row groups of 700 rows (chunks do not align with them)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame.astype(str), preserve_index=False)
    if typed:
        arrays = {}
        for name in table.column_names:
            column = table.column(name)
            values = frame[name].astype(str)
            numeric = pd.to_numeric(values.where(values.str.strip() != "", None), errors="coerce")
            if (
                name in ("platelets", "hemoglobin", "vegf_value")
                and numeric.notna().sum() == (values.str.strip() != "").sum()
            ):
                column = pa.chunked_array([pa.array(numeric, pa.float64())])
            elif name == "age" and (numeric.dropna() % 1 == 0).all():
                column = pa.chunked_array([pa.array(numeric.astype("Int64"), pa.int64())])
            elif name not in ("id",):
                column = column.dictionary_encode()
            arrays[name] = column
        table = pa.table(arrays)
    pq.write_table(table, path, row_group_size=700)


def run(command: list[str], source: Path, out: Path, extra: list[str]) -> tuple[int, str]:
    done = subprocess.run(
        [*command, "batch", str(source), "-o", str(out), "--no-progress", *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    summary = [line for line in done.stderr.splitlines() if line.startswith("poems batch:")]
    last = re.sub(r" in [0-9.]+ s \([0-9,]+ rows/s\)", "", summary[-1]) if summary else ""
    last = last.replace(str(out), "OUT")
    # the note before reading line by line quotes pyarrow's error, which names whichever
    # bad line its reader met first (with read-ahead threads, not always the first one)
    notes = [
        re.sub(r" \(CSV parse error: .*\); reading", " (...); reading", n) for n in summary[:-1]
    ]
    return done.returncode, "\n".join([*notes, last])


def run_reference(
    command: list[str], source: Path, out: Path, extra: list[str], reuse: bool
) -> tuple[int, str]:
    """:func:`run` of the reference, or its remembered result when ``reuse`` and the source
    has not changed since (the reference checkout does not move while a branch is worked)."""
    memo = out.with_suffix(out.suffix + ".stderr")
    stamp = hashlib.sha256(source.read_bytes()).hexdigest()
    if reuse and memo.exists():
        code, seen, text = memo.read_text().split("\n", 2)
        if seen == stamp:  # remembered before the note's detail was left out: leave it out
            return int(code), re.sub(r" \(CSV parse error: .*\); reading", " (...); reading", text)
    code, text = run(command, source, out, extra)
    memo.write_text(f"{code}\n{stamp}\n{text}")
    return code, text


def compare(reference: Path, ours: Path, rounding: list[tuple[int, float]]) -> str | None:
    """None when equal, else what differs. Posteriors that differ by rounding only (at most
    :data:`TOLERANCE`) are appended to ``rounding`` as (values, largest difference)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if reference.suffix == ".csv":
        if reference.read_bytes() == ours.read_bytes():
            return None
        read = pacsv.read_csv
    else:
        read = pq.read_table
    a, b = read(reference), read(ours)
    if a.schema != b.schema:
        return f"schema {a.schema} != {b.schema}"
    if a.num_rows != b.num_rows:
        return f"{a.num_rows} rows != {b.num_rows}"
    for name in a.column_names:
        x, y = a.column(name), b.column(name)
        if name.startswith("posterior_"):
            u = x.to_numpy(zero_copy_only=False)
            v = y.to_numpy(zero_copy_only=False)
            if not np.array_equal(np.isnan(u), np.isnan(v)):
                return f"{name}: not the same rows are empty"
            off = np.flatnonzero(u.view(np.int64) != v.view(np.int64))
            if len(off):
                largest = float(np.max(np.abs(u[off] - v[off])))
                if largest > TOLERANCE:
                    return f"{name} differs in {len(off)} rows (largest {largest:.2g})"
                rounding.append((len(off), largest))
        elif not x.equals(y):
            pairs = zip(x.to_pylist(), y.to_pylist(), strict=True)
            rows = [i for i, (s, t) in enumerate(pairs) if s != t]
            return (
                f"{name} differs in {len(rows)} rows, first {rows[0]}: {x[rows[0]]} / {y[rows[0]]}"
            )
    if reference.suffix == ".parquet":
        left, right = pq.ParquetFile(reference).schema, pq.ParquetFile(ours).schema
        if not left.equals(right):
            return "Parquet physical schema differs"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", help="the poems command of the reference checkout")
    parser.add_argument(
        "--ours", default=" ".join(OURS), help="the poems command to check (default: this one)"
    )
    parser.add_argument("--rows", type=int, default=12_000)
    parser.add_argument("--keep", type=Path, help="keep the cohorts and outputs here")
    parser.add_argument(
        "--reuse", action="store_true", help="reuse the reference outputs kept in --keep"
    )
    parser.add_argument("--only", default="", help="only the cohorts whose name has this")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="poems-equality-"))
    folder.mkdir(parents=True, exist_ok=True)
    clean, damaged = clean_rows(args.rows, 7), damaged_rows(args.rows, 11)
    sources = {
        "clean.csv": lambda p: write_csv(clean, p),
        "clean.parquet": lambda p: write_parquet(clean, p, typed=False),
        "damaged.csv": lambda p: write_csv(damaged, p),
        "damaged_bom_semicolon.csv": lambda p: write_csv(damaged, p, bom=True, sep=";"),
        "damaged_ragged.csv": lambda p: write_ragged_csv(damaged, p),
        "damaged.parquet": lambda p: write_parquet(damaged, p, typed=False),
        "typed.parquet": lambda p: write_parquet(clean, p, typed=True),
        "empty.csv": lambda p: p.write_text(",".join(clean.columns) + "\n"),
    }
    failures = 0
    for name, write in sources.items():
        if args.only not in name:
            continue
        source = folder / name
        write(source)
        for rule_set in RULE_SETS:
            for chunk in ("500", "32768"):
                for suffix in (".csv", ".parquet"):
                    if rule_set != "seed" and (
                        chunk == "500" or suffix == ".csv" or not name.startswith("damaged.")
                    ):
                        continue
                    extra = ["--rule-set", rule_set, "--chunk-rows", chunk]
                    stem = f"{source.stem}.{rule_set}.{chunk}"
                    ref_out = folder / f"{stem}.reference{suffix}"
                    our_out = folder / f"{stem}.ours{suffix}"
                    ref = run_reference(args.reference.split(), source, ref_out, extra, args.reuse)
                    ours = run(args.ours.split(), source, our_out, extra)
                    problem = None
                    if ref != ours:
                        problem = f"exit/stderr differ:\n  {ref}\n  {ours}"
                    rounding: list[tuple[int, float]] = []
                    if ref == ours and ref[0] == 0:
                        problem = compare(ref_out, our_out, rounding)
                    failures += problem is not None
                    verdict = "same" if problem is None else f"DIFFERENT: {problem}"
                    if problem is None and rounding:
                        values = sum(k for k, _ in rounding)
                        largest = max(d for _, d in rounding)
                        verdict += f" (rounding: {values} posteriors off by <= {largest:.2g})"
                    print(f"{name:28} {rule_set:17} chunk {chunk:>5} -> {suffix:8} {verdict}")
    print(f"{failures} differences; files in {folder}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
