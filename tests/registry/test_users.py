"""Users and roles from a users file: validated by row and column, upserted by email (any case)."""

from __future__ import annotations

from pathlib import Path

import pytest

from coop import names
from coop.errors import UnknownUserError, ValidationError
from coop.registry import users


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def registered(con):
    con.execute(
        f"INSERT INTO {names.DISTRICTS} ({names.DISTRICT_ID}, {names.NAME}, {names.STATE}, {names.ZIP}) "
        "VALUES ('big_stone', 'Big Stone', 'MN', '56218'), ('riverbend', 'Riverbend', 'MN', '55901')"
    )
    return con


def test_users_file_upserts_roles_and_districts(registered, tmp_path):
    path = write(
        tmp_path / "users.csv",
        "email,role,districts\nDirector@BigStone.k12.mn.us,District,big_stone\nboard@coop.org,viewer,\n"
        "hub@partner.org,partner,big_stone; riverbend\n",
    )
    assert users.upsert_from_csv(registered, path) == 3
    director = users.get(registered, "director@bigstone.K12.mn.us")
    assert director == users.User("director@bigstone.k12.mn.us", names.DISTRICT_ROLE, ("big_stone",))
    assert director.may_see("big_stone") and not director.may_see("riverbend")
    assert users.get(registered, "hub@partner.org").districts == ("big_stone", "riverbend")
    viewer = users.get(registered, "board@coop.org")
    assert viewer.role == names.VIEWER and not viewer.may_see("big_stone")
    # an upsert by email replaces the role and districts
    write(path, "email,role,districts\nboard@coop.org,coordinator,\n")
    users.upsert_from_csv(registered, path)
    assert users.get(registered, "board@coop.org").sees_everything
    assert users.load(registered).height == 3


def test_bad_rows_are_named_by_row_and_column_and_nothing_loads(registered, tmp_path):
    path = write(
        tmp_path / "users.csv",
        "email,role,districts\nnot-an-email,district,big_stone\na@b.org,superuser,\nc@d.org,district,\n"
        "e@f.org,partner,atlantis\nA@B.org,viewer,\n",
    )
    with pytest.raises(ValidationError) as caught:
        users.upsert_from_csv(registered, path)
    found = {(p.row, p.column): p.reason for p in caught.value.problems}
    assert "not an email address" in found[(2, names.EMAIL)]
    assert "unknown role" in found[(3, names.ROLE)]
    assert "needs its district ids" in found[(4, names.USER_DISTRICTS)]
    assert "not registered" in found[(5, names.USER_DISTRICTS)]
    assert "more than once" in found[(6, names.EMAIL)] and "more than once" in found[(3, names.EMAIL)]
    assert users.load(registered).height == 0


def test_an_unknown_email_is_refused_by_name(con):
    with pytest.raises(UnknownUserError, match=r"nobody@example\.org: not a user"):
        users.get(con, "nobody@example.org")
    assert users.find(con, "nobody@example.org") is None
