from datetime import date

import polars as pl
import pytest
from fixtures_metrics import load

from coop import names
from coop.errors import UnknownDistrictError
from coop.optimize import calibrate

DIRECT, NONTRAD, TRAD_LOCAL, TRAD_NONLOCAL = names.ROUTES
PAPER = {DIRECT: 2.28, NONTRAD: 2.45, TRAD_LOCAL: 1.90, TRAD_NONLOCAL: 1.84}
# co-op route ratios of the fixture, by hand (see test_metrics.test_route_premiums_vs_traditional_nonlocal)
APPLES = 1.5 / (470 / 420) - 1
COOP_DIRECT = 1 + (150 * APPLES + 24 * (1 / 3) + 50 * (2 / 3)) / 224
COOP_NONTRAD = 1 + (45 * 0.5 + 25 * (2 / 3)) / 70
COOP_TRAD_LOCAL = 4 / 3
WIDE_DIRECT = 1 + (150 * 0.5 + 50 * (2 / 3)) / 200


def meals(con, rows):
    con.executemany(f"INSERT INTO {names.MEAL_COUNTS} VALUES (?, ?, ?)", rows)


def test_no_data_gives_the_papers_costs(con):
    load(con, lines=[])
    cal = calibrate.route_costs(con, "wide")
    assert cal.cost_per_meal == pytest.approx(PAPER)
    assert cal.source == {r: "paper" for r in names.ROUTES}
    assert cal.annual_meals == 46_085
    assert cal.base_source == "paper"


def test_unknown_district(con):
    with pytest.raises(UnknownDistrictError):
        calibrate.route_costs(con, "nowhere")


def test_district_own_data_and_meals(con):
    load(con)
    meals(con, [("wide", date(2024, 1, 1), 100), ("wide", date(2024, 2, 1), 100)])
    cal = calibrate.route_costs(con, "wide", min_products=1)
    # January: farm apples $150 direct, Sysco apples $200 non-local; February: Weld carrots $40 traditional local
    # (co-op ratio 4/3), milk $35.50 non-local. Deflated to non-local prices, per meal:
    base = (150 / WIDE_DIRECT + 200 + 40 / COOP_TRAD_LOCAL + 35.50) / 200
    assert cal.base_cost_per_meal == pytest.approx(base)
    assert cal.cost_per_meal[TRAD_NONLOCAL] == pytest.approx(base)
    assert cal.cost_per_meal[DIRECT] == pytest.approx(base * WIDE_DIRECT)
    assert cal.cost_per_meal[NONTRAD] == pytest.approx(base * COOP_NONTRAD)
    assert cal.cost_per_meal[TRAD_LOCAL] == pytest.approx(base * COOP_TRAD_LOCAL)
    assert cal.source == {DIRECT: "district", NONTRAD: "coop", TRAD_LOCAL: "coop", TRAD_NONLOCAL: "district"}
    # two months of counts, no declared figure: scaled to 12 months
    assert cal.annual_meals == pytest.approx(200 * 12 / 2)
    assert any("scaled" in n for n in cal.notes)


def test_falls_back_to_coop_base_and_ratios(con):
    load(con)
    meals(con, [("wide", date(2024, 1, 1), 100), ("wide", date(2024, 2, 1), 100)])
    cal = calibrate.route_costs(
        con, "narrow", min_products=1
    )  # no meal counts, no local matched commodities of its own
    base = (150 / COOP_DIRECT + 200 + 40 / COOP_TRAD_LOCAL + 35.50) / 200
    assert cal.base_source == "coop"
    assert cal.base_cost_per_meal == pytest.approx(base)
    assert cal.cost_per_meal[DIRECT] == pytest.approx(base * COOP_DIRECT)
    assert cal.source == {r: "coop" for r in names.ROUTES}
    assert cal.annual_meals == 46_085  # nothing known about narrow's meals


def test_declared_annual_meals_and_annualised_spend(con):
    load(con)
    con.execute(f"UPDATE {names.DISTRICTS} SET {names.ANNUAL_MEALS} = 180 WHERE {names.DISTRICT_ID} = 'plain'")
    cal = calibrate.route_costs(con, "plain", min_products=1)
    # March only: Valley Coop potatoes $25 (own ratio 0.5/0.3), Sysco potatoes $15: deflated $30 a month
    assert cal.ratio[NONTRAD] == pytest.approx(5 / 3)
    assert cal.base_cost_per_meal == pytest.approx(30 * 12 / 180)
    assert cal.annual_meals == 180
    assert cal.source == {DIRECT: "coop", NONTRAD: "district", TRAD_LOCAL: "coop", TRAD_NONLOCAL: "district"}


