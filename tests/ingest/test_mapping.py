"""coop.ingest.mapping: the header mapping as the intake page edits it, and the preview under a mapping."""

import polars as pl
import pytest

from coop import names
from coop.errors import InputFileError
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


# --- overrides (--map) -----------------------------------------------------------------------------
def test_override_sets_a_mapping_and_takes_the_column_from_the_header_that_had_it():
    proposed = mapping.propose_mapping(["Item", "Full Text", "Qty", "Notes"])
    out = mapping.override_mapping(proposed, {"full text": names.PRODUCT, "Notes": None}, "f.csv")
    assert out == {"Item": None, "Full Text": names.PRODUCT, "Qty": names.QUANTITY, "Notes": None}


def test_override_names_an_unknown_column_or_header():
    proposed = mapping.propose_mapping(["Item", "Qty"])
    with pytest.raises(InputFileError, match="unknown column 'quantiy'"):
        mapping.override_mapping(proposed, {"Qty": "quantiy"}, "f.csv")
    with pytest.raises(InputFileError, match=r"f\.csv: --map Amount=extended_price: no header 'Amount'"):
        mapping.override_mapping(proposed, {"Amount": names.EXTENDED_PRICE}, "f.csv")


# --- an ambiguous header ('Cost') ------------------------------------------------------------------------
def _priced(cost: list[str], **other: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {names.SOURCE_ROW: list(range(2, 2 + len(cost))), "Qty": ["2", "4", "10"], "Cost": cost, **other}
    )


def test_cost_matching_quantity_times_it_against_the_line_total_is_the_unit_price():
    head = _priced(["1.25", "$0.80", "3"], **{"Ext Price": ["2.50", "3.20", "31.00"]})
    proposed = mapping.propose_mapping(head.columns[1:])
    decided, notes = mapping.decide_ambiguous(proposed, head)
    assert decided["Cost"] == names.UNIT_PRICE and decided["Ext Price"] == names.EXTENDED_PRICE
    assert notes == [("Cost", "'Cost' read as unit_price: quantity x Cost matches Ext Price on 67% of rows")]


def test_cost_equal_to_quantity_times_the_unit_price_is_the_line_total():
    head = _priced(["2.50", "3.20", "30"], **{"Unit Price": ["1.25", "0.80", "3"]})
    decided, notes = mapping.decide_ambiguous(mapping.propose_mapping(head.columns[1:]), head)
    assert decided == {"Qty": names.QUANTITY, "Cost": names.EXTENDED_PRICE, "Unit Price": names.UNIT_PRICE}
    assert notes == [("Cost", "'Cost' read as extended_price: quantity x Unit Price matches Cost on 100% of rows")]


def test_cost_that_matches_nothing_is_left_out_and_a_chosen_one_stays():
    head = _priced(["9", "9", "9"], **{"Ext Price": ["2.50", "3.20", "30"]})
    proposed = mapping.propose_mapping(head.columns[1:])
    decided, notes = mapping.decide_ambiguous(proposed, head)
    assert decided["Cost"] is None
    assert notes == [("Cost", "'Cost' not mapped: quantity x Cost matches Ext Price on 0% of rows")]
    assert mapping.decide_ambiguous(proposed, head, frozenset({"Cost"})) == (proposed, [])


def test_cost_alone_keeps_its_alias_and_says_nothing_checked_it():
    head = _priced(["1", "2", "3"])
    decided, notes = mapping.decide_ambiguous(mapping.propose_mapping(head.columns[1:]), head)
    assert decided["Cost"] == names.UNIT_PRICE
    assert notes == [("Cost", "'Cost' read as unit_price: no line total or unit price to check it against")]
