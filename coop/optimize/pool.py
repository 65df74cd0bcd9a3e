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

import json
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cvxpy as cp
import numpy as np
import polars as pl

from coop import names, parsing
from coop.errors import ModelError, SpecError

Progress = Callable[[float, str], None]

# The paper's linearised route-mix coefficients (Love et al., Table 3): economic impact >= 0, price risk <= 0.
PAPER_ECONOMIC_IMPACT: Mapping[str, float] = {
    names.DIRECT_LOCAL: 0.21,
    names.NONTRADITIONAL_LOCAL: 0.58,
    names.TRADITIONAL_LOCAL: -0.67,
    names.TRADITIONAL_NONLOCAL: -0.76,
}
PAPER_PRICE_RISK: Mapping[str, float] = {
    names.DIRECT_LOCAL: -0.012,
    names.NONTRADITIONAL_LOCAL: -0.0082,
    names.TRADITIONAL_LOCAL: 0.037,
    names.TRADITIONAL_NONLOCAL: 0.037,
}
PAPER = "paper"

CAPACITY_COALITION = "coalition"  # every coalition may use an offer's whole capacity
CAPACITY_DEMAND_SHARE = "demand_share"  # a coalition may use capacity x its share of the co-op's category demand
CAPACITY_BASES = (CAPACITY_COALITION, CAPACITY_DEMAND_SHARE)

STATUS_OPTIMAL = "optimal"
STATUS_TIME_LIMIT = "time_limit"  # stopped at the time limit with a feasible plan; cost is an upper bound
STATUS_INFEASIBLE = "infeasible"
STATUS_UNBOUNDED = "unbounded"
STATUS_ERROR = "error"

_VOLUME_TOL = 1e-6


# --- the spec ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tier:
    """An all-units price: every unit costs `unit_cost` once pooled volume reaches `min_volume`."""

    min_volume: float
    unit_cost: float


@dataclass(frozen=True)
class Offer:
    """Something a coalition can buy: a route x category x vendor with its price terms."""

    id: str
    route: str
    category: str
    unit_cost: float
    vendor: str = ""
    tiers: tuple[Tier, ...] = ()
    capacity: float | None = None
    fixed_cost: float = 0.0
    local: bool = False
    capacity_by_district: Mapping[str, float] | None = None  # each member's entitlement; a coalition gets the sum

    @property
    def needs_binaries(self) -> bool:
        """True when the offer's cost is not linear in volume (tiers or a fixed cost)."""
        return bool(self.tiers) or self.fixed_cost > 0

    def segments(self) -> list[tuple[float, float, float]]:
        """The price segments `(min_volume, next_min_volume or inf, unit_cost)`, base price first."""
        points = [Tier(0.0, self.unit_cost), *self.tiers]
        if len(points) > 1 and points[1].min_volume <= 0:
            points = points[1:]  # a tier from volume 0 replaces the base price
        return [
            (t.min_volume, points[k + 1].min_volume if k + 1 < len(points) else math.inf, t.unit_cost)
            for k, t in enumerate(points)
        ]

    def unit_cost_at(self, volume: float) -> float:
        """The all-units unit cost at a pooled volume."""
        cost = self.unit_cost
        for low, _high, unit in self.segments():
            if volume >= low - _VOLUME_TOL:
                cost = unit
        return cost


@dataclass(frozen=True)
class Policy:
    """A district's own policy constraints on its purchases."""

    local_share_min: float = 0.0
    economic_impact: Mapping[str, float] | None = None  # route -> coefficient; sum coef x units >= 0
    price_risk: Mapping[str, float] | None = None  # route -> coefficient; sum coef x units <= 0


@dataclass(frozen=True)
class District:
    """A member district: its demand in units per category and its policy."""

    id: str
    demand: Mapping[str, float]
    policy: Policy = field(default_factory=Policy)


@dataclass(frozen=True)
class PoolSpec:
    """Everything the pooled model needs: members, offers, and how capacity is shared."""

    districts: tuple[District, ...]
    offers: tuple[Offer, ...]
    capacity_basis: str = CAPACITY_COALITION

    @property
    def ids(self) -> tuple[str, ...]:
        """The district ids in spec order."""
        return tuple(d.id for d in self.districts)

    @property
    def categories(self) -> tuple[str, ...]:
        """Categories that some offer sells or some district demands, in first-seen order."""
        seen: dict[str, None] = {}
        for o in self.offers:
            seen.setdefault(o.category, None)
        for d in self.districts:
            for c in d.demand:
                seen.setdefault(c, None)
        return tuple(seen)

    @property
    def pure_lp(self) -> bool:
        """True when no offer has tiers or a fixed cost (the pooled model is a linear program)."""
        return not any(o.needs_binaries for o in self.offers)


