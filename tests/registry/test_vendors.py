import pytest

from coop import cli, names
from coop.errors import InputFileError, ValidationError, format_problem
from coop.registry import vendors


def write(tmp_path, text, name="vendors.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_upsert_normalises_and_updates(con, tmp_path):
    path = write(
        tmp_path,
        "Vendor_Name,vendor_type,origin_state,origin_zip\n"
        "Hilltop Orchard,producer,wi,54631\n"
        "Lake Hub, Food Hub ,,\n"
        "Big Distributor,broadline-distributor,,\n",
    )
    assert vendors.upsert_from_csv(con, path) == 3
    frame = vendors.load(con)
    rows = {r[names.VENDOR_NAME]: r for r in frame.to_dicts()}
    assert rows["Hilltop Orchard"][names.ORIGIN_STATE] == "WI"
    assert rows["Hilltop Orchard"][names.ORIGIN_ZIP] == "54631"
    assert rows["Lake Hub"][names.VENDOR_TYPE] == "food_hub"
    assert rows["Lake Hub"][names.ORIGIN_ZIP] is None
    assert rows["Big Distributor"][names.VENDOR_TYPE] == "broadline_distributor"
    write(tmp_path, "vendor_name,vendor_type\nLake Hub,producer_coop\n", "v2.csv")
    assert vendors.upsert_from_csv(con, tmp_path / "v2.csv") == 1
    frame = vendors.load(con)
    assert frame.height == 3
    assert frame.filter(frame[names.VENDOR_NAME] == "Lake Hub")[names.VENDOR_TYPE].item() == "producer_coop"


def test_bad_rows_named_and_nothing_loaded(con, tmp_path):
    path = write(
        tmp_path,
        "vendor_name,vendor_type,origin_state,origin_zip\n"
        "Good Farm,producer,MN,55401\n"
        "Bad Type,wholesaler,MN,55401\n"
        ",csa,Minnesota,5540\n"
        "Good Farm,csa,,\n",
    )
    with pytest.raises(ValidationError) as info:
        vendors.upsert_from_csv(con, path)
    got = {(p.row, p.column) for p in info.value.problems}
    assert got == {
        (3, "vendor_type"),
        (4, "vendor_name"),
        (4, "origin_state"),
        (4, "origin_zip"),
        (2, "vendor_name"),
        (5, "vendor_name"),
    }
    unknown = next(p for p in info.value.problems if p.column == "vendor_type")
    assert format_problem(unknown).startswith("vendors.csv row 3 column vendor_type: unknown vendor type")
    assert vendors.load(con).height == 0


def test_missing_column_and_empty_file(con, tmp_path):
    with pytest.raises(ValidationError, match="vendor_type"):
        vendors.upsert_from_csv(con, write(tmp_path, "vendor_name,origin_state\nX,MN\n"))
    with pytest.raises(InputFileError, match="empty"):
        vendors.upsert_from_csv(con, write(tmp_path, "", "empty.csv"))
    with pytest.raises(InputFileError, match="header only"):
        vendors.upsert_from_csv(con, write(tmp_path, "vendor_name,vendor_type\n", "header.csv"))
    with pytest.raises(InputFileError, match="not found"):
        vendors.upsert_from_csv(con, tmp_path / "nope.csv")


def test_upsert_frame_validates_every_type(con):
    import polars as pl

    ok = pl.DataFrame({names.VENDOR_NAME: [f"v{i}" for i in range(13)], names.VENDOR_TYPE: list(names.VENDOR_TYPES)})
    assert vendors.upsert(con, ok) == 13
    bad = pl.DataFrame({names.VENDOR_NAME: ["x"], names.VENDOR_TYPE: ["farm"]})
    with pytest.raises(ValidationError):
        vendors.upsert(con, bad)
    assert sorted(vendors.load(con)[names.VENDOR_TYPE].to_list()) == sorted(names.VENDOR_TYPES)


def test_cli_vendors(db_path, tmp_path, capsys):
    good = write(tmp_path, "vendor_name,vendor_type\nA,csa\nB,usda_foods\n")
    assert cli.main(["vendors", str(good), "--db", str(db_path), "--json"]) == 0
    assert '"vendors_upserted": 2' in capsys.readouterr().out
    bad = write(tmp_path, "vendor_name,vendor_type\nA,farm\n", "bad.csv")
    assert cli.main(["vendors", str(bad), "--db", str(db_path), "--json"]) == 1
    err = capsys.readouterr().err
    assert "bad.csv row 2 column vendor_type: unknown vendor type" in err
