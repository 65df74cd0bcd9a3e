"""coop.rules.buy_american: domestic / non-domestic / unknown cost against the dated cap, exceptions, the CLI."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest

from coop import cli, names
from coop.errors import ValidationError
from coop.ingest import ingest_file
from coop.rules import buy_american as ba

SCHEMA = {c: pl.String for c in ba.LINE_COLUMNS} | {
    names.INVOICE_DATE: pl.Date,
    names.PERIOD_START: pl.Date,
    names.PERIOD_END: pl.Date,
    names.EXTENDED_PRICE: pl.Float64,
}


def line(district, day, cost, *, vendor_type="broadline_distributor", product="carrots", state=None, zip_code=None,
         country=None, period=None):  # fmt: skip
    start, end = period or (None, None)
    return {
        names.DISTRICT_ID: district,
        names.INVOICE_DATE: end or day,
        names.PERIOD_START: start,
        names.PERIOD_END: end,
        names.VENDOR_TYPE: vendor_type,
        names.PRODUCT: product,
        names.DESCRIPTION: product.title(),
        names.EXTENDED_PRICE: cost,
        names.ORIGIN_STATE: state,
        names.ORIGIN_ZIP: zip_code,
        names.ORIGIN_COUNTRY: country,
    }


def district_a(day: date) -> list[dict]:
    """$1,000 of commercial food: $700 domestic, $90 non-domestic, $210 unknown; USDA Foods and DoD Fresh aside."""
    return [
        line("A", day, 600.00, product="apples", state="MN"),  # a US state: domestic
        line("A", day, 100.00, product="pears", country="US"),  # the country: domestic
        line("A", day, 60.00, product="bananas", country="EC"),
        line("A", day, 30.00, product="shrimp", country="VN"),
        line("A", day, 250.00, product="lettuce"),  # nothing known: unknown
        line("A", day, -40.00, product="lettuce"),  # a credit, netted: unknown $210
        line("A", day, 500.00, vendor_type="usda_foods", product="cheese", country="NZ"),  # donated: left out
        line("A", day, 300.00, vendor_type="dod_fresh", product="oranges"),  # entitlement: left out
    ]


def figures(rows, year, **kw):
    return ba.buy_american(pl.DataFrame(rows, schema=SCHEMA).lazy(), year, **kw)


def row_of(result, district):
    return result.districts.filter(pl.col(names.DISTRICT_ID) == district).row(0, named=True)


def test_the_caps_are_dated_rule_data_with_sources():
    assert ba.cap_for(2024)[0] is None
    assert [ba.cap_for(y)[0] for y in (2025, 2027, 2028, 2030, 2031, 2040)] == [0.10, 0.10, 0.08, 0.08, 0.05, 0.05]
    assert all("7 CFR 210.21(d)" in ba.cap_for(y)[1] for y in (2025, 2028, 2031))
    assert "SP 09-2025" in ba.cap_for(2025)[1]


def test_a_districts_costs_and_shares_against_the_sy_2025_26_cap():
    result = figures(district_a(date(2025, 10, 15)), 2025)
    assert (result.cap, result.school_year) == (0.10, 2025)
    a = row_of(result, "A")
    assert a["commercial_food_cost"] == pytest.approx(1000.00)  # USDA Foods' $500 and DoD Fresh's $300 left out
    assert (a["domestic_cost"], a["non_domestic_cost"], a["unknown_origin_cost"]) == pytest.approx((700, 90, 210))
    assert (a["domestic_share"], a["non_domestic_share"], a["unknown_origin_share"]) == pytest.approx((0.7, 0.09, 0.21))
    # 9% is within 10%, but 9% + 21% unknown could be over it
    assert (a["over_cap"], a["could_be_over"], a["status"]) == (False, True, ba.COULD_BE_OVER)
    assert a["worst_case_share"] == pytest.approx(0.30)


def test_the_same_purchases_in_sy_2031_32_are_over_its_5_percent_cap():
    result = figures(district_a(date(2031, 9, 1)), 2031)
    a = row_of(result, "A")
    assert result.cap == 0.05
    assert a["non_domestic_share"] == pytest.approx(0.09)
    assert (a["over_cap"], a["could_be_over"], a["status"]) == (True, False, ba.OVER_CAP)


def test_just_over_and_just_under_the_cap():
    day = date(2026, 3, 2)
    rows = []
    for district, imported in (("over", 100.01), ("at", 100.00), ("under", 99.99)):
        rows += [line(district, day, 1000.00 - imported, state="IA"), line(district, day, imported, country="MX")]
    result = figures(rows, 2025)
    shares = {r[names.DISTRICT_ID]: (r["non_domestic_share"], r["over_cap"], r["status"]) for r in
              result.districts.iter_rows(named=True)}  # fmt: skip
    assert shares["over"] == (pytest.approx(0.10001), True, ba.OVER_CAP)
    assert shares["at"] == (pytest.approx(0.10), False, ba.WITHIN_CAP)  # "must not exceed": at the cap is within
    assert shares["under"] == (pytest.approx(0.09999), False, ba.WITHIN_CAP)
    assert result.flagged()[names.DISTRICT_ID].to_list() == ["over"]


def test_lines_of_other_school_years_stay_out_and_a_period_line_counts_by_its_days():
    rows = [
        line("A", date(2025, 6, 30), 999.00, state="MN"),  # SY 2024-25
        line("A", date(2026, 7, 1), 999.00, country="MX"),  # SY 2026-27
        # 2025-05-01..2025-08-31 is 123 days, 62 of them in SY 2025-26: $123 counts $62
        line("A", None, 123.00, country="CL", period=(date(2025, 5, 1), date(2025, 8, 31))),
        line("A", date(2025, 7, 1), 558.00, state="WI"),
    ]
    a = row_of(figures(rows, 2025), "A")
    assert (a["commercial_food_cost"], a["non_domestic_cost"]) == pytest.approx((620.00, 62.00))


def test_a_product_from_several_countries_is_one_row():
    day = date(2025, 10, 1)
    rows = [line("A", day, 50.0, product="bananas", country=c) for c in ("GT", "EC", "GT")]
    (row,) = figures(rows, 2025).products.iter_rows(named=True)
    assert (row["origin_country"], row["country"], row["cost"]) == ("EC, GT", "Ecuador, Guatemala", 150.0)


def test_a_district_without_purchases_has_no_cost_and_no_flag():
    result = figures(district_a(date(2025, 10, 1)), 2025, district_ids=["A", "B"])
    b = row_of(result, "B")
    assert (b["commercial_food_cost"], b["non_domestic_share"], b["over_cap"], b["status"]) == (0.0, None, False,
                                                                                              ba.NO_COST)  # fmt: skip


def test_before_sy_2025_26_no_cap_is_in_force():
    result = figures(district_a(date(2024, 10, 1)), 2024)
    a = row_of(result, "A")
    assert result.cap is None and "no cap before SY 2025-26" in result.source
    assert (a["non_domestic_share"], a["over_cap"], a["could_be_over"], a["status"]) == (
        pytest.approx(0.09), False, False, ba.NO_CAP)  # fmt: skip


def test_an_exception_is_shown_beside_the_figure_and_matched_to_its_product():
    exceptions = pl.DataFrame(
        [("A", "Bananas", "not produced in the US in sufficient quantity (48 CFR 25.104)", "J. Ortiz, director",
          date(2025, 8, 12))],
        schema=ba.EXCEPTION_SCHEMA, orient="row",
    )  # fmt: skip
    result = figures(district_a(date(2025, 10, 15)), 2025, exceptions=exceptions)
    products = {r[names.PRODUCT]: r for r in result.products.iter_rows(named=True)}
    assert set(products) == {"bananas", "shrimp"}  # one row a product, its countries together
    bananas = products["bananas"]
    assert (bananas["cost"], bananas["country"], bananas["exception_on_record"]) == (60.0, "Ecuador", True)
    assert (products["shrimp"]["country"], products["shrimp"]["exception_on_record"]) == ("Vietnam", False)
    doc = result.to_json()
    (a,) = doc["districts"]
    assert a["exceptions"] == [
        {
            "product": "Bananas",
            "reason": "not produced in the US in sufficient quantity (48 CFR 25.104)",
            "approved_by": "J. Ortiz, director",
            "approved_on": "2025-08-12",
        }
    ]
    assert a["non_domestic_share"] == pytest.approx(0.09)  # the exception documents the purchase; it still counts


# --- the database and the CLI ---------------------------------------------------------------------------------
def seed(con):
    con.execute(
        f"INSERT INTO {names.DISTRICTS} (district_id, name, state, zip) VALUES ('D1', 'Lakeview', 'MN', '55101')"
    )
    con.execute(f"INSERT INTO {names.VENDORS} VALUES ('Sysco', 'broadline_distributor', NULL, NULL)")


def test_cli_buy_american_from_a_loaded_file_with_an_exception_file(con, db_path, tmp_path, capsys):
    seed(con)
    path = tmp_path / "lines.csv"
    path.write_text(
        "Date,Vendor,Item Description,Qty,UOM,Price,Ext Price,Origin State,Country of Origin\n"
        "2025-09-03,Sysco,Apples,10,cs,80.00,800.00,WA,\n"
        "2025-09-03,Sysco,Bananas,5,cs,22.00,110.00,,Guatemala\n"
        "2025-09-03,Sysco,Lettuce,3,cs,30.00,90.00,,\n",
        encoding="utf-8",
    )
    assert ingest_file(con, path, district_id="D1").rows_loaded == 3
    con.close()
    exceptions = tmp_path / "exceptions.csv"
    exceptions.write_text(
        "district_id,product,reason,approved_by,approved_on\n"
        "D1,bananas,not produced in the US in sufficient quantity,State agency (MDE),2025-08-01\n",
        encoding="utf-8",
    )
    args = ["--db", str(db_path), "--json", "--school-year", "2025", "--exceptions", str(exceptions)]
    assert cli.main(["buy-american", *args]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["school_year"], doc["cap"]) == (2025, 0.10)
    assert "7 CFR 210.21(d)" in doc["source"]
    (d1,) = doc["districts"]
    assert (d1["commercial_food_cost"], d1["non_domestic_cost"], d1["unknown_origin_cost"]) == (1000.0, 110.0, 90.0)
    assert d1["non_domestic_share"] == pytest.approx(0.11)
    assert (d1["over_cap"], d1["status"]) == (True, ba.OVER_CAP)
    assert [e["approved_by"] for e in d1["exceptions"]] == ["State agency (MDE)"]
    assert d1["non_domestic_products"][0]["exception_on_record"] is True


def test_a_bad_exception_row_is_named_and_nothing_is_recorded(con, tmp_path):
    seed(con)
    path = tmp_path / "exceptions.csv"
    path.write_text(
        "district_id,product,reason,approved_by,approved_on\n"
        "D1,bananas,not produced in the US,State agency,2025-08-01\n"
        "D9,mangoes,,State agency,12 August\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as caught:
        ba.exceptions_from_csv(con, path)
    assert [(p.row, p.column, p.reason) for p in caught.value.problems] == [
        (3, "reason", "required value is empty"),
        (3, "district_id", "unknown district 'D9'"),
        (3, "approved_on", "not a YYYY-MM-DD date: '12 August'"),
    ]
    assert ba.load_exceptions(con).height == 0
