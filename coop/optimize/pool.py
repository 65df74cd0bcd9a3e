"""The pooled co-op purchasing model: one MILP for any coalition of districts, re-solved by parameters.

A coalition S buys every member's demand (units per category) from offers (route x category x vendor).
An offer has a base unit cost, optional all-units volume tiers decided by the coalition's pooled volume on
it, an optional capacity shared by the coalition and an optional fixed cost paid once when the coalition
uses it. Each member keeps its own policy constraints (minimum local share of its units; the paper's
economic-impact and price-risk route-mix forms). The formulation is built once for the full member set;
a coalition is solved by setting a non-member's demand to 0.

Tight formulation: an offer with tiers or a fixed cost gets one segment per tier, the pooled volume is the
sum of the segment volumes, ``lb_k y_k <= v_k <= ub_k y_k`` with one binary ``y_k`` per segment and
``sum_k y_k <= 1``, so the LP relaxation of each offer's cost curve is its convex hull. Offers without tiers
or fixed costs are plain continuous variables.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import cvxpy as cp
import numpy as np
import polars as pl

from coop import names
from coop.errors import ModelError, SpecError
from coop.optimize.pool_spec import (
    CAPACITY_DEMAND_SHARE,
    VOLUME_TOLERANCE,
    District,
    PoolSpec,
    Tier,
    parse_spec,
    spec_to_dict,
)
from coop.optimize.status import (
    AMBIGUOUS,
    ERROR,
    INFEASIBLE,
    OPTIMAL,
    STOPPED,
    TIME_LIMIT,
    PoolStatus,
    from_cvxpy,
    inaccurate,
)

Progress = Callable[[float, str], None]


# --- solver settings and results ------------------------------------------------------------------
@dataclass(frozen=True)
class SolverSettings:
    """HiGHS settings every coalition solve uses; results report them beside the outcome."""

    mip_gap: float = 1e-6  # relative MIP gap at which HiGHS may stop
    time_limit: float = 60.0  # seconds per coalition solve
    warm_start: bool = True  # pass the previous coalition's solution to HiGHS
    heuristics: str = "auto"  # full | light (no restarts, RINS, RENS, feasibility jump) | auto: light up to 12 members


# HiGHS options of the "light" setting: on the small pooled MILPs of a coalition enumeration these heuristics cost
# 4-7x the solve time and change no optimum (bench/pool.py measures it); large co-ops keep them.
LIGHT_HEURISTICS: Mapping[str, bool] = {
    "mip_allow_restart": False,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_heuristic_run_feasibility_jump": False,
}
LIGHT_UP_TO = 12


@dataclass(frozen=True)
class CoalitionSolve:
    """One coalition's optimum: cost, status, and (when asked for) its plan as Polars tables."""

    members: tuple[str, ...]
    status: PoolStatus
    cost: float | None
    mip_gap: float  # achieved relative gap (0 for an LP)
    solve_seconds: float
    purchases: pl.DataFrame | None = None  # district, offer, route, category, vendor, local, units, unit_cost, cost
    tiers: pl.DataFrame | None = None  # offer, pooled_volume, tier, min_volume, unit_cost, fixed_cost_paid
    capacities: pl.DataFrame | None = None  # offer, capacity, used, binding
    duals: pl.DataFrame | None = None  # constraint, district, key, dual, rhs (pure LP only)


@dataclass(frozen=True)
class PoolResult:
    """Standalone optima against the pooled optimum, per district, with the solver's settings and outcome."""

    spec: PoolSpec
    standalone: pl.DataFrame  # district, standalone_cost, coop_cost, savings, savings_share
    coop_cost: float
    savings: float
    purchases: pl.DataFrame  # scope (standalone|coop), district, offer, ..., units, unit_cost, cost
    tiers: pl.DataFrame  # tiers the pool reaches on each tiered/fixed-cost offer
    capacities: pl.DataFrame  # capacity use in the pooled plan, binding flag
    status: PoolStatus
    settings: SolverSettings
    worst_gap: float
    solve_seconds: float
    coop: CoalitionSolve = field(repr=False)
    capacity_shares: pl.DataFrame = field(repr=False)  # district, offer, units: each member's part of a capacity
    heuristics: str = "full"  # the HiGHS heuristics setting the solves used (SolverSettings.heuristics resolved)


# --- the model ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Formulation:
    """A purchase plan's variables, cost expression and named constraints (see `PoolModel.formulate`)."""

    x: cp.Variable  # units per member x offer
    v: cp.Variable | None  # units per price segment of offers with tiers or fixed costs
    y: cp.Variable | None  # 1 when a price segment is in use
    cost: cp.Expression | float
    constraints: dict[str, cp.Constraint]


