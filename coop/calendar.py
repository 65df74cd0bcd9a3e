"""School years and calendar months: the one home for the co-op's date arithmetic.

A school year runs July to June and is named by the calendar year it starts in (2025 = July 2025 - June 2026),
as the USDA's programmes and the Farm to School Census count it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Final

import polars as pl

from coop.errors import CoopError

SCHOOL_YEAR_START_MONTH: Final = 7
FIRST_YEAR: Final = 1900  # months named on the command line lie in these years (the calendar's arithmetic holds)
LAST_YEAR: Final = 2999
_MONTH_TEXT: Final = re.compile(r"(\d{4})-(\d{1,2})")


def school_year(day: date) -> int:
    """The school year (named by its first calendar year) that `day` falls in."""
    return day.year if day.month >= SCHOOL_YEAR_START_MONTH else day.year - 1


def school_year_start(day: date) -> date:
    """July 1 of the school year that `day` falls in."""
    return date(school_year(day), SCHOOL_YEAR_START_MONTH, 1)


def school_year_bounds(year: int) -> tuple[date, date]:
    """First and last day (inclusive) of school year `year`: July 1 `year` to June 30 `year + 1`."""
    return date(year, SCHOOL_YEAR_START_MONTH, 1), date(year + 1, SCHOOL_YEAR_START_MONTH, 1) - timedelta(days=1)


def school_years(start: date, end: date) -> list[int]:
    """School years that overlap the inclusive period `start`..`end`, oldest first."""
    return list(range(school_year(start), school_year(end) + 1))


def school_year_expr(column: str) -> pl.Expr:
    """A Polars expression: the school year of a date column."""
    day = pl.col(column)
    return (day.dt.year() - (day.dt.month() < SCHOOL_YEAR_START_MONTH).cast(pl.Int32)).cast(pl.Int32)


def month_start(day: date) -> date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after (negative: before) `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def next_month(day: date) -> date:
    """The first day of the month after `day`'s month."""
    return add_months(day, 1)


def month_end(day: date) -> date:
    """The last day of `day`'s month."""
    return next_month(day) - timedelta(days=1)


def month_span(first: date, last: date) -> int:
    """How many calendar months `first`'s month to `last`'s month covers, both included."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def months_covered(start: date, end: date) -> float:
    """How many months the days `start`..`end` (inclusive) cover, each month counted by its share of days.

    July 1 to June 30 is 12.0 in any year; July 15 to October 14 is 3.0 (17/31 + 1 + 1 + 14/31).
    """
    total = 0.0
    for first in months(start, end):
        last = month_end(first)
        days = (min(end, last) - max(start, first)).days + 1
        total += days / last.day
    return total


def months(start: date, end: date) -> list[date]:
    """First days of the months from `start`'s month to `end`'s month, oldest first."""
    return [add_months(start, k) for k in range(max(0, month_span(start, end)))]


def parse_month(text: str) -> date:
    """The first day of the month written `YYYY-MM`; CoopError otherwise."""
    found = _MONTH_TEXT.fullmatch(text.strip())
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise CoopError(f"month {text!r}: expected YYYY-MM, e.g. 2025-10")
    if not FIRST_YEAR <= int(found.group(1)) <= LAST_YEAR:
        raise CoopError(f"month {text!r}: the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    return date(int(found.group(1)), int(found.group(2)), 1)
