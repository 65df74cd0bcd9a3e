"""The pool spec: parsing names the field at fault, booleans and 'paper' policy forms, the JSON round trip."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from coop import names
from coop.errors import SpecError
from coop.optimize import pool_spec
from coop.optimize.paper import PAPER_ECONOMIC_IMPACT, PAPER_PRICE_RISK
from coop.optimize.pool_spec import Offer, Tier, load_spec, parse_spec, spec_to_dict

POOL = Path(__file__).resolve().parents[1] / "data" / "pool"


def spec_data(name: str) -> dict:
    return json.loads((POOL / f"{name}.json").read_text())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["districts"][0]["demand"].update(apples=-1), r"districts\[0\]\.demand\.apples: must be >= 0"),
        (lambda d: d["offers"][0].pop("unit_cost"), r"offers\[0\]\.unit_cost: is required"),
        (lambda d: d["offers"][0].update(unit_cost="cheap"), r"offers\[0\]\.unit_cost: must be a number"),
        (
            lambda d: d["offers"][0]["tiers"].append({"min_volume": 50, "unit_cost": 1}),
            r"offers\[0\]\.tiers\[1\]\.min_volume: tiers must be in strictly increasing",
        ),
        (lambda d: d["districts"][1].update(id="X"), r"districts\[1\]\.id: duplicate district id 'X'"),
        (lambda d: d["districts"][0]["demand"].update(pears=5), r"demand\.pears: no offer sells category 'pears'"),
        (lambda d: d["districts"][0].update(demnd={}), r"districts\[0\]\.demnd: unknown field"),
        (
            lambda d: d["districts"][0].update(policy={"local_share_min": 1.5}),
            r"policy\.local_share_min: must be a fraction",
        ),
        (
            lambda d: d["districts"][0].update(policy={"price_risk": {"direct_local": 0.1}}),
            r"policy\.price_risk: no coefficient for route 'traditional_nonlocal'",
        ),
        (lambda d: d["offers"][0].update(local="maybe"), r"offers\[0\]\.local: must be a boolean"),
        (lambda d: d.update(capacity_basis="fair"), r"capacity_basis: must be one of"),
        (lambda d: d.update(offers=[]), r"offers: must be a non-empty list"),
        (
            lambda d: d["offers"][0].update(capacity_by_district={"Q": 5}),
            r"offers\[0\]\.capacity_by_district\.Q: no district with this id",
        ),
    ],
)
def test_bad_specs_name_the_field(mutate, message):
    data = spec_data("two_tier")
    mutate(data)
    with pytest.raises(SpecError, match=message):
        parse_spec(data, source="s.json")


def test_spec_booleans_and_round_trip():
    data = spec_data("fixed_cost")
    data["offers"][1]["local"] = "Yes"
    spec = parse_spec(data)
    assert spec.offers[1].local is True
    assert spec.offers[0].local is True  # nontraditional_local defaults to local
    assert parse_spec(spec_to_dict(spec)) == spec


def test_unreadable_spec_files_are_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SpecError, match=r"bad.json: not valid JSON: line 1 column 2"):
        load_spec(bad)
    with pytest.raises(SpecError, match=r"missing.json: cannot read pool spec"):
        load_spec(tmp_path / "missing.json")


def test_paper_policy_forms_are_table_3s_rows():
    data = spec_data("two_tier")
    data["districts"][0]["policy"] = {names.ECONOMIC_IMPACT: "paper", names.PRICE_RISK: "paper"}
    data["offers"].append({"route": names.TRADITIONAL_LOCAL, "category": "apples", "unit_cost": 1.0})
    policy = parse_spec(data).districts[0].policy
    assert policy.economic_impact == dict(PAPER_ECONOMIC_IMPACT)
    assert policy.price_risk == dict(PAPER_PRICE_RISK)
    assert parse_spec(data).districts[1].policy == pool_spec.Policy()


def test_spec_defaults_ids_and_capacity_basis():
    data = {
        "districts": [{"id": 7, "demand": {"milk": 10}}],
        "offers": [{"route": names.TRADITIONAL_NONLOCAL, "category": "milk", "vendor": "Dairy", "unit_cost": 1}],
    }
    spec = parse_spec(data)
    assert spec.ids == ("7",)
    assert spec.offers[0].id == f"{names.TRADITIONAL_NONLOCAL}:milk:Dairy"
    assert spec.offers[0].local is False
    assert spec.capacity_basis == pool_spec.CAPACITY_COALITION
    assert spec.pure_lp and spec.categories == ("milk",)
    data["capacity_basis"] = pool_spec.CAPACITY_DEMAND_SHARE
    assert parse_spec(data).capacity_basis == pool_spec.CAPACITY_DEMAND_SHARE


def test_offer_segments_and_all_units_price():
    offer = Offer("o", names.DIRECT_LOCAL, "apples", 3.0, tiers=(Tier(100.0, 2.5), Tier(200.0, 2.0)))
    assert offer.needs_binaries
    assert offer.segments() == [(0.0, 100.0, 3.0), (100.0, 200.0, 2.5), (200.0, float("inf"), 2.0)]
    assert offer.unit_cost_at(99.0) == 3.0
    assert offer.unit_cost_at(100.0 - pool_spec.VOLUME_TOLERANCE / 2) == 2.5
    assert offer.unit_cost_at(500.0) == 2.0
    from_zero = Offer("z", names.DIRECT_LOCAL, "apples", 3.0, tiers=(Tier(0.0, 2.8),))
    assert from_zero.segments() == [(0.0, float("inf"), 2.8)]


# --- one model, alone and pooled: a district's route LP as a pool member --------------------------------------
def test_route_lp_as_a_pool_member_costs_what_optimize_says(sample_db_file):
    from coop.optimize import lp
    from coop.optimize.pool import PoolModel, solve_pool
    from coop.optimize.scenarios import SCENARIOS
    from coop.registry import districts
    from coop.store import db

    con = db.connect(sample_db_file, read_only=True)
    try:
        district_ids = districts.load(con)[names.DISTRICT_ID].to_list()
        models = {d: lp.district_model(con, d)[0] for d in district_ids[:2]}
    finally:
        con.close()
    for district_id, model in models.items():
        for name, scenario in SCENARIOS.items():
            alone = lp.solve(scenario, model)
            spec = pool_spec.spec_from_route_lp(model, scenario, district_id)
            assert {o.route for o in spec.offers} == set(model.route_names)
            if alone.status != "optimal":
                assert PoolModel(spec).solve([0], detail=False).cost is None, (district_id, name)
                continue
            result = solve_pool(spec)
            assert result.coop_cost == pytest.approx(alone.total_cost, rel=1e-7), (district_id, name)
            standalone = result.purchases.filter(pl.col("scope") == "standalone")
            meals = standalone.group_by("route").agg(pl.col("units").sum())
            by_route = dict(meals.iter_rows())
            for route, value in alone.meals.items():
                assert by_route.get(route, 0.0) == pytest.approx(value, rel=1e-6, abs=1e-3), (district_id, name, route)


def test_route_rows_round_trip_and_name_the_field_at_fault():
    data = spec_data("two_tier")
    row = {"name": "labor", "sense": "<=", "coefficients": {"traditional_nonlocal": 0.5}, "rhs": 80}
    data["districts"][0]["policy"] = {"route_rows": [row]}
    spec = parse_spec(data)
    assert spec.districts[0].policy.route_rows[0].rhs == 80
    assert parse_spec(spec_to_dict(spec)) == spec
    data["districts"][0]["policy"]["route_rows"][0]["sense"] = "=="
    with pytest.raises(SpecError, match=r"districts\[0\]\.policy\.route_rows\[0\]\.sense: must be '>=' or '<='"):
        parse_spec(data)
