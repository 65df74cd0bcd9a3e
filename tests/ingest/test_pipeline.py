"""coop.ingest.pipeline: the one entry (shape detection, re-loads, XLSX/Parquet, mappings), load_frame, 50 MB."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
import xlsxwriter
from fixtures_ingest import CLEAN, purchase_count, seed, snapshot, write_xlsx

from coop import cli, names
from coop.errors import InputFileError, ValidationError, group_problems
from coop.ingest import ingest_file, pipeline
from coop.ingest.mapping import load_mapping, save_mapping
from coop.store import batches


def test_clean_two_line_file_loads_once_then_is_a_no_op_and_undo_restores(store, tmp_path):
    path = tmp_path / "clean.csv"
    path.write_text(CLEAN, encoding="utf-8")
    start = purchase_count(store)
    result = ingest_file(store, path, district_id="D1")
    assert result.to_json() == {
        "batch_id": result.batch_id,
        "rows_loaded": 2,
        "rows_rejected": 0,
        "already_loaded_as": None,
        "warnings": 0,
        "messages": [],
        "problems": [],
    }
    assert purchase_count(store) == start + 2
    before = snapshot(store)
    again = ingest_file(store, path, district_id="D1")
    assert again.batch_id is None
    assert again.already_loaded_as == result.batch_id
    assert again.rows_loaded == 0
    assert snapshot(store) == before
    assert batches.undo(store, result.batch_id) == 2
    assert purchase_count(store) == start


def test_cli_ingest_json_and_reload_names_the_batch(db_path, tmp_path, capsys):
    con = duckdb.connect(str(db_path))
    seed(con)
    con.close()
    path = tmp_path / "clean.csv"
    path.write_text(CLEAN, encoding="utf-8")
    argv = ["ingest", str(path), "--district", "D1", "--db", str(db_path), "--json"]
    assert cli.main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    none = {"messages": [], "problems": []}
    assert first == {
        "batch_id": 1,
        "rows_loaded": 2,
        "rows_rejected": 0,
        "already_loaded_as": None,
        "warnings": 0,
        **none,
    }
    assert cli.main(argv) == 0
    second = json.loads(capsys.readouterr().out)
    assert second == {
        "batch_id": None,
        "rows_loaded": 0,
        "rows_rejected": 0,
        "already_loaded_as": 1,
        "warnings": 0,
        **none,
    }
    assert cli.main(["batches", "--db", str(db_path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(b["batch_id"], b["file_name"], b["rows_loaded"]) for b in listed] == [(1, "clean.csv", 2)]
    assert cli.main(["undo", "1", "--db", str(db_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "batch_id": 1,
        "rows_removed": 2,
        "districts_removed": [],
        "vendors_removed": [],
    }
    assert cli.main(["undo", "1", "--db", str(db_path), "--json"]) == 1
    assert "no batch with id 1" in capsys.readouterr().err


def test_missing_file_is_an_input_error(store, tmp_path):
    with pytest.raises(InputFileError, match="file not found"):
        ingest_file(store, tmp_path / "nope.csv", district_id="D1")


def test_xlsx_loads_with_excel_dates_and_numbers(store, tmp_path):
    from datetime import datetime

    path = tmp_path / "invoice.xlsx"
    write_xlsx(
        path,
        [
            ["Invoice Date", "Supplier", "Description", "Quantity", "Unit", "Unit Price", "Extended", "Origin Zip"],
            [datetime(2024, 9, 3), "Green Acres Farm", "Squash, butternut", 12, "lb", 0.9, 10.8, 55102],
            [datetime(2024, 9, 10), "Green Acres Farm", "Squash, acorn", 6, "lb", 1.1, 6.6, "05501"],
        ],
    )
    result = ingest_file(store, path, district_id="D2")
    assert (result.rows_loaded, result.problems) == (2, ())
    rows = store.execute(
        f"SELECT {names.SOURCE_ROW}, CAST({names.INVOICE_DATE} AS VARCHAR), {names.QUANTITY}, "
        f"{names.EXTENDED_PRICE}, {names.ORIGIN_ZIP} FROM {names.PURCHASES} ORDER BY 1"
    ).fetchall()
    assert [(r, d, q, float(e), z) for r, d, q, e, z in rows] == [
        (2, "2024-09-03", 12.0, 10.8, "55102"),
        (3, "2024-09-10", 6.0, 6.6, "05501"),
    ]


def test_xlsx_named_sheet_and_formulas_with_cached_values_load(store, tmp_path):
    path = tmp_path / "formulas.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Notes").write(0, 0, "not data")
    ws = wb.add_worksheet("Lines")
    ws.write_row(0, 0, ["Date", "Vendor", "Item", "Qty", "UOM", "Price", "Ext Price"])
    ws.write_row(1, 0, ["2024-09-03", "Sysco", "Carrots", 10, "lb", 0.8])
    ws.write_formula(1, 6, "=D2*F2", None, 8.0)  # xlsxwriter stores the cached result
    wb.close()
    result = ingest_file(store, path, district_id="D1", sheet="Lines")
    assert result.rows_loaded == 1
    ((ext,),) = store.execute(f"SELECT {names.EXTENDED_PRICE} FROM {names.PURCHASES}").fetchall()
    assert float(ext) == pytest.approx(8.0)


def test_xlsx_unknown_sheet_is_an_input_error(store, tmp_path):
    path = tmp_path / "one.xlsx"
    write_xlsx(path, [["Date"], ["2024-09-03"]])
    with pytest.raises(InputFileError, match="no sheet named 'Lines'"):
        ingest_file(store, path, district_id="D1", sheet="Lines")


def test_parquet_loads_typed_columns(store, tmp_path):
    from datetime import date

    path = tmp_path / "lines.parquet"
    pl.DataFrame(
        {
            "invoice_date": [date(2024, 10, 1), date(2024, 10, 2)],
            "vendor_name": ["Green Acres Farm", "Sysco"],
            "vendor_type": ["producer", None],
            "product": ["Pears, Bartlett", "Milk, 1%"],
            "unprocessed": [True, False],
            "quantity": [30.0, 4.0],
            "unit": ["lb", "gal"],
            "unit_price": [1.5, 3.25],
            "extended_price": [45.0, 13.0],
        }
    ).write_parquet(path)
    result = ingest_file(store, path, district_id="D1")
    assert (result.rows_loaded, result.rows_rejected) == (2, 0)
    rows = store.execute(
        f"SELECT {names.VENDOR_TYPE}, {names.UNPROCESSED}, {names.UNPROCESSED_RULE}, {names.QUANTITY} "
        f"FROM {names.PURCHASES} ORDER BY {names.SOURCE_ROW}"
    ).fetchall()
    assert rows == [("producer", True, "file", 30.0), ("broadline_distributor", False, "file", 4.0)]


def test_saved_mapping_is_reused_by_name(store, tmp_path):
    odd = "When,Who,What,How Many,Measure,Each,Line $\n2024-09-03,Sysco,Carrots,10,lb,0.80,8.00\n"
    path = tmp_path / "odd.csv"
    path.write_text(odd, encoding="utf-8")
    with pytest.raises(ValidationError):
        ingest_file(store, path, district_id="D1")
    save_mapping(
        store,
        "odd-export",
        {
            "When": names.INVOICE_DATE,
            "Who": names.VENDOR_NAME,
            "What": names.PRODUCT,
            "How Many": names.QUANTITY,
            "Measure": names.UNIT,
            "Each": names.UNIT_PRICE,
            "Line $": names.EXTENDED_PRICE,
        },
    )
    result = ingest_file(store, path, district_id="D1", mapping="odd-export")
    assert result.rows_loaded == 1
    with pytest.raises(InputFileError, match="no saved mapping named 'nope'"):
        ingest_file(store, tmp_path / "odd.csv", district_id="D1", mapping="nope")


def test_save_mapping_on_successful_ingest(store, tmp_path):
    path = tmp_path / "clean.csv"
    path.write_text(CLEAN, encoding="utf-8")
    ingest_file(store, path, district_id="D1", save_mapping="greenacres")
    assert load_mapping(store, "greenacres")["Ext Price"] == names.EXTENDED_PRICE


def test_load_frame_with_per_row_districts_periods_and_given_products(store):
    frame = pl.DataFrame(
        {
            names.DISTRICT_ID: ["D1", "D2"],
            names.PERIOD_START: ["2019-07-01", "2019-07-01"],
            names.PERIOD_END: ["2020-06-30", "2020-06-30"],
            names.VENDOR_NAME: ["Sysco", "Sysco"],
            names.DESCRIPTION: ["APPLE GALA 88CT", "CARROT BABY"],
            names.PRODUCT: ["apples", None],
            names.QUANTITY: ["3", "2"],
            names.UNIT: ["CS", "CS"],
            names.PACK_SIZE: ["40LB", "8/5LB"],
            names.EXTENDED_PRICE: ["120.00", "50.00"],
            names.SOURCE_ROW: [7, 9],
        }
    )
    result = pipeline.load_frame(
        store, frame, file_name="report.xlsx", sha256="abc", source_kind="usage_report", district_id=None
    )
    assert result.rows_loaded == 2
    rows = store.sql(f"SELECT * FROM {names.PURCHASES} ORDER BY {names.SOURCE_ROW}").pl().to_dicts()
    assert [r[names.SOURCE_ROW] for r in rows] == [7, 9]
    assert [r[names.DISTRICT_ID] for r in rows] == ["D1", "D2"]
    assert str(rows[0][names.INVOICE_DATE]) == "2019-07-01"
    assert str(rows[0][names.PERIOD_END]) == "2020-06-30"
    assert rows[0][names.PRODUCT] == "apples"
    assert rows[0][names.PRODUCT_CONFIDENCE] == 1.0
    assert float(rows[0][names.UNIT_PRICE]) == pytest.approx(40.0)  # derived: 120.00 / 3
    assert rows[0][names.BASE_QUANTITY] == pytest.approx(120.0)  # 3 cases x 40 lb
    assert rows[1][names.BASE_QUANTITY] == pytest.approx(80.0)  # 2 cases x 8 x 5 lb
    (batch,) = batches.list_batches(store).to_dicts()
    assert (batch[names.DISTRICT_ID], batch[names.SOURCE_KIND], batch[names.SHA256]) == (None, "usage_report", "abc")
    again = pipeline.load_frame(
        store, frame, file_name="report.xlsx", sha256="abc", source_kind="usage_report", district_id=None
    )
    assert again.already_loaded_as == result.batch_id


def test_progress_is_reported_from_zero_to_one(store, tmp_path):
    path = tmp_path / "clean.csv"
    path.write_text(CLEAN, encoding="utf-8")
    seen: list[float] = []
    ingest_file(store, path, district_id="D1", progress=lambda f, _msg: seen.append(f))
    assert seen[0] == 0.0
    assert seen[-1] == 1.0
    assert seen == sorted(seen)


@pytest.mark.slow
def test_fifty_megabyte_csv_loads(store, tmp_path):
    n = 640_000
    frame = pl.DataFrame(
        {
            "Date": pl.date_range(pl.date(2023, 7, 1), pl.date(2024, 6, 30), eager=True)
            .sample(n, with_replacement=True, seed=1)
            .dt.strftime("%m/%d/%Y"),
            "Vendor": pl.Series(["Green Acres Farm", "Sysco"] * (n // 2)),
            "Item Description": pl.Series(["Apples, Gala, 88ct", "Carrots, baby, 5 lb bag"] * (n // 2)),
            "Qty": pl.int_range(1, n + 1, eager=True) % 97 + 1,
            "UOM": pl.Series(["lb", "lb"] * (n // 2)),
        }
    ).with_columns(
        (pl.col("Qty") * 0 + 1.25).alias("Price"),
        (pl.col("Qty") * 1.25).round(2).alias("Ext Price"),
        pl.format("INV-{}", pl.int_range(0, n)).alias("Invoice #"),
        pl.lit("Lakeview Elementary School kitchen, loading dock B").alias("Ship To"),
    )
    path = tmp_path / "big.csv"
    frame.write_csv(path)
    assert path.stat().st_size > 45_000_000
    result = ingest_file(store, path, district_id="D1")
    assert result.rows_loaded == n
    assert result.rows_rejected == 0
    ((total,),) = store.execute(f"SELECT sum({names.EXTENDED_PRICE}) FROM {names.PURCHASES}").fetchall()
    assert float(total) == pytest.approx(frame["Ext Price"].sum(), abs=0.01)


# --- the one entry: each shape goes to its reader ------------------------------------------------
def _usage_report(path: Path) -> Path:
    """A one-block distributor usage report (period above the header, block 'NAME (bill-to id)')."""
    write_xlsx(
        path,
        [
            ["Start Date: 07/01/2021  End Date: 12/31/2021"],
            ["Description", "Pack Size", "UOM", "Quantity", "Total Amt Invoiced", "Avg Price"],
            ["LAKEVIEW (9001)"],
            ["CARROTS BABY", "4/5LB", "CS", 2, 48.20, 24.10],
        ],
    )
    return path


def _kinds(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str | None]]:
    """(source_kind, district_id) of every batch, in load order."""
    return con.execute(
        f"SELECT {names.SOURCE_KIND}, {names.DISTRICT_ID} FROM {names.BATCHES} ORDER BY {names.BATCH_ID}"
    ).fetchall()


def test_ingest_file_reads_a_usage_report_as_a_report(store, tmp_path):
    store.execute(f"UPDATE {names.DISTRICTS} SET {names.BILL_TO_ID} = '9001' WHERE {names.DISTRICT_ID} = 'D1'")
    path = _usage_report(tmp_path / "usage.xlsx")
    with pytest.raises(InputFileError, match="a distributor usage report needs --vendor NAME and --vendor-type TYPE"):
        ingest_file(store, path, district_id="D2")
    result = ingest_file(store, path, vendor_name="Sysco", vendor_type="broadline_distributor")
    assert (result.rows_loaded, result.rows_rejected) == (1, 0)
    assert _kinds(store) == [("usage_report", None)]
    ((district, source_row),) = store.execute(
        f"SELECT {names.DISTRICT_ID}, {names.SOURCE_ROW} FROM {names.PURCHASES}"
    ).fetchall()
    assert (district, source_row) == ("D1", 4)  # the block's district by bill-to id, the spreadsheet's row
    again = ingest_file(store, path, vendor_name="Sysco", vendor_type="broadline_distributor")
    assert again.already_loaded_as == result.batch_id


def test_ingest_file_reads_csv_xlsx_and_parquet_by_their_suffix(store, tmp_path):
    csv = tmp_path / "lines.csv"
    csv.write_text(CLEAN, encoding="utf-8")
    xlsx = tmp_path / "lines.xlsx"
    write_xlsx(
        xlsx, [["Date", "Vendor", "Item", "Qty", "UOM", "Price"], ["2024-09-05", "Sysco", "Beets", 3, "lb", 1.5]]
    )
    parquet = tmp_path / "lines.parquet"
    pl.DataFrame(
        {"invoice_date": ["2024-09-06"], "vendor_name": ["Sysco"], "product": ["Onions"], "quantity": [2.0]}
        | {"unit": ["lb"], "unit_price": [0.75]}
    ).write_parquet(parquet)
    loaded = [ingest_file(store, path, district_id="D2").rows_loaded for path in (csv, xlsx, parquet)]
    assert loaded == [2, 1, 1]
    assert _kinds(store) == [("csv", "D2"), ("xlsx", "D2"), ("parquet", "D2")]


def test_a_vendor_makes_any_file_a_usage_report(store, tmp_path):
    """--vendor asks for a usage report: a plain table is refused naming the labels a report has."""
    path = tmp_path / "plain.csv"
    path.write_text(CLEAN, encoding="utf-8")
    with pytest.raises(InputFileError, match="no header row with the labels Description, Pack Size"):
        ingest_file(store, path, vendor_name="Sysco", vendor_type="broadline_distributor")
    assert _kinds(store) == []


def test_an_unknown_suffix_is_an_input_error(store, tmp_path):
    path = tmp_path / "lines.json"
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"unknown file type '\.json'"):
        ingest_file(store, path, district_id="D1")


def test_already_loaded_names_the_batch_that_has_the_file(store, tmp_path):
    path = tmp_path / "clean.csv"
    path.write_text(CLEAN, encoding="utf-8")
    sha = pipeline.file_sha256(path)
    assert pipeline.already_loaded(store, sha) is None
    first = ingest_file(store, path, district_id="D1")
    done = pipeline.already_loaded(store, sha)
    assert done is not None
    assert (done.batch_id, done.already_loaded_as, done.rows_loaded, done.problems) == (None, first.batch_id, 0, ())
    assert done.to_json()["already_loaded_as"] == first.batch_id


# --- one message per problem -------------------------------------------------------------------------------
def _ten_thousand_bad_prices(path: Path) -> Path:
    """10,002 data rows (spreadsheet rows 2-10,003): rows 9,999 and 10,000 valid, the other 10,000 a negative price."""
    good = "2024-09-04,Sysco,Carrots {},10,lb,0.80,8.00\n"
    bad = "2024-09-03,Sysco,Carrots {},10,lb,-1.00,\n"
    rows = [(good if r in (9_999, 10_000) else bad).format(r) for r in range(2, 10_004)]
    path.write_text("Date,Vendor,Item Description,Qty,UOM,Price,Ext Price\n" + "".join(rows), encoding="utf-8")
    return path


def test_ten_thousand_rows_with_one_reason_are_one_message_and_every_row_is_kept(store, db_path, tmp_path, capsys):
    path = _ten_thousand_bad_prices(tmp_path / "prices.csv")
    message = "prices.csv rows 2-9,998, 10,001-10,003 (10,000 rows) column Price: unit_price must be >= 0, got -1.00"
    with pytest.raises(ValidationError) as info:
        ingest_file(store, path, district_id="D1")
    assert len(info.value.problems) == 10_000  # every row's problem, for the app's table and CSV download
    assert [g.text() for g in group_problems(info.value.problems)] == [message]
    store.close()
    argv = ["ingest", str(path), "--district", "D1", "--db", str(db_path), "--json"]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == message and len(err) == 2 and err[1].startswith("error: prices.csv: 10000 invalid cell(s)")
    assert cli.main([*argv, "--skip-invalid"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["rows_loaded"], out["rows_rejected"]) == (2, 10_000)
    assert out["messages"] == [message]
    assert [p["row"] for p in out["problems"]] == [*range(2, 9_999), 10_001, 10_002, 10_003]
    con = duckdb.connect(str(db_path))
    try:
        assert con.execute(f'SELECT count(*), min("row"), max("row") FROM {names.REJECTS}').fetchall() == [
            (10_000, 2, 10_003)
        ]
    finally:
        con.close()


def test_unregistered_vendors_are_one_message_and_one_step_registers_them(store, db_path, tmp_path, capsys):
    path = tmp_path / "farms.csv"
    rows = [
        f"2024-09-03,{'Hilltop Farm' if r % 2 else 'Valley Orchard'},Apples {r},10,lb,1.00,10.00\n" for r in range(3000)
    ]
    path.write_text("Date,Vendor,Item Description,Qty,UOM,Price,Ext Price\n" + "".join(rows), encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        ingest_file(store, path, district_id="D1")
    groups = group_problems(info.value.problems)
    assert len(groups) == 1 and len(groups[0].rows) == 3000
    assert "no vendor_type: 'Valley Orchard', 'Hilltop Farm'; register all of them in one step" in groups[0].text()
    assert pipeline.unknown_vendors(info.value.problems) == ["Valley Orchard", "Hilltop Farm"]
    # one step: --vendor-type registers both, inside the load's transaction, and undo removes them
    result = ingest_file(store, path, district_id="D1", vendor_type="Producer")
    assert result.rows_loaded == 3000
    assert "registered 2 vendor(s) as producer: 'Valley Orchard', 'Hilltop Farm'" in result.problems[0].reason
    got = store.execute(
        f"SELECT {names.VENDOR_TYPE}, {names.VENDOR_TYPE_RULE}, count(*) FROM {names.PURCHASES} GROUP BY ALL"
    ).fetchall()
    assert got == [("producer", "registry", 3000)]
    vendors = f"SELECT {names.VENDOR_NAME}, {names.VENDOR_TYPE} FROM {names.VENDORS} ORDER BY 1"
    assert store.execute(vendors).fetchall() == [
        ("Green Acres Farm", "producer"),
        ("Hilltop Farm", "producer"),
        ("Sysco", "broadline_distributor"),
        ("Valley Orchard", "producer"),
    ]
    _, registered = batches.undo_batch(store, result.batch_id)
    assert registered[names.VENDORS] == ["Hilltop Farm", "Valley Orchard"]
    assert [v for v, _ in store.execute(vendors).fetchall()] == ["Green Acres Farm", "Sysco"]
    with pytest.raises(InputFileError, match="--vendor-type 'farm stand': not a vendor type"):
        ingest_file(store, path, district_id="D1", vendor_type="farm stand")
    store.close()
    # or: the CLI writes the vendors file to fill in; loaded with `vendors FILE`, the file loads
    argv = ["--db", str(db_path), "--json"]
    assert cli.main(["ingest", str(path), "--district", "D1", *argv]) == 1
    err = capsys.readouterr().err
    template = db_path.parent / "farms.new-vendors.csv"
    assert f"listed in {template}" in err and f"`python -m coop vendors {template}`" in err
    filled = pl.read_csv(template).with_columns(pl.lit("farmers_market").alias(names.VENDOR_TYPE))
    assert filled.columns == ["vendor_name", "vendor_type", "origin_state", "origin_zip"]
    filled.write_csv(template)
    assert cli.main(["vendors", str(template), *argv]) == 0
    assert cli.main(["ingest", str(path), "--district", "D1", *argv]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["rows_loaded"] == 3000
