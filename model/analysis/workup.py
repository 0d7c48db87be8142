"""The next tests as an expert orders them: orderable tests, by tier, each scored exactly.

The tests are data (``workup.toml`` beside this module, with the sources for the order): each
names the vocabulary findings its result reveals, a tier (bedside, blood, imaging, biopsy) and,
for mimic-directed tests, the diagnosis it is aimed at. Findings the running vocabulary does
not know are skipped, so the file can already name ids that a later network adds.

What a test does
----------------
A test's result is the joint outcome of the findings it reveals that are still open on this
case and that the network reads. Each outcome is read as the case with the outcome entered
(the case validator decides which outcomes exist: a result it would reject is not a possible
result and is dropped; the reading is tested equal to rebuilding the case), three ways:

- its probability under the network given the current evidence (renormalised over the
  possible outcomes),
- the posterior over the diagnoses it leads to,
- the seed criteria verdict it leads to.

With at most :data:`EXACT_LIMIT` joint outcomes they are enumerated (exact); otherwise
:data:`MC_DRAWS` joint outcomes are drawn from the network's predictive distribution (the
core state given the evidence, then each cluster's open findings given it:
:func:`model.inference.predictive.sample_open`; seeded, so reproducible) and averaged
(``method = "monte_carlo"``). From them:
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
import math
import tomllib
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, overload

import numpy as np

from model.analysis.workup_seed import seed_criteria, seed_verdict_codes
from model.case import CONSISTENCY_GROUPS, Case, consistency_partners
from model.case_columns import ENTERED, CaseColumns, CodedColumn
from model.criteria import (
    INDETERMINATE,
    MET,
    NOT_MET,
    CriteriaResult,
)
from model.criteria import (
    evaluate as evaluate_rule_set,
)
from model.criteria import (
    verdict as verdict_of,
)
from model.criteria.vectorised import STATUS_NAMES
from model.exceptions import CaseError, PriorsError
from model.formatting import diagnosis_label, percent, rule_set_name, state_words
from model.inference.compiled import CompiledEngine
from model.inference.predictive import sample_open
from model.measurements import VegfMeasurement, parse_vegf
from model.network.evidence import evidence_for
from model.network.structure import MARROW_NODE, NODES, VEGF_NODES
from model.vocabulary import (
    ABSENT,
    AGGREGATES,
    FINDINGS,
    NUMBER_FINDINGS,
    PRESENT,
    SEXES,
    UNKNOWN,
    VEGF_SPECIMENS,
    Kind,
)

DATA = Path(__file__).with_name("workup.toml")
EXACT_LIMIT = 64
"""Tests with at most this many joint outcomes are enumerated exactly."""
MC_DRAWS = 128
"""Outcomes drawn for larger tests (seeded)."""
POSITIVE = "poems"
MET_CODE, NOT_MET_CODE = STATUS_NAMES.index(MET), STATUS_NAMES.index(NOT_MET)

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
    outcomes: Sequence[tuple[Mapping[str, Any], float]] = field(default=(), compare=False)
    """The possible results (findings entered, probability), one per joint outcome with a
    probability above zero; built when first read; not serialised."""

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


@functools.lru_cache(maxsize=256)
def _known_findings(test: OrderableTest) -> tuple[str, ...]:
    """:meth:`OrderableTest.known_findings`, once per test."""
    return test.known_findings()


def open_findings(
    case: Case, test: OrderableTest, engine: CompiledEngine
) -> tuple[tuple[str, str], ...]:
    """(finding, node) pairs the test would newly reveal, every value of which the case
    validator accepts; findings the network does not read are left out."""
    return _open_findings(case, test, engine, {})[0]


@functools.lru_cache(maxsize=1024)
def _test_nodes(
    test: OrderableTest, observable: tuple[str, ...]
) -> tuple[tuple[str, str | None], ...]:
    """Each finding of the test the vocabulary knows, with the node it is read as on an engine
    whose observable nodes are ``observable`` (``None``: the network does not read it)."""
    readable = frozenset(observable)
    out = []
    for finding in test.known_findings():
        if finding == "vegf":
            node: str | None = VEGF_NODES.get(test.specimen or "serum")
        elif finding == "bone_marrow_plasma_cells_pct":
            node = MARROW_NODE
        else:
            node = finding
        out.append((finding, node if node in readable else None))
    return tuple(out)


def _open_findings(
    case: Case, test: OrderableTest, engine: CompiledEngine, memo: dict[Any, bool]
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """:func:`open_findings`, and the findings the test reveals that are not entered or
    derived but that the network does not read (in the test's order). ``memo`` remembers,
    for one case, which findings are entered or derived and which the case accepts every
    value of (tests share findings)."""
    pairs = []
    unscored = []
    vegf_known = case.vegf is not None or case.entered("vegf_elevated")
    facts = _facts(engine)
    nodes = facts.test_nodes.get(test)
    if nodes is None:
        nodes = facts.test_nodes[test] = _test_nodes(test, engine.observable)
    for finding, node in nodes:
        if node is not None and finding == "vegf" and vegf_known:
            continue
        done = memo.get(finding)
        if done is None:
            done = memo[finding] = _entered_or_derived(case, finding)
        if done:
            continue
        if node is None:
            unscored.append(finding)
            continue
        admits = memo.get((finding, node))
        if admits is None:
            alone = len(_partners(finding)) == 1
            admits = memo[(finding, node)] = _admits(case, finding, node, engine, alone)
        if admits:
            pairs.append((finding, node))
    return tuple(pairs), tuple(unscored)


_ADMITS: dict[tuple[Any, ...], bool] = {}
_REPORTED: dict[tuple[Any, ...], Any] = {}
"""The same answers within a result: per finding and context, by the state indices of the
partners entered before it (a table over every combination, ``-1`` = not asked yet, or a
dict by row when the combinations are too many)."""
_ADMITS_LIMIT = 8192


def _admits_every_state(
    case: Case,
    finding: str,
    node: str,
    engine: CompiledEngine,
    entered: Mapping[str, Any] | None = None,
) -> bool:
    """Whether the case validator accepts every value of ``finding`` the node's states give,
    on ``case`` with ``entered`` (findings of the same result entered before it) added.

    The answer depends only on the values the case and ``entered`` give the finding's
    consistency partners (:func:`model.case.consistency_partners`; reduced by
    :func:`_partner_key`) and on its sex (the hemoglobin thresholds, :func:`_sex`; no rule
    reads the age), so it is remembered under those (the same finding is asked about by
    several tests, by every result of a test and by ``next_tests``, and by other cases).
    """
    partners = _partners(finding)
    added: dict[str, Any] = {}
    if len(partners) == 1:  # no rule reads it with another finding, nor the sex
        key: tuple[Any, ...] = (finding, node, engine.states[node])
    else:
        merged: Mapping[str, Any] = case.findings  # what the partners' values are read from
        if entered:
            added = {p: v for p, v in entered.items() if p in partners}
            merged = {**{p: case.findings[p] for p in partners if p in case.findings}, **added}
        key = (
            finding,
            node,
            engine.states[node],
            _partner_key(finding, merged),
            _sex(case, finding),
        )
    known = _ADMITS.get(key)
    if known is not None:
        return known
    try:
        for state in engine.states[node]:
            case.with_findings({**added, finding: _value(finding, node, state)})
        known = True
    except CaseError:
        known = False
    if len(_ADMITS) >= _ADMITS_LIMIT:
        _ADMITS.clear()
    _ADMITS[key] = known
    return known


@functools.cache
def _partners(finding: str) -> tuple[str, ...]:
    return tuple(sorted(consistency_partners(finding)))


@functools.cache
def _aggregate_rules(finding: str) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    """The (aggregate, parts) whose consistency rules are the only ones reading ``finding``,
    when each is stated findings only (present / absent, no measurement) and no other member
    is read by another rule; ``None`` otherwise.

    Such a rule refuses an aggregate stated present while every part is absent, and one
    stated absent while a part is present (:meth:`model.case.Case._check_consistency`), so
    whether every value of ``finding`` is accepted depends on the other members only through
    the aggregate's stated value, whether every other part is absent and whether one is
    present (:func:`_partner_key`; ``tests/test_workup_fast.py`` checks it by brute force).
    """
    rules = []
    for group in (g for g in CONSISTENCY_GROUPS if finding in g):
        aggregate = next((a for a, parts in AGGREGATES.items() if group == {a, *parts}), None)
        if aggregate is None or any(
            FINDINGS[member].kind not in (Kind.BINARY, Kind.AGGREGATE)
            or sum(member in other for other in CONSISTENCY_GROUPS) > 1
            for member in group - {finding}
        ):
            return None
        rules.append((aggregate, AGGREGATES[aggregate]))
    return tuple(rules) or None


def _sex(case: Case, finding: str) -> str | None:
    """The case's sex where acceptance of ``finding`` may depend on it (the hemoglobin
    thresholds), ``None`` for a finding only aggregate rules read (they do not read the sex:
    ``tests/test_workup_fast.py``)."""
    return None if _aggregate_rules(finding) is not None else case.sex


def _partner_key(
    finding: str, values: Mapping[str, Any], leave_out: frozenset[str] = frozenset()
) -> tuple[Any, ...]:
    """What the case validator reads of ``values`` (the case's and the result's entered
    findings) when it decides whether a value of ``finding`` is accepted: the values of its
    consistency partners, reduced for the aggregate rules of :func:`_aggregate_rules` to the
    aggregate's stated value and whether every other part is absent or one is present.
    ``leave_out``: partners whose values a lookup table indexes instead (never entered on
    the case)."""
    rules = _aggregate_rules(finding)
    if rules is None:
        return tuple(
            (p, repr(values[p])) for p in _partners(finding) if p in values and p not in leave_out
        )
    key = []
    for aggregate, parts in rules:
        others = [values.get(p) for p in parts if p != finding and p not in leave_out]
        stated = None if aggregate in (finding, *leave_out) else values.get(aggregate)
        key.append(
            (
                None if stated == UNKNOWN else stated,
                all(v == ABSENT for v in others),
                any(v == PRESENT for v in others),
            )
        )
    return tuple(key)


def admissible_nodes(
    case: Case, engine: CompiledEngine, evidence: Mapping[str, str]
) -> tuple[str, ...]:
    """Unobserved network nodes every state of which the case accepts (for ``next_tests``)."""
    vegf_known = case.vegf is not None or case.entered("vegf_elevated") is not None
    facts = _facts(engine)
    out = []
    for node, finding, stated, alone in _admissible_plan(engine, facts):
        if node in evidence:
            continue
        if finding is None:  # a VEGF node
            if not vegf_known:
                out.append(node)
            continue
        # _entered_or_derived, its kind read from the plan
        if case.entered(finding) is not None or (stated and case.state(finding) is not None):
            continue
        if _admits(case, finding, node, engine, alone):
            out.append(node)
    return tuple(out)


def _admits(case: Case, finding: str, node: str, engine: CompiledEngine, alone: bool) -> bool:
    """:func:`_admits_every_state`; for a finding no consistency rule reads with another
    (``alone``) the answer is the same on every case, so it is kept per engine."""
    if not alone:
        return _admits_every_state(case, finding, node, engine)
    kept = _facts(engine).admits_alone
    known = kept.get((finding, node))
    if known is None:
        known = kept[finding, node] = _admits_every_state(case, finding, node, engine)
    return known


_AdmissiblePlan = tuple[tuple[str, str | None, bool, bool], ...]


def _admissible_plan(engine: CompiledEngine, facts: _EngineFacts) -> _AdmissiblePlan:
    """What :func:`admissible_nodes` reads of each observable node, the same for every case:
    the node, the finding it is read as (``None``: a VEGF node), whether that finding has a
    state the case may derive, and whether no consistency rule reads it with another finding
    (nodes the vocabulary does not know, never admissible, are left out). Worked out once
    per engine."""
    if facts.admissible_plan:
        return facts.admissible_plan[0]
    plan: list[tuple[str, str | None, bool, bool]] = []
    for node in engine.observable:
        if node in ("vegf_serum", "vegf_plasma", "vegf_elevated"):
            plan.append((node, None, False, False))
            continue
        finding = "bone_marrow_plasma_cells_pct" if node == MARROW_NODE else node
        if finding not in FINDINGS:
            continue
        stated = FINDINGS[finding].kind in (Kind.BINARY, Kind.CATEGORY, Kind.AGGREGATE)
        plan.append((node, finding, stated, len(_partners(finding)) == 1))
    facts.admissible_plan.append(tuple(plan))
    return facts.admissible_plan[0]


def _reported(
    case: Case, pairs: Sequence[tuple[str, str]], engine: CompiledEngine, keys: np.ndarray
) -> np.ndarray:
    """Which findings each joint outcome reports, as a laboratory would (bool, like ``keys``).

    ``keys`` holds distinct joint outcomes (state index per finding of ``pairs``). Findings
    are entered in the test's order; a finding is left out of a result when not every value
    of it would be accepted after the ones before (light and heavy chain are not typed when
    immunofixation is negative). So every result is a case the validator accepts, and the
    probabilities of the joint outcomes that report the same result add up.

    Whether a finding is accepted depends only on the findings entered before it that share a
    consistency rule with it (:data:`model.case.CONSISTENCY_GROUPS`); with none among them
    it is accepted for every value (that is why it is open on this case), otherwise the
    answer is asked once per distinct values of those partners.
    """
    reported = np.ones(keys.shape, dtype=bool)
    node_states = tuple(engine.states[node] for _, node in pairs)
    for j, before, context_of, left_out in _report_order(tuple(pairs), node_states):
        finding = pairs[j][0]
        if _always_accepted(case, finding, pairs[j][1], engine, left_out):
            continue
        case_key = _partner_key(finding, case.findings, left_out)
        values = np.where(reported[:, before], keys[:, before], -1)
        context = (*context_of, case_key, _sex(case, finding))
        radix = context_of[-1]
        if len(_REPORTED) >= _ADMITS_LIMIT:
            _REPORTED.clear()
        if math.prod(radix) <= TABLE_LIMIT:  # a table over every combination, filled as met
            table = _REPORTED.get(context)
            if table is None:
                table = _REPORTED[context] = np.full(math.prod(radix), -1, dtype=np.int8)
            packed = np.ravel_multi_index((values + 1).T, radix)
            found = table[packed]
            if (found < 0).any():
                for code in np.unique(packed[found < 0]).tolist():
                    combo = [int(v) - 1 for v in np.unravel_index(code, radix)]
                    table[code] = _admits_after(case, pairs, j, before, combo, engine)
                found = table[packed]
            reported[:, j] = found.astype(bool)
            continue
        distinct, inverse = _distinct(values, [r - 1 for r in radix])
        known = _REPORTED.setdefault(("rows", *context), {})
        column = []
        for row in map(tuple, distinct.tolist()):
            known_answer = known.get(row)
            if known_answer is None:
                known_answer = known[row] = _admits_after(case, pairs, j, before, row, engine)
            column.append(known_answer)
        reported[:, j] = np.array(column, dtype=bool)[inverse]
    return reported


def _always_accepted(
    case: Case, finding: str, node: str, engine: CompiledEngine, left_out: frozenset[str]
) -> bool:
    """Whether every value of ``finding`` is accepted whatever the results of the findings
    at ``left_out`` (entered before it) are: one aggregate rule reads it
    (:func:`_aggregate_rules`), the result does not state that aggregate, and the answer is
    yes however the other parts come out (every other part absent, one present, neither).

    The aggregate as the case states it is then the one every result has; each of the
    three answers is asked (and remembered) on the case with the other parts set that way,
    which has that same key (:func:`_partner_key`).
    """
    rules = _aggregate_rules(finding)
    if rules is None or len(rules) != 1 or rules[0][0] in left_out:
        return False
    aggregate = rules[0][0]
    stated = None if aggregate == finding else case.findings.get(aggregate)
    key = (finding, node, engine.states[node], None if stated == UNKNOWN else stated)
    known = _ALWAYS.get(key)
    if known is None:
        others = [p for p in rules[0][1] if p != finding]
        unset = dict.fromkeys(others, UNKNOWN)
        known = (
            _admits_every_state(case, finding, node, engine, {**unset, others[0]: PRESENT})
            and _admits_every_state(case, finding, node, engine, unset)
            and _admits_every_state(case, finding, node, engine, dict.fromkeys(others, ABSENT))
        )
        if len(_ALWAYS) >= _ADMITS_LIMIT:
            _ALWAYS.clear()
        _ALWAYS[key] = known
    return known


_ALWAYS: dict[tuple[Any, ...], bool] = {}


@functools.lru_cache(maxsize=256)
def _report_order(
    pairs: tuple[tuple[str, str], ...], states: tuple[tuple[str, ...], ...]
) -> tuple[tuple[int, list[int], tuple[Any, ...], frozenset[str]], ...]:
    """For each finding of ``pairs`` entered after one of its consistency partners: its
    position, the partners' positions before it, the part of its memo key that depends
    on the test alone (ending with the partners' mixed radix: their numbers of ``states``
    plus one), and those partners."""
    position = {f: i for i, (f, _) in enumerate(pairs)}
    out = []
    for j, (finding, node) in enumerate(pairs):
        partners = _partners(finding)
        if len(partners) == 1:  # only itself
            continue
        before = sorted(i for p in partners if (i := position.get(p, j)) < j)
        if before:
            radix = tuple(len(states[i]) + 1 for i in before)
            context = (finding, node, states[j], tuple(pairs[i] for i in before), radix)
            out.append((j, before, context, frozenset(pairs[i][0] for i in before)))
    return tuple(out)


def _admits_after(
    case: Case,
    pairs: Sequence[tuple[str, str]],
    j: int,
    before: Sequence[int],
    row: Sequence[int],
    engine: CompiledEngine,
) -> bool:
    """Whether every value of finding ``j`` is accepted once the findings at ``before`` have
    the state indices ``row`` (``-1`` = not reported)."""
    finding, node = pairs[j]
    entered = {
        pairs[i][0]: _state_value(pairs[i][0], pairs[i][1], engine, s)
        for i, s in zip(before, row, strict=True)
        if s >= 0
    }
    return _admits_every_state(case, finding, node, engine, entered)


def _state_value(finding: str, node: str, engine: CompiledEngine, state: int) -> Any:
    return _value(finding, node, engine.states[node][state])


def _with(case: Case, findings: Mapping[str, Any]) -> Case:
    """The case with ``findings`` entered (validated exactly as ``Case.from_dict`` would)."""
    return case.with_findings(findings)


def _findings_of(
    pairs: Sequence[tuple[str, str]], states: Sequence[tuple[str, ...]], row: np.ndarray
) -> dict[str, Any]:
    """The findings a result row (state index per finding, ``-1`` = not reported) enters."""
    return {
        finding: _value(finding, node, node_states[int(s)])
        for (finding, node), node_states, s in zip(pairs, states, row, strict=True)
        if s >= 0
    }


@functools.lru_cache(maxsize=64)
def _joint_outcomes(cards: tuple[int, ...]) -> np.ndarray:
    """Every joint outcome of nodes with these numbers of states (the last varies fastest,
    the order of ``itertools.product``); shared, never written."""
    out = np.indices(cards).reshape(len(cards), -1).T.astype(np.int64)
    out.setflags(write=False)
    return out


def _distinct(rows: np.ndarray, cards: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows (state indices, ``-1`` allowed, under ``cards`` states per column), in
    no particular order, and each row's index among them."""
    radix = [c + 1 for c in cards]
    if math.prod(radix) >= 2**62:
        _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
        return rows[first], inverse.reshape(-1)
    packed = np.ravel_multi_index((rows + 1).T, radix)
    values, inverse = np.unique(packed, return_inverse=True)
    return np.stack(np.unravel_index(values, radix), axis=1) - 1, inverse.reshape(-1)


