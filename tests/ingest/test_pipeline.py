"""coop.ingest: the broken-file corpus, atomicity, re-loads, duplicates, XLSX/Parquet, skip-invalid, 50 MB."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import polars as pl
import pytest
import xlsxwriter

from coop import cli, names
from coop.errors import InputFileError, ValidationError, format_problem
from coop.ingest import pipeline, readers
from coop.store import batches, db, lines

BROKEN = Path(__file__).resolve().parents[1] / "data" / "broken"
TABLES = (
    names.BATCHES,
    names.PURCHASES,
    names.REJECTS,
    names.MAPPINGS,
    names.DISTRICTS,
    names.VENDORS,
    names.SETTINGS,
)
HEADER = "Date,Vendor,Item Description,Qty,UOM,Price,Ext Price\n"
VENDOR_TYPE_LIST = ", ".join(names.VENDOR_TYPES)


def seed(con: duckdb.DuckDBPyConnection) -> None:
    """Two districts and two registered vendors."""
    con.execute(
        f"INSERT INTO {names.DISTRICTS} (district_id, name, state, zip) "
        "VALUES ('D1', 'Lakeview', 'MN', '55101'), ('D2', 'Prairie', 'MN', '55401')"
    )
    con.execute(
        f"INSERT INTO {names.VENDORS} VALUES ('Green Acres Farm', 'producer', 'MN', '55102'), "
        "('Sysco', 'broadline_distributor', NULL, NULL)"
    )


@pytest.fixture
def store(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A fresh database with the seed districts and vendors."""
    seed(con)
    return con


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str]]:
    """Row count and content hash of every table a load may touch."""
    out = {}
    for table in TABLES:
        ((count, digest),) = con.execute(
            f"SELECT count(*), md5(coalesce(string_agg(CAST(t AS VARCHAR), '|' ORDER BY CAST(t AS VARCHAR)), '')) "
            f"FROM {table} t"
        ).fetchall()
        out[table] = (count, digest)
    ((seq,),) = con.execute("SELECT count(*) FROM duckdb_sequences()").fetchall()
    out["sequences"] = (seq, "")
    return out


def record_inserts(monkeypatch, name: str, fail_at: int | None = None) -> list[tuple[str, Any]]:
    """Wrap `ingest.<name>(cur, sql, source, params)`: (sql, source) per call; call `fail_at` raises 'disk full'."""
    calls: list[tuple[str, Any]] = []
    real = getattr(pipeline, name)

    def recorded(cur, sql, source, params):
        calls.append((sql, source))
        if len(calls) == fail_at:
            raise OSError("disk full")
        real(cur, sql, source, params)

    monkeypatch.setattr(pipeline, name, recorded)
    return calls


def purchase_count(con: duckdb.DuckDBPyConnection) -> int:
    ((n,),) = con.execute(f"SELECT count(*) FROM {names.PURCHASES}").fetchall()
    return int(n)


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
        pipeline.ingest_file(store, BROKEN / file_name, district_id="D1")
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


def test_price_mismatch_loads_flagged_with_a_warning(store):
    result = pipeline.ingest_file(store, BROKEN / "price_mismatch.csv", district_id="D1")
    assert result.rows_loaded == 2
    assert [format_problem(p) for p in result.problems] == [
        "price_mismatch.csv row 3 column Ext Price: extended_price 9.00 differs from quantity x unit_price = 8.00 "
        "by more than 1 cent"
    ]
    assert result.problems[0]["severity"] == "warning"
    assert result.to_json()["warnings"] == 1
    flags = store.execute(f"SELECT source_row, price_flag FROM {names.PURCHASES} ORDER BY source_row").fetchall()
    assert flags == [(2, False), (3, True)]


