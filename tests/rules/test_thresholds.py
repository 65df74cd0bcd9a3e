"""Procurement rules on small hand-built DuckDB files: dated thresholds, methods, split purchases."""

from __future__ import annotations

import json
import zlib
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coop import cli, names
from coop.registry import contracts, districts
from coop.rules import splits, thresholds
from coop.store import lines

SY = names.SCHOOL_YEAR


def _district(con: duckdb.DuckDBPyConnection, district_id: str, state: str = "IA", micro=None, small=None) -> None:
    con.execute(
        f"INSERT INTO {names.DISTRICTS} (district_id, name, state, zip, micro_purchase_threshold, "
        "small_purchase_threshold) VALUES (?, ?, ?, ?, ?, ?)",
        [district_id, district_id.title(), state, "52101", micro, small],
    )


def _line(
    con: duckdb.DuckDBPyConnection,
    district_id: str,
    vendor: str,
    day: date,
    amount: float,
    *,
    invoice_no: str | None = None,
    vendor_type: str = "producer",
    description: str = "Apples, Gala, 88ct",
    unprocessed: bool = True,
    row: int = 2,
) -> None:
    con.execute(  # one line as the purchases view shows it, then stored as loads store it
        "CREATE OR REPLACE TEMP TABLE one_line AS SELECT 1 AS batch_id, ?::INTEGER AS source_row, "
        "?::TEXT AS district_id, ?::DATE AS invoice_date, ?::TEXT AS vendor_name, ?::TEXT AS vendor_type, "
        "?::TEXT AS description, 'apples' AS product, 1.0 AS product_confidence, 'fruit' AS category, "
        "?::BOOLEAN AS unprocessed, 'file' AS unprocessed_rule, 1.0 AS quantity, 'case' AS unit, "
        "?::DOUBLE AS unit_price, ?::DOUBLE AS extended_price, ?::TEXT AS invoice_no, ?::UBIGINT AS line_key, "
        "'IA' AS origin_state",
        [
            row,
            district_id,
            day,
            vendor,
            vendor_type,
            description,
            unprocessed,
            amount,
            amount,
            invoice_no,
            zlib.crc32(f"{district_id}{vendor}{day}{invoice_no}{row}".encode()),  # line_key is a UBIGINT hash
        ],
    )
    lines.store(con, "one_line")


