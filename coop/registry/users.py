"""Users and their roles: who may see which districts' lines and figures (DESIGN "Users and roles").

Roles: ``coordinator`` (everything), ``partner`` (intake and views for its districts), ``district`` (its own
districts' lines and figures; peers only as anonymised aggregates), ``viewer`` (co-op aggregates, no lines, no
prices). A users file has ``email, role, districts`` (district ids separated by ``;``); emails are matched ignoring
case. Without sign-in configured the app runs as one local coordinator (`LOCAL`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from coop import names
from coop.errors import AccessDeniedError, UnknownDistrictError, UnknownUserError, ValidationError
from coop.registry import districts
from coop.registry.vendors import find_problems, read_raw_csv
from coop.store import db

COLUMNS = (names.EMAIL, names.ROLE, names.USER_DISTRICTS)
REQUIRED = (names.EMAIL, names.ROLE)
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_UPSERT = f"""
INSERT INTO {names.USERS} ({", ".join(COLUMNS)})
SELECT {", ".join(COLUMNS)} FROM incoming_users
ON CONFLICT ({names.EMAIL}) DO UPDATE SET {names.ROLE} = excluded.{names.ROLE},
    {names.USER_DISTRICTS} = excluded.{names.USER_DISTRICTS}
"""
_GET_SQL = f"SELECT {', '.join(COLUMNS)} FROM {names.USERS} WHERE {names.EMAIL} = ?"
_LIST_SQL = f"SELECT {', '.join(COLUMNS)} FROM {names.USERS} ORDER BY {names.EMAIL}"


@dataclass(frozen=True)
class User:
    """Who is looking: an email, a role and the districts a partner or district user may see."""

    email: str
    role: str
    districts: tuple[str, ...] = ()

    @property
    def sees_everything(self) -> bool:
        """A coordinator sees every member's lines, prices and figures."""
        return self.role == names.COORDINATOR

    def may_see(self, district_id: str) -> bool:
        """Whether this user may see that district's own lines and figures."""
        return self.sees_everything or (self.role != names.VIEWER and district_id in self.districts)


LOCAL = User("local coordinator", names.COORDINATOR)  # the app without sign-in, and the command line without --as


def _split(expr: pl.Expr) -> pl.Expr:
    """`a; b` -> ['a', 'b'] (empty list for a blank cell)."""
    return (
        expr.fill_null("")
        .str.split(";")
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element() != ""))
    )


def validate(con: duckdb.DuckDBPyConnection, raw: pl.DataFrame, file_name: str) -> pl.DataFrame:
    """Check a text frame of users against the roles and registered districts; typed frame or ValidationError."""
    known = districts.load(con)[names.DISTRICT_ID].to_list()
    ids = _split(pl.col(names.USER_DISTRICTS))
    role = pl.col(names.ROLE).str.to_lowercase()
    scoped = role.is_in([names.PARTNER, names.DISTRICT_ROLE])
    checks = [
        (names.EMAIL, pl.col(names.EMAIL).is_null(), "required value is empty"),
        (names.EMAIL, ~pl.col(names.EMAIL).str.contains(_EMAIL), "not an email address (name@example.org)"),
        (
            names.EMAIL,
            pl.col(names.EMAIL).str.to_lowercase().is_duplicated(),
            "email appears more than once (emails are matched ignoring case)",
        ),
        (names.ROLE, ~role.is_in(names.ROLES), f"unknown role (expected one of {', '.join(names.ROLES)})"),
        (names.USER_DISTRICTS, scoped & (ids.list.len() == 0), "a partner or district user needs its district ids"),
        (
            names.USER_DISTRICTS,
            ids.list.eval(~pl.element().is_in(known)).list.any(),
            "names a district that is not registered (register it with a districts file first)",
        ),
    ]
    problems = find_problems(raw, checks, file_name)
    if problems:
        raise ValidationError(f"{file_name}: {len(problems)} invalid value(s); nothing loaded", problems)
    return raw.select(
        pl.col(names.EMAIL).str.to_lowercase(),
        role.alias(names.ROLE),
        pl.when(scoped).then(ids).otherwise(pl.lit([], dtype=pl.List(pl.String))).alias(names.USER_DISTRICTS),
    )


def upsert_from_csv(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Validate a users CSV and insert or update its users in one transaction; return how many."""
    path = Path(path)
    frame = validate(con, read_raw_csv(path, REQUIRED, COLUMNS), path.name)
    return db.upsert_frame(con, frame, "incoming_users", _UPSERT)


def load(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every user, by email."""
    return con.sql(_LIST_SQL).pl()


def find(con: duckdb.DuckDBPyConnection, email: str) -> User | None:
    """The user with this email (any case), or None."""
    rows = con.execute(_GET_SQL, [email.strip().lower()]).fetchall()
    if not rows:
        return None
    found, role, ids = rows[0]
    return User(found, role, tuple(ids or ()))


def get(con: duckdb.DuckDBPyConnection, email: str) -> User:
    """The user with this email; UnknownUserError (naming it) when there is none."""
    user = find(con, email)
    if user is None:
        raise UnknownUserError(f"{email}: not a user of this co-op (add it with `python -m coop users FILE`)")
    return user


def district_view(con: duckdb.DuckDBPyConnection, viewer: User, district_id: str) -> User:
    """One district's view (as its own district user sees it), for a viewer who may see that district.

    AccessDeniedError when the viewer may not (a viewer, or another member's district); UnknownDistrictError when no
    such district is registered.
    """
    if district_id not in districts.load(con)[names.DISTRICT_ID].to_list():
        raise UnknownDistrictError(f"{district_id}: not a registered district (--district)")
    if not viewer.may_see(district_id):
        raise AccessDeniedError(f"{viewer.email} ({viewer.role}) may not see district {district_id}")
    return User(viewer.email, names.DISTRICT_ROLE, (district_id,))
