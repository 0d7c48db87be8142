"""The work-up's fast paths agree exactly with the slow, obvious ones they replace.

- ``Case.with_findings`` accepts and refuses exactly what ``Case.from_dict`` of the merged
  case does, and builds the same case;
- :data:`model.case.CONSISTENCY_GROUPS` covers every consistency rule (brute force over
  pairs of findings: two findings that share no group never refuse each other);
- the reduction (answers remembered per consistency partners) reports the results of the
  naive reduction that rebuilds and validates the case at every step;
- the results' evidence codes and seed verdicts (``_read_results``) are those of
  ``encode(evidence_for(case))`` and ``criteria.verdict`` on the case with the result
  entered;
- acceptance does not depend on the age (the memo's key leaves it out);
- ``log_posterior_batch`` gives a row the same numbers whatever other rows it is given with
  (in batches of two or more: a lone row can differ in the last bit, so the work-up never
  shrinks a batch to one row), and agrees with pgmpy's variable elimination to 1e-9.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from model.analysis import credible_interval
from model.analysis import workup as w
from model.analysis.uncertainty import _draw_batch
from model.case import CONSISTENCY_GROUPS, Case, consistency_partners
from model.case_columns import row_from_case, row_texts, rows_with
from model.criteria import verdict as verdict_of
from model.exceptions import CaseError
from model.inference.engine import engine_for, resolve
from model.inference.simulate import encode, simulate
from model.network import build_network, build_tables
from model.network.evidence import evidence_for
from model.network.evidence_codes import OBSERVABLE
from model.vocabulary import FINDINGS, Kind

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXAMPLE_CASES = [Case.load(p) for p in sorted(EXAMPLES.glob("*.json"))]


def _values(fid: str) -> list[Any]:
    """Values of a finding that reach every side of the thresholds the validator uses."""
    spec = FINDINGS[fid]
    if spec.kind is Kind.MEASUREMENT:
        return [
            {"value": v, "unit": "pg/mL", "specimen": s, "uln": 100.0}
            for v in (50.0, 150.0, 1500.0)
            for s in ("serum", "plasma")
        ]
    if spec.kind is Kind.NUMBER:
        assert spec.plausible is not None
        low, high = spec.plausible
        return [low + (high - low) * q for q in (0.0, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 1.0)]
    return list(spec.states)


def _accepts(case: Case, findings: dict[str, Any]) -> bool:
    try:
        case.with_findings(findings)
    except CaseError:
        return False
    return True


def _slow_with(case: Case, findings: dict[str, Any]) -> Case:
    data = case.to_dict()
    data["findings"] = {**data["findings"], **findings}
    return Case.from_dict(data)


@pytest.mark.parametrize("case", EXAMPLE_CASES[:3], ids=lambda c: c.id or "case")
def test_with_findings_is_from_dict_of_the_merged_case(case: Case) -> None:
    rng = np.random.default_rng(7)
    ids = [f for f in FINDINGS if case.entered(f) is None]
    for _ in range(150):
        chosen = rng.choice(len(ids), size=int(rng.integers(1, 4)), replace=False)
        findings = {}
        for i in chosen:
            values = _values(ids[i])
            findings[ids[i]] = values[int(rng.integers(len(values)))]
        try:
            expected = _slow_with(case, findings)
        except CaseError as err:
            with pytest.raises(CaseError) as got:
                case.with_findings(findings)
            assert str(got.value) == str(err)
            continue
        assert case.with_findings(findings) == expected


def test_findings_without_a_shared_consistency_rule_never_refuse_each_other() -> None:
    """The claim the reducer's memo rests on, by brute force over pairs of findings."""
    base = Case.from_dict({"findings": {}})
    ids = list(FINDINGS)
    assert all(consistency_partners(f) >= {f} for f in ids)
    checked = 0
    for f, g in itertools.combinations(ids, 2):
        if g in consistency_partners(f):
            continue
        for a in _values(f):
            alone_f = _accepts(base, {f: a})
            for b in _values(g):
                both = _accepts(base, {f: a, g: b})
                assert both == (alone_f and _accepts(base, {g: b})), (f, a, g, b)
                checked += 1
    assert checked > 10_000