def _fail(source: str, where: str, reason: str) -> SpecError:
    """A SpecError naming the source and the field at fault."""
    return SpecError(f"{source}: {where}: {reason}")


def _number(value: object, source: str, where: str, *, minimum: float | None = 0.0) -> float:
    """A finite number from a spec field, or a SpecError naming the field."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(source, where, f"must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise _fail(source, where, f"must be finite, got {value!r}")
    if minimum is not None and number < minimum:
        raise _fail(source, where, f"must be >= {minimum:g}, got {value!r}")
    return number


def _boolean(value: object, source: str, where: str) -> bool:
    """A boolean from true/false, yes/no, y/n, 1/0 in any case."""
    parsed = parsing.parse_bool(value)
    if parsed is None:
        raise _fail(source, where, f"must be a boolean (true/false, yes/no, y/n, 1/0), got {value!r}")
    return parsed


def _text(value: object, source: str, where: str) -> str:
    """A non-empty string from a spec field."""
    if not isinstance(value, str) or not value.strip():
        raise _fail(source, where, f"must be a non-empty string, got {value!r}")
    return value.strip()


def _check_keys(obj: Mapping[str, Any], allowed: Iterable[str], source: str, where: str) -> None:
    """Refuse unknown keys (usually typos) with the field named."""
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        raise _fail(source, f"{where}.{unknown[0]}", f"unknown field (allowed: {', '.join(sorted(allowed))})")


def _route_coefficients(value: object, default: Mapping[str, float], source: str, where: str) -> dict[str, float]:
    """Route -> coefficient from a mapping or the word 'paper'."""
    if value == PAPER:
        return dict(default)
    if not isinstance(value, Mapping) or not value:
        raise _fail(source, where, f"must be 'paper' or a non-empty {{route: coefficient}} object, got {value!r}")
    return {str(r): _number(v, source, f"{where}.{r}", minimum=None) for r, v in value.items()}


def _parse_policy(raw: object, source: str, where: str) -> Policy:
    """A Policy from its JSON object."""
    if raw is None:
        return Policy()
    if not isinstance(raw, Mapping):
        raise _fail(source, where, "must be an object")
    _check_keys(raw, ("local_share_min", names.ECONOMIC_IMPACT, names.PRICE_RISK), source, where)
    share = _number(raw.get("local_share_min", 0.0), source, f"{where}.local_share_min")
    if share > 1:
        raise _fail(source, f"{where}.local_share_min", f"must be a fraction in [0, 1], got {share:g}")
    econ = raw.get(names.ECONOMIC_IMPACT)
    risk = raw.get(names.PRICE_RISK)
    return Policy(
        local_share_min=share,
        economic_impact=None
        if econ is None
        else _route_coefficients(econ, PAPER_ECONOMIC_IMPACT, source, f"{where}.{names.ECONOMIC_IMPACT}"),
        price_risk=None
        if risk is None
        else _route_coefficients(risk, PAPER_PRICE_RISK, source, f"{where}.{names.PRICE_RISK}"),
    )


def _parse_offer(raw: object, k: int, source: str) -> Offer:
    """An Offer from its JSON object."""
    where = f"offers[{k}]"
    if not isinstance(raw, Mapping):
        raise _fail(source, where, "must be an object")
    allowed = (
        "id",
        "route",
        "category",
        "vendor",
        "unit_cost",
        "tiers",
        "capacity",
        "capacity_by_district",
        "fixed_cost",
        "local",
    )
    _check_keys(raw, allowed, source, where)
    for key in ("route", "category", "unit_cost"):
        if key not in raw:
            raise _fail(source, f"{where}.{key}", "is required")
    route = _text(raw["route"], source, f"{where}.route")
    category = _text(raw["category"], source, f"{where}.category")
    vendor = _text(raw["vendor"], source, f"{where}.vendor") if raw.get("vendor") is not None else ""
    unit_cost = _number(raw["unit_cost"], source, f"{where}.unit_cost")
    tiers: list[Tier] = []
    raw_tiers = raw.get("tiers") or []
    if not isinstance(raw_tiers, list):
        raise _fail(source, f"{where}.tiers", "must be a list of {min_volume, unit_cost}")
    for j, t in enumerate(raw_tiers):
        tw = f"{where}.tiers[{j}]"
        if not isinstance(t, Mapping):
            raise _fail(source, tw, "must be an object {min_volume, unit_cost}")
        _check_keys(t, ("min_volume", "unit_cost"), source, tw)
        for key in ("min_volume", "unit_cost"):
            if key not in t:
                raise _fail(source, f"{tw}.{key}", "is required")
        tier = Tier(
            _number(t["min_volume"], source, f"{tw}.min_volume"), _number(t["unit_cost"], source, f"{tw}.unit_cost")
        )
        if tiers and tier.min_volume <= tiers[-1].min_volume:
            raise _fail(source, f"{tw}.min_volume", "tiers must be in strictly increasing min_volume order")
        tiers.append(tier)
    capacity = None
    if raw.get("capacity") is not None:
        capacity = _number(raw["capacity"], source, f"{where}.capacity")
    entitled = None
    if raw.get("capacity_by_district") is not None:
        shares = raw["capacity_by_district"]
        if not isinstance(shares, Mapping):
            raise _fail(source, f"{where}.capacity_by_district", "must be a {district id: units} object")
        entitled = {str(d): _number(u, source, f"{where}.capacity_by_district.{d}") for d, u in shares.items()}
        total = sum(entitled.values())
        if capacity is not None and abs(capacity - total) > 1e-9 * max(1.0, total):
            raise _fail(source, f"{where}.capacity", f"must equal the sum of capacity_by_district ({total:g})")
        capacity = total
    fixed = _number(raw.get("fixed_cost") or 0.0, source, f"{where}.fixed_cost")
    local = (
        _boolean(raw["local"], source, f"{where}.local")
        if raw.get("local") is not None
        else route in names.LOCAL_ROUTES
    )
    offer_id = raw.get("id")
    if offer_id is None:
        offer_id = ":".join(p for p in (route, category, vendor) if p)
    return Offer(
        id=_text(offer_id, source, f"{where}.id"),
        route=route,
        category=category,
        unit_cost=unit_cost,
        vendor=vendor,
        tiers=tuple(tiers),
        capacity=capacity,
        fixed_cost=fixed,
        local=local,
        capacity_by_district=entitled,
    )


def parse_spec(data: object, source: str = "spec") -> PoolSpec:
    """A validated PoolSpec from the JSON structure; SpecError names the field at fault."""
    if not isinstance(data, Mapping):
        raise _fail(source, "top level", "must be an object with 'districts' and 'offers'")
    _check_keys(data, ("districts", "offers", "capacity_basis", "note"), source, "top level")
    raw_districts = data.get("districts")
    raw_offers = data.get("offers")
    if not isinstance(raw_districts, list) or not raw_districts:
        raise _fail(source, "districts", "must be a non-empty list")
    if not isinstance(raw_offers, list) or not raw_offers:
        raise _fail(source, "offers", "must be a non-empty list")
    basis = data.get("capacity_basis", CAPACITY_COALITION)
    if basis not in CAPACITY_BASES:
        raise _fail(source, "capacity_basis", f"must be one of {', '.join(CAPACITY_BASES)}, got {basis!r}")
    offers = tuple(_parse_offer(raw, k, source) for k, raw in enumerate(raw_offers))
    seen_offers: dict[str, int] = {}
    for k, o in enumerate(offers):
        if o.id in seen_offers:
            raise _fail(source, f"offers[{k}].id", f"duplicate offer id {o.id!r} (also offers[{seen_offers[o.id]}])")
        seen_offers[o.id] = k
    sold = {o.category for o in offers}
    routes = {o.route for o in offers}
    districts: list[District] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_districts):
        where = f"districts[{i}]"
        if not isinstance(raw, Mapping):
            raise _fail(source, where, "must be an object")
        _check_keys(raw, ("id", "name", "demand", "policy"), source, where)
        if "id" not in raw:
            raise _fail(source, f"{where}.id", "is required")
        did = _text(str(raw["id"]) if isinstance(raw["id"], int) else raw["id"], source, f"{where}.id")
        if did in seen:
            raise _fail(source, f"{where}.id", f"duplicate district id {did!r} (also districts[{seen[did]}])")
        seen[did] = i
        demand_raw = raw.get("demand")
        if not isinstance(demand_raw, Mapping) or not demand_raw:
            raise _fail(source, f"{where}.demand", "must be a non-empty {category: units} object")
        demand: dict[str, float] = {}
        for cat, units in demand_raw.items():
            value = _number(units, source, f"{where}.demand.{cat}")
            if value > 0 and cat not in sold:
                raise _fail(source, f"{where}.demand.{cat}", f"no offer sells category {cat!r}")
            demand[str(cat)] = value
        policy = _parse_policy(raw.get("policy"), source, f"{where}.policy")
        for label, coefs in ((names.ECONOMIC_IMPACT, policy.economic_impact), (names.PRICE_RISK, policy.price_risk)):
            missing = sorted(routes - set(coefs or {})) if coefs is not None else []
            if missing:
                raise _fail(source, f"{where}.policy.{label}", f"no coefficient for route {missing[0]!r}")
        districts.append(District(id=did, demand=demand, policy=policy))
    known = {d.id for d in districts}
    for k, o in enumerate(offers):
        unknown = sorted(set(o.capacity_by_district or {}) - known)
        if unknown:
            raise _fail(source, f"offers[{k}].capacity_by_district.{unknown[0]}", "no district with this id")
    return PoolSpec(districts=tuple(districts), offers=offers, capacity_basis=str(basis))


def load_spec(path: str | Path) -> PoolSpec:
    """A validated PoolSpec read from a JSON file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{p}: cannot read pool spec: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{p}: not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    return parse_spec(data, source=str(p))


