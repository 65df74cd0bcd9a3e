"""Benchmark: `coop.ingest.ingest_file` (validation, classification, units) vs DuckDB's bare read_csv.

Generates an N-line district CSV (default 1,000,000), then, each in its own process so peak memory is its
own, loads it (a) with DuckDB alone: `CREATE TABLE t AS SELECT * FROM read_csv(...)`, and (b) with
`coop.ingest.ingest_file` into a fresh coop database. Both times include a CHECKPOINT after the load, so work
DuckDB defers to the next checkpoint (e.g. rewriting part-filled row groups) is counted where it was caused, not
left to whoever commits next. Prints both times, the ratio (goal <= 3x) and
each process's peak RSS. Then (c) the same number of lines with 1% invalid cells (bad date, quantity, price,
empty vendor): ingest must refuse it, name every bad row with file, row, column and reason, and write nothing.

    python bench/ingest.py [--rows N] [--repeat N] [--keep DIR] [--no-invalid] [--json]
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from coop import names  # noqa: E402
from coop.errors import ValidationError  # noqa: E402
from coop.ingest import ingest_file  # noqa: E402
from coop.store import db  # noqa: E402

SEED = 20240901
DISTRICT = "BENCH1"
# (description stem, unit, pack size, unit price) - distributor-style lines, each stem in many sizes/brands
ITEMS = (
    ("APPLE GALA 88CT FRESH", "CS", "88CT", 38.50),
    ("APPLES, FUJI, 100 COUNT", "CS", "100CT", 41.25),
    ("CARROT BABY PEELED", "CS", "4/5LB", 24.10),
    ("POTATO RUSSET #1", "CS", "50LB", 21.80),
    ("LETTUCE ROMAINE CHOPPED", "CS", "6/2LB", 27.95),
    ("MILK 1% WHITE HALF PINT", "CS", "50/8OZ", 16.40),
    ("CHEESE CHEDDAR SHREDDED", "CS", "4/5LB", 58.00),
    ("CHICKEN DRUMSTICK RAW", "CS", "40LB", 71.60),
    ("BEEF GROUND 80/20", "CS", "4/10LB", 142.00),
    ("BREAD WHOLE WHEAT SLICED", "EA", "24OZ", 3.10),
    ("RICE BROWN LONG GRAIN", "CS", "25LB", 19.75),
    ("TORTILLA FLOUR 8IN WG", "CS", "12/12CT", 22.30),
    ("PEACHES DICED IN JUICE", "CS", "6/#10", 39.90),
    ("BEANS BLACK LOW SODIUM", "CS", "6/#10", 31.15),
    ("EGGS LARGE GRADE A", "CS", "15DZ", 34.60),
    ("YOGURT VANILLA LOW FAT", "CS", "48/4OZ", 23.45),
    ("SQUASH BUTTERNUT WHOLE", "LB", None, 0.92),
    ("PEARS BARTLETT LOCAL", "LB", None, 1.35),
    ("OATS ROLLED OLD FASHIONED", "CS", "8/42OZ", 28.80),
    ("JUICE ORANGE 100% 4OZ", "CS", "96/4OZ", 25.60),
)
VENDORS = (
    ("Gold Star Foods", "broadline_distributor", None, None),
    ("Sysco Minnesota", "broadline_distributor", None, None),
    ("Green Acres Farm", "producer", "MN", "55102"),
    ("Twin Cities Food Hub", "food_hub", "MN", "55401"),
    ("Riverbend Dairy Co-op", "producer_coop", "WI", "54601"),
)
BRANDS = 100  # each item in 100 brand/size variants: 2,000 distinct descriptions


INVALID = (  # (column, bad value, the reason ingest must give) - cycled over the corrupted rows
    ("Invoice Date", "13/45/2024", "not a date"),
    ("Qty", "two cases", "not a number"),
    ("Ext Price", "12..50", "not a number"),
    ("Vendor", "", "required value is empty"),
)


def generate_csv(path: Path, rows: int, seed: int = SEED, invalid_every: int = 0) -> int:
    """Write an N-line district CSV with distributor-style headers; every `invalid_every`-th row gets one bad cell.

    Returns the number of corrupted rows (0 when `invalid_every` is 0).
    """
    rng = np.random.default_rng(seed)
    item = rng.integers(0, len(ITEMS), rows)
    brand = rng.integers(0, BRANDS, rows)
    vendor = rng.integers(0, len(VENDORS), rows)
    qty = rng.integers(1, 40, rows)
    day = rng.integers(0, 365, rows)
    stems = pl.Series([i[0] for i in ITEMS])
    frame = pl.DataFrame(
        {
            "Invoice Date": np.datetime64("2023-07-01", "D") + day.astype("timedelta64[D]"),
            "Vendor": pl.Series([v[0] for v in VENDORS])[vendor],
            "Item Description": stems[item] + pl.Series([f" BR{b:03d}" for b in range(BRANDS)])[brand],
            "Qty": qty,
            "UOM": pl.Series([i[1] for i in ITEMS])[item],
            "Pack Size": pl.Series([i[2] for i in ITEMS], dtype=pl.String)[item],
            "Unit Price": pl.Series([i[3] for i in ITEMS])[item],
            "Invoice #": pl.Series(rng.integers(100000, 999999, rows)).cast(pl.String),
        }
    ).with_columns(
        pl.col("Invoice Date").dt.strftime("%m/%d/%Y"),
        (pl.col("Qty") * pl.col("Unit Price")).round(2).cast(pl.String).alias("Ext Price"),
        pl.col("Qty").cast(pl.String),
    )
    if not invalid_every:
        frame.write_csv(path)
        return 0
    index = pl.int_range(pl.len())
    bad = (index % invalid_every) == invalid_every - 1
    kind = (index // invalid_every) % len(INVALID)
    frame = frame.with_columns(
        pl.when(bad & (kind == k)).then(pl.lit(value)).otherwise(pl.col(column)).alias(column)
        for k, (column, value, _reason) in enumerate(INVALID)
    )
    frame.write_csv(path)
    return rows // invalid_every


def run_duckdb(csv: Path, work: Path) -> dict[str, float]:
    """Time DuckDB's bare CREATE TABLE AS SELECT * FROM read_csv into a fresh database file."""
    (work / "bare.duckdb").unlink(missing_ok=True)
    con = duckdb.connect(str(work / "bare.duckdb"))
    start = time.perf_counter()
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [str(csv)])
    con.execute("CHECKPOINT")
    seconds = time.perf_counter() - start
    ((n,),) = con.execute("SELECT count(*) FROM t").fetchall()
    con.close()
    return {"seconds": seconds, "rows": n}


