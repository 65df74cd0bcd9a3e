"""coop.rules.procurement: quotes, method by the thresholds in force, completeness, award, worksheets, links."""

from __future__ import annotations

import json

import openpyxl
import pytest

from coop import cli, names
from coop.errors import ValidationError
from coop.ingest import ingest_file
from coop.rules import procurement

HEADER = ("procurement_id,district_id,date,item,specification,quantity,unit,estimated_value,vendor_name,"
          "vendor_address,meets_specs,meets_delivery,quote,accepted,reason\n")  # fmt: skip
QUOTES = HEADER + (
    # $5,200 on 2025-11-03: micro-purchase threshold $15,000 then; one quote, price documented -> complete
    'P-MICRO,D1,2025-11-03,apples,Gala 88ct Grade #1,40,cs,5200,Hilltop Orchard,"1 Orchard Rd, La Crescent MN",'
    "yes,yes,5200,yes,\n"
    # $14,000 on 2025-09-15: micro limit then $10,000 -> small; only one quote and no reason -> incomplete
    "P-SMALL-1,D1,2025-09-15,potatoes,Russet 50 lb,300,cs,14000,Straight River Farm,Faribault MN,yes,yes,13900,"
    "yes,\n"
    # $30,000: small; two quotes, the lowest responsive one accepted; why not three is recorded -> complete
    "P-SMALL-2,D1,2025-12-01,ground beef,85/15 fresh 10 lb chubs,900,lb,30000,Cedar River Beef,Waverly IA,yes,yes,"
    "29500,yes,\n"
    "P-SMALL-2,D1,2025-12-01,ground beef,85/15 fresh 10 lb chubs,900,lb,30000,Heartland Meats,Ames IA,yes,yes,"
    "31200,no,only two local beef processors within 150 miles\n"
)


@pytest.fixture
def seeded(con):
    con.execute(
        f"INSERT INTO {names.DISTRICTS} (district_id, name, state, zip) VALUES ('D1', 'Lakeview', 'MN', '55101')"
    )
    return con


def checked(seeded, tmp_path, text=QUOTES):
    path = tmp_path / "quotes.csv"
    path.write_text(text, encoding="utf-8")
    return {p.procurement_id: p for p in procurement.records_from_db(seeded, procurement.read_quotes(path, ["D1"]))}


def test_a_5200_micro_purchase_with_one_quote_is_complete(seeded, tmp_path):
    p = checked(seeded, tmp_path)["P-MICRO"]
    assert (p.method, p.micro_threshold, p.quotes.height, p.complete, p.problems) == ("micro", 15_000.0, 1, True, ())
    assert p.award == {"vendor_name": "Hilltop Orchard", "quote": 5200.0, "lowest_responsive": True, "reason": None}
    assert p.worksheet == procurement.MICRO_WORKSHEET


def test_a_14000_purchase_before_1_october_2025_is_small_and_one_quote_is_incomplete(seeded, tmp_path):
    p = checked(seeded, tmp_path)["P-SMALL-1"]
    assert (p.method, p.micro_threshold) == ("small", 10_000.0)  # the federal $10,000 in force until 2025-10-01
    assert not p.complete
    assert p.problems == (
        "a small purchase needs at least 2 quotes (3 recommended); 1 recorded",
        "fewer than 3 quotes and no reason recorded why more vendors could not be found",
    )
    assert p.worksheet == procurement.SMALL_WORKSHEET


def test_a_30000_purchase_with_two_quotes_is_awarded_to_the_lowest_responsive_one(seeded, tmp_path):
    p = checked(seeded, tmp_path)["P-SMALL-2"]
    assert (p.method, p.quotes.height, p.complete, p.problems) == ("small", 2, True, ())
    assert p.award == {"vendor_name": "Cedar River Beef", "quote": 29500.0, "lowest_responsive": True, "reason": None}


