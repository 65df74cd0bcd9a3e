"""Member districts: loading them from CSV, validating, upserting, and reading them back."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from coop import names
from coop.errors import InputFileError, Problem, ValidationError
from coop.registry import geo
from coop.store import db, periods

# The columns a districts file may hold: the table's, the district's account number(s) in distributor reports, and
# how its period lines are spread (days or meals, `coop.store.periods`).
_FILE_COLUMNS = (*names.DISTRICT_COLUMNS, names.BILL_TO_ID, names.PERIOD_ALLOCATION)
_OPTIONAL = tuple(c for c in _FILE_COLUMNS if c not in names.DISTRICT_REQUIRED)
_NUMERIC = (
    names.LOCAL_RADIUS_MILES,
    names.ANNUAL_MEALS,
    names.MICRO_PURCHASE_THRESHOLD,
    names.SMALL_PURCHASE_THRESHOLD,
)
MAX_NUMBER = 1e12  # a radius, meal count or threshold at least this large is refused (the columns hold up to 9.2e18)
_LIST = (names.LOCAL_STATES, names.LOCAL_COUNTIES)
_TYPES: dict[str, pl.DataType] = {
    **{c: pl.String() for c in _FILE_COLUMNS},
    **{c: pl.Float64() for c in _NUMERIC},
    **{c: pl.List(pl.String) for c in _LIST},
    names.ANNUAL_MEALS: pl.Int64(),
}
# Separators: state codes and bill-to ids by ';', ',' or white space; counties by ';' only ("Cass County, ND").
_CODE = r"[^;,\s]+"
_GIVEN = "_given_"  # prefix of the upsert's per-column flags: True when the incoming frame has the column

_INCOMING = "incoming_districts"
# An optional column the incoming frame does not have keeps the stored value (NULL for a new district).
_UPSERT = f"""
INSERT INTO {names.DISTRICTS} ({", ".join(_FILE_COLUMNS)})
SELECT {", ".join(f"i.{c}" for c in names.DISTRICT_REQUIRED)},
{", ".join(f"CASE WHEN i.{_GIVEN}{c} THEN i.{c} ELSE d.{c} END" for c in _OPTIONAL)}
FROM {_INCOMING} AS i LEFT JOIN {names.DISTRICTS} AS d ON d.{names.DISTRICT_ID} = i.{names.DISTRICT_ID}
ON CONFLICT ({names.DISTRICT_ID}) DO UPDATE SET
{", ".join(f"{c} = excluded.{c}" for c in _FILE_COLUMNS[1:])};
-- a district a load registered (--add-districts) and a districts file now names belongs to the registry:
-- undoing that load keeps it
DELETE FROM {names.BATCH_REGISTRATIONS} WHERE {names.REGISTERED_TABLE} = '{names.DISTRICTS}'
AND {names.REGISTERED_KEY} IN (SELECT {names.DISTRICT_ID} FROM {_INCOMING})
"""


def _codes(column: str) -> pl.Expr:
    """A list column of the codes in a text cell separated by ';', ',' or spaces (null when none)."""
    codes = pl.col(column).str.extract_all(_CODE)
    return pl.when(codes.list.len() > 0).then(codes)


def read_csv(path: Path) -> pl.DataFrame:
    """Read and validate a districts CSV into typed columns (only those the file has); raise ValidationError."""
    if not path.exists():
        raise InputFileError(f"{path}: file not found")
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except pl.exceptions.NoDataError as exc:
        raise InputFileError(f"{path}: file is empty") from exc
    raw = raw.rename({c: c.strip().lower().lstrip("\ufeff") for c in raw.columns})
    missing = [c for c in names.DISTRICT_REQUIRED if c not in raw.columns]
    if missing:
        raise ValidationError(
            f"{path}: missing required column(s) {', '.join(missing)}",
            [Problem(path.name, 1, c, "required column missing") for c in missing],
        )
    given = [c for c in _FILE_COLUMNS if c in raw.columns]
    raw = raw.select(given).with_columns(pl.all().str.strip_chars().replace("", None))
    row = pl.int_range(2, pl.len() + 2)
    checks: list[tuple[str, pl.Expr, str]] = [
        (c, pl.col(c).is_null(), "required value is empty") for c in names.DISTRICT_REQUIRED
    ]
    checks.append((names.STATE, ~pl.col(names.STATE).str.contains(r"^[A-Za-z]{2}$"), "not a two-letter state code"))
    checks.append((names.ZIP, ~pl.col(names.ZIP).str.contains(r"^\d{5}(-\d{4})?$"), "not a 5-digit ZIP code"))
    if names.PERIOD_ALLOCATION in given:
        allocation = pl.col(names.PERIOD_ALLOCATION).str.to_lowercase()
        checks.append(
            (
                names.PERIOD_ALLOCATION,
                pl.col(names.PERIOD_ALLOCATION).is_not_null() & ~allocation.is_in(periods.ALLOCATIONS),
                f"not one of {', '.join(periods.ALLOCATIONS)} (how a usage report's period is spread)",
            )
        )
    for c in (c for c in _NUMERIC if c in given):
        value = pl.col(c).cast(pl.Float64, strict=False)
        finite = value.is_finite().fill_null(True)
        checks.append((c, pl.col(c).is_not_null() & finite & (value.is_null() | (value < 0)), "not a number >= 0"))
        checks.append((c, ~finite, "not a finite number (NaN or infinite)"))
        checks.append((c, finite & (value.abs() >= MAX_NUMBER), f"out of range (at most {MAX_NUMBER:,.0f})"))
    found = pl.concat(
        [
            raw.select(row.alias("row"), bad.fill_null(False).alias("bad"))
            .filter("bad")
            .select("row", pl.lit(col).alias("column"), pl.lit(reason).alias("reason"))
            for col, bad, reason in checks
        ]
    )
    if names.LOCAL_STATES in given:
        unknown = pl.element().filter(~pl.element().is_in(sorted(geo.USPS_STATES)))
        bad_codes = (
            raw.select(row.alias("row"), _codes(names.LOCAL_STATES).list.eval(pl.element().str.to_uppercase()))
            .select("row", pl.col(names.LOCAL_STATES).list.eval(unknown).alias("bad"))
            .filter(pl.col("bad").list.len() > 0)
        )
        found = pl.concat(
            [
                found,
                bad_codes.select(
                    "row",
                    pl.lit(names.LOCAL_STATES).alias("column"),
                    pl.format(
                        "unknown state code(s) {} (USPS codes, e.g. CT; MA, separated by ';', ',' or spaces)",
                        pl.col("bad").list.join(", "),
                    ).alias("reason"),
                ),
            ]
        )
    problems = [Problem(path.name, r, column, reason) for r, column, reason in found.sort("row", "column").iter_rows()]
    dupes = raw.with_columns(row.alias("row")).filter(pl.col(names.DISTRICT_ID).is_duplicated())
    problems += [
        Problem(path.name, r, names.DISTRICT_ID, "district_id appears more than once") for r in dupes["row"].to_list()
    ]
    if problems:
        raise ValidationError(f"{path}: {len(problems)} invalid value(s); nothing loaded", problems)
    typed = {
        names.STATE: pl.col(names.STATE).str.to_uppercase(),
        names.ZIP: pl.col(names.ZIP).str.slice(0, 5),
        **{c: pl.col(c).cast(pl.Float64) for c in _NUMERIC},
        names.ANNUAL_MEALS: pl.col(names.ANNUAL_MEALS).cast(pl.Float64).cast(pl.Int64),
        names.LOCAL_STATES: _codes(names.LOCAL_STATES)
        .list.eval(pl.element().str.to_uppercase())
        .list.unique(maintain_order=True),
        names.LOCAL_COUNTIES: pl.col(names.LOCAL_COUNTIES)
        .str.split(";")
        .list.eval(pl.element().str.strip_chars().filter(pl.element() != ""))
        .pipe(lambda counties: pl.when(counties.list.len() > 0).then(counties)),
        names.BILL_TO_ID: _codes(names.BILL_TO_ID).list.unique(maintain_order=True).list.join(";"),
        names.PERIOD_ALLOCATION: pl.col(names.PERIOD_ALLOCATION).str.to_lowercase(),
    }
    return raw.with_columns(expr.alias(c) for c, expr in typed.items() if c in given)


def upsert(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> int:
    """Insert or update the given districts in one transaction; a column the frame lacks keeps its stored value."""
    unknown = [c for c in frame.columns if c not in _FILE_COLUMNS]
    missing = [c for c in names.DISTRICT_REQUIRED if c not in frame.columns]
    if unknown or missing:
        raise ValueError(f"districts frame: unknown column(s) {unknown}, missing required column(s) {missing}")
    incoming = frame.with_columns(
        *[pl.lit(None, dtype=_TYPES[c]).alias(c) for c in _OPTIONAL if c not in frame.columns],
        *[pl.lit(c in frame.columns).alias(f"{_GIVEN}{c}") for c in _OPTIONAL],
    )
    ids = frame[names.DISTRICT_ID].to_list()
    respread = names.PERIOD_ALLOCATION in frame.columns  # how their period lines are spread may have changed
    after = (lambda c: db.respread_periods(c, ids)) if respread else None
    return db.upsert_frame(con, incoming, _INCOMING, _UPSERT, after=after)


def upsert_from_csv(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Validate a districts CSV and upsert it; nothing changes if any row is invalid."""
    return upsert(con, read_csv(Path(path)))


def load(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """All registered districts, one row each."""
    return con.sql(f"SELECT * FROM {names.DISTRICTS} ORDER BY {names.DISTRICT_ID}").pl()


def as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Districts as the text a districts CSV holds (state and county lists joined with '; '), for editing."""
    return frame.select(
        pl.col(c).list.join("; ").alias(c) if c in _LIST else pl.col(c).cast(pl.String) for c in names.DISTRICT_COLUMNS
    )
