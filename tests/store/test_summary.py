"""coop.summary: the purchase summary kept on load gives the same metrics as the lines, to the cent, for every range."""

from __future__ import annotations

import json
from datetime import date, timedelta

import duckdb
import polars as pl
import pytest
from fixtures_metrics import DAY0, carrot_lines, insert, lines_frame, load, random_lines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from coop import cli, names
from coop.errors import ValidationError
from coop.ingest import pipeline, sink
from coop.metrics import compute
from coop.store import batches, db, summary

# frames made only of whole cents and ratios of cents: equal exactly; the premium frames divide by summed quantities
EXACT = (
    "districts", "coop", "by_month", "by_category", "by_route", "unpriced", "vendors", "route_category", "trajectory",
    "goal",
)  # fmt: skip
APPROX = ("premiums", "category_premiums", "route_premiums")


def assert_same_metrics(con: duckdb.DuckDBPyConnection, date_from: date | None, date_to: date | None) -> None:
    """Metrics from the summary (whole months) equal metrics from every line, for the inclusive range."""
    fast = compute.compute(con, date_from, date_to)
    slow = compute.compute(con, date_from, date_to, use_summary=False)
    assert fast.from_summary and not slow.from_summary
    for name in EXACT:
        assert_frame_equal(getattr(fast, name), getattr(slow, name), check_exact=True)
    for name in APPROX:
        assert_frame_equal(getattr(fast, name), getattr(slow, name), rel_tol=1e-9, abs_tol=1e-12)
    fast_json, slow_json = fast.to_json(), slow.to_json()
    assert (fast_json["districts"], fast_json["coop"]) == (slow_json["districts"], slow_json["coop"])


def totals(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int, int]:
    """(purchase lines, purchase cents, summary rows, summary cents of the shares grain)."""
    ((lines, cents),) = con.execute(
        f"SELECT count(*), coalesce(sum({names.EXTENDED_PRICE}) * 100, 0)::BIGINT FROM {names.PURCHASES}"
    ).fetchall()
    ((rows, summarised),) = con.execute(
        f"SELECT count(*), coalesce(sum({names.SPEND_CENTS}) FILTER (WHERE {names.GRAIN} = 'shares'), 0)::BIGINT "
        f"FROM {names.PURCHASE_SUMMARY}"
    ).fetchall()
    return int(lines), int(cents), int(rows), int(summarised)


# --- month arithmetic -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("date_from", "date_to", "whole", "edges"),
    [
        (date(2024, 1, 15), date(2024, 3, 10), (date(2024, 2, 1), date(2024, 3, 1)),
         [(date(2024, 1, 15), date(2024, 1, 31)), (date(2024, 3, 1), date(2024, 3, 10))]),
        (date(2024, 1, 1), date(2024, 1, 31), (date(2024, 1, 1), date(2024, 2, 1)), []),
        (date(2024, 2, 1), date(2024, 2, 29), (date(2024, 2, 1), date(2024, 3, 1)), []),  # leap year
        (date(2024, 1, 15), date(2024, 2, 10), None, [(date(2024, 1, 15), date(2024, 2, 10))]),
        (None, date(2024, 3, 10), (None, date(2024, 3, 1)), [(date(2024, 3, 1), date(2024, 3, 10))]),
        (date(2024, 12, 2), None, (date(2025, 1, 1), None), [(date(2024, 12, 2), date(2024, 12, 31))]),
        (None, None, (None, None), []),
    ],
)  # fmt: skip
def test_whole_months_and_part_month_edges(date_from, date_to, whole, edges):
    assert summary.whole_months(date_from, date_to) == whole
    assert summary.edge_ranges(date_from, date_to) == edges


# --- the hand-built co-op ---------------------------------------------------------------------------------------
@pytest.fixture
def built(con):
    """The hand-built co-op of tests/fixtures_metrics.py with its summary rebuilt from the lines."""
    load(con)
    state = db.rebuild_summary(con)
    assert state["current"] and state["lines_summarised"] == 18
    return con


