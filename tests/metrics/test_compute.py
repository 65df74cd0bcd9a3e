import json
import subprocess
import sys
from datetime import date

import polars as pl
import pytest
from fixtures_metrics import insert, load, random_lines
from hypothesis import HealthCheck, given, settings

from coop import cli, names
from coop.ingest import pipeline
from coop.metrics import compute, local
from coop.registry import districts
from coop.store import db

DIRECT, NONTRAD, TRAD_LOCAL, TRAD_NONLOCAL = names.ROUTES


@pytest.fixture(params=["lines", "summary"])
def loaded(request, con):
    """The hand-built co-op, read from its lines (summary stale) or with the purchase summary built."""
    load(con)
    if request.param == "summary":
        db.rebuild_summary(con)
        assert compute.compute(con).from_summary
    else:
        assert not compute.compute(con).from_summary
    return con


def rows(frame: pl.DataFrame, key: str | list[str]) -> dict:
    keys = [key] if isinstance(key, str) else key
    out = {}
    for r in frame.to_dicts():
        out[tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]] = r
    return out


def test_district_totals_to_the_cent(loaded):
    m = compute.compute(loaded)
    d = rows(m.districts, names.DISTRICT_ID)
    # wide: 150.00 + 200.00 + 40.00 + 35.50 + 12.34 + 50.00 + 30.00; local = farm apples + Weld carrots + farm potatoes
    assert d["wide"]["total_spend"] == 517.84
    assert d["wide"]["local_spend"] == 240.00
    assert d["wide"]["local_share"] == pytest.approx(240.00 / 517.84)
    assert d["wide"]["unknown_origin_spend"] == 12.34
    # narrow: the same farm is 121 miles away, outside its 100 miles; only the Weld carrots are local
    assert (d["narrow"]["total_spend"], d["narrow"]["local_spend"]) == (230.00, 20.00)
    assert (d["county"]["total_spend"], d["county"]["local_spend"]) == (124.01, 34.01)
    assert (d["nm"]["total_spend"], d["nm"]["local_spend"]) == (65.00, 45.00)
    assert (d["plain"]["total_spend"], d["plain"]["local_spend"]) == (40.00, 25.00)
    assert d["narrow"]["unknown_origin_spend"] == 0.0


def test_coop_totals_and_unknown_origin(loaded):
    coop = compute.compute(loaded).coop.row(0, named=True)
    assert coop["total_spend"] == 976.85
    assert coop["local_spend"] == 364.01
    assert coop["local_share"] == pytest.approx(364.01 / 976.85)
    assert coop["unknown_origin_spend"] == 12.34
    assert coop["lines"] == 18


def test_sums_are_exact_decimal_cents(con):
    # 1000 lines of $0.10 and 3 x $0.01: binary floats would drift, cents must not
    from fixtures_metrics import lines_frame

    base = (1, "wide", "2024-01-01", "Sysco", "broadline_distributor", "apples", "fruit", 1.0, "lb", "0.10", "WA", None)
    lines = [(i, *base[1:]) for i in range(1000)]
    kale = ("wide", "2024-01-02", "Farm", "producer", "kale", "vegetable", 1.0, "lb", "0.01", "CO", "80631")
    lines += [(1000 + i, *kale) for i in range(3)]
    load(con, lines=[])
    insert(con, names.PURCHASES, lines_frame(lines))
    d = rows(compute.compute(con).districts, names.DISTRICT_ID)["wide"]
    assert d["total_spend"] == 100.03
    assert d["local_spend"] == 0.03


def test_date_range_is_inclusive(loaded):
    m = compute.compute(loaded, date(2024, 1, 15), date(2024, 1, 31))
    d = rows(m.districts, names.DISTRICT_ID)
    # lines on 01-15 (narrow farm), 01-16, 01-20 (wide Sysco apples) and 01-31 are in; 01-10 and 02-05 are out
    assert d["narrow"]["total_spend"] == 230.00
    assert d["wide"]["total_spend"] == 200.00
    assert d["county"]["total_spend"] == 0.0 and d["county"]["local_share"] is None
    assert m.coop.row(0, named=True)["total_spend"] == 430.00
    one_day = compute.compute(loaded, date(2024, 1, 10), date(2024, 1, 10))
    assert one_day.coop.row(0, named=True)["total_spend"] == 150.00
    open_start = compute.compute(loaded, None, date(2024, 1, 10))
    assert open_start.coop.row(0, named=True)["total_spend"] == 150.00
    open_end = compute.compute(loaded, date(2024, 3, 20), None)
    assert open_end.coop.row(0, named=True)["total_spend"] == 40.00


