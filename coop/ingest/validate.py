"""Parsing and checking canonical columns: typed dates, numbers, yes/no and enums, and one problem per bad cell."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from coop import names, parsing
from coop.errors import ERROR, Problem
from coop.registry import districts, geo
from coop.store import settings

DEFAULT_EARLIEST_DATE = date(2000, 7, 1)
# the largest amount a line may hold, in dollars (and units): far above any school purchase, and small enough that
# purchase_lines' DECIMAL(18, 4) unit price and DECIMAL(18, 2) extended price, and the summary's sums of whole cents
# (BIGINT, 9.2e18) over 90,000 such lines, all hold it
MAX_AMOUNT = 1e12
MAX_CELL_CHARS = 32_767  # Excel's limit for one cell: a longer cell is refused naming its row and column
# control characters (NUL, escape, the C1 controls of bytes cp1252 leaves undefined) refuse a text cell; tab, CR
# and LF are white space
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
_THOUSANDS = r"^[-(]?\d{1,3}(,\d{3})+(\.\d*)?\)?$"
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d")
# a time part after the date (Excel writes '9/3/2024 0:00'; ISO 'T00:00:00Z'), ignored
_TIME_PART = r"^(\S+?)(?:[T ]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?\s*(?:Z|[+-]\d{2}:?\d{2})?)$"
# M/D/YY or M-D-YY: a two-digit year is 20YY (M-D-YYYY is read as M/D/YYYY)
_US_DATE = r"^(\d{1,2})[/-](\d{1,2})[/-](\d{2}|\d{4})$"

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
    names.ORIGIN_COUNTRY,
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
    names.ORIGIN_COUNTRY,
    names.INVOICE_NO,
)
_PARSED = (  # columns parsed from text (dates, yes/no, numbers); `_raw_<column>` keeps the text
    names.INVOICE_DATE,
    names.PERIOD_START,
    names.PERIOD_END,
    names.UNPROCESSED,
    names.QUANTITY,
    names.UNIT_PRICE,
    names.EXTENDED_PRICE,
)
_VENDOR_TYPE_LIST = ", ".join(names.VENDOR_TYPES)
_CATEGORY_LIST = ", ".join(names.CATEGORIES)
_RAW_TEXT = (names.VENDOR_TYPE, names.CATEGORY, names.ORIGIN_STATE, names.ORIGIN_ZIP, names.ORIGIN_COUNTRY)  # as given
FILE_RULE, REGISTRY_RULE = "file", "registry"  # vendor_type_rule: the file's vendor_type, the vendor registry's
_ZIP_STATE = "_zip_state"  # the state of the file's origin_zip (null: blank, or not a known ZIP)
_UNKNOWN_BLANK = "leave it blank when the origin is unknown"
# the error frame of a chunk: one (source_row, column, reason) row per invalid cell
KIND, VALUE = "kind", "value"  # a reason without the row's values, and those values (`coop.errors.Problem`)
NO_ERRORS = pl.DataFrame(
    schema={
        names.SOURCE_ROW: pl.Int64,
        names.COLUMN: pl.String,
        names.REASON: pl.String,
        KIND: pl.String,
        VALUE: pl.String,
    }
)


@dataclass(frozen=True)
class Checks:
    """What validation needs across a file's chunks: its name, district, the known districts and the date range."""

    file_name: str
    district_id: str | None
    known: pl.Series
    today: date
    first_day: date
    shown: dict[str, str]  # canonical column -> the file's own header
    stripped: bool = False  # the chunks come from `coop.ingest.readers`: text already stripped, blanks already null

    def label(self, column: str) -> str:
        """The column as the user's file names it."""
        return self.shown.get(column, column)


def earliest_date(con: duckdb.DuckDBPyConnection) -> date:
    """The earliest invoice date accepted: setting `earliest_invoice_date`, else 2000-07-01."""
    text = settings.get(con, names.EARLIEST_INVOICE_DATE)
    return date.fromisoformat(text) if text is not None else DEFAULT_EARLIEST_DATE


def checks(
    con: duckdb.DuckDBPyConnection,
    file_name: str,
    district_id: str | None,
    shown: dict[str, str],
    *,
    stripped: bool = False,
) -> Checks:
    """The checks of one load, reference data read once: known districts and the accepted date range."""
    known = districts.load(con)[names.DISTRICT_ID].cast(pl.String)
    return Checks(file_name, district_id, known, date.today(), earliest_date(con), shown, stripped)


def missing_columns(columns: Iterable[str]) -> list[tuple[str, str]]:
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


# --- parsing -------------------------------------------------------------------------
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


