"""coop.ingest.validate: typed columns, every invalid cell named (the broken-file corpus), refusals."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest
from fixtures_ingest import BROKEN, HEADER, seed, snapshot, write_xlsx

from coop import cli, names
from coop.errors import ValidationError, format_problem
from coop.ingest import ingest_file, readers, validate

VENDOR_TYPE_LIST = ", ".join(names.VENDOR_TYPES)


# --- the broken-file corpus: each file, the exact lines it must produce -----------------------------
EXPECTED_ERRORS: dict[str, list[str]] = {
    "missing_column.csv": [
        "missing_column.csv row 1 column quantity: required column missing (e.g. 'Qty', 'Quantity') "
        "(found: Date, Vendor, Item Description, UOM, Price, Ext Price)"
    ],
    "impossible_date.csv": [
        "impossible_date.csv row 2 column Date: not a date: '2024-02-30' (use YYYY-MM-DD or M/D/YYYY)",
        "impossible_date.csv row 3 column Date: not a date: '13/45/2024' (use YYYY-MM-DD or M/D/YYYY)",
    ],
    "future_date.csv": ["future_date.csv row 3 column Date: date 2099-09-01 is in the future"],
    "old_date.csv": [
        "old_date.csv row 2 column Date: date 1999-12-31 is before the earliest school year loaded (2000-07-01)"
    ],
    "negative_quantity.csv": [
        "negative_quantity.csv row 3 column Qty: quantity must be > 0, got -4",
        "negative_quantity.csv row 4 column Qty: quantity must be > 0, got 0",
    ],
    "text_in_numbers.csv": [
        "text_in_numbers.csv row 3 column Qty: not a number: 'two'",
        "text_in_numbers.csv row 4 column Price: not a number: '1.2.3'",
        "text_in_numbers.csv row 5 column Ext Price: not a number: 'n/a'",
    ],
    "unknown_district.csv": [
        "unknown_district.csv row 3 column District: unknown district 'D9' "
        "(register it with `python -m coop districts FILE`)"
    ],
    "unknown_vendor_type.csv": [
        "unknown_vendor_type.csv row 2 column Vendor Type: unknown vendor type 'farm stand' "
        f"(one of {VENDOR_TYPE_LIST})",
        "unknown_vendor_type.csv row 3 column Vendor Type: no vendor type: vendor 'Mystery Co' is not in the vendor "
        "registry",
    ],
    "unknown_category.csv": [
        "unknown_category.csv row 3 column Category: unknown category 'snacks' "
        "(one of fruit, vegetable, grain, protein, dairy, other)"
    ],
    "bad_boolean.csv": ["bad_boolean.csv row 3 column Unprocessed: not a yes/no value: 'maybe'"],
    "empty.csv": ["empty.csv row 1 column (header): file is empty: no header row"],
    "header_only.csv": ["header_only.csv row 2 column (all): header only: the file has no data rows"],
    "bom_bad_date.csv": ["bom_bad_date.csv row 2 column Date: not a date: 'yesterday' (use YYYY-MM-DD or M/D/YYYY)"],
    "semicolon_decimal_comma.csv": [
        "semicolon_decimal_comma.csv row 3 column Price: not a number: '0,80'",
        "semicolon_decimal_comma.csv row 3 column Ext Price: not a number: '8,00'",
    ],
    "empty_required_cells.csv": [
        "empty_required_cells.csv row 2 column Vendor: required value is empty",
        "empty_required_cells.csv row 2 column UOM: required value is empty",
        "empty_required_cells.csv row 3 column Item Description: required value is empty",
        "empty_required_cells.csv row 3 column Price: required value is empty (give unit_price or extended_price)",
    ],
}


@pytest.mark.parametrize("file_name", sorted(EXPECTED_ERRORS))
def test_broken_file_is_refused_naming_every_cell_and_changes_nothing(store, file_name):
    before = snapshot(store)
    with pytest.raises(ValidationError) as info:
        ingest_file(store, BROKEN / file_name, district_id="D1")
    assert [format_problem(p) for p in info.value.problems] == EXPECTED_ERRORS[file_name]
    assert snapshot(store) == before


def test_corpus_covers_every_file():
    loadable = {"price_mismatch.csv", "duplicated_lines.csv"}
    assert {p.name for p in BROKEN.glob("*.csv")} == set(EXPECTED_ERRORS) | loadable


@pytest.mark.parametrize("file_name", sorted(EXPECTED_ERRORS))
def test_cli_prints_each_problem_on_stderr_and_exits_non_zero(db_path, file_name, capsys):
    con = duckdb.connect(str(db_path))
    seed(con)
    con.close()
    code = cli.main(["ingest", str(BROKEN / file_name), "--district", "D1", "--db", str(db_path), "--json"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    lines = err.splitlines()
    assert lines[: len(EXPECTED_ERRORS[file_name])] == EXPECTED_ERRORS[file_name]
    assert lines[-1].startswith(f"error: {file_name}")


def test_errors_in_a_later_chunk_refuse_the_whole_file_and_list_every_cell(store, tmp_path, monkeypatch):
    path = tmp_path / "late.csv"
    rows = [f"2024-09-0{d},Sysco,Carrots,{d},lb,1.00,{d}.00\n" for d in range(1, 6)]
    rows[3] = "2024-09-04,Sysco,Carrots,four,lb,1.00,4.00\n"
    rows[4] = "2024-09-05,Sysco,Carrots,5,lb,x,5.00\n"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    before = snapshot(store)
    with pytest.raises(ValidationError) as info:
        ingest_file(store, path, district_id="D1")
    assert [format_problem(p) for p in info.value.problems] == [
        "late.csv row 5 column Qty: not a number: 'four'",
        "late.csv row 6 column Price: not a number: 'x'",
    ]
    assert snapshot(store) == before
    result = ingest_file(store, path, district_id="D1", skip_invalid=True)
    assert (result.rows_loaded, result.rows_rejected) == (3, 2)
    rows_loaded = store.execute(f"SELECT {names.SOURCE_ROW} FROM {names.PURCHASES} ORDER BY 1").fetchall()
    assert rows_loaded == [(2,), (3,), (4,)]


def test_district_argument_conflicting_with_the_file_is_an_error(store, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("District," + HEADER + "D2,2024-09-03,Sysco,Carrots,10,lb,0.80,8.00\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        ingest_file(store, path, district_id="D1")
    assert [format_problem(p) for p in info.value.problems] == [
        "d.csv row 2 column District: district 'D2' differs from --district D1"
    ]
    assert ingest_file(store, path, district_id=None).rows_loaded == 1


def test_earliest_date_comes_from_settings(store, tmp_path):
    store.execute(f"INSERT INTO {names.SETTINGS} VALUES (?, ?)", [names.EARLIEST_INVOICE_DATE, "2024-07-01"])
    path = tmp_path / "old.csv"
    path.write_text(HEADER + "2024-06-30,Sysco,Carrots,10,lb,0.80,8.00\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        ingest_file(store, path, district_id="D1")
    assert info.value.problems[0].reason == ("date 2024-06-30 is before the earliest school year loaded (2024-07-01)")


def test_xlsx_formula_without_cached_value_is_a_row_error(store, tmp_path):
    path = tmp_path / "uncached.xlsx"
    # openpyxl writes formulas without cached values, as a file never opened in Excel has them
    write_xlsx(
        path,
        [
            ["Date", "Vendor", "Item", "Qty", "UOM", "Price", "Ext Price"],
            ["2024-09-03", "Sysco", "Carrots", 10, "lb", 0.8, 8.0],
            ["2024-09-04", "Sysco", "Carrots", 10, "lb", 0.8, "=D3*F3"],
        ],
    )
    before = snapshot(store)
    with pytest.raises(ValidationError) as info:
        ingest_file(store, path, district_id="D1")
    assert [format_problem(p) for p in info.value.problems] == [
        "uncached.xlsx row 3 column Ext Price: formula =D3*F3 has no cached value (open and save the file in Excel)"
    ]
    assert snapshot(store) == before
    result = ingest_file(store, path, district_id="D1", skip_invalid=True)
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)


# --- the parsers and checks, unit by unit ----------------------------------------------------------
def test_numbers_dates_and_yes_no_parse_from_text():
    frame = pl.DataFrame(
        {
            "n": ["$1,234.50", " 3 ", "(12.00)", "1.2.3", None, "inf"],
            "d": ["2024-09-03", "9/4/2024", "2024-09-05T10:00:00", "2024-02-30", None, "13/45/2024"],
            "b": ["Yes", "n", "TRUE", "0", None, "maybe"],
        }
    )
    assert validate.number(frame, "n").to_list() == [1234.5, 3.0, -12.0, None, None, None]
    assert validate.dates(frame, "d").to_list() == [
        date(2024, 9, 3),
        date(2024, 9, 4),
        date(2024, 9, 5),
        None,
        None,
        None,
    ]
    assert validate.booleans(frame, "b").to_list() == [True, False, True, False, None, None]
    assert validate.enum_text(pl.Series("t", ["Food Hub", "food-hub", None])).to_list() == [
        "food_hub",
        "food_hub",
        None,
    ]


def test_missing_columns_names_each_required_one_once():
    assert validate.missing_columns([names.DISTRICT_ID, names.PERIOD_START, names.VENDOR_NAME, names.DESCRIPTION]) == [
        (names.QUANTITY, "required column missing (e.g. 'Qty', 'Quantity')"),
        (names.UNIT, "required column missing (e.g. 'Unit', 'UOM')"),
        (names.UNIT_PRICE, "required column missing (e.g. 'Price' or 'Ext Price')"),
    ]
    assert [c for c, _ in validate.missing_columns([])] == [
        names.DISTRICT_ID,
        names.INVOICE_DATE,
        names.VENDOR_NAME,
        names.PRODUCT,
        names.QUANTITY,
        names.UNIT,
        names.UNIT_PRICE,
    ]


def test_check_splits_good_rows_from_one_error_row_per_bad_cell(store):
    checks = validate.checks(store, "f.csv", "D1", {names.QUANTITY: "Qty"})
    assert (checks.first_day, checks.label(names.QUANTITY), checks.label(names.UNIT)) == (
        validate.DEFAULT_EARLIEST_DATE,
        "Qty",
        names.UNIT,
    )
    chunk = pl.DataFrame(
        {
            names.SOURCE_ROW: [2, 3, 4],
            names.INVOICE_DATE: ["2024-09-03", "2024-09-04", "soon"],
            names.VENDOR_NAME: ["Sysco", "Sysco", "Sysco"],
            names.VENDOR_TYPE: ["broadline_distributor"] * 3,
            names.PRODUCT: ["Carrots", "Beets", "Onions"],
            names.QUANTITY: ["10", "-1", "x"],
            names.UNIT: ["lb", "lb", "lb"],
            names.UNIT_PRICE: ["0.80", "1.00", "1.00"],
        }
    )
    good, errors = validate.check(validate.typed(chunk, checks), checks, set())
    assert good[names.SOURCE_ROW].to_list() == [2]
    assert good[names.DISTRICT_ID].to_list() == ["D1"]  # --district fills the missing column
    assert errors.rows() == [
        (3, "Qty", "quantity must be > 0, got -1"),
        (4, names.INVOICE_DATE, "not a date: 'soon' (use YYYY-MM-DD or M/D/YYYY)"),
        (4, "Qty", "not a number: 'x'"),
    ]
    problems = validate.error_problems([errors], "f.csv")
    assert [format_problem(p) for p in problems][:1] == ["f.csv row 3 column Qty: quantity must be > 0, got -1"]
    assert {p.severity for p in problems} == {"error"}
    good, errors = validate.check(validate.typed(chunk.head(1), checks), checks, {2})  # a reader's bad row
    assert (good.height, errors.height) == (0, 0)
