"""Member districts: loading them from CSV, validating, upserting, and reading them back."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from coop import names
from coop.errors import InputFileError, Problem, ValidationError
from coop.store import db

_NUMERIC = (
    names.LOCAL_RADIUS_MILES,
    names.ANNUAL_MEALS,
    names.MICRO_PURCHASE_THRESHOLD,
    names.SMALL_PURCHASE_THRESHOLD,
)
_LIST = (names.LOCAL_STATES, names.LOCAL_COUNTIES)

_UPSERT = f"""
INSERT INTO {names.DISTRICTS} ({", ".join(names.DISTRICT_COLUMNS)})
SELECT {", ".join(names.DISTRICT_COLUMNS)} FROM incoming_districts
ON CONFLICT ({names.DISTRICT_ID}) DO UPDATE SET
{", ".join(f"{c} = excluded.{c}" for c in names.DISTRICT_COLUMNS[1:])}
"""


def read_csv(path: Path) -> pl.DataFrame:
    """Read and validate a districts CSV into typed columns; raise ValidationError naming every bad cell."""
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
    for c in names.DISTRICT_COLUMNS:
        if c not in raw.columns:
            raw = raw.with_columns(pl.lit(None, dtype=pl.String).alias(c))
    raw = raw.select(names.DISTRICT_COLUMNS).with_columns(pl.all().str.strip_chars())
    row = pl.int_range(2, pl.len() + 2)
    checks: list[tuple[str, pl.Expr, str]] = [
        (c, pl.col(c).is_null() | (pl.col(c) == ""), "required value is empty") for c in names.DISTRICT_REQUIRED
    ]
    checks.append((names.STATE, ~pl.col(names.STATE).str.contains(r"^[A-Za-z]{2}$"), "not a two-letter state code"))
    checks.append((names.ZIP, ~pl.col(names.ZIP).str.contains(r"^\d{5}(-\d{4})?$"), "not a 5-digit ZIP code"))
    for c in _NUMERIC:
        value = pl.col(c).cast(pl.Float64, strict=False)
        checks.append(
            (c, pl.col(c).is_not_null() & (pl.col(c) != "") & (value.is_null() | (value < 0)), "not a number >= 0")
        )
    found = pl.concat(
        [
            raw.select(row.alias("row"), bad.fill_null(False).alias("bad"))
            .filter("bad")
            .select("row", pl.lit(col).alias("column"), pl.lit(reason).alias("reason"))
            for col, bad, reason in checks
        ]
    ).sort("row", "column")
    problems = [Problem(path.name, r, column, reason) for r, column, reason in found.iter_rows()]
    dupes = raw.with_columns(row.alias("row")).filter(pl.col(names.DISTRICT_ID).is_duplicated())
    problems += [
        Problem(path.name, r, names.DISTRICT_ID, "district_id appears more than once") for r in dupes["row"].to_list()
    ]
    if problems:
        raise ValidationError(f"{path}: {len(problems)} invalid value(s); nothing loaded", problems)
    return raw.with_columns(
        pl.col(names.STATE).str.to_uppercase(),
        pl.col(names.ZIP).str.slice(0, 5),
        *[pl.col(c).replace("", None).cast(pl.Float64) for c in _NUMERIC],
        *[
            pl.col(c).replace("", None).str.split(";").list.eval(pl.element().str.strip_chars().str.to_uppercase())
            if c == names.LOCAL_STATES
            else pl.col(c).replace("", None).str.split(";").list.eval(pl.element().str.strip_chars())
            for c in _LIST
        ],
    ).with_columns(pl.col(names.ANNUAL_MEALS).cast(pl.Int64))


def upsert(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> int:
    """Insert or update the given districts in one transaction; return how many."""
    return db.upsert_frame(con, frame, "incoming_districts", _UPSERT)


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
