"""The next tests as an expert orders them: orderable tests, by tier, each scored exactly.

The tests are data (``workup.toml`` beside this module, with the sources for the order): each
names the vocabulary findings its result reveals, a tier (bedside, blood, imaging, biopsy) and,
for mimic-directed tests, the diagnosis it is aimed at. Findings the running vocabulary does
not know are skipped, so the file can already name ids that a later network adds.

What a test does
----------------
A test's result is the joint outcome of the findings it reveals that are still open on this
case and that the network reads. For each outcome the case is rebuilt with the outcome
entered (the case validator decides which outcomes exist: a result it would reject is not a
possible result and is dropped), and read three ways:

- its probability under the network given the current evidence (renormalised over the
  possible outcomes),
- the posterior over the diagnoses it leads to,
- the seed criteria verdict it leads to.

With at most :data:`EXACT_LIMIT` joint outcomes they are enumerated (exact); otherwise
:data:`MC_DRAWS` outcomes are drawn finding by finding from the network's predictive
distribution (seeded, so reproducible) and averaged (``method = "monte_carlo"``). From them:
``expected_information_bits`` = H(D | e) - E[H(D | e, result)] (the whole differential),
the same for POEMS-or-not, ``expected_abs_change_poems``, ``p_settles_seed`` = P(the seed
verdict goes from indeterminate to met or not met) and the information the result carries
about that verdict (the entropy of met / not met / still open after the test: a test that can
only confirm what is already all but certain carries none).

Which tests, in which order
---------------------------
A test with ``requires_any`` is offered only when one of those findings is present (a lesion
or a node to biopsy). A finding is open when it is neither entered nor derived, and *every*
value of it would be accepted by the case validator (so light- or heavy-chain typing is never
proposed once immunofixation is negative). A test with no open finding is not proposed. A
test is worth
doing when it reaches one of the thresholds of ``[ranking]`` in the data; mimic-directed tests
are offered when their mimic has at least ``mimic_min_posterior`` or leads. Order: by tier
(least invasive first), then within a tier by ``score`` = max(share of the remaining
POEMS-or-not uncertainty removed, ``p_settles_seed``). A test marked
``alternative_to`` another that is also proposed is shown as that test's alternative, not as
a separate line. When nothing is worth doing the work-up says, plainly, that the answer is
settled.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from model.case import Case, consistency_partners
from model.case_columns import row_from_case, row_texts, rows_with
from model.criteria import (
    INDETERMINATE,
    MET,
    NOT_MET,
    CriteriaResult,
)
from model.criteria import (
    verdict as verdict_of,
)
from model.criteria.vectorised import STATUS_NAMES, verdict_codes
from model.exceptions import CaseError, PriorsError
from model.formatting import diagnosis_label, percent, rule_set_name, state_words
from model.inference.compiled import CompiledEngine
from model.network.evidence import evidence_for
from model.network.evidence_codes import evidence_codes
from model.network.structure import MARROW_NODE, NODES, VEGF_NODES
from model.vocabulary import FINDINGS, Kind

DATA = Path(__file__).with_name("workup.toml")
EXACT_LIMIT = 64
"""Tests with at most this many joint outcomes are enumerated exactly."""
MC_DRAWS = 128
"""Outcomes drawn for larger tests (seeded)."""
POSITIVE = "poems"

VEGF_REPRESENTATIVE_MULTIPLE: Mapping[str, float] = MappingProxyType(
    {
        "up_to_1x": 0.5,
        "from_1x_to_2x": 1.5,
        "from_2x_to_4x": 3.0,
        "from_4x_to_10x": 6.0,
        "above_10x": 15.0,
    }
)
"""A value inside each VEGF band (x ULN), used to write the outcome into a case."""
VEGF_BANDS_DECIDING_SEED = frozenset({"up_to_1x", "from_1x_to_2x", "from_4x_to_10x", "above_10x"})
"""Bands wholly on one side of the seed's 3 x ULN cut-off; in the 2-4 x band the seed verdict
depends on the value and is read as unchanged."""
REPRESENTATIVE_ULN = 100.0
MARROW_REPRESENTATIVE_PCT: Mapping[str, float] = MappingProxyType(
    {"lt_10_pct": 5.0, "ge_10_pct": 20.0}
)


# ---------------------------------------------------------------- the data
@dataclass(frozen=True)
class Source:
    key: str
    text: str
    verified: str


@dataclass(frozen=True)
class OrderableTest:
    """One orderable test as the data file gives it."""

    id: str
    label: str
    tier: str
    cost: str
    reveals: tuple[str, ...]
    sources: tuple[str, ...]
    directed_at: tuple[str, ...] = ()
    alternative_to: str | None = None
    specimen: str | None = None
    note: str = ""
    requires_any: tuple[str, ...] = ()
    """Offered only when one of these findings is present (a target to biopsy)."""

    def known_findings(self) -> tuple[str, ...]:
        """The findings it reveals that the running vocabulary knows."""
        return tuple(f for f in self.reveals if f in FINDINGS)


@dataclass(frozen=True)
class Catalogue:
    tests: tuple[OrderableTest, ...]
    sources: Mapping[str, Source]
    tiers: tuple[str, ...]
    min_information_bits: float
    min_abs_change_poems: float
    min_verdict_information_bits: float
    mimic_min_posterior: float
    order_sources: tuple[str, ...]


def _need(where: str, table: Mapping[str, Any], key: str, kind: type) -> Any:
    if key not in table:
        raise PriorsError(f"{where}.{key}", None, f"a {kind.__name__}", f"Add '{key} = ...'.")
    value = table[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise PriorsError(f"{where}.{key}", value, f"a {kind.__name__}")
    return value


@functools.lru_cache(maxsize=4)
def load_catalogue(path: str | Path = DATA) -> Catalogue:
    """Read and check the work-up data (errors name the key, the value and the fix)."""
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    ranking = _need("ranking", data, "ranking", dict)
    tiers = tuple(_need("ranking", ranking, "tiers", list))
    sources = {
        key: Source(key, _need(f"sources.{key}", t, "text", str), t.get("verified", ""))
        for key, t in _need("workup", data, "sources", dict).items()
    }
    tests = []
    seen: set[str] = set()
    for i, raw in enumerate(_need("workup", data, "test", list)):
        where = f"test[{i}] ({raw.get('id', '?')})"
        test = OrderableTest(
            id=_need(where, raw, "id", str),
            label=_need(where, raw, "label", str),
            tier=_need(where, raw, "tier", str),
            cost=raw.get("cost", ""),
            reveals=tuple(_need(where, raw, "reveals", list)),
            sources=tuple(_need(where, raw, "sources", list)),
            directed_at=tuple(raw.get("directed_at", ())),
            alternative_to=raw.get("alternative_to"),
            specimen=raw.get("specimen"),
            note=raw.get("note", ""),
            requires_any=tuple(raw.get("requires_any", ())),
        )
        if test.id in seen:
            raise PriorsError(f"{where}.id", test.id, "a unique test id")
        seen.add(test.id)
        if test.tier not in tiers:
            raise PriorsError(f"{where}.tier", test.tier, "one of " + ", ".join(tiers))
        for key in test.sources:
            if key not in sources:
                raise PriorsError(f"{where}.sources", key, "a key of [sources]")
        tests.append(test)
    for test in tests:
        if test.alternative_to is not None and test.alternative_to not in seen:
            raise PriorsError(f"test {test.id}.alternative_to", test.alternative_to, "a test id")
    order_sources = tuple(ranking.get("order_sources", ()))
    for key in order_sources:
        if key not in sources:
            raise PriorsError("ranking.order_sources", key, "a key of [sources]")
    return Catalogue(
        tests=tuple(tests),
        sources=MappingProxyType(sources),
        tiers=tiers,
        min_information_bits=float(_need("ranking", ranking, "min_information_bits", float)),
        min_abs_change_poems=float(_need("ranking", ranking, "min_abs_change_poems", float)),
        min_verdict_information_bits=float(
            _need("ranking", ranking, "min_verdict_information_bits", float)
        ),
        mimic_min_posterior=float(_need("ranking", ranking, "mimic_min_posterior", float)),
        order_sources=order_sources,
    )


# ---------------------------------------------------------------- results
@dataclass(frozen=True)
class WorkupItem:
    """One proposed test and what it is expected to do."""

    test: str
    label: str
    tier: str
    cost: str
    reveals: tuple[str, ...]
    open_findings: tuple[str, ...]
    expected_information_bits: float | None
    expected_abs_change_poems: float | None
    p_settles_seed: float | None
    p_settles_seed_to: Mapping[str, float]
    score: float
    method: str
    why: str
    mimic: str | None = None
    alternatives: tuple[str, ...] = ()
    note: str = ""
    sources: tuple[str, ...] = ()
    outcomes: tuple[tuple[Mapping[str, Any], float], ...] = field(default=(), compare=False)
    """The possible results (findings entered, probability); not serialised."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "test": self.test,
            "label": self.label,
            "tier": self.tier,
            "cost": self.cost,
            "reveals": list(self.reveals),
            "open_findings": list(self.open_findings),
            "expected_information_bits": self.expected_information_bits,
            "expected_abs_change_poems": self.expected_abs_change_poems,
            "p_settles_seed": self.p_settles_seed,
            "p_settles_seed_to": dict(self.p_settles_seed_to),
            "score": self.score,
            "method": self.method,
            "why": self.why,
            "mimic": self.mimic,
            "alternatives": list(self.alternatives),
            "note": self.note,
            "sources": list(self.sources),
        }