def test_share_by_month_and_category(loaded):
    m = compute.compute(loaded)
    month = rows(m.by_month, [compute.SCOPE, names.MONTH])
    assert month[("wide", date(2024, 1, 1))]["total_spend"] == 350.00
    assert month[("wide", date(2024, 1, 1))]["local_share"] == pytest.approx(150 / 350)
    assert month[("wide", date(2024, 2, 1))]["total_spend"] == 75.50
    assert month[("coop", date(2024, 2, 1))]["total_spend"] == 264.51  # 40+35.50+60+10.01+24+30+45+20
    assert month[("coop", date(2024, 2, 1))]["local_spend"] == 119.01
    cat = rows(m.by_category, [compute.SCOPE, names.CATEGORY])
    assert cat[("coop", "fruit")]["total_spend"] == 620.00
    assert cat[("coop", "fruit")]["local_share"] == pytest.approx(150 / 620)
    assert cat[("wide", "grain")]["unknown_origin_spend"] == 12.34


def test_route_mix(loaded):
    mix = rows(compute.compute(loaded).by_route, [compute.SCOPE, names.ROUTE])
    assert mix[("coop", DIRECT)]["spend"] == 234.01  # 150 + 50 + 10.01 + 24
    assert mix[("coop", NONTRAD)]["spend"] == 70.00  # Mesa Hub squash + Valley Coop potatoes
    assert mix[("coop", TRAD_LOCAL)]["spend"] == 60.00  # Sysco selling Weld carrots
    assert mix[("coop", TRAD_NONLOCAL)]["spend"] == 612.84
    assert mix[("coop", DIRECT)]["share"] == pytest.approx(234.01 / 976.85)
    assert mix[("nm", DIRECT)]["spend"] == 0.0  # every route listed for every scope
    assert sum(r["share"] for k, r in mix.items() if k[0] == "wide") == pytest.approx(1.0)


def test_premiums_by_hand(loaded):
    p = rows(compute.compute(loaded).premiums, [compute.SCOPE, names.PRODUCT])
    assert p[("wide", "apples")]["local_unit_price"] == pytest.approx(1.50)
    assert p[("wide", "apples")]["nonlocal_unit_price"] == pytest.approx(1.00)
    assert p[("wide", "apples")]["premium"] == pytest.approx(0.5)
    # co-op apples: local 150/100; non-local (200 + 120 + 90 + 60) / (200 + 80 + 100 + 40)
    assert p[("coop", "apples")]["nonlocal_unit_price"] == pytest.approx(470 / 420)
    assert p[("coop", "apples")]["premium"] == pytest.approx(1.5 / (470 / 420) - 1)
    assert p[("coop", "carrots")]["premium"] == pytest.approx((84 / 105) / (30 / 50) - 1)
    assert p[("plain", "potatoes")]["premium"] == pytest.approx(0.5 / 0.3 - 1)
    # only where both sides exist: narrow has no local apples, wide has no non-local carrots, milk is never local
    assert ("narrow", "apples") not in p
    assert ("wide", "carrots") not in p
    assert not any(k[1] == "milk" for k in p)


def test_unpriced_lines_are_left_out_of_premiums_and_counted(loaded):
    m = compute.compute(loaded)
    u = rows(m.unpriced, compute.SCOPE)
    assert (u["wide"]["lines"], u["wide"]["spend"]) == (1, 12.34)
    assert (u["county"]["lines"], u["county"]["spend"]) == (1, 10.01)
    assert (u["coop"]["lines"], u["coop"]["spend"]) == (2, 22.35)
    assert (u["nm"]["lines"], u["nm"]["spend"]) == (0, 0.0)