def test_acceptance_does_not_depend_on_age() -> None:
    """The memo of accepted values is keyed by the partners' values and sex, not the age."""
    for findings in ({}, {"monoclonal_protein": "absent", "skin_changes": "present"}):
        for sex in ("male", "female"):
            young = Case.from_dict({"findings": findings, "sex": sex, "age": 19})
            old = Case.from_dict({"findings": findings, "sex": sex, "age": 90})
            for fid in FINDINGS:
                if fid in findings:
                    continue
                for value in _values(fid):
                    assert _accepts(young, {fid: value}) == _accepts(old, {fid: value})


def test_every_group_holds_a_pair_that_can_refuse_each_other() -> None:
    """The groups are not padding: each names findings that really constrain each other."""
    base = Case.from_dict({"findings": {}})
    for group in CONSISTENCY_GROUPS:
        found = any(
            _accepts(base, {f: a}) and _accepts(base, {g: b}) and not _accepts(base, {f: a, g: b})
            for f, g in itertools.permutations(sorted(group), 2)
            for a in _values(f)
            for b in _values(g)
        )
        assert found, sorted(group)


def _naive_reduce(
    case: Case, pairs: tuple[tuple[str, str], ...], engine: Any, key: tuple[str, ...]
) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for (finding, node), state in zip(pairs, key, strict=True):
        try:
            for s in engine.states[node]:
                _slow_with(case, {**kept, finding: w._value(finding, node, s)})
        except CaseError:
            continue
        kept[finding] = w._value(finding, node, state)
    return kept


def _tests_with_pairs(case: Case, engine: Any) -> list[tuple[Any, tuple[tuple[str, str], ...]]]:
    out = []
    for test in w.load_catalogue().tests:
        pairs = w.open_findings(case, test, engine)
        if pairs:
            out.append((test, pairs))
    return out