def test_duplicated_lines_load_with_warnings_naming_the_first_row_and_the_earlier_batch(store, tmp_path):
    first = pipeline.ingest_file(store, BROKEN / "duplicated_lines.csv", district_id="D1")
    assert first.rows_loaded == 3
    assert [format_problem(p) for p in first.problems] == [
        "duplicated_lines.csv row 3 column (line): duplicates row 2 of this file"
    ]
    # the same lines in a different file (different bytes, so a different sha256) are flagged against batch 1
    copy = tmp_path / "resent.csv"
    copy.write_text((BROKEN / "duplicated_lines.csv").read_text() + "\n\n", encoding="utf-8")
    second = pipeline.ingest_file(store, copy, district_id="D1")
    assert second.rows_loaded == 3
    assert [format_problem(p) for p in second.problems] == [
        f"resent.csv row 2 column (line): same line already loaded in batch {first.batch_id}",
        "resent.csv row 3 column (line): duplicates row 2 of this file",
        f"resent.csv row 3 column (line): same line already loaded in batch {first.batch_id}",
        f"resent.csv row 4 column (line): same line already loaded in batch {first.batch_id}",
    ]


# --- clean file: loads once, re-load is a no-op, undo restores ------------------------------------
CLEAN = (
    HEADER + '2024-09-03,Green Acres Farm,"Apples, Gala, 88ct",40,lb,1.25,50.00\n'
    "9/4/2024,Sysco,Carrots,10,lb,0.80,8.00\n"
)


def test_clean_two_line_file_loads_once_then_is_a_no_op_and_undo_restores(store, tmp_path):
    path = tmp_path / "clean.csv"
    path.write_text(CLEAN, encoding="utf-8")
    start = purchase_count(store)
    result = pipeline.ingest_file(store, path, district_id="D1")
    assert result.to_json() == {
        "batch_id": result.batch_id,
        "rows_loaded": 2,
        "rows_rejected": 0,
        "already_loaded_as": None,
        "warnings": 0,
    }
    assert purchase_count(store) == start + 2
    before = snapshot(store)
    again = pipeline.ingest_file(store, path, district_id="D1")
    assert again.batch_id is None
    assert again.already_loaded_as == result.batch_id
    assert again.rows_loaded == 0
    assert snapshot(store) == before
    assert batches.undo(store, result.batch_id) == 2
    assert purchase_count(store) == start


def test_clean_file_values_are_typed_and_enriched(store, tmp_path):
    path = tmp_path / "clean.csv"
    path.write_text(CLEAN, encoding="utf-8")
    pipeline.ingest_file(store, path, district_id="D1")
    rows = store.sql(f"SELECT * FROM {names.PURCHASES} ORDER BY {names.SOURCE_ROW}").pl()
    first, second = rows.to_dicts()
    assert str(first[names.INVOICE_DATE]) == "2024-09-03"
    assert str(second[names.INVOICE_DATE]) == "2024-09-04"  # US m/d/Y
    assert first[names.VENDOR_TYPE] == "producer"  # from the registry
    assert (first[names.ORIGIN_STATE], first[names.ORIGIN_ZIP]) == ("MN", "55102")  # registry origin
    assert second[names.VENDOR_TYPE] == "broadline_distributor"
    assert second[names.ORIGIN_STATE] is None
    assert first[names.DESCRIPTION] == "Apples, Gala, 88ct"
    assert first[names.PRODUCT] != ""
    assert first[names.CATEGORY] in names.CATEGORIES
    assert float(first[names.UNIT_PRICE]) == pytest.approx(1.25)
    assert float(first[names.EXTENDED_PRICE]) == pytest.approx(50.00)
    assert first[names.QUANTITY] == pytest.approx(40.0)
    assert first[names.BASE_UNIT] == "lb"
    assert first[names.BASE_QUANTITY] == pytest.approx(40.0)
    assert first[names.PRICE_FLAG] is False
    assert isinstance(first[names.LINE_KEY], int) and first[names.LINE_KEY] >= 0  # a 64-bit hash (UBIGINT)