@dataclass(frozen=True)
class Workup:
    """The proposed tests in order, or a plain 'settled'."""

    items: tuple[WorkupItem, ...]
    settled: bool
    message: str
    order_rule: str
    sources: Mapping[str, str]

    def by_tier(self) -> dict[str, list[WorkupItem]]:
        out: dict[str, list[WorkupItem]] = {}
        for item in self.items:
            out.setdefault(item.tier, []).append(item)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "settled": self.settled,
            "message": self.message,
            "order_rule": self.order_rule,
            "items": [i.to_dict() for i in self.items],
            "sources": dict(self.sources),
        }

    def to_markdown(self) -> str:
        lines = [self.message, ""]
        if self.items:
            lines += ["| # | tier | test | why |", "|---|---|---|---|"]
            for n, item in enumerate(self.items, start=1):
                alt = f" (or: {', '.join(item.alternatives)})" if item.alternatives else ""
                lines.append(f"| {n} | {item.tier} | {item.label}{alt} | {item.why} |")
            lines += ["", self.order_rule]
        return "\n".join(lines)


_SEED_NAME = rule_set_name("seed")
"""The default rule set as the work-up's texts name it."""

ORDER_RULE = (
    "Order: least invasive first (bedside, blood, imaging, biopsy), and within a tier by how "
    "much the test is expected to change the diagnosis probabilities or decide the "
    f"{_SEED_NAME} criteria."
)


