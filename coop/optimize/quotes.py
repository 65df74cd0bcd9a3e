"""Price terms for the pooled model as an editable table, and a pool spec built from the database.

Nobody has the co-op's real volume-tier, capacity and delivery-cost quotes yet, so the shipped rows are
**default assumptions**, each with a note saying so; a coordinator replaces them with real quotes (the
`pool_quotes` table). Kinds:

* ``tier``: all-units volume tier; ``threshold`` = pooled annual volume on the offer in multiples of the
  median member's annual demand of the category, ``value`` = fraction off the base unit cost.
* ``capacity``: ``value`` = the offer's annual capacity in multiples of the co-op's current annual volume on
  that route and category (local supply is scarce: a route nobody buys today has capacity 0).
* ``fixed_cost``: ``value`` = dollars per year, paid once by a coalition that uses the offer.

``category`` is a purchase category (fruit, vegetable, ...) or ``*`` for every category.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

import duckdb
import polars as pl

from coop import names
from coop.errors import SpecError
from coop.optimize import calibrate
from coop.optimize.pool_spec import CAPACITY_COALITION, District, Offer, Policy, PoolSpec, Tier
from coop.store import db

TIER = "tier"
CAPACITY = "capacity"
FIXED_COST = "fixed_cost"
KINDS = (TIER, CAPACITY, FIXED_COST)
ANY = "*"
ASSUMED = "default assumption, not a quote"

QUOTE_SCHEMA = {
    names.ROUTE: pl.String,
    names.CATEGORY: pl.String,
    names.QUOTE_KIND: pl.String,
    names.QUOTE_THRESHOLD: pl.Float64,
    names.QUOTE_VALUE: pl.Float64,
    names.QUOTE_NOTE: pl.String,
}

_DEFAULTS = [
    (names.TRADITIONAL_NONLOCAL, ANY, TIER, 3.0, 0.03, "broadline volume price: 3% off at 3x a median member"),
    (names.TRADITIONAL_NONLOCAL, ANY, TIER, 8.0, 0.06, "broadline volume price: 6% off at 8x a median member"),
    (names.TRADITIONAL_LOCAL, ANY, TIER, 3.0, 0.02, "distributor local line: 2% off at 3x a median member"),
    (names.NONTRADITIONAL_LOCAL, ANY, TIER, 2.0, 0.05, "food hub: 5% off at 2x a median member"),
    (names.NONTRADITIONAL_LOCAL, ANY, FIXED_COST, None, 1500.0, "food hub delivery route set-up, $ per year"),
    (names.NONTRADITIONAL_LOCAL, ANY, CAPACITY, None, 1.5, "food hub supply: 1.5x today's co-op volume"),
    (names.DIRECT_LOCAL, ANY, FIXED_COST, None, 2500.0, "farm sourcing (bid, coordination), $ per year"),
    (names.DIRECT_LOCAL, ANY, CAPACITY, None, 1.5, "farm supply: 1.5x today's co-op volume"),
    (names.TRADITIONAL_LOCAL, ANY, CAPACITY, None, 1.5, "local product via distributors: 1.5x today's volume"),
]


def default_quotes() -> pl.DataFrame:
    """The shipped quotes table: labelled default assumptions, not anyone's real quotes."""
    return pl.DataFrame(
        [(r, c, k, t, v, f"{ASSUMED}: {note}") for r, c, k, t, v, note in _DEFAULTS],
        schema=QUOTE_SCHEMA,
        orient="row",
    )


