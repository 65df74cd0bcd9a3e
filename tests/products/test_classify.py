"""Classification of item descriptions: seed 002's product tables, seed 004 Q14-Q17, distributor text."""

from __future__ import annotations

import functools
import time

import openpyxl
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coop import names
from coop.products.classify import CFR, Q14, Q15, Q16, Q17, TABLE1, TABLE2, Classification, classify, classify_many
from tests.conftest import REAL

# seed 002, Product Table 1: processed agricultural products (text as the table gives it) -> category
TABLE1_ITEMS = [
    ("Canned fruit", "fruit"),
    ("Fruit cocktails", "fruit"),
    ("Juice", "fruit"),
    ("Canned vegetables", "vegetable"),
    ("Tomato sauce", "vegetable"),
    ("Salsa", "vegetable"),
    ("Vegetable patties", "vegetable"),
    ("Cooked meats", "protein"),
    ("Canned meats", "protein"),
    ("Meats with seasoning", "protein"),
    ("Meats with preservatives", "protein"),
    ("Meats with binding agents", "protein"),
    ("Deli meat", "protein"),
    ("Beef jerky", "protein"),
    ("Liquid eggs", "protein"),
    ("Sausage", "protein"),
    ("Hot dogs", "protein"),
    ("Flavored milk", "dairy"),
    ("Chocolate milk", "dairy"),
    ("Strawberry milk", "dairy"),
    ("Cheese", "dairy"),
    ("Ice cream", "dairy"),
    ("Yogurt", "dairy"),
    ("Baked goods (cookies)", "grain"),
    ("Baking mixes", "grain"),
    ("Bread", "grain"),
    ("Chips", "grain"),
    ("Crackers", "grain"),
    ("Breakfast bars", "grain"),
    ("Granola bars", "grain"),
    ("Instant grits", "grain"),
    ("Instant oatmeal", "grain"),
    ("Chili", "other"),
    ("Flavored water", "other"),
    ("Frozen pizza", "grain"),
    ("Sauces (BBQ, hot sauce)", "other"),
    ("Slushie mixes", "other"),
    ("Spices or spice mix", "other"),
    ("Tea, powdered, bags", "other"),
]
# seed 002, Product Table 2: unprocessed agricultural products -> category
TABLE2_ITEMS = [
    ("Sliced or diced fruit", "fruit"),
    ("Dehydrated fruit (cranberries)", "fruit"),
    ("Whole, fresh fruit", "fruit"),
    ("Whole, frozen fruit", "fruit"),
    ("Sliced, diced, chopped, peeled, mixed, bagged or dried vegetables", "vegetable"),
    ("Whole, fresh vegetables", "vegetable"),
    ("Whole, frozen vegetables", "vegetable"),
    ("Unprocessed meats with no additives or fillers (frozen and ground meat)", "protein"),
    ("Fish, including nuggets and fillets with no additives or fillers", "protein"),
    ("Poultry (whole or cut)", "protein"),
    ("Eggs, whole (packed in cartons)", "protein"),
    ("Pasteurized, unflavored milk", "dairy"),
    ("Rice", "grain"),
    ("Flour", "grain"),
    ("Barley", "grain"),
    ("Grits", "grain"),
    ("Oatmeal", "grain"),
]
# seed 004 Q14-Q17: (text, category, unprocessed, source cited)
SEED004_ITEMS = [
    ("ground beef", "protein", True, Q14),
    ("ground beef, no additives or preservatives", "protein", True, Q14),
    ("frozen bag of combination vegetables (broccoli, cauliflower and carrots)", "vegetable", True, CFR),
    ("broccoli, cauliflower and carrots, mixed, in a bag", "vegetable", True, Q15),
    ("fresh carrots in portion sized bags", "vegetable", True, None),
    ("small single serving bags of carrots", "vegetable", True, Q16),
    ("canned vegetables", "vegetable", False, None),
    ("canned green beans", "vegetable", False, Q17),
]
# our own phrasings of the same products, as distributor and farm invoices write them
VARIANTS = [
    ("Apples, Gala, 88ct", "apples", "fruit", True),
    ("APPLES FUJI 113CT", "apples", "fruit", True),
    ("STRAWBERRIES SLICED FZN 4/5LB", "strawberries", "fruit", True),
    ("STRAWBERRY SLICED IQF", "strawberries", "fruit", True),
    ("CRANBERRIES DRIED 300/1.16OZ", "cranberries", "fruit", True),
    ("PEACHES DICED IN LIGHT SYRUP #10", "peaches", "fruit", False),
    ("PEARS SLICED CAN 6/#10", "pears", "fruit", False),
    ("APPLE JUICE 100% 4OZ", "juice", "fruit", False),
    ("FRUIT COCKTAIL IN JUICE", "fruit cocktail", "fruit", False),
    ("BRCLI FLORET", "broccoli", "vegetable", True),
    ("BROCCOLI CAULIFLOWER CARROT BLEND FRZ", "broccoli", "vegetable", True),
    ("CARROTS BABY PEELED 72/3OZ BAG", "carrots", "vegetable", True),
    ("CORN CUT IQF 30LB", "corn", "vegetable", True),
    ("GREEN BEANS CUT 6/#10", "green beans", "vegetable", False),
    ("PEAS GREEN CAN", "peas", "vegetable", False),
    ("POT TATER TOT", "potatoes", "vegetable", False),
    ("ROMAINE SHREDDED 4/5#", "lettuce", "vegetable", True),
    ("TOMATOES GRAPE DROP", "tomatoes", "vegetable", True),
    ("SALSA MILD CUPS", "salsa", "vegetable", False),
    ("CRUMBLES BEEF", "beef", "protein", False),
    ("BEEF GROUND 80/20 FRZ 10LB", "beef", "protein", True),
    ("GRND BEEF 85/15 BULK", "beef", "protein", True),
    ("RIBBQ PORK HONEY BBQ GRLD", "pork", "protein", False),
    ("CHKN BRST", "chicken", "protein", True),
    ("CHICKEN THIGHS BONELESS SKINLESS", "chicken", "protein", True),
    ("CHICKEN NUGGETS BREADED WG", "chicken", "protein", False),
    ("PATTY CHICKEN W/BBQ SAUCE", "chicken", "protein", False),
    ("POLLOCK FILLET FRZN", "fish", "protein", True),
    ("FISH NUGGETS", "fish", "protein", True),
    ("EGGS SHELL LARGE 15DZ", "eggs", "protein", True),
    ("EGG LIQUID WHOLE 6/5LB", "eggs", "protein", False),
    ("TURKEY HOT DOGS 8/1", "hot dogs", "protein", False),
    ("SAUSAGE PATTY PORK FC", "sausage", "protein", False),
    ("MILK 1% WHITE 1/2 PT", "milk", "dairy", True),
    ("MILK FF UNFLAVORED 8OZ", "milk", "dairy", True),
    ("CHOC MILK 1% 8OZ", "milk", "dairy", False),
    ("MILK 1% STRAWBERRY 1/2PT", "milk", "dairy", False),
    ("YOGURT STRAWBERRY LOWFAT", "yogurt", "dairy", False),
    ("SHREDDED CHEDDAR CHEESE", "cheese", "dairy", False),
    ("BROWN RICE LONG GRAIN 25LB", "rice", "grain", True),
    ("OATS ROLLED", "oats", "grain", True),
    ("WHOLE WHEAT FLOUR 25LB", "flour", "grain", True),
    ("GRITS WHITE QUICK", "grits", "grain", True),
    ("OATMEAL INSTANT MAPLE", "oatmeal", "grain", False),
    ("CHEESE PIZZA GF IW", "pizza", "grain", False),
    ("BUN HAMBURGER WG IW", "bread", "grain", False),
    ("CHOC CHIP COOKIE", "cookies", "grain", False),
    ("SAUCE CRANBERRY", "sauce", "other", False),
    ("KETCHUP PACKET", "ketchup", "other", False),
    ("Squash, Butternut", "squash", "vegetable", True),
    ("Honeycrisp apples 40#", "apples", "fruit", True),
    ("Strawberries, fresh picked, 8 qt", "strawberries", "fruit", True),
    ("Ground beef, 85% lean, 10 lb chubs", "beef", "protein", True),
    ("Carrots, fresh dug, 25 lb bag", "carrots", "vegetable", True),
]


