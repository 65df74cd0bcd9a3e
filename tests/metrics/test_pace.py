"""Goal pace and data completeness, by hand on small frames."""

from datetime import date

import polars as pl
import pytest

from coop.metrics import pace


def by_month(rows):
    return pl.LazyFrame(
        rows,
        schema={
            "scope": pl.String,
            "month": pl.Date,
            "total_spend": pl.Float64,
            "local_spend": pl.Float64,
            "local_share": pl.Float64,
        },
        orient="row",
    )


def test_goal_pace_needs_the_share_that_reaches_the_goal_by_its_date():
    # two months so far: $200 spent, $20 local (10%); goal 25% by 2025-06: 4 months left at $100 a month
    # (0.25 * (200 + 400) - 20) / 400 = 130 / 400 = 32.5% a month
    frame = by_month(
        [
            ("coop", date(2025, 1, 1), 100.0, 10.0, 0.1),
            ("coop", date(2025, 2, 1), 100.0, 10.0, 0.1),
            ("d1", date(2025, 2, 1), 100.0, 90.0, 0.9),  # a district's rows are not the co-op's
        ]
    )
    row = pace.goal_pace(frame, 0.25, date(2025, 6, 30)).collect().row(0, named=True)
    assert row["months_left"] == 4 and row["local_share_so_far"] == pytest.approx(0.1)
    assert row["needed_share"] == pytest.approx(0.325)
    past = pace.goal_pace(frame, 0.25, date(2024, 12, 31)).collect().row(0, named=True)
    assert past["months_left"] == 0 and past["needed_share"] is None


def test_month_against_the_same_month_a_year_before():
    frame = by_month([("coop", date(2024, 3, 1), 50.0, 5.0, 0.1), ("coop", date(2025, 3, 1), 80.0, 16.0, 0.2)])
    row = pace.month_vs_last_year(frame, date(2025, 3, 1)).collect().row(0, named=True)
    assert row["month_share"] == pytest.approx(0.2) and row["last_year_share"] == pytest.approx(0.1)
    none = pace.month_vs_last_year(frame, date(2024, 3, 1)).collect().row(0, named=True)
    assert none["month_share"] == pytest.approx(0.1) and none["last_year_share"] is None


def test_completeness_tells_lines_from_allocated_and_missing():
    dated = pl.LazyFrame({"district_id": ["a"], "month": [date(2025, 1, 1)], "lines": [3]})
    periods = pl.LazyFrame(
        {"district_id": ["b"], "period_start": [date(2025, 1, 15)], "period_end": [date(2025, 2, 10)], "lines": [7]}
    )
    districts = pl.LazyFrame({"district_id": ["a", "b"], "name": ["Alpha", "Beta"]})
    grid = pace.completeness(dated, periods, districts, date(2025, 1, 1), date(2025, 3, 31)).collect()
    status = {(d, m.month): s for d, m, s in grid.select("district_id", "month", "status").iter_rows()}
    assert status == {
        ("a", 1): pace.LINES_ON_FILE,
        ("a", 2): pace.MISSING,
        ("a", 3): pace.MISSING,
        ("b", 1): pace.ALLOCATED,
        ("b", 2): pace.ALLOCATED,
        ("b", 3): pace.MISSING,
    }
