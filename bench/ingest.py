"""Benchmark: `coop.ingest.ingest_file` (validation, classification, units) vs DuckDB's bare read_csv.

Generates an N-line district CSV (default 1,000,000), then, each in its own process so peak memory is its
own, loads it (a) with DuckDB alone: `CREATE TABLE t AS SELECT * FROM read_csv(...)`, and (b) with
`coop.ingest.ingest_file` into a fresh coop database. Prints both times, the ratio (goal <= 3x) and
each process's peak RSS.

    python bench/ingest.py [--rows N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coop import db, ingest, names  # noqa: E402

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


def generate_csv(path: Path, rows: int, seed: int = SEED) -> None:
    """Write an N-line district CSV with distributor-style headers and clean, consistent values."""
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
        (pl.col("Qty") * pl.col("Unit Price")).round(2).alias("Ext Price"),
    )
    frame.write_csv(path)


def run_duckdb(csv: Path, work: Path) -> dict[str, float]:
    """Time DuckDB's bare CREATE TABLE AS SELECT * FROM read_csv into a fresh database file."""
    import duckdb

    con = duckdb.connect(str(work / "bare.duckdb"))
    start = time.perf_counter()
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [str(csv)])
    seconds = time.perf_counter() - start
    ((n,),) = con.execute("SELECT count(*) FROM t").fetchall()
    con.close()
    return {"seconds": seconds, "rows": n}


def run_coop(csv: Path, work: Path) -> dict[str, float]:
    """Time coop.ingest.ingest_file into a fresh coop database with the bench district and vendors.

    The classification rules and the pint registry are imported first and timed apart: that is a one-off
    cost per process (the app and the CLI pay it once), not a cost of the file.
    """
    start = time.perf_counter()
    from coop import classify, units  # noqa: F401

    imports = time.perf_counter() - start
    con = db.connect(work / "coop.duckdb")
    con.execute(
        f"INSERT INTO {names.DISTRICTS} (district_id, name, state, zip) VALUES (?, 'Bench', 'MN', '55101')",
        [DISTRICT],
    )
    con.executemany(f"INSERT INTO {names.VENDORS} VALUES (?, ?, ?, ?)", [list(v) for v in VENDORS])
    stages: list[tuple[float, str]] = []
    start = time.perf_counter()
    result = ingest.ingest_file(
        con, csv, district_id=DISTRICT, progress=lambda f, msg: stages.append((time.perf_counter() - start, msg))
    )
    seconds = time.perf_counter() - start
    con.close()
    return {
        "seconds": seconds,
        "imports": imports,
        "rows": result.rows_loaded,
        "rejected": result.rows_rejected,
        "warnings": result.warnings,
        "stages": [[round(t, 2), m] for t, m in stages],
    }


def _peak_rss_mb() -> float:
    """Peak resident set size of the current process in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(kind: str, csv: Path, work: Path) -> dict[str, object]:
    """Run one measurement in a fresh process; its JSON result includes its own peak RSS."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--csv", str(csv), "--work", str(work)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="write the CSV and databases here and keep them")
    parser.add_argument("--child", choices=("duckdb", "coop"), help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = run_duckdb(args.csv, args.work) if args.child == "duckdb" else run_coop(args.csv, args.work)
        print(json.dumps({**result, "peak_rss_mb": _peak_rss_mb()}))
        return

    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        csv = work / f"bench_{args.rows}.csv"
        t0 = time.perf_counter()
        generate_csv(csv, args.rows)
        print(f"generated {args.rows:,} lines, {csv.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t0:.1f} s")
        for name in ("bare.duckdb", "coop.duckdb"):
            (work / name).unlink(missing_ok=True)
        bare = _child("duckdb", csv, work)
        ours = _child("coop", csv, work)
        assert ours["rows"] == bare["rows"] == args.rows, (ours, bare)
        ratio = float(ours["seconds"]) / float(bare["seconds"])
        print(f"duckdb read_csv -> table : {bare['seconds']:.2f} s, peak RSS {bare['peak_rss_mb']:.0f} MB")
        print(
            f"coop ingest_file         : {ours['seconds']:.2f} s, peak RSS {ours['peak_rss_mb']:.0f} MB "
            f"({ours['rejected']} rejected, {ours['warnings']} warnings)"
        )
        print(f"one-off imports          : {ours['imports']:.2f} s (classify rules + pint registry, once per process)")
        print(f"stages (s since start)   : {ours['stages']}")
        cold = (float(ours["seconds"]) + float(ours["imports"])) / float(bare["seconds"])
        print(f"ratio coop / duckdb      : {ratio:.2f}x (goal <= 3x) {'OK' if ratio <= 3 else 'OVER'}")
        print(f"ratio incl. imports      : {cold:.2f}x")


if __name__ == "__main__":
    main()
