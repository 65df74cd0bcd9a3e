"""Local share, unknown-origin spend, local price premiums, route mix and co-op views over a date range.

Definitions (every money figure is a sum of DECIMAL ``extended_price`` in whole cents, so it matches a hand
calculation to the cent; dollars are cents / 100):

* ``local_share`` = local spend / total spend, with locality by each district's own definition (`coop.local`);
  null when the scope has no spend. Spend of unknown origin is in the total and never local.
* ``premium`` for a commodity (``product`` with its ``category`` and ``base_unit``) in a scope (a district or
  ``"coop"``) = (local spend / local base quantity) / (non-local spend / non-local base quantity) - 1, computed
  only when both sides have base quantity and the non-local unit price is above zero. Lines with a null
  ``base_quantity`` are left out of premiums and counted in ``unpriced``.
* Category premium = the commodity premiums of that category weighted by their local spend.
* Route premium = for each route, the commodity premiums of that route's unit price over the same scope's
  ``traditional_nonlocal`` unit price, weighted by the route's spend on those commodities.
* Date ranges are inclusive at both ends and filter on ``invoice_date``; months are calendar months.

Speed: the whole calendar months of a range are read from the purchase summary kept on load (`coop.summary`), and
only the part months the range cuts are read line by line, so the figures are those of the lines, to the cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from coop import calendar, names
from coop.metrics import local
from coop.registry import districts as registry_districts
from coop.store import periods, settings, summary

COOP = "coop"
SCOPE = "scope"
SPEND_CENTS = names.SPEND_CENTS
PRICED_CENTS = names.PRICED_CENTS
LINES = names.LINES
UNPRICED_LINES = names.UNPRICED_LINES

# Lines are compacted to three grains (`coop.summary`), each holding every column its metrics group or classify by;
# every metric is a sum over a grain, so nothing is lost, and DECIMAL money stays exact as integer cents. The `grain`
# column says which grain a row belongs to. Whole calendar months come from the purchase summary maintained on load;
# only the part months a range cuts (or every line, when the summary is missing or stale) are read from the lines.
GRAIN = names.GRAIN
GRAIN_SHARES = summary.GRAIN_SHARES  # district, month, category, base unit, vendor type, origin: shares, routes, goal
GRAIN_PRICES = summary.GRAIN_PRICES  # district, product, category, base unit, vendor type, origin: premiums
GRAIN_VENDORS = summary.GRAIN_VENDORS  # district, vendor, vendor type, origin: co-op spend by vendor
_START, _END = f"coalesce({names.PERIOD_START}, {names.INVOICE_DATE})", periods.END
# per district: the spend of period lines that the range cuts (counted by their days in it, `coop.store.periods`)
# per district: the spend of period lines that the range cuts (counted by their share in it, `coop.store.periods`)
_ALLOCATED_SQL = f"""
SELECT {names.DISTRICT_ID}, CAST(sum({periods.CENTS}) AS BIGINT) AS allocated_cents
FROM ({periods.slices_sql([(None, None)], f"(l.{names.PERIOD_START} < ? OR {periods.END} > ?)")})
WHERE {periods.CUT}
GROUP BY {names.DISTRICT_ID}"""
# per district: the first and last day its lines cover in the range (a dated line covers its calendar month)
_COVERAGE_SQL = f"""
WITH b AS (SELECT CAST(? AS DATE) AS lo, CAST(? AS DATE) AS hi)
SELECT {names.DISTRICT_ID},
       greatest(min(coalesce({names.PERIOD_START}, CAST(date_trunc('month', {names.INVOICE_DATE}) AS DATE))),
                any_value(b.lo)) AS first_day,
       least(max(coalesce({names.PERIOD_END}, last_day({names.INVOICE_DATE}))), any_value(b.hi)) AS last_day
