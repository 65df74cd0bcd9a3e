"""Contracts on record: which procurement method covers a district's purchases from a vendor, and when.

`coop.rules.thresholds` compares them with the method the spend requires.
"""

from __future__ import annotations

from typing import Final

import duckdb
import polars as pl

from coop import names
from coop.errors import Problem, ValidationError
from coop.store import db

# contracts.method values (entitlement, USDA Foods and DoD Fresh, is not a procurement)
CONTRACT_FORMAL: Final = "formal"
CONTRACT_SMALL: Final = "small_purchase"
CONTRACT_ENTITLEMENT: Final = "entitlement"
CONTRACT_METHODS: Final = (CONTRACT_FORMAL, CONTRACT_SMALL, CONTRACT_ENTITLEMENT)

CONTRACT_SCHEMA: Final = {
    names.DISTRICT_ID: pl.String,
    names.VENDOR_NAME: pl.String,
    names.METHOD: pl.String,
    names.START_DATE: pl.Date,
    names.END_DATE: pl.Date,
}


def upsert(con: duckdb.DuckDBPyConnection, contracts: pl.DataFrame, file_name: str = "contracts") -> int:
    """Store contracts (district_id, vendor_name, method, start_date, end_date), replacing same-start rows."""
    missing = [c for c in CONTRACT_SCHEMA if c not in contracts.columns and c != names.END_DATE]
    if missing:
        raise ValidationError(
            f"{file_name}: missing column(s) {', '.join(missing)}",
            [Problem(file_name, 1, c, "required column missing") for c in missing],
        )
    frame = contracts
    if names.END_DATE not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Date).alias(names.END_DATE))
    frame = frame.select(list(CONTRACT_SCHEMA)).cast(CONTRACT_SCHEMA)
    methods = ", ".join(CONTRACT_METHODS)
    problems = [
        Problem(file_name, i + 2, names.METHOD, f"method must be one of {methods}, got {r[names.METHOD]!r}")
        for i, r in enumerate(frame.iter_rows(named=True))
        if r[names.METHOD] not in CONTRACT_METHODS
    ] + [
        Problem(file_name, i + 2, column, "empty")
        for i, r in enumerate(frame.iter_rows(named=True))
        for column in (names.DISTRICT_ID, names.VENDOR_NAME, names.START_DATE)
        if r[column] in (None, "")
    ]
    if problems:
        raise ValidationError(f"{file_name}: {len(problems)} invalid contract cell(s)", problems)
    cols = ", ".join(CONTRACT_SCHEMA)
    with db.transaction(con):
        for row in frame.iter_rows():
            con.execute(
                f"DELETE FROM {names.CONTRACTS} WHERE {names.DISTRICT_ID} = ? AND {names.VENDOR_NAME} = ? "
                f"AND {names.START_DATE} = ?",
                [row[0], row[1], row[3]],
            )
            con.execute(f"INSERT INTO {names.CONTRACTS} ({cols}) VALUES (?, ?, ?, ?, ?)", list(row))
    return frame.height


def load(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every contract on record: district, vendor, method and the dates it covers."""
    cols = ", ".join((names.DISTRICT_ID, names.VENDOR_NAME, names.METHOD, names.START_DATE, names.END_DATE))
    return con.sql(f"SELECT {cols} FROM {names.CONTRACTS}").pl()
