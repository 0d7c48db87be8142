"""The command line follows the usual conventions: ``--version``, ``-`` for stdin/stdout,
``--quiet``, data on stdout and status on stderr, strict JSON with its provenance, and no
library warning on the user's terminal."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from model.cli import main
from model.cli.common import OUTPUT_SCHEMA_VERSION
from model.constants import DEFAULT_SETTING
from model.parameters import load_priors

ROOT = Path(__file__).parents[1]
CLASSIC = ROOT / "examples" / "classic_poems.json"


def _poems(*argv: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "model", *argv],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )


def test_version_answers_without_importing_a_subcommand() -> None:
    probe = (
        "import sys; from model.cli import main; code = main(['--version']); "
        "print(sorted(m for m in sys.modules if m.startswith('model.')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    first, loaded = proc.stdout.splitlines()
    assert first == f"poems {metadata.version('poems-dx')}"
    assert "model.cli.assess" not in loaded and "model.network" not in loaded
    assert "pgmpy" not in proc.stdout


def test_version_after_options_goes_through_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["-q", "--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("poems ")


def test_a_case_is_read_from_standard_input() -> None:
    proc = _poems("criteria", "-", "--json", stdin=CLASSIC.read_bytes())
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["seed"]["verdict"] == "met"
    proc = _poems("criteria", "-", stdin=b'{"findings": {"hepatomegaly": []}}')
    assert proc.returncode == 2
    assert b"<stdin>: findings.hepatomegaly must be" in proc.stderr


def test_export_to_standard_output_is_the_file_alone() -> None:
    proc = _poems("export", "--format", "xmlbif", "-o", "-")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.lstrip().startswith(b"<?xml")
    assert proc.stdout.rstrip().endswith(b"</BIF>")
    assert b"Wrote" not in proc.stdout
    # status on stderr, and nothing else there: no library warning reaches the user
    assert proc.stderr.decode().strip() == (
        f"Wrote xmlbif network for setting '{DEFAULT_SETTING}' to standard output"
    )
    quiet = _poems("export", "--format", "xmlbif", "-o", "-", "--quiet")
    assert quiet.stderr == b"" and quiet.stdout == proc.stdout
    assert not (ROOT / "-").exists()


def test_simulate_has_a_default_setting_and_batch_pipes_through_stdio(tmp_path: Path) -> None:
    simulated = _poems("simulate", "--n", "30", "--seed", "3", "-o", "-", "-q")
    assert simulated.returncode == 0, simulated.stderr
    assert simulated.stderr == b""
    rows = list(csv.DictReader(io.StringIO(simulated.stdout.decode())))
    assert len(rows) == 30 and "true_diagnosis" in rows[0]
    scored = _poems("batch", "-", "-o", "-", "--quiet", stdin=simulated.stdout)
    assert scored.returncode == 0, scored.stderr
    assert scored.stderr == b""
    out = list(csv.DictReader(io.StringIO(scored.stdout.decode())))
    assert len(out) == 30
    assert all(0.0 <= float(r["posterior_poems"]) <= 1.0 for r in out)


def test_json_outputs_carry_version_schema_and_priors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assess", str(CLASSIC), "--json"]) == 0
    about = json.loads(capsys.readouterr().out)["about"]
    assert about["tool"] == "poems-dx"
    assert about["version"] == metadata.version("poems-dx")
    assert about["schema_version"] == OUTPUT_SCHEMA_VERSION
    assert about["priors"]["fingerprint"] == load_priors().fingerprint
    assert main(["vocabulary", "--json"]) == 0
    vocabulary = json.loads(capsys.readouterr().out)
    assert vocabulary["about"]["schema_version"] == OUTPUT_SCHEMA_VERSION
    assert {row["id"] for row in vocabulary["rows"]} >= {"polyneuropathy", "vegf"}


def test_quiet_works_before_and_after_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "net.bif"
    for argv in (["-q", "export"], ["export", "-q"]):
        assert main([*argv, "--format", "bif", "-o", str(target)]) == 0
        assert capsys.readouterr().err == ""
        assert target.read_text(encoding="utf-8").startswith("network")


HEAVY_MODULES = ("scipy.stats", "pandas", "pgmpy")
"""Libraries a command must not load unless it needs them (each costs a second or more)."""


def _loaded_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return set(proc.stdout.split())


@pytest.mark.parametrize(
    "code",
    [
        "import model.cli",
        "from model.cli import main; main(['--version'])",
        f"from model.cli import main; main(['assess', {str(CLASSIC)!r}])",
        f"from model.cli import main; main(['criteria', {str(CLASSIC)!r}])",
    ],
    ids=["import", "version", "assess", "criteria"],
)
def test_a_command_loads_no_library_it_does_not_need(code: str) -> None:
    loaded = _loaded_after(code)
    assert "model" in loaded or "model.cli" in loaded
    assert not loaded.intersection(HEAVY_MODULES), sorted(loaded.intersection(HEAVY_MODULES))
