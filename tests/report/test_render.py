"""coop.report.render with hostile text (issue 18): a workbook and a CSV from names full of = + - @ hold no formula."""

from __future__ import annotations

import csv
import io

import duckdb
import openpyxl
import polars as pl
import pytest

from coop import names
from coop.ingest import ingest_file
from coop.report import build, render

HOSTILE = (
    '=HYPERLINK("http://127.0.0.1:9/?"&A1,"click")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "=cmd|' /C calc'!A0",
)


@pytest.fixture
def hostile_db(con: duckdb.DuckDBPyConnection, tmp_path) -> duckdb.DuckDBPyConnection:
    """Districts and vendors named like formulas, with a month of lines each."""
    for i, name in enumerate(HOSTILE):
        con.execute(
            f"INSERT INTO {names.DISTRICTS} (district_id, name, state, zip) VALUES (?, ?, 'MN', '55101')",
            [name if i % 2 else f"D{i}", name],
        )
    rows = [
        "district_id,invoice_date,vendor_name,vendor_type,product,quantity,unit,unit_price,extended_price,origin_state"
    ]
    ids = [name if i % 2 else f"D{i}" for i, name in enumerate(HOSTILE)]
    for district, vendor in zip(ids, HOSTILE, strict=True):
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(
            [district, "2024-09-03", vendor, "producer", "Apples", 2, "lb", 1, 2, "MN"]
        )
        rows.append(out.getvalue())
    path = tmp_path / "hostile.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert ingest_file(con, path).rows_loaded == len(HOSTILE)
    return con


def test_the_packet_workbook_holds_no_formula_and_keeps_the_text(hostile_db, tmp_path):
    packet = build.build(hostile_db, "2024-09", include_savings=False)
    path = tmp_path / "packet.xlsx"
    path.write_bytes(render.to_xlsx(packet))
    book = openpyxl.load_workbook(path)  # not read-only: formulas would show as data_type 'f'
    texts = set()
    cells = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                cells += 1
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                assert cell.hyperlink is None, f"{sheet.title}!{cell.coordinate} is a link"
                if isinstance(cell.value, str):
                    texts.add(cell.value)
    assert cells > 50
    assert {HOSTILE[1], HOSTILE[3], HOSTILE[5]} <= texts  # district ids kept as text, exactly
    assert HOSTILE[0] in texts and "=1+1" in texts  # vendor names too (stored with white space trimmed)


def test_the_packet_html_escapes_every_name(hostile_db):
    hostile_db.execute(
        f"UPDATE {names.DISTRICTS} SET district_id = '<img src=x onerror=alert(1)>', name = '<b>D0</b>' "
        "WHERE district_id = 'D0'"
    )
    packet = build.build(hostile_db, "2024-09", include_savings=False)
    page = render.to_html(packet)
    assert "<img src=x" not in page and "<b>D0" not in page
    assert "&lt;b&gt;D0&lt;/b&gt;" in page  # the packet names districts; the name is text


def test_a_csv_download_neutralises_every_formula_start():
    frame = pl.DataFrame({"name": [*HOSTILE, "\rcarriage", "plain", None], "n": list(range(len(HOSTILE) + 3))})
    cells = list(csv.reader(io.StringIO(render.csv_bytes(frame).decode("utf-8"))))
    header, *rows = cells
    assert header == ["name", "n"]
    for text, _ in rows:
        assert not text.startswith(render.FORMULA_STARTS), text
    assert [text for text, _ in rows[:2]] == ["'" + HOSTILE[0], "'+1+1"]
    assert rows[-2][0] == "plain"


def test_spreadsheet_safe_leaves_ordinary_text_alone():
    assert render.spreadsheet_safe("Apples, Gala") == "Apples, Gala"
    assert render.spreadsheet_safe("=1") == "'=1"
    assert render.spreadsheet_safe(None) is None
