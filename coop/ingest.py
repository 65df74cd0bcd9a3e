"""Validated, atomic loading of purchase lines: one file or frame = one batch = one transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from coop import names, readers
from coop.errors import ValidationError

Progress = Callable[[float, str], None]

DEFAULT_EARLIEST_DATE = date(2000, 7, 1)
ERROR = "error"
WARNING = "warning"
PRICE_TOLERANCE = 0.01  # dollars: extended_price may differ from quantity x unit_price by at most 1 cent
_EPS = 1e-9
_THOUSANDS = r"^[-(]?\d{1,3}(,\d{3})+(\.\d*)?\)?$"
_TRUE = ("yes", "true", "y", "1", "t")
_FALSE = ("no", "false", "n", "0", "f")
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
_PURCHASE_COLUMNS = (
    names.BATCH_ID,
    names.SOURCE_ROW,
    names.DISTRICT_ID,
    names.INVOICE_DATE,
    names.PERIOD_START,
    names.PERIOD_END,
    names.VENDOR_NAME,
    names.VENDOR_TYPE,
    names.DESCRIPTION,
    names.PRODUCT,
    names.PRODUCT_CONFIDENCE,
    names.CATEGORY,
    names.UNPROCESSED,
    names.UNPROCESSED_RULE,
    names.QUANTITY,
    names.UNIT,
    names.PACK_SIZE,
    names.BASE_QUANTITY,
    names.BASE_UNIT,
    names.UNIT_PRICE,
    names.EXTENDED_PRICE,
    names.PRICE_FLAG,
    names.ORIGIN_STATE,
    names.ORIGIN_ZIP,
    names.INVOICE_NO,
    names.LINE_KEY,
)
# the columns whose values make two lines "the same line"
_KEY_COLUMNS = (
    names.DISTRICT_ID,
    names.INVOICE_DATE,
    names.PERIOD_START,
    names.PERIOD_END,
    names.VENDOR_NAME,
    names.DESCRIPTION,
    names.QUANTITY,
    names.UNIT,
    names.PACK_SIZE,
    names.UNIT_PRICE,
    names.EXTENDED_PRICE,
    names.ORIGIN_STATE,
    names.ORIGIN_ZIP,
    names.INVOICE_NO,
)
_STAGED = "coop_ingest_staged"
_UNIT_NOTE = "_unit_note"
_STAGED_REJECTS = "coop_ingest_rejects"
_VENDOR_TYPE_LIST = ", ".join(names.VENDOR_TYPES)


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
        raw = readers.read_file(path, sheet)
    except readers.EmptyFileError as exc:
        raise _empty_file(path.name) from exc
    headers = [c for c in raw.frame.columns if c != names.SOURCE_ROW]
    resolved = readers.resolve_mapping(headers, saved)
    frame = readers.apply_mapping(raw.frame, resolved)
    shown = {canonical: header for header, canonical in resolved.items() if canonical is not None}
    result = _load(
        con,
        frame,
        file_name=path.name,
        sha256=sha,
        source_kind=raw.source_kind,
        district_id=district_id,
        skip_invalid=skip_invalid,
        progress=progress,
        reader_problems=raw.problems,
        shown=shown,
        headers=headers,
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
    return _load(
        con,
        frame,
        file_name=file_name,
        sha256=sha256,
        source_kind=source_kind,
        district_id=district_id,
        skip_invalid=skip_invalid,
        progress=progress,
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


def _text(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A column as stripped text with empty strings as null."""
    expr = pl.col(column)
    if frame.schema[column] != pl.String:
        expr = expr.cast(pl.String)
    expr = expr.str.strip_chars()
    return pl.when(expr == "").then(None).otherwise(expr)


