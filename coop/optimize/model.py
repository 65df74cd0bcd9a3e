"""The route-choice LP's data model: routes, constraint rows and a model of both, and models as JSON.

A model holds each route's cost per meal and the linear constraint rows over meals per route. Every ratio
constraint may also carry its unrounded form (per-meal intensity of each route and a per-meal target,
linearised coefficient = intensity - target), so targets can be changed and a cost-linked row (economic
impact, whose intensities are multiplier x cost) can be recomputed when costs change. The paper's model
built from these types is `coop.optimize.paper.paper_model`.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import polars as pl

from coop import names
from coop.errors import ModelError, SpecError

Sense = Literal[">=", "<="]
Kind = Literal["operational", "policy"]


@dataclass(frozen=True)
class Route:
    """One supply-chain route (choice variable) and its cost per meal in dollars."""

    name: str
    cost_per_meal: float
    label: str = ""


@dataclass(frozen=True)
class ConstraintRow:
    """One linear constraint `coefficients . meals (sense) rhs`, with its unrounded form when it has one.

    `coefficients` are what the LP uses (for the paper: Table 3 as published). A ratio constraint
    "sum_j intensity_j z_j (sense) target * sum_j z_j" has `intensities` and `target`; its linearised
    coefficient is `intensity_j - target`, rounded to `digits` decimals when `digits` is set (the
    paper's printed precision). When `multipliers` is set the intensities are `multiplier_j x cost_j`
    and are recomputed whenever route costs change (economic impact).
    """

    name: str
    sense: Sense
    coefficients: tuple[float, ...]
    rhs: float = 0.0
    kind: Kind = "operational"
    intensities: tuple[float, ...] | None = None
    target: float | None = None
    multipliers: tuple[float, ...] | None = None
    digits: int | None = None
    label: str = ""
    unit: str = ""

    @property
    def has_unrounded_form(self) -> bool:
        """True when the row is a ratio constraint with intensities (or multipliers) and a target."""
        return self.target is not None and (self.intensities is not None or self.multipliers is not None)

    def linearised(self, costs: Sequence[float]) -> tuple[float, ...]:
        """The coefficients `intensity - target` for these route costs (rounded to the row's digits when set)."""
        if not self.has_unrounded_form:
            raise ModelError(f"constraint {self.name!r} has no unrounded form (intensities and target)")
        assert self.target is not None
        if self.multipliers is not None:
            intensities = tuple(m * c for m, c in zip(self.multipliers, costs, strict=True))
        else:
            assert self.intensities is not None
            intensities = self.intensities
        values = [i - self.target for i in intensities]
        if self.digits is not None:
            values = [_round_half_up(v, self.digits) for v in values]
        return tuple(v + 0.0 for v in values)


def _round_half_up(value: float, places: int) -> float:
    """`value` rounded to `places` decimals, halves away from zero (as printed tables round)."""
    scale = 10.0**places
    return math.copysign(math.floor(abs(value) * scale + 0.5 + 1e-9) / scale, value)


@dataclass(frozen=True)
class Model:
    """Routes, constraint rows and where the numbers come from; the quantity row's rhs is the annual meals."""

    routes: tuple[Route, ...]
    constraints: tuple[ConstraintRow, ...]
    source: str = ""

    def __post_init__(self) -> None:
        """Check that every row has one coefficient per route and names are unique."""
        n = len(self.routes)
        route_names = [r.name for r in self.routes]
        if len(set(route_names)) != n or n == 0:
            raise ModelError(f"routes must be unique and non-empty, got {route_names}")
        row_names = [c.name for c in self.constraints]
        if len(set(row_names)) != len(row_names):
            raise ModelError(f"constraint names must be unique, got {row_names}")
        for row in self.constraints:
            for label, values in (("coefficients", row.coefficients), ("intensities", row.intensities)):
                if values is not None and len(values) != n:
                    raise ModelError(f"constraint {row.name!r} has {len(values)} {label} for {n} routes")
            if row.multipliers is not None and len(row.multipliers) != n:
                raise ModelError(f"constraint {row.name!r} has {len(row.multipliers)} multipliers for {n} routes")
            if row.sense not in (">=", "<="):
                raise ModelError(f"constraint {row.name!r} has sense {row.sense!r}; use '>=' or '<='")
            if not all(math.isfinite(v) for v in (*row.coefficients, row.rhs)):
                raise ModelError(f"constraint {row.name!r} has a non-finite coefficient or rhs")
        for route in self.routes:
            if not math.isfinite(route.cost_per_meal):
                raise ModelError(f"route {route.name!r} has a non-finite cost per meal")

    # --- reading -------------------------------------------------------------------
    @property
    def route_names(self) -> tuple[str, ...]:
        """The route names in column order."""
        return tuple(r.name for r in self.routes)

    @property
    def constraint_names(self) -> tuple[str, ...]:
        """The constraint names in row order."""
        return tuple(c.name for c in self.constraints)

    @property
    def costs(self) -> tuple[float, ...]:
        """Cost per meal of each route, in route order (dollars)."""
        return tuple(r.cost_per_meal for r in self.routes)

    @property
    def meals(self) -> float:
        """The annual meals the quantity constraint requires."""
        return self.row(names.QUANTITY_CONSTRAINT).rhs

    def row(self, name: str) -> ConstraintRow:
        """The constraint row called `name`."""
        for row in self.constraints:
            if row.name == name:
                return row
        raise ModelError(f"unknown constraint {name!r}; the model has {', '.join(self.constraint_names)}")

    def cost(self, route: str) -> float:
        """Cost per meal of one route."""
        for r in self.routes:
            if r.name == route:
                return r.cost_per_meal
        raise ModelError(f"unknown route {route!r}; the model has {', '.join(self.route_names)}")

    # --- deriving --------------------------------------------------------------------
    def with_costs(
        self, costs: Mapping[str, float] | Sequence[float], meals: float | None = None, source: str | None = None
    ) -> Model:
        """A copy with new route costs (and annual meals), cost-linked rows (economic impact) recomputed."""
        if isinstance(costs, Mapping):
            unknown = set(costs) - set(self.route_names)
            if unknown:
                raise ModelError(f"unknown routes {sorted(unknown)}; the model has {', '.join(self.route_names)}")
            given = [costs.get(r.name, r.cost_per_meal) for r in self.routes]
        else:
            given = list(costs)
            if len(given) != len(self.routes):
                raise ModelError(f"{len(given)} costs given for {len(self.routes)} routes")
        for route, value in zip(self.route_names, given, strict=True):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ModelError(f"cost per meal for {route!r} must be a finite number, got {value!r}")
        new_costs = tuple(float(c) for c in given)
        routes = tuple(replace(r, cost_per_meal=c) for r, c in zip(self.routes, new_costs, strict=True))
        rows = []
        for row in self.constraints:
            if row.multipliers is not None and new_costs != self.costs:
                row = replace(row, coefficients=row.linearised(new_costs))
            if row.name == names.QUANTITY_CONSTRAINT and meals is not None:
                if not (meals > 0 and math.isfinite(meals)):
                    raise ModelError(f"annual meals must be a positive number, got {meals}")
                row = replace(row, rhs=float(meals))
            rows.append(row)
        return Model(routes, tuple(rows), source if source is not None else self.source)

    def scaled(self, factor: float, route: str | None = None) -> Model:
        """A copy with one route's cost (or every cost when `route` is None) multiplied by `factor`."""
        if route is not None:
            self.cost(route)
        costs = {r.name: r.cost_per_meal * factor if route in (None, r.name) else r.cost_per_meal for r in self.routes}
        return self.with_costs(costs)

    def with_targets(self, targets: Mapping[str, float]) -> Model:
        """A copy whose ratio constraints have new per-meal targets, coefficients recomputed."""
        rows = []
        for row in self.constraints:
            if row.name in targets:
                if not row.has_unrounded_form:
                    raise ModelError(f"constraint {row.name!r} has no per-meal target to change")
                new = replace(row, target=float(targets[row.name]))
                row = replace(new, coefficients=new.linearised(self.costs))
            rows.append(row)
        unknown = set(targets) - set(self.constraint_names)
        if unknown:
            raise ModelError(f"unknown constraints {sorted(unknown)}; the model has {', '.join(self.constraint_names)}")
        return Model(self.routes, tuple(rows), self.source)

    def unrounded(self) -> Model:
        """A copy whose ratio constraints use exact `intensity - target` coefficients (no rounding)."""
        rows = tuple(
            replace(row, digits=None, coefficients=replace(row, digits=None).linearised(self.costs))
            if row.has_unrounded_form
            else row
            for row in self.constraints
        )
        return Model(self.routes, rows, f"{self.source} (unrounded)")

    # --- tables ---------------------------------------------------------------------
    def routes_table(self) -> pl.DataFrame:
        """One row per route: name, label and cost per meal (dollars)."""
        return pl.DataFrame(
            {
                names.ROUTE: list(self.route_names),
                "label": [r.label for r in self.routes],
                "cost_per_meal": list(self.costs),
            }
        )

    def constraints_table(self) -> pl.DataFrame:
        """One row per constraint: kind, sense, rhs, target and one linearised coefficient column per route."""
        data: dict[str, list[Any]] = {
            "constraint": list(self.constraint_names),
            "kind": [c.kind for c in self.constraints],
            "sense": [c.sense for c in self.constraints],
            "rhs": [c.rhs for c in self.constraints],
            "target_per_meal": [c.target for c in self.constraints],
        }
        for j, route in enumerate(self.route_names):
            data[route] = [c.coefficients[j] for c in self.constraints]
        return pl.DataFrame(data)


# --- models as JSON (a user-edited copy of the paper's model) -----------------------------------
_ROW_FIELDS = ("name", "sense", "coefficients", "rhs", "kind", "intensities", "target", "multipliers", "digits")


def model_to_dict(model: Model) -> dict[str, Any]:
    """The model as a JSON-able dict that `model_from_dict` reads back."""
    return {
        "source": model.source,
        "routes": [{"name": r.name, "cost_per_meal": r.cost_per_meal, "label": r.label} for r in model.routes],
        "constraints": [
            {
                **{
                    k: list(v) if isinstance(v, tuple) else v for k in _ROW_FIELDS if (v := getattr(row, k)) is not None
                },
                "label": row.label,
                "unit": row.unit,
            }
            for row in model.constraints
        ],
    }


def _numbers(value: Any, where: str) -> tuple[float, ...]:
    """A list of finite numbers as a tuple of floats, else SpecError naming `where`."""
    if not isinstance(value, list) or not all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) for v in value
    ):
        raise SpecError(f"{where} must be a list of numbers")
    return tuple(float(v) for v in value)


