"""The atomic insert of one batch: row-group chunks inserted on a background cursor, direct or via spool files.

A file's batch row, lines, items and packs, rejects, summary and duplicate checks go into one transaction that
commits only in `Sink.commit`; any failure, a refused file or a killed process leaves the database as it was.
"""

from __future__ import annotations

import contextlib
import functools
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from coop import names
from coop.errors import WARNING, Problem
from coop.store import lines, summary

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
# what an insert reads per line: purchase_lines' columns (less the batch id and key it makes) and the key's columns
# that purchase_lines keeps as item and pack ids
STAGED_COLUMNS = [c for c in lines.LINE_COLUMNS if c not in (names.BATCH_ID, names.LINE_KEY)] + [
    c for c in lines.KEY_COLUMNS if c not in lines.LINE_COLUMNS
]
_STAGED = "coop_ingest_staged"
_REJECTS_SQL = (
    f'INSERT INTO {names.REJECTS} ({names.BATCH_ID}, {names.FILE_NAME}, "{names.ROW}", "{names.COLUMN}", '
    f'{names.REASON}, {names.RAW}) SELECT ?, {names.FILE_NAME}, "{names.ROW}", "{names.COLUMN}", {names.REASON}, '
    f"{names.RAW} FROM {_STAGED}"
)
# columns often one value (or empty) throughout a file: its district, a usage report's period, origin, price flag
_CONSTANT_TYPES = {
    names.DISTRICT_ID: "VARCHAR",
    names.PERIOD_START: "DATE",
    names.PERIOD_END: "DATE",
    names.PRICE_FLAG: "BOOLEAN",
    names.ORIGIN_STATE: "VARCHAR",
    names.ORIGIN_ZIP: "VARCHAR",
    names.VENDOR_TYPE_RULE: "VARCHAR",
}
# what a load may register in its own transaction: table -> (its key column, the columns inserted)
REGISTERABLE = {
    names.DISTRICTS: (names.DISTRICT_ID, (names.DISTRICT_ID, names.NAME, names.STATE, names.ZIP, names.BILL_TO_ID)),
    names.VENDORS: (names.VENDOR_NAME, (names.VENDOR_NAME, names.VENDOR_TYPE)),
}
_REGISTERED_SQL = (
    f"INSERT INTO {names.BATCH_REGISTRATIONS} ({names.BATCH_ID}, {names.REGISTERED_TABLE}, {names.REGISTERED_KEY}) "
    f"SELECT ?, ?, key FROM {_STAGED}"
)