FROM {names.PURCHASE_LINES}, b
WHERE coalesce({names.PERIOD_START}, {names.INVOICE_DATE}) <= b.hi AND {_END} >= b.lo
GROUP BY {names.DISTRICT_ID}"""
_REGROUP = f"SELECT {GRAIN}, {', '.join(summary.KEY_COLUMNS)}, {summary.GRAIN_SUMS}\nFROM ({{parts}})\nGROUP BY ALL"


# --- loading (the DuckDB boundary) ---------------------------------------------------------------------
def load_grains(
    con: duckdb.DuckDBPyConnection,
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    use_summary: bool = True,
) -> pl.LazyFrame:
    """Purchase lines in the inclusive range compacted to the three metric grains (`grain` column), cents exact.

    Whole months come from the purchase summary when `use_summary` and it is current, else from the lines.
    """
    return _load_grains(con, date_from, date_to, use_summary)[0].lazy()


def _load_grains(
    con: duckdb.DuckDBPyConnection, date_from: date | None, date_to: date | None, use_summary: bool
) -> tuple[pl.DataFrame, bool]:
    """The grains (see `load_grains`) and whether the purchase summary supplied the whole months."""
    span = date_range(con) if use_summary and summary.is_current(con) else None
    if span is None:
        sql, params = summary.grains_sql([(date_from, date_to)], monthly=False)
        return con.sql(sql, params=params).pl(), False
    # there are no lines outside the data's own span, so a bound beyond it is no bound (and cuts no month)
    low = None if date_from is None or date_from <= span[0] else date_from
    high = None if date_to is None or date_to >= span[1] else date_to
    whole, edges = summary.whole_months(low, high), summary.edge_ranges(low, high)
    parts: list[str] = []
    params: list[date] = []
    if whole is not None:
        parts.append(summary.summary_grains_sql(bounded_from=whole[0] is not None, bounded_to=whole[1] is not None))
        params += [b for b in whole if b is not None] * 2
    if edges:
        sql, edge_params = summary.grains_sql(edges, monthly=False)
        parts.append(sql)
        params += edge_params
    sql = parts[0] if len(parts) == 1 else _REGROUP.format(parts="\nUNION ALL\n".join(parts))
    return con.sql(sql, params=params).pl(), True


def load_allocated(con: duckdb.DuckDBPyConnection, date_from: date | None, date_to: date | None) -> pl.LazyFrame:
    """Per district, the cents of its period lines' spend that the range cuts (spread by days: not a whole period)."""
    bounds = periods.range_params([(date_from, date_to)])  # only the lines the range cuts: start before or end after
    return con.sql(_ALLOCATED_SQL, params=[*bounds, *bounds]).pl().lazy()


def coverage(con: duckdb.DuckDBPyConnection, date_from: date | None, date_to: date | None) -> pl.DataFrame:
    """Per district with lines in the range: the first and last day they cover and the months that is (by days).

    A period line covers its period; a dated line its calendar month (a month of invoices is a month of buying).
    """
    lo, hi = periods.bounds(date_from, date_to)
    frame = con.sql(_COVERAGE_SQL, params=[lo, hi]).pl()
    months = [calendar.months_covered(a, b) for a, b in frame.select("first_day", "last_day").iter_rows()]
    return frame.with_columns(pl.Series("months", months, dtype=pl.Float64)).sort(names.DISTRICT_ID)


def grain(classified: pl.LazyFrame, name: str) -> pl.LazyFrame:
    """The rows of one grain (GRAIN_SHARES, GRAIN_PRICES or GRAIN_VENDORS)."""
    return classified.filter(pl.col(GRAIN) == name)


def date_range(con: duckdb.DuckDBPyConnection) -> tuple[date, date] | None:
    """First and last day the purchases cover (a period line from its period's start), or None when there are none."""
    ((first, last),) = con.execute(f"SELECT min({_START}), max({_END}) FROM {names.PURCHASE_LINES}").fetchall()
    return None if first is None else (first, last)


# --- pure lazy metrics -----------------------------------------------------------------------------------
def _dollars(cents: pl.Expr) -> pl.Expr:
    """Integer cents as dollars (the float nearest the exact decimal, so 59219.38 prints as such)."""
    return (cents / 100.0).round(2)


def _share(part: str, whole: str) -> pl.Expr:
    """Part / whole, null when whole is zero."""
    return pl.when(pl.col(whole) != 0).then(pl.col(part) / pl.col(whole)).otherwise(None)


def _local_cents() -> pl.Expr:
    """Spend cents of local lines."""
    return pl.when(pl.col(local.LOCAL)).then(pl.col(SPEND_CENTS)).otherwise(0)


