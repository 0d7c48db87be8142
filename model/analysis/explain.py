"""Why the posterior is what it is, and which test to do next.

Contributions (ordered chain)
-----------------------------
The observed findings are added one at a time in vocabulary order (:mod:`model.vocabulary`). The
contribution of finding k is the change it makes to the log-odds of POEMS given the findings
before it::

    c_k = logit P(poems | e_1..e_k) - logit P(poems | e_1..e_{k-1})

so ``prior log-odds + sum(c_k) = posterior log-odds`` exactly (the sum telescopes). With
conditionally dependent findings a contribution depends on the order (a second
activity-driven finding says less than the first); the fixed vocabulary order makes the
numbers reproducible. Log-odds are natural logs, computed from the engine's log posteriors
so they stay exact near 0 and 1. A finding that makes POEMS impossible (or certain)
contributes -inf (+inf) and every later one contributes 0.

Next best test
--------------
For every observable finding not yet assessed (a VEGF node only when no VEGF is known), with
x ranging over its states and e the current evidence:

- ``expected_entropy_reduction_bits`` = H(D | e) - sum_x P(x | e) H(D | e, x), the expected
  information gain about the diagnosis (Shannon entropy in bits);
- ``expected_abs_change_poems`` = sum_x P(x | e) |P(poems | e, x) - P(poems | e)| (the
  expected *signed* change is zero: a posterior is a martingale);
- ``p_present`` = P(x = present | e) for a binary finding; ``p_poems_if`` each outcome's
  P(poems).

Both are exact: every (finding, outcome) pair is one row of a single batch call.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from model.constants import POEMS as POSITIVE
from model.inference.compiled import UNOBSERVED, CompiledEngine, ImpossibleEvidenceError
from model.network.structure import CONTEXT_NODES, LESION_SIZE
from model.vocabulary import FINDINGS, PRESENT, label

if TYPE_CHECKING:
    from model.analysis.settle import Settling

NODE_FINDING: Mapping[str, str] = MappingProxyType(
    {
        "vegf_serum": "vegf",
        "vegf_plasma": "vegf",
        "bone_marrow_plasma_cells": "bone_marrow_plasma_cells_pct",
    }
)
"""Network node -> the finding id it reads (nodes not listed read the finding of their name)."""
VEGF_EVIDENCE_NODES: tuple[str, ...] = ("vegf_serum", "vegf_plasma", "vegf_elevated")
_ORDER = {fid: i for i, fid in enumerate(FINDINGS)}


def finding_of(node: str) -> str:
    """The vocabulary finding id a network node reads."""
    return NODE_FINDING.get(node, node)


def node_label(node: str) -> str:
    """Human label of the finding a node reads; VEGF nodes name their specimen."""
    text = label(finding_of(node))
    if node in ("vegf_serum", "vegf_plasma"):
        text += f" ({node.split('_')[1]})"
    return text


def _order_key(node: str) -> tuple[int, str]:
    return (_ORDER.get(finding_of(node), len(_ORDER)), node)


@dataclass(frozen=True)
class Contribution:
    """One observed finding's additive effect on the log-odds of POEMS."""

    finding: str  # vocabulary id
    node: str  # network node
    state: str
    log_odds_change: float  # natural log
    log_odds_after: float

    @property
    def label(self) -> str:
        return node_label(self.node)

    @property
    def likelihood_ratio(self) -> float:
        """exp(change): the factor the finding multiplies the odds by (in chain order)."""
        return float(np.exp(self.log_odds_change))


@dataclass(frozen=True)
class Contributions:
    """Prior and posterior log-odds of POEMS and the chain of contributions between them."""

    prior_log_odds: float
    posterior_log_odds: float
    items: tuple[Contribution, ...]

    def ranked(self) -> tuple[Contribution, ...]:
        """The contributions by absolute size, largest first."""
        return tuple(sorted(self.items, key=lambda c: -abs(c.log_odds_change)))

    def to_dict(self) -> dict[str, object]:
        return {
            "prior_log_odds": self.prior_log_odds,
            "posterior_log_odds": self.posterior_log_odds,
            "items": [
                {
                    "finding": c.finding,
                    "node": c.node,
                    "state": c.state,
                    "log_odds_change": c.log_odds_change,
                }
                for c in self.items
            ],
        }


