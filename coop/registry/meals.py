"""Monthly meal counts per district: the quantity the route models must serve, and the denominator of cost per meal."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from coop import names
from coop.errors import ValidationError
from coop.registry import districts
from coop.registry.vendors import find_problems, read_raw_csv
from coop.store import db

MAX_MEALS = 1e12  # a monthly meal count at least this large is refused (the column holds up to 9.2e18)
COLUMNS = (names.DISTRICT_ID, names.MONTH, names.MEALS)

_UPSERT = f"""
INSERT INTO {names.MEAL_COUNTS} ({", ".join(COLUMNS)})
SELECT {", ".join(COLUMNS)} FROM incoming_meals
ON CONFLICT ({names.DISTRICT_ID}, {names.MONTH}) DO UPDATE SET {names.MEALS} = excluded.{names.MEALS}
"""


def _month_expr() -> pl.Expr:
    """The first day of the month named by a `YYYY-MM` or `YYYY-MM-DD` text cell (null when neither)."""
    text = pl.col(names.MONTH)
    return (
        pl.when(text.str.contains(r"^\d{4}-\d{1,2}$"))
        .then(text + "-01")
        .otherwise(text)
        .str.to_date("%Y-%m-%d", strict=False)
        .dt.month_start()
    )


def validate(con: duckdb.DuckDBPyConnection, raw: pl.DataFrame, file_name: str) -> pl.DataFrame:
    """Check a text frame of meal counts against the registered districts; return it typed or raise ValidationError."""
    known = districts.load(con)[names.DISTRICT_ID].to_list()
    month = _month_expr()
    meals = pl.col(names.MEALS).str.replace_all(",", "").cast(pl.Float64, strict=False)
    checks: list[tuple[str, pl.Expr, str]] = [(c, pl.col(c).is_null(), "required value is empty") for c in COLUMNS]
    checks += [
        (
            names.DISTRICT_ID,
            pl.col(names.DISTRICT_ID).is_not_null() & ~pl.col(names.DISTRICT_ID).is_in(known),
            "unknown district (register it with `districts FILE` first)",
        ),
        (names.MONTH, pl.col(names.MONTH).is_not_null() & month.is_null(), "not a month (YYYY-MM or YYYY-MM-DD)"),
        (
            names.MEALS,
            pl.col(names.MEALS).is_not_null() & (meals.is_null() | (meals < 0) | (meals != meals.round(0))),
            "not a whole number >= 0",
        ),
        (names.MEALS, meals.is_not_null() & ~(meals.abs() < MAX_MEALS), f"out of range (below {MAX_MEALS:,.0f})"),
        (
            names.MONTH,
            month.is_not_null() & pl.struct(pl.col(names.DISTRICT_ID), month).is_duplicated(),
            "district and month appear more than once",
        ),
    ]
    problems = find_problems(raw, checks, file_name)
    if problems:
        raise ValidationError(f"{file_name}: {len(problems)} invalid value(s); nothing loaded", problems)
    return raw.select(pl.col(names.DISTRICT_ID), month.alias(names.MONTH), meals.cast(pl.Int64).alias(names.MEALS))


def upsert(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, *, file_name: str = "meal_counts") -> int:
    """Validate then insert or replace the given monthly meal counts in one transaction; return how many."""
    text = frame.select(
        [
            pl.col(c).cast(pl.String).str.strip_chars().replace("", None)
            if c in frame.columns
            else pl.lit(None, pl.String).alias(c)
            for c in COLUMNS
        ]
    )
    typed = validate(con, text, file_name)
    ids = typed[names.DISTRICT_ID].unique().to_list()  # a district spreading its periods by meals: re-spread them
    return db.upsert_frame(con, typed, "incoming_meals", _UPSERT, after=lambda c: db.respread_periods(c, ids))


def upsert_from_csv(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Validate a meal-counts CSV (district_id, month, meals) and upsert it; nothing changes if any row is invalid."""
    path = Path(path)
    return upsert(con, read_raw_csv(path, COLUMNS, COLUMNS), file_name=path.name)


def load(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """All monthly meal counts, ordered by district and month."""
    return con.sql(f"SELECT * FROM {names.MEAL_COUNTS} ORDER BY {names.DISTRICT_ID}, {names.MONTH}").pl()