def _scoped(frame: pl.LazyFrame, by: list[str], aggs: list[pl.Expr]) -> pl.LazyFrame:
    """The aggregation per district (scope = district_id) and for the whole co-op (scope = 'coop')."""
    per_district = frame.group_by([names.DISTRICT_ID, *by]).agg(aggs).rename({names.DISTRICT_ID: SCOPE})
    coop = (
        frame.group_by(by).agg(aggs).with_columns(pl.lit(COOP).alias(SCOPE))
        if by
        else frame.select(aggs).with_columns(pl.lit(COOP).alias(SCOPE))
    )
    return pl.concat([per_district, coop.select(per_district.collect_schema().names())], how="vertical")


def _spend_aggs() -> list[pl.Expr]:
    """Total, local and unknown-origin spend cents and line count."""
    return [
        pl.col(SPEND_CENTS).sum().alias("total_cents"),
        _local_cents().sum().alias("local_cents"),
        pl.when(pl.col(local.UNKNOWN_ORIGIN)).then(pl.col(SPEND_CENTS)).otherwise(0).sum().alias("unknown_cents"),
        pl.col(LINES).sum().alias(LINES),
    ]


def _spend_columns() -> list[pl.Expr]:
    """Dollar columns and local share from the cents aggregates."""
    return [
        _dollars(pl.col("total_cents")).alias("total_spend"),
        _dollars(pl.col("local_cents")).alias("local_spend"),
        # not known (null) where nothing was spent or every dollar is of unknown origin: 0% would claim "none local"
        pl.when(pl.col("unknown_cents") != pl.col("total_cents"))
        .then(_share("local_cents", "total_cents"))
        .alias("local_share"),
        _dollars(pl.col("unknown_cents")).alias("unknown_origin_spend"),
    ]


def district_shares(classified: pl.LazyFrame, districts: pl.LazyFrame) -> pl.LazyFrame:
    """Per district (every registered one, zero when it bought nothing): spend, local share, unknown-origin spend."""
    sums = classified.group_by(names.DISTRICT_ID).agg(_spend_aggs())
    return (
        districts.select(names.DISTRICT_ID)
        .join(sums, on=names.DISTRICT_ID, how="full", coalesce=True)
        .with_columns(pl.col("total_cents", "local_cents", "unknown_cents", LINES).fill_null(0))
        .select(names.DISTRICT_ID, *_spend_columns(), LINES)
        .sort(names.DISTRICT_ID)
    )


def coop_share(classified: pl.LazyFrame) -> pl.LazyFrame:
    """One row for the whole co-op: total and local spend, local share, unknown-origin spend."""
    return (
        classified.select(_spend_aggs())
        .with_columns(pl.col("total_cents", "local_cents", "unknown_cents", LINES).fill_null(0))
        .select(*_spend_columns(), LINES)
    )


def with_allocated(frame: pl.LazyFrame, allocated: pl.LazyFrame) -> pl.LazyFrame:
    """Rows per district (or the co-op's one row) with `allocated_spend`: spend spread from period totals."""
    if names.DISTRICT_ID in frame.collect_schema().names():
        cents = frame.join(allocated, on=names.DISTRICT_ID, how="left", maintain_order="left").with_columns(
            pl.col("allocated_cents").fill_null(0)
        )
    else:
        cents = frame.join(allocated.select(pl.col("allocated_cents").sum()), how="cross").with_columns(
            pl.col("allocated_cents").fill_null(0)
        )
    return cents.with_columns(_dollars(pl.col("allocated_cents")).alias("allocated_spend")).drop("allocated_cents")


def shares_by(classified: pl.LazyFrame, by: list[str]) -> pl.LazyFrame:
    """Spend and local share per scope (each district and 'coop') and the given columns (e.g. month, category)."""
    return _scoped(classified, by, _spend_aggs()).select(SCOPE, *by, *_spend_columns(), LINES).sort(SCOPE, *by)


