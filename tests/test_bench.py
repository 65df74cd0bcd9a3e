"""The benchmark runner: every script's figures collected with same-run baselines; the README table."""

from __future__ import annotations

from pathlib import Path

import pytest

from coop import bench
from coop.errors import CoopError

ROOT = Path(__file__).resolve().parents[1]

KEYS = {"bench", "name", "value", "unit", "baseline", "baseline_value", "ratio", "goal", "met"}


@pytest.fixture(scope="module")
def result() -> dict[str, object]:
    """The LP and ingest benchmarks at a small size (the real runs are `python -m coop bench`)."""
    return bench.run(rows=4000, only=("lp", "ingest"), bench_dir=ROOT / "bench")


def test_figures_carry_their_same_run_baseline(result: dict[str, object]) -> None:
    figures = result["figures"]
    assert {f["bench"] for f in figures} == {"lp", "ingest"}
    for f in figures:
        assert set(f) == KEYS
        assert f["baseline_value"] > 0
        assert f["ratio"] == pytest.approx(f["value"] / f["baseline_value"])
    assert result["rows"] == 4000 and result["machine"]["cpus"] >= 1


def test_invalid_file_is_refused_with_every_bad_row_named(result: dict[str, object]) -> None:
    details = result["details"]["ingest"]["invalid"]
    assert details["expected"] == 40  # 1% of 4,000
    assert details["rows_named"] == 40 and details["all_named"] and details["rows_in_db"] == 0
    assert {"not a date", "not a number", "required value is empty"} <= set(details["reasons"])
    (figure,) = [f for f in result["figures"] if "invalid" in f["name"]]
    assert figure["met"] is True


def test_table_has_a_row_per_figure(result: dict[str, object]) -> None:
    lines = bench.table(result).splitlines()
    assert len(lines) == 2 + len(result["figures"])
    assert all(line.startswith("|") and line.endswith("|") and line.count("|") == 7 for line in lines)


def test_unknown_benchmark_is_a_named_error() -> None:
    with pytest.raises(CoopError, match="no benchmark named nope"):
        bench.run(only=("nope",))


def test_a_missing_bench_folder_is_a_named_error(tmp_path) -> None:
    with pytest.raises(CoopError, match="run from the coop checkout or pass --bench-dir"):
        bench.run(only=("lp",), bench_dir=tmp_path)
