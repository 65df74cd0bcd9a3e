"""Split purchases (seed 004 Q8): invoices from one vendor to one district that together exceed a threshold.

Each invoice is under the micro-purchase threshold in force on its date; within a window of days they exceed it.
The thresholds in force and the methods on record come from `coop.rules.thresholds`.
"""

from __future__ import annotations

from typing import Any, Final

import duckdb
import polars as pl

from coop import calendar, names
from coop.registry import contracts, districts
from coop.rules import thresholds

SPLIT_WINDOW_DAYS: Final = 30

# a split window's figures, on every line of the window
_WINDOW_SCHEMA: Final = {
    "invoice_total": pl.Float64,
    "split_total": pl.Float64,
    "window_total": pl.Float64,
    "invoices": pl.Int64,
    "first_date": pl.Date,
    "last_date": pl.Date,
    "micro_threshold": pl.Float64,
}
SPLIT_SCHEMA: Final = {
    "split_id": pl.Int64,
    names.DISTRICT_ID: pl.String,
    names.VENDOR_NAME: pl.String,
    names.INVOICE_NO: pl.String,
    names.INVOICE_DATE: pl.Date,
    names.SOURCE_ROW: pl.Int64,
    names.DESCRIPTION: pl.String,
    names.EXTENDED_PRICE: pl.Float64,
    **_WINDOW_SCHEMA,
    names.REASON: pl.String,
}
SPLIT_COLUMNS: Final = tuple(SPLIT_SCHEMA)


def split_purchases(
    purchases: pl.LazyFrame,
    districts: pl.DataFrame,
    *,
    contracts: pl.DataFrame | None = None,
    table: pl.DataFrame | None = None,
    window_days: int = SPLIT_WINDOW_DAYS,
) -> pl.LazyFrame:
    """Lines of possible split purchases (seed 004 Q8), one row per line with its `split_id`.

    An invoice is one district, vendor and invoice_no (invoice date when no number). A split is two or more
    invoices from one vendor to one district within `window_days` of the first, each under the micro-purchase
    threshold in force on its date, together exceeding the threshold in force on the last one. Vendors under a
    contract covering the invoice date (formal, small purchase or entitlement) and entitlement vendor types are
    not micro-purchases and are never flagged (e.g. weekly milk deliveries under a formal contract).
    """
    table = thresholds.threshold_table() if table is None else table
    schema = purchases.collect_schema()
    lines = purchases.with_columns(
        pl.coalesce(pl.col(names.INVOICE_NO), pl.col(names.INVOICE_DATE).cast(pl.String)).alias("_invoice"),
        pl.int_range(pl.len()).alias("_line"),
    )
    if names.VENDOR_TYPE in schema:
        lines = lines.filter(~pl.col(names.VENDOR_TYPE).is_in(thresholds.ENTITLEMENT_VENDOR_TYPES))
    lines = thresholds.contract_rank(lines, contracts, ["_line"]).filter(pl.col("_contract") == 0)
    inv_keys = [names.DISTRICT_ID, names.VENDOR_NAME, "_invoice"]
    invoices = lines.group_by(inv_keys).agg(
        pl.col(names.INVOICE_DATE).min(),
        pl.col(names.EXTENDED_PRICE).cast(pl.Float64).sum().alias("invoice_total"),
        pl.lit(False).alias(names.UNPROCESSED),
    )
    invoices = thresholds.with_thresholds(invoices, districts, table, pl.lit(False)).select(
        *inv_keys, names.INVOICE_DATE, "invoice_total", "micro_threshold"
    )
    under = invoices.filter(pl.col("invoice_total") <= pl.col("micro_threshold")).collect()
    if under.height == 0:
        return _empty_split()
    found = _split_windows(under, window_days)
    if found.height == 0:
        return _empty_split()
    involved = found.join(
        lines.collect(), left_on=[names.DISTRICT_ID, names.VENDOR_NAME, "_invoice"], right_on=inv_keys
    )
    for column, dtype in ((names.SOURCE_ROW, pl.Int64), (names.DESCRIPTION, pl.String)):
        if column not in involved.columns:
            involved = involved.with_columns(pl.lit(None, dtype=dtype).alias(column))
    involved = involved.with_columns(pl.col(names.SOURCE_ROW).cast(pl.Int64))
    reason = pl.concat_str(
        [
            pl.col("invoices").cast(pl.String),
            pl.lit(" invoices from "),
            pl.col("first_date").cast(pl.String),
            pl.lit(" to "),
            pl.col("last_date").cast(pl.String),
            pl.lit(", each under the micro-purchase threshold "),
            thresholds.money(pl.col("micro_threshold")),
            pl.lit("; within "),
            pl.lit(str(window_days)),
            pl.lit(" days they total up to "),
            thresholds.money(pl.col("window_total")),
            pl.lit(" (seed 004 Q8: a purchase may not be split to stay under a threshold)"),
        ]
    )
    return (
        involved.with_columns(
            pl.col(names.EXTENDED_PRICE).cast(pl.Float64),
            pl.col(names.INVOICE_NO).cast(pl.String),
            reason.alias(names.REASON),
        )
        .select(SPLIT_COLUMNS)
        .sort("split_id", names.INVOICE_DATE, names.INVOICE_NO)
        .lazy()
    )


