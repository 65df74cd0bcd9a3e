"""Cached wrappers for the Procurement rules page: thresholds, splits, bids, Buy American, procurement records."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import streamlit as st

from coop import calendar, names
from coop.products import classify
from coop.products.classify import Classification
from coop.registry import districts
from coop.report import words
from coop.rules import bids, buy_american, procurement, splits, thresholds
from coop.rules.bids import BidResult
from coop.rules.buy_american import BuyAmerican
from coop.rules.procurement import Procurement
from ui import session


@st.cache_data(show_spinner=False, max_entries=256)
def classify_text(text: str) -> Classification:
    """Product, category and unprocessed status of an item description, with the rule and its source."""
    return classify.classify(text)


def school_years(start: date, end: date) -> list[int]:
    """School years (July-June, named by their first calendar year) that overlap the period."""
    return calendar.school_years(start, end)


def threshold_rules() -> pl.DataFrame:
    """The dated purchase thresholds that apply to the co-op: federal, its districts' states' and its districts'."""
    cur = session.cursor()
    registered = districts.load(cur)
    states = registered[names.STATE].drop_nulls().unique().to_list()
    ids = registered[names.DISTRICT_ID].to_list()
    table = thresholds.load_thresholds(cur)
    applies = (
        (pl.col(names.JURISDICTION) == thresholds.FEDERAL)
        | ((pl.col(names.JURISDICTION) == thresholds.STATE) & pl.col(names.SCOPE).is_in(states))
        | ((pl.col(names.JURISDICTION) == thresholds.DISTRICT) & pl.col(names.SCOPE).is_in(ids))
    )
    return table.filter(applies)


def cited(texts: tuple[str, ...] | list[str]) -> list[str]:
    """Rule texts as a page shows them: documents cited by their titles."""
    return [words.cite(t) for t in texts]


def classification_words(found: Classification) -> tuple[str, str, str]:
    """A classification's reason, rule and source as a page shows them: documents cited by their titles."""
    return words.cite(found.reason), words.cite(found.rule), words.cite(found.source)


# the columns the threshold check (its reasons are listed under it) and the split purchases show
CHECK_COLUMNS = [names.DISTRICT_ID, names.VENDOR_NAME, "spend", "required_method", "recorded_method", "flag"]
SPLIT_COLUMNS = [
    names.DISTRICT_ID,
    names.VENDOR_NAME,
    names.INVOICE_NO,
    names.INVOICE_DATE,
    names.EXTENDED_PRICE,
    "split_total",
    "reason",
]


@st.cache_data(show_spinner="Checking every district-vendor year against the thresholds…", max_entries=16)
def _thresholds(_con: duckdb.DuckDBPyConnection, version: str, school_year: int) -> pl.DataFrame:
    """Per district x vendor x school year: spend, thresholds in force, required vs recorded method, flag."""
    return thresholds.thresholds_from_db(_con.cursor(), school_year)


def threshold_check(school_year: int, ids: list[str], flagged_only: bool) -> pl.DataFrame:
    """The threshold check for one school year and the chosen districts (flagged rows only when asked)."""
    checked = _thresholds(session.connection(), session.data_version(), school_year)
    return thresholds.review(checked, ids, flagged_only=flagged_only)


def flag_reasons(checked: pl.DataFrame) -> list[str]:
    """Each flagged row's reason and the source of its threshold, in words ('district, vendor: reason (source)')."""
    rows = checked.filter(pl.col("flag")).iter_rows(named=True) if checked.height else []
    return [
        f"{r[names.DISTRICT_ID]}, {r[names.VENDOR_NAME]}: {words.cite(r['reason'] or '')} "
        f"(source: {words.cite(r['source'] or '')})"
        for r in rows
    ]


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


# --- Buy American ------------------------------------------------------------------------------------------------
@st.cache_data(show_spinner="Buy American: origin of every commercial purchase…", max_entries=16)
def _buy_american(_con: duckdb.DuckDBPyConnection, version: str, school_year: int) -> BuyAmerican:
    """Every district's Buy American figures for one school year."""
    return buy_american.buy_american_from_db(_con.cursor(), school_year)


def buy_american_figures(school_year: int, ids: list[str]) -> BuyAmerican:
    """The chosen districts' non-domestic share against the school year's cap, products and exceptions."""
    return _buy_american(session.connection(), session.data_version(), school_year).for_districts(ids)


def cap_text(result: BuyAmerican) -> str:
    """The cap in force, as a metric shows it."""
    return "no cap" if result.cap is None else f"{result.cap:.0%}"


def school_year_label(year: int) -> str:
    """'SY 2025-26'."""
    return buy_american.school_year_label(year)


