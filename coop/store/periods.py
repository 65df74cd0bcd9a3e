"""Period lines: the one home for spreading a line that covers a period (not a day) over the days it covers.

A distributor usage report dates nothing per line: each line carries the report's period (`period_start` ..
`period_end`, inclusive; its `invoice_date` is the period's last day). A figure over a date range counts such a line
by the share of its period's calendar days that fall in the range (pro rata by days, DESIGN "Period lines").

Money stays exact and adds up: a line of ``c`` cents over ``n`` days has ``F(d)`` cents in its first ``d`` days, with
``F(d) = sign(c) * round_half_up(|c| * d / n)``; the part in days ``d0+1 .. d1`` is ``F(d1) - F(d0)``. ``F(0) = 0``
and ``F(n) = c``, so the parts of any split of the period (months, school years, a range and its complement) sum to
the line's total to the cent, and a 365-day line of $365.00 has $184.00 in July-December (184/365). Quantities are
spread by the same share (``base_quantity * (d1 - d0) / n``, a float). A line counts as one line in the slice that
holds its period's last day (so line counts add up too); a dated line (no period) is a one-day period.
"""

from __future__ import annotations

from datetime import date
from typing import Final

import polars as pl

from coop import calendar, names

FIRST_DAY: Final = date(1, 1, 1)  # an unbounded range's lower bound
LAST_DAY: Final = date(9999, 12, 31)  # an unbounded range's upper bound
END = f"coalesce({names.PERIOD_END}, {names.INVOICE_DATE})"  # a period line's last day (SQL)


def bounds(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    """An inclusive range with its unbounded sides made the first and last representable day."""
    return date_from or FIRST_DAY, date_to or LAST_DAY


def _share_cents(cents: str, days: str, total_days: str) -> str:
    """SQL: F(days), the whole cents of a `cents` line in its first `days` of `total_days` (rounded half away)."""
    return f"(sign({cents}) * ((abs({cents}) * 2 * ({days}) + {total_days}) // (2 * {total_days})))"


def part_cents_sql(cents: str, start: str, end: str, lo: str, hi: str) -> str:
    """SQL: the whole cents of a line (`cents` over `start`..`end`) that fall in the days `lo`..`hi` (inclusive).

    Arguments are SQL expressions; `lo`..`hi` must lie inside `start`..`end`. `cents` should be HUGEINT.
    """
    n = f"(datediff('day', {start}, {end}) + 1)"
    d0 = f"datediff('day', {start}, {lo})"
    d1 = f"(datediff('day', {start}, {hi}) + 1)"
    return f"({_share_cents(cents, d1, n)} - {_share_cents(cents, d0, n)})"


def part_share_sql(start: str, end: str, lo: str, hi: str) -> str:
    """SQL: the share (0..1, a DOUBLE) of a period's days `start`..`end` that fall in `lo`..`hi` (inside it)."""
    return f"((datediff('day', {lo}, {hi}) + 1) / (datediff('day', {start}, {end}) + 1))"


def _f(cents: pl.Expr, days: pl.Expr, total: pl.Expr) -> pl.Expr:
    """Polars: F(days) of `_share_cents` in integer arithmetic."""
    return cents.sign() * ((cents.abs() * 2 * days + total) // (2 * total))


def split_by_school_year(lines: pl.LazyFrame, money: str, school_year: str) -> pl.LazyFrame:
    """Period lines cut at school-year boundaries (July 1), `money` spread by days; dated lines one piece.

    `lines` needs `invoice_date`, `period_start`, `period_end` and a money column (dollars, cents exact). Each row
    gains `school_year` and, for a piece of a period line, `invoice_date` = the piece's last day, `money` = its
    cents-exact share and `allocated` = True (False for a whole line). Row order and other columns are kept.
    """
    start = pl.coalesce(names.PERIOD_START, names.INVOICE_DATE)
    end = pl.coalesce(names.PERIOD_END, names.INVOICE_DATE)
    frame = (
        lines.with_columns(start.alias("_start"), end.alias("_end"))
        .with_columns(
            pl.int_ranges(
                calendar.school_year_expr("_start"), calendar.school_year_expr("_end") + 1, dtype=pl.Int32
            ).alias(school_year),
            (pl.col(money) * 100).round(0).cast(pl.Int64).alias("_cents"),
        )
        .explode(school_year)
    )
    year_first = pl.date(pl.col(school_year), calendar.SCHOOL_YEAR_START_MONTH, 1)
    year_last = pl.date(pl.col(school_year) + 1, calendar.SCHOOL_YEAR_START_MONTH, 1) - pl.duration(days=1)
    lo = pl.max_horizontal(pl.col("_start"), year_first)
    hi = pl.min_horizontal(pl.col("_end"), year_last)
    total = (pl.col("_end") - pl.col("_start")).dt.total_days() + 1
    d0 = (lo - pl.col("_start")).dt.total_days()
    d1 = (hi - pl.col("_start")).dt.total_days() + 1
    part = _f(pl.col("_cents"), d1, total) - _f(pl.col("_cents"), d0, total)
    return frame.with_columns(
        (part / 100).alias(money),
        hi.alias(names.INVOICE_DATE),
        ((d1 - d0) < total).alias("allocated"),
    ).drop("_start", "_end", "_cents")