def number(frame: pl.DataFrame, column: str) -> pl.Series:
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
    """Distinct date texts parsed as ISO or US m/d/Y or m/d/yy as 20yy (a time part ignored); unparseable -> null."""
    trimmed = pl.col("t").str.strip_chars().str.replace(_TIME_PART, "${1}")
    us = trimmed.str.extract_groups(_US_DATE)
    year = us.struct.field("3")
    trimmed = (
        pl.when(year.is_not_null())
        .then(
            pl.format(
                "{}/{}/{}",
                us.struct.field("1"),
                us.struct.field("2"),
                pl.when(year.str.len_chars() == 2).then(pl.lit("20") + year).otherwise(year),
            )
        )
        .otherwise(trimmed)
    )
    parsed = pl.coalesce([trimmed.str.strptime(pl.Date, fmt, strict=False) for fmt in _DATE_FORMATS])
    return pl.DataFrame({"t": text}).select(parsed).to_series()


def dates(frame: pl.DataFrame, column: str) -> pl.Series:
    """A column parsed as a date from ISO or US m/d/Y text; unparseable -> null."""
    series = frame[column]
    if series.dtype == pl.Date:
        return series
    if isinstance(series.dtype, pl.Datetime):
        return series.dt.date()
    return _via_unique(_strings(frame, column), _parse_dates, pl.Date).rename(column)


def booleans(frame: pl.DataFrame, column: str) -> pl.Series:
    """A column parsed as a boolean from yes/no, true/false, y/n, 1/0 in any case; other text -> null."""
    series = frame[column]
    if series.dtype == pl.Boolean:
        return series

    def parse(text: pl.Series) -> pl.Series:
        return pl.DataFrame({"t": text}).select(parsing.bool_expr(pl.col("t"))).to_series()

    return _via_unique(_strings(frame, column), parse, pl.Boolean).rename(column)


def enum_text(series: pl.Series) -> pl.Series:
    """Enum text normalised per distinct value: lowercase, spaces and hyphens as underscores."""
    return _via_unique(series, lambda text: text.str.to_lowercase().str.replace_all(r"[\s\-]+", "_"), pl.String).rename(
        series.name
    )


def typed(frame: pl.DataFrame, checks: Checks) -> pl.DataFrame:
    """Canonical typed columns plus `_raw_<column>` text for parsed columns and the file's own types and origin.

    The state of each distinct origin ZIP is looked up once (`_zip_state`), before the vendor registry fills blanks.
    """
    for column in _COLUMN_ORDER:
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    parsed = _PARSED
    texts = frame.select(  # one select, so Polars strips the text columns in parallel
        pl.col(names.SOURCE_ROW),
        *[
            pl.col(c) if checks.stripped and frame.schema[c] == pl.String else _text_expr(frame, c)
            for c in _TEXT_COLUMNS
        ],
        *[pl.col(c).cast(pl.String).alias(f"_raw_{c}") for c in parsed],
        *([pl.col(names.VENDOR_TYPE_RULE)] if names.VENDOR_TYPE_RULE in frame.columns else []),
    )
    if checks.district_id is not None:
        texts = texts.with_columns(pl.col(names.DISTRICT_ID).fill_null(pl.lit(checks.district_id)))
    out = texts.with_columns(
        *[dates(frame, c) for c in (names.INVOICE_DATE, names.PERIOD_START, names.PERIOD_END)],
        booleans(frame, names.UNPROCESSED),
        *[number(frame, c) for c in (names.QUANTITY, names.UNIT_PRICE, names.EXTENDED_PRICE)],
    ).with_columns(pl.col(names.INVOICE_DATE).fill_null(pl.col(names.PERIOD_START)))
    # the file's own types normalised (per distinct value); the vendor registry fills the rest (`enrich`)
    given_rule = pl.col(names.VENDOR_TYPE_RULE) if names.VENDOR_TYPE_RULE in out.columns else pl.lit(FILE_RULE)
    return out.with_columns(
        pl.when(pl.col(names.VENDOR_TYPE).is_not_null()).then(given_rule).alias(names.VENDOR_TYPE_RULE),
        *[pl.col(c).alias(f"_raw_{c}") for c in _RAW_TEXT],
        enum_text(out[names.VENDOR_TYPE]).alias(names.VENDOR_TYPE),
        enum_text(out[names.CATEGORY]).alias(names.CATEGORY),
        _via_unique(out[names.ORIGIN_ZIP], geo.zip_states, pl.String).alias(_ZIP_STATE),
        _via_unique(out[names.ORIGIN_COUNTRY], geo.country_codes, pl.String).alias(names.ORIGIN_COUNTRY),
    )


