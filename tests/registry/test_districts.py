import polars as pl
import pytest

from coop import names
from coop.errors import ValidationError
from coop.registry import districts, geo


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


# --- issue 16: partial upserts, state lists, bill-to ids, finite radius ------------------------------------------
FULL = (
    "district_id,name,state,zip,local_radius_miles,local_states,local_counties,annual_meals,"
    "micro_purchase_threshold,small_purchase_threshold,bill_to_id\n"
    "d1,One,CT,06103,100,CT;MA;ME,Hartford,180000,15000,250000,9001\n"
    "d2,Two,MA,01060,,,,,,,\n"
)


def stored(con) -> dict:
    return {r[names.DISTRICT_ID]: r for r in districts.load(con).to_dicts()}


def test_upsert_with_only_required_columns_keeps_every_other_stored_value(con, tmp_path):
    districts.upsert_from_csv(con, write(tmp_path, FULL))
    before = stored(con)
    renamed = write(tmp_path, "district_id,name,state,zip\nd1,One renamed,CT,06103\nd3,Three,ME,04101\n", "r.csv")
    assert districts.upsert_from_csv(con, renamed) == 2
    after = stored(con)
    assert after["d1"][names.NAME] == "One renamed"
    assert {k: v for k, v in after["d1"].items() if k != names.NAME} == {
        k: v for k, v in before["d1"].items() if k != names.NAME
    }
    assert after["d1"][names.LOCAL_RADIUS_MILES] == 100
    assert after["d1"][names.LOCAL_STATES] == ["CT", "MA", "ME"]
    assert after["d1"][names.LOCAL_COUNTIES] == ["Hartford"]
    assert after["d1"][names.ANNUAL_MEALS] == 180_000
    assert (after["d1"][names.MICRO_PURCHASE_THRESHOLD], after["d1"][names.SMALL_PURCHASE_THRESHOLD]) == (
        15_000,
        250_000,
    )
    assert after["d1"][names.BILL_TO_ID] == "9001"
    assert after["d2"] == before["d2"]  # not named in the file: untouched
    # a new district gets NULL for the columns the file leaves out
    assert after["d3"][names.NAME] == "Three"
    assert all(after["d3"][c] is None for c in districts._OPTIONAL)


def test_a_column_given_with_empty_cells_still_clears_it(con, tmp_path):
    districts.upsert_from_csv(con, write(tmp_path, FULL))
    districts.upsert_from_csv(
        con, write(tmp_path, "district_id,name,state,zip,local_radius_miles\nd1,One,CT,06103,\n", "c.csv")
    )
    one = stored(con)["d1"]
    assert one[names.LOCAL_RADIUS_MILES] is None
    assert one[names.LOCAL_STATES] == ["CT", "MA", "ME"] and one[names.ANNUAL_MEALS] == 180_000


def test_upsert_of_a_frame_keeps_the_columns_it_lacks(con, tmp_path):
    districts.upsert_from_csv(con, write(tmp_path, FULL))
    frame = pl.DataFrame(
        {c: ["d1"] if c == names.DISTRICT_ID else ["x"] for c in names.DISTRICT_REQUIRED}
    ).with_columns(
        pl.lit("CT").alias(names.STATE), pl.lit("06103").alias(names.ZIP), pl.lit(5.0).alias(names.LOCAL_RADIUS_MILES)
    )
    districts.upsert(con, frame)
    one = stored(con)["d1"]
    assert (one[names.NAME], one[names.LOCAL_RADIUS_MILES], one[names.BILL_TO_ID]) == ("x", 5.0, "9001")
    with pytest.raises(ValueError, match="nonsense"):
        districts.upsert(con, frame.with_columns(pl.lit(1).alias("nonsense")))


