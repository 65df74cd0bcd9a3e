"""Ingest batches: listing them and undoing one."""

from __future__ import annotations

import duckdb
import polars as pl

from coop import names
from coop.errors import UnknownBatchError
from coop.store import db, lines, summary

_LIST_SQL = f"""
SELECT {names.BATCH_ID}, {names.FILE_NAME}, {names.SHA256}, {names.DISTRICT_ID}, {names.SOURCE_KIND},
       {names.ROWS_LOADED}, {names.ROWS_REJECTED}, {names.LOADED_AT}
FROM {names.BATCHES}
ORDER BY {names.BATCH_ID}
"""


def list_batches(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every batch (id, file, sha256, district, kind, rows loaded/rejected, time), oldest first."""
    return con.sql(_LIST_SQL).pl()


def undo(con: duckdb.DuckDBPyConnection, batch_id: int) -> int:
    """Remove one batch, its purchases, summary rows and rejects in one transaction; return the purchases removed."""
    rows = con.execute(f"SELECT count(*) FROM {names.BATCHES} WHERE {names.BATCH_ID} = ?", [batch_id]).fetchall()
    if rows[0][0] == 0:
        raise UnknownBatchError(f"no batch with id {batch_id} (see `python -m coop batches`)")
    with db.transaction(con):
        ((removed,),) = con.execute(
            f"SELECT count(*) FROM {names.PURCHASES} WHERE {names.BATCH_ID} = ?", [batch_id]
        ).fetchall()
        con.execute(f"DELETE FROM {names.PURCHASE_LINES} WHERE {names.BATCH_ID} = ?", [batch_id])
        for table, (id_column, _, _) in lines.DIMENSIONS.items():  # items and packs no other line has
            con.execute(
                f"DELETE FROM {table} WHERE {id_column} NOT IN (SELECT {id_column} FROM {names.PURCHASE_LINES})"
            )
        summary.remove_batch(con, batch_id)
        con.execute(f"DELETE FROM {names.REJECTS} WHERE {names.BATCH_ID} = ?", [batch_id])
        con.execute(f"DELETE FROM {names.BATCHES} WHERE {names.BATCH_ID} = ?", [batch_id])
    return int(removed)
