"""Score a cohort file (CSV or Parquet) with the compiled engine, in bounded memory.

The cohort format is SPEC section 2: one column per finding id, plus ``id``, ``age``,
``sex``, ``setting`` and ``vegf_value`` / ``vegf_unit`` / ``vegf_specimen`` / ``vegf_uln``;
an empty cell means *not assessed*. The output has one row per input row, in the same order:
``id``, ``posterior_poems``, ``posterior_<diagnosis>`` for every diagnosis, the criteria
verdict (``seed_verdict`` by default) and ``error``. A bad row gets a message naming the
column, the value and what is allowed; every other row is still scored.

How a chunk is read
-------------------
Rows are read in chunks (pandas ``chunksize`` for CSV, pyarrow record batches for Parquet).
Each chunk is parsed column by column with numpy (:func:`parse_chunk`): only exact canonical
values take this path (``present``/``absent``/``unknown``/empty, exact category names,
numbers inside the vocabulary's plausible range, a complete VEGF triple). It derives the
same states :class:`model.case.Case` derives (thrombocytosis from platelets, polycythemia
and anemia from hemoglobin/hematocrit and sex, aggregates from their parts) and checks the
same consistency rules. Any row that is not plainly valid is *flagged* and goes through the
row path instead (:func:`model.evaluation.cohort.case_from_row`, ``evidence_for`` and the
criteria engine), which either scores it or produces the error message. The two paths are
tested to give identical evidence and verdicts on random rows.

The criteria verdict of the fast path is computed by :func:`rule_verdicts`, a vectorised
reading of the rule-set data (:mod:`model.criteria.rulesets`) with the engine's
three-valued logic; it is tested against :func:`model.criteria.evaluate`.
"""

from __future__ import annotations

import functools
import math
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model import measurements as m
from model.criteria import INDETERMINATE, MET, NOT_MET, RULE_SETS, resolve_rule_set
from model.criteria.rulesets import CriterionDef, Role, RuleSet, VegfScale
from model.exceptions import InputError, PoemsError
from model.inference.compiled import CompiledEngine
from model.network.structure import (
    DIAGNOSIS,
    LATENT_NODES,
    MARROW_NODE,
    MARROW_THRESHOLD_PCT,
    NODES,
    VEGF_BAND_UPPER_EDGES,
    VEGF_NODES,
)
from model.parameters import Priors, load_priors
from model.vocabulary import (
    AGE_RANGE,
    AGGREGATES,
    FINDINGS,
    NUMBER_FINDINGS,
    SEXES,
    UNKNOWN,
    VEGF_SPECIMENS,
    VEGF_UNITS,
    Criterion,
    Kind,
    suggest,
)

DEFAULT_SETTING = "neuropathy_clinic"
DEFAULT_CHUNK_ROWS = 20_000
VEGF_COLUMNS: tuple[str, ...] = ("vegf_value", "vegf_unit", "vegf_specimen", "vegf_uln")
CASE_COLUMNS: tuple[str, ...] = ("id", "age", "sex", "setting")
OBSERVABLE: tuple[str, ...] = tuple(n for n in NODES if n != DIAGNOSIS and n not in LATENT_NODES)
"""Network nodes a case can give evidence on, in the engine's column order."""

_SETTING_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_STATED = tuple(f.id for f in FINDINGS.values() if f.kind in (Kind.BINARY, Kind.CATEGORY))
_ENTERED = (*_STATED, *AGGREGATES)
_P, _A = 0, 1  # index of present / absent in BINARY_STATES
_MET, _NOT_MET, _INDET = 0, 1, 2
_STATUS_NAMES = np.array([MET, NOT_MET, INDETERMINATE], dtype=object)


