"""The paper's sensitivity analysis: each route cost, and all costs, at 50% and 150% (10 runs per scenario).

Section "Sensitivity analysis" of seed 003: one run with every objective-function parameter at 50%,
four with a single one at 50%, one with every one at 150% and four with a single one at 150%. The
economic-impact coefficients (multiplier x cost - target) are recomputed from the varied costs.

A scenario's per-meal incentive is part of the objective-function parameter that a run varies: the paper's
CO HB 19-1132 scenario "lowered the objective parameters by $0.05 per meal" and the analysis then "varied
the objective function parameters", so a varied route costs factor x (cost - incentive), not
factor x cost - incentive. All runs re-solve one built LP.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from coop.optimize.lp import LPResult, RouteLP
from coop.optimize.model import Model
from coop.optimize.paper import PAPER_FACTORS, paper_model
from coop.optimize.scenarios import Scenario, get_scenario
from coop.optimize.status import INFEASIBLE

ALL = "all"
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class SensitivityRun:
    """One run: cost `factor` applied to route `varied` (or `all`), and the LP result."""

    factor: float
    varied: str
    result: LPResult

    def to_json(self) -> dict[str, Any]:
        """`{"factor", "varied", "status", "meals", "shadow_prices", "reduced_costs"}` as in DESIGN.md."""
        return {
            "factor": self.factor,
            "varied": self.varied,
            "status": self.result.status,
            "meals": self.result.meals,
            "shadow_prices": self.result.shadow_prices,
            "reduced_costs": self.result.reduced_costs,
        }


def _range(values: list[float]) -> dict[str, float] | None:
    """`{"min", "max"}` of `values`, or None when there are none."""
    return {"min": min(values), "max": max(values)} if values else None


@dataclass(frozen=True)
class SensitivityResult:
    """The runs of one scenario's sensitivity analysis, the baseline solve, and ranges over the optimal runs."""

    scenario: str
    baseline: LPResult
    runs: tuple[SensitivityRun, ...]

    @property
    def infeasible(self) -> tuple[SensitivityRun, ...]:
        """The runs that found no feasible plan."""
        return tuple(r for r in self.runs if r.result.status == INFEASIBLE)

    @property
    def ranges(self) -> dict[str, dict[str, dict[str, float] | None]]:
        """Min and max of meals per route, shadow price per constraint and reduced cost per route over optimal runs."""
        optimal = [r.result for r in self.runs if r.result.optimal]
        out: dict[str, dict[str, dict[str, float] | None]] = {}
        for key in ("meals", "shadow_prices", "reduced_costs"):
            keys: dict[str, None] = {}
            for res in optimal:
                keys.update(dict.fromkeys(getattr(res, key)))
            out[key] = {k: _range([getattr(res, key)[k] for res in optimal if k in getattr(res, key)]) for k in keys}
        return out

    def to_json(self) -> dict[str, Any]:
        """`{"runs": [...], "ranges": {...}}` as in DESIGN.md."""
        return {"runs": [r.to_json() for r in self.runs], "ranges": self.ranges}

    def text(self) -> str:
        """A readable report: one line per run with meals per route (or what conflicts), then the ranges."""
        routes = self.baseline_routes
        lines = [f"sensitivity of {self.scenario}: route costs x 0.5 and x 1.5 (meals per year)"]
        lines.append(f"{'run':<28}{'status':<12}" + "".join(f"{r[:20]:>22}" for r in routes))
        for run in self.runs:
            head = f"{run.varied + ' x' + format(run.factor, 'g'):<28}{run.result.status:<12}"
            if run.result.meals is not None:
                lines.append(head + "".join(f"{run.result.meals[r]:>22,.0f}" for r in routes))
            else:
                lines.append(head + f"  conflicts: {', '.join(run.result.conflicts) or '-'}")
        for key, values in self.ranges.items():
            lines.append(f"range of {key.replace('_', ' ')} over optimal runs:")
            for name, span in values.items():
                if span is not None:
                    lines.append(f"  {name:<24}{span['min']:>14,.4f} to {span['max']:,.4f}")
        return "\n".join(lines)

    def table(self) -> pl.DataFrame:
        """One row per run: factor, varied, status, total cost ($/year), meals per route and shadow prices ($)."""
        rows: list[dict[str, Any]] = []
        for run in self.runs:
            row: dict[str, Any] = {
                "factor": run.factor,
                "varied": run.varied,
                "status": run.result.status,
                "total_cost": run.result.total_cost,
                "conflicts": ", ".join(run.result.conflicts),
            }
            for route in self.baseline_routes:
                row[f"meals_{route}"] = (run.result.meals or {}).get(route)
            rows.append(row)
        return pl.DataFrame(rows, infer_schema_length=None)

    @property
    def baseline_routes(self) -> tuple[str, ...]:
        """Route names in model order (from the first run that has a plan, else the baseline)."""
        for res in (self.baseline, *(r.result for r in self.runs)):
            if res.meals is not None:
                return tuple(res.meals)
        return ()


