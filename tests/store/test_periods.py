"""Period lines spread over their days: exact cents that add up, in SQL (metrics, summary) and Polars (rules)."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coop import names
from coop.store import periods

YEAR = (date(2020, 7, 1), date(2021, 6, 30))  # 365 days


def part_cents(cents: int, start: date, end: date, lo: date, hi: date) -> int:
    """The SQL formula evaluated by DuckDB (the test's own integers and dates written as SQL literals)."""
    day = "DATE '{}'".format
    sql = periods.part_cents_sql(f"CAST({cents} AS HUGEINT)", day(start), day(end), day(lo), day(hi))
    return int(duckdb.sql(f"SELECT {sql}").fetchall()[0][0])


def test_july_to_december_of_a_365_day_period_is_184_365ths_to_the_cent():
    start, end = YEAR
    assert part_cents(36500, start, end, date(2020, 7, 1), date(2020, 12, 31)) == 18400
    # $1,000.00 x 184/365 = $504.109... -> $504.11; the rest of the year has the other $495.89
    assert part_cents(100000, start, end, date(2020, 7, 1), date(2020, 12, 31)) == 50411
    assert part_cents(100000, start, end, date(2021, 1, 1), date(2021, 6, 30)) == 49589
    assert part_cents(100000, start, end, start, end) == 100000


def test_a_credit_is_spread_like_a_purchase_with_its_sign():
    start, end = YEAR
    assert part_cents(-100000, start, end, date(2020, 7, 1), date(2020, 12, 31)) == -50411


@settings(max_examples=40, deadline=None)
@given(
    cents=st.integers(min_value=-(10**12), max_value=10**12),
    days=st.integers(min_value=1, max_value=800),
    cuts=st.lists(st.integers(min_value=1, max_value=799), max_size=6),
)
def test_any_split_of_a_period_adds_up_to_its_total(cents, days, cuts):
    start = date(2019, 3, 1)
    end = start + timedelta(days=days - 1)
    edges = sorted({c for c in cuts if c < days})
    bounds = [0, *edges, days]
    pieces = [
        part_cents(cents, start, end, start + timedelta(days=a), start + timedelta(days=b - 1))
        for a, b in pairwise(bounds)
    ]
    assert sum(pieces) == cents
    assert all(abs(p) <= abs(cents) for p in pieces)


def test_school_year_split_in_polars_agrees_with_the_sql_formula():
    lines = pl.LazyFrame(
        {
            names.INVOICE_DATE: [date(2020, 12, 31), date(2020, 10, 5)],
            names.PERIOD_START: [date(2020, 1, 1), None],
            names.PERIOD_END: [date(2020, 12, 31), None],
            names.EXTENDED_PRICE: [1000.00, 12.34],
        }
    )
    got = periods.split_by_school_year(lines, names.EXTENDED_PRICE, names.SCHOOL_YEAR).collect()
    assert got[names.SCHOOL_YEAR].to_list() == [2019, 2020, 2020]
    # 2020 is a leap year: 182 of its 366 days fall in school year 2019 (Jan-Jun), 184 in 2020 (Jul-Dec)
    first = part_cents(100000, date(2020, 1, 1), date(2020, 12, 31), date(2020, 1, 1), date(2020, 6, 30))
    assert got[names.EXTENDED_PRICE].to_list() == [pytest.approx(first / 100), pytest.approx(1000 - first / 100),
                                                   12.34]  # fmt: skip
    assert first == 49727  # 1000 x 182/366 = 497.268...
    assert got["allocated"].to_list() == [True, True, False]
    assert got[names.INVOICE_DATE].to_list() == [date(2020, 6, 30), date(2020, 12, 31), date(2020, 10, 5)]