# ---------------------------------------------------------------- outcomes of one test
def _node_of(finding: str, test: OrderableTest, engine: CompiledEngine) -> str | None:
    if finding == "vegf":
        node = VEGF_NODES.get(test.specimen or "serum")
    elif finding == "bone_marrow_plasma_cells_pct":
        node = MARROW_NODE
    else:
        node = finding
    return node if node in engine.observable else None


def _value(finding: str, node: str, state: str) -> Any:
    """The case value that a node state amounts to."""
    if finding == "vegf":
        specimen = next(s for s, n in VEGF_NODES.items() if n == node)
        value = VEGF_REPRESENTATIVE_MULTIPLE[state] * REPRESENTATIVE_ULN
        return {"value": value, "unit": "pg/mL", "specimen": specimen, "uln": REPRESENTATIVE_ULN}
    if finding == "bone_marrow_plasma_cells_pct":
        return MARROW_REPRESENTATIVE_PCT[state]
    return state


def _entered_or_derived(case: Case, finding: str) -> bool:
    if case.entered(finding) is not None:
        return True
    spec = FINDINGS[finding]
    if spec.kind in (Kind.BINARY, Kind.CATEGORY, Kind.AGGREGATE):
        return case.state(finding) is not None
    return False


def open_findings(
    case: Case, test: OrderableTest, engine: CompiledEngine
) -> tuple[tuple[str, str], ...]:
    """(finding, node) pairs the test would newly reveal, every value of which the case
    validator accepts; findings the network does not read are left out."""
    out = []
    for finding in test.known_findings():
        if finding == "vegf" and (case.vegf is not None or case.entered("vegf_elevated")):
            continue
        if _entered_or_derived(case, finding):
            continue
        node = _node_of(finding, test, engine)
        if node is None:
            continue
        if _admits_every_state(case, finding, node, engine):
            out.append((finding, node))
    return tuple(out)


