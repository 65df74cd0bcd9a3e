"""Time the full metrics computation against one DuckDB GROUP BY (district, month) over the same generated table.

    python bench/metrics.py [--rows N] [--db PATH [--reuse]] [--repeat K] [--overview] [--json]

Generates N purchase lines (default 10,000,000) with DuckDB's range() into a database file: 50 districts with
different definitions of local (radius, states, counties, none), 80 vendors of every type with origins in and
out of range (some by state only, some unknown), 200 products in the six categories over one school year.
The lines are inserted as one batch and summarised exactly as a load does (`coop.summary.add_batch` in its own
transaction); the summary's load cost is reported against the time the INSERT of the lines took.
Prints the best of K runs of each and the ratio, one part-month range (read partly from the lines), and the peak
resident memory while metrics ran. --overview also runs the Overview page (Streamlit's AppTest) on the database
and reports its first (uncached) and second run times.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coop import names
from coop.metrics import compute
from coop.registry import geo
from coop.store import db, lines, summary

ROOT = Path(__file__).resolve().parents[1]

N_DISTRICTS = 50
N_VENDORS = 80
N_PRODUCTS = 200
VENDORS_PER_DISTRICT = 10
ORIGINS = [  # (state, zip): in state, neighbours, far away, state only, unknown
    ("CO", "80631"), ("CO", "81062"), ("CO", "81101"), ("CO", "80487"), ("CO", "81003"), ("CO", "80751"),
    ("WY", "82001"), ("NM", "87501"), ("CA", "93307"), ("WA", "98801"), ("ID", "83201"), ("NE", "69001"),
    ("CO", None), ("NM", None), (None, None),
]  # fmt: skip

GENERATED = "bench_lines"
GENERATE_ROWS = 10_000_000
GENERATE = f"""
CREATE OR REPLACE TEMP TABLE {GENERATED} AS
SELECT 1 AS batch_id, (i % 2000000000)::INTEGER AS source_row, d.district_id,
       CASE WHEN i % ? = ? THEN DATE '2024-06-30' ELSE DATE '2023-08-01' + ((i * 7919) % 335)::INTEGER END
           AS invoice_date,
       CASE WHEN i % ? = ? THEN DATE '2023-07-01' END AS period_start,
       CASE WHEN i % ? = ? THEN DATE '2024-06-30' END AS period_end,
       v.vendor_name, v.vendor_type, p.product AS description, p.product, 1.0 AS product_confidence, p.category,
       true AS unprocessed, 'file' AS unprocessed_rule, q AS quantity, p.base_unit AS unit,
       CASE WHEN i % 50 = 0 THEN NULL ELSE q END AS base_quantity,
       CASE WHEN i % 50 = 0 THEN NULL ELSE p.base_unit END AS base_unit,
       pr AS unit_price, round(q * pr, 2)::DECIMAL(18, 2) AS extended_price, v.origin_state, v.origin_zip,
       i AS line_key