# ---------------------------------------------------------------------- engines
@functools.lru_cache(maxsize=8)
def engine_for(priors: Priors, setting: str) -> CompiledEngine:
    """The compiled engine of the network over :data:`OBSERVABLE`.

    Compiled from ``build_tables(priors, setting)``, the named tables ``build_network`` turns
    into pgmpy CPDs, so no pgmpy import is needed; the same engine as
    ``CompiledEngine.from_pgmpy(build_network(priors, setting))`` (tested).
    """
    from model.network.tables import build_tables

    return CompiledEngine.from_tables(
        build_tables(priors, setting), query=DIAGNOSIS, observable=OBSERVABLE
    )


@functools.lru_cache(maxsize=1)
def default_priors() -> Priors:
    return load_priors()


# ---------------------------------------------------------------------- vectorised parse
@dataclass
class ParsedChunk:
    """One chunk parsed column by column; rows with ``flagged`` set need the row path.

    ``state`` holds the derived tri-state of every binary, category and aggregate finding
    (``-1`` not assessed, else the index in ``FINDINGS[id].states``), exactly as
    :meth:`model.case.Case.state`; ``entered`` what the row itself states.
    """

    n: int
    flagged: np.ndarray
    entered: dict[str, np.ndarray]
    state: dict[str, np.ndarray]
    numbers: dict[str, np.ndarray]  # NaN = not given
    vegf_pg_ml: np.ndarray  # NaN = no measurement
    vegf_multiple: np.ndarray
    vegf_specimen: np.ndarray  # index in VEGF_SPECIMENS, -1 none
    vegf_uln_default: np.ndarray
    setting: np.ndarray  # str, "" = not given
    ids: np.ndarray  # str

    def evidence_codes(self) -> np.ndarray:
        """Network evidence in :data:`OBSERVABLE` order, as ``evidence_for`` would give it."""
        codes = np.full((self.n, len(OBSERVABLE)), -1, dtype=np.int8)
        column = {name: j for j, name in enumerate(OBSERVABLE)}
        for node in OBSERVABLE:
            if node in FINDINGS and node != "vegf_elevated":
                codes[:, column[node]] = _recode(
                    self.state[node], FINDINGS[node].states, NODES[node].states
                )
        measured = self.vegf_specimen >= 0
        band = np.searchsorted(np.array(VEGF_BAND_UPPER_EDGES), self.vegf_multiple, side="left")
        for i, specimen in enumerate(VEGF_SPECIMENS):
            rows = self.vegf_specimen == i
            codes[rows, column[VEGF_NODES[specimen]]] = band[rows]
        stated = np.where(measured, -1, self.entered["vegf_elevated"])
        codes[:, column["vegf_elevated"]] = _recode(
            stated, FINDINGS["vegf_elevated"].states, NODES["vegf_elevated"].states
        )
        pct = self.numbers["bone_marrow_plasma_cells_pct"]
        marrow = np.where(np.isnan(pct), -1, np.where(pct < MARROW_THRESHOLD_PCT, 0, 1))
        codes[:, column[MARROW_NODE]] = marrow
        return codes


def _recode(codes: np.ndarray, source: Sequence[str], target: Sequence[str]) -> np.ndarray:
    """Map state indices between two state orders by name (-1 stays -1)."""
    lookup = np.array([target.index(s) for s in source] + [-1], dtype=np.int8)
    return lookup[codes]


def _state_index(lookup: Mapping[str, int], text: str) -> int:
    """-2 marks a value that is neither empty, 'unknown' nor a state (row path)."""
    return lookup.get(text, -2)


