"""The co-op's DuckDB store: locating, opening and migrating the database file."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb
import polars as pl

from coop import names
from coop.errors import DatabaseError
from coop.store import lines, summary

DEFAULT_DB = Path("data") / "coop.duckdb"
ENV_VAR = "COOP_DB"
SCHEMA_FILE = "schema.sql"
_OLD_PURCHASES = "purchases_v1"


def _split_purchases(con: duckdb.DuckDBPyConnection) -> None:
    """Version 2: a version-1 `purchases` table moved into purchase_lines, items and packs (the view replaces it)."""
    kind = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [names.PURCHASES]
    ).fetchall()
    if kind != [("BASE TABLE",)]:
        return  # created at version 2 already (schema.sql)
    con.execute(f"ALTER TABLE {names.PURCHASES} RENAME TO {_OLD_PURCHASES}")
    con.execute(_sql(SCHEMA_FILE))  # every statement is CREATE ... IF NOT EXISTS: the new tables and the view
    lines.store(con, _OLD_PURCHASES)  # its line keys kept
    con.execute(f"DROP TABLE {_OLD_PURCHASES}")


def _add_vendor_type_rule(con: duckdb.DuckDBPyConnection) -> None:
    """Version 3: purchase_lines.vendor_type_rule (the view shows it) and the batch_registrations table.

    The view of schema.sql also shows origin_country (version 5), so the column is added here already, in the order
    a new database has them.
    """
    con.execute(f"ALTER TABLE {names.PURCHASE_LINES} ADD COLUMN IF NOT EXISTS {names.VENDOR_TYPE_RULE} TEXT")
    con.execute(f"ALTER TABLE {names.PURCHASE_LINES} ADD COLUMN IF NOT EXISTS {names.ORIGIN_COUNTRY} TEXT")
    con.execute(f"DROP VIEW IF EXISTS {names.PURCHASES}")
    con.execute(_sql(SCHEMA_FILE))  # CREATE ... IF NOT EXISTS: the view again, with the column, and the new table


def _users_and_allocation(con: duckdb.DuckDBPyConnection) -> None:
    """Version 4: users and the audit log; a district's period_allocation (days or meals)."""
    con.execute(f"ALTER TABLE {names.DISTRICTS} ADD COLUMN IF NOT EXISTS {names.PERIOD_ALLOCATION} TEXT")
    con.execute(_sql(SCHEMA_FILE))  # every statement is CREATE ... IF NOT EXISTS: only the new tables run


def _add_origin_country(con: duckdb.DuckDBPyConnection) -> None:
    """Version 5: purchase_lines gains origin_country (Buy American), the view shows it, exceptions get a table."""
    con.execute(f"ALTER TABLE {names.PURCHASE_LINES} ADD COLUMN IF NOT EXISTS {names.ORIGIN_COUNTRY} TEXT")
    con.execute(f"DROP VIEW IF EXISTS {names.PURCHASES}")
    con.execute(_sql(SCHEMA_FILE))  # every statement is CREATE ... IF NOT EXISTS: the view anew, the new table


# (version, SQL file or function) in order; a database at version v gets every migration after v.
MIGRATIONS: tuple[tuple[int, str | Callable[[duckdb.DuckDBPyConnection], None]], ...] = (
    (1, SCHEMA_FILE),
    (2, _split_purchases),
    (3, _add_vendor_type_rule),
    (4, _users_and_allocation),
    (5, _add_origin_country),
)
CURRENT_VERSION = MIGRATIONS[-1][0]
LOCK_WAIT_SECONDS = 60.0


def resolve_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The database path: the argument, else $COOP_DB, else data/coop.duckdb."""
    if path is not None:
        return Path(path)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else DEFAULT_DB


def _sql(file_name: str) -> str:
    """The text of a packaged SQL file."""
    return resources.files("coop.store").joinpath(file_name).read_text(encoding="utf-8")


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The schema version recorded in the database (0 for a new file)."""
    ((exists,),) = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
        [names.SCHEMA_VERSION],
    ).fetchall()
    if not exists:
        return 0
    ((version,),) = con.execute(f"SELECT max(version) FROM {names.SCHEMA_VERSION}").fetchall()
    return int(version) if version is not None else 0


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction on `con`: committed when the block ends, rolled back (and the error raised) when it fails."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def upsert_frame(
    con: duckdb.DuckDBPyConnection,
    frame: pl.DataFrame,
    view: str,
    sql: str,
    *,
    after: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> int:
    """Run `sql`, which reads `frame` registered as `view`, and then `after`, in one transaction; the row count."""
    con.register(view, frame.to_arrow())
    try:
        with transaction(con):
            con.execute(sql)
            if after is not None:
                after(con)
    finally:
        con.unregister(view)
    return frame.height


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply every pending migration in one transaction; return the resulting version."""
    current = schema_version(con)
    pending = [(v, f) for v, f in MIGRATIONS if v > current]
    if not pending:
        _add_summary(con)
        return current
    try:
        with transaction(con):
            for version, step in pending:
                if isinstance(step, str):
                    con.execute(_sql(step))
                else:
                    step(con)
                con.execute(f"INSERT INTO {names.SCHEMA_VERSION} (version) VALUES (?)", [version])
    except duckdb.Error as exc:
        raise DatabaseError(f"cannot migrate database to version {pending[-1][0]}: {exc}") from exc
    return pending[-1][0]


def _add_summary(con: duckdb.DuckDBPyConnection) -> None:
    """Give a database created before the purchase summary (or of an older layout) one built from its lines."""
    if summary.exists(con) and summary.layout_current(con):
        return
    try:
        with transaction(con):
            con.execute(_sql(SCHEMA_FILE))  # every statement is CREATE ... IF NOT EXISTS: only the missing ones run
            summary.rebuild_rows(con, _sql(SCHEMA_FILE))
    except duckdb.Error as exc:
        raise DatabaseError(f"cannot add the purchase summary: {exc}") from exc


def rebuild_summary(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """Recompute the whole purchase summary from the lines in one transaction; its `status` plus seconds taken."""
    start = time.perf_counter()
    with transaction(con):
        summary.rebuild_rows(con, _sql(SCHEMA_FILE))
    return {**summary.status(con), "rebuild_seconds": round(time.perf_counter() - start, 3)}


_PERIOD_BATCHES_SQL = f"""
SELECT DISTINCT {names.BATCH_ID} FROM {names.PURCHASE_LINES}
WHERE {names.PERIOD_START} IS NOT NULL AND list_contains(?, {names.DISTRICT_ID}) ORDER BY 1"""


def respread_periods(con: duckdb.DuckDBPyConnection, district_ids: list[str]) -> int:
    """Re-summarise the batches holding these districts' period lines (their spreading may have changed).

    Call inside the transaction that changed the districts' meal counts or period allocation; how many batches.
    """
    if not summary.exists(con):
        return 0
    batch_ids = [b for (b,) in con.execute(_PERIOD_BATCHES_SQL, [district_ids]).fetchall()]
    for batch_id in batch_ids:
        summary.remove_batch(con, batch_id)
        summary.add_batch(con, batch_id)
    return len(batch_ids)


class NeedsMigrationError(DatabaseError):
    """A database opened read-only is older than this coop's schema (opening it for writing migrates it)."""


