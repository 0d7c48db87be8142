"""The app's pure helpers: widgets <-> case, shareable links, example cases."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.case import Case
from model.exceptions import CaseError
from model.vocabulary import BINARY_FINDINGS, FINDINGS, Kind
from ui import state

EXAMPLES = state.example_paths()


def test_there_are_four_to_six_examples() -> None:
    assert 4 <= len(EXAMPLES) <= 6


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_is_a_valid_case_whose_id_is_its_file_name(path: object) -> None:
    case = Case.load(path)  # type: ignore[arg-type]
    assert case.id == path.stem  # type: ignore[attr-defined]
    assert case.findings


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_widgets_and_links_round_trip_every_example(path: object) -> None:
    case = Case.load(path)  # type: ignore[arg-type]
    assert state.case_from_values(state.values_from_case(case)).to_dict() == case.to_dict()
    assert state.decode_case(state.encode_case(case)).to_dict() == case.to_dict()


def test_empty_widgets_make_an_empty_case() -> None:
    case = state.case_from_values(state.default_values())
    assert case.to_dict() == {"findings": {}}


def test_not_assessed_is_left_out_never_absent() -> None:
    values = state.default_values()
    values[state.widget_key("polyneuropathy")] = "absent"
    values[state.widget_key("hepatomegaly")] = state.NOT_ASSESSED
    case = state.case_from_values(values)
    assert case.findings == {"polyneuropathy": "absent"}
    assert case.state("hepatomegaly") is None


def test_vegf_widgets_build_the_measurement_and_omit_an_empty_uln() -> None:
    values = state.default_values()
    values[state.KEY_VEGF_VALUE] = 2400.0
    values[state.KEY_VEGF_SPECIMEN] = "plasma"
    case = state.case_from_values(values)
    assert case.entered("vegf") == {"value": 2400, "unit": "pg/mL", "specimen": "plasma"}
    assert case.vegf is not None and case.vegf.uln_is_default


def test_a_bad_number_names_the_field_and_the_fix() -> None:
    values = state.default_values()
    values[state.widget_key("platelets")] = 45000.0
    with pytest.raises(CaseError, match=r"platelets.*Enter 45"):
        state.case_from_values(values)


def test_every_finding_has_exactly_one_widget_home() -> None:
    homes = [fid for _, groups in state.SECTIONS for g in groups for fid in state.findings_in(g)]
    assert sorted(homes) == sorted(FINDINGS)
    assert len(homes) == len(set(homes))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "case parameter must be a case code"),
        ("v2.abc", "case parameter must be a case code"),
        ("v1.@@@@", "intact case code"),
        ("v1." + "A" * (state.MAX_LINK_CHARS + 1), "at most 8192 characters"),
        (
            "v1." + base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("="),
            "intact case code",
        ),
        (
            "v1." + base64.urlsafe_b64encode(b"[" * 5000).decode().rstrip("="),
            "intact case code",
        ),
        (
            "v1."
            + base64.urlsafe_b64encode(
                json.dumps({"findings": {"polyneuropaty": "present"}}).encode()
            ).decode(),
            "Did you mean 'polyneuropathy'",
        ),
    ],
)
def test_a_damaged_link_is_one_clear_case_error(text: str, match: str) -> None:
    with pytest.raises(CaseError, match=match) as info:
        state.decode_case(text)
    assert str(info.value).startswith("link: ")


_binary_states = st.sampled_from(["present", "absent", "unknown"])


@given(st.dictionaries(st.sampled_from(BINARY_FINDINGS), _binary_states, max_size=20))
def test_any_binary_case_survives_widgets_and_link(findings: dict[str, str]) -> None:
    case = Case.from_dict({"findings": findings})
    back = state.case_from_values(state.values_from_case(case))
    for fid in FINDINGS:
        if FINDINGS[fid].kind is Kind.BINARY:
            assert back.state(fid) == case.state(fid)
    assert state.decode_case(state.encode_case(case)).to_dict() == case.to_dict()


@pytest.mark.parametrize(
    ("case_id", "stem"),
    [
        (None, "poems-case"),
        ("case-17", "case-17"),
        ("../../etc/passwd", "etc-passwd"),
        ("é", "poems-case"),
    ],
)
def test_file_names_from_case_ids_are_safe(case_id: str | None, stem: str) -> None:
    assert state.file_stem(case_id) == stem


def test_dot_has_every_node_and_edge_and_escapes_labels() -> None:
    from model.network.structure import NODES
    from ui.dot import network_dot, quote, shade

    assert quote('a "b"\\c\nd') == '"a \\"b\\"\\\\c\\nd"'
    assert shade(0.0) == "#ffffff" and shade(1.0) == "#4c78a8" and shade(7.0) == shade(1.0)
    marginals = {n: {s: 1.0 / len(spec.states) for s in spec.states} for n, spec in NODES.items()}
    dot = network_dot(
        list(NODES.values()),
        marginals,
        {"polyneuropathy": "present"},
        {"polyneuropathy": 'Poly"neuropathy'},
        {"polyneuropathy": "neurological"},
        lambda p: f"{p:.2f}",
    )
    assert dot.startswith("digraph poems {") and dot.rstrip().endswith("}")
    for name, spec in NODES.items():
        assert f'"{name}" [label=' in dot
        for parent in spec.parents:
            assert f'"{parent}" -> "{name}";' in dot
    assert '"polyneuropathy" [label="Poly\\"neuropathy\\nobserved: present"' in dot
    assert 'label="neurological"' in dot


def test_plain_escapes_markdown_links_colours_and_maths() -> None:
    assert state.plain("[a](http://x) :red[b] $c$ *d* <e> f_g | h") == (
        r"\[a\](http\:" + "\u2060" + r"//x) \:red\[b\] \$c\$ \*d\* \<e\> f\_g \| h"
    )


# ---------------------------------------------------------------- partial cases and links
def _code(data: object) -> str:
    raw = json.dumps(data).encode("utf-8")
    return state.LINK_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


@pytest.mark.parametrize(
    ("data", "kept", "named"),
    [
        ({"findings": {"polyneuropathy": []}}, {"findings": {}}, "Polyneuropathy"),
        ({"findings": {"polyneuropathy": {}}}, {"findings": {}}, "Polyneuropathy"),
        (
            {"age": int("9" * 400), "findings": {"papilledema": "present"}},
            {"findings": {"papilledema": "present"}},
            "Age",
        ),
        (
            {"findings": {"platelets": int("9" * 400), "papilledema": "present"}},
            {"findings": {"papilledema": "present"}},
            "Platelet count",
        ),
        (
            {"findings": {"hepatomegaly": "present", "organomegaly": "absent"}},
            {"findings": {"hepatomegaly": "present"}},
            "Organomegaly",
        ),
        (
            {"findings": {"platelets": 650, "thrombocytosis": "absent"}},
            {"findings": {"platelets": 650}},
            "Thrombocytosis",
        ),
        (
            {"sex": "m", "findings": {"xx": "present", "papilledema": "absent"}},
            {"findings": {"papilledema": "absent"}},
            "Unknown finding",
        ),
        ({"findings": [1, 2]}, {"findings": {}}, "Findings"),
    ],
)
def test_a_link_opens_with_its_good_parts_and_names_the_bad_one(
    data: object, kept: dict[str, object], named: str
) -> None:
    case, problems = state.decode_link(_code(data))
    assert case.to_dict() == kept
    assert problems and any(named in p.name for p in problems), problems
    assert all("Traceback" not in p.message for p in problems)


def test_a_damaged_link_opens_an_empty_case_with_one_message() -> None:
    for code in ("v1.!!!", "nonsense", ["v1."], "v1." + "A" * 9000, _code([1])):
        case, problems = state.decode_link(code)
        assert case.to_dict() == {"findings": {}}
        assert len(problems) == 1


def test_a_link_with_a_key_twice_is_refused_not_read_as_the_last_copy() -> None:
    raw = b'{"findings": {"polyneuropathy": "present", "polyneuropathy": "absent"}}'
    code = state.LINK_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii")
    case, problems = state.decode_link(code)
    assert case.findings == {} and "twice" in problems[0].message


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=12)
    | st.sampled_from(["present", "absent", "unknown", "lambda", "IgA"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


@given(
    st.dictionaries(st.sampled_from([*FINDINGS, "xx"]), _json_values, max_size=6),
    st.dictionaries(st.sampled_from(["age", "sex", "setting", "id", "zz"]), _json_values),
)
def test_no_crafted_link_raises_and_every_kept_part_is_valid(
    findings: dict[str, object], fields: dict[str, object]
) -> None:
    case, problems = state.decode_link(_code({**fields, "findings": findings}))
    assert Case.from_dict(case.to_dict()).to_dict() == case.to_dict()
    assert set(case.findings) <= set(findings)
    assert len(case.findings) == len(findings) or problems  # nothing dropped silently
    state.values_from_case(case)  # the widgets can show it


def test_a_measured_value_decides_the_derived_control_and_is_the_cases_only_entry() -> None:
    values = state.default_values()
    values[state.widget_key("platelets")] = 650.0
    values[state.widget_key("thrombocytosis")] = "absent"  # would contradict the count
    values[state.widget_key("hepatomegaly")] = "present"
    derived = state.derived_states(values)
    assert derived["thrombocytosis"].state == "present"
    assert "platelet" in derived["thrombocytosis"].because
    assert derived["organomegaly"].state == "present"
    case, problems = state.case_and_problems(values)
    assert problems == ()
    assert case.findings == {"hepatomegaly": "present", "platelets": 650}
    assert case.state("thrombocytosis") == "present"


def test_out_of_range_entries_are_left_out_and_named_at_their_widget() -> None:
    values = state.default_values()
    values[state.KEY_AGE] = 250.0
    values[state.KEY_VEGF_VALUE] = -50.0
    values[state.widget_key("polyneuropathy")] = "present"
    case, problems = state.case_and_problems(values)
    assert case.to_dict() == {"findings": {"polyneuropathy": "present"}}
    assert {p.key for p in problems} == {state.KEY_AGE, state.KEY_VEGF_VALUE}
    assert all("findings." not in p.message for p in problems)