class _Column:
    """One column as its distinct stripped values and each row's index into them.

    Cohort columns repeat a handful of values ('present', 'absent', ''), so every check and
    lookup runs once per distinct value and is spread to the rows by one ``take``.
    """

    def __init__(self, frame: pd.DataFrame, name: str) -> None:
        if name in frame.columns:
            inverse, uniques = pd.factorize(frame[name], use_na_sentinel=False)
            self.inverse = np.asarray(inverse, dtype=np.intp)
            self.uniques = np.array([str(u).strip() for u in uniques], dtype=object)
        else:
            self.inverse = np.zeros(len(frame), dtype=np.intp)
            self.uniques = np.array([""], dtype=object)

    def text(self) -> np.ndarray:
        return np.asarray(self.uniques[self.inverse])

    def map(self, fn: Callable[[str], Any], dtype: Any) -> np.ndarray:
        table = np.array([fn(u) for u in self.uniques], dtype=dtype)
        return np.asarray(table[self.inverse])

    def equals(self, value: str) -> np.ndarray:
        return np.asarray((self.uniques == value)[self.inverse])

    def numbers(self) -> tuple[np.ndarray, np.ndarray]:
        """(values, ok): empty -> NaN and ok; unparsable or non-finite -> not ok."""
        given = self.uniques != ""
        values = pd.to_numeric(pd.Series(self.uniques, dtype=object), errors="coerce")
        parsed = values.to_numpy(dtype=float)
        ok = ~given | np.isfinite(parsed)
        clean = np.where(given & ok, parsed, np.nan)
        return clean[self.inverse], ok[self.inverse]


def _at_least(x: np.ndarray, cut: float) -> np.ndarray:
    """``x >= cut`` with the criteria engine's relative tolerance (math.isclose, 1e-9)."""
    close = np.abs(x - cut) <= 1e-9 * np.maximum(np.abs(x), abs(cut))
    return (x > cut) | close


def _above(x: np.ndarray, cut: float) -> np.ndarray:
    close = np.abs(x - cut) <= 1e-9 * np.maximum(np.abs(x), abs(cut))
    return (x > cut) & ~close