_LOCK_TEXTS = ("could not set lock on file", "conflicting lock is held", "resource temporarily unavailable")
_DAMAGE_TEXTS = (
    "corrupt database file",
    "could not read enough bytes",
    "not a valid duckdb database file",
    "checksum",
    "invalid block",
    "failed to read",
)


def _is_lock_error(exc: duckdb.Error) -> bool:
    """True when DuckDB refused the file because another process holds its lock (not any text with 'lock' in it)."""
    text = str(exc).lower()
    return any(t in text for t in _LOCK_TEXTS)


def is_damage_error(exc: BaseException) -> bool:
    """True when DuckDB found the database file damaged: truncated, corrupt, or not a DuckDB file."""
    text = str(exc).lower()
    return isinstance(exc, duckdb.Error) and any(t in text for t in _DAMAGE_TEXTS)


def damaged(db_path: str | os.PathLike[str], exc: BaseException) -> DatabaseError:
    """The error naming a damaged database file and what DuckDB found."""
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), str(exc))
    return DatabaseError(
        f"{db_path}: the database file is damaged (truncated or corrupt) and cannot be read: {first}; "
        "restore it from a backup or an export, or start a new one with `python -m coop init --db NEW`"
    )


def connect(
    path: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    wait_seconds: float = LOCK_WAIT_SECONDS,
    on_wait: Callable[[str], None] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open (creating and migrating if needed) the database, waiting while another process holds it."""
    db_path = resolve_path(path)
    if read_only and not db_path.exists():
        raise DatabaseError(f"{db_path}: database file does not exist (run `python -m coop init`)")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    told = False
    while True:
        try:
            con = duckdb.connect(str(db_path), read_only=read_only)
            break
        except duckdb.Error as exc:
            if is_damage_error(exc):
                raise damaged(db_path, exc) from exc
            if not _is_lock_error(exc):
                raise DatabaseError(f"{db_path}: cannot open database: {exc}") from exc
            if time.monotonic() >= deadline:
                holder = re.search(r"held in (.*?)(?:\. See also.*)?$", str(exc).splitlines()[0])
                raise DatabaseError(
                    f"{db_path}: in use by another process{f' ({holder.group(1)})' if holder else ''} for more than "
                    f"{wait_seconds:.0f} s; try again when it has finished (the app holds the file while it runs)"
                ) from exc
            if on_wait is not None and not told:
                on_wait(f"{db_path} is in use by another process; waiting up to {wait_seconds:.0f} s")
                told = True
            time.sleep(0.2)
    try:
        if not read_only:
            migrate(con)
        elif (version := schema_version(con)) < CURRENT_VERSION:
            con.close()
            raise NeedsMigrationError(
                f"{db_path}: database is at schema version {version}, older than this coop's {CURRENT_VERSION}: "
                "open it once for writing (`python -m coop init`) to migrate it"
            )
    except duckdb.Error as exc:
        con.close()
        if is_damage_error(exc):
            raise damaged(db_path, exc) from exc
        raise DatabaseError(f"{db_path}: cannot read the database: {exc}") from exc
    return con


def connect_for_reading(
    path: str | os.PathLike[str] | None = None,
    *,
    wait_seconds: float = LOCK_WAIT_SECONDS,
    on_wait: Callable[[str], None] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the database read-only (works on a read-only file); a new or older file is created or migrated first."""
    db_path = resolve_path(path)
    if not db_path.exists():
        return connect(db_path, wait_seconds=wait_seconds, on_wait=on_wait)
    try:
        return connect(db_path, read_only=True, wait_seconds=wait_seconds, on_wait=on_wait)
    except NeedsMigrationError:
        pass
    return connect(db_path, wait_seconds=wait_seconds, on_wait=on_wait)
