"""`python -m coop bench`: run every benchmark script in bench/ and gather its figures and same-run baselines.

The scripts live in the checkout's `bench/` folder, beside the app they also time (`pages/`), not in the package:
like the database's default `data/coop.duckdb`, the folder is found from the working directory (or given).

Each script runs in its own process (so peak memory is its own) with `--json` and prints one JSON object
whose `figures` list holds `{name, value, unit, baseline, baseline_value, ratio, goal, met}`; this module
only runs them and collects what they print, it measures nothing itself.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from coop.errors import CoopError

BENCH_DIR = Path("bench")  # relative to the working directory: the coop checkout
# (script, extra arguments; "{rows}", "{metrics_rows}" and "{districts}" are replaced by the run's sizes)
SCRIPTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ingest.py", ("--rows", "{rows}")),
    ("metrics.py", ("--rows", "{metrics_rows}")),
    ("lp.py", ()),
    ("classify.py", ()),
    ("pool.py", ("--max-districts", "{districts}")),
)
NAMES: tuple[str, ...] = tuple(script.removesuffix(".py") for script, _ in SCRIPTS)
DEFAULT_ROWS = 1_000_000  # the ingest goal is stated for a 1M-line file
DEFAULT_METRICS_ROWS = 10_000_000  # the metrics goal is stated for 10M lines
DEFAULT_DISTRICTS = 200


def machine() -> dict[str, object]:
    """The machine the figures come from."""
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def run(
    *,
    rows: int = DEFAULT_ROWS,
    metrics_rows: int = DEFAULT_METRICS_ROWS,
    districts: int = DEFAULT_DISTRICTS,
    only: tuple[str, ...] = (),
    bench_dir: Path = BENCH_DIR,
    progress: Callable[[float, str], None] | None = None,
) -> dict[str, object]:
    """Run the benchmark scripts (all, or those named in `only`) and return every figure with its baseline."""
    missing = [s for s, _ in SCRIPTS if not (Path(bench_dir) / s).is_file()]
    if missing:
        raise CoopError(
            f"{bench_dir}: no benchmark script {', '.join(missing)}; run from the coop checkout or pass --bench-dir"
        )
    chosen = [(s, a) for s, a in SCRIPTS if not only or s.removesuffix(".py") in only]
    if not chosen:
        raise CoopError(f"no benchmark named {', '.join(only)}; choose from {', '.join(s for s, _ in SCRIPTS)}")
    results: dict[str, object] = {}
    figures: list[dict[str, object]] = []
    for i, (script, extra) in enumerate(chosen):
        if progress is not None:
            progress(i / len(chosen), f"running bench/{script}")
        args = [a.format(rows=rows, metrics_rows=metrics_rows, districts=districts) for a in extra]
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(Path(bench_dir) / script), *args, "--json"],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise CoopError(f"bench/{script} failed (exit {proc.returncode}): {tail}")
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        out["wall_s"] = time.perf_counter() - start
        results[script.removesuffix(".py")] = out
        figures.extend({"bench": script.removesuffix(".py"), **f} for f in out.get("figures", []))
    if progress is not None:
        progress(1.0, "done")
    return {
        "machine": machine(),
        "rows": rows,
        "metrics_rows": metrics_rows,
        "districts": districts,
        "figures": figures,
        "details": results,
    }


def table(result: dict[str, object]) -> str:
    """The figures as a Markdown table (the README's benchmark table)."""
    lines = [
        "| figure | value | same-run baseline | ratio | goal | met |",
        "|---|---|---|---|---|---|",
    ]
    for f in result["figures"]:  # type: ignore[union-attr]
        lines.append(
            f"| {f['name']} | {f['value']:.3g} {f['unit']} | {f['baseline']}: {f['baseline_value']:.3g} {f['unit']} "
            f"| {f['ratio']:.2f}x | {f['goal']} | {'yes' if f['met'] else 'no'} |"
        )
    return "\n".join(lines)