def parse_chunk(frame: pd.DataFrame) -> ParsedChunk:
    """Parse a chunk of string cells; see the module docstring for what is flagged."""
    n = len(frame)
    flagged = np.zeros(n, dtype=bool)
    entered: dict[str, np.ndarray] = {}
    for fid in _ENTERED:
        lookup = {name: i for i, name in enumerate(FINDINGS[fid].states)}
        lookup.update({"": -1, UNKNOWN: -1})
        code = _Column(frame, fid).map(functools.partial(_state_index, lookup), np.int8)
        flagged |= code == -2
        entered[fid] = np.maximum(code, -1).astype(np.int8)
    numbers: dict[str, np.ndarray] = {}
    for fid in NUMBER_FINDINGS:
        values, ok = _Column(frame, fid).numbers()
        plausible = FINDINGS[fid].plausible
        assert plausible is not None
        inside = np.isnan(values) | ((values >= plausible[0]) & (values <= plausible[1]))
        flagged |= ~ok | ~inside
        numbers[fid] = values
    age, ok = _Column(frame, "age").numbers()
    flagged |= ~ok | ~(np.isnan(age) | ((age >= AGE_RANGE[0]) & (age <= AGE_RANGE[1])))
    sex_column = _Column(frame, "sex")
    flagged |= sex_column.map(lambda u: u not in ("", *SEXES), bool)
    sex = {s: sex_column.equals(s) for s in SEXES}
    setting_column = _Column(frame, "setting")
    flagged |= setting_column.map(lambda u: u != "" and not _SETTING_PATTERN.match(u), bool)
    setting = setting_column.text()
    flagged |= ~_Column(frame, "vegf").equals("")  # a 'vegf' cell is not the cohort format

    # VEGF measurement (parse_vegf, vectorised)
    value_column = _Column(frame, "vegf_value")
    measured = ~value_column.equals("")
    factor = _Column(frame, "vegf_unit").map(lambda u: VEGF_UNITS.get(u or "pg/mL", np.nan), float)
    specimen_column = _Column(frame, "vegf_specimen")
    specimen = np.full(n, -1, dtype=np.int8)
    for i, name in enumerate(VEGF_SPECIMENS):
        specimen[measured & specimen_column.equals(name)] = i
    value, ok_value = value_column.numbers()
    uln_raw, ok_uln = _Column(frame, "vegf_uln").numbers()
    default_uln = np.array([m.DEFAULT_VEGF_ULN_PG_ML[s].value for s in VEGF_SPECIMENS])
    uln_default = np.isnan(uln_raw)
    uln = np.where(uln_default, default_uln[np.maximum(specimen, 0)], uln_raw * factor)
    value_pg = value * factor
    low, high = m.VEGF_PLAUSIBLE_PG_ML
    uln_low, uln_high = m.VEGF_ULN_PLAUSIBLE_PG_ML
    vegf_ok = (
        np.isfinite(factor)
        & (specimen >= 0)
        & ok_value
        & ok_uln
        & (uln_default | ((uln >= uln_low) & (uln <= uln_high)))
        & (value_pg > 0)
        & (value_pg >= low)
        & (value_pg <= high)
    )
    flagged |= measured & ~vegf_ok
    measured &= vegf_ok
    value_pg = np.where(measured, value_pg, np.nan)
    multiple = value_pg / uln
    specimen = np.where(measured, specimen, -1).astype(np.int8)

    # derived states (Case._derived)
    state = {fid: entered[fid].copy() for fid in _STATED}
    platelets = numbers["platelets"]
    hb, hct = numbers["hemoglobin"], numbers["hematocrit"]
    implied_thrombocytosis = np.where(
        np.isnan(platelets), -1, np.where(platelets > m.THROMBOCYTOSIS_PLATELETS.value, _P, _A)
    ).astype(np.int8)
    implied_polycythemia = _polycythemia(hb, hct, sex)
    implied_anemia = _anemia(hb, sex)
    for name, implied in (
        ("thrombocytosis", implied_thrombocytosis),
        ("polycythemia", implied_polycythemia),
        ("anemia", implied_anemia),
    ):
        stated = entered[name]
        flagged |= (stated >= 0) & (implied >= 0) & (stated != implied)
        state[name] = np.where(stated >= 0, stated, implied).astype(np.int8)
    for agg, parts in AGGREGATES.items():
        stated = entered[agg]
        if agg == "vegf_elevated":
            state[agg] = stated.copy()
            continue
        any_present = np.zeros(n, dtype=bool)
        all_absent = np.ones(n, dtype=bool)
        for part in parts:
            any_present |= state[part] == _P
            all_absent &= state[part] == _A
        derived = np.where(any_present, _P, np.where(all_absent, _A, -1))
        state[agg] = np.where(stated >= 0, stated, derived).astype(np.int8)
        part_entered_present = np.zeros(n, dtype=bool)
        for part in parts:
            part_entered_present |= entered[part] == _P
        flagged |= (stated == _A) & part_entered_present  # Case consistency
        flagged |= (stated == _P) & all_absent  # evidence_for consistency

    # remaining Case consistency rules
    elevated = entered["vegf_elevated"]
    flagged |= measured & (
        ((elevated == _P) & (multiple <= 1.0)) | ((elevated == _A) & (multiple >= 4.0))
    )
    flagged |= ~np.isnan(numbers["sclerotic_lesion_size_cm"]) & (
        entered["sclerotic_bone_lesion"] == _A
    )
    no_protein = entered["monoclonal_protein"] == _A
    heavy_none = FINDINGS["heavy_chain"].states.index("none")
    flagged |= no_protein & (entered["light_chain"] >= 0)
    flagged |= no_protein & (entered["heavy_chain"] >= 0) & (entered["heavy_chain"] != heavy_none)

    return ParsedChunk(
        n=n,
        flagged=flagged,
        entered=entered,
        state=state,
        numbers=numbers,
        vegf_pg_ml=value_pg,
        vegf_multiple=multiple,
        vegf_specimen=specimen,
        vegf_uln_default=uln_default & measured,
        setting=setting,
        ids=_Column(frame, "id").text(),
    )


