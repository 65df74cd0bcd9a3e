"""Cached wrappers for the Co-op buying power page: the pool spec, pooled solves, allocations and what-ifs."""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Callable
from datetime import date

import duckdb
import polars as pl
import streamlit as st

from coop.errors import SpecError
from coop.optimize import allocate as alloc
from coop.optimize import execution, explain, lp, pool, pool_spec, quotes, scenarios
from coop.optimize.allocate import AllocationReport
from coop.optimize.pool import PoolResult
from coop.optimize.pool_spec import PoolSpec
from ui import session

DB_SPEC = "database"
# the pooled plan's tier table as shown (an offer is its route and category)
TIER_COLUMNS = ["offer", "pooled_volume", "tier", "unit_cost", "base_unit_cost", "fixed_cost_paid"]
LEAVE = "leave"
CAPACITY = "capacity"


def quotes_table() -> pl.DataFrame:
    """The pooled model's price terms (volume tiers, capacities, fixed costs); defaults are labelled assumptions."""
    return quotes.load_quotes(session.cursor())


def save_quotes(edited: pl.DataFrame) -> int:
    """Validate and store the edited price terms; return how many rows."""
    with session.writing() as cur:
        return int(quotes.save_quotes(cur, edited))


@st.cache_data(show_spinner="Building the pool from the database…", max_entries=16)
def _db_spec(
    _con: duckdb.DuckDBPyConnection,
    version: str,
    start: date,
    end: date,
    ids: tuple[str, ...],
    quotes_rows: tuple[tuple[object, ...], ...],
    local_min: float | None,
) -> PoolSpec:
    """A pool spec from the database for the period, restricted to the districts chosen."""
    terms = pl.DataFrame(list(quotes_rows), schema=quotes.QUOTE_SCHEMA, orient="row")
    return quotes.spec_from_db(
        _con.cursor(), quotes=terms, local_share_min=local_min, date_from=start, date_to=end, district_ids=ids
    )


def db_spec(start: date, end: date, ids: list[str], terms: pl.DataFrame, local_min: float | None) -> PoolSpec:
    """A pool spec from the database (cached until the data or the inputs change)."""
    rows = tuple(tuple(r) for r in terms.iter_rows())
    return _db_spec(session.connection(), session.data_version(), start, end, tuple(sorted(ids)), rows, local_min)


def spec_from_upload(name: str, content: bytes) -> PoolSpec:
    """A pool spec from an uploaded JSON file; SpecError names the bad field."""
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SpecError(f"{name}: not a JSON document: {exc}") from exc
    return pool_spec.parse_spec(data, source=name)


@st.cache_data(show_spinner="Solving each district alone and the pool…", max_entries=16)
def solve_pool(spec: PoolSpec) -> PoolResult:
    """Each district's standalone optimum and the pooled optimum, with savings."""
    return pool.solve_pool(spec)


def price_basis(terms: pl.DataFrame | None) -> str:
    """What modelled savings rest on, e.g. 'assumed price terms (0 of 9 offers quoted)'; for a spec, its file."""
    return "the spec's own offers" if terms is None else explain.price_basis(terms)


def status_words(status: str) -> str:
    """The solver's status in words."""
    return explain.status_words(status)


def delta_dollars(change: float) -> str:
    """A change in dollars with its sign in front ('-$611,787', '+$1,200'), so the metric's arrow follows it."""
    return f"{'-' if change < 0 else '+'}${abs(change):,.0f}"


def shapley_note(members: int, exact: int) -> str:
    """How the fair split is computed for this many members: every coalition up to `exact`, sampled beyond."""
    if members <= exact:
        return (
            f"exact Shapley value and core check over all {2**members - 1:,} groups of the {members} district(s) "
            f"(every group is solved up to {exact} members)"
        )
    return (
        f"{members} districts is more than the {exact} for which every group is solved (up to {exact} members), "
        "so the Shapley value is estimated from sampled orders and the core is not checked exhaustively"
    )


def exact_shapley_limit() -> int:
    """The most members for which allocation solves every coalition (exact Shapley value, core check)."""
    return alloc.DEFAULT_EXACT


DEFAULT_TOLERANCE = alloc.DEFAULT_TOLERANCE
DEFAULT_TIME_BUDGET = alloc.DEFAULT_TIME_BUDGET


def where_solves_run() -> str:
    """Where large co-ops' coalition solves run: the COOP_DASK_SCHEDULER cluster or a LocalCluster here."""
    address = execution.scheduler_address()
    return f"the dask cluster at {address}" if address else f"a LocalCluster of {execution.default_workers()} worker(s)"


def allocate(
    spec: PoolSpec,
    progress: Callable[[float, str], None] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    time_budget: float = DEFAULT_TIME_BUDGET,
) -> AllocationReport:
    """Standalone and pooled optima, every coalition (or a sample to the stated precision), and each allocation.

    Kept for the server's life. Large co-ops' coalition solves run on COOP_DASK_SCHEDULER when set, else on a
    LocalCluster on this machine.
    """
    key = hashlib.sha256(pickle.dumps((spec, tolerance, time_budget))).hexdigest()
    return session.memo(
        "allocate",
        key,
        lambda: alloc.allocate(spec, progress=progress, tolerance=tolerance, time_budget=time_budget),
    )


