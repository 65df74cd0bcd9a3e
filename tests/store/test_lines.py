"""coop.lines: purchase lines stored as lines, items and packs; the purchases view gives the whole line back."""

from __future__ import annotations

import polars as pl
from fixtures_metrics import insert, lines_frame

from coop import names
from coop.store import lines


def _count(con, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def test_the_view_gives_back_every_stored_line(con):
    frame = lines_frame()
    insert(con, names.PURCHASES, frame)
    back = con.sql(f"SELECT {', '.join(frame.columns)} FROM {names.PURCHASES}").pl()
    assert back.height == frame.height
    key = [names.DISTRICT_ID, names.INVOICE_DATE, names.VENDOR_NAME, names.PRODUCT, names.SOURCE_ROW]
    left = back.select(*key, names.CATEGORY, names.UNIT, names.BASE_UNIT).sort(key)
    right = frame.select(*key, names.CATEGORY, names.UNIT, names.BASE_UNIT).sort(key)
    assert left.equals(right)
    # each distinct item and pack is stored once, whatever the number of lines using it
    assert _count(con, names.PURCHASE_ITEMS) == frame.select(lines.ITEM_COLUMNS).unique().height
    assert (
        _count(con, names.PURCHASE_PACKS)
        == frame.select(pl.col(names.UNIT), pl.lit(None, pl.String).alias(names.PACK_SIZE), pl.col(names.BASE_UNIT))
        .unique()
        .height
    )


def test_storing_known_items_again_adds_lines_only(con):
    insert(con, names.PURCHASES, lines_frame())
    items, packs, stored = (_count(con, t) for t in (names.PURCHASE_ITEMS, names.PURCHASE_PACKS, names.PURCHASE_LINES))
    insert(con, names.PURCHASES, lines_frame().with_columns(pl.lit(2).alias(names.BATCH_ID)))
    assert _count(con, names.PURCHASE_ITEMS) == items
    assert _count(con, names.PURCHASE_PACKS) == packs
    assert _count(con, names.PURCHASE_LINES) == 2 * stored


def test_missing_columns_are_empty_and_the_key_is_computed(con):
    con.execute(
        "CREATE TEMP TABLE bare AS SELECT 1 AS batch_id, 2 AS source_row, 'D1' AS district_id, "
        "DATE '2024-09-03' AS invoice_date, 'Farm' AS vendor_name, 'producer' AS vendor_type, "
        "'Kale' AS description, 'kale' AS product, 1.0 AS product_confidence, 'vegetable' AS category, "
        "true AS unprocessed, 'file' AS unprocessed_rule, 3.0 AS quantity, 'bunch' AS unit, "
        "2.5 AS unit_price, 7.5 AS extended_price"
    )
    lines.store(con, "bare")
    row = con.sql(f"SELECT * FROM {names.PURCHASES}").pl().row(0, named=True)
    assert row[names.PACK_SIZE] is None and row[names.ORIGIN_STATE] is None and row[names.PRICE_FLAG] is False
    ((recomputed,),) = con.execute(f"SELECT {lines.key_sql()} FROM {names.PURCHASES}").fetchall()
    assert row[names.LINE_KEY] == recomputed
