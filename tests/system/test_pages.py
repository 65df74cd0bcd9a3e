"""Every page runs under Streamlit's AppTest on the sample co-op, and its main widgets change what it shows.

The session fixture starts the app on an EMPTY database, so the first run exercises the first-start path
(the app loads the bundled sample co-op itself and says so); every later test reuses that database.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from streamlit.proto.Metric_pb2 import Metric
from streamlit.testing.v1 import AppTest

from coop import names
from coop.metrics import compute
from coop.report.charts import CONSTRAINT_LABELS, ROUTE_LABELS
from coop.store import db

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGES = (
    "pages/overview.py",
    "pages/intake.py",
    "pages/local_spend.py",
    "pages/premiums.py",
    "pages/optimizer.py",
    "pages/buying_power.py",
    "pages/rules.py",
    "pages/packet.py",
    "pages/audit.py",
)
TIMEOUT = 240


@dataclass(frozen=True)
class FirstStart:
    """The database the app tests share and what the app showed when it found it empty."""

    path: Path
    infos: tuple[str, ...]
    toasts: tuple[str, ...]
    exceptions: tuple[str, ...]


@pytest.fixture(scope="session")
def app_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirstStart]:
    """An empty database in tmp_path that the app fills with the sample co-op on its first run."""
    path = tmp_path_factory.mktemp("app") / "coop.duckdb"
    db.connect(path).close()
    old = os.environ.get(db.ENV_VAR)
    os.environ[db.ENV_VAR] = str(path)
    try:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
        yield FirstStart(
            path,
            tuple(i.value for i in at.info),
            tuple(t.value for t in at.toast),
            tuple(str(e.value) for e in at.exception),
        )
    finally:
        if old is None:
            os.environ.pop(db.ENV_VAR, None)
        else:
            os.environ[db.ENV_VAR] = old


def open_page(page: str) -> AppTest:
    """An AppTest of the whole app switched to `page` and run once."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    """The shown value of the metric with this label."""
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}; have {[m.label for m in at.metric]}"
    return found[0]


def dollars(text: str) -> float:
    """'$1,234' -> 1234.0."""
    return float(text.replace("$", "").replace(",", ""))


def frame_with(at: AppTest, column: str) -> pl.DataFrame:
    """The first dataframe on the page that has `column` (as Polars)."""
    for df in at.dataframe:
        value = df.value
        if column in value.columns:
            return pl.from_pandas(value)
    raise AssertionError(f"no table with column {column!r}")


def library_metrics(path: Path, start: date | None = None, end: date | None = None) -> compute.Metrics:
    """The figures the library computes (a second connection in this process to the app's database)."""
    con = db.connect(path)
    try:
        return compute.compute(con, start, end)
    finally:
        con.close()


def test_first_start_loads_the_sample_and_says_so(app_db: FirstStart) -> None:
    assert not app_db.exceptions
    assert any("sample co-op" in t for t in app_db.toasts), app_db.toasts
    assert any("sample co-op" in i for i in app_db.infos), app_db.infos
    m = library_metrics(app_db.path)
    assert m.districts.height == 7
    assert m.coop["lines"][0] >= 20_000


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_without_exception_or_error(app_db: FirstStart, page: str) -> None:
    at = open_page(page)
    assert at.title, f"{page} shows no title"
    assert not at.error, [e.value for e in at.error]
    assert at.caption, f"{page} states no units, period or definition"


def test_overview_kpis_are_the_library_figures(app_db: FirstStart) -> None:
    at = open_page("pages/overview.py")
    m = library_metrics(app_db.path)
    coop = m.coop.row(0, named=True)
    assert dollars(metric(at, "Total food spend")) == pytest.approx(coop["total_spend"], abs=1.0)
    assert metric(at, "Local share") == f"{coop['local_share']:.1%}"
    assert metric(at, "Districts reporting") == "7 of 7"
    table = frame_with(at, "local_share")
    assert table.height == 7
    assert table["total_spend"].sum() == pytest.approx(coop["total_spend"], abs=0.01)


def test_district_filter_changes_figures_and_persists_across_pages(app_db: FirstStart) -> None:
    m = library_metrics(app_db.path)
    one = m.districts.sort("total_spend")[names.DISTRICT_ID][0]
    expected = m.districts.filter(pl.col(names.DISTRICT_ID) == one).row(0, named=True)
    at = open_page("pages/overview.py")
    before = metric(at, "Total food spend")
    at.multiselect(key="_w_districts").set_value([one]).run()
    assert not at.exception
    assert metric(at, "Total food spend") != before
    assert dollars(metric(at, "Total food spend")) == pytest.approx(expected["total_spend"], abs=1.0)
    assert metric(at, "Local share") == f"{expected['local_share']:.1%}"
    assert metric(at, "Districts reporting") == "1 of 1"
    at.switch_page("pages/local_spend.py").run()
    assert not at.exception
    assert at.multiselect(key="_w_districts").value == [one]
    assert frame_with(at, "local_share")[names.DISTRICT_ID].to_list() == [one]


def test_period_filter_changes_figures(app_db: FirstStart) -> None:
    start, end = date(2025, 9, 1), date(2025, 9, 30)
    m = library_metrics(app_db.path, start, end)
    at = open_page("pages/overview.py")
    at.date_input(key="_w_period").set_value((start, end)).run()
    assert not at.exception
    assert dollars(metric(at, "Total food spend")) == pytest.approx(m.coop["total_spend"][0], abs=1.0)
    assert any("1 Sep 2025 – 30 Sep 2025" in c.value for c in at.caption)


def test_local_spend_views_switch_tables(app_db: FirstStart) -> None:
    at = open_page("pages/local_spend.py")
    assert names.DISTRICT_ID in frame_with(at, "local_share").columns
    at.segmented_control(key="local_view").set_value("Category").run()
    by_category = frame_with(at, "local_share")
    assert set(by_category[names.CATEGORY]) <= set(names.CATEGORIES)
    at.segmented_control(key="local_view").set_value("Route").run()
    assert set(frame_with(at, "share")[names.ROUTE]) == set(ROUTE_LABELS.values())  # the routes in words
    at.radio(key="drill_which").set_value("unknown origin").run()
    lines = frame_with(at, "local_basis")
    assert lines.height > 0
    assert lines["unknown_origin"].all()


def test_premiums_scope_switch(app_db: FirstStart) -> None:
    at = open_page("pages/premiums.py")
    coop_rows = frame_with(at, "premium").height
    district = sorted(library_metrics(app_db.path).districts[names.DISTRICT_ID].to_list())[0]
    at.selectbox(key="premium_scope").set_value(district).run()
    assert not at.exception
    assert frame_with(at, "premium").height != coop_rows
    at.radio(key="premium_by").set_value("Category").run()
    assert not at.exception


def test_optimizer_reproduces_the_paper_and_switching_scenario_changes_meals(app_db: FirstStart) -> None:
    at = open_page("pages/optimizer.py")
    meals = frame_with(at, "reduced_cost")
    plan = dict(zip(meals[names.ROUTE], meals["meals"], strict=True))
    assert plan[ROUTE_LABELS[names.TRADITIONAL_NONLOCAL]] == pytest.approx(46_085, abs=1)  # paper Table 4, BAU
    at.selectbox(key="opt_scenario").set_value("local-25").run()
    assert not at.exception
    meals = frame_with(at, "reduced_cost")
    plan = dict(zip(meals[names.ROUTE], meals["meals"], strict=True))
    assert plan[ROUTE_LABELS[names.TRADITIONAL_LOCAL]] == pytest.approx(11_521, abs=1)  # paper Table 4, 25% Local
    assert plan[ROUTE_LABELS[names.TRADITIONAL_NONLOCAL]] == pytest.approx(34_564, abs=1)
    duals = frame_with(at, "shadow_price")
    price = dict(zip(duals["constraint"], duals["shadow_price"], strict=True))
    assert price[CONSTRAINT_LABELS[names.LOCAL_INTENSITY]] == pytest.approx(0.06, abs=0.01)  # paper Table 5
    assert metric(at, "Meals from local routes") == "25%"


def test_optimizer_incentive_finder_by_hand(app_db: FirstStart) -> None:
    at = open_page("pages/optimizer.py")
    # BAU on the paper's model: traditional local ($1.90) undercuts traditional non-local ($1.84) once a
    # per-meal incentive exceeds $0.06, so $0.06 moves meals (the cheapest local route) onto local routes
    assert any("$0.060 per meal" in s.value for s in at.success), [s.value for s in at.success]
    at.selectbox(key="opt_scenario").set_value("local-25").run()
    assert any("No extra incentive needed" in s.value for s in at.success)


def test_optimizer_sensitivity_has_ten_runs(app_db: FirstStart) -> None:
    at = open_page("pages/optimizer.py")
    at.button(key="opt_run_sensitivity").click().run()
    assert not at.exception
    runs = frame_with(at, "varied")
    assert runs.height == 10
    assert set(runs["factor"]) == {0.5, 1.5}


def test_optimizer_district_model(app_db: FirstStart) -> None:
    at = open_page("pages/optimizer.py")
    paper_cost = metric(at, "Total cost")
    district = sorted(library_metrics(app_db.path).districts[names.DISTRICT_ID].to_list())[0]
    at.selectbox(key="opt_source").set_value(district).run()
    assert not at.exception
    assert any("calibrated" in c.value for c in at.caption)
    assert metric(at, "Total cost") != paper_cost


def test_buying_power_savings_and_fair_split(app_db: FirstStart) -> None:
    at = open_page("pages/buying_power.py")
    ids = sorted(library_metrics(app_db.path).districts[names.DISTRICT_ID].to_list())[:3]
    at.multiselect(key="_w_districts").set_value(ids).run()
    assert not at.exception
    alone, together = dollars(metric(at, "Buying alone")), dollars(metric(at, "Buying together"))
    assert together <= alone + 1
    assert dollars(metric(at, "Savings")) == pytest.approx(alone - together, abs=2)
    at.button(key="pool_split_run").click().run()
    assert not at.exception
    checks = frame_with(at, "known_weakness")
    assert {"proportional", "shapley"} <= set(checks["method"])
    split = frame_with(at, "standalone_cost")
    assert sorted(split["district"]) == ids
    assert split["shapley"].sum() == pytest.approx(together, abs=2)


def test_buying_power_states_the_exact_shapley_limit_it_uses(app_db: FirstStart, monkeypatch) -> None:
    from coop.optimize import allocate

    monkeypatch.setattr(allocate, "DEFAULT_EXACT", 12)
    at = open_page("pages/buying_power.py")
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "up to 12 members" in captions and "up to 10 members" not in captions


def test_rules_bid_scorer_seed_example(app_db: FirstStart) -> None:
    at = open_page("pages/rules.py")
    # seed 004: 10 points among the 3 lowest: Bidder 2 evaluates at $2.00, Bidder 1 ($1.97) wins
    assert metric(at, "Winner (pays its own bid)") == "Bidder 1"
    ranking = frame_with(at, "evaluated_price")
    assert dict(zip(ranking["bidder"], ranking["evaluated_price"], strict=True))["Bidder 2"] == pytest.approx(2.00)
    at.radio(key="bids_kind").set_value("percent").run()
    # 10% off $2.10 = $1.89 < $1.97
    assert metric(at, "Winner (pays its own bid)") == "Bidder 2"
    at.text_input(key="classify_text").set_value("CRUMBLES BEEF").run()
    assert metric(at, "Unprocessed?") == "no"
    assert metric(at, "Category") == "protein"


def test_rules_buy_american_flags_the_district_over_the_cap_and_records_an_exception(app_db: FirstStart) -> None:
    at = open_page("pages/rules.py")
    at.selectbox(key="ba_year").set_value(2025).run()
    assert not at.exception, [e.value for e in at.exception]
    assert metric(at, "Cap in force") == "10%"
    assert metric(at, "Districts over the cap") == "1"  # big_stone (data/sample/README.md)
    assert any("big_stone" in w.value and "over the 10% cap" in w.value for w in at.warning)
    shares = frame_with(at, "non_domestic_share")
    assert dict(zip(shares["district_id"], shares["status"], strict=True))["big_stone"] == "over cap"
    at.selectbox(key="ba_district").set_value("north_woods")
    at.text_input(key="ba_product").set_value("mangoes")
    at.text_input(key="ba_reason").set_value("not produced in the US in sufficient quantity")
    at.text_input(key="ba_approved_by").set_value("food service director")
    at.button[[b.label for b in at.button].index("Record exception")].click().run()
    assert not at.exception, [e.value for e in at.exception]
    exceptions = frame_with(at, "approved_by")
    assert "mangoes" in exceptions["product"].to_list()


def test_rules_procurement_records_check_the_entered_quotes(app_db: FirstStart) -> None:
    at = open_page("pages/rules.py")
    assert metric(at, "Procurements") == "1"  # the example quote sheet: one procurement, no quote yet
    assert metric(at, "Incomplete records") == "1"
    records = frame_with(at, "problems")
    assert "micro-purchase needs its price documented" in records["problems"][0]
    assert {b.label for b in at.download_button} >= {"Worksheet (HTML, printable)", "Worksheet (XLSX)"}


def test_packet_census_export(app_db: FirstStart) -> None:
    at = open_page("pages/packet.py")
    at.selectbox(key="census_year").set_value(2025).run()
    assert not at.exception, [e.value for e in at.exception]
    assert {b.label for b in at.download_button} >= {"Census figures (CSV)", "Census figures (XLSX)", "Mapping (CSV)"}
    figures = frame_with(at, "total_food_cost")
    lib = library_metrics(app_db.path, date(2025, 7, 1), date(2026, 6, 30)).districts
    expected = dict(zip(lib[names.DISTRICT_ID], lib["total_spend"], strict=True))
    for district_id, total in zip(figures["district_id"], figures["total_food_cost"], strict=True):
        assert total == pytest.approx(expected[district_id], abs=0.005)


def packet_preview(at: AppTest) -> str:
    """The HTML the packet page previews (its iframe's document)."""
    frames = [e for e in at.main if e.type == "iframe"]
    assert frames, "the packet page shows no preview"
    return frames[0].proto.srcdoc


def test_packet_preview_is_the_packet_and_follows_the_month(app_db: FirstStart) -> None:
    from coop.report import build, render

    at = open_page("pages/packet.py")
    shown = at.selectbox(key="packet_month").value
    first = packet_preview(at)
    con = db.connect(app_db.path)
    try:
        expected = render.to_html(build.build(con, shown, include_savings=False))
    finally:
        con.close()
    assert first == expected  # the preview is the file the download gives
    earlier = date(shown.year - 1 if shown.month <= 3 else shown.year, (shown.month - 4) % 12 + 1, 1)
    at.selectbox(key="packet_month").set_value(earlier).run()
    assert not at.exception
    assert packet_preview(at) != first and f"{earlier:%B %Y}" in packet_preview(at)
    assert {b.label for b in at.download_button} >= {"Download HTML", "Download Excel (XLSX)"}


def test_intake_strict_load_names_rows_then_skip_then_undo(app_db: FirstStart) -> None:
    district = sorted(library_metrics(app_db.path).districts[names.DISTRICT_ID].to_list())[0]
    csv = (
        b"Invoice Date,Vendor,Item Description,Qty,UOM,Unit Price,Ext Price,Origin State,Vendor Type\n"
        b'2025-03-03,Page Test Farm,"Apples, Gala, 88ct",10,LB,1.50,15.00,MN,producer\n'
        b"2025-03-04,Page Test Farm,Carrots whole,-20,LB,0.80,16.00,MN,producer\n"
    )
    at = open_page("pages/intake.py")
    at.file_uploader[0].set_value(("page-test.csv", csv, "text/csv")).run()
    assert not at.exception
    mapping = frame_with(at, "maps to")
    assert dict(zip(mapping["source column"], mapping["maps to"], strict=True))["Qty"] == names.QUANTITY
    preview = frame_with(at, "commodity (inferred)")
    assert preview["commodity (inferred)"].to_list() == ["apples", "carrots"]
    assert preview["category (inferred)"].to_list() == ["fruit", "vegetable"]
    at.selectbox(key="intake_district").set_value(district).run()
    at.button(key="intake_load").click().run()
    assert not at.exception
    assert any("nothing loaded" in e.value for e in at.error)
    problems = frame_with(at, "reason")
    assert problems.filter(pl.col("column") == "Qty")["row"].to_list() == [3]
    at.toggle(key="intake_skip").set_value(True)
    at.button(key="intake_load").click().run()
    assert not at.exception
    assert any("loaded 1 line(s)" in s.value and "1 row(s) rejected" in s.value for s in at.success)
    batches = frame_with(at, names.ROWS_REJECTED)
    newest = batches.row(0, named=True)
    assert newest[names.FILE_NAME] == "page-test.csv" and newest[names.ROWS_LOADED] == 1
    at.selectbox(key="undo_batch").set_value(newest[names.BATCH_ID])
    at.checkbox(key="undo_confirm").check().run()
    at.button(key="undo_run").click().run()
    assert not at.exception
    assert newest[names.BATCH_ID] not in frame_with(at, names.ROWS_REJECTED)[names.BATCH_ID].to_list()


def test_goal_edit_changes_the_overview(app_db: FirstStart) -> None:
    at = open_page("pages/intake.py")
    at.number_input(key="goal_share").set_value(30.0)
    at.date_input(key="goal_date").set_value(date(2028, 6, 30))
    at.button(key="goal_save").click().run()
    assert not at.exception
    at.switch_page("pages/overview.py").run()
    assert any("vs 30% goal" in (m.proto.delta or "") for m in at.metric)
    at.switch_page("pages/intake.py").run()
    at.number_input(key="goal_share").set_value(25.0)
    at.date_input(key="goal_date").set_value(date(2027, 6, 30))
    at.button(key="goal_save").click().run()
    at.switch_page("pages/overview.py").run()
    assert any("vs 25% goal" in (m.proto.delta or "") for m in at.metric)


def test_intake_loads_the_real_distributor_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real 'District Usage by Item' report (30 districts, 9,619 lines) loads through the intake page."""
    from tests.conftest import REAL

    report = next(REAL.glob("*.xlsx"), None) if REAL.exists() else None
    if report is None:
        pytest.skip(f"the real distributor report is not in {REAL}")
    path = tmp_path / "real.duckdb"
    con = db.connect(path)
    districts_csv = tmp_path / "districts.csv"
    districts_csv.write_text("district_id,name,state,zip\nplaceholder,Placeholder District,CA,91776\n")
    from coop.registry import districts

    districts.upsert_from_csv(con, districts_csv)  # a registered district: the app does not load the sample
    con.close()
    monkeypatch.setenv(db.ENV_VAR, str(path))
    at = open_page("pages/intake.py")
    at.file_uploader[0].set_value((report.name, report.read_bytes(), "application/octet-stream")).run()
    assert not at.exception
    assert at.button(key="usage_load")  # recognised as a usage report, not a plain file
    at.button(key="usage_load").click().run()
    assert any("unknown district" in e.value or "nothing loaded" in e.value for e in at.error)
    unknown = frame_with(at, "reason")
    assert unknown.height == 30 and set(unknown["column"]) == {"(district block)"}
    at.toggle(key="usage_add").set_value(True).run()
    at.text_input(key="usage_state").set_value("CA")
    at.text_input(key="usage_zip").set_value("91776")
    at.button(key="usage_load").click().run()
    assert not at.exception
    assert any("loaded 9,619 line(s)" in s.value for s in at.success), [s.value for s in at.success]
    con = db.connect(path)
    try:
        ((total,),) = con.execute(f"SELECT sum({names.EXTENDED_PRICE}) FROM {names.PURCHASES}").fetchall()
    finally:
        con.close()
    assert str(total) == "17683041.05"
    # the report's one period is spread over its days: a half year shows half, and says it is allocated
    at.switch_page("pages/overview.py").run()
    at.date_input(key="_w_period").set_value((date(2019, 7, 1), date(2019, 12, 31))).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("allocated from period totals" in i.value for i in at.info), [i.value for i in at.info]
    assert metric(at, "Districts reporting") == "30 of 31"  # the placeholder district has no lines


def test_intake_shows_one_problem_for_unregistered_vendors_and_offers_a_vendors_file(app_db: FirstStart) -> None:
    district = sorted(library_metrics(app_db.path).districts[names.DISTRICT_ID].to_list())[0]
    rows = b"".join(b"2025-03-0%d,Nowhere Orchard,Apples %d,10,LB,1.50,15.00\n" % (1 + i % 9, i) for i in range(40))
    csv = b"Invoice Date,Vendor,Item Description,Qty,UOM,Unit Price,Ext Price\n" + rows
    at = open_page("pages/intake.py")
    at.file_uploader[0].set_value(("orchard.csv", csv, "text/csv")).run()
    at.selectbox(key="intake_district").set_value(district).run()
    at.button(key="intake_load").click().run()
    assert not at.exception
    grouped = frame_with(at, "problem")
    assert grouped.height == 1 and grouped.row(0, named=True)["rows"] == "2-41" and grouped["count"].to_list() == [40]
    assert "'Nowhere Orchard'; register all of them" in grouped["problem"][0]
    assert frame_with(at, "reason").height == 40  # every row's problem, as the CSV download has them
    assert "Download the unregistered vendors as a vendors file" in {b.label for b in at.download_button}


def batch_frame(at: AppTest) -> pl.DataFrame:
    """The Batches (undo) tab's table."""
    return frame_with(at, names.ROWS_REJECTED)


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    """Put a file in the intake page's uploader and run."""
    at.file_uploader[0].set_value((name, content, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_intake_undo_disarms_after_use_and_the_picker_follows_the_newest_batch(app_db: FirstStart) -> None:
    district = sorted(library_metrics(app_db.path).districts[names.DISTRICT_ID].to_list())[0]
    csv = (
        b"Invoice Date,Vendor,Item Description,Qty,UOM,Unit Price,Ext Price,Origin State,Vendor Type\n"
        b"2025-03-05,Undo Test Farm,Carrots whole,20,LB,0.80,16.00,MN,producer\n"
    )
    at = upload(open_page("pages/intake.py"), "undo-test.csv", csv)
    before = batch_frame(at)[names.BATCH_ID].to_list()
    assert at.selectbox(key="undo_batch").value == before[0]
    at.selectbox(key="undo_batch").set_value(before[-1]).run()  # the picker left on an old batch
    at.selectbox(key="intake_district").set_value(district).run()
    at.button(key="intake_load").click().run()
    assert any("loaded 1 line(s)" in s.value for s in at.success), [s.value for s in at.success]
    newest = batch_frame(at)[names.BATCH_ID][0]
    assert newest not in before
    assert at.selectbox(key="undo_batch").value == newest  # follows the batch just loaded
    at.checkbox(key="undo_confirm").check().run()
    assert not at.button(key="undo_run").disabled
    at.button(key="undo_run").click().run()
    assert not at.exception
    assert any(f"Batch {newest} removed (1 purchase line(s))" in s.value for s in at.success)
    assert batch_frame(at)[names.BATCH_ID].to_list() == before
    assert at.checkbox(key="undo_confirm").value is False  # disarmed: one more click removes nothing
    assert at.button(key="undo_run").disabled
    assert at.selectbox(key="undo_batch").value == before[0]


def test_intake_file_with_its_own_district_column_loads_without_choosing(app_db: FirstStart) -> None:
    ids = sorted(library_metrics(app_db.path).districts[names.DISTRICT_ID].to_list())
    csv = (
        "district_id,Invoice Date,Vendor,Item Description,Qty,UOM,Unit Price,Ext Price,Origin State,Vendor Type\n"
        f"{ids[-1]},2025-03-06,Column Test Farm,Carrots whole,20,LB,0.80,16.00,MN,producer\n"
        f"{ids[-2]},2025-03-06,Column Test Farm,Apples,10,LB,1.50,15.00,MN,producer\n"
    ).encode()
    at = upload(open_page("pages/intake.py"), "district-column.csv", csv)
    from ui import intake

    assert at.selectbox(key="intake_district").value == intake.FROM_FILE  # the default: the file's own column
    at.button(key="intake_load").click().run()
    assert not at.error, [e.value for e in at.error]
    assert any("loaded 2 line(s)" in s.value and "0 row(s) rejected" in s.value for s in at.success)
    newest = batch_frame(at).row(0, named=True)
    assert newest[names.FILE_NAME] == "district-column.csv"
    at.checkbox(key="undo_confirm").check().run()
    at.button(key="undo_run").click().run()
    assert newest[names.BATCH_ID] not in batch_frame(at)[names.BATCH_ID].to_list()


def test_intake_file_without_a_district_waits_for_one(app_db: FirstStart) -> None:
    csv = b"Invoice Date,Vendor,Item Description,Qty,UOM,Unit Price,Ext Price\n2025-03-06,F,Carrots,1,LB,1,1\n"
    at = upload(open_page("pages/intake.py"), "no-district.csv", csv)
    assert at.selectbox(key="intake_district").value is None  # no district is guessed
    assert at.button(key="intake_load").disabled


def test_intake_all_invalid_file_creates_no_batch_and_the_corrected_file_loads(app_db: FirstStart) -> None:
    district = sorted(library_metrics(app_db.path).districts[names.DISTRICT_ID].to_list())[0]
    header = b"Invoice Date,Vendor,Item Description,Qty,UOM,Unit Price,Ext Price,Origin State,Vendor Type\n"
    bad = header + b"2025-03-07,Fix Test Farm,Carrots whole,-20,LB,0.80,16.00,MN,producer\n"
    at = upload(open_page("pages/intake.py"), "fix-test.csv", bad)
    before = batch_frame(at)[names.BATCH_ID].to_list()
    at.selectbox(key="intake_district").set_value(district).run()
    at.toggle(key="intake_skip").set_value(True)
    at.button(key="intake_load").click().run()
    assert not at.exception
    assert any("nothing loaded" in e.value for e in at.error), [e.value for e in at.error]
    assert batch_frame(at)[names.BATCH_ID].to_list() == before  # no empty batch
    good = header + b"2025-03-07,Fix Test Farm,Carrots whole,20,LB,0.80,16.00,MN,producer\n"
    at = upload(at, "fix-test.csv", good)
    at.selectbox(key="intake_district").set_value(district).run()
    at.button(key="intake_load").click().run()
    assert any("loaded 1 line(s)" in s.value for s in at.success), [s.value for s in at.success]
    newest = batch_frame(at).row(0, named=True)
    assert newest[names.FILE_NAME] == "fix-test.csv" and newest[names.BATCH_ID] not in before
    at.checkbox(key="undo_confirm").check().run()
    at.button(key="undo_run").click().run()
    assert batch_frame(at)[names.BATCH_ID].to_list() == before


def test_intake_reasons_are_for_web_users(app_db: FirstStart) -> None:
    ids = sorted(library_metrics(app_db.path).districts[names.DISTRICT_ID].to_list())
    csv = (
        b"district_id,Invoice Date,Vendor,Item Description,Qty,UOM,Unit Price,Ext Price,Origin State,Vendor Type\n"
        b"nowhere,2025-03-06,Web Test Farm,Carrots whole,20,LB,0.80,16.00,MN,producer\n"
    )
    at = upload(open_page("pages/intake.py"), "web-words.csv", csv)
    at.selectbox(key="intake_district").set_value(ids[0]).run()
    at.button(key="intake_load").click().run()
    words = " ".join(e.value for e in at.error) + " " + " ".join(frame_with(at, "reason")["reason"].to_list())
    assert "unknown district" in words or "differs" in words, words
    assert "python -m coop" not in words and "--district" not in words, words


def test_buying_power_savings_carry_their_basis_and_what_if_arrows_follow_the_sign(app_db: FirstStart) -> None:
    ids = sorted(library_metrics(app_db.path).districts[names.DISTRICT_ID].to_list())[:3]
    at = open_page("pages/buying_power.py")
    at.multiselect(key="_w_districts").set_value(ids).run()
    assert not at.exception
    beside = " ".join(c.value for c in at.caption)
    assert re.search(r"Modelled on assumed price terms \(0 of \d+ offers quoted\)", beside), beside
    assert "Least cost found and proven" in beside
    savings = next(m for m in at.metric if m.label == "Savings")
    assert "assumed price terms" in savings.proto.help
    at.radio(key="pool_whatif").set_value("leave").run()
    at.selectbox(key="pool_whatif_district").set_value(ids[0])
    at.button(key="pool_whatif_run").click().run()
    assert not at.exception
    for label in ("Pooled cost", "Savings vs buying alone"):
        shown = next(m for m in at.metric if m.label == label).proto
        change = shown.delta
        assert re.fullmatch(r"[+-]\$[\d,]+", change), change
        up = Metric.MetricDirection.UP
        assert (shown.direction == up) == change.startswith("+"), (label, change, shown.direction)


# --- what every table shows (Streamlit draws tables on a canvas the browser test cannot read) -------------------
RAW_IDS = (*names.ROUTES, *names.CONSTRAINTS)
MISSING = re.compile(r"^(None|nan|NaN|NaT|null)$")
# the buttons that reveal more tables, per page
REVEAL = {
    "pages/optimizer.py": ("opt_run_sensitivity",),
    "pages/buying_power.py": ("pool_split_run", "pool_whatif_run"),
}


def shown_columns(df: object) -> list[str]:
    """The columns a table shows: its column order (or all), minus the hidden ones."""
    config = json.loads(df.proto.columns or "{}")  # type: ignore[attr-defined]
    columns = list(df.proto.column_order) or list(df.value.columns)  # type: ignore[attr-defined]
    return [c for c in columns if (config.get(c) or {}).get("hidden") is not True]


def table_problems(at: AppTest, where: str) -> list[str]:
    """What is wrong in the page's tables: a raw id or None/NaN shown, a column without words or a format."""
    wrong: list[str] = []
    for i, df in enumerate(at.dataframe):
        config = json.loads(df.proto.columns or "{}")
        frame = df.value
        editor = df.editing_mode != "read_only"
        if not df.proto.HasField("placeholder"):
            wrong.append(f"{where} table {i}: missing values would show as 'None'")
        for column in shown_columns(df):
            conf = config.get(column) or {}
            label = conf.get("label") or column
            kind = (conf.get("type_config") or {}).get("type")
            options = [o.get("label", o) for o in (conf.get("type_config") or {}).get("options", [])]
            if "_" in label or label in RAW_IDS:
                wrong.append(f"{where} table {i}: column {column!r} headed {label!r}")
            values = frame[column]
            if kind == "selectbox":
                texts = [str(o) for o in options]
            elif values.dtype == object or str(values.dtype) in ("string", "str"):
                texts = [str(v) for v in values.dropna().tolist() if isinstance(v, str)]
            else:
                texts = []
            if kind == "selectbox" or values.dtype == object or str(values.dtype) in ("string", "str"):
                wrong += [f"{where} table {i}: {column!r} shows raw id {t!r}" for t in set(texts) if t in RAW_IDS]
                wrong += [f"{where} table {i}: {column!r} shows {t!r}" for t in set(texts) if MISSING.match(t)]
            formatted = kind in ("number", "progress") and (conf.get("type_config") or {}).get("format")
            if not editor and str(values.dtype).startswith(("float", "int", "uint")) and not formatted:
                wrong.append(f"{where} table {i}: number column {column!r} has no format")
            if not editor and str(values.dtype).startswith("datetime") and kind not in ("date", "datetime"):
                wrong.append(f"{where} table {i}: date column {column!r} would show its time (00:00:00)")
            if column == "school_year" and texts and not all(re.fullmatch(r"\d{4}-\d{2}", t) for t in texts):
                wrong.append(f"{where} table {i}: school years {set(texts)} not written 2025-26")
    return wrong


@pytest.mark.parametrize("page", [p for p in PAGES if p != "pages/intake.py"])
def test_every_table_on_every_page_is_in_words_formatted_and_never_says_none(app_db: FirstStart, page: str) -> None:
    at = open_page(page)
    for key in REVEAL.get(page, ()):
        at.button(key=key).click().run()
        assert not at.exception, [e.value for e in at.exception]
    assert at.dataframe, f"{page} shows no table"
    wrong = table_problems(at, page)
    assert not wrong, "\n".join(wrong)


def test_the_intake_pages_own_tables_never_say_none(app_db: FirstStart) -> None:
    at = open_page("pages/intake.py")
    assert at.dataframe and all(df.proto.HasField("placeholder") for df in at.dataframe)


def test_rules_thresholds_are_the_coops_states_and_cite_documents(app_db: FirstStart) -> None:
    at = open_page("pages/rules.py")
    con = db.connect(app_db.path)
    try:
        states = {s for (s,) in con.execute(f"SELECT DISTINCT {names.STATE} FROM {names.DISTRICTS}").fetchall()}
    finally:
        con.close()
    rules = frame_with(at, "effective_date")
    shown_states = set(rules.filter(pl.col("jurisdiction") == "state")["scope"].to_list())
    assert "AL" not in shown_states and shown_states <= states, shown_states
    assert set(rules["jurisdiction"]) >= {"federal"}
    texts = [t for df in at.dataframe for c in ("source", "reason") if c in df.value.columns for t in df.value[c]]
    texts += [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert texts and not [t for t in texts if isinstance(t, str) and re.search(r"\bseed 0\d\d", t, re.I)]
    assert any("Procuring Local Fruits and Vegetables" in t for t in texts if isinstance(t, str))
    at.text_input(key="classify_text").set_value("CRUMBLES BEEF").run()
    said = " ".join([m.value for m in at.markdown] + [c.value for c in at.caption])
    assert "Source:" in said and not re.search(r"\bseed 0\d\d", said, re.I), said


def test_optimizer_charts_keep_their_plot_height_and_the_six_scenarios_are_all_there(app_db: FirstStart) -> None:
    at = open_page("pages/optimizer.py")
    specs = [json.loads(e.proto.spec) for e in at.main.get("vega_lite_chart")]
    assert specs
    for spec in specs:  # fit-x: the width fits the page, the title and legend add height instead of taking it
        assert spec["autosize"]["type"] == "fit-x", spec["title"]
        assert spec["height"] >= 160, spec["title"]
    (six,) = [s for s in specs if s["title"]["text"] == "Meals per route by scenario"]
    assert len(six["layer"][0]["encoding"]["y"]["scale"]["domain"]) == 6


def test_optimizer_infeasible_scenario_is_labelled_not_dropped(app_db: FirstStart) -> None:
    from coop.optimize import paper
    from coop.report import charts as charts_lib
    from ui import optimizer as op

    # at $0.10 a meal no route yields the economic-impact scenario's $3.50 of output per meal: no plan exists
    cheap = paper.paper_model().with_costs(dict.fromkeys(names.ROUTES, 0.10), meals=paper.PAPER_MEALS, source="test")
    compared = op.compare_scenarios(cheap)
    assert compared["series"].n_unique() == 6 and compared.height == 6 * len(names.ROUTES)  # none dropped
    unsolved = compared.filter(pl.col("meals").is_null())
    assert unsolved.height and set(unsolved["status"]) == {"infeasible"}
    spec = charts_lib.scenario_meals(compared, scenario="six", definition="d").to_dict()
    labelled = spec["datasets"][spec["layer"][1]["data"]["name"]]
    assert {r["series"] for r in labelled} == set(unsolved["series"]) and "infeasible" in labelled[0]["label"]


def test_optimizer_incentive_words_match_the_curves_step(app_db: FirstStart) -> None:
    at = open_page("pages/optimizer.py")
    said = " ".join(s.value for s in at.success)
    assert "moves at least" not in said
    assert "$0.060 per meal" in said and "100%" in said and "does not move any meals" in said, said


def test_packet_names_carry_their_district_id_on_hover(app_db: FirstStart) -> None:
    at = open_page("pages/packet.py")
    html = packet_preview(at)
    con = db.connect(app_db.path)
    try:
        registered = dict(con.execute(f"SELECT {names.NAME}, {names.DISTRICT_ID} FROM {names.DISTRICTS}").fetchall())
    finally:
        con.close()
    hovered = dict(re.findall(r'<td class="t" title="([^"]+)">([^<]+)</td>', html))
    assert hovered and all(registered.get(name) == district_id for district_id, name in hovered.items()), hovered


def chart_rows(element: object) -> list[dict]:
    """Every row a drawn chart's datasets hold (Streamlit sends them beside the spec, as Arrow)."""
    from streamlit import dataframe_util

    rows: list[dict] = []
    for named in element.proto.datasets:  # type: ignore[attr-defined]
        rows += dataframe_util.convert_arrow_bytes_to_pandas_df(named.data.data).to_dict("records")
    return rows


def test_overview_and_local_spend_draw_unknown_origin_spend_in_its_own_colour(app_db: FirstStart) -> None:
    from coop.report import charts as charts_lib

    unknown = library_metrics(app_db.path).coop["unknown_origin_spend"][0]
    assert unknown > 0
    at = open_page("pages/overview.py")
    (route,) = [
        e
        for e in at.main.get("vega_lite_chart")
        if json.loads(e.proto.spec)["title"]["text"] == "Spend by supply-chain route"
    ]
    rows = [r for r in chart_rows(route) if r.get("part") == charts_lib.UNKNOWN_ORIGIN_LABEL]
    assert sum(r["spend"] for r in rows) == pytest.approx(float(unknown), abs=0.01)
    at.switch_page("pages/local_spend.py").run()
    (share,) = at.main.get("vega_lite_chart")
    assert {r["part"] for r in chart_rows(share)} == {"Local", "Not local", charts_lib.UNKNOWN_ORIGIN_LABEL}
