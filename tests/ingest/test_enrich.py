"""coop.ingest.enrich: vendor registry defaults, items, base units and price flags of loaded lines."""

from __future__ import annotations

import polars as pl
import pytest
from fixtures_ingest import BROKEN, CLEAN, HEADER

from coop import names
from coop.errors import format_problem
from coop.ingest import enrich, ingest_file, validate


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


# --- the enrichment steps, unit by unit ------------------------------------------------------------
def test_with_prices_fills_the_missing_price_and_flags_a_gap_over_a_cent():
    frame = pl.DataFrame(
        {
            names.QUANTITY: [3.0, 4.0, 10.0, 10.0],
            names.UNIT_PRICE: [None, 1.25, 0.80, 0.80],
            names.EXTENDED_PRICE: [120.0, None, 8.01, 8.02],
        }
    )
    out = enrich.with_prices(frame)
    assert out[names.UNIT_PRICE].to_list() == [40.0, 1.25, 0.80, 0.80]
    assert out[names.EXTENDED_PRICE].to_list() == [120.0, 5.0, 8.01, 8.02]
    assert out[names.PRICE_FLAG].to_list() == [False, False, False, True]  # 1 cent is within tolerance


def test_with_registry_fills_vendor_type_and_origin_only_where_the_line_has_none(store):
    enr = enrich.enrichment(store)
    typed = pl.DataFrame(
        {
            names.VENDOR_NAME: ["green acres farm", "Sysco", "Mystery Co"],
            names.VENDOR_TYPE: [None, None, None],
            f"_raw_{names.VENDOR_TYPE}": [None, None, None],
            names.ORIGIN_STATE: [None, None, "WI"],
            names.ORIGIN_ZIP: ["55999", None, None],
            names.VENDOR_TYPE_RULE: [None, None, None],
        },
        schema_overrides={
            names.VENDOR_TYPE: pl.String,
            f"_raw_{names.VENDOR_TYPE}": pl.String,
            names.VENDOR_TYPE_RULE: pl.String,
        },
    )
    out = enrich.with_registry(typed, enr)
    assert out.columns == typed.columns
    assert out[names.VENDOR_TYPE].to_list() == ["producer", "broadline_distributor", None]
    assert out[names.VENDOR_TYPE_RULE].to_list() == ["registry", "registry", None]  # the line's provenance
    assert out[names.ORIGIN_STATE].to_list() == ["MN", None, "WI"]
    assert out[names.ORIGIN_ZIP].to_list() == ["55999", None, None]  # the line's own origin kept


def test_warnings_name_price_gaps_and_unconverted_quantities(store):
    checks = validate.checks(store, "f.csv", "D1", {names.UNIT: "UOM"})
    good = pl.DataFrame(
        {
            names.SOURCE_ROW: [2, 3],
            names.QUANTITY: [10.0, 2.0],
            names.UNIT_PRICE: [0.80, 1.0],
            names.EXTENDED_PRICE: [9.0, 2.0],
            names.PRICE_FLAG: [True, False],
            names.UNIT: ["lb", "blob"],
            names.PACK_SIZE: [None, None],
            names.BASE_QUANTITY: [10.0, None],
            enrich.UNIT_NOTE: [None, None],
        },
        schema_overrides={names.PACK_SIZE: pl.String, enrich.UNIT_NOTE: pl.String},
    )
    assert [format_problem(p) for p in enrich.warnings(good, checks)] == [
        "f.csv row 2 column extended_price: extended_price 9.00 differs from quantity x unit_price = 8.00 "
        "by more than 1 cent",
        "f.csv row 3 column UOM: quantity 2 blob (pack -) not converted to a base unit: unknown unit",
    ]
    assert {p.severity for p in enrich.warnings(good, checks)} == {"warning"}
