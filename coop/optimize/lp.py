"""The route-choice LP of Love et al. (2025): built once with cvxpy parameters, re-solved per scenario.

minimise  sum_j (cost_j - incentive_j) z_j   over meals z_j >= 0 per route j
s.t.      each switched-on constraint row i:  sum_j a_ij z_j (>= or <=) b_i

Shadow prices follow DESIGN.md and the paper's Table 5: the change in total cost per unit increase
of the row's right-hand side (>= rows: >= 0, <= rows: <= 0). Reduced costs are the duals of
`z >= 0`, the paper's "activity duals" (Table 6): the extra cost of forcing one meal onto a route.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import cvxpy as cp
import duckdb
import numpy as np
import polars as pl

from coop import names
from coop.errors import ModelError
from coop.optimize.model import Model
from coop.optimize.paper import paper_model
from coop.optimize.scenarios import Scenario, get_scenario
from coop.optimize.status import AMBIGUOUS, ERROR, INFEASIBLE, OPTIMAL, UNBOUNDED, Status, from_cvxpy, inaccurate

# A row whose slack is within this fraction of the meals it covers counts as binding.
BINDING_TOLERANCE = 1e-7
_ZERO = 1e-9


@dataclass(frozen=True)
class LPResult:
    """One solve of the route LP: status (`coop.optimize.status`), plan, cost and duals (None unless optimal)."""

    status: Status
    scenario: str
    total_cost: float | None = None
    cost_per_meal: float | None = None
    meals: dict[str, float] | None = None
    shadow_prices: dict[str, float] | None = None
    reduced_costs: dict[str, float] | None = None
    binding: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    incentive_paid: float | None = None
    message: str = ""
    source: str = field(default="", compare=False)

    @property
    def optimal(self) -> bool:
        """True when the solve found an optimal plan."""
        return self.status == OPTIMAL

    @property
    def total_meals(self) -> float | None:
        """Meals purchased across all routes."""
        return None if self.meals is None else sum(self.meals.values())

    def share(self, routes: Sequence[str] = names.LOCAL_ROUTES) -> float | None:
        """Share of meals bought through `routes` (default: the three local routes)."""
        total = self.total_meals
        if self.meals is None or not total:
            return None
        return sum(self.meals.get(r, 0.0) for r in routes) / total

    def to_json(self) -> dict[str, Any]:
        """DESIGN.md's `{"status", "total_cost", "meals", "shadow_prices", "reduced_costs"}`."""
        return {
            "status": self.status,
            "total_cost": self.total_cost,
            "meals": self.meals,
            "shadow_prices": self.shadow_prices,
            "reduced_costs": self.reduced_costs,
        }

    def text(self) -> str:
        """A short readable report: status, cost, meals per route, shadow prices and reduced costs."""
        lines = [f"scenario {self.scenario}: {self.status}" + (f" ({self.message})" if self.message else "")]
        if self.source:
            lines.append(f"costs: {self.source}")
        if self.conflicts:
            lines.append(f"conflicting constraints: {', '.join(self.conflicts)}")
        if self.meals is None or self.shadow_prices is None or self.reduced_costs is None:
            return "\n".join(lines)
        lines.append(f"total cost ${self.total_cost:,.2f} per year, ${self.cost_per_meal or 0:.4f} per meal")
        total = self.total_meals or 1.0
        lines.append("meals per year by route (share; reduced cost $ per meal):")
        for route, value in self.meals.items():
            lines.append(f"  {route:<22}{value:>12,.0f}  ({value / total:6.1%}; {self.reduced_costs[route]:.4f})")
        lines.append("shadow prices ($ per unit of right-hand side; * = binding):")
        for name, value in self.shadow_prices.items():
            lines.append(f"  {name:<22}{value:>12.4f}{' *' if name in self.binding else ''}")
        return "\n".join(lines)

    def meals_table(self) -> pl.DataFrame:
        """One row per route: meals per year, share of meals and reduced cost ($ per meal); empty unless optimal."""
        if self.meals is None or self.reduced_costs is None:
            return pl.DataFrame(
                schema={names.ROUTE: pl.String, "meals": pl.Float64, "share": pl.Float64, "reduced_cost": pl.Float64}
            )
        total = self.total_meals or 1.0
        return pl.DataFrame(
            {
                names.ROUTE: list(self.meals),
                "meals": list(self.meals.values()),
                "share": [v / total for v in self.meals.values()],
                "reduced_cost": [self.reduced_costs[r] for r in self.meals],
            }
        )

    def duals_table(self) -> pl.DataFrame:
        """One row per switched-on constraint: shadow price ($ per unit of rhs) and whether it binds."""
        if self.shadow_prices is None:
            return pl.DataFrame(schema={"constraint": pl.String, "shadow_price": pl.Float64, "binding": pl.Boolean})
        return pl.DataFrame(
            {
                "constraint": list(self.shadow_prices),
                "shadow_price": list(self.shadow_prices.values()),
                "binding": [c in self.binding for c in self.shadow_prices],
            }
        )


