"""The hostile-file corpus (issue 18): each file a hostile or unlucky user might load, with the exact error it gives.

Every refused file leaves the database exactly as it was: every table's rows are hashed before and after
(`fingerprint`). Large and binary files are generated here; nothing big is committed.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import time
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import psutil
import pytest
from fixtures_ingest import HEADER, purchase_count

from coop import names
from coop.errors import DatabaseError, InputFileError, ValidationError
from coop.ingest import ingest_file, readers, sink, validate


def fingerprint(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str]]:
    """Row count and a hash of every row of every table in the database, and the sequences' values."""
    tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
    out = {}
    for table in tables:
        ((count, digest),) = con.execute(
            f"SELECT count(*), md5(coalesce(string_agg(CAST(t AS VARCHAR), '|' ORDER BY CAST(t AS VARCHAR)), '')) "
            f"FROM {table} t"
        ).fetchall()
        out[table] = (count, digest)
    return out


def refused(store: duckdb.DuckDBPyConnection, path: Path, error: type[Exception], **kwargs: object) -> Exception:
    """Load `path`, expecting `error`; assert the database is unchanged; return the error."""
    before = fingerprint(store)
    with pytest.raises(error) as caught:
        ingest_file(store, path, **({"district_id": "D1"} | kwargs))
    assert fingerprint(store) == before
    return caught.value


def problems(exc: Exception) -> list[tuple[int, str, str]]:
    """(row, column, reason) of each problem a ValidationError carries."""
    assert isinstance(exc, ValidationError)
    return [(p.row, p.column, p.reason) for p in exc.problems]


def line(
    date: str = "2024-09-03",
    vendor: str = "Sysco",
    item: str = "Carrots",
    qty: str = "1",
    price: str = "1.00",
    ext: str = "1.00",
) -> str:
    """One CSV line in HEADER's columns."""
    return f"{date},{vendor},{item},{qty},lb,{price},{ext}\n"


# --- files that are not what their name says ---------------------------------------------------------
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8


def zipped() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lines.csv", HEADER + line())
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("image.csv", PNG, "image.csv: not a CSV text file: it is a PNG image"),
        ("archive.csv", zipped(), "archive.csv: not a CSV text file: it is a ZIP archive"),
        ("random.csv", bytes(range(256)) * 64, "random.csv: not a CSV text file: it is binary data, not text"),
        ("image.parquet", PNG, "image.parquet: not a Parquet file: it is a PNG image"),
        ("image.xlsx", PNG, "image.xlsx: not an XLSX workbook (a ZIP archive): it is a PNG image"),
    ],
)
def test_a_binary_file_is_refused_by_what_it_is(store, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    assert str(refused(store, path, InputFileError)).startswith(message)


def test_a_folder_named_like_a_csv_is_refused(store, tmp_path):
    (tmp_path / "x.csv").mkdir()
    assert str(refused(store, tmp_path / "x.csv", InputFileError)) == "x.csv: is a folder, not a file"


# --- encodings and line ends -------------------------------------------------------------------------
def test_latin1_bytes_cp1252_cannot_decode_refuse_their_cell(store, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + line(vendor="Caf\xe9 \x81Farm")).encode("latin-1"))
    found = problems(refused(store, path, ValidationError))
    assert (2, "Vendor", "holds a control character (e.g. NUL) at position 6") in found


def test_cp1252_text_is_read_as_cp1252(store, tmp_path):
    path = tmp_path / "cp1252.csv"
    path.write_bytes((HEADER + line(item="Crème fraîche – “organic”")).encode("cp1252"))
    assert ingest_file(store, path, district_id="D1").rows_loaded == 1
    ((text,),) = store.execute(f"SELECT description FROM {names.PURCHASES}").fetchall()
    assert text == "Crème fraîche – “organic”"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_utf16_unicode_text_from_excel_is_read(store, tmp_path, encoding):
    # Excel's "Unicode Text": UTF-16 with a byte-order mark, tab-separated (utf-16-le/-be: no mark)
    text = (HEADER + line(vendor="Green Acres Farm", item="Épinards")).replace(",", "\t")
    path = tmp_path / "unicode.txt"
    path.write_bytes(text.encode(encoding))
    assert ingest_file(store, path, district_id="D1").rows_loaded == 1
    ((vendor, item),) = store.execute(f"SELECT vendor_name, description FROM {names.PURCHASES}").fetchall()
    assert (vendor, item) == ("Green Acres Farm", "Épinards")