@pytest.mark.parametrize(("text", "category"), TABLE1_ITEMS)
def test_seed002_table1_items_are_processed(text: str, category: str) -> None:
    result = classify(text)
    assert (result.category, result.unprocessed) == (category, False), result


@pytest.mark.parametrize(("text", "category"), TABLE2_ITEMS)
def test_seed002_table2_items_are_unprocessed(text: str, category: str) -> None:
    result = classify(text)
    assert (result.category, result.unprocessed) == (category, True), result


@pytest.mark.parametrize(("text", "category", "unprocessed", "source"), SEED004_ITEMS)
def test_seed004_q14_to_q17(text: str, category: str, unprocessed: bool, source: str | None) -> None:
    result = classify(text)
    assert (result.category, result.unprocessed) == (category, unprocessed), result
    if source is not None:
        assert source in result.source


@pytest.mark.parametrize(("text", "product", "category", "unprocessed"), VARIANTS)
def test_unseen_phrasings(text: str, product: str, category: str, unprocessed: bool) -> None:
    result = classify(text)
    assert (result.product, result.category, result.unprocessed) == (product, category, unprocessed), result


def test_decision_names_rule_and_source() -> None:
    canned = classify("APPLE SLICES CAN")
    assert not canned.unprocessed
    assert canned.source == Q17
    assert "canning" in canned.reason and "canning" in canned.rule
    frozen = classify("BLUEBERRIES WHOLE FROZEN")
    assert frozen.unprocessed and CFR in frozen.source and "freezing" in frozen.rule
    cheese = classify("CHEESE MOZZARELLA SHREDDED")
    assert not cheese.unprocessed and cheese.source == TABLE1
    milk = classify("MILK 1% WHITE 1/2 PT")
    assert TABLE2 in milk.source and "milk" in milk.reason