def _first_seen(rows: np.ndarray, cards: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows (state indices, ``-1`` allowed, under ``cards`` states per column) in
    order of first appearance, and each row's index among them."""
    radix = [c + 1 for c in cards]
    if math.prod(radix) >= 2**62:
        _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        return rows[first[order]], rank[inverse.reshape(-1)]
    packed = np.ravel_multi_index((rows + 1).T, radix)  # one integer per row
    order = np.argsort(packed, kind="stable")
    ordered = packed[order]
    new = np.empty(len(packed), dtype=bool)  # where a new distinct row starts, sorted
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    firsts = order[new]  # each distinct row's first position (the sort is stable)
    by_first = np.argsort(firsts)
    rank = np.empty(len(firsts), dtype=np.intp)
    rank[by_first] = np.arange(len(firsts))
    inverse = np.empty(len(packed), dtype=np.intp)
    inverse[order] = rank[np.cumsum(new) - 1]
    return rows[firsts[by_first]], inverse


def _binary_entropy(p: Any) -> np.ndarray:
    """:func:`_entropy_bits` of (p, 1 - p), the two terms added as a two-value sum adds them."""
    q = np.asarray(p, dtype=float)
    return np.asarray(-(_plogp(q) + _plogp(1.0 - q)))


def _plogp(p: np.ndarray) -> np.ndarray:
    """``p * log2(p)``, 0 where ``p`` is 0."""
    out = np.zeros_like(p)
    np.log2(p, out=out, where=p > 0)
    out *= p
    return out


def _entropy_bits(probs: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(probs > 0, probs * np.log2(probs), 0.0)
    return np.asarray(-terms.sum(axis=-1))


@dataclass(frozen=True)
class _Plan:
    """One test's possible results, before they are read and scored.

    ``outcomes`` are the joint outcomes (state index per finding of ``pairs``; enumerated,
    or drawn with repeats); ``results`` the distinct results they report (the state index,
    ``-1`` for a finding the result leaves out); ``result_of`` each outcome's result;
    ``seed_reads`` (when the seed verdict is open) the results as the seed verdict is read
    on them (a VEGF band that straddles the seed's cut-off decides nothing, so it is left
    out); ``joint`` (exact) the encoded joint outcomes, evidence and node states.
    """

    exact: bool
    pairs: tuple[tuple[str, str], ...]
    states: tuple[tuple[str, ...], ...]  # each finding's node states
    outcomes: np.ndarray
    results: np.ndarray
    result_of: np.ndarray
    seed_reads: np.ndarray | None
    joint: np.ndarray | None
    shape: _Shape

    def findings(self, result: int) -> dict[str, Any]:
        """What a result enters into the case."""
        return _findings_of(self.pairs, self.states, self.results[result])


@dataclass(frozen=True)
class _Effect:
    bits: float
    poems_bits: float
    abs_change: float
    verdict_bits: float
    p_settles: float
    settles_to: Mapping[str, float]
    method: str
    plan: _Plan
    weights: np.ndarray

    @property
    def outcomes(self) -> _Outcomes:
        """The possible results (findings entered, probability), one per joint outcome."""
        return _Outcomes(self.plan, self.weights)


class _Outcomes(Sequence[tuple[Mapping[str, Any], float]]):
    """A test's possible results (findings entered, probability), built when first read
    (only the tests' checks read them; a work-up proposes a handful of tests, each with up to
    :data:`MC_DRAWS` outcomes)."""

    def __init__(self, plan: _Plan, weights: np.ndarray) -> None:
        self._plan = plan
        self._weights = weights
        self._items: tuple[tuple[Mapping[str, Any], float], ...] | None = None

    def _built(self) -> tuple[tuple[Mapping[str, Any], float], ...]:
        if self._items is None:
            found: dict[int, Mapping[str, Any]] = {}
            out = []
            for result, w in zip(
                self._plan.result_of.tolist(), self._weights.tolist(), strict=True
            ):
                if w > 0:
                    if result not in found:
                        found[result] = MappingProxyType(self._plan.findings(result))
                    out.append((found[result], float(w)))
            self._items = tuple(out)
        return self._items

    def __len__(self) -> int:
        return int((self._weights > 0).sum())

    @overload
    def __getitem__(self, index: int) -> tuple[Mapping[str, Any], float]: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[tuple[Mapping[str, Any], float], ...]: ...

    def __getitem__(self, index: int | slice) -> Any:
        return self._built()[index]

    def __iter__(self) -> Iterator[tuple[Mapping[str, Any], float]]:
        return iter(self._built())


@dataclass(frozen=True)
class _Shape:
    """What a test's open findings are on an engine, whatever the case (worked out once per
    engine and set of open findings): their node states, columns and numbers of states,
    whether the joint outcomes are enumerated (then the outcomes, read only), the reduction
    order (:func:`_report_order`), the seed reads of the enumerated outcomes when every
    finding is always reported, and per aggregate a result can derive (its column, the
    touched findings and their positions, and its codes on those outcomes)."""

    states: tuple[tuple[str, ...], ...]
    columns: list[int]
    cards: tuple[int, ...]
    exact: bool
    outcomes: np.ndarray | None
    order: tuple[tuple[int, list[int], tuple[Any, ...], frozenset[str]], ...]
    seed_reads: np.ndarray | None
    vegf: int | None  # the position of a measured VEGF, when the engine reads vegf_elevated
    aggregates: tuple[tuple[str, tuple[str, ...], tuple[int, ...], int], ...]
    derived: dict[tuple[str, tuple[bool, bool]], np.ndarray]
    """Each aggregate's codes on the enumerated outcomes, by the case's other parts
    (:func:`_parts_summary`), filled as met."""
    stated: tuple[str, ...]  # the findings a result states (present / absent, a category)
    stated_at: list[int]  # their positions
    state_codes: np.ndarray  # their node states' codes among the findings' states, flat
    state_offsets: np.ndarray  # where each one's codes start in ``state_codes``, plus one
    measured_at: tuple[int, ...]  # positions of a VEGF value or a percentage


def _shape(pairs: tuple[tuple[str, str], ...], engine: CompiledEngine) -> _Shape:
    facts = _facts(engine)
    shapes = facts.shapes
    known = shapes.get((pairs, EXACT_LIMIT))
    if known is not None:
        return known
    column = facts.column
    states = tuple(engine.states[node] for _, node in pairs)
    cards = tuple(len(s) for s in states)
    exact = math.prod(cards) <= EXACT_LIMIT
    outcomes = _joint_outcomes(cards) if exact else None
    order = _report_order(pairs, states)
    seed_reads = None
    if outcomes is not None and not order:
        seed_reads = _seed_reads(pairs, states, outcomes)
        seed_reads.setflags(write=False)
    position = {finding: j for j, (finding, _) in enumerate(pairs)}
    aggregates = []
    for aggregate, parts in AGGREGATES.items():
        touched = tuple(f for f in (aggregate, *parts) if f in position)
        if touched and aggregate in column:
            aggregates.append(
                (aggregate, touched, tuple(position[f] for f in touched), column[aggregate])
            )
    known = _Shape(
        states=states,
        columns=[column[node] for _, node in pairs],
        cards=cards,
        exact=exact,
        outcomes=outcomes,
        order=order,
        seed_reads=seed_reads,
        vegf=position["vegf"] if "vegf" in position and "vegf_elevated" in column else None,
        aggregates=tuple(aggregates),
        derived={},
        **_state_layout(pairs, states),
    )
    if len(shapes) >= 1024:
        shapes.clear()
    shapes[pairs, EXACT_LIMIT] = known
    return known


def _state_layout(
    pairs: tuple[tuple[str, str], ...], states: tuple[tuple[str, ...], ...]
) -> dict[str, Any]:
    """The :class:`_Shape` fields :func:`_result_columns` writes a result's states with: for
    each finding a result states, ``-1`` (not reported) then the code of each node state
    among the finding's own states, one flat array."""
    stated_at = [j for j, (f, _) in enumerate(pairs) if f not in _MEASURED]
    codes: list[int] = []
    offsets = []
    for j in stated_at:
        offsets.append(len(codes) + 1)
        codes += _codes_of(pairs[j][0], states[j])
    state_codes = np.array(codes, dtype=np.int8)
    state_offsets = np.array(offsets, dtype=np.intp)
    state_codes.setflags(write=False)
    state_offsets.setflags(write=False)
    return {
        "stated": tuple(pairs[j][0] for j in stated_at),
        "stated_at": stated_at,
        "state_codes": state_codes,
        "state_offsets": state_offsets,
        "measured_at": tuple(j for j in range(len(pairs)) if j not in stated_at),
    }


_MEASURED = frozenset(
    f for f, spec in FINDINGS.items() if spec.kind in (Kind.MEASUREMENT, Kind.NUMBER)
)
"""Findings a result gives as a value (a VEGF measurement, a percentage), not a state."""


@functools.lru_cache(maxsize=1024)
def _codes_of(finding: str, states: tuple[str, ...]) -> tuple[int, ...]:
    """``-1`` (not reported), then each node state's code among the finding's states."""
    return (-1, *(FINDINGS[finding].states.index(s) for s in states))


def _seed_reads(
    pairs: Sequence[tuple[str, str]], states: Sequence[tuple[str, ...]], results: np.ndarray
) -> np.ndarray:
    """The results as the seed verdict reads them: a VEGF band that straddles the seed's
    cut-off decides nothing, so it is left out (``-1``)."""
    seed_reads = results.copy()
    for j, (_, node) in enumerate(pairs):
        if node in _VEGF_NODE_NAMES:
            deciding = [s in VEGF_BANDS_DECIDING_SEED for s in states[j]]
            straddles = ~np.array(deciding)[np.maximum(results[:, j], 0)]
            seed_reads[straddles & (results[:, j] >= 0), j] = -1
    return seed_reads


def _plan(
    case: Case,
    pairs: Sequence[tuple[str, str]],
    engine: CompiledEngine,
    base_codes: np.ndarray,
    seed: int,
    need_seed: bool,
) -> _Plan | None:
    pairs = tuple(pairs)
    shape = _shape(pairs, engine)
    if shape.outcomes is not None:
        outcomes = shape.outcomes
    else:
        rng = np.random.default_rng(seed)
        outcomes = sample_open(engine, base_codes, shape.columns, MC_DRAWS, rng)
    if not len(outcomes):
        return None
    seed_reads = None
    if shape.exact and not shape.order:  # enumerated, distinct, every finding reported
        results, result_of = outcomes, _positions(len(outcomes))
        seed_reads = shape.seed_reads if need_seed else None
    else:
        if shape.exact:  # enumerated: already distinct
            distinct, inverse = outcomes, _positions(len(outcomes))
        else:
            distinct, inverse = _first_seen(outcomes, shape.cards)
        reported = _reported(case, pairs, engine, distinct)
        if reported.all():
            results, result_of = distinct, inverse
        else:
            results, of_distinct = _first_seen(np.where(reported, distinct, -1), shape.cards)
            result_of = of_distinct[inverse]
        if need_seed:
            seed_reads = _seed_reads(pairs, shape.states, results)
    joint = None
    if shape.exact:
        joint = np.repeat(base_codes[None, :], len(outcomes), axis=0)
        joint[:, shape.columns] = outcomes
    return _Plan(
        shape.exact, pairs, shape.states, outcomes, results, result_of, seed_reads, joint, shape
    )


@functools.lru_cache(maxsize=64)
def _positions(n: int) -> np.ndarray:
    """``np.arange(n)``, shared and read only."""
    out = np.arange(n)
    out.setflags(write=False)
    return out


_VEGF_NODE_NAMES = frozenset(VEGF_NODES.values())


def _result_columns(case: Case, blocks: Sequence[tuple[_Plan, np.ndarray]]) -> CaseColumns:
    """``case`` with each result of every block (rows of state indices over the plan's
    findings, ``-1`` = not reported) as parsed case rows (:class:`CaseColumns`, what the
    cohort parse of the rows written out as cells gives; tested equal), read from the
    case itself instead of from text.

    Every row starts as the case (``Case``'s own entered values, derived states, numbers
    in the vocabulary's units and VEGF measurement); a result then enters the states it
    reports (a finding a result reports is open: the case neither states nor derives
    it), a VEGF value in the middle of its band (read by
    :func:`model.measurements.parse_vegf`) or a marrow percentage; each aggregate the case
    does not state is derived again from its parts where a result touches one
    (:func:`_aggregate_state`, ``Case``'s own derivation). The columns of findings no
    result writes are made when the criteria first read them. Results are cases the
    validator accepts, so no row is flagged.
    """
    n = sum(len(rows) for _, rows in blocks)
    written = list(dict.fromkeys(f for plan, _ in blocks for f in plan.shape.stated))
    index = {f: i for i, f in enumerate(written)}
    reported = np.full((len(written), n), -1, dtype=np.int8)  # a row per written finding
    entered = _CaseColumn(n, lambda f: _state_code(f, case.entered(f)), ENTERED)
    state = _CaseColumn(n, lambda f: _state_code(f, case.state(f)), ENTERED)
    numbers = _CaseColumn(n, lambda f: _number_or_nan(case.number(f)), NUMBER_FINDINGS, float)
    for f, i in index.items():
        entered[f] = state[f] = reported[i]  # views: nothing writes a column once made
    vegf = case.vegf
    vegf_pg_ml = np.full(n, np.nan if vegf is None else vegf.value_pg_ml)
    vegf_multiple = np.full(n, np.nan if vegf is None else vegf.multiple_of_uln)
    vegf_specimen = np.full(n, -1 if vegf is None else VEGF_SPECIMENS.index(vegf.specimen))
    vegf_uln_default = np.full(n, vegf is not None and vegf.uln_is_default)
    start = 0
    for plan, rows in blocks:
        stop = start + len(rows)
        shape = plan.shape
        if shape.stated:
            codes = shape.state_codes[rows[:, shape.stated_at] + shape.state_offsets]
            reported[[index[f] for f in shape.stated], start:stop] = codes.T
        for j in shape.measured_at:
            finding, node = plan.pairs[j]
            for s, name in enumerate(plan.states[j]):
                at = start + np.flatnonzero(rows[:, j] == s)
                if finding == "vegf":
                    read = _vegf_read(node, name)
                    vegf_pg_ml[at] = read.value_pg_ml
                    vegf_multiple[at] = read.multiple_of_uln
                    vegf_specimen[at] = VEGF_SPECIMENS.index(read.specimen)
                    vegf_uln_default[at] = read.uln_is_default
                else:
                    numbers[finding][at] = float(_value(finding, node, name))
        start = stop
    for aggregate, parts in AGGREGATES.items():
        if case.entered(aggregate) is not None or not index.keys() & {aggregate, *parts}:
            continue  # stated, or no result reports a part: the case's own state on every row
        any_present = np.zeros(n, dtype=bool)
        all_absent = np.ones(n, dtype=bool)
        for part in parts:
            if FINDINGS[part].kind is not Kind.MEASUREMENT:
                states = FINDINGS[part].states
                any_present |= state[part] == states.index(PRESENT)
                all_absent &= state[part] == states.index(ABSENT)
        derived = np.full(n, -1, dtype=np.int8)
        for present, absent in ((True, False), (False, True), (False, False)):
            rows_of = (any_present == present) & (all_absent == absent)
            if rows_of.any():
                derived[rows_of] = _state_code(
                    aggregate, _aggregate_state_of(aggregate, present, absent)
                )
        stated = entered[aggregate]  # a result that reports the aggregate itself
        state[aggregate] = np.where(stated >= 0, stated, derived).astype(np.int8)
    return CaseColumns(
        n=n,
        flagged=np.zeros(n, dtype=bool),
        entered=entered,
        state=state,
        numbers=numbers,
        vegf_pg_ml=vegf_pg_ml,
        vegf_multiple=vegf_multiple,
        vegf_specimen=vegf_specimen.astype(np.int8),
        vegf_uln_default=vegf_uln_default,
        setting=CodedColumn(np.zeros(n, dtype=np.intp), np.array([case.setting or ""], object)),
        age=np.full(n, np.nan if case.age is None else float(case.age)),
        sex=np.full(n, -1 if case.sex is None else SEXES.index(case.sex), dtype=np.int8),
    )


@functools.lru_cache(maxsize=64)
def _vegf_read(node: str, state: str) -> VegfMeasurement:
    """The VEGF measurement a result in that band enters, as ``Case`` reads it."""
    return parse_vegf(_value("vegf", node, state))


class _CaseColumn(dict[str, np.ndarray]):
    """One field of :class:`CaseColumns` (finding -> a value per row, for every finding of
    ``domain``), each finding's column made from the case's own value (``own(finding)``)
    when first read; looking at the whole (iterating, ``len``, ``get``) makes them all."""

    def __init__(self, n: int, own: Any, domain: Sequence[str], dtype: Any = np.int8) -> None:
        super().__init__()
        self.n, self.own, self.domain, self.dtype = n, own, domain, dtype
        self.known = frozenset(domain)

    def __missing__(self, finding: str) -> np.ndarray:
        if finding not in self.known:
            raise KeyError(finding)
        column = self[finding] = np.full(self.n, self.own(finding), dtype=self.dtype)
        return column

    def _whole(self) -> dict[str, np.ndarray]:
        for finding in self.domain:
            if finding not in self:
                self.__missing__(finding)  # made and kept
        return self

    def get(self, finding: str, default: Any = None) -> Any:
        return self[finding] if finding in self.known else default

    def __iter__(self) -> Iterator[str]:
        return dict.__iter__(self._whole())

    def __len__(self) -> int:
        return dict.__len__(self._whole())

    def keys(self) -> Any:
        return dict.keys(self._whole())

    def values(self) -> Any:
        return dict.values(self._whole())

    def items(self) -> Any:
        return dict.items(self._whole())


def _state_code(finding: str, state: Any) -> int:
    """The index of ``state`` among the finding's states (``CaseColumns``' code), ``-1`` for
    none."""
    return -1 if state is None else FINDINGS[finding].states.index(state)


def _number_or_nan(value: float | None) -> float:
    return np.nan if value is None else value


@functools.lru_cache(maxsize=64)
def _aggregate_state_of(aggregate: str, any_present: bool, all_absent: bool) -> str | None:
    """:func:`_aggregate_state` of parts with one present or not, all absent or not."""
    parts = AGGREGATES[aggregate]
    if any_present:
        states: list[str | None] = [PRESENT, *([None] * (len(parts) - 1))]
    elif all_absent:
        states = [ABSENT] * len(parts)
    else:
        states = [None] * len(parts)
    return _aggregate_state(aggregate, tuple(zip(parts, states, strict=True)))


def _read_results(
    case: Case,
    plans: Sequence[_Plan],
    engine: CompiledEngine,
    columns_ok: bool,
    seed_statuses: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Evidence codes of ``case`` with every plan's results (in order), and the seed verdict
    (code, index into ``STATUS_NAMES``) of ``case`` with every plan's seed reads
    (``seed_statuses``: the seed criteria's statuses on the case, in rule-set order;
    evaluated when not given).

    The codes come from :func:`_result_codes`; the seed verdicts are combined from each
    criterion's status looked up per result
    (:func:`model.analysis.workup_seed.seed_verdict_codes`: only the criteria a test can
    change are read, from tables kept per context, each new combination read as case rows
    by :func:`_result_columns` and the vectorised criteria); when the engine's states are not
    the network's, every row goes through ``Case`` itself.
    """
    n_results = sum(len(plan.results) for plan in plans)
    seeds = [(plan, plan.seed_reads) for plan in plans if plan.seed_reads is not None]
    n_seeds = sum(len(rows) for _, rows in seeds)
    verdicts = np.full(n_seeds, -1, dtype=np.int8)
    flagged = np.ones(n_seeds, dtype=bool)
    if columns_ok:
        codes = _result_codes(case, plans, engine)
        if n_seeds:  # results are cases the validator accepts: no row is flagged
            if seed_statuses is None:
                seed_statuses = _seed_statuses(case, None)
            verdicts = seed_verdict_codes(case, seeds, _result_columns, seed_statuses)
            flagged = np.zeros(n_seeds, dtype=bool)
    else:
        codes = np.full((n_results, len(engine.observable)), -1, dtype=np.int8)
        rows = [plan.findings(i) for plan in plans for i in range(len(plan.results))]
        for row, findings in enumerate(rows):
            codes[row] = engine.encode([evidence_for(_with(case, findings))])[0]
    if flagged.any():
        where = [(plan, i) for plan, rows in seeds for i in range(len(rows))]
        for flagged_row in np.flatnonzero(flagged):
            plan, i = where[flagged_row]
            assert plan.seed_reads is not None
            read = _findings_of(plan.pairs, plan.states, plan.seed_reads[i])
            verdicts[flagged_row] = STATUS_NAMES.index(
                verdict_of(_with(case, read) if read else case, "seed")
            )
    return codes, verdicts


@dataclass(frozen=True)
class _EngineFacts:
    """What the work-up reads of an engine on every call (worked out once per engine)."""

    column: Mapping[str, int]  # observable node -> column
    columns_ok: bool  # every observable node is the network's, with the network's states
    shapes: dict[tuple[Any, ...], _Shape]  # by open findings and EXACT_LIMIT (bounded)
    admits_alone: dict[tuple[str, str], bool]  # every value accepted, for a finding no
    # consistency rule reads with another (the same answer on every case)
    test_nodes: dict[OrderableTest, tuple[tuple[str, str | None], ...]]  # _test_nodes
    admissible_plan: list[_AdmissiblePlan]  # _admissible_plan (empty until first asked)


_FACTS: weakref.WeakKeyDictionary[CompiledEngine, _EngineFacts] = weakref.WeakKeyDictionary()


def _facts(engine: CompiledEngine) -> _EngineFacts:
    known = _FACTS.get(engine)
    if known is None:
        known = _FACTS[engine] = _EngineFacts(
            column=engine.column,
            columns_ok=all(
                node in NODES and engine.states[node] == NODES[node].states
                for node in engine.observable
            ),
            shapes={},
            admits_alone={},
            test_nodes={},
            admissible_plan=[],
        )
    return known


def _result_codes(case: Case, plans: Sequence[_Plan], engine: CompiledEngine) -> np.ndarray:
    """Evidence codes (``evidence_for``) of ``case`` with each plan's results entered.

    A result enters states the network reads directly (a VEGF value in the middle of its
    band, a marrow percentage on its side of 10 %), so its codes are the case's own with each
    reported finding's node set to that state, a measured VEGF replacing a stated
    ``vegf_elevated``, and each aggregate the result touches (not entered on the case)
    derived again from its parts by ``Case`` itself (:func:`_aggregate_state`). Tested equal
    to ``encode(evidence_for(case with the result))`` on every test of several cases.
    """
    base = engine.encode([evidence_for(case)])[0]
    n = sum(len(plan.results) for plan in plans)
    codes = np.repeat(base[None, :], n, axis=0)
    case_parts: dict[tuple[str, ...], tuple[bool, bool]] = {}
    start = 0
    for plan in plans:
        shape = plan.shape
        rows = plan.results
        block = codes[start : start + len(rows)]
        start += len(rows)
        enumerated = rows is shape.outcomes  # every outcome, every finding reported
        if enumerated:
            block[:, shape.columns] = rows
        else:
            reported = rows >= 0
            block[:, shape.columns] = np.where(reported, rows, block[:, shape.columns])
        if shape.vegf is not None:
            measured = slice(None) if enumerated else reported[:, shape.vegf]
            block[measured, _facts(engine).column["vegf_elevated"]] = -1
        for aggregate, touched, js, column in shape.aggregates:
            if case.entered(aggregate) is not None:
                continue
            own = case_parts.get(touched)
            if own is None:
                own = case_parts[touched] = _parts_summary(
                    case.state(p) for p in AGGREGATES[aggregate] if p not in touched
                )
            derived = shape.derived.get((aggregate, own)) if enumerated else None
            if derived is None:
                derived = _aggregate_codes(
                    aggregate, touched, plan.states, js, rows, case, engine, own
                )
                if enumerated:  # the same for every case with these parts' states
                    derived.setflags(write=False)
                    shape.derived[aggregate, own] = derived
            block[:, column] = derived
    return codes


TABLE_LIMIT = 1 << 16
"""Largest number of (state or not reported) combinations a lookup table is kept over."""
_AGGREGATE_TABLES: dict[tuple[Any, ...], np.ndarray] = {}
_TABLES_LIMIT = 512


def _aggregate_codes(
    aggregate: str,
    touched: tuple[str, ...],
    states: Sequence[tuple[str, ...]],
    js: Sequence[int],
    rows: np.ndarray,
    case: Case,
    engine: CompiledEngine,
    own: tuple[bool, bool],
) -> np.ndarray:
    """The aggregate's code (``-1`` = underived) on each result row (:func:`_derived_code`);
    ``own``: :func:`_parts_summary` of the case's states of the parts not touched (a touched
    part is open: the case gives it no state).

    Read from a table over every combination of the ``touched`` findings' results (packed
    mixed-radix: ``np.ravel_multi_index`` of the state indices plus one), filled as the
    combinations are met and remembered per context (the findings, their states and
    ``own``: all a derivation reads of the case, see :func:`_aggregate_state`; bounded);
    beyond :data:`TABLE_LIMIT` combinations, one derivation per distinct combination."""
    touched_states = tuple(states[j] for j in js)
    radix = tuple(len(s) + 1 for s in touched_states)
    if math.prod(radix) > TABLE_LIMIT:
        distinct, inverse = _distinct(rows[:, js], [r - 1 for r in radix])
        derived = [
            _derived_code(aggregate, touched, states, js, combo, case, engine)
            for combo in distinct.tolist()
        ]
        return np.array(derived, dtype=np.int8)[inverse]
    key = (
        aggregate,
        touched,
        touched_states,
        own,
        engine.states[aggregate],
    )
    table = _AGGREGATE_TABLES.get(key)
    if table is None:
        if len(_AGGREGATE_TABLES) >= _TABLES_LIMIT:
            _AGGREGATE_TABLES.clear()
        table = _AGGREGATE_TABLES[key] = np.full(math.prod(radix), -2, dtype=np.int8)
    packed = np.ravel_multi_index((rows[:, js] + 1).T, radix)
    found = table[packed]
    if (found == -2).any():
        for code in np.unique(packed[found == -2]).tolist():
            combo = [int(v) - 1 for v in np.unravel_index(code, radix)]
            table[code] = _derived_code(aggregate, touched, states, js, combo, case, engine)
        found = table[packed]
    return found


def _derived_code(
    aggregate: str,
    touched: Sequence[str],
    states: Sequence[tuple[str, ...]],
    js: Sequence[int],
    combo: Sequence[int],
    case: Case,
    engine: CompiledEngine,
) -> int:
    """The aggregate's code with one combination of the touched findings' results entered:
    as entered when the result reports the aggregate itself, else as ``Case`` derives it from
    its parts (a part the result leaves out keeps the case's own state)."""
    given = {f: states[j][s] for f, j, s in zip(touched, js, combo, strict=True) if s >= 0}
    state = given.get(aggregate)
    if state is None:
        state = _aggregate_state(
            aggregate, tuple((p, given.get(p) or case.state(p)) for p in AGGREGATES[aggregate])
        )
    return -1 if state is None else engine.states[aggregate].index(state)


_AGGREGATE_STATES: dict[tuple[str, bool, bool], str | None] = {}


def _aggregate_state(aggregate: str, parts: tuple[tuple[str, str | None], ...]) -> str | None:
    """The state ``Case`` derives for an aggregate not entered, from its parts' states.

    ``Case`` reads the parts only through whether one is present and whether every one is
    absent (:meth:`model.case.Case._derived`), so the answer is remembered under those
    (``tests/test_workup_fast.py`` checks every combination of every aggregate's parts)."""
    key = (aggregate, *_parts_summary(state for _, state in parts))
    if key in _AGGREGATE_STATES:
        return _AGGREGATE_STATES[key]
    entered = {part: state for part, state in parts if state is not None}
    known = _AGGREGATE_STATES[key] = Case(MappingProxyType(entered)).state(aggregate)
    return known


def _parts_summary(states: Iterable[str | None]) -> tuple[bool, bool]:
    """Whether one of these states is present, and whether every one is absent."""
    states = tuple(states)
    return any(s == PRESENT for s in states), all(s == ABSENT for s in states)


def _effect(
    plan: _Plan,
    seed_codes: np.ndarray | None,
    verdict: str,
    scores: _ResultScores,
    take: np.ndarray | slice,
    log_joint: np.ndarray | None,
) -> _Effect | None:
    """What the test is expected to do, from its results' scores (rows of one batch call;
    ``take``: each outcome's row, a slice when they are consecutive)."""
    if plan.exact:  # the probability of the joint outcome, before it is reduced to a result
        assert log_joint is not None
        top = log_joint.max()
        if not math.isfinite(top):
            return None
        weights = np.exp(log_joint - top)
    else:  # a draw counts once when its result is possible
        weights = scores.possible[take]
    total = weights.sum()
    if total <= 0:
        return None
    weights = weights / total
    live = weights > 0
    every = bool(live.all())
    # H(D | e, result), |change of P(POEMS)|, H(POEMS | e, result), each weighted over the
    # live outcomes (one gather; each row summed on its own, as a vector)
    if every:
        weighted = scores.stacked[:, take] * weights
    else:
        if isinstance(take, slice):
            take = np.arange(take.start, take.stop)
        weighted = scores.stacked[:, take[live]] * weights[live]
    h_after, abs_change, poems_after = (float(row.sum()) for row in weighted)
    settles_to: dict[str, float] = {}
    if verdict == INDETERMINATE and seed_codes is not None:
        after = seed_codes[plan.result_of]
        reached = []
        for code in (MET_CODE, NOT_MET_CODE):
            hits = after == code if every else live & (after == code)
            first = int(hits.argmax())
            if hits[first]:
                reached.append((first, code, hits))
        for _, code, hits in sorted(reached):  # in the order the outcomes first reach them
            # the outcomes' probabilities added one after the other, in outcome order
            settles_to[STATUS_NAMES[code]] = float(np.cumsum(weights[hits])[-1])
    p_settles = sum(settles_to.values())
    verdict_bits = 0.0  # nothing decided: the verdict stays open for certain
    if settles_to:
        verdict_probs = np.array([*settles_to.values(), max(1.0 - p_settles, 0.0)])
        verdict_bits = float(_entropy_bits(verdict_probs))
    return _Effect(
        bits=max(scores.h_now - h_after, 0.0),
        poems_bits=max(scores.poems_now - poems_after, 0.0),
        abs_change=abs_change,
        verdict_bits=verdict_bits,
        p_settles=p_settles,
        settles_to=MappingProxyType(settles_to),
        method="exact" if plan.exact else "monte_carlo",
        plan=plan,
        weights=weights,
    )


def _rows_to_score(codes: np.ndarray, plans: Sequence[_Plan]) -> tuple[np.ndarray, list[int]]:
    """The evidence rows to score in one batch: every plan's results (``codes``), then the
    joint outcomes of each enumerated plan, unless they are its results row for row (every
    outcome reported, no aggregate or VEGF statement changed: the same codes, so the same
    numbers); and where each plan's joint outcomes are among them.

    A row's numbers do not depend on the rows scored with it in a batch of two or more
    (``tests/test_workup_fast.py``); a lone row can differ in the last bit, so a batch is
    never cut down to one row."""
    blocks = [codes]
    joint_rows = []
    first, end = 0, len(codes)
    skipped = False
    for plan in plans:
        if plan.joint is not None:
            mine = codes[first : first + len(plan.results)]
            if plan.results is plan.shape.outcomes and np.array_equal(plan.joint, mine):
                joint_rows.append(first)
                skipped = True
            else:
                joint_rows.append(end)
                blocks.append(plan.joint)
                end += len(plan.joint)
        first += len(plan.results)
    rows = np.concatenate(blocks) if len(blocks) > 1 else codes
    if len(rows) == 1 and skipped:
        rows = np.repeat(rows, 2, axis=0)
    return rows, joint_rows


@dataclass(frozen=True)
class _ResultScores:
    """What every result leads to (rows of the one batch call), and where the case is now."""

    log_ev: np.ndarray  # log P(evidence with the result)
    possible: np.ndarray  # 1.0 where that is above zero, else 0.0
    entropy: np.ndarray  # H(D | e, result), bits
    poems_entropy: np.ndarray  # H(POEMS or not | e, result), bits
    abs_change: np.ndarray  # |P(POEMS | e, result) - P(POEMS | e)|
    h_now: float
    poems_now: float
    stacked: np.ndarray  # entropy, abs_change, poems_entropy as rows (3, n)

    @classmethod
    def of(cls, log_post: np.ndarray, log_ev: np.ndarray, base_post: np.ndarray, k: int):  # type: ignore[no-untyped-def]
        post = np.exp(log_post)
        entropy = _entropy_bits(post)
        poems_entropy = _binary_entropy(post[:, k])
        abs_change = np.abs(post[:, k] - base_post[k])
        return cls(
            log_ev=log_ev,
            possible=np.where(np.isfinite(log_ev), 1.0, 0.0),
            entropy=entropy,
            poems_entropy=poems_entropy,
            abs_change=abs_change,
            h_now=float(_entropy_bits(base_post)),
            poems_now=float(_binary_entropy(base_post[k])),
            stacked=np.stack([entropy, abs_change, poems_entropy]),
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
    columns_ok = _facts(engine).columns_ok
    # 1. the tests on offer and their possible results
    offered: list[tuple[int, OrderableTest, str | None, tuple[str, ...], _Plan | None]] = []
    memo: dict[Any, bool] = {}
    for order, test in enumerate(cat.tests):
        mimic = _mimic(test, posterior, leader, cat.mimic_min_posterior)
        if test.directed_at and mimic is None:
            continue
        if test.requires_any and not any(
            f in FINDINGS and case.state(f) == "present" for f in test.requires_any
        ):
            continue
        pairs, unscored = _open_findings(case, test, engine, memo)
        open_ids = tuple(f for f, _ in pairs)
        if not pairs and not (mimic and unscored):
            continue
        plan = _plan(case, pairs, engine, base_codes[0], seed + order, need_seed) if pairs else None
        if plan is None and not mimic:
            continue
        offered.append((order, test, mimic, open_ids + unscored, plan))
    # 2. every test's results read as cases in one pass, and scored in one engine call
    plans = [plan for *_, plan in offered if plan is not None]
    seed_statuses = _seed_statuses(case, seed_result) if need_seed and plans else None
    codes, seed_codes = _read_results(case, plans, engine, columns_ok, seed_statuses)
    n_results = len(codes)
    rows, joint_rows = _rows_to_score(codes, plans)
    k = engine.query_states.index(POSITIVE)
    if plans:
        all_log_post, all_log_ev = engine.log_posterior_batch(rows)
        scores = _ResultScores.of(all_log_post[:n_results], all_log_ev[:n_results], base_post, k)
    first, first_seed = 0, 0
    joint_at = iter(joint_rows)
    items: list[tuple[int, float, int, WorkupItem]] = []
    for order, test, mimic, open_ids, plan in offered:
        effect = None
        if plan is not None:
            take: np.ndarray | slice = first + plan.result_of
            if plan.result_of is _positions(len(plan.results)):  # each outcome its own result
                take = slice(first, first + len(plan.results))
            log_joint = None
            if plan.joint is not None:
                at = next(joint_at)
                log_joint = all_log_ev[at : at + len(plan.outcomes)]
            plan_seed = None
            if plan.seed_reads is not None:
                plan_seed = seed_codes[first_seed : first_seed + len(plan.seed_reads)]
                first_seed += len(plan.seed_reads)
            first += len(plan.results)
            effect = _effect(plan, plan_seed, verdict, scores, take, log_joint)
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
                    reveals=_known_findings(test),
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


def _seed_statuses(case: Case, seed_result: CriteriaResult | None) -> tuple[str, ...]:
    """The seed criteria's statuses on the case in rule-set order, from the criteria
    engine's trace (``seed_result`` when it is the seed rule set's, else evaluated)."""
    if seed_result is None or seed_result.rule_set != "seed":
        seed_result = evaluate_rule_set(case, "seed")
    by_id = {c.id: c.status for c in seed_result.criteria}
    return tuple(by_id[crit.id] for _, crit in seed_criteria())


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
