"""Cached wrapper for the Audit log page: who loaded, undid, corrected or edited what and when."""

from __future__ import annotations

import duckdb
import polars as pl
import streamlit as st

from coop.store import audit
from ui import session


@st.cache_data(show_spinner=False)
def _entries(_con: duckdb.DuckDBPyConnection, version: str, limit: int) -> pl.DataFrame:
    """The latest audit-log entries, newest first."""
    return audit.entries(_con.cursor(), limit)


def entries(limit: int) -> pl.DataFrame:
    """The latest `limit` audit-log entries (cached until the data changes)."""
    return _entries(session.connection(), session.data_version(), limit)