def test_confidence_is_lower_for_abbreviations_and_unknown_text() -> None:
    assert classify("CHICKEN BREAST").confidence == pytest.approx(1.0)
    assert classify("CHKN BRST").confidence < 1.0
    unknown = classify("Xyzzy frobnitz 12ct")
    assert isinstance(unknown, Classification)
    assert (unknown.product, unknown.category, unknown.unprocessed) == ("xyzzy", "other", False)
    assert 0.0 <= unknown.confidence <= 0.3
    assert "no rule" in unknown.rule


def test_nonfood_is_other_and_not_unprocessed() -> None:
    tray = classify("TRAY 5 COMPARTMENT FOAM")
    assert (tray.category, tray.unprocessed) == ("other", False)


def test_negation_keeps_no_additives_unprocessed() -> None:
    assert classify("beef patties, no fillers").unprocessed
    assert not classify("beef patties with fillers").unprocessed


def test_classify_many_one_row_per_distinct_description() -> None:
    series = pl.Series(["CHKN BRST", "Apples, Gala, 88ct", "CHKN BRST", None, "CHOC MILK 1% 8OZ"] * 1000)
    out = classify_many(series)
    assert out.columns == [
        names.DESCRIPTION,
        names.PACK_SIZE,
        names.PRODUCT,
        names.CATEGORY,
        names.UNPROCESSED,
        "confidence",
        names.UNPROCESSED_RULE,
    ]
    assert out.height == 3
    row = out.filter(pl.col(names.DESCRIPTION) == "CHOC MILK 1% 8OZ").row(0, named=True)
    assert (row[names.PRODUCT], row[names.CATEGORY], row[names.UNPROCESSED]) == ("milk", "dairy", False)
    assert set(out[names.CATEGORY]) <= set(names.CATEGORIES)


def test_classify_many_empty() -> None:
    out = classify_many(pl.Series([], dtype=pl.String))
    assert out.height == 0 and names.UNPROCESSED_RULE in out.columns


@functools.cache
def _real_lines() -> tuple[str, ...]:
    path = next(REAL.glob("*.xlsx"), None)
    if path is None:
        return ()
    wb = openpyxl.load_workbook(path, read_only=True)
    out = [str(row[3]) for i, row in enumerate(wb.active.iter_rows(values_only=True)) if i >= 4 and row[3]]
    wb.close()
    return tuple(out)


def _real_descriptions() -> list[str]:
    lines = list(_real_lines())
    if not lines:
        pytest.skip("real distributor report not present")
    return lines


def test_real_distributor_descriptions_mostly_categorised() -> None:
    lines = _real_descriptions()
    table = classify_many(pl.Series(lines))
    joined = pl.DataFrame({names.DESCRIPTION: lines}).join(table, on=names.DESCRIPTION, how="left")
    other = (joined[names.CATEGORY] == "other").mean()
    unknown = joined[names.UNPROCESSED_RULE].str.contains("no rule matched").mean()
    assert joined.height > 9000
    assert other < 0.2  # condiments, drinks, spices and supplies are legitimately "other"
    assert unknown < 0.03


def test_ten_thousand_distinct_descriptions_classify_quickly() -> None:
    base = _real_descriptions()
    distinct = sorted({f"{d} {i % 4}X" for d in base for i in range(4)})[:10_000]
    classify.cache_clear()
    start = time.perf_counter()
    out = classify_many(pl.Series(distinct))
    elapsed = time.perf_counter() - start
    assert out.height == len(distinct)
    assert elapsed < 5.0  # generous bound for a shared 2-core machine; measured well under 1 s


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_classifies_to_a_valid_answer(text: str) -> None:
    result = classify(text)
    assert result.category in names.CATEGORIES
    assert 0.0 <= result.confidence <= 1.0
    assert isinstance(result.unprocessed, bool)
    assert result.rule and result.reason and result.source


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([t for t, _ in TABLE2_ITEMS]),
    st.sampled_from(["canned", "cooked", "breaded", "with bbq sauce", "seasoned"]),
)
def test_adding_a_processing_word_never_makes_a_product_unprocessed(text: str, word: str) -> None:
    assert classify(text).unprocessed is True
    processed = classify(f"{text}, {word}")
    assert processed.unprocessed is False, processed


