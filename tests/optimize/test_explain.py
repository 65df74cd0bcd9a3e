"""The route LP's duals in words on the paper's BAU and 25%-local solves, and the pool's tables."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from coop import names
from coop.optimize import allocate, explain, lp, pool, pool_spec, sensitivity
from coop.optimize.paper import paper_model
from coop.optimize.scenarios import SCENARIOS, get_scenario

Z1, Z2, Z3, Z4 = names.ROUTES


@pytest.fixture(scope="module")
def bau() -> lp.LPResult:
    return lp.solve("bau", paper_model())


def test_shadow_prices_in_words_on_the_paper_bau(bau) -> None:
    model = paper_model()
    table = explain.shadow_prices(bau, model)
    assert table.columns == ["constraint", "requirement", "shadow_price", "binding", "meaning"]
    rows = {r["constraint"]: r for r in table.to_dicts()}
    quantity = rows[names.QUANTITY_CONSTRAINT]
    assert quantity["shadow_price"] == pytest.approx(1.84, abs=0.01)  # paper Table 5
    assert quantity["meaning"] == (
        f"Each extra meal a year adds ${quantity['shadow_price']:,.3f} to total cost: the marginal cost of a meal."
    )
    assert quantity["requirement"] == model.row(names.QUANTITY_CONSTRAINT).label
    for name in (names.LABOR, names.ASSORTMENT_BREADTH):
        assert not rows[name]["binding"]
        assert rows[name]["meaning"] == (
            "Not binding: the plan meets it with room to spare, so a small change costs nothing."
        )
    depth = rows[names.ASSORTMENT_DEPTH]  # at its limit with a zero dual: degenerate, another plan is as cheap
    assert depth["binding"] and depth["shadow_price"] == pytest.approx(0.0)
    assert depth["meaning"].startswith("At its limit, but a small change would not alter the cost")


def test_a_binding_policy_constraint_says_what_tightening_costs() -> None:
    model = paper_model()
    result = lp.solve("local-25", model)
    rows = {r["constraint"]: r for r in explain.shadow_prices(result, model).to_dicts()}
    local = rows[names.LOCAL_INTENSITY]
    assert local["binding"] and local["shadow_price"] == pytest.approx(0.06, abs=0.01)  # paper Table 5
    unit = model.row(names.LOCAL_INTENSITY).unit
    assert local["meaning"] == (
        f"Binding: each one-unit increase of its right-hand side ({unit} summed over meals) changes total "
        f"cost by ${local['shadow_price']:+,.3f}; tightening it costs money."
    )


def test_reduced_costs_in_words_on_the_paper_bau(bau) -> None:
    table = explain.reduced_costs(bau)
    assert table.columns == [names.ROUTE, "meals", "share", "reduced_cost", "meaning"]
    rows = {r[names.ROUTE]: r for r in table.to_dicts()}
    assert rows[Z4]["meals"] == pytest.approx(46_085, abs=1)  # paper Table 4
    assert rows[Z4]["meaning"] == "In the plan: its reduced cost is zero."
    assert rows[Z3]["reduced_cost"] == pytest.approx(0.06, abs=0.005)  # paper Table 6
    assert rows[Z3]["meaning"] == (
        f"Not used: its cost would have to fall by ${rows[Z3]['reduced_cost']:,.3f} per meal (or an incentive that "
        "size be paid) before buying through it lowers total cost."
    )
    assert "$0.440 per meal" in rows[Z1]["meaning"]


def test_an_infeasible_solve_explains_nothing() -> None:
    model = paper_model()
    result = lp.LPResult(status="infeasible", scenario="x")
    assert explain.shadow_prices(result, model).height == 0
    assert explain.reduced_costs(result).height == 0


def test_scenario_comparison_one_row_per_route_and_scenario(bau) -> None:
    model = paper_model()
    results = {s.label or n: lp.solve(s, model) for n, s in SCENARIOS.items()}
    table = explain.scenario_comparison(model, results)
    assert table.height == len(results) * len(model.route_names)
    local25 = get_scenario("local-25").label
    plan = {r[names.ROUTE]: r["meals"] for r in table.filter(pl.col("series") == local25).to_dicts()}
    assert plan[Z3] == pytest.approx(11_521, abs=1) and plan[Z4] == pytest.approx(34_564, abs=1)  # paper Table 4
    assert set(table["status"]) == {"optimal"}


def test_sensitivity_ranges_table() -> None:
    result = sensitivity.sensitivity("bau", paper_model())
    table = explain.sensitivity_ranges(result)
    assert set(table["quantity"]) == {"meals", "shadow prices", "reduced costs"}
    meals = {r["of"]: r for r in table.filter(pl.col("quantity") == "meals").to_dicts()}
    assert set(meals) == set(names.ROUTES)
    assert all(r["min"] <= r["max"] for r in table.drop_nulls("min").to_dicts())


# --- the pool: two districts reach an all-units tier together (tests/data/pool/two_tier.json) ------------------
@pytest.fixture(scope="module")
def two_tier():
    spec = pool_spec.load_spec(Path(__file__).resolve().parents[1] / "data" / "pool" / "two_tier.json")
    return pool.solve_pool(spec), allocate.allocate(spec)


def test_pool_costs_per_district(two_tier) -> None:
    result, _ = two_tier
    costs = {r[names.DISTRICT_ID]: r for r in explain.pool_costs(result).to_dicts()}
    assert costs["X"]["standalone_cost"] == pytest.approx(120.0) and costs["X"]["pooled_cost"] == pytest.approx(90.0)
    assert costs["Y"]["standalone_cost"] == pytest.approx(100.0) and costs["Y"]["pooled_cost"] == pytest.approx(75.0)


def test_savings_by_route_alone_against_pooled(two_tier) -> None:
    result, _ = two_tier
    table = explain.savings_by_route(result)
    assert table.columns == [names.ROUTE, "units_standalone", "units_coop", "cost_standalone", "cost_coop", "saving"]
    assert table["units_standalone"].sum() == pytest.approx(110) and table["units_coop"].sum() == pytest.approx(110)
    assert table["cost_standalone"].sum() == pytest.approx(220) and table["cost_coop"].sum() == pytest.approx(165)
    assert table["saving"].sum() == pytest.approx(result.savings)


def test_allocations_long_and_checks(two_tier) -> None:
    _, report = two_tier
    long = explain.allocations_long(report)
    assert long.columns == [names.DISTRICT_ID, "method", "cost"]
    assert long.height == 2 * len(report.allocations)
    for method in set(long["method"]):
        assert long.filter(pl.col("method") == method)["cost"].sum() == pytest.approx(165, abs=1e-6)
    checks = explain.allocation_checks(report)
    assert checks["method"].to_list() == [a.method for a in report.allocations]
    assert checks["individually_rational"].all()
    assert set(checks["blocking_group"]) == {""}