def test_base_units_follow_the_inferred_product(store, tmp_path):
    """Ounces of cheese are weight, ounces of milk are volume, counted eggs are dozens (the commodity decides)."""
    path = tmp_path / "dairy.csv"
    path.write_text(
        HEADER
        + "2024-09-03,Sysco,Cheese Cheddar Shredded,32,OZ,0.25,8.00\n"
        + "2024-09-03,Sysco,Milk 1% White,64,OZ,0.05,3.20\n"
        + "2024-09-03,Sysco,Eggs Large Grade A,360,CT,0.10,36.00\n",
        encoding="utf-8",
    )
    pipeline.ingest_file(store, path, district_id="D1")
    rows = store.sql(
        f"SELECT {names.PRODUCT}, {names.BASE_QUANTITY}, {names.BASE_UNIT} FROM {names.PURCHASES} "
        f"ORDER BY {names.SOURCE_ROW}"
    ).fetchall()
    assert [(q, u) for _p, q, u in rows] == [(pytest.approx(2.0), "lb"), (pytest.approx(0.5), "gal"), (30.0, "dozen")]


def test_cli_ingest_json_and_reload_names_the_batch(db_path, tmp_path, capsys):
    con = duckdb.connect(str(db_path))
    seed(con)
    con.close()
    path = tmp_path / "clean.csv"
    path.write_text(CLEAN, encoding="utf-8")
    argv = ["ingest", str(path), "--district", "D1", "--db", str(db_path), "--json"]
    assert cli.main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert first == {"batch_id": 1, "rows_loaded": 2, "rows_rejected": 0, "already_loaded_as": None, "warnings": 0}
    assert cli.main(argv) == 0
    second = json.loads(capsys.readouterr().out)
    assert second == {"batch_id": None, "rows_loaded": 0, "rows_rejected": 0, "already_loaded_as": 1, "warnings": 0}
    assert cli.main(["batches", "--db", str(db_path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(b["batch_id"], b["file_name"], b["rows_loaded"]) for b in listed] == [(1, "clean.csv", 2)]
    assert cli.main(["undo", "1", "--db", str(db_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"batch_id": 1, "rows_removed": 2}
    assert cli.main(["undo", "1", "--db", str(db_path), "--json"]) == 1
    assert "no batch with id 1" in capsys.readouterr().err


# --- skip-invalid ------------------------------------------------------------------------------
def test_skip_invalid_loads_valid_rows_and_keeps_rejects_with_reasons(store):
    result = pipeline.ingest_file(store, BROKEN / "text_in_numbers.csv", district_id="D1", skip_invalid=True)
    assert (result.rows_loaded, result.rows_rejected) == (1, 3)
    rejects = store.execute(
        f'SELECT {names.BATCH_ID}, "{names.ROW}", "{names.COLUMN}", {names.REASON}, {names.RAW} '
        f'FROM {names.REJECTS} ORDER BY "{names.ROW}"'
    ).fetchall()
    assert [(b, r, c, reason) for b, r, c, reason, _ in rejects] == [
        (result.batch_id, 3, "Qty", "not a number: 'two'"),
        (result.batch_id, 4, "Price", "not a number: '1.2.3'"),
        (result.batch_id, 5, "Ext Price", "not a number: 'n/a'"),
    ]
    assert json.loads(rejects[0][4])[names.QUANTITY] == "two"
    ((price,),) = store.execute(f"SELECT {names.EXTENDED_PRICE} FROM {names.PURCHASES}").fetchall()
    assert float(price) == pytest.approx(1234.50)  # "$1,234.50" is a number
    ((loaded, rejected),) = store.execute(
        f"SELECT {names.ROWS_LOADED}, {names.ROWS_REJECTED} FROM {names.BATCHES}"
    ).fetchall()
    assert (loaded, rejected) == (1, 3)
    assert batches.undo(store, result.batch_id) == 1
    assert store.execute(f"SELECT count(*) FROM {names.REJECTS}").fetchall() == [(0,)]


# --- atomicity --------------------------------------------------------------------------------
def test_failure_inside_the_transaction_leaves_the_database_as_it_was(store, tmp_path, monkeypatch):
    path = tmp_path / "clean.csv"
    path.write_text(CLEAN, encoding="utf-8")

    def boom(*_args, **_kwargs):
        raise RuntimeError("disk full")

    before = snapshot(store)
    monkeypatch.setattr(pipeline, "_duplicate_warnings", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        pipeline.ingest_file(store, path, district_id="D1")
    assert snapshot(store) == before
    monkeypatch.undo()
    assert pipeline.ingest_file(store, path, district_id="D1").rows_loaded == 2


def test_failed_write_in_a_later_chunk_leaves_the_database_unchanged(store, tmp_path, monkeypatch):
    path = tmp_path / "three.csv"
    path.write_text(
        HEADER + "".join(f"2024-09-0{d},Sysco,Carrots,{d},lb,1.00,{d}.00\n" for d in (1, 2, 3)), encoding="utf-8"
    )
    monkeypatch.setattr(readers, "CHUNK_ROWS", 1)  # one row per chunk: three inserts inside the open transaction
    monkeypatch.setattr(pipeline, "ROW_GROUP_ROWS", 1)
    calls = record_inserts(monkeypatch, "_insert_frame", fail_at=3)
    before = snapshot(store)
    with pytest.raises(OSError, match="disk full"):
        pipeline.ingest_file(store, path, district_id="D1")
    assert [frame.height for _, frame in calls] == [1, 1, 1]
    assert snapshot(store) == before
    assert pipeline.ingest_file(store, path, district_id="D1").rows_loaded == 3  # only the third insert ever fails


def test_chunks_past_the_in_memory_limit_load_through_spool_files_the_same(store, tmp_path, monkeypatch):
    """A big load's later chunks go through Parquet spool files: same lines and duplicate checks; failures roll back."""
    path = tmp_path / "five.csv"
    rows = [f"2024-09-0{d},Sysco,Carrots,{d},lb,1.00,{d}.00\n" for d in range(1, 6)]
    path.write_text(HEADER + "".join(rows) + rows[0], encoding="utf-8")  # row 7 repeats row 2
    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    monkeypatch.setattr(pipeline, "ROW_GROUP_ROWS", 1)
    lines = f"SELECT * EXCLUDE ({names.BATCH_ID}) FROM {names.PURCHASES} ORDER BY {names.SOURCE_ROW}"
    direct = pipeline.ingest_file(store, path, district_id="D1")
    expected = store.execute(lines).fetchall()
    other = db.connect(tmp_path / "other.duckdb")
    seed(other)
    monkeypatch.setattr(pipeline, "DIRECT_INSERT_ROWS", 2)  # only the first chunk from memory
    spooled = record_inserts(monkeypatch, "_insert_spooled", fail_at=2)
    before = snapshot(other)
    with pytest.raises(OSError, match="disk full"):
        pipeline.ingest_file(other, path, district_id="D1")
    assert snapshot(other) == before
    result = pipeline.ingest_file(other, path, district_id="D1")  # only the second spooled insert ever fails
    assert len(spooled) == 2 + 2  # the failed load's two spooled chunks, then this load's two
    assert other.execute(lines).fetchall() == expected
    assert [format_problem(p) for p in result.problems] == [format_problem(p) for p in direct.problems]
    assert [format_problem(p) for p in result.problems] == [
        "five.csv row 7 column (line): duplicates row 2 of this file"
    ]


def test_lines_are_inserted_in_whole_row_groups_and_the_rest_at_commit(store, tmp_path, monkeypatch):
    """Inserts are whole DuckDB row groups (part-filled ones get rewritten at the next checkpoint); same lines."""
    path = tmp_path / "seven.csv"
    path.write_text(
        HEADER + "".join(f"2024-09-0{d},Sysco,Carrots,{d},lb,1.00,{d}.00\n" for d in range(1, 8)), encoding="utf-8"
    )
    monkeypatch.setattr(readers, "CHUNK_ROWS", 3)
    monkeypatch.setattr(pipeline, "ROW_GROUP_ROWS", 2)
    calls = record_inserts(monkeypatch, "_insert_frame")

    def sizes() -> list[int]:
        return [frame.height for sql, frame in calls if sql.startswith(f"INSERT INTO {names.PURCHASE_LINES} ")]

    result = pipeline.ingest_file(store, path, district_id="D1")
    assert sizes() == [2, 4, 1]  # chunks of 3, 3, 1: 2 now (1 carried), 1 + 3 = 4 now, the last chunk whole
    assert result.rows_loaded == 7
    rows = store.execute(f"SELECT {names.SOURCE_ROW}, {names.QUANTITY} FROM {names.PURCHASES} ORDER BY 1").fetchall()
    assert rows == [(r, float(r - 1)) for r in range(2, 9)]
    five = tmp_path / "five.csv"
    five.write_text(HEADER + "".join(f"2024-09-1{d},Sysco,Beets,{d},lb,1.00,{d}.00\n" for d in range(1, 6)))
    calls.clear()
    pipeline.ingest_file(store, five, district_id="D1")
    assert sizes() == [2, 3]  # chunks of 3, 2: 2 now (1 carried), then the last chunk with the carried line: 3


def test_columns_with_one_value_are_bound_as_values_and_keys_still_match(store, tmp_path):
    """A district's file binds its district (and empty columns) as values; its line keys equal a mixed file's."""
    one = tmp_path / "one.csv"
    one.write_text(HEADER + "2024-09-03,Sysco,Carrots,4,lb,1.25,5.00\n2024-09-04,Sysco,Beets,2,lb,2.00,4.00\n")
    first = pipeline.ingest_file(store, one, district_id="D1")
    assert pipeline._constants(
        pl.DataFrame(
            {
                names.DISTRICT_ID: ["D1", "D1"],
                names.PERIOD_START: [None, None],
                names.PERIOD_END: [None, None],
                names.PRICE_FLAG: [False, True],
                names.ORIGIN_STATE: ["MN", None],
                names.ORIGIN_ZIP: [None, None],
            },
            schema_overrides={names.PERIOD_START: pl.Date, names.PERIOD_END: pl.Date, names.ORIGIN_ZIP: pl.String},
        )
    ) == {names.DISTRICT_ID: "D1", names.PERIOD_START: None, names.PERIOD_END: None, names.ORIGIN_ZIP: None}
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(
        "District,Date,Vendor,Item Description,Qty,UOM,Price,Ext Price\n"
        "D2,2024-09-05,Sysco,Onions,1,lb,1.00,1.00\n"
        "D1,2024-09-03,Sysco,Carrots,4,lb,1.25,5.00\n"
    )
    second = pipeline.ingest_file(store, mixed, district_id=None)
    assert [format_problem(p) for p in second.problems] == [
        f"mixed.csv row 3 column (line): same line already loaded in batch {first.batch_id}"
    ]
    recomputed = lines.key_sql()
    ((stale,),) = store.execute(
        f"SELECT count(*) FROM {names.PURCHASES} WHERE {names.LINE_KEY} <> {recomputed}"
    ).fetchall()
    assert stale == 0  # every stored key is the hash of the stored columns, bound or scanned


def test_a_big_file_is_spooled_from_its_first_line(store, tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_text(HEADER + "".join(f"2024-09-0{d},Sysco,Carrots,{d},lb,1.00,{d}.00\n" for d in range(1, 6)))
    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    monkeypatch.setattr(pipeline, "ROW_GROUP_ROWS", 1)
    monkeypatch.setattr(pipeline, "SPOOL_ALL_BYTES", path.stat().st_size - 1)  # "big": over the limit
    spooled = record_inserts(monkeypatch, "_insert_spooled")
    assert pipeline.ingest_file(store, path, district_id="D1").rows_loaded == 5
    assert len(spooled) == 3  # chunks of 2, 2, 1: every one through a spool file


def test_errors_in_a_later_chunk_refuse_the_whole_file_and_list_every_cell(store, tmp_path, monkeypatch):
    path = tmp_path / "late.csv"
    rows = [f"2024-09-0{d},Sysco,Carrots,{d},lb,1.00,{d}.00\n" for d in range(1, 6)]
    rows[3] = "2024-09-04,Sysco,Carrots,four,lb,1.00,4.00\n"
    rows[4] = "2024-09-05,Sysco,Carrots,5,lb,x,5.00\n"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    before = snapshot(store)
    with pytest.raises(ValidationError) as info:
        pipeline.ingest_file(store, path, district_id="D1")
    assert [format_problem(p) for p in info.value.problems] == [
        "late.csv row 5 column Qty: not a number: 'four'",
        "late.csv row 6 column Price: not a number: 'x'",
    ]
    assert snapshot(store) == before
    result = pipeline.ingest_file(store, path, district_id="D1", skip_invalid=True)
    assert (result.rows_loaded, result.rows_rejected) == (3, 2)
    rows_loaded = store.execute(f"SELECT {names.SOURCE_ROW} FROM {names.PURCHASES} ORDER BY 1").fetchall()
    assert rows_loaded == [(2,), (3,), (4,)]


def test_district_argument_conflicting_with_the_file_is_an_error(store, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("District," + HEADER + "D2,2024-09-03,Sysco,Carrots,10,lb,0.80,8.00\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        pipeline.ingest_file(store, path, district_id="D1")
    assert [format_problem(p) for p in info.value.problems] == [
        "d.csv row 2 column District: district 'D2' differs from --district D1"
    ]
    assert pipeline.ingest_file(store, path, district_id=None).rows_loaded == 1


def test_earliest_date_comes_from_settings(store, tmp_path):
    store.execute(f"INSERT INTO {names.SETTINGS} VALUES (?, ?)", [names.EARLIEST_INVOICE_DATE, "2024-07-01"])
    path = tmp_path / "old.csv"
    path.write_text(HEADER + "2024-06-30,Sysco,Carrots,10,lb,0.80,8.00\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        pipeline.ingest_file(store, path, district_id="D1")
    assert info.value.problems[0]["reason"] == (
        "date 2024-06-30 is before the earliest school year loaded (2024-07-01)"
    )


def test_missing_file_is_an_input_error(store, tmp_path):
    with pytest.raises(InputFileError, match="file not found"):
        pipeline.ingest_file(store, tmp_path / "nope.csv", district_id="D1")


# --- XLSX and Parquet ---------------------------------------------------------------------------
def _write_xlsx(path: Path, rows: list[list[object]], sheet: str = "Sheet1") -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    wb.save(path)


def test_xlsx_loads_with_excel_dates_and_numbers(store, tmp_path):
    from datetime import datetime

    path = tmp_path / "invoice.xlsx"
    _write_xlsx(
        path,
        [
            ["Invoice Date", "Supplier", "Description", "Quantity", "Unit", "Unit Price", "Extended", "Origin Zip"],
            [datetime(2024, 9, 3), "Green Acres Farm", "Squash, butternut", 12, "lb", 0.9, 10.8, 55102],
            [datetime(2024, 9, 10), "Green Acres Farm", "Squash, acorn", 6, "lb", 1.1, 6.6, "05501"],
        ],
    )
    result = pipeline.ingest_file(store, path, district_id="D2")
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
    result = pipeline.ingest_file(store, path, district_id="D1", sheet="Lines")
    assert result.rows_loaded == 1
    ((ext,),) = store.execute(f"SELECT {names.EXTENDED_PRICE} FROM {names.PURCHASES}").fetchall()
    assert float(ext) == pytest.approx(8.0)


def test_xlsx_formula_without_cached_value_is_a_row_error(store, tmp_path):
    path = tmp_path / "uncached.xlsx"
    # openpyxl writes formulas without cached values, as a file never opened in Excel has them
    _write_xlsx(
        path,
        [
            ["Date", "Vendor", "Item", "Qty", "UOM", "Price", "Ext Price"],
            ["2024-09-03", "Sysco", "Carrots", 10, "lb", 0.8, 8.0],
            ["2024-09-04", "Sysco", "Carrots", 10, "lb", 0.8, "=D3*F3"],
        ],
    )
    before = snapshot(store)
    with pytest.raises(ValidationError) as info:
        pipeline.ingest_file(store, path, district_id="D1")
    assert [format_problem(p) for p in info.value.problems] == [
        "uncached.xlsx row 3 column Ext Price: formula =D3*F3 has no cached value (open and save the file in Excel)"
    ]
    assert snapshot(store) == before
    result = pipeline.ingest_file(store, path, district_id="D1", skip_invalid=True)
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)


def test_xlsx_unknown_sheet_is_an_input_error(store, tmp_path):
    path = tmp_path / "one.xlsx"
    _write_xlsx(path, [["Date"], ["2024-09-03"]])
    with pytest.raises(InputFileError, match="no sheet named 'Lines'"):
        pipeline.ingest_file(store, path, district_id="D1", sheet="Lines")


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
    result = pipeline.ingest_file(store, path, district_id="D1")
    assert (result.rows_loaded, result.rows_rejected) == (2, 0)
    rows = store.execute(
        f"SELECT {names.VENDOR_TYPE}, {names.UNPROCESSED}, {names.UNPROCESSED_RULE}, {names.QUANTITY} "
        f"FROM {names.PURCHASES} ORDER BY {names.SOURCE_ROW}"
    ).fetchall()
    assert rows == [("producer", True, "file", 30.0), ("broadline_distributor", False, "file", 4.0)]


# --- mappings ---------------------------------------------------------------------------------
def test_saved_mapping_is_reused_by_name(store, tmp_path):
    odd = "When,Who,What,How Many,Measure,Each,Line $\n2024-09-03,Sysco,Carrots,10,lb,0.80,8.00\n"
    path = tmp_path / "odd.csv"
    path.write_text(odd, encoding="utf-8")
    with pytest.raises(ValidationError):
        pipeline.ingest_file(store, path, district_id="D1")
    readers.save_mapping(
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
    result = pipeline.ingest_file(store, path, district_id="D1", mapping="odd-export")
    assert result.rows_loaded == 1
    with pytest.raises(InputFileError, match="no saved mapping named 'nope'"):
        pipeline.ingest_file(store, tmp_path / "odd.csv", district_id="D1", mapping="nope")


def test_save_mapping_on_successful_ingest(store, tmp_path):
    path = tmp_path / "clean.csv"
    path.write_text(CLEAN, encoding="utf-8")
    pipeline.ingest_file(store, path, district_id="D1", save_mapping="greenacres")
    assert readers.load_mapping(store, "greenacres")["Ext Price"] == names.EXTENDED_PRICE


# --- load_frame (the path the usage report and the sample co-op use) --------------------------------
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
    pipeline.ingest_file(store, path, district_id="D1", progress=lambda f, _msg: seen.append(f))
    assert seen[0] == 0.0
    assert seen[-1] == 1.0
    assert seen == sorted(seen)


# --- a 50 MB file ------------------------------------------------------------------------------
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
    result = pipeline.ingest_file(store, path, district_id="D1")
    assert result.rows_loaded == n
    assert result.rows_rejected == 0
    ((total,),) = store.execute(f"SELECT sum({names.EXTENDED_PRICE}) FROM {names.PURCHASES}").fetchall()
    assert float(total) == pytest.approx(frame["Ext Price"].sum(), abs=0.01)
