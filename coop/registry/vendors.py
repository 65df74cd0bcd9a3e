"""Vendor registry: each vendor's type (one of the 13 of DESIGN.md) and its default origin."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from coop import names
from coop.errors import InputFileError, Problem, ValidationError
from coop.store import db

COLUMNS = (names.VENDOR_NAME, names.VENDOR_TYPE, names.ORIGIN_STATE, names.ORIGIN_ZIP)
REQUIRED = (names.VENDOR_NAME, names.VENDOR_TYPE)

_UPSERT = f"""
INSERT INTO {names.VENDORS} ({", ".join(COLUMNS)})
SELECT {", ".join(COLUMNS)} FROM incoming_vendors
ON CONFLICT ({names.VENDOR_NAME}) DO UPDATE SET
{", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])};
-- a vendor a load registered (--vendor-type) and a vendors file now names belongs to the registry: undoing that
-- load keeps it
DELETE FROM {names.BATCH_REGISTRATIONS} WHERE {names.REGISTERED_TABLE} = '{names.VENDORS}'
AND lower(trim({names.REGISTERED_KEY})) IN (SELECT lower(trim({names.VENDOR_NAME})) FROM incoming_vendors)
"""


# characters that show nothing: zero-width space, non-joiner and joiner, word joiner, BOM, soft hyphen
_INVISIBLE = "[\u200b\u200c\u200d\u2060\ufeff\u00ad]"


def clean_name(name: pl.Expr) -> pl.Expr:
    """A vendor name as stored: Unicode NFKC, invisible characters removed, white space runs as one space."""
    return name.str.normalize("NFKC").str.replace_all(_INVISIBLE, "").str.replace_all(r"\s+", " ").str.strip_chars()


def vendor_key(name: pl.Expr) -> pl.Expr:
    """The key a vendor name is matched to the registry by (DESIGN: ignoring case, spacing, invisible characters)."""
    return clean_name(name).str.to_lowercase()


def read_raw_csv(path: Path, required: tuple[str, ...], columns: tuple[str, ...]) -> pl.DataFrame:
    """Read a small registry CSV as stripped text columns; absent optional columns are null."""
    if not path.exists():
        raise InputFileError(f"{path}: file not found")
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except pl.exceptions.NoDataError as exc:
        raise InputFileError(f"{path}: file is empty") from exc
    raw = raw.rename({c: c.lstrip("\ufeff").strip().lower() for c in raw.columns})
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise ValidationError(
            f"{path}: missing required column(s) {', '.join(missing)}",
            [Problem(path.name, 1, c, "required column missing") for c in missing],
        )
    if raw.height == 0:
        raise InputFileError(f"{path}: header only, no rows")
    for c in columns:
        if c not in raw.columns:
            raw = raw.with_columns(pl.lit(None, dtype=pl.String).alias(c))
    return raw.select(columns).with_columns(pl.all().str.strip_chars().replace("", None))


def find_problems(raw: pl.DataFrame, checks: list[tuple[str, pl.Expr, str]], file_name: str) -> list[Problem]:
    """Every (row, column, reason) where a check's expression is true; rows numbered as a spreadsheet shows them."""
    row = pl.int_range(2, pl.len() + 2)
    if not checks:
        return []
    found = pl.concat(
        [
            raw.select(row.alias("row"), bad.fill_null(False).alias("bad"))
            .filter("bad")
            .select("row", pl.lit(col).alias("column"), pl.lit(reason).alias("reason"))
            for col, bad, reason in checks
        ]
    ).sort("row", "column")
    return [Problem(file_name, row, column, reason) for row, column, reason in found.iter_rows()]


def normalise_vendor_type(expr: pl.Expr) -> pl.Expr:
    """A vendor-type text normalised to the enum's spelling ("Food Hub" -> "food_hub")."""
    return expr.str.strip_chars().str.to_lowercase().str.replace_all(r"[\s\-]+", "_")


def _checks() -> list[tuple[str, pl.Expr, str]]:
    """Validation rules of a vendors file: (column, bad-row expression, reason)."""
    vendor_type = normalise_vendor_type(pl.col(names.VENDOR_TYPE))
    return [
        (names.VENDOR_NAME, pl.col(names.VENDOR_NAME).is_null(), "required value is empty"),
        (names.VENDOR_TYPE, pl.col(names.VENDOR_TYPE).is_null(), "required value is empty"),
        (
            names.VENDOR_TYPE,
            pl.col(names.VENDOR_TYPE).is_not_null() & ~vendor_type.is_in(names.VENDOR_TYPES),
            f"unknown vendor type (expected one of {', '.join(names.VENDOR_TYPES)})",
        ),
        (
            names.ORIGIN_STATE,
            pl.col(names.ORIGIN_STATE).is_not_null() & ~pl.col(names.ORIGIN_STATE).str.contains(r"^[A-Za-z]{2}$"),
            "not a two-letter state code",
        ),
        (
            names.ORIGIN_ZIP,
            pl.col(names.ORIGIN_ZIP).is_not_null() & ~pl.col(names.ORIGIN_ZIP).str.contains(r"^\d{5}(-\d{4})?$"),
            "not a 5-digit ZIP code",
        ),
        (
            names.VENDOR_NAME,
            pl.col(names.VENDOR_NAME).is_not_null() & vendor_key(pl.col(names.VENDOR_NAME)).is_duplicated(),
            "vendor_name appears more than once (ignoring case, spacing and invisible characters)",
        ),
    ]


def validate(raw: pl.DataFrame, file_name: str) -> pl.DataFrame:
    """Check a text frame of vendors and return it typed; raise ValidationError naming every bad cell."""
    problems = find_problems(raw, _checks(), file_name)
    if problems:
        raise ValidationError(f"{file_name}: {len(problems)} invalid value(s); nothing loaded", problems)
    return raw.with_columns(
        clean_name(pl.col(names.VENDOR_NAME)),
        normalise_vendor_type(pl.col(names.VENDOR_TYPE)),
        pl.col(names.ORIGIN_STATE).str.to_uppercase(),
        pl.col(names.ORIGIN_ZIP).str.slice(0, 5),
    )


def read_csv(path: Path) -> pl.DataFrame:
    """Read and validate a vendors CSV (vendor_name, vendor_type, origin_state, origin_zip)."""
    path = Path(path)
    return validate(read_raw_csv(path, REQUIRED, COLUMNS), path.name)


def upsert(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, *, file_name: str = "vendors") -> int:
    """Validate then insert or update the given vendors in one transaction; return how many."""
    text = frame.select(
        [
            pl.col(c).cast(pl.String).str.strip_chars().replace("", None)
            if c in frame.columns
            else pl.lit(None, pl.String).alias(c)
            for c in COLUMNS
        ]
    )
    frame = validate(text, file_name)
    return db.upsert_frame(con, frame, "incoming_vendors", _UPSERT)


def upsert_from_csv(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Validate a vendors CSV and upsert it; nothing changes if any row is invalid."""
    path = Path(path)
    return upsert(con, read_raw_csv(path, REQUIRED, COLUMNS), file_name=path.name)


def load(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """All registered vendors, one row each, ordered by name."""
    return con.sql(f"SELECT * FROM {names.VENDORS} ORDER BY {names.VENDOR_NAME}").pl()


def template_csv(vendor_names: list[str]) -> str:
    """A vendors file's text listing `vendor_names`, vendor_type and origin blank, to fill in and load."""
    frame = pl.DataFrame({c: vendor_names if c == names.VENDOR_NAME else [None] * len(vendor_names) for c in COLUMNS})
    return frame.select(pl.all().cast(pl.String)).write_csv()


def write_template(path: Path, vendor_names: list[str]) -> Path:
    """Write `template_csv(vendor_names)` to `path` (to fill in and load with `python -m coop vendors`)."""
    path.write_text(template_csv(vendor_names), encoding="utf-8")
    return path