def _polycythemia(hb: np.ndarray, hct: np.ndarray, sex: Mapping[str, np.ndarray]) -> np.ndarray:
    """Vectorised :func:`model.measurements.polycythemia_from_blood`."""
    n = len(hb)
    any_present = np.zeros(n, dtype=bool)
    all_absent = np.ones(n, dtype=bool)
    n_verdicts = np.zeros(n, dtype=np.int64)
    for values, table in ((hb, m.POLYCYTHEMIA_HB), (hct, m.POLYCYTHEMIA_HCT)):
        given = ~np.isnan(values)
        top = max(t.value for t in table.values())
        bottom = min(t.value for t in table.values())
        verdict = np.where(values > top, _P, np.where(values <= bottom, _A, -1))
        for s, rows in sex.items():
            verdict = np.where(rows, np.where(values > table[s].value, _P, _A), verdict)
        verdict = np.where(given, verdict, -2)  # -2: no verdict from this value
        any_present |= verdict == _P
        all_absent &= (verdict == _A) | (verdict == -2)
        n_verdicts += given
    out = np.where(any_present, _P, np.where(all_absent & (n_verdicts > 0), _A, -1))
    return out.astype(np.int8)


def _anemia(hb: np.ndarray, sex: Mapping[str, np.ndarray]) -> np.ndarray:
    """Vectorised :func:`model.measurements.anemia_from_hemoglobin`."""
    table = m.ANEMIA_HB
    low = min(t.value for t in table.values())
    high = max(t.value for t in table.values())
    out = np.where(hb < low, _P, np.where(hb >= high, _A, -1))
    for s, rows in sex.items():
        out = np.where(rows, np.where(hb < table[s].value, _P, _A), out)
    return np.where(np.isnan(hb), -1, out).astype(np.int8)


# ---------------------------------------------------------------------- vectorised criteria
def _from_state(state: np.ndarray) -> np.ndarray:
    return np.where(state == _P, _MET, np.where(state == _A, _NOT_MET, _INDET))


def _criterion_status(parsed: ParsedChunk, crit: CriterionDef) -> np.ndarray:
    """Status codes of one criterion, mirroring ``model.criteria.engine.evaluate_criterion``."""
    s = parsed.state
    concept = crit.concept
    if concept is Criterion.MONOCLONAL_PCD:
        heavy_none = FINDINGS["heavy_chain"].states.index("none")
        met = (
            (s["monoclonal_protein"] == _P)
            | (s["light_chain"] >= 0)
            | ((s["heavy_chain"] >= 0) & (s["heavy_chain"] != heavy_none))
        )
        return np.where(met, _MET, _from_state(s["monoclonal_protein"]))
    if concept is Criterion.SCLEROTIC_BONE_LESION:
        size = parsed.numbers["sclerotic_lesion_size_cm"]
        lesion = s["sclerotic_bone_lesion"]
        lesion = np.where((lesion < 0) & ~np.isnan(size), _P, lesion)
        status = _from_state(lesion)
        if crit.lesion_min_size_cm is not None:
            small = ~np.isnan(size) & ~_at_least(size, crit.lesion_min_size_cm.value)
            status = np.where((lesion == _P) & small, _NOT_MET, status)
        return status
    if concept is Criterion.VEGF_ELEVATION:
        stated = parsed.entered["vegf_elevated"]
        status = np.full(parsed.n, _INDET)
        for i, specimen in enumerate(VEGF_SPECIMENS):
            if specimen not in crit.vegf:
                continue  # a specimen the rule set does not read: indeterminate
            cutoff = crit.vegf[specimen]
            rows = parsed.vegf_specimen == i
            if cutoff.scale is VegfScale.MULTIPLE_OF_ULN:
                reading = parsed.vegf_multiple
            else:
                reading = parsed.vegf_pg_ml
            passes = (
                _at_least(reading, cutoff.met_at)
                if cutoff.inclusive
                else _above(reading, cutoff.met_at)
            )
            value = np.where(passes, _MET, _NOT_MET)
            status = np.where(rows, value, status)
        return np.where(stated >= 0, _from_state(stated), status)
    if concept is Criterion.THROMBOCYTOSIS_POLYCYTHEMIA:
        a, b = s["thrombocytosis"], s["polycythemia"]
        met = (a == _P) | (b == _P)
        return np.where(met, _MET, np.where((a == _A) & (b == _A), _NOT_MET, _INDET))
    if crit.findings[0] in AGGREGATES:
        return _any_listed(parsed, crit.findings[0], crit.findings[1:])
    return _from_state(s[crit.findings[0]])


