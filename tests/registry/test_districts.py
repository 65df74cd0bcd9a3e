import polars as pl
import pytest

from coop import names
from coop.errors import ValidationError
from coop.registry import districts


def write(tmp_path, text, name="d.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_upsert_and_update(con, tmp_path):
    path = write(
        tmp_path,
        "district_id,name,state,zip,local_radius_miles,local_states,annual_meals\n"
        "d1,One,mn,55401,150,MN; wi,1000\nd2,Two,WI,53703,,,\n",
    )
    assert districts.upsert_from_csv(con, path) == 2
    frame = districts.load(con)
    one = frame.filter(frame[names.DISTRICT_ID] == "d1").row(0, named=True)
    assert one[names.STATE] == "MN"
    assert one[names.LOCAL_STATES] == ["MN", "WI"]
    assert one[names.LOCAL_RADIUS_MILES] == 150
    path2 = write(tmp_path, "district_id,name,state,zip\nd1,One renamed,MN,55401\n", "d2.csv")
    districts.upsert_from_csv(con, path2)
    assert districts.load(con).height == 2
    assert districts.load(con).row(0, named=True)[names.NAME] == "One renamed"


def test_bad_rows_name_row_and_column_and_load_nothing(con, tmp_path):
    path = write(tmp_path, "district_id,name,state,zip,annual_meals\nd1,One,MN,55401,10\nd2,,MNN,123,-4\n")
    with pytest.raises(ValidationError) as info:
        districts.upsert_from_csv(con, path)
    got = {(p.row, p.column) for p in info.value.problems}
    assert got == {(3, "name"), (3, "state"), (3, "zip"), (3, "annual_meals")}
    assert districts.load(con).height == 0


def test_missing_required_column(con, tmp_path):
    path = write(tmp_path, "district_id,name,state\nd1,One,MN\n")
    with pytest.raises(ValidationError, match="zip"):
        districts.upsert_from_csv(con, path)


def test_as_text_round_trips_through_a_districts_csv(con, tmp_path):
    path = write(
        tmp_path,
        "district_id,name,state,zip,local_radius_miles,local_states,local_counties,annual_meals\n"
        "d1,One,MN,55401,150,MN; WI,,1000\nd2,Two,WI,53703,,,Dane; Rock,\n",
    )
    districts.upsert_from_csv(con, path)
    text = districts.as_text(districts.load(con))
    assert text.columns == list(names.DISTRICT_COLUMNS)
    assert all(dtype == pl.String for dtype in text.dtypes)
    rows = {r[names.DISTRICT_ID]: r for r in text.to_dicts()}
    assert rows["d1"][names.LOCAL_STATES] == "MN; WI" and rows["d2"][names.LOCAL_COUNTIES] == "Dane; Rock"
    again = tmp_path / "again.csv"
    text.write_csv(again)
    before = districts.load(con)
    districts.upsert_from_csv(con, again)
    assert districts.load(con).equals(before)