FROM (
    SELECT i, i % {N_DISTRICTS} AS di,
           ((i % {N_DISTRICTS}) * 7 + (i // {N_DISTRICTS}) % {VENDORS_PER_DISTRICT}) % {N_VENDORS} AS vi,
           hash(i) % {N_PRODUCTS} AS pi,
           1 + (hash(i * 31) % 40)::DOUBLE AS q
    FROM range(?, ?) t(i)
) g
JOIN bench_districts d ON d.di = g.di
JOIN bench_vendors v ON v.vi = g.vi
JOIN bench_products p ON p.pi = g.pi,
LATERAL (SELECT round(p.price * v.markup, 4) AS pr)
"""
BASELINE = f"""
SELECT {names.DISTRICT_ID}, date_trunc('month', {names.INVOICE_DATE}) AS month,
       sum({names.EXTENDED_PRICE}) AS spend, count(*) AS lines
FROM {names.PURCHASE_LINES} GROUP BY ALL
"""


def setup(path: Path, rows: int, period_every: int = 0) -> dict[str, float]:
    """Create the database with generated districts, vendors, products and `rows` lines (one batch, summarised).

    Every `period_every`-th line (0: none) is a usage-report line covering the school year July 2023 - June 2024.

    Returns the seconds the INSERT of the lines took and the seconds their summary took (as a load builds it).
    """
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
    # one batch as coop.ingest writes it: the lines, then their summary, in one transaction
    con.execute("BEGIN TRANSACTION")
    insert_s = 0.0
    for first in range(0, rows, GENERATE_ROWS):  # generated in slices (a temp table of 50M lines would not fit)
        pick = [period_every, 0] if period_every else [1, 1]  # i % 1 = 1 never holds: no period lines
        con.execute(GENERATE, [*pick * 3, first, min(rows, first + GENERATE_ROWS)])
        start = time.perf_counter()
        lines.store(con, GENERATED)  # as a load stores them: items and packs once, the rest per line
        insert_s += time.perf_counter() - start
    con.execute(f"DROP TABLE {GENERATED}")
    start = time.perf_counter()
    summary.add_batch(con, 1)
    summary_s = time.perf_counter() - start
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    con.close()
    return {"insert_s": insert_s, "summary_s": summary_s}


class PeakRss:
    """Samples this process's resident memory on a thread; `peak_mib` is the largest seen while running."""

    def __init__(self, every: float = 0.01) -> None:
        self.every, self.peak_kib, self._stop = every, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with open("/proc/self/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        self.peak_kib = max(self.peak_kib, int(line.split()[1]))
            self._stop.wait(self.every)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mib(self) -> float:
        """Largest resident set seen, MiB."""
        return self.peak_kib / 1024


def time_overview(path: Path, timeout: float = 600.0) -> dict[str, object]:
    """Run pages/overview.py under Streamlit's AppTest on the database twice: seconds, errors and the KPIs shown."""
    from streamlit.testing.v1 import AppTest

    os.environ[db.ENV_VAR] = str(path)
    page = AppTest.from_file(str(ROOT / "pages" / "overview.py"), default_timeout=timeout)
    with PeakRss() as rss:
        start = time.perf_counter()
        page.run()
        first = time.perf_counter() - start
        start = time.perf_counter()
        page.run()
        second = time.perf_counter() - start
    return {
        "first_run_s": first,
        "second_run_s": second,
        "peak_rss_mib": rss.peak_mib,
        "errors": [str(e.value) for e in page.exception] + [str(e.value) for e in page.error],
        "kpis": {m.label: m.value for m in page.metric},
    }


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
    parser.add_argument("--overview", action="store_true", help="also time the Overview page on the database")
    parser.add_argument(
        "--period-every", type=int, default=0, help="make every Nth line a school-year usage-report line (0: none)"
    )
    args = parser.parse_args()
    if args.db is None:
        with tempfile.TemporaryDirectory() as tmp:
            return measure(args, Path(tmp) / "bench-metrics.duckdb")
    return measure(args, args.db)


def measure(args: argparse.Namespace, path: Path) -> int:
    """Generate (or reuse) the table, time both computations and the summary's load cost, print the figures."""
    say = functools.partial(print, file=sys.stderr if args.json else sys.stdout)
    start = time.perf_counter()
    geo.zip_table()
    zip_seconds = time.perf_counter() - start
    reuse = False
    if args.reuse and path.exists():
        con = db.connect(path)  # read-write: a database from before the summary gets it here
        reuse = con.execute(f"SELECT count(*) FROM {names.PURCHASES}").fetchall()[0][0] == args.rows
        if reuse and not summary.is_current(con):
            summary.rebuild(con)
        con.close()
    load: dict[str, float] = {}
    generate_s = None
    if not reuse:
        start = time.perf_counter()
        load = setup(path, args.rows, args.period_every)
        generate_s = time.perf_counter() - start
        say(f"generated {args.rows:,} lines in {generate_s:.1f} s -> {path}")
        say(f"  INSERT of the lines {load['insert_s']:.2f} s; their summary (as on load) {load['summary_s']:.2f} s")
    con = db.connect(path, read_only=True)
    state = summary.status(con)
    with PeakRss() as rss:
        baseline, groups = best_of(args.repeat, lambda: con.execute(BASELINE).fetchall())
        full, result = best_of(args.repeat, lambda: compute.compute(con))
        first, last = compute.date_range(con) or (None, None)
        cut_from, cut_to = first + timedelta(days=14), last - timedelta(days=20)  # cuts the first and last month
        part, _ = best_of(1, lambda: compute.compute(con, cut_from, cut_to))
    counts = compute.load_grains(con).group_by(compute.GRAIN).len().collect()
    grains = dict(zip(counts[compute.GRAIN].to_list(), counts["len"].to_list(), strict=True))
    con.close()
    overview = time_overview(path) if args.overview else None
    coop = result.coop.row(0, named=True)  # type: ignore[union-attr]
    ratio = full / baseline
    process_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.period_every:
        say(f"every {args.period_every:,}th line covers the school year 2023-24 (spread over its days)")
    say(f"rows: {args.rows:,}  summary rows: {state['summary_rows']:,} (current: {state['current']})")
    say(f"compacted grain rows: {grains}  district-month groups: {len(groups):,}")
    say(f"co-op spend ${coop['total_spend']:,.2f}, local share {coop['local_share']:.4f}")
    say(f"ZIP table (once per process, not timed below): {zip_seconds:.2f} s")
    say(f"DuckDB GROUP BY district, month: {baseline:.3f} s (best of {args.repeat})")
    say(f"full metrics.compute:            {full:.3f} s (best of {args.repeat}; from summary: {result.from_summary})")  # type: ignore[union-attr]
    say(f"ratio: {ratio:.1f}x  (goal: under 10 s and within 3x)")
    say(f"part-month range {cut_from}..{cut_to} (two part months read from the lines): {part:.3f} s")
    say(f"peak resident memory while timing metrics: {rss.peak_mib:,.0f} MiB (process peak {process_peak:,.0f} MiB)")
    if overview is not None:
        say(
            f"Overview page (AppTest): first run {overview['first_run_s']:.2f} s, second run "
            f"{overview['second_run_s']:.2f} s, peak {overview['peak_rss_mib']:,.0f} MiB; errors: {overview['errors']}"
        )
    if args.json:
        figures = [
            {
                "name": f"metrics.compute over {args.rows:,} lines",
                "value": full,
                "unit": "s",
                "baseline": "one DuckDB GROUP BY district, month",
                "baseline_value": baseline,
                "ratio": ratio,
                "goal": "under 10 s and within 3x (stated for 10M lines)",
                "met": full < 10.0 and ratio <= 3.0,
            }
        ]
        if load:
            figures.append(
                {
                    "name": f"purchase summary built on load for {args.rows:,} lines",
                    "value": load["summary_s"],
                    "unit": "s",
                    "baseline": "the INSERT of the same lines",
                    "baseline_value": load["insert_s"],
                    "ratio": load["summary_s"] / load["insert_s"],
                    "goal": "at most the INSERT time (1x)",
                    "met": load["summary_s"] <= load["insert_s"],
                }
            )
        details = {
            "rows": args.rows,
            "period_every": args.period_every,
            "from_summary": result.from_summary,  # type: ignore[union-attr]
            "summary": state,
            "grain_rows": grains,
            "part_month_range": {"from": str(cut_from), "to": str(cut_to), "s": part},
            "peak_rss_metrics_mib": rss.peak_mib,
            "peak_rss_process_mib": process_peak,
            "generate_s": generate_s,
            "overview": overview,
            "zip_table_s": zip_seconds,
        }
        print(json.dumps({"figures": figures, **details}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
