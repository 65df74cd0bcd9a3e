from datetime import date

import pytest

from coop import cli, names
from coop.errors import ValidationError
from coop.registry import districts, meals
from coop.store import db


@pytest.fixture
def registered(con, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("district_id,name,state,zip\nd1,One,MN,55401\nd2,Two,WI,53703\n")
    districts.upsert_from_csv(con, path)
    return con


def write(tmp_path, text, name="meals.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_months_in_both_forms_and_upsert_replaces(registered, tmp_path):
    con = registered
    path = write(tmp_path, 'district_id,month,meals\nd1,2024-09,12000\nd1,2024-10-15,13500\nd2,2024-9,"1,200"\n')
    assert meals.upsert_from_csv(con, path) == 3
    frame = meals.load(con)
    assert frame.rows() == [
        ("d1", date(2024, 9, 1), 12000),
        ("d1", date(2024, 10, 1), 13500),
        ("d2", date(2024, 9, 1), 1200),
    ]
    meals.upsert_from_csv(con, write(tmp_path, "district_id,month,meals\nd1,2024-09-01,12500\n", "m2.csv"))
    frame = meals.load(con)
    assert frame.height == 3
    assert frame.row(0) == ("d1", date(2024, 9, 1), 12500)


def test_bad_rows_named_and_nothing_loaded(registered, tmp_path):
    con = registered
    path = write(
        tmp_path,
        "district_id,month,meals\n"
        "d1,2024-09,100\n"
        "zz,2024-09,100\n"
        "d1,2024-13,100\n"
        "d2,2024-10,-5\n"
        "d2,2024-11,12.5\n"
        "d2,2024-12,many\n"
        "d1,2024-09-20,7\n",
    )
    with pytest.raises(ValidationError) as info:
        meals.upsert_from_csv(con, path)
    got = {(p.row, p.column) for p in info.value.problems}
    assert got == {
        (3, "district_id"),
        (4, "month"),
        (5, "meals"),
        (6, "meals"),
        (7, "meals"),
        (2, "month"),
        (8, "month"),
    }
    reasons = {(p.row, p.column): p.reason for p in info.value.problems}
    assert reasons[(3, "district_id")].startswith("unknown district")
    assert reasons[(2, "month")] == "district and month appear more than once"
    assert all(p.file == "meals.csv" for p in info.value.problems)
    assert meals.load(con).height == 0


def test_missing_column(registered, tmp_path):
    with pytest.raises(ValidationError, match="meals"):
        meals.upsert_from_csv(registered, write(tmp_path, "district_id,month\nd1,2024-09\n"))


def test_cli_meals(db_path, tmp_path, capsys):
    d = write(tmp_path, "district_id,name,state,zip\nd1,One,MN,55401\n", "d.csv")
    assert cli.main(["districts", str(d), "--db", str(db_path)]) == 0
    good = write(tmp_path, "district_id,month,meals\nd1,2025-01,900\n")
    assert cli.main(["meals", str(good), "--db", str(db_path), "--json"]) == 0
    assert '"meal_counts_upserted": 1' in capsys.readouterr().out
    bad = write(tmp_path, "district_id,month,meals\nd9,2025-01,900\n", "bad.csv")
    assert cli.main(["meals", str(bad), "--db", str(db_path), "--json"]) == 1
    assert "bad.csv row 2 column district_id: unknown district" in capsys.readouterr().err
    con = db.connect(db_path)
    try:
        assert meals.load(con)[names.MEALS].to_list() == [900]
    finally:
        con.close()