def spec_to_dict(spec: PoolSpec) -> dict[str, Any]:
    """The JSON structure of a spec (inverse of parse_spec)."""
    offers = []
    for o in spec.offers:
        raw: dict[str, Any] = {"id": o.id, "route": o.route, "category": o.category, "unit_cost": o.unit_cost}
        if o.vendor:
            raw["vendor"] = o.vendor
        if o.tiers:
            raw["tiers"] = [{"min_volume": t.min_volume, "unit_cost": t.unit_cost} for t in o.tiers]
        if o.capacity is not None:
            raw["capacity"] = o.capacity
        if o.capacity_by_district is not None:
            raw["capacity_by_district"] = dict(o.capacity_by_district)
        if o.fixed_cost:
            raw["fixed_cost"] = o.fixed_cost
        raw["local"] = o.local
        offers.append(raw)
    districts = []
    for d in spec.districts:
        policy: dict[str, Any] = {"local_share_min": d.policy.local_share_min}
        if d.policy.economic_impact is not None:
            policy[names.ECONOMIC_IMPACT] = dict(d.policy.economic_impact)
        if d.policy.price_risk is not None:
            policy[names.PRICE_RISK] = dict(d.policy.price_risk)
        districts.append({"id": d.id, "demand": dict(d.demand), "policy": policy})
    return {"districts": districts, "offers": offers, "capacity_basis": spec.capacity_basis}


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
    status: str
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
    status: str
    settings: SolverSettings
    worst_gap: float
    solve_seconds: float
    coop: CoalitionSolve = field(repr=False)
    capacity_shares: pl.DataFrame = field(repr=False)  # district, offer, units: each member's part of a capacity
    heuristics: str = "full"  # the HiGHS heuristics setting the solves used (SolverSettings.heuristics resolved)