def add_exception(district_id: str, product: str, reason: str, approved_by: str, approved_on: date) -> int:
    """Record one Buy American exception a district documented."""
    with session.writing() as cur:
        return buy_american.add_exception(cur, district_id, product, reason, approved_by, approved_on)


# --- procurement records -----------------------------------------------------------------------------------------
QUOTE_COLUMNS = procurement.QUOTE_COLUMNS


def example_quotes(district_id: str) -> pl.DataFrame:
    """A quote sheet to start from: one micro-purchase of seed 002's kind for the district."""
    return pl.DataFrame(
        [{
            "procurement_id": "P-1", "district_id": district_id, "date": date.today(), "item": "apples",
            "specification": "Gala, Grade #1, 40 lb cases, delivered weekly to the central kitchen", "quantity": 40.0,
            "unit": "cs", "estimated_value": 1600.0, "vendor_name": "", "vendor_address": "", "meets_specs": None,
            "meets_delivery": None, "quote": None, "accepted": None, "reason": "",
        }],
        schema={k: v for k, v in procurement.QUOTE_SCHEMA.items() if k != "source_row"},
    )  # fmt: skip


def stored_quotes(ids: list[str]) -> pl.DataFrame:
    """The stored quotes of the chosen districts (the columns the page edits)."""
    frame = procurement.load_quotes(session.cursor())
    return frame.filter(pl.col("district_id").is_in(ids)).drop("source_row")


def _numbered(edited: pl.DataFrame) -> pl.DataFrame:
    """Edited quotes with a row number as a spreadsheet would show it (header = row 1), empty rows dropped."""
    frame = edited.filter(pl.col("procurement_id").is_not_null() & (pl.col("procurement_id").str.strip_chars() != ""))
    return frame.with_row_index("source_row", offset=2).with_columns(pl.col("source_row").cast(pl.Int64))


def check_quotes(edited: pl.DataFrame) -> list[Procurement]:
    """The edited quotes checked (method, problems, award) and linked to the purchases that followed."""
    frame = _numbered(edited).select(list(procurement.QUOTE_SCHEMA)).cast(procurement.QUOTE_SCHEMA)
    return procurement.records_from_db(session.cursor(), frame) if frame.height else []


def read_quotes_upload(name: str, content: bytes) -> pl.DataFrame:
    """Quotes from an uploaded CSV/XLSX; bad cells named by row and column."""
    known = districts.load(session.cursor())["district_id"].to_list()
    return procurement.read_quotes(session.save_upload(name, content), known).drop("source_row")


def save_quotes(edited: pl.DataFrame) -> int:
    """Keep the edited quotes (a procurement saved again replaces its rows)."""
    frame = _numbered(edited).select(list(procurement.QUOTE_SCHEMA)).cast(procurement.QUOTE_SCHEMA)
    with session.writing() as cur:
        return procurement.store(cur, frame)


def records_table(records: list[Procurement]) -> pl.DataFrame:
    """One row per procurement: method, quotes, complete, award, linked spend, problems."""
    return pl.DataFrame(
        [
            {
                "procurement_id": p.procurement_id,
                "district_id": p.district_id,
                "date": p.date,
                "item": p.item,
                "estimated_value": p.estimated_value,
                "method": p.method,
                "quotes": p.quotes.height,
                "complete": p.complete,
                "award": f"{p.award['vendor_name']} (${p.award['quote']:,.2f})" if p.award else "",
                "linked_spend": p.linked_spend,
                "problems": "; ".join(p.problems),
            }
            for p in records
        ],
        schema={
            "procurement_id": pl.String, "district_id": pl.String, "date": pl.Date, "item": pl.String,
            "estimated_value": pl.Float64, "method": pl.String, "quotes": pl.Int64, "complete": pl.Boolean,
            "award": pl.String, "linked_spend": pl.Float64, "problems": pl.String,
        },
    )  # fmt: skip


def worksheet_html(record: Procurement) -> bytes:
    """The printable worksheet of one procurement."""
    return procurement.render_html(record).encode("utf-8")


def worksheet_xlsx(record: Procurement) -> bytes:
    """The worksheet of one procurement as XLSX."""
    return procurement.xlsx_bytes(record)


@st.cache_data(show_spinner="Looking for spend with no procurement record…", max_entries=16)
def _unrecorded(_con: duckdb.DuckDBPyConnection, version: str, school_year: int) -> pl.DataFrame:
    """Spend with neither a procurement record nor a contract on record, per district, vendor and school year."""
    return procurement.unrecorded_from_db(_con.cursor(), school_year)


def unrecorded_spend(school_year: int, ids: list[str]) -> pl.DataFrame:
    """The chosen districts' spend with no procurement record behind it in one school year."""
    return thresholds.for_districts(_unrecorded(session.connection(), session.data_version(), school_year), ids)