def test_sample_local_share_unchanged_by_a_required_columns_upsert(sample_copy, tmp_path):
    from coop.metrics import compute
    from coop.store import db

    con = db.connect(sample_copy)
    try:
        before = compute.compute(con)
        text = districts.as_text(districts.load(con)).select(names.DISTRICT_REQUIRED)
        path = tmp_path / "required.csv"
        text.with_columns(pl.col(names.NAME) + " (renamed)").write_csv(path)
        assert districts.upsert_from_csv(con, path) == text.height
        after = compute.compute(con)
        assert all(n.endswith(" (renamed)") for n in districts.load(con)[names.NAME])
    finally:
        con.close()
    share = ["district_id", "total_spend", "local_spend", "local_share"]
    assert after.districts.select(share).sort("district_id").equals(before.districts.select(share).sort("district_id"))
    assert after.coop["local_share"].to_list() == before.coop["local_share"].to_list()
    assert 0 < before.coop["local_share"][0] < 1


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('"CT,MA,ME"', ["CT", "MA", "ME"]),
        ('"CT; MA ME"', ["CT", "MA", "ME"]),
        ("ct ma", ["CT", "MA"]),
        ('" CT ,, ma;ME; "', ["CT", "MA", "ME"]),
        ("CT;CT", ["CT"]),
        ("pr", ["PR"]),
        (" ; ", None),
    ],
)
def test_local_states_accept_semicolons_commas_or_spaces(con, tmp_path, cell, expected):
    districts.upsert_from_csv(
        con, write(tmp_path, f"district_id,name,state,zip,local_states\nd1,One,CT,06103,{cell}\n")
    )
    assert stored(con)["d1"][names.LOCAL_STATES] == expected


def test_unknown_state_code_is_refused_naming_file_row_column_and_code_and_nothing_changes(con, tmp_path):
    districts.upsert_from_csv(con, write(tmp_path, FULL))
    before = districts.load(con)
    path = write(
        tmp_path,
        'district_id,name,state,zip,local_states\nd1,Changed,CT,06103,CT\nd2,Two,MA,01060,"MA, XX, Mass"\n',
        "bad.csv",
    )
    with pytest.raises(ValidationError) as info:
        districts.upsert_from_csv(con, path)
    [problem] = info.value.problems
    assert (problem.file, problem.row, problem.column) == ("bad.csv", 3, names.LOCAL_STATES)
    assert "XX" in problem.reason and "MASS" in problem.reason and "'MA'" not in problem.reason
    assert "bad.csv" in str(info.value)
    assert districts.load(con).equals(before)


def test_usps_codes_are_the_zipcodes_package_states():
    import zipcodes

    assert {z["state"] for z in zipcodes.list_all()} == geo.USPS_STATES
    assert len(geo.USPS_STATES) == 62 and {"CT", "DC", "PR", "GU", "AE"} <= geo.USPS_STATES


def _state_share(con, tmp_path, cell: str) -> float:
    """Coop local share of one CT district whose local states are `cell`, buying from CT, ME and NY."""
    from fixtures_metrics import insert, lines_frame

    from coop.metrics import compute

    path = write(tmp_path, f'district_id,name,state,zip,local_states\nct,CT District,CT,06103,"{cell}"\n', "s.csv")
    districts.upsert_from_csv(con, path)
    bd = "broadline_distributor"
    lines = [
        (1, "ct", "2024-01-10", "Sysco", bd, "apples", "fruit", 10.0, "lb", "30.00", "CT", None),
        (2, "ct", "2024-01-11", "Sysco", bd, "potatoes", "vegetable", 10.0, "lb", "20.00", "ME", None),
        (3, "ct", "2024-01-12", "Sysco", bd, "apples", "fruit", 10.0, "lb", "50.00", "NY", None),
    ]
    if not con.sql(f"SELECT count(*) FROM {names.PURCHASES}").fetchall()[0][0]:
        insert(con, names.PURCHASES, lines_frame(lines))
    return compute.compute(con).coop["local_share"][0]


