"""The audit log: who loaded, undid, corrected or edited what and when (listed for coordinators)."""

from __future__ import annotations

import getpass

import duckdb
import polars as pl

from coop import names

_RECORD_SQL = f"INSERT INTO {names.AUDIT_LOG} ({names.ACTOR}, {names.ACTION}, {names.DETAIL}) VALUES (?, ?, ?)"
_LIST_SQL = f"""
SELECT {names.AUDIT_AT}, {names.ACTOR}, {names.ACTION}, {names.DETAIL} FROM {names.AUDIT_LOG}
ORDER BY {names.AUDIT_AT} DESC, rowid DESC LIMIT ?"""


def os_user() -> str:
    """The operating-system user running this process (what the command line records as the actor)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (e.g. a bare container)
        return "unknown"


def record(con: duckdb.DuckDBPyConnection, actor: str, action: str, detail: str) -> None:
    """Append one entry (call inside the transaction of the change it records, when there is one)."""
    con.execute(_RECORD_SQL, [actor, action, detail])


def entries(con: duckdb.DuckDBPyConnection, limit: int = 500) -> pl.DataFrame:
    """The latest entries, newest first."""
    return con.sql(_LIST_SQL, params=[limit]).pl()