def _bench_db(work: Path, name: str) -> duckdb.DuckDBPyConnection:
    """A fresh coop database with the bench district and its vendors registered."""
    (work / name).unlink(missing_ok=True)
    con = db.connect(work / name)
    con.execute(
        f"INSERT INTO {names.DISTRICTS} (district_id, name, state, zip) VALUES (?, 'Bench', 'MN', '55101')",
        [DISTRICT],
    )
    con.executemany(f"INSERT INTO {names.VENDORS} VALUES (?, ?, ?, ?)", [list(v) for v in VENDORS])
    return con


def run_invalid(csv: Path, work: Path) -> dict[str, object]:
    """Time ingest_file refusing a file with invalid rows; count the rows its error names and the reasons given."""
    from coop.products import classify, units  # noqa: F401

    con = _bench_db(work, "invalid.duckdb")
    start = time.perf_counter()
    try:
        ingest_file(con, csv, district_id=DISTRICT)
    except ValidationError as exc:
        seconds = time.perf_counter() - start
        problems = exc.problems
    else:
        raise AssertionError("a file with invalid rows was loaded")
    ((loaded,),) = con.execute(f"SELECT count(*) FROM {names.PURCHASES}").fetchall()
    con.close()
    reasons = sorted({p.reason.split(":")[0] for p in problems})
    return {
        "seconds": seconds,
        "rows_named": len({p.row for p in problems}),
        "problems": len(problems),
        "all_named": all(p.file and p.row and p.column for p in problems),
        "reasons": reasons,
        "rows_in_db": loaded,
    }


def run_coop(csv: Path, work: Path) -> dict[str, float]:
    """Time coop.ingest.ingest_file into a fresh coop database with the bench district and vendors.

    The classification rules and the pint registry are imported first and timed apart: that is a one-off
    cost per process (the app and the CLI pay it once), not a cost of the file.
    """
    start = time.perf_counter()
    from coop.products import classify, units  # noqa: F401

    imports = time.perf_counter() - start
    con = _bench_db(work, "coop.duckdb")
    stages: list[tuple[float, str]] = []
    start = time.perf_counter()
    result = ingest_file(
        con, csv, district_id=DISTRICT, progress=lambda f, msg: stages.append((time.perf_counter() - start, msg))
    )
    loaded = time.perf_counter() - start
    con.execute("CHECKPOINT")
    seconds = time.perf_counter() - start
    con.close()
    return {
        "seconds": seconds,
        "checkpoint": seconds - loaded,
        "imports": imports,
        "rows": result.rows_loaded,
        "rejected": result.rows_rejected,
        "warnings": result.warnings,
        "stages": [[round(t, 2), m] for t, m in stages],
    }


