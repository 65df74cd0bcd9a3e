"""Route costs per meal for the optimisation models, calibrated from a district's own purchases and meal counts.

Definition (the paper's four routes, Table 3 of seed 003 as the last resort):

* **Route cost ratio** ``ratio[r]`` = 1 + the route premium of route ``r`` over ``traditional_nonlocal``
  (`coop.metrics.route_premiums`): per commodity (product, category, base unit) bought through both ``r`` and
  ``traditional_nonlocal``, the ratio of their unit prices, averaged with weights = route ``r``'s spend on it.
  It compares like with like (the same commodity), so a district that buys only apples locally is not compared
  with its non-local milk. ``ratio[traditional_nonlocal]`` = 1.
* **Base cost per meal** ``c4`` (the ``traditional_nonlocal`` cost): the food spend of the months that have a meal
  count, each route's spend deflated to non-local prices (spend / ratio), divided by those months' meals. If all
  meals were bought non-locally, this is what a meal would have cost. ``cost_per_meal[r] = c4 x ratio[r]``.
* **Fallbacks**, per figure: a district's own ratio needs at least ``min_products`` (default 3) matched
  commodities, else the co-op's (all districts pooled, same threshold), else the paper's (Table 3's costs over
  the traditional non-local one, `coop.optimize.paper`). The base needs the district's meal counts (or
  ``annual_meals``) and spend, else the co-op's (districts that have both, deflated with the co-op's ratios),
  else the paper's traditional non-local cost per meal.
  A route's ``source`` is the weaker of its ratio's and its base's sources (paper < coop < district), so a district
  with no data gets exactly the paper's costs.
* **Annual meals**: the last 12 months of ``meal_counts`` when they span a year, else ``districts.annual_meals``,
  else the meal counts scaled to 12 months, else the paper's (Table 3 quantity).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from coop import calendar, names
from coop.errors import UnknownDistrictError
from coop.metrics import compute, local
from coop.optimize.paper import PAPER_COST_PER_MEAL, PAPER_MEALS, PAPER_RATIO
from coop.registry import districts

DISTRICT = "district"
COOP = "coop"
PAPER = "paper"
_RANK = {PAPER: 0, COOP: 1, DISTRICT: 2}
MIN_PRODUCTS = 3  # a ratio from one or two commodities is mostly noise (loess_hills: 1 product, 0.983)


@dataclass(frozen=True)
class Calibration:
    """One district's cost per meal by route (dollars), its annual meals, and where each figure came from."""

    district_id: str
    cost_per_meal: dict[str, float]
    annual_meals: float
    source: dict[str, str]
    notes: tuple[str, ...]
    ratio: dict[str, float]
    base_cost_per_meal: float
    base_source: str
    meals_source: str


def _classified(con: duckdb.DuckDBPyConnection, date_from: date | None, date_to: date | None) -> pl.DataFrame:
    """Classified purchase lines compacted to the metrics grains over the range."""
    return local.localize(compute.load_grains(con, date_from, date_to), districts.load(con).lazy()).collect()


