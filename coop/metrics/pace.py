"""Goal pace and data completeness: pure functions over the metrics' monthly table and what is on file.

* Goal pace: from the co-op's spend and local spend so far (months with spend), the monthly local share the
  remaining months to the goal's date need so the cumulative share reaches the goal, assuming each remaining
  month spends the average month so far; and a month against the same month a year before.
* Completeness: per district and calendar month, whether purchase lines are on file for it, or only spend
  allocated from a period total (a usage report's period covering the month), or nothing.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from coop import calendar, names
from coop.metrics.compute import COOP, SCOPE
from coop.store import periods

LINES_ON_FILE = "lines on file"
ALLOCATED = "allocated from a period"
MISSING = "missing"
STATUSES = (LINES_ON_FILE, ALLOCATED, MISSING)


def goal_pace(by_month: pl.LazyFrame, goal_share: float, goal_date: date) -> pl.LazyFrame:
    """One row: spend and local share so far, months left to the goal's month, and the monthly share they need.

    `by_month` is the metrics' monthly table (`scope`, `month`, `total_spend`, `local_spend`); only the 'coop'
    scope is read. `needed_share` is null when no month is left or nothing was spent; above 1 it is out of reach.
    """
    goal_month = goal_date.replace(day=1)
    spent = by_month.filter((pl.col(SCOPE) == COOP) & (pl.col("total_spend") > 0))
    so_far = spent.select(
        pl.col("total_spend").sum().alias("spend_so_far"),
        pl.col("local_spend").sum().alias("local_so_far"),
        pl.col(names.MONTH).max().alias("last_month"),
        pl.len().alias("months_on_file"),
    )
    left = (
        (pl.lit(goal_month).dt.year() - pl.col("last_month").dt.year()) * 12
        + pl.lit(goal_month).dt.month().cast(pl.Int32)
        - pl.col("last_month").dt.month().cast(pl.Int32)
    ).clip(lower_bound=0)
    return so_far.with_columns(
        left.alias("months_left"),
        (pl.col("spend_so_far") / pl.col("months_on_file")).alias("monthly_spend"),
        pl.when(pl.col("spend_so_far") > 0)
        .then(pl.col("local_so_far") / pl.col("spend_so_far"))
        .alias("local_share_so_far"),
        pl.lit(goal_share).alias("goal_local_share"),
        pl.lit(goal_date).alias("goal_date"),
    ).with_columns(
        pl.when((pl.col("months_left") > 0) & (pl.col("monthly_spend") > 0))
        .then(
            (
                pl.col("goal_local_share") * (pl.col("spend_so_far") + pl.col("months_left") * pl.col("monthly_spend"))
                - pl.col("local_so_far")
            )
            / (pl.col("months_left") * pl.col("monthly_spend"))
        )
        .alias("needed_share")
    )


def month_vs_last_year(by_month: pl.LazyFrame, month: date) -> pl.LazyFrame:
    """One row: a month's local share and spend (co-op scope) against the same month a year before (null if none)."""
    last_year = month.replace(year=month.year - 1, day=1)
    coop = by_month.filter(pl.col(SCOPE) == COOP)

    def one(when: date, prefix: str) -> pl.LazyFrame:
        picked = coop.filter(pl.col(names.MONTH) == when).select(
            pl.col("local_share").alias(f"{prefix}_share"), pl.col("total_spend").alias(f"{prefix}_spend")
        )
        empty = pl.LazyFrame(
            {f"{prefix}_share": [None], f"{prefix}_spend": [None]},
            schema={f"{prefix}_share": pl.Float64, f"{prefix}_spend": pl.Float64},
        )
        return pl.concat([picked, empty]).head(1)

    return pl.concat([one(month.replace(day=1), "month"), one(last_year, "last_year")], how="horizontal").with_columns(
        pl.lit(month.replace(day=1)).alias(names.MONTH), pl.lit(last_year).alias("last_year_month")
    )


def completeness(
    dated: pl.LazyFrame, period_lines: pl.LazyFrame, districts: pl.LazyFrame, start: date, end: date
) -> pl.LazyFrame:
    """Per district x calendar month from `start` to `end`: `lines` dated in it, and its `status` (STATUSES).

    `dated`: `district_id`, `month`, `lines` (dated purchase lines per month); `period_lines`: `district_id`,
    `period_start`, `period_end`, `lines` (a usage report's lines per period); `districts`: `district_id`, `name`.
    A month with dated lines is LINES_ON_FILE, else ALLOCATED when a period covers any of its days, else MISSING.
    """
    months = pl.LazyFrame({names.MONTH: calendar.months(start, end)}, schema={names.MONTH: pl.Date})
    grid = districts.select(names.DISTRICT_ID, names.NAME).join(months, how="cross")
    covered = (
        grid.join(period_lines, on=names.DISTRICT_ID, how="inner")
        .filter(
            (pl.col(names.PERIOD_START) <= pl.col(names.MONTH).dt.month_end())
            & (pl.col(names.PERIOD_END) >= pl.col(names.MONTH))
        )
        .group_by(names.DISTRICT_ID, names.MONTH)
        .agg(pl.col("lines").sum().alias("period_lines"))
    )
    return (
        grid.join(dated, on=[names.DISTRICT_ID, names.MONTH], how="left")
        .join(covered, on=[names.DISTRICT_ID, names.MONTH], how="left")
        .with_columns(pl.col("lines").fill_null(0), pl.col("period_lines").fill_null(0))
        .with_columns(
            pl.when(pl.col("lines") > 0)
            .then(pl.lit(LINES_ON_FILE))
            .when(pl.col("period_lines") > 0)
            .then(pl.lit(ALLOCATED))
            .otherwise(pl.lit(MISSING))
            .alias("status")
        )
        .sort(names.NAME, names.MONTH)
    )


def file_age(freshness: pl.LazyFrame, today: date) -> pl.LazyFrame:
    """Per district: days since its last file was loaded (`lines.freshness`' `last_loaded_at`), null if never."""
    return freshness.select(
        names.DISTRICT_ID,
        (pl.lit(today) - pl.col("last_loaded_at").cast(pl.Date)).dt.total_days().alias("days_since_last_file"),
    )


# --- what is on file (the DuckDB boundary) --------------------------------------------------------------------
DATED_SQL = f"""
SELECT {names.DISTRICT_ID}, CAST(date_trunc('month', {names.INVOICE_DATE}) AS DATE) AS {names.MONTH},
       CAST(count(*) AS BIGINT) AS lines
FROM {names.PURCHASE_LINES}
WHERE {names.PERIOD_START} IS NULL
GROUP BY ALL"""
PERIODS_SQL = f"""
SELECT {names.DISTRICT_ID}, {names.PERIOD_START}, {periods.END} AS {names.PERIOD_END}, CAST(count(*) AS BIGINT) AS lines
FROM {names.PURCHASE_LINES}
WHERE {names.PERIOD_START} IS NOT NULL
GROUP BY ALL"""


def on_file(con: duckdb.DuckDBPyConnection) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Dated lines per district and month, and a usage report's lines per district and period (for `completeness`)."""
    return con.sql(DATED_SQL).pl().lazy(), con.sql(PERIODS_SQL).pl().lazy()