def _status(prob: cp.Problem) -> tuple[PoolStatus, float]:
    """Our status word (`coop.optimize.status`) and the achieved MIP gap for a solved problem."""
    info = (prob.solver_stats.extra_stats if prob.solver_stats is not None else None) if prob.status else None
    gap = float(getattr(info, "mip_gap", 0.0) or 0.0) if info is not None else 0.0
    if not math.isfinite(gap):
        gap = math.inf
    word = from_cvxpy(prob.status)
    if prob.status == STOPPED or (word == OPTIMAL and inaccurate(prob.status)):
        # stopped early: a plan only when HiGHS holds a feasible point (primal_solution_status 2)
        feasible = info is not None and int(getattr(info, "primal_solution_status", 0)) == 2
        return (TIME_LIMIT, gap) if feasible else (ERROR, math.inf)
    if prob.status == AMBIGUOUS:
        return INFEASIBLE, math.inf
    return (word, max(gap, 0.0)) if word == OPTIMAL else (word, math.inf)


class PoolModel:
    """The pooled MILP for a spec, built once with cp.Parameters and re-solved per coalition."""

    def __init__(self, spec: PoolSpec, settings: SolverSettings | None = None) -> None:
        self.spec = spec
        self.settings = settings or SolverSettings()
        self.ids = spec.ids
        self.categories = spec.categories
        n, n_off, n_cat = len(spec.districts), len(spec.offers), len(self.categories)
        cat_index = {c: j for j, c in enumerate(self.categories)}
        self.offer_cat = np.array([cat_index[o.category] for o in spec.offers], dtype=int)
        self.demand = np.array([[d.demand.get(c, 0.0) for c in self.categories] for d in spec.districts], dtype=float)
        self.local_share = np.array([d.policy.local_share_min for d in spec.districts], dtype=float)
        self.base_cost = np.array([o.unit_cost for o in spec.offers], dtype=float)
        self.grand_cat_demand = self.demand.sum(axis=0)

        incidence = np.zeros((n_off, n_cat))
        incidence[np.arange(n_off), self.offer_cat] = 1.0
        local = np.array([o.local for o in spec.offers], dtype=float)

        self.lin_idx = np.array([k for k, o in enumerate(spec.offers) if not o.needs_binaries], dtype=int)
        self.bin_idx = np.array([k for k, o in enumerate(spec.offers) if o.needs_binaries], dtype=int)
        self.cap_idx = np.array([k for k, o in enumerate(spec.offers) if o.capacity is not None], dtype=int)
        # segments of the offers that need binaries: (offer index, low, high, unit cost)
        segs = [(k, lo, hi, c) for k in self.bin_idx for (lo, hi, c) in spec.offers[k].segments()]
        self.seg_offer = np.array([s[0] for s in segs], dtype=int)
        self.seg_low = np.array([s[1] for s in segs], dtype=float)
        self.seg_high = np.array([s[2] for s in segs], dtype=float)
        self.seg_cost = np.array([s[3] for s in segs], dtype=float)

        # capacity_share[i, r]: member i's part of capacity row r; additive rows give a coalition its members' sum,
        # the others (capacity_basis 'coalition') let every coalition use the whole capacity
        self.capacity_share = np.zeros((n, self.cap_idx.size))
        self.cap_additive = np.zeros(self.cap_idx.size, dtype=bool)
        for r, k in enumerate(self.cap_idx):
            o = spec.offers[k]
            if o.capacity_by_district is not None:
                self.capacity_share[:, r] = [o.capacity_by_district.get(d, 0.0) for d in self.ids]
                self.cap_additive[r] = True
            else:
                units = self.demand[:, self.offer_cat[k]]
                total = units.sum()
                self.capacity_share[:, r] = float(o.capacity or 0.0) * units / total if total > 0 else 0.0
                self.cap_additive[r] = spec.capacity_basis == CAPACITY_DEMAND_SHARE
        self.incidence = incidence
        self.local_flags = local
        # every member's route-LP rows in ">=" form: row r belongs to member row_owner[r]
        route_rows = [(i, row) for i, d in enumerate(spec.districts) for row in d.policy.route_rows]
        self.row_owner = np.array([i for i, _ in route_rows], dtype=int)
        self.row_names = [f"{spec.districts[i].id}:{row.name}" for i, row in route_rows]
        row_sign = np.array([1.0 if row.sense == ">=" else -1.0 for _, row in route_rows])
        self.row_coef = (
            np.array(
                [[row.coefficients.get(o.route, 0.0) for o in spec.offers] for _, row in route_rows], dtype=float
            ).reshape(len(route_rows), n_off)
            * row_sign[:, None]
        )
        self.row_rhs = np.array([row.rhs for _, row in route_rows], dtype=float) * row_sign
        self.D = cp.Parameter((n, n_cat), nonneg=True, name="demand")
        self.local_rhs = cp.Parameter(n, nonneg=True, name="local_units_min")
        self.cap = cp.Parameter(self.cap_idx.size, nonneg=True, name="capacity") if self.cap_idx.size else None
        self.seg_lb = self.seg_ub = None
        if self.seg_offer.size:
            self.seg_lb = cp.Parameter(self.seg_offer.size, nonneg=True, name="segment_min")
            self.seg_ub = cp.Parameter(self.seg_offer.size, nonneg=True, name="segment_max")
        self.route_rhs = cp.Parameter(self.row_owner.size, name="route_rows_rhs") if self.row_owner.size else None
        plan = self.formulate(self.D, self.local_rhs, self.cap, self.seg_lb, self.seg_ub, self.route_rhs)
        self.x, self.v, self.y, cost, cons = plan.x, plan.v, plan.y, plan.cost, plan.constraints
        self.policy_rows = {
            label: [i for i, d in enumerate(spec.districts) if getattr(d.policy, attr) is not None]
            for label, attr in ((names.ECONOMIC_IMPACT, "economic_impact"), (names.PRICE_RISK, "price_risk"))
        }
        self.cons = cons
        self.prob = cp.Problem(cp.Minimize(cost), list(cons.values()))
        if not self.prob.is_dpp():
            raise ModelError("pooled model is not DPP; cannot re-solve by parameters")
        self.solves = 0
        light = self.settings.heuristics == "light" or (self.settings.heuristics == "auto" and n <= LIGHT_UP_TO)
        if self.settings.heuristics not in ("auto", "light", "full"):
            raise ModelError(f"heuristics must be auto, light or full, got {self.settings.heuristics!r}")
        self.highs_options: dict[str, Any] = dict(LIGHT_HEURISTICS) if light else {}
        self.heuristics = "light" if light else "full"

    def formulate(
        self,
        demand: cp.Expression,
        local_rhs: cp.Expression,
        capacity: cp.Expression | None,
        seg_lb: cp.Expression | np.ndarray | None,
        seg_ub: cp.Expression | np.ndarray | None,
        route_rhs: cp.Expression | None = None,
    ) -> Formulation:
        """The purchase plan's variables, cost and named constraints for a coalition's demand, local and capacity rows.

        The coalition model passes parameters; the core separation (`CoreSeparation`) passes expressions of its
        membership binaries, so both solve the same purchase plan.
        """
        spec = self.spec
        n, n_off = len(spec.districts), len(spec.offers)
        x = cp.Variable((n, n_off), nonneg=True, name="units")
        volume = cp.sum(x, axis=0)
        cons: dict[str, cp.Constraint] = {}
        cons["demand"] = x @ self.incidence == demand
        cons["local_share"] = x @ self.local_flags >= local_rhs
        for label, attr, sense in (
            (names.ECONOMIC_IMPACT, "economic_impact", 1.0),
            (names.PRICE_RISK, "price_risk", -1.0),
        ):
            rows = [i for i, d in enumerate(spec.districts) if getattr(d.policy, attr) is not None]
            if rows:
                coef = np.array([[getattr(spec.districts[i].policy, attr)[o.route] for o in spec.offers] for i in rows])
                mix = cp.sum(cp.multiply(sense * coef, x[rows, :]), axis=1)
                cons[label] = mix >= 0
        if self.row_owner.size and route_rhs is not None:
            cons["route_rows"] = cp.sum(cp.multiply(self.row_coef, x[self.row_owner, :]), axis=1) >= route_rhs
        cost: cp.Expression | float = 0.0
        if self.lin_idx.size:
            cost = cost + self.base_cost[self.lin_idx] @ volume[self.lin_idx]
        if self.cap_idx.size and capacity is not None:
            cons["capacity"] = volume[self.cap_idx] <= capacity
        v = y = None
        if self.seg_offer.size:
            n_seg = self.seg_offer.size
            v = cp.Variable(n_seg, nonneg=True, name="segment_volume")
            y = cp.Variable(n_seg, boolean=True, name="segment_on")
            seg_map = np.zeros((self.bin_idx.size, n_seg))
            pos = {k: r for r, k in enumerate(self.bin_idx)}
            seg_map[[pos[k] for k in self.seg_offer], np.arange(n_seg)] = 1.0
            self.seg_map = seg_map
            fixed = np.array([spec.offers[k].fixed_cost for k in self.bin_idx])
            cons["segment_volume"] = volume[self.bin_idx] == seg_map @ v
            cons["segment_min"] = v >= cp.multiply(seg_lb, y)
            cons["segment_max"] = v <= cp.multiply(seg_ub, y)
            cons["one_segment"] = seg_map @ y <= 1
            cost = cost + self.seg_cost @ v + fixed @ (seg_map @ y)
            rows = np.flatnonzero(fixed > 0)
            if rows.size:
                # disaggregated bound (as in facility location): a member buys from an offer with a fixed cost only
                # if the coalition opens it, x[d, o] <= demand[d, c(o)] * open[o]; tightens the LP relaxation. The
                # full demand is a constant here (a non-member buys nothing anyway), which keeps compilation cheap.
                opened = cp.reshape(seg_map[rows] @ y, (1, rows.size), order="C")
                cols = self.bin_idx[rows]
                cons["open_offer"] = x[:, cols] <= cp.multiply(
                    self.demand[:, self.offer_cat[cols]], np.ones((n, 1)) @ opened
                )
        return Formulation(x=x, v=v, y=y, cost=cost, constraints=cons)

    # -- parameters for a coalition ----------------------------------------------------------------
    def _mask(self, members: Iterable[str | int]) -> np.ndarray:
        """Boolean membership vector from ids or indices."""
        mask = np.zeros(len(self.ids), dtype=bool)
        index = {d: i for i, d in enumerate(self.ids)}
        for m in members:
            if isinstance(m, (int, np.integer)):
                mask[int(m)] = True
            elif m in index:
                mask[index[m]] = True
            else:
                raise ModelError(f"unknown district {m!r} in coalition")
        return mask

    def _set(self, mask: np.ndarray) -> None:
        """Set every parameter for the coalition given as a membership vector."""
        demand = self.demand * mask[:, None]
        self.D.value = demand
        self.local_rhs.value = self.local_share * demand.sum(axis=1)
        if self.route_rhs is not None:
            self.route_rhs.value = self.row_rhs * mask[self.row_owner]
        cat_demand = demand.sum(axis=0)
        cap_now = None
        if self.cap_idx.size:
            caps = np.array([self.spec.offers[k].capacity for k in self.cap_idx], dtype=float)
            caps = np.where(self.cap_additive, mask.astype(float) @ self.capacity_share, caps)
            self.cap.value = caps
            cap_now = dict(zip(self.cap_idx.tolist(), caps.tolist(), strict=True))
        if self.seg_offer.size:
            # most an offer can sell this coalition, and least it must (the rest of its category cannot cover)
            most = cat_demand[self.offer_cat].copy()
            if cap_now:
                most = np.minimum(most, [cap_now.get(k, math.inf) for k in range(most.size)])
            others = np.bincount(self.offer_cat, weights=most, minlength=cat_demand.size)[self.offer_cat] - most
            least = np.maximum(cat_demand[self.offer_cat] - others, 0.0)
            top = most[self.seg_offer]
            high = np.minimum(self.seg_high, top)
            reachable = (self.seg_low <= high + VOLUME_TOLERANCE) & (high >= least[self.seg_offer] - VOLUME_TOLERANCE)
            self.seg_lb.value = np.where(reachable, self.seg_low, 0.0)
            self.seg_ub.value = np.where(reachable, np.maximum(high, 0.0), 0.0)

    # -- solving -------------------------------------------------------------------------------------
    def cold_start(self) -> None:
        """Forget the previous solution, so the next solve starts cold (a chain of solves then depends on it alone)."""
        self.prob._solver_cache.pop(cp.HIGHS, None)  # cvxpy keeps HiGHS's last solution here for warm starts

    def solve(self, members: Iterable[str | int], *, detail: bool = True) -> CoalitionSolve:
        """The optimum for one coalition (ids or indices); with `detail`, its plan as tables."""
        mask = self._mask(members)
        member_ids = tuple(d for d, m in zip(self.ids, mask, strict=True) if m)
        if not mask.any():
            return CoalitionSolve(member_ids, OPTIMAL, 0.0, 0.0, 0.0)
        self._set(mask)
        start = time.perf_counter()
        try:
            self.prob.solve(
                solver=cp.HIGHS,
                warm_start=self.settings.warm_start,
                time_limit=float(self.settings.time_limit),
                mip_rel_gap=float(self.settings.mip_gap),
                **self.highs_options,
            )
        except cp.SolverError as exc:
            raise ModelError(f"HiGHS failed on coalition {member_ids}: {exc}") from exc
        seconds = time.perf_counter() - start
        self.solves += 1
        status, gap = _status(self.prob)
        if status not in (OPTIMAL, TIME_LIMIT):
            return CoalitionSolve(member_ids, status, None, gap, seconds)
        cost = float(self.prob.value)
        if not detail:
            return CoalitionSolve(member_ids, status, cost, gap, seconds)
        return CoalitionSolve(member_ids, status, cost, gap, seconds, *self._tables(mask))

    def _tables(self, mask: np.ndarray) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame | None]:
        """Purchases, tiers, capacities and (pure LP) duals of the current solution."""
        spec = self.spec
        x = np.clip(np.asarray(self.x.value), 0.0, None)
        volume = x.sum(axis=0)
        offer_cost = self.base_cost * volume
        tier_rows = []  # tier: 0 = base price, k = the offer's k-th tier reached, -1 = offer not used
        if self.seg_offer.size:
            v = np.clip(np.asarray(self.v.value), 0.0, None)
            y = np.round(np.asarray(self.y.value))
            for k in self.bin_idx:
                o = spec.offers[k]
                on = np.flatnonzero((self.seg_offer == k) & (y > 0.5))
                seg_total = float(self.seg_cost[self.seg_offer == k] @ v[self.seg_offer == k])
                paid = o.fixed_cost if on.size else 0.0
                offer_cost[k] = seg_total + paid
                levels = o.segments()
                used = volume[k] > VOLUME_TOLERANCE or paid > 0
                seg = int(np.flatnonzero(self.seg_offer == k).tolist().index(on[0])) if on.size else 0
                lo, _hi, unit = levels[seg]
                tier = sum(1 for t in o.tiers if t.min_volume <= lo) if used else -1
                tier_rows.append(
                    {
                        "offer": o.id,
                        "route": o.route,
                        "category": o.category,
                        "pooled_volume": float(volume[k]),
                        "tier": tier,
                        "min_volume": lo,
                        "unit_cost": unit,
                        "base_unit_cost": o.unit_cost,
                        "fixed_cost_paid": paid,
                    }
                )
        unit_cost = np.divide(offer_cost, volume, out=self.base_cost.copy(), where=volume > VOLUME_TOLERANCE)
        rows_d, rows_o = np.nonzero((x > VOLUME_TOLERANCE) & mask[:, None])
        purchases = pl.DataFrame(
            {
                "district": [self.ids[i] for i in rows_d],
                "offer": [spec.offers[k].id for k in rows_o],
                names.ROUTE: [spec.offers[k].route for k in rows_o],
                names.CATEGORY: [spec.offers[k].category for k in rows_o],
                "vendor": [spec.offers[k].vendor for k in rows_o],
                "local": [spec.offers[k].local for k in rows_o],
                "units": x[rows_d, rows_o],
                "unit_cost": unit_cost[rows_o],
                "cost": x[rows_d, rows_o] * unit_cost[rows_o],
            },
            schema_overrides={"district": pl.String, "offer": pl.String, names.ROUTE: pl.String},
        )
        tiers = pl.DataFrame(
            tier_rows,
            schema={
                "offer": pl.String,
                "route": pl.String,
                "category": pl.String,
                "pooled_volume": pl.Float64,
                "tier": pl.Int64,
                "min_volume": pl.Float64,
                "unit_cost": pl.Float64,
                "base_unit_cost": pl.Float64,
                "fixed_cost_paid": pl.Float64,
            },
        )
        cap_values = np.asarray(self.cap.value) if self.cap_idx.size else np.zeros(0)
        capacities = pl.DataFrame(
            {
                "offer": [spec.offers[k].id for k in self.cap_idx],
                "capacity": cap_values,
                "used": volume[self.cap_idx] if self.cap_idx.size else np.zeros(0),
            },
            schema={"offer": pl.String, "capacity": pl.Float64, "used": pl.Float64},
        ).with_columns(
            binding=(pl.col("capacity") > 0)
            & (pl.col("used") >= pl.col("capacity") - 1e-6 * (1.0 + pl.col("capacity")))
        )
        duals = self._duals(mask) if self.seg_offer.size == 0 else None
        return purchases, tiers, capacities, duals

    def _duals(self, mask: np.ndarray) -> pl.DataFrame:
        """Each constraint row's marginal cost per unit of right-hand side, with that row's right-hand side."""
        rows: list[dict[str, Any]] = []
        demand_dual = np.asarray(self.cons["demand"].dual_value)
        for i in np.flatnonzero(mask):
            for j, c in enumerate(self.categories):
                # cvxpy's equality dual is -d(cost)/d(rhs) for `expr == param`
                rows.append(
                    {
                        "constraint": "demand",
                        "district": self.ids[i],
                        "key": c,
                        "dual": -float(demand_dual[i, j]),
                        "rhs": float(self.D.value[i, j]),
                    }
                )
            rows.append(
                {
                    "constraint": "local_share",
                    "district": self.ids[i],
                    "key": "",
                    "dual": float(np.asarray(self.cons["local_share"].dual_value)[i]),
                    "rhs": float(self.local_rhs.value[i]),
                }
            )
        if self.cap_idx.size:
            cap_dual = np.asarray(self.cons["capacity"].dual_value)
            for r, k in enumerate(self.cap_idx):
                rows.append(
                    {
                        "constraint": "capacity",
                        "district": "",
                        "key": self.spec.offers[k].id,
                        "dual": -float(cap_dual[r]),
                        "rhs": float(self.cap.value[r]),
                    }
                )
        return pl.DataFrame(
            rows,
            schema={
                "constraint": pl.String,
                "district": pl.String,
                "key": pl.String,
                "dual": pl.Float64,
                "rhs": pl.Float64,
            },
        )


