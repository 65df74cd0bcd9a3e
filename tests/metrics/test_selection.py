"""A district subset of the metrics equals the metrics of just those districts' lines, to the cent."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from fixtures_metrics import LINES, load

from coop import names
from coop.metrics import compute, selection
from coop.store import db

CHOSEN = ("county", "wide")
SUMS = ["total_spend", "local_spend", "unknown_origin_spend", "lines"]


@pytest.fixture
def both(con, tmp_path):
    """The metrics of the whole fixture co-op, and of a second database holding only CHOSEN's lines."""
    load(con)
    alone = db.connect(tmp_path / "alone.duckdb")
    try:
        load(alone, lines=[line for line in LINES if line[1] in CHOSEN])
        return compute.compute(con), compute.compute(alone)
    finally:
        alone.close()


def _coop(frame: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """The 'coop' rows of a spend table with money to the cent (shares compared apart, approximately)."""
    money = pl.col("total_spend", "local_spend", "unknown_origin_spend").round(2)
    return frame.filter(pl.col(compute.SCOPE) == compute.COOP).select(*by, money, "lines").sort(by)


def test_a_subset_coop_total_is_compute_over_just_its_lines(both) -> None:
    everyone, alone = both
    sub = selection.narrow(everyone, CHOSEN)
    coop = sub.coop.row(0, named=True)
    expected = alone.coop.row(0, named=True)
    assert coop["total_spend"] == expected["total_spend"] == 517.84 + 124.01
    assert coop["local_spend"] == expected["local_spend"] == 240.00 + 34.01
    assert coop["unknown_origin_spend"] == expected["unknown_origin_spend"]
    assert coop["lines"] == expected["lines"] == 11
    assert coop["local_share"] == pytest.approx(expected["local_share"])
    assert sub.districts[names.DISTRICT_ID].to_list() == sorted(CHOSEN)


def test_a_subset_by_month_category_and_route_re_sums_its_districts(both) -> None:
    everyone, alone = both
    sub = selection.narrow(everyone, CHOSEN)
    months = alone.by_month.filter(pl.col("lines") > 0)
    assert _coop(sub.by_month, [names.MONTH]).equals(_coop(months, [names.MONTH]))
    share = sub.by_month.filter(pl.col(compute.SCOPE) == compute.COOP).sort(names.MONTH)["local_share"]
    assert share.to_list() == pytest.approx(
        months.filter(pl.col(compute.SCOPE) == compute.COOP)["local_share"].to_list()
    )
    categories = alone.by_category.filter(pl.col("lines") > 0)
    assert _coop(sub.by_category, [names.CATEGORY]).equals(_coop(categories, [names.CATEGORY]))
    routes = selection.route_spend(sub).filter(pl.col("spend") > 0).sort(names.ROUTE)
    expected = selection.route_spend(alone).filter(pl.col("spend") > 0).sort(names.ROUTE)
    assert routes[names.ROUTE].to_list() == expected[names.ROUTE].to_list()
    assert routes["spend"].to_list() == pytest.approx(expected["spend"].to_list(), abs=0.005)
    assert routes["share"].sum() == pytest.approx(1.0)


def test_premiums_stay_coop_wide_and_district_rows_are_filtered(both) -> None:
    everyone, _ = both
    sub = selection.narrow(everyone, CHOSEN)
    assert set(sub.premiums[compute.SCOPE]) <= {*CHOSEN, compute.COOP}
    assert selection.by_scope(sub.premiums).equals(selection.by_scope(everyone.premiums))
    assert set(sub.goal[compute.SCOPE]) == set(CHOSEN)
    assert set(sub.unpriced[compute.SCOPE]) <= set(CHOSEN)


def test_choosing_every_district_is_the_metrics_themselves(both) -> None:
    everyone, _ = both
    ids = everyone.districts[names.DISTRICT_ID].to_list()
    assert selection.narrow(everyone, ids) is everyone


def test_by_scope_and_monthly_share(both) -> None:
    everyone, _ = both
    wide = selection.by_scope(everyone.districts.rename({names.DISTRICT_ID: compute.SCOPE}), "wide")
    assert wide["total_spend"].to_list() == [517.84] and compute.SCOPE not in wide.columns
    coop_only = selection.monthly_share(everyone, False, "Co-op")
    assert set(coop_only["series"]) == {"Co-op"}
    assert coop_only[names.MONTH].to_list() == [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)]
    per_district = selection.monthly_share(everyone, True, "Co-op")
    assert {"Co-op", "wide", "narrow"} <= set(per_district["series"])


def test_reporting_and_district_table(both) -> None:
    everyone, alone = both
    assert selection.reporting(everyone) == 5
    assert selection.reporting(alone) == len(CHOSEN)
    fresh = pl.DataFrame(
        {
            names.DISTRICT_ID: ["wide", "county"],
            names.NAME: ["Wide", "County"],
            "last_invoice_date": [date(2024, 3, 15), date(2024, 2, 10)],
            "lines": [7, 4],
            "last_loaded_at": [None, None],
        },
        schema_overrides={"last_loaded_at": pl.Datetime},
    )
    table = selection.district_table(selection.narrow(everyone, CHOSEN), fresh, date(2024, 3, 25))
    assert table[names.DISTRICT_ID].to_list() == ["wide", "county"]  # largest spend first
    row = table.row(0, named=True)
    assert (row[names.NAME], row["total_spend"], row["days_since_last_invoice"]) == ("Wide", 517.84, 10)
    assert row["goal_met"] is True  # 240 / 517.84 is above the 25% default goal
