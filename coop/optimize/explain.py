"""Optimisation results explained for people: tables a planner reads, with what each figure means in words.

The route LP's shadow prices and reduced costs in words, the scenarios side by side, sensitivity ranges, and where
the pool's savings come from and how each allocation method splits them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

from coop import names

if TYPE_CHECKING:
    from coop.optimize.allocate import AllocationReport
    from coop.optimize.lp import LPResult
    from coop.optimize.model import Model
    from coop.optimize.pool import PoolResult
    from coop.optimize.sensitivity import SensitivityResult

_ZERO = 1e-9


def _shadow_words(name: str, value: float, binding: bool, unit: str) -> str:
    """What one constraint's shadow price means."""
    if name == names.QUANTITY_CONSTRAINT:
        return f"Each extra meal a year adds ${value:,.3f} to total cost: the marginal cost of a meal."
    if not binding:
        return "Not binding: the plan meets it with room to spare, so a small change costs nothing."
    if abs(value) < _ZERO:
        return "At its limit, but a small change would not alter the cost (another plan is as cheap)."
    direction = "tightening it costs money" if value > 0 else "loosening it saves money"
    return (
        f"Binding: each one-unit increase of its right-hand side ({unit} summed over meals) changes total "
        f"cost by ${value:+,.3f}; {direction}."
    )


def shadow_prices(result: LPResult, model: Model) -> pl.DataFrame:
    """Each switched-on constraint: its requirement, shadow price, whether it binds and what that means in words."""
    table = result.duals_table()
    words = [_shadow_words(n, v, b, model.row(n).unit) for n, v, b in table.iter_rows()]
    return table.with_columns(
        pl.Series("requirement", [model.row(n).label for n in table["constraint"]], dtype=pl.String),
        pl.Series("meaning", words, dtype=pl.String),
    ).select("constraint", "requirement", "shadow_price", "binding", "meaning")


def _reduced_words(meals: float, reduced: float) -> str:
    """What one route's reduced cost means."""
    if meals > 0.5:
        return "In the plan: its reduced cost is zero."
    if reduced > _ZERO:
        return (
            f"Not used: its cost would have to fall by ${reduced:,.3f} per meal (or an incentive that size be "
            "paid) before buying through it lowers total cost."
        )
    return "Not used, but it could enter the plan at no extra cost (a tie)."


def reduced_costs(result: LPResult) -> pl.DataFrame:
    """Meals per route (meals, share, reduced cost) with each route's reduced cost explained in words."""
    table = result.meals_table()
    words = [_reduced_words(meals, reduced) for _route, meals, _share, reduced in table.iter_rows()]
    return table.with_columns(pl.Series("meaning", words, dtype=pl.String))


def scenario_comparison(model: Model, results: Mapping[str, LPResult]) -> pl.DataFrame:
    """Meals per route under each labelled result on one model (`route`, `meals`, `series`, status, total cost)."""
    rows: list[dict[str, Any]] = [
        {
            names.ROUTE: route,
            "meals": (res.meals or {}).get(route),
            "series": label,
            "status": res.status,
            "total_cost": res.total_cost,
        }
        for label, res in results.items()
        for route in model.route_names
    ]
    return pl.DataFrame(rows, schema_overrides={"meals": pl.Float64, "total_cost": pl.Float64})


def sensitivity_ranges(result: SensitivityResult) -> pl.DataFrame:
    """Min and max over the optimal sensitivity runs of meals, shadow prices and reduced costs (`quantity`, `of`)."""
    rows = [
        {
            "quantity": kind.replace("_", " "),
            "of": key,
            "min": None if span is None else span["min"],
            "max": None if span is None else span["max"],
        }
        for kind, values in result.ranges.items()
        for key, span in values.items()
    ]
    return pl.DataFrame(rows, schema={"quantity": pl.String, "of": pl.String, "min": pl.Float64, "max": pl.Float64})


def pool_costs(result: PoolResult) -> pl.DataFrame:
    """Per district: standalone cost, pooled purchase cost and savings (US dollars per year)."""
    return result.standalone.rename({"district": names.DISTRICT_ID, "coop_cost": "pooled_cost"})


def savings_by_route(result: PoolResult) -> pl.DataFrame:
    """Where the savings come from: units and cost per route, buying alone vs in the pool, and the difference."""
    wide = (
        result.purchases.group_by("scope", names.ROUTE)
        .agg(pl.col("units").sum(), pl.col("cost").sum())
        .pivot(on="scope", index=names.ROUTE, values=["units", "cost"])
        .fill_null(0.0)
    )
    for column in ("units_standalone", "units_coop", "cost_standalone", "cost_coop"):
        if column not in wide.columns:
            wide = wide.with_columns(pl.lit(0.0).alias(column))
    return wide.select(
        names.ROUTE,
        "units_standalone",
        "units_coop",
        "cost_standalone",
        "cost_coop",
        (pl.col("cost_standalone") - pl.col("cost_coop")).alias("saving"),
    ).sort(names.ROUTE)


def allocations_long(report: AllocationReport) -> pl.DataFrame:
    """Each district's allocated cost under each method (`district_id`, `method`, `cost`)."""
    return pl.concat(
        [
            a.costs.select(pl.col("district").alias(names.DISTRICT_ID), pl.lit(a.method).alias("method"), "cost")
            for a in report.allocations
        ]
    )


def allocation_checks(report: AllocationReport) -> pl.DataFrame:
    """Per allocation method: in the core, individually rational, largest excess, blocking group, known weakness."""
    return pl.DataFrame(
        [
            {
                "method": a.method,
                "in_core": a.in_core,
                "individually_rational": a.individually_rational,
                "max_excess": a.max_excess,
                "blocking_group": ", ".join(a.blocking) if a.blocking else "",
                "known_weakness": a.weakness,
            }
            for a in report.allocations
        ],
        schema={
            "method": pl.String,
            "in_core": pl.Boolean,
            "individually_rational": pl.Boolean,
            "max_excess": pl.Float64,
            "blocking_group": pl.String,
            "known_weakness": pl.String,
        },
    )


# --- the basis of modelled savings ---------------------------------------------------------------------------
STATUS_WORDS: Mapping[str, str] = {
    "optimal": "least cost found and proven",
    "time_limit": "stopped at its time limit: the costs are upper bounds",
    "infeasible": "no plan meets every district's demand and policy",
    "unbounded": "no finite least cost (a price term lacks a limit)",
    "error": "the solver failed: the figures are not usable",
}


def status_words(status: str) -> str:
    """A solver status (`coop.optimize.status`) as a meeting would say it."""
    return STATUS_WORDS.get(status, status.replace("_", " "))


def quoted_terms(quotes: pl.DataFrame) -> tuple[int, int]:
    """How many of the price terms are real quotes (not marked default assumptions), and how many there are."""
    from coop.optimize.quotes import ASSUMED

    notes = quotes[names.QUOTE_NOTE].fill_null("") if quotes.height else pl.Series([], dtype=pl.String)
    return int((~notes.str.starts_with(ASSUMED)).sum()), quotes.height


def price_basis(quotes: pl.DataFrame) -> str:
    """What modelled savings rest on: 'assumed price terms (n of m offers quoted)' until every term is a quote."""
    quoted, total = quoted_terms(quotes)
    kind = "quoted" if total and quoted == total else "assumed"
    return f"{kind} price terms ({quoted} of {total} offers quoted)"