@pytest.mark.parametrize(
    ("date_from", "date_to"),
    [
        (None, None),
        (date(2024, 1, 1), date(2024, 3, 31)),
        (date(2024, 1, 15), date(2024, 3, 10)),  # both edges cut a month
        (date(2024, 2, 10), date(2024, 2, 10)),  # one day
        (date(2024, 1, 16), date(2024, 2, 28)),  # no whole month
        (None, date(2024, 2, 5)),
        (date(2024, 3, 15), None),
        (date(2023, 12, 20), date(2024, 4, 10)),  # bounds beyond the data cut no month
    ],
)
def test_summary_equals_lines_on_the_hand_built_coop(built, date_from, date_to):
    assert_same_metrics(built, date_from, date_to)


def test_summary_totals_to_the_cent(built):
    m = compute.compute(built, date(2024, 1, 15), date(2024, 2, 10))
    assert m.from_summary
    assert m.coop.row(0, named=True)["total_spend"] == 594.01  # 120 + 90 + 20 + 200 + 40 + 60 + 10.01 + 24 + 30
    # lines, cents and unpriced lines per grain are those of the lines
    ((lines, cents, unpriced),) = built.execute(
        f"SELECT sum({names.LINES}), sum({names.SPEND_CENTS}), sum({names.UNPRICED_LINES}) "
        f"FROM {names.PURCHASE_SUMMARY} WHERE {names.GRAIN} = ? AND {names.MONTH} IS NOT NULL",
        [summary.GRAIN_VENDORS],
    ).fetchall()
    assert (lines, cents, unpriced) == (18, 97685, 2)
    # the all-months totals of the prices grain hold the same lines and cents
    ((lines, cents, unpriced),) = built.execute(
        f"SELECT sum({names.LINES}), sum({names.SPEND_CENTS}), sum({names.UNPRICED_LINES}) "
        f"FROM {names.PURCHASE_SUMMARY} WHERE {names.GRAIN} = ? AND {names.MONTH} IS NULL",
        [summary.GRAIN_PRICES],
    ).fetchall()
    assert (lines, cents, unpriced) == (18, 97685, 2)


def test_editing_a_district_definition_needs_no_rebuild(built):
    before = compute.compute(built)
    narrow = before.districts.filter(pl.col(names.DISTRICT_ID) == "narrow").row(0, named=True)
    assert narrow["local_spend"] == 20.00  # the farm 121 miles away is outside its 100 miles
    rows_before = totals(built)
    built.execute(
        f"UPDATE {names.DISTRICTS} SET {names.LOCAL_RADIUS_MILES} = 150 WHERE {names.DISTRICT_ID} = ?", ["narrow"]
    )
    after = compute.compute(built)
    assert after.from_summary and totals(built) == rows_before
    narrow = after.districts.filter(pl.col(names.DISTRICT_ID) == "narrow").row(0, named=True)
    assert narrow["local_spend"] == 140.00  # now the farm's $120 of apples is local too
    assert after.coop.row(0, named=True)["local_spend"] == 364.01 + 120.00
    assert_same_metrics(built, None, None)
    assert_same_metrics(built, date(2024, 1, 12), date(2024, 2, 20))


def test_lines_written_around_ingest_make_it_stale_until_rebuilt(built, db_path, capsys):
    extra = lines_frame([(19, "plain", "2024-03-21", "Sysco", "broadline_distributor", "potatoes", "vegetable", 10.0,
                          "lb", "3.00", None, "82001")])  # fmt: skip
    insert(built, names.PURCHASES, extra)
    assert not summary.is_current(built)
    m = compute.compute(built)
    assert not m.from_summary  # read from the lines, so still right
    assert m.coop.row(0, named=True)["total_spend"] == 979.85
    built.close()
    assert cli.main(["summary", "--db", str(db_path), "--json"]) == 0
    state = json.loads(capsys.readouterr().out)
    assert (state["current"], state["purchase_lines"], state["lines_summarised"]) == (False, 19, 18)
    assert cli.main(["summary", "--rebuild", "--db", str(db_path), "--json"]) == 0
    state = json.loads(capsys.readouterr().out)
    assert (state["current"], state["purchase_lines"], state["lines_summarised"]) == (True, 19, 19)
    con = db.connect(db_path)
    try:
        m = compute.compute(con)
        assert m.from_summary and m.coop.row(0, named=True)["total_spend"] == 979.85
    finally:
        con.close()


