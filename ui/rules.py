"""Cached wrappers for the Procurement rules page: thresholds, split purchases, bid scoring, the classifier."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import streamlit as st

from coop import calendar
from coop.products import classify
from coop.products.classify import Classification
from coop.rules import bids, splits, thresholds
from coop.rules.bids import BidResult
from ui import session


@st.cache_data(show_spinner=False, max_entries=256)
def classify_text(text: str) -> Classification:
    """Product, category and unprocessed status of an item description, with the rule and its source."""
    return classify.classify(text)


def school_years(start: date, end: date) -> list[int]:
    """School years (July-June, named by their first calendar year) that overlap the period."""
    return calendar.school_years(start, end)


def threshold_rules() -> pl.DataFrame:
    """The dated purchase thresholds (federal, state, district) with their sources."""
    return thresholds.load_thresholds(session.cursor())


@st.cache_data(show_spinner="Checking every district-vendor year against the thresholds…", max_entries=16)
def _thresholds(_con: duckdb.DuckDBPyConnection, version: str, school_year: int) -> pl.DataFrame:
    """Per district x vendor x school year: spend, thresholds in force, required vs recorded method, flag."""
    return thresholds.thresholds_from_db(_con.cursor(), school_year)


def threshold_check(school_year: int, ids: list[str], flagged_only: bool) -> pl.DataFrame:
    """The threshold check for one school year and the chosen districts (flagged rows only when asked)."""
    checked = _thresholds(session.connection(), session.data_version(), school_year)
    return thresholds.review(checked, ids, flagged_only=flagged_only)


def flagged(checked: pl.DataFrame) -> int:
    """How many district-vendor years of a threshold check are flagged."""
    return int(checked["flag"].sum()) if checked.height else 0


@st.cache_data(show_spinner="Looking for split purchases…", max_entries=16)
def _splits(_con: duckdb.DuckDBPyConnection, version: str, school_year: int) -> pl.DataFrame:
    """Lines of possible split purchases in one school year, one row per line with its split id."""
    return splits.split_purchases_from_db(_con.cursor(), school_year)


def split_purchases(school_year: int, ids: list[str]) -> pl.DataFrame:
    """Possible split purchases of the chosen districts in one school year."""
    return thresholds.for_districts(_splits(session.connection(), session.data_version(), school_year), ids)


def split_groups(splits: pl.DataFrame) -> int:
    """How many possible split purchases (groups of lines) there are."""
    return splits["split_id"].n_unique() if splits.height else 0


def example_bids() -> pl.DataFrame:
    """Seed 004's worked example: three bids, the second from a bidder meeting the geographic preference."""
    return bids.example_bids()


def read_bids_upload(name: str, content: bytes) -> pl.DataFrame:
    """Bids from an uploaded CSV (bidder, price, meets_preference); bad cells named by row and column."""
    return bids.read_bids(session.save_upload(name, content))


def score_bids(
    frame: pl.DataFrame, *, points: float | None, percent: float | None, among: int | None, item: str | None
) -> BidResult:
    """The bids ranked by evaluated price after the geographic preference (rows without a bidder left out)."""
    return bids.score_bids(
        frame.drop_nulls(bids.BIDDER), points=points, percent=percent, among=among, item=item or None
    )