def _require(solve: CoalitionSolve, what: str) -> float:
    """The cost of a solve that produced a plan, or a ModelError saying why there is none."""
    if solve.cost is None:
        raise ModelError(f"{what} ({', '.join(solve.members)}): no plan, solver status {solve.status}")
    return solve.cost


# --- the core separation: the most-violated coalition, one MILP over membership binaries --------------
CORE_TIME_LIMIT = 300.0  # seconds for one separation MILP


@dataclass(frozen=True)
class Separation:
    """The coalition S maximising (allocated cost of S - c(S)) over proper coalitions, within the MILP's gap."""

    members: tuple[str, ...]  # the most-violated coalition found (the tightest one when none is violated)
    mask: int  # the same coalition as a bit mask (bit i = member i)
    excess: float  # allocated cost of S minus c(S) (the cheaper of the MILP plan and a re-solve): > 0, S leaves
    excess_bound: float  # no proper coalition's excess exceeds this (the MILP's dual bound)
    mip_gap: float  # HiGHS's relative gap at the end (relative to the co-op's cost scale)
    status: PoolStatus  # optimal | time_limit (a coalition found, the bound not closed) | error
    seconds: float


class CoreSeparation:
    """One MILP over membership binaries z: minimise c(plan of z) + sum_{i not in z} a_i, i.e. maximise excess.

    The purchase plan is the pooled model's (`PoolModel.formulate`) with each member's demand, local-share rows and
    capacity entitlements scaled by its z_i, so the plan is exactly coalition z's; the allocation `a` is a
    parameter, re-set for each split checked (the least core's constraint generation re-solves it many times).
    """

    def __init__(self, model: PoolModel, *, time_limit: float = CORE_TIME_LIMIT, mip_gap: float | None = None) -> None:
        self.model = model
        self.time_limit = float(time_limit)
        self.mip_gap = float(model.settings.mip_gap if mip_gap is None else mip_gap)
        n, n_cat = len(model.ids), len(model.categories)
        self.z = cp.Variable(n, boolean=True, name="member")
        self.a = cp.Parameter(n, name="allocation")
        spread = cp.reshape(self.z, (n, 1), order="C") @ np.ones((1, n_cat))
        demand = cp.multiply(model.demand, spread)
        local_rhs = cp.multiply(model.local_share * model.demand.sum(axis=1), self.z)
        capacity = None
        grand_cap = np.full(len(model.spec.offers), math.inf)
        if model.cap_idx.size:
            whole = np.array([model.spec.offers[k].capacity for k in model.cap_idx], dtype=float)
            additive = model.cap_additive.astype(float)
            capacity = cp.multiply(additive, model.capacity_share.T @ self.z) + (1.0 - additive) * whole
            grand_cap[model.cap_idx] = np.where(model.cap_additive, model.capacity_share.sum(axis=0), whole)
        seg_lb = seg_ub = None
        if model.seg_offer.size:
            # the grand coalition's most on each offer bounds every coalition's (demand and entitlements only grow)
            most = np.minimum(model.grand_cat_demand[model.offer_cat], grand_cap)
            seg_lb = model.seg_low
            seg_ub = np.maximum(np.minimum(model.seg_high, most[model.seg_offer]), 0.0)
        route_rhs = cp.multiply(model.row_rhs, self.z[model.row_owner]) if model.row_owner.size else None
        plan = model.formulate(demand, local_rhs, capacity, seg_lb, seg_ub, route_rhs)
        self.plan = plan
        # minimise c(plan) - a(S): HiGHS sees exactly minus the excess, and stops at an absolute gap in dollars
        cons = [*plan.constraints.values(), cp.sum(self.z) >= 1, cp.sum(self.z) <= n - 1]
        self.prob = cp.Problem(cp.Minimize(plan.cost - self.a @ self.z), cons)
        if not self.prob.is_dpp():
            raise ModelError("core separation MILP is not DPP; cannot re-solve by parameters")

    def most_violated(self, allocation: Sequence[float] | np.ndarray) -> Separation:
        """The proper coalition whose allocated cost most exceeds its own optimum, with the bound on any excess."""
        model = self.model
        a = np.asarray(allocation, dtype=float)
        n = len(model.ids)
        if n < 2:
            raise ModelError("the core check needs at least two members")
        self.a.value = a
        total = float(a.sum())
        scale = max(1.0, abs(total))
        start = time.perf_counter()
        try:
            self.prob.solve(
                solver=cp.HIGHS,
                time_limit=self.time_limit,
                mip_rel_gap=0.0,
                mip_abs_gap=self.mip_gap * scale,
                warm_start=False,
            )
        except cp.SolverError as exc:
            raise ModelError(f"HiGHS failed on the core separation MILP: {exc}") from exc
        status, _gap = _status(self.prob)
        if status not in (OPTIMAL, TIME_LIMIT) or self.z.value is None:
            raise ModelError(f"core separation MILP: no coalition found, solver status {status}")
        info = self.prob.solver_stats.extra_stats if self.prob.solver_stats is not None else None
        found = -float(self.prob.value)  # the MILP's excess for its coalition
        dual = float(getattr(info, "mip_dual_bound", math.nan))  # HiGHS's lower bound on c(plan) - a(S)
        if math.isfinite(dual):
            bound = max(found, -dual)
        else:
            bound = found + self.mip_gap * scale if status == OPTIMAL else math.inf
        chosen = [i for i in range(n) if self.z.value[i] > 0.5]
        mask = sum(1 << i for i in chosen)
        alone = model.solve(chosen, detail=False)  # c(S) re-solved on its own
        cost = _require(alone, "coalition found by the core separation")
        # both plans are feasible for S, so the cheaper one bounds c(S) from above and the excess from below
        excess = max(float(a[chosen].sum()) - cost, found)
        return Separation(
            members=tuple(model.ids[i] for i in chosen),
            mask=mask,
            excess=excess,
            excess_bound=max(bound, excess),
            mip_gap=max(bound - excess, 0.0) / scale,
            status=status,
            seconds=time.perf_counter() - start,
        )