def _clean(value: float) -> float:
    """`value` as a float with solver noise (|v| < 1e-9) and negative zero turned into 0.0."""
    value = float(value)
    return 0.0 if abs(value) < _ZERO else value


class RouteLP:
    """The route LP for a fixed set of routes and constraint rows, built once and re-solved by parameter updates."""

    def __init__(self, routes: Sequence[str], constraints: Sequence[str]) -> None:
        self.routes = tuple(routes)
        self.constraints = tuple(constraints)
        n, m = len(self.routes), len(self.constraints)
        if n == 0 or m == 0:
            raise ModelError("the route LP needs at least one route and one constraint")
        self.cost = cp.Parameter(n, name="cost_per_meal")
        self.incentive = cp.Parameter(n, name="incentive_per_meal")
        # every row in ">=" form: a <= row is stored negated; a switched-off row is all zeros
        self.coefficients = cp.Parameter((m, n), name="coefficients")
        self.rhs = cp.Parameter(m, name="rhs")
        self.meals = cp.Variable(n, name="meals")
        self.rows = self.coefficients @ self.meals >= self.rhs
        self.nonnegative = self.meals >= 0
        self.problem = cp.Problem(cp.Minimize((self.cost - self.incentive) @ self.meals), [self.rows, self.nonnegative])
        if not self.problem.is_dpp():
            raise ModelError("the route LP is not DPP; it would be rebuilt on every solve")
        self.solves = 0

    @classmethod
    def for_model(cls, model: Model) -> RouteLP:
        """A built LP shaped for `model`'s routes and constraints."""
        return cls(model.route_names, model.constraint_names)

    def fits(self, model: Model) -> bool:
        """True when `model` has exactly this LP's routes and constraints in order."""
        return model.route_names == self.routes and model.constraint_names == self.constraints

    # --- one solve ---------------------------------------------------------------------
    def _set(
        self, model: Model, on: Sequence[str], incentives: Sequence[float]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Load parameter values; return each row's sign, which rows are switched on, and the ">=" form matrix."""
        if not self.fits(model):
            raise ModelError(
                f"model routes/constraints {model.route_names}/{model.constraint_names} do not match the built LP"
            )
        on_set = set(on)
        sign = np.array([1.0 if row.sense == ">=" else -1.0 for row in model.constraints])
        a = np.array([row.coefficients for row in model.constraints], dtype=float) * sign[:, None]
        b = np.array([row.rhs for row in model.constraints], dtype=float) * sign
        active = np.array([row.name in on_set for row in model.constraints])
        # A row implied by z >= 0 (all ">=" coefficients >= 0, rhs <= 0) costs nothing: leaving it out
        # keeps its shadow price at 0 instead of an arbitrary value from a degenerate vertex.
        implied = (a >= 0).all(axis=1) & (b <= 0)
        in_lp = active & ~implied
        self._update(self.cost, np.array(model.costs, dtype=float))
        self._update(self.incentive, np.array(incentives, dtype=float))
        self._update(self.coefficients, a * in_lp[:, None])
        self._update(self.rhs, b * in_lp)
        return sign, active, a

    @staticmethod
    def _update(parameter: cp.Parameter, value: np.ndarray) -> None:
        """Give `parameter` a new value unless it already holds exactly that value (validation is costly)."""
        if parameter.value is None or not np.array_equal(parameter.value, value):
            parameter.value = value

    def _run(self) -> tuple[Status, str]:
        """Solve with HiGHS and map cvxpy's status onto ours."""
        self.solves += 1
        try:
            self.problem.solve(solver=cp.HIGHS)
        except cp.error.SolverError as exc:
            return ERROR, f"solver error: {exc}"
        status = self.problem.status
        if status == AMBIGUOUS:
            return self._infeasible_or_unbounded()
        word = from_cvxpy(status)
        if word == ERROR:
            return ERROR, f"solver stopped with status {status}"
        return word, "solution is inaccurate" if word == OPTIMAL and inaccurate(status) else ""

    def _infeasible_or_unbounded(self) -> tuple[Status, str]:
        """Decide an `infeasible_or_unbounded` answer by re-solving with zero costs (a feasibility check)."""
        cost, incentive = self.cost.value, self.incentive.value
        self.cost.value = np.zeros_like(cost)
        self.incentive.value = np.zeros_like(incentive)
        try:
            self.problem.solve(solver=cp.HIGHS)
            feasible = from_cvxpy(self.problem.status) == OPTIMAL
        except cp.error.SolverError:
            feasible = False
        finally:
            self.cost.value, self.incentive.value = cost, incentive
        return (UNBOUNDED, "") if feasible else (INFEASIBLE, "")

    def solve(
        self,
        model: Model,
        scenario: Scenario,
        *,
        extra_incentive: Mapping[str, float] | None = None,
        explain: bool = True,
    ) -> LPResult:
        """Solve `scenario` on `model` (targets applied); infeasible runs name the constraints that conflict."""
        try:
            model = scenario.apply(model)
        except ModelError as exc:
            return LPResult(ERROR, scenario.name, message=str(exc), source=model.source)
        incentives = np.array(scenario.incentives(self.routes), dtype=float)
        for route, amount in (extra_incentive or {}).items():
            if route not in self.routes:
                return LPResult(ERROR, scenario.name, message=f"unknown route {route!r}", source=model.source)
            incentives[self.routes.index(route)] += amount
        if not np.isfinite(incentives).all():
            return LPResult(ERROR, scenario.name, message="incentives must be finite numbers", source=model.source)
        on = scenario.on
        sign, active, a = self._set(model, on, incentives)
        status, message = self._run()
        if status != OPTIMAL:
            conflicts: tuple[str, ...] = ()
            if status == INFEASIBLE and explain:
                conflicts = self._conflicts(model, on, incentives)
                message = message or (
                    f"no plan meets every constraint; relaxing any one of {', '.join(conflicts)} restores feasibility"
                    if conflicts
                    else "no plan meets every constraint, and relaxing no single constraint restores feasibility"
                )
            elif status == UNBOUNDED:
                message = message or "cost can fall without limit (a route's net cost per meal is negative)"
            return LPResult(status, scenario.name, conflicts=conflicts, message=message, source=model.source)
        return self._result(model, scenario, sign, active, a, incentives, message)

    def _result(
        self,
        model: Model,
        scenario: Scenario,
        sign: np.ndarray,
        active: np.ndarray,
        a: np.ndarray,
        incentives: np.ndarray,
        message: str,
    ) -> LPResult:
        """Read plan and duals of an optimal solve into an LPResult."""
        z = np.asarray(self.meals.value, dtype=float)
        row_duals = np.asarray(self.rows.dual_value, dtype=float)
        route_duals = np.asarray(self.nonnegative.dual_value, dtype=float)
        if not (np.isfinite(z).all() and np.isfinite(row_duals).all() and np.isfinite(route_duals).all()):
            return LPResult(ERROR, scenario.name, message="solver returned no finite solution", source=model.source)
        b = np.array([row.rhs for row in model.constraints], dtype=float) * sign
        slack = a @ z - b
        scale = max(1.0, float(np.abs(z).sum()))
        shadow, binding = {}, []
        for i, row in enumerate(model.constraints):
            if not active[i]:
                continue
            # row_duals[i] is d(cost)/d(rhs of the ">=" form); a "<=" row's rhs enters negated
            shadow[row.name] = _clean(sign[i] * row_duals[i])
            if abs(slack[i]) <= BINDING_TOLERANCE * scale * max(1.0, float(np.abs(a[i]).max())):
                binding.append(row.name)
        meals = {r: _clean(v) for r, v in zip(self.routes, z, strict=True)}
        total = float(self.problem.value)
        total_meals = sum(meals.values())
        return LPResult(
            OPTIMAL,
            scenario.name,
            total_cost=total,
            cost_per_meal=total / total_meals if total_meals > 0 else None,
            meals=meals,
            shadow_prices=shadow,
            reduced_costs={r: _clean(v) for r, v in zip(self.routes, route_duals, strict=True)},
            binding=tuple(binding),
            incentive_paid=_clean(float(incentives @ z)),
            message=message,
            source=model.source,
        )

    def _conflicts(self, model: Model, on: Sequence[str], incentives: np.ndarray) -> tuple[str, ...]:
        """Constraints whose relaxation alone restores feasibility: policy ones first, then operational."""
        kinds = {row.name: row.kind for row in model.constraints}
        candidates = [c for c in on if kinds[c] == "policy"] + [
            c for c in on if kinds[c] != "policy" and c != names.QUANTITY_CONSTRAINT
        ]
        found = []
        for name in candidates:
            self._set(model, [c for c in on if c != name], incentives)
            if self._run()[0] in (OPTIMAL, UNBOUNDED):  # unbounded is feasible too
                found.append(name)
        self._set(model, on, incentives)
        return tuple(found)


def solve(
    scenario: Scenario | str,
    model: Model | None = None,
    *,
    lp: RouteLP | None = None,
    extra_incentive: Mapping[str, float] | None = None,
) -> LPResult:
    """Solve one scenario (a Scenario or shipped name) on `model` (default: the paper's Table 3 model)."""
    scenario = get_scenario(scenario) if isinstance(scenario, str) else scenario
    model = model or paper_model()
    lp = lp if lp is not None and lp.fits(model) else RouteLP.for_model(model)
    return lp.solve(model, scenario, extra_incentive=extra_incentive)


def district_model(
    con: duckdb.DuckDBPyConnection, district_id: str, *, base: Model | None = None
) -> tuple[Model, tuple[str, ...]]:
    """The model with one district's calibrated route costs and annual meals (coop.calibrate), and the notes."""
    from coop.optimize import calibrate

    cal = calibrate.route_costs(con, district_id)
    costs = {r: float(v) for r, v in cal.cost_per_meal.items()}
    for route, value in costs.items():
        if not (math.isfinite(value) and value >= 0):
            raise ModelError(f"district {district_id!r}: calibrated cost per meal for {route} is {value}")
    sources = ", ".join(f"{r} {cal.source.get(r, '?')}" for r in costs)
    label = f"district {district_id} calibrated ({sources}; annual meals from {cal.meals_source})"
    model = (base or paper_model()).with_costs(costs, meals=cal.annual_meals, source=label)
    return model, tuple(cal.notes)
