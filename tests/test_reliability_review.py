"""The reliability review's reproductions, one row each, run against the current code.

The review (design notes, "reliability and security test") lists every defect with a
one-line reproduction: D = case files, P = priors, C = cohorts, R = reports, S = the app.
Each case below cites its item in a comment. The CLI rows run ``poems`` in a subprocess, as
the reviewer did: a bad input must end with exit 2 and one line on stderr that names the
field, the value and what is allowed - never exit 1 ("internal error") or a traceback. The
app rows use Streamlit's ``AppTest``. Reproductions already tested elsewhere are listed in
``docs/reliability.md`` with the test that covers them and not repeated here.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from model.case import Case
from model.cli import main
from model.exceptions import CaseError
from model.inputs import no_autolink, printable
from model.parameters import default_directory, load_priors
from model.vocabulary import FINDINGS, Kind

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
POEMS = [sys.executable, "-m", "model"]
ESC = "\u001b"


def _poems(*argv: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """``poems ARGV`` in its own process, run the way a user runs it."""
    env = {**os.environ, "POEMS_DEBUG": ""}
    return subprocess.run(
        [*POEMS, *argv], cwd=ROOT, capture_output=True, input=stdin, env=env, timeout=300
    )


def _clear_error(result: subprocess.CompletedProcess[bytes], *needles: str) -> str:
    """Exit 2, one printable line on stderr, containing every needle."""
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, (result.returncode, err)
    assert "internal error" not in err and "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert len(lines[0]) < 600, f"message of {len(lines[0])} characters"
    assert ESC not in err and "\r" not in err, repr(err)
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def _write(tmp_path: Path, text: str, name: str = "case.json") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ area 1: case files
CASE_FILE_ERRORS = [
    # D1: a list or an object where a state is expected (was exit 1, TypeError)
    ('{"findings":{"hepatomegaly":[]}}', "findings.hepatomegaly must be 'present'"),
    ('{"findings":{"hepatomegaly":{}}}', "Got {} instead"),
    # D2: an integer of 310+ digits (OverflowError) and of 4,300+ digits (ValueError)
    ('{"age":1' + "0" * 400 + "}", "age must be a finite number in years. Got a 401-digit"),
    ('{"age":1' + "0" * 5000 + "}", "Got a 5001-digit number"),
    # D3: deep nesting inside the 256 KiB cap (RecursionError)
    ("[" * 100_000 + "]" * 100_000, "nesting must be at most 32 levels"),
    # D5: a 100,000-character unknown id is not echoed in full
    (json.dumps({"findings": {"x" * 100_000: "present"}}), "(100,002 characters)"),
    # D5/D6 (found again while checking): an unknown sub-key is user text in the key path
    (
        json.dumps({"findings": {"vegf": {"value": 1, "\u001b[2Jx\r\n" + "y" * 900: 1}}}),
        "findings.vegf.\\x1b[2Jx\\r\\n",
    ),
    # D8: an ng/mL/pg/mL slip inside the old plausible range (80 "ng/mL" = 930 x ULN)
    (
        '{"findings":{"vegf":{"value":80,"unit":"ng/mL","specimen":"plasma"}}}',
        "set unit to 'pg/mL'",
    ),
    # D8 (beyond ranges): a value with a unit that makes it implausible names the likely unit
    ('{"findings":{"hemoglobin":{"value":8.4,"unit":"g/L"}}}', "set unit to 'g/dL'"),
    ('{"findings":{"hematocrit":{"value":45,"unit":"L/L"}}}', "set unit to '%'"),
    ('{"findings":{"platelets":{"value":520,"unit":"/uL"}}}', "set unit to '10*9/L'"),
    ('{"findings":{"sclerotic_lesion_size_cm":{"value":35,"unit":"cm"}}}', "set unit to 'mm'"),
    # D10: a count per litre gets the per-litre hint (was "per microlitre ... 5.2e+08")
    ('{"findings":{"platelets":5.2e11}}', "count per litre: 5.2e+11/L = 520 x 10^9/L"),
    # D7: an aggregate present with every part absent
    (
        json.dumps(
            {
                "findings": {
                    "polyneuropathy": "present",
                    "monoclonal_protein": "present",
                    "organomegaly": "present",
                    "hepatomegaly": "absent",
                    "splenomegaly": "absent",
                    "lymphadenopathy": "absent",
                }
            }
        ),
        "findings.organomegaly must be consistent with its parts",
    ),
]


@pytest.mark.parametrize(("text", "needle"), CASE_FILE_ERRORS)
def test_case_file_reproductions_are_clear_errors_in_a_subprocess(
    tmp_path: Path, text: str, needle: str
) -> None:
    _clear_error(_poems("criteria", str(_write(tmp_path, text))), needle)


def test_d4_dev_zero_is_refused_after_the_limit() -> None:
    # D4: the file was read whole before the size check (MemoryError under a ulimit)
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    _clear_error(_poems("criteria", "/dev/zero"), "case file size must be at most 262144 bytes")


def test_d6_control_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    # D6: the case id was printed raw (ANSI escapes clear the screen, CR/LF split the header)
    evil = "\u001b[2J\u001b[31mPWNED\u001b[0m a\r\nb\u202e"
    path = _write(tmp_path, json.dumps({"id": evil, "findings": {}}))
    result = _poems("criteria", str(path))
    assert result.returncode == 0
    out = result.stdout.decode()
    assert ESC not in out and "\r" not in out and "\u202e" not in out
    assert out.splitlines()[0].startswith("Case \\x1b[2J\\x1b[31mPWNED")
    # ... nor from a file name quoted in an error message
    bad = _write(tmp_path, '{"findings":{"hepatomegaly":[]}}', name="a\u001b[31mb.json")
    _clear_error(_poems("criteria", str(bad)), "a\\x1b[31mb.json")


def test_d8_a_bare_number_is_read_in_the_documented_unit_and_says_so(tmp_path: Path) -> None:
    # D8: Hb 8.4 (meant as mmol/L), marrow plasma cells 0.05 (a fraction) and a lesion of 14
    # (mm) are each a plausible value in the documented unit, so they cannot be refused;
    # they are no longer silent: a notice names the unit, and a unit can be given.
    for finding, value, unit in (
        ("hemoglobin", 8.4, "g/dL"),
        ("bone_marrow_plasma_cells_pct", 0.05, "%"),
        ("sclerotic_lesion_size_cm", 14, "cm"),
    ):
        path = _write(tmp_path, json.dumps({"sex": "male", "findings": {finding: value}}))
        result = _poems("criteria", str(path))
        assert result.returncode == 0
        assert f"note: {finding} {value:g} was read as {unit} (no unit given)" in (
            result.stderr.decode()
        )
    mmol = Case.from_dict({"findings": {"hemoglobin": {"value": 8.4, "unit": "mmol/L"}}})
    assert mmol.number("hemoglobin") == pytest.approx(13.536, abs=1e-3)
    fraction = {"bone_marrow_plasma_cells_pct": {"value": 0.05, "unit": "1"}}
    assert Case.from_dict({"findings": fraction}).number("bone_marrow_plasma_cells_pct") == 5


def test_d11_criteria_refuses_the_setting_that_assess_refuses(tmp_path: Path) -> None:
    # D11: the criteria never read the setting, but a case file is valid or it is not, so
    # `criteria` refuses an unknown setting as `assess` does (exit 2, one line naming the
    # field, the value, the settings of the priors and the fix).
    path = _write(tmp_path, '{"setting": "icu", "findings": {}}')
    for command in ("criteria", "assess"):
        code, err = _in_process(command, str(path))
        assert code == 2 and err.count("\n") == 1, (command, err)
        assert "setting must be one of neuropathy_clinic" in err and "Got 'icu'" in err
    code, err = _in_process("criteria", str(path))
    assert "Remove 'setting'" in err
    known = _write(tmp_path, '{"setting": "hematology_clinic", "findings": {}}')
    assert _in_process("criteria", str(known))[0] == 0


# ------------------------------------------------------------------ area 2: the two commands
def _in_process(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main([*argv, "--quiet"])
    return code, err.getvalue()


def _value(finding: str) -> Any:
    spec = FINDINGS[finding]
    if spec.kind is Kind.NUMBER:
        assert spec.plausible is not None
        low, high = spec.plausible
        return st.floats(low - 1, high * 3, allow_nan=False) | st.just("unknown")
    if spec.kind is Kind.MEASUREMENT:
        return st.fixed_dictionaries(
            {
                "value": st.floats(1, 40_000, allow_nan=False),
                "unit": st.sampled_from(["pg/mL", "ng/mL"]),
                "specimen": st.sampled_from(["serum", "plasma"]),
            }
        )
    return st.sampled_from([*spec.states, "unknown", "yes"])


_SETTINGS = tuple(load_priors().settings)
_cases: Any = st.fixed_dictionaries(
    {
        "findings": st.lists(st.sampled_from(sorted(FINDINGS)), max_size=7, unique=True).flatmap(
            lambda ids: st.fixed_dictionaries({i: _value(i) for i in ids})
        )
    },
    optional={
        "sex": st.sampled_from(["male", "female", "other"]),
        "age": st.integers(-5, 130),
        "setting": st.sampled_from([*_SETTINGS, "icu", "hematology_clinc"]),  # D11
    },
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(_cases)
@example(  # D7: the reviewer's case (organomegaly present, every part absent)
    {
        "findings": {
            "organomegaly": "present",
            "hepatomegaly": "absent",
            "splenomegaly": "absent",
            "lymphadenopathy": "absent",
        }
    }
)
@example({"findings": {"platelets": 650, "thrombocytosis": "absent"}})
@example({"findings": {"light_chain": "lambda", "monoclonal_protein": "absent"}})
@example({"sex": "female", "findings": {"hemoglobin": 16.2, "polycythemia": "absent"}})
@example({"setting": "icu", "findings": {}})  # D11: an unknown setting, refused by both
def test_criteria_and_assess_accept_and_refuse_the_same_cases(
    tmp_path_factory: pytest.TempPathFactory, data: dict[str, Any]
) -> None:
    """Property (area 2: 7 cases were accepted by ``criteria`` and refused by ``assess``):
    over generated cases - aggregates with their parts, derived blood findings with their
    values, typed chains with the M-protein, out-of-range numbers - both commands exit 0,
    or both exit 2 with one line."""
    path = tmp_path_factory.mktemp("agree") / "case.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    criteria, criteria_err = _in_process("criteria", str(path))
    assess, assess_err = _in_process("assess", str(path))
    assert criteria in (0, 2) and assess in (0, 2), (criteria_err, assess_err)
    assert criteria == assess, (data, criteria_err, assess_err)
    if criteria == 2:
        assert criteria_err.count("\n") == assess_err.count("\n") == 1


# ------------------------------------------------------------------ strict JSON everywhere
NOT_OUTPUT_JSON = {
    "model/case.py": "an example object inside an error message",
    "model/case_schema.py": "the static JSON Schema (no numbers computed)",
    "model/parameters/writer.py": "TOML string and key escaping (strings only)",
}
"""Files whose ``json.dumps`` does not write a program's output, each with the reason."""


