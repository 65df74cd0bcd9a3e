"""Purchase lines read one by one for the views: a district's lines, one product's unit prices, data freshness.

The drill-down shows a district's lines in a period with locality by its own definition; unit prices compare one
product's local and non-local lines month by month; freshness says, per district, how recent its data is.
"""

from __future__ import annotations

from datetime import date
from typing import Final

import duckdb
import polars as pl

from coop import names
from coop.metrics import local
from coop.registry import districts
from coop.store import batches, periods

ALL: Final = "all"
LOCAL_ONLY: Final = "local"
NOT_LOCAL: Final = "not local"
UNKNOWN: Final = "unknown origin"
WHICH: Final = (ALL, LOCAL_ONLY, NOT_LOCAL, UNKNOWN)  # which of a district's lines to show

SPEND_IN_PERIOD: Final = "spend_in_period"  # a line's spend in the period shown (a period line: its share)
_DRILL_COLUMNS = (
    names.INVOICE_DATE, names.PERIOD_START, names.PERIOD_END, names.VENDOR_NAME, names.VENDOR_TYPE,
    names.VENDOR_TYPE_RULE, names.DESCRIPTION, names.PRODUCT, names.CATEGORY, names.QUANTITY, names.UNIT,
    names.UNIT_PRICE,
)  # fmt: skip
_DRILL_TAIL = (names.ORIGIN_STATE, names.ORIGIN_ZIP, names.INVOICE_NO, names.BATCH_ID, names.SOURCE_ROW)
_PRICE = f"CAST({names.EXTENDED_PRICE} AS DOUBLE) AS {names.EXTENDED_PRICE}"
# dated lines in the period as they are; a usage report's lines whose period overlaps it with their share of it
DRILL_SQL: Final = f"""
SELECT * FROM (
    SELECT {", ".join(_DRILL_COLUMNS)}, {_PRICE}, CAST({names.EXTENDED_PRICE} AS DOUBLE) AS {SPEND_IN_PERIOD},
           {", ".join(_DRILL_TAIL)}, {names.DISTRICT_ID}
    FROM {names.PURCHASES}
    WHERE {names.PERIOD_START} IS NULL AND {names.DISTRICT_ID} = ? AND {names.INVOICE_DATE} BETWEEN ? AND ?
    UNION ALL
    SELECT {", ".join(_DRILL_COLUMNS)}, {_PRICE}, CAST(sum({periods.CENTS}) AS DOUBLE) / 100 AS {SPEND_IN_PERIOD},
           {", ".join(_DRILL_TAIL)}, {names.DISTRICT_ID}
    FROM ({periods.slices_sql([(None, None)], f"l.{names.DISTRICT_ID} = ?")})
    GROUP BY ALL
)
ORDER BY {names.INVOICE_DATE}, {names.VENDOR_NAME}, {names.SOURCE_ROW}
"""
PRICE_SQL: Final = f"""
SELECT {names.DISTRICT_ID}, CAST(date_trunc('month', {names.INVOICE_DATE}) AS DATE) AS {names.MONTH},
       {names.BASE_UNIT}, {names.ORIGIN_ZIP}, {names.ORIGIN_STATE},
       CAST(sum({names.EXTENDED_PRICE}) AS DOUBLE) AS spend, sum({names.BASE_QUANTITY}) AS {names.BASE_QUANTITY}
FROM {names.PURCHASES}
WHERE {names.PRODUCT} = ? AND {names.INVOICE_DATE} BETWEEN ? AND ? AND {names.BASE_QUANTITY} > 0
GROUP BY ALL
"""
FRESHNESS_SQL: Final = f"""
SELECT {names.DISTRICT_ID}, max({names.INVOICE_DATE}) AS last_invoice_date, count(*) AS lines
FROM {names.PURCHASE_LINES}
GROUP BY {names.DISTRICT_ID}
"""


def district_lines(con: duckdb.DuckDBPyConnection, district_id: str, start: date, end: date) -> pl.DataFrame:
    """One district's purchase lines in the inclusive period, with locality by its own definition and the route.

    A line from a usage report whose period overlaps is listed with its period and `spend_in_period`, the share of
    its extended price that falls in the days shown (`coop.store.periods`); a dated line's is its extended price.
    """
    params = [district_id, start, end, *periods.range_params([(start, end)]), district_id]
    lines = con.sql(DRILL_SQL, params=params).pl().lazy()
    return local.localize(lines, districts.load(con).lazy()).collect()


def pick(lines: pl.DataFrame, category: str | None, which: str) -> pl.DataFrame:
    """The lines of one category (None = all) that are `which` of WHICH: all, local, not local, unknown origin."""
    if category:
        lines = lines.filter(pl.col(names.CATEGORY) == category)
    if which == LOCAL_ONLY:
        return lines.filter(pl.col(local.LOCAL))
    if which == NOT_LOCAL:
        return lines.filter(~pl.col(local.LOCAL) & ~pl.col(local.UNKNOWN_ORIGIN))
    if which == UNKNOWN:
        return lines.filter(pl.col(local.UNKNOWN_ORIGIN))
    return lines


def unit_prices(
    con: duckdb.DuckDBPyConnection, start: date, end: date, district_ids: list[str] | tuple[str, ...], product: str
) -> pl.DataFrame:
    """Per month: spend / base quantity of one product's local and non-local lines (`origin` Local or Non-local)."""
    lines = (
        con.sql(PRICE_SQL, params=[product, start, end])
        .pl()
        .lazy()
        .filter(pl.col(names.DISTRICT_ID).is_in(list(district_ids)))
    )
    return (
        local.with_locality(lines, districts.load(con).lazy())
        .group_by(names.MONTH, local.LOCAL, names.BASE_UNIT)
        .agg(
            (pl.col("spend").sum() / pl.col(names.BASE_QUANTITY).sum()).alias("unit_price"),
            pl.col(names.BASE_QUANTITY).sum().alias("base_quantity"),
        )
        .with_columns(pl.when(pl.col(local.LOCAL)).then(pl.lit("Local")).otherwise(pl.lit("Non-local")).alias("origin"))
        .sort(names.MONTH, "origin")
        .collect()
    )


def freshness(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Per registered district: name, last invoice date and lines on file, and when its data was last loaded."""
    lines = con.sql(FRESHNESS_SQL).pl()
    loaded = (
        batches.list_batches(con)
        .filter(pl.col(names.DISTRICT_ID).is_not_null())
        .group_by(names.DISTRICT_ID)
        .agg(pl.col(names.LOADED_AT).max().alias("last_loaded_at"))
    )
    return (
        districts.load(con)
        .select(names.DISTRICT_ID, names.NAME)
        .join(lines, on=names.DISTRICT_ID, how="left")
        .join(loaded, on=names.DISTRICT_ID, how="left")
        .sort(names.DISTRICT_ID)
    )