# --- checking ------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """One way a cell fails: its condition, the reason (with the row's values), and that reason without them."""

    cond: pl.Expr
    reason: pl.Expr
    kind: str  # the reason with the row's own values left out ("..."): what rows sharing the fault have in common
    value: pl.Expr | None  # the row's own values in the reason, as text


def rule(cond: pl.Expr, template: str, *args: str | pl.Expr) -> Rule:
    """A rule whose reason is `template` with each {} filled by an argument: a str as is, an expression per row."""
    parts = template.split("{}")
    if len(parts) != len(args) + 1:
        raise ValueError(f"{template!r}: {len(parts) - 1} placeholders, {len(args)} arguments")
    kind, pieces, varying = parts[0], [pl.lit(parts[0])], []
    for arg, part in zip(args, parts[1:], strict=True):
        if isinstance(arg, str):
            kind += arg + part
            pieces.append(pl.lit(arg + part))
        else:
            quoted = kind.endswith("'") and part.startswith("'")  # listed as the reason shows it: 'Lynn'
            kind += "..." + part
            pieces += [arg.cast(pl.String), pl.lit(part)]
            varying.append(pl.concat_str(pl.lit("'"), pieces[-2], pl.lit("'")) if quoted else pieces[-2])
    if not varying:
        return Rule(cond, pl.lit(kind), kind, None)
    value = varying[0] if len(varying) == 1 else pl.concat_str(varying, separator=" / ")
    return Rule(cond, pl.concat_str(pieces), kind, value)


UNKNOWN_VENDOR = (
    "vendors not in the vendor registry, and the file gives no vendor_type: {values}; register all of them in one "
    "step: load the file again with --vendor-type TYPE (one type for all; registered with this load, undone with it), "
    "or fill in vendor_type (and origin) in the vendors file written for them "
    "(vendor_name,vendor_type,origin_state,origin_zip) and load it with `python -m coop vendors FILE`"
)