def _number(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A column parsed as a number: '$1,234.50' and '(12.00)' are numbers; unparseable -> null."""
    dtype = frame.schema[column]
    if dtype.is_numeric():
        return pl.col(column).cast(pl.Float64)
    text = pl.col(column).cast(pl.String).str.replace_all(r"[\s$]", "")
    # commas only as thousands separators: '1,234.50' is a number, '1,5' is not
    text = pl.when(text.str.contains(_THOUSANDS)).then(text.str.replace_all(",", "")).otherwise(text)
    text = pl.when(text.str.contains(r"^\(.*\)$")).then(pl.lit("-") + text.str.strip_chars("()")).otherwise(text)
    return text.cast(pl.Float64, strict=False)


def _date(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A column parsed as a date from ISO or US m/d/Y text (a time part is ignored); unparseable -> null."""
    dtype = frame.schema[column]
    if dtype == pl.Date:
        return pl.col(column)
    if isinstance(dtype, pl.Datetime):
        return pl.col(column).dt.date()
    text = pl.col(column).cast(pl.String).str.strip_chars().str.replace(r"^(\d{4}-\d{2}-\d{2})[T ].*$", "${1}")
    return pl.coalesce([text.str.strptime(pl.Date, fmt, strict=False) for fmt in _DATE_FORMATS])


def _boolean(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A column parsed as a boolean from yes/no, true/false, y/n, 1/0 in any case; other text -> null."""
    if frame.schema[column] == pl.Boolean:
        return pl.col(column)
    text = pl.col(column).cast(pl.String).str.strip_chars().str.to_lowercase()
    return pl.when(text.is_in(_TRUE)).then(True).when(text.is_in(_FALSE)).then(False).otherwise(None)


def _enum(column: str) -> pl.Expr:
    """Enum text normalised: lowercase, spaces and hyphens as underscores."""
    return pl.col(column).str.to_lowercase().str.replace_all(r"[\s\-]+", "_")


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


def _prepare(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, district_id: str | None, first_day: date
) -> pl.DataFrame:
    """Typed canonical columns plus `_e_<column>` reason columns (null when the cell is valid)."""
    if names.SOURCE_ROW not in frame.columns:
        frame = frame.with_row_index(names.SOURCE_ROW, offset=2)
    frame = frame.with_columns(pl.col(names.SOURCE_ROW).cast(pl.Int64))
    for column in _COLUMN_ORDER:
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    text_cols = [c for c in _TEXT_COLUMNS if c != names.DISTRICT_ID]
    district_expr = _text(frame, names.DISTRICT_ID)
    if district_id is not None:
        district_expr = district_expr.fill_null(pl.lit(district_id))
    typed = frame.select(
        pl.col(names.SOURCE_ROW),
        district_expr.alias(names.DISTRICT_ID),
        *[_text(frame, c).alias(c) for c in text_cols],
        *[_date(frame, c).alias(c) for c in (names.INVOICE_DATE, names.PERIOD_START, names.PERIOD_END)],
        _boolean(frame, names.UNPROCESSED).alias(names.UNPROCESSED),
        *[_number(frame, c).alias(c) for c in (names.QUANTITY, names.UNIT_PRICE, names.EXTENDED_PRICE)],
        *[_text(frame, c).alias(f"_raw_{c}") for c in _COLUMN_ORDER],
    )
    typed = typed.with_columns(pl.col(names.INVOICE_DATE).fill_null(pl.col(names.PERIOD_START)))
    # vendor registry: vendor_type, and origin when the line has none
    vendors = con.sql(
        f"SELECT lower(trim({names.VENDOR_NAME})) AS _vkey, {names.VENDOR_TYPE} AS _reg_type, "
        f"{names.ORIGIN_STATE} AS _reg_state, {names.ORIGIN_ZIP} AS _reg_zip FROM {names.VENDORS}"
    ).pl()
    vendors = vendors.unique("_vkey", keep="first").with_columns(pl.col("_vkey").cast(pl.String))
    typed = (
        typed.with_columns(pl.col(names.VENDOR_NAME).str.to_lowercase().alias("_vkey"))
        .join(vendors, on="_vkey", how="left")
        .with_columns(
            pl.col(names.VENDOR_TYPE).fill_null(pl.col("_reg_type")),
            pl.col(names.ORIGIN_STATE).fill_null(pl.col("_reg_state")),
            pl.col(names.ORIGIN_ZIP).fill_null(pl.col("_reg_zip")),
        )
        .drop("_vkey", "_reg_type", "_reg_state", "_reg_zip")
        .with_columns(_enum(names.VENDOR_TYPE).alias(names.VENDOR_TYPE), _enum(names.CATEGORY).alias(names.CATEGORY))
    )
    known = con.sql(f"SELECT {names.DISTRICT_ID} FROM {names.DISTRICTS}").pl().to_series().cast(pl.String)
    today = date.today()
    return typed.with_columns(_reasons(district_id, known, today, first_day))


def _reasons(district_id: str | None, known: pl.Series, today: date, first_day: date) -> list[pl.Expr]:
    """One `_e_<column>` expression per validated column: the reason text, or null when valid."""

    def raw(column: str) -> pl.Expr:
        return pl.col(f"_raw_{column}")

    def empty(column: str) -> pl.Expr:
        return pl.col(column).is_null() & raw(column).is_null()

    def bad_number(column: str) -> pl.Expr:
        return raw(column).is_not_null() & pl.col(column).is_null()

    def date_reason(column: str, required: bool) -> pl.Expr:
        value = pl.col(column)
        expr = pl.when(raw(column).is_not_null() & value.is_null()).then(
            pl.format("not a date: '{}' (use YYYY-MM-DD or M/D/YYYY)", raw(column))
        )
        if required:
            expr = expr.when(value.is_null()).then(pl.lit("required value is empty"))
        return (
            expr.when(value > pl.lit(today))
            .then(pl.format("date {} is in the future", value.dt.to_string("%Y-%m-%d")))
            .when(value < pl.lit(first_day))
            .then(
                pl.format(
                    "date {} is before the earliest school year loaded ({})",
                    value.dt.to_string("%Y-%m-%d"),
                    pl.lit(first_day.isoformat()),
                )
            )
            .otherwise(None)
        )

    district = pl.col(names.DISTRICT_ID)
    district_reason = (
        pl.when(district.is_null())
        .then(pl.lit("required value is empty"))
        .when(~district.is_in(known.implode()))
        .then(pl.format("unknown district '{}' (register it with `python -m coop districts FILE`)", district))
    )
    if district_id is not None:
        district_reason = district_reason.when(district != pl.lit(district_id)).then(
            pl.format("district '{}' differs from --district {}", district, pl.lit(district_id))
        )
    vendor_type = pl.col(names.VENDOR_TYPE)
    qty, price, ext = pl.col(names.QUANTITY), pl.col(names.UNIT_PRICE), pl.col(names.EXTENDED_PRICE)
    return [
        district_reason.otherwise(None).alias(f"_e_{names.DISTRICT_ID}"),
        date_reason(names.INVOICE_DATE, required=True).alias(f"_e_{names.INVOICE_DATE}"),
        date_reason(names.PERIOD_START, required=False).alias(f"_e_{names.PERIOD_START}"),
        date_reason(names.PERIOD_END, required=False).alias(f"_e_{names.PERIOD_END}"),
        pl.when(empty(names.VENDOR_NAME))
        .then(pl.lit("required value is empty"))
        .otherwise(None)
        .alias(f"_e_{names.VENDOR_NAME}"),
        pl.when(vendor_type.is_null())
        .then(pl.format("no vendor type: vendor '{}' is not in the vendor registry", pl.col(names.VENDOR_NAME)))
        .when(~vendor_type.is_in(list(names.VENDOR_TYPES)))
        .then(
            pl.format(
                "unknown vendor type '{}' (one of {})", raw(names.VENDOR_TYPE), pl.lit(", ".join(names.VENDOR_TYPES))
            )
        )
        .otherwise(None)
        .alias(f"_e_{names.VENDOR_TYPE}"),
        pl.when(empty(names.PRODUCT) & empty(names.DESCRIPTION))
        .then(pl.lit("required value is empty"))
        .otherwise(None)
        .alias(f"_e_{names.PRODUCT}"),
        pl.when(pl.col(names.CATEGORY).is_not_null() & ~pl.col(names.CATEGORY).is_in(list(names.CATEGORIES)))
        .then(pl.format("unknown category '{}' (one of {})", raw(names.CATEGORY), pl.lit(", ".join(names.CATEGORIES))))
        .otherwise(None)
        .alias(f"_e_{names.CATEGORY}"),
        pl.when(raw(names.UNPROCESSED).is_not_null() & pl.col(names.UNPROCESSED).is_null())
        .then(pl.format("not a yes/no value: '{}'", raw(names.UNPROCESSED)))
        .otherwise(None)
        .alias(f"_e_{names.UNPROCESSED}"),
        pl.when(bad_number(names.QUANTITY))
        .then(pl.format("not a number: '{}'", raw(names.QUANTITY)))
        .when(qty.is_null())
        .then(pl.lit("required value is empty"))
        .when(qty <= 0)
        .then(pl.format("quantity must be > 0, got {}", raw(names.QUANTITY)))
        .otherwise(None)
        .alias(f"_e_{names.QUANTITY}"),
        pl.when(empty(names.UNIT)).then(pl.lit("required value is empty")).otherwise(None).alias(f"_e_{names.UNIT}"),
        pl.when(bad_number(names.UNIT_PRICE))
        .then(pl.format("not a number: '{}'", raw(names.UNIT_PRICE)))
        .when(price.is_null() & ext.is_null() & ~bad_number(names.EXTENDED_PRICE))
        .then(pl.lit("required value is empty (give unit_price or extended_price)"))
        .when(price < 0)
        .then(pl.format("unit_price must be >= 0, got {}", raw(names.UNIT_PRICE)))
        .otherwise(None)
        .alias(f"_e_{names.UNIT_PRICE}"),
        pl.when(bad_number(names.EXTENDED_PRICE))
        .then(pl.format("not a number: '{}'", raw(names.EXTENDED_PRICE)))
        .otherwise(None)
        .alias(f"_e_{names.EXTENDED_PRICE}"),
    ]


def _error_frame(typed: pl.DataFrame) -> pl.DataFrame:
    """(source_row, column, reason) for every invalid cell, in row then column order."""
    reason_cols = [c for c in typed.columns if c.startswith("_e_")]
    bad = typed.filter(pl.any_horizontal(pl.col(reason_cols).is_not_null()))
    if bad.is_empty():
        return pl.DataFrame(
            schema={names.SOURCE_ROW: pl.Int64, names.COLUMN: pl.String, names.REASON: pl.String, "_order": pl.Int64}
        )
    order = {c: i for i, c in enumerate(_COLUMN_ORDER)}
    return (
        bad.select(names.SOURCE_ROW, *reason_cols)
        .unpivot(index=names.SOURCE_ROW, variable_name=names.COLUMN, value_name=names.REASON)
        .drop_nulls(names.REASON)
        .with_columns(pl.col(names.COLUMN).str.strip_prefix("_e_"))
        .with_columns(
            pl.col(names.COLUMN).replace_strict(order, default=len(order), return_dtype=pl.Int64).alias("_order")
        )
        .sort(names.SOURCE_ROW, "_order")
    )


def _classify(typed: pl.DataFrame) -> pl.DataFrame:
    """Description, product, category, unprocessed and their provenance, inferred per unique description."""
    has_description = typed[names.DESCRIPTION].is_not_null().any()
    if has_description:
        # the file's item text is the description; a product column alongside it is the commodity
        frame = typed.with_columns(
            pl.col(names.DESCRIPTION).fill_null(pl.col(names.PRODUCT)),
            pl.col(names.PRODUCT).alias("_given_product"),
        )
    else:
        frame = typed.with_columns(
            pl.col(names.PRODUCT).alias(names.DESCRIPTION), pl.lit(None, dtype=pl.String).alias("_given_product")
        )
    needs = (
        frame["_given_product"].is_null().any()
        or frame[names.CATEGORY].is_null().any()
        or frame[names.UNPROCESSED].is_null().any()
    )
    if needs:
        from coop import classify  # classification rules load only when needed

        unique = frame[names.DESCRIPTION].drop_nulls().unique()
        inferred = classify.classify_many(unique).select(
            pl.col("description").cast(pl.String).alias(names.DESCRIPTION),
            pl.col("product").cast(pl.String).alias("_c_product"),
            pl.col("category").cast(pl.String).alias("_c_category"),
            pl.col("unprocessed").cast(pl.Boolean).alias("_c_unprocessed"),
            pl.col("confidence").cast(pl.Float64).alias("_c_confidence"),
            pl.col("unprocessed_rule").cast(pl.String).alias("_c_rule"),
        )
        frame = frame.join(inferred.unique(names.DESCRIPTION), on=names.DESCRIPTION, how="left")
    else:
        frame = frame.with_columns(
            pl.lit(None, dtype=pl.String).alias("_c_product"),
            pl.lit(None, dtype=pl.String).alias("_c_category"),
            pl.lit(None, dtype=pl.Boolean).alias("_c_unprocessed"),
            pl.lit(None, dtype=pl.Float64).alias("_c_confidence"),
            pl.lit(None, dtype=pl.String).alias("_c_rule"),
        )
    given = pl.col("_given_product").is_not_null()
    return frame.with_columns(
        pl.coalesce("_given_product", "_c_product").alias(names.PRODUCT),
        pl.when(given).then(1.0).otherwise(pl.col("_c_confidence")).fill_null(0.0).alias(names.PRODUCT_CONFIDENCE),
        pl.coalesce(names.CATEGORY, "_c_category", pl.lit("other")).alias(names.CATEGORY),
        pl.coalesce(names.UNPROCESSED, "_c_unprocessed", pl.lit(False)).alias(names.UNPROCESSED),
        pl.when(pl.col(names.UNPROCESSED).is_not_null())
        .then(pl.lit("file"))
        .otherwise(pl.coalesce("_c_rule", pl.lit("unknown")))
        .alias(names.UNPROCESSED_RULE),
    ).drop("_given_product", "_c_product", "_c_category", "_c_unprocessed", "_c_confidence", "_c_rule")


def _base_units(frame: pl.DataFrame) -> pl.DataFrame:
    """Add base_quantity and base_unit, converting each unique (unit, pack_size, category) once."""
    from coop import units  # pint registry loads only when needed

    keys = [names.UNIT, names.PACK_SIZE, names.CATEGORY]
    unique = frame.select(keys).unique().with_columns(pl.lit(1.0).alias(names.QUANTITY))
    normalised = units.normalise(unique)
    converted_cols = normalised.columns
    converted = normalised.select(
        *keys,
        pl.col(names.BASE_QUANTITY).cast(pl.Float64).alias("_per_unit"),
        pl.col(names.BASE_UNIT).cast(pl.String),
        (
            pl.col(units.UNIT_NOTE).cast(pl.String) if units.UNIT_NOTE in converted_cols else pl.lit(None, pl.String)
        ).alias(_UNIT_NOTE),
    )
    frame = frame.join(converted, on=keys, how="left", nulls_equal=True)
    return frame.with_columns((pl.col(names.QUANTITY) * pl.col("_per_unit")).alias(names.BASE_QUANTITY)).drop(
        "_per_unit"
    )


def _prices(frame: pl.DataFrame) -> pl.DataFrame:
    """Fill a missing unit or extended price from the other and set price_flag (> 1 cent apart)."""
    qty, price, ext = pl.col(names.QUANTITY), pl.col(names.UNIT_PRICE), pl.col(names.EXTENDED_PRICE)
    frame = frame.with_columns(
        price.fill_null((ext / qty).round(4)).alias(names.UNIT_PRICE),
        ext.fill_null((qty * price).round(2)).alias(names.EXTENDED_PRICE),
    )
    return frame.with_columns(
        ((pl.col(names.EXTENDED_PRICE) - qty * pl.col(names.UNIT_PRICE)).abs() > PRICE_TOLERANCE + _EPS).alias(
            names.PRICE_FLAG
        )
    )


def _key_sql() -> str:
    """SQL for the line key: md5 of the canonical columns as stored."""
    parts = []
    for column in _KEY_COLUMNS:
        if column == names.UNIT_PRICE:
            parts.append(f"CAST(CAST({column} AS DECIMAL(18, 4)) AS VARCHAR)")
        elif column == names.EXTENDED_PRICE:
            parts.append(f"CAST(CAST({column} AS DECIMAL(18, 2)) AS VARCHAR)")
        else:
            parts.append(f"coalesce(CAST({column} AS VARCHAR), '')")
    return f"md5(concat_ws('|', {', '.join(parts)}))"


def _insert_sql() -> str:
    """INSERT ... SELECT from the registered staged frame into purchases."""
    select = []
    for column in _PURCHASE_COLUMNS:
        if column == names.BATCH_ID:
            select.append("CAST(? AS INTEGER)")
        elif column == names.LINE_KEY:
            select.append(_key_sql())
        elif column == names.UNIT_PRICE:
            select.append(f"CAST({column} AS DECIMAL(18, 4))")
        elif column == names.EXTENDED_PRICE:
            select.append(f"CAST({column} AS DECIMAL(18, 2))")
        else:
            select.append(column)
    return f"INSERT INTO {names.PURCHASES} ({', '.join(_PURCHASE_COLUMNS)}) SELECT {', '.join(select)} FROM {_STAGED}"


def _duplicate_warnings(con: duckdb.DuckDBPyConnection, batch_id: int, file_name: str) -> list[dict[str, Any]]:
    """Warnings for lines repeated within the batch or already loaded by an earlier batch."""
    within = con.execute(
        f"""SELECT {names.SOURCE_ROW}, first_row FROM (
                SELECT {names.SOURCE_ROW}, min({names.SOURCE_ROW}) OVER (PARTITION BY {names.LINE_KEY}) AS first_row
                FROM {names.PURCHASES} WHERE {names.BATCH_ID} = ?)
            WHERE {names.SOURCE_ROW} <> first_row ORDER BY {names.SOURCE_ROW}""",
        [batch_id],
    ).fetchall()
    earlier = con.execute(
        f"""SELECT n.{names.SOURCE_ROW}, min(o.{names.BATCH_ID})
            FROM {names.PURCHASES} n JOIN {names.PURCHASES} o
              ON n.{names.LINE_KEY} = o.{names.LINE_KEY} AND o.{names.BATCH_ID} <> n.{names.BATCH_ID}
            WHERE n.{names.BATCH_ID} = ? GROUP BY n.{names.SOURCE_ROW} ORDER BY 1""",
        [batch_id],
    ).fetchall()
    out = [_problem(file_name, r, "(line)", f"duplicates row {f} of this file", WARNING) for r, f in within]
    out += [_problem(file_name, r, "(line)", f"same line already loaded in batch {b}", WARNING) for r, b in earlier]
    return out


def _load(
    con: duckdb.DuckDBPyConnection,
    frame: pl.DataFrame,
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
) -> IngestResult:
    """The one loading path: validate, classify, convert units, then insert in one transaction."""
    previous = batch_with_sha256(con, sha256)
    if previous is not None:
        return IngestResult(None, 0, 0, previous, ())
    shown = shown or {}

    def column_label(column: str) -> str:
        return shown.get(column, column)

    _report(progress, 0.1, "checking columns")
    reader_list = [{**p, "severity": ERROR} for p in reader_problems]
    district_given = district_id is not None or names.DISTRICT_ID in frame.columns
    columns = list(frame.columns) + ([names.DISTRICT_ID] if district_given else [])
    missing = _missing_columns(columns)
    if missing:
        found = f" (found: {', '.join(headers)})" if headers is not None else ""
        problems = [_problem(file_name, 1, c, reason + found) for c, reason in missing]
        raise ValidationError(f"{file_name}: {len(missing)} required column(s) missing; nothing loaded", problems)
    data_rows = frame.height
    if data_rows == 0:
        problem = _problem(file_name, 2, "(all)", "header only: the file has no data rows")
        raise ValidationError(f"{file_name}: no data rows; nothing loaded", [problem])

    _report(progress, 0.2, "validating")
    typed = _prepare(con, frame, district_id, earliest_date(con))
    errors = _error_frame(typed)
    error_problems = [
        _problem(file_name, row, column_label(column), reason)
        for row, column, reason in errors.select(names.SOURCE_ROW, names.COLUMN, names.REASON).iter_rows()
    ]
    if reader_list:
        error_problems = sorted(error_problems + reader_list, key=lambda p: int(p["row"]))
    bad_rows = set(errors[names.SOURCE_ROW].to_list()) | {int(p["row"]) for p in reader_list}
    if error_problems and not skip_invalid:
        raise ValidationError(
            f"{file_name}: {len(error_problems)} invalid cell(s) in {len(bad_rows)} row(s); nothing loaded",
            error_problems,
        )
    good = typed.filter(~pl.col(names.SOURCE_ROW).is_in(list(bad_rows))) if bad_rows else typed

    _report(progress, 0.4, "classifying products")
    good = _classify(good) if good.height else good
    _report(progress, 0.6, "converting units")
    good = _base_units(good) if good.height else good
    good = _prices(good) if good.height else good
    price_warnings = (
        [
            _problem(
                file_name,
                row,
                column_label(names.EXTENDED_PRICE),
                f"extended_price {ext:.2f} differs from quantity x unit_price = {q * p:.2f} by more than 1 cent",
                WARNING,
            )
            for row, q, p, ext in good.filter(pl.col(names.PRICE_FLAG))
            .select(names.SOURCE_ROW, names.QUANTITY, names.UNIT_PRICE, names.EXTENDED_PRICE)
            .iter_rows()
        ]
        if good.height
        else []
    )
    unit_warnings = (
        [
            _problem(
                file_name,
                row,
                column_label(names.UNIT),
                f"quantity {q:g} {unit} (pack {pack or '-'}) not converted to a base unit: {note or 'unknown unit'}",
                WARNING,
            )
            for row, q, unit, pack, note in good.filter(pl.col(names.BASE_QUANTITY).is_null())
            .select(names.SOURCE_ROW, names.QUANTITY, names.UNIT, names.PACK_SIZE, _UNIT_NOTE)
            .iter_rows()
        ]
        if good.height
        else []
    )
    rejects = _rejects_frame(typed, errors, reader_list, file_name, shown)

    _report(progress, 0.8, "loading")
    staged_cols = [c for c in _PURCHASE_COLUMNS if c not in (names.BATCH_ID, names.LINE_KEY)]
    staged = good.select(pl.col(c) if c in good.columns else pl.lit(None).alias(c) for c in staged_cols)
    con.register(_STAGED, staged.to_arrow())
    con.register(_STAGED_REJECTS, rejects.to_arrow())
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            ((batch_id,),) = con.execute(
                f"INSERT INTO {names.BATCHES} ({names.FILE_NAME}, {names.SHA256}, {names.DISTRICT_ID}, "
                f"{names.SOURCE_KIND}, {names.ROWS_LOADED}, {names.ROWS_REJECTED}) VALUES (?, ?, ?, ?, ?, ?) "
                f"RETURNING {names.BATCH_ID}",
                [file_name, sha256, district_id, source_kind, good.height, len(bad_rows)],
            ).fetchall()
            if good.height:
                con.execute(_insert_sql(), [batch_id])
            if rejects.height:
                con.execute(
                    f'INSERT INTO {names.REJECTS} ({names.BATCH_ID}, {names.FILE_NAME}, "{names.ROW}", '
                    f'"{names.COLUMN}", {names.REASON}, {names.RAW}) '
                    f'SELECT ?, {names.FILE_NAME}, "{names.ROW}", "{names.COLUMN}", {names.REASON}, {names.RAW} '
                    f"FROM {_STAGED_REJECTS}",
                    [batch_id],
                )
            dup_warnings = _duplicate_warnings(con, batch_id, file_name) if good.height else []
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.unregister(_STAGED)
        con.unregister(_STAGED_REJECTS)
    _report(progress, 1.0, f"loaded {good.height} rows as batch {batch_id}")
    problems = sorted(error_problems + price_warnings + unit_warnings + dup_warnings, key=lambda p: int(p["row"]))
    return IngestResult(int(batch_id), good.height, len(bad_rows), None, tuple(problems))


def _rejects_frame(
    typed: pl.DataFrame,
    errors: pl.DataFrame,
    reader_list: list[dict[str, Any]],
    file_name: str,
    labels: dict[str, str],
) -> pl.DataFrame:
    """One reject row per invalid cell: file_name, row, column, reason, and the row's raw values as JSON."""
    raw_cols = [c for c in typed.columns if c.startswith("_raw_")]
    raw = typed.select(
        names.SOURCE_ROW,
        pl.struct([pl.col(c).alias(c.removeprefix("_raw_")) for c in raw_cols]).struct.json_encode().alias(names.RAW),
    )
    cells = errors.select(
        pl.col(names.SOURCE_ROW).alias(names.ROW),
        pl.col(names.COLUMN).replace(labels),
        pl.col(names.REASON),
    )
    if reader_list:
        extra = pl.DataFrame(
            {
                names.ROW: [int(p["row"]) for p in reader_list],
                names.COLUMN: [str(p["column"]) for p in reader_list],
                names.REASON: [str(p["reason"]) for p in reader_list],
            },
            schema={names.ROW: pl.Int64, names.COLUMN: pl.String, names.REASON: pl.String},
        )
        cells = pl.concat([cells, extra])
    return cells.join(raw, left_on=names.ROW, right_on=names.SOURCE_ROW, how="left").with_columns(
        pl.lit(file_name).alias(names.FILE_NAME)
    )
