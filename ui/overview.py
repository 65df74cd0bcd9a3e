"""Cached wrappers for the Overview page: the district table with each district's data freshness."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import streamlit as st

from coop import calendar, names
from coop.metrics import lines, pace, selection
from coop.metrics.compute import Metrics
from coop.registry import districts
from ui import metrics, session

STATUSES = pace.STATUSES


@st.cache_data(show_spinner=False)
def _freshness(_con: duckdb.DuckDBPyConnection, version: str) -> pl.DataFrame:
    """Per district: last invoice date, lines on file and when its data was last loaded."""
    return lines.freshness(_con.cursor())


def freshness() -> pl.DataFrame:
    """Per district: last invoice date, lines on file and when its data was last loaded (cached)."""
    return _freshness(session.connection(), session.data_version())


def district_table(m: Metrics) -> pl.DataFrame:
    """The district table: name, spend, local share, goal, unknown-origin spend and freshness, largest spend first."""
    return selection.district_table(m, freshness(), date.today())


def district_columns(table: pl.DataFrame) -> list[str]:
    """The district table's columns as shown: name first (`table` is the district table)."""
    # ids: in the Data on file table; the allocated column only when not all 0 (ui.tables.OPTIONAL_COLUMNS)
    return [names.NAME, "total_spend", "local_spend", "local_share", "goal_met", "unknown_origin_spend",
            "allocated_spend", "lines"]  # fmt: skip


def reporting(m: Metrics) -> int:
    """How many of the districts shown bought anything in the period."""
    return selection.reporting(m)


def goal_pace(m: Metrics) -> dict[str, object]:
    """Spend and local share so far, months left to the goal and the monthly local share they need."""
    return pace.goal_pace(m.by_month.lazy(), m.goal_local_share, m.goal_date).collect().row(0, named=True)


def month_vs_last_year(month: date, ids: list[str]) -> dict[str, object]:
    """A month's local share against the same month a year before, for the districts chosen."""
    before = month.replace(year=month.year - 1, day=1)
    m = metrics.metrics_for(before, calendar.month_end(month), ids)
    return pace.month_vs_last_year(m.by_month.lazy(), month).collect().row(0, named=True)


@st.cache_data(show_spinner=False)
def _completeness(_con: duckdb.DuckDBPyConnection, version: str, start: date, end: date) -> pl.DataFrame:
    """Per district x month: dated lines, allocated from a period, or missing."""
    cur = _con.cursor()
    dated, period_lines = pace.on_file(cur)
    return pace.completeness(dated, period_lines, districts.load(cur).lazy(), start, end).collect()


def completeness(start: date, end: date, ids: list[str]) -> pl.DataFrame:
    """What is on file per chosen district and calendar month of the period (cached until the data changes)."""
    grid = _completeness(session.connection(), session.data_version(), start, end)
    return grid.filter(pl.col("district_id").is_in(ids))


def file_age(ids: list[str]) -> pl.DataFrame:
    """Per chosen district, oldest file first: name, latest invoice, last loaded, days since each, id last."""
    today = date.today()
    fresh = freshness().filter(pl.col(names.DISTRICT_ID).is_in(ids))
    ages = pace.file_age(fresh.lazy(), today).collect()
    return (
        fresh.join(ages, on=names.DISTRICT_ID, how="left")
        .with_columns((pl.lit(today) - pl.col("last_invoice_date")).dt.total_days().alias("days_since_last_invoice"))
        .select(
            names.NAME,
            "last_invoice_date",
            "days_since_last_invoice",
            "last_loaded_at",
            "days_since_last_file",
            names.DISTRICT_ID,
        )
        .sort("days_since_last_file", descending=True, nulls_last=False)
    )
