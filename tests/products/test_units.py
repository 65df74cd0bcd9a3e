"""Units: pack-size parsing and conversion to the category's base unit, checked by hand."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coop import names
from coop.products import units
from coop.products.units import NO10_CAN_NET_LB, PackSize, parse_pack

LB_PER_G = 1 / 453.59237
GAL_PER_L = 1 / 3.785411784


def one(unit: str, pack: str | None, category: str | None, quantity: float = 1.0) -> dict[str, object]:
    frame = pl.DataFrame(
        {names.QUANTITY: [quantity], names.UNIT: [unit], names.PACK_SIZE: [pack], names.CATEGORY: [category]},
        schema={
            names.QUANTITY: pl.Float64,
            names.UNIT: pl.String,
            names.PACK_SIZE: pl.String,
            names.CATEGORY: pl.String,
        },
    )
    return units.normalise(frame).row(0, named=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("60/3OZ", PackSize(60, 3, "oz")),
        ("8/5LB", PackSize(8, 5, "lb")),
        ("6/#10", PackSize(6, 1, "#10 can")),
        ("4/1 GAL", PackSize(4, 1, "gal")),
        ("40 lb case", PackSize(1, 40, "lb")),
        ("case 6/#10", PackSize(6, 1, "#10 can")),
        ("1/30 DZ", PackSize(1, 30, "dozen")),
        ("100/3.25OZ", PackSize(100, 3.25, "oz")),
        ("12/32 OZ", PackSize(12, 32, "oz")),
        ("2/5#", PackSize(2, 5, "lb")),
        ("200 CT", PackSize(1, 200, "each")),
        ("6/10#", PackSize(6, 10, "lb")),  # ten-pound bags, not #10 cans
        ("12/12/2OZ", PackSize(144, 2, "oz")),
        ("36-40LB", PackSize(1, 38, "lb")),  # a range counts as its midpoint
        ("12-2.5LB", PackSize(12, 2.5, "lb")),
        ("50LB/75EA", PackSize(1, 50, "lb", pieces=75)),
        ("30CT/15LB", PackSize(1, 15, "lb", pieces=30)),  # 30 peppers weighing 15 lb in all
        ("96CT/.5OZ", PackSize(96, 0.5, "oz")),  # 96 pieces of half an ounce
        ("72/4.550Z", PackSize(72, 4.55, "oz")),  # zero typed for the letter O
        ("4LB 8OZ", PackSize(1, 4.5, "lb")),
        ("24/45CT", PackSize(24, 45, "each")),
        ("6/5 DOZ", PackSize(6, 5, "dozen")),
        ("500/7GR", PackSize(500, 7, "g")),
    ],
)
def test_parse_pack(text: str, expected: PackSize) -> None:
    assert parse_pack(text) == expected


@pytest.mark.parametrize("text", ["", "1000/.035", "4-10#/8-5#", "6/", "12 WIDGETS", None])
def test_parse_pack_refuses_what_it_cannot_read(text: str | None) -> None:
    assert parse_pack(text) is None


@pytest.mark.parametrize(
    ("unit", "pack", "category", "quantity", "base_quantity", "base_unit"),
    [
        ("CS", "60/3OZ", "protein", 2, 2 * 60 * 3 / 16, "lb"),
        ("CS", "8/5LB", "protein", 3, 120, "lb"),
        ("CS", "6/#10", "fruit", 2, 2 * 6 * NO10_CAN_NET_LB, "lb"),
        ("CS", "4/1 GAL", "dairy", 5, 20, "gal"),
        ("CS", "40 lb case", "vegetable", 1, 40, "lb"),
        ("CASE", "case 6/#10", "vegetable", 1, 6 * NO10_CAN_NET_LB, "lb"),
        ("CS", "1/30 DZ", "protein", 2, 60, "dozen"),
        ("CS", "100/3.25OZ", "protein", 4, 4 * 100 * 3.25 / 16, "lb"),
        ("CS", "12/32 OZ", "dairy", 1, 3, "gal"),  # fluid ounces in dairy: 384 fl oz = 3 gal
        ("CS", "12/32 OZ", "fruit", 1, 24, "lb"),  # weight ounces elsewhere: 384 oz = 24 lb
        ("CS", "2/5#", "vegetable", 7, 70, "lb"),
        ("CS", "200 CT", "other", 3, 600, "each"),
        ("CS", "24/250ML", "dairy", 1, 6 * GAL_PER_L, "gal"),
        ("CS", "500/7GR", "other", 1, 3500 * LB_PER_G, "lb"),
        ("EA", "5LB", "other", 12, 60, "lb"),  # EA with a pack size is one pack
        ("EA", None, "fruit", 12, 12, "each"),
        ("each", None, "fruit", 12, 12, "each"),
        ("LB", "1/3#", "vegetable", 31, 31, "lb"),  # a measure UOM ignores the pack size
        ("#", None, "vegetable", 9, 9, "lb"),
        ("OZ", None, "grain", 32, 2, "lb"),
        ("OZ", None, "dairy", 256, 2, "gal"),
        ("GAL", None, "dairy", 2.5, 2.5, "gal"),
        ("QT", None, "fruit", 8, 2, "gal"),
        ("DZ", None, "protein", 15, 15, "dozen"),
        ("dozen", None, "protein", 15, 15, "dozen"),
        ("40 lb case", None, "fruit", 2, 80, "lb"),  # the unit column itself holds the pack
        ("case 6/#10", None, "vegetable", 1, 6 * NO10_CAN_NET_LB, "lb"),
    ],
)
def test_normalise_hand_checked(
    unit: str, pack: str | None, category: str, quantity: float, base_quantity: float, base_unit: str
) -> None:
    row = one(unit, pack, category, quantity)
    assert row[names.BASE_QUANTITY] == pytest.approx(base_quantity)
    assert row[names.BASE_UNIT] == base_unit
    assert row[units.UNIT_NOTE] is None


@pytest.mark.parametrize(
    ("category", "product", "base_quantity", "base_unit"),
    [
        ("dairy", "milk", 27 * 8 / 128, "gal"),  # half-pint cartons: fluid ounces
        ("dairy", "cheese", 27 * 8 / 16, "lb"),  # string cheese: weight ounces, though classified dairy
        ("fruit", "juice", 27 * 8 / 128, "gal"),
        ("fruit", "applesauce", 27 * 8 / 16, "lb"),
        ("dairy", None, 27 * 8 / 128, "gal"),  # no product: decided by category
    ],
)
def test_ounces_are_fluid_for_drinks(category: str, product: str | None, base_quantity: float, base_unit: str) -> None:
    frame = pl.DataFrame(
        {
            names.QUANTITY: [1.0],
            names.UNIT: ["CS"],
            names.PACK_SIZE: ["27/8OZ"],
            names.CATEGORY: [category],
            names.PRODUCT: [product],
        },
        schema_overrides={names.PRODUCT: pl.String},
    )
    row = units.normalise(frame).row(0, named=True)
    assert row[names.BASE_QUANTITY] == pytest.approx(base_quantity)
    assert row[names.BASE_UNIT] == base_unit


@pytest.mark.parametrize(
    ("unit", "pack", "reason"),
    [
        ("FOO", None, "unknown unit 'FOO'"),
        ("CS", None, "container and the line has no pack size"),
        ("CS", "1000/.035", "cannot read pack size '1000/.035'"),
        ("bushel", None, "bushel is a dry volume"),
        ("", None, "no unit given"),
    ],
)
def test_unconvertible_gives_null_and_reason(unit: str, pack: str | None, reason: str) -> None:
    row = one(unit, pack, "fruit", 3)
    assert row[names.BASE_QUANTITY] is None
    assert row[names.BASE_UNIT] is None
    assert reason in row[units.UNIT_NOTE]


def test_normalise_keeps_rows_order_and_columns_without_optional_columns() -> None:
    frame = pl.DataFrame({"x": [1, 2, 3], names.QUANTITY: [1.0, 2.0, 4.0], names.UNIT: ["LB", "FOO", "LB"]})
    out = units.normalise(frame)
    assert out["x"].to_list() == [1, 2, 3]
    assert out[names.BASE_QUANTITY].to_list() == [1.0, None, 4.0]
    assert out[names.BASE_QUANTITY].dtype == pl.Float64
    assert out[names.BASE_UNIT].dtype == pl.String


def test_normalise_converts_each_combination_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, ...]] = []
    real = units.convert

    def counting(*args: object) -> object:
        calls.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(units, "convert", counting)
    n = 10_000
    frame = pl.DataFrame(
        {
            names.QUANTITY: [1.0] * n,
            names.UNIT: ["CS", "LB"] * (n // 2),
            names.PACK_SIZE: ["8/5LB", None] * (n // 2),
            names.CATEGORY: ["protein"] * n,
        }
    )
    out = units.normalise(frame)
    assert len(calls) == 2
    assert out[names.BASE_QUANTITY].sum() == pytest.approx(n // 2 * 40 + n // 2)


UNIT_LB = {"LB": 1.0, "#": 1.0, "OZ": 1 / 16, "G": LB_PER_G}


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=1000),
    size=st.decimals(min_value="0.01", max_value="500", places=2),
    unit=st.sampled_from(sorted(UNIT_LB)),
    quantity=st.floats(min_value=0.01, max_value=1e6),
    factor=st.floats(min_value=0.01, max_value=1000),
)
def test_pack_scales_linearly_with_quantity(n: int, size: object, unit: str, quantity: float, factor: float) -> None:
    pack = f"{n}/{size}{unit}"
    frame = pl.DataFrame(
        {
            names.QUANTITY: [quantity, quantity * factor],
            names.UNIT: ["CS", "CS"],
            names.PACK_SIZE: [pack, pack],
            names.CATEGORY: ["vegetable", "vegetable"],
        }
    )
    base = units.normalise(frame)[names.BASE_QUANTITY].to_list()
    assert base[0] == pytest.approx(quantity * n * float(size) * UNIT_LB[unit])  # type: ignore[arg-type]
    assert base[1] == pytest.approx(base[0] * factor)


@pytest.mark.parametrize(
    ("unit", "pack", "product", "base_quantity", "base_unit"),
    [
        ("CS", "360 CT", "eggs", 30, "dozen"),  # DESIGN: dozen for eggs
        ("CS", "15 DZ", "eggs", 15, "dozen"),
        ("CS", "6/5 DOZ", "tortillas", 360, "each"),  # other counted items are in each
        ("CS", "6/5 DOZ", None, 30, "dozen"),  # product unknown: as the line counts them
        ("CS", "15/24SL", "bread", 360, "each"),
    ],
)
def test_counted_items_each_or_dozen(
    unit: str, pack: str, product: str | None, base_quantity: float, base_unit: str
) -> None:
    frame = pl.DataFrame(
        {names.QUANTITY: [1.0], names.UNIT: [unit], names.PACK_SIZE: [pack], names.PRODUCT: [product]},
        schema_overrides={names.PRODUCT: pl.String},
    )
    row = units.normalise(frame).row(0, named=True)
    assert (row[names.BASE_QUANTITY], row[names.BASE_UNIT]) == (pytest.approx(base_quantity), base_unit)


@settings(max_examples=100, deadline=None)
@given(
    a=st.integers(min_value=1, max_value=50),
    b=st.integers(min_value=1, max_value=50),
    size=st.integers(min_value=1, max_value=64),
    sep=st.sampled_from(["", " "]),
    decoration=st.sampled_from(["", " CASE", " BAG"]),
)
def test_nested_packs_multiply(a: int, b: int, size: int, sep: str, decoration: str) -> None:
    assert parse_pack(f"{a}/{b}/{size}{sep}LB{decoration}") == PackSize(a * b, size, "lb")
