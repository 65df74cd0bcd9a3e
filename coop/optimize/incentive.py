"""Incentive finder: the smallest per-meal incentive on some routes that moves a target share of meals to them.

The incentive is added to the scenario's own (e.g. on top of CO HB 19-1132's $0.05) and lowers the
net cost per meal of the chosen routes. The LP's optimal share on those routes is a non-decreasing
step function of the incentive, so bisection over parametric re-solves of one built LP finds the
step where the share first reaches the target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from coop import names
from coop.errors import ModelError
from coop.optimize.lp import LPResult, RouteLP
from coop.optimize.model import Model
from coop.optimize.paper import paper_model
from coop.optimize.scenarios import Scenario, get_scenario

TOLERANCE = 1e-6  # dollars per meal
STEP = 1e-4  # dollars per meal: the curve and the reported plan sit this far either side of the step
CURVE_POINTS = 41


@dataclass(frozen=True)
class IncentiveResult:
    """The smallest incentive reaching `target_share` on `routes` (None when unreachable), and the share curve."""

    scenario: str
    routes: tuple[str, ...]
    target_share: float
    incentive: float | None
    reachable: bool
    share_without: float | None
    max_share: float | None
    max_incentive: float
    result: LPResult | None
    curve: pl.DataFrame
    message: str = ""

    def text(self) -> str:
        """A readable answer: the incentive found (or why none), then the share curve."""
        lines = [f"{self.scenario}: {self.message}"]
        lines.append(f"{'extra incentive $/meal':>24}{'share':>10}{'net cost $/year':>18}{'incentive paid $/year':>24}")
        for row in self.curve.iter_rows(named=True):
            if row["share"] is None:
                lines.append(f"{row['incentive']:>24.4f}{row['status']:>10}")
                continue
            lines.append(
                f"{row['incentive']:>24.4f}{row['share']:>10.1%}{row['total_cost']:>18,.0f}{row['incentive_paid']:>24,.0f}"
            )
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The answer as JSON: incentive ($ per meal), shares, the plan at that incentive and the curve rows."""
        return {
            "scenario": self.scenario,
            "routes": list(self.routes),
            "target_share": self.target_share,
            "incentive": self.incentive,
            "reachable": self.reachable,
            "share_without_incentive": self.share_without,
            "max_share": self.max_share,
            "max_incentive": self.max_incentive,
            "result": None if self.result is None else self.result.to_json(),
            "curve": self.curve.to_dicts(),
            "message": self.message,
        }


class _Searcher:
    """Parametric re-solves of one built LP at a given extra incentive on `routes`."""

    def __init__(self, model: Model, scenario: Scenario, routes: Sequence[str], lp: RouteLP | None) -> None:
        self.model, self.scenario, self.routes = model, scenario, tuple(routes)
        self.lp = lp if lp is not None and lp.fits(model) else RouteLP.for_model(model)

    def solve(self, amount: float) -> LPResult:
        """The LP with `amount` dollars per meal of extra incentive on each chosen route."""
        return self.lp.solve(
            self.model, self.scenario, extra_incentive=dict.fromkeys(self.routes, amount), explain=False
        )

    def share(self, result: LPResult) -> float | None:
        """Share of meals on the chosen routes (None unless optimal)."""
        return result.share(self.routes) if result.optimal else None


def _check_routes(model: Model, routes: Sequence[str]) -> tuple[str, ...]:
    """The chosen routes, validated against the model."""
    if not routes:
        raise ModelError("choose at least one route for the incentive")
    for route in routes:
        model.cost(route)
    return tuple(dict.fromkeys(routes))


def default_max_incentive(model: Model, scenario: Scenario, routes: Sequence[str]) -> float:
    """The largest incentive searched: the cheapest chosen route's net cost, so no net cost turns negative."""
    net = [c - i for c, i in zip(model.costs, scenario.incentives(model.route_names), strict=True)]
    return max(0.0, min(net[model.route_names.index(r)] for r in routes) - 1e-6)


def incentive_curve(
    scenario: Scenario | str,
    routes: Sequence[str] = names.LOCAL_ROUTES,
    model: Model | None = None,
    *,
    incentives: Sequence[float] | None = None,
    max_incentive: float | None = None,
    points: int = CURVE_POINTS,
    lp: RouteLP | None = None,
) -> pl.DataFrame:
    """Share of meals on `routes` against the extra incentive ($ per meal): one row per incentive solved."""
    scenario = get_scenario(scenario) if isinstance(scenario, str) else scenario
    model = model or paper_model()
    routes = _check_routes(model, routes)
    search = _Searcher(model, scenario, routes, lp)
    if incentives is None:
        top = default_max_incentive(model, scenario, routes) if max_incentive is None else max_incentive
        incentives = np.linspace(0.0, top, max(points, 2)).tolist()
    return _curve(search, incentives)


