"""Whether a purchase line is local by its district's own definition (seed 004, Q1), and its supply-chain route.

Rules, in order, for a line of district D (first that applies decides):

1. ``radius``: D has ``local_radius_miles`` and the great-circle distance between the centroids of the line's
   ``origin_zip`` and D's ``zip`` is at most that radius (inclusive). Needs both ZIPs known to `coop.geo`.
2. ``states``: D lists ``local_states`` and the line's origin state is one of them.
3. ``counties``: D lists ``local_counties`` and the county of the line's ``origin_zip`` is one of them
   (an entry ``Weld`` or ``Weld County`` means that county in D's own state; ``Cass County, ND`` names the state).
4. ``own_state``: D has no definition at all (no radius, no states, no counties) and the origin state is D's state.

Edge cases, decided here:

* Locality is a property of where the food was grown, never of the vendor: a farm's line with no origin is of
  unknown origin, and a distributor's line of in-radius produce is local (route ``traditional_local``).
* The origin state is the line's ``origin_state`` when given, else the state of its ``origin_zip``.
* A line has ``unknown_origin`` when it has neither a known ``origin_zip`` nor an ``origin_state``; it is not local,
  its ``local_basis`` is ``unknown_origin``, and metrics count its spend separately so a district can fix it.
* A line whose origin is known only by state cannot satisfy a radius or county rule (its distance is null);
  it can still be local by ``states`` or ``own_state``.
* Definitions are alternatives, not intersections: a district with a 100-mile radius and ``local_states = [CO]``
  counts a Colorado line 300 miles away as local (basis ``states``).
* ``local_basis`` is null for a line of known origin that is not local.
"""

from __future__ import annotations

import polars as pl

from coop import names
from coop.registry import geo

LOCAL = "local"
LOCAL_BASIS = "local_basis"
DISTANCE_MILES = "distance_miles"
UNKNOWN_ORIGIN = "unknown_origin"
BASIS_RADIUS = "radius"
BASIS_STATES = "states"
BASIS_COUNTIES = "counties"
BASIS_OWN_STATE = "own_state"
BASIS_UNKNOWN = "unknown_origin"
BASES = (BASIS_RADIUS, BASIS_STATES, BASIS_COUNTIES, BASIS_OWN_STATE, BASIS_UNKNOWN)

_KEYS = (names.DISTRICT_ID, names.ORIGIN_ZIP, names.ORIGIN_STATE)
_D = "_d_"  # prefix of the district columns while they are joined on


def _district_definitions(districts: pl.LazyFrame) -> pl.LazyFrame:
    """District id with its centroid, state, radius and whether it lists states / counties (prefixed columns)."""
    zips = geo.zip_table().lazy().select(geo.GEO_ZIP, geo.GEO_LAT, geo.GEO_LON)
    return (
        districts.select(
            names.DISTRICT_ID,
            pl.col(names.STATE).str.strip_chars().str.to_uppercase().alias(f"{_D}state"),
            geo.normalise_zip(pl.col(names.ZIP)).alias(geo.GEO_ZIP),
            pl.col(names.LOCAL_RADIUS_MILES).cast(pl.Float64).alias(f"{_D}radius"),
            (pl.col(names.LOCAL_STATES).list.len().fill_null(0) > 0).alias(f"{_D}has_states"),
            (pl.col(names.LOCAL_COUNTIES).list.len().fill_null(0) > 0).alias(f"{_D}has_counties"),
        )
        .join(zips, on=geo.GEO_ZIP, how="left")
        .rename({geo.GEO_LAT: f"{_D}lat", geo.GEO_LON: f"{_D}lon"})
        .drop(geo.GEO_ZIP)
    )


def _district_list(districts: pl.LazyFrame, column: str, key: pl.Expr, flag: str) -> pl.LazyFrame:
    """One row per (district, normalised entry of a list column) with a True `flag` column."""
    return (
        districts.select(names.DISTRICT_ID, names.STATE, pl.col(column).alias("_entry"))
        .explode("_entry")
        .filter(pl.col("_entry").is_not_null() & (pl.col("_entry").str.strip_chars() != ""))
        .select(names.DISTRICT_ID, key.alias("_entry"), pl.lit(True).alias(flag))
        .unique([names.DISTRICT_ID, "_entry"])
    )


