"""Period lines spread over their period: exact cents that add up, by calendar days or by a district's meals."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coop import names
from coop.store import db, lines, periods

YEAR = (date(2020, 7, 1), date(2021, 6, 30))  # 365 days


def put_line(con: duckdb.DuckDBPyConnection, cents: int, start: date, end: date, row: int = 2) -> None:
    """One period line of `cents` over start..end for district 'valley' (batch 1)."""
    frame = pl.DataFrame(
        {
            names.BATCH_ID: [1],
            names.SOURCE_ROW: [row],
            names.DISTRICT_ID: ["valley"],
            names.INVOICE_DATE: [end],
            names.PERIOD_START: [start],
            names.PERIOD_END: [end],
            names.VENDOR_NAME: ["Broadline"],
            names.VENDOR_TYPE: ["broadline_distributor"],
            names.DESCRIPTION: ["APPLES"],
            names.PRODUCT: ["apples"],
            names.PRODUCT_CONFIDENCE: [1.0],
            names.CATEGORY: ["fruit"],
            names.UNPROCESSED: [True],
            names.UNPROCESSED_RULE: ["file"],
            names.QUANTITY: [1.0],
            names.UNIT: ["LB"],
            names.UNIT_PRICE: [str(abs(cents) / 100)],
            names.EXTENDED_PRICE: [str(cents / 100)],
        }
    )
    con.register("one_line", frame.to_arrow())
    try:
        lines.store(con, "one_line")
    finally:
        con.unregister("one_line")


def part(con: duckdb.DuckDBPyConnection, lo: date | None, hi: date | None) -> int:
    """Whole cents of every stored period line in lo..hi."""
    sql = f"SELECT coalesce(sum({periods.CENTS}), 0) FROM ({periods.slices_sql([(lo, hi)])})"
    return int(con.execute(sql, periods.range_params([(lo, hi)])).fetchall()[0][0])


def months(con: duckdb.DuckDBPyConnection) -> dict[date, int]:
    """Whole cents per calendar month of every stored period line."""
    sql = f"SELECT {periods.MONTH}, sum({periods.CENTS}) FROM ({periods.slices_sql([(None, None)])}) GROUP BY 1"
    return {m: int(c) for m, c in con.execute(sql, periods.range_params([(None, None)])).fetchall()}


@pytest.fixture
def valley(con):
    con.execute(
        f"INSERT INTO {names.DISTRICTS} ({names.DISTRICT_ID}, {names.NAME}, {names.STATE}, {names.ZIP}) "
        "VALUES ('valley', 'Valley', 'CA', '91801')"
    )
    return con


def test_july_to_december_of_a_365_day_period_is_184_365ths_to_the_cent(valley):
    put_line(valley, 100000, *YEAR)  # $1,000.00
    assert part(valley, date(2020, 7, 1), date(2020, 12, 31)) == 50411  # 504.109... -> $504.11
    assert part(valley, date(2021, 1, 1), date(2021, 6, 30)) == 49589
    assert part(valley, None, None) == 100000
    assert part(valley, date(2021, 7, 1), None) == 0
    by_month = months(valley)
    assert len(by_month) == 12 and sum(by_month.values()) == 100000
    assert by_month[date(2020, 7, 1)] == round(100000 * 31 / 365)  # 8,493.15... -> 8,493


def test_a_credit_is_spread_like_a_purchase_with_its_sign(valley):
    put_line(valley, -100000, *YEAR)
    assert part(valley, date(2020, 7, 1), date(2020, 12, 31)) == -50411


def test_a_meals_district_spreads_its_period_by_its_monthly_meals(valley):
    """Summer months without meals get nothing; a month with twice the meals twice as much."""
    put_line(valley, 120000, *YEAR)
    meals = {date(2020, m, 1): 0 if m in (7, 8) else 1000 for m in range(7, 13)}
    meals |= {date(2021, m, 1): 2000 if m in (1, 6) else 1000 for m in range(1, 7)}  # 12,000 in all
    valley.executemany(f"INSERT INTO {names.MEAL_COUNTS} VALUES ('valley', ?, ?)", list(meals.items()))
    assert months(valley)[date(2020, 7, 1)] == round(120000 * 31 / 365)  # chosen by days until the district says
    valley.execute(f"UPDATE {names.DISTRICTS} SET {names.PERIOD_ALLOCATION} = 'meals'")
    by_month = months(valley)
    assert by_month.get(date(2020, 7, 1), 0) == 0 and by_month.get(date(2020, 8, 1), 0) == 0
    assert by_month[date(2021, 1, 1)] == 2 * by_month[date(2020, 9, 1)] == 20000
    assert sum(by_month.values()) == 120000
    # half of September's meals are in its first 15 days
    assert part(valley, date(2020, 9, 1), date(2020, 9, 15)) == 5000
    # meal counts that miss a month of the period: by days again (no guess for the missing month)
    valley.execute(f"DELETE FROM {names.MEAL_COUNTS} WHERE {names.MONTH} = DATE '2021-03-01'")
    assert months(valley)[date(2020, 7, 1)] == round(120000 * 31 / 365)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    con = db.connect(tmp_path_factory.mktemp("periods") / "coop.duckdb")
    yield con
    con.close()


@settings(max_examples=30, deadline=None)
@given(
    cents=st.integers(min_value=-(10**12), max_value=10**12),
    days=st.integers(min_value=1, max_value=800),
    cuts=st.lists(st.integers(min_value=1, max_value=799), max_size=5),
)
def test_any_split_of_a_period_adds_up_to_its_total(scratch, cents, days, cuts):
    scratch.execute(f"DELETE FROM {names.PURCHASE_LINES}")
    start = date(2019, 3, 1)
    end = start + timedelta(days=days - 1)
    put_line(scratch, cents, start, end)
    edges = [0, *sorted({c for c in cuts if c < days}), days]
    pieces = [part(scratch, start + timedelta(days=a), start + timedelta(days=b - 1)) for a, b in pairwise(edges)]
    assert sum(pieces) == cents
    assert all(abs(p) <= abs(cents) for p in pieces)
