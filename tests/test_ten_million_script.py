"""``scripts/ten_million.py`` at a small size: the file it makes has the rows asked for, with
fresh ids, and its report says every row came out, in order."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "ten_million.py"


def _script() -> object:
    spec = importlib.util.spec_from_file_location("ten_million", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_small_run_reports_every_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = _script()
    assert script.main(["--rows", "2500", "--base-rows", "1000", "--folder", str(tmp_path)]) == 0  # type: ignore[attr-defined]
    figures = json.loads(capsys.readouterr().out)
    assert figures["rows"] == figures["rows_written"] == 2500 and figures["ids_in_order"]
    assert figures["cpu_s"] > 0 and figures["peak_added_mb"] >= 0
    assert not any(tmp_path.iterdir())  # removed without --keep


def test_the_file_repeats_the_rows_with_fresh_ids(tmp_path: Path) -> None:
    script = _script()
    path = tmp_path / "cohort.parquet"
    script.write_cohort(path, 2500, 1000, seed=3)  # type: ignore[attr-defined]
    table = pq.read_table(path)
    assert table.num_rows == 2500
    assert table.column("id").to_pylist() == [f"r{i}" for i in range(2500)]
    first, again = table.slice(0, 500).drop_columns(["id"]), table.slice(1000, 500)
    assert first.equals(again.drop_columns(["id"]))
    assert str(table.schema.field("sex").type) in ("string", "large_string")