def route_mix(classified: pl.LazyFrame) -> pl.LazyFrame:
    """Per scope and route: spend, its share of the scope's total spend and its unknown-origin part (all 4 routes)."""
    unknown = pl.when(pl.col(local.UNKNOWN_ORIGIN)).then(pl.col(SPEND_CENTS)).otherwise(0).sum().alias("unknown_cents")
    spend = _scoped(classified, [names.ROUTE], [pl.col(SPEND_CENTS).sum().alias("cents"), unknown])
    scopes = spend.select(SCOPE).unique()
    routes = pl.LazyFrame({names.ROUTE: list(names.ROUTES)})
    return (
        scopes.join(routes, how="cross")
        .join(spend, on=[SCOPE, names.ROUTE], how="left")
        .with_columns(pl.col("cents", "unknown_cents").fill_null(0))
        .with_columns(pl.col("cents").sum().over(SCOPE).alias("scope_cents"))
        .select(
            SCOPE,
            names.ROUTE,
            _dollars(pl.col("cents")).alias("spend"),
            _share("cents", "scope_cents").alias("share"),
            _dollars(pl.col("unknown_cents")).alias("unknown_origin_spend"),
        )
        .sort(SCOPE, pl.col(names.ROUTE).replace_strict(list(names.ROUTES), list(range(len(names.ROUTES)))))
    )


def _priced(classified: pl.LazyFrame) -> pl.LazyFrame:
    """Only the spend and quantity of lines that have a base quantity."""
    return classified.filter(pl.col(names.BASE_QUANTITY).is_not_null())


_COMMODITY = [names.PRODUCT, names.CATEGORY, names.BASE_UNIT]


def premiums(classified: pl.LazyFrame) -> pl.LazyFrame:
    """Local price premium per scope and commodity, where both local and non-local base quantities exist."""
    is_local = pl.col(local.LOCAL)
    aggs = [
        pl.when(is_local).then(pl.col(PRICED_CENTS)).otherwise(0).sum().alias("local_cents"),
        pl.when(is_local).then(pl.col(names.BASE_QUANTITY)).otherwise(0.0).sum().alias("local_quantity"),
        pl.when(~is_local).then(pl.col(PRICED_CENTS)).otherwise(0).sum().alias("nonlocal_cents"),
        pl.when(~is_local).then(pl.col(names.BASE_QUANTITY)).otherwise(0.0).sum().alias("nonlocal_quantity"),
    ]
    local_price = _dollars(pl.col("local_cents")) / pl.col("local_quantity")
    nonlocal_price = _dollars(pl.col("nonlocal_cents")) / pl.col("nonlocal_quantity")
    return (
        _scoped(_priced(classified), _COMMODITY, aggs)
        .filter((pl.col("local_quantity") > 0) & (pl.col("nonlocal_quantity") > 0) & (pl.col("nonlocal_cents") > 0))
        .select(
            SCOPE,
            *_COMMODITY,
            local_price.alias("local_unit_price"),
            nonlocal_price.alias("nonlocal_unit_price"),
            (local_price / nonlocal_price - 1.0).alias("premium"),
            _dollars(pl.col("local_cents")).alias("local_spend"),
            pl.col("local_quantity"),
            _dollars(pl.col("nonlocal_cents")).alias("nonlocal_spend"),
            pl.col("nonlocal_quantity"),
        )
        .sort(SCOPE, names.CATEGORY, names.PRODUCT, names.BASE_UNIT)
    )


def category_premiums(commodity_premiums: pl.LazyFrame) -> pl.LazyFrame:
    """Per scope and category: commodity premiums weighted by their local spend."""
    return (
        commodity_premiums.group_by(SCOPE, names.CATEGORY)
        .agg(
            ((pl.col("premium") * pl.col("local_spend")).sum() / pl.col("local_spend").sum()).alias("premium"),
            pl.col("local_spend").sum(),
            pl.len().alias("products"),
        )
        .sort(SCOPE, names.CATEGORY)
    )


def route_premiums(classified: pl.LazyFrame) -> pl.LazyFrame:
    """Per scope and route: premium of the route's unit prices over traditional_nonlocal, weighted by route spend."""
    by_route = _scoped(
        _priced(classified),
        [*_COMMODITY, names.ROUTE],
        [pl.col(PRICED_CENTS).sum().alias("cents"), pl.col(names.BASE_QUANTITY).sum().alias("quantity")],
    ).filter((pl.col("quantity") > 0) & (pl.col("cents") > 0))
    base = by_route.filter(pl.col(names.ROUTE) == names.TRADITIONAL_NONLOCAL).select(
        SCOPE, *_COMMODITY, (pl.col("cents") / pl.col("quantity")).alias("base_price")
    )
    return (
        by_route.join(base, on=[SCOPE, *_COMMODITY], how="inner")
        .with_columns((pl.col("cents") / pl.col("quantity") / pl.col("base_price") - 1.0).alias("premium"))
        .group_by(SCOPE, names.ROUTE)
        .agg(
            ((pl.col("premium") * pl.col("cents")).sum() / pl.col("cents").sum()).alias("premium"),
            _dollars(pl.col("cents").sum()).alias("spend"),
            pl.len().alias("products"),
        )
        .sort(SCOPE, pl.col(names.ROUTE).replace_strict(list(names.ROUTES), list(range(len(names.ROUTES)))))
    )