def paper_runs(routes: Sequence[str], factors: Sequence[float] = PAPER_FACTORS) -> list[tuple[float, str]]:
    """The paper's run order: for each factor, all costs then each route's cost alone."""
    return [(factor, varied) for factor in factors for varied in (ALL, *routes)]


def varied_incentive(scenario: Scenario, routes: Sequence[str], factor: float, varied: str) -> dict[str, float]:
    """The extra incentive per meal that scales the scenario's incentive on the varied route(s) by `factor`.

    With the route's cost scaled too, its net cost per meal is factor x (cost - incentive): the paper varies
    the objective-function parameter, which for an incentive scenario is the cost less the incentive.
    """
    return {
        route: (factor - 1.0) * amount
        for route, amount in zip(routes, scenario.incentives(routes), strict=True)
        if amount and varied in (ALL, route)
    }


def sensitivity(
    scenario: Scenario | str,
    model: Model | None = None,
    *,
    factors: Sequence[float] = PAPER_FACTORS,
    progress: Progress | None = None,
    lp: RouteLP | None = None,
) -> SensitivityResult:
    """Run the paper's cost sensitivity analysis for one scenario on `model` (default: the paper's model)."""
    scenario = get_scenario(scenario) if isinstance(scenario, str) else scenario
    model = model or paper_model()
    lp = lp if lp is not None and lp.fits(model) else RouteLP.for_model(model)
    plan = paper_runs(model.route_names, factors)
    total = len(plan) + 1
    baseline = lp.solve(model, scenario)
    if progress is not None:
        progress(1 / total, f"{scenario.name}: baseline {baseline.status}")
    runs = []
    for k, (factor, varied) in enumerate(plan, start=2):
        varied_model = model.scaled(factor, None if varied == ALL else varied)
        extra = varied_incentive(scenario, model.route_names, factor, varied)
        result = lp.solve(varied_model, scenario, extra_incentive=extra)
        runs.append(SensitivityRun(factor, varied, result))
        if progress is not None:
            progress(k / total, f"{scenario.name}: {varied} costs x {factor:g}: {result.status}")
    return SensitivityResult(scenario.name, baseline, tuple(runs))


def sensitivity_all(
    scenarios: Sequence[Scenario | str],
    model: Model | None = None,
    *,
    factors: Sequence[float] = PAPER_FACTORS,
    progress: Progress | None = None,
) -> dict[str, SensitivityResult]:
    """The sensitivity analysis of several scenarios on one built LP, keyed by scenario name."""
    model = model or paper_model()
    lp = RouteLP.for_model(model)
    out: dict[str, SensitivityResult] = {}
    n = len(scenarios)
    for i, sc in enumerate(scenarios):

        def sub(fraction: float, message: str, i: int = i) -> None:
            """Scale one scenario's progress into the overall bar."""
            if progress is not None:
                progress((i + fraction) / n, message)

        result = sensitivity(sc, model, factors=factors, progress=sub, lp=lp)
        out[result.scenario] = result
    return out