CASES = [
    *EXAMPLE_CASES,
    Case.from_dict({"findings": {}}),
    Case.from_dict({"findings": {"polyneuropathy": "present", "monoclonal_protein": "absent"}}),
    Case.from_dict(
        {"findings": {"polyneuropathy": "present", "skin_changes": "absent", "platelets": 500}}
    ),
    Case.from_dict(  # aggregates stated present, some parts absent: results can be refused
        {
            "sex": "male",
            "findings": {
                "polyneuropathy": "present",
                "skin_changes": "present",
                "hyperpigmentation": "absent",
                "plethora": "absent",
                "organomegaly": "present",
                "hepatomegaly": "absent",
                "extravascular_volume_overload": "present",
                "endocrinopathy": "present",
            },
        }
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id or str(sorted(c.findings)))
def test_fast_reduction_and_reading_equal_the_case_path(case: Case) -> None:
    priors, chosen = resolve(case, None, None)
    engine = engine_for(priors, chosen)
    base = engine.encode([evidence_for(case)])[0]
    plans = []
    for order, (_test, pairs) in enumerate(_tests_with_pairs(case, engine)):
        plan = w._plan(case, pairs, engine, base, order, need_seed=True)
        assert plan is not None
        states = [engine.states[node] for _, node in pairs]
        for outcome, result in zip(plan.outcomes, plan.result_of, strict=True):
            key = tuple(s[int(i)] for s, i in zip(states, outcome, strict=True))
            assert plan.findings(int(result)) == _naive_reduce(case, pairs, engine, key)
        plans.append(plan)
    codes, verdicts = w._read_results(case, plans, engine, True)
    row = 0
    for plan in plans:
        for i in range(len(plan.results)):
            expected = engine.encode([evidence_for(_slow_with(case, plan.findings(i)))])[0]
            np.testing.assert_array_equal(codes[row], expected)
            row += 1
    row = 0
    for plan in plans:
        assert plan.seed_reads is not None
        for read_row in plan.seed_reads:
            read = w._findings_of(plan.pairs, plan.states, read_row)
            expected_verdict = verdict_of(_slow_with(case, read) if read else case, "seed")
            assert w.STATUS_NAMES[verdicts[row]] == expected_verdict
            row += 1


def test_log_posterior_batch_is_row_independent_and_agrees_with_pgmpy() -> None:
    from pgmpy.inference import VariableElimination

    priors, setting = resolve(None, "paraproteinemic_neuropathy", None)
    engine = engine_for(priors, setting)
    rng = np.random.default_rng(11)
    codes = np.concatenate(
        [
            encode(simulate(build_tables(priors, setting), 40, rng, missing), OBSERVABLE)
            for missing in (0.0, 0.3, 0.6, 0.9)
        ]
    )
    log_post, log_ev = engine.log_posterior_batch(codes)
    for i in range(0, len(codes), 7):  # in a batch of two (numpy may sum a lone row otherwise)
        pair_post, pair_ev = engine.log_posterior_batch(codes[[i, (i + 3) % len(codes)]])
        np.testing.assert_array_equal(pair_post[0], log_post[i])
        np.testing.assert_array_equal(pair_ev[0], log_ev[i])
    infer = VariableElimination(build_network(priors, setting))
    for i in range(0, len(codes), 16):
        evidence = engine.with_implied(
            {
                OBSERVABLE[j]: engine.states[OBSERVABLE[j]][c]
                for j, c in enumerate(codes[i])
                if c >= 0
            }
        )
        factor = infer.query(["diagnosis"], evidence=evidence, show_progress=False)
        expected = [factor.get_value(diagnosis=s) for s in engine.query_states]
        np.testing.assert_allclose(np.exp(log_post[i]), expected, atol=1e-9, rtol=0)


def test_interval_takes_draws_made_elsewhere() -> None:
    """The draws hook (for a draws cache): the same draws handed in, raw or prepared, give the
    same interval as the cached draws of the same seed."""

    case = EXAMPLE_CASES[0]
    priors, setting = resolve(case, None, None)
    evidence = evidence_for(case)
    own = credible_interval(priors, setting, evidence, n_draws=50, seed=4)
    raw = priors.sample(50, np.random.default_rng(4))
    assert credible_interval(priors, setting, evidence, draws=raw) == own
    prepared = engine_for(priors, setting).prepare(build_tables(priors, setting, values=raw))
    assert credible_interval(priors, setting, evidence, draws=prepared) == own
    assert _draw_batch(priors, setting, 50, 4).n_batch == 50


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id or str(sorted(c.findings)))
def test_remembered_acceptance_equals_building_the_case(case: Case) -> None:
    """``admissible_nodes`` and ``open_findings`` (answers remembered across cases per
    consistency partners) equal trying every value on a freshly validated case."""
    priors, chosen = resolve(case, None, None)
    engine = engine_for(priors, chosen)
    evidence = evidence_for(case)
    for _ in range(2):  # the second time from the memo
        for node in w.admissible_nodes(case, engine, evidence):
            finding = "bone_marrow_plasma_cells_pct" if node == "bone_marrow_plasma_cells" else node
            if node.startswith("vegf_"):
                continue
            for state in engine.states[node]:
                _slow_with(case, {finding: w._value(finding, node, state)})  # never raises
        for test in w.load_catalogue().tests:
            for finding, node in w.open_findings(case, test, engine):
                for state in engine.states[node]:
                    _slow_with(case, {finding: w._value(finding, node, state)})
            for finding in test.known_findings():
                node = w._node_of(finding, test, engine)
                if node is None or w._entered_or_derived(case, finding):
                    continue
                if (finding, node) in w.open_findings(case, test, engine):
                    continue
                if finding == "vegf" and (case.vegf or case.entered("vegf_elevated")):
                    continue
                with pytest.raises(CaseError):  # left out only when some value is refused
                    for state in engine.states[node]:
                        _slow_with(case, {finding: w._value(finding, node, state)})