def test_classify_many_weighs_the_pack_size_per_distinct_pair() -> None:
    out = classify_many(pl.Series(["PEACHES DICED", "PEACHES DICED"] * 10), pl.Series(["6/#10", "4/5LB"] * 10))
    assert out.height == 2
    by_pack = dict(zip(out[names.PACK_SIZE], out[names.UNPROCESSED], strict=True))
    assert by_pack == {"6/#10": False, "4/5LB": True}


# a pack shape decides what the words leave open (terms/pack_shapes.csv): (text, pack, unprocessed)
PACK_SHAPES = [
    ("APPLE", "24/12OZ", False),  # a case of bottles named by their flavour
    ("KIWI STRAWBERRY", "24/16.9OZ", False),
    ("DICED GREEN CHILIES", "12/27OZ", False),  # cans: dicing does not make them fresh
    ("ALBACORE TUNA", "6/43OZ", False),  # pouches
    ("LEMON JUICE", "12/32FLOZ", False),
    ("JALAPENO", "24/1.5OZ", False),  # a case of 24 small retail packs
    ("APPLES SLICED", "100/2OZ", True),
    ("APPLES FUJI 113CT", "113CT", True),  # fresh produce by count, by the pound, in portion bags
    ("GRAPES RED SEEDLESS", "18LB", True),
    ("CARROT BABY IW 100/3OZ", "100/3OZ", True),  # Q16 portion bags
    ("DOD BLUEBERRIES 12/6 OZ", "12/6OZ", True),  # DoD Fresh: the words state fresh
    ("BLUEBERRIES FRESH", "12/6OZ", True),
    ("STRAWBERRIES FROZEN", "12/16OZ", True),
    ("OLD FASHIONED OATS", "12/42OZ", True),  # a bulk grain
    ("OATMEAL", "60/7OZ", False),  # portions of a grain: a prepared product
    ("OATMEAL", "25LB", True),
]


@pytest.mark.parametrize(("text", "pack", "unprocessed"), PACK_SHAPES)
def test_a_pack_shape_decides_what_the_words_leave_open(text: str, pack: str, unprocessed: bool) -> None:
    result = classify(text, pack)
    assert result.unprocessed is unprocessed, result
    if not unprocessed and "JUICE" not in text:
        assert pack in result.reason and result.confidence > 0.2


def test_a_pack_shape_never_overrules_canning_and_needs_a_pack() -> None:
    assert classify("PEARS DICED", "6/#10").source == Q17
    assert classify("APPLE").unprocessed and classify("APPLE", "not a pack").unprocessed


# flavour, shape and brand-line words on distributor text: (text, category, unprocessed)
FLAVOURS_AND_LINES = [
    ("GOLD STAR LEMON DISH SOAP", "other", False),  # a cleaning supply names the line; lemon is its scent
    ("SANITIZER LEMON", "other", False),
    ("LEMONS 165CT", "fruit", True),
    ("CRYBABY SOUR APPLE", "other", False),
    ("SNOWPAL TUBE MANGO IW", "fruit", False),
    ("SNACKS MIXED BERRY FRUIT", "fruit", False),
    ("CARROTS BABY SNACK PACK", "vegetable", True),  # Q16: portion bags are still unprocessed
    ("CRAZY HOT POTATO", "vegetable", False),
    ("PEPPERS HOT", "vegetable", True),
    ("POTATO EMOTICONS", "vegetable", False),
    ("POTATO SMILES", "vegetable", False),
    ("POTATOES RUSSET 70CT", "vegetable", True),
    ("TRAY BRUSSEL SPRTS HALVED 4#", "vegetable", True),
    ("TWISTED STIX BLUEBERRY", "grain", False),
    ("YOGURT COOKIES & CREAM", "dairy", False),
    ("APPLE JACKS", "grain", False),
    ("YOGURT TRIX RASP RAIN", "dairy", False),
    ("CMDY TROPICAL BLEND", "fruit", True),
    ("NACHO CHEESE SAUCE", "other", False),
    ("CMDY ALL AMERICAN BURGER IW", "protein", False),  # individually wrapped meat: a ready-to-eat portion
    ("BEEF STEAK BURGER", "protein", False),  # a burger may carry seasoning
    ("BEEF PATTY 100% GROUND", "protein", True),  # Q14: forming ground beef into patties keeps it unprocessed
    ("APPLES SLICED IW", "fruit", True),  # IW on produce: a portion bag (Q16)
    ("TOMATOES HOT HOUSE", "vegetable", True),
]


@pytest.mark.parametrize(("text", "category", "unprocessed"), FLAVOURS_AND_LINES)
def test_flavour_shape_and_line_words(text: str, category: str, unprocessed: bool) -> None:
    result = classify(text)
    assert (result.category, result.unprocessed) == (category, unprocessed), result