def _any_listed(parsed: ParsedChunk, aggregate: str, parts: tuple[str, ...]) -> np.ndarray:
    """Vectorised ``model.criteria.engine._any_of``: the parts the rule set lists, or the
    aggregate as stated; parts it does not list are never read."""
    stated = parsed.entered[aggregate]
    covered = set(AGGREGATES[aggregate])
    met = stated == _P
    all_absent = np.ones(parsed.n, dtype=bool)
    for part in parts:
        state = parsed.state[part]
        met |= state == _P
        absent = state == _A
        if part in covered:
            absent |= stated == _A
        all_absent &= absent
    return np.where(met, _MET, np.where(all_absent, _NOT_MET, _INDET))


def _group(statuses: list[np.ndarray], need: int) -> np.ndarray:
    stacked = np.stack(statuses)
    met = (stacked == _MET).sum(axis=0)
    indet = (stacked == _INDET).sum(axis=0)
    return np.where(met >= need, _MET, np.where(met + indet < need, _NOT_MET, _INDET))


def rule_verdicts(parsed: ParsedChunk, rule_set: str | RuleSet = "seed") -> np.ndarray:
    """Verdict (``met``/``not_met``/``indeterminate``) of every row, as an object array."""
    rules = resolve_rule_set(rule_set)
    trace = [(role, _criterion_status(parsed, crit)) for role, crit in rules.criteria()]
    parts = [status for role, status in trace if role is Role.MANDATORY]
    for role, group in ((Role.MAJOR, rules.major), (Role.MINOR, rules.minor)):
        if group.need > 0:
            parts.append(_group([s for r, s in trace if r is role], group.need))
    stacked = np.stack(parts) if parts else np.full((1, parsed.n), _MET)
    verdict = np.where(
        (stacked == _NOT_MET).any(axis=0),
        _NOT_MET,
        np.where((stacked == _INDET).any(axis=0), _INDET, _MET),
    )
    return np.asarray(_STATUS_NAMES[verdict])


# ---------------------------------------------------------------------- scoring
@dataclass(frozen=True)
class BatchSummary:
    """What a batch run did."""

    rows: int
    errors: int
    seconds: float
    fast_rows: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else math.inf


def output_columns(priors: Priors, rule_set: str = "seed") -> list[str]:
    diagnoses = NODES[DIAGNOSIS].states
    return [
        "id",
        "posterior_poems",
        *[f"posterior_{d}" for d in diagnoses if d != "poems"],
        f"{rule_set}_verdict",
        "error",
    ]