def _frame(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return thresholds.thresholds_from_db(con)


def _row(table: pl.DataFrame, district_id: str, vendor: str, year: int) -> dict:
    rows = table.filter(
        (pl.col(names.DISTRICT_ID) == district_id) & (pl.col(names.VENDOR_NAME) == vendor) & (pl.col(SY) == year)
    ).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def test_threshold_in_force_on_the_date(con: duckdb.DuckDBPyConnection) -> None:
    # $12,000 from one vendor: over the $10,000 micro threshold on 2025-09-30, under $15,000 from 2025-10-01
    _district(con, "early")
    _district(con, "late")
    _line(con, "early", "Farm", date(2025, 9, 30), 12_000.0)
    _line(con, "late", "Farm", date(2025, 10, 1), 12_000.0)
    table = _frame(con)
    early = _row(table, "early", "Farm", 2025)
    late = _row(table, "late", "Farm", 2025)
    assert early["micro_threshold"] == pytest.approx(10_000.0)
    assert early["required_method"] == thresholds.SMALL and early["flag"] is True
    assert "$12,000.00" in early["reason"] and "$10,000.00" in early["reason"] and "2025-09-30" in early["reason"]
    assert "March 2024" in early[names.SOURCE]
    assert late["micro_threshold"] == pytest.approx(15_000.0)
    assert late["small_threshold"] == pytest.approx(350_000.0)
    assert late["required_method"] == thresholds.MICRO and late["flag"] is False
    assert "2025-10-01" in late[names.SOURCE]


def test_cumulative_spend_decides_with_each_dates_threshold(con: duckdb.DuckDBPyConnection) -> None:
    # 9,000 in September (micro), +4,000 in October: 13,000 <= 15,000 in force then -> still micro
    _district(con, "d")
    _line(con, "d", "Farm", date(2025, 9, 10), 9_000.0, row=2)
    _line(con, "d", "Farm", date(2025, 10, 10), 4_000.0, row=3)
    row = _row(_frame(con), "d", "Farm", 2025)
    assert row["spend"] == pytest.approx(13_000.0)
    assert row["required_method"] == thresholds.MICRO
    # a third purchase in October takes the year over $15,000 -> small purchase required
    _line(con, "d", "Farm", date(2025, 10, 20), 2_500.0, row=4)
    row = _row(_frame(con), "d", "Farm", 2025)
    assert row["required_method"] == thresholds.SMALL and row["decided_on"] == date(2025, 10, 20)


def test_district_override_is_more_restrictive(con: duckdb.DuckDBPyConnection) -> None:
    _district(con, "strict", micro=5_000, small=175_000)
    _line(con, "strict", "Farm", date(2024, 11, 5), 6_000.0)
    _line(con, "strict", "Distributor", date(2024, 11, 5), 200_000.0, vendor_type="broadline_distributor")
    table = _frame(con)
    farm = _row(table, "strict", "Farm", 2024)
    assert farm["micro_threshold"] == pytest.approx(5_000.0)
    assert farm["required_method"] == thresholds.SMALL and farm["flag"]
    assert farm[names.SOURCE] == thresholds.DISTRICT_SOURCE
    dist = _row(table, "strict", "Distributor", 2024)
    assert dist["small_threshold"] == pytest.approx(175_000.0)
    assert dist["required_method"] == thresholds.FORMAL


def test_contract_on_record_clears_the_flag_and_entitlements_are_exempt(con: duckdb.DuckDBPyConnection) -> None:
    _district(con, "d")
    _line(con, "d", "Dairy", date(2024, 9, 1), 60_000.0, vendor_type="processor")
    _line(con, "d", "DoD Fresh", date(2024, 9, 1), 300_000.0, vendor_type="dod_fresh")
    _line(con, "d", "Distributor", date(2024, 9, 1), 300_000.0, vendor_type="broadline_distributor")
    on_record = pl.DataFrame(
        {
            names.DISTRICT_ID: ["d", "d"],
            names.VENDOR_NAME: ["Dairy", "Distributor"],
            names.METHOD: ["formal", "small_purchase"],
            names.START_DATE: [date(2024, 7, 1), date(2024, 7, 1)],
            names.END_DATE: [date(2025, 6, 30), date(2025, 6, 30)],
        }
    )
    assert contracts.upsert(con, on_record) == 2
    table = _frame(con)
    dairy = _row(table, "d", "Dairy", 2024)
    assert (dairy["required_method"], dairy["recorded_method"], dairy["flag"]) == ("small", "formal", False)
    dod = _row(table, "d", "DoD Fresh", 2024)
    assert dod["flag"] is False and dod["recorded_method"] == contracts.CONTRACT_ENTITLEMENT
    dist = _row(table, "d", "Distributor", 2024)
    assert (dist["required_method"], dist["recorded_method"], dist["flag"]) == ("formal", "small", True)
    assert "$250,000.00" in dist["reason"]


def test_state_exception_for_local_unprocessed(con: duckdb.DuckDBPyConnection) -> None:
    # seed 002's Alabama column: small purchases below $40,000, but $250,000 for local unprocessed products
    _district(con, "al", state="AL")
    lines = pl.DataFrame(
        {
            names.DISTRICT_ID: ["al", "al"],
            names.VENDOR_NAME: ["Farm", "Processor"],
            names.INVOICE_DATE: [date(2024, 10, 1), date(2024, 10, 1)],
            names.EXTENDED_PRICE: [60_000.0, 60_000.0],
            names.UNPROCESSED: [True, False],
            "local": [True, True],
        }
    ).lazy()
    table = thresholds.thresholds(lines, districts.load(con)).collect()
    farm = _row(table, "al", "Farm", 2024)
    proc = _row(table, "al", "Processor", 2024)
    assert farm["small_threshold"] == pytest.approx(250_000.0) and farm["required_method"] == thresholds.SMALL
    assert proc["small_threshold"] == pytest.approx(40_000.0) and proc["required_method"] == thresholds.FORMAL
    assert "Alabama" in proc[names.SOURCE]


def test_user_thresholds_from_the_database(con: duckdb.DuckDBPyConnection) -> None:
    _district(con, "d", state="IA")
    con.execute(
        f"INSERT INTO {names.PROCUREMENT_THRESHOLDS} VALUES (DATE '2024-01-01', 'micro', 3500, 'state', 'IA', NULL, "
        "'Iowa plan')"
    )
    _line(con, "d", "Farm", date(2024, 10, 1), 4_000.0)
    row = _row(_frame(con), "d", "Farm", 2024)
    assert row["micro_threshold"] == pytest.approx(3_500.0) and row["flag"]
    assert row[names.SOURCE] == "Iowa plan"


def test_school_year_filter(con: duckdb.DuckDBPyConnection) -> None:
    _district(con, "d")
    _line(con, "d", "Farm", date(2024, 8, 1), 100.0, row=2)
    _line(con, "d", "Farm", date(2025, 8, 1), 200.0, row=3)
    table = thresholds.thresholds_from_db(con, 2025)
    assert table[SY].to_list() == [2025] and table["spend"].to_list() == [pytest.approx(200.0)]


# --- split purchases ---------------------------------------------------------------------------------------
def _plant_split(con: duckdb.DuckDBPyConnection) -> None:
    # three invoices within 21 days, each under $10,000, together $19,270.00
    for n, (day, amount) in enumerate(
        ((date(2025, 2, 4), 6_126.0), (date(2025, 2, 13), 7_050.0), (date(2025, 2, 25), 6_094.0))
    ):
        half = amount / 2
        _line(con, "cedar", "Poultry Farm", day, half, invoice_no=f"PPP-{n}", row=10 + 2 * n)
        _line(con, "cedar", "Poultry Farm", day, half, invoice_no=f"PPP-{n}", row=11 + 2 * n)


def _plant_weekly_milk(con: duckdb.DuckDBPyConnection, with_contract: bool) -> None:
    start = date(2024, 8, 20)
    for week in range(40):
        day = start + timedelta(days=7 * week)
        _line(
            con,
            "drift",
            "Cloverleaf Dairy",
            day,
            4_000.0,
            invoice_no=f"CD-{week}",
            vendor_type="processor",
            description="MILK 1% WHITE 1/2 PT",
            row=100 + week,
        )
    if with_contract:
        contracts.upsert(
            con,
            pl.DataFrame(
                {
                    names.DISTRICT_ID: ["drift"],
                    names.VENDOR_NAME: ["Cloverleaf Dairy"],
                    names.METHOD: ["formal"],
                    names.START_DATE: [date(2024, 7, 1)],
                    names.END_DATE: [date(2025, 6, 30)],
                }
            ),
        )


def test_split_purchase_found_and_contracted_milk_not_flagged(con: duckdb.DuckDBPyConnection) -> None:
    _district(con, "cedar")
    _district(con, "drift")
    _plant_split(con)
    _plant_weekly_milk(con, with_contract=True)
    # a vendor whose monthly invoices are more than 30 days apart is not a split
    for n, day in enumerate((date(2024, 9, 1), date(2024, 10, 5), date(2024, 11, 8))):
        _line(con, "cedar", "Orchard", day, 9_000.0, invoice_no=f"O-{n}", row=200 + n)
    found = splits.split_purchases_from_db(con)
    assert set(found[names.VENDOR_NAME]) == {"Poultry Farm"}
    assert found["split_id"].n_unique() == 1
    assert found.height == 6  # every line of the three invoices
    assert sorted(set(found[names.INVOICE_NO])) == ["PPP-0", "PPP-1", "PPP-2"]
    row = found.row(0, named=True)
    assert row["split_total"] == pytest.approx(19_270.0)
    assert row["invoices"] == 3 and row["micro_threshold"] == pytest.approx(10_000.0)
    assert "Q8" in row[names.REASON] and "$19,270.00" in row[names.REASON]
    assert sorted(found[names.SOURCE_ROW].to_list()) == list(range(10, 16))


def test_weekly_milk_without_contract_is_flagged(con: duckdb.DuckDBPyConnection) -> None:
    # the same deliveries with no contract on record are unsupported micro-purchases: the detector says so
    _district(con, "drift")
    _plant_weekly_milk(con, with_contract=False)
    found = splits.split_purchases_from_db(con)
    assert set(found[names.VENDOR_NAME]) == {"Cloverleaf Dairy"}
    table = _frame(con)
    assert _row(table, "drift", "Cloverleaf Dairy", 2024)["flag"]


def test_split_needs_two_invoices_each_under_threshold(con: duckdb.DuckDBPyConnection) -> None:
    _district(con, "d")
    _line(con, "d", "Farm", date(2025, 3, 1), 11_000.0, invoice_no="big", row=2)  # over the threshold by itself
    _line(con, "d", "Farm", date(2025, 3, 5), 500.0, invoice_no="small", row=3)
    _line(con, "d", "Other", date(2025, 3, 1), 9_999.0, invoice_no="one", row=4)  # one invoice only
    assert splits.split_purchases_from_db(con).height == 0


def test_invoices_grouped_by_date_when_no_number(con: duckdb.DuckDBPyConnection) -> None:
    _district(con, "d")
    _line(con, "d", "Farm", date(2025, 3, 1), 6_000.0, row=2)
    _line(con, "d", "Farm", date(2025, 3, 1), 3_000.0, row=3)  # same day: one $9,000 invoice
    _line(con, "d", "Farm", date(2025, 3, 20), 2_000.0, row=4)
    found = splits.split_purchases_from_db(con)
    assert found["invoices"].to_list() == [2, 2, 2]
    assert found["split_total"][0] == pytest.approx(11_000.0)


def test_cli_thresholds_json(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    con = duckdb.connect(str(db_path))
    _district(con, "cedar")
    _plant_split(con)
    con.close()
    assert cli.main(["thresholds", "--db", str(db_path), "--school-year", "2024", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["school_year"] == 2024 and out["flagged"] == 1
    (row,) = out["thresholds"]
    assert row["required_method"] == "small" and row["spend"] == pytest.approx(19_270.0)
    assert {r[names.INVOICE_NO] for r in out["split_purchases"]} == {"PPP-0", "PPP-1", "PPP-2"}


@pytest.mark.slow
def test_sample_coop_planted_split_found_and_contracted_milk_not_flagged(con: duckdb.DuckDBPyConnection) -> None:
    from coop import sample

    sample.load(con)
    found = splits.split_purchases_from_db(con)
    found = found.group_by("split_id").agg(
        pl.col(names.DISTRICT_ID).first(), pl.col(names.VENDOR_NAME).first(), pl.col(names.INVOICE_NO).unique()
    )
    planted = found.filter(
        (pl.col(names.DISTRICT_ID) == sample.SPLIT_DISTRICT) & (pl.col(names.VENDOR_NAME) == sample.SPLIT_VENDOR)
    )
    assert planted.height == 1
    assert sorted(planted[names.INVOICE_NO][0]) == sorted(no for _, no, _ in sample.SPLIT_INVOICES)
    milk = pl.col(names.VENDOR_NAME) == sample.MILK_CONTRACT_VENDOR
    assert found.filter(milk).height == 0
    table = thresholds.thresholds_from_db(con)
    assert not table.filter(milk & (pl.col(names.DISTRICT_ID) == sample.MILK_CONTRACT_DISTRICT))["flag"].any()
    assert table.filter(pl.col(names.VENDOR_NAME) == sample.SPLIT_VENDOR)["flag"].all()


def test_empty_purchases(con: duckdb.DuckDBPyConnection) -> None:
    assert thresholds.thresholds_from_db(con).height == 0
    assert splits.split_purchases_from_db(con).height == 0
    assert list(thresholds.thresholds_from_db(con).columns) == list(thresholds.THRESHOLDS_COLUMNS)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=400_000), min_size=1, max_size=6),
    st.dates(min_value=date(2024, 7, 1), max_value=date(2026, 6, 30)),
)
def test_required_method_matches_thresholds_in_force(amounts: list[int], day: date) -> None:
    lines = pl.DataFrame(
        {
            names.DISTRICT_ID: ["d"] * len(amounts),
            names.VENDOR_NAME: ["V"] * len(amounts),
            names.INVOICE_DATE: [day] * len(amounts),
            names.EXTENDED_PRICE: [float(a) for a in amounts],
            names.UNPROCESSED: [True] * len(amounts),
        }
    ).lazy()
    districts = pl.DataFrame(
        {names.DISTRICT_ID: ["d"], names.STATE: ["IA"]},
    ).with_columns(
        pl.lit(None, pl.Float64).alias(names.MICRO_PURCHASE_THRESHOLD),
        pl.lit(None, pl.Float64).alias(names.SMALL_PURCHASE_THRESHOLD),
    )
    (row,) = thresholds.thresholds(lines, districts).collect().to_dicts()
    micro, small = (15_000, 350_000) if day >= date(2025, 10, 1) else (10_000, 250_000)
    total = sum(amounts)
    expected = thresholds.MICRO if total <= micro else thresholds.SMALL if total <= small else thresholds.FORMAL
    assert row["required_method"] == expected
    assert row["micro_threshold"] == micro and row["small_threshold"] == small
    assert row["flag"] is (expected != thresholds.MICRO)


def test_review_keeps_the_chosen_districts_flagged_and_largest_first() -> None:
    checked = pl.DataFrame(
        {
            names.DISTRICT_ID: ["a", "a", "b", "c"],
            "flag": [False, True, True, True],
            "spend": [900.0, 100.0, 500.0, 700.0],
        }
    )
    everything = thresholds.review(checked, ["a", "b"])
    assert everything.select("flag", "spend").rows() == [(True, 500.0), (True, 100.0), (False, 900.0)]
    assert thresholds.review(checked, ["a", "b"], flagged_only=True)["spend"].to_list() == [500.0, 100.0]
    assert thresholds.for_districts(checked, ["c"])["spend"].to_list() == [700.0]
    assert thresholds.for_districts(checked, []).height == 0


def test_a_period_across_two_school_years_is_split_by_days(con, tmp_path):
    """A calendar-year usage report: 182 of 2020's 366 days are in school year 2019, 184 in 2020 (cents exact)."""
    from fixtures_periods import load_period_report, write_period_report

    load_period_report(con, write_period_report(tmp_path / "cal.xlsx", date(2020, 1, 1), date(2020, 12, 31)))
    by_year = {row[names.SCHOOL_YEAR]: row for row in thresholds.thresholds_from_db(con).iter_rows(named=True)}
    # $365.00 x 182/366 = 181.50 (181.502...) and $1,000.00 x 182/366 = 497.27 (497.267...)
    assert by_year[2019]["spend"] == pytest.approx(181.50 + 497.27)
    assert by_year[2020]["spend"] == pytest.approx(1365.00 - 181.50 - 497.27)
    assert all("allocated from period totals" in row[names.REASON] for row in by_year.values())
    assert thresholds.thresholds_from_db(con, 2020)[names.SCHOOL_YEAR].to_list() == [2020]