def with_locality(purchases: pl.LazyFrame, districts: pl.LazyFrame) -> pl.LazyFrame:
    """Purchases plus `local`, `local_basis`, `distance_miles`, `unknown_origin` by each district's definition."""
    zips = geo.zip_table().lazy().rename({geo.GEO_ZIP: "_o_zip"})
    states = _district_list(
        districts,
        names.LOCAL_STATES,
        pl.col("_entry").str.strip_chars().str.to_uppercase(),
        "_in_states",
    ).rename({"_entry": "_o_state"})
    counties = _district_list(
        districts,
        names.LOCAL_COUNTIES,
        geo.county_key(pl.col("_entry"), pl.col(names.STATE).str.strip_chars()),
        "_in_counties",
    ).rename({"_entry": geo.GEO_COUNTY})
    # Decide once per distinct (district, origin_zip, origin_state), then join back: origins repeat a lot.
    keys = (
        purchases.select(_KEYS)
        .unique()
        .with_columns(
            geo.normalise_zip(pl.col(names.ORIGIN_ZIP)).alias("_o_zip"),
            pl.col(names.ORIGIN_STATE)
            .cast(pl.String)
            .str.strip_chars()
            .str.to_uppercase()
            .replace("", None)
            .alias("_o_given"),
        )
        .join(zips, on="_o_zip", how="left")
        .join(_district_definitions(districts), on=names.DISTRICT_ID, how="left")
        .with_columns(
            pl.coalesce(pl.col("_o_given"), pl.col(geo.GEO_STATE)).alias("_o_state"),
            geo.haversine_miles(pl.col(geo.GEO_LAT), pl.col(geo.GEO_LON), pl.col(f"{_D}lat"), pl.col(f"{_D}lon")).alias(
                DISTANCE_MILES
            ),
        )
        .join(states, on=[names.DISTRICT_ID, "_o_state"], how="left")
        .join(counties, on=[names.DISTRICT_ID, geo.GEO_COUNTY], how="left")
    )
    no_definition = (
        pl.col(f"{_D}radius").is_null()
        & ~pl.col(f"{_D}has_states").fill_null(False)
        & ~pl.col(f"{_D}has_counties").fill_null(False)
    )
    basis = (
        pl.when(pl.col(UNKNOWN_ORIGIN))
        .then(pl.lit(BASIS_UNKNOWN))
        .when((pl.col(DISTANCE_MILES) <= pl.col(f"{_D}radius")).fill_null(False))
        .then(pl.lit(BASIS_RADIUS))
        .when(pl.col("_in_states").fill_null(False))
        .then(pl.lit(BASIS_STATES))
        .when(pl.col("_in_counties").fill_null(False))
        .then(pl.lit(BASIS_COUNTIES))
        .when((no_definition & (pl.col("_o_state") == pl.col(f"{_D}state"))).fill_null(False))
        .then(pl.lit(BASIS_OWN_STATE))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    decided = (
        keys.with_columns((pl.col("_o_state").is_null() & pl.col(geo.GEO_LAT).is_null()).alias(UNKNOWN_ORIGIN))
        .with_columns(basis.alias(LOCAL_BASIS))
        .with_columns((pl.col(LOCAL_BASIS).is_not_null() & (pl.col(LOCAL_BASIS) != BASIS_UNKNOWN)).alias(LOCAL))
        .select(*_KEYS, LOCAL, LOCAL_BASIS, DISTANCE_MILES, UNKNOWN_ORIGIN)
    )
    return purchases.join(decided, on=list(_KEYS), how="left", nulls_equal=True, maintain_order="left")


def route_expr(vendor_type: pl.Expr, local: pl.Expr) -> pl.Expr:
    """The supply-chain route of a line from its vendor type and locality (DESIGN.md)."""
    return (
        pl.when(~local.fill_null(False))
        .then(pl.lit(names.TRADITIONAL_NONLOCAL))
        .when(vendor_type.is_in(names.DIRECT_VENDOR_TYPES))
        .then(pl.lit(names.DIRECT_LOCAL))
        .when(vendor_type.is_in(names.NONTRADITIONAL_VENDOR_TYPES))
        .then(pl.lit(names.NONTRADITIONAL_LOCAL))
        .otherwise(pl.lit(names.TRADITIONAL_LOCAL))
    )


def with_route(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Frame (with `vendor_type` and `local`) plus `route`: the paper's four supply-chain routes."""
    return frame.with_columns(route_expr(pl.col(names.VENDOR_TYPE), pl.col(LOCAL)).alias(names.ROUTE))


def localize(lines: pl.LazyFrame, districts: pl.LazyFrame) -> pl.LazyFrame:
    """Lines plus locality by each district's own definition (`with_locality`) and supply-chain `route`.

    The one place locality is applied: metrics, calibration, rules and the drill-down all read it from here.
    """
    return with_route(with_locality(lines, districts))
