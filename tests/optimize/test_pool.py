"""The pooled co-op model: hand-solved pools, the paper's policy forms, statuses, what-ifs, database spec."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import cvxpy as cp
import polars as pl
import pytest

from coop import names
from coop.errors import ModelError, SpecError
from coop.optimize import pool, quotes, status
from coop.optimize.pool import PoolModel, solve_pool
from coop.optimize.pool_spec import District, load_spec, parse_spec, spec_to_dict

POOL = Path(__file__).resolve().parents[1] / "data" / "pool"


def spec_data(name: str) -> dict:
    return json.loads((POOL / f"{name}.json").read_text())


def units(result: pool.PoolResult, scope: str, district: str, offer: str) -> float:
    rows = result.purchases.filter(
        (pl.col("scope") == scope) & (pl.col("district") == district) & (pl.col("offer") == offer)
    )
    return float(rows["units"].sum())


# --- hand-solved pools -------------------------------------------------------------------------------
def test_two_districts_reach_an_all_units_tier_together():
    result = solve_pool(load_spec(POOL / "two_tier.json"))
    standalone = dict(result.standalone.select("district", "standalone_cost").iter_rows())
    assert standalone == pytest.approx({"X": 60 * 2.0, "Y": 50 * 2.0})
    assert result.coop_cost == pytest.approx(110 * 1.5)
    assert result.savings == pytest.approx(220 - 165)
    tier = result.tiers.row(0, named=True)
    assert tier["pooled_volume"] == pytest.approx(110)
    assert tier["tier"] == 1
    assert tier["unit_cost"] == pytest.approx(1.5)
    # each member's purchases at the pooled price: 60 x 1.5 and 50 x 1.5
    coop = dict(result.standalone.select("district", "coop_cost").iter_rows())
    assert coop == pytest.approx({"X": 90.0, "Y": 75.0})
    assert result.status == status.OPTIMAL
    assert result.settings.mip_gap == pytest.approx(1e-6)


def test_a_fixed_cost_only_the_pool_can_afford():
    result = solve_pool(load_spec(POOL / "fixed_cost.json"))
    standalone = dict(result.standalone.select("district", "standalone_cost").iter_rows())
    # alone: hub would cost 100 + 60 = 160 > 120 and 100 + 50 = 150 > 100, so both use the distributor
    assert standalone == pytest.approx({"A": 120.0, "B": 100.0})
    assert units(result, "standalone", "A", "hub") == 0.0
    assert units(result, "standalone", "B", "hub") == 0.0
    assert result.coop_cost == pytest.approx(100 + 110 * 1.0)
    assert units(result, "coop", "A", "hub") == pytest.approx(60)
    hub = result.tiers.filter(pl.col("offer") == "hub").row(0, named=True)
    assert hub["fixed_cost_paid"] == pytest.approx(100)
    # the run's $100 is shared by volume in the purchases view: 1 + 100/110 per lb
    coop = dict(result.standalone.select("district", "coop_cost").iter_rows())
    assert coop["A"] == pytest.approx(60 * (1 + 100 / 110))


def test_a_shared_local_capacity_binds():
    result = solve_pool(load_spec(POOL / "shared_capacity.json"))
    standalone = dict(result.standalone.select("district", "standalone_cost").iter_rows())
    assert standalone == pytest.approx({"A": 20 * 2.5 + 30 * 3.0 + 50 * 2.0, "B": 200.0})
    assert result.coop_cost == pytest.approx(40 * 2.5 + 10 * 3.0 + 150 * 2.0)
    cap = result.capacities.row(0, named=True)
    assert cap["offer"] == "hub"
    assert cap["capacity"] == pytest.approx(40)
    assert cap["used"] == pytest.approx(40)
    assert cap["binding"] is True
    # standalone A may use only its demand share of the hub (20 lb)
    assert units(result, "standalone", "A", "hub") == pytest.approx(20)


def test_capacity_every_coalition_may_use_whole_makes_pooling_cost_more():
    data = spec_data("shared_capacity")
    data["capacity_basis"] = "coalition"
    data["offers"][0]["unit_cost"] = 1.5  # the hub is now the cheapest: both want all 40 lb of it
    result = solve_pool(parse_spec(data))
    # alone each buys 40 hub lb; together they share the same 40 lb
    assert result.standalone["standalone_cost"].to_list() == pytest.approx(
        [40 * 1.5 + 10 * 3 + 50 * 2, 40 * 1.5 + 60 * 2]
    )
    assert result.coop_cost == pytest.approx(40 * 1.5 + 10 * 3 + 150 * 2)
    assert result.savings == pytest.approx(190 + 180 - 390)


def test_capacity_by_district_gives_a_coalition_its_members_entitlements():
    data = spec_data("shared_capacity")
    del data["capacity_basis"]
    data["offers"][0].pop("capacity")
    data["offers"][0]["capacity_by_district"] = {"A": 10, "B": 30}
    result = solve_pool(parse_spec(data))
    assert result.standalone["standalone_cost"].to_list() == pytest.approx([10 * 2.5 + 40 * 3 + 50 * 2, 200.0])
    assert result.coop_cost == pytest.approx(430.0)


# --- the paper's policy forms (seed 003, Tables 3 and 4) ------------------------------------------------
@pytest.mark.parametrize(
    ("policy", "direct", "trad_local", "non_local"),
    [
        ({"price_risk": "paper"}, 34_799, 0, 11_286),  # Low Price Risk
        ({"economic_impact": "paper"}, 36_108, 0, 9_977),  # High Economic Impact
        ({"local_share_min": 0.25, "economic_impact": "paper", "price_risk": "paper"}, 36_108, 0, 9_977),  # Combination
        ({"local_share_min": 0.25}, 0, 11_521, 34_564),  # 25% Local
        ({}, 0, 0, 46_085),  # Business as usual
    ],
)
def test_paper_policy_forms_reproduce_table_4(policy, direct, trad_local, non_local):
    data = spec_data("paper_routes")
    data["districts"][0]["policy"] = policy
    result = solve_pool(parse_spec(data))
    got = {
        r: units(result, "coop", "paper", f"{r}:meals")
        for r in (names.DIRECT_LOCAL, names.TRADITIONAL_LOCAL, names.TRADITIONAL_NONLOCAL)
    }
    assert got[names.DIRECT_LOCAL] == pytest.approx(direct, abs=1)
    assert got[names.TRADITIONAL_LOCAL] == pytest.approx(trad_local, abs=1)
    assert got[names.TRADITIONAL_NONLOCAL] == pytest.approx(non_local, abs=1)


def test_pure_lp_duals_give_the_papers_quantity_shadow_price():
    result = solve_pool(load_spec(POOL / "paper_routes.json"))
    assert result.coop.duals is not None
    demand = result.coop.duals.filter(pl.col("constraint") == "demand").row(0, named=True)
    # Low Price Risk: Table 5 quantity shadow value 2.17 $/meal
    assert demand["dual"] == pytest.approx(2.17, abs=0.01)
    assert demand["dual"] * demand["rhs"] == pytest.approx(result.coop_cost)


# --- the model: one build, re-solved by parameters -------------------------------------------------------
def test_resolving_a_coalition_matches_a_fresh_build():
    spec = load_spec(POOL / "fixed_cost.json")
    model = PoolModel(spec)
    assert model.prob.is_dpp()
    assert model.solve(["A", "B"], detail=False).cost == pytest.approx(210)
    alone = model.solve(["A"], detail=False).cost
    fresh = solve_pool(pool.without_district(spec, "B")).coop_cost
    assert alone == pytest.approx(fresh) == pytest.approx(120)
    assert model.solve([], detail=False).cost == 0.0


def test_only_offers_with_tiers_or_fixed_costs_get_binaries():
    spec = load_spec(POOL / "fixed_cost.json")
    model = PoolModel(spec)
    assert model.y is not None and model.y.size == 1  # the hub: one segment, one binary
    lp = PoolModel(load_spec(POOL / "shared_capacity.json"))
    assert lp.y is None and not lp.prob.is_mixed_integer()


@pytest.mark.parametrize(
    ("name", "members", "optimum"),
    [("two_tier", [0, 1], 165.0), ("fixed_cost", [0, 1], 210.0), ("fixed_cost", [0], 120.0), ("two_tier", [1], 100.0)],
)
def test_lp_relaxation_is_tight(name, members, optimum):
    # the segment bounds use the coalition's own demand, so relaxing the binaries loses nothing here; a big-M
    # formulation would let A alone "open" the hub for a sliver of its fixed cost (about $60 instead of $120)
    model = PoolModel(load_spec(POOL / f"{name}.json"))
    assert model.solve(members, detail=False).cost == pytest.approx(optimum)
    model._set(model._mask(members))
    assert model.prob.solve(solver=cp.HIGHS, solve_relaxation=True) == pytest.approx(optimum)


def test_unreachable_tier_is_switched_off_for_a_small_coalition():
    model = PoolModel(load_spec(POOL / "two_tier.json"))
    solve = model.solve(["Y"])
    assert solve.cost == pytest.approx(100)
    assert solve.tiers is not None and solve.tiers["tier"].to_list() == [0]


def test_status_never_reports_a_stopped_solve_as_a_plan():
    def fake(word: str, primal: int, gap: float) -> SimpleNamespace:
        info = SimpleNamespace(primal_solution_status=primal, mip_gap=gap)
        return SimpleNamespace(status=word, solver_stats=SimpleNamespace(extra_stats=info))

    assert pool._status(fake(cp.USER_LIMIT, 0, math.inf)) == (status.ERROR, math.inf)
    assert pool._status(fake(cp.USER_LIMIT, 2, 0.05)) == (status.TIME_LIMIT, 0.05)
    assert pool._status(fake(cp.OPTIMAL, 2, 0.0)) == (status.OPTIMAL, 0.0)
    assert pool._status(fake(cp.INFEASIBLE, 0, 0.0))[0] == status.INFEASIBLE


def test_an_infeasible_standalone_is_a_named_error():
    data = spec_data("two_tier")
    data["districts"][0]["policy"] = {"local_share_min": 0.5}  # no local offer exists
    with pytest.raises(ModelError, match=r"standalone optimum of X.*infeasible"):
        solve_pool(parse_spec(data))


def test_progress_is_reported_up_to_one():
    seen: list[tuple[float, str]] = []
    solve_pool(load_spec(POOL / "two_tier.json"), progress=lambda f, msg: seen.append((f, msg)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("co-op optimum" in msg for _, msg in seen)


# --- what-ifs -------------------------------------------------------------------------------------------
def test_what_if_a_district_leaves_and_joins():
    spec = load_spec(POOL / "two_tier.json")
    changed, result = pool.what_if(spec, lambda s: pool.without_district(s, "Y"))
    assert changed.ids == ("X",)
    assert result.coop_cost == pytest.approx(120)
    joined, result = pool.what_if(spec, lambda s: pool.with_district(s, District("Z", {"apples": 40})))
    assert joined.ids == ("X", "Y", "Z")
    assert result.coop_cost == pytest.approx(150 * 1.5)
    with pytest.raises(SpecError, match="no district 'Q'"):
        pool.without_district(spec, "Q")


def test_what_if_a_tier_threshold_moves_out_of_reach():
    spec = load_spec(POOL / "two_tier.json")
    offer = spec.offers[0].id
    _, result = pool.what_if(spec, lambda s: pool.with_tier_threshold(s, offer, 0, 120))
    assert result.coop_cost == pytest.approx(220)
    assert result.savings == pytest.approx(0)
    with pytest.raises(SpecError, match=r"tiers\[3\]"):
        pool.with_tier_threshold(spec, offer, 3, 10)


def test_what_if_local_capacity_grows_entitlements_too():
    data = spec_data("shared_capacity")
    del data["capacity_basis"]
    data["offers"][0].pop("capacity")
    data["offers"][0]["capacity_by_district"] = {"A": 10, "B": 30}
    left = pool.without_district(parse_spec(data), "B")
    assert left.offers[0].capacity_by_district == {"A": 10} and left.offers[0].capacity == 10
    assert parse_spec(spec_to_dict(left)) == left
    changed, result = pool.what_if(parse_spec(data), lambda s: pool.with_local_capacity(s, 2.0))
    assert changed.offers[0].capacity_by_district == {"A": 20, "B": 60}
    # alone, A now has 20 hub lb: 20 x 2.5 + 30 x 3 + 50 x 2
    assert result.standalone["standalone_cost"].to_list() == pytest.approx([240.0, 200.0])
    assert result.coop_cost == pytest.approx(50 * 2.5 + 150 * 2.0)


def test_what_if_local_capacity_grows():
    spec = load_spec(POOL / "shared_capacity.json")
    _, result = pool.what_if(spec, lambda s: pool.with_local_capacity(s, 1.5))  # hub 60 lb
    assert result.coop_cost == pytest.approx(50 * 2.5 + 150 * 2.0)
    assert not result.capacities["binding"].item()


# --- the database spec ---------------------------------------------------------------------------------
def test_spec_from_database(con):
    import fixtures_metrics

    fixtures_metrics.load(con)
    spec = quotes.spec_from_db(con)
    by_id = {d.id: d for d in spec.districts}
    # plain: 50 lb potatoes via a producer co-op (local) + 50 lb from Sysco in one month -> 1,200 lb a year
    assert by_id["plain"].demand == pytest.approx({"vegetable/lb": 1200.0})
    assert by_id["plain"].policy.local_share_min == pytest.approx(0.5)
    offers = {o.id: o for o in spec.offers}
    hub = offers["nontraditional_local:vegetable/lb"]
    assert hub.fixed_cost == pytest.approx(1500.0)
    # capacity = 1.5 x each district's current annual volume on the route (plain 600 lb, nm 360 lb)
    assert hub.capacity_by_district["plain"] == pytest.approx(1.5 * 600)
    nonlocal_fruit = offers["traditional_nonlocal:fruit/lb"]
    median_fruit = sorted(by_id[d].demand["fruit/lb"] for d in ("wide", "narrow", "county"))[1]
    assert nonlocal_fruit.tiers[0].min_volume == pytest.approx(3.0 * median_fruit)
    assert nonlocal_fruit.tiers[0].unit_cost == pytest.approx(0.97 * nonlocal_fruit.unit_cost)
    result = solve_pool(spec)
    # capacities add up over members and tiers only get cheaper: pooling never costs more
    assert result.savings >= -1e-6
    assert (result.standalone["savings"].sum()) == pytest.approx(result.savings)


def test_spec_from_database_for_a_subset_of_districts(con):
    import fixtures_metrics

    fixtures_metrics.load(con)
    whole = quotes.spec_from_db(con)
    some = quotes.spec_from_db(con, district_ids=("plain", "wide"))
    assert sorted(some.ids) == ["plain", "wide"]
    # the same as the others leaving the whole co-op's spec: they take their capacity entitlement with them,
    # costs and tiers stay the whole co-op's
    left = whole
    for district_id in ("county", "narrow", "nm"):
        left = pool.without_district(left, district_id)
    assert some == left
    hub = {o.id: o for o in some.offers}["nontraditional_local:vegetable/lb"]
    assert set(hub.capacity_by_district) <= {"plain", "wide"}
    with pytest.raises(SpecError, match="none of the districts nope"):
        quotes.spec_from_db(con, district_ids=("nope",))


def test_spec_from_an_empty_database_says_what_to_do(con):
    with pytest.raises(SpecError, match="no purchases"):
        quotes.spec_from_db(con)


def test_quotes_table_round_trip_and_validation(con):
    assert quotes.load_quotes(con).equals(quotes.default_quotes())
    assert all(quotes.ASSUMED in n for n in quotes.default_quotes()[names.QUOTE_NOTE])
    edited = quotes.default_quotes().with_columns(
        pl.when(pl.col(names.QUOTE_KIND) == quotes.FIXED_COST)
        .then(0.0)
        .otherwise(pl.col(names.QUOTE_VALUE))
        .alias(names.QUOTE_VALUE)
    )
    assert quotes.save_quotes(con, edited) == edited.height
    assert quotes.load_quotes(con).equals(edited)
    bad = edited.with_columns(pl.lit("teleport").alias(names.ROUTE))
    with pytest.raises(SpecError, match="pool_quotes row 2 column route: unknown route 'teleport'"):
        quotes.save_quotes(con, bad)
    assert quotes.load_quotes(con).equals(edited)
