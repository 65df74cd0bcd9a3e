"""The settings table (key -> text value), read and written here only; the co-op's local-share goal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import duckdb

from coop import names
from coop.errors import SpecError

DEFAULT_GOAL_DATE = date(2027, 6, 30)
DEFAULT_GOAL_SHARE = 0.25

_GET_SQL = (
    f"SELECT {names.SETTING_KEY}, {names.SETTING_VALUE} FROM {names.SETTINGS} "
    f"WHERE list_contains(?, {names.SETTING_KEY})"
)
_PUT_SQL = f"INSERT OR REPLACE INTO {names.SETTINGS} ({names.SETTING_KEY}, {names.SETTING_VALUE}) VALUES (?, ?)"


def get_many(con: duckdb.DuckDBPyConnection, keys: Sequence[str]) -> dict[str, str]:
    """The stored values of those `keys` that are set."""
    return dict(con.execute(_GET_SQL, [list(keys)]).fetchall())


def get(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    """The stored value of `key`, or None when it is not set."""
    return get_many(con, [key]).get(key)


def put(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    """Store `value` under `key`, replacing any value it had."""
    con.execute(_PUT_SQL, [key, value])


def parse_goal_share(text: str) -> float:
    """A goal share from settings text: '0.25', '25%' or '25' all mean 0.25."""
    value = float(text.strip().rstrip("%"))
    return value / 100.0 if value > 1.0 or text.strip().endswith("%") else value


def goal(con: duckdb.DuckDBPyConnection) -> tuple[float, date]:
    """The co-op's local-share goal and its date (defaults: 25% by 2027-06-30)."""
    rows = get_many(con, [names.GOAL_LOCAL_SHARE, names.GOAL_DATE])
    share = parse_goal_share(rows[names.GOAL_LOCAL_SHARE]) if names.GOAL_LOCAL_SHARE in rows else DEFAULT_GOAL_SHARE
    when = date.fromisoformat(rows[names.GOAL_DATE].strip()) if names.GOAL_DATE in rows else DEFAULT_GOAL_DATE
    return share, when


def save_goal(con: duckdb.DuckDBPyConnection, share: float, when: date) -> None:
    """Store the co-op's local-share goal (a fraction in (0, 1]) and the date it should be met by."""
    if not 0.0 < share <= 1.0:
        raise SpecError(f"goal local share must be above 0% and at most 100%, got {share:.1%}")
    put(con, names.GOAL_LOCAL_SHARE, f"{share:.4f}")
    put(con, names.GOAL_DATE, when.isoformat())
