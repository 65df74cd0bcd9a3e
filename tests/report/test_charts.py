"""Charts are values: each returns an Altair chart whose axes state units and whose title states period."""

from __future__ import annotations

import re
from datetime import date

import polars as pl
import pytest
import vl_convert as vlc

from coop import names
from coop.report import charts

PERIOD = "1 Jul 2024 – 30 Jun 2025"


def _specs(spec: dict) -> list[dict]:
    """The spec and every layer in it."""
    return [spec, *spec.get("layer", [])]


def _axis_titles(spec: dict) -> dict[str, str]:
    """Axis title per channel across all layers."""
    found: dict[str, str] = {}
    for part in _specs(spec):
        for channel, enc in part.get("encoding", {}).items():
            if isinstance(enc, dict) and "title" in enc and channel in ("x", "y"):
                found[channel] = enc["title"]
    return found


def _rendered(chart: object) -> str:
    """The chart rendered to SVG by Vega (fails if the spec is invalid)."""
    spec = chart.to_dict()  # type: ignore[attr-defined]
    spec["width"] = 400
    for part in spec.get("layer", []):
        part.pop("width", None)
    return vlc.vegalite_to_svg(spec)


def _check_title(spec: dict, text: str) -> None:
    title = spec["title"]
    assert title["text"] == text
    assert f"Period: {PERIOD}" in title["subtitle"][0] or PERIOD in " ".join(title["subtitle"])


def test_local_share_by_month_has_goal_line_and_percent_axis() -> None:
    frame = pl.DataFrame(
        {"month": [date(2024, 7, 1), date(2024, 8, 1)], "local_share": [0.2, 0.3], "series": ["Co-op", "Co-op"]}
    )
    chart = charts.local_share_by_month(frame, goal=0.25, period=PERIOD, definition="Local = each district's rule")
    spec = chart.to_dict()
    _check_title(spec, "Local share by month")
    assert spec["title"]["subtitle"][1] == "Local = each district's rule"
    assert "%" in _axis_titles(spec)["y"]
    goal_layers = [p for p in spec["layer"] if p["mark"]["type"] == "rule"]
    assert len(goal_layers) == 1
    goal_data = spec["datasets"][goal_layers[0]["data"]["name"]]
    assert goal_data[0]["goal"] == pytest.approx(0.25)
    assert "<svg" in _rendered(chart)


