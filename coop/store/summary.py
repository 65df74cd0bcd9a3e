"""The purchase summary: every batch's lines compacted to the three metric grains, per calendar month.

`purchase_summary` (schema.sql) holds, per batch and month, the sums `coop.metrics` needs at three grains:

* ``shares``: district, month, category, base unit, vendor type, origin (zip, state): shares, routes, goal, demand
* ``prices``: district, month, product, category, base unit, vendor type, origin: premiums
* ``vendors``: district, month, vendor, vendor type, origin: co-op spend by vendor

Sums: spend in whole cents (exact: a DECIMAL sum made cents once per group), base quantity, spend of lines with a
base quantity (cents), lines, and lines without a base quantity. Locality is NOT stored: each district's own
definition of local is applied when metrics are computed, so editing a definition needs no rebuild.

Storage: a grain row's text keys are stored once in `summary_keys` (an integer `key_id`), so reading sums whole
months by integer key and joins the text on afterwards (grouping 1M summary rows by nine text columns took 0.4-0.7 s
here, by the integer key 0.14 s). The prices and vendors grains are also kept per batch over all months (month NULL),
which a range covering all the data reads instead of every month's rows.

Writers are serialised (DuckDB lets one process write a file; the app holds a write lock), which `add_batch` relies
on when it gives new text keys their ids.

Maintenance: `add_batch` runs inside the load's own transaction (`coop.ingest`), `remove_batch` inside the undo's
(`coop.batches`), so the summary and the purchase lines commit or roll back together. A database created before the
summary existed gets it from `coop.db.migrate` (created and rebuilt); `rebuild` (``python -m coop summary
--rebuild``) recomputes it from the lines at any time. `is_current` is the cheap check metrics use before trusting
it: the summary must exist and count as many lines as `purchases` holds (lines written around `coop.ingest`, e.g.
by a test or a benchmark inserting rows directly, make it stale and metrics read the raw lines instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import duckdb

from coop import calendar, names
from coop.store import periods, settings

# the summary's layout: "2" = period lines spread over their months by days (before: piled on the period's end);
# a summary of an older layout is rebuilt by `coop.store.db.migrate` when the database holds period lines
LAYOUT = "2"
GRAIN_SHARES = "shares"
GRAIN_PRICES = "prices"
GRAIN_VENDORS = "vendors"
_ORIGIN = (names.VENDOR_TYPE, names.ORIGIN_ZIP, names.ORIGIN_STATE)
# each grain's key columns without the month (the month is added where a grain is kept per month)
GRAINS: dict[str, tuple[str, ...]] = {
    GRAIN_SHARES: (names.DISTRICT_ID, names.CATEGORY, names.BASE_UNIT, *_ORIGIN),
    GRAIN_PRICES: (names.DISTRICT_ID, names.PRODUCT, names.CATEGORY, names.BASE_UNIT, *_ORIGIN),
    GRAIN_VENDORS: (names.DISTRICT_ID, names.VENDOR_NAME, *_ORIGIN),
}
KEY_COLUMNS = (
    names.DISTRICT_ID,
    names.MONTH,
    names.PRODUCT,
    names.VENDOR_NAME,
    names.CATEGORY,
    names.BASE_UNIT,
    *_ORIGIN,
)
MEASURES = (names.SPEND_CENTS, names.BASE_QUANTITY, names.PRICED_CENTS, names.LINES, names.UNPRICED_LINES)
# Summing the finest grain's partial sums (`grains_sql`): each group's DECIMAL sum becomes whole cents once.
_FINE_SUMS = f"""CAST(coalesce(sum(_spend), 0) * 100 AS BIGINT) AS {names.SPEND_CENTS},
       sum(_base) AS {names.BASE_QUANTITY},
       CAST(coalesce(sum(_priced), 0) * 100 AS BIGINT) AS {names.PRICED_CENTS},
       CAST(sum(_lines) AS BIGINT) AS {names.LINES},
       CAST(sum(_lines) - sum(_based) AS BIGINT) AS {names.UNPRICED_LINES}"""
# Re-summing grain rows (summary rows and compacted lines): integers stay integers.
GRAIN_SUMS = f"""CAST(sum({names.SPEND_CENTS}) AS BIGINT) AS {names.SPEND_CENTS},
       sum({names.BASE_QUANTITY}) AS {names.BASE_QUANTITY},
       CAST(sum({names.PRICED_CENTS}) AS BIGINT) AS {names.PRICED_CENTS},
       CAST(sum({names.LINES}) AS BIGINT) AS {names.LINES},
       CAST(sum({names.UNPRICED_LINES}) AS BIGINT) AS {names.UNPRICED_LINES}"""


def _null(column: str) -> str:
    """A typed NULL standing in for a key column a grain does not have."""
    return f"CAST(NULL AS {'DATE' if column == names.MONTH else 'TEXT'}) AS {column}"


def grains_sql(
    ranges: Sequence[periods.Range] | None, *, monthly: bool, per_batch: bool = False, batch_id: int | None = None
) -> tuple[str, list[object]]:
    """SELECT (and its parameters) compacting the purchase lines in `ranges` to the three grains (cents exact).

    `ranges` are disjoint inclusive date ranges (None: every line). A dated line counts when its date is in a range;
    a period line counts by the share of its period's days in each range, cut into calendar months
    (`coop.store.periods`). `monthly` keeps every grain per month (the summary's form); otherwise only the shares
    grain keeps its month. `per_batch` adds `batch_id` as the first column and key; `batch_id` reads one batch.
    The lines are scanned once, to the finest grain (every key, per month), and the three grains summed from that.
    """
    lead = (names.BATCH_ID,) if per_batch else ()
    keys = (*lead, names.MONTH, *(c for c in KEY_COLUMNS if c != names.MONTH))
    group = ", ".join(str(i + 1) for i in range(len(keys)))
    spans = [periods.bounds(*r) for r in ranges] if ranges is not None else [periods.bounds(None, None)]
    in_batch = f"{names.BATCH_ID} = ?" if batch_id is not None else "true"
    batch_params: list[object] = [batch_id] if batch_id is not None else []
    dated_range = " OR ".join(f"{names.INVOICE_DATE} BETWEEN ? AND ?" for _ in spans)
    month = f"CAST(date_trunc('month', {names.INVOICE_DATE}) AS DATE)"
    dated = (
        f"SELECT {', '.join(month + ' AS ' + k if k == names.MONTH else k for k in keys)},\n"
        f"       sum({names.EXTENDED_PRICE}) AS _spend, sum({names.BASE_QUANTITY}) AS _base,\n"
        f"       sum({names.EXTENDED_PRICE}) FILTER (WHERE {names.BASE_QUANTITY} IS NOT NULL) AS _priced,\n"
        f"       count(*) AS _lines, count({names.BASE_QUANTITY}) AS _based\n"
        f"FROM {names.PURCHASES}\n"
        f"WHERE {names.PERIOD_START} IS NULL AND {in_batch} AND ({dated_range})\nGROUP BY {group}"
    )
    # a period line: one slice per range and calendar month it overlaps, with its share (`coop.store.periods`)
    cents = f"CAST(p.{periods.CENTS} AS DECIMAL(38, 0)) * 0.01"
    spread = (
        f"SELECT {', '.join('p.' + periods.MONTH + ' AS ' + k if k == names.MONTH else 'p.' + k for k in keys)},\n"
        f"       sum({cents}) AS _spend, sum(p.{names.BASE_QUANTITY} * p.{periods.SHARE}) AS _base,\n"
        f"       sum({cents}) FILTER (WHERE p.{names.BASE_QUANTITY} IS NOT NULL) AS _priced,\n"
        f"       count(*) FILTER (WHERE p.{periods.COUNTED}) AS _lines,\n"
        f"       count(p.{names.BASE_QUANTITY}) FILTER (WHERE p.{periods.COUNTED}) AS _based\n"
        f"FROM ({periods.slices_sql(spans, in_batch)}) p\nGROUP BY {group}"
    )
    params: list[object] = [
        *batch_params,
        *(d for span in spans for d in span),
        *periods.range_params(spans),
        *batch_params,
    ]
    fine = f"{dated}\nUNION ALL\n{spread}"
    selects = []
    for grain, base in GRAINS.items():
        grain_keys = (*lead, *base, names.MONTH) if monthly or grain == GRAIN_SHARES else (*lead, *base)
        columns = ", ".join(c if c in grain_keys else _null(c) for c in KEY_COLUMNS)
        selects.append(
            f"SELECT {''.join(k + ', ' for k in lead)}'{grain}' AS {names.GRAIN}, {columns},\n       {_FINE_SUMS}\n"
            f"FROM _fine GROUP BY {', '.join(grain_keys)}"
        )
    union = "\nUNION ALL\n".join(selects)
    return f"SELECT * FROM (WITH _fine AS MATERIALIZED (\n{fine}\n)\n{union})", params


_TEXT_KEYS = (names.GRAIN, *(c for c in KEY_COLUMNS if c != names.MONTH))
_BATCH = "summary_batch"  # temporary table: one batch's grain rows while they are keyed and stored
_SAME_KEY = " AND ".join(f"b.{c} IS NOT DISTINCT FROM k.{c}" for c in _TEXT_KEYS)
_STAGE_SQL = f"CREATE OR REPLACE TEMP TABLE {_BATCH} AS\n"
_NEW_KEYS_SQL = f"""
INSERT INTO {names.SUMMARY_KEYS} ({names.KEY_ID}, {", ".join(_TEXT_KEYS)})
SELECT nextval('{names.SUMMARY_KEY_SEQ}'), * FROM (
    SELECT DISTINCT {", ".join(_TEXT_KEYS)} FROM {_BATCH}
    EXCEPT
    SELECT {", ".join(_TEXT_KEYS)} FROM {names.SUMMARY_KEYS}
)"""
_FACT_COLUMNS = ", ".join((names.BATCH_ID, names.KEY_ID, names.GRAIN, names.MONTH, *MEASURES))
_FACTS_SQL = f"""
INSERT INTO {names.PURCHASE_SUMMARY} ({_FACT_COLUMNS})
SELECT b.{names.BATCH_ID}, k.{names.KEY_ID}, b.{names.GRAIN}, b.{names.MONTH}, {", ".join("b." + m for m in MEASURES)}
FROM {_BATCH} b JOIN {names.SUMMARY_KEYS} k ON {_SAME_KEY}"""
# the prices and vendors grains once more per batch and key over all months (month NULL): a range that covers all
# the data reads these ~12x fewer rows instead of summing every month's
_TOTALS_SQL = f"""
INSERT INTO {names.PURCHASE_SUMMARY} ({_FACT_COLUMNS})
SELECT b.{names.BATCH_ID}, k.{names.KEY_ID}, b.{names.GRAIN}, CAST(NULL AS DATE), {GRAIN_SUMS}
FROM {_BATCH} b JOIN {names.SUMMARY_KEYS} k ON {_SAME_KEY}
WHERE b.{names.GRAIN} <> '{GRAIN_SHARES}'
GROUP BY b.{names.BATCH_ID}, k.{names.KEY_ID}, b.{names.GRAIN}"""
_EXISTS_SQL = "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main' AND NOT temporary"
_COUNTS_SQL = f"""
SELECT (SELECT count(*) FROM {names.PURCHASE_LINES}),
       (SELECT coalesce(sum({names.LINES}), 0) FROM {names.PURCHASE_SUMMARY} WHERE {names.GRAIN} = ?),
       (SELECT count(*) FROM {names.PURCHASE_SUMMARY})
"""


def _store_staged(con: duckdb.DuckDBPyConnection) -> None:
    """Key the staged grain rows (new text keys get new ids), append their sums per month and their totals."""
    con.execute(_NEW_KEYS_SQL).fetchall()
    con.execute(_FACTS_SQL).fetchall()
    con.execute(_TOTALS_SQL).fetchall()
    con.execute(f"DROP TABLE {_BATCH}").fetchall()


def summary_grains_sql(*, bounded_from: bool, bounded_to: bool) -> str:
    """SELECT of the summary's grain rows for the whole months in [?, ?) (a bound only when bounded).

    Same columns as `grains_sql(..., monthly=False)`: batches, and months outside the shares grain, summed together.
    Bind the month bounds twice (shares grain, then the others). With no bound the prices and vendors grains come
    from the per-batch totals.
    """
    bounds = [f"{names.MONTH} >= ?"] * bounded_from + [f"{names.MONTH} < ?"] * bounded_to
    months = " AND ".join(bounds) if bounds else f"{names.MONTH} IS NOT NULL"
    others = " AND ".join(bounds) if bounds else f"{names.MONTH} IS NULL"
    summary, grain, key = names.PURCHASE_SUMMARY, names.GRAIN, names.KEY_ID
    sums = f"""SELECT {key}, {names.MONTH}, {GRAIN_SUMS} FROM {summary}
    WHERE {grain} = '{GRAIN_SHARES}' AND {months} GROUP BY {key}, {names.MONTH}
    UNION ALL
    SELECT {key}, CAST(NULL AS DATE), {GRAIN_SUMS} FROM {summary}
    WHERE {grain} <> '{GRAIN_SHARES}' AND {others} GROUP BY {key}"""
    columns = ", ".join(f"s.{c}" if c == names.MONTH else f"k.{c}" for c in KEY_COLUMNS)
    return (
        f"SELECT k.{grain}, {columns}, {', '.join('s.' + m for m in MEASURES)}\n"
        f"FROM ({sums}) s JOIN {names.SUMMARY_KEYS} k USING ({key})"
    )


def exists(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the database has the `purchase_summary` table (databases created before it do not)."""
    ((n,),) = con.execute(_EXISTS_SQL, [names.PURCHASE_SUMMARY]).fetchall()
    return bool(n)


def add_batch(con: duckdb.DuckDBPyConnection, batch_id: int) -> None:
    """Summarise one batch's purchase lines into the summary (call inside the transaction that inserted them)."""
    sql, params = grains_sql(None, monthly=True, per_batch=True, batch_id=batch_id)
    con.execute(_STAGE_SQL + sql, params).fetchall()
    _store_staged(con)
    settings.put(con, names.SUMMARY_LAYOUT, LAYOUT)  # connecting rebuilt any older summary (`coop.store.db`)


def remove_batch(con: duckdb.DuckDBPyConnection, batch_id: int) -> None:
    """Delete one batch's summary rows (call inside the transaction that deletes its lines)."""
    if exists(con):
        con.execute(f"DELETE FROM {names.PURCHASE_SUMMARY} WHERE {names.BATCH_ID} = ?", [batch_id]).fetchall()


def rebuild_rows(con: duckdb.DuckDBPyConnection, schema: str) -> int:
    """Recompute the whole summary from the purchase lines in the caller's transaction; return its row count.

    `schema` is schema.sql's text (the caller, `coop.store.db`, owns it): the summary's tables are dropped and
    created again from it, so a summary of an older layout is replaced too.
    """
    con.execute(f"DROP TABLE IF EXISTS {names.PURCHASE_SUMMARY}").fetchall()
    con.execute(f"DROP TABLE IF EXISTS {names.SUMMARY_KEYS}").fetchall()
    con.execute(schema).fetchall()
    sql, params = grains_sql(None, monthly=True, per_batch=True)
    con.execute(_STAGE_SQL + sql, params).fetchall()
    _store_staged(con)
    settings.put(con, names.SUMMARY_LAYOUT, LAYOUT)
    ((rows,),) = con.execute(f"SELECT count(*) FROM {names.PURCHASE_SUMMARY}").fetchall()
    return int(rows)


_PERIOD_LINES_SQL = f"SELECT count(*) FROM {names.PURCHASE_LINES} WHERE {names.PERIOD_START} IS NOT NULL"


def layout_current(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the summary was built in this layout (`LAYOUT`), or no line covers a period (the layouts agree)."""
    if settings.get(con, names.SUMMARY_LAYOUT) == LAYOUT:
        return True
    ((n,),) = con.execute(_PERIOD_LINES_SQL).fetchall()
    return int(n) == 0


def status(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """Whether the summary exists and is current, its rows, and the lines it covers against the lines on file."""
    if not exists(con):
        ((lines,),) = con.execute(f"SELECT count(*) FROM {names.PURCHASE_LINES}").fetchall()
        return {"exists": False, "current": False, "summary_rows": 0, "lines_summarised": 0, "purchase_lines": lines}
    ((lines, summarised, rows),) = con.execute(_COUNTS_SQL, [GRAIN_SHARES]).fetchall()
    return {
        "exists": True,
        "current": int(lines) == int(summarised),
        "summary_rows": int(rows),
        "lines_summarised": int(summarised),
        "purchase_lines": int(lines),
    }


def is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the summary exists and covers exactly as many lines as `purchases` holds."""
    if not exists(con):
        return False
    ((lines, summarised, _),) = con.execute(_COUNTS_SQL, [GRAIN_SHARES]).fetchall()
    return int(lines) == int(summarised)


def whole_months(date_from: date | None, date_to: date | None) -> tuple[date | None, date | None] | None:
    """[first, end) month starts of the whole calendar months inside the inclusive range (None = unbounded side).

    None when no whole month fits (e.g. 2024-01-15..2024-02-10).
    """
    first = None if date_from is None else (date_from if date_from.day == 1 else calendar.next_month(date_from))
    end = None if date_to is None else calendar.month_start(date_to + timedelta(days=1))
    if first is not None and end is not None and first >= end:
        return None
    return first, end


def edge_ranges(date_from: date | None, date_to: date | None) -> list[tuple[date, date]]:
    """Inclusive date ranges of the range's part-months (read from lines, the whole months come from the summary)."""
    whole = whole_months(date_from, date_to)
    if whole is None:
        # no whole month: both bounds are set (an unbounded side always leaves whole months)
        return [(date_from, date_to)] if date_from is not None and date_to is not None else []
    first, end = whole
    edges = []
    if date_from is not None and first is not None and date_from < first:
        edges.append((date_from, first - timedelta(days=1)))
    if date_to is not None and end is not None and end <= date_to:
        edges.append((end, date_to))
    return edges
