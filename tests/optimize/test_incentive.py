"""Incentive finder: smallest per-meal incentive reaching a target share, checked against hand-solved cases."""

from __future__ import annotations

import json

import pytest

from coop import cli, names
from coop.errors import ModelError
from coop.optimize.incentive import find_incentive, incentive_curve
from coop.optimize.scenarios import define_scenario

Z1, Z2, Z3, Z4 = names.ROUTES
Q = 46_085
Z1_CAP = 41.89 / (41.89 + 7.06)  # assortment breadth: 41.89 z4 >= 7.06 z1


def test_traditional_local_needs_six_cents_in_bau():
    # z3 costs 1.90 against z4's 1.84: once the incentive passes $0.06 every meal moves to z3
    res = find_incentive("bau", 0.25, [Z3])
    assert res.reachable
    assert res.incentive == pytest.approx(0.06, abs=1e-9)
    assert res.share_without == 0.0
    assert res.result.meals[Z3] == pytest.approx(Q)
    assert "0.0600" in res.message


def test_direct_local_is_capped_by_assortment_breadth():
    res = find_incentive("bau", 0.5, [Z1])
    assert res.incentive == pytest.approx(0.44, abs=1e-9)  # 2.28 - 1.84, the BAU activity dual of z1
    assert res.result.share([Z1]) == pytest.approx(Z1_CAP, rel=1e-9)
    assert res.max_share == pytest.approx(Z1_CAP, rel=1e-9)
    unreachable = find_incentive("bau", 0.9, [Z1])
    assert not unreachable.reachable
    assert unreachable.incentive is None
    assert unreachable.max_share == pytest.approx(Z1_CAP, rel=1e-9)
    assert "85.6%" in unreachable.message


def test_incentive_is_on_top_of_the_scenarios_own():
    # CO HB 19-1132 already pays $0.05 on local routes: z3 needs $0.01 more (Table 6's activity dual)
    assert find_incentive("co-hb-19-1132", 1.0, [Z3]).incentive == pytest.approx(0.01, abs=1e-9)
    # under High Economic Impact z2's activity dual is 0.17 - 0.37 x 0.44 / 0.97 (Table 6: 0.002)
    hei = find_incentive("high-economic-impact", 0.5, [Z2])
    assert hei.incentive == pytest.approx(0.17 - 0.37 * 0.44 / 0.97, abs=1e-9)
    assert hei.result.share([Z2]) >= 0.5


def test_target_already_met_needs_nothing():
    res = find_incentive("local-25", 0.25, names.LOCAL_ROUTES)
    assert res.incentive == 0.0
    assert res.share_without == pytest.approx(0.25)


def test_curve_is_a_non_decreasing_step():
    curve = incentive_curve("bau", [Z3], incentives=[0.0, 0.03, 0.059, 0.061, 0.2, 1.0])
    assert curve["incentive"].to_list() == [0.0, 0.03, 0.059, 0.061, 0.2, 1.0]
    assert curve["share"].to_list() == pytest.approx([0, 0, 0, 1, 1, 1])
    assert curve["incentive_paid"].to_list() == pytest.approx([0, 0, 0, 0.061 * Q, 0.2 * Q, 1.0 * Q])
    assert curve["total_cost"][3] == pytest.approx((1.90 - 0.061) * Q)
    found = find_incentive("bau", 0.5, names.LOCAL_ROUTES)
    shares = found.curve["share"].to_list()
    assert shares == sorted(shares)
    assert found.curve["incentive"].is_sorted()


def test_bad_requests_are_named_errors():
    with pytest.raises(ModelError, match="target share"):
        find_incentive("bau", 0.0, [Z3])
    with pytest.raises(ModelError, match="unknown route"):
        find_incentive("bau", 0.5, ["trucks"])
    infeasible = define_scenario("econ-4", policy=[names.ECONOMIC_IMPACT], targets={names.ECONOMIC_IMPACT: 4.0})
    res = find_incentive(infeasible, 0.5, [Z2])
    assert not res.reachable and res.result.status == "infeasible"


def test_cli_incentive_json(db_path, capsys):
    args = [
        "incentive",
        "--scenario",
        "bau",
        "--route",
        Z3,
        "--target",
        "0.25",
        "--paper",
        "--json",
        "--db",
        str(db_path),
    ]
    assert cli.main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["incentive"] == pytest.approx(0.06)
    assert out["routes"] == [Z3]
    assert out["result"]["meals"][Z3] == pytest.approx(Q)
    assert (
        cli.main(["incentive", "--scenario", "bau", "--local", "--target", "0.5", "--json", "--db", str(db_path)]) == 0
    )
    assert json.loads(capsys.readouterr().out)["routes"] == list(names.LOCAL_ROUTES)
    assert cli.main(["incentive", "--target", "1.5", "--json", "--db", str(db_path)]) == 1


def test_curve_brackets_the_step_and_text_reports_it():
    res = find_incentive("bau", 0.5, [Z1])
    rows = {round(r["incentive"], 6): r["share"] for r in res.curve.iter_rows(named=True)}
    assert rows[round(0.44 - 1e-4, 6)] == 0.0
    assert rows[round(0.44 + 1e-4, 6)] == pytest.approx(Z1_CAP)
    text = res.text()
    assert "$0.4400" in text and "85.6%" in text