def validate_quotes(quotes: pl.DataFrame, source: str = names.POOL_QUOTES) -> pl.DataFrame:
    """The quotes with the canonical columns, or a SpecError naming the row (header = row 1) and column."""
    missing = [c for c in QUOTE_SCHEMA if c not in quotes.columns]
    if missing:
        raise SpecError(f"{source} row 1 column {missing[0]}: missing column")
    frame = quotes.select(pl.col(c).cast(t, strict=False) for c, t in QUOTE_SCHEMA.items())
    for n, row in enumerate(frame.iter_rows(named=True), start=2):
        where = f"{source} row {n}"
        if row[names.ROUTE] not in names.ROUTES:
            raise SpecError(f"{where} column {names.ROUTE}: unknown route {row[names.ROUTE]!r}")
        if row[names.CATEGORY] != ANY and row[names.CATEGORY] not in names.CATEGORIES:
            raise SpecError(f"{where} column {names.CATEGORY}: must be a category or '*', got {row[names.CATEGORY]!r}")
        if row[names.QUOTE_KIND] not in KINDS:
            raise SpecError(f"{where} column {names.QUOTE_KIND}: must be one of {', '.join(KINDS)}")
        value = row[names.QUOTE_VALUE]
        if value is None or not math.isfinite(value) or value < 0:
            raise SpecError(f"{where} column {names.QUOTE_VALUE}: must be a number >= 0")
        if row[names.QUOTE_KIND] == TIER:
            threshold = row[names.QUOTE_THRESHOLD]
            if threshold is None or not threshold > 0:
                raise SpecError(f"{where} column {names.QUOTE_THRESHOLD}: a tier needs a threshold > 0")
            if value >= 1:
                raise SpecError(f"{where} column {names.QUOTE_VALUE}: a tier discount is a fraction below 1")
        if not row[names.QUOTE_NOTE]:
            raise SpecError(f"{where} column {names.QUOTE_NOTE}: say where the figure comes from")
    return frame