def _curve(search: _Searcher, incentives: Sequence[float]) -> pl.DataFrame:
    """Solve at each incentive and tabulate share, annual net cost to the district and incentive paid ($/year)."""
    rows = []
    for amount in sorted(set(float(a) for a in incentives)):
        res = search.solve(amount)
        rows.append(
            {
                "incentive": amount,
                "share": search.share(res),
                "status": res.status,
                "total_cost": res.total_cost,
                "incentive_paid": res.incentive_paid,
            }
        )
    schema = {
        "incentive": pl.Float64,
        "share": pl.Float64,
        "status": pl.String,
        "total_cost": pl.Float64,
        "incentive_paid": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)


def _breakpoint(search: _Searcher, lo: float, below: LPResult, hi: float, above: LPResult, tolerance: float) -> float:
    """The exact incentive where the plan `below` (at lo) and the plan `above` (at hi) cost the same, else hi.

    Each plan's net cost is linear in the incentive s: C(s) = C(0) - s * (meals on the chosen routes),
    so the switch happens where the two lines cross; bisection only brackets it to `tolerance`.
    """
    target = lambda res: sum((res.meals or {}).get(r, 0.0) for r in search.routes)  # noqa: E731
    e_lo, e_hi = target(below), target(above)
    if below.total_cost is None or above.total_cost is None or e_hi - e_lo <= 1e-9:
        return hi
    c_lo = below.total_cost + lo * e_lo
    c_hi = above.total_cost + hi * e_hi
    crossing = (c_hi - c_lo) / (e_hi - e_lo)
    slack = 10 * tolerance
    return crossing if lo - slack <= crossing <= hi + slack else hi


def find_incentive(
    scenario: Scenario | str,
    target_share: float,
    routes: Sequence[str] = names.LOCAL_ROUTES,
    model: Model | None = None,
    *,
    max_incentive: float | None = None,
    tolerance: float = TOLERANCE,
    curve_points: int = CURVE_POINTS,
    lp: RouteLP | None = None,
) -> IncentiveResult:
    """The smallest extra per-meal incentive on `routes` whose optimal plan buys at least `target_share` there."""
    scenario = get_scenario(scenario) if isinstance(scenario, str) else scenario
    model = model or paper_model()
    routes = _check_routes(model, routes)
    if not 0.0 < target_share <= 1.0:
        raise ModelError(f"target share must be in (0, 1], got {target_share}")
    search = _Searcher(model, scenario, routes, lp)
    top = default_max_incentive(model, scenario, routes) if max_incentive is None else float(max_incentive)
    # the share can sit a hair under the target from solver rounding; allow 1e-9
    reaches = lambda res: res.optimal and (search.share(res) or 0.0) >= target_share - 1e-9  # noqa: E731

    base = search.solve(0.0)
    if not base.optimal:
        return IncentiveResult(
            scenario.name, routes, target_share, None, False, None, None, top, base,
            _curve(search, [0.0]), f"the scenario itself is {base.status}: {base.message}".rstrip(": "),
        )  # fmt: skip
    share0 = search.share(base)
    at_top = search.solve(top)
    max_share = search.share(at_top)
    if reaches(base):
        lo = hi = found = 0.0
        best = base
    else:
        best = at_top
        if not reaches(best):
            curve = _curve(search, np.linspace(0.0, top, max(curve_points, 2)).tolist())
            return IncentiveResult(
                scenario.name, routes, target_share, None, False, share0, max_share, top, best, curve,
                f"no incentive up to ${top:.2f} per meal reaches {target_share:.0%}; the most is "
                f"{(max_share or 0.0):.1%} (other constraints cap it)",
            )  # fmt: skip
        lo, hi, below = 0.0, top, base
        while hi - lo > tolerance:
            mid = (lo + hi) / 2
            res = search.solve(mid)
            if reaches(res):
                hi, best = mid, res
            else:
                lo, below = mid, res
        found = _breakpoint(search, lo, below, hi, best, tolerance)
        # at `found` itself the plans tie (and within the solver's tolerance of it); show the plan just above
        clear = search.solve(found + STEP)
        if reaches(clear):
            best = clear
    grid = np.linspace(0.0, max(top, found), max(curve_points, 2)).tolist()
    curve = _curve(search, [*grid, *([found - STEP] if found >= STEP else []), found + STEP])
    how = (
        "needs no extra incentive:"
        if found == 0.0
        else f"needs an extra ${found:.4f} per meal (break-even; any more) on"
    )
    return IncentiveResult(
        scenario.name, routes, target_share, found, True, share0, max_share, top, best, curve,
        f"{target_share:.0%} of meals {how} {', '.join(routes)}; the plan then buys {search.share(best):.1%} there",
    )  # fmt: skip