def _rules(checks: Checks) -> dict[str, list[Rule]]:
    """Per validated column, its rules in order; the first true condition names the fault."""

    def raw(column: str) -> pl.Expr:
        return pl.col(f"_raw_{column}")

    def iso(value: pl.Expr) -> pl.Expr:
        return value.dt.to_string("%Y-%m-%d")

    def date_rules(column: str, required: bool) -> list[Rule]:
        value = pl.col(column)
        rules = [
            rule(
                raw(column).is_not_null() & value.is_null(),
                "not a date: '{}' (use YYYY-MM-DD or M/D/YYYY)",
                raw(column),
            )
        ]
        if required:
            rules.append(rule(value.is_null(), "required value is empty"))
        return [
            *rules,
            rule(value > pl.lit(checks.today), "date {} is in the future", iso(value)),
            rule(
                value < pl.lit(checks.first_day),
                "date {} is before the earliest school year loaded ({})",
                iso(value),
                checks.first_day.isoformat(),
            ),
        ]

    def number_rules(column: str) -> list[Rule]:
        return [
            rule(raw(column).is_not_null() & pl.col(column).is_null(), "not a number: '{}'", raw(column)),
            out_of_range(pl.col(column), column),
        ]

    def too_long(value: pl.Expr) -> Rule:
        return rule(
            value.str.len_bytes() > MAX_CELL_CHARS,
            "cell holds {} characters, more than {} (Excel's limit for one cell)",
            value.str.len_chars(),
            f"{MAX_CELL_CHARS}",
        )

    def control(value: pl.Expr) -> Rule:
        return rule(
            value.str.contains(_CONTROL),
            "holds a control character (e.g. NUL) at position {}",
            value.str.extract(f"^(.*?){_CONTROL}").str.len_chars() + 1,
        )

    def out_of_range(value: pl.Expr, what: str) -> Rule:
        return rule(
            value.abs() >= MAX_AMOUNT,
            "{} {} is out of range (at most {} in size)",
            what,
            value,
            f"{MAX_AMOUNT:,.0f}",
        )

    empty = "required value is empty"
    district, vendor_type = pl.col(names.DISTRICT_ID), pl.col(names.VENDOR_TYPE)
    # the file's own origin (the vendor registry's is checked when registered)
    state, zip_code, zip_state = raw(names.ORIGIN_STATE), raw(names.ORIGIN_ZIP), pl.col(_ZIP_STATE)
    state_code = state.str.to_uppercase()
    country, country_code = raw(names.ORIGIN_COUNTRY), pl.col(names.ORIGIN_COUNTRY)
    foreign = country_code.is_not_null() & ~country_code.is_in(list(geo.DOMESTIC_COUNTRIES))
    qty, price, ext = pl.col(names.QUANTITY), pl.col(names.UNIT_PRICE), pl.col(names.EXTENDED_PRICE)
    district_rules = [
        rule(district.is_null(), empty),
        rule(
            ~district.is_in(checks.known.implode()),
            "unknown district '{}' (register it with `python -m coop districts FILE`)",
            district,
        ),
    ]
    if checks.district_id is not None:
        district_rules.append(
            rule(
                district != pl.lit(checks.district_id),
                "district '{}' differs from --district {}",
                district,
                checks.district_id,
            )
        )
    rules = {
        names.DISTRICT_ID: district_rules,
        names.INVOICE_DATE: date_rules(names.INVOICE_DATE, required=True),
        names.PERIOD_START: date_rules(names.PERIOD_START, required=False),
        names.PERIOD_END: date_rules(names.PERIOD_END, required=False),
        names.VENDOR_NAME: [rule(pl.col(names.VENDOR_NAME).is_null(), empty)],
        names.VENDOR_TYPE: [
            Rule(
                vendor_type.is_null(),
                pl.format("no vendor type: vendor '{}' is not in the vendor registry", pl.col(names.VENDOR_NAME)),
                UNKNOWN_VENDOR,
                pl.format("'{}'", pl.col(names.VENDOR_NAME)),
            ),
            rule(
                ~vendor_type.is_in(list(names.VENDOR_TYPES)),
                "unknown vendor type '{}' (one of {})",
                raw(names.VENDOR_TYPE),
                _VENDOR_TYPE_LIST,
            ),
        ],
        names.PRODUCT: [rule(pl.col(names.PRODUCT).is_null() & pl.col(names.DESCRIPTION).is_null(), empty)],
        names.CATEGORY: [
            rule(
                pl.col(names.CATEGORY).is_not_null() & ~pl.col(names.CATEGORY).is_in(list(names.CATEGORIES)),
                "unknown category '{}' (one of {})",
                raw(names.CATEGORY),
                _CATEGORY_LIST,
            )
        ],
        names.UNPROCESSED: [
            rule(
                raw(names.UNPROCESSED).is_not_null() & pl.col(names.UNPROCESSED).is_null(),
                "not a yes/no value: '{}'",
                raw(names.UNPROCESSED),
            )
        ],
        names.QUANTITY: [
            *number_rules(names.QUANTITY),
            rule(qty.is_null(), empty),
            rule(qty == 0, "quantity must not be 0, got {}", raw(names.QUANTITY)),
            rule(
                (qty < 0) & raw(names.EXTENDED_PRICE).is_null(),
                "quantity {} is negative but extended_price is empty: a credit (return or allowance) "
                "gives a negative extended_price too",
                raw(names.QUANTITY),
            ),
            rule(
                ((qty < 0) & (ext >= 0)) | ((qty > 0) & (ext < 0)),
                "quantity {} and extended_price {} disagree in sign: a credit (return or allowance) has both negative",
                raw(names.QUANTITY),
                raw(names.EXTENDED_PRICE),
            ),
        ],
        names.UNIT: [rule(pl.col(names.UNIT).is_null(), empty)],
        names.UNIT_PRICE: [
            *number_rules(names.UNIT_PRICE),
            rule(
                price.is_null() & ext.is_null() & raw(names.EXTENDED_PRICE).is_null(),
                "required value is empty (give unit_price or extended_price)",
            ),
            rule(price < 0, "unit_price must be >= 0, got {}", raw(names.UNIT_PRICE)),
            # the rules again on the price a blank cell is filled with (`coop.ingest.enrich.with_prices`)
            rule(
                price.is_null() & (ext / qty < 0),
                "unit_price is empty and extended_price {} / quantity {} is negative: a unit price is >= 0",
                raw(names.EXTENDED_PRICE),
                raw(names.QUANTITY),
            ),
            out_of_range(pl.when(price.is_null()).then(ext / qty), "unit_price filled from extended_price / quantity"),
        ],
        names.EXTENDED_PRICE: [
            *number_rules(names.EXTENDED_PRICE),
            out_of_range(pl.when(ext.is_null()).then(qty * price), "extended_price filled from quantity x unit_price"),
        ],
        names.ORIGIN_STATE: [
            rule(
                state.is_not_null() & ~state_code.is_in(list(geo.USPS_STATES)),
                "'{}' is not a USPS state code (e.g. MA); {}",
                state,
                _UNKNOWN_BLANK,
            )
        ],
        names.ORIGIN_ZIP: [
            rule(
                zip_code.is_not_null() & zip_state.is_null(),
                "'{}' is not a US ZIP code; {}",
                zip_code,
                _UNKNOWN_BLANK,
            ),
            rule(
                state_code.is_in(list(geo.USPS_STATES)) & (zip_state != state_code),
                "'{}' is a ZIP code in {}, not in origin_state {}; correct one, or leave both blank when the "
                "origin is unknown",
                zip_code,
                zip_state,
                state,
            ),
        ],
        names.ORIGIN_COUNTRY: [
            rule(
                country.is_not_null() & country_code.is_null(),
                "'{}' is not a country (an ISO code such as MX or MEX, or a name such as Mexico); {}",
                country,
                _UNKNOWN_BLANK,
            ),
            rule(
                foreign & (state.is_not_null() | zip_code.is_not_null()),
                "origin_country {} is not the United States but the line also gives a US origin ({}); "
                "correct one, or leave the US origin blank for imported food",
                country,
                pl.concat_str([state, zip_code], separator=" ", ignore_nulls=True),
            ),
        ],
    }
    # first of all, on the text as the file gives it: a cell too long to be data, a control character in text
    for column in _TEXT_COLUMNS:
        rules.setdefault(column, [])
    for column, pairs in rules.items():
        given = raw(column) if column in _PARSED else pl.col(column)
        text = [control(given)] if column in _TEXT_COLUMNS else []
        rules[column] = [too_long(given), *text, *pairs]
    return rules