def test_a_database_from_before_the_summary_keeps_working_and_gets_it(built, db_path):
    for statement in (
        f"DROP TABLE {names.PURCHASE_SUMMARY}",
        f"DROP TABLE {names.SUMMARY_KEYS}",
        f"DROP SEQUENCE {names.SUMMARY_KEY_SEQ}",
    ):
        built.execute(statement)
    built.close()
    reader = db.connect(db_path, read_only=True)  # read-only: no migration, metrics read the lines
    try:
        assert not summary.exists(reader)
        m = compute.compute(reader)
        assert not m.from_summary and m.coop.row(0, named=True)["total_spend"] == 976.85
    finally:
        reader.close()
    con = db.connect(db_path)  # read-write: the migration adds the summary, built from the lines
    try:
        assert summary.status(con)["current"]
        assert_same_metrics(con, None, None)
        assert compute.compute(con).coop.row(0, named=True)["total_spend"] == 976.85
    finally:
        con.close()


# --- the sample co-op, loaded through ingest -------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_con(sample_db_file):
    con = db.connect(sample_db_file, read_only=True)
    yield con
    con.close()


def test_sample_coop_summary_is_maintained_by_ingest(sample_con):
    state = summary.status(sample_con)
    assert state["current"] and state["purchase_lines"] == state["lines_summarised"] > 0
    ((batches_summarised,),) = sample_con.execute(
        f"SELECT count(DISTINCT {names.BATCH_ID}) FROM {names.PURCHASE_SUMMARY}"
    ).fetchall()
    assert batches_summarised == batches.list_batches(sample_con).height


@pytest.mark.parametrize(
    ("date_from", "date_to"),
    [
        (None, None),
        (date(2024, 7, 1), date(2025, 6, 30)),  # a school year
        (date(2024, 9, 15), date(2025, 2, 10)),
        (date(2025, 3, 1), date(2025, 3, 31)),
        (date(2025, 11, 3), date(2025, 11, 3)),
        (date(2026, 6, 27), None),
    ],
)
def test_sample_coop_summary_equals_lines(sample_con, date_from, date_to):
    assert_same_metrics(sample_con, date_from, date_to)


# --- undo and failed loads --------------------------------------------------------------------------------------
def _load(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, sha: str) -> pipeline.IngestResult:
    return pipeline.load_frame(con, frame, file_name=f"{sha}.csv", sha256=sha, source_kind="csv", district_id="D1")


@pytest.fixture
def two_batches(con):
    con.execute(f"INSERT INTO {names.DISTRICTS} (district_id, name, state, zip) VALUES ('D1', 'One', 'MN', '55101')")
    a = _load(con, carrot_lines(["2024-09-03", "2024-09-20", "2024-10-02"], "Farm A", origin_state="MN"), "a")
    b = _load(con, carrot_lines(["2024-10-15", "2024-11-05"], "Farm B", "9.50", origin_state="MN"), "b")
    assert totals(con)[:2] == (5, 3 * 800 + 2 * 950)
    return con, a.batch_id, b.batch_id


