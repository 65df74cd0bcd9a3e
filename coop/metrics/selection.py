"""A district subset of the metrics, and the slices of a `Metrics` the views show (one scope, a monthly series).

A subset's spend, local spend and unknown-origin spend are exact sums of its districts' rows, so its 'coop' scope
is re-summed over the chosen districts only. Price premiums are ratios that do not add up: their 'coop' rows stay
co-op-wide (the views say so), and only the chosen districts' rows are kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date

import polars as pl

from coop import names
from coop.metrics.compute import COOP, SCOPE, Metrics

_SUMMED = ("total_spend", "local_spend", "unknown_origin_spend", "lines")


def _with_share() -> pl.Expr:
    """Local spend / total spend; null (not known) where there is no spend or all of it is of unknown origin."""
    known = (pl.col("total_spend") != 0) & (pl.col("unknown_origin_spend") != pl.col("total_spend"))
    return pl.when(known).then(pl.col("local_spend") / pl.col("total_spend")).alias("local_share")


def _resummed(frame: pl.DataFrame, ids: tuple[str, ...], by: list[str]) -> pl.DataFrame:
    """A spend table's rows for `ids` plus a 'coop' row per `by` group that sums just those districts."""
    picked = frame.filter(pl.col(SCOPE).is_in(ids))
    sums = picked.group_by(by).agg(pl.col(_SUMMED).sum()) if by else picked.select(pl.col(_SUMMED).sum())
    sums = sums.with_columns(pl.lit(COOP).alias(SCOPE), _with_share())
    return pl.concat([picked, sums.select(picked.columns)]).sort(SCOPE, *by)


def narrow(m: Metrics, district_ids: Iterable[str]) -> Metrics:
    """The metrics of the chosen districts only, their 'coop' spend figures re-summed over just those districts.

    Choosing every district (or more) returns `m` itself.
    """
    ids = tuple(sorted(set(district_ids)))
    if set(ids) >= set(m.districts[names.DISTRICT_ID].to_list()):
        return m
    dists = m.districts.filter(pl.col(names.DISTRICT_ID).is_in(ids))
    coop = dists.select(pl.col(*_SUMMED, "allocated_spend").sum()).with_columns(_with_share()).select(m.coop.columns)
    routes = m.by_route.filter(pl.col(SCOPE).is_in(ids))
    route_sums = (
        routes.group_by(names.ROUTE)
        .agg(pl.col("spend", "unknown_origin_spend").sum())
        .with_columns(pl.lit(COOP).alias(SCOPE), (pl.col("spend") / pl.col("spend").sum()).alias("share"))
    )
    keep = pl.col(SCOPE).is_in([*ids, COOP])
    chosen = pl.col(SCOPE).is_in(ids)
    return dataclasses.replace(
        m,
        districts=dists,
        coop=coop,
        by_month=_resummed(m.by_month, ids, [names.MONTH]),
        by_category=_resummed(m.by_category, ids, [names.CATEGORY]),
        by_route=pl.concat([routes, route_sums.select(routes.columns)]),
        premiums=m.premiums.filter(keep),
        category_premiums=m.category_premiums.filter(keep),
        route_premiums=m.route_premiums.filter(keep),
        unpriced=m.unpriced.filter(chosen),
        trajectory=m.trajectory.filter(chosen),
        goal=m.goal.filter(chosen),
    )


def by_scope(frame: pl.DataFrame, scope: str = COOP) -> pl.DataFrame:
    """The rows of a metrics table for one scope (a district id or 'coop'), without the scope column."""
    return frame.filter(pl.col(SCOPE) == scope).drop(SCOPE)


def route_spend(m: Metrics, scope: str = COOP) -> pl.DataFrame:
    """Spend, share and unknown-origin spend per route for one scope (a district id or 'coop')."""
    return m.by_route.filter(pl.col(SCOPE) == scope).select(names.ROUTE, "spend", "share", "unknown_origin_spend")


def monthly_share(m: Metrics, per_district: bool, coop_label: str) -> pl.DataFrame:
    """Local share by month (`month`, `local_share`, `series`) for the 'coop' scope or for each district too.

    The 'coop' series is named `coop_label`; months without spend are left out.
    """
    frame = m.by_month if per_district else m.by_month.filter(pl.col(SCOPE) == COOP)
    return frame.filter(pl.col("total_spend") > 0).select(
        names.MONTH,
        "local_share",
        pl.when(pl.col(SCOPE) == COOP).then(pl.lit(coop_label)).otherwise(pl.col(SCOPE)).alias("series"),
    )


def district_table(m: Metrics, freshness: pl.DataFrame, today: date) -> pl.DataFrame:
    """Per district: name, spend, local share, goal met, unknown-origin spend and freshness (`lines.freshness`).

    Largest spend first; `days_since_last_invoice` counts from `today`.
    """
    status = m.goal.select(pl.col(SCOPE).alias(names.DISTRICT_ID), pl.col("met").alias("goal_met"))
    return (
        m.districts.join(status, on=names.DISTRICT_ID, how="left")
        .join(freshness.drop("lines", strict=False), on=names.DISTRICT_ID, how="left")
        .with_columns((pl.lit(today) - pl.col("last_invoice_date")).dt.total_days().alias("days_since_last_invoice"))
        .select(
            names.DISTRICT_ID,
            names.NAME,
            "total_spend",
            "local_spend",
            "local_share",
            "goal_met",
            "unknown_origin_spend",
            "allocated_spend",
            "lines",
            "last_invoice_date",
            "days_since_last_invoice",
            "last_loaded_at",
        )
        .sort("total_spend", descending=True)
    )


def reporting(m: Metrics) -> int:
    """How many of the metrics' districts have lines or spend (allocated from period totals too) in the period."""
    return m.districts.filter((pl.col("total_spend") != 0) | (pl.col("lines") > 0)).height