def test_lone_cr_line_ends_are_lines(store, tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes((HEADER + line() + line(item="Peas")).replace("\n", "\r").encode())
    assert ingest_file(store, path, district_id="D1").rows_loaded == 2


# --- cells -------------------------------------------------------------------------------------------
def test_a_1mb_cell_is_refused_by_row_and_column(store, tmp_path):
    path = tmp_path / "big.csv"
    path.write_text(HEADER + line() + line(item="x" * 1_048_576), encoding="utf-8")
    assert problems(refused(store, path, ValidationError)) == [
        (3, "Item Description", "cell holds 1048576 characters, more than 32767 (Excel's limit for one cell)")
    ]


def test_nul_bytes_refuse_their_cells_and_are_never_stored(store, tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes((HEADER + line(item="Car\x00rots")).encode())
    assert problems(refused(store, path, ValidationError)) == [
        (2, "Item Description", "holds a control character (e.g. NUL) at position 4")
    ]


def test_extended_price_of_1e16_is_a_row_problem_not_an_aborted_transaction(store, tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text(HEADER + line(price="1e16", ext="1e16") + line(item="Peas"), encoding="utf-8")
    assert problems(refused(store, path, ValidationError)) == [
        (2, "Price", "unit_price 1e+16 is out of range (at most 1,000,000,000,000 in size)"),
        (2, "Ext Price", "extended_price 1e+16 is out of range (at most 1,000,000,000,000 in size)"),
    ]
    result = ingest_file(store, path, district_id="D1", skip_invalid=True)  # the valid row still loads
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)


def test_a_fill_out_of_range_is_refused(store, tmp_path):
    path = tmp_path / "tiny-qty.csv"
    path.write_text(HEADER + line(qty="0.0001", price="", ext="900000000"), encoding="utf-8")
    found = problems(refused(store, path, ValidationError))
    assert found == [
        (2, "Price", "unit_price filled from extended_price / quantity 9000000000000.0 is out of range (at most "
         "1,000,000,000,000 in size)"),
    ]  # fmt: skip


def test_a_blank_unit_price_is_never_filled_negative(store, tmp_path):
    path = tmp_path / "neg.csv"
    path.write_text(HEADER + line(price="", ext="-1.50"), encoding="utf-8")
    found = problems(refused(store, path, ValidationError))
    reason = "unit_price is empty and extended_price -1.50 / quantity 1 is negative: a unit price is >= 0"
    assert (2, "Price", reason) in found


# --- dates -------------------------------------------------------------------------------------------
def test_two_digit_years_and_time_parts(store, tmp_path):
    path = tmp_path / "dates.csv"
    path.write_text(HEADER + line(date="9/3/24") + line(date="9/4/2024 0:00", item="Peas"), encoding="utf-8")
    assert ingest_file(store, path, district_id="D1").rows_loaded == 2
    days = store.execute(f"SELECT invoice_date::VARCHAR FROM {names.PURCHASES} ORDER BY 1").fetchall()
    assert days == [("2024-09-03",), ("2024-09-04",)]


def test_an_impossible_date_names_row_and_column(store, tmp_path):
    path = tmp_path / "feb30.csv"
    path.write_text(HEADER + line(date="2/30/2024"), encoding="utf-8")
    assert problems(refused(store, path, ValidationError)) == [
        (2, "Date", "not a date: '2/30/2024' (use YYYY-MM-DD or M/D/YYYY)")
    ]


def test_an_impossible_period_date_in_a_usage_report_is_named(store, tmp_path):
    path = tmp_path / "usage.csv"
    path.write_text(
        "Broadline Foods Inc.\nDistrict Usage by Item\nStart Date: 02/30/2021  End Date: 12/31/2021\n\n"
        "Item,Description,Pack Size,UOM,Quantity,Total Amt Invoiced\nNORTH VALLEY USD (9001)\n"
        "A1,APPLES FRESH,,LB,40,36.00\n",
        encoding="utf-8",
    )
    error = refused(store, path, InputFileError, vendor_name="Broadline Foods", vendor_type="broadline_distributor")
    assert str(error) == "usage.csv row 3: period date '02/30/2021' is not a real date (M/D/YYYY or YYYY-MM-DD)"


# --- Parquet ---------------------------------------------------------------------------------------------
def parquet_lines(rows: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "Date": ["2024-09-03"] * rows,
            "Vendor": ["Sysco"] * rows,
            "Item Description": [f"Carrots {i}" for i in range(rows)],
            "Qty": [float(i + 1) for i in range(rows)],
            "UOM": ["lb"] * rows,
            "Price": [1.0] * rows,
            "Ext Price": [float(i + 1) for i in range(rows)],
        }
    )


def test_a_parquet_list_column_is_refused_by_name(store, tmp_path):
    path = tmp_path / "nested.parquet"
    parquet_lines(1).with_columns(pl.Series("Qty", [[1, 2]])).write_parquet(path)
    assert str(refused(store, path, InputFileError)) == (
        "nested.parquet: column(s) 'Qty' hold nested values (lists or structs); "
        "a purchase line holds one value per cell"
    )


def test_a_corrupt_parquet_page_is_named(store, tmp_path):
    good = tmp_path / "good.parquet"
    parquet_lines(2000).write_parquet(good, compression="uncompressed", statistics=False)
    data = bytearray(good.read_bytes())
    data[100:4000] = b"\xff" * 3900  # the first data pages, after the 'PAR1' magic
    path = tmp_path / "corrupt.parquet"
    path.write_bytes(bytes(data))
    assert str(refused(store, path, InputFileError)).startswith("corrupt.parquet: cannot read as Parquet: ")


# --- XLSX ------------------------------------------------------------------------------------------------
def test_a_hidden_first_sheet_is_skipped_for_the_first_visible_one(store, tmp_path):
    book = openpyxl.Workbook()
    hidden = book.active
    hidden.title = "lookup"
    hidden.sheet_state = "hidden"
    hidden.append(HEADER.strip().split(","))
    hidden.append(["2024-09-03", "Sysco", "HIDDEN ROW", 1, "lb", 1, 1])
    visible = book.create_sheet("lines")
    visible.append(HEADER.strip().split(","))
    visible.append(["2024-09-03", "Sysco", "Carrots", 2, "lb", 1, 2])
    path = tmp_path / "hidden.xlsx"
    book.save(path)
    assert ingest_file(store, path, district_id="D1").rows_loaded == 1
    assert store.execute(f"SELECT description FROM {names.PURCHASES}").fetchall() == [("Carrots",)]


def zip_bomb(path: Path, megabytes: int) -> Path:
    """An XLSX whose sheet expands `megabytes` MB (about 1000:1), written in 1 MB pieces."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            block = b"<c>0</c>" * (1 << 17)
            for _ in range(megabytes):
                sheet.write(block)
    return path


def test_a_zip_bomb_is_refused_in_under_a_second_without_reading_it(store, tmp_path):
    path = zip_bomb(tmp_path / "bomb.xlsx", 200)  # 200 MB in about 300 KB
    assert path.stat().st_size < 400_000
    process = psutil.Process()
    rss = process.memory_info().rss
    started = time.perf_counter()
    error = refused(store, path, InputFileError)
    assert time.perf_counter() - started < 1.0
    assert process.memory_info().rss - rss < 300 * 1024**2
    assert "refused as a zip bomb" in str(error) and "xl/worksheets/sheet1.xml" in str(error)


def test_a_workbook_declaring_too_much_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_ARCHIVE_BYTES", 1000)
    path = tmp_path / "big.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(InputFileError, match=r"declares .* MiB uncompressed, more than the"):
        readers.check_archive(path)


# --- names that differ only in spelling --------------------------------------------------------------
def test_one_vendor_spelled_five_ways_is_one_vendor(store, tmp_path):
    spellings = ["Green Acres Farm", "Green  Acres Farm", "GREEN ACRES FARM", "Green\tAcres Farm",
                 "Green Acres\u200b Farm", "Ｇreen Acres Farm"]  # fmt: skip
    path = tmp_path / "spellings.csv"
    text = HEADER + "".join(line(vendor=f'"{v}"', item=f"Apples {i}") for i, v in enumerate(spellings))
    path.write_text(text, encoding="utf-8")
    assert ingest_file(store, path, district_id="D1").rows_loaded == 6
    rows = store.execute(
        f"SELECT vendor_name, vendor_type, origin_state, count(*) FROM {names.PURCHASES} GROUP BY ALL"
    ).fetchall()
    assert rows == [("Green Acres Farm", "producer", "MN", 6)]


# --- faults during a load ----------------------------------------------------------------------------
def test_disk_full_during_a_load_is_named_and_loses_nothing(store, tmp_path, monkeypatch):
    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(sink, "_insert_frame", full)
    path = tmp_path / "lines.csv"
    path.write_text(HEADER + line(), encoding="utf-8")
    error = refused(store, path, DatabaseError)
    assert str(error) == "lines.csv: cannot store the load: disk full; nothing loaded"
    assert purchase_count(store) == 0


# --- never a traceback: random bytes, Unicode and numbers in any cell --------------------------------
def test_random_cells_never_raise_anything_but_a_coop_error(store, tmp_path):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from coop.errors import CoopError

    cell = st.one_of(
        st.text(max_size=40),
        st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
    )
    counter = iter(range(10**6))

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.lists(cell, min_size=7, max_size=7), min_size=1, max_size=3))
    def check(rows: list[list[str]]) -> None:
        path = tmp_path / f"random-{next(counter)}.csv"
        import csv

        with path.open("w", encoding="utf-8", errors="surrogatepass", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(HEADER.strip().split(","))
            writer.writerows(rows)
        with contextlib.suppress(CoopError):  # a named refusal is fine; anything else fails the test
            ingest_file(store, path, district_id="D1", skip_invalid=True)

    check()


def test_the_control_character_rule_covers_every_text_column():
    assert set(validate._TEXT_COLUMNS) <= set(validate._rules(_checks()).keys())


def _checks() -> validate.Checks:
    from datetime import date

    return validate.Checks("f.csv", None, pl.Series([], dtype=pl.String), date.today(), date(2000, 7, 1), {})


def test_a_refused_load_saves_no_mapping(store, tmp_path):
    from coop.ingest.mapping import list_mappings

    path = tmp_path / "bad.csv"
    path.write_text(HEADER + line(qty="two"), encoding="utf-8")
    refused(store, path, ValidationError, mapping_overrides={"Qty": names.QUANTITY}, save_mapping="farm")
    assert list_mappings(store) == []
    good = tmp_path / "good.csv"
    good.write_text(HEADER + line(), encoding="utf-8")
    ingest_file(store, good, district_id="D1", mapping_overrides={"Qty": names.QUANTITY}, save_mapping="farm")
    assert list_mappings(store) == ["farm"]


FSIZE_LOAD = """
import resource, sys
from coop import cli
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
sys.exit(cli.main(["ingest", sys.argv[2], "--district", "D1", "--db", sys.argv[3]]))
"""


def test_a_file_size_limit_during_a_load_is_named_and_loses_nothing(store, db_path, tmp_path):
    import subprocess
    import sys

    path = tmp_path / "many.csv"
    path.write_text(HEADER + "".join(line(item=f"Item {i}", qty=str(i + 1)) for i in range(30_000)), encoding="utf-8")
    store.execute("CHECKPOINT")
    before = fingerprint(store)
    store.close()
    limit = db_path.stat().st_size + 64 * 1024  # the database file may hardly grow
    done = subprocess.run(
        [sys.executable, "-c", FSIZE_LOAD, str(limit), str(path), str(db_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode in (1, 2), done.stderr
    assert "Traceback" not in done.stderr
    assert "file too large" in done.stderr or "File too large" in done.stderr, done.stderr
    con = duckdb.connect(str(db_path))
    try:
        assert fingerprint(con) == before
    finally:
        con.close()
