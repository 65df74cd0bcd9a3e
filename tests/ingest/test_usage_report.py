"""Distributor "District Usage by Item" reports: the real 30-district file and synthetic ones, parsed by structure."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coop import cli, names
from coop.errors import InputFileError, ValidationError
from coop.ingest import ingest_file, usage_report
from coop.store import db
from tests.conftest import REAL

REAL_FILE = REAL / "sgv-coop-district-usage-2019-2020.xlsx"
VENDOR = "Gold Star Foods"
BROADLINE = "broadline_distributor"

needs_real = pytest.mark.skipif(not REAL_FILE.exists(), reason=f"real report not present at {REAL_FILE}")


def counts(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    """(purchases, batches, districts)."""
    return tuple(  # type: ignore[return-value]
        con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
        for t in (names.PURCHASES, names.BATCHES, names.DISTRICTS)
    )


def add_district(con: duckdb.DuckDBPyConnection, district_id: str, name: str, bill_to: str | None) -> None:
    con.execute(
        f"INSERT INTO {names.DISTRICTS} ({names.DISTRICT_ID}, {names.NAME}, {names.STATE}, {names.ZIP}, "
        f"{names.BILL_TO_ID}) VALUES (?, ?, 'CA', '91801', ?)",
        [district_id, name, bill_to],
    )


# --- the real report ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    path = tmp_path_factory.mktemp("real") / "coop.duckdb"
    con = db.connect(path)
    try:
        result = ingest_file(con, REAL_FILE, vendor_name=VENDOR, vendor_type=BROADLINE, add_districts=True)
    finally:
        con.close()
    return path, result


@pytest.fixture(scope="module")
def real_report() -> usage_report.UsageReport:
    return usage_report.parse(REAL_FILE)


@needs_real
def test_real_report_parses_by_structure(real_report: usage_report.UsageReport) -> None:
    assert usage_report.is_usage_report(REAL_FILE)
    report = real_report
    assert (report.period_start, report.period_end) == (date(2019, 7, 1), date(2020, 6, 30))
    assert len(report.bill_to_ids) == 30
    assert report.lines.height == 9619
    blocks = report.blocks()
    assert blocks.height == 30
    first = blocks.row(0, named=True)
    assert (first[usage_report.DISTRICT_NAME], first[names.BILL_TO_ID], first["block_row"]) == (
        "ALHAMBRA SCHOOL DISTRICT",
        "100023",
        5,
    )
    assert first["lines"] == 206
    # the header is row 4, so the first item is spreadsheet row 6, just under Alhambra's block header
    line = report.lines.row(0, named=True)
    assert line[names.SOURCE_ROW] == 6
    assert (line[usage_report.ITEM_NO], line[names.PACK_SIZE], line[names.UNIT]) == ("401374", "100/3.25OZ", "CS")
    assert (line[names.QUANTITY], line[names.EXTENDED_PRICE], line[names.UNIT_PRICE]) == (50, 1222.0, 24.44)
    assert set(report.bill_to_ids) == set(report.lines[names.BILL_TO_ID].unique())
    # only the title area is skipped; this report has no subtotal rows
    assert [s.row for s in report.skipped] == [1, 2, 3]


@needs_real
def test_real_report_loads_whole(real_loaded: tuple[Path, object]) -> None:
    path, result = real_loaded
    assert result.rows_loaded == 9619 and result.rows_rejected == 0  # type: ignore[attr-defined]
    con = db.connect(path, read_only=True)
    try:
        ((lines, total, districts, with_origin, starts, ends, dates, flags),) = con.execute(
            f"""SELECT count(*), sum({names.EXTENDED_PRICE}), count(DISTINCT {names.DISTRICT_ID}),
                       count(*) FILTER (WHERE {names.ORIGIN_STATE} IS NOT NULL OR {names.ORIGIN_ZIP} IS NOT NULL),
                       list(DISTINCT {names.PERIOD_START}), list(DISTINCT {names.PERIOD_END}),
                       list(DISTINCT {names.INVOICE_DATE}), count(*) FILTER (WHERE {names.PRICE_FLAG})
                FROM {names.PURCHASES}"""
        ).fetchall()
        assert lines == 9619
        assert isinstance(total, Decimal) and total == Decimal("17683041.05")
        assert districts == 30
        assert with_origin == 0
        assert starts == [date(2019, 7, 1)] and ends == [date(2020, 6, 30)]
        assert dates == [date(2020, 6, 30)]  # invoice_date is the period's end
        assert flags == 0  # quantity x Avg Price matches every invoiced total within a cent
        ((kind, batch_district),) = con.execute(
            f"SELECT {names.SOURCE_KIND}, {names.DISTRICT_ID} FROM {names.BATCHES}"
        ).fetchall()
        assert (kind, batch_district) == ("usage_report", None)
        # 30 districts registered from the blocks, with placeholder addresses and their bill-to ids
        registered = con.execute(
            f"SELECT {names.DISTRICT_ID}, {names.NAME}, {names.STATE}, {names.ZIP}, {names.BILL_TO_ID} "
            f"FROM {names.DISTRICTS} ORDER BY {names.BILL_TO_ID}"
        ).fetchall()
        assert len(registered) == 30
        assert registered[0] == (
            "arcadia-unified-school-district",
            "ARCADIA UNIFIED SCHOOL DISTRICT",
            "XX",
            "00000",
            "100016",
        )
        # Alhambra's block (206 lines, $878,336.03) is under Alhambra
        ((n, amount),) = con.execute(
            f"SELECT count(*), sum({names.EXTENDED_PRICE}) FROM {names.PURCHASES} WHERE {names.DISTRICT_ID} = ?",
            ["alhambra-school-district"],
        ).fetchall()
        assert (n, amount) == (206, Decimal("878336.03"))
        # pack sizes converted: row 7 is 192 CS of 8/5LB crumbles = 7,680 lb
        ((base, unit),) = con.execute(
            f"SELECT {names.BASE_QUANTITY}, {names.BASE_UNIT} FROM {names.PURCHASES} WHERE {names.SOURCE_ROW} = 7"
        ).fetchall()
        assert (base, unit) == (pytest.approx(192 * 40), "lb")
    finally:
        con.close()
    notes = [p for p in result.problems if "registered new district" in p.reason]  # type: ignore[attr-defined]
    assert [p.row for p in notes][:3] == [5, 212, 674]


@needs_real
def test_real_report_second_load_is_a_no_op(real_loaded: tuple[Path, object]) -> None:
    path, first = real_loaded
    con = db.connect(path)
    try:
        before = counts(con)
        again = ingest_file(con, REAL_FILE, vendor_name=VENDOR, vendor_type=BROADLINE)
        assert again.already_loaded_as == first.batch_id  # type: ignore[attr-defined]
        assert again.rows_loaded == 0 and again.batch_id is None
        assert counts(con) == before
    finally:
        con.close()


@needs_real
def test_real_blocks_map_to_known_districts_by_bill_to_or_name(
    con: duckdb.DuckDBPyConnection, real_report: usage_report.UsageReport
) -> None:
    add_district(con, "alh", "Alhambra USD (renamed)", "100023")  # matched by bill-to id despite the name
    add_district(con, "arc", "arcadia  unified school district", None)  # matched by name, any case and spacing
    matched = usage_report.match_districts(con, real_report)
    by_row = {r["block_row"]: r[names.DISTRICT_ID] for r in matched.iter_rows(named=True)}
    assert by_row[5] == "alh" and by_row[212] == "arc"
    assert sum(v is None for v in by_row.values()) == 28
    # without --add-districts the unknown blocks are refused, each named by its header row, nothing loaded
    with pytest.raises(ValidationError) as err:
        ingest_file(con, REAL_FILE, vendor_name=VENDOR, vendor_type=BROADLINE)
    rows = [p.row for p in err.value.problems]
    assert rows[:3] == [674, 1143, 1564] and len(rows) == 28
    assert "AZUSA UNIFIED SCHOOL DISTRICT" in err.value.problems[0].reason
    assert counts(con) == (0, 0, 2)


# --- synthetic reports -------------------------------------------------------------------
HEADER = ["Avg Price", "Description", "Item No", "Brand", "UOM", "Pack Size", "Total Amt Invoiced", "Quantity"]


def item(no: str, desc: str, uom: str, pack: str, qty: float, total: float, avg: float) -> list[object]:
    return [avg, desc, no, "ACME", uom, pack, total, qty]


def write_report(path: Path, lines_a: list[list[object]] | None = None) -> Path:
    """A small report: two title rows, the period in C3, header in row 5 in another column order, two blocks."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Broadline Foods Inc."])  # row 1
    ws.append(["District Usage by Item"])  # row 2
    ws.append([None, None, "Start Date: 07/01/2021  End Date: 12/31/2021  Bill-To: 9001, 9002"])  # row 3
    ws.append([])  # row 4
    ws.append(HEADER)  # row 5
    ws.append(["NORTH VALLEY USD (9001)"])  # row 6
    for line in lines_a or [
        item("A1", "CRUMBLES BEEF", "CS", "8/5LB", 3, 112.71, 37.57),  # row 7
        item("A2", "PEACHES DICED", "CS", "6/#10", 2, 80.00, 40.00),  # row 8
        item("A3", "APPLES FRESH", "LB", "", 40, 36.00, 0.90),  # row 9
    ]:
        ws.append(line)
    ws.append([None, "Total NORTH VALLEY USD", None, None, None, None, 228.71, 45])  # row 10: subtotal
    ws.append([])  # row 11
    ws.append(["SOUTH HILLS ELEMENTARY (9002)"])  # row 12
    ws.append(item("B1", "MILK 1% WHITE", "CS", "4/1 GAL", 5, 70.00, 14.00))  # row 13
    ws.append(item("B2", "CRACKERS", "CS", "300/.035", 1, 20.00, 20.00))  # row 14: pack with no unit
    ws.append([None, None, None, None, None, None, 90.00, 6])  # row 15: amounts, no item
    ws.append(["Grand Total", None, None, None, None, None, 318.71, 51])  # row 16
    wb.save(path)
    return path