def _log_odds_of(engine: CompiledEngine, log_post: np.ndarray, positive: str) -> np.ndarray:
    """log-odds of ``positive`` from log posteriors (one row per case)."""
    k = engine.query_states.index(positive)
    # the other states' columns, C-ordered as np.delete makes them (the sums below follow
    # the memory order)
    others = np.concatenate((log_post[:, :k], log_post[:, k + 1 :]), axis=1)
    top = others.max(axis=1)
    finite = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_rest = np.log(np.exp(others - finite[:, None]).sum(axis=1)) + finite
        return np.asarray(log_post[:, k] - log_rest)


def contributions(
    engine: CompiledEngine, evidence: Mapping[str, str], positive: str = POSITIVE
) -> Contributions:
    """Each observed finding's contribution to the log-odds of ``positive`` (module doc)."""
    nodes, codes = _chain_codes(engine, evidence)
    log_post, log_evidence = engine.log_posterior_batch(codes)
    return _contributions_of(engine, evidence, nodes, log_post, log_evidence, positive)


def _chain_codes(
    engine: CompiledEngine, evidence: Mapping[str, str]
) -> tuple[list[str], np.ndarray]:
    """The observed nodes in chain order and the chain's codes: row k holds the first k
    findings (the others unobserved)."""
    nodes = sorted(evidence, key=_order_key)
    full = engine.encode([evidence])[0]
    column = engine.column
    order = np.array([column[n] for n in nodes], dtype=np.int64)
    codes = np.full((len(nodes) + 1, len(full)), full.dtype.type(UNOBSERVED), dtype=full.dtype)
    for k in range(1, len(nodes) + 1):
        codes[k:, order[k - 1]] = full[order[k - 1]]
    return nodes, codes


def _contributions_of(
    engine: CompiledEngine,
    evidence: Mapping[str, str],
    nodes: list[str],
    log_post: np.ndarray,
    log_evidence: np.ndarray,
    positive: str,
) -> Contributions:
    """The contributions from the chain's log posteriors (:func:`_chain_codes`)."""
    if not np.isfinite(log_evidence[-1]):
        raise ImpossibleEvidenceError(
            f"evidence has probability zero under the network: {dict(evidence)}."
        )
    chain = _log_odds_of(engine, log_post, positive)
    items = []
    for k, node in enumerate(nodes, start=1):
        before, after = chain[k - 1], chain[k]
        change = 0.0 if np.isinf(before) else float(after - before)
        items.append(Contribution(finding_of(node), node, evidence[node], change, float(after)))
    return Contributions(float(chain[0]), float(chain[-1]), tuple(items))


_DEFERRED = frozenset({"p_outcome", "p_poems_if", "seed_verdict_if", "p_settles_seed"})
"""The fields of a test :func:`next_tests` makes that are built on first read."""


