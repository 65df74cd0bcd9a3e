"""A district's lines for the drill-down, one product's unit prices by month, and each district's freshness."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from fixtures_metrics import load

from coop import names
from coop.metrics import lines, local

START, END = date(2024, 1, 1), date(2024, 12, 31)


def test_district_lines_have_locality_by_its_own_definition(con) -> None:
    load(con)
    wide = lines.district_lines(con, "wide", START, END)
    assert wide.height == 7
    assert set(wide[names.DISTRICT_ID]) == {"wide"}
    assert wide[names.INVOICE_DATE].is_sorted()
    assert wide[names.EXTENDED_PRICE].sum() == pytest.approx(517.84)
    farm = wide.filter(pl.col(names.VENDOR_NAME) == "Crowley Farm")
    assert farm[local.LOCAL].all()  # 121 miles: inside wide's 150
    narrow = lines.district_lines(con, "narrow", START, END)
    assert not narrow.filter(pl.col(names.VENDOR_NAME) == "Crowley Farm")[local.LOCAL].any()  # outside its 100
    assert names.ROUTE in wide.columns


def test_district_lines_keep_to_the_period(con) -> None:
    load(con)
    january = lines.district_lines(con, "wide", date(2024, 1, 1), date(2024, 1, 31))
    assert january[names.INVOICE_DATE].to_list() == [date(2024, 1, 10), date(2024, 1, 20)]


def test_pick_by_category_and_locality(con) -> None:
    load(con)
    wide = lines.district_lines(con, "wide", START, END)
    assert lines.pick(wide, None, lines.ALL).height == 7
    assert lines.pick(wide, "fruit", lines.ALL).height == 2
    assert lines.pick(wide, None, lines.LOCAL_ONLY)[names.EXTENDED_PRICE].sum() == pytest.approx(240.00)
    unknown = lines.pick(wide, None, lines.UNKNOWN)
    assert unknown[names.EXTENDED_PRICE].to_list() == [12.34]
    not_local = lines.pick(wide, None, lines.NOT_LOCAL)
    assert not_local.height == 7 - 3 - 1
    assert not (not_local[local.LOCAL] | not_local[local.UNKNOWN_ORIGIN]).any()


def test_unit_prices_local_against_non_local_per_month(con) -> None:
    load(con)
    prices = lines.unit_prices(con, START, END, ["wide", "narrow"], "apples")
    jan = {r["origin"]: r for r in prices.filter(pl.col(names.MONTH) == date(2024, 1, 1)).to_dicts()}
    # wide: farm 150.00 / 100 lb local; Sysco 200.00 / 200 lb; narrow: farm 120.00 / 80 lb (not local), Sysco 90 / 100
    assert jan["Local"]["unit_price"] == pytest.approx(1.50)
    assert jan["Non-local"]["unit_price"] == pytest.approx((200 + 120 + 90) / (200 + 80 + 100))
    assert jan["Non-local"]["base_quantity"] == pytest.approx(380)
    only_wide = lines.unit_prices(con, START, END, ["wide"], "apples")
    assert set(only_wide["origin"]) == {"Local", "Non-local"}
    assert lines.unit_prices(con, START, END, ["wide"], "no such product").height == 0


def test_freshness_per_registered_district(con) -> None:
    load(con)
    fresh = lines.freshness(con)
    assert fresh[names.DISTRICT_ID].to_list() == ["county", "narrow", "nm", "plain", "wide"]
    row = fresh.filter(pl.col(names.DISTRICT_ID) == "wide").row(0, named=True)
    assert (row["last_invoice_date"], row["lines"], row[names.NAME]) == (date(2024, 3, 15), 7, "Wide")
    assert "last_loaded_at" in fresh.columns  # no batches in the fixture: null
    assert fresh["last_loaded_at"].null_count() == 5


def test_freshness_without_lines(con) -> None:
    load(con, lines=[])
    fresh = lines.freshness(con)
    assert fresh.height == 5
    assert fresh["lines"].null_count() == 5


def test_drill_down_lists_a_usage_report_line_with_its_share_of_the_period(con, tmp_path) -> None:
    from fixtures_periods import load_period_report, write_period_report

    load_period_report(con, write_period_report(tmp_path / "year.xlsx", date(2020, 7, 1), date(2021, 6, 30)))
    got = lines.district_lines(con, "valley", date(2020, 7, 1), date(2020, 12, 31)).sort(names.EXTENDED_PRICE)
    assert got[names.EXTENDED_PRICE].to_list() == [365.0, 1000.0]  # the lines as the report gives them
    assert got[lines.SPEND_IN_PERIOD].to_list() == [184.0, 504.11]  # 184 of the period's 365 days
    assert got[names.PERIOD_START].to_list() == [date(2020, 7, 1)] * 2
    assert lines.district_lines(con, "valley", date(2021, 7, 1), date(2021, 7, 31)).height == 0
