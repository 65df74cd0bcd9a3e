"""Period lines: the one home for spreading a line that covers a period (not a day) over that period.

A distributor usage report dates nothing per line: each line carries the report's period (`period_start` ..
`period_end`, inclusive; its `invoice_date` is the period's last day). A figure over a date range counts such a line
by its share of the period that falls in the range (DESIGN "Period lines"):

* **by calendar days** (the default): every day of the period weighs the same;
* **by meal counts**, for a district whose ``period_allocation`` is ``meals`` and whose monthly meal counts cover
  every month of the period (and are not all zero): a month weighs its meals times the share of its days in the
  period, and its days weigh the same within it. Otherwise (no or partial meal counts) by days.

Money stays exact and adds up. A line of ``c`` cents whose period weighs ``T`` has ``F(W) = sign(c) *
round_half_up(|c| * W / T)`` cents in the part of its period that weighs ``W``; the part between two points is the
difference of their ``F``. Weights are whole numbers (days; or meals x days x 10^6 / days in the month, rounded
once per month) summed exactly, and a point inside a month is weighed the same way from either side, so ``F`` at
the period's start is 0 and at its end ``c``: the parts of any split of the period (months, school years, a range
and its complement) sum to the line's total to the cent. A 365-day line of $365.00 has $184.00 in July-December.
Quantities are spread by the same share. A line counts as one line in the slice holding its period's last day, so
line counts add up too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final

from coop import names

FIRST_DAY: Final = date(1, 1, 1)  # an unbounded range's lower bound
LAST_DAY: Final = date(9999, 12, 31)  # an unbounded range's upper bound
END = f"coalesce({names.PERIOD_END}, {names.INVOICE_DATE})"  # a period line's last day (SQL)
DAYS: Final = "days"
MEALS: Final = "meals"
ALLOCATIONS: Final = (DAYS, MEALS)  # a district's period_allocation
_MEAL_SCALE = 1_000_000  # meal weights are meals x days x this / days in the month, rounded to a whole number
Range = tuple[date | None, date | None]  # inclusive; None = unbounded on that side

# slice columns added to the purchase line's own (`slices_sql`)
RANGE: Final = "_range"  # index of the range in the list given
MONTH: Final = "_month"  # the calendar month of the slice (first day)
CENTS: Final = "_slice_cents"  # whole cents of the line in the slice (HUGEINT)
SHARE: Final = "_slice_share"  # the slice's share of the period's weight (DOUBLE), for quantities
COUNTED: Final = "_counted"  # the slice holds the period's last day, inside the range: the line counts here
CUT: Final = "_cut"  # the range cuts the period (the slice's amount is allocated, not the period's whole total)
LAST: Final = "_last"  # the slice's last day (a piece of a school year is dated so)


def bounds(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    """An inclusive range with its unbounded sides made the first and last representable day."""
    return date_from or FIRST_DAY, date_to or LAST_DAY


def _f(weight: str) -> str:
    """SQL: F(weight), the whole cents of line `c` in the part of its period weighing `weight` of `total`."""
    return f"(sign(c) * ((abs(c) * 2 * ({weight}) + total) // (2 * total)))"


def slices_sql(ranges: Sequence[Range], where: str = "true") -> str:
    """SELECT of every period line matching `where` cut into its calendar months inside each range (disjoint).

    Bind, in order: the ranges' bounds (two dates each), then `where`'s own parameters. Columns: every column of
    `purchases` plus RANGE, MONTH, CENTS, SHARE, COUNTED, CUT and LAST.
    """
    values = ", ".join(f"(CAST(? AS DATE), CAST(? AS DATE), {k})" for k in range(len(ranges)))
    d, p = names.DISTRICT_ID, names.PERIOD_START
    return f"""