def model_from_dict(data: Mapping[str, Any], source: str = "model") -> Model:
    """A model from a JSON-style dict (as `model_to_dict` writes); errors name the field at fault."""
    if not isinstance(data, Mapping) or not isinstance(data.get("routes"), list) or not data["routes"]:
        raise SpecError(f"{source}: a model needs a non-empty 'routes' list")
    if not isinstance(data.get("constraints"), list) or not data["constraints"]:
        raise SpecError(f"{source}: a model needs a non-empty 'constraints' list")
    routes = []
    for i, r in enumerate(data["routes"]):
        where = f"{source}: routes[{i}]"
        if not isinstance(r, Mapping) or not isinstance(r.get("name"), str):
            raise SpecError(f"{where} needs a 'name'")
        (cost,) = _numbers([r.get("cost_per_meal")], f"{where}.cost_per_meal")
        routes.append(Route(r["name"], cost, str(r.get("label", ""))))
    rows = []
    for i, c in enumerate(data["constraints"]):
        where = f"{source}: constraints[{i}]"
        if not isinstance(c, Mapping) or not isinstance(c.get("name"), str):
            raise SpecError(f"{where} needs a 'name'")
        unknown = set(c) - {*_ROW_FIELDS, "label", "unit"}
        if unknown:
            raise SpecError(f"{where} has unknown keys {sorted(unknown)}")
        if c.get("sense") not in (">=", "<="):
            raise SpecError(f"{where}.sense must be '>=' or '<='")
        if c.get("kind", "operational") not in ("operational", "policy"):
            raise SpecError(f"{where}.kind must be 'operational' or 'policy'")
        optional = {k: _numbers(c[k], f"{where}.{k}") for k in ("intensities", "multipliers") if c.get(k) is not None}
        target = _numbers([c["target"]], f"{where}.target")[0] if c.get("target") is not None else None
        digits = c.get("digits")
        if digits is not None and (not isinstance(digits, int) or isinstance(digits, bool) or digits < 0):
            raise SpecError(f"{where}.digits must be a whole number >= 0")
        rows.append(
            ConstraintRow(
                name=c["name"],
                sense=c["sense"],
                coefficients=_numbers(c.get("coefficients"), f"{where}.coefficients"),
                rhs=_numbers([c.get("rhs", 0.0)], f"{where}.rhs")[0],
                kind=c.get("kind", "operational"),
                target=target,
                digits=digits,
                label=str(c.get("label", "")),
                unit=str(c.get("unit", "")),
                **optional,
            )
        )
    try:
        return Model(tuple(routes), tuple(rows), str(data.get("source", source)))
    except ModelError as exc:
        raise SpecError(f"{source}: {exc}") from None


def model_from_json(path: str | Path) -> Model:
    """A model from a JSON file (as `model_to_dict` writes)."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"{path}: model file not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SpecError(f"{path}: not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})") from None
    return model_from_dict(data, str(path))
