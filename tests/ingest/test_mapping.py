"""coop.ingest.mapping: the header mapping as the intake page edits it, and the preview under a mapping."""

import polars as pl

from coop import names
from coop.ingest import mapping


def _head() -> pl.DataFrame:
    return pl.DataFrame(
        {
            names.SOURCE_ROW: [2, 3],
            "Item Description": ["APPLES GALA FRESH 88CT", "CHEESE CHEDDAR SHRED"],
            "Ext Price": ["38.50", "41.00"],
            "Notes": ["x", None],
        }
    )


def test_mapping_table_round_trips_through_an_edit():
    proposed = mapping.propose_mapping(["Item Description", "Ext Price", "Notes"])
    table = mapping.mapping_table(_head(), proposed)
    assert table.columns == [mapping.SOURCE_COLUMN, mapping.EXAMPLE_VALUE, mapping.MAPS_TO]
    assert table[mapping.SOURCE_COLUMN].to_list() == ["Item Description", "Ext Price", "Notes"]
    assert table[mapping.EXAMPLE_VALUE].to_list() == ["APPLES GALA FRESH 88CT", "38.50", "x"]
    assert table[mapping.MAPS_TO].to_list() == [names.PRODUCT, names.EXTENDED_PRICE, None]
    edited = table.with_columns(pl.when(pl.col(mapping.SOURCE_COLUMN) == "Notes").then(pl.lit("")).otherwise(
        pl.col(mapping.MAPS_TO)).alias(mapping.MAPS_TO))  # fmt: skip
    assert mapping.mapping_from_table(edited) == proposed


def test_mapped_preview_infers_commodity_category_and_unprocessed():
    preview = mapping.mapped_preview(_head(), {"Item Description": names.PRODUCT, "Ext Price": None, "Notes": None})
    assert preview.columns == [names.SOURCE_ROW, names.PRODUCT, *mapping.INFERRED.values()]
    apples = preview.row(0, named=True)
    assert apples["commodity (inferred)"] == "apples" and apples["category (inferred)"] == "fruit"
    assert apples["unprocessed (inferred)"] is True
    assert preview.row(1, named=True)["category (inferred)"] == "dairy"


def test_mapped_preview_without_an_item_column_is_the_mapped_rows():
    preview = mapping.mapped_preview(_head(), {"Ext Price": names.EXTENDED_PRICE})
    assert preview.columns == [names.SOURCE_ROW, names.EXTENDED_PRICE]