@dataclass(frozen=True, init=False)
class NextTest:
    """What assessing one more finding is expected to do.

    The tests :func:`next_tests` and :func:`contributions_and_next_tests` return hold their
    outcome mappings and settling odds as the lists they come from and build them on first
    read (:meth:`__getattr__`): an assessment makes some 65 tests and most callers read a
    few (each mapping costs about a microsecond). Read, compared, copied or pickled, such a
    test is the same as one built with every field.
    """

    finding: str
    node: str
    expected_entropy_reduction_bits: float
    expected_abs_change_poems: float
    p_present: float | None
    p_outcome: Mapping[str, float]
    p_poems_if: Mapping[str, float]
    # None unless settled (the defaults are __init__'s: a class attribute would hide a
    # deferred field from __getattr__)
    seed_verdict_if: Mapping[str, str] | None
    p_settles_seed: float | None

    def __init__(
        self,
        finding: str,
        node: str,
        expected_entropy_reduction_bits: float,
        expected_abs_change_poems: float,
        p_present: float | None,
        p_outcome: Mapping[str, float],
        p_poems_if: Mapping[str, float],
        seed_verdict_if: Mapping[str, str] | None = None,
        p_settles_seed: float | None = None,
    ) -> None:
        # the fields written once into the instance's dictionary: what the generated frozen
        # __init__ does through one object.__setattr__ call per field, at a third of the cost
        # (an assessment makes some 130 of these); tests/test_analysis.py checks it
        self.__dict__.update(
            finding=finding,
            node=node,
            expected_entropy_reduction_bits=expected_entropy_reduction_bits,
            expected_abs_change_poems=expected_abs_change_poems,
            p_present=p_present,
            p_outcome=p_outcome,
            p_poems_if=p_poems_if,
            seed_verdict_if=seed_verdict_if,
            p_settles_seed=p_settles_seed,
        )

    def __getattr__(self, name: str) -> Any:
        """A deferred field, built with the others on first read from ``_pending`` (which
        :func:`_next_tests_of` writes in place of them): the node's states, P(each outcome),
        P(POEMS) after each outcome and the settling odds' source (``None``: no settling
        fields)."""
        fields = self.__dict__
        pending = fields.get("_pending")
        if pending is None or name not in _DEFERRED:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        states, p_node, p_poems, settling = pending
        # p_node and p_poems are slices of the states' width (_next_tests_of), so the zips
        # go without strict= (its keyword costs some 0.15 us of a test's 2-2.5 us first read)
        fields["p_outcome"] = MappingProxyType(dict(zip(states, p_node)))  # noqa: B905
        # the outcome probabilities are normalised exponentials, never negative: with no
        # zero among them every outcome is kept
        fields["p_poems_if"] = MappingProxyType(
            dict(zip(states, p_poems))  # noqa: B905
            if 0.0 not in p_node
            else {s: q for s, q, p in zip(states, p_poems, p_node, strict=True) if p > 0}
        )
        if settling is None:
            fields["seed_verdict_if"] = fields["p_settles_seed"] = None
        else:
            fields["seed_verdict_if"], fields["p_settles_seed"] = settling.outcomes(
                fields["node"], states, p_node
            )
        del fields["_pending"]
        return fields[name]

    @property
    def label(self) -> str:
        return node_label(self.node)

    @property
    def p_settles_seed_to(self) -> dict[str, float]:
        """P(the seed verdict becomes met / not met after this test); empty if not computed."""
        out: dict[str, float] = {}
        for state, verdict in (self.seed_verdict_if or {}).items():
            if verdict in ("met", "not_met"):
                out[verdict] = out.get(verdict, 0.0) + self.p_outcome.get(state, 0.0)
        return out

    def to_dict(self) -> dict[str, object]:
        return {
            "finding": self.finding,
            "label": self.label,
            "node": self.node,
            "expected_entropy_reduction_bits": self.expected_entropy_reduction_bits,
            "expected_abs_change_poems": self.expected_abs_change_poems,
            "p_present": self.p_present,
            "p_outcome": dict(self.p_outcome),
            "p_poems_if": dict(self.p_poems_if),
            "seed_verdict_if": None if self.seed_verdict_if is None else dict(self.seed_verdict_if),
            "p_settles_seed": self.p_settles_seed,
            "p_settles_seed_to": self.p_settles_seed_to,
        }