def test_category_premium_weighted_by_local_spend(loaded):
    c = rows(compute.compute(loaded).category_premiums, [compute.SCOPE, names.CATEGORY])
    # carrots 1/3 (local $84), potatoes 2/3 (local $75), squash 1/2 (local $45)
    expected = (84 * (1 / 3) + 75 * (2 / 3) + 45 * 0.5) / (84 + 75 + 45)
    assert c[("coop", "vegetable")]["premium"] == pytest.approx(expected)
    assert c[("coop", "vegetable")]["products"] == 3
    assert c[("coop", "fruit")]["premium"] == pytest.approx(1.5 / (470 / 420) - 1)


def test_route_premiums_vs_traditional_nonlocal(loaded):
    r = rows(compute.compute(loaded).route_premiums, [compute.SCOPE, names.ROUTE])
    apples = 1.5 / (470 / 420) - 1
    # direct: farm apples ($150), Weld Farm carrots 0.8 vs 0.6 ($24), farm potatoes 0.5 vs 0.3 ($50)
    direct = (150 * apples + 24 * (1 / 3) + 50 * (2 / 3)) / (150 + 24 + 50)
    assert r[("coop", DIRECT)]["premium"] == pytest.approx(direct)
    assert r[("coop", DIRECT)]["products"] == 3
    # nontraditional: squash 1.5 vs 1.0 ($45), Valley Coop potatoes 0.5 vs 0.3 ($25)
    assert r[("coop", NONTRAD)]["premium"] == pytest.approx((45 * 0.5 + 25 * (2 / 3)) / 70)
    assert r[("coop", TRAD_LOCAL)]["premium"] == pytest.approx(1 / 3)
    assert r[("coop", TRAD_NONLOCAL)]["premium"] == pytest.approx(0.0)
    assert r[("wide", DIRECT)]["premium"] == pytest.approx((150 * 0.5 + 50 * (2 / 3)) / 200)
    assert ("narrow", DIRECT) not in r


def test_vendor_spend_across_districts(loaded):
    v = rows(compute.compute(loaded).vendors, names.VENDOR_NAME)
    sysco = 200 + 40 + 12.34 + 30 + 90 + 20 + 30 + 20 + 15
    assert v["Sysco"]["spend"] == pytest.approx(sysco, abs=0.001)
    assert v["Sysco"]["districts"] == 5
    assert v["Sysco"]["local_spend"] == 60.00
    assert v["Crowley Farm"]["spend"] == 380.00
    assert v["Crowley Farm"]["local_spend"] == 200.00  # local for wide only
    assert compute.compute(loaded).vendors[names.VENDOR_NAME][0] == "Sysco"


def test_route_by_category(loaded):
    rc = rows(compute.compute(loaded).route_category, [names.ROUTE, names.CATEGORY])
    assert rc[(DIRECT, "vegetable")]["spend"] == 74.00  # Weld Farm carrots 24 + farm potatoes 50
    assert rc[(DIRECT, "protein")]["spend"] == 10.01
    assert sum(r["spend"] for r in rc.values()) == pytest.approx(976.85)


def test_goal_defaults_and_trajectory(loaded):
    m = compute.compute(loaded)
    assert (m.goal_local_share, m.goal_date) == (0.25, date(2027, 6, 30))
    t = rows(m.trajectory, [compute.SCOPE, names.MONTH])
    assert t[("wide", date(2024, 2, 1))]["cumulative_local_share"] == pytest.approx(190 / 425.5)
    assert t[("wide", date(2024, 3, 1))]["cumulative_local_share"] == pytest.approx(240 / 517.84)
    assert t[("narrow", date(2024, 1, 1))]["gap_to_goal"] == pytest.approx(0.25 - 20 / 230)
    g = rows(m.goal, compute.SCOPE)
    assert g["wide"]["last_month"] == date(2024, 3, 1)
    assert g["wide"]["cumulative_local_share"] == pytest.approx(240 / 517.84)
    assert g["wide"]["met"] is True
    assert g["narrow"]["met"] is False
    assert g["coop"]["cumulative_local_share"] == pytest.approx(364.01 / 976.85)
    assert g["coop"]["goal_date"] == date(2027, 6, 30)