WITH b(lo, hi, {RANGE}) AS (VALUES {values}),
lines AS (
    SELECT l.*, {END} AS _end, CAST(l.{names.EXTENDED_PRICE} * 100 AS HUGEINT) AS c,
           coalesce(d.{names.PERIOD_ALLOCATION}, '{DAYS}') = '{MEALS}' AS _by_meals
    FROM {names.PURCHASES} l LEFT JOIN {names.DISTRICTS} d USING ({d})
    WHERE l.{p} IS NOT NULL AND ({where})
      AND l.{p} <= (SELECT max(hi) FROM b) AND {END} >= (SELECT min(lo) FROM b)
),
-- by days (the default): each line cut straight into the months of each range it overlaps; weights are days
days_cut AS (
    SELECT *, greatest({p}, lo, m) AS _a, least(_end, hi, last_day(m)) AS _z
    FROM (SELECT l.*, b.{RANGE}, b.lo, b.hi,
                 CAST(unnest(generate_series(date_trunc('month', greatest(l.{p}, b.lo)), least(l._end, b.hi),
                                             INTERVAL 1 MONTH)) AS DATE) AS m
          FROM lines l JOIN b ON l.{p} <= b.hi AND l._end >= b.lo
          WHERE NOT l._by_meals)
),
by_days AS (
    SELECT *, CAST(datediff('day', {p}, _a) AS HUGEINT) AS wa, CAST(datediff('day', {p}, _z) + 1 AS HUGEINT) AS wz,
           CAST(datediff('day', {p}, _end) + 1 AS HUGEINT) AS total
    FROM days_cut
),
-- by meals: every month of the period weighed by its meals (by its days where the counts miss a month)
months AS (
    SELECT *, greatest({p}, m) AS _m_lo, least(_end, last_day(m)) AS _m_hi,
           datediff('day', greatest({p}, m), least(_end, last_day(m))) + 1 AS _m_days
    FROM (SELECT *, CAST(unnest(generate_series(date_trunc('month', {p}), _end, INTERVAL 1 MONTH)) AS DATE) AS m
          FROM lines WHERE _by_meals)
),
meals AS (
    SELECT x.*, mc.{names.MEALS} AS _meals,
           bool_and(mc.{names.MEALS} IS NOT NULL) OVER line AND sum(mc.{names.MEALS}) OVER line > 0 AS _covered
    FROM months x LEFT JOIN {names.MEAL_COUNTS} mc ON mc.{d} = x.{d} AND mc.{names.MONTH} = x.m
    WINDOW line AS (PARTITION BY x.{names.BATCH_ID}, x.{names.SOURCE_ROW})
),
weighed AS (
    SELECT *, coalesce(sum(w) OVER (line ORDER BY m ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS w0,
           sum(w) OVER line AS total
    FROM (SELECT *, CASE WHEN _covered
                         THEN CAST(round(_meals * _m_days * {_MEAL_SCALE}.0 / dayofmonth(last_day(m))) AS HUGEINT)
                         ELSE CAST(_m_days AS HUGEINT) END AS w
          FROM meals)
    WINDOW line AS (PARTITION BY {names.BATCH_ID}, {names.SOURCE_ROW})
),
meals_cut AS (
    SELECT x.*, b.{RANGE}, b.lo, b.hi, greatest(x._m_lo, b.lo) AS _a, least(x._m_hi, b.hi) AS _z
    FROM weighed x JOIN b ON x._m_lo <= b.hi AND x._m_hi >= b.lo
),
by_meals AS (
    SELECT * EXCLUDE (_m_lo, _m_hi, _m_days, _meals, _covered, w, w0),
           w0 + (w * datediff('day', _m_lo, _a)) // _m_days AS wa,
           CASE WHEN _z = _m_hi THEN w0 + w ELSE w0 + (w * (datediff('day', _m_lo, _z) + 1)) // _m_days END AS wz
    FROM meals_cut
),
pointed AS (SELECT * FROM by_days UNION ALL BY NAME SELECT * FROM by_meals)
SELECT * EXCLUDE (_end, c, _by_meals, m, total, lo, hi, _a, _z, wa, wz),
       m AS {MONTH}, {_f("wz")} - {_f("wa")} AS {CENTS},
       CASE WHEN total > 0 THEN CAST(wz - wa AS DOUBLE) / CAST(total AS DOUBLE) ELSE 0.0 END AS {SHARE},
       (_end BETWEEN lo AND hi AND _z = _end) AS {COUNTED},
       NOT ({p} >= lo AND _end <= hi) AS {CUT},
       _z AS {LAST}
FROM pointed"""


def range_params(ranges: Sequence[Range]) -> list[date]:
    """The parameters `slices_sql` binds first: each range's bounds, unbounded sides made representable days."""
    return [day for r in ranges for day in bounds(*r)]