_ADMITS: dict[tuple[Any, ...], bool] = {}
_ADMITS_LIMIT = 8192


def _admits_every_state(case: Case, finding: str, node: str, engine: CompiledEngine) -> bool:
    """Whether the case validator accepts every value of ``finding`` the node's states give.

    The answer depends only on the values the case gives the finding's consistency partners
    (:func:`model.case.consistency_partners`) and on its sex and age, so it is remembered
    under those (the same finding is asked about by several tests and by ``next_tests``).
    """
    key = (
        finding,
        node,
        engine.states[node],
        tuple(
            (p, repr(case.findings[p]))
            for p in sorted(consistency_partners(finding))
            if p in case.findings
        ),
        case.sex,
        case.age,
    )
    known = _ADMITS.get(key)
    if known is not None:
        return known
    try:
        for state in engine.states[node]:
            case.with_findings({finding: _value(finding, node, state)})
        known = True
    except CaseError:
        known = False
    if len(_ADMITS) >= _ADMITS_LIMIT:
        _ADMITS.clear()
    _ADMITS[key] = known
    return known


def admissible_nodes(
    case: Case, engine: CompiledEngine, evidence: Mapping[str, str]
) -> tuple[str, ...]:
    """Unobserved network nodes every state of which the case accepts (for ``next_tests``)."""
    vegf_known = case.vegf is not None or case.entered("vegf_elevated") is not None
    out = []
    for node in engine.observable:
        if node in evidence:
            continue
        if node in ("vegf_serum", "vegf_plasma", "vegf_elevated"):
            if not vegf_known:
                out.append(node)
            continue
        finding = "bone_marrow_plasma_cells_pct" if node == MARROW_NODE else node
        if finding not in FINDINGS or _entered_or_derived(case, finding):
            continue
        if _admits_every_state(case, finding, node, engine):
            out.append(node)
    return tuple(out)


@dataclass(frozen=True)
class _Outcome:
    findings: Mapping[str, Any]  # what the result enters into the case
    nodes: Mapping[str, str]  # the network states drawn or enumerated
    key: tuple[str, ...]  # the node states in the test's order
    result: int  # index of the result (distinct reduced findings) in its plan


class _Reducer:
    """Turns a joint network outcome into the result a laboratory would report.

    Findings are entered in the test's order; a finding is left out of this result when not
    every value of it would be accepted after the ones before (light and heavy chain are not
    typed when immunofixation is negative). So every result is a case the validator accepts,
    and the probabilities of the joint outcomes that report the same result add up.

    Whether a finding is accepted depends only on the findings entered before it that share a
    consistency rule with it (:data:`model.case.CONSISTENCY_GROUPS`), so that answer is
    remembered per those findings' values, and each distinct joint outcome is reduced once.
    """

    def __init__(self, case: Case, pairs: Sequence[tuple[str, str]], engine: CompiledEngine):
        self.case = case
        self.pairs = pairs
        self.engine = engine
        self._partners = {f: sorted(consistency_partners(f)) for f, _ in pairs}
        # with no partner among the findings entered before it, a finding is accepted for
        # every value: that is why it is open (open_findings) on this case
        self._admits: dict[tuple[Any, ...], bool] = {(f,): True for f, _ in pairs}
        self._reduced: dict[tuple[str, ...], dict[str, Any]] = {}

    def _admits_all(self, kept: dict[str, Any], finding: str, node: str) -> bool:
        key = (finding, *((f, repr(kept[f])) for f in self._partners[finding] if f in kept))
        if key not in self._admits:
            try:
                for state in self.engine.states[node]:
                    _with(self.case, {**kept, finding: _value(finding, node, state)})
                self._admits[key] = True
            except CaseError:
                self._admits[key] = False
        return self._admits[key]

    def __call__(self, key: tuple[str, ...]) -> dict[str, Any]:
        """The findings the result with these node states (in the test's order) reports."""
        if key not in self._reduced:
            kept: dict[str, Any] = {}
            for (finding, node), state in zip(self.pairs, key, strict=True):
                if self._admits_all(kept, finding, node):
                    kept[finding] = _value(finding, node, state)
            self._reduced[key] = kept
        return self._reduced[key]


