"""Splitting the pooled cost: hand-computed Shapley values, core checks, an empty core, Owen on a pure LP."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coop import cli
from coop.optimize import allocate as al
from coop.optimize import execution
from coop.optimize.allocate import CoalitionValues, allocate
from coop.optimize.execution import ChainValues
from coop.optimize.pool import CoreSeparation, PoolModel
from coop.optimize.pool_spec import load_spec, parse_spec

POOL = Path(__file__).resolve().parents[1] / "data" / "pool"
ROOT = Path(__file__).resolve().parents[2]


def games(ids: str, values: dict[str, float]) -> CoalitionValues:
    """A hand-written cost game: values keyed by member letters ('' is the empty coalition)."""
    table = {sum(1 << ids.index(c) for c in key): v for key, v in values.items()}
    return CoalitionValues(tuple(ids), table, exhaustive=True, worst_gap=0.0, time_limited=0, seconds=0.0)


def generated(n: int, seed: int = 3) -> dict:
    """n districts buying two categories, with tiers, a hub with a fixed cost and local goals."""
    rng = np.random.default_rng(seed)
    districts = [
        {
            "id": f"d{i}",
            "demand": {"produce": float(rng.integers(20, 200)), "milk": float(rng.integers(10, 100))},
            "policy": {"local_share_min": float(rng.choice([0.0, 0.1, 0.2]))},
        }
        for i in range(n)
    ]
    offers = [
        {
            "id": "dist_produce",
            "route": "traditional_nonlocal",
            "category": "produce",
            "unit_cost": 2.0,
            "tiers": [{"min_volume": 300, "unit_cost": 1.9}, {"min_volume": 600, "unit_cost": 1.8}],
        },
        {
            "id": "hub_produce",
            "route": "nontraditional_local",
            "category": "produce",
            "unit_cost": 2.1,
            "fixed_cost": 40,
        },
        {"id": "farm_produce", "route": "direct_local", "category": "produce", "unit_cost": 2.6},
        {
            "id": "dist_milk",
            "route": "traditional_nonlocal",
            "category": "milk",
            "unit_cost": 3.0,
            "tiers": [{"min_volume": 200, "unit_cost": 2.85}],
        },
    ]
    return {"districts": districts, "offers": offers}


# --- the hand-solved pools ---------------------------------------------------------------------------
def test_two_district_tier_shapley_by_hand():
    report = allocate(load_spec(POOL / "two_tier.json"))
    # c(X) = 120, c(Y) = 100, c(XY) = 165
    shapley = report.allocation(al.SHAPLEY).as_dict()
    assert shapley == pytest.approx({"X": (120 + (165 - 100)) / 2, "Y": (100 + (165 - 120)) / 2})
    proportional = report.allocation(al.PROPORTIONAL).as_dict()
    assert proportional == pytest.approx({"X": 165 * 120 / 220, "Y": 165 * 100 / 220})
    for method in (al.SHAPLEY, al.PROPORTIONAL, al.LEAST_CORE):
        assert report.allocation(method).in_core is True
        assert report.allocation(method).individually_rational is True
    assert report.core_empty is False
    assert report.games.exhaustive
    assert set(report.games.values) == {0, 1, 2, 3}
    assert al.OWEN not in {a.method for a in report.allocations}  # tiers: not a pure LP


def test_fixed_cost_shapley_by_hand():
    report = allocate(load_spec(POOL / "fixed_cost.json"))
    # c(A) = 120, c(B) = 100, c(AB) = 210
    assert report.allocation(al.SHAPLEY).as_dict() == pytest.approx({"A": 115.0, "B": 95.0})
    assert report.pool.savings == pytest.approx(10.0)


def test_empty_core_is_detected_with_the_least_core():
    report = allocate(load_spec(POOL / "empty_core.json"))
    assert report.pool.coop_cost == pytest.approx(20.0)
    assert report.core_empty is True
    assert report.least_core_epsilon == pytest.approx(10 / 3)
    least = report.allocation(al.LEAST_CORE)
    assert least.as_dict() == pytest.approx({"A": 20 / 3, "B": 20 / 3, "C": 20 / 3})
    shapley = report.allocation(al.SHAPLEY)
    assert shapley.as_dict() == pytest.approx({"A": 20 / 3, "B": 20 / 3, "C": 20 / 3})
    for a in report.allocations:
        assert a.in_core is False
        assert a.individually_rational is True
    # the blocking coalition is a pair: it pays 40/3 under the split but 10 on its own
    assert len(shapley.blocking) == 2
    assert shapley.max_excess == pytest.approx(40 / 3 - 10)
    assert any("core is empty" in note for note in report.notes)
    out = report.to_json()
    assert out["core_empty"] is True
    assert len(out["blocking"]["shapley"]) == 2
    assert out["max_excess"]["shapley"] == pytest.approx(10 / 3)
    json.dumps(out, allow_nan=False)


def test_owen_allocation_on_a_pure_lp_is_in_the_core():
    report = allocate(load_spec(POOL / "shared_capacity.json"))
    owen = report.allocation(al.OWEN)
    # A: 100 lb x $2 + 50 local lb x $1 (direct over distributor) - 20 hub lb x $0.50 rent; B: 200 - 20 x 0.50
    assert owen.as_dict() == pytest.approx({"A": 240.0, "B": 190.0})
    assert sum(owen.as_dict().values()) == pytest.approx(report.pool.coop_cost)
    assert owen.in_core is True
    assert owen.individually_rational is True
    assert report.allocation(al.SHAPLEY).as_dict() == pytest.approx({"A": 235.0, "B": 195.0})


def test_owen_in_core_on_a_larger_pure_lp_with_entitlements():
    data = generated(5)
    data["offers"] = [
        {"id": "dist", "route": "traditional_nonlocal", "category": "produce", "unit_cost": 2.0},
        {"id": "farm", "route": "direct_local", "category": "produce", "unit_cost": 2.6},
        {
            "id": "hub",
            "route": "nontraditional_local",
            "category": "produce",
            "unit_cost": 2.2,
            "capacity_by_district": {"d0": 30, "d1": 0, "d2": 10, "d3": 25, "d4": 5},
        },
        {"id": "dist_milk", "route": "traditional_nonlocal", "category": "milk", "unit_cost": 3.0},
    ]
    report = allocate(parse_spec(data))
    owen = report.allocation(al.OWEN)
    assert owen.in_core is True
    assert sum(owen.as_dict().values()) == pytest.approx(report.pool.coop_cost)
    assert report.core_empty is False


# --- the game-theory pieces on hand-written games --------------------------------------------------------
def test_shapley_exact_on_a_hand_game():
    g = games("ABC", {"": 0, "A": 6, "B": 6, "C": 6, "AB": 8, "AC": 8, "BC": 12, "ABC": 13})
    phi = al.shapley_exact(g)
    # A: 1/3*6 + 1/6*(8-6) + 1/6*(8-6) + 1/3*(13-12)
    assert phi[0] == pytest.approx(6 / 3 + 2 / 6 + 2 / 6 + 1 / 3)
    assert phi.sum() == pytest.approx(13)
    assert phi[1] == pytest.approx(phi[2])


def test_core_excess_and_least_core_on_a_hand_game():
    g = games("ABC", {"": 0, "A": 6, "B": 6, "C": 6, "AB": 8, "AC": 8, "BC": 12, "ABC": 13})
    excess, mask = al.core_excess(g, np.array([3.0, 5.0, 5.0]))
    # AB pays 8 = c(AB), AC pays 8, BC pays 10 < 12, each single under 6: the worst excess is 0
    assert excess == pytest.approx(0.0)
    excess, mask = al.core_excess(g, np.array([1.0, 6.0, 6.0]))
    assert excess == pytest.approx(0.0)  # BC pays exactly c(BC) = 12, B and C exactly 6
    excess, mask = al.core_excess(g, np.array([5.0, 4.0, 4.0]))
    assert excess == pytest.approx(9 - 8) and mask in (0b011, 0b101)
    eps, alloc = al.least_core(g)
    # BC pays 13 - a_A <= 12 + eps and B, C each <= 6 + eps; AB + AC = 13 + a_A <= 16 + 2 eps.
    # So a_A >= 1 - eps, a_A <= 3 + 2 eps and 13 - a_A <= 12 + 2 eps: eps* = -1/2 at (2, 5.5, 5.5)
    assert eps == pytest.approx(-0.5)
    assert alloc == pytest.approx([2.0, 5.5, 5.5])


def test_proportional_split():
    assert al.proportional(np.array([120.0, 100.0]), 165.0) == pytest.approx([90.0, 75.0])


# --- sampled Shapley beyond the exact limit ---------------------------------------------------------------
class FormulaGame:
    """A hand-checkable cost game solved by formula: a volume discount and a shared delivery run.

    c(S) = 100 (one delivery run, shared) + unit(V_S) x V_S, V_S = the members' volumes, unit = $2.00, $1.80 from
    600 units, $1.70 from 1,200 (all-units tiers). Chains come back in order like a runner's.
    """

    def __init__(self, volumes):
        self.volumes = np.asarray(volumes, dtype=float)
        self.ids = tuple(f"m{i}" for i in range(self.volumes.size))
        self.solves = 0

    def value(self, mask):
        v = sum(self.volumes[i] for i in range(self.volumes.size) if mask >> i & 1)
        unit = 1.7 if v >= 1200 else 1.8 if v >= 600 else 2.0
        return 0.0 if mask == 0 else 100.0 + unit * v

    def solve_chains(self, chains, on_done=None, deadline=None):
        out = []
        for k, chain in enumerate(chains):
            self.solves += len(chain)
            values = ChainValues(tuple(chain), tuple(self.value(m) for m in chain), 0.0, 0, 0.0)
            out.append(values)
            if on_done is not None:
                on_done(k, values)
        return out

    def games(self):
        n = self.volumes.size
        return CoalitionValues(self.ids, {m: self.value(m) for m in range(1 << n)}, True, 0.0, 0, 0.0)


def test_formula_game_shapley_by_hand_for_three_members():
    game = FormulaGame([300, 300, 600])
    # c(A) = c(B) = 100 + 2 x 300 = 700; C's 600 units reach $1.80: c(C) = 1180; AB 600 units: 1180;
    # AC, BC 900 units: 1720; ABC 1,200 units at $1.70: 2140
    assert game.value(0b100) == pytest.approx(1180) and game.value(0b011) == pytest.approx(1180)
    assert game.value(0b101) == pytest.approx(1720) and game.value(0b111) == pytest.approx(2140)
    phi = al.shapley_exact(game.games())
    # A: 1/3 x 700 + 1/6 x (1180 - 700) + 1/6 x (1720 - 1180) + 1/3 x (2140 - 1720) = 543.33
    assert phi[0] == pytest.approx(700 / 3 + 480 / 6 + 540 / 6 + 420 / 3)
    assert phi[2] == pytest.approx(1180 / 3 + (1720 - 700) / 3 + (2140 - 1180) / 3)
    assert phi.sum() == pytest.approx(2140)


def test_sampled_shapley_on_a_12_member_game_converges_within_its_half_widths():
    game = FormulaGame([40, 60, 80, 90, 110, 120, 150, 170, 190, 210, 260, 300])
    exact = al.shapley_exact(game.games())
    n = len(game.ids)
    standalone = np.array([game.value(1 << i) for i in range(n)])
    inside = []
    for seed in range(8):
        seeded = {0: 0.0, (1 << n) - 1: game.value((1 << n) - 1)} | {1 << i: standalone[i] for i in range(n)}
        before, known = game.solves, len(seeded)
        result = al.shapley_sampled(game, standalone, values=seeded, tolerance=0.01, time_budget=None, seed=seed)
        assert result.target_met and result.stopped == "precision target met" and result.pairs >= al.MIN_PAIRS
        assert np.all(result.half_width <= 0.01 * standalone + 1e-9)
        error = np.abs(result.estimate - exact)
        assert np.all(error <= 1.5 * result.half_width)  # never far outside its interval
        inside += list(error <= result.half_width)
        assert result.estimate.sum() == pytest.approx(game.value((1 << n) - 1))  # each permutation adds up to c(N)
        # coalition values are cached: one solve per distinct coalition, far fewer than n per permutation
        assert game.solves - before == result.solves == len(result.games.values) - known
        assert result.solves < result.permutations * n / 4
    assert np.mean(inside) >= 0.9  # 95% intervals: about 95 of 96 member-runs hold the exact value


def test_sampled_shapley_same_seed_same_split_and_a_looser_tolerance_stops_sooner():
    game = FormulaGame([40, 60, 80, 90, 110, 120, 150, 170, 190, 210, 260, 300])
    n = len(game.ids)
    standalone = np.array([game.value(1 << i) for i in range(n)])

    def run(tolerance, seed=3):
        seeded = {0: 0.0, (1 << n) - 1: game.value((1 << n) - 1)} | {1 << i: standalone[i] for i in range(n)}
        return al.shapley_sampled(game, standalone, values=seeded, tolerance=tolerance, time_budget=None, seed=seed)

    a, b = run(0.01), run(0.01)
    assert np.array_equal(a.estimate, b.estimate) and a.pairs == b.pairs
    assert run(0.05).pairs <= a.pairs < run(0.004).pairs


def test_sampled_shapley_is_close_to_exact_with_a_standard_error():
    spec = parse_spec(generated(6))
    exact = allocate(spec).allocation(al.SHAPLEY).as_dict()
    sampled = allocate(spec, exact_limit=3, permutations=40, seed=1, workers=0, tolerance=0.001)
    shapley = sampled.allocation(al.SHAPLEY)
    assert not sampled.games.exhaustive
    se = dict(zip(shapley.costs["district"], shapley.costs["std_error"], strict=True))
    for d, value in exact.items():
        assert abs(shapley.as_dict()[d] - value) <= 4 * se[d] + 1e-6
    # antithetic pairs keep the efficiency: estimates add up to the co-op cost
    assert sum(shapley.as_dict().values()) == pytest.approx(sampled.pool.coop_cost)
    assert sampled.permutations == 40  # the cap: a 0.1% target is not met on this game
    out = sampled.to_json()
    assert out["precision_target_met"] is False and out["tolerance"] == 0.001
    assert set(out["shapley_half_width"]) == set(exact) and all(w > 0 for w in out["shapley_half_width"].values())
    assert out["core_check"]["method"] == "separation"
    assert out["execution"] == {"where": "in-process", "workers": 0}
    json.dumps(out, allow_nan=False)


def test_sampled_shapley_reaches_a_stated_precision_and_says_so():
    spec = parse_spec(generated(6))
    report = allocate(spec, exact_limit=3, seed=2, workers=0, tolerance=0.02, time_budget=None)
    out = report.to_json()
    assert out["precision_target_met"] is True
    for d, width in out["shapley_half_width"].items():
        assert width <= 0.02 * out["standalone"][d]
    assert "precision target met" in report.notes[0]


def test_sampled_shapley_stops_at_its_time_budget():
    report = allocate(parse_spec(generated(5)), exact_limit=3, time_budget=0.0, workers=0, tolerance=0.001)
    # two antithetic pairs solved whatever the budget (the least for a standard error); of the batch's other pairs,
    # only those whose coalitions all happen to be known already count
    assert 4 <= report.permutations < 2 * al.MIN_PAIRS
    assert f"{report.permutations} sampled permutations" in report.notes[0] and "time budget" in report.notes[0]
    assert report.precision_target_met is False


@pytest.mark.slow  # two LocalClusters (worker processes importing cvxpy): several seconds on 2 cores
@pytest.mark.xdist_group("chromium")  # its worker processes would starve a browser test beside it
def test_same_seed_same_split_on_one_and_two_dask_workers():
    spec = parse_spec(generated(6))
    runs = {w: allocate(spec, exact_limit=3, permutations=24, seed=5, workers=w, tolerance=0.001) for w in (0, 1, 2)}
    split = {w: r.allocation(al.SHAPLEY).as_dict() for w, r in runs.items()}
    assert split[1] == split[2] == split[0]  # identical, not merely close
    assert runs[2].workers == 2 and runs[2].execution.startswith("LocalCluster")
    assert runs[1].games.values == runs[2].games.values


# --- the exact core check at any size: the separation MILP ---------------------------------------------------
SMALL_GAMES = [
    *(load_spec(POOL / f"{name}.json") for name in ("two_tier", "fixed_cost", "empty_core", "shared_capacity")),
    *(parse_spec(generated(n, seed)) for n, seed in ((4, 1), (5, 3), (6, 1), (8, 2))),
]


@pytest.mark.parametrize("spec", SMALL_GAMES, ids=lambda s: f"{len(s.ids)}-members-{s.offers[0].id}")
def test_separation_finds_the_brute_force_most_violated_coalition(spec):
    report = allocate(spec)
    separation = CoreSeparation(PoolModel(spec))
    rng = np.random.default_rng(len(spec.ids))
    standalone = report.pool.standalone["standalone_cost"].to_numpy()
    splits = [a.costs["cost"].to_numpy() for a in report.allocations]
    # and some splits far from the core: a random share of the pooled cost
    for _ in range(2):
        w = rng.dirichlet(np.ones(standalone.size))
        splits.append(w * report.pool.coop_cost)
    for split in splits:
        brute, _mask = al.core_excess(report.games, split)
        found = separation.most_violated(split)
        assert found.excess == pytest.approx(brute, abs=1e-6 * report.pool.coop_cost)
        assert found.excess_bound >= found.excess - 1e-9 and found.mip_gap <= 1e-5
        members = sum(1 << spec.ids.index(d) for d in found.members)
        assert split[[spec.ids.index(d) for d in found.members]].sum() - report.games.values[members] == pytest.approx(
            brute, abs=1e-6 * report.pool.coop_cost
        )


def test_separation_on_the_empty_core_names_a_pair_and_the_least_core_by_generation():
    spec = load_spec(POOL / "empty_core.json")
    exact = allocate(spec)
    sampled = allocate(spec, exact_limit=2, permutations=40, workers=0, tolerance=0.001)
    check = sampled.core_check
    assert check.method == "separation" and check.in_core is False
    assert len(check.members) == 2  # a pair pays more than its own 10 under any split near 20/3 each
    assert sampled.core_empty is True
    assert sampled.least_core_epsilon == pytest.approx(exact.least_core_epsilon) == pytest.approx(10 / 3)
    least = sampled.allocation(al.LEAST_CORE).as_dict()
    assert sum(least.values()) == pytest.approx(20.0)
    assert all(v == pytest.approx(20 / 3, abs=1e-6) for v in least.values())


def test_least_core_by_constraint_generation_matches_enumeration():
    for spec in SMALL_GAMES[4:7]:  # 4 to 6 members
        report = allocate(spec)
        phi = report.allocation(al.SHAPLEY).costs["cost"].to_numpy()
        seeded = {m: v for m, v in report.games.values.items() if m == 0 or m.bit_count() in (1, len(spec.ids))}
        start = CoalitionValues(spec.ids, seeded, False, 0.0, 0, 0.0)
        tol = 1e-5 * report.pool.coop_cost  # above the separation MILP's absolute gap (1e-6 of the co-op's cost)
        generated_lc = al.least_core_generated(start, CoreSeparation(PoolModel(spec)), anchor=phi, tol=tol)
        assert generated_lc.converged
        assert generated_lc.epsilon == pytest.approx(report.least_core_epsilon, abs=tol)
        excess, _ = al.core_excess(report.games, generated_lc.allocation)
        assert excess <= report.least_core_epsilon + tol
        assert generated_lc.rounds < 2 ** len(spec.ids) / 4  # far fewer coalitions than enumeration needs


def test_exact_runs_report_an_enumerated_core_check():
    out = allocate(load_spec(POOL / "two_tier.json")).to_json()
    assert out["core_check"] == {
        "method": "enumeration",
        "in_core": True,
        "most_violated": {"members": out["core_check"]["most_violated"]["members"], "excess": pytest.approx(-27.5)},
        "mip_gap": 0.0,
        "excess_bound": pytest.approx(72.5 - 100),
        "seconds": out["core_check"]["seconds"],
    }
    # X pays 92.5 against 120 alone, Y 72.5 against 100: both 27.50 below, the tightest coalitions
    assert out["core_check"]["most_violated"]["members"] in (["X"], ["Y"])
    assert out["shapley_half_width"] == {"X": 0.0, "Y": 0.0} and out["precision_target_met"] is True


def test_exact_run_solves_every_coalition_once_and_reports_progress():
    spec = parse_spec(generated(5))
    seen: list[float] = []
    report = allocate(spec, progress=lambda f, msg: seen.append(f))
    assert len(report.games.values) == 2**5
    assert seen == sorted(seen) and seen[-1] == 1.0
    shapley = report.allocation(al.SHAPLEY)
    assert sum(shapley.as_dict().values()) == pytest.approx(report.pool.coop_cost)
    # a coalition's value never exceeds the sum of its parts (capacities add, tiers only get cheaper)
    v = report.games.values
    for s in range(1, 32):
        for t in range(1, 32):
            if s & t == 0:
                assert v[s | t] <= v[s] + v[t] + 1e-6


def test_coalition_values_match_fresh_solves():
    spec = parse_spec(generated(4))
    report = allocate(spec)
    model = PoolModel(spec)
    for mask in (0b0101, 0b1110, 0b0010):
        members = [i for i in range(4) if mask >> i & 1]
        assert report.games.values[mask] == pytest.approx(model.solve(members, detail=False).cost)


def test_weakness_is_stated_beside_each_method():
    report = allocate(load_spec(POOL / "shared_capacity.json"))
    for a in report.allocations:
        assert a.weakness == al.WEAKNESS[a.method] and len(a.weakness) > 40
    assert "under-rewarded" in al.WEAKNESS[al.PROPORTIONAL]
    assert "outside the core" in al.WEAKNESS[al.SHAPLEY]


def test_table_has_a_column_per_method():
    report = allocate(load_spec(POOL / "shared_capacity.json"))
    table = report.table()
    assert table.columns == [
        "district",
        "standalone_cost",
        "pooled_purchases_cost",
        al.PROPORTIONAL,
        al.SHAPLEY,
        al.LEAST_CORE,
        al.OWEN,
    ]


# --- CLI ---------------------------------------------------------------------------------------------------
def test_cli_pool_json(tmp_path, capsys):
    argv = ["pool", "--spec", str(POOL / "two_tier.json"), "--json", "--db", str(tmp_path / "c.duckdb")]
    assert cli.main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["standalone"] == pytest.approx({"X": 120.0, "Y": 100.0})
    assert result["coop_cost"] == pytest.approx(165.0)
    assert result["savings"] == pytest.approx(55.0)
    assert result["allocation"]["shapley"] == pytest.approx({"X": 92.5, "Y": 72.5})
    assert result["in_core"] == {"proportional": True, "shapley": True, "least_core": True}
    assert result["core_empty"] is False
    assert result["status"] == "optimal"
    assert result["tiers"][0]["tier"] == 1
    assert math.isclose(result["mip_gap"], 1e-6)


def test_cli_pool_bad_spec_is_one_line_on_stderr(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"districts": [{"id": "X", "demand": {"apples": -3}}], "offers": []}))
    assert cli.main(["pool", "--spec", str(bad), "--json", "--db", str(tmp_path / "c.duckdb")]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.strip() == f"error: {bad}: offers: must be a non-empty list"


def test_cli_module_entry_point(tmp_path):
    spec, db_file = str(POOL / "empty_core.json"), str(tmp_path / "c.duckdb")
    out = subprocess.run(
        [sys.executable, "-m", "coop", "pool", "--spec", spec, "--json", "--db", db_file],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    result = json.loads(out.stdout)
    assert result["core_empty"] is True
    assert result["least_core_epsilon"] == pytest.approx(10 / 3)


def test_cli_pool_large_co_op_options_and_fields(tmp_path, capsys):
    spec = tmp_path / "five.json"
    spec.write_text(json.dumps(generated(5)))
    argv = ["pool", "--spec", str(spec), "--exact-limit", "3", "--workers", "0", "--tolerance", "0.02"]
    assert cli.main([*argv, "--time-budget", "120", "--json", "--db", str(tmp_path / "c.duckdb")]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)  # stdout is the JSON alone; progress goes to stderr
    assert out["exact"] is False and out["tolerance"] == 0.02
    assert out["precision_target_met"] is (
        all(out["shapley_half_width"][d] <= 0.02 * out["standalone"][d] for d in out["standalone"])
    )
    assert out["core_check"]["method"] == "separation" and out["core_check"]["in_core"] in (True, False)
    assert set(out["core_check"]["most_violated"]) == {"members", "excess"}
    assert out["execution"] == {"where": "in-process", "workers": 0}


def test_cli_pool_unreachable_scheduler_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(execution, "CONNECT_TIMEOUT", "1s")
    spec = tmp_path / "five.json"
    spec.write_text(json.dumps(generated(5)))
    argv = ["pool", "--spec", str(spec), "--exact-limit", "3", "--scheduler", "tcp://127.0.0.1:9", "--json"]
    assert cli.main([*argv, "--db", str(tmp_path / "c.duckdb")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        captured.err.strip().splitlines()[-1].startswith("error: cannot reach the dask scheduler at tcp://127.0.0.1:9")
    )
