"""Tables as people read them: ids in words, every number formatted for its unit, nothing shown as "None".

`show` draws a read-only table through `readable` (route, constraint and vendor-type ids as the paper's and the
registry's English names, school years as 2025-26, sources cited as documents) and `config` (a column
configuration for every column: its name in words with its unit, dollars, percent, whole meals with thousands
separators, dates without a time). Long text wraps inside taller rows instead of being cut at the column's edge.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl
import streamlit as st

from coop import names
from coop.report.build import HEADERS
from coop.report.charts import CONSTRAINT_LABELS, ROUTE_LABELS
from coop.report.words import VENDOR_TYPE_WORDS, cite

# columns whose values are route or constraint ids, or lists of them ("a, b")
ID_COLUMNS = (names.ROUTE, "varied", "of", "constraint", "conflicts")
ID_LABELS = {**ROUTE_LABELS, **CONSTRAINT_LABELS}
CITED_COLUMNS = ("source", names.REASON, "rule")  # text that may cite the project's reference texts
SCHOOL_YEAR = "school_year"
WRAP_ROW_HEIGHT = 76  # px: three lines of text (Streamlit wraps text only in rows taller than 4rem)
BLANK = ""  # what a missing value shows: an empty cell, never "None" or "NaN"
# integer columns that are ids or positions, not counts: shown without thousands separators
PLAIN_INTEGERS = (names.BATCH_ID, names.SOURCE_ROW, "rank", "split_id", "tier", names.ROW)
_SHARE = re.compile(r"(^|_)(share|premium)($|_)")
_MONEY = re.compile(r"spend|cost|price|saving|quote|excess|threshold|total|value|dollars")
_COUNT = re.compile(r"(^|_)(meals|units|quantity|volume|capacity|used|lines|invoices|quotes|rows|districts)($|_)")
_WHOLE = re.compile(r"(^|_)(meals|units)($|_)")  # counted things: rounded to whole numbers
EXTRA_HEADERS = {
    "constraint": "Constraint",
    "requirement": "What it requires",
    "meaning": "What it means",
    "varied": "Route varied",
    "of": "Of",
    "sense": "Comparison",
    "rhs": "Limit",
    "target_per_meal": "Target per meal",
    "factor": "Cost factor",
    "status": "Status",
    "conflicts": "Constraints in conflict",
    "kind": "Kind",
    "binding": "Binding",
    "school_year": "School year",
    "jurisdiction": "Jurisdiction",
    "scope": "Applies to",
    "local_basis": "Why it is local",
    "unknown_origin": "Unknown origin",
    "local": "Local",
    "offer": "Offer",
    "quantity": "Quantity",
}


def school_year(year: int) -> str:
    """A school year (named by its first calendar year) as people write it: 2025 -> '2025-26'."""
    return f"{year}-{(year + 1) % 100:02d}"


def in_words(value: str) -> str:
    """A route or constraint id (or a list of them, 'a, b') as the paper's English names."""
    return ", ".join(ID_LABELS.get(part, part) for part in value.split(", "))


def _route_column(column: str) -> str | None:
    """The route a column is about when its name is a route id (`direct_local`, `meals_direct_local`)."""
    for route in names.ROUTES:
        if column in (route, f"meals_{route}"):
            return route
    return None


def header(column: str) -> str:
    """A column's name in words: the packet's header, a route's or constraint's English name, else sentence case."""
    if route := _route_column(column):
        return f"Meals: {ROUTE_LABELS[route]}" if column.startswith("meals_") else ROUTE_LABELS[route]
    return EXTRA_HEADERS.get(column) or HEADERS.get(column) or column.replace("_", " ").capitalize()


def readable(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame's values as people read them: ids in words, school years as 2025-26, sources cited as documents."""
    out = frame
    for column, schema in frame.schema.items():
        if schema == pl.String:
            if column in ID_COLUMNS:
                out = out.with_columns(pl.col(column).map_elements(in_words, return_dtype=pl.String))
            elif column == names.VENDOR_TYPE:
                out = out.with_columns(pl.col(column).replace(VENDOR_TYPE_WORDS))
            elif column in ("local_basis", "method"):
                out = out.with_columns(pl.col(column).str.replace_all("_", " "))
            elif column in CITED_COLUMNS:
                out = out.with_columns(pl.col(column).map_elements(cite, return_dtype=pl.String))
        elif column == SCHOOL_YEAR and schema.is_integer():
            out = out.with_columns(pl.col(column).map_elements(school_year, return_dtype=pl.String))
        elif schema.is_float() and _WHOLE.search(column):
            out = out.with_columns(pl.col(column).round(0))
    return out


def column_kind(column: str, dtype: pl.DataType) -> str:
    """How a column's values are shown: share, money, count, integer, number, date, datetime, bool or text."""
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype == pl.Boolean:
        return "bool"
    if not (dtype.is_numeric() or isinstance(dtype, pl.Decimal)):
        return "text"
    if column in PLAIN_INTEGERS or column == SCHOOL_YEAR:
        return "integer"
    if _SHARE.search(column):
        return "share"
    if _route_column(column) and not column.startswith("meals_"):
        return "number"  # a constraint's coefficient on a route
    if _COUNT.search(column):
        return "count"
    if _MONEY.search(column):
        return "money"
    return "count" if dtype.is_integer() else "number"


def default_config(column: str, dtype: pl.DataType) -> Any:
    """The column configuration a column gets when the page gives none: its name in words, formatted for its unit."""
    kind = column_kind(column, dtype)
    label = header(column)
    if kind == "date":
        return st.column_config.DateColumn(label, format="YYYY-MM-DD")
    if kind == "datetime":
        return st.column_config.DatetimeColumn(label, format="YYYY-MM-DD HH:mm")
    if kind == "bool":
        return st.column_config.CheckboxColumn(label)
    if kind == "text":
        return st.column_config.TextColumn(label)
    formats = {"share": "percent", "money": "dollar", "count": "localized", "integer": "%d", "number": "localized"}
    return st.column_config.NumberColumn(f"{label} ($)" if kind == "money" else label, format=formats[kind])


def config(frame: pl.DataFrame, given: dict[str, Any] | None = None) -> dict[str, Any]:
    """A column configuration for every column of `frame`: the page's own where given, `default_config` elsewhere."""
    given = given or {}
    return {c: given[c] if c in given else default_config(c, t) for c, t in frame.schema.items()}


def show(
    frame: pl.DataFrame,
    column_config: dict[str, Any] | None = None,
    *,
    wrap: bool = False,
    **kwargs: Any,
) -> Any:
    """Draw a read-only table in words, formatted for its units, missing values blank; `wrap` for long text."""
    shown = readable(frame)
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    if wrap:
        kwargs.setdefault("row_height", WRAP_ROW_HEIGHT)
    return st.dataframe(shown, column_config=config(shown, column_config), placeholder=BLANK, **kwargs)