def _peak_rss_mb() -> float:
    """Peak resident set size of this process in MB.

    Linux's VmHWM, which (unlike ru_maxrss) does not carry the parent's peak over the fork and exec of a child.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: the best the OS offers


RUNS = {"duckdb": run_duckdb, "coop": run_coop, "invalid": run_invalid}
MEMORY_GOAL_MB = 2048  # the goal: 10M lines under 2 GB
INVALID_EVERY = 100  # 1% invalid rows
INVALID_GOAL_S = 10.0


def _child(kind: str, csv: Path, work: Path) -> dict[str, object]:
    """Run one measurement in a fresh process; its JSON result includes its own peak RSS."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--csv", str(csv), "--work", str(work)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _figure(name: str, value: float, unit: str, baseline: str, baseline_value: float, goal: str, met: bool) -> dict:
    """One figure in the shape `coop.bench` collects."""
    ratio = value / baseline_value if baseline_value else float("inf")
    return {
        "name": name,
        "value": value,
        "unit": unit,
        "baseline": baseline,
        "baseline_value": baseline_value,
        "ratio": ratio,
        "goal": goal,
        "met": met,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="write the CSV and databases here and keep them")
    parser.add_argument("--no-invalid", action="store_true", help="skip the run with 1%% invalid rows")
    parser.add_argument("--json", action="store_true", help="print one JSON object (figures) last on stdout")
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs of each load (medians reported)")
    parser.add_argument("--child", choices=tuple(RUNS), help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps({**RUNS[args.child](args.csv, args.work), "peak_rss_mb": _peak_rss_mb()}))
        return 0
    say = functools.partial(print, file=sys.stderr if args.json else sys.stdout, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        figures, summary = measure(args.rows, work, not args.no_invalid, say, args.repeat)
    if args.json:
        print(json.dumps({"figures": figures, "rows": args.rows, **summary}))
    return 0


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median time (the lower middle one of an even count), its peak memory the highest seen."""
    ordered = sorted(runs, key=lambda run: float(run["seconds"]))
    return {**ordered[(len(ordered) - 1) // 2], "peak_rss_mb": max(float(run["peak_rss_mb"]) for run in runs)}


def measure(rows: int, work: Path, invalid: bool, say: Callable[..., None], repeat: int = 3) -> tuple[list[dict], dict]:
    """Generate the files, run each measurement in its own process, and return the figures and raw results."""
    csv = work / f"bench_{rows}.csv"
    t0 = time.perf_counter()
    generate_csv(csv, rows)
    say(f"generated {rows:,} lines, {csv.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t0:.1f} s")
    # the two loads alternate `repeat` times (a shared machine's speed drifts by 20% within minutes); medians
    pairs = [(_child("duckdb", csv, work), _child("coop", csv, work)) for _ in range(repeat)]
    bare, ours = (_median_run([pair[i] for pair in pairs]) for i in (0, 1))
    assert ours["rows"] == bare["rows"] == rows, (ours, bare)
    ratio = float(ours["seconds"]) / float(bare["seconds"])
    each = ", ".join(f"{o['seconds']:.2f}/{b['seconds']:.2f}" for b, o in pairs)
    say(f"runs (coop/duckdb, s)    : {each}; medians below")
    say(f"duckdb read_csv -> table : {bare['seconds']:.2f} s, peak RSS {bare['peak_rss_mb']:.0f} MB")
    say(
        f"coop ingest_file         : {ours['seconds']:.2f} s, peak RSS {ours['peak_rss_mb']:.0f} MB "
        f"({ours['rejected']} rejected, {ours['warnings']} warnings)"
    )
    say(f"one-off imports          : {ours['imports']:.2f} s (classify rules + pint registry, once per process)")
    say(f"checkpoint after load    : {ours['checkpoint']:.2f} s (included in the time above)")
    say(f"stages (s since start)   : {ours['stages']}")
    say(f"ratio coop / duckdb      : {ratio:.2f}x (goal <= 3x) {'OK' if ratio <= 3 else 'OVER'}")
    lines = f"{rows:,}-line CSV"
    figures = [
        _figure(
            f"ingest_file, {lines} (validation, classification, units, one transaction)",
            float(ours["seconds"]),
            "s",
            "DuckDB read_csv into a table",
            float(bare["seconds"]),
            "<= 3x",
            ratio <= 3,
        ),
        _figure(
            f"ingest_file peak memory, {lines}",
            float(ours["peak_rss_mb"]),
            "MB",
            "DuckDB read_csv peak memory",
            float(bare["peak_rss_mb"]),
            "under 2 GB at 10M lines",
            float(ours["peak_rss_mb"]) < MEMORY_GOAL_MB,
        ),
    ]
    summary: dict[str, object] = {"duckdb": bare, "coop": ours}
    if invalid:
        bad_csv = work / f"bench_{rows}_invalid.csv"
        expected = generate_csv(bad_csv, rows, invalid_every=INVALID_EVERY)
        refused = _child("invalid", bad_csv, work)
        say(
            f"{rows:,} lines, {expected:,} invalid: refused in {refused['seconds']:.2f} s naming "
            f"{refused['rows_named']:,} rows ({refused['problems']:,} problems: {refused['reasons']}); "
            f"{refused['rows_in_db']} rows written"
        )
        every = refused["rows_named"] == expected and refused["all_named"] and refused["rows_in_db"] == 0
        figures.append(
            _figure(
                f"{lines} with 1% invalid rows: refused, every bad row named (file, row, column, reason)",
                float(refused["seconds"]),
                "s",
                "ingest_file of the clean file",
                float(ours["seconds"]),
                "under 10 s, all named",
                every and float(refused["seconds"]) < INVALID_GOAL_S,
            )
        )
        summary["invalid"] = {**refused, "expected": expected}
    return figures, summary


if __name__ == "__main__":
    raise SystemExit(main())