def load_quotes(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The co-op's quotes table, or the default assumptions when it is empty."""
    cols = ", ".join(QUOTE_SCHEMA)
    frame = con.sql(f"SELECT {cols} FROM {names.POOL_QUOTES}").pl()
    return default_quotes() if frame.height == 0 else validate_quotes(frame)


def save_quotes(con: duckdb.DuckDBPyConnection, quotes: pl.DataFrame) -> int:
    """Replace the quotes table with validated rows in one transaction; return the row count."""
    frame = validate_quotes(quotes)
    cols = ", ".join(QUOTE_SCHEMA)
    return db.upsert_frame(
        con,
        frame,
        "incoming_quotes",
        f"DELETE FROM {names.POOL_QUOTES}; INSERT INTO {names.POOL_QUOTES} ({cols}) SELECT {cols} FROM incoming_quotes",
    )


def _terms(quotes: pl.DataFrame, route: str, category: str, kind: str) -> list[dict[str, object]]:
    """The quote rows for a route and category: the category's own rows, else the '*' rows."""
    rows = quotes.filter((pl.col(names.ROUTE) == route) & (pl.col(names.QUOTE_KIND) == kind))
    own = rows.filter(pl.col(names.CATEGORY) == category)
    return (own if own.height else rows.filter(pl.col(names.CATEGORY) == ANY)).to_dicts()


def label(category: str, base_unit: str) -> str:
    """The pool's category label for a purchase category in a base unit, e.g. 'fruit/lb'."""
    return f"{category}/{base_unit}"


def spec_from_db(
    con: duckdb.DuckDBPyConnection,
    *,
    quotes: pl.DataFrame | None = None,
    local_share_min: float | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    district_ids: Sequence[str] | None = None,
) -> PoolSpec:
    """A pool spec from the database: annual demand and route unit costs (coop.calibrate) plus the quotes table.

    Each district's minimum local share is `local_share_min`, or by default its current local share of units
    (so the pool never asks a member to buy less local than it does today). `district_ids` restricts the members
    to a subset of the co-op; costs, tier volumes and capacities stay those the whole co-op's purchases give.
    """
    quotes = load_quotes(con) if quotes is None else validate_quotes(quotes)
    demand = calibrate.demand(con, date_from, date_to).filter(pl.col("annual_quantity") > 0)
    if demand.height == 0:
        raise SpecError("database: no purchases with a base quantity in the range; load data or pass --spec")
    costs = calibrate.unit_costs(con, None, date_from, date_to).filter(pl.col("unit_cost").is_not_null())
    # each district's own quantity per route (calibrate's district layer), scaled to a year like its demand
    own = pl.concat(
        [
            calibrate.unit_costs(con, str(d), date_from, date_to)
            .filter(pl.col("source") == calibrate.DISTRICT)
            .select(pl.lit(str(d)).alias(names.DISTRICT_ID), names.ROUTE, names.CATEGORY, names.BASE_UNIT, "quantity")
            for d in demand[names.DISTRICT_ID].unique().sort()
        ]
    )
    current = own.join(
        demand.select(names.DISTRICT_ID, names.CATEGORY, names.BASE_UNIT, "quantity", "annual_quantity"),
        on=[names.DISTRICT_ID, names.CATEGORY, names.BASE_UNIT],
        suffix="_all",
    ).with_columns(annual=pl.col("quantity") / pl.col("quantity_all") * pl.col("annual_quantity"))
    volume: dict[tuple[str, str, str], dict[str, float]] = {}
    for d, r, c, u, v in current.select(
        names.DISTRICT_ID, names.ROUTE, names.CATEGORY, names.BASE_UNIT, "annual"
    ).iter_rows():
        volume.setdefault((r, c, u), {})[str(d)] = float(v)
    median = demand.group_by(names.CATEGORY, names.BASE_UNIT).agg(pl.col("annual_quantity").median())
    median_of = {(c, u): m for c, u, m in median.iter_rows()}

    offers: list[Offer] = []
    for route, category, unit, unit_cost in costs.select(
        names.ROUTE, names.CATEGORY, names.BASE_UNIT, "unit_cost"
    ).iter_rows():
        if (category, unit) not in median_of:
            continue
        tiers = sorted(
            (
                float(q[names.QUOTE_THRESHOLD]) * median_of[(category, unit)],
                unit_cost * (1 - float(q[names.QUOTE_VALUE])),
            )
            for q in _terms(quotes, route, category, TIER)
        )
        caps = _terms(quotes, route, category, CAPACITY)
        fixed = _terms(quotes, route, category, FIXED_COST)
        offers.append(
            Offer(
                id=f"{route}:{label(category, unit)}",
                route=route,
                category=label(category, unit),
                unit_cost=float(unit_cost),
                tiers=tuple(Tier(v, c) for v, c in tiers),
                capacity_by_district={
                    d: float(caps[0][names.QUOTE_VALUE]) * v for d, v in volume.get((route, category, unit), {}).items()
                }
                if caps
                else None,
                fixed_cost=float(fixed[0][names.QUOTE_VALUE]) if fixed else 0.0,
                local=route in names.LOCAL_ROUTES,
            )
        )
    sold = {o.category for o in offers}
    local_units = (
        current.filter(pl.col(names.ROUTE).is_in(list(names.LOCAL_ROUTES)))
        .group_by(names.DISTRICT_ID)
        .agg(pl.col("annual").sum())
    )
    local_of = dict(local_units.iter_rows())
    districts: list[District] = []
    for (district_id,), rows in demand.sort(names.DISTRICT_ID).group_by(names.DISTRICT_ID, maintain_order=True):
        wants = {
            label(c, u): float(q)
            for c, u, q in rows.select(names.CATEGORY, names.BASE_UNIT, "annual_quantity").iter_rows()
            if label(c, u) in sold
        }
        if not wants:
            continue
        total = sum(wants.values())
        share = local_share_min
        if share is None:
            # today's local share, rounded down so today's plan stays feasible
            share = math.floor(1000.0 * local_of.get(district_id, 0.0) / total) / 1000.0 if total > 0 else 0.0
        districts.append(District(id=str(district_id), demand=wants, policy=Policy(local_share_min=min(share, 1.0))))
    if not districts:
        raise SpecError("database: no district has demand in a category with a known unit cost")
    if district_ids is not None:
        chosen = set(district_ids)
        districts = [d for d in districts if d.id in chosen]
        if not districts:
            raise SpecError(f"database: none of the districts {', '.join(sorted(chosen))} has demand to pool")
    members = {d.id for d in districts}
    # a route with a capacity quote but no supply anybody uses today is left out (capacity 0: no known supplier)
    offers = [o for o in offers if o.capacity_by_district is None or sum(o.capacity_by_district.values()) > 0]
    offers = [
        replace(
            o,
            capacity_by_district=(cap := {d: v for d, v in o.capacity_by_district.items() if d in members}),
            capacity=sum(cap.values()),
        )
        if o.capacity_by_district is not None
        else o
        for o in offers
    ]
    return PoolSpec(districts=tuple(districts), offers=tuple(offers), capacity_basis=CAPACITY_COALITION)
