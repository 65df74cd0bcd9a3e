"""The paper's cost sensitivity analysis: 10 runs per scenario, recomputed economic impact, infeasible runs named."""

from __future__ import annotations

import json

import pytest

from coop import cli, names
from coop.optimize import lp
from coop.optimize.paper import paper_model
from coop.optimize.scenarios import SCENARIOS
from coop.optimize.sensitivity import ALL, paper_runs, sensitivity, sensitivity_all, varied_incentive

Z1, Z2, Z3, Z4 = names.ROUTES
Q = 46_085
# assortment breadth caps direct local: 41.89 z4 >= 7.06 z1, so z1 <= 41.89 / 48.95 of the meals
Z1_CAP = 41.89 / (41.89 + 7.06)


@pytest.fixture(scope="module")
def results():
    return sensitivity_all(list(SCENARIOS))


def test_ten_runs_per_scenario_in_the_papers_order(results):
    expected = [(0.5, ALL), *[(0.5, r) for r in names.ROUTES], (1.5, ALL), *[(1.5, r) for r in names.ROUTES]]
    assert paper_runs(names.ROUTES) == expected
    assert set(results) == set(SCENARIOS)
    for res in results.values():
        assert [(r.factor, r.varied) for r in res.runs] == expected
        assert res.baseline.status == "optimal"


def test_infeasible_runs_are_reported_with_their_conflicts(results):
    infeasible = {name: [(r.factor, r.varied) for r in res.infeasible] for name, res in results.items()}
    # At 50% of every cost the best economic impact per meal is 1.6640 x 1.225 = 2.04 < 3.5, so the
    # economic-impact scenarios cannot be met. In Combination, halving z1's cost drops its impact to
    # 1.6251 x 1.14 = 1.85: only z2 meets 3.5, and z2 needs traditional routes for assortment breadth
    # that price risk then forbids.
    assert infeasible == {
        "bau": [],
        "co-hb-19-1132": [],
        "local-25": [],
        "high-economic-impact": [(0.5, ALL)],
        "low-price-risk": [],
        "combination": [(0.5, ALL), (0.5, Z1)],
    }
    (hei,) = results["high-economic-impact"].infeasible
    assert hei.result.conflicts == (names.ECONOMIC_IMPACT,)
    combo = {(r.factor, r.varied): r.result.conflicts for r in results["combination"].infeasible}
    assert combo[(0.5, ALL)] == (names.ECONOMIC_IMPACT,)
    assert set(combo[(0.5, Z1)]) == {names.ECONOMIC_IMPACT, names.PRICE_RISK, names.ASSORTMENT_BREADTH}
    assert hei.to_json() == {
        "factor": 0.5,
        "varied": ALL,
        "status": "infeasible",
        "meals": None,
        "shadow_prices": None,
        "reduced_costs": None,
    }


def test_runs_solved_by_hand(results):
    bau = {(r.factor, r.varied): r.result for r in results["bau"].runs}
    # z1 at $1.14 is the cheapest route, up to the breadth cap
    assert bau[(0.5, Z1)].meals[Z1] == pytest.approx(Q * Z1_CAP, rel=1e-9)
    assert bau[(0.5, Z1)].meals[Z4] == pytest.approx(Q * (1 - Z1_CAP), rel=1e-9)
    # z4 at $2.76 loses to z3 at $1.90: everything through traditional local
    assert bau[(1.5, Z4)].meals[Z3] == pytest.approx(Q)
    assert bau[(1.5, Z4)].shadow_prices[names.QUANTITY_CONSTRAINT] == pytest.approx(1.90)
    assert bau[(0.5, ALL)].shadow_prices[names.QUANTITY_CONSTRAINT] == pytest.approx(0.92)
    assert bau[(0.5, ALL)].reduced_costs[Z1] == pytest.approx(0.22)
    hei = {(r.factor, r.varied): r.result for r in results["high-economic-impact"].runs}
    # 150% of every cost: every route's impact (>= 1.4872 x 2.76 = 4.10) beats 3.5, the constraint goes slack
    assert hei[(1.5, ALL)].meals[Z4] == pytest.approx(Q)
    assert hei[(1.5, ALL)].shadow_prices[names.ECONOMIC_IMPACT] == 0.0
    # z2 at 150% does not move High Econ. Imp.'s plan (z1 and z4 only): Table 4's row
    assert hei[(1.5, Z2)].meals[Z1] == pytest.approx(36_108, abs=1)


def test_economic_impact_coefficients_are_recomputed_from_varied_costs():
    model = paper_model()
    half = model.scaled(0.5)
    assert half.costs == pytest.approx((1.14, 1.225, 0.95, 0.92))
    expected = tuple(round(m * c - 3.5, 2) for m, c in zip((1.6251, 1.6640, 1.4872, 1.4872), half.costs, strict=True))
    assert half.row(names.ECONOMIC_IMPACT).coefficients == pytest.approx(expected)
    assert half.row(names.PRICE_RISK).coefficients == model.row(names.PRICE_RISK).coefficients
    one = model.scaled(1.5, Z2)
    assert one.costs == pytest.approx((2.28, 3.675, 1.90, 1.84))
    assert one.row(names.ECONOMIC_IMPACT).coefficients[0] == 0.21
    assert one.row(names.ECONOMIC_IMPACT).coefficients[1] == pytest.approx(round(1.6640 * 3.675 - 3.5, 2))


