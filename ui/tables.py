"""Tables as people read them: ids in words, every number formatted for its unit, nothing shown as "None".

`show` draws a read-only table through `readable` (route, constraint and vendor-type ids as the paper's and the
registry's English names, school years as 2025-26, sources cited as documents) and `config` (a column
configuration for every column: its name in words with its unit, dollars, percent, whole meals with thousands
separators, dates without a time). Long text wraps inside taller rows instead of being cut at the column's edge.
"""

from __future__ import annotations

import math
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
_WHOLE = re.compile(r"(^|_)(meals|units|volume|capacity|used)($|_)")  # counted things: rounded to whole numbers
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
        return st.column_config.DateColumn(label, format="MMM YYYY" if column == names.MONTH else "YYYY-MM-DD")
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
SHORT_TEXT = 140  # px: a text column the page did not mark wide wraps at this width when space is short
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


def _text_columns(frame: pl.DataFrame, configs: dict[str, Any], shown: list[str]) -> list[str]:
    """The shown columns of text (they can wrap)."""
    kinds = {c: (configs[c].get("type_config") or {}).get("type") for c in shown}
    return [c for c in shown if kinds[c] in ("text", None) and frame.schema[c] == pl.String]


def fitted(frame: pl.DataFrame, configs: dict[str, Any], shown: list[str], budget: int) -> tuple[dict[str, Any], bool]:
    """Column widths that fit the shown columns in `budget` px, and whether text must wrap to fit.

    Columns that fit get the width they need; otherwise numbers, dates and ticks keep what they need and the
    text columns share the rest, the shortest first getting what they need, the longest the remainder (at least
    their header, or `MIN_TEXT`), wrapping inside taller rows. Widths are always set: the grid's own sizing of a
    column runs wider than the page allows.
    """
    need = {c: natural_width(frame, c, configs[c]) for c in shown}
    text = _text_columns(frame, configs, shown)
    given = {c: configs[c].get("width") for c in text}  # a page's width for a text column: it wraps within it
    for c, w in given.items():
        if w is not None:
            need[c] = min(need[c], max(header_width(configs[c], c), NAMED_WIDTHS.get(w, w)))  # type: ignore[call-overload]
    if sum(need.values()) <= budget:  # explicit widths even so: the grid's own sizing runs wider than the page
        return {c: configs[c] if c not in need else {**configs[c], "width": int(need[c])} for c in configs}, False
    out = dict(configs) | {c: {**configs[c], "width": int(need[c])} for c in shown if c not in text}
    for c in text:  # short text (names, kinds) wraps at SHORT_TEXT, leaving room to the long text a page marked
        if given[c] is None and any(given[t] is not None for t in text):
            need[c] = min(need[c], max(SHORT_TEXT, header_width(configs[c], c)))
    left = budget - sum(need[c] for c in shown if c not in text)
    for i, c in enumerate(sorted(text, key=lambda c: need[c])):  # water-filling: short text first
        width = max(min(need[c], left // (len(text) - i)), min(header_width(configs[c], c), need[c]), MIN_TEXT)
        out[c] = {**configs[c], "width": int(width)}
        left -= int(width)
    over = sum(out[c]["width"] for c in shown) - budget
    if over > 0 and text:  # the last resort: text columns narrower than their header
        room = {c: out[c]["width"] - MIN_TEXT for c in text if out[c]["width"] > MIN_TEXT}
        total = sum(room.values()) or 1
        for c, r in room.items():
            out[c]["width"] -= min(r, int(over * r / total) + 1)
    return out, any(need[c] > out[c]["width"] for c in text)


LINE_PX = 21  # px a wrapped line of cell text takes
MAX_LINES = 8  # a row is never taller than this many lines
WHOLE_ROWS = 12  # a wrapping table of at most this many rows is shown whole
WRAP_MIN_HEIGHT = 66  # px: the lowest row Streamlit wraps text in (over 4rem)


def row_height(frame: pl.DataFrame, configs: dict[str, Any], shown: list[str]) -> int:
    """A row height that shows the longest wrapped text of the table whole (up to `MAX_LINES` lines)."""
    lines = 1
    for c in _text_columns(frame, configs, shown):
        width = configs[c].get("width")
        if not isinstance(width, int) or not frame.height:
            continue
        longest = max((len(v) for v in frame[c].head(_SAMPLE).drop_nulls().to_list()), default=0)
        per_line = max(1.0, (width - CELL_PAD) / CHAR_PX) * 0.85  # words wrap before the edge
        lines = max(lines, math.ceil(longest / per_line))
    return max(WRAP_MIN_HEIGHT, LINE_PX * min(lines, MAX_LINES) + 14)


OPTIONAL_COLUMNS = ("allocated_spend",)  # shown only when not all 0: spend allocated from usage reports' periods


def _empty(frame: pl.DataFrame, column: str) -> bool:
    """Whether a column shows nothing: every cell blank, or one of OPTIONAL_COLUMNS holding only 0."""
    if column not in frame.columns or not frame.height:
        return False
    if frame[column].null_count() == frame.height:
        return True
    return column in OPTIONAL_COLUMNS and bool(frame[column].cast(pl.Float64).fill_null(0).abs().sum() == 0)


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
    order = [c for c in (kwargs.get("column_order") or shown.columns) if not _empty(shown, c)]
    kwargs["column_order"] = order
    columns = [c for c in order if configs[c] is not None]
    if fit:
        configs, must_wrap = fitted(shown, configs, columns, fit)
        wrap = wrap or must_wrap
    if wrap:
        kwargs.setdefault("row_height", row_height(shown, configs, columns))
        if shown.height <= WHOLE_ROWS:  # tall rows: a short table is shown whole, not behind a scroll bar
            kwargs.setdefault("height", "content")
    return st.dataframe(shown, column_config=configs, placeholder=BLANK, **kwargs)
