"""Cached wrappers for the Price premiums page: one product's unit prices over time."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import streamlit as st

from coop import names
from coop.metrics import lines
from ui import access, session

# the commodity table's columns (quantities are one scroll of the caption away: prices already divide by them)
COMMODITY_COLUMNS = [
    names.PRODUCT,
    names.BASE_UNIT,
    "local_unit_price",
    "nonlocal_unit_price",
    "premium",
    "local_spend",
    "nonlocal_spend",
]


@st.cache_data(show_spinner="Computing unit prices…", max_entries=16)
def _unit_prices(
    _con: duckdb.DuckDBPyConnection, version: str, start: date, end: date, ids: tuple[str, ...], product: str
) -> pl.DataFrame:
    """Average price per base unit per month for local and non-local lines of one product."""
    return lines.unit_prices(_con.cursor(), start, end, ids, product)


def unit_prices(start: date, end: date, ids: list[str], product: str) -> pl.DataFrame:
    """Average price per base unit per month, local vs non-local, for one product, of the user's districts (cached)."""
    mine = tuple(sorted(access.visible_ids(access.current_user(), ids)))
    return _unit_prices(session.connection(), session.data_version(), start, end, mine, product)


def products(commodity_premiums: pl.DataFrame) -> list[str]:
    """The products that have a premium, in name order."""
    return sorted(set(commodity_premiums[names.PRODUCT].to_list()))


def unit_label(prices: pl.DataFrame) -> str:
    """The base unit the prices are in, or 'base unit' when they mix units."""
    units = set(prices[names.BASE_UNIT].to_list()) if prices.height else {"unit"}
    return units.pop() if len(units) == 1 else "base unit"


def unpriced(frame: pl.DataFrame) -> tuple[int, float]:
    """Lines and spend left out of premiums (no convertible unit) from one scope's `unpriced` rows."""
    if not frame.height:
        return 0, 0.0
    return int(frame["lines"][0] or 0), float(frame["spend"][0] or 0.0)