def test_ranges_cover_the_optimal_runs(results):
    ranges = results["bau"].ranges
    assert set(ranges) == {"meals", "shadow_prices", "reduced_costs"}
    assert ranges["meals"][Z1] == {"min": 0.0, "max": pytest.approx(Q * Z1_CAP)}
    assert ranges["meals"][Z4] == {"min": 0.0, "max": pytest.approx(Q)}
    assert ranges["shadow_prices"][names.QUANTITY_CONSTRAINT] == {
        "min": pytest.approx(0.92),
        "max": pytest.approx(2.76),
    }
    assert set(ranges["shadow_prices"]) == set(names.OPERATIONAL_CONSTRAINTS)
    combo = results["combination"].ranges
    assert set(combo["shadow_prices"]) == set(names.CONSTRAINTS)
    optimal = [r.result for r in results["combination"].runs if r.result.optimal]
    assert combo["meals"][Z2]["max"] == max(r.meals[Z2] for r in optimal)


def test_progress_callback_and_one_built_problem():
    model = paper_model()
    built = lp.RouteLP.for_model(model)
    problem = built.problem
    calls: list[tuple[float, str]] = []
    res = sensitivity("low-price-risk", model, lp=built, progress=lambda f, m: calls.append((f, m)))
    assert built.problem is problem
    assert built.solves == 11  # baseline + 10 runs, all feasible: no relaxation re-solves
    assert [round(f, 6) for f, _ in calls] == [round(k / 11, 6) for k in range(1, 12)]
    assert calls[-1][0] == pytest.approx(1.0)
    assert "traditional_nonlocal" in calls[-1][1]
    assert len(res.table()) == 10


def test_cli_sensitivity_json(db_path, capsys):
    args = ["sensitivity", "--scenario", "high-economic-impact", "--paper", "--json", "--db", str(db_path)]
    assert cli.main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"runs", "ranges"}
    assert len(out["runs"]) == 10
    for run in out["runs"]:
        assert set(run) == {"factor", "varied", "status", "meals", "shadow_prices", "reduced_costs"}
    assert [r["status"] for r in out["runs"]].count("infeasible") == 1
    assert out["ranges"]["shadow_prices"][names.ECONOMIC_IMPACT]["max"] > 0.45


def test_text_report_names_conflicts_and_ranges(results):
    text = results["combination"].text()
    assert "direct_local x0.5" in text
    assert "conflicts: economic_impact" in text
    assert "range of shadow prices over optimal runs:" in text


def test_an_incentive_is_varied_with_the_cost_it_lowers(results):
    # CO HB 19-1132 lowers the objective parameters by $0.05 on z1..z3; a run varies that parameter:
    # net cost = factor x (cost - 0.05), so at 50% of every cost z4 (0.92) beats z3 (0.925)
    co = {(r.factor, r.varied): r.result for r in results["co-hb-19-1132"].runs}
    assert co[(0.5, ALL)].meals[Z4] == pytest.approx(Q)
    assert co[(0.5, ALL)].shadow_prices[names.QUANTITY_CONSTRAINT] == pytest.approx(0.92)
    assert co[(0.5, ALL)].reduced_costs[Z3] == pytest.approx(0.5 * 1.85 - 0.92)
    assert co[(0.5, Z3)].shadow_prices[names.QUANTITY_CONSTRAINT] == pytest.approx(0.5 * 1.85)
    assert co[(1.5, Z1)].reduced_costs[Z1] == pytest.approx(1.5 * 2.23 - 1.84)
    assert co[(1.5, Z1)].incentive_paid == 0.0
    ranges = results["co-hb-19-1132"].ranges
    assert ranges["reduced_costs"][Z1]["max"] == pytest.approx(1.5 * 2.23 - 1.84)
    quantity = ranges["shadow_prices"][names.QUANTITY_CONSTRAINT]
    assert quantity == {"min": pytest.approx(0.92), "max": pytest.approx(2.76)}
    # the meals per route over the runs (Table 7's ranges) are BAU's
    assert ranges["meals"] == results["bau"].ranges["meals"]


def test_varied_incentive_scales_only_the_varied_routes():
    co = SCENARIOS["co-hb-19-1132"]
    assert varied_incentive(co, names.ROUTES, 0.5, ALL) == dict.fromkeys(names.LOCAL_ROUTES, pytest.approx(-0.025))
    assert varied_incentive(co, names.ROUTES, 1.5, Z2) == {Z2: pytest.approx(0.025)}
    assert varied_incentive(co, names.ROUTES, 1.5, Z4) == {}
    assert varied_incentive(SCENARIOS["bau"], names.ROUTES, 0.5, ALL) == {}
