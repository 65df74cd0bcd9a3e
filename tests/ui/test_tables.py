"""Tables as people read them: ids in words, a format for every column's unit, school years as 2025-26."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from coop import names
from ui import tables


def test_route_and_constraint_ids_read_as_the_papers_names() -> None:
    frame = pl.DataFrame(
        {
            names.ROUTE: [names.DIRECT_LOCAL, names.TRADITIONAL_NONLOCAL],
            "constraint": [names.ASSORTMENT_BREADTH, names.ECONOMIC_IMPACT],
            "conflicts": [f"{names.LOCAL_INTENSITY}, {names.PRICE_RISK}", ""],
            names.VENDOR_TYPE: ["broadline_distributor", "farmers_market"],
        }
    )
    shown = tables.readable(frame)
    assert shown[names.ROUTE].to_list() == ["Direct local", "Traditional non-local"]
    assert shown["constraint"].to_list() == ["Assortment breadth", "Economic impact"]
    assert shown["conflicts"].to_list() == ["Local intensity, Price risk", ""]
    assert shown[names.VENDOR_TYPE].to_list() == ["Broadline distributor", "Farmers market"]


def test_school_years_meals_and_sources_read_as_people_write_them() -> None:
    frame = pl.DataFrame(
        {
            "school_year": [2025, 2024],
            "meals": [46085.4, 11520.6],
            "source": [
                "seed 004 Q8: split purchases",
                "district procurement plan (districts.micro_purchase_threshold), issue 6",
            ],
        }
    )
    shown = tables.readable(frame)
    assert shown["school_year"].to_list() == ["2025-26", "2024-25"]
    assert shown["meals"].to_list() == [46085.0, 11521.0]
    assert shown["source"][0] == "USDA, Geographic Preference Q&A, Q8: split purchases"
    assert "districts." not in shown["source"][1] and "registry" in shown["source"][1]
    assert "issue" not in shown["source"][1]


def test_every_column_gets_a_label_in_words_and_a_format_for_its_unit() -> None:
    frame = pl.DataFrame(
        {
            "total_spend": [1.0],
            "local_share": [0.25],
            "meals_direct_local": [1000.0],
            "lines": [12],
            names.BATCH_ID: [7],
            "invoice_date": [date(2025, 7, 1)],
            "loaded_at": [datetime(2025, 7, 1, 9, 30)],
            names.TRADITIONAL_LOCAL: [41.89],
        }
    )
    shown = tables.config(frame)
    kinds = {c: (v["label"], v["type_config"].get("format")) for c, v in shown.items()}
    assert kinds["total_spend"] == ("Food spend ($)", "dollar")
    assert kinds["local_share"] == ("Local share", "percent")
    assert kinds["meals_direct_local"] == ("Meals: Direct local", "localized")
    assert kinds["lines"][1] == "localized"
    assert kinds[names.BATCH_ID][1] == "%d"
    assert kinds["invoice_date"] == ("Invoice date", "YYYY-MM-DD")
    assert kinds["loaded_at"][1] == "YYYY-MM-DD HH:mm"
    assert kinds[names.TRADITIONAL_LOCAL][0] == "Traditional local"
    assert all("_" not in label for label, _ in kinds.values())


def test_a_page_given_configuration_wins() -> None:
    frame = pl.DataFrame({"spend": [1.0], "vendor_name": ["A"]})
    given = {"spend": {"label": "Spend compared ($)"}}
    shown = tables.config(frame, given)
    assert shown["spend"] == {"label": "Spend compared ($)"}
    assert shown["vendor_name"]["label"] == "Vendor"