def solve_pool(
    spec: PoolSpec,
    settings: SolverSettings | None = None,
    *,
    model: PoolModel | None = None,
    progress: Progress | None = None,
) -> PoolResult:
    """Each district's standalone optimum and the grand coalition's optimum, with per-district savings."""
    model = model or PoolModel(spec, settings)
    settings = model.settings
    n = len(spec.districts)
    start = time.perf_counter()
    scopes: list[pl.DataFrame] = []
    standalone: dict[str, float] = {}
    statuses: list[PoolStatus] = []
    gaps: list[float] = []
    for i, d in enumerate(spec.districts):
        if progress is not None:
            progress(i / (n + 1), f"standalone optimum of {d.id}")
        alone = model.solve([i])
        standalone[d.id] = _require(alone, f"standalone optimum of {d.id}")
        statuses.append(alone.status)
        gaps.append(alone.mip_gap)
        assert alone.purchases is not None
        scopes.append(alone.purchases.with_columns(scope=pl.lit("standalone")))
    if progress is not None:
        progress(n / (n + 1), "co-op optimum")
    coop = model.solve(range(n))
    coop_cost = _require(coop, "co-op optimum")
    statuses.append(coop.status)
    gaps.append(coop.mip_gap)
    assert coop.purchases is not None and coop.tiers is not None and coop.capacities is not None
    scopes.append(coop.purchases.with_columns(scope=pl.lit("coop")))
    purchases = pl.concat(scopes).select("scope", pl.exclude("scope"))
    by_district = coop.purchases.group_by("district").agg(coop_cost=pl.col("cost").sum())
    table = (
        pl.DataFrame({"district": list(spec.ids), "standalone_cost": [standalone[d] for d in spec.ids]})
        .join(by_district, on="district", how="left", maintain_order="left")
        .with_columns(pl.col("coop_cost").fill_null(0.0))
        .with_columns(savings=pl.col("standalone_cost") - pl.col("coop_cost"))
        .with_columns(
            savings_share=pl.when(pl.col("standalone_cost") > 0)
            .then(pl.col("savings") / pl.col("standalone_cost"))
            .otherwise(0.0)
        )
    )
    if progress is not None:
        progress(1.0, "done")
    status: PoolStatus = TIME_LIMIT if TIME_LIMIT in statuses else OPTIMAL
    shares = pl.DataFrame(
        {
            "district": [d for d in spec.ids for _ in model.cap_idx],
            "offer": [spec.offers[k].id for _ in spec.ids for k in model.cap_idx],
            "units": model.capacity_share.reshape(-1),
        },
        schema={"district": pl.String, "offer": pl.String, "units": pl.Float64},
    )
    return PoolResult(
        heuristics=model.heuristics,
        capacity_shares=shares,
        spec=spec,
        standalone=table,
        coop_cost=coop_cost,
        savings=sum(standalone.values()) - coop_cost,
        purchases=purchases,
        tiers=coop.tiers,
        capacities=coop.capacities,
        status=status,
        settings=settings,
        worst_gap=max(gaps),
        solve_seconds=time.perf_counter() - start,
        coop=coop,
    )