@pytest.mark.parametrize("zone", ["UTC", "America/Chicago", "Pacific/Auckland"])
def test_month_axis_labels_each_calendar_month_once_in_any_time_zone(
    zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", zone)
    months = [date(2024, 9, 1), date(2024, 10, 1), date(2024, 11, 1), date(2024, 12, 1)]
    frame = pl.DataFrame({"month": months, "local_share": [0.1, 0.2, 0.3, 0.4]})
    svg = _rendered(charts.local_share_by_month(frame, goal=None, period=PERIOD, definition="d"))
    assert re.findall(r">([A-Z][a-z]{2} \d{4})<", svg) == ["Sep 2024", "Oct 2024", "Nov 2024", "Dec 2024"]


def test_local_share_without_goal_has_no_rule() -> None:
    frame = pl.DataFrame({"month": [date(2024, 7, 1)], "local_share": [0.2]})
    spec = charts.local_share_by_month(frame, goal=None, period=PERIOD, definition="d").to_dict()
    assert [p["mark"]["type"] for p in spec["layer"]] == ["line"]


def test_spend_by_route_labels_routes_and_dollars() -> None:
    frame = pl.DataFrame({names.ROUTE: list(names.ROUTES), "spend": [10.0, 20.0, 30.0, 40.0]})
    chart = charts.spend_by_route(frame, period=PERIOD, definition="Spend = extended price")
    spec = chart.to_dict()
    _check_title(spec, "Spend by supply-chain route")
    assert "dollars" in _axis_titles(spec)["x"]
    data = spec["datasets"][spec["data"]["name"]]
    labels = {row[names.ROUTE]: row["route_label"] for row in data}
    assert labels[names.DIRECT_LOCAL] == "Direct local"
    assert labels[names.TRADITIONAL_NONLOCAL] == "Traditional non-local"
    assert "<svg" in _rendered(chart)


def test_premiums_and_unit_price_state_units() -> None:
    prem = pl.DataFrame({"product": ["apples", "beef", "milk"], "premium": [0.25, -0.1, None]})
    spec = charts.premiums(prem, by="product", by_title="Commodity", period=PERIOD, definition="d").to_dict()
    assert "% above non-local" in _axis_titles(spec)["x"]
    assert len(spec["datasets"][spec["data"]["name"]]) == 2  # the null premium is left out
    prices = pl.DataFrame({"month": [date(2024, 9, 1)] * 2, "origin": ["Local", "Non-local"], "unit_price": [1.5, 1.2]})
    chart = charts.unit_price_over_time(prices, product="apples", unit="lb", period=PERIOD, definition="d")
    assert "per lb" in _axis_titles(chart.to_dict())["y"]
    assert "<svg" in _rendered(chart)


def test_optimizer_charts() -> None:
    meals = pl.DataFrame({names.ROUTE: list(names.ROUTES), "meals": [0.0, 0.0, 11521.0, 34564.0]})
    spec = charts.meals_per_route(meals, scenario="25% Local", definition="d").to_dict()
    assert spec["title"]["subtitle"][0] == "Scenario: 25% Local"
    assert "Meals per year" in _axis_titles(spec)["x"]
    curve = pl.DataFrame({"incentive": [0.0, 0.1, 0.2], "local_share": [0.0, 0.0, 1.0]})
    chart = charts.incentive_curve(curve, target="direct local", scenario="BAU", definition="d")
    assert "dollars per meal" in _axis_titles(chart.to_dict())["x"]
    assert "<svg" in _rendered(chart)


def test_pool_charts_reshape_costs() -> None:
    frame = pl.DataFrame({names.DISTRICT_ID: ["a", "b"], "standalone_cost": [100.0, 50.0], "pooled_cost": [90.0, 45.0]})
    chart = charts.standalone_vs_pooled(frame, period=PERIOD, definition="d")
    spec = chart.to_dict()
    data = spec["datasets"][spec["data"]["name"]]
    assert {(r[names.DISTRICT_ID], r["basis"], r["cost"]) for r in data} == {
        ("a", "Buying alone", 100.0),
        ("a", "In the pool", 90.0),
        ("b", "Buying alone", 50.0),
        ("b", "In the pool", 45.0),
    }
    assert "<svg" in _rendered(chart)
    alloc = pl.DataFrame({names.DISTRICT_ID: ["a", "a"], "method": ["shapley", "proportional"], "cost": [1.0, 2.0]})
    assert "dollars" in _axis_titles(charts.allocation_methods(alloc, period=PERIOD, definition="d").to_dict())["y"]


def test_share_bars() -> None:
    frame = pl.DataFrame({"category": ["fruit", "dairy"], "local_share": [0.4, 0.1], "total_spend": [10.0, 5.0]})
    chart = charts.share_bars(frame, by="category", by_title="Category", period=PERIOD, definition="d")
    spec = chart.to_dict()
    assert spec["title"]["text"] == "Local share by category"
    assert "%" in _axis_titles(spec)["x"]
    assert "<svg" in _rendered(chart)


def _data(spec: dict, part: dict | None = None) -> list[dict]:
    """The rows a (layer of a) spec draws."""
    return spec["datasets"][(part or spec)["data"]["name"]]


def test_six_scenarios_draw_one_readable_bar_each_and_label_the_infeasible() -> None:
    rows = [
        {"series": s, names.ROUTE: r, "meals": None if s == "Strict" else 100.0, "status": status}
        for s, status in (("BAU", "optimal"), ("25% Local", "optimal"), ("Strict", "infeasible"))
        for r in names.ROUTES
    ]
    chart = charts.scenario_meals(pl.DataFrame(rows), scenario="six", definition="d")
    spec = chart.to_dict()
    bars, labels = spec["layer"]
    assert bars["encoding"]["y"]["field"] == "series"  # one bar a scenario, routes stacked in it
    assert bars["encoding"]["x"]["stack"] == "zero"
    assert bars["encoding"]["y"]["scale"]["domain"] == ["BAU", "25% Local", "Strict"]  # the infeasible one kept
    assert [r["series"] for r in _data(spec, labels)] == ["Strict"]
    assert "infeasible" in _data(spec, labels)[0]["label"]
    assert spec["height"] >= 3 * 40  # at least 40 px a scenario: no hairline bars
    assert "infeasible" in _rendered(chart)


def test_unknown_origin_spend_has_its_own_colour_in_share_and_route_charts() -> None:
    districts = pl.DataFrame(
        {
            names.DISTRICT_ID: ["all_unknown", "none_local"],
            "local_share": [None, 0.0],
            "total_spend": [100.0, 100.0],
            "local_spend": [0.0, 0.0],
            "unknown_origin_spend": [100.0, 0.0],
        }
    )
    spec = charts.share_bars(districts, by=names.DISTRICT_ID, by_title="District", period=PERIOD, definition="d")
    spec = spec.to_dict()
    parts = {(r[names.DISTRICT_ID], r["part"]): r["share"] for r in _data(spec)}
    assert parts[("all_unknown", charts.UNKNOWN_ORIGIN_LABEL)] == 1.0  # not drawn as "0% local"
    assert parts[("none_local", "Not local")] == 1.0
    assert charts.UNKNOWN_ORIGIN_COLOR in spec["encoding"]["color"]["scale"]["range"]
    routes = pl.DataFrame(
        {names.ROUTE: list(names.ROUTES), "spend": [10.0, 0.0, 5.0, 50.0], "unknown_origin_spend": [0.0, 0, 0, 20.0]}
    )
    chart = charts.spend_by_route(routes, period=PERIOD, definition="d")
    spec = chart.to_dict()
    split = {(r["route_label"], r["part"]): r["spend"] for r in _data(spec)}
    assert split[("Traditional non-local", "Traditional non-local")] == 30.0
    assert split[("Traditional non-local", charts.UNKNOWN_ORIGIN_LABEL)] == 20.0
    assert "<svg" in _rendered(chart)