def _split_windows(invoices: pl.DataFrame, window_days: int) -> pl.DataFrame:
    """Clusters of under-threshold invoices within the window that together exceed the threshold."""
    rows: list[dict[str, object]] = []
    split_id = 0
    ordered = invoices.sort(names.DISTRICT_ID, names.VENDOR_NAME, names.INVOICE_DATE, "_invoice")
    for (district_id, vendor), group in ordered.group_by([names.DISTRICT_ID, names.VENDOR_NAME], maintain_order=True):
        recs = group.to_dicts()
        # windows [i, j]: invoices within window_days of invoice i whose running total exceeds the threshold
        flagged: list[tuple[int, int, float, float]] = []
        for i, first in enumerate(recs):
            total = 0.0
            for j in range(i, len(recs)):
                if (recs[j][names.INVOICE_DATE] - first[names.INVOICE_DATE]).days > window_days:
                    break
                total += recs[j]["invoice_total"]
                if j > i and total > recs[j]["micro_threshold"]:
                    flagged.append((i, j, total, recs[j]["micro_threshold"]))
        # overlapping windows are one finding: [start, end, largest window total, its threshold]
        merged: list[list[Any]] = []
        for start, end, total, limit in sorted(flagged):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
                if total > merged[-1][2]:
                    merged[-1][2:] = [total, limit]
            else:
                merged.append([start, end, total, limit])
        for start, end, window_total, limit in merged:
            split_id += 1
            members = recs[start : end + 1]
            for r in members:
                rows.append(
                    {
                        "split_id": split_id,
                        names.DISTRICT_ID: district_id,
                        names.VENDOR_NAME: vendor,
                        "_invoice": r["_invoice"],
                        "invoice_total": r["invoice_total"],
                        "split_total": sum(m["invoice_total"] for m in members),
                        "window_total": window_total,
                        "invoices": len(members),
                        "first_date": members[0][names.INVOICE_DATE],
                        "last_date": members[-1][names.INVOICE_DATE],
                        "micro_threshold": limit,
                    }
                )
    return pl.DataFrame(
        rows,
        schema={
            "split_id": pl.Int64,
            names.DISTRICT_ID: pl.String,
            names.VENDOR_NAME: pl.String,
            "_invoice": pl.String,
            **_WINDOW_SCHEMA,
        },
    )


def _empty_split() -> pl.LazyFrame:
    """A split-purchase result with no rows."""
    return pl.DataFrame(schema=SPLIT_SCHEMA).lazy()


def split_purchases_from_db(con: duckdb.DuckDBPyConnection, school_year: int | None = None) -> pl.DataFrame:
    """`split_purchases` over the database (optionally one school year)."""
    purchases = thresholds.load_purchases(con)
    if school_year is not None:
        purchases = purchases.filter(calendar.school_year_expr(names.INVOICE_DATE) == school_year)
    return split_purchases(
        purchases, districts.load(con), contracts=contracts.load(con), table=thresholds.load_thresholds(con)
    ).collect()
