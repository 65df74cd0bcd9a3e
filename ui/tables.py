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


def _offer(value: str) -> str:
    """A pooled-model offer 'route:category/unit' with its route in words."""
    route, _, rest = value.partition(":")
    return f"{ROUTE_LABELS.get(route, route)}: {rest}" if rest else in_words(value)


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
            elif column == "offer":  # 'route:category/unit'
                out = out.with_columns(pl.col(column).map_elements(_offer, return_dtype=pl.String))
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


TABLE_WIDTH = 790  # px a table may take: the main area at a 1280 px wide screen (818 px, measured in Chromium)
CHAR_PX = 6.8  # px per character of the table font (14 px Source Sans: 6.3 text, 7.0 digits, in Chromium)
CELL_PAD = 20  # px of padding in a cell
HEADER_PAD = 36  # px of padding and sort icon in a header
MIN_TEXT = 90  # px: a text column is never made narrower (it wraps instead)
NAMED_WIDTHS = {"small": 75, "medium": 200, "large": 400}
_SAMPLE = 200  # rows looked at to size a column


def _cell_text(value: object, conf: dict[str, Any]) -> str:
    """A cell about as the table shows it, to size its column."""
    form = (conf.get("type_config") or {}).get("format")
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return "xx"
    if isinstance(value, (int, float)):
        number = float(value)
        if form == "percent":
            return f"{number * 100:.2f}%"
        if form in ("dollar", "accounting"):
            return f"${number:,.2f}"
        if form == "localized":
            return f"{number:,.3f}".rstrip("0").rstrip(".")
        return f"{number:.4f}"
    return str(value)


def header_width(conf: dict[str, Any], column: str) -> int:
    """The px a column's header needs on one line."""
    return int(len(str(conf.get("label") or column)) * CHAR_PX + HEADER_PAD)


def natural_width(frame: pl.DataFrame, column: str, conf: dict[str, Any]) -> int:
    """The px a column needs to show its header and its widest cell (sampled) on one line."""
    cells = frame[column].head(_SAMPLE).to_list() if frame.height else []
    widest = max((len(_cell_text(v, conf)) for v in cells), default=0)
    return int(max(header_width(conf, column), widest * CHAR_PX + CELL_PAD))


def fitted(frame: pl.DataFrame, configs: dict[str, Any], shown: list[str], budget: int) -> tuple[dict[str, Any], bool]:
    """Column widths that fit the shown columns in `budget` px, and whether text must wrap to fit.

    Columns that fit get the width they need; otherwise numbers, dates and ticks keep what they need and the
    text columns share the rest (at least `MIN_TEXT` each), wrapping inside taller rows. Widths are always set:
    the grid's own sizing of a column runs wider than the page allows.
    """
    need = {c: natural_width(frame, c, configs[c]) for c in shown}
    text = [c for c in shown if (configs[c].get("type_config") or {}).get("type") in ("text", None)]
    text = [c for c in text if frame.schema[c] == pl.String]
    given = {c: configs[c].get("width") for c in text}  # a page's width for a text column: it wraps within it
    need |= {c: max(header_width(configs[c], c), NAMED_WIDTHS.get(w, w)) for c, w in given.items() if w is not None}  # type: ignore[misc]
    if sum(need.values()) <= budget:  # explicit widths even so: the grid's own sizing runs wider than the page
        return {c: configs[c] if c not in need else {**configs[c], "width": int(need[c])} for c in configs}, False
    fixed = sum(need[c] for c in shown if c not in text)
    share = max(MIN_TEXT, int((budget - fixed) / max(len(text), 1)))
    out = dict(configs)
    for c in shown:
        width = max(min(need[c], share), header_width(configs[c], c)) if c in text else need[c]
        out[c] = {**configs[c], "width": int(width)}
    if text:  # the narrowest fit: shorter text columns give what they do not need to the longer ones
        spare = budget - fixed - sum(out[c]["width"] for c in text)
        longer = [c for c in text if need[c] > out[c]["width"]]
        for c in longer:
            out[c]["width"] += max(0, spare // len(longer))
    over = sum(out[c]["width"] for c in shown) - budget
    if over > 0 and text:  # the last resort: text columns narrower than their header (its words wrap in no cell)
        room = {c: out[c]["width"] - MIN_TEXT for c in text if out[c]["width"] > MIN_TEXT}
        total = sum(room.values())
        for c, r in room.items():
            out[c]["width"] -= min(r, int(over * r / total) + 1)
    return out, any(need[c] > out[c]["width"] for c in text)


OPTIONAL_COLUMNS = ("allocated_spend",)  # shown only when not all 0: spend allocated from usage reports' periods


def _empty_optional(frame: pl.DataFrame, column: str) -> bool:
    """Whether `column` is one of OPTIONAL_COLUMNS and holds nothing but 0 or blanks."""
    if column not in OPTIONAL_COLUMNS or column not in frame.columns:
        return False
    return bool(frame[column].cast(pl.Float64).fill_null(0).abs().sum() == 0)


def show(
    frame: pl.DataFrame,
    column_config: dict[str, Any] | None = None,
    *,
    wrap: bool = False,
    fit: int | None = TABLE_WIDTH,
    **kwargs: Any,
) -> Any:
    """Draw a read-only table in words, formatted for its units, missing values blank; `wrap` for long text.

    With `fit` (px; None for a wide export that scrolls sideways) the columns are sized to fit that width, long
    text wrapping inside taller rows, so no column is cut off.
    """
    shown = readable(frame)
    configs = config(shown, column_config)
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    order = [c for c in (kwargs.get("column_order") or shown.columns) if not _empty_optional(shown, c)]
    kwargs["column_order"] = order
    if fit:
        columns = [c for c in order if configs[c] is not None]
        configs, must_wrap = fitted(shown, configs, columns, fit)
        wrap = wrap or must_wrap
    if wrap:
        kwargs.setdefault("row_height", WRAP_ROW_HEIGHT)
    return st.dataframe(shown, column_config=configs, placeholder=BLANK, **kwargs)