@pytest.mark.parametrize("case", CASES[3:], ids=lambda c: c.id or str(sorted(c.findings)))
def test_lookup_tables_equal_one_answer_per_distinct_combination(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tables the work-up reads (which findings a result reports, the aggregates it
    derives; filled as combinations are met, kept across cases) give the results and codes
    of asking once per distinct combination, as beyond ``TABLE_LIMIT``."""
    priors, chosen = resolve(case, None, None)
    engine = engine_for(priors, chosen)
    base = engine.encode([evidence_for(case)])[0]

    def read() -> tuple[list[Any], Any]:
        plans = []
        for order, (_test, pairs) in enumerate(_tests_with_pairs(case, engine)):
            plan = w._plan(case, pairs, engine, base, order, need_seed=False)
            assert plan is not None
            plans.append(plan)
        return plans, w._result_codes(case, plans, engine)

    w._read_results(case, read()[0], engine, True)  # the tables already partly filled
    tabled, tabled_codes = read()
    monkeypatch.setattr(w, "TABLE_LIMIT", 0)
    monkeypatch.setattr(w, "_REPORTED", {})
    asked, asked_codes = read()
    assert len(tabled) == len(asked) > 3
    for a, b in zip(tabled, asked, strict=True):
        np.testing.assert_array_equal(a.results, b.results)
        np.testing.assert_array_equal(a.result_of, b.result_of)
    np.testing.assert_array_equal(tabled_codes, asked_codes)
    assert (tabled_codes >= 0).any()


def _reduced_findings() -> list[str]:
    return [f for f in FINDINGS if w._aggregate_rules(f) is not None]


def test_the_aggregate_rules_cover_the_aggregates_of_stated_parts() -> None:
    """Every aggregate over present / absent parts and each of those parts is reduced; a
    finding read by any other rule is not."""
    reduced = set(_reduced_findings())
    for aggregate, parts in w.AGGREGATES.items():
        stated = all(FINDINGS[p].kind is Kind.BINARY for p in parts)
        assert ({aggregate, *parts} <= reduced) == stated, aggregate
    for fid in ("vegf", "vegf_elevated", "thrombocytosis", "anemia", "light_chain"):
        assert fid not in reduced


def _member_values(fid: str) -> list[Any]:
    return [None, "unknown", *FINDINGS[fid].states]


@pytest.mark.parametrize("finding", _reduced_findings())
def test_reduced_partner_key_decides_acceptance(finding: str) -> None:
    """Two cases whose partners give ``finding`` the same reduced key accept the same values
    of it, whatever their sex (brute force over the other members' values: every combination
    for the small aggregates, 1,500 drawn ones, most of them absent, for skin changes)."""
    rules = w._aggregate_rules(finding)
    assert rules is not None
    (aggregate, parts), *_ = rules
    others = sorted({aggregate, *parts} - {finding})
    if len(others) <= 4:
        combos: Any = itertools.product(*(_member_values(o) for o in others))
    else:
        rng = np.random.default_rng(3)
        combos = [
            [
                rng.choice(np.array(_member_values(o), dtype=object), p=[0.15, 0.05, 0.2, 0.6])
                for o in others
            ]
            for _ in range(1500)
        ]
    answers: dict[tuple[Any, ...], set[tuple[bool, ...]]] = {}
    for i, combo in enumerate(combos):
        findings = {o: v for o, v in zip(others, combo, strict=True) if v is not None}
        sex = ("female", "male", None)[i % 3]  # the key leaves the sex out
        try:
            case = Case.from_dict({"findings": findings, "sex": sex})
        except CaseError:
            continue
        accepted = tuple(_accepts(case, {finding: s}) for s in FINDINGS[finding].states)
        answers.setdefault(w._partner_key(finding, case.findings), set()).add(accepted)
        assert w._sex(case, finding) is None
    assert len(answers) >= 3
    assert all(len(seen) == 1 for seen in answers.values()), answers
    assert any(seen != {(True, True)} for seen in answers.values())  # some context refuses


@pytest.mark.parametrize("finding", ["skin_thickening", "lymphadenopathy", "endocrinopathy"])
def test_reduced_key_with_members_left_out_determines_the_whole_key(finding: str) -> None:
    """The reduction table of a result: the key of the case's members (those the result
    enters left out) and the result's values of the others give the key of them all."""
    rules = w._aggregate_rules(finding)
    assert rules is not None
    (aggregate, parts), *_ = rules
    others = sorted({aggregate, *parts} - {finding})
    rng = np.random.default_rng(5)
    whole: dict[tuple[Any, ...], set[tuple[Any, ...]]] = {}
    for _ in range(3000):
        left_out = frozenset(o for o in others if rng.random() < 0.5)
        values = {}
        for o in others:
            value = rng.choice(np.array(_member_values(o), dtype=object), p=[0.2, 0.05, 0.25, 0.5])
            if value is not None and (o not in left_out or value != "unknown"):
                values[o] = value
        case_side = {o: v for o, v in values.items() if o not in left_out}
        key = (
            w._partner_key(finding, case_side, left_out),
            tuple(sorted((o, v) for o, v in values.items() if o in left_out)),
            left_out,
        )
        whole.setdefault(key, set()).add(w._partner_key(finding, values))
    assert all(len(seen) == 1 for seen in whole.values())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id or str(sorted(c.findings)))