def test_award_to_a_dearer_quote_needs_a_reason_and_blank_answers_are_named(seeded, tmp_path):
    text = HEADER + (
        "P3,D1,2025-12-01,carrots,fresh,10,cs,20000,Farm A,,yes,yes,19000,no,\n"
        "P3,D1,2025-12-01,carrots,fresh,10,cs,20000,Farm B,,yes,,19500,yes,\n"
        "P3,D1,2025-12-01,carrots,fresh,10,cs,20000,Farm C,,no,yes,,no,\n"
    )
    p = checked(seeded, tmp_path, text)["P3"]
    assert p.problems == (
        "fewer than 3 quotes and no reason recorded why more vendors could not be found",  # Farm C gave no price
        "row 3 (Farm B): whether it meets the delivery requirements is not recorded",
        "row 4 (Farm C): no quote (price) recorded",
        "the award to row 3 (Farm B) does not meet the specifications or delivery requirements (or has no price)",
    )
    text = text.replace("Farm B,,yes,,19500,yes,", "Farm B,,yes,yes,19500,yes,")
    (problem,) = checked(seeded, tmp_path, text)["P3"].problems[-1:]
    assert problem == (
        "the award to row 3 (Farm B) at $19,500.00 is not the lowest responsive quote (Farm A at $19,000.00) "
        "and no reason is recorded"
    )


def test_a_district_threshold_below_the_federal_one_decides_first(seeded, tmp_path):
    seeded.execute(f"UPDATE {names.DISTRICTS} SET {names.MICRO_PURCHASE_THRESHOLD} = 5000")
    p = checked(seeded, tmp_path)["P-MICRO"]
    assert (p.method, p.micro_threshold) == ("small", 5000.0)
    assert "district procurement plan" in p.threshold_source


def test_a_formal_procurement_is_flagged_as_beyond_the_worksheets(seeded, tmp_path):
    text = HEADER + "P9,D1,2025-12-01,milk,1% half pints,1,yr,400000,Cloverleaf Dairy,,yes,yes,399000,yes,\n"
    p = checked(seeded, tmp_path, text)["P9"]
    assert p.method == "formal" and p.worksheet is None
    assert p.problems[0].startswith("estimated value $400,000.00 exceeds the small-purchase threshold $350,000.00")