def _enumerate(pairs: Sequence[tuple[str, str]], engine: CompiledEngine) -> list[dict[str, str]]:
    return [
        {n: s for (_, n), s in zip(pairs, combo, strict=True)}
        for combo in itertools.product(*(engine.states[node] for _, node in pairs))
    ]


def _sample(
    pairs: Sequence[tuple[str, str]],
    engine: CompiledEngine,
    base_codes: np.ndarray,
    seed: int,
) -> list[dict[str, str]]:
    """Draw joint results finding by finding from the network's predictive distribution.

    The distinct draws so far are scored for every state of the next finding in one engine
    call, and all draws of that finding use one vector of uniforms: the same numbers, in the
    same order, as one ``Generator.choice(p=...)`` per draw (which inverts the normalised
    cumulative distribution at one uniform).
    """
    rng = np.random.default_rng(seed)
    drawn: list[dict[str, str]] = [{} for _ in range(MC_DRAWS)]
    codes = np.repeat(base_codes[None, :], MC_DRAWS, axis=0)
    for _, node in pairs:
        states = engine.states[node]
        column = engine.observable.index(node)
        seen: dict[bytes, int] = {}  # draws alike so far are scored once
        inverse = np.array([seen.setdefault(r.tobytes(), len(seen)) for r in codes])
        prefixes = codes[np.unique(inverse, return_index=True)[1]]
        rows = np.repeat(prefixes, len(states), axis=0)
        rows[:, column] = np.tile(np.arange(len(states), dtype=rows.dtype), len(prefixes))
        _, log_ev = engine.log_posterior_batch(rows)
        log_ev = log_ev.reshape(len(prefixes), len(states))[inverse]
        top = log_ev.max(axis=1, keepdims=True)
        weights = np.exp(log_ev - np.where(np.isfinite(top), top, 0.0))
        total = weights.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(total > 0, weights / total, 1 / len(states))
        cdf = p.cumsum(axis=1)
        cdf /= cdf[:, -1:]
        chosen = (cdf <= rng.random(MC_DRAWS)[:, None]).sum(axis=1)
        codes[:, column] = chosen
        for d, c in zip(drawn, chosen, strict=True):
            d[node] = states[int(c)]
    return drawn


def _with(case: Case, findings: Mapping[str, Any]) -> Case:
    """The case with ``findings`` entered (validated exactly as ``Case.from_dict`` would)."""
    return case.with_findings(findings)


def _binary_entropy(p: Any) -> np.ndarray:
    q = np.asarray(p, dtype=float)
    return np.asarray(_entropy_bits(np.stack([q, 1.0 - q], axis=-1)))