def test_every_json_output_refuses_nan_and_infinity() -> None:
    # P2 and issue 15 item 5: JSON output is always strict (RFC 8259 has no NaN/Infinity).
    # Every json.dumps in the program passes allow_nan=False, except the listed non-outputs.
    loose = []
    files = [*ROOT.glob("model/**/*.py"), *ROOT.glob("ui/*.py"), *ROOT.glob("pages/*.py")]
    for path in [*files, ROOT / "app.py"]:
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("dump", "dumps")
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "json"
            ):
                continue
            strict = any(
                k.arg == "allow_nan" and getattr(k.value, "value", None) is False
                for k in node.keywords
            )
            if not strict and rel not in NOT_OUTPUT_JSON:
                loose.append(f"{rel}:{node.lineno}")
    assert loose == [], f"json.dumps without allow_nan=False: {loose}"


# ------------------------------------------------------------------ area 3: priors
def test_p1_deep_toml_in_a_priors_zip_is_an_error_on_the_compare_page() -> None:
    # P1 / S4: a priors zip holding a deeply nested TOML showed an exception box (RecursionError)
    source = default_directory()
    texts = {p.name: p.read_text(encoding="utf-8") for p in source.glob("*.toml")}
    texts["references.toml"] += "\n[zz]\nx = " + "[" * 20_000 + "]" * 20_000 + "\n"
    at = _page("6_Compare_priors.py")
    at.radio(key="cmp_mode").set_value("Upload a prior set (zip)").run()
    at.file_uploader(key="cmp_upload").set_value(("deep.zip", _zip(texts), "application/zip"))
    at.run()
    assert not at.exception
    assert any("nesting must be at most" in e.value for e in at.error), [e.value for e in at.error]
    assert all("/tmp" not in e.value and str(ROOT) not in e.value for e in at.error)