def test_bad_cells_are_named_and_a_procurement_must_agree_with_itself(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER
        + "P1,D1,2025-13-01,apples,,1,cs,abc,Farm,,maybe,yes,10,yes,\n"
        + "P2,D1,2025-12-01,pears,,1,cs,900,Farm,,yes,yes,10,yes,\n"
        + "P2,D9,2025-12-01,pears,,1,cs,950,Farm B,,yes,yes,12,no,\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as caught:
        procurement.read_quotes(path, ["D1"])
    assert [(p.row, p.column, p.reason) for p in caught.value.problems] == [
        (2, "date", "not a date: '2025-13-01' (use YYYY-MM-DD or M/D/YYYY)"),
        (2, "estimated_value", "not a number: 'abc'"),
        (2, "meets_specs", "expected yes/no, true/false, y/n or 1/0, got 'maybe'"),
        (4, "district_id", "unknown district 'D9' (register it with `python -m coop districts FILE`)"),
        (4, "district_id", "differs from row 3 of procurement 'P2' (D1)"),
        (4, "estimated_value", "differs from row 3 of procurement 'P2' (900)"),
    ]


def test_cli_worksheet_writes_files_that_open_and_links_the_purchases(seeded, db_path, tmp_path, capsys):
    seeded.execute(f"INSERT INTO {names.VENDORS} VALUES ('Cedar River Beef', 'producer', 'IA', '50677')")
    lines = tmp_path / "lines.csv"
    lines.write_text(
        "Date,Vendor,Item Description,Qty,UOM,Price,Ext Price\n"
        "2025-12-10,Cedar River Beef,Ground beef 85/15,300,lb,3.30,990.00\n"
        "2026-01-14,Cedar River Beef,Ground beef 85/15,200,lb,3.30,660.00\n"
        "2026-01-14,Cedar River Beef,Pork loin,50,lb,3.10,155.00\n",  # another item: not covered
        encoding="utf-8",
    )
    ingest_file(seeded, lines, district_id="D1")
    seeded.close()
    quotes = tmp_path / "quotes.csv"
    quotes.write_text(QUOTES.replace("P-MICRO", "P/MICRO <1>"), encoding="utf-8")
    out = tmp_path / "worksheets"
    assert cli.main(["worksheet", str(quotes), "--out", str(out), "--db", str(db_path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    found = {p["procurement_id"]: p for p in doc["procurements"]}
    assert {k: (v["method"], v["quotes"], v["complete"]) for k, v in found.items()} == {
        "P/MICRO <1>": ("micro", 1, True),
        "P-SMALL-1": ("small", 1, False),
        "P-SMALL-2": ("small", 2, True),
    }
    assert found["P-SMALL-2"]["award"]["vendor_name"] == "Cedar River Beef"
    assert (found["P-SMALL-2"]["linked_spend"], found["P-SMALL-2"]["linked_lines"]) == (1650.0, 2)
    # the files open: the XLSX with openpyxl, the HTML as text with the procurement's values, escaped
    micro = found["P/MICRO <1>"]["files"]
    assert micro["html"].endswith("worksheet-P_MICRO_1.html")
    page = (out / "worksheet-P_MICRO_1.html").read_text(encoding="utf-8")
    assert "Micro-Purchase Procedures Worksheet" in page and "P/MICRO &lt;1&gt;" in page and "<1>" not in page
    assert "Checklist for purchasing of local produce" in page and "Are wells protected from contamination?" in page
    book = openpyxl.load_workbook(found["P-SMALL-2"]["files"]["xlsx"])
    cells = [c for row in book["Worksheet"].iter_rows(values_only=True) for c in row if c is not None]
    assert cells[0] == "Small Purchase Procedures Worksheet"
    for text in ("Contact log", "Meets Product Specifications (Yes/No)", "Heartland Meats", "$31,200.00",
                 "Declined", "only two local beef processors within 150 miles", "Cedar River Beef at $29,500.00",
                 "$1,650.00", "Food safety", "Signature of Seller"):  # fmt: skip
        assert text in cells, text
    small = (out / "worksheet-P-SMALL-1.html").read_text(encoding="utf-8")
    assert "a small purchase needs at least 2 quotes (3 recommended); 1 recorded" in small


def test_spend_without_a_procurement_record_or_contract_is_listed(seeded, db_path, tmp_path):
    seeded.execute(f"INSERT INTO {names.VENDORS} VALUES ('Cedar River Beef', 'producer', 'IA', '50677')")
    lines = tmp_path / "lines.csv"
    lines.write_text(
        "Date,Vendor,Item Description,Qty,UOM,Price,Ext Price\n"
        "2025-12-10,Cedar River Beef,Ground beef 85/15,300,lb,3.30,990.00\n"
        "2026-01-14,Cedar River Beef,Pork loin,50,lb,3.10,155.00\n",
        encoding="utf-8",
    )
    ingest_file(seeded, lines, district_id="D1")
    quotes = tmp_path / "quotes.csv"
    quotes.write_text(QUOTES, encoding="utf-8")
    procurement.store(seeded, procurement.read_quotes(quotes, ["D1"]))
    found = procurement.unrecorded_from_db(seeded, 2025)
    assert found.select(names.VENDOR_NAME, "spend", "lines").rows() == [("Cedar River Beef", 155.0, 1)]
    # stored again, a procurement replaces its rows
    procurement.store(seeded, procurement.read_quotes(quotes, ["D1"]))
    assert procurement.load_quotes(seeded).height == 4