def test_undo_removes_the_batch_from_the_summary(two_batches):
    con, a, b = two_batches
    assert summary.is_current(con)
    assert_same_metrics(con, date(2024, 9, 10), date(2024, 10, 20))
    batches.undo(con, a)
    ((left,),) = con.execute(
        f"SELECT count(*) FROM {names.PURCHASE_SUMMARY} WHERE {names.BATCH_ID} = ?", [a]
    ).fetchall()
    assert left == 0
    lines, cents, rows, summarised = totals(con)
    assert (lines, cents, summarised) == (2, 1900, 1900) and rows > 0
    m = compute.compute(con)
    assert m.from_summary and m.coop.row(0, named=True)["total_spend"] == 19.00
    assert_same_metrics(con, date(2024, 10, 3), date(2024, 11, 30))
    batches.undo(con, b)
    assert totals(con) == (0, 0, 0, 0) and summary.is_current(con)


def test_a_load_failing_in_its_transaction_leaves_lines_and_summary_as_they_were(two_batches, monkeypatch):
    con, _, _ = two_batches
    before = totals(con)

    def fail(*_args: object) -> list[dict[str, object]]:
        raise RuntimeError("disk full")  # after the lines and their summary rows were written

    monkeypatch.setattr(sink, "_duplicate_warnings", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        _load(con, carrot_lines(["2024-12-01"], "Farm C", origin_state="MN"), "c")
    assert totals(con) == before and summary.is_current(con)
    monkeypatch.undo()
    bad = carrot_lines(["2024-12-01", "2024-12-02"], "Farm C", origin_state="MN").with_columns(
        pl.Series(names.QUANTITY, ["10", "-1"])
    )
    with pytest.raises(ValidationError):
        _load(con, bad, "d")
    assert totals(con) == before and summary.is_current(con)
    assert_same_metrics(con, None, date(2024, 10, 10))


# --- property: any lines, any batches, any range ----------------------------------------------------------------
_day = st.integers(-10, 380).map(lambda d: DAY0 + timedelta(days=d))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    random_lines(365),
    st.integers(1, 3),
    st.one_of(st.none(), _day),
    st.one_of(st.none(), _day),
)
def test_summary_equals_lines_for_any_lines_and_range(con, raw, batch_count, date_from, date_to):
    for table in (names.PURCHASE_LINES, names.PURCHASE_SUMMARY, names.SUMMARY_KEYS, names.DISTRICTS):
        con.execute(f"DELETE FROM {table}")
    load(con, lines=[])
    by_batch: dict[int, list[tuple]] = {}
    for line in raw:  # spread over 1-3 batches
        by_batch.setdefault(1 + line[0] % batch_count, []).append(line)
    for batch, lines in by_batch.items():  # as coop.ingest does: lines and their summary in one transaction
        con.execute("BEGIN TRANSACTION")
        insert(con, names.PURCHASES, lines_frame(lines).with_columns(pl.lit(batch).alias(names.BATCH_ID)))
        summary.add_batch(con, batch)
        con.execute("COMMIT")
    assert summary.is_current(con)
    assert_same_metrics(con, date_from, date_to)


def test_a_summary_that_piled_period_lines_on_their_last_month_is_rebuilt_on_open(db_path, tmp_path):
    """Databases summarised before period lines were spread (every month on the period's end) heal on connect."""
    from fixtures_periods import load_period_report, write_period_report

    from coop import names
    from coop.metrics import compute
    from coop.store import db

    con = db.connect(db_path)
    load_period_report(con, write_period_report(tmp_path / "year.xlsx", date(2020, 7, 1), date(2021, 6, 30)))
    # the old layout: one month (the period's last) holding the year; no layout marker
    con.execute(f"DELETE FROM {names.PURCHASE_SUMMARY} WHERE {names.MONTH} <> DATE '2021-06-01'")
    con.execute(f"DELETE FROM {names.SETTINGS} WHERE {names.SETTING_KEY} = ?", [names.SUMMARY_LAYOUT])
    con.close()
    con = db.connect(db_path)
    try:
        m = compute.compute(con, date(2020, 7, 1), date(2020, 12, 31))
        assert m.from_summary and m.coop["total_spend"][0] == 688.11
    finally:
        con.close()