def test_annual_meals_from_the_last_twelve_months(con):
    load(con)
    rows = [("nm", date(2023, 1, 1), 1000)] + [("nm", date(2023 + (m // 12), m % 12 + 1, 1), 10) for m in range(1, 14)]
    meals(con, rows)
    cal = calibrate.route_costs(con, "nm")
    assert cal.annual_meals == 120  # Mar 2023 .. Feb 2024; January 2023's 1000 is older than a year
    assert cal.meals_source.startswith("meal_counts, 12 months to 2024-02")


def test_min_products_moves_a_ratio_to_the_coop(con):
    load(con)
    assert calibrate.route_costs(con, "wide", min_products=1).ratio[DIRECT] == pytest.approx(WIDE_DIRECT)
    assert calibrate.route_costs(con, "wide", min_products=2).ratio[DIRECT] == pytest.approx(WIDE_DIRECT)
    strict = calibrate.route_costs(con, "wide")  # default 3: wide matched 2 products, the co-op 3
    assert strict.ratio[DIRECT] == pytest.approx(COOP_DIRECT)
    stricter = calibrate.route_costs(con, "wide", min_products=4)
    assert stricter.ratio[DIRECT] == pytest.approx(PAPER[DIRECT] / PAPER[TRAD_NONLOCAL])
    assert stricter.source[DIRECT] == "paper"


def test_date_range_limits_the_evidence(con):
    load(con)
    cal = calibrate.route_costs(con, "wide", date(2024, 1, 1), date(2024, 1, 31), min_products=1)
    # January: wide's only matched commodity is apples, farm 1.50/lb vs Sysco 1.00/lb
    assert cal.ratio[DIRECT] == pytest.approx(1.5)
    # no January carrots or squash bought non-locally anywhere: the paper's ratios
    assert cal.ratio[TRAD_LOCAL] == pytest.approx(1.90 / 1.84)
    assert cal.ratio[NONTRAD] == pytest.approx(2.45 / 1.84)
    # narrow's January evidence is the co-op's: local apples 1.50 vs (200 + 120 + 90) / (200 + 80 + 100)
    narrow = calibrate.route_costs(con, "narrow", date(2024, 1, 1), date(2024, 1, 31), min_products=1)
    assert narrow.ratio[DIRECT] == pytest.approx(1.5 / (410 / 380))
    assert narrow.source[DIRECT] == "paper"  # the base is the paper's: no meal counts


def test_demand_per_district_and_category(con):
    load(con)
    d = {(r[names.DISTRICT_ID], r[names.CATEGORY]): r for r in calibrate.demand(con).to_dicts()}
    assert d[("wide", "fruit")]["quantity"] == 300  # 100 + 200 lb
    assert d[("wide", "fruit")]["base_unit"] == "lb"
    assert d[("wide", "fruit")]["months"] == 3  # January to March
    assert d[("wide", "fruit")]["annual_quantity"] == pytest.approx(300 * 12 / 3)
    assert d[("county", "vegetable")]["quantity"] == 80
    assert ("wide", "grain") not in d  # the bread line has no base quantity
    assert d[("wide", "dairy")]["spend"] == 35.50


def test_unit_costs_with_fallbacks(con):
    load(con)
    coop = {(r[names.ROUTE], r[names.CATEGORY]): r for r in calibrate.unit_costs(con).to_dicts()}
    assert coop[(TRAD_NONLOCAL, "vegetable")]["unit_cost"] == pytest.approx((30 + 30 + 15 + 20) / (50 + 100 + 50 + 20))
    assert coop[(TRAD_NONLOCAL, "vegetable")]["source"] == "coop"
    assert coop[(NONTRAD, "vegetable")]["unit_cost"] == pytest.approx(70 / 80)
    assert coop[(NONTRAD, "fruit")]["unit_cost"] == pytest.approx(470 / 420 * 2.45 / 1.84)
    assert coop[(NONTRAD, "fruit")]["source"] == "paper"
    assert len(coop) == 4 * 3  # fruit, vegetable, dairy x four routes
    wide = {(r[names.ROUTE], r[names.CATEGORY]): r for r in calibrate.unit_costs(con, "wide").to_dicts()}
    assert wide[(TRAD_NONLOCAL, "fruit")]["unit_cost"] == pytest.approx(1.0)
    assert wide[(TRAD_NONLOCAL, "fruit")]["source"] == "district"
    assert wide[(NONTRAD, "vegetable")]["source"] == "coop"
    assert wide[(NONTRAD, "fruit")]["unit_cost"] == pytest.approx(1.0 * 2.45 / 1.84)


def test_yearly_demand_of_a_one_year_usage_report_is_its_volume(con, tmp_path):
    """A July-June report is one year of buying (not one month x 12); a quarter's report is a quarter."""
    from fixtures_periods import load_period_report, write_period_report

    load_period_report(con, write_period_report(tmp_path / "year.xlsx", date(2020, 7, 1), date(2021, 6, 30)))
    year = calibrate.demand(con).filter(pl.col(names.CATEGORY) == "fruit")
    assert year["quantity"].to_list() == [pytest.approx(400.0 + 25 * 6 * 6.5)]  # apples lb + peaches 6/#10 cases
    assert year["annual_quantity"].to_list() == [pytest.approx(year["quantity"][0])]
    quarter = calibrate.demand(con, date(2020, 7, 1), date(2020, 9, 30)).filter(pl.col(names.CATEGORY) == "fruit")
    # 92 of 365 days' volume, over the three months those days cover: x 4 to a year
    assert quarter["quantity"][0] == pytest.approx(year["quantity"][0] * 92 / 365)
    assert quarter["annual_quantity"][0] == pytest.approx(year["quantity"][0] * 92 / 365 * 4)
