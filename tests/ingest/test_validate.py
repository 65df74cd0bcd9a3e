"""coop.ingest.validate: typed columns, every invalid cell named (the broken-file corpus), refusals."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest
from fixtures_ingest import BROKEN, HEADER, seed, snapshot, write_xlsx

from coop import cli, names
from coop.errors import ValidationError, format_problem, group_problems
from coop.ingest import ingest_file, readers, validate

VENDOR_TYPE_LIST = ", ".join(names.VENDOR_TYPES)
UNKNOWN_BLANK = "leave it blank when the origin is unknown"
NEGATIVE_NO_EXTENDED = (
    "quantity -1 is negative but extended_price is empty: a credit (return or allowance) gives a negative "
    "extended_price too"
)


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
    # row 3 (-4 lb, -3.20) is a credit and loads; a zero quantity and signs that disagree are refused
    "negative_quantity.csv": [
        "negative_quantity.csv row 4 column Qty: quantity must not be 0, got 0",
        "negative_quantity.csv row 5 column Qty: quantity -4 and extended_price 3.20 disagree in sign: "
        "a credit (return or allowance) has both negative",
    ],
    # rows 2 (MA, 01060) and 8 (ma, 01060-1234) are good
    "bad_origin.csv": [
        f"bad_origin.csv row 3 column Origin ZIP: 'Lynn' is not a US ZIP code; {UNKNOWN_BLANK}",
        f"bad_origin.csv row 4 column Origin ZIP: 'Hadley' is not a US ZIP code; {UNKNOWN_BLANK}",
        f"bad_origin.csv row 5 column Origin ZIP: '99999' is not a US ZIP code; {UNKNOWN_BLANK}",
        "bad_origin.csv row 6 column Origin State: 'Massachusetts' is not a USPS state code (e.g. MA); "
        f"{UNKNOWN_BLANK}",
        "bad_origin.csv row 7 column Origin ZIP: '01060' is a ZIP code in MA, not in origin_state NY; correct one, "
        "or leave both blank when the origin is unknown",
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
def test_cli_prints_each_problem_once_on_stderr_and_exits_non_zero(db_path, file_name, capsys):
    con = duckdb.connect(str(db_path))
    seed(con)
    with pytest.raises(ValidationError) as info:
        ingest_file(con, BROKEN / file_name, district_id="D1")
    con.close()
    code = cli.main(["ingest", str(BROKEN / file_name), "--district", "D1", "--db", str(db_path), "--json"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    lines = err.splitlines()
    groups = group_problems(info.value.problems)
    assert lines[:-1] == [g.text() for g in groups]  # one line per column and reason, its rows as ranges
    assert sorted(r for g in groups for r in g.rows) == sorted(p.row for p in info.value.problems)
    if file_name == "unknown_vendor_type.csv":  # the unregistered vendor: named once, with how to register it
        assert "vendor registry, and the file gives no vendor_type: 'Mystery Co'; register all" in lines[1]
        assert (
            "--vendor-type TYPE" in lines[1]
            and "Mystery Co" in (db_path.parent / "unknown_vendor_type.new-vendors.csv").read_text()
        )
    elif all(len(g.rows) == 1 for g in groups):  # one row each: the messages are the rows' own
        assert lines[:-1] == EXPECTED_ERRORS[file_name]
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
    assert errors.select(names.SOURCE_ROW, names.COLUMN, names.REASON).rows() == [
        (3, "Qty", NEGATIVE_NO_EXTENDED),
        (4, names.INVOICE_DATE, "not a date: 'soon' (use YYYY-MM-DD or M/D/YYYY)"),
        (4, "Qty", "not a number: 'x'"),
    ]
    problems = validate.error_problems([errors], "f.csv")
    assert [format_problem(p) for p in problems][:1] == [f"f.csv row 3 column Qty: {NEGATIVE_NO_EXTENDED}"]
    assert {p.severity for p in problems} == {"error"}
    good, errors = validate.check(validate.typed(chunk.head(1), checks), checks, {2})  # a reader's bad row
    assert (good.height, errors.height) == (0, 0)


# --- origins ---------------------------------------------------------------------------------------
def test_bad_origins_are_refused_and_good_ones_load_as_given(store, tmp_path):
    path = tmp_path / "origins.csv"
    path.write_text((BROKEN / "bad_origin.csv").read_text(encoding="utf-8"), encoding="utf-8")
    result = ingest_file(store, path, district_id="D1", skip_invalid=True)
    assert (result.rows_loaded, result.rows_rejected) == (2, 5)
    stored = store.execute(
        f"SELECT {names.SOURCE_ROW}, {names.ORIGIN_STATE}, {names.ORIGIN_ZIP} FROM {names.PURCHASES} ORDER BY 1"
    ).fetchall()
    assert stored == [(2, "MA", "01060"), (8, "ma", "01060-1234")]
    rejected = store.execute(f'SELECT {names.ROW}, "{names.COLUMN}" FROM {names.REJECTS} ORDER BY 1').fetchall()
    assert rejected == [(3, "Origin ZIP"), (4, "Origin ZIP"), (5, "Origin ZIP"), (6, "Origin State"), (7, "Origin ZIP")]


def test_origin_rules_zip_forms_states_and_agreement(store):
    checks = validate.checks(store, "f.csv", "D1", {})
    zips = ["01060", "01060-1234", "1035", " 01901 ", "99999", "00000", "Lynn", "0106", "01060-12", "96910", None, None]
    states = ["MA", "ma", None, "MA", None, None, None, None, None, "GU", "VT", "Vermont"]
    n = len(zips)
    chunk = pl.DataFrame(
        {
            names.SOURCE_ROW: list(range(2, n + 2)),
            names.INVOICE_DATE: ["2024-09-03"] * n,
            names.VENDOR_NAME: ["Sysco"] * n,
            names.VENDOR_TYPE: ["broadline_distributor"] * n,
            names.PRODUCT: ["Carrots"] * n,
            names.QUANTITY: ["1"] * n,
            names.UNIT: ["lb"] * n,
            names.UNIT_PRICE: ["1.00"] * n,
            names.ORIGIN_STATE: states,
            names.ORIGIN_ZIP: zips,
        }
    )
    good, errors = validate.check(validate.typed(chunk, checks), checks, set())
    # 5 digits, ZIP+4, a leading zero a spreadsheet dropped, a territory; a state alone; blank
    assert good[names.SOURCE_ROW].to_list() == [2, 3, 4, 5, 11, 12]
    assert errors.select(names.SOURCE_ROW, names.COLUMN, names.REASON).rows() == [
        (6, names.ORIGIN_ZIP, f"'99999' is not a US ZIP code; {UNKNOWN_BLANK}"),
        (7, names.ORIGIN_ZIP, f"'00000' is not a US ZIP code; {UNKNOWN_BLANK}"),
        (8, names.ORIGIN_ZIP, f"'Lynn' is not a US ZIP code; {UNKNOWN_BLANK}"),
        (9, names.ORIGIN_ZIP, f"'0106' is not a US ZIP code; {UNKNOWN_BLANK}"),  # 00106 is no ZIP
        (10, names.ORIGIN_ZIP, f"'01060-12' is not a US ZIP code; {UNKNOWN_BLANK}"),
        (13, names.ORIGIN_STATE, f"'Vermont' is not a USPS state code (e.g. MA); {UNKNOWN_BLANK}"),
    ]
    assert good.filter(pl.col(names.SOURCE_ROW) == 5)[names.ORIGIN_ZIP].item() == "01901"  # stored as given


def test_origin_check_skips_the_zip_table_when_no_line_has_a_zip(store, monkeypatch):
    def fail(text: pl.Series) -> pl.Series:
        raise AssertionError("ZIP table read for a file without ZIPs")

    monkeypatch.setattr(validate.geo, "zip_states", fail)
    checks = validate.checks(store, "f.csv", "D1", {})
    chunk = pl.DataFrame(
        {names.SOURCE_ROW: [2], names.ORIGIN_ZIP: [None]}, schema_overrides={names.ORIGIN_ZIP: pl.String}
    )
    assert validate.typed(chunk, checks)["_zip_state"].to_list() == [None]


def test_origin_country_codes_and_names_are_stored_as_iso_codes_and_bad_ones_refused(store, tmp_path):
    path = tmp_path / "countries.csv"
    path.write_text(
        "Date,Vendor,Item Description,Qty,UOM,Price,Ext Price,Origin State,Country of Origin\n"
        "2024-09-03,Sysco,Bananas,1,cs,28.00,28.00,,Ecuador\n"  # a name
        "2024-09-03,Sysco,Mangoes,1,cs,30.00,30.00,,mx\n"  # a code, any case
        "2024-09-03,Sysco,Shrimp,1,cs,90.00,90.00,,VNM\n"  # an alpha-3 code
        "2024-09-03,Sysco,Apples,1,cs,40.00,40.00,WA,U.S.A.\n"  # domestic, with its state
        "2024-09-03,Sysco,Tilapia,1,cs,60.00,60.00,,Atlantis\n"  # no country
        "2024-09-03,Sysco,Grapes,1,cs,50.00,50.00,CA,Chile\n"  # imported yet a US state: contradiction
        "2024-09-03,Green Acres Farm,Kiwi,1,cs,45.00,45.00,,New Zealand\n"  # registry origin not filled in
        "2024-09-03,Sysco,Carrots,1,cs,20.00,20.00,,\n",  # not given
        encoding="utf-8",
    )
    result = ingest_file(store, path, district_id="D1", skip_invalid=True)
    assert (result.rows_loaded, result.rows_rejected) == (6, 2)
    stored = store.execute(
        f"SELECT {names.SOURCE_ROW}, {names.ORIGIN_COUNTRY}, {names.ORIGIN_STATE}, {names.ORIGIN_ZIP} "
        f"FROM {names.PURCHASES} ORDER BY 1"
    ).fetchall()
    assert stored == [
        (2, "EC", None, None),
        (3, "MX", None, None),
        (4, "VN", None, None),
        (5, "US", "WA", None),
        (8, "NZ", None, None),  # Green Acres Farm's registry origin (MN 55102) is the farm's, not the kiwi's
        (9, None, None, None),
    ]
    rejects = store.execute(f'SELECT {names.ROW}, "{names.COLUMN}", {names.REASON} FROM {names.REJECTS} ORDER BY 1')
    assert rejects.fetchall() == [
        (
            6,
            "Country of Origin",
            f"'Atlantis' is not a country (an ISO code such as MX or MEX, or a name such as Mexico); {UNKNOWN_BLANK}",
        ),
        (
            7,
            "Country of Origin",
            "origin_country Chile is not the United States but the line also gives a US origin (CA); correct one, "
            "or leave the US origin blank for imported food",
        ),
    ]


# --- credits ---------------------------------------------------------------------------------------
CREDITS = (
    HEADER + "2024-09-03,Sysco,Carrots,10,lb,0.80,8.00\n"
    "2024-09-04,Sysco,Carrots,-4,lb,0.80,-3.20\n"  # a return: netted
    "2024-09-05,Sysco,Carrots,-1,lb,,-0.55\n"  # an allowance given as a line total: unit price 0.55
    "2024-09-06,Sysco,Carrots,-2,lb,0.80,-1.90\n"  # |quantity| x price 1.60 is 30 cents from |ext|: flagged
)


def test_credit_loads_netted_with_a_note_and_a_price_check(store, tmp_path):
    path = tmp_path / "credits.csv"
    path.write_text(CREDITS, encoding="utf-8")
    result = ingest_file(store, path, district_id="D1")
    assert (result.rows_loaded, result.rows_rejected) == (4, 0)
    assert [format_problem(p) for p in result.problems] == [
        "credits.csv row 3 column Ext Price: credit (return or allowance): netted in totals",
        "credits.csv row 4 column Ext Price: credit (return or allowance): netted in totals",
        "credits.csv row 5 column Ext Price: credit (return or allowance): netted in totals",
        "credits.csv row 5 column Ext Price: extended_price -1.90 differs from quantity x unit_price = -1.60 "
        "by more than 1 cent",
    ]
    assert {p.severity for p in result.problems} == {"warning"}
    assert result.to_json()["warnings"] == 4
    stored = store.execute(
        f"SELECT {names.QUANTITY}, {names.UNIT_PRICE}, {names.EXTENDED_PRICE}, {names.PRICE_FLAG} "
        f"FROM {names.PURCHASES} ORDER BY {names.SOURCE_ROW}"
    ).fetchall()
    assert [(float(q), float(p), str(e), f) for q, p, e, f in stored] == [
        (10.0, 0.8, "8.00", False),
        (-4.0, 0.8, "-3.20", False),
        (-1.0, 0.55, "-0.55", False),
        (-2.0, 0.8, "-1.90", True),
    ]
    ((total,),) = store.execute(f"SELECT sum({names.EXTENDED_PRICE}) FROM {names.PURCHASES}").fetchall()
    assert str(total) == "2.35"  # 8.00 - 3.20 - 0.55 - 1.90


@pytest.mark.parametrize(
    ("quantity", "price", "extended", "reason"),
    [
        ("-4", "0.80", "3.20", "quantity -4 and extended_price 3.20 disagree in sign"),
        ("4", "0.80", "-3.20", "quantity 4 and extended_price -3.20 disagree in sign"),
        ("-4", "0.00", "0.00", "quantity -4 and extended_price 0.00 disagree in sign"),
        ("-4", "0.80", "", "quantity -4 is negative but extended_price is empty"),
        ("0", "0.80", "0.00", "quantity must not be 0, got 0"),
        ("-4", "-0.80", "-3.20", "unit_price must be >= 0, got -0.80"),
    ],
)
def test_signs_that_disagree_are_refused_naming_both_columns(store, tmp_path, quantity, price, extended, reason):
    path = tmp_path / "signs.csv"
    path.write_text(HEADER + f"2024-09-04,Sysco,Carrots,{quantity},lb,{price},{extended}\n", encoding="utf-8")
    before = snapshot(store)
    with pytest.raises(ValidationError) as info:
        ingest_file(store, path, district_id="D1")
    (problem,) = info.value.problems
    assert problem.row == 2 and problem.reason.startswith(reason)
    if "disagree" in reason:
        assert problem.reason.endswith("a credit (return or allowance) has both negative")
    assert snapshot(store) == before