# --- what-ifs -------------------------------------------------------------------------------------
def with_district(spec: PoolSpec, district: District) -> PoolSpec:
    """The spec with a district joining (or replacing the one with its id)."""
    kept = tuple(d for d in spec.districts if d.id != district.id)
    return replace(spec, districts=(*kept, district))


def without_district(spec: PoolSpec, district_id: str) -> PoolSpec:
    """The spec with a district leaving."""
    kept = tuple(d for d in spec.districts if d.id != district_id)
    if len(kept) == len(spec.districts):
        raise SpecError(f"spec: districts: no district {district_id!r}")
    if not kept:
        raise SpecError(f"spec: districts: removing {district_id!r} leaves no member")
    offers = tuple(
        o
        if o.capacity_by_district is None or district_id not in o.capacity_by_district
        else replace(
            o,  # a leaving member takes its entitlement to the offer's capacity with it
            capacity_by_district=(rest := {d: u for d, u in o.capacity_by_district.items() if d != district_id}),
            capacity=sum(rest.values()),
        )
        for o in spec.offers
    )
    return replace(spec, districts=kept, offers=offers)


def _offer(spec: PoolSpec, offer_id: str) -> int:
    """Index of an offer by id, or a SpecError."""
    for k, o in enumerate(spec.offers):
        if o.id == offer_id:
            return k
    raise SpecError(f"spec: offers: no offer {offer_id!r}")


