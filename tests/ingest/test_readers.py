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