def test_plans_from_the_engine_shapes_equal_the_long_way(case: Case) -> None:
    """A test's shape (kept per engine and open findings: enumerated outcomes, their seed
    reads, columns) gives the plan of working each step out on the case: every outcome
    reduced (:func:`_reported`), the seed reads cut at the straddling VEGF band."""
    priors, chosen = resolve(case, None, None)
    engine = engine_for(priors, chosen)
    base = engine.encode([evidence_for(case)])[0]
    checked = 0
    for order, (_test, pairs) in enumerate(_tests_with_pairs(case, engine)):
        for _ in range(2):  # the second time from the kept shape
            plan = w._plan(case, pairs, engine, base, order, need_seed=True)
            assert plan is not None and plan.seed_reads is not None
            if not plan.exact:
                continue
            states = tuple(engine.states[node] for _, node in pairs)
            outcomes = np.array(list(itertools.product(*(range(len(s)) for s in states))))
            np.testing.assert_array_equal(plan.outcomes, outcomes)
            reported = w._reported(case, pairs, engine, outcomes)
            results, result_of = w._first_seen(np.where(reported, outcomes, -1), plan_cards(states))
            np.testing.assert_array_equal(plan.results, results)
            np.testing.assert_array_equal(plan.result_of, result_of)
            np.testing.assert_array_equal(plan.seed_reads, w._seed_reads(pairs, states, results))
            joint = np.repeat(base[None, :], len(outcomes), axis=0)
            joint[:, [engine.column[node] for _, node in pairs]] = outcomes
            np.testing.assert_array_equal(plan.joint, joint)
            checked += 1
    assert checked >= 4


def plan_cards(states: tuple[tuple[str, ...], ...]) -> list[int]:
    return [len(s) for s in states]