def unpriced(classified: pl.LazyFrame) -> pl.LazyFrame:
    """Per scope: lines without a base quantity (left out of premiums) and their spend."""
    return (
        _scoped(
            classified,
            [],
            [
                pl.col(UNPRICED_LINES).sum().alias("lines"),
                (pl.col(SPEND_CENTS) - pl.col(PRICED_CENTS)).sum().alias("cents"),
            ],
        )
        .select(SCOPE, pl.col("lines").fill_null(0), _dollars(pl.col("cents").fill_null(0)).alias("spend"))
        .sort(SCOPE)
    )


def vendor_spend(classified: pl.LazyFrame) -> pl.LazyFrame:
    """Co-op spend per vendor across districts (the volume a co-op can negotiate with), largest first."""
    return (
        classified.group_by(names.VENDOR_NAME, names.VENDOR_TYPE)
        .agg(
            pl.col(SPEND_CENTS).sum().alias("cents"),
            _local_cents().sum().alias("local_cents"),
            pl.col(names.DISTRICT_ID).n_unique().alias("districts"),
            pl.col(LINES).sum().alias(LINES),
        )
        .select(
            names.VENDOR_NAME,
            names.VENDOR_TYPE,
            _dollars(pl.col("cents")).alias("spend"),
            _dollars(pl.col("local_cents")).alias("local_spend"),
            "districts",
            LINES,
        )
        .sort("spend", names.VENDOR_NAME, descending=[True, False])
    )


def route_category(classified: pl.LazyFrame) -> pl.LazyFrame:
    """Co-op spend per route and category, with each cell's share of co-op spend."""
    return (
        classified.group_by(names.ROUTE, names.CATEGORY)
        .agg(pl.col(SPEND_CENTS).sum().alias("cents"))
        .with_columns(pl.col("cents").sum().alias("all_cents"))
        .select(
            names.ROUTE,
            names.CATEGORY,
            _dollars(pl.col("cents")).alias("spend"),
            _share("cents", "all_cents").alias("share"),
        )
        .sort(names.ROUTE, names.CATEGORY)
    )


def trajectory(classified: pl.LazyFrame, goal_share: float) -> pl.LazyFrame:
    """Per scope and month: monthly and cumulative (from the range start) local share and the gap to the goal."""
    monthly = _scoped(
        classified, [names.MONTH], [pl.col(SPEND_CENTS).sum().alias("cents"), _local_cents().sum().alias("lc")]
    ).sort(SCOPE, names.MONTH)
    return monthly.with_columns(
        pl.col("cents").cum_sum().over(SCOPE).alias("cum_cents"),
        pl.col("lc").cum_sum().over(SCOPE).alias("cum_lc"),
    ).select(
        SCOPE,
        names.MONTH,
        _dollars(pl.col("cents")).alias("total_spend"),
        _dollars(pl.col("lc")).alias("local_spend"),
        _share("lc", "cents").alias("local_share"),
        _share("cum_lc", "cum_cents").alias("cumulative_local_share"),
        pl.lit(goal_share).alias("goal_local_share"),
        (pl.lit(goal_share) - _share("cum_lc", "cum_cents")).alias("gap_to_goal"),
    )


def goal_status(trajectory_frame: pl.LazyFrame, goal_date: date) -> pl.LazyFrame:
    """Per scope: the cumulative local share at the last month of the range against the goal, and whether it is met."""
    return (
        trajectory_frame.sort(SCOPE, names.MONTH)
        .group_by(SCOPE, maintain_order=True)
        .agg(
            pl.col(names.MONTH).last().alias("last_month"),
            pl.col("cumulative_local_share").last(),
            pl.col("goal_local_share").last(),
        )
        .with_columns(
            pl.lit(goal_date).alias("goal_date"),
            (pl.col("goal_local_share") - pl.col("cumulative_local_share")).alias("gap_to_goal"),
            (pl.col("cumulative_local_share") >= pl.col("goal_local_share")).alias("met"),
        )
    )