def precision_table(report: AllocationReport) -> pl.DataFrame:
    """Per district: Shapley share and its 95% half-width ($ and share of standalone cost), within tolerance."""
    return report.precision()


def precision_summary(report: AllocationReport) -> str:
    """One sentence: exact, or sampled with its permutations, largest half-width and whether the target was met."""
    if report.games.exhaustive:
        return f"Shapley value exact: every one of the {len(report.games.values) - 1:,} coalitions solved."
    table = report.precision()
    worst = float(table["half_width_share"].max() or 0.0)
    verdict = "met" if report.precision_target_met else "NOT met (the time budget ended first)"
    return (
        f"Shapley value sampled: {report.permutations:,} permutations, {report.coalition_solves:,} coalition "
        f"solves (on {report.execution} beyond the standalone and pooled optima). Largest 95% half-width "
        f"{worst:.2%} of a district's standalone cost; target {report.tolerance:.2%}: {verdict}."
    )


def core_verdict(report: AllocationReport) -> str:
    """The Shapley split's core verdict in words: in the core, or which group would save how much by leaving."""
    check = report.core_check
    if check is None:
        return "The core was not checked."
    how = (
        "every coalition checked"
        if check.method == alloc.ENUMERATION
        else f"one MILP over membership (separation), gap {check.mip_gap:.1e} of the pooled cost, {check.seconds:.1f} s"
    )
    if check.in_core is True:
        return f"The Shapley split is in the core: no group of districts would pay less on its own ({how})."
    if check.in_core is False:
        return (
            f"The Shapley split is outside the core: a group of {len(check.members)} district(s) "
            f"({', '.join(check.members[:8])}{', …' if len(check.members) > 8 else ''}) would save "
            f"${check.excess:,.2f} a year by leaving ({how})."
        )
    return (
        f"Core check undecided within its time limit: no group found saving more than ${max(check.excess, 0):,.2f}, "
        f"but up to ${check.excess_bound:,.2f} is not ruled out ({how})."
    )


def standalone_total(result: PoolResult) -> float:
    """What the districts pay buying alone, summed (US dollars per year)."""
    return float(result.standalone["standalone_cost"].sum())


def binding_capacities(result: PoolResult) -> pl.DataFrame:
    """The pooled plan's capacities that bind."""
    return result.capacities.filter("binding") if result.capacities.height else result.capacities


def pool_costs(result: PoolResult) -> pl.DataFrame:
    """Per district: standalone cost, pooled purchase cost, savings (US dollars per year) for the chart."""
    return explain.pool_costs(result)


def savings_by_route(result: PoolResult) -> pl.DataFrame:
    """Where the savings come from: units and cost per route, buying alone vs in the pool, and the difference."""
    return explain.savings_by_route(result)


def allocation_long(report: AllocationReport) -> pl.DataFrame:
    """Each district's allocated cost under each method (`district_id`, `method`, `cost`)."""
    return explain.allocations_long(report)


def allocation_checks(report: AllocationReport) -> pl.DataFrame:
    """Per allocation method: in the core, individually rational, largest excess, blocking group, weakness."""
    return explain.allocation_checks(report)


@st.cache_data(show_spinner="Solving the what-if…", max_entries=32)
def what_if(spec: PoolSpec, change: str, district_id: str | None, factor: float) -> tuple[PoolResult, PoolResult]:
    """Baseline and changed pool results for a what-if: a district leaves (LEAVE), or local capacity is scaled."""
    if change == LEAVE:
        _changed, after = pool.what_if(spec, lambda s: pool.without_district(s, str(district_id)))
    else:
        _changed, after = pool.what_if(spec, lambda s: pool.with_local_capacity(s, factor))
    return solve_pool(spec), after


def scenario_choices() -> dict[str, str]:
    """Shipped route-LP scenario name -> its label."""
    return {name: sc.label or name for name, sc in scenarios.SCENARIOS.items()}


@st.cache_data(show_spinner="Solving each district's own route LP…", max_entries=16)
def _route_lp_alone(_con: duckdb.DuckDBPyConnection, version: str, ids: tuple[str, ...], scenario: str) -> pl.DataFrame:
    """Per district: status and total cost of its own route LP (calibrated costs and meals) under a scenario."""
    rows = []
    for district_id in ids:
        model, _notes = lp.district_model(_con.cursor(), district_id)
        result = lp.solve(scenario, model)
        rows.append({"district": district_id, "route_lp_status": result.status, "route_lp_cost": result.total_cost})
    return pl.DataFrame(rows, schema={"district": pl.String, "route_lp_status": pl.String, "route_lp_cost": pl.Float64})


def route_lp_alone(ids: list[str], scenario: str) -> pl.DataFrame:
    """Each district alone at its own route-LP optimum (US dollars per year), as `optimize --district D` solves it."""
    return _route_lp_alone(session.connection(), session.data_version(), tuple(sorted(ids)), scenario)
