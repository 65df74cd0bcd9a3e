"""coop.calendar: school years (July-June, named by their first year) and month arithmetic."""

from datetime import date

import polars as pl
import pytest

from coop import calendar, names
from coop.errors import CoopError


def test_school_year_starts_in_july():
    assert calendar.school_year(date(2025, 6, 30)) == 2024
    assert calendar.school_year(date(2025, 7, 1)) == 2025
    assert calendar.school_year_start(date(2026, 2, 14)) == date(2025, 7, 1)
    assert calendar.school_year_bounds(2025) == (date(2025, 7, 1), date(2026, 6, 30))


def test_school_years_overlapping_a_period():
    assert calendar.school_years(date(2024, 8, 1), date(2026, 7, 1)) == [2024, 2025, 2026]
    assert calendar.school_years(date(2025, 1, 1), date(2025, 6, 30)) == [2024]


def test_school_year_expr_matches_school_year():
    days = [date(2024, 6, 30), date(2024, 7, 1), date(2025, 12, 31), date(2026, 1, 1)]
    got = pl.DataFrame({"d": days}).select(calendar.school_year_expr("d")).to_series().to_list()
    assert got == [calendar.school_year(d) for d in days] == [2023, 2024, 2025, 2025]


def test_month_arithmetic():
    assert calendar.add_months(date(2025, 11, 15), 2) == date(2026, 1, 1)
    assert calendar.add_months(date(2025, 1, 31), -12) == date(2024, 1, 1)
    assert calendar.next_month(date(2024, 12, 31)) == date(2025, 1, 1)
    assert calendar.month_end(date(2024, 2, 1)) == date(2024, 2, 29)
    assert calendar.month_span(date(2024, 7, 1), date(2025, 6, 30)) == 12
    assert calendar.months(date(2025, 11, 20), date(2026, 2, 1)) == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
    assert calendar.months(date(2026, 2, 1), date(2025, 11, 1)) == []


def test_parse_month():
    assert calendar.parse_month("2025-10") == date(2025, 10, 1)
    for bad in ("October", "2025-13", "2025/10", ""):
        with pytest.raises(CoopError, match="YYYY-MM"):
            calendar.parse_month(bad)


def test_school_year_convention() -> None:
    frame = pl.DataFrame({names.INVOICE_DATE: [date(2024, 6, 30), date(2024, 7, 1), date(2025, 6, 30)]})
    assert frame.select(calendar.school_year_expr(names.INVOICE_DATE))[names.INVOICE_DATE].to_list() == [
        2023,
        2024,
        2024,
    ]


def test_bad_month_is_a_clear_error():
    with pytest.raises(CoopError, match="YYYY-MM"):
        calendar.parse_month("October")