def _entropy_bits(probs: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(probs > 0, probs * np.log2(probs), 0.0)
    return np.asarray(-terms.sum(axis=-1))


@dataclass(frozen=True)
class _Effect:
    bits: float
    poems_bits: float
    abs_change: float
    verdict_bits: float
    p_settles: float
    settles_to: Mapping[str, float]
    method: str
    outcomes: tuple[tuple[Mapping[str, Any], float], ...]


@dataclass(frozen=True)
class _Plan:
    """One test's possible results, before they are read and scored.

    ``outcomes`` are the joint outcomes (enumerated, or drawn with repeats); ``results`` the
    distinct findings they report (``_Outcome.result`` indexes them); ``seed_reads`` (when
    the seed verdict is open) the findings each result's seed verdict is read on.
    """

    exact: bool
    outcomes: list[_Outcome]
    results: list[dict[str, Any]]
    seed_reads: list[dict[str, Any]]
    joint: np.ndarray | None  # exact: the encoded joint outcomes (evidence + node states)


def _seed_findings(outcome_nodes: Mapping[str, str], kept: Mapping[str, Any]) -> dict[str, Any]:
    """The findings the seed verdict is read on: a VEGF band that straddles the seed's cut-off
    decides nothing, so its value is left out."""
    findings = dict(kept)
    vegf_nodes = set(VEGF_NODES.values())
    for node, state in outcome_nodes.items():
        if node in vegf_nodes and state not in VEGF_BANDS_DECIDING_SEED:
            findings.pop("vegf", None)
    return findings


def _read_results(
    case: Case,
    results: list[dict[str, Any]],
    seed_reads: list[dict[str, Any]],
    engine: CompiledEngine,
    columns_ok: bool,
) -> tuple[np.ndarray, list[str]]:
    """Evidence codes of ``case`` with each result, and the seed verdict of ``case`` with each
    of ``seed_reads``: parsed as rows in one pass (:mod:`model.case_columns`, the cohort
    path, tested equal to ``Case``); a row that parse flags goes through ``Case`` itself."""
    n = len(results)
    codes = np.full((n, len(engine.observable)), -1, dtype=np.int8)
    verdicts = [""] * len(seed_reads)
    flagged = np.ones(n + len(seed_reads), dtype=bool)
    if columns_ok and n + len(seed_reads):
        changes = [row_texts(f) for f in (*results, *seed_reads)]
        parsed = rows_with(row_from_case(case), changes)
        flagged = parsed.flagged
        codes[:] = evidence_codes(parsed, engine.observable)[:n]
        if seed_reads:
            seed_codes = verdict_codes(parsed, "seed")[n:]
            verdicts = [STATUS_NAMES[c] for c in seed_codes]
    for i in np.flatnonzero(flagged[:n]):
        codes[i] = engine.encode([evidence_for(_with(case, results[i]))])[0]
    for i in np.flatnonzero(flagged[n:]):
        verdicts[i] = verdict_of(_with(case, seed_reads[i]) if seed_reads[i] else case, "seed")
    return codes, verdicts


def _plan(
    case: Case,
    pairs: Sequence[tuple[str, str]],
    engine: CompiledEngine,
    base_codes: np.ndarray,
    seed: int,
    need_seed: bool,
) -> _Plan | None:
    n_joint = math.prod(len(engine.states[node]) for _, node in pairs)
    exact = n_joint <= EXACT_LIMIT
    joints = _enumerate(pairs, engine) if exact else _sample(pairs, engine, base_codes, seed)
    if not joints:
        return None
    reduce = _Reducer(case, pairs, engine)
    keys = [tuple(nodes[node] for _, node in pairs) for nodes in joints]
    index: dict[tuple[str, ...], int] = {}
    for key in keys:
        index.setdefault(key, len(index))
    results = [reduce(key) for key in index]
    seed_reads = []
    if need_seed:
        seed_reads = [
            _seed_findings(dict(zip((n for _, n in pairs), key, strict=True)), kept)
            for key, kept in zip(index, results, strict=True)
        ]
    outcomes = [
        _Outcome(results[index[key]], nodes, key, index[key])
        for nodes, key in zip(joints, keys, strict=True)
    ]
    joint = None
    if exact:
        joint = np.repeat(base_codes[None, :], len(outcomes), axis=0)
        for j, (_, node) in enumerate(pairs):
            state_index = {s: i for i, s in enumerate(engine.states[node])}
            joint[:, engine.observable.index(node)] = [state_index[o.key[j]] for o in outcomes]
    return _Plan(exact, outcomes, results, seed_reads, joint)


def _effect(
    plan: _Plan,
    seed_verdicts: Sequence[str],
    verdict: str,
    base_post: np.ndarray,
    log_post: np.ndarray,
    log_ev: np.ndarray,
    log_joint: np.ndarray | None,
    k: int,
) -> _Effect | None:
    """What the test is expected to do, from its results' scores (rows of one batch call)."""
    outcomes, exact = plan.outcomes, plan.exact
    if exact:  # the probability of the joint outcome, before it is reduced to a result
        assert log_joint is not None
        top = np.max(log_joint)
        if not np.isfinite(top):
            return None
        weights = np.exp(log_joint - top)
    else:
        weights = np.where(np.isfinite(log_ev), 1.0, 0.0)
    if weights.sum() <= 0:
        return None
    weights = weights / weights.sum()
    post = np.exp(log_post)
    h_now = float(_entropy_bits(base_post))
    live = weights > 0
    h_after = float((weights[live] * _entropy_bits(post[live])).sum())
    abs_change = float((weights[live] * np.abs(post[live, k] - base_post[k])).sum())
    poems_now = float(_binary_entropy(base_post[k]))
    poems_after = float((weights[live] * _binary_entropy(post[live, k])).sum())
    settles_to: dict[str, float] = {}
    if verdict == INDETERMINATE:
        for outcome, w in zip(outcomes, weights, strict=True):
            after = seed_verdicts[outcome.result]
            if w > 0 and after in (MET, NOT_MET):
                settles_to[after] = settles_to.get(after, 0.0) + float(w)
    p_settles = sum(settles_to.values())
    verdict_probs = np.array([*settles_to.values(), max(1.0 - p_settles, 0.0)])
    return _Effect(
        bits=max(h_now - h_after, 0.0),
        poems_bits=max(poems_now - poems_after, 0.0),
        abs_change=abs_change,
        verdict_bits=float(_entropy_bits(verdict_probs)),
        p_settles=p_settles,
        settles_to=MappingProxyType(settles_to),
        method="exact" if exact else "monte_carlo",
        outcomes=tuple(
            (MappingProxyType(dict(o.findings)), float(w))
            for o, w in zip(outcomes, weights, strict=True)
            if w > 0
        ),
    )


# ---------------------------------------------------------------- the work-up
def workup(
    case: Case,
    engine: CompiledEngine,
    evidence: Mapping[str, str],
    seed_result: CriteriaResult | None = None,
    catalogue: Catalogue | None = None,
    seed: int = 0,
) -> Workup:
    """The proposed tests for ``case`` in order, or 'settled' (module docstring)."""
    cat = catalogue or load_catalogue()
    verdict = seed_result.verdict if seed_result is not None else verdict_of(case, "seed")
    base_codes = engine.encode([evidence])
    base_log_post, _ = engine.log_posterior_batch(base_codes)
    base_post = np.exp(base_log_post[0])
    posterior = dict(zip(engine.query_states, (float(p) for p in base_post), strict=True))
    leader = max(posterior, key=lambda d: posterior[d])
    poems_now = float(_binary_entropy(posterior[POSITIVE]))
    need_seed = verdict == INDETERMINATE
    columns_ok = all(
        node in NODES and engine.states[node] == NODES[node].states for node in engine.observable
    )
    # 1. the tests on offer and their possible results
    offered: list[tuple[int, OrderableTest, str | None, tuple[str, ...], _Plan | None]] = []
    for order, test in enumerate(cat.tests):
        mimic = _mimic(test, posterior, leader, cat.mimic_min_posterior)
        if test.directed_at and mimic is None:
            continue
        if test.requires_any and not any(
            f in FINDINGS and case.state(f) == "present" for f in test.requires_any
        ):
            continue
        pairs = open_findings(case, test, engine)
        open_ids = tuple(f for f, _ in pairs)
        unscored = tuple(
            f
            for f in test.known_findings()
            if f not in open_ids
            and _node_of(f, test, engine) is None
            and not _entered_or_derived(case, f)
        )
        if not pairs and not (mimic and unscored):
            continue
        plan = _plan(case, pairs, engine, base_codes[0], seed + order, need_seed) if pairs else None
        if plan is None and not mimic:
            continue
        offered.append((order, test, mimic, open_ids + unscored, plan))
    # 2. every test's results read as cases in one pass, and scored in one engine call
    plans = [plan for *_, plan in offered if plan is not None]
    codes, seed_verdicts = _read_results(
        case,
        [r for plan in plans for r in plan.results],
        [r for plan in plans for r in plan.seed_reads],
        engine,
        columns_ok,
    )
    blocks, starts, row, seed_row = [], {}, 0, 0
    for plan in plans:
        n = len(plan.results)
        blocks.append(codes[row : row + n])
        starts[id(plan)] = (row, seed_row)
        row += n
        seed_row += len(plan.seed_reads)
    n_results = row
    blocks += [plan.joint for plan in plans if plan.joint is not None]
    if blocks:
        all_log_post, all_log_ev = engine.log_posterior_batch(np.concatenate(blocks))
    k = engine.query_states.index(POSITIVE)
    joint_row = n_results
    items: list[tuple[int, float, int, WorkupItem]] = []
    for order, test, mimic, open_ids, plan in offered:
        effect = None
        if plan is not None:
            first, first_seed = starts[id(plan)]
            take = first + np.array([o.result for o in plan.outcomes])
            log_joint = None
            if plan.joint is not None:
                log_joint = all_log_ev[joint_row : joint_row + len(plan.outcomes)]
                joint_row += len(plan.outcomes)
            effect = _effect(
                plan,
                seed_verdicts[first_seed : first_seed + len(plan.seed_reads)],
                verdict,
                base_post,
                all_log_post[take],
                all_log_ev[take],
                log_joint,
                k,
            )
        if effect is None and not mimic:
            continue
        worth = effect is not None and (
            effect.bits >= cat.min_information_bits
            or effect.abs_change >= cat.min_abs_change_poems
            or effect.verdict_bits >= cat.min_verdict_information_bits
        )
        if not worth and not mimic:
            continue
        score = _score(effect, poems_now)
        items.append(
            (
                cat.tiers.index(test.tier),
                -score,
                order,
                WorkupItem(
                    test=test.id,
                    label=test.label,
                    tier=test.tier,
                    cost=test.cost,
                    reveals=test.known_findings(),
                    open_findings=open_ids,
                    expected_information_bits=None if effect is None else effect.bits,
                    expected_abs_change_poems=None if effect is None else effect.abs_change,
                    p_settles_seed=None if effect is None else effect.p_settles,
                    p_settles_seed_to=(
                        MappingProxyType({}) if effect is None else effect.settles_to
                    ),
                    score=score,
                    method="not scored" if effect is None else effect.method,
                    why=_why(effect, mimic, posterior),
                    mimic=mimic,
                    note=test.note,
                    sources=test.sources,
                    outcomes=() if effect is None else effect.outcomes,
                ),
            )
        )
    items.sort(key=lambda t: t[:3])
    chosen = [t[3] for t in items]
    by_id = {t.id: t for t in cat.tests}
    proposed = {i.test for i in chosen}
    final = []
    for item in chosen:
        target = by_id[item.test].alternative_to
        if target is not None and target in proposed:
            continue
        alternatives = tuple(
            by_id[o.test].label for o in chosen if by_id[o.test].alternative_to == item.test
        )
        final.append(_replace_alternatives(item, alternatives))
    settled = not final
    message = (
        "Settled: no available test is expected to change the diagnosis probabilities or the "
        f"{_SEED_NAME} criteria verdict enough to be worth doing."
        if settled
        else f"{len(final)} test(s) worth doing, least invasive first."
    )
    return Workup(
        items=tuple(final),
        settled=settled,
        message=message,
        order_rule=ORDER_RULE,
        sources=MappingProxyType({k: f"{s.text} ({s.verified})" for k, s in cat.sources.items()}),
    )


def _score(effect: _Effect | None, poems_now: float) -> float:
    """Share of the remaining POEMS-or-not uncertainty the test removes, or the chance it
    decides the seed verdict, whichever is larger. (Whether deciding the verdict makes a test
    worth doing at all is judged by the information it carries about the verdict, so a test
    that can only confirm an all-but-certain verdict is not proposed for that alone.)"""
    if effect is None:
        return 0.0
    share = effect.poems_bits / poems_now if poems_now > 1e-12 else 0.0
    return max(min(share, 1.0), effect.p_settles)


def _replace_alternatives(item: WorkupItem, alternatives: tuple[str, ...]) -> WorkupItem:
    return dataclasses.replace(item, alternatives=alternatives) if alternatives else item


def _mimic(
    test: OrderableTest, posterior: Mapping[str, float], leader: str, minimum: float
) -> str | None:
    for diagnosis in test.directed_at:
        if diagnosis in posterior and (leader == diagnosis or posterior[diagnosis] >= minimum):
            return diagnosis
    return None


def _why(effect: _Effect | None, mimic: str | None, posterior: Mapping[str, float]) -> str:
    parts = []
    if mimic is not None:
        parts.append(f"aimed at {diagnosis_label(mimic)} (P {percent(posterior[mimic])})")
    if effect is not None:
        change = "< 1 %" if effect.abs_change < 0.005 else f"{100 * effect.abs_change:.0f} %"
        parts.append(f"expected information {effect.bits:.2f} bits")
        parts.append(f"expected change of P(POEMS) {change}")
        if effect.p_settles > 0:
            ways = " or ".join(
                f"{state_words(v)} {percent(p)}" for v, p in sorted(effect.settles_to.items())
            )
            parts.append(f"decides the {_SEED_NAME} criteria ({ways})")
    else:
        parts.append("the network does not model its result yet")
    return "; ".join(parts)
