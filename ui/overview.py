"""Cached wrappers for the Overview page: the district table with each district's data freshness."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import streamlit as st

from coop.metrics import lines, selection
from coop.metrics.compute import Metrics
from ui import session


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


def reporting(m: Metrics) -> int:
    """How many of the districts shown bought anything in the period."""
    return selection.reporting(m)
