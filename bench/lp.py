"""Time the route LP through coop's API against the same LP built and solved directly with highspy.

    python bench/lp.py [--repeat K] [--json]

1. One paper solve (High Economic Impact, all seven rows loaded) by re-solving coop's built cvxpy problem
   (`RouteLP.solve`, which also reads plan and duals into an LPResult), against building the same LP
   as a `highspy.HighsLp` and solving it with a fresh `highspy.Highs` (plan and duals read back).
   Best of K runs of each (median also printed), and the ratio (goal <= 5x).
2. The full six-scenario sensitivity analysis (6 x 10 runs plus 6 baselines) on one built problem,
   best of K (goal < 1 s). Both answers are checked against each other / the paper before timing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import highspy
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coop import names
from coop.optimize import lp
from coop.optimize.paper import paper_model
from coop.optimize.scenarios import SCENARIOS, get_scenario
from coop.optimize.sensitivity import sensitivity_all

SCENARIO = "high-economic-impact"


def _timed(fn: Callable[[], object], repeat: int, inner: int) -> dict[str, float]:
    """Best and median seconds per call over `repeat` batches of `inner` calls, by wall clock and by CPU time."""
    wall, cpu = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(inner):
            fn()
        wall.append((time.perf_counter() - w0) / inner)
        cpu.append((time.process_time() - c0) / inner)
    return {"best": min(wall), "median": statistics.median(wall), "cpu_best": min(cpu)}


def raw_highs(costs: np.ndarray, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> tuple:
    """Build the LP as a HighsLp, solve it, and return (status, meals, row duals, column duals)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    model = highspy.HighsLp()
    m, n = rows.shape
    model.num_col_, model.num_row_ = n, m
    model.col_cost_ = costs
    model.col_lower_ = np.zeros(n)
    model.col_upper_ = np.full(n, highspy.kHighsInf)
    model.row_lower_, model.row_upper_ = lower, upper
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    nz = rows != 0
    model.a_matrix_.start_ = np.concatenate([[0], np.cumsum(nz.sum(axis=0))]).astype(np.int32)
    model.a_matrix_.index_ = np.nonzero(nz.T)[1].astype(np.int32)
    model.a_matrix_.value_ = rows.T[nz.T]
    h.passModel(model)
    h.run()
    sol = h.getSolution()
    return h.getModelStatus(), np.array(sol.col_value), np.array(sol.row_dual), np.array(sol.col_dual)


def main() -> None:
    """Run both benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    model, scenario = paper_model(), get_scenario(SCENARIO)
    built = lp.RouteLP.for_model(model)
    ours = built.solve(model, scenario)  # first solve compiles the DPP problem once

    on = set(scenario.on)
    coeffs = np.array([r.coefficients for r in model.constraints if r.name in on])
    rhs = np.array([r.rhs for r in model.constraints if r.name in on])
    ge = np.array([r.sense == ">=" for r in model.constraints if r.name in on])
    lower = np.where(ge, rhs, -highspy.kHighsInf)
    upper = np.where(ge, highspy.kHighsInf, rhs)
    costs = np.array(model.costs)
    status, meals, _, col_dual = raw_highs(costs, coeffs, lower, upper)
    assert status == highspy.HighsModelStatus.kOptimal
    assert np.allclose(meals, [ours.meals[r] for r in names.ROUTES], atol=1e-6)
    assert np.allclose(col_dual, [ours.reduced_costs[r] for r in names.ROUTES], atol=1e-9)

    inner = 20
    ours_t = _timed(lambda: built.solve(model, scenario), args.repeat, inner)
    raw_t = _timed(lambda: raw_highs(costs, coeffs, lower, upper), args.repeat, inner)

    results = sensitivity_all(list(SCENARIOS), model)
    solves = sum(len(r.runs) for r in results.values())
    infeasible = {name: [(run.factor, run.varied) for run in r.infeasible] for name, r in results.items()}
    sens_t = _timed(lambda: sensitivity_all(list(SCENARIOS), model), max(3, args.repeat // 2), 1)

    figures = {
        "paper_solve_coop_ms": ours_t["best"] * 1e3,
        "paper_solve_coop_median_ms": ours_t["median"] * 1e3,
        "paper_solve_coop_cpu_ms": ours_t["cpu_best"] * 1e3,
        "paper_solve_raw_highspy_ms": raw_t["best"] * 1e3,
        "paper_solve_raw_highspy_median_ms": raw_t["median"] * 1e3,
        "paper_solve_raw_highspy_cpu_ms": raw_t["cpu_best"] * 1e3,
        "ratio_coop_over_highspy": ours_t["best"] / raw_t["best"],
        "ratio_coop_over_highspy_cpu": ours_t["cpu_best"] / raw_t["cpu_best"],
        "ratio_goal": 5.0,
        "sensitivity_runs": solves,
        "sensitivity_six_scenarios_s": sens_t["best"],
        "sensitivity_six_scenarios_median_s": sens_t["median"],
        "sensitivity_six_scenarios_cpu_s": sens_t["cpu_best"],
        "sensitivity_goal_s": 1.0,
        "infeasible_runs": {k: [f"{v} x{f:g}" for f, v in runs] for k, runs in infeasible.items() if runs},
        "load_average_1min": os.getloadavg()[0],
    }
    figures["figures"] = [
        {
            "name": "LP: one paper solve (coop API re-solve)",
            "value": ours_t["best"] * 1e3,
            "unit": "ms",
            "baseline": "raw highspy build + solve",
            "baseline_value": raw_t["best"] * 1e3,
            "ratio": ours_t["best"] / raw_t["best"],
            "goal": "ratio <= 5",
            "met": ours_t["best"] / raw_t["best"] <= 5.0,
        },
        {
            "name": f"LP: six-scenario sensitivity ({solves} runs)",
            "value": sens_t["best"],
            "unit": "s",
            "baseline": "raw highspy, one solve x runs",
            "baseline_value": raw_t["best"] * solves,
            "ratio": sens_t["best"] / (raw_t["best"] * solves),
            "goal": "< 1 s",
            "met": sens_t["best"] < 1.0,
        },
    ]
    if args.json:
        print(json.dumps(figures))
        return
    print(f"one paper solve ({SCENARIO}), best of {args.repeat} x {inner} (wall; CPU time in brackets):")
    print(
        f"  coop RouteLP.solve (cvxpy re-solve + LPResult)  {ours_t['best'] * 1e3:7.3f} ms "
        f"(median {ours_t['median'] * 1e3:.3f}; CPU {ours_t['cpu_best'] * 1e3:.3f})"
    )
    print(
        f"  raw highspy (build HighsLp + solve + read)      {raw_t['best'] * 1e3:7.3f} ms "
        f"(median {raw_t['median'] * 1e3:.3f}; CPU {raw_t['cpu_best'] * 1e3:.3f})"
    )
    print(
        f"  ratio coop / highspy                            {figures['ratio_coop_over_highspy']:7.2f} x "
        f"(CPU {figures['ratio_coop_over_highspy_cpu']:.2f} x; goal <= 5)"
    )
    print(f"six-scenario sensitivity ({solves} runs + 6 baselines, one built problem):")
    print(
        f"  best {sens_t['best']:.3f} s, median {sens_t['median']:.3f} s, CPU {sens_t['cpu_best']:.3f} s (goal < 1 s)"
    )
    print(f"  infeasible runs: {figures['infeasible_runs']}")
    print(f"load average (1 min) during the run: {figures['load_average_1min']:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