def first_row_group_apart(chunks: Iterable[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """The chunks, the first split after one row group: the database starts writing while the rest is checked."""
    for i, chunk in enumerate(chunks):
        if i == 0 and chunk.height > 2 * ROW_GROUP_ROWS:
            yield chunk.slice(0, ROW_GROUP_ROWS)
            yield chunk.slice(ROW_GROUP_ROWS)
        else:
            yield chunk


class Sink:
    """One transaction on its own cursor, fed on a background thread: chunk k is inserted while k+1 is validated.

    DuckDB releases the GIL while it executes, so the insert and Polars' validation use both cores. The
    transaction (batch row, lines, rejects, summary, duplicate checks) commits only in `commit`; any failure,
    a refused file or a killed process leaves the database as it was.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        file_name: str,
        district_id: str | None,
        source_kind: str,
        sha256: str,
        size_hint: int | None,
    ) -> None:
        self._cur = con.cursor()
        self._file_name = file_name
        self._row = [file_name, sha256, district_id, source_kind]
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coop-ingest")
        self._pending: Future[None] | None = None
        self._batch_id: int | None = None
        self._open = False
        self._discarded = False  # the file is refused: nothing more goes into the database
        self._direct = self._spooled = 0  # rows inserted from memory, chunks inserted via spool files
        self._direct_limit = DIRECT_INSERT_ROWS if (size_hint or 0) <= SPOOL_ALL_BYTES else 0
        self._spool: tempfile.TemporaryDirectory[str] | None = None
        self._carry: pl.DataFrame | None = None  # lines waiting to fill a whole row group

    def _begin(self) -> int:
        """Open the transaction and insert the batch row (counts set at commit); its id."""
        if self._discarded:
            raise RuntimeError("the load was discarded: its transaction is rolled back")
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
        """Queue enriched lines (their `STAGED_COLUMNS`): whole row groups now, the rest carried to the next call.

        The `last` lines go in whole with their part row group: inserted alone, a part row group after whole ones
        made DuckDB's COMMIT 0.17 s slower per million lines (0.23 s instead of 0.07 s).
        """
        frame = frame.select(STAGED_COLUMNS)
        if self._carry is not None:
            frame = pl.concat([self._carry, frame], rechunk=True)
        whole = frame.height if last else frame.height - frame.height % ROW_GROUP_ROWS
        self._carry = frame.slice(whole) if whole < frame.height else None
        if whole:
            self._submit_lines(frame.slice(0, whole))

    def _submit_lines(self, frame: pl.DataFrame) -> None:
        """Queue staged lines, the columns holding one value bound as values (`_insert_sql`)."""
        constants = _constants(frame)
        self._submit(_insert_sql(tuple(constants)), frame.drop(constants), list(constants.values()))

    def submit_dimension(self, table: str, rows: pl.DataFrame) -> None:
        """Queue new purchase_items or purchase_packs rows (ids already given), ahead of the lines that use them."""
        self._submit(lines.insert_dimension_sql(table, _STAGED), rows, dimension=True)

    def submit_registered(self, table: str, rows: pl.DataFrame) -> None:
        """Queue rows this load registers in `table` (districts or vendors; `REGISTERABLE`), recorded for undo."""
        self._wait()
        self._pending = self._pool.submit(self._register, table, rows)

    def _register(self, table: str, rows: pl.DataFrame) -> None:
        """Insert registered rows and their batch_registrations records inside the transaction."""
        batch_id = self._begin()
        key, columns = REGISTERABLE[table]
        listed = ", ".join(columns)
        _insert_frame(self._cur, f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {_STAGED}", rows, [])
        _insert_frame(self._cur, _REGISTERED_SQL, rows.select(pl.col(key).alias("key")), [batch_id, table])

    def submit_rejects(self, chunk: pl.DataFrame, errors: pl.DataFrame) -> None:
        """Queue the rejected rows of a chunk: one row per invalid cell with the row's values as JSON."""
        self._submit(_REJECTS_SQL, _rejects(chunk, errors, self._file_name))

    def _submit(
        self, sql: str, frame: pl.DataFrame, values: list[Any] | None = None, *, dimension: bool = False
    ) -> None:
        """Queue one insert (the batch id bound first, then `values`; see `_run`) after the previous one finished."""
        self._wait()
        self._pending = self._pool.submit(self._run, sql, frame, values or [], dimension)

    def _wait(self) -> None:
        """Block until the queued insert is done; re-raise its error."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def discard(self) -> None:
        """Give up the transaction now (the file is refused): roll back what was inserted so far."""
        self._carry = None
        self._wait()
        self._discarded = True
        self._rollback()

    def _rollback(self) -> None:
        """Roll the open transaction back, if any."""
        if self._open:
            self._open = False
            self._cur.execute("ROLLBACK")

    def _finish(self, loaded: int, rejected: int) -> tuple[int, list[Problem]]:
        """Counts on the batch row, summary, duplicate checks and COMMIT; (batch id, duplicate warnings)."""
        batch_id = self._begin()
        cur = self._cur
        cur.execute(
            f"UPDATE {names.BATCHES} SET {names.ROWS_LOADED} = ?, {names.ROWS_REJECTED} = ? WHERE {names.BATCH_ID} = ?",
            [loaded, rejected, batch_id],
        ).fetchall()
        if loaded:
            summary.add_batch(cur, batch_id)  # metric grains of the batch, in the same transaction
        duplicates = _duplicate_warnings(cur, batch_id, self._file_name) if loaded else []
        self._open = False  # a COMMIT that fails (disk full, a file-size limit) ends the transaction too
        cur.execute("COMMIT")
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

    def commit(self, loaded: int, rejected: int) -> tuple[int, list[Problem]]:
        """Finish and commit the transaction after the last insert; (batch id, duplicate warnings)."""
        if self._carry is not None:
            carry, self._carry = self._carry, None
            self._submit_lines(carry)
        self._wait()
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


def _rejects(chunk: pl.DataFrame, errors: pl.DataFrame, file_name: str) -> pl.DataFrame:
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
        .with_columns(pl.lit(file_name).alias(names.FILE_NAME))
        .select(names.FILE_NAME, names.ROW, names.COLUMN, names.REASON, names.RAW)
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


def _constants(frame: pl.DataFrame) -> dict[str, Any]:
    """The columns of `_CONSTANT_TYPES` holding one value (or only nulls) throughout the frame, with that value."""
    found: dict[str, Any] = {}
    for column in (c for c in _CONSTANT_TYPES if c in frame.columns):
        series = frame[column]
        nulls = series.null_count()
        if nulls == series.len():
            found[column] = None
        elif nulls == 0 and series.min() == series.max():
            found[column] = series[0]
    return found


def _duplicate_warnings(con: duckdb.DuckDBPyConnection, batch_id: int, file_name: str) -> list[Problem]:
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
    out = [Problem(file_name, r, "(line)", f"duplicates row {f} of this file", WARNING) for r, f in within]
    out += [Problem(file_name, r, "(line)", f"same line already loaded in batch {b}", WARNING) for r, b in earlier]
    return out