def with_tier_threshold(spec: PoolSpec, offer_id: str, tier: int, min_volume: float) -> PoolSpec:
    """The spec with one tier's threshold moved (tier counted from 0 among the offer's tiers)."""
    k = _offer(spec, offer_id)
    o = spec.offers[k]
    if not 0 <= tier < len(o.tiers):
        raise SpecError(f"spec: offers[{k}].tiers[{tier}]: offer {offer_id!r} has {len(o.tiers)} tier(s)")
    tiers = list(o.tiers)
    tiers[tier] = Tier(float(min_volume), tiers[tier].unit_cost)
    data = spec_to_dict(spec)
    data["offers"][k]["tiers"] = [{"min_volume": t.min_volume, "unit_cost": t.unit_cost} for t in tiers]
    return parse_spec(data, source="what-if")


def with_local_capacity(spec: PoolSpec, factor: float) -> PoolSpec:
    """The spec with every local offer's capacity multiplied by `factor`."""
    if factor < 0:
        raise SpecError(f"what-if: capacity factor must be >= 0, got {factor:g}")
    offers = tuple(
        replace(
            o,
            capacity=o.capacity * factor,
            capacity_by_district=None
            if o.capacity_by_district is None
            else {d: units * factor for d, units in o.capacity_by_district.items()},
        )
        if o.local and o.capacity is not None
        else o
        for o in spec.offers
    )
    return replace(spec, offers=offers)


def what_if(
    spec: PoolSpec, change: Callable[[PoolSpec], PoolSpec], settings: SolverSettings | None = None
) -> tuple[PoolSpec, PoolResult]:
    """The changed spec and its pool result (e.g. `what_if(spec, lambda s: without_district(s, 'A'))`)."""
    changed = change(spec)
    return changed, solve_pool(changed, settings)


def coalition_members(mask: int, ids: Sequence[str]) -> tuple[str, ...]:
    """The ids in a coalition given as a bit mask (bit i = ids[i])."""
    return tuple(d for i, d in enumerate(ids) if mask >> i & 1)
