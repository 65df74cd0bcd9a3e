"""Cached wrappers for the Local spend page: a district's purchase lines to drill into."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import streamlit as st

from coop import names
from coop.errors import AccessDeniedError
from coop.metrics import lines
from ui import access, session

WHICH = lines.WHICH  # the drill-down's choice of lines: all, local, not local, unknown origin
# the drill-down's columns at first sight (every column is one click away)
DRILL_COLUMNS = [
    names.INVOICE_DATE,
    names.VENDOR_NAME,
    names.DESCRIPTION,
    names.EXTENDED_PRICE,
    names.ORIGIN_STATE,
    "local_basis",
    names.ROUTE,
]


@st.cache_data(show_spinner="Reading the purchase lines…", max_entries=16)
def _drill(_con: duckdb.DuckDBPyConnection, version: str, district_id: str, start: date, end: date) -> pl.DataFrame:
    """One district's purchase lines in the period with locality by its own definition and the route."""
    return lines.district_lines(_con.cursor(), district_id, start, end)


def drill_lines(district_id: str, start: date, end: date, category: str | None, which: str) -> pl.DataFrame:
    """A district's purchase lines, of one category (None = all) and `which` of WHICH (cached per district)."""
    if not access.current_user().may_see(district_id):
        raise AccessDeniedError(f"{district_id}: not one of your districts, so its lines are not shown")
    return lines.pick(_drill(session.connection(), session.data_version(), district_id, start, end), category, which)