# ------------------------------------------------------------------ area 4: cohorts
def _batch(tmp_path: Path, text: str | bytes, suffix: str = ".csv") -> tuple[int, str, str]:
    source = tmp_path / "cohort.csv"
    if isinstance(text, str):
        source.write_text(text, encoding="utf-8")
    else:
        source.write_bytes(text)
    output = tmp_path / f"out{suffix}"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["batch", str(source), "-o", str(output), "--no-progress"])
    body = output.read_text(encoding="utf-8") if output.exists() and suffix == ".csv" else ""
    return code, body, err.getvalue()


def test_c5_a_header_only_csv_without_a_final_newline_is_accepted(tmp_path: Path) -> None:
    # C5: "id,polyneuropathy" with no newline was refused as "not a comma-separated file"
    code, body, err = _batch(tmp_path, "id,polyneuropathy")
    assert code == 0, err
    assert body.startswith('"id","posterior_poems"') and len(body.splitlines()) == 1
    assert "0 rows in" in err


@pytest.mark.parametrize(
    ("cell", "column"),
    [("4_50", "platelets"), ("\u0665\u0662\u0660", "platelets"), ("\uff14\uff15\uff10", "age")],
)
def test_c7_a_number_python_reads_but_a_lab_never_writes_is_that_rows_error(
    tmp_path: Path, cell: str, column: str
) -> None:
    # C7: float() read "4_50" as 450 and Arabic-Indic digits as 520, with no error
    good = {"platelets": "450", "age": "45"}[column]
    code, body, err = _batch(tmp_path, f"id,{column}\nbad,{cell}\ngood,{good}\n")
    assert code == 0, err
    rows = body.splitlines()
    assert f"row 1: {column} must be a plain decimal number" in rows[1]
    assert rows[2].startswith('"good",0.') and rows[2].endswith('""')
    assert "1 with an error" in err