def test_synthetic_report_parses_by_structure(tmp_path: Path) -> None:
    path = write_report(tmp_path / "usage.xlsx")
    assert usage_report.is_usage_report(path)
    report = usage_report.parse(path)
    assert (report.period_start, report.period_end) == (date(2021, 7, 1), date(2021, 12, 31))
    assert report.bill_to_ids == ("9001", "9002")
    lines = report.lines
    assert lines[names.SOURCE_ROW].to_list() == [7, 8, 9, 13, 14]
    assert lines[names.BILL_TO_ID].to_list() == ["9001"] * 3 + ["9002"] * 2
    assert lines[usage_report.DISTRICT_NAME].to_list()[3] == "SOUTH HILLS ELEMENTARY"
    assert lines.row(0, named=True) == {
        usage_report.DISTRICT_NAME: "NORTH VALLEY USD",
        names.BILL_TO_ID: "9001",
        "block_row": 6,
        names.SOURCE_ROW: 7,
        usage_report.ITEM_NO: "A1",
        names.DESCRIPTION: "CRUMBLES BEEF",
        usage_report.BRAND: "ACME",
        names.PACK_SIZE: "8/5LB",
        names.UNIT: "CS",
        names.QUANTITY: 3.0,
        names.EXTENDED_PRICE: 112.71,
        names.UNIT_PRICE: 37.57,
        names.ORIGIN_COUNTRY: None,  # the report has no Country of Origin column
    }
    skipped = {s.row: s.reason for s in report.skipped}
    assert set(skipped) == {1, 2, 3, 4, 10, 11, 15, 16}
    assert "total row" in skipped[10] and "total row" in skipped[16]
    assert "subtotal" in skipped[15]
    assert skipped[11] == "blank row" and skipped[4] == "blank row"