@pytest.mark.parametrize(("text", "share"), [("0.3", 0.3), ("30%", 0.3), ("30", 0.3), ("1%", 0.01)])
def test_goal_from_settings(con, text, share):
    load(con)
    con.execute(
        f"INSERT INTO {names.SETTINGS} VALUES (?, ?), (?, ?)",
        [names.GOAL_LOCAL_SHARE, text, names.GOAL_DATE, "2030-01-01"],
    )
    m = compute.compute(con)
    assert m.goal_local_share == pytest.approx(share)
    assert m.goal_date == date(2030, 1, 1)


def test_empty_database(con):
    m = compute.compute(con)
    assert m.districts.height == 0
    assert m.coop.row(0, named=True)["total_spend"] == 0.0
    assert m.coop.row(0, named=True)["local_share"] is None
    assert m.premiums.height == 0


def test_cli_json_contract(loaded, db_path, capsys):
    loaded.close()
    assert cli.main(["metrics", "--db", str(db_path), "--json", "--from", "2024-01-01", "--to", "2024-12-31"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"districts", "coop", "premiums"}
    assert set(doc["districts"][0]) == {
        "district_id", "total_spend", "local_spend", "local_share", "unknown_origin_spend", "routes"
    }  # fmt: skip
    assert set(doc["coop"]) == {"total_spend", "local_spend", "local_share", "routes"}  # DESIGN: routes (issue 16)
    assert set(doc["premiums"][0]) == {
        "scope", "product", "category", "local_unit_price", "nonlocal_unit_price", "premium"
    }  # fmt: skip
    assert doc["coop"]["total_spend"] == 976.85
    wide = next(d for d in doc["districts"] if d["district_id"] == "wide")
    assert wide["unknown_origin_spend"] == 12.34
    apples = next(p for p in doc["premiums"] if (p["scope"], p["product"]) == ("wide", "apples"))
    assert apples["premium"] == pytest.approx(0.5)


def test_cli_rejects_reversed_range(db_path, capsys):
    assert cli.main(["metrics", "--db", str(db_path), "--from", "2024-02-01", "--to", "2024-01-01"]) == 1
    assert "after" in capsys.readouterr().err


def test_cli_subprocess_prints_only_json(loaded, db_path):
    loaded.close()
    out = subprocess.run(
        [sys.executable, "-m", "coop", "metrics", "--db", str(db_path), "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(out.stdout)["coop"]["local_spend"] == 364.01


def test_date_range(con):
    assert compute.date_range(con) is None
    load(con)
    assert compute.date_range(con) == (date(2024, 1, 10), date(2024, 3, 20))


def test_every_grain_holds_every_line_and_cent(loaded):
    grains = compute.load_grains(loaded).collect()
    for name in (compute.GRAIN_SHARES, compute.GRAIN_PRICES, compute.GRAIN_VENDORS):
        part = grains.filter(pl.col(compute.GRAIN) == name)
        assert part[compute.SPEND_CENTS].sum() == 97685, name
        assert part[compute.LINES].sum() == 18, name
        assert part[compute.UNPRICED_LINES].sum() == 2, name
        assert part[compute.PRICED_CENTS].sum() == 97685 - 1234 - 1001, name
    # the shares grain keeps months apart, the prices grain keeps products apart
    shares = grains.filter(pl.col(compute.GRAIN) == compute.GRAIN_SHARES)
    assert shares.filter(pl.col(names.DISTRICT_ID) == "wide")[names.MONTH].n_unique() == 3
    prices = grains.filter(pl.col(compute.GRAIN) == compute.GRAIN_PRICES)
    assert set(prices.filter(pl.col(names.DISTRICT_ID) == "wide")[names.PRODUCT]) == {
        "apples", "carrots", "milk", "bread", "potatoes"
    }  # fmt: skip


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(random_lines(120))
def test_compacted_metrics_equal_line_by_line(con, raw):
    """Whatever the lines, the grains give the same figures as classifying every line on its own."""
    from fixtures_metrics import lines_frame

    con.execute(f"DELETE FROM {names.PURCHASE_LINES}")
    con.execute(f"DELETE FROM {names.DISTRICTS}")
    lines = raw
    load(con, lines=[])
    insert(con, names.PURCHASES, lines_frame(lines))
    m = compute.compute(con, date(2024, 1, 15), date(2024, 4, 15))

    frame = lines_frame(lines).filter(pl.col(names.INVOICE_DATE).is_between(date(2024, 1, 15), date(2024, 4, 15)))
    each = local.localize(frame.lazy(), districts.load(con).lazy()).collect()
    cents_of = pl.col(names.EXTENDED_PRICE).cast(pl.Decimal(18, 2)).mul(100).cast(pl.Int64)
    each = each.with_columns(cents_of.alias("c"))
    for d in m.districts.to_dicts():
        mine = each.filter(pl.col(names.DISTRICT_ID) == d[names.DISTRICT_ID])
        assert round(d["total_spend"] * 100) == mine["c"].sum()
        assert round(d["local_spend"] * 100) == mine.filter(pl.col(local.LOCAL))["c"].sum()
        assert round(d["unknown_origin_spend"] * 100) == mine.filter(pl.col(local.UNKNOWN_ORIGIN))["c"].sum()
    coop = m.coop.row(0, named=True)
    assert round(coop["total_spend"] * 100) == each["c"].sum()
    assert sum(round(r["spend"] * 100) for r in m.by_route.filter(pl.col(compute.SCOPE) == "coop").to_dicts()) == (
        each["c"].sum()
    )
    for r in m.route_category.to_dicts():
        cell = each.filter((pl.col(names.ROUTE) == r[names.ROUTE]) & (pl.col(names.CATEGORY) == r[names.CATEGORY]))
        assert round(r["spend"] * 100) == cell["c"].sum()
    for p in m.premiums.filter(pl.col(compute.SCOPE) == "coop").to_dicts():
        rows_p = each.filter((pl.col(names.PRODUCT) == p[names.PRODUCT]) & pl.col(names.BASE_QUANTITY).is_not_null())
        loc, non = rows_p.filter(pl.col(local.LOCAL)), rows_p.filter(~pl.col(local.LOCAL))
        assert p["local_unit_price"] == pytest.approx(loc["c"].sum() / 100 / loc[names.BASE_QUANTITY].sum())
        assert p["nonlocal_unit_price"] == pytest.approx(non["c"].sum() / 100 / non[names.BASE_QUANTITY].sum())


@pytest.mark.slow
def test_real_usage_report_totals_to_the_cent(db_path, capsys):
    """The real SGV co-op report ($17,683,041.05 invoiced, no origins): every dollar is unknown origin."""
    from conftest import REAL

    report = REAL / "sgv-coop-district-usage-2019-2020.xlsx"
    if not report.exists():
        pytest.skip("real data not present")
    args = ["--db", str(db_path), "--json"]
    vendor = ["--vendor", "Broadline", "--vendor-type", "broadline_distributor", "--add-districts"]
    assert cli.main(["ingest", str(report), *vendor, *args]) == 0
    capsys.readouterr()
    assert cli.main(["metrics", *args]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["coop"]["total_spend"] == 17_683_041.05
    assert doc["coop"]["local_spend"] == 0.0
    assert len(doc["districts"]) == 30
    for d in doc["districts"]:
        assert d["unknown_origin_spend"] == d["total_spend"]
    assert doc["premiums"] == []


def test_weighted_premium_weights_commodity_premiums_by_local_spend(loaded):
    m = compute.compute(loaded)
    coop = m.premiums.filter(pl.col(compute.SCOPE) == compute.COOP)
    expected = sum(r["premium"] * r["local_spend"] for r in coop.to_dicts()) / coop["local_spend"].sum()
    assert compute.weighted_premium(m) == pytest.approx(expected)
    # the same figure as weighting the category premiums by their local spend (what the packet showed before)
    cats = m.category_premiums.filter(pl.col(compute.SCOPE) == compute.COOP)
    assert compute.weighted_premium(m) == pytest.approx(
        (cats["premium"] * cats["local_spend"]).sum() / cats["local_spend"].sum()
    )
    wide = m.premiums.filter(pl.col(compute.SCOPE) == "wide")
    assert compute.weighted_premium(m, "wide") == pytest.approx(
        (wide["premium"] * wide["local_spend"]).sum() / wide["local_spend"].sum()
    )


def test_weighted_premium_is_none_without_premiums(con):
    assert compute.weighted_premium(compute.compute(con)) is None


@pytest.mark.parametrize("use_summary", [False, True])
def test_credits_are_netted_in_every_total_to_the_cent(con, tmp_path, use_summary):
    from coop.ingest import ingest_file

    con.execute(
        f"INSERT INTO {names.DISTRICTS} (district_id, name, state, zip) VALUES ('D1', 'Lakeview', 'MN', '55101')"
    )
    con.execute(
        f"INSERT INTO {names.VENDORS} VALUES ('Farm', 'producer', 'MN', '55102'), "
        "('Sysco', 'broadline_distributor', NULL, NULL)"
    )
    path = tmp_path / "credits.csv"
    path.write_text(
        "Date,Vendor,Item Description,Qty,UOM,Price,Ext Price\n"
        "2024-09-03,Farm,Carrots,10,lb,0.80,8.00\n"
        "2024-09-04,Farm,Carrots,-4,lb,0.80,-3.20\n"  # a return to the farm: local spend nets too
        "2024-10-01,Sysco,Apples,3,lb,1.11,3.33\n"
        "2024-10-02,Sysco,Apples,-1,lb,1.11,-1.11\n",
        encoding="utf-8",
    )
    assert ingest_file(con, path, district_id="D1").rows_loaded == 4
    if use_summary:
        db.rebuild_summary(con)
    m = compute.compute(con, use_summary=use_summary)
    assert m.from_summary == use_summary
    d = rows(m.districts, names.DISTRICT_ID)["D1"]
    assert (d["total_spend"], d["local_spend"]) == (7.02, 4.80)  # 8.00 - 3.20 + 3.33 - 1.11; 8.00 - 3.20
    assert m.coop.row(0, named=True)["total_spend"] == 7.02
    by_month = {r[names.MONTH].month: r["total_spend"] for r in m.by_month.to_dicts()}
    assert by_month == {9: 4.80, 10: 2.22}


def test_metrics_json_has_spend_per_route_summing_to_total_spend(sample_db_file, capsys):
    args = ["metrics", "--db", str(sample_db_file), "--json", "--from", "2025-01-01", "--to", "2025-03-31"]
    assert cli.main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    for scope in [doc["coop"], *doc["districts"]]:
        assert set(scope["routes"]) == set(names.ROUTES)
        assert sum(scope["routes"].values()) == pytest.approx(scope["total_spend"], abs=0.005 * len(names.ROUTES))
    assert doc["coop"]["routes"][names.TRADITIONAL_NONLOCAL] == pytest.approx(
        sum(d["routes"][names.TRADITIONAL_NONLOCAL] for d in doc["districts"]), abs=0.01 * len(doc["districts"])
    )


def test_local_share_is_not_known_where_every_dollar_is_of_unknown_origin(db_path, capsys):
    con = db.connect(db_path)
    try:
        con.execute(
            f"INSERT INTO {names.DISTRICTS} ({names.DISTRICT_ID}, {names.NAME}, {names.STATE}, {names.ZIP}) "
            "VALUES ('blind', 'Blind District', 'MN', '55101')"
        )
        frame = pl.DataFrame(
            {
                names.INVOICE_DATE: ["2024-09-03", "2024-09-04"],
                names.VENDOR_NAME: ["Sysco", "Sysco"],
                names.VENDOR_TYPE: ["broadline_distributor"] * 2,
                names.PRODUCT: ["Apples, Gala", "Milk 1%"],
                names.QUANTITY: ["10", "5"],
                names.UNIT: ["lb", "gal"],
                names.UNIT_PRICE: ["1.00", "3.00"],
                names.EXTENDED_PRICE: ["10.00", "15.00"],
            }
        )
        pipeline.load_frame(con, frame, file_name="blind.csv", sha256="b", source_kind="csv", district_id="blind")
    finally:
        con.close()
    assert cli.main(["metrics", "--db", str(db_path), "--json"]) == 0
    (blind,) = json.loads(capsys.readouterr().out)["districts"]
    assert blind["total_spend"] == 25.0 and blind["unknown_origin_spend"] == 25.0
    assert blind["local_spend"] == 0.0 and blind["local_share"] is None  # not known, not 0%
    from coop.report import build

    assert build.format_share(blind["local_share"]) == "not known"