def test_c7_exponents_and_signs_stay_numbers(tmp_path: Path) -> None:
    # C7: '1e1' is a legitimate decimal (spreadsheets write large numbers so): still read
    code, body, _ = _batch(tmp_path, "id,age,platelets\na,1e1,+520.0\n")
    assert code == 0 and body.splitlines()[1].endswith('""')


def test_c8_formula_cells_are_defused_in_csv_output(tmp_path: Path) -> None:
    # C8: an id '=HYPERLINK("http://evil.example/x","click")' reached the output CSV unchanged
    text = 'id,polyneuropathy\n"=HYPERLINK(""http://evil.example/x"",""c"")",present\n'
    text += "+cmd,\n@sum,\n-2+3,\n-5,\nplain,\n"
    code, body, _ = _batch(tmp_path, text)
    assert code == 0
    import csv

    ids = [row[0] for row in csv.reader(io.StringIO(body))][1:]
    formula = '\'=HYPERLINK("http://evil.example/x","c")'
    assert ids == [formula, "'+cmd", "'@sum", "'-2+3", "-5", "plain"]
    # Parquet output keeps the text as given (no spreadsheet runs it)
    import pandas as pd

    _batch(tmp_path, text, suffix=".parquet")
    assert pd.read_parquet(tmp_path / "out.parquet")["id"].iloc[0].startswith("=HYPERLINK(")