def score_frame(
    frame: pd.DataFrame,
    priors: Priors | None = None,
    setting: str | None = None,
    rule_set: str = "seed",
    first_row: int = 1,
) -> tuple[pd.DataFrame, int]:
    """Score one chunk of string cells; returns (output frame, rows on the fast path).

    ``setting`` forces a setting for every row; otherwise each row's own ``setting`` is
    used, else :data:`DEFAULT_SETTING`. ``first_row`` numbers rows in error messages
    (1 = the first data row of the file).
    """
    from model.criteria import evaluate
    from model.evaluation.cohort import case_from_row
    from model.network.evidence import evidence_for

    priors = priors if priors is not None else default_priors()
    resolve_rule_set(rule_set)
    parsed = parse_chunk(frame)
    n = parsed.n
    codes = parsed.evidence_codes()
    verdicts = rule_verdicts(parsed, rule_set)
    errors = np.full(n, "", dtype=object)
    usable = np.ones(n, dtype=bool)
    if parsed.flagged.any():
        records = frame.iloc[np.flatnonzero(parsed.flagged)].to_dict(orient="records")
        column = {name: j for j, name in enumerate(OBSERVABLE)}
        for i, record in zip(np.flatnonzero(parsed.flagged), records, strict=True):
            row = {str(k): ("" if v is None else str(v)) for k, v in record.items()}
            try:
                case = case_from_row(row)
                evidence = evidence_for(case)
                verdicts[i] = evaluate(case, rule_set).verdict
            except PoemsError as err:
                errors[i] = f"row {first_row + i}: {err}"
                usable[i] = False
                verdicts[i] = ""
                continue
            codes[i] = -1
            for node, state in evidence.items():
                codes[i, column[node]] = NODES[node].states.index(state)
    chosen = np.array([setting or s or DEFAULT_SETTING for s in parsed.setting], dtype=object)
    diagnoses = NODES[DIAGNOSIS].states
    posts = np.full((n, len(diagnoses)), np.nan)
    for s in sorted(set(chosen[usable])):
        rows = usable & (chosen == s)
        if s not in priors.settings:
            for i in np.flatnonzero(rows):
                errors[i] = (
                    f"row {first_row + i}: setting must be one of {', '.join(priors.settings)}. "
                    f"Got {s!r} instead. {suggest(s, priors.settings)}".rstrip()
                )
            verdicts[rows] = ""
            continue
        engine = engine_for(priors, s)
        posts[rows] = engine.posterior_batch(codes[rows], on_impossible="nan")
        for i in np.flatnonzero(rows & np.isnan(posts[:, 0])):
            errors[i] = (
                f"row {first_row + i}: findings must be a combination the network can "
                "produce. Got evidence of probability zero instead. Check the entries "
                "for a contradiction."
            )
    out = pd.DataFrame({"id": parsed.ids})
    out["posterior_poems"] = posts[:, diagnoses.index("poems")]
    for j, d in enumerate(diagnoses):
        out[f"posterior_{d}"] = posts[:, j]
    out[f"{rule_set}_verdict"] = verdicts
    out["error"] = errors
    return out, int(n - parsed.flagged.sum())


def _chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            reader = pq.ParquetFile(path)
        except (OSError, ValueError) as err:
            raise InputError(
                "cohort file", str(path), "a readable Parquet file", str(err)
            ) from None
        import pyarrow as pa
        import pyarrow.compute as pc

        for batch in reader.iter_batches(batch_size=chunk_rows):
            columns = [pc.fill_null(pc.cast(column, pa.string()), "") for column in batch.columns]
            names = _unique_names(batch.schema.names, str(path))
            yield pa.table(columns, names=names).to_pandas()
        return
    if suffix != ".csv":
        raise InputError(
            "cohort file", str(path), "a .csv or .parquet file", "Rename or convert the file."
        )
    yield from _csv_chunks(path, chunk_rows)


def _unique_names(header: Sequence[str], where: str) -> list[str]:
    """Stripped column names; a repeated name is an error (which cell would count?)."""
    names = [str(h).strip() for h in header]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError(
                "cohort column",
                name,
                "a name used once",
                "Remove or rename the repeated column.",
                where=where,
            )
        seen.add(name)
    return names