def test_comma_state_list_gives_the_same_local_share_as_semicolons(con, tmp_path):
    with_semicolons = _state_share(con, tmp_path, "CT;MA;ME")
    assert with_semicolons == pytest.approx(50 / 100)
    assert _state_share(con, tmp_path, "CT,MA,ME") == with_semicolons
    assert _state_share(con, tmp_path, "ct ma me") == with_semicolons
    assert _state_share(con, tmp_path, "CT") == pytest.approx(30 / 100)


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-5"])
def test_nan_infinite_or_negative_radius_refused_naming_the_column(con, tmp_path, cell):
    path = write(tmp_path, f"district_id,name,state,zip,local_radius_miles\nd1,One,CT,06103,{cell}\n")
    with pytest.raises(ValidationError) as info:
        districts.upsert_from_csv(con, path)
    [problem] = info.value.problems
    assert (problem.row, problem.column) == (2, names.LOCAL_RADIUS_MILES)
    assert ("finite" in problem.reason) == (cell != "-5")
    assert districts.load(con).height == 0


def test_nan_in_other_numeric_columns_refused(con, tmp_path):
    path = write(
        tmp_path,
        "district_id,name,state,zip,annual_meals,micro_purchase_threshold,small_purchase_threshold\n"
        "d1,One,CT,06103,inf,nan,-inf\n",
    )
    with pytest.raises(ValidationError) as info:
        districts.upsert_from_csv(con, path)
    assert {p.column for p in info.value.problems} == {
        names.ANNUAL_MEALS,
        names.MICRO_PURCHASE_THRESHOLD,
        names.SMALL_PURCHASE_THRESHOLD,
    }


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("9001", "9001"), ('"9001; 9002"', "9001;9002"), ('"9001,9002 ,9003"', "9001;9002;9003"), ("", None)],
)
def test_bill_to_id_is_stored_as_a_semicolon_list(con, tmp_path, cell, expected):
    districts.upsert_from_csv(con, write(tmp_path, f"district_id,name,state,zip,bill_to_id\nd1,One,CT,06103,{cell}\n"))
    assert stored(con)["d1"][names.BILL_TO_ID] == expected


def _report(path, year: int, block_name: str):
    """A one-block usage report for the school year starting `year`, its block named `block_name`, bill-to 9001."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Broadline Foods Inc."])
    ws.append([f"Start Date: 07/01/{year}  End Date: 06/30/{year + 1}  Bill-To: 9001"])
    ws.append(["Avg Price", "Description", "Item No", "Brand", "UOM", "Pack Size", "Total Amt Invoiced", "Quantity"])
    ws.append([f"{block_name} (9001)"])
    ws.append([10.0, "APPLES FRESH", "A3", "ACME", "CS", "40 LB", 30.0, 3])
    wb.save(path)
    return path


def test_report_blocks_match_by_the_bill_to_id_of_a_districts_file_across_two_years(con, tmp_path):
    from coop.ingest import usage_report

    path = write(tmp_path, "district_id,name,state,zip,bill_to_id\nnorth,North Valley Unified,CA,91801,9001\n")
    districts.upsert_from_csv(con, path)
    for year, spelled in ((2019, "NORTH VALLEY USD"), (2020, "N VALLEY UNIFIED SCHOOL DIST")):
        report = usage_report.parse(_report(tmp_path / f"usage {year}.xlsx", year, spelled))
        matched = usage_report.match_districts(con, report)
        assert matched.select(usage_report.DISTRICT_NAME, names.BILL_TO_ID, names.DISTRICT_ID).rows() == [
            (spelled, "9001", "north")
        ]


def test_a_district_with_several_bill_to_ids_matches_each_of_its_accounts(con, tmp_path):
    from coop.ingest import usage_report

    text = 'district_id,name,state,zip,bill_to_id\nnorth,North Valley Unified,CA,91801,"8000, 9001"\n'
    path = write(tmp_path, text)
    districts.upsert_from_csv(con, path)
    report = usage_report.parse(_report(tmp_path / "usage.xlsx", 2020, "SOME OTHER SPELLING"))
    matched = usage_report.match_districts(con, report)
    assert matched.select(names.BILL_TO_ID, names.DISTRICT_ID).rows() == [("9001", "north")]
