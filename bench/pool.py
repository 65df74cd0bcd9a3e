"""Benchmark the pooled co-op model: solve times by co-op size, the full 7-district allocation, re-solve vs build.

Generated co-ops: 4 routes x 20 categories; the distributor and its local line have two all-units tiers, the food
hub a fixed cost and a tier, farms a fixed cost; local routes have capacities (each member's entitlement);
each member has a local-share goal. Prints one line per measurement and a JSON summary at the end.

    python bench/pool.py [--max-districts 1000] [--categories 20] [--seed 0] [--ten] [--json]
    python bench/pool.py --large [--large-sizes 50 200] [--core-sizes 200 1000] [--budget 600] [--json]

`--large` measures the fair split of large co-ops instead (issue 22): coalition solves per second on 1 and 2
LocalCluster workers (the same chains, so also whether they give identical values), the time sampled Shapley takes
to bring every member's 95% half-width within 1% of its standalone cost (2 workers), and the core check (one
separation MILP) on the Shapley split, or on a list-price split for the sizes in --core-sizes only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coop import names
from coop.optimize import execution, quotes
from coop.optimize.allocate import AllocationReport, allocate
from coop.optimize.pool import CoreSeparation, PoolModel, SolverSettings, without_district
from coop.optimize.pool_spec import PoolSpec, parse_spec
from coop.optimize.status import OPTIMAL
from coop.store import db

ROOT = Path(__file__).resolve().parents[1]
SIZES = (7, 50, 200, 1000)


def generate(n: int, categories: int = 20, seed: int = 0) -> PoolSpec:
    """A co-op of n districts (sizes spread like 300 to 40,000 students) over `categories` categories."""
    rng = np.random.default_rng(seed)
    size = np.exp(rng.uniform(np.log(300), np.log(40_000), n))  # students
    cats = [f"c{j:02d}" for j in range(categories)]
    per_student = rng.uniform(2.0, 12.0, categories)  # units per student per year
    base = rng.uniform(0.8, 4.0, categories)  # $ per unit, non-local distributor
    local_share = rng.choice([0.0, 0.1, 0.2, 0.25], n)
    median = np.median(size)
    districts = []
    for i in range(n):
        demand = {c: float(round(size[i] * per_student[j] * rng.uniform(0.6, 1.4))) for j, c in enumerate(cats)}
        districts.append({"id": f"d{i:04d}", "demand": demand, "policy": {"local_share_min": float(local_share[i])}})
    offers = []
    for j, c in enumerate(cats):
        m = median * per_student[j]  # a median member's annual demand
        cap = {d["id"]: 0.15 * d["demand"][c] for d in districts}  # local supply: 15% of each member's demand
        offers += [
            {
                "route": names.TRADITIONAL_NONLOCAL,
                "category": c,
                "unit_cost": base[j],
                "tiers": [
                    {"min_volume": 3 * m, "unit_cost": base[j] * 0.97},
                    {"min_volume": 8 * m, "unit_cost": base[j] * 0.94},
                ],
            },
            {
                "route": names.TRADITIONAL_LOCAL,
                "category": c,
                "unit_cost": base[j] * 1.03,
                "tiers": [{"min_volume": 3 * m, "unit_cost": base[j] * 1.01}],
                "capacity_by_district": cap,
            },
            {
                "route": names.NONTRADITIONAL_LOCAL,
                "category": c,
                "unit_cost": base[j] * 1.2,
                "fixed_cost": 1500.0,
                "tiers": [{"min_volume": 2 * m, "unit_cost": base[j] * 1.1}],
                "capacity_by_district": cap,
            },
            {
                "route": names.DIRECT_LOCAL,
                "category": c,
                "unit_cost": base[j] * 1.15,
                "fixed_cost": 2500.0,
                "capacity_by_district": cap,
            },
        ]
    return parse_spec({"districts": districts, "offers": offers}, source=f"generated({n})")


def describe(label: str, report: AllocationReport, seconds: float) -> None:
    """One line: coalitions, savings, core verdicts, the 10 s goal."""
    pool = report.pool
    print(
        f"[{label}] {len(report.games.values) - 1} coalitions, savings ${pool.savings:,.0f} "
        f"({pool.savings / pool.standalone['standalone_cost'].sum():.1%}), core empty: {report.core_empty}, "
        f"Shapley in core: {report.allocation('shapley').in_core}, heuristics {pool.heuristics}, worst gap "
        f"{max(pool.worst_gap, report.games.worst_gap):.1e}; goal < 10 s: {'met' if seconds < 10 else 'MISSED'}",
        flush=True,
    )


def timed(label: str, fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
    start, cpu = time.perf_counter(), time.process_time()
    value = fn(*args, **kwargs)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"{label}: {seconds:.3f} s (this process's CPU {cpu:.3f} s; the rest is waiting for a shared core)", flush=True
    )
    return value, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-districts", type=int, default=1000, help="largest co-op to solve (default 1000)")
    parser.add_argument("--categories", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mip-gap", type=float, default=1e-4, help="relative gap for the grand-coalition runs")
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per grand-coalition solve")
    parser.add_argument("--ten", action="store_true", help="also the full run for 10 districts (1,023 coalitions)")
    parser.add_argument("--json", action="store_true", help="progress to stderr; one JSON object (figures) on stdout")
    parser.add_argument("--large", action="store_true", help="the large-co-op fair split instead (issue 22)")
    parser.add_argument("--large-sizes", type=int, nargs="*", default=[50, 200], help="co-ops for the sampled split")
    parser.add_argument("--core-sizes", type=int, nargs="*", default=[1000], help="co-ops for the core check alone")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds of sampling per co-op (default 600)")
    parser.add_argument("--rate-permutations", type=int, default=4, help="permutations timed for solves per second")
    args = parser.parse_args(argv)
    run, make = (measure_large, large_figures) if args.large else (measure, figures)
    if not args.json:
        run(args)
        return 0
    with contextlib.redirect_stdout(sys.stderr):
        summary = run(args)
    print(json.dumps({"figures": make(summary), **summary}, default=str))
    return 0


def _every(seconds: float, label: str):  # noqa: ANN202
    """A progress callback printing at most once every `seconds`."""
    last = [time.monotonic()]

    def show(fraction: float, message: str) -> None:
        if time.monotonic() - last[0] >= seconds:
            last[0] = time.monotonic()
            print(f"{label} {fraction:.0%} {message}", flush=True)

    return show


def _rate(spec: PoolSpec, workers: int, chains: list[list[int]]) -> tuple[float, list[tuple[float, ...]]]:
    """Coalition solves per second on a LocalCluster of `workers` (after start-up and the models' builds)."""
    settings = execution.sampling_settings(SolverSettings())
    with execution.open_runner(spec, settings, workers=workers) as runner:
        runner.solve_chains([c[:1] for c in chains[:workers]])  # every worker builds its model first
        start = time.perf_counter()
        out = runner.solve_chains(chains)
        seconds = time.perf_counter() - start
    assert all(c is not None for c in out)
    return sum(len(c) for c in chains) / seconds, [c.costs for c in out if c is not None]


def measure_large(args: argparse.Namespace) -> dict:
    """Solves per second on 1 and 2 workers, time to a 1% half-width, and the core checks, per co-op size."""
    summary: dict[str, object] = {"categories": args.categories, "budget_s": args.budget, "sizes": {}}
    for n in args.large_sizes:
        spec = generate(n, args.categories, args.seed)
        rng = np.random.default_rng(args.seed)
        chains = []
        for _ in range(args.rate_permutations):
            order, mask, chain = rng.permutation(n), 0, []
            for i in order[:-1]:  # every prefix but the grand coalition, as sampling solves them
                mask |= 1 << int(i)
                chain.append(mask)
            chains.append(chain)
        one, costs1 = _rate(spec, 1, chains)
        two, costs2 = _rate(spec, 2, chains)
        same = costs1 == costs2
        print(
            f"[{n}] coalition solves per second: 1 worker {one:.2f}, 2 workers {two:.2f} (ratio {two / one:.2f}); "
            f"the same {sum(map(len, chains))} coalitions on 1 and 2 workers give identical values: {same}",
            flush=True,
        )
        report, seconds = timed(
            f"[{n}] sampled Shapley to a 1% half-width (2 workers, budget {args.budget:g} s) + core check",
            allocate,
            spec,
            tolerance=0.01,
            time_budget=args.budget,
            workers=2,
            seed=args.seed,
            progress=_every(60.0, f"[{n}]"),
        )
        out = report.to_json()
        standalone = out["standalone"]
        worst = max(out["shapley_half_width"][d] / standalone[d] for d in standalone)
        check = out["core_check"]
        sampling_s = report.games.seconds
        print(
            f"[{n}] {report.permutations} permutations, {report.coalition_solves:,} coalition solves, sampling "
            f"{sampling_s:.0f} s: largest half-width {worst:.2%} of standalone, target 1% met: "
            f"{report.precision_target_met}; core check ({check['method']}) {check['seconds']:.1f} s: in core "
            f"{check['in_core']}, most violated {len(check['most_violated']['members'])} members, excess "
            f"${check['most_violated']['excess']:,.2f}, bound ${check['excess_bound']:,.2f}, "
            f"gap {check['mip_gap']:.1e}",
            flush=True,
        )
        for note in report.notes:
            print(f"[{n}] note: {note}")
        summary["sizes"][n] = {
            "solves_per_s_1": one,
            "solves_per_s_2": two,
            "identical_1_vs_2": same,
            "permutations": report.permutations,
            "coalition_solves": report.coalition_solves,
            "sampling_s": sampling_s,
            "total_s": seconds,
            "worst_half_width": worst,
            "target_met": report.precision_target_met,
            "core_check": check,
            "core_empty": out["core_empty"],
        }
    for n in args.core_sizes:
        spec = generate(n, args.categories, args.seed)
        model, _build_s = timed(f"[{n}] pooled model build", PoolModel, spec, SolverSettings(mip_gap=1e-4))
        grand, grand_s = timed(f"[{n}] grand coalition solve", model.solve, range(n), detail=False)
        # the pooled cost split in proportion to each member's demand at list prices (its n standalone solves would
        # take longer than the check itself at 1,000 members)
        listed = [o for o in spec.offers if o.route == names.TRADITIONAL_NONLOCAL]  # the distributor's base prices
        value = np.array([sum(d.demand[o.category] * o.unit_cost for o in listed) for d in spec.districts])
        split = grand.cost * value / value.sum()
        separation, sep_build_s = timed(f"[{n}] separation MILP build", CoreSeparation, model, time_limit=args.budget)
        found, sep_s = timed(f"[{n}] core check of a list-price split", separation.most_violated, split)
        tol = 4 * 1e-4 * grand.cost
        verdict = True if found.excess_bound <= tol else (False if found.excess > tol else None)
        print(
            f"[{n}] core check: in core {verdict}, most violated {len(found.members)} members, excess "
            f"${found.excess:,.2f}, bound ${found.excess_bound:,.2f}, gap {found.mip_gap:.1e}, status {found.status}",
            flush=True,
        )
        summary["sizes"].setdefault(n, {})["core_list_price"] = {
            "seconds": sep_s,
            "build_s": sep_build_s,
            "grand_s": grand_s,
            "in_core": verdict,
            "members": len(found.members),
            "excess": found.excess,
            "excess_bound": found.excess_bound,
            "mip_gap": found.mip_gap,
            "status": found.status,
        }
    return summary


def large_figures(summary: dict) -> list[dict[str, object]]:
    """The large-co-op figures, each against a baseline measured in the same run."""
    out = []
    for n, size in summary["sizes"].items():
        if "solves_per_s_1" in size:
            out.append(
                {
                    "name": f"pool: coalition solves per second, {n} districts, 2 LocalCluster workers",
                    "value": size["solves_per_s_2"],
                    "unit": "solves/s",
                    "baseline": "the same coalitions on 1 worker",
                    "baseline_value": size["solves_per_s_1"],
                    "ratio": size["solves_per_s_2"] / size["solves_per_s_1"],
                    "goal": "identical values on 1 and 2 workers",
                    "met": bool(size["identical_1_vs_2"]),
                }
            )
            serial = size["coalition_solves"] / size["solves_per_s_1"]
            out.append(
                {
                    "name": f"pool: sampled Shapley to a 1% half-width for every member, {n} districts, 2 workers",
                    "value": size["sampling_s"],
                    "unit": "s",
                    "baseline": "the same solves at the 1-worker rate",
                    "baseline_value": serial,
                    "ratio": size["sampling_s"] / serial,
                    "goal": f"1% reached within the {summary['budget_s']:g} s budget",
                    "met": bool(size["target_met"]),
                }
            )
            check = size["core_check"]
            out.append(
                {
                    "name": f"pool: core check of the Shapley split, {n} districts ({check['method']})",
                    "value": check["seconds"],
                    "unit": "s",
                    "baseline": "sampling time",
                    "baseline_value": size["sampling_s"],
                    "ratio": check["seconds"] / size["sampling_s"],
                    "goal": "a verdict (in the core or a blocking group) within the MIP gap",
                    "met": check["in_core"] is not None,
                }
            )
        if "core_list_price" in size:
            core = size["core_list_price"]
            out.append(
                {
                    "name": f"pool: core check of a list-price split, {n} districts (separation MILP)",
                    "value": core["seconds"],
                    "unit": "s",
                    "baseline": "one grand-coalition solve",
                    "baseline_value": core["grand_s"],
                    "ratio": core["seconds"] / core["grand_s"],
                    "goal": "a verdict within the MIP gap",
                    "met": core["in_core"] is not None,
                }
            )
    return out


def figures(summary: dict) -> list[dict[str, object]]:
    """The benchmark's figures, each against a baseline measured in the same run."""

    def figure(name: str, value: float, unit: str, baseline: str, base: float, goal: str, met: bool) -> dict:
        return {
            "name": name,
            "value": value,
            "unit": unit,
            "baseline": baseline,
            "baseline_value": base,
            "ratio": value / base if base else float("inf"),
            "goal": goal,
            "met": bool(met),
        }

    sizes = summary["sizes"]
    out = [
        figure(
            "pool: per-coalition re-solve (parameters updated), 7 districts",
            summary["resolve_ms"],
            "ms",
            "fresh build + solve of the same coalition",
            summary["fresh_ms"],
            "re-solve faster than a fresh build",
            summary["resolve_over_fresh"] < 1,
        )
    ]
    if "sample_full_run_s" in summary:
        out.append(
            figure(
                "pool: full run on the sample co-op (127 coalitions, exact Shapley, core, least core)",
                summary["sample_full_run_s"],
                "s",
                "one fresh build + solve of the 7-district co-op",
                summary["fresh_ms"] / 1000,
                "under 10 s",
                summary["sample_full_run_s"] < 10,
            )
        )
    first = sizes[min(sizes)]
    for n, size in sizes.items():
        out.append(
            figure(
                f"pool: grand coalition of {n} districts, build + first solve",
                size["build_s"] + size["first_solve_s"],
                "s",
                f"the same for {min(sizes)} districts",
                first["build_s"] + first["first_solve_s"],
                "optimal within the MIP gap and time limit",
                size["status"] == OPTIMAL,
            )
        )
    return out


def measure(args: argparse.Namespace) -> dict:
    """Run every measurement, printing one line each; return the summary."""
    summary: dict[str, object] = {"categories": args.categories, "sizes": {}}

    # 1. grand coalition by co-op size
    settings = SolverSettings(mip_gap=args.mip_gap, time_limit=args.time_limit)
    for n in (s for s in SIZES if s <= args.max_districts):
        spec, _gen_s = timed(f"[{n}] generate", generate, n, args.categories, args.seed)
        model, build_s = timed(f"[{n}] build (cvxpy, once)", PoolModel, spec, settings)
        solve, first_s = timed(
            f"[{n}] grand coalition, first solve (compile + HiGHS, no warm start)", model.solve, range(n), detail=False
        )
        _again, again_s = timed(f"[{n}] grand coalition, re-solve (warm start)", model.solve, range(n), detail=False)
        binaries = model.y.size if model.y is not None else 0
        print(
            f"[{n}] status {solve.status}, cost ${solve.cost:,.0f}, gap {solve.mip_gap:.1e} "
            f"(limit {settings.mip_gap:g}, {settings.time_limit:g} s), binaries {binaries}, "
            f"heuristics {model.heuristics}"
        )
        summary["sizes"][n] = {
            "build_s": build_s,
            "first_solve_s": first_s,
            "resolve_s": again_s,
            "status": solve.status,
            "gap": solve.mip_gap,
            "binaries": int(model.y.size) if model.y is not None else 0,
            "variables": int(model.x.size),
        }

    # 2. the full 7-district runs: standalone optima, all 127 coalitions, exact Shapley, core, least core;
    #    on the bundled sample co-op (the goal: under 10 s) and on a generated 20-category co-op
    with tempfile.TemporaryDirectory() as tmp:
        db_file = Path(tmp) / "sample.duckdb"
        loaded = subprocess.run(
            [sys.executable, "-m", "coop", "sample", "--db", str(db_file), "--json"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if loaded.returncode == 0:
            con = db.connect(db_file)
            sample_spec, spec_s = timed("[sample] pool spec from the database", quotes.spec_from_db, con)
            con.close()
            report, full_s = timed("[sample] full run: exact Shapley + core check + least core", allocate, sample_spec)
            describe("sample", report, full_s)
            summary["sample_spec_s"] = spec_s
            summary["sample_full_run_s"] = full_s
        else:
            print(f"[sample] skipped: `python -m coop sample` failed: {loaded.stderr.strip()[-200:]}")
    spec7 = generate(7, args.categories, args.seed)
    report, full_s = timed(f"[7x{args.categories}] full run: exact Shapley + core check + least core", allocate, spec7)
    describe(f"7x{args.categories}", report, full_s)
    summary["full_run_7_s"] = full_s
    if args.ten:
        spec10 = generate(10, args.categories, args.seed)
        _report10, full10_s = timed("[10] full run: exact Shapley over 1,023 coalitions", allocate, spec10)
        summary["full_run_10_s"] = full10_s

    # 3. per-coalition re-solve (parameters changed) against a fresh build + solve of the same coalition
    model = PoolModel(spec7)
    model.solve(range(7), detail=False)  # compile once
    rng = np.random.default_rng(args.seed)
    masks = [int(m) for m in rng.integers(1, 127, 20)]
    resolve, fresh = [], []
    for mask in masks:
        members = [i for i in range(7) if mask >> i & 1]
        start = time.perf_counter()
        a = model.solve(members, detail=False).cost
        resolve.append(time.perf_counter() - start)
        sub = spec7
        for i in range(7):
            if not mask >> i & 1:
                sub = without_district(sub, spec7.districts[i].id)
        start = time.perf_counter()
        b = PoolModel(sub).solve(range(len(members)), detail=False).cost
        fresh.append(time.perf_counter() - start)
        assert a is not None and b is not None and abs(a - b) <= 1e-4 * max(1.0, abs(b)), (mask, a, b)
    ratio = statistics.median(resolve) / statistics.median(fresh)
    print(
        f"[7] per-coalition re-solve {statistics.median(resolve) * 1000:.1f} ms vs fresh build + solve "
        f"{statistics.median(fresh) * 1000:.1f} ms (medians of {len(masks)}): ratio {ratio:.2f}"
    )
    summary["resolve_ms"] = statistics.median(resolve) * 1000
    summary["fresh_ms"] = statistics.median(fresh) * 1000
    summary["resolve_over_fresh"] = ratio
    return summary


if __name__ == "__main__":
    raise SystemExit(main())
