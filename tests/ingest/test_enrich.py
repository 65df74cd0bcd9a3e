"""coop.ingest.enrich: vendor registry defaults, items, base units and price flags of loaded lines."""

from __future__ import annotations

import pytest
from fixtures_ingest import BROKEN, CLEAN, HEADER

from coop import names
from coop.errors import format_problem
from coop.ingest import ingest_file


def test_price_mismatch_loads_flagged_with_a_warning(store):
    result = ingest_file(store, BROKEN / "price_mismatch.csv", district_id="D1")
    assert result.rows_loaded == 2
    assert [format_problem(p) for p in result.problems] == [
        "price_mismatch.csv row 3 column Ext Price: extended_price 9.00 differs from quantity x unit_price = 8.00 "
        "by more than 1 cent"
    ]
    assert result.problems[0].severity == "warning"
    assert result.to_json()["warnings"] == 1
    flags = store.execute(f"SELECT source_row, price_flag FROM {names.PURCHASES} ORDER BY source_row").fetchall()
    assert flags == [(2, False), (3, True)]


def test_clean_file_values_are_typed_and_enriched(store, tmp_path):
    path = tmp_path / "clean.csv"
    path.write_text(CLEAN, encoding="utf-8")
    ingest_file(store, path, district_id="D1")
    rows = store.sql(f"SELECT * FROM {names.PURCHASES} ORDER BY {names.SOURCE_ROW}").pl()
    first, second = rows.to_dicts()
    assert str(first[names.INVOICE_DATE]) == "2024-09-03"
    assert str(second[names.INVOICE_DATE]) == "2024-09-04"  # US m/d/Y
    assert first[names.VENDOR_TYPE] == "producer"  # from the registry
    assert (first[names.ORIGIN_STATE], first[names.ORIGIN_ZIP]) == ("MN", "55102")  # registry origin
    assert second[names.VENDOR_TYPE] == "broadline_distributor"
    assert second[names.ORIGIN_STATE] is None
    assert first[names.DESCRIPTION] == "Apples, Gala, 88ct"
    assert first[names.PRODUCT] != ""
    assert first[names.CATEGORY] in names.CATEGORIES
    assert float(first[names.UNIT_PRICE]) == pytest.approx(1.25)
    assert float(first[names.EXTENDED_PRICE]) == pytest.approx(50.00)
    assert first[names.QUANTITY] == pytest.approx(40.0)
    assert first[names.BASE_UNIT] == "lb"
    assert first[names.BASE_QUANTITY] == pytest.approx(40.0)
    assert first[names.PRICE_FLAG] is False
    assert isinstance(first[names.LINE_KEY], int) and first[names.LINE_KEY] >= 0  # a 64-bit hash (UBIGINT)


def test_base_units_follow_the_inferred_product(store, tmp_path):
    """Ounces of cheese are weight, ounces of milk are volume, counted eggs are dozens (the commodity decides)."""
    path = tmp_path / "dairy.csv"
    path.write_text(
        HEADER
        + "2024-09-03,Sysco,Cheese Cheddar Shredded,32,OZ,0.25,8.00\n"
        + "2024-09-03,Sysco,Milk 1% White,64,OZ,0.05,3.20\n"
        + "2024-09-03,Sysco,Eggs Large Grade A,360,CT,0.10,36.00\n",
        encoding="utf-8",
    )
    ingest_file(store, path, district_id="D1")
    rows = store.sql(
        f"SELECT {names.PRODUCT}, {names.BASE_QUANTITY}, {names.BASE_UNIT} FROM {names.PURCHASES} "
        f"ORDER BY {names.SOURCE_ROW}"
    ).fetchall()
    assert [(q, u) for _p, q, u in rows] == [(pytest.approx(2.0), "lb"), (pytest.approx(0.5), "gal"), (30.0, "dozen")]