# --- the boundary ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Metrics:
    """Every metric over one inclusive date range, collected (dollars, shares in 0..1)."""

    date_from: date | None
    date_to: date | None
    goal_local_share: float
    goal_date: date
    districts: pl.DataFrame
    coop: pl.DataFrame
    by_month: pl.DataFrame
    by_category: pl.DataFrame
    by_route: pl.DataFrame
    premiums: pl.DataFrame
    category_premiums: pl.DataFrame
    route_premiums: pl.DataFrame
    unpriced: pl.DataFrame
    vendors: pl.DataFrame
    route_category: pl.DataFrame
    trajectory: pl.DataFrame
    goal: pl.DataFrame
    from_summary: bool = False  # whole months read from the purchase summary (else every line was read)

    def to_json(self) -> dict[str, object]:
        """The CLI's `metrics --json` document (districts and coop with their spend per route, premiums)."""
        coop = self.coop.row(0, named=True)
        routes: dict[str, dict[str, float]] = {}
        for scope, route, spend in self.by_route.select(SCOPE, names.ROUTE, "spend").iter_rows():
            routes.setdefault(scope, {})[route] = spend
        empty = dict.fromkeys(names.ROUTES, 0.0)
        districts = self.districts.select(
            names.DISTRICT_ID, "total_spend", "local_spend", "local_share", "unknown_origin_spend", "allocated_spend"
        ).to_dicts()
        return {
            "districts": [{**d, "routes": routes.get(d[names.DISTRICT_ID], empty)} for d in districts],
            "coop": {
                **{
                    k: coop[k]
                    for k in ("total_spend", "local_spend", "local_share", "unknown_origin_spend", "allocated_spend")
                },
                "routes": routes.get(COOP, empty),
            },
            "premiums": self.premiums.select(
                SCOPE, names.PRODUCT, names.CATEGORY, "local_unit_price", "nonlocal_unit_price", "premium"
            ).to_dicts(),
        }


def weighted_premium(m: Metrics, scope: str = COOP) -> float | None:
    """A scope's local price premium: its commodity premiums weighted by local spend (None when none exist)."""
    rows = m.premiums.filter(pl.col(SCOPE) == scope)
    weight = rows["local_spend"].sum() if rows.height else 0.0
    if not weight:
        return None
    return float((rows["premium"] * rows["local_spend"]).sum() / weight)


def compute(
    con: duckdb.DuckDBPyConnection,
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    use_summary: bool = True,
    district_ids: Sequence[str] | None = None,
) -> Metrics:
    """Compute every metric over the inclusive date range (None = unbounded) from the database.

    Whole months are read from the purchase summary when it is current (`use_summary=False` reads every line).
    With `district_ids`, only those districts' lines are read: every figure, 'coop' scope included, is theirs alone
    (what a district user's own view is computed from, `coop.metrics.privacy`).
    """
    goal_share, goal_date = settings.goal(con)
    districts = registry_districts.load(con).lazy()
    grains, from_summary = _load_grains(con, date_from, date_to, use_summary)
    allocated = load_allocated(con, date_from, date_to).collect().lazy()
    if district_ids is not None:
        mine = pl.col(names.DISTRICT_ID).is_in(list(district_ids))
        districts, grains, allocated = districts.filter(mine), grains.filter(mine), allocated.filter(mine)
    classified = local.localize(grains.lazy(), districts).collect().lazy()
    shares, prices = grain(classified, GRAIN_SHARES), grain(classified, GRAIN_PRICES)
    commodity = premiums(prices)
    frames = pl.collect_all(
        [
            with_allocated(district_shares(shares, districts), allocated),
            with_allocated(coop_share(shares), allocated),
            shares_by(shares, [names.MONTH]),
            shares_by(shares, [names.CATEGORY]),
            route_mix(shares),
            commodity,
            category_premiums(commodity),
            route_premiums(prices),
            unpriced(shares),
            vendor_spend(grain(classified, GRAIN_VENDORS)),
            route_category(shares),
            trajectory(shares, goal_share),
            goal_status(trajectory(shares, goal_share), goal_date),
        ]
    )
    return Metrics(date_from, date_to, goal_share, goal_date, *frames, from_summary=from_summary)
