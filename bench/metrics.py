"""Time the full metrics computation against one DuckDB GROUP BY (district, month) over the same generated table.

    python bench/metrics.py [--rows N] [--db PATH [--reuse]] [--repeat K] [--json]

Generates N purchase lines (default 10,000,000) with DuckDB's range() into a database file: 50 districts with
different definitions of local (radius, states, counties, none), 80 vendors of every type with origins in and
out of range (some by state only, some unknown), 200 products in the six categories over one school year.
Prints the best of K runs of each and the ratio.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coop import db, geo, metrics, names

N_DISTRICTS = 50
N_VENDORS = 80
N_PRODUCTS = 200
VENDORS_PER_DISTRICT = 10
ORIGINS = [  # (state, zip): in state, neighbours, far away, state only, unknown
    ("CO", "80631"), ("CO", "81062"), ("CO", "81101"), ("CO", "80487"), ("CO", "81003"), ("CO", "80751"),
    ("WY", "82001"), ("NM", "87501"), ("CA", "93307"), ("WA", "98801"), ("ID", "83201"), ("NE", "69001"),
    ("CO", None), ("NM", None), (None, None),
]  # fmt: skip

GENERATE = f"""
INSERT INTO {names.PURCHASES} (
    batch_id, source_row, district_id, invoice_date, vendor_name, vendor_type, description, product,
    product_confidence, category, unprocessed, unprocessed_rule, quantity, unit, base_quantity, base_unit,
    unit_price, extended_price, origin_state, origin_zip, line_key)
SELECT 1, (i % 2000000000)::INTEGER, d.district_id,
       DATE '2023-08-01' + ((i * 7919) % 335)::INTEGER,
       v.vendor_name, v.vendor_type, p.product, p.product, 1.0, p.category, true, 'file',
       q, p.base_unit, CASE WHEN i % 50 = 0 THEN NULL ELSE q END, CASE WHEN i % 50 = 0 THEN NULL ELSE p.base_unit END,
       pr, round(q * pr, 2)::DECIMAL(18, 2), v.origin_state, v.origin_zip, 'k' || i