def _entropy_bits(probs: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(probs > 0, probs * np.log2(probs), 0.0)
    return np.asarray(-terms.sum(axis=-1))


def _line_sums(
    values: np.ndarray, at: tuple[np.ndarray, np.ndarray], lines: int, widths: np.ndarray
) -> np.ndarray:
    """Sum of each candidate's values (rows of a zero-padded matrix, summed like one
    candidate's own vector)."""
    matrix = np.zeros((lines, int(widths.max())))
    matrix[at] = values
    return np.asarray(matrix.sum(axis=1))


@functools.lru_cache(maxsize=256)
def _test_facts(node: str, states: tuple[str, ...]) -> tuple[str, int | None]:
    """The finding a node reads and where ``"present"`` is among its states (``None`` if it
    is not one)."""
    return finding_of(node), states.index(PRESENT) if PRESENT in states else None


NOT_TESTS: tuple[str, ...] = (*CONTEXT_NODES, LESION_SIZE)
"""Nodes that are context (age, sex, the imaging used) or a detail of another finding (the
size of a lesion), not tests to order."""


def next_tests(
    engine: CompiledEngine,
    evidence: Mapping[str, str],
    candidates: tuple[str, ...] | None = None,
    positive: str = POSITIVE,
    settling: Settling | None = None,
) -> tuple[NextTest, ...]:
    """Every unassessed finding by expected information gain about the diagnosis (with
    ``settling``, each with its settling odds: :func:`contributions_and_next_tests`)."""
    candidates = _candidates(engine, evidence) if candidates is None else candidates
    base_codes, *base = _base(engine, evidence)
    if not candidates:
        return ()
    layout = _outcome_layout(engine, candidates)
    rows = _outcome_rows(engine, base_codes, candidates, layout)
    log_post, log_evidence = engine.log_posterior_batch(rows)
    return _next_tests_of(
        engine, candidates, base, log_post, log_evidence, positive, settling, layout
    )


def contributions_and_next_tests(
    engine: CompiledEngine,
    evidence: Mapping[str, str],
    candidates: tuple[str, ...] | None = None,
    positive: str = POSITIVE,
    settling: Settling | None = None,
) -> tuple[Contributions, tuple[NextTest, ...]]:
    """:func:`contributions` and :func:`next_tests`, the chain's rows and the outcome rows in
    one engine call (each row of a batch of several is computed on its own, so the numbers
    are those of the two calls; a batch of one row is summed differently, so a chain of one
    row, no finding observed, keeps its own call).

    With ``settling`` (:class:`model.analysis.settle.Settling` of the seed result) every
    test carries its settling odds, as :func:`model.analysis.settle.settle` would add them.
    """
    candidates = _candidates(engine, evidence) if candidates is None else candidates
    nodes, chain_codes = _chain_codes(engine, evidence)
    if len(chain_codes) < 2 or not candidates:
        return contributions(engine, evidence, positive), next_tests(
            engine, evidence, candidates, positive, settling
        )
    base_codes, *base = _base(engine, evidence, chain_codes[-1:])  # the last row: all of it
    layout = _outcome_layout(engine, candidates)
    rows = _outcome_rows(engine, base_codes, candidates, layout)
    log_post, log_evidence = engine.log_posterior_batch(np.concatenate((chain_codes, rows)))
    n = len(chain_codes)
    chain = _contributions_of(engine, evidence, nodes, log_post[:n], log_evidence[:n], positive)
    tests = _next_tests_of(
        engine, candidates, base, log_post[n:], log_evidence[n:], positive, settling, layout
    )
    return chain, tests


def _candidates(engine: CompiledEngine, evidence: Mapping[str, str]) -> tuple[str, ...]:
    """The findings :func:`next_tests` scores when not told which."""
    vegf_known = any(n in evidence for n in VEGF_EVIDENCE_NODES)
    return tuple(
        n
        for n in engine.observable
        if n not in evidence
        and n not in engine.implied  # known by the setting's definition
        and n not in NOT_TESTS
        and not (vegf_known and n in VEGF_EVIDENCE_NODES)
    )


def _base(
    engine: CompiledEngine, evidence: Mapping[str, str], codes: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.floating[Any]]:
    """The evidence's codes (one row; ``codes`` if already encoded), log posterior and log
    P(evidence), from a call of its own (one row)."""
    base_codes = engine.encode([evidence]) if codes is None else codes
    base_log_post, base_log_evidence = engine.log_posterior_batch(base_codes)
    if not np.isfinite(base_log_evidence[0]):
        raise ImpossibleEvidenceError(
            f"evidence has probability zero under the network: {dict(evidence)}."
        )
    return base_codes, base_log_post[0], base_log_evidence[0]


Layout = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""Each outcome row's candidate and state, each candidate's number of states and first row
(:func:`_outcome_layout`)."""


def _outcome_rows(
    engine: CompiledEngine,
    base_codes: np.ndarray,
    candidates: tuple[str, ...],
    layout: Layout | None = None,
) -> np.ndarray:
    """Every (candidate, state) pair as one row: the evidence with that node in that state."""
    column = engine.column
    columns = np.array([column[node] for node in candidates], dtype=np.int64)
    which, state, _, _ = _outcome_layout(engine, candidates) if layout is None else layout
    rows = np.repeat(base_codes, len(which), axis=0)
    rows[np.arange(len(which)), columns[which]] = state
    return rows


def _outcome_layout(engine: CompiledEngine, candidates: tuple[str, ...]) -> Layout:
    """For each outcome row its candidate and state; each candidate's number of states and
    first row."""
    widths = np.array([len(engine.states[node]) for node in candidates], dtype=np.int64)
    starts = np.cumsum(widths) - widths
    which = np.repeat(np.arange(len(candidates)), widths)
    state = np.arange(len(which)) - np.repeat(starts, widths)
    return which, state, widths, starts


def _next_tests_of(
    engine: CompiledEngine,
    candidates: tuple[str, ...],
    base: Sequence[Any],
    log_post: np.ndarray,
    log_evidence: np.ndarray,
    positive: str,
    settling: Settling | None = None,
    layout: Layout | None = None,
) -> tuple[NextTest, ...]:
    """The next tests from the outcome rows' log posteriors and log P(evidence), and
    ``base``: the evidence's log posterior and log P(evidence) (:func:`_base`); with
    ``settling``, each with its settling odds (:func:`contributions_and_next_tests`)."""
    base_log_post, base_log_evidence = base
    base_post = np.exp(base_log_post)
    k = engine.query_states.index(positive)
    which, state, widths, starts = _outcome_layout(engine, candidates) if layout is None else layout
    predictive = np.exp(log_evidence - base_log_evidence)
    post = np.exp(log_post)
    h_now = float(_entropy_bits(base_post))
    # one line per candidate, padded with zeros: the sums of each line are those of its own
    # states (an impossible outcome has P(x | e) = 0 and adds exactly 0)
    padded = (which, state)
    p_x = predictive / _line_sums(predictive, padded, len(candidates), widths)[which]
    h_after = _line_sums(p_x * _entropy_bits(post), padded, len(candidates), widths)
    change = _line_sums(p_x * np.abs(post[:, k] - base_post[k]), padded, len(candidates), widths)
    p_list, poems_list = p_x.tolist(), post[:, k].tolist()
    h_list, change_list, start_list = h_after.tolist(), change.tolist(), starts.tolist()
    new, set_fields, test_facts, states_of = (
        object.__new__,
        object.__setattr__,
        _test_facts,
        engine.states,
    )
    out = []
    for i, node in enumerate(candidates):
        # a test whose deferred fields are pending (NextTest.__getattr__), its fields written
        # at once into its dictionary (an assessment makes some 65 tests)
        states = states_of[node]
        finding, present = test_facts(node, states)
        a = start_list[i]
        b = a + len(states)
        p_node = p_list[a:b]
        test = new(NextTest)
        set_fields(
            test,
            "__dict__",
            {
                "finding": finding,
                "node": node,
                "expected_entropy_reduction_bits": max(h_now - h_list[i], 0.0),
                "expected_abs_change_poems": change_list[i],
                "p_present": None if present is None else p_node[present],
                "_pending": (states, p_node, poems_list[a:b], settling),
            },
        )
        out.append(test)
    return tuple(sorted(out, key=lambda t: (-t.expected_entropy_reduction_bits, t.node)))
