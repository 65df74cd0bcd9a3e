"""Validated, atomic loading of purchase lines: one file or frame = one batch = one transaction."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from coop import names, parsing
from coop.errors import ValidationError
from coop.ingest import readers
from coop.store import lines, summary

Progress = Callable[[float, str], None]

DEFAULT_EARLIEST_DATE = date(2000, 7, 1)
ERROR = "error"
WARNING = "warning"
# DuckDB's buffer cap while a big load is checkpointed into the database file (uncapped, that took 3 GB for 10M
# lines); the previous limit is restored right after
INGEST_MEMORY_LIMIT = "1GB"
# rows inserted straight from memory into the open transaction; DuckDB keeps those in memory until COMMIT (about
# 300 MB per million lines), so later chunks go through a Parquet spool file, whose inserts it writes to disk.
# Measured at 10M lines: peak 1.98 GB with 1.5M direct rows, 1.83-1.93 GB with 1M, 1.56-1.59 GB with none (so a
# file over SPOOL_ALL_BYTES is spooled from its first line); a 1M-line file loads ~15% faster direct than spooled.
DIRECT_INSERT_ROWS = 1_000_000
SPOOL_ALL_BYTES = 256 * 1024 * 1024  # a file bigger than this is spooled from its first line (10M lines: 1.56 GB peak)
# DuckDB's row group size: lines are inserted in whole row groups (the remainder at commit). Inserts of part row
# groups on two threads leave part-filled row groups that DuckDB rewrites at its next checkpoint (about 1 s per
# million lines here, paid by whoever commits next); whole ones are written once.
ROW_GROUP_ROWS = 122_880
PRICE_TOLERANCE = 0.01  # dollars: extended_price may differ from quantity x unit_price by at most 1 cent
_EPS = 1e-9
_THOUSANDS = r"^[-(]?\d{1,3}(,\d{3})+(\.\d*)?\)?$"
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d", "%m-%d-%Y")

# columns kept as text, the required ones first
_TEXT_COLUMNS = (
    names.DISTRICT_ID,
    names.VENDOR_NAME,
    names.VENDOR_TYPE,
    names.PRODUCT,
    names.DESCRIPTION,
    names.CATEGORY,
    names.UNIT,
    names.PACK_SIZE,
    names.ORIGIN_STATE,
    names.ORIGIN_ZIP,
    names.INVOICE_NO,
)
# canonical order in which problems on one row are listed
_COLUMN_ORDER = (
    names.DISTRICT_ID,
    names.INVOICE_DATE,
    names.PERIOD_START,
    names.PERIOD_END,
    names.VENDOR_NAME,
    names.VENDOR_TYPE,
    names.PRODUCT,
    names.DESCRIPTION,
    names.CATEGORY,
    names.UNPROCESSED,
    names.QUANTITY,
    names.UNIT,
    names.PACK_SIZE,
    names.UNIT_PRICE,
    names.EXTENDED_PRICE,
    names.ORIGIN_STATE,
    names.ORIGIN_ZIP,
    names.INVOICE_NO,
)
_UNIT_NOTE = "_unit_note"
# what an insert reads per line: purchase_lines' columns (less the batch id and key it makes) and the key's columns
# that purchase_lines keeps as item and pack ids
_STAGED_COLUMNS = [c for c in lines.LINE_COLUMNS if c not in (names.BATCH_ID, names.LINE_KEY)] + [
    c for c in lines.KEY_COLUMNS if c not in lines.LINE_COLUMNS
]
_VENDOR_TYPE_LIST = ", ".join(names.VENDOR_TYPES)
_CATEGORY_LIST = ", ".join(names.CATEGORIES)


@dataclass(frozen=True)
class IngestResult:
    """Outcome of one ingest: the new batch (or the batch that already has the file) and every problem."""

    batch_id: int | None
    rows_loaded: int
    rows_rejected: int
    already_loaded_as: int | None
    problems: tuple[dict[str, Any], ...] = ()

    @property
    def warnings(self) -> int:
        """Number of flagged-but-loaded problems."""
        return sum(1 for p in self.problems if p.get("severity") == WARNING)

    def to_json(self) -> dict[str, Any]:
        """The CLI's JSON: batch_id, rows_loaded, rows_rejected, already_loaded_as, warnings."""
        return {
            "batch_id": self.batch_id,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "already_loaded_as": self.already_loaded_as,
            "warnings": self.warnings,
        }


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def batch_with_sha256(con: duckdb.DuckDBPyConnection, sha256: str) -> int | None:
    """The id of the batch that loaded a file with this sha256, or None."""
    rows = con.execute(
        f"SELECT min({names.BATCH_ID}) FROM {names.BATCHES} WHERE {names.SHA256} = ?", [sha256]
    ).fetchall()
    return None if rows[0][0] is None else int(rows[0][0])


def earliest_date(con: duckdb.DuckDBPyConnection) -> date:
    """The earliest invoice date accepted: setting `earliest_invoice_date`, else 2000-07-01."""
    rows = con.execute(
        f"SELECT {names.SETTING_VALUE} FROM {names.SETTINGS} WHERE {names.SETTING_KEY} = ?",
        [names.EARLIEST_INVOICE_DATE],
    ).fetchall()
    return date.fromisoformat(rows[0][0]) if rows else DEFAULT_EARLIEST_DATE


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    *,
    district_id: str | None,
    mapping: str | None = None,
    sheet: str | None = None,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    save_mapping: str | None = None,
) -> IngestResult:
    """Read, map, validate and load one CSV/XLSX/Parquet file as one batch (no-op if already loaded)."""
    path = Path(path)
    _report(progress, 0.0, f"reading {path.name}")
    if path.exists() and path.stat().st_size == 0:
        raise _empty_file(path.name)
    saved = readers.load_mapping(con, mapping) if mapping else None
    sha = file_sha256(path) if path.exists() else ""
    previous = batch_with_sha256(con, sha) if sha else None
    if previous is not None:
        return IngestResult(None, 0, 0, previous, ())
    try:
        table = readers.open_table(path, sheet)
    except readers.EmptyFileError as exc:
        raise _empty_file(path.name) from exc
    headers = list(table.headers)
    resolved = readers.resolve_mapping(headers, saved)
    readers.apply_mapping(pl.DataFrame(schema={h: pl.String for h in headers} | {names.SOURCE_ROW: pl.Int64}), resolved)
    result = _load(
        con,
        (readers.apply_mapping(chunk, resolved) for chunk in table.batches()),
        [c for c in resolved.values() if c is not None],
        file_name=path.name,
        sha256=sha,
        source_kind=table.source_kind,
        district_id=district_id,
        skip_invalid=skip_invalid,
        progress=progress,
        reader_problems=table.problems,
        shown={canonical: header for header, canonical in resolved.items() if canonical is not None},
        headers=headers,
        size_hint=path.stat().st_size,
        stripped=True,
    )
    if save_mapping:
        readers.save_mapping(con, save_mapping, resolved)
    return result


