"""Real-shaped distributor usage reports whose lines carry a period, not a date (built in a test's tmp_path)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import openpyxl

from coop import names
from coop.ingest import ingest_file

HEADER = ["Avg Price", "Description", "Item No", "Brand", "UOM", "Pack Size", "Total Amt Invoiced", "Quantity"]
BROADLINE = "broadline_distributor"
# (description, UOM, pack, quantity, total): $365.00 and $1,000.00 over the period; apples 400 lb
LINES = (("APPLES FRESH", "LB", "", 400, 365.00), ("PEACHES DICED", "CS", "6/#10", 25, 1000.00))


def write_period_report(
    path: Path,
    start: date,
    end: date,
    lines: tuple[tuple[str, str, str, float, float], ...] = LINES,
    bill_to: str = "7777",
    block: str = "VALLEY SCHOOLS",
) -> Path:
    """A one-block "District Usage by Item" report for `start`..`end`: a title, the period, header, block, items."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Broadline Foods Inc."])
    ws.append([f"Start Date: {start:%m/%d/%Y}  End Date: {end:%m/%d/%Y}  Bill-To: {bill_to}"])
    ws.append(HEADER)
    ws.append([f"{block} ({bill_to})"])
    for k, (desc, uom, pack, qty, total) in enumerate(lines):
        ws.append([round(total / qty, 4), desc, f"A{k}", "ACME", uom, pack, total, qty])
    wb.save(path)
    return path


def load_period_report(
    con: duckdb.DuckDBPyConnection, path: Path, district_id: str = "valley", bill_to: str = "7777"
) -> int:
    """Register the district (by bill-to id) if needed and load the report; the batch id."""
    con.execute(
        f"INSERT OR IGNORE INTO {names.DISTRICTS} ({names.DISTRICT_ID}, {names.NAME}, {names.STATE}, {names.ZIP}, "
        f"{names.BILL_TO_ID}) VALUES (?, 'Valley Schools', 'CA', '91801', ?)",
        [district_id, bill_to],
    )
    result = ingest_file(con, path, vendor_name="Broadline Foods", vendor_type=BROADLINE)
    assert result.rows_rejected == 0
    return result.batch_id