FROM (
    SELECT i, i % {N_DISTRICTS} AS di,
           ((i % {N_DISTRICTS}) * 7 + (i // {N_DISTRICTS}) % {VENDORS_PER_DISTRICT}) % {N_VENDORS} AS vi,
           hash(i) % {N_PRODUCTS} AS pi,
           1 + (hash(i * 31) % 40)::DOUBLE AS q
    FROM range(?) t(i)
) g
JOIN bench_districts d ON d.di = g.di
JOIN bench_vendors v ON v.vi = g.vi
JOIN bench_products p ON p.pi = g.pi,
LATERAL (SELECT round(p.price * v.markup, 4) AS pr)
"""
BASELINE = f"""
SELECT {names.DISTRICT_ID}, date_trunc('month', {names.INVOICE_DATE}) AS month,
       sum({names.EXTENDED_PRICE}) AS spend, count(*) AS lines
FROM {names.PURCHASES} GROUP BY ALL
"""


def setup(path: Path, rows: int) -> None:
    """Create the database with generated districts, vendors, products and `rows` purchase lines."""
    path.unlink(missing_ok=True)
    con = db.connect(path)
    co = geo.zip_table().filter(pl.col(geo.GEO_STATE) == "CO").sort(geo.GEO_ZIP)
    step = max(1, co.height // N_DISTRICTS)
    zips = co[geo.GEO_ZIP].gather_every(step).head(N_DISTRICTS).to_list()
    kinds = [(100.0, None, None), (150.0, None, None), (None, ["CO"], None), (None, None, ["Weld", "Larimer"]),
             (None, None, None)]  # fmt: skip
    districts = pl.DataFrame(
        {
            names.DISTRICT_ID: [f"d{i:03d}" for i in range(N_DISTRICTS)],
            names.NAME: [f"District {i}" for i in range(N_DISTRICTS)],
            names.STATE: ["CO"] * N_DISTRICTS,
            names.ZIP: zips,
            names.LOCAL_RADIUS_MILES: [kinds[i % 5][0] for i in range(N_DISTRICTS)],
            names.LOCAL_STATES: [kinds[i % 5][1] for i in range(N_DISTRICTS)],
            names.LOCAL_COUNTIES: [kinds[i % 5][2] for i in range(N_DISTRICTS)],
        },
        schema_overrides={
            names.LOCAL_RADIUS_MILES: pl.Float64,
            names.LOCAL_STATES: pl.List(pl.String),
            names.LOCAL_COUNTIES: pl.List(pl.String),
        },
    )
    con.register("incoming", districts.to_arrow())
    con.execute(f"INSERT INTO {names.DISTRICTS} ({', '.join(districts.columns)}) SELECT * FROM incoming")
    con.unregister("incoming")
    con.execute(
        "CREATE TEMP TABLE bench_districts AS "
        "SELECT (row_number() OVER (ORDER BY district_id) - 1)::BIGINT AS di, district_id FROM districts"
    )
    vendors = pl.DataFrame(
        {
            "vi": list(range(N_VENDORS)),
            names.VENDOR_NAME: [f"Vendor {i}" for i in range(N_VENDORS)],
            names.VENDOR_TYPE: [names.VENDOR_TYPES[i % len(names.VENDOR_TYPES)] for i in range(N_VENDORS)],
            names.ORIGIN_STATE: [ORIGINS[i % len(ORIGINS)][0] for i in range(N_VENDORS)],
            names.ORIGIN_ZIP: [ORIGINS[i % len(ORIGINS)][1] for i in range(N_VENDORS)],
            "markup": [0.8 + (i % 7) * 0.1 for i in range(N_VENDORS)],
        }
    )
    units = {"fruit": "lb", "vegetable": "lb", "grain": "each", "protein": "lb", "dairy": "gal", "other": "each"}
    products = pl.DataFrame(
        {
            "pi": list(range(N_PRODUCTS)),
            names.PRODUCT: [f"product {i}" for i in range(N_PRODUCTS)],
            names.CATEGORY: [names.CATEGORIES[i % 6] for i in range(N_PRODUCTS)],
            names.BASE_UNIT: [units[names.CATEGORIES[i % 6]] for i in range(N_PRODUCTS)],
            "price": [0.5 + (i % 13) * 0.25 for i in range(N_PRODUCTS)],
        }
    )
    con.register("v", vendors.to_arrow())
    con.execute("CREATE TEMP TABLE bench_vendors AS SELECT * FROM v")
    con.register("p", products.to_arrow())
    con.execute("CREATE TEMP TABLE bench_products AS SELECT * FROM p")
    con.execute(GENERATE, [rows])
    con.execute("CHECKPOINT")
    con.close()


def best_of(repeat: int, fn: object) -> tuple[float, object]:
    """Best wall time of `repeat` calls and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--db", type=Path, default=None, help="database file (default: a temporary one, removed)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="reuse --db when it already holds --rows lines")
    parser.add_argument("--json", action="store_true", help="print one JSON object (figures) last on stdout")
    args = parser.parse_args()
    if args.db is None:
        with tempfile.TemporaryDirectory() as tmp:
            return measure(args, Path(tmp) / "bench-metrics.duckdb")
    return measure(args, args.db)


def measure(args: argparse.Namespace, path: Path) -> int:
    """Generate (or reuse) the table, time both computations, print the figures."""
    say = functools.partial(print, file=sys.stderr if args.json else sys.stdout)
    start = time.perf_counter()
    geo.zip_table()
    zip_seconds = time.perf_counter() - start
    reuse = False
    if args.reuse and path.exists():
        con = db.connect(path, read_only=True)
        reuse = con.execute(f"SELECT count(*) FROM {names.PURCHASES}").fetchall()[0][0] == args.rows
        con.close()
    if not reuse:
        start = time.perf_counter()
        setup(path, args.rows)
        say(f"generated {args.rows:,} lines in {time.perf_counter() - start:.1f} s -> {path}")
    con = db.connect(path, read_only=True)
    baseline, groups = best_of(args.repeat, lambda: con.execute(BASELINE).fetchall())
    full, result = best_of(args.repeat, lambda: metrics.compute(con))
    counts = metrics.load_grains(con).group_by(metrics.GRAIN).len().collect()
    grains = dict(zip(counts[metrics.GRAIN].to_list(), counts["len"].to_list(), strict=True))
    con.close()
    coop = result.coop.row(0, named=True)  # type: ignore[union-attr]
    ratio = full / baseline
    say(f"rows: {args.rows:,}  compacted grain rows: {grains}  district-month groups: {len(groups):,}")
    say(f"co-op spend ${coop['total_spend']:,.2f}, local share {coop['local_share']:.4f}")
    say(f"ZIP table (once per process, not timed below): {zip_seconds:.2f} s")
    say(f"DuckDB GROUP BY district, month: {baseline:.3f} s (best of {args.repeat})")
    say(f"full metrics.compute:            {full:.3f} s (best of {args.repeat})")
    say(f"ratio: {ratio:.1f}x  (goal: under 10 s and within 3x)")
    if args.json:
        figure = {
            "name": f"metrics.compute over {args.rows:,} lines",
            "value": full,
            "unit": "s",
            "baseline": "one DuckDB GROUP BY district, month",
            "baseline_value": baseline,
            "ratio": ratio,
            "goal": "under 10 s and within 3x",
            "met": full < 10.0 and ratio <= 3.0,
        }
        print(json.dumps({"figures": [figure], "rows": args.rows, "grain_rows": grains, "zip_table_s": zip_seconds}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
