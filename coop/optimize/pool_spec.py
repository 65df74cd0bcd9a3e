"""The pool spec: member districts, offers with their price terms, policies, and its JSON form (read and written).

A spec is what the pooled model (`coop.optimize.pool`) solves: each district's demand in units per category
and its policy, and offers (route x category x vendor) with a base unit cost, optional all-units volume tiers,
an optional capacity (whole, or by district entitlement) and an optional fixed cost. `parse_spec` validates a
JSON structure and names the field at fault; `spec_to_dict` writes it back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coop import names, parsing
from coop.errors import SpecError
from coop.optimize.model import Model
from coop.optimize.paper import PAPER_ECONOMIC_IMPACT, PAPER_PRICE_RISK
from coop.optimize.scenarios import Scenario

PAPER = "paper"  # a policy's economic_impact / price_risk may name the paper's route-mix form (Table 3)

CAPACITY_COALITION = "coalition"  # every coalition may use an offer's whole capacity
CAPACITY_DEMAND_SHARE = "demand_share"  # a coalition may use capacity x its share of the co-op's category demand
CAPACITY_BASES = (CAPACITY_COALITION, CAPACITY_DEMAND_SHARE)

VOLUME_TOLERANCE = 1e-6  # units: a volume this close to a tier's threshold reaches it


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
            if volume >= low - VOLUME_TOLERANCE:
                cost = unit
        return cost


SENSES = (">=", "<=")


@dataclass(frozen=True)
class RouteRow:
    """A route-LP constraint row on a member's own purchases: sum_route coef x units (sense) rhs.

    Any row of the route LP (quantity, labour, assortment breadth and depth, local intensity, economic impact,
    price risk) can be a member's policy in the pool; a route without a coefficient counts 0. The row holds only
    while the member is in the coalition (its right-hand side goes with it).
    """

    name: str
    sense: str  # ">=" | "<="
    coefficients: Mapping[str, float]
    rhs: float = 0.0


@dataclass(frozen=True)
class Policy:
    """A district's own policy constraints on its purchases."""

    local_share_min: float = 0.0
    economic_impact: Mapping[str, float] | None = None  # route -> coefficient; sum coef x units >= 0
    price_risk: Mapping[str, float] | None = None  # route -> coefficient; sum coef x units <= 0
    route_rows: tuple[RouteRow, ...] = ()  # the route LP's rows, e.g. a district's calibrated scenario


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
    _check_keys(raw, ("local_share_min", names.ECONOMIC_IMPACT, names.PRICE_RISK, "route_rows"), source, where)
    share = _number(raw.get("local_share_min", 0.0), source, f"{where}.local_share_min")
    if share > 1:
        raise _fail(source, f"{where}.local_share_min", f"must be a fraction in [0, 1], got {share:g}")
    econ = raw.get(names.ECONOMIC_IMPACT)
    risk = raw.get(names.PRICE_RISK)
    rows: list[RouteRow] = []
    raw_rows = raw.get("route_rows") or []
    if not isinstance(raw_rows, list):
        raise _fail(source, f"{where}.route_rows", "must be a list of {name, sense, coefficients, rhs}")
    for j, row in enumerate(raw_rows):
        rw = f"{where}.route_rows[{j}]"
        if not isinstance(row, Mapping):
            raise _fail(source, rw, "must be an object {name, sense, coefficients, rhs}")
        _check_keys(row, ("name", "sense", "coefficients", "rhs"), source, rw)
        sense = row.get("sense")
        if sense not in SENSES:
            raise _fail(source, f"{rw}.sense", f"must be '>=' or '<=', got {sense!r}")
        coefs = row.get("coefficients")
        if not isinstance(coefs, Mapping) or not coefs:
            raise _fail(source, f"{rw}.coefficients", "must be a non-empty {route: coefficient} object")
        rows.append(
            RouteRow(
                name=_text(row.get("name"), source, f"{rw}.name"),
                sense=str(sense),
                coefficients={
                    str(r): _number(v, source, f"{rw}.coefficients.{r}", minimum=None) for r, v in coefs.items()
                },
                rhs=_number(row.get("rhs", 0.0), source, f"{rw}.rhs", minimum=None),
            )
        )
    return Policy(
        route_rows=tuple(rows),
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
        if d.policy.route_rows:
            policy["route_rows"] = [
                {"name": r.name, "sense": r.sense, "coefficients": dict(r.coefficients), "rhs": r.rhs}
                for r in d.policy.route_rows
            ]
        districts.append({"id": d.id, "demand": dict(d.demand), "policy": policy})
    return {"districts": districts, "offers": offers, "capacity_basis": spec.capacity_basis}


def spec_from_route_lp(model: Model, scenario: Scenario, district_id: str, category: str = "meals") -> PoolSpec:
    """A one-member pool spec that is the route LP: its meals, net route costs and the scenario's rows.

    One category (meals), one offer per route at its cost per meal less the scenario's incentive, demand = the
    quantity row's meals, and every other switched-on row as the member's route rows, so the member's standalone
    cost in the pool equals `optimize --district D --scenario S`; pool several such members to test buying power
    against each district's own route-LP optimum.
    """
    applied = scenario.apply(model)
    routes = applied.route_names
    incentives = dict(zip(routes, scenario.incentives(routes), strict=True))
    offers = [
        {
            "id": route,
            "route": route,
            "category": category,
            "unit_cost": max(0.0, cost - incentives[route]),
            "local": route in names.LOCAL_ROUTES,
        }
        for route, cost in zip(routes, applied.costs, strict=True)
    ]
    rows = [
        {
            "name": row.name,
            "sense": row.sense,
            "coefficients": dict(zip(routes, row.coefficients, strict=True)),
            "rhs": row.rhs,
        }
        for row in applied.constraints
        if row.name in scenario.on and row.name != names.QUANTITY_CONSTRAINT
    ]
    district = {"id": district_id, "demand": {category: applied.meals}, "policy": {"route_rows": rows}}
    return parse_spec(
        {"districts": [district], "offers": offers}, source=f"route LP of {district_id} ({scenario.name})"
    )