# --- the model ------------------------------------------------------------------------------------
def _status(prob: cp.Problem) -> tuple[str, float]:
    """Our status word and the achieved MIP gap for a solved problem."""
    info = (prob.solver_stats.extra_stats if prob.solver_stats is not None else None) if prob.status else None
    gap = float(getattr(info, "mip_gap", 0.0) or 0.0) if info is not None else 0.0
    if not math.isfinite(gap):
        gap = math.inf
    if prob.status == cp.OPTIMAL:
        return STATUS_OPTIMAL, max(gap, 0.0)
    if prob.status in (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE, cp.settings.INFEASIBLE_OR_UNBOUNDED):
        return STATUS_INFEASIBLE, math.inf
    if prob.status in (cp.UNBOUNDED, cp.UNBOUNDED_INACCURATE):
        return STATUS_UNBOUNDED, math.inf
    if prob.status in (cp.USER_LIMIT, cp.OPTIMAL_INACCURATE):
        feasible = info is not None and int(getattr(info, "primal_solution_status", 0)) == 2
        return (STATUS_TIME_LIMIT, gap) if feasible else (STATUS_ERROR, math.inf)
    return STATUS_ERROR, math.inf


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
        self.D = cp.Parameter((n, n_cat), nonneg=True, name="demand")
        self.local_rhs = cp.Parameter(n, nonneg=True, name="local_units_min")
        self.x = cp.Variable((n, n_off), nonneg=True, name="units")
        volume = cp.sum(self.x, axis=0)
        cons: dict[str, cp.Constraint] = {}
        cons["demand"] = self.x @ incidence == self.D
        cons["local_share"] = self.x @ local >= self.local_rhs
        for label, attr, sense in (
            (names.ECONOMIC_IMPACT, "economic_impact", 1.0),
            (names.PRICE_RISK, "price_risk", -1.0),
        ):
            rows = [i for i, d in enumerate(spec.districts) if getattr(d.policy, attr) is not None]
            if rows:
                coef = np.array([[getattr(spec.districts[i].policy, attr)[o.route] for o in spec.offers] for i in rows])
                mix = cp.sum(cp.multiply(sense * coef, self.x[rows, :]), axis=1)
                cons[label] = mix >= 0
        self.policy_rows = {
            label: [i for i, d in enumerate(spec.districts) if getattr(d.policy, attr) is not None]
            for label, attr in ((names.ECONOMIC_IMPACT, "economic_impact"), (names.PRICE_RISK, "price_risk"))
        }
        cost = 0
        if self.lin_idx.size:
            cost = cost + self.base_cost[self.lin_idx] @ volume[self.lin_idx]
        if self.cap_idx.size:
            self.cap = cp.Parameter(self.cap_idx.size, nonneg=True, name="capacity")
            cons["capacity"] = volume[self.cap_idx] <= self.cap
        self.v = self.y = None
        if self.seg_offer.size:
            n_seg = self.seg_offer.size
            self.seg_lb = cp.Parameter(n_seg, nonneg=True, name="segment_min")
            self.seg_ub = cp.Parameter(n_seg, nonneg=True, name="segment_max")
            self.v = cp.Variable(n_seg, nonneg=True, name="segment_volume")
            self.y = cp.Variable(n_seg, boolean=True, name="segment_on")
            seg_map = np.zeros((self.bin_idx.size, n_seg))
            pos = {k: r for r, k in enumerate(self.bin_idx)}
            seg_map[[pos[k] for k in self.seg_offer], np.arange(n_seg)] = 1.0
            self.seg_map = seg_map
            fixed = np.array([spec.offers[k].fixed_cost for k in self.bin_idx])
            cons["segment_volume"] = volume[self.bin_idx] == seg_map @ self.v
            cons["segment_min"] = self.v >= cp.multiply(self.seg_lb, self.y)
            cons["segment_max"] = self.v <= cp.multiply(self.seg_ub, self.y)
            cons["one_segment"] = seg_map @ self.y <= 1
            cost = cost + self.seg_cost @ self.v + fixed @ (seg_map @ self.y)
            rows = np.flatnonzero(fixed > 0)
            if rows.size:
                # disaggregated bound (as in facility location): a member buys from an offer with a fixed cost only
                # if the coalition opens it, x[d, o] <= demand[d, c(o)] * open[o]; tightens the LP relaxation. The
                # full demand is a constant here (a non-member buys nothing anyway), which keeps compilation cheap.
                opened = cp.reshape(seg_map[rows] @ self.y, (1, rows.size), order="C")
                cols = self.bin_idx[rows]
                cons["open_offer"] = self.x[:, cols] <= cp.multiply(
                    self.demand[:, self.offer_cat[cols]], np.ones((n, 1)) @ opened
                )
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
            reachable = (self.seg_low <= high + _VOLUME_TOL) & (high >= least[self.seg_offer] - _VOLUME_TOL)
            self.seg_lb.value = np.where(reachable, self.seg_low, 0.0)
            self.seg_ub.value = np.where(reachable, np.maximum(high, 0.0), 0.0)

    # -- solving -------------------------------------------------------------------------------------
    def solve(self, members: Iterable[str | int], *, detail: bool = True) -> CoalitionSolve:
        """The optimum for one coalition (ids or indices); with `detail`, its plan as tables."""
        mask = self._mask(members)
        member_ids = tuple(d for d, m in zip(self.ids, mask, strict=True) if m)
        if not mask.any():
            return CoalitionSolve(member_ids, STATUS_OPTIMAL, 0.0, 0.0, 0.0)
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
        if status not in (STATUS_OPTIMAL, STATUS_TIME_LIMIT):
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
                used = volume[k] > _VOLUME_TOL or paid > 0
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
        unit_cost = np.divide(offer_cost, volume, out=self.base_cost.copy(), where=volume > _VOLUME_TOL)
        rows_d, rows_o = np.nonzero((x > _VOLUME_TOL) & mask[:, None])
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
    statuses: list[str] = []
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
    status = STATUS_TIME_LIMIT if STATUS_TIME_LIMIT in statuses else STATUS_OPTIMAL
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
