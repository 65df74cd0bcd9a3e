"""coop.readers: delimiters, encodings, BOM, row numbers, XLSX/Parquet reading and header mapping."""

from __future__ import annotations

import openpyxl
import polars as pl
import pytest

from coop import names
from coop.errors import InputFileError
from coop.ingest import readers
from coop.ingest.mapping import (
    apply_mapping,
    list_mappings,
    load_mapping,
    propose_mapping,
    resolve_mapping,
    save_mapping,
)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiters_are_detected(tmp_path, delimiter):
    path = tmp_path / "f.csv"
    rows = [["Date", "Item Description", "Ext Price"], ["2024-09-03", "Apples, Gala", "1,234.50"]]
    quote = '"' if delimiter == "," else ""
    lines = [delimiter.join(rows[0]), delimiter.join(f"{quote}{v}{quote}" if "," in v else v for v in rows[1])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = readers.read_csv(path)
    assert table.frame.columns == ["Date", "Item Description", "Ext Price", names.SOURCE_ROW]
    assert table.frame.row(0) == ("2024-09-03", "Apples, Gala", "1,234.50", 2)


def test_bom_is_stripped_from_the_first_header(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffDate,Qty\n2024-09-03,4\n".encode())
    assert readers.read_csv(path).frame.columns == ["Date", "Qty", names.SOURCE_ROW]


def test_windows_1252_text_is_decoded(tmp_path):
    path = tmp_path / "cp.csv"
    path.write_bytes("Item,Qty\nJalape\xf1os,3\n".encode("latin-1"))
    assert readers.read_csv(path).frame["Item"].to_list() == ["Jalapeños"]


def test_blank_rows_are_dropped_but_row_numbers_match_the_spreadsheet(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("Item,Qty\nA,1\n,\nB,2\n", encoding="utf-8")
    frame = readers.read_csv(path).frame
    assert frame.select("Item", names.SOURCE_ROW).rows() == [("A", 2), ("B", 4)]


def test_cells_are_stripped_and_empty_cells_are_null(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("Item,Qty\n  Carrots  ,\n", encoding="utf-8")
    assert readers.read_csv(path).frame.row(0) == ("Carrots", None, 2)


def test_empty_file_raises_empty_file_error(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("  \n", encoding="utf-8")
    with pytest.raises(readers.EmptyFileError):
        readers.read_csv(path)


def test_unknown_suffix_is_an_input_error(tmp_path):
    path = tmp_path / "f.json"
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"unknown file type '\.json'"):
        readers.read_file(path)


def test_xlsx_rows_keep_sheet_numbers_after_a_title_row_and_typed_cells_become_text(tmp_path):
    from datetime import datetime

    path = tmp_path / "t.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([None])
    ws.append(["Date", "Qty", "Price", "Local"])
    ws.append([datetime(2024, 9, 3), 4, 1.5, True])
    ws.append([None, None, None, None])
    ws.append(["2024-09-05", 2.0, 0.25, False])
    wb.save(path)
    table = readers.read_xlsx(path)
    assert table.problems == ()
    assert table.frame.rows() == [
        ("2024-09-03T00:00:00", "4", "1.5", "true", 3),
        ("2024-09-05", "2", "0.25", "false", 5),
    ]


def test_parquet_is_read_as_text_with_row_numbers(tmp_path):
    path = tmp_path / "p.parquet"
    pl.DataFrame({"qty": [1.5, 2.0], "ok": [True, None]}).write_parquet(path)
    frame = readers.read_parquet(path).frame
    assert frame.rows() == [("1.5", "true", 2), ("2.0", None, 3)]


# --- header mapping ------------------------------------------------------------------------------
def test_distributor_header_variants_map_to_canonical_columns():
    headers = [
        "Item Description",
        "Ext Price",
        "Qty",
        "Vendor",
        "Invoice Date",
        "Unit Price",
        "UOM",
        "Pack Size",
        "Origin State",
        "Origin Zip",
        "Invoice #",
        "Brand",
    ]
    assert propose_mapping(headers) == {
        "Item Description": names.PRODUCT,
        "Ext Price": names.EXTENDED_PRICE,
        "Qty": names.QUANTITY,
        "Vendor": names.VENDOR_NAME,
        "Invoice Date": names.INVOICE_DATE,
        "Unit Price": names.UNIT_PRICE,
        "UOM": names.UNIT,
        "Pack Size": names.PACK_SIZE,
        "Origin State": names.ORIGIN_STATE,
        "Origin Zip": names.ORIGIN_ZIP,
        "Invoice #": names.INVOICE_NO,
        "Brand": None,
    }


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("DESCRIPTION", names.DESCRIPTION),
        ("item", names.PRODUCT),
        ("Extended", names.EXTENDED_PRICE),
        ("Total", names.EXTENDED_PRICE),
        ("quantity", names.QUANTITY),
        ("Supplier", names.VENDOR_NAME),
        ("date", names.INVOICE_DATE),
        ("Price", names.UNIT_PRICE),
        ("Cost", names.UNIT_PRICE),
        ("Pack", names.PACK_SIZE),
        ("  vendor_type ", names.VENDOR_TYPE),
        ("Invoice No.", names.INVOICE_NO),
    ],
)
def test_header_matching_ignores_case_space_and_punctuation(header, canonical):
    assert propose_mapping([header]) == {header: canonical}


def test_first_header_wins_when_two_map_to_the_same_column():
    assert propose_mapping(["Item", "Item Description"]) == {"Item": names.PRODUCT, "Item Description": None}


def test_saved_mapping_round_trips_and_overrides_the_proposal(con):
    save_mapping(con, "farm", {"Item": names.DESCRIPTION, "Notes": None})
    saved = load_mapping(con, "farm")
    assert saved == {"Item": names.DESCRIPTION, "Notes": None}
    assert list_mappings(con) == ["farm"]
    resolved = resolve_mapping(["Item", "Qty", "Notes"], saved)
    assert resolved == {"Item": names.DESCRIPTION, "Notes": None, "Qty": names.QUANTITY}


def test_save_mapping_rejects_unknown_canonical_names(con):
    with pytest.raises(InputFileError, match="unknown canonical column"):
        save_mapping(con, "bad", {"Item": "flavour"})


def test_apply_mapping_renames_and_drops_unmapped():
    frame = pl.DataFrame({"Qty": ["1"], "Brand": ["x"], names.SOURCE_ROW: [2]})
    out = apply_mapping(frame, {"Qty": names.QUANTITY, "Brand": None})
    assert out.columns == [names.SOURCE_ROW, names.QUANTITY]


def test_apply_mapping_refuses_two_headers_for_one_column():
    frame = pl.DataFrame({"A": ["1"], "B": ["2"], names.SOURCE_ROW: [2]})
    with pytest.raises(InputFileError, match="several headers to quantity"):
        apply_mapping(frame, {"A": names.QUANTITY, "B": names.QUANTITY})


def test_preview_gives_the_proposed_mapping_and_the_first_rows(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("Qty,Brand\n" + "".join(f"{i},x\n" for i in range(50)), encoding="utf-8")
    mapping, head = readers.preview(path, rows=5)
    assert mapping == {"Qty": names.QUANTITY, "Brand": None}
    assert head["Qty"].to_list() == ["0", "1", "2", "3", "4"]
    assert head[names.SOURCE_ROW].to_list() == [2, 3, 4, 5, 6]


# --- the header row ------------------------------------------------------------------------------
TITLED = (
    "Purchases for October 2025, Valley District\n"
    "\n"
    "Date,Vendor,Item,Qty,UOM,Price\n"
    "2025-10-01,Sysco,Apples,1,cs,2\n"
    "\n"
    "2025-10-02,Sysco,Pears,2,cs,3\n"
)


def test_csv_header_row_is_found_below_a_title_and_blank_rows_with_spreadsheet_row_numbers(tmp_path):
    path = tmp_path / "titled.csv"
    path.write_text(TITLED, encoding="utf-8")
    table = readers.read_csv(path)
    assert table.header_row == 3
    assert table.frame.columns == ["Date", "Vendor", "Item", "Qty", "UOM", "Price", names.SOURCE_ROW]
    assert table.frame.select("Item", names.SOURCE_ROW).rows() == [("Apples", 4), ("Pears", 6)]


def test_csv_leading_blank_lines_and_a_quoted_title_keep_row_numbers(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text('\n\n"Valley District; October"\nDate;Vendor;Item\n2025-10-01;S;A\n', encoding="utf-8")
    table = readers.read_csv(path)
    assert table.header_row == 4
    assert table.frame.rows() == [("2025-10-01", "S", "A", 5)]


def test_xlsx_header_row_is_found_below_a_title(tmp_path):
    path = tmp_path / "titled.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Purchases for October 2025, Valley District"])
    ws.append(["Vendor: Valley Farms", None, "Printed 2025-11-02"])
    ws.append(["Date", "Vendor", "Item", "Qty"])
    ws.append(["2025-10-01", "Sysco", "Apples", 4])
    wb.save(path)
    table = readers.read_xlsx(path)
    assert table.header_row == 3
    assert table.frame.rows() == [("2025-10-01", "Sysco", "Apples", "4", 4)]


def test_a_key_value_row_above_the_header_is_not_taken_for_it():
    rows = [["Vendor", "Valley Farms", "Date", "2025-10"], ["Date", "Vendor", "Item", "Qty", "UOM"]]
    rows += [["2025-10-01", "Sysco", "Apples", "4", "cs"]] * 3
    assert readers.find_header_row(rows) == 1


def test_no_recognisable_header_falls_back_to_the_first_non_blank_row():
    assert readers.find_header_row([["Articulo", "Cantidad"], ["Manzanas", "3"]]) is None


def test_header_row_option_overrides_the_search(tmp_path):
    path = tmp_path / "own.csv"
    path.write_text("Compras de octubre\nArticulo,Cantidad\nManzanas,3\n", encoding="utf-8")
    table = readers.read_file(path, header_row=2)
    assert table.header_row == 2
    assert table.frame.rows() == [("Manzanas", "3", 3)]
    xlsx = tmp_path / "own.xlsx"
    wb = openpyxl.Workbook()
    for row in (["Compras de octubre"], ["Articulo", "Cantidad"], ["Manzanas", 3]):
        wb.active.append(row)
    wb.save(xlsx)
    assert readers.read_file(xlsx, header_row=2).frame.rows() == [("Manzanas", "3", 3)]


def test_header_row_option_refuses_a_blank_or_missing_row_and_parquet(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(TITLED, encoding="utf-8")
    with pytest.raises(InputFileError, match="row 2 is blank"):
        readers.read_csv(path, header_row=2)
    with pytest.raises(InputFileError, match="no row 40"):
        readers.read_csv(path, header_row=40)
    with pytest.raises(InputFileError, match="numbered from 1"):
        readers.read_csv(path, header_row=0)
    parquet = tmp_path / "p.parquet"
    pl.DataFrame({"qty": [1]}).write_parquet(parquet)
    with pytest.raises(InputFileError, match="Parquet file has no header row"):
        readers.open_table(parquet, header_row=2)


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("Distributor", names.VENDOR_NAME),
        ("Total Spend", names.EXTENDED_PRICE),
        ("Total Quantity", names.QUANTITY),
        ("Selling Price", names.UNIT_PRICE),
        ("Grown In", names.ORIGIN_STATE),
        ("Total Amount Invoiced", names.EXTENDED_PRICE),
        ("Qty Invoiced", names.QUANTITY),
        ("Average Price", names.UNIT_PRICE),
    ],
)
def test_more_distributor_aliases(header, canonical):
    assert propose_mapping([header]) == {header: canonical}


def test_the_real_reports_header_row_maps_its_line_columns():
    from tests.conftest import REAL

    path = REAL / "sgv-coop-district-usage-2019-2020.xlsx"
    if not path.exists():
        pytest.skip(f"real report not present at {path}")
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = [[readers._cell_text(v) for v in row] for row in wb.active.iter_rows(max_row=12, values_only=True)]
    wb.close()
    assert readers.find_header_row(rows) == 3  # row 4, below the period cell, the report name and a blank row
    mapped = {h: c for h, c in propose_mapping([c.strip() for c in rows[3] if c]).items() if c}
    assert mapped == {
        "Description": names.DESCRIPTION,
        "Pack Size": names.PACK_SIZE,
        "UOM": names.UNIT,
        "Quantity": names.QUANTITY,
        "Total Amt Invoiced": names.EXTENDED_PRICE,
        "Avg Price": names.UNIT_PRICE,
    }
