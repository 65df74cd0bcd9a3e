"""Shared helpers of the coop.ingest tests: the broken-file corpus, seed data, table snapshots, insert recording."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import openpyxl

from coop import names
from coop.ingest import sink

BROKEN = Path(__file__).resolve().parent / "data" / "broken"
TABLES = (
    names.BATCHES,
    names.PURCHASES,
    names.REJECTS,
    names.MAPPINGS,
    names.DISTRICTS,
    names.VENDORS,
    names.SETTINGS,
    names.BATCH_REGISTRATIONS,
)
HEADER = "Date,Vendor,Item Description,Qty,UOM,Price,Ext Price\n"
CLEAN = (
    HEADER + '2024-09-03,Green Acres Farm,"Apples, Gala, 88ct",40,lb,1.25,50.00\n'
    "9/4/2024,Sysco,Carrots,10,lb,0.80,8.00\n"
)


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
    """Wrap `coop.ingest.sink.<name>(cur, sql, source, params)`: (sql, source) per call; call `fail_at` raises."""
    calls: list[tuple[str, Any]] = []
    real = getattr(sink, name)

    def recorded(cur, sql, source, params):
        calls.append((sql, source))
        if len(calls) == fail_at:
            raise OSError("disk full")
        real(cur, sql, source, params)

    monkeypatch.setattr(sink, name, recorded)
    return calls


def purchase_count(con: duckdb.DuckDBPyConnection) -> int:
    ((n,),) = con.execute(f"SELECT count(*) FROM {names.PURCHASES}").fetchall()
    return int(n)


def write_xlsx(path: Path, rows: list[list[object]], sheet: str = "Sheet1") -> None:
    """An XLSX file of `rows` on one sheet (openpyxl: formulas without cached values)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    wb.save(path)


REPORT_HEADER = "Item No,Description,Brand,Pack Size,UOM,Quantity,Total Amt Invoiced,Avg Price"


def write_usage_csv(path: Path, blocks: int, lines_per_block: int, *, dod_every: int = 0) -> Path:
    """A distributor usage report as CSV: title, period, header, `blocks` district blocks of item lines.

    Block k is `DISTRICT k USD (5000+k)`; every `dod_every`-th line (0: none) is a DoD Fresh line as the real
    report marks it (brand 'DOD FRESH PRODUCE', description 'DOD ...', $3.00 a case).
    """
    rows = [
        "Start Date.... 07/01/2021 End Date...... 06/30/2022,,,,,,,",
        "400100 - District Usage by Item,,,,,,,",
        REPORT_HEADER,
    ]
    for k in range(1, blocks + 1):
        rows.append(f"DISTRICT {k} USD ({5000 + k}),,,,,,,")
        for i in range(lines_per_block):
            if dod_every and i % dod_every == dod_every - 1:
                rows.append(f"8{i:05d},DOD APPLES GALA 125CT {i},DOD FRESH PRODUCE,40LB,CS,4,12.00,3.00")
            else:
                qty = 1 + i % 7
                rows.append(f"4{i:05d},CRUMBLES BEEF {i},ACME,8/5LB,CS,{qty},{qty * 37.57:.2f},37.57")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path
