"""Hand-built co-op for the metrics, locality and calibration tests (every figure in the tests is computed by hand).

Districts (all definitions of local differ):
  wide    Denver 80202, local within 150 miles
  narrow  Denver 80202, local within 100 miles
  county  Greeley 80631, local counties Weld (own state) and Laramie County, WY
  nm      Santa Fe 87501, local states NM
  plain   Alamosa 81101, no definition (own state CO)
Crowley Farm (81062, Crowley County CO) is 121 miles from 80202: local for `wide`, not for `narrow`.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl
from hypothesis import strategies as st

from coop import names
from coop.store.lines import store as store_lines

DISTRICTS = [
    # district_id, zip, state, radius, states, counties
    ("wide", "80202", "CO", 150.0, None, None),
    ("narrow", "80202", "CO", 100.0, None, None),
    ("county", "80631", "CO", None, None, ["Weld", "Laramie County, WY"]),
    ("nm", "87501", "NM", None, ["NM"], None),
    ("plain", "81101", "CO", None, None, None),
]

BD = "broadline_distributor"
VEG = "vegetable"
# n, district, date, vendor, vendor_type, product, category, base_quantity, base_unit, extended_price, state, zip
LINES = [
    (1, "wide", "2024-01-10", "Crowley Farm", "producer", "apples", "fruit", 100.0, "lb", "150.00", "CO", "81062"),
    (2, "wide", "2024-01-20", "Sysco", BD, "apples", "fruit", 200.0, "lb", "200.00", "WA", "98801"),
    (3, "wide", "2024-02-05", "Sysco", BD, "carrots", "vegetable", 50.0, "lb", "40.00", None, "80631"),
    (4, "wide", "2024-02-28", "Front Range Hub", "food_hub", "milk", "dairy", 10.0, "gal", "35.50", "CO", None),
    (5, "wide", "2024-03-01", "Sysco", BD, "bread", "grain", None, None, "12.34", None, None),
    (13, "wide", "2024-03-15", "Crowley Farm", "producer", "potatoes", VEG, 100.0, "lb", "50.00", "CO", "81062"),
    (14, "wide", "2024-03-15", "Sysco", BD, "potatoes", VEG, 100.0, "lb", "30.00", "ID", "83201"),
    (6, "narrow", "2024-01-15", "Crowley Farm", "producer", "apples", "fruit", 80.0, "lb", "120.00", "CO", "81062"),
    (7, "narrow", "2024-01-16", "Sysco", BD, "apples", "fruit", 100.0, "lb", "90.00", "WA", "98801"),
    (8, "narrow", "2024-01-31", "Sysco", BD, "carrots", "vegetable", 25.0, "lb", "20.00", "CO", "80631"),
    (9, "county", "2024-02-10", "Crowley Farm", "producer", "apples", "fruit", 40.0, "lb", "60.00", "CO", "81062"),
    (10, "county", "2024-02-10", "Cheyenne Ranch", "producer", "beef", "protein", None, None, "10.01", None, "82001"),
    (11, "county", "2024-02-10", "Weld Farm", "producer", "carrots", "vegetable", 30.0, "lb", "24.00", "CO", "80631"),
    (12, "county", "2024-02-10", "Sysco", BD, "carrots", "vegetable", 50.0, "lb", "30.00", "CA", "93307"),
    (15, "nm", "2024-02-11", "Mesa Hub", "food_hub", "squash", "vegetable", 30.0, "lb", "45.00", "nm", None),
    (16, "nm", "2024-02-11", "Sysco", BD, "squash", "vegetable", 20.0, "lb", "20.00", None, "80202"),
    (17, "plain", "2024-03-20", "Valley Coop", "producer_coop", "potatoes", VEG, 50.0, "lb", "25.00", "CO", None),
    (18, "plain", "2024-03-20", "Sysco", BD, "potatoes", VEG, 50.0, "lb", "15.00", None, "82001"),
]


def districts_frame(rows: list[tuple] = DISTRICTS) -> pl.DataFrame:
    """Districts table rows."""
    return pl.DataFrame(
        {
            names.DISTRICT_ID: [r[0] for r in rows],
            names.NAME: [r[0].title() for r in rows],
            names.STATE: [r[2] for r in rows],
            names.ZIP: [r[1] for r in rows],
            names.LOCAL_RADIUS_MILES: [r[3] for r in rows],
            names.LOCAL_STATES: [r[4] for r in rows],
            names.LOCAL_COUNTIES: [r[5] for r in rows],
        },
        schema_overrides={
            names.LOCAL_RADIUS_MILES: pl.Float64,
            names.LOCAL_STATES: pl.List(pl.String),
            names.LOCAL_COUNTIES: pl.List(pl.String),
        },
    )


def lines_frame(rows: list[tuple] = LINES) -> pl.DataFrame:
    """Purchases rows with the NOT NULL bookkeeping columns filled in."""
    return pl.DataFrame(
        {
            names.BATCH_ID: [1] * len(rows),
            names.SOURCE_ROW: [r[0] + 1 for r in rows],
            names.DISTRICT_ID: [r[1] for r in rows],
            names.INVOICE_DATE: [date.fromisoformat(r[2]) for r in rows],
            names.VENDOR_NAME: [r[3] for r in rows],
            names.VENDOR_TYPE: [r[4] for r in rows],
            names.DESCRIPTION: [r[5] for r in rows],
            names.PRODUCT: [r[5] for r in rows],
            names.PRODUCT_CONFIDENCE: [1.0] * len(rows),
            names.CATEGORY: [r[6] for r in rows],
            names.UNPROCESSED: [True] * len(rows),
            names.UNPROCESSED_RULE: ["file"] * len(rows),
            names.QUANTITY: [r[7] if r[7] is not None else 1.0 for r in rows],
            names.UNIT: [r[8] or "case" for r in rows],
            names.BASE_QUANTITY: [r[7] for r in rows],
            names.BASE_UNIT: [r[8] for r in rows],
            names.UNIT_PRICE: ["0" for _ in rows],
            names.EXTENDED_PRICE: [r[9] for r in rows],
            names.ORIGIN_STATE: [r[10] for r in rows],
            names.ORIGIN_ZIP: [r[11] for r in rows],
            names.LINE_KEY: [r[0] for r in rows],  # any distinct non-negative integers (a UBIGINT hash in use)
        },
        schema_overrides={
            names.BASE_QUANTITY: pl.Float64,
            names.BASE_UNIT: pl.String,
            names.ORIGIN_STATE: pl.String,
            names.ORIGIN_ZIP: pl.String,
        },
    )


def insert(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """INSERT a Polars frame into a table by column name (text money is cast to DECIMAL by DuckDB)."""
    con.register("incoming_fixture", frame.to_arrow())
    try:
        if table == names.PURCHASES:  # a view: its lines, items and packs are stored apart
            store_lines(con, "incoming_fixture")
            return
        cols = ", ".join(frame.columns)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM incoming_fixture")
    finally:
        con.unregister("incoming_fixture")


def load(con: duckdb.DuckDBPyConnection, lines: list[tuple] = LINES, districts: list[tuple] = DISTRICTS) -> None:
    """Insert the fixture districts and purchase lines."""
    insert(con, names.DISTRICTS, districts_frame(districts))
    if lines:
        insert(con, names.PURCHASES, lines_frame(lines))


# --- random purchase lines for property tests ------------------------------------------------------------------
ORIGINS = [("CO", "81062"), ("WA", "98801"), (None, "80631"), ("CO", None), (None, None), ("NM", None), (None, "82001")]
VENDORS = [("Crowley Farm", "producer"), ("Sysco", "broadline_distributor"), ("Mesa Hub", "food_hub")]
PRODUCTS = [("apples", "fruit", "lb"), ("carrots", "vegetable", "lb"), ("milk", "dairy", "gal")]
DAY0 = date(2024, 1, 1)


def random_lines(days: int) -> st.SearchStrategy[list[tuple]]:
    """1-40 lines over `days` days from DAY0 (district kind, vendor, product, origin, quantity, cents) as rows."""

    def row(i: int, raw: tuple) -> tuple:
        district, day, v, p, o, qty, cents = raw
        vendor, vtype = VENDORS[v]
        product, category, unit = PRODUCTS[p]
        state, zip_code = ORIGINS[o]
        when = (DAY0 + timedelta(days=day)).isoformat()
        price = f"{cents // 100}.{cents % 100:02d}"
        return (i, district, when, vendor, vtype, product, category, qty and float(qty), qty and unit, price,
                state, zip_code)  # fmt: skip

    one = st.tuples(
        st.sampled_from(["wide", "narrow", "county", "nm", "plain"]),
        st.integers(0, days),
        st.integers(0, len(VENDORS) - 1),
        st.integers(0, len(PRODUCTS) - 1),
        st.integers(0, len(ORIGINS) - 1),
        st.one_of(st.none(), st.integers(1, 500)),
        st.integers(0, 99_999),
    )
    return st.lists(one, min_size=1, max_size=40).map(lambda raws: [row(i, r) for i, r in enumerate(raws)])


def carrot_lines(dates: list[str], vendor: str, price: str = "8.00", origin_state: str | None = None) -> pl.DataFrame:
    """Producer carrot lines as a file gives them (canonical columns, text) for `ingest.load_frame`, one per date."""
    n = len(dates)
    columns = {
        names.INVOICE_DATE: dates,
        names.VENDOR_NAME: [vendor] * n,
        names.VENDOR_TYPE: ["producer"] * n,
        names.DESCRIPTION: [f"Carrots lot {i}" for i in range(n)],
        names.PRODUCT: ["carrots"] * n,
        names.CATEGORY: ["vegetable"] * n,
        names.UNPROCESSED: ["yes"] * n,
        names.QUANTITY: ["10"] * n,
        names.UNIT: ["lb"] * n,
        names.UNIT_PRICE: ["0.80"] * n,
        names.EXTENDED_PRICE: [price] * n,
    }
    if origin_state is not None:
        columns[names.ORIGIN_STATE] = [origin_state] * n
    return pl.DataFrame(columns)