def test_c9_thousands_of_unknown_columns_give_a_few_lines(tmp_path: Path) -> None:
    # C9: 5,000 unknown columns printed 5,000 warning lines
    header = ",".join(["id", *(f"junk{i}" for i in range(5000)), "polyneuropathy"])
    code, _, err = _batch(tmp_path, header + "\na" + "," * 5000 + ",present\n")
    assert code == 0
    lines = err.strip().splitlines()
    assert len(lines) <= 13, len(lines)
    assert "4990 more columns are not part of the cohort format" in err


# ------------------------------------------------------------------ area 5a: reports
@pytest.mark.parametrize("fmt", ["html", "markdown"])
def test_r_control_characters_and_bare_urls_in_a_report(fmt: str) -> None:
    # Area 5a minor issues: NUL, BEL and ESC passed into both formats; a bare http:// id
    # would autolink in GitHub-flavoured Markdown viewers
    from model.assessment import assess
    from model.report import render_report

    case = Case.from_dict({"id": "a\x00b\x07c\x1b[31m http://evil.example/x", "findings": {}})
    report = render_report(assess(case), fmt)
    assert not any(c in report for c in "\x00\x07\x1b")
    assert "\\x1b" in report and "\\x00" in report
    assert "http://evil.example" not in report  # a word joiner sits inside '://'
    # the report's own citation links are untouched
    assert "http\u2060" not in render_report(assess(Case.load(EXAMPLES / "classic_poems.json")))


def test_printable_and_no_autolink_keep_the_text_readable() -> None:
    assert printable("a\tb\nc\x00\x1b\u202e") == "a\tb\nc\\x00\\x1b\\u202e"
    assert no_autolink("see http://x and WWW.y and mailto:z") == (
        "see http:\u2060//x and WWW\u2060.y and mailto:z"
    )
    assert no_autolink("no link here: 3:45 //") == "no link here: 3:45 //"


# ------------------------------------------------------------------ area 5b/5c: the app
def _apptest(script: str) -> Any:
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(ROOT / script), default_timeout=30)


def _page(name: str) -> Any:
    at = _apptest(f"pages/{name}")
    at.run()
    assert not at.exception
    return at


def _zip(texts: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in texts.items():
            archive.writestr(f"priors/{name}", text)
    return buffer.getvalue()


def _link(payload: str) -> str:
    from ui.state import LINK_PREFIX

    return LINK_PREFIX + base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "payload",
    [
        '{"findings":{"polyneuropathy":{}}}',  # S2: an object as the value
        '{"findings":{"platelets":1' + "0" * 400 + "}}",  # S2: a 400-digit platelet count
    ],
)
def test_s2_a_crafted_link_leaves_the_session_usable(payload: str) -> None:
    # S2: the session stayed broken (KeyError on every rerun) until the link was removed
    from ui.state import LINK_PARAM

    at = _apptest("app.py")
    at.query_params[LINK_PARAM] = _link(payload)
    at.run()
    assert not at.exception and at.error
    at.run()
    assert not at.exception
    at.switch_page("pages/1_Network.py").run()
    assert not at.exception


@pytest.mark.parametrize(
    "content",
    [
        b'{"findings": {"polyneuropathy": []}}',  # S4: a list value
        b'{"age": 1' + b"0" * 400 + b"}",  # S4: a 400-digit integer
        b'{"age": 1' + b"0" * 5000 + b"}",  # S4: a 5,000-digit integer
        b"[" * 100_000 + b"]" * 100_000,  # S4: 100k-deep nesting
    ],
)
def test_s4_hostile_uploads_and_pastes_are_errors_not_exception_boxes(content: bytes) -> None:
    # S4: each showed a redacted exception box and the sidebar disappeared
    at = _apptest("app.py")
    at.run()
    at.file_uploader(key="case_upload").set_value(("x.json", content, "application/json"))
    at.run()
    assert not at.exception and at.error
    assert at.sidebar.segmented_control  # the sidebar is still there
    at.file_uploader(key="case_upload").set_value(None).run()
    at.text_area(key="case_paste").set_value(content.decode())
    at.button(key="load_pasted").click().run()
    assert not at.exception and at.error