def load_frame(
    con: duckdb.DuckDBPyConnection,
    frame: pl.DataFrame,
    *,
    file_name: str,
    sha256: str,
    source_kind: str,
    district_id: str | None,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> IngestResult:
    """Validate, classify, convert and load a frame of canonical columns as one batch, atomically."""
    if names.SOURCE_ROW not in frame.columns:
        frame = frame.with_row_index(names.SOURCE_ROW, offset=2)
    frame = frame.with_columns(pl.col(names.SOURCE_ROW).cast(pl.Int64))
    size = readers.CHUNK_ROWS
    chunks = (frame.slice(offset, size) for offset in range(0, max(frame.height, 1), size))
    return _load(
        con,
        chunks,
        list(frame.columns),
        file_name=file_name,
        sha256=sha256,
        source_kind=source_kind,
        district_id=district_id,
        skip_invalid=skip_invalid,
        progress=progress,
        size_hint=None,
    )


# --- internals -----------------------------------------------------------------------
def _report(progress: Progress | None, fraction: float, message: str) -> None:
    """Call the progress callback when there is one."""
    if progress is not None:
        progress(fraction, message)


def _empty_file(file_name: str) -> ValidationError:
    """The error for a file with no header row."""
    problem = {"file": file_name, "row": 1, "column": "(header)", "reason": "file is empty: no header row"}
    return ValidationError(f"{file_name}: file is empty", [{**problem, "severity": ERROR}])


def _problem(file_name: str, row: int, column: str, reason: str, severity: str = ERROR) -> dict[str, Any]:
    """One problem dict."""
    return {"file": file_name, "row": row, "column": column, "reason": reason, "severity": severity}


def _strings(frame: pl.DataFrame, column: str) -> pl.Series:
    """A column as a String series (a no-op for text)."""
    series = frame[column]
    return series if series.dtype == pl.String else series.cast(pl.String)


def _text_expr(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A column as stripped text with empty strings as null."""
    expr = pl.col(column) if frame.schema[column] == pl.String else pl.col(column).cast(pl.String)
    stripped = expr.str.strip_chars()
    return pl.when(stripped == "").then(None).otherwise(stripped).alias(column)


def _nulls(name: str, length: int, dtype: pl.DataType) -> pl.Series:
    """A series of `length` nulls (built natively, not from a Python list)."""
    return pl.repeat(None, length, dtype=dtype, eager=True).alias(name)


def _via_unique(series: pl.Series, parse: Callable[[pl.Series], pl.Series], dtype: pl.DataType) -> pl.Series:
    """`parse` applied once per distinct value of `series`, mapped back onto every row."""
    if series.null_count() == series.len():
        return _nulls(series.name, series.len(), dtype)
    unique = series.drop_nulls().unique()
    parsed = parse(unique)
    return series.replace_strict(unique, parsed, default=None, return_dtype=dtype)


def _clean_numbers(text: pl.Series) -> pl.Series:
    """Text such as '$1,234.50', ' 3 ' or '(12.00)' as numbers; anything else null."""
    expr = pl.col("t").str.replace_all(r"[\s$]", "")
    expr = pl.when(expr.str.contains(_THOUSANDS)).then(expr.str.replace_all(",", "")).otherwise(expr)
    expr = pl.when(expr.str.contains(r"^\(.*\)$")).then(pl.lit("-") + expr.str.strip_chars("()")).otherwise(expr)
    return pl.DataFrame({"t": text}).select(expr.cast(pl.Float64, strict=False)).to_series()


def _number(frame: pl.DataFrame, column: str) -> pl.Series:
    """A column parsed as a finite number ('$1,234.50' and '(12.00)' are numbers); unparseable -> null."""
    series = frame[column]
    if series.null_count() == series.len():
        return _nulls(column, series.len(), pl.Float64)
    if series.dtype.is_numeric():
        values = series.cast(pl.Float64)
    else:
        series = _strings(frame, column)
        values = series.cast(pl.Float64, strict=False)
        retry = series.is_not_null() & values.is_null()
        if retry.any():
            fixed = _via_unique(series.filter(retry), _clean_numbers, pl.Float64)
            values = values.scatter(retry.arg_true(), fixed)
    return pl.select(pl.when(values.is_finite()).then(values)).to_series().rename(column)


def _parse_dates(text: pl.Series) -> pl.Series:
    """Distinct date texts parsed as ISO or US m/d/Y (a time part ignored); unparseable -> null."""
    trimmed = pl.col("t").str.strip_chars().str.replace(r"^(\d{4}-\d{2}-\d{2})[T ].*$", "${1}")
    parsed = pl.coalesce([trimmed.str.strptime(pl.Date, fmt, strict=False) for fmt in _DATE_FORMATS])
    return pl.DataFrame({"t": text}).select(parsed).to_series()


def _date(frame: pl.DataFrame, column: str) -> pl.Series:
    """A column parsed as a date from ISO or US m/d/Y text; unparseable -> null."""
    series = frame[column]
    if series.dtype == pl.Date:
        return series
    if isinstance(series.dtype, pl.Datetime):
        return series.dt.date()
    return _via_unique(_strings(frame, column), _parse_dates, pl.Date).rename(column)


def _boolean(frame: pl.DataFrame, column: str) -> pl.Series:
    """A column parsed as a boolean from yes/no, true/false, y/n, 1/0 in any case; other text -> null."""
    series = frame[column]
    if series.dtype == pl.Boolean:
        return series

    def parse(text: pl.Series) -> pl.Series:
        return pl.DataFrame({"t": text}).select(parsing.bool_expr(pl.col("t"))).to_series()

    return _via_unique(_strings(frame, column), parse, pl.Boolean).rename(column)


def _enum(series: pl.Series) -> pl.Series:
    """Enum text normalised per distinct value: lowercase, spaces and hyphens as underscores."""
    return _via_unique(series, lambda text: text.str.to_lowercase().str.replace_all(r"[\s\-]+", "_"), pl.String).rename(
        series.name
    )


def _missing_columns(columns: Iterable[str]) -> list[tuple[str, str]]:
    """(column, reason) for each required column the frame lacks."""
    have = set(columns)
    missing: list[tuple[str, str]] = []
    if names.DISTRICT_ID not in have:
        missing.append((names.DISTRICT_ID, "required column missing (give --district or a district_id column)"))
    if names.INVOICE_DATE not in have and names.PERIOD_START not in have:
        missing.append((names.INVOICE_DATE, "required column missing (e.g. 'Date', 'Invoice Date')"))
    if names.VENDOR_NAME not in have:
        missing.append((names.VENDOR_NAME, "required column missing (e.g. 'Vendor', 'Supplier')"))
    if names.PRODUCT not in have and names.DESCRIPTION not in have:
        missing.append((names.PRODUCT, "required column missing (e.g. 'Item Description', 'Product')"))
    if names.QUANTITY not in have:
        missing.append((names.QUANTITY, "required column missing (e.g. 'Qty', 'Quantity')"))
    if names.UNIT not in have:
        missing.append((names.UNIT, "required column missing (e.g. 'Unit', 'UOM')"))
    if names.UNIT_PRICE not in have and names.EXTENDED_PRICE not in have:
        missing.append((names.UNIT_PRICE, "required column missing (e.g. 'Price' or 'Ext Price')"))
    return missing


@dataclass
class _Context:
    """What validation and enrichment need across chunks: reference data, caches and running totals."""

    file_name: str
    district_id: str | None
    known: pl.Series
    registry: pl.DataFrame
    today: date
    first_day: date
    shown: dict[str, str]
    stripped: bool = False  # the chunks come from `coop.readers`: text already stripped, blanks already null
    classified: pl.DataFrame | None = None
    converted: pl.DataFrame = field(default_factory=lambda: _NO_UNITS)
    known_rows: dict[str, pl.DataFrame] = field(default_factory=dict)  # purchase_items and purchase_packs with ids
    next_ids: Callable[[str, int], list[int]] = lambda sequence, n: []  # n new ids from a sequence
    new_rows: list[tuple[str, pl.DataFrame]] = field(default_factory=list)  # items and packs to store with the lines

    def label(self, column: str) -> str:
        """The column as the user's file names it."""
        return self.shown.get(column, column)


def _context(
    con: duckdb.DuckDBPyConnection, file_name: str, district_id: str | None, shown: dict[str, str]
) -> _Context:
    """Reference data read once per load: known districts, the vendor registry, the accepted date range."""
    known = con.sql(f"SELECT {names.DISTRICT_ID} FROM {names.DISTRICTS}").pl().to_series().cast(pl.String)
    registry = (
        con.sql(
            f"SELECT lower(trim({names.VENDOR_NAME})) AS _vkey, {names.VENDOR_TYPE} AS _reg_type, "
            f"{names.ORIGIN_STATE} AS _reg_state, {names.ORIGIN_ZIP} AS _reg_zip FROM {names.VENDORS}"
        )
        .pl()
        .cast(pl.String)
        .unique("_vkey", keep="first")
    )
    registry = registry.with_columns(_enum(registry["_reg_type"]).alias("_reg_type_norm"))
    ctx = _Context(file_name, district_id, known, registry, date.today(), earliest_date(con), shown)
    for table in lines.DIMENSIONS:
        ctx.known_rows[table] = con.sql(lines.known_rows_sql(table)).pl()

    def next_ids(sequence: str, n: int) -> list[int]:
        with con.cursor() as cur:  # sequences are not transactional: ids are never handed out twice
            return [int(i) for (i,) in cur.execute(f"SELECT nextval('{sequence}') FROM range(?)", [n]).fetchall()]

    ctx.next_ids = next_ids
    return ctx


def _typed(frame: pl.DataFrame, ctx: _Context) -> pl.DataFrame:
    """Canonical typed columns (vendor registry applied) plus `_raw_<column>` text for parsed columns."""
    for column in _COLUMN_ORDER:
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    parsed = (
        names.INVOICE_DATE,
        names.PERIOD_START,
        names.PERIOD_END,
        names.UNPROCESSED,
        names.QUANTITY,
        names.UNIT_PRICE,
        names.EXTENDED_PRICE,
    )
    texts = frame.select(  # one select, so Polars strips the text columns in parallel
        pl.col(names.SOURCE_ROW),
        *[pl.col(c) if ctx.stripped and frame.schema[c] == pl.String else _text_expr(frame, c) for c in _TEXT_COLUMNS],
        *[pl.col(c).cast(pl.String).alias(f"_raw_{c}") for c in parsed],
    )
    if ctx.district_id is not None:
        texts = texts.with_columns(pl.col(names.DISTRICT_ID).fill_null(pl.lit(ctx.district_id)))
    typed = texts.with_columns(
        *[_date(frame, c) for c in (names.INVOICE_DATE, names.PERIOD_START, names.PERIOD_END)],
        _boolean(frame, names.UNPROCESSED),
        *[_number(frame, c) for c in (names.QUANTITY, names.UNIT_PRICE, names.EXTENDED_PRICE)],
    ).with_columns(pl.col(names.INVOICE_DATE).fill_null(pl.col(names.PERIOD_START)))
    # the file's own types normalised (per distinct value), then the vendor registry fills vendor_type, and origin
    # when the line has none, in one join on the distinct vendor names it knows
    typed = typed.with_columns(
        pl.col(names.VENDOR_TYPE).alias(f"_raw_{names.VENDOR_TYPE}"),
        pl.col(names.CATEGORY).alias(f"_raw_{names.CATEGORY}"),
        _enum(typed[names.VENDOR_TYPE]).alias(names.VENDOR_TYPE),
        _enum(typed[names.CATEGORY]).alias(names.CATEGORY),
    )
    vendors = typed[names.VENDOR_NAME].drop_nulls().unique()
    keyed = (
        pl.DataFrame({names.VENDOR_NAME: vendors, "_vkey": vendors.str.to_lowercase()})
        .join(ctx.registry, on="_vkey", how="inner")
        .drop("_vkey")
    )
    if not keyed.height:
        return typed
    filled = {
        names.VENDOR_TYPE: "_reg_type_norm",
        f"_raw_{names.VENDOR_TYPE}": "_reg_type",
        names.ORIGIN_STATE: "_reg_state",
        names.ORIGIN_ZIP: "_reg_zip",
    }
    return (
        typed.join(keyed, on=names.VENDOR_NAME, how="left", maintain_order="left")
        .with_columns(pl.col(target).fill_null(pl.col(source)) for target, source in filled.items())
        .drop(keyed.columns[1:])
    )


def _rules(ctx: _Context) -> dict[str, list[tuple[pl.Expr, pl.Expr]]]:
    """Per validated column, (condition, reason) pairs in order; the first true condition names the fault."""

    def raw(column: str) -> pl.Expr:
        return pl.col(f"_raw_{column}")

    def iso(value: pl.Expr) -> pl.Expr:
        return value.dt.to_string("%Y-%m-%d")

    def date_rules(column: str, required: bool) -> list[tuple[pl.Expr, pl.Expr]]:
        value = pl.col(column)
        rules = [
            (
                raw(column).is_not_null() & value.is_null(),
                pl.format("not a date: '{}' (use YYYY-MM-DD or M/D/YYYY)", raw(column)),
            )
        ]
        if required:
            rules.append((value.is_null(), pl.lit("required value is empty")))
        first = pl.lit(ctx.first_day.isoformat())
        return [
            *rules,
            (value > pl.lit(ctx.today), pl.format("date {} is in the future", iso(value))),
            (
                value < pl.lit(ctx.first_day),
                pl.format("date {} is before the earliest school year loaded ({})", iso(value), first),
            ),
        ]

    def number_rules(column: str) -> list[tuple[pl.Expr, pl.Expr]]:
        return [(raw(column).is_not_null() & pl.col(column).is_null(), pl.format("not a number: '{}'", raw(column)))]

    empty = pl.lit("required value is empty")
    district, vendor_type = pl.col(names.DISTRICT_ID), pl.col(names.VENDOR_TYPE)
    qty, price, ext = pl.col(names.QUANTITY), pl.col(names.UNIT_PRICE), pl.col(names.EXTENDED_PRICE)
    district_rules = [
        (district.is_null(), empty),
        (
            ~district.is_in(ctx.known.implode()),
            pl.format("unknown district '{}' (register it with `python -m coop districts FILE`)", district),
        ),
    ]
    if ctx.district_id is not None:
        district_rules.append(
            (
                district != pl.lit(ctx.district_id),
                pl.format("district '{}' differs from --district {}", district, pl.lit(ctx.district_id)),
            )
        )
    return {
        names.DISTRICT_ID: district_rules,
        names.INVOICE_DATE: date_rules(names.INVOICE_DATE, required=True),
        names.PERIOD_START: date_rules(names.PERIOD_START, required=False),
        names.PERIOD_END: date_rules(names.PERIOD_END, required=False),
        names.VENDOR_NAME: [(pl.col(names.VENDOR_NAME).is_null(), empty)],
        names.VENDOR_TYPE: [
            (
                vendor_type.is_null(),
                pl.format("no vendor type: vendor '{}' is not in the vendor registry", pl.col(names.VENDOR_NAME)),
            ),
            (
                ~vendor_type.is_in(list(names.VENDOR_TYPES)),
                pl.format("unknown vendor type '{}' (one of {})", raw(names.VENDOR_TYPE), pl.lit(_VENDOR_TYPE_LIST)),
            ),
        ],
        names.PRODUCT: [(pl.col(names.PRODUCT).is_null() & pl.col(names.DESCRIPTION).is_null(), empty)],
        names.CATEGORY: [
            (
                pl.col(names.CATEGORY).is_not_null() & ~pl.col(names.CATEGORY).is_in(list(names.CATEGORIES)),
                pl.format("unknown category '{}' (one of {})", raw(names.CATEGORY), pl.lit(_CATEGORY_LIST)),
            )
        ],
        names.UNPROCESSED: [
            (
                raw(names.UNPROCESSED).is_not_null() & pl.col(names.UNPROCESSED).is_null(),
                pl.format("not a yes/no value: '{}'", raw(names.UNPROCESSED)),
            )
        ],
        names.QUANTITY: [
            *number_rules(names.QUANTITY),
            (qty.is_null(), empty),
            (qty <= 0, pl.format("quantity must be > 0, got {}", raw(names.QUANTITY))),
        ],
        names.UNIT: [(pl.col(names.UNIT).is_null(), empty)],
        names.UNIT_PRICE: [
            *number_rules(names.UNIT_PRICE),
            (
                price.is_null() & ext.is_null() & raw(names.EXTENDED_PRICE).is_null(),
                pl.lit("required value is empty (give unit_price or extended_price)"),
            ),
            (price < 0, pl.format("unit_price must be >= 0, got {}", raw(names.UNIT_PRICE))),
        ],
        names.EXTENDED_PRICE: number_rules(names.EXTENDED_PRICE),
    }


def _validate(typed: pl.DataFrame, ctx: _Context, extra_bad: set[int]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows that pass every rule, one (source_row, column, reason) row per invalid cell) for one chunk."""
    rules = _rules(ctx)
    flags = [pl.any_horizontal([cond.fill_null(False) for cond, _ in pairs]) for pairs in rules.values()]
    bad = pl.any_horizontal(flags)
    if extra_bad:
        bad = bad | pl.col(names.SOURCE_ROW).is_in(list(extra_bad))
    marked = typed.with_columns(bad.alias("_bad"))
    good = marked.filter(~pl.col("_bad")).drop("_bad")
    failing = marked.filter(pl.col("_bad"))
    if failing.is_empty():
        return good, _NO_ERRORS
    reasons = []
    for column, pairs in rules.items():
        cond, msg = pairs[0]
        expr = pl.when(cond.fill_null(False)).then(msg)
        for cond, msg in pairs[1:]:
            expr = expr.when(cond.fill_null(False)).then(msg)
        reasons.append(expr.otherwise(None).alias(column))
    order = {c: i for i, c in enumerate(_COLUMN_ORDER)}
    errors = (
        failing.select(names.SOURCE_ROW, *reasons)
        .unpivot(index=names.SOURCE_ROW, variable_name=names.COLUMN, value_name=names.REASON)
        .drop_nulls(names.REASON)
        .with_columns(pl.col(names.COLUMN).replace_strict(order, default=len(order), return_dtype=pl.Int64).alias("_o"))
        .sort(names.SOURCE_ROW, "_o")
        .drop("_o")
        .with_columns(pl.col(names.COLUMN).replace(ctx.shown))
    )
    return good, errors


_NO_ERRORS = pl.DataFrame(schema={names.SOURCE_ROW: pl.Int64, names.COLUMN: pl.String, names.REASON: pl.String})


_FILE_GIVEN = ("_given", "_file_category", "_file_unprocessed")  # the file's product, category and unprocessed


def _classify(good: pl.DataFrame, ctx: _Context) -> pl.DataFrame:
    """Each line's item (description, product, category, unprocessed, provenance) as an id, with product and category.

    Inference runs once per distinct description, the item once per distinct description and file-given values.
    """
    if good[names.DESCRIPTION].is_not_null().any():
        # the file's item text is the description; a product column alongside it is the commodity
        frame = good.with_columns(
            pl.col(names.DESCRIPTION).fill_null(pl.col(names.PRODUCT)), pl.col(names.PRODUCT).alias("_given")
        )
    else:
        frame = good.with_columns(
            pl.col(names.PRODUCT).alias(names.DESCRIPTION), pl.lit(None, pl.String).alias("_given")
        )
    frame = frame.drop(names.PRODUCT).rename({names.CATEGORY: "_file_category", names.UNPROCESSED: "_file_unprocessed"})
    given = [c for c in _FILE_GIVEN if frame[c].null_count() < frame.height]
    keys = [names.DESCRIPTION, *given]
    distinct = (
        frame.select(keys)
        .unique()
        .with_columns(pl.lit(None, frame.schema[c]).alias(c) for c in _FILE_GIVEN if c not in given)
    )
    needs = pl.col("_given").is_null() | pl.col("_file_category").is_null() | pl.col("_file_unprocessed").is_null()
    wanted = distinct.filter(needs)[names.DESCRIPTION].unique()
    if wanted.len():
        from coop.products import classify

        known = ctx.classified[names.DESCRIPTION] if ctx.classified is not None else pl.Series([], dtype=pl.String)
        new = wanted.filter(~wanted.is_in(known.implode()))
        if new.len():
            found = classify.classify_many(new).select(
                pl.col("description").cast(pl.String).alias(names.DESCRIPTION),
                pl.col("product").cast(pl.String).alias("_c_product"),
                pl.col("category").cast(pl.String).alias("_c_category"),
                pl.col("unprocessed").cast(pl.Boolean).alias("_c_unprocessed"),
                pl.col("confidence").cast(pl.Float64).alias("_c_confidence"),
                pl.col("unprocessed_rule").cast(pl.String).alias("_c_rule"),
            )
            ctx.classified = found if ctx.classified is None else pl.concat([ctx.classified, found])
    inferred = ctx.classified if ctx.classified is not None else _NO_CLASSES
    given_product = pl.col("_given").is_not_null()
    items = distinct.join(inferred, on=names.DESCRIPTION, how="left").select(
        *keys,
        pl.coalesce("_given", "_c_product").alias(names.PRODUCT),
        pl.when(given_product)
        .then(1.0)
        .otherwise(pl.col("_c_confidence"))
        .fill_null(0.0)
        .alias(names.PRODUCT_CONFIDENCE),
        pl.coalesce("_file_category", "_c_category", pl.lit("other")).alias(names.CATEGORY),
        pl.coalesce("_file_unprocessed", "_c_unprocessed", pl.lit(False)).alias(names.UNPROCESSED),
        pl.when(pl.col("_file_unprocessed").is_not_null())
        .then(pl.lit("file"))
        .otherwise(pl.coalesce("_c_rule", pl.lit("unknown")))
        .alias(names.UNPROCESSED_RULE),
    )
    items = _with_ids(items, names.PURCHASE_ITEMS, ctx)
    per_line = items.select(*keys, names.ITEM_ID, names.PRODUCT, names.CATEGORY)
    return frame.join(per_line, on=keys, how="left", nulls_equal=True).drop(_FILE_GIVEN)


def _with_ids(rows: pl.DataFrame, table: str, ctx: _Context) -> pl.DataFrame:
    """`rows` (distinct purchase_items or purchase_packs values) with their ids; new ones numbered and queued."""
    id_column, sequence, columns = lines.DIMENSIONS[table]
    known = ctx.known_rows[table]
    found = rows.join(known, on=list(columns), how="left", nulls_equal=True)
    new = found.filter(pl.col(id_column).is_null()).select(columns).unique()
    if not new.height:
        return found
    new = new.select(pl.Series(id_column, ctx.next_ids(sequence, new.height), dtype=known.schema[id_column]), *columns)
    ctx.known_rows[table] = pl.concat([known, new.cast(known.schema)])
    ctx.new_rows.append((table, new))
    return rows.join(ctx.known_rows[table], on=list(columns), how="left", nulls_equal=True)


_NO_CLASSES = pl.DataFrame(
    schema={
        names.DESCRIPTION: pl.String,
        "_c_product": pl.String,
        "_c_category": pl.String,
        "_c_unprocessed": pl.Boolean,
        "_c_confidence": pl.Float64,
        "_c_rule": pl.String,
    }
)
_UNIT_KEYS = [names.UNIT, names.PACK_SIZE, names.CATEGORY, names.PRODUCT]  # product decides OZ and eggs (coop.units)
_NO_UNITS = pl.DataFrame(  # conversions found so far in a load (`_seen` marks a combination as looked up)
    schema={
        **dict.fromkeys(_UNIT_KEYS, pl.String),
        "_per_unit": pl.Float64,
        names.BASE_UNIT: pl.String,
        _UNIT_NOTE: pl.String,
        names.PACK_ID: pl.Int32,
        "_seen": pl.Boolean,
    }
)


def _base_units(frame: pl.DataFrame, ctx: _Context) -> pl.DataFrame:
    """Add base_quantity, base_unit and pack_id, converting each distinct (unit, pack_size, category, product) once."""
    joined = frame.join(ctx.converted, on=_UNIT_KEYS, how="left", nulls_equal=True)
    new = joined.filter(pl.col("_seen").is_null()).select(_UNIT_KEYS).unique()
    if new.height:  # combinations not converted yet in this load: convert them once, then join again
        from coop.products import units

        normalised = units.normalise(new.with_columns(pl.lit(1.0).alias(names.QUANTITY)))
        note = pl.col(units.UNIT_NOTE) if units.UNIT_NOTE in normalised.columns else pl.lit(None, pl.String)
        found = normalised.select(
            *_UNIT_KEYS,
            pl.col(names.BASE_QUANTITY).cast(pl.Float64).alias("_per_unit"),
            pl.col(names.BASE_UNIT).cast(pl.String),
            note.cast(pl.String).alias(_UNIT_NOTE),
        )
        packs = _with_ids(found.select(lines.PACK_COLUMNS).unique(), names.PURCHASE_PACKS, ctx)
        found = found.join(packs, on=list(lines.PACK_COLUMNS), how="left", nulls_equal=True).with_columns(
            pl.lit(True).alias("_seen")
        )
        ctx.converted = pl.concat([ctx.converted, found.select(ctx.converted.columns).cast(ctx.converted.schema)])
        joined = frame.join(ctx.converted, on=_UNIT_KEYS, how="left", nulls_equal=True)
    return joined.with_columns((pl.col(names.QUANTITY) * pl.col("_per_unit")).alias(names.BASE_QUANTITY)).drop(
        "_per_unit", "_seen"
    )


def _prices(frame: pl.DataFrame) -> pl.DataFrame:
    """Fill a missing unit or extended price from the other and set price_flag (> 1 cent apart)."""
    qty, price, ext = pl.col(names.QUANTITY), pl.col(names.UNIT_PRICE), pl.col(names.EXTENDED_PRICE)
    frame = frame.with_columns(
        price.fill_null((ext / qty).round(4)).alias(names.UNIT_PRICE),
        ext.fill_null((qty * price).round(2)).alias(names.EXTENDED_PRICE),
    )
    gap = (pl.col(names.EXTENDED_PRICE) - qty * pl.col(names.UNIT_PRICE)).abs()
    return frame.with_columns((gap > PRICE_TOLERANCE + _EPS).alias(names.PRICE_FLAG))


def _warnings(good: pl.DataFrame, ctx: _Context) -> list[dict[str, Any]]:
    """Warnings for loaded lines: price mismatches and quantities not converted to a base unit."""
    out = [
        _problem(
            ctx.file_name,
            row,
            ctx.label(names.EXTENDED_PRICE),
            f"extended_price {ext:.2f} differs from quantity x unit_price = {q * p:.2f} by more than 1 cent",
            WARNING,
        )
        for row, q, p, ext in good.filter(pl.col(names.PRICE_FLAG))
        .select(names.SOURCE_ROW, names.QUANTITY, names.UNIT_PRICE, names.EXTENDED_PRICE)
        .iter_rows()
    ]
    out += [
        _problem(
            ctx.file_name,
            row,
            ctx.label(names.UNIT),
            f"quantity {q:g} {unit} (pack {pack or '-'}) not converted to a base unit: {note or 'unknown unit'}",
            WARNING,
        )
        for row, q, unit, pack, note in good.filter(pl.col(names.BASE_QUANTITY).is_null())
        .select(names.SOURCE_ROW, names.QUANTITY, names.UNIT, names.PACK_SIZE, _UNIT_NOTE)
        .iter_rows()
    ]
    return out


def _rejects(chunk: pl.DataFrame, errors: pl.DataFrame, ctx: _Context) -> pl.DataFrame:
    """One reject row per invalid cell: file_name, row, column, reason and the row's values as JSON."""
    bad = chunk.filter(pl.col(names.SOURCE_ROW).is_in(errors[names.SOURCE_ROW].unique().implode()))
    value_cols = [c for c in bad.columns if c != names.SOURCE_ROW]
    raw = bad.select(
        names.SOURCE_ROW,
        pl.struct([pl.col(c).cast(pl.String) for c in value_cols]).struct.json_encode().alias(names.RAW),
    )
    return (
        errors.rename({names.SOURCE_ROW: names.ROW})
        .join(raw, left_on=names.ROW, right_on=names.SOURCE_ROW, how="left", maintain_order="left")
        .with_columns(pl.lit(ctx.file_name).alias(names.FILE_NAME))
        .select(names.FILE_NAME, names.ROW, names.COLUMN, names.REASON, names.RAW)
    )


def _reader_errors(problems: list[dict[str, Any]]) -> pl.DataFrame:
    """Cell problems found while reading (e.g. formulas without cached values) as an error frame."""
    return pl.DataFrame(
        {
            names.SOURCE_ROW: [int(p["row"]) for p in problems],
            names.COLUMN: [str(p["column"]) for p in problems],
            names.REASON: [str(p["reason"]) for p in problems],
        },
        schema=_NO_ERRORS.schema,
    )


@functools.cache
def _insert_sql(constants: tuple[str, ...] = ()) -> str:
    """INSERT ... SELECT from the registered staged frame into purchase_lines: batch id $1, `constants` $2, $3, ...

    A column holding one value throughout a chunk (see `_constants`) is bound as a value instead of scanned: DuckDB
    stores it for less (about 6% of the insert for a district's file with no periods). The staged frame also holds
    the key's description, unit and pack size, which purchase_lines keeps as item and pack ids.
    """

    def column_sql(column: str) -> str:
        if column in constants:
            return f"CAST(${constants.index(column) + 2} AS {_CONSTANT_TYPES[column]})"
        return lines.stored(column)

    special = {names.BATCH_ID: "CAST($1 AS INTEGER)", names.LINE_KEY: lines.key_sql(column_sql)}
    select = ", ".join(special.get(column) or column_sql(column) for column in lines.LINE_COLUMNS)
    return f"INSERT INTO {names.PURCHASE_LINES} ({', '.join(lines.LINE_COLUMNS)}) SELECT {select} FROM {_STAGED}"


# columns often one value (or empty) throughout a file: its district, a usage report's period, origin, price flag
_CONSTANT_TYPES = {
    names.DISTRICT_ID: "VARCHAR",
    names.PERIOD_START: "DATE",
    names.PERIOD_END: "DATE",
    names.PRICE_FLAG: "BOOLEAN",
    names.ORIGIN_STATE: "VARCHAR",
    names.ORIGIN_ZIP: "VARCHAR",
}


def _constants(frame: pl.DataFrame) -> dict[str, Any]:
    """The columns of `_CONSTANT_TYPES` holding one value (or only nulls) throughout the frame, with that value."""
    found: dict[str, Any] = {}
    for column in _CONSTANT_TYPES:
        series = frame[column]
        nulls = series.null_count()
        if nulls == series.len():
            found[column] = None
        elif nulls == 0 and series.min() == series.max():
            found[column] = series[0]
    return found


def _duplicate_warnings(con: duckdb.DuckDBPyConnection, batch_id: int, file_name: str) -> list[dict[str, Any]]:
    """Warnings for lines repeated within the batch or already loaded by an earlier batch."""
    p, key, row, bid = names.PURCHASE_LINES, names.LINE_KEY, names.SOURCE_ROW, names.BATCH_ID
    within = con.execute(
        f"""WITH d AS (SELECT {key}, min({row}) AS first_row FROM {p} WHERE {bid} = ?
                       GROUP BY {key} HAVING count(*) > 1)
            SELECT n.{row}, d.first_row FROM {p} n JOIN d USING ({key})
            WHERE n.{bid} = ? AND n.{row} <> d.first_row ORDER BY 1""",
        [batch_id, batch_id],
    ).fetchall()
    ((others,),) = con.execute(f"SELECT count(*) FROM {p} WHERE {bid} <> ?", [batch_id]).fetchall()
    earlier = []
    if others:
        earlier = con.execute(
            f"""WITH o AS (SELECT {key}, min({bid}) AS first_batch FROM {p} WHERE {bid} <> ? GROUP BY {key})
                SELECT n.{row}, o.first_batch FROM {p} n JOIN o USING ({key}) WHERE n.{bid} = ? ORDER BY 1""",
            [batch_id, batch_id],
        ).fetchall()
    out = [_problem(file_name, r, "(line)", f"duplicates row {f} of this file", WARNING) for r, f in within]
    out += [_problem(file_name, r, "(line)", f"same line already loaded in batch {b}", WARNING) for r, b in earlier]
    return out


def _load(
    con: duckdb.DuckDBPyConnection,
    chunks: Iterable[pl.DataFrame],
    columns: list[str],
    *,
    file_name: str,
    sha256: str,
    source_kind: str,
    district_id: str | None,
    skip_invalid: bool,
    progress: Progress | None,
    reader_problems: Iterable[dict[str, Any]] = (),
    shown: dict[str, str] | None = None,
    headers: list[str] | None = None,
    size_hint: int | None = None,
    stripped: bool = False,
) -> IngestResult:
    """The one loading path: chunk by chunk validate, classify, convert and insert, all in one transaction."""
    previous = batch_with_sha256(con, sha256)
    if previous is not None:
        return IngestResult(None, 0, 0, previous, ())
    _report(progress, 0.05, "checking columns")
    given = [*columns, names.DISTRICT_ID] if district_id is not None else columns
    missing = _missing_columns(given)
    if missing:
        found = f" (found: {', '.join(headers)})" if headers is not None else ""
        problems = [_problem(file_name, 1, c, reason + found) for c, reason in missing]
        raise ValidationError(f"{file_name}: {len(missing)} required column(s) missing; nothing loaded", problems)
    ctx = _context(con, file_name, district_id, shown or {})
    ctx.stripped = stripped
    reader_list = list(reader_problems)
    return _load_rows(con, chunks, ctx, reader_list, skip_invalid, progress, size_hint, source_kind, sha256)


def _load_rows(
    con: duckdb.DuckDBPyConnection,
    chunks: Iterable[pl.DataFrame],
    ctx: _Context,
    reader_list: list[dict[str, Any]],
    skip_invalid: bool,
    progress: Progress | None,
    size_hint: int | None,
    source_kind: str,
    sha256: str,
) -> IngestResult:
    """Validate and enrich the chunks while a background cursor inserts them in one transaction (or refuses all)."""
    file_name = ctx.file_name
    reader_bad = {int(p["row"]) for p in reader_list}
    error_frames: list[pl.DataFrame] = [_reader_errors(reader_list)] if reader_list else []
    warnings: list[dict[str, Any]] = []
    seen = loaded = rejected = 0
    failed = bool(reader_list) and not skip_invalid
    staged_cols = _STAGED_COLUMNS
    sink = _Sink(con, ctx, source_kind, sha256, size_hint)
    try:
        for chunk, last in _with_last(_first_row_group_apart(chunks)):
            if chunk.is_empty():
                continue
            seen += chunk.height
            _report(progress, _fraction(seen, size_hint), f"validating rows up to {seen:,}")
            good, errors = _validate(_typed(chunk, ctx), ctx, reader_bad)
            if errors.height:
                error_frames.append(errors)
                failed = failed or not skip_invalid
            if failed:
                sink.discard()  # nothing will be kept; go on validating so every bad cell is listed
                continue
            chunk_rejects = errors
            if reader_bad:
                rows = set(chunk[names.SOURCE_ROW].to_list())
                extra = _reader_errors([p for p in reader_list if int(p["row"]) in rows])
                chunk_rejects = pl.concat([errors, extra])
            rejected += chunk.height - good.height
            if good.height:
                good = _prices(_base_units(_classify(good, ctx), ctx))
                warnings += _warnings(good, ctx)
                for table, rows in ctx.new_rows:  # items and packs first seen in this chunk
                    sink.submit(lines.insert_dimension_sql(table, _STAGED), rows, dimension=True)
                ctx.new_rows.clear()
                sink.submit_lines(good.select(staged_cols), last=last)
                loaded += good.height
            if chunk_rejects.height:
                sink.submit(_REJECTS_SQL, _rejects(chunk, chunk_rejects, ctx))
        error_problems = _error_list(error_frames, file_name)
        if seen == 0:
            raise ValidationError(
                f"{file_name}: no data rows; nothing loaded",
                [_problem(file_name, 2, "(all)", "header only: the file has no data rows")],
            )
        if failed:
            raise ValidationError(
                f"{file_name}: {len(error_problems)} invalid cell(s) in "
                f"{len({p['row'] for p in error_problems})} row(s); nothing loaded",
                error_problems,
            )
        _report(progress, 0.9, f"writing {loaded:,} rows to the database")
        batch_id, duplicates = sink.commit(loaded, rejected)
    finally:
        sink.close()
    _report(progress, 1.0, f"loaded {loaded:,} rows as batch {batch_id}")
    problems = sorted(error_problems + warnings + duplicates, key=lambda p: int(p["row"]))
    return IngestResult(batch_id, loaded, rejected, None, tuple(problems))


def _with_last(chunks: Iterable[pl.DataFrame]) -> Iterator[tuple[pl.DataFrame, bool]]:
    """Each chunk with whether it is the last one (the reader is one chunk ahead)."""
    iterator = iter(chunks)
    try:
        previous = next(iterator)
    except StopIteration:
        return
    for chunk in iterator:
        yield previous, False
        previous = chunk
    yield previous, True


def _first_row_group_apart(chunks: Iterable[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """The chunks, the first split after one row group: the database starts writing while the rest is checked."""
    for i, chunk in enumerate(chunks):
        if i == 0 and chunk.height > 2 * ROW_GROUP_ROWS:
            yield chunk.slice(0, ROW_GROUP_ROWS)
            yield chunk.slice(ROW_GROUP_ROWS)
        else:
            yield chunk


def _insert_frame(cur: duckdb.DuckDBPyConnection, sql: str, frame: pl.DataFrame, params: list[Any]) -> None:
    """Insert one chunk of validated lines (or rejects) through `sql`, reading the frame as the staged view."""
    # one record batch (whole row groups, see ROW_GROUP_ROWS); Arrow string views, as Polars holds text (no copy)
    cur.register(_STAGED, frame.rechunk().to_arrow(compat_level=pl.CompatLevel.newest()))
    try:
        cur.execute(sql, params).fetchall()
    finally:
        cur.unregister(_STAGED)


def _write_spool(frame: pl.DataFrame, path: Path) -> None:
    """Write one chunk of validated lines (or rejects) to a spool Parquet file."""
    frame.write_parquet(path, compression="lz4", row_group_size=ROW_GROUP_ROWS)


def _insert_spooled(cur: duckdb.DuckDBPyConnection, sql: str, path: Path, params: list[Any]) -> None:
    """Insert one spooled chunk through `sql`, reading the Parquet file as the staged view."""
    cur.execute(f"CREATE OR REPLACE TEMP VIEW {_STAGED} AS SELECT * FROM read_parquet('{_sql_text(path)}')")
    try:
        cur.execute(sql, params).fetchall()
    finally:
        cur.execute(f"DROP VIEW IF EXISTS {_STAGED}")


def _sql_text(path: Path) -> str:
    """A path as the body of a SQL string literal (quotes doubled)."""
    return str(path).replace("'", "''")


class _Sink:
    """One transaction on its own cursor, fed on a background thread: chunk k is inserted while k+1 is validated.

    DuckDB releases the GIL while it executes, so the insert and Polars' validation use both cores. The
    transaction (batch row, lines, rejects, summary, duplicate checks) commits only in `commit`; any failure,
    a refused file or a killed process leaves the database as it was.
    """

    def __init__(
        self, con: duckdb.DuckDBPyConnection, ctx: _Context, source_kind: str, sha256: str, size_hint: int | None
    ) -> None:
        self._cur = con.cursor()
        self._ctx = ctx
        self._row = [ctx.file_name, sha256, ctx.district_id, source_kind]
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coop-ingest")
        self._pending: Future[None] | None = None
        self._batch_id: int | None = None
        self._open = False
        self._direct = self._spooled = 0  # rows inserted from memory, chunks inserted via spool files
        self._direct_limit = DIRECT_INSERT_ROWS if (size_hint or 0) <= SPOOL_ALL_BYTES else 0
        self._spool: tempfile.TemporaryDirectory[str] | None = None
        self._carry: pl.DataFrame | None = None  # lines waiting to fill a whole row group

    def _begin(self) -> int:
        """Open the transaction and insert the batch row (counts set at commit); its id."""
        if self._batch_id is None:
            self._cur.execute("BEGIN TRANSACTION")
            self._open = True
            ((batch_id,),) = self._cur.execute(
                f"INSERT INTO {names.BATCHES} ({names.FILE_NAME}, {names.SHA256}, {names.DISTRICT_ID}, "
                f"{names.SOURCE_KIND}, {names.ROWS_LOADED}, {names.ROWS_REJECTED}) VALUES (?, ?, ?, ?, 0, 0) "
                f"RETURNING {names.BATCH_ID}",
                self._row,
            ).fetchall()
            self._batch_id = int(batch_id)
        return self._batch_id

    def _run(self, sql: str, frame: pl.DataFrame, values: list[Any], dimension: bool) -> None:
        """Insert one frame inside the transaction (opened on the first call), from memory or via a spool file.

        A `dimension` frame (new items or packs: a few rows) goes in from memory, without the batch id.
        """
        batch_id = self._begin()
        if dimension:
            _insert_frame(self._cur, sql, frame, values)
            return
        params = [batch_id, *values]
        if self._direct + frame.height <= self._direct_limit:
            self._direct += frame.height
            _insert_frame(self._cur, sql, frame, params)
            return
        if self._spool is None:
            self._spool = tempfile.TemporaryDirectory(prefix="coop-ingest-")
        self._spooled += 1
        path = Path(self._spool.name) / f"c{self._spooled:06d}.parquet"
        _write_spool(frame, path)
        try:
            _insert_spooled(self._cur, sql, path, params)
        finally:
            path.unlink()

    def submit_lines(self, frame: pl.DataFrame, *, last: bool = False) -> None:
        """Queue validated lines: whole row groups now, the rest carried to the next call or to `commit`.

        The `last` lines go in whole with their part row group: inserted alone, a part row group after whole ones
        made DuckDB's COMMIT 0.17 s slower per million lines (0.23 s instead of 0.07 s).
        """
        if self._carry is not None:
            frame = pl.concat([self._carry, frame], rechunk=True)
        whole = frame.height if last else frame.height - frame.height % ROW_GROUP_ROWS
        self._carry = frame.slice(whole) if whole < frame.height else None
        if whole:
            self._submit_lines(frame.slice(0, whole))

    def _submit_lines(self, frame: pl.DataFrame) -> None:
        """Queue validated lines, the columns holding one value bound as values (`_insert_sql`)."""
        constants = _constants(frame)
        self.submit(_insert_sql(tuple(constants)), frame.drop(constants), list(constants.values()))

    def submit(
        self, sql: str, frame: pl.DataFrame, values: list[Any] | None = None, *, dimension: bool = False
    ) -> None:
        """Queue one insert (the batch id bound first, then `values`; see `_run`) after the previous one finished."""
        self.wait()
        self._pending = self._pool.submit(self._run, sql, frame, values or [], dimension)

    def wait(self) -> None:
        """Block until the queued insert is done; re-raise its error."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def discard(self) -> None:
        """Give up the transaction now (the file is refused): roll back what was inserted so far."""
        self._carry = None
        self.wait()
        self._rollback()

    def _rollback(self) -> None:
        """Roll the open transaction back, if any."""
        if self._open:
            self._open = False
            self._cur.execute("ROLLBACK")

    def _finish(self, loaded: int, rejected: int) -> tuple[int, list[dict[str, Any]]]:
        """Counts on the batch row, summary, duplicate checks and COMMIT; (batch id, duplicate warnings)."""
        batch_id = self._begin()
        cur = self._cur
        cur.execute(
            f"UPDATE {names.BATCHES} SET {names.ROWS_LOADED} = ?, {names.ROWS_REJECTED} = ? WHERE {names.BATCH_ID} = ?",
            [loaded, rejected, batch_id],
        ).fetchall()
        if loaded:
            summary.add_batch(cur, batch_id)  # metric grains of the batch, in the same transaction
        duplicates = _duplicate_warnings(cur, batch_id, self._ctx.file_name) if loaded else []
        cur.execute("COMMIT")
        self._open = False
        if self._spooled:
            # a big load: fold it into the database file now, under the memory cap (a checkpoint left to the
            # connection's close runs uncapped and took 3 GB for 10M lines); skipped if other transactions are open
            ((previous,),) = cur.execute("SELECT current_setting('memory_limit')").fetchall()
            cur.execute("SET memory_limit = ?", [INGEST_MEMORY_LIMIT]).fetchall()
            try:
                with contextlib.suppress(duckdb.Error):
                    cur.execute("CHECKPOINT").fetchall()
            finally:
                cur.execute("SET memory_limit = ?", [previous]).fetchall()
        return batch_id, duplicates

    def commit(self, loaded: int, rejected: int) -> tuple[int, list[dict[str, Any]]]:
        """Finish and commit the transaction after the last insert; (batch id, duplicate warnings)."""
        if self._carry is not None:
            carry, self._carry = self._carry, None
            self._submit_lines(carry)
        self.wait()
        return self._pool.submit(self._finish, loaded, rejected).result()

    def close(self) -> None:
        """Wait for any insert still running (ignoring its error), roll back an uncommitted transaction, stop."""
        if self._pending is not None:
            with contextlib.suppress(Exception):
                self._pending.result()
            self._pending = None
        try:
            self._rollback()
        finally:
            self._pool.shutdown(wait=True)
            self._cur.close()
            if self._spool is not None:
                self._spool.cleanup()


_STAGED = "coop_ingest_staged"
_REJECTS_SQL = (
    f'INSERT INTO {names.REJECTS} ({names.BATCH_ID}, {names.FILE_NAME}, "{names.ROW}", "{names.COLUMN}", '
    f'{names.REASON}, {names.RAW}) SELECT ?, {names.FILE_NAME}, "{names.ROW}", "{names.COLUMN}", {names.REASON}, '
    f"{names.RAW} FROM {_STAGED}"
)


def _fraction(seen: int, size_hint: int | None) -> float:
    """Progress between 0.1 and 0.9 while rows stream in (0.5 when the total is unknown)."""
    if not size_hint:
        return 0.5
    return min(0.9, 0.1 + 0.8 * min(1.0, seen * 90 / size_hint))


def _error_list(frames: list[pl.DataFrame], file_name: str) -> list[dict[str, Any]]:
    """Error problem dicts in row order from the per-chunk error frames."""
    if not frames:
        return []
    errors = pl.concat(frames).with_row_index("_i").sort(names.SOURCE_ROW, "_i")
    return [
        _problem(file_name, row, column, reason)
        for row, column, reason in errors.select(names.SOURCE_ROW, names.COLUMN, names.REASON).iter_rows()
    ]
