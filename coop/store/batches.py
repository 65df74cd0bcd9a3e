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


_DISTRICTS_OF_SQL = f"""
SELECT DISTINCT {names.DISTRICT_ID} FROM {names.PURCHASE_LINES} WHERE {names.BATCH_ID} = ? ORDER BY 1"""


def districts_of(con: duckdb.DuckDBPyConnection, batch_id: int) -> list[str]:
    """The districts a batch loaded lines for (its own district, or every district its file or report named)."""
    return [row[0] for row in con.execute(_DISTRICTS_OF_SQL, [batch_id]).fetchall()]


def list_batches(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every batch (id, file, sha256, district, kind, rows loaded/rejected, time), oldest first."""
    return con.sql(_LIST_SQL).pl()


# a registered district or vendor is still in use while any of these (table, column) name it
_USES = {
    names.DISTRICTS: (
        (names.PURCHASE_LINES, names.DISTRICT_ID),
        (names.MEAL_COUNTS, names.DISTRICT_ID),
        (names.CONTRACTS, names.DISTRICT_ID),
    ),
    names.VENDORS: ((names.PURCHASE_LINES, names.VENDOR_NAME), (names.CONTRACTS, names.VENDOR_NAME)),
}
_KEYS = {names.DISTRICTS: names.DISTRICT_ID, names.VENDORS: names.VENDOR_NAME}


def _remove_registered(con: duckdb.DuckDBPyConnection, batch_id: int) -> dict[str, list[str]]:
    """Delete the districts and vendors the batch registered that nothing left uses; {table: keys removed}.

    Vendor names are compared ignoring case and surrounding spaces, as the registry matches them.
    """
    removed: dict[str, list[str]] = {}
    for table, uses in _USES.items():
        key = _KEYS[table]
        norm = (lambda c: f"lower(trim({c}))") if table == names.VENDORS else (lambda c: c)
        used = " UNION ".join(f"SELECT DISTINCT {norm(column)} FROM {other}" for other, column in uses)
        rows = con.execute(
            f"""DELETE FROM {table} WHERE {key} IN (
                    SELECT {names.REGISTERED_KEY} FROM {names.BATCH_REGISTRATIONS}
                    WHERE {names.BATCH_ID} = ? AND {names.REGISTERED_TABLE} = ?)
                AND {norm(key)} NOT IN ({used})
                RETURNING {key}""",
            [batch_id, table],
        ).fetchall()
        removed[table] = sorted(str(r[0]) for r in rows)
        # one kept because another batch's lines use it is that batch's now (the earliest), for its own undo
        lines_column = uses[0][1]
        match = f"{norm('l.' + lines_column)} = {norm('r.' + names.REGISTERED_KEY)}"
        con.execute(
            f"""UPDATE {names.BATCH_REGISTRATIONS} r
                SET {names.BATCH_ID} = (SELECT min(l.{names.BATCH_ID}) FROM {names.PURCHASE_LINES} l WHERE {match})
                WHERE r.{names.BATCH_ID} = ? AND r.{names.REGISTERED_TABLE} = ?
                AND EXISTS (SELECT 1 FROM {names.PURCHASE_LINES} l WHERE {match})""",
            [batch_id, table],
        )
    con.execute(f"DELETE FROM {names.BATCH_REGISTRATIONS} WHERE {names.BATCH_ID} = ?", [batch_id])
    return removed


def undo(con: duckdb.DuckDBPyConnection, batch_id: int) -> int:
    """Remove one batch, its purchases, summary rows and rejects in one transaction; return the purchases removed.

    The districts and vendors the batch registered go too, unless something else uses them (another batch's lines:
    then they are that batch's, meal counts, contracts) or a registry file has since upserted them; `undo_batch`
    also says which went.
    """
    return undo_batch(con, batch_id)[0]


def undo_batch(con: duckdb.DuckDBPyConnection, batch_id: int) -> tuple[int, dict[str, list[str]]]:
    """`undo`, returning (purchases removed, {districts|vendors: the ids the batch had registered, now removed})."""
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
        registered = _remove_registered(con, batch_id)
    return int(removed), registered