def test_s6_a_url_in_a_message_is_not_a_link() -> None:
    # S6: plain() escaped [, ] and : but a URL in a value still rendered as <a href=...>;
    # Streamlit links bare URLs after Markdown escapes are resolved, so the text must not
    # hold a bare '://' at all
    at = _apptest("app.py")
    at.run()
    hostile = '{"findings": {"polyneuropathy": "![x](http://127.0.0.1:9/v.png)"}}'
    at.text_area(key="case_paste").set_value(hostile)
    at.button(key="load_pasted").click().run()
    shown = [e.value for e in at.error]
    assert len(shown) == 1 and "127.0.0.1" in shown[0]
    assert "://" not in shown[0] and "![" not in shown[0]


def test_s7_the_compare_page_offers_no_server_folder() -> None:
    # S7: the folder mode read any server path typed into it (/etc, /proc/self ...)
    at = _page("6_Compare_priors.py")
    modes = at.radio(key="cmp_mode").options
    assert modes and not any("folder" in m.lower() or "path" in m.lower() for m in modes)
    assert not at.main.text_input  # nowhere on the page to type a path
    shown = " ".join(m.value for m in [*at.markdown, *at.caption, *at.info])
    assert str(default_directory()) not in shown


# ------------------------------------------------------------------ the Evaluation page
# The Evaluation page reads an uploaded cohort through the same robust reader as
# ``poems batch`` (C1-C4 on the page): Excel's BOM, a semicolon, a ragged row.


def _evaluate_upload(csv: bytes) -> Any:
    at = _page("5_Evaluation.py")
    at.radio(key="ev_source").set_value("Upload a cohort").run()
    at.file_uploader(key="ev_upload").set_value(("c.csv", csv, "text/csv")).run()
    assert not at.exception
    return at


def _labelled(sep: str = ",") -> str:
    rows = [
        ["id", "true_diagnosis", "polyneuropathy", "monoclonal_protein"],
        ["p1", "poems", "present", "present"],
        ["p2", "cidp", "present", "absent"],
        ["p3", "poems", "present", "present"],
        ["p4", "cidp", "present", "absent"],
    ]
    return "\n".join(sep.join(r) for r in rows) + "\n"


def _headline(at: Any) -> str:
    at.button(key="ev_run").click().run()
    assert not at.exception, at.exception
    return next(m.value for m in at.markdown if " rows, " in m.value and "scored" in m.value)


@pytest.mark.parametrize(
    "csv",
    [
        pytest.param(b"\xef\xbb\xbf" + _labelled().encode(), id="C2-bom"),
        pytest.param(_labelled(";").encode(), id="C3-semicolon"),
        pytest.param(_labelled("\t").encode(), id="C3-tab"),
    ],
)
def test_evaluation_upload_finds_the_columns_of_an_excel_style_csv(csv: bytes) -> None:
    at = _evaluate_upload(csv)
    assert at.selectbox(key="ev_label").value == "true_diagnosis"
    assert _headline(at).startswith("4 rows, 4 scored (0 left out)")


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param("p2,cidp,present,absent,extra", id="C1-extra-cell"),
        pytest.param('p2,cidp,"present,absent', id="C1-open-quote"),
    ],
)
def test_evaluation_upload_keeps_every_row_of_a_ragged_csv(damage: str) -> None:
    lines = _labelled().splitlines()
    lines[2] = damage
    at = _evaluate_upload(("\n".join(lines) + "\n").encode())
    assert at.selectbox(key="ev_label").value == "true_diagnosis"
    assert _headline(at).startswith("4 rows, 3 scored (1 left out)")


def test_evaluation_upload_with_a_latin1_byte_keeps_every_row() -> None:
    # C4 on the page: one non-UTF-8 byte lost the whole file. An upload that is not UTF-8 is
    # read as cp1252 (what Excel on Windows writes), the caption says so, and every row scores.
    csv = _labelled().replace("p3", "M\xfcller").encode("latin-1")
    at = _evaluate_upload(csv)
    assert any("cp1252" in c.value for c in at.main.caption)
    assert _headline(at).startswith("4 rows, 4 scored (0 left out)")


def test_a_case_error_is_one_case_error() -> None:
    """The error type every reproduction above ends in (so the CLI maps it to exit 2)."""
    with pytest.raises(CaseError, match="Got a 401-digit number"):
        Case.from_json('{"age": 1' + "0" * 400 + "}")