@pytest.mark.parametrize("aggregate", list(w.AGGREGATES))
def test_derived_aggregate_depends_on_its_parts_only_through_present_and_all_absent(
    aggregate: str,
) -> None:
    """The remembered derivation (:func:`_aggregate_state`, keyed by whether a part is present
    and whether every part is absent) equals ``Case`` on every combination of the parts'
    states, and the three outcomes (present, absent, underived) all occur."""
    parts = w.AGGREGATES[aggregate]
    choices = [[None, *FINDINGS[p].states] if FINDINGS[p].states else [None] for p in parts]
    seen = set()
    for combo in itertools.product(*choices):
        entered = {p: s for p, s in zip(parts, combo, strict=True) if s is not None}
        expected = Case(w.MappingProxyType(entered)).state(aggregate)
        assert w._aggregate_state(aggregate, tuple(zip(parts, combo, strict=True))) == expected
        seen.add(expected)
    assert seen == ({None} if aggregate == "vegf_elevated" else {None, "present", "absent"})


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id or str(sorted(c.findings)))
def test_result_columns_equal_parsing_each_result_as_text(case: Case) -> None:
    """The results as parsed rows, read from the case and the results' state indices, equal
    the cohort parse of each result written out as cells, in every field the criteria read
    (every finding's entered and derived state, numbers, the VEGF measurement)."""
    priors, chosen = resolve(case, None, None)
    engine = engine_for(priors, chosen)
    base = engine.encode([evidence_for(case)])[0]
    plans = [
        w._plan(case, pairs, engine, base, order, need_seed=True)
        for order, (_test, pairs) in enumerate(_tests_with_pairs(case, engine))
    ]
    blocks = [(plan, plan.seed_reads) for plan in plans if plan is not None]
    parsed = w._result_columns(case, blocks)  # type: ignore[arg-type]
    changes = [
        row_texts(w._findings_of(plan.pairs, plan.states, row))
        for plan, rows in blocks
        for row in rows  # type: ignore[union-attr]
    ]
    expected = rows_with(row_from_case(case), changes)
    assert parsed.n == expected.n == len(changes) > 50
    np.testing.assert_array_equal(parsed.flagged, expected.flagged)
    for field in ("state", "entered", "numbers"):  # the same findings, made when looked at
        assert set(getattr(parsed, field)) == set(getattr(expected, field)), field
    assert parsed.state.get("not_a_finding") is None
    for name in expected.state:
        np.testing.assert_array_equal(parsed.state[name], expected.state[name], err_msg=name)
    for name in expected.entered:
        np.testing.assert_array_equal(parsed.entered[name], expected.entered[name], err_msg=name)
    for name in expected.numbers:
        np.testing.assert_array_equal(parsed.numbers[name], expected.numbers[name], err_msg=name)
    for name in ("vegf_pg_ml", "vegf_multiple", "vegf_specimen", "vegf_uln_default", "sex"):
        np.testing.assert_array_equal(getattr(parsed, name), getattr(expected, name), err_msg=name)


def test_a_finding_no_rule_reads_with_another_is_accepted_alike_on_every_case() -> None:
    """The memo keeps one answer per finding that shares no consistency rule (not per case
    or sex): every value of it is accepted or refused alike on cases of either sex or none,
    with and without other findings entered."""
    alone = [f for f in FINDINGS if consistency_partners(f) == {f}]
    assert len(alone) > 20
    cases = [
        *CASES,
        *(Case.from_dict({"findings": {}, "sex": sex}) for sex in ("male", "female")),
    ]
    for fid in alone:
        for value in _values(fid):
            answers = {_accepts(case, {fid: value}) for case in cases if case.entered(fid) is None}
            assert len(answers) == 1, (fid, value)


def test_binary_entropy_equals_the_entropy_of_the_two_values_bit_for_bit() -> None:
    """The two-term binary entropy is the general entropy of (p, 1 - p), to the last bit,
    over random probabilities including 0 and 1 and a lone number."""
    rng = np.random.default_rng(7)
    for _ in range(500):
        n = int(rng.integers(1, 300))
        p = rng.random(n) ** rng.integers(1, 40)
        p[rng.random(n) < 0.1] = 0.0
        p[rng.random(n) < 0.1] = 1.0
        general = w._entropy_bits(np.stack([p, 1.0 - p], axis=-1))
        np.testing.assert_array_equal(w._binary_entropy(p), general)
        one = float(p[0])
        assert float(w._binary_entropy(one)) == float(w._entropy_bits(np.array([one, 1 - one])))


def test_first_seen_rows_equal_numpy_unique_in_order_of_appearance() -> None:
    """The distinct rows in order of first appearance and each row's index among them, over
    random rows with unreported (-1) entries, as ``np.unique`` with the first positions
    gives them, sorted by first appearance."""
    rng = np.random.default_rng(11)
    for _ in range(1000):
        n, k = int(rng.integers(1, 200)), int(rng.integers(1, 25))
        cards = [int(c) for c in rng.integers(1, 5, k)]
        rows = np.stack([rng.integers(-1, c, n) for c in cards], axis=1)
        _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        distinct, of_row = w._first_seen(rows, cards)
        np.testing.assert_array_equal(distinct, rows[first[order]])
        np.testing.assert_array_equal(of_row, rank[inverse.reshape(-1)])
        np.testing.assert_array_equal(distinct[of_row], rows)