def test_synthetic_report_loads_under_its_districts(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = write_report(tmp_path / "usage.xlsx")
    add_district(con, "north", "North Valley Unified", "9001")
    add_district(con, "south", "South Hills Elementary", None)
    result = ingest_file(con, path, vendor_name="Broadline Foods", vendor_type=BROADLINE)
    assert (result.rows_loaded, result.rows_rejected) == (5, 0)
    rows = con.execute(
        f"""SELECT {names.SOURCE_ROW}, {names.DISTRICT_ID}, {names.INVOICE_DATE}, {names.BASE_QUANTITY},
                   {names.BASE_UNIT}, {names.VENDOR_TYPE}, {names.ORIGIN_STATE}
            FROM {names.PURCHASES} ORDER BY {names.SOURCE_ROW}"""
    ).fetchall()
    end = date(2021, 12, 31)
    assert rows == [
        (7, "north", end, pytest.approx(120.0), "lb", BROADLINE, None),
        (8, "north", end, pytest.approx(2 * 6 * 6.5), "lb", BROADLINE, None),
        (9, "north", end, pytest.approx(40.0), "lb", BROADLINE, None),
        (13, "south", end, pytest.approx(20.0), "gal", BROADLINE, None),
        (14, "south", end, None, None, BROADLINE, None),
    ]
    # the unconvertible pack is a warning naming its spreadsheet row
    assert any(p.row == 14 and p.severity == "warning" for p in result.problems)


def test_rounded_avg_price_is_not_a_price_flag_but_a_real_mismatch_is(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write_report(
        tmp_path / "usage.xlsx",
        [
            item("A1", "CHICKEN NUGGETS", "CS", "4/5LB", 300, 1000.00, 3.33),  # 300 x 3.33 = 999.00: rounding
            item("A2", "BEEF PATTY", "CS", "4/5LB", 10, 100.00, 12.00),  # 10 x 12 = 120 != 100: a real error
        ],
    )
    add_district(con, "north", "North", "9001")
    add_district(con, "south", "South", "9002")
    ingest_file(con, path, vendor_name="Broadline Foods", vendor_type=BROADLINE)
    got = {
        row: (price, flag)
        for row, price, flag in con.execute(
            f"SELECT {names.SOURCE_ROW}, {names.UNIT_PRICE}, {names.PRICE_FLAG} FROM {names.PURCHASES} "
            f"WHERE {names.SOURCE_ROW} IN (7, 8)"
        ).fetchall()
    }
    assert got[7] == (Decimal("3.3333"), False)  # 1000.00 / 300, within a cent of the invoiced total
    assert got[8] == (Decimal("12.0000"), True)


def test_add_districts_registers_with_placeholders_or_given_address(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write_report(tmp_path / "usage.xlsx")
    add_district(con, "north", "North", "9001")
    result = ingest_file(
        con,
        path,
        vendor_name="Broadline Foods",
        vendor_type=BROADLINE,
        add_districts=True,
        state="ca",
        zip_code="91776",
    )
    assert con.execute(
        f"SELECT {names.DISTRICT_ID}, {names.STATE}, {names.ZIP}, {names.BILL_TO_ID} FROM {names.DISTRICTS} "
        f"WHERE {names.DISTRICT_ID} <> 'north'"
    ).fetchall() == [("south-hills-elementary", "CA", "91776", "9002")]
    note = next(p for p in result.problems if "registered new district" in p.reason)
    assert note.row == 12 and note.severity == "warning"


def test_failed_load_unregisters_the_districts_it_added(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = write_report(tmp_path / "usage.xlsx", [item("A1", "CRUMBLES BEEF", "CS", "8/5LB", -3, 112.71, 37.57)])
    with pytest.raises(ValidationError) as err:
        ingest_file(con, path, vendor_name="Broadline Foods", vendor_type=BROADLINE, add_districts=True)
    assert (err.value.problems[0].row, err.value.problems[0].column) == (7, names.QUANTITY)
    assert counts(con) == (0, 0, 0)


def test_text_in_a_number_names_row_and_column(tmp_path: Path) -> None:
    path = write_report(tmp_path / "usage.xlsx", [item("A1", "CRUMBLES BEEF", "CS", "8/5LB", "three", 112.71, 37.57)])
    with pytest.raises(ValidationError) as err:
        usage_report.parse(path)
    assert [(p.row, p.column) for p in err.value.problems] == [(7, "Quantity")]


def test_item_before_any_block_is_refused(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Start Date.... 07/01/2019 End Date...... 06/30/2020"])
    ws.append(HEADER)
    ws.append(item("A1", "CRUMBLES BEEF", "CS", "8/5LB", 3, 112.71, 37.57))
    wb.save(tmp_path / "r.xlsx")
    with pytest.raises(ValidationError) as err:
        usage_report.parse(tmp_path / "r.xlsx")
    assert err.value.problems[0].row == 3


def test_missing_period_or_header_is_a_clear_error(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    wb.save(tmp_path / "noperiod.xlsx")
    with pytest.raises(InputFileError, match="Start Date"):
        usage_report.parse(tmp_path / "noperiod.xlsx")
    plain = tmp_path / "plain.csv"
    plain.write_text("district_id,invoice_date,vendor_name,product,quantity,unit,unit_price\n")
    assert not usage_report.is_usage_report(plain)
    assert not usage_report.is_usage_report(tmp_path / "missing.xlsx")
    with pytest.raises(InputFileError, match="no header row"):
        usage_report.parse(plain)


def test_cli_ingest_loads_a_usage_report(db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_report(tmp_path / "usage.xlsx")
    argv = ["ingest", str(path), "--db", str(db_path), "--json", "--vendor", "Broadline Foods"]
    argv += ["--vendor-type", BROADLINE, "--add-districts", "--state", "ca", "--zip", "91776"]
    assert cli.main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    con = db.connect(db_path, read_only=True)
    places = con.execute(f"SELECT DISTINCT {names.STATE}, {names.ZIP} FROM {names.DISTRICTS}").fetchall()
    con.close()
    assert places == [("CA", "91776")]  # the address given on the command line, not the placeholders
    assert (out["rows_loaded"], out["rows_rejected"], out["already_loaded_as"]) == (5, 0, None)
    assert cli.main(argv) == 0
    assert json.loads(capsys.readouterr().out)["already_loaded_as"] == out["batch_id"]


def test_an_item_named_total_is_an_item_not_a_total_row(tmp_path: Path) -> None:
    path = write_report(tmp_path / "usage.xlsx", [item("A9", "TOTAL CEREAL WG", "CS", "96/1OZ", 2, 50.0, 25.0)])
    report = usage_report.parse(path)
    assert report.lines[names.SOURCE_ROW].to_list() == [7, 11, 12]
    assert report.lines[names.DESCRIPTION][0] == "TOTAL CEREAL WG"
    assert "total row" in {s.row: s.reason for s in report.skipped}[8]


@pytest.mark.parametrize(
    "title_rows",
    [
        [["Start Date", date(2022, 7, 1)], ["End Date", date(2023, 6, 30)], ["Bill-To: 7001"]],  # separate cells
        [["Usage for period 07/01/2022 - 06/30/2023"]],  # a period with two dates, no start/end labels
    ],
)
def test_period_in_other_layouts_and_header_synonyms(tmp_path: Path, title_rows: list[list[object]]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in title_rows:
        ws.append(row)
    ws.append(["Item Number", "Item Description", "Pack", "U/M", "Qty Shipped", "Ext Price"])
    ws.append(["Lakeside SD (7001)"])
    ws.append(["X1", "APPLES FRESH", "40 LB", "CS", 2, 70.0])
    wb.save(tmp_path / "other.xlsx")
    assert usage_report.is_usage_report(tmp_path / "other.xlsx")
    report = usage_report.parse(tmp_path / "other.xlsx")
    assert (report.period_start, report.period_end) == (date(2022, 7, 1), date(2023, 6, 30))
    assert report.bill_to_ids == ("7001",)
    line = report.lines.row(0, named=True)
    assert line[names.SOURCE_ROW] == len(title_rows) + 3
    assert (line[names.PACK_SIZE], line[names.QUANTITY], line[names.EXTENDED_PRICE]) == ("40 LB", 2.0, 70.0)
    assert line[names.UNIT_PRICE] is None  # no Avg Price column: the loader derives it from the total


block_names = (
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ .'-", min_size=3, max_size=30)
    .map(str.strip)
    .filter(lambda s: len(s) >= 2 and "TOTAL" not in s)
)
report_lines = st.lists(
    st.tuples(
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ", min_size=1, max_size=25).map(str.strip).filter(bool),
        st.sampled_from(["8/5LB", "6/#10", "60/3OZ", "4/1 GAL", "200 CT", "1/30 DZ"]),
        st.sampled_from(["CS", "EA", "LB", "BG"]),
        st.integers(min_value=1, max_value=5000),
        st.integers(min_value=0, max_value=10_000_000),  # cents
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=25, deadline=None)
@given(
    blocks=st.lists(
        st.tuples(block_names, st.integers(min_value=1, max_value=999_999), report_lines), min_size=1, max_size=4
    ),
    title_rows=st.integers(min_value=0, max_value=3),
    order=st.permutations(HEADER),
    subtotals=st.booleans(),
)
def test_generated_reports_parse_back_equal(
    tmp_path_factory: pytest.TempPathFactory,
    blocks: list[tuple[str, int, list[tuple[str, str, str, int, int]]]],
    title_rows: int,
    order: list[str],
    subtotals: bool,
) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    for i in range(title_rows):
        ws.append([f"Title line {i}"])
    ws.append(["Start Date.... 07/01/2024\nEnd Date...... 06/30/2025"])
    ws.append(order)
    expected = []
    for name, bill_to, lines in blocks:
        ws.append([f" {name} ({bill_to})"])
        for desc, pack, uom, qty, cents in lines:
            values = {
                "Avg Price": round(cents / 100 / qty, 2),
                "Description": desc,
                "Item No": "1" + desc[:5].replace(" ", ""),
                "Brand": "B",
                "UOM": uom,
                "Pack Size": pack,
                "Total Amt Invoiced": cents / 100,
                "Quantity": qty,
            }
            ws.append([values[c] for c in order])
            expected.append((name, str(bill_to), desc, pack, uom, float(qty), cents / 100, ws.max_row))
        if subtotals:
            ws.append(["Total " + name] + [None] * (len(order) - 1))
            ws.append([])
    path = tmp_path_factory.mktemp("gen") / "report.xlsx"
    wb.save(path)
    report = usage_report.parse(path)
    assert (report.period_start, report.period_end) == (date(2024, 7, 1), date(2025, 6, 30))
    got = report.lines.select(
        usage_report.DISTRICT_NAME,
        names.BILL_TO_ID,
        names.DESCRIPTION,
        names.PACK_SIZE,
        names.UNIT,
        names.QUANTITY,
        names.EXTENDED_PRICE,
        names.SOURCE_ROW,
    ).rows()
    assert got == expected
    assert report.bill_to_ids == tuple(dict.fromkeys(str(b) for _, b, _ in blocks))


def write_one_block(path: Path, block: str = "VALLEY SCHOOLS FOOD SVC (7777)") -> Path:
    """A one-block report whose block name and bill-to id match no registered district."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Broadline Foods Inc."])
    ws.append(["Start Date: 07/01/2021  End Date: 06/30/2022  Bill-To: 7777"])
    ws.append(HEADER)
    ws.append([block])
    ws.append(item("A1", "APPLES FRESH", "LB", "", 40, 36.00, 0.90))
    ws.append(item("A2", "PEACHES DICED", "CS", "6/#10", 2, 80.00, 40.00))
    wb.save(path)
    return path


def test_one_block_report_loads_under_the_district_given(db_path: Path, tmp_path: Path, capsys) -> None:
    con = db.connect(db_path)
    add_district(con, "valley", "Valley Unified", None)
    con.close()
    path = write_one_block(tmp_path / "valley.xlsx")
    vendor = ["--vendor", "Broadline Foods", "--vendor-type", BROADLINE, "--db", str(db_path), "--json"]
    assert cli.main(["ingest", str(path), *vendor]) == 1  # the block matches no district by bill-to or name
    assert "unknown district 'VALLEY SCHOOLS FOOD SVC'" in capsys.readouterr().err
    assert cli.main(["ingest", str(path), "--district", "valley", *vendor]) == 0
    assert json.loads(capsys.readouterr().out)["rows_loaded"] == 2
    con = db.connect(db_path)
    try:
        got = con.execute(f"SELECT DISTINCT {names.DISTRICT_ID} FROM {names.PURCHASES}").fetchall()
        assert got == [("valley",)] and counts(con)[2] == 1  # no district registered on the way
    finally:
        con.close()


def test_district_option_refuses_a_report_of_several_blocks_or_an_unknown_district(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    add_district(con, "north", "North Valley Unified", "9001")
    before = counts(con)
    with pytest.raises(InputFileError, match=r"one district block; this one has 2: 'NORTH VALLEY USD' \(row 6\)"):
        ingest_file(
            con, write_report(tmp_path / "two.xlsx"), vendor_name="B", vendor_type=BROADLINE, district_id="north"
        )
    with pytest.raises(InputFileError, match="unknown district 'nope': register it first"):
        ingest_file(
            con, write_one_block(tmp_path / "one.xlsx"), vendor_name="B", vendor_type=BROADLINE, district_id="nope"
        )
    with pytest.raises(InputFileError, match="--district and --add-districts do not go together"):
        ingest_file(
            con, tmp_path / "one.xlsx", vendor_name="B", vendor_type=BROADLINE, district_id="north", add_districts=True
        )
    assert counts(con) == before


@needs_real
def test_real_report_months_sum_to_the_year(real_loaded: tuple[Path, object]) -> None:
    """The 2019-20 report's one period is spread over its 366 days: every month has spend, the months add up."""
    from coop.metrics import compute

    con = db.connect(real_loaded[0], read_only=True)
    try:
        first, last = compute.date_range(con)
        year = compute.compute(con)
        months = year.by_month.filter(year.by_month[compute.SCOPE] == compute.COOP)
        autumn = compute.compute(con, first, date(first.year, 12, 31))
        spring = compute.compute(con, date(first.year + 1, 1, 1), last)
    finally:
        con.close()
    assert (first, last) == (date(2019, 7, 1), date(2020, 6, 30))
    assert months.height == 12 and (months["total_spend"] > 0).all()
    cents = (months["total_spend"] * 100).round(0).cast(int).sum()
    assert cents == 1_768_304_105  # $17,683,041.05, to the cent
    halves = [m.coop["total_spend"][0] for m in (autumn, spring)]
    assert round(sum(halves), 2) == 17_683_041.05
    assert halves[0] == pytest.approx(17_683_041.05 * 184 / 366, abs=0.005 * 9_619)  # one rounding per line at most
    assert autumn.coop["allocated_spend"][0] == halves[0]


# --- per-line vendor type from the report's own markers ------------------------------------------------------
REAL_HEADER = ["Item No ", "Zone", "Mfg. Item No.", "Description", "", "Brand", "", "Pack Size", "UOM", "Quantity"]


def write_real_shaped(path: Path) -> Path:
    """A report laid out as the real one: period and bill-to in one cell above, the header in row 4, one block."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(
        [None, None, None, None, "Start Date.... 07/01/2019\nEnd Date...... 06/30/2020\nBill-To.......... 100023"]
    )
    ws.append(["300025 - District Usage by Item"])
    ws.append([])
    ws.append([*REAL_HEADER, "Total Amt Invoiced", "Avg Price"])
    ws.append([" ALHAMBRA SCHOOL DISTRICT (100023)"])
    rows = [
        ("401418", "FROZEN", "10000097370", "CRUMBLES BEEF", "ADVANCE PIERRE", "8/5LB", "CS", 192, 7213.44, 37.57),
        ("820905", "PRODUCE", "14H87", "DOD APPLE G/S USF/XF 125-138CT", "DOD FRESH PRODUCE", "40LB", "CS", 6, 18, 3),
        ("500026", "DRY", "100370", "BEANS RED KIDNEY CAN", "USDA", "6/#10", "CS", 96, 216, 2.25),
        ("500999", "FROZEN", "1234", "BEEF PATTY USDA CHOICE", "KING", "4/5LB", "CS", 2, 80, 40),  # a grade, no marker
        ("820999", "PRODUCE", "15R19", "DOD LETTUCE SHRD 4/5LB BAG", "", "4/5LB", "CS", 1, 3, 3),  # no brand
    ]
    for no, zone, mfg, desc, brand, pack, uom, qty, total, avg in rows:
        ws.append([no, zone, mfg, desc, None, brand or None, None, pack, uom, qty, total, avg])
    wb.save(path)
    return path


def test_dod_and_usda_foods_lines_of_a_distributor_report_get_their_vendor_type_and_rule(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    add_district(con, "alh", "Alhambra", "100023")
    result = ingest_file(con, write_real_shaped(tmp_path / "usage.xlsx"), vendor_name=VENDOR, vendor_type=BROADLINE)
    assert result.rows_loaded == 5
    got = con.execute(
        f"SELECT {names.SOURCE_ROW}, {names.VENDOR_NAME}, {names.VENDOR_TYPE}, {names.VENDOR_TYPE_RULE} "
        f"FROM {names.PURCHASES} ORDER BY 1"
    ).fetchall()
    assert got == [
        (6, VENDOR, BROADLINE, "report"),
        (7, VENDOR, "dod_fresh", "report marker dod_brand: brand 'DOD FRESH PRODUCE'"),
        (8, VENDOR, "usda_foods", "report marker usda_brand: brand 'USDA'"),
        (9, VENDOR, BROADLINE, "report"),
        (10, VENDOR, "dod_fresh", "report marker dod_description: description 'DOD LETTUCE SHRD 4/5LB BAG'"),
    ]


def test_the_markers_are_data_with_their_sources() -> None:
    found = usage_report.markers()
    assert {m.vendor_type for m in found} == {"dod_fresh", "usda_foods"}
    assert all(m.source for m in found)


@needs_real
def test_real_report_dod_fresh_and_usda_foods_lines(real_loaded: tuple[Path, object]) -> None:
    path, _ = real_loaded
    con = db.connect(path, read_only=True)
    try:
        got = con.execute(
            f"SELECT {names.VENDOR_TYPE}, count(*), sum({names.EXTENDED_PRICE}) FROM {names.PURCHASES} "
            "GROUP BY ALL ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    assert got == [
        (BROADLINE, 8716, Decimal("17503805.15")),
        ("dod_fresh", 197, Decimal("81864.90")),  # brand 'DOD FRESH PRODUCE', descriptions 'DOD ...'
        ("usda_foods", 706, Decimal("97371.00")),  # brand 'USDA', $2.25 a case
    ]


def test_a_country_of_origin_column_gives_origin_country(tmp_path: Path) -> None:
    path = tmp_path / "coo.csv"
    path.write_text(
        "District Usage by Item\n"
        "Start Date 07/01/2025 End Date 09/30/2025\n"
        "Item No,Description,Pack Size,UOM,Quantity,Total Amt Invoiced,COO\n"
        "NORTH VALLEY USD (9001)\n"
        "A1,BANANAS GREEN TIP,40 LB,CS,10,280.00,Guatemala\n"
        "A2,APPLES GALA,40 LB,CS,2,84.00,\n",
        encoding="utf-8",
    )
    report = usage_report.parse(path)
    assert report.lines[names.ORIGIN_COUNTRY].to_list() == ["Guatemala", None]


def test_bill_to_id_matches_the_same_district_across_two_years(db_path: Path, tmp_path: Path) -> None:
    """Two school years' reports name the district differently; its bill-to id puts both under it."""
    from fixtures_periods import write_period_report

    from coop.metrics import compute

    con = db.connect(db_path)
    try:
        add_district(con, "valley", "Valley Unified School District", "7777")
        years = [
            write_period_report(tmp_path / "2020.xlsx", date(2020, 7, 1), date(2021, 6, 30), block="VALLEY SCHOOLS"),
            write_period_report(
                tmp_path / "2021.xlsx", date(2021, 7, 1), date(2022, 6, 30), block="VALLEY USD FOOD SVC"
            ),
        ]
        for path in years:
            assert ingest_file(con, path, vendor_name=VENDOR, vendor_type=BROADLINE).rows_loaded == 2
        assert counts(con) == (4, 2, 1)  # four lines, two batches, still one district
        first = compute.compute(con, date(2020, 7, 1), date(2021, 6, 30))
        second = compute.compute(con, date(2021, 7, 1), date(2022, 6, 30))
        assert first.districts[names.DISTRICT_ID].to_list() == ["valley"]
        assert (first.coop["total_spend"][0], second.coop["total_spend"][0]) == (1365.0, 1365.0)
        assert first.coop["allocated_spend"][0] == 0.0  # each year covers its report's whole period
    finally:
        con.close()


@needs_real
def test_real_report_no_line_packed_in_10_cans_is_unprocessed(real_loaded: tuple[Path, object]) -> None:
    # issue 17: canning heats the product (seed 004 Q17); the classification the load stored says so on every line
    path, _ = real_loaded
    con = db.connect(path, read_only=True)
    try:
        ((lines, unprocessed, categories, rules),) = con.execute(
            f"""SELECT count(*), count(*) FILTER (WHERE {names.UNPROCESSED}), list(DISTINCT {names.CATEGORY}),
                       count(*) FILTER (WHERE {names.UNPROCESSED_RULE} LIKE '%canning heats the product%')
                FROM {names.PURCHASES} WHERE {names.PACK_SIZE} LIKE '%#10%'"""
        ).fetchall()
    finally:
        con.close()
    assert lines >= 77 and unprocessed == 0
    assert {"fruit", "vegetable"} <= set(categories)
    assert rules > 0  # decided by the can, not by chance
