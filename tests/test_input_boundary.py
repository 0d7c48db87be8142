"""One validation boundary: every reproduction of the reliability review gives exit 2 and a good
one-line message (field, value, what is allowed), never exit 1 or a traceback.

Each test names the review's defect id (D = case files, P = priors, S = app links) and runs
the review's one-line reproduction through ``poems`` in-process, plus a hypothesis property
over generated malformed case files.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.case import Case
from model.cli import main
from model.criteria import evaluate_all
from model.exceptions import CaseError, PoemsError, PriorsError
from model.inputs import depth, parse_json, read_bounded, strict_json, terminal_safe
from model.parameters import default_directory, load_priors
from ui.state import LINK_PREFIX, decode_case

EXAMPLES = Path(__file__).parents[1] / "examples"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _case_file(tmp_path: Path, text: str, name: str = "case.json") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _assert_clear_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err  # one line
    assert "internal error" not in err
    assert "Traceback" not in err
    assert len(lines[0]) < 600, f"message of {len(lines[0])} characters"
    for needle in needles:
        assert needle in err, (needle, err)


# ------------------------------------------------------------------ D1-D5: case files
@pytest.mark.parametrize("command", ["criteria", "assess"])
@pytest.mark.parametrize(
    ("findings", "needle"),
    [
        ('{"hepatomegaly": []}', "findings.hepatomegaly must be 'present', 'absent'"),
        ('{"hepatomegaly": {}}', "findings.hepatomegaly must be 'present', 'absent'"),
        ('{"organomegaly": [1, 2]}', "findings.organomegaly must be"),
        ('{"light_chain": ["lambda"]}', "findings.light_chain must be one of"),
        ('{"platelets": [520]}', "findings.platelets must be a number"),
        ('{"vegf": [2400]}', "vegf must be an object"),
        ('{"vegf": {"value": [1], "unit": "pg/mL", "specimen": "serum"}}', "vegf.value"),
    ],
)
def test_d1_a_list_or_object_as_a_value_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, findings: str, needle: str
) -> None:
    path = _case_file(tmp_path, '{"findings": ' + findings + "}")
    _assert_clear_error(*_run(capsys, command, str(path))[::2], needle)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"age": 1' + "0" * 400 + "}", "age must be a finite number"),
        ('{"age": 1' + "0" * 5000 + "}", "age must be a finite number"),
        ('{"findings": {"platelets": 1' + "0" * 400 + "}}", "findings.platelets must be a finite"),
        (
            '{"findings": {"vegf": {"value": 1'
            + "0" * 320
            + ', "unit": "pg/mL", "specimen": "serum"}}}',
            "vegf.value must be a finite number",
        ),
        ('{"findings": {"platelets": NaN}}', "findings.platelets must be a finite number"),
        ('{"findings": {"platelets": Infinity}}', "findings.platelets must be a finite number"),
    ],
)
def test_d2_huge_integers_and_non_finite_numbers_are_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, needle: str
) -> None:
    path = _case_file(tmp_path, text)
    code, _, err = _run(capsys, "criteria", str(path))
    _assert_clear_error(code, err, needle)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"findings": {"vegf": ' + "[" * 50_000 + "]" * 50_000 + "}}",
        '{"findings": {"polyneuropathy": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}}",
    ],
)
def test_d3_deep_nesting_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    path = _case_file(tmp_path, text)
    code, _, err = _run(capsys, "criteria", str(path))
    _assert_clear_error(code, err, "nesting must be at most 32 levels")


def test_d4_dev_zero_is_refused_after_the_size_limit_not_read_whole(
    capsys: pytest.CaptureFixture[str],
) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero on this system")
    code, _, err = _run(capsys, "criteria", "/dev/zero")
    _assert_clear_error(code, err, "case file size must be at most 262144 bytes")


def test_d4_the_reader_stops_at_the_limit() -> None:
    class Endless:
        def __init__(self) -> None:
            self.read_sizes: list[int] = []

        def read(self, n: int = -1) -> bytes:
            self.read_sizes.append(n)
            assert n >= 0, "read whole"
            return b"\0" * n

    stream = Endless()
    with pytest.raises(CaseError, match="at most 100 bytes"):
        read_bounded("-", 100, what="case file", error=CaseError, stdin=stream)  # type: ignore[arg-type]
    assert stream.read_sizes == [101]


def test_d4_a_folder_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "criteria", str(tmp_path))
    _assert_clear_error(code, err, "case file must be a readable JSON file", "folder")


def test_d5_a_huge_unknown_id_is_not_echoed_in_full(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _case_file(tmp_path, json.dumps({"findings": {"x" * 100_000: "present"}}))
    code, _, err = _run(capsys, "criteria", str(path))
    _assert_clear_error(code, err, "finding id must be", "100,002 characters")


# ------------------------------------------------------------------ D6: terminal escapes
@pytest.mark.parametrize("command", ["criteria", "assess"])
def test_d6_the_case_id_reaches_the_terminal_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    evil = "\u001b[2J\u001b[31mPWNED\u001b[0m\r\nsecond line\u202e"
    path = _case_file(tmp_path, json.dumps({"id": evil, "findings": {}}))
    code, out, _ = _run(capsys, command, str(path))
    assert code == 0
    assert "\u001b" not in out and "\r" not in out and "\u202e" not in out
    header = next(line for line in out.splitlines() if line.startswith("Case "))
    assert "\\x1b[2J" in header and "\\r\\nsecond line" in header


def test_terminal_safe_keeps_ordinary_text() -> None:
    assert terminal_safe("Case Müller-17 (λ)") == "Case Müller-17 (λ)"
    assert terminal_safe("a\tb\x00\x07\x9b") == "a\\tb\\x00\\x07\\x9b"


# ------------------------------------------------------------------ D7: one consistency rule
@pytest.mark.parametrize(
    "findings",
    [
        {
            "organomegaly": "present",
            "hepatomegaly": "absent",
            "splenomegaly": "absent",
            "lymphadenopathy": "absent",
        },
        {"skin_changes": "present"}
        | {
            p: "absent"
            for p in (
                "hyperpigmentation",
                "hypertrichosis",
                "glomeruloid_hemangioma",
                "plethora",
                "acrocyanosis",
                "flushing",
                "white_nails",
                "skin_thickening",
            )
        },
    ],
)
def test_d7_criteria_and_assess_refuse_an_aggregate_present_with_every_part_absent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], findings: dict[str, str]
) -> None:
    base = {"polyneuropathy": "present", "monoclonal_protein": "present"}
    path = _case_file(tmp_path, json.dumps({"findings": base | findings}))
    aggregate = next(iter(findings))
    for command in ("criteria", "assess"):
        code, _, err = _run(capsys, command, str(path))
        _assert_clear_error(code, err, f"findings.{aggregate} must be consistent with its parts")
    with pytest.raises(CaseError):
        Case.from_dict({"findings": base | findings})


def test_d7_an_aggregate_with_some_parts_unknown_is_accepted() -> None:
    case = Case.from_dict(
        {
            "findings": {
                "organomegaly": "present",
                "hepatomegaly": "absent",
                "splenomegaly": "absent",
            }
        }
    )
    assert case.state("organomegaly") == "present"
    assert evaluate_all(case)["seed"].verdict in ("not_met", "indeterminate")


# ------------------------------------------------------------------ D8: in-range unit slips
def test_d8_vegf_in_ng_per_ml_that_is_really_pg_per_ml_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vegf = {"value": 80, "unit": "ng/mL", "specimen": "plasma"}
    path = _case_file(tmp_path, json.dumps({"findings": {"vegf": vegf}}))
    code, _, err = _run(capsys, "criteria", str(path))
    _assert_clear_error(code, err, "findings.vegf.value", "80000 pg/mL", "set unit to 'pg/mL'")


def test_d8_the_highest_reported_poems_vegf_is_still_accepted() -> None:
    case = Case.from_dict(
        {"findings": {"vegf": {"value": 11.029, "unit": "ng/mL", "specimen": "serum"}}}
    )
    assert case.vegf is not None and case.vegf.value_pg_ml == pytest.approx(11029)


# ------------------------------------------------------------------ P1-P4: priors
def _priors_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "priors"
    shutil.copytree(default_directory(), folder)
    return folder


@pytest.mark.parametrize(
    "tail",
    [
        "\n[zz]\nx = " + "[" * 20_000 + "]" * 20_000 + "\n",
        "\n[zz]\nx = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n",
        "\n[zz]\nx = " + "[" * 40 + "]" * 40 + "\n",
    ],
)
def test_p1_deeply_nested_toml_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tail: str
) -> None:
    folder = _priors_copy(tmp_path)
    with (folder / "references.toml").open("a", encoding="utf-8") as handle:
        handle.write(tail)
    case = str(EXAMPLES / "classic_poems.json")
    for argv in (("assess", case, "--priors", str(folder)), ("priors", "report")):
        argv = (*argv, "--priors", str(folder)) if argv[0] == "priors" else argv
        code, _, err = _run(capsys, *argv)
        _assert_clear_error(code, err, "references.toml", "nesting must be at most")


def test_p2_degenerate_base_rates_never_print_infinity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    priors = load_priors()
    states = tuple(priors.settings[next(iter(priors.settings))].distribution.probs)
    rates = {s: (1.0 if s == states[-1] else 0.0) for s in states}
    folder = tmp_path / "degenerate"
    folder.mkdir()
    priors.with_setting("degenerate", rates).to_toml_files(str(folder))
    path = _case_file(tmp_path, '{"findings": {}}')
    code, out, err = _run(
        capsys, "assess", str(path), "--json", "--priors", str(folder), "--setting", "degenerate"
    )
    assert code in (0, 2), err
    if code == 0:
        data = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in JSON output"))
        assert data["posterior_poems"] == 0.0
        assert data["about"]["priors"]["fingerprint"] == load_priors(folder).fingerprint


@pytest.mark.parametrize("n", ["1e-300", "1e-12", "0.5", "1e300", "1.7e308", "1" + "0" * 400])
def test_p3_the_effective_sample_size_is_bounded(tmp_path: Path, n: str) -> None:
    folder = _priors_copy(tmp_path)
    path = folder / "settings.toml"
    text = path.read_text(encoding="utf-8")
    assert re.search(r"^n = ", text, flags=re.M), "the test needs a setting with n"
    path.write_text(re.sub(r"^n = [^\n]+", f"n = {n}", text, count=1, flags=re.M), "utf-8")
    with pytest.raises(PriorsError, match=r"\.n must be a positive number \(effective sample"):
        load_priors(folder)


def test_p4_a_byte_order_mark_in_a_priors_file_is_read(tmp_path: Path) -> None:
    folder = _priors_copy(tmp_path)
    path = folder / "settings.toml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_priors(folder) == load_priors()


# ------------------------------------------------------------------ S2/S3: share links
def _link(text: str) -> str:
    import base64

    return LINK_PREFIX + base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "payload",
    [
        '{"findings":{"polyneuropathy":[]}}',
        '{"findings":{"polyneuropathy":{}}}',
        '{"age":1' + "0" * 400 + "}",
        '{"findings":{"platelets":1' + "0" * 5000 + "}}",
        '{"findings":{"polyneuropathy":"present","polyneuropathy":"absent"}}',
        "[" * 3000 + "]" * 3000,
    ],
)
def test_s2_a_crafted_link_is_a_case_error(payload: str) -> None:
    with pytest.raises(CaseError):
        decode_case(_link(payload))


# ------------------------------------------------------------------ helpers
def test_parse_json_depth_and_strict_json() -> None:
    assert depth({"a": [1, {"b": 2}]}) == 3
    assert (
        parse_json('{"a": 12345678901234567890123456789012345}', what="x")["a"]
        == 1.2345678901234568e34
    )
    assert json.dumps(strict_json({"a": [math.inf, -math.inf, math.nan, 1.5]})) == (
        '{"a": [null, null, null, 1.5]}'
    )


_json_values: Any = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(
            ["polyneuropathy", "organomegaly", "light_chain", "platelets", "vegf", "hemoglobin"]
        ),
        _json_values,
        max_size=4,
    ),
    st.dictionaries(st.sampled_from(["id", "age", "sex", "setting"]), _json_values, max_size=2),
)
def test_generated_malformed_cases_are_accepted_or_a_poems_error(
    findings: dict[str, Any], top: dict[str, Any]
) -> None:
    """Property: any JSON value in any field gives a valid case or a PoemsError, never another
    exception (the CLI turns a PoemsError into exit 2)."""
    text = json.dumps(top | {"findings": findings})
    try:
        case = Case.from_json(text)
    except PoemsError as err:
        assert str(err)
        return
    evaluate_all(case)


def test_d10_a_platelet_count_per_litre_gets_the_per_litre_hint() -> None:
    with pytest.raises(
        CaseError, match=r"count per litre: 5\.2e\+11/L = 520 x 10\^9/L\. Enter 520"
    ):
        Case.from_dict({"findings": {"platelets": 5.2e11}})


@settings(
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.dictionaries(
        st.sampled_from(["polyneuropathy", "organomegaly", "heavy_chain", "platelets", "vegf"]),
        _json_values,
        min_size=1,
        max_size=3,
    )
)
def test_the_cli_exits_0_or_2_with_one_line_on_generated_case_files(
    tmp_path_factory: pytest.TempPathFactory, findings: dict[str, Any]
) -> None:
    """Property: ``poems criteria`` on any generated case file exits 0, or 2 with one line
    on stderr; never 1 (an internal error)."""
    import contextlib
    import io

    path = tmp_path_factory.mktemp("fuzz") / "case.json"
    path.write_text(json.dumps({"findings": findings}), encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["criteria", str(path), "--quiet"])
    assert code in (0, 2), err.getvalue()
    if code == 2:
        assert err.getvalue().count("\n") == 1 and "internal error" not in err.getvalue()


def test_deep_nesting_is_refused_before_the_parser_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A parser that hits Python's recursion limit can leave CPython 3.11's recursion counter
    wrong (the next ``ast.parse`` in the process - Streamlit compiling a page - then fails),
    so too-deep JSON and TOML are refused from the text, before any parser sees them."""
    import tomllib

    from model import inputs
    from model.exceptions import InputError

    def never(*_: object, **__: object) -> None:
        raise AssertionError("the parser was called")

    monkeypatch.setattr(json, "loads", never)
    monkeypatch.setattr(tomllib, "loads", never)
    with pytest.raises(InputError, match="nesting"):
        inputs.parse_json("[" * 5000 + "]" * 5000, what="case")
    with pytest.raises(InputError, match="nesting"):
        inputs.parse_toml("a = " + "[" * 5000 + "]" * 5000)
    # brackets inside strings and comments do not count
    monkeypatch.undo()
    assert inputs.parse_json('{"a": "' + "[" * 100 + '"}', what="case") == {"a": "[" * 100}
    assert inputs.parse_toml("# " + "[" * 100 + "\nb = 1") == {"b": 1}