def _grain(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    """The rows of one metrics grain."""
    return frame.filter(pl.col(compute.GRAIN) == name)


def _ratios(route_premiums: pl.DataFrame, scope: str, min_products: int) -> dict[str, tuple[float, int]]:
    """Route -> (unit-cost ratio vs traditional_nonlocal, matched commodities) for one scope, where evidenced."""
    rows = route_premiums.filter(pl.col(compute.SCOPE) == scope).to_dicts()
    return {
        r[names.ROUTE]: (1.0 + r["premium"], r["products"])
        for r in rows
        if r[names.ROUTE] != names.TRADITIONAL_NONLOCAL and r["products"] >= min_products
    }


def _meals_table(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Meal counts per district and month."""
    return con.sql(f"SELECT {names.DISTRICT_ID}, {names.MONTH}, {names.MEALS} FROM {names.MEAL_COUNTS}").pl()


def _deflated_spend_per_meal(
    classified: pl.DataFrame, meals: pl.DataFrame, ratio: dict[str, float], district_ids: list[str] | None
) -> tuple[float, float, float] | None:
    """(deflated spend $, meals, $ per meal) over months with both meal counts and purchases, or None."""
    lines = classified if district_ids is None else classified.filter(pl.col(names.DISTRICT_ID).is_in(district_ids))
    counted = meals if district_ids is None else meals.filter(pl.col(names.DISTRICT_ID).is_in(district_ids))
    spend = (
        lines.group_by(names.DISTRICT_ID, names.MONTH, names.ROUTE)
        .agg(pl.col(compute.SPEND_CENTS).sum())
        .with_columns(
            (
                pl.col(compute.SPEND_CENTS) / 100.0 / pl.col(names.ROUTE).replace_strict(ratio, return_dtype=pl.Float64)
            ).alias("deflated")
        )
        .group_by(names.DISTRICT_ID, names.MONTH)
        .agg(pl.col("deflated").sum())
    )
    both = spend.join(counted, on=[names.DISTRICT_ID, names.MONTH], how="inner")
    total_meals = float(both[names.MEALS].sum() or 0)
    deflated = float(both["deflated"].sum() or 0.0)
    if total_meals <= 0 or deflated <= 0:
        return None
    return deflated, total_meals, deflated / total_meals


def _annual_meals(meals: pl.DataFrame, declared: float | None, district_id: str) -> tuple[float, str]:
    """Annual meals for a district and a note saying how they were found."""
    mine = meals.filter(pl.col(names.DISTRICT_ID) == district_id).sort(names.MONTH)
    if mine.height:
        first, last = mine[names.MONTH][0], mine[names.MONTH][-1]
        span = calendar.month_span(first, last)
        if span >= 12:
            window = mine.filter(pl.col(names.MONTH) > calendar.add_months(last, -12))
            return float(window[names.MEALS].sum()), f"meal_counts, 12 months to {last:%Y-%m}"
    if declared is not None and declared > 0:
        return float(declared), "districts.annual_meals"
    if mine.height:
        return float(mine[names.MEALS].sum()) * 12.0 / span, f"meal_counts over {span} month(s) scaled to 12"
    return PAPER_MEALS, f"paper ({PAPER_MEALS:,.0f} meals, Table 3 quantity)"


def _annualised_spend_per_meal(
    classified: pl.DataFrame, ratio: dict[str, float], district_id: str, annual_meals: float
) -> float | None:
    """Deflated spend scaled to 12 months (from the months the purchases span) per declared annual meal."""
    mine = classified.filter(pl.col(names.DISTRICT_ID) == district_id)
    if not mine.height or annual_meals <= 0:
        return None
    first, last = mine[names.MONTH].min(), mine[names.MONTH].max()
    span = calendar.month_span(first, last)
    deflated = mine.select(
        (pl.col(compute.SPEND_CENTS) / 100.0 / pl.col(names.ROUTE).replace_strict(ratio, return_dtype=pl.Float64)).sum()
    ).item()
    return deflated * 12.0 / span / annual_meals if deflated > 0 else None


def route_costs(
    con: duckdb.DuckDBPyConnection,
    district_id: str,
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    min_products: int = MIN_PRODUCTS,
) -> Calibration:
    """A district's cost per meal for each route from its own data, else the co-op's, else the paper's."""
    declared = districts.load(con).filter(pl.col(names.DISTRICT_ID) == district_id)[names.ANNUAL_MEALS].to_list()
    if not declared:
        raise UnknownDistrictError(f"district {district_id!r} is not registered")
    grains = _classified(con, date_from, date_to)
    classified = _grain(grains, compute.GRAIN_SHARES)
    meals = _meals_table(con)
    route_prem = compute.route_premiums(_grain(grains, compute.GRAIN_PRICES).lazy()).collect()
    own, pooled = _ratios(route_prem, district_id, min_products), _ratios(route_prem, compute.COOP, min_products)
    notes: list[str] = []
    ratio: dict[str, float] = {names.TRADITIONAL_NONLOCAL: 1.0}
    ratio_source: dict[str, str] = {names.TRADITIONAL_NONLOCAL: DISTRICT}
    for route in names.LOCAL_ROUTES:
        if route in own:
            ratio[route], ratio_source[route] = own[route][0], DISTRICT
            notes.append(f"{route}: unit-cost ratio {own[route][0]:.3f} from the district ({own[route][1]} products)")
        elif route in pooled:
            ratio[route], ratio_source[route] = pooled[route][0], COOP
            notes.append(
                f"{route}: unit-cost ratio {pooled[route][0]:.3f} from the co-op ({pooled[route][1]} products)"
            )
        else:
            ratio[route], ratio_source[route] = PAPER_RATIO[route], PAPER
            notes.append(f"{route}: unit-cost ratio {PAPER_RATIO[route]:.3f} from the paper (no matched products)")

    annual_meals, meals_source = _annual_meals(meals, declared[0], district_id)
    notes.append(f"annual meals {annual_meals:,.0f} from {meals_source}")

    base: float | None = None
    base_source = PAPER
    mine = _deflated_spend_per_meal(classified, meals, ratio, [district_id])
    if mine is not None:
        base, base_source = mine[2], DISTRICT
        notes.append(f"base ${base:.4f}/meal from the district: ${mine[0]:,.2f} deflated spend / {mine[1]:,.0f} meals")
    elif declared[0]:
        annualised = _annualised_spend_per_meal(classified, ratio, district_id, float(declared[0]))
        if annualised is not None:
            base, base_source = annualised, DISTRICT
            notes.append(f"base ${base:.4f}/meal from the district's annualised spend / districts.annual_meals")
    if base is None:
        coop_ratio = {r: pooled[r][0] if r in pooled else PAPER_RATIO[r] for r in names.LOCAL_ROUTES}
        coop_ratio[names.TRADITIONAL_NONLOCAL] = 1.0
        pooled_base = _deflated_spend_per_meal(classified, meals, coop_ratio, None)
        if pooled_base is not None:
            base, base_source = pooled_base[2], COOP
            notes.append(f"base ${base:.4f}/meal from the co-op: {pooled_base[1]:,.0f} meals with spend")
        else:
            base = PAPER_COST_PER_MEAL[names.TRADITIONAL_NONLOCAL]
            notes.append(f"base ${base:.2f}/meal from the paper (no meal counts with spend)")

    cost = {r: base * ratio[r] for r in names.ROUTES}
    source = {
        r: min(ratio_source[r], base_source, key=_RANK.__getitem__) if r != names.TRADITIONAL_NONLOCAL else base_source
        for r in names.ROUTES
    }
    return Calibration(
        district_id=district_id,
        cost_per_meal=cost,
        annual_meals=annual_meals,
        source=source,
        notes=tuple(notes),
        ratio=ratio,
        base_cost_per_meal=base,
        base_source=base_source,
        meals_source=meals_source,
    )


def demand(con: duckdb.DuckDBPyConnection, date_from: date | None = None, date_to: date | None = None) -> pl.DataFrame:
    """Per district, category and base unit: base quantity bought in the range and scaled to a year.

    A year = 12 months of the days the district's lines actually cover (`compute.coverage`): a usage report for
    July-June is one year, a quarter's report a quarter, a month of invoices a month.
    """
    classified = _grain(_classified(con, date_from, date_to), compute.GRAIN_SHARES)
    span = compute.coverage(con, date_from, date_to).select(names.DISTRICT_ID, "months")
    return (
        classified.filter(pl.col(names.BASE_QUANTITY).is_not_null())
        .group_by(names.DISTRICT_ID, names.CATEGORY, names.BASE_UNIT)
        .agg(
            pl.col(names.BASE_QUANTITY).sum().alias("quantity"),
            (pl.col(compute.PRICED_CENTS).sum() / 100.0).round(2).alias("spend"),
        )
        .join(span, on=names.DISTRICT_ID, how="left")
        .with_columns((pl.col("quantity") * 12.0 / pl.col("months")).alias("annual_quantity"))
        .sort(names.DISTRICT_ID, names.CATEGORY, names.BASE_UNIT)
    )


def unit_costs(
    con: duckdb.DuckDBPyConnection,
    district_id: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> pl.DataFrame:
    """Per route, category and base unit: dollars per base unit from the district (or co-op), else paper ratios."""
    classified = _grain(_classified(con, date_from, date_to), compute.GRAIN_SHARES).filter(
        pl.col(names.BASE_QUANTITY).is_not_null()
    )

    def cells(frame: pl.DataFrame) -> pl.DataFrame:
        return (
            frame.group_by(names.ROUTE, names.CATEGORY, names.BASE_UNIT)
            .agg(
                (pl.col(compute.PRICED_CENTS).sum() / 100.0).round(2).alias("spend"),
                pl.col(names.BASE_QUANTITY).sum().alias("quantity"),
            )
            .filter((pl.col("quantity") > 0) & (pl.col("spend") > 0))
            .with_columns((pl.col("spend") / pl.col("quantity")).alias("unit_cost"))
        )

    layers = [(COOP, cells(classified))]
    if district_id is not None:
        layers.insert(0, (DISTRICT, cells(classified.filter(pl.col(names.DISTRICT_ID) == district_id))))
    grid = (
        classified.select(names.CATEGORY, names.BASE_UNIT)
        .unique()
        .join(pl.DataFrame({names.ROUTE: list(names.ROUTES)}), how="cross")
    )
    keys = [names.ROUTE, names.CATEGORY, names.BASE_UNIT]
    out = grid.with_columns(
        pl.lit(None, dtype=pl.Float64).alias("unit_cost"),
        pl.lit(None, dtype=pl.Float64).alias("spend"),
        pl.lit(None, dtype=pl.Float64).alias("quantity"),
        pl.lit(None, dtype=pl.String).alias("source"),
    )
    for label, layer in layers:
        out = (
            out.join(layer, on=keys, how="left", suffix="_l")
            .with_columns(
                pl.coalesce("unit_cost", "unit_cost_l").alias("unit_cost"),
                pl.coalesce("spend", "spend_l").alias("spend"),
                pl.coalesce("quantity", "quantity_l").alias("quantity"),
                pl.when(pl.col("source").is_null() & pl.col("unit_cost_l").is_not_null())
                .then(pl.lit(label))
                .otherwise(pl.col("source"))
                .alias("source"),
            )
            .drop("unit_cost_l", "spend_l", "quantity_l")
        )
    base = out.filter(pl.col(names.ROUTE) == names.TRADITIONAL_NONLOCAL).select(
        names.CATEGORY, names.BASE_UNIT, pl.col("unit_cost").alias("base_cost")
    )
    paper = pl.col(names.ROUTE).replace_strict(dict(PAPER_RATIO), return_dtype=pl.Float64)
    return (
        out.join(base, on=[names.CATEGORY, names.BASE_UNIT], how="left")
        .with_columns(
            pl.when(pl.col("unit_cost").is_null() & pl.col("base_cost").is_not_null())
            .then(pl.lit(PAPER))
            .otherwise(pl.col("source"))
            .alias("source"),
            pl.coalesce("unit_cost", pl.col("base_cost") * paper).alias("unit_cost"),
        )
        .drop("base_cost")
        .sort(names.CATEGORY, names.BASE_UNIT, pl.col(names.ROUTE).replace_strict(list(names.ROUTES), list(range(4))))
        .select(*keys, "unit_cost", "spend", "quantity", "source")
    )