def _csv_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """CSV blocks through pyarrow's streaming reader: every cell a string, empty stays ''."""
    import csv

    import pyarrow as pa
    import pyarrow.csv as pacsv

    where = str(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), None)
    except FileNotFoundError:
        raise InputError("cohort file", where, "an existing file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError("cohort file", where, "a readable UTF-8 CSV file", str(err)) from None
    if not header:
        raise InputError("cohort file", where, "a comma-separated file with a header row")
    names = _unique_names(header, where)
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1, block_size=max(1 << 20, chunk_rows * 256)
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
            ),
        )
        for batch in reader:
            frame = batch.to_pandas()
            for start in range(0, len(frame), chunk_rows):
                yield frame.iloc[start : start + chunk_rows].reset_index(drop=True)
    except (pa.ArrowInvalid, UnicodeDecodeError) as err:
        raise InputError(
            "cohort file", where, "a comma-separated file with a header row", f"CSV reader: {err}"
        ) from None


def _total_rows(path: Path) -> int | None:
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except (OSError, ValueError):
            return None
    return None


def unknown_columns(columns: Sequence[str]) -> list[tuple[str, str]]:
    """Columns that are neither finding ids nor case/VEGF columns, with a suggestion."""
    known = set(FINDINGS) | set(CASE_COLUMNS) | set(VEGF_COLUMNS) | {"true_diagnosis"}
    return [(c, suggest(c, FINDINGS)) for c in columns if c not in known]


def score_file(
    source: str | Path,
    output: str | Path,
    *,
    priors: Priors | None = None,
    setting: str | None = None,
    rule_set: str = "seed",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: bool = True,
) -> BatchSummary:
    """Score ``source`` (CSV or Parquet) into ``output`` (by extension), chunk by chunk.

    Memory stays bounded by ``chunk_rows``; the output keeps the input row order.
    """
    from tqdm import tqdm

    source, output = Path(source), Path(output)
    if output.suffix.lower() not in (".csv", ".parquet"):
        raise InputError("-o", str(output), "a .csv or .parquet file name")
    if source.resolve() == output.resolve():
        raise InputError("-o", str(output), "a file other than the input")
    priors = priors if priors is not None else default_priors()
    if setting is not None and setting not in priors.settings:
        raise InputError(
            "--setting",
            setting,
            "one of " + ", ".join(priors.settings),
            suggest(setting, priors.settings),
        )
    resolve_rule_set(rule_set)
    start = time.perf_counter()
    rows = errors = fast = 0
    writer: Any = None
    warned = False
    bar = tqdm(
        total=_total_rows(source),
        unit="rows",
        disable=not progress,
        file=sys.stderr,
        desc="scoring",
    )
    try:
        for frame in _chunks(source, chunk_rows):
            if not warned:
                for column, hint in unknown_columns([str(c) for c in frame.columns]):
                    message = f"poems batch: column {column!r} is not a finding id; ignored."
                    print(f"{message} {hint}".rstrip(), file=sys.stderr)
                warned = True
            out, n_fast = score_frame(frame, priors, setting, rule_set, first_row=rows + 1)
            writer = _write(out, output, writer)
            rows += len(out)
            fast += n_fast
            errors += int((out["error"] != "").sum())
            bar.update(len(out))
        if writer is None:  # empty input: still write the header
            writer = _write(
                pd.DataFrame({c: [] for c in output_columns(priors, rule_set)}), output, writer
            )
    finally:
        bar.close()
        if writer is not None:
            writer.close()
    return BatchSummary(rows, errors, time.perf_counter() - start, fast)


def _write(out: pd.DataFrame, path: Path, writer: Any) -> Any:
    if path.suffix.lower() == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(out, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
        return writer
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pa.Table.from_pandas(out, preserve_index=False)
    if writer is None:
        writer = pacsv.CSVWriter(path, table.schema)  # strings quoted, NaN as empty
    writer.write_table(table)
    return writer


__all__ = [
    "OBSERVABLE",
    "RULE_SETS",
    "BatchSummary",
    "ParsedChunk",
    "engine_for",
    "output_columns",
    "parse_chunk",
    "rule_verdicts",
    "score_file",
    "score_frame",
]