def check(typed: pl.DataFrame, checks: Checks, extra_bad: set[int]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows that pass every rule, one (source_row, column, reason, kind, value) row per invalid cell) for a chunk."""
    rules = _rules(checks)
    flags = [pl.any_horizontal([r.cond.fill_null(False) for r in column_rules]) for column_rules in rules.values()]
    bad = pl.any_horizontal(flags)
    if extra_bad:
        bad = bad | pl.col(names.SOURCE_ROW).is_in(list(extra_bad))
    marked = typed.with_columns(bad.alias("_bad"))
    good = marked.filter(~pl.col("_bad")).drop("_bad")
    failing = marked.filter(pl.col("_bad"))
    if failing.is_empty():
        return good, NO_ERRORS
    cells = []
    for column, column_rules in rules.items():
        first, *others = column_rules
        found = pl.struct(
            first.reason.alias(names.REASON),
            pl.lit(first.kind).alias(KIND),
            (first.value if first.value is not None else pl.lit(None, pl.String)).alias(VALUE),
        )
        expr = pl.when(first.cond.fill_null(False)).then(found)
        for r in others:
            found = pl.struct(
                r.reason.alias(names.REASON),
                pl.lit(r.kind).alias(KIND),
                (r.value if r.value is not None else pl.lit(None, pl.String)).alias(VALUE),
            )
            expr = expr.when(r.cond.fill_null(False)).then(found)
        cells.append(expr.otherwise(None).alias(column))
    order = {c: i for i, c in enumerate(_COLUMN_ORDER)}
    errors = (
        failing.select(names.SOURCE_ROW, *cells)
        .unpivot(index=names.SOURCE_ROW, variable_name=names.COLUMN, value_name="_cell")
        .drop_nulls("_cell")
        .unnest("_cell")
        .drop_nulls(names.REASON)
        .with_columns(pl.col(names.COLUMN).replace_strict(order, default=len(order), return_dtype=pl.Int64).alias("_o"))
        .sort(names.SOURCE_ROW, "_o")
        .drop("_o")
        .with_columns(pl.col(names.COLUMN).replace(checks.shown))
        .select(NO_ERRORS.columns)
    )
    return good, errors


def reader_errors(problems: Iterable[Problem]) -> pl.DataFrame:
    """Cell problems found while reading (e.g. formulas without cached values) as an error frame."""
    problems = list(problems)
    return pl.DataFrame(
        {
            names.SOURCE_ROW: [p.row for p in problems],
            names.COLUMN: [p.column for p in problems],
            names.REASON: [p.reason for p in problems],
            KIND: [p.kind for p in problems],
            VALUE: [p.value for p in problems],
        },
        schema=NO_ERRORS.schema,
    )


def error_problems(frames: list[pl.DataFrame], file_name: str) -> list[Problem]:
    """Error problems in row order from the per-chunk error frames."""
    if not frames:
        return []
    errors = pl.concat(frames).with_row_index("_i").sort(names.SOURCE_ROW, "_i")
    return [
        Problem(file_name, row, column, reason, ERROR, kind, value)
        for row, column, reason, kind, value in errors.select(NO_ERRORS.columns).iter_rows()
    ]
