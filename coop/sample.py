"""The bundled sample co-op: a seeded generator of 7 fictional Midwest districts and their purchasing, and its loader.

What the generator models (the numbers are the paper's, Love et al. 2025, seed 003):

* Meal counts: students x (lunch + breakfast participation) x serving days of the month, summer low.
* Food spend: each month's meals x the paper's traditional non-local cost per meal (Table 3,
  `coop.optimize.paper`), split over categories and items in meal-equivalent quantities, then bought through the
  district's vendors.
* Prices: an item's non-local price times the paper's route cost ratio (Table 3: each route's cost per meal over
  the traditional non-local one), a 2.5 %/year drift and line noise.
* Seasonality: local produce is available by month (Upper Midwest harvest, peaking August-October, storage crops
  into winter); local milk, meat and bread all year.
* Lines: every vendor delivers on its own weekday and schedule; one delivery = one invoice number.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Final

import duckdb
import numpy as np
import polars as pl

from coop import names
from coop.errors import CoopError, InputFileError
from coop.ingest import ingest_file, pipeline
from coop.optimize.paper import PAPER_COST_PER_MEAL, PAPER_RATIO
from coop.registry import districts, meals, users, vendors

DEFAULT_SEED: Final = 2025
DEFAULT_ROWS: Final = 24_000
DEFAULT_DIR: Final = Path(__file__).resolve().parents[1] / "data" / "sample"
FIRST_DAY: Final = date(2024, 7, 1)
LAST_DAY: Final = date(2026, 6, 30)
SOURCE_KIND: Final = "sample"
PURCHASES_DIR: Final = "purchases"
DISTRICTS_FILE: Final = "districts.csv"
VENDORS_FILE: Final = "vendors.csv"
MEALS_FILE: Final = "meal_counts.csv"
CONTRACTS_FILE: Final = "contracts.csv"

# --- prices: the paper's route cost ratios (seed 003, Table 3: coop.optimize.paper), drift and vendor types -------
PRICE_DRIFT_PER_YEAR: Final = 0.025
# vendor types priced apart from the four routes: USDA Foods at entitlement value, FSMC with its fee, retail
TYPE_PRICE_FACTOR: Final = {"usda_foods": 0.85, "fsmc": 1.06, "other": 1.12}

# share of food spend by category (meal-equivalent budget)
CATEGORY_SHARE: Final = {"fruit": 0.15, "vegetable": 0.17, "grain": 0.17, "protein": 0.22, "dairy": 0.23, "other": 0.06}

# share of served days per month (Jul..Jun): 0 = no school; summer meals are a fraction of a school month
_SERVING_DAYS: Final = {
    7: 3.0,
    8: 7.0,
    9: 19.0,
    10: 21.0,
    11: 17.0,
    12: 14.0,
    1: 19.0,
    2: 18.0,
    3: 16.0,
    4: 20.0,
    5: 20.0,
    6: 6.0,
}
MEALS_PER_STUDENT_DAY: Final = 0.92  # lunch ~0.62 + breakfast ~0.30 participation


@dataclass(frozen=True)
class Item:
    """A catalogue item: the description a distributor prints, its category and pack, and local availability."""

    key: str
    description: str
    farm_description: str
    category: str
    unprocessed: bool
    unit: str
    pack: str
    price: float  # non-local unit price in July 2024, dollars per `unit`
    weight: float  # share of its category's spend (relative)
    local: str  # 12 digits Jan..Dec: local availability 0-9 (0 = none)
    nonlocal_states: tuple[str, ...]


# key | description (distributor) | description (farm) | category | unprocessed | unit | pack |
# price ($/unit, non-local, July 2024) | weight in its category | local availability Jan..Dec (0-9) |
# states non-local product comes from.
# A line starting with spaces continues the row above.
ITEMS_TABLE: Final = """
apples | Apples, Gala, 88ct | Gala apples, 40 lb box | fruit | y | CS | 40 LB | 42.00 | 3 | 211000089973 | WA NY
apples_hc | Apples, Honeycrisp, 100ct | Honeycrisp apples 40# | fruit | y | CS | 40 LB | 58.00 | 1 |
    100000089951 | WA
pears | Pears, Bartlett, 100ct | Bartlett pears | fruit | y | CS | 44 LB | 45.00 | 1 | 000000000000 | WA OR
oranges | Oranges, Navel, 113ct | Navel oranges | fruit | y | CS | 40 LB | 38.00 | 2 | 000000000000 | CA FL
bananas | Bananas, Green Tip, 150ct | Bananas | fruit | y | CS | 40 LB | 28.00 | 3 | 000000000000 | -
peaches | Peaches, Diced, Light Syrup, 6/#10 | Diced peaches, canned | fruit | n | CS | 6/#10 | 44.00 | 2 |
    000000000000 | CA
strawberries | Strawberries, Fresh, 8/1 LB | Strawberries, fresh picked, 8 qt | fruit | y | CS | 8/1 LB | 26.00
    | 1 | 000009200000 | CA FL
watermelon | Watermelon, Seedless | Watermelon | fruit | y | LB | - | 0.45 | 1 | 000000397100 | TX GA
raisins | Raisins, Seedless, 144/1.33 OZ | Raisins, snack boxes | fruit | y | CS | 144/1.33 OZ | 36.00 | 1 |
    000000000000 | CA
carrots | Carrots, Baby, 24/1 LB | Carrots, fresh dug, 25 lb bag | vegetable | y | CS | 24/1 LB | 24.00 | 2 |
    211000599863 | CA
potatoes | Potatoes, Russet, 50 LB | Russet potatoes, 50# sack | vegetable | y | CS | 50 LB | 27.00 | 2 |
    322100078876 | ID WA
romaine | Lettuce, Romaine, Chopped, 6/2 LB | Romaine lettuce, whole heads | vegetable | y | CS | 6/2 LB | 29.00
    | 2 | 000012688410 | CA AZ
tomatoes | Tomatoes, Grape, 10 LB | Grape tomatoes, 10# | vegetable | y | CS | 10 LB | 22.00 | 1 | 000000799500
    | FL CA
broccoli | Broccoli Florets, 4/3 LB | Broccoli crowns, 20 lb | vegetable | y | CS | 4/3 LB | 31.00 | 2 |
    000002799700 | CA AZ
sweet_corn | Corn, Sweet, Fresh Ears, 48ct | Sweet corn, 4 dozen ears | vegetable | y | CS | 48 EA | 24.00 | 1 |
    000000990000 | FL GA
squash | Squash, Butternut | Butternut squash | vegetable | y | LB | - | 0.95 | 1 | 100000008994 | CA MI
cucumbers | Cucumbers, Select, 24 LB | Cucumbers, slicing | vegetable | y | CS | 24 LB | 21.00 | 1 |
    000000898000 | FL CA
green_beans | Green Beans, Cut, 6/#10 | Green beans, canned | vegetable | n | CS | 6/#10 | 34.00 | 1 |
    000000000000 | NY WA
frozen_corn | Corn, Whole Kernel, Frozen, 12/2.5 LB | Frozen sweet corn, 30 lb | vegetable | y | CS | 12/2.5 LB
    | 33.00 | 1 | 000000000000 | WA ID
black_beans | Beans, Black, Low Sodium, 6/#10 | Black beans, canned | vegetable | n | CS | 6/#10 | 32.00 | 1 |
    000000000000 | MI
bread | Bread, Whole Wheat, Sliced, 24 OZ | Whole wheat bread loaf | grain | n | EA | 24 OZ | 2.60 | 3 |
    999999999999 | IL MO
buns | Buns, Hamburger, WG, 12/12ct | Whole grain hamburger buns | grain | n | CS | 144 EA | 18.00 | 2 |
    999999999999 | IL MO
tortillas | Tortillas, WG, 8 IN, 12/12ct | Whole wheat tortillas | grain | n | CS | 144 EA | 22.00 | 1 |
    000000000000 | TX
rice | Rice, Brown, Long Grain, 25 LB | Brown rice, 25 lb | grain | y | CS | 25 LB | 24.00 | 1 | 000000000000 |
    AR CA
oats | Oats, Rolled, Old Fashioned, 25 LB | Rolled oats, 25# | grain | y | CS | 25 LB | 21.00 | 1 | 999999999999
    | ND
pasta | Pasta, Rotini, WG, 2/10 LB | Whole grain rotini | grain | n | CS | 2/10 LB | 28.00 | 1 | 000000000000 |
    ND
flour | Flour, Whole Wheat, 50 LB | Stone-ground whole wheat flour, 50# | grain | y | CS | 50 LB | 31.00 | 1 |
    999999999999 | KS ND
chicken | Chicken, Breast, Raw, IQF, 4/10 LB | Chicken breast, boneless, frozen | protein | y | CS | 4/10 LB |
    120.00 | 3 | 000000000000 | AR GA
nuggets | Chicken Nuggets, WG Breaded, 4/7.5 LB | Breaded chicken nuggets | protein | n | CS | 4/7.5 LB | 78.00
    | 2 | 000000000000 | AR GA
ground_beef | Beef, Ground, 85/15, Fresh, 4/10 LB | Ground beef, 85% lean, 10 lb chubs | protein | y | CS | 4/10
    LB | 170.00 | 3 | 999999999999 | NE TX
pork | Pork, Loin, Boneless | Pork loin, boneless | protein | y | LB | - | 3.10 | 1 | 999999999999 | NC
turkey_deli | Turkey Breast, Deli Sliced, 6/2 LB | Deli turkey breast, sliced | protein | n | CS | 6/2 LB |
    52.00 | 1 | 999999999999 | AR
eggs | Eggs, Large, Grade A, 15 DZ | Farm fresh eggs, large | protein | y | CS | 15 DZ | 42.00 | 1 |
    999999999999 | OH IN
cheese | Cheese, Cheddar, Shredded, 4/5 LB | Cheddar cheese, shredded | dairy | n | CS | 4/5 LB | 64.00 | 2 |
    999999999999 | CA ID
yogurt | Yogurt, Low Fat, Vanilla, 48/4 OZ | Vanilla yogurt cups | dairy | n | CS | 48/4 OZ | 21.00 | 1 |
    999999999999 | CA
peanut_butter | Peanut Butter, Creamy, 6/5 LB | Peanut butter, creamy | protein | n | CS | 6/5 LB | 95.00 | 1 |
    000000000000 | GA
milk_white | Milk, 1% White, 1/2 PT | Milk, 1% unflavored, half pints | dairy | y | CS | 50/8 OZ | 16.00 | 5 |
    999999999999 | -
milk_choc | Milk, Fat Free Chocolate, 1/2 PT | Chocolate milk, fat free, half pints | dairy | n | CS | 50/8 OZ |
    17.50 | 3 | 999999999999 | -
milk_bulk | Milk, 1% White, 5 GAL Bulk | Milk, 1%, 5 gallon bag | dairy | y | GAL | - | 4.20 | 1 | 999999999999
    | -
oil | Oil, Canola, 35 LB | Canola oil | other | n | CS | 35 LB | 42.00 | 2 | 000000000000 | ND
ranch | Dressing, Ranch, Lite, 4/1 GAL | Ranch dressing | other | n | CS | 4/1 GAL | 38.00 | 2 | 000000000000 |
    IL
honey | Honey, Raw, 6/5 LB | Raw honey, 5 lb pails | other | n | CS | 6/5 LB | 88.00 | 1 | 999999999999 | ND
"""


def _table(text: str) -> list[list[str]]:
    """Rows of a `|`-separated text table; a line starting with spaces continues the row above; `-` is empty."""
    rows: list[str] = []
    for line in text.strip("\n").splitlines():
        if line.startswith(" ") and rows:
            rows[-1] += " " + line.strip()
        elif line.strip():
            rows.append(line.strip())
    return [["" if cell.strip() == "-" else cell.strip() for cell in row.split("|")] for row in rows]


def _item(cells: list[str]) -> Item:
    """An Item from one row of ITEMS_TABLE."""
    key, desc, farm, category, unprocessed, unit, pack, price, weight, local_months, states = cells
    return Item(
        key,
        desc,
        farm,
        category,
        unprocessed == "y",
        unit,
        pack,
        float(price),
        float(weight),
        local_months,
        tuple(states.split()),
    )


ITEMS: Final = tuple(_item(cells) for cells in _table(ITEMS_TABLE))
_ITEM: Final = {i.key: i for i in ITEMS}


@dataclass(frozen=True)
class District:
    """A fictional member district: where it is, how big, how it defines local, how local it buys."""

    district_id: str
    name: str
    state: str
    zip: str
    students: int
    local_radius_miles: float | None = None
    local_states: tuple[str, ...] = ()
    local_counties: tuple[str, ...] = ()
    micro_purchase_threshold: float | None = None
    small_purchase_threshold: float | None = None
    local_intensity: float = 0.3  # how much of an item's locally available volume the district buys locally
    prefs: tuple[float, float, float] = (0.4, 0.3, 0.3)  # of local volume: direct, nontraditional, traditional


DISTRICTS: Final = (
    District(
        "riverbend",
        "Riverbend Public Schools",
        "MN",
        "55411",
        40_000,
        local_states=("MN", "WI"),
        micro_purchase_threshold=5000,
        small_purchase_threshold=175_000,
        local_intensity=0.30,
        prefs=(0.25, 0.35, 0.40),
    ),
    District(
        "cedar_valley",
        "Cedar Valley Community School District",
        "IA",
        "50613",
        11_500,
        local_states=("IA",),
        local_intensity=0.40,
        prefs=(0.35, 0.35, 0.30),
    ),
    District(
        "prairie_lakes",
        "Prairie Lakes Area Schools",
        "MN",
        "56001",
        7_800,
        local_radius_miles=100,
        local_intensity=0.45,
        prefs=(0.45, 0.25, 0.30),
    ),
    District(
        "driftless",
        "Driftless Valley School District",
        "WI",
        "54601",
        6_200,
        local_radius_miles=150,
        local_intensity=0.70,
        prefs=(0.45, 0.35, 0.20),
    ),
    District(
        "north_woods",
        "North Woods School District",
        "WI",
        "54501",
        2_400,
        local_counties=("Oneida County", "Vilas County", "Lincoln County", "Langlade County", "Marathon County"),
        local_intensity=0.55,
        prefs=(0.55, 0.20, 0.25),
    ),
    District(
        "loess_hills",
        "Loess Hills Community Schools",
        "IA",
        "51501",
        1_150,
        local_intensity=0.25,
        prefs=(0.60, 0.10, 0.30),
    ),
    District(
        "big_stone",
        "Big Stone Lakes School",
        "MN",
        "56278",
        310,
        local_radius_miles=60,
        local_states=("MN", "SD"),
        local_intensity=0.35,
        prefs=(0.60, 0.10, 0.30),
    ),
)


@dataclass(frozen=True)
class Vendor:
    """A vendor: registry entry (type, default origin) and what it sells, from where, how often."""

    name: str
    vendor_type: str
    state: str | None
    zip: str | None
    items: tuple[str, ...]
    local_items: tuple[str, ...] = ()  # items it sells as local product (the rest non-local)
    growers: tuple[str, ...] = ()  # origin ZIPs of its local product (own ZIP when empty)
    unknown_origin: float = 0.0  # share of its lines that carry no origin
    deliveries: str = "weekly"  # weekly, twice_weekly, biweekly, monthly, occasional
    registry_origin: bool = False  # whether the registry gives its ZIP as the default origin

    @property
    def also_nonlocal(self) -> bool:
        """Whether it sells its local items from non-local sources too (distributors, DoD Fresh, FSMC, buying co-op)."""
        return self.vendor_type in ("broadline_distributor", "dod_fresh", "fsmc", "buying_coop")


# name | vendor type | ZIP | deliveries | share of lines without origin | growers' ZIPs (origins of its local
# product; its own ZIP when empty) | items: `key+` sold as local product, `key` as non-local, `*` every item non-local
VENDORS_TABLE: Final = """
Hilltop Orchard | producer | 54631 | weekly | 0 | - | apples+ apples_hc+ honey+
Red Cedar Farm | producer | 54751 | weekly | 0 | - | carrots+ broccoli+ tomatoes+ cucumbers+ squash+ romaine+
Straight River Farm | producer | 55060 | weekly | 0 | - | potatoes+ sweet_corn+ squash+ carrots+ eggs+
Northern Lights Potato Farm | producer | 56470 | weekly | 0 | - | potatoes+
Wolf River Farm | producer | 54409 | weekly | 0 | - | potatoes+ carrots+ romaine+ ground_beef+
Marathon County Gardens | producer | 54401 | weekly | 0 | - | broccoli+ tomatoes+ cucumbers+ strawberries+
    squash+
Cedar River Beef | producer | 50677 | biweekly | 0 | - | ground_beef+ pork+
Loess Ridge Orchard | producer | 51534 | weekly | 0 | - | apples+ watermelon+ sweet_corn+
Missouri Bottoms Farm | producer | 68102 | weekly | 0 | - | sweet_corn+ tomatoes+ watermelon+ squash+
Prairie Pasture Eggs | producer | 56308 | weekly | 0 | - | eggs+ pork+
Upper Iowa Farm | producer | 52101 | weekly | 0 | - | apples+ carrots+ broccoli+ squash+ ground_beef+
Minnesota River Produce | producer | 56073 | weekly | 0 | - | potatoes+ sweet_corn+ tomatoes+ romaine+
    watermelon+
Mankato Farmers Market | farmers_market | 56001 | weekly | 0 | - | tomatoes+ cucumbers+ sweet_corn+
    strawberries+ squash+
Rhinelander Farmers Market | farmers_market | 54501 | weekly | 0 | - | tomatoes+ cucumbers+ romaine+
    strawberries+
Driftless Harvest CSA | csa | 54665 | weekly | 0 | - | romaine+ carrots+ broccoli+ tomatoes+ squash+
    strawberries+
Prairie Roots CSA | csa | 50010 | weekly | 0 | - | romaine+ tomatoes+ broccoli+ cucumbers+ squash+
Lake Superior Food Hub | food_hub | 55802 | biweekly | 0.04 | 56470 55060 54751 54631 | potatoes+ carrots+
    romaine+ squash+ apples+ oats+ flour+
Iowa Valley Food Hub | food_hub | 52240 | biweekly | 0.04 | 52101 50677 50010 51534 | apples+ carrots+ broccoli+
    tomatoes+ potatoes+ eggs+ ground_beef+ watermelon+
Kickapoo Valley Growers Cooperative | producer_coop | 54634 | biweekly | 0.05 | 54634 54665 54631 54656 |
    apples+ carrots+ squash+ broccoli+ cheese+ yogurt+
Red River Valley Growers Co-op | producer_coop | 56560 | monthly | 0 | 56560 56308 56470 | potatoes+ flour+
    oats+ honey+
Upper Midwest School Food Buying Group | buying_coop | 55101 | monthly | 0.1 | 55060 54631 56001 54656 | apples+
    potatoes+ ground_beef+ cheese+ chicken peaches rice
Minnesota Farm to School Program | state_program | 55101 | monthly | 0 | 55060 56470 56308 56001 56073 | apples+
    potatoes+ carrots+ ground_beef+ oats+
Iowa Local Food Purchase Program | state_program | 50309 | monthly | 0 | 52101 50677 50010 51534 50613 | apples+
    ground_beef+ pork+ eggs+ watermelon+
Wisconsin Farm to School Program | state_program | 53703 | monthly | 0 | 54631 54634 54409 54401 53703 | apples+
    cheese+ carrots+ potatoes+
Great Lakes Foodservice | broadline_distributor | 53081 | weekly | 0.2 | 54631 54409 54401 54634 53703 56470 | *
    potatoes+ apples+ carrots+ ground_beef+ turkey_deli+ cheese+ frozen_corn+ squash+
North Star Foodservice | broadline_distributor | 55121 | twice_weekly | 0.2 | 56470 55060 56308 56001 54751 | *
    potatoes+ apples+ carrots+ ground_beef+ turkey_deli+ cheese+ frozen_corn+ squash+
Heartland Foodservice | broadline_distributor | 50309 | weekly | 0.2 | 50677 52101 50010 51534 50613 | *
    potatoes+ apples+ carrots+ ground_beef+ turkey_deli+ cheese+ frozen_corn+ squash+
Cloverleaf Dairy | processor | 54656 | weekly | 0 | - | milk_white+ milk_choc+ milk_bulk+
Hawkeye Creamery | processor | 50613 | weekly | 0 | - | milk_white+ milk_choc+ milk_bulk+
Prairie Creamery | processor | 56308 | weekly | 0 | - | milk_white+ milk_choc+ milk_bulk+
Northland Bakery | processor | 55411 | weekly | 0 | - | bread+ buns+
Sauk Prairie Bakery | processor | 53703 | weekly | 0 | - | bread+ buns+
Heartland Meats | processor | 50010 | biweekly | 0 | - | ground_beef+ pork+ turkey_deli+
Prairie Pride Poultry | processor | 50010 | occasional | 0 | - | chicken+ turkey_deli+
DoD Fresh - Upper Midwest | dod_fresh | - | biweekly | 0.25 | 54631 56470 55060 52101 | apples+ apples_hc pears
    oranges bananas strawberries watermelon raisins carrots+ potatoes+ romaine tomatoes broccoli sweet_corn
    squash+ cucumbers frozen_corn
USDA Foods | usda_foods | - | monthly | 0.3 | - | chicken cheese black_beans rice peaches green_beans
    frozen_corn ground_beef peanut_butter pasta
Lakeside Dining Services | fsmc | 56308 | weekly | 0.3 | 56308 56470 56073 | * potatoes+ apples+ ground_beef+
County Line Market | other | - | occasional | 0.9 | - | bananas bread milk_bulk eggs oranges cheese
"""
_ORIGIN_IN_REGISTRY: Final = (*names.DIRECT_VENDOR_TYPES, "processor")  # vendors that grow or make what they sell


def _zip_state(zip_code: str) -> str | None:
    """The state of a ZIP code (zipcodes package), or None."""
    import zipcodes

    hit = zipcodes.matching(zip_code)
    return hit[0]["state"] if hit else None


def _vendor(cells: list[str]) -> Vendor:
    """A Vendor from one row of VENDORS_TABLE."""
    name, vendor_type, zip_code, deliveries, unknown, growers, tokens = cells
    items: list[str] = []
    local_items: list[str] = []
    for token in tokens.split():
        if token == "*":
            items += [i.key for i in ITEMS]
        elif token.endswith("+"):
            local_items.append(token[:-1])
            if token[:-1] not in items:
                items.append(token[:-1])
        else:
            items.append(token)
    return Vendor(
        name,
        vendor_type,
        _zip_state(zip_code) if zip_code else None,
        zip_code or None,
        tuple(items),
        tuple(local_items),
        tuple(growers.split()),
        float(unknown),
        deliveries,
        vendor_type in _ORIGIN_IN_REGISTRY,
    )


VENDORS: Final = tuple(_vendor(cells) for cells in _table(VENDORS_TABLE))
_VENDOR: Final = {v.name: v for v in VENDORS}

# which district buys from which vendor, with its weight within the vendor's route group
ASSIGNMENTS: Final = {
    "riverbend": {
        "North Star Foodservice": 3,
        "Great Lakes Foodservice": 1,
        "Cloverleaf Dairy": 1,
        "Northland Bakery": 1,
        "USDA Foods": 1,
        "DoD Fresh - Upper Midwest": 1,
        "Straight River Farm": 2,
        "Red Cedar Farm": 2,
        "Hilltop Orchard": 2,
        "Northern Lights Potato Farm": 1,
        "Prairie Pasture Eggs": 1,
        "Lake Superior Food Hub": 2,
        "Upper Midwest School Food Buying Group": 1,
        "Minnesota Farm to School Program": 1,
        "Kickapoo Valley Growers Cooperative": 1,
        "Driftless Harvest CSA": 1,
        "Heartland Meats": 1,
    },
    "cedar_valley": {
        "Heartland Foodservice": 1,
        "Hawkeye Creamery": 1,
        "Northland Bakery": 1,
        "USDA Foods": 1,
        "DoD Fresh - Upper Midwest": 1,
        "Cedar River Beef": 2,
        "Upper Iowa Farm": 2,
        "Prairie Roots CSA": 1,
        "Hilltop Orchard": 1,
        "Iowa Valley Food Hub": 2,
        "Iowa Local Food Purchase Program": 1,
        "Heartland Meats": 1,
    },
    "prairie_lakes": {
        "North Star Foodservice": 1,
        "Cloverleaf Dairy": 1,
        "Northland Bakery": 1,
        "USDA Foods": 1,
        "Straight River Farm": 2,
        "Mankato Farmers Market": 1,
        "Minnesota River Produce": 2,
        "Red Cedar Farm": 1,
        "Minnesota Farm to School Program": 1,
        "Upper Midwest School Food Buying Group": 1,
        "Red River Valley Growers Co-op": 1,
        "County Line Market": 0.1,
    },
    "driftless": {
        "Great Lakes Foodservice": 1,
        "Cloverleaf Dairy": 1,
        "Sauk Prairie Bakery": 1,
        "USDA Foods": 1,
        "DoD Fresh - Upper Midwest": 1,
        "Hilltop Orchard": 2,
        "Red Cedar Farm": 2,
        "Driftless Harvest CSA": 2,
        "Upper Iowa Farm": 1,
        "Marathon County Gardens": 1,
        "Kickapoo Valley Growers Cooperative": 3,
        "Wisconsin Farm to School Program": 1,
    },
    "north_woods": {
        "Great Lakes Foodservice": 1,
        "Cloverleaf Dairy": 1,
        "Sauk Prairie Bakery": 1,
        "USDA Foods": 1,
        "Wolf River Farm": 2,
        "Marathon County Gardens": 2,
        "Rhinelander Farmers Market": 1,
        "Red Cedar Farm": 1,
        "Lake Superior Food Hub": 1,
        "Wisconsin Farm to School Program": 1,
        "County Line Market": 0.1,
    },
    "loess_hills": {
        "Lakeside Dining Services": 1,
        "Hawkeye Creamery": 1,
        "USDA Foods": 1,
        "Loess Ridge Orchard": 2,
        "Missouri Bottoms Farm": 1,
        "Prairie Roots CSA": 1,
        "Iowa Valley Food Hub": 1,
        "County Line Market": 0.1,
    },
    "big_stone": {
        "Lakeside Dining Services": 1,
        "Prairie Creamery": 1,
        "USDA Foods": 1,
        "Minnesota River Produce": 2,
        "Prairie Pasture Eggs": 1,
        "Northern Lights Potato Farm": 1,
        "Minnesota Farm to School Program": 1,
        "County Line Market": 0.1,
    },
}

# --- planted procurement patterns (see data/sample/README.md) ------------------------------------------------
SPLIT_DISTRICT: Final = "cedar_valley"
SPLIT_VENDOR: Final = "Prairie Pride Poultry"
# (date, invoice_no, [(item key, quantity, unit price)]): each invoice under $10,000, together $19,270.00
SPLIT_INVOICES: Final = (
    (date(2025, 2, 4), "PPP-250204-01", (("chicken", 40, 121.50), ("turkey_deli", 24, 52.75))),
    (date(2025, 2, 13), "PPP-250213-01", (("chicken", 45, 121.50), ("turkey_deli", 30, 52.75))),
    (date(2025, 2, 25), "PPP-250225-01", (("chicken", 38, 121.50), ("turkey_deli", 28, 52.75))),
)
MILK_CONTRACT_DISTRICT: Final = "driftless"
MILK_CONTRACT_VENDOR: Final = "Cloverleaf Dairy"

# --- imported food (Buy American, issue 21) -------------------------------------------------------------------
# Bananas are grown abroad: a banana line with an origin names one of these countries (ISO 3166-1 alpha-2).
BANANA_COUNTRIES: Final = ("GT", "EC", "CR", "HN")
# Planted imported lines in school year 2025-26, one delivery a month September to May, added to the drawn lines:
# (district, vendor, invoice prefix, [(description, category, unit, pack, quantity, unit price, country)]).
# big_stone's imported share goes over the 10 % cap; north_woods stays under it.
IMPORTED_DELIVERIES: Final = (
    (
        "big_stone",
        "Lakeside Dining Services",
        "LDS-IMP",
        (
            ("Mangoes, Fresh, Tommy Atkins, 9ct", "fruit", "CS", "10 LB", 8.0, 30.00, "MX"),
            ("Shrimp, Cooked, Peeled and Deveined, 31/40, 5/2 LB", "protein", "CS", "5/2 LB", 10.0, 95.00, "VN"),
        ),
    ),
    (
        "north_woods",
        "Great Lakes Foodservice",
        "GLF-IMP",
        (
            ("Mangoes, Fresh, Tommy Atkins, 9ct", "fruit", "CS", "10 LB", 10.0, 29.50, "MX"),
            ("Tilapia Fillets, IQF, 4 OZ, 10 LB", "protein", "CS", "10 LB", 12.0, 82.00, "CN"),
        ),
    ),
)
IMPORTED_MONTHS: Final = ((2025, 9), (2025, 10), (2025, 11), (2025, 12), (2026, 1), (2026, 2), (2026, 3), (2026, 4),
                          (2026, 5))  # fmt: skip
EXCEPTIONS_FILE: Final = "buy_american_exceptions.csv"
USERS_FILE: Final = "users.csv"
# one user per role, for `--as EMAIL` and sign-in (README "Sign-in and roles"); example.org addresses only
USERS: Final = (
    ("coordinator@coop.example.org", names.COORDINATOR, None),
    ("director@bigstone.example.org", names.DISTRICT_ROLE, "big_stone"),
    ("partner@foodhub.example.org", names.PARTNER, "driftless;loess_hills"),
    ("board@coop.example.org", names.VIEWER, None),
)


def users_frame() -> pl.DataFrame:
    """The sample's users as the users file holds them."""
    return pl.DataFrame(USERS, schema=[names.EMAIL, names.ROLE, names.USER_DISTRICTS], orient="row")


# documented Buy American exceptions of the sample districts (7 CFR 210.21(d)(2))
SAMPLE_EXCEPTIONS: Final = (
    ("big_stone", "bananas", "not produced in the US in sufficient and reasonably available quantities of "
     "satisfactory quality (on the FAR nonavailable articles list, 48 CFR 25.104)", "food service director",
     date(2025, 7, 15)),
    ("north_woods", "tilapia", "competitive bids: the domestic product costs significantly more",
     "business manager", date(2025, 8, 20)),
)  # fmt: skip

_GROUP_OF_TYPE: Final = {
    **dict.fromkeys(names.DIRECT_VENDOR_TYPES, names.DIRECT_LOCAL),
    **dict.fromkeys(names.NONTRADITIONAL_VENDOR_TYPES, names.NONTRADITIONAL_LOCAL),
    **dict.fromkeys(names.TRADITIONAL_VENDOR_TYPES, names.TRADITIONAL_LOCAL),
}
_WEEKLY_RATE: Final = {"twice_weekly": 2.0, "weekly": 1.0, "biweekly": 0.5, "monthly": 0.25, "occasional": 0.15}
BLANK_SHARE: Final = 0.06  # share of lines whose vendor_type, category or unprocessed is left blank (each)


@dataclass(frozen=True)
class SampleCoop:
    """A generated co-op: districts, vendor registry, monthly meal counts, and purchase lines per district."""

    districts: pl.DataFrame
    vendors: pl.DataFrame
    meal_counts: pl.DataFrame
    purchases: dict[str, pl.DataFrame]
    contracts: pl.DataFrame

    @property
    def all_purchases(self) -> pl.DataFrame:
        """Every district's purchase lines in one frame."""
        return pl.concat(list(self.purchases.values()))


# --- building blocks ---------------------------------------------------------------------------------------
def _months() -> list[date]:
    """First days of the 24 months of the two school years."""
    out, current = [], FIRST_DAY
    while current <= LAST_DAY:
        out.append(current)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return out


def _stable(text: str) -> int:
    """A stable small integer from a text (for weekdays and invoice prefixes)."""
    return zlib.crc32(text.encode())


def district_frame() -> pl.DataFrame:
    """The districts table in the shape `coop.districts.upsert` takes."""
    rows = []
    for d in DISTRICTS:
        rows.append(
            {
                names.DISTRICT_ID: d.district_id,
                names.NAME: d.name,
                names.STATE: d.state,
                names.ZIP: d.zip,
                names.LOCAL_RADIUS_MILES: d.local_radius_miles,
                names.LOCAL_STATES: list(d.local_states) or None,
                names.LOCAL_COUNTIES: list(d.local_counties) or None,
                names.ANNUAL_MEALS: None,
                names.MICRO_PURCHASE_THRESHOLD: d.micro_purchase_threshold,
                names.SMALL_PURCHASE_THRESHOLD: d.small_purchase_threshold,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            names.DISTRICT_ID: pl.String,
            names.NAME: pl.String,
            names.STATE: pl.String,
            names.ZIP: pl.String,
            names.LOCAL_RADIUS_MILES: pl.Float64,
            names.LOCAL_STATES: pl.List(pl.String),
            names.LOCAL_COUNTIES: pl.List(pl.String),
            names.ANNUAL_MEALS: pl.Int64,
            names.MICRO_PURCHASE_THRESHOLD: pl.Float64,
            names.SMALL_PURCHASE_THRESHOLD: pl.Float64,
        },
    )


# procurement method of each standing supply relationship (vendor type -> method); USDA Foods and DoD Fresh are
# entitlement programmes, not procurements. The planted split vendor and the retail store have no contract.
CONTRACT_METHOD: Final = {
    **dict.fromkeys(("broadline_distributor", "processor", "fsmc"), "formal"),
    **dict.fromkeys(names.DIRECT_VENDOR_TYPES + names.NONTRADITIONAL_VENDOR_TYPES, "small_purchase"),
    **dict.fromkeys(("usda_foods", "dod_fresh"), "entitlement"),
}
SCHOOL_YEARS: Final = ((date(2024, 7, 1), date(2025, 6, 30)), (date(2025, 7, 1), date(2026, 6, 30)))


def contract_frame() -> pl.DataFrame:
    """Standing contracts per district, vendor and school year: method (formal, small_purchase, entitlement)."""
    rows = [
        (district_id, vendor_name, CONTRACT_METHOD[_VENDOR[vendor_name].vendor_type], start, end)
        for district_id, assigned in ASSIGNMENTS.items()
        for vendor_name in assigned
        if _VENDOR[vendor_name].vendor_type in CONTRACT_METHOD and vendor_name != SPLIT_VENDOR
        for start, end in SCHOOL_YEARS
    ]
    return pl.DataFrame(
        rows,
        schema={
            names.DISTRICT_ID: pl.String,
            names.VENDOR_NAME: pl.String,
            names.METHOD: pl.String,
            names.START_DATE: pl.Date,
            names.END_DATE: pl.Date,
        },
        orient="row",
    )


def vendor_frame() -> pl.DataFrame:
    """The vendor registry: name, type, and the default origin of vendors that grow what they sell."""
    return pl.DataFrame(
        [
            {
                names.VENDOR_NAME: v.name,
                names.VENDOR_TYPE: v.vendor_type,
                names.ORIGIN_STATE: v.state if v.registry_origin else None,
                names.ORIGIN_ZIP: v.zip if v.registry_origin else None,
            }
            for v in VENDORS
        ],
        schema={c: pl.String for c in vendors.COLUMNS},
    )


def meal_frame(rng: np.random.Generator) -> pl.DataFrame:
    """Monthly meals per district: students x participation x serving days, with +/-3 % noise."""
    rows = []
    for d in DISTRICTS:
        for month in _months():
            days = _SERVING_DAYS[month.month]
            noise = 1.0 + rng.normal(0.0, 0.03)
            rows.append((d.district_id, month, round(d.students * MEALS_PER_STUDENT_DAY * days * noise)))
    return pl.DataFrame(
        rows, schema={names.DISTRICT_ID: pl.String, names.MONTH: pl.Date, names.MEALS: pl.Int64}, orient="row"
    )


def _availability(item: Item, month: int) -> float:
    """Local availability of an item in a calendar month, 0..1."""
    return int(item.local[month - 1]) / 9.0


def _offers() -> pl.DataFrame:
    """(vendor, item, group, local product?) for every item a vendor sells, with its price factor."""
    rows = []
    for v in VENDORS:
        for key in v.items:
            sources = [key in v.local_items]
            if sources[0] and v.also_nonlocal:
                sources.append(False)
            for is_local in sources:
                group = _GROUP_OF_TYPE[v.vendor_type] if is_local else names.TRADITIONAL_NONLOCAL
                factor = PAPER_RATIO[group] * TYPE_PRICE_FACTOR.get(v.vendor_type, 1.0)
                rows.append((v.name, key, group, is_local, factor))
    return pl.DataFrame(rows, schema=["vendor", "item", "group", "is_local", "price_factor"], orient="row")


def _delivery_dates(vendor: Vendor, district_id: str, sites: int) -> list[tuple[date, int]]:
    """(date, site) of each delivery of a vendor to a district over the two years, on the vendor's weekday."""
    weekday = _stable(vendor.name + district_id) % 5
    rate = _WEEKLY_RATE[vendor.deliveries]
    out: list[tuple[date, int]] = []
    first = FIRST_DAY + timedelta(days=(weekday - FIRST_DAY.weekday()) % 7)
    week = 0
    day = first
    while day <= LAST_DAY:
        for site in range(sites):
            if rate >= 1.0:
                out.append((day, site))
                if rate >= 2.0 and day + timedelta(days=2) <= LAST_DAY:
                    out.append((day + timedelta(days=2), site))
            elif (week + site) % round(1 / rate) == 0:
                out.append((day, site))
        week += 1
        day += timedelta(days=7)
    return out


def _candidates(sites: int) -> pl.DataFrame:
    """Every possible line (district, vendor, delivery, item) before thinning, with its route group."""
    offers = _offers()
    rows = []
    for d in DISTRICTS:
        for vendor_name, weight in ASSIGNMENTS[d.district_id].items():
            vendor = _VENDOR[vendor_name]
            if vendor_name == SPLIT_VENDOR:
                continue
            for day, site in _delivery_dates(vendor, d.district_id, sites):
                rows.append((d.district_id, vendor_name, float(weight), day, site))
    deliveries = pl.DataFrame(
        rows, schema=["district_id", "vendor", "vendor_weight", "invoice_date", "site"], orient="row"
    )
    avail = pl.DataFrame(
        [(i.key, m, _availability(i, m)) for i in ITEMS for m in range(1, 13)],
        schema=["item", "cal_month", "avail"],
        orient="row",
    )
    return (
        deliveries.join(offers, on="vendor")
        .with_columns(pl.col("invoice_date").dt.month().cast(pl.Int64).alias("cal_month"))
        .join(avail, on=["item", "cal_month"])
        .filter(~pl.col("is_local") | (pl.col("avail") > 0))
        .with_columns(pl.col("invoice_date").dt.month_start().alias("month"))
    )


def _select_lines(cand: pl.DataFrame, rows: int, rng: np.random.Generator) -> pl.DataFrame:
    """Exactly `rows` candidate lines, drawn without replacement, favouring each vendor's main items."""
    if rows > cand.height:
        raise CoopError(f"cannot draw {rows} lines from {cand.height} candidates")
    # weight: local produce in season and the big items are more likely to be on an invoice
    item_weight = pl.DataFrame({"item": [i.key for i in ITEMS], "iw": [0.5 + i.weight / 3 for i in ITEMS]})
    weights = (
        cand.join(item_weight, on="item", how="left")["iw"].to_numpy()
        * (0.4 + cand["avail"].to_numpy() * cand["is_local"].cast(pl.Float64).to_numpy())
        * np.where(cand["is_local"].to_numpy(), 1.0, 0.8)
    )
    # Efraimidis-Spirakis weighted sampling without replacement: top `rows` of u^(1/w)
    keys = np.log(rng.random(cand.height)) / weights
    chosen = np.argpartition(-keys, rows - 1)[:rows]
    return cand[np.sort(chosen)]


def _nonlocal_supply() -> pl.DataFrame:
    """(district_id, item, has_nonlocal): whether any of the district's vendors sells the item as non-local."""
    rows = {
        (d, key)
        for d, assigned in ASSIGNMENTS.items()
        for vendor_name in assigned
        for key in _VENDOR[vendor_name].items
        if key not in _VENDOR[vendor_name].local_items or _VENDOR[vendor_name].also_nonlocal
    }
    return pl.DataFrame(
        [(d, key, True) for d, key in sorted(rows)], schema=["district_id", "item", "has_nonlocal"], orient="row"
    )


def _allocate(lines: pl.DataFrame, meal_counts: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Quantities per line: each month's meal-equivalent need per item, split over route groups and vendors."""
    dist = pl.DataFrame(
        {
            "district_id": [d.district_id for d in DISTRICTS],
            "intensity": [d.local_intensity for d in DISTRICTS],
            "p_direct": [d.prefs[0] for d in DISTRICTS],
            "p_nontrad": [d.prefs[1] for d in DISTRICTS],
            "p_trad": [d.prefs[2] for d in DISTRICTS],
        }
    )
    cat_weight = {c: sum(i.weight for i in ITEMS if i.category == c) for c in CATEGORY_SHARE}
    items = pl.DataFrame(
        {
            "item": [i.key for i in ITEMS],
            "item_share": [CATEGORY_SHARE[i.category] * i.weight / cat_weight[i.category] for i in ITEMS],
            "base_price": [i.price for i in ITEMS],
        }
    )
    base_cost = PAPER_COST_PER_MEAL[names.TRADITIONAL_NONLOCAL]
    need = meal_counts.select("district_id", "month", (pl.col(names.MEALS) * base_cost).alias("budget"))
    frame = (
        lines.join(dist, on="district_id")
        .join(items, on="item")
        .join(need, on=["district_id", "month"])
        .with_columns(
            # quantity (in the item's unit) the district needs in the month, at non-local prices
            (pl.col("budget") * pl.col("item_share") / pl.col("base_price")).alias("need_qty"),
            # local fraction of that need in this month
            (pl.col("intensity") * pl.col("avail")).clip(upper_bound=0.9).alias("local_frac"),
            pl.when(pl.col("group") == names.DIRECT_LOCAL)
            .then(pl.col("p_direct"))
            .when(pl.col("group") == names.NONTRADITIONAL_LOCAL)
            .then(pl.col("p_nontrad"))
            .when(pl.col("group") == names.TRADITIONAL_LOCAL)
            .then(pl.col("p_trad"))
            .otherwise(1.0)
            .alias("group_pref"),
        )
    )
    key = ["district_id", "month", "item"]
    # group weight: local groups share local_frac by preference, the non-local group gets the rest;
    # groups with no line in the month drop out and the others are renormalised
    frame = frame.with_columns(
        pl.when(pl.col("group") == names.TRADITIONAL_NONLOCAL)
        .then(1.0 - pl.col("local_frac"))
        .otherwise(pl.col("local_frac") * pl.col("group_pref"))
        .alias("group_weight")
    )
    groups = frame.unique([*key, "group"]).select(*key, "group", "group_weight", "local_frac")
    # the local fraction is shared by the local groups present (by preference); the non-local group gets the rest,
    # or everything when no local group delivers; a missing non-local group leaves its part unbought
    is_local_group = pl.col("group") != names.TRADITIONAL_NONLOCAL
    local_pref_sum = pl.col("group_weight").filter(is_local_group).sum().over(key)
    any_local = is_local_group.any().over(key)
    local_total = pl.when(pl.col("has_nonlocal")).then(pl.col("local_frac")).otherwise(1.0)
    groups = groups.join(_nonlocal_supply(), on=["district_id", "item"], how="left").with_columns(
        pl.col("has_nonlocal").fill_null(False)
    )
    groups = groups.with_columns(
        pl.when(~is_local_group)
        .then(pl.when(any_local).then(pl.col("group_weight")).otherwise(1.0))
        .otherwise((pl.col("group_weight") / local_pref_sum * local_total).fill_nan(0.0))
        .alias("group_share")
    )
    vend = (
        frame.group_by([*key, "group", "vendor"])
        .agg(pl.col("vendor_weight").first(), pl.len().alias("n_lines"))
        .with_columns((pl.col("vendor_weight") / pl.col("vendor_weight").sum().over([*key, "group"])).alias("v_share"))
    )
    frame = frame.join(groups.select(*key, "group", "group_share"), on=[*key, "group"]).join(
        vend.select(*key, "group", "vendor", "v_share", "n_lines"), on=[*key, "group", "vendor"]
    )
    noise = np.exp(rng.normal(0.0, 0.35, frame.height))
    return frame.with_columns(
        (pl.col("need_qty") * pl.col("group_share") * pl.col("v_share") / pl.col("n_lines") * noise).alias("raw_qty")
    )


def _finish_lines(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Canonical purchase columns: descriptions, prices to the cent, origins, invoice numbers, some blanks."""
    n = frame.height
    item_cols = pl.DataFrame(
        {
            "item": [i.key for i in ITEMS],
            "dist_desc": [i.description for i in ITEMS],
            "farm_desc": [i.farm_description for i in ITEMS],
            "category": [i.category for i in ITEMS],
            "unprocessed": [i.unprocessed for i in ITEMS],
            "unit": [i.unit for i in ITEMS],
            "pack": [i.pack or None for i in ITEMS],
            "base_price": [i.price for i in ITEMS],
            "nonlocal_states": [list(i.nonlocal_states) for i in ITEMS],
        }
    )
    vend_cols = pl.DataFrame(
        {
            "vendor": [v.name for v in VENDORS],
            "vendor_type": [v.vendor_type for v in VENDORS],
            "v_zip": [v.zip for v in VENDORS],
            "v_state": [v.state for v in VENDORS],
            "growers": [list(v.growers) or ([v.zip] if v.zip else []) for v in VENDORS],
            "unknown_origin": [v.unknown_origin for v in VENDORS],
            "registry_origin": [v.registry_origin for v in VENDORS],
        }
    )
    frame = frame.drop("base_price").join(item_cols, on="item").join(vend_cols, on="vendor")
    direct = pl.col("vendor_type").is_in(list(names.DIRECT_VENDOR_TYPES))
    years = (pl.col("invoice_date") - pl.lit(FIRST_DAY)).dt.total_days() / 365.25
    frame = frame.with_columns(
        pl.Series("_price_noise", np.exp(rng.normal(0.0, 0.04, n))),
        pl.Series("_u_grower", rng.random(n)),
        pl.Series("_u_state", rng.random(n)),
        pl.Series("_u_unknown", rng.random(n)),
        pl.Series("_u_own", rng.random(n)),
        *[pl.Series(f"_u_blank{k}", rng.random(n)) for k in range(3)],
    )
    frame = frame.with_columns(
        (pl.col("base_price") * pl.col("price_factor") * (1 + PRICE_DRIFT_PER_YEAR * years) * pl.col("_price_noise"))
        .round(2)
        .clip(lower_bound=0.01)
        .alias("unit_price"),
        pl.when(pl.col("unit").is_in(["LB", "GAL"]))
        .then(pl.col("raw_qty").round(1).clip(lower_bound=0.5))
        .otherwise(pl.col("raw_qty").round(0).clip(lower_bound=1.0))
        .alias("quantity"),
        pl.when(direct).then(pl.col("farm_desc")).otherwise(pl.col("dist_desc")).alias("product"),
    )
    grower = pl.col("growers").list.get(
        (pl.col("_u_grower") * pl.col("growers").list.len()).cast(pl.Int64), null_on_oob=True
    )
    nl_state = pl.col("nonlocal_states").list.get(
        (pl.col("_u_state") * pl.col("nonlocal_states").list.len()).cast(pl.Int64), null_on_oob=True
    )
    unknown = pl.col("_u_unknown") < pl.col("unknown_origin")
    frame = frame.with_columns(
        pl.when(unknown).then(None).when(pl.col("is_local")).then(grower).otherwise(None).alias("origin_zip"),
        pl.when(unknown)
        .then(None)
        .when(pl.col("is_local"))
        .then(None)  # filled from the ZIP below
        .otherwise(nl_state)
        .alias("origin_state"),
    )
    zips = pl.DataFrame(
        {"origin_zip": sorted({z for v in VENDORS for z in ([*v.growers, v.zip] if v.zip else list(v.growers))})}
    )
    zips = zips.with_columns(pl.col("origin_zip").map_elements(_zip_state, return_dtype=pl.String).alias("_zip_state"))
    frame = frame.join(zips, on="origin_zip", how="left").with_columns(
        pl.coalesce("origin_state", "_zip_state").alias("origin_state")
    )
    # a direct vendor's line names its own farm; the registry would fill it anyway, so mostly leave it to it
    frame = frame.with_columns(
        pl.when(pl.col("registry_origin") & (pl.col("_u_own") < 0.5))
        .then(None)
        .otherwise(pl.col("origin_zip"))
        .alias("origin_zip"),
        pl.when(pl.col("registry_origin") & (pl.col("_u_own") < 0.5))
        .then(None)
        .otherwise(pl.col("origin_state"))
        .alias("origin_state"),
    )
    # an imported item's line with an origin names its country (drawn from the state draw: no new random numbers)
    banana_country = pl.lit(list(BANANA_COUNTRIES)).list.get(
        (pl.col("_u_state") * len(BANANA_COUNTRIES)).cast(pl.Int64)
    )
    frame = frame.with_columns(
        pl.when((pl.col("item") == "bananas") & ~unknown).then(banana_country).otherwise(None).alias("origin_country")
    )
    frame = frame.with_columns(
        (pl.col("quantity") * pl.col("unit_price")).round(2).alias("extended_price"),
        pl.concat_str(
            [
                pl.col("vendor").map_elements(_vendor_code, return_dtype=pl.String),
                pl.col("invoice_date").dt.strftime("%y%m%d"),
                pl.col("district_id").map_elements(lambda d: f"{_stable(d) % 90 + 10}", return_dtype=pl.String)
                + pl.col("site").cast(pl.String).str.zfill(2),
            ],
            separator="-",
        ).alias("invoice_no"),
        pl.when(pl.col("_u_blank0") < BLANK_SHARE).then(None).otherwise(pl.col("vendor_type")).alias("vendor_type"),
        pl.when(pl.col("_u_blank1") < BLANK_SHARE).then(None).otherwise(pl.col("category")).alias("category"),
        pl.when(pl.col("_u_blank2") < BLANK_SHARE)
        .then(None)
        .otherwise(pl.col("unprocessed").cast(pl.String).str.to_lowercase())
        .alias("unprocessed"),
    )
    return frame


def _vendor_code(name: str) -> str:
    """Invoice prefix of a vendor: its initials (up to 4 letters)."""
    letters = "".join(w[0] for w in name.replace("-", " ").split() if w[0].isalpha()).upper()
    return letters[:4] or "INV"


PURCHASE_COLUMNS: Final = (
    names.DISTRICT_ID,
    names.INVOICE_DATE,
    names.INVOICE_NO,
    names.VENDOR_NAME,
    names.VENDOR_TYPE,
    names.PRODUCT,
    names.CATEGORY,
    names.UNPROCESSED,
    names.QUANTITY,
    names.UNIT,
    names.PACK_SIZE,
    names.UNIT_PRICE,
    names.EXTENDED_PRICE,
    names.ORIGIN_STATE,
    names.ORIGIN_ZIP,
    names.ORIGIN_COUNTRY,
)
PURCHASE_SCHEMA: Final = {
    names.DISTRICT_ID: pl.String,
    names.INVOICE_DATE: pl.Date,
    names.INVOICE_NO: pl.String,
    names.VENDOR_NAME: pl.String,
    names.VENDOR_TYPE: pl.String,
    names.PRODUCT: pl.String,
    names.CATEGORY: pl.String,
    names.UNPROCESSED: pl.String,
    names.QUANTITY: pl.Float64,
    names.UNIT: pl.String,
    names.PACK_SIZE: pl.String,
    names.UNIT_PRICE: pl.Float64,
    names.EXTENDED_PRICE: pl.Float64,
    names.ORIGIN_STATE: pl.String,
    names.ORIGIN_ZIP: pl.String,
    names.ORIGIN_COUNTRY: pl.String,
}


def _canonical(frame: pl.DataFrame) -> pl.DataFrame:
    """The canonical purchase columns, in order and typed."""
    return frame.select(
        pl.col("district_id").alias(names.DISTRICT_ID),
        pl.col("invoice_date").alias(names.INVOICE_DATE),
        pl.col("invoice_no").alias(names.INVOICE_NO),
        pl.col("vendor").alias(names.VENDOR_NAME),
        pl.col("vendor_type").alias(names.VENDOR_TYPE),
        pl.col("product").alias(names.PRODUCT),
        pl.col("category").alias(names.CATEGORY),
        pl.col("unprocessed").alias(names.UNPROCESSED),
        pl.col("quantity").alias(names.QUANTITY),
        pl.col("unit").alias(names.UNIT),
        pl.col("pack").alias(names.PACK_SIZE),
        pl.col("unit_price").alias(names.UNIT_PRICE),
        pl.col("extended_price").alias(names.EXTENDED_PRICE),
        pl.col("origin_state").alias(names.ORIGIN_STATE),
        pl.col("origin_zip").alias(names.ORIGIN_ZIP),
        pl.col("origin_country").alias(names.ORIGIN_COUNTRY),
    ).cast(PURCHASE_SCHEMA)


def planted_lines() -> pl.DataFrame:
    """The planted split purchase: three invoices from one vendor within 30 days, each under the threshold."""
    vendor = _VENDOR[SPLIT_VENDOR]
    rows = []
    for day, invoice_no, lines in SPLIT_INVOICES:
        for key, quantity, price in lines:
            item = _ITEM[key]
            rows.append(
                {
                    names.DISTRICT_ID: SPLIT_DISTRICT,
                    names.INVOICE_DATE: day,
                    names.INVOICE_NO: invoice_no,
                    names.VENDOR_NAME: vendor.name,
                    names.VENDOR_TYPE: vendor.vendor_type,
                    names.PRODUCT: item.description,
                    names.CATEGORY: item.category,
                    names.UNPROCESSED: str(item.unprocessed).lower(),
                    names.QUANTITY: float(quantity),
                    names.UNIT: item.unit,
                    names.PACK_SIZE: item.pack or None,
                    names.UNIT_PRICE: price,
                    names.EXTENDED_PRICE: round(quantity * price, 2),
                    names.ORIGIN_STATE: vendor.state,
                    names.ORIGIN_ZIP: vendor.zip,
                    names.ORIGIN_COUNTRY: None,
                }
            )
    return pl.DataFrame(rows, schema=PURCHASE_SCHEMA)


def imported_lines() -> pl.DataFrame:
    """The planted imported lines (IMPORTED_DELIVERIES): monthly deliveries with their origin country only."""
    rows = []
    for district_id, vendor_name, prefix, items in IMPORTED_DELIVERIES:
        vendor = _VENDOR[vendor_name]
        for year, month in IMPORTED_MONTHS:
            day = date(year, month, 8 + _stable(district_id + vendor_name) % 7)
            for description, category, unit, pack, quantity, price, country in items:
                rows.append(
                    {
                        names.DISTRICT_ID: district_id,
                        names.INVOICE_DATE: day,
                        names.INVOICE_NO: f"{prefix}-{day:%y%m%d}",
                        names.VENDOR_NAME: vendor.name,
                        names.VENDOR_TYPE: vendor.vendor_type,
                        names.PRODUCT: description,
                        names.CATEGORY: category,
                        names.UNPROCESSED: "true",
                        names.QUANTITY: quantity,
                        names.UNIT: unit,
                        names.PACK_SIZE: pack,
                        names.UNIT_PRICE: price,
                        names.EXTENDED_PRICE: round(quantity * price, 2),
                        names.ORIGIN_STATE: None,
                        names.ORIGIN_ZIP: None,
                        names.ORIGIN_COUNTRY: country,
                    }
                )
    return pl.DataFrame(rows, schema=PURCHASE_SCHEMA)


def exception_frame() -> pl.DataFrame:
    """The sample districts' documented Buy American exceptions."""
    return pl.DataFrame(
        SAMPLE_EXCEPTIONS,
        schema={
            names.DISTRICT_ID: pl.String,
            names.PRODUCT: pl.String,
            names.EXCEPTION_REASON: pl.String,
            names.APPROVED_BY: pl.String,
            names.APPROVED_ON: pl.Date,
        },
        orient="row",
    )


def _expected_candidates() -> int:
    """Number of candidate lines with one delivery site per district."""
    return _candidates(1).height


def generate(rows: int | None = None, seed: int = DEFAULT_SEED) -> SampleCoop:
    """A deterministic sample co-op for a seed: districts, vendors, meal counts and `rows` purchase lines.

    The planted imported lines (`imported_lines`, 36) come on top of the `rows`.
    """
    target = DEFAULT_ROWS if rows is None else int(rows)
    planted = planted_lines()
    if target < planted.height + len(DISTRICTS):
        raise CoopError(f"rows must be at least {planted.height + len(DISTRICTS)}, got {target}")
    rng = np.random.default_rng(seed)
    meal_counts = meal_frame(rng)
    base = _expected_candidates()
    sites = max(1, math.ceil((target - planted.height) * 1.25 / base))
    cand = _candidates(sites)
    lines = _select_lines(cand, target - planted.height, rng)
    allocated = _allocate(lines, meal_counts, rng)
    finished = _canonical(_finish_lines(allocated, rng))
    # the imported lines come on top of the drawn ones (the draw, and every other line, stays as it was)
    purchases_all = pl.concat([finished, planted, imported_lines()]).sort(
        names.DISTRICT_ID, names.INVOICE_DATE, names.INVOICE_NO
    )
    annual = meal_counts.group_by(names.DISTRICT_ID).agg((pl.col(names.MEALS).sum() / 2).round(0).cast(pl.Int64))
    district_table = (
        district_frame()
        .drop(names.ANNUAL_MEALS)
        .join(annual.rename({names.MEALS: names.ANNUAL_MEALS}), on=names.DISTRICT_ID, how="left")
        .select(names.DISTRICT_COLUMNS)
    )
    purchases = {d.district_id: purchases_all.filter(pl.col(names.DISTRICT_ID) == d.district_id) for d in DISTRICTS}
    return SampleCoop(district_table, vendor_frame(), meal_counts, purchases, contract_frame())


# --- files -----------------------------------------------------------------------------------------------------
def purchase_path(out_dir: Path, district_id: str) -> Path:
    """Where a district's purchase file lives: Parquet for the biggest district, CSV for the others."""
    suffix = ".parquet" if district_id == DISTRICTS[0].district_id else ".csv"
    return Path(out_dir) / PURCHASES_DIR / f"{district_id}{suffix}"


def _write_csv(frame: pl.DataFrame, path: Path) -> None:
    """Write a frame as CSV with dates ISO and money to the cent."""
    frame.write_csv(path, date_format="%Y-%m-%d", float_precision=2)


def write(sample: SampleCoop, out_dir: Path) -> list[Path]:
    """Write the sample's districts, vendors, meal counts and one purchase file per district; return the paths."""
    out_dir = Path(out_dir)
    (out_dir / PURCHASES_DIR).mkdir(parents=True, exist_ok=True)
    written = []
    district_csv = sample.districts.with_columns(
        pl.col(names.LOCAL_STATES).list.join(";"), pl.col(names.LOCAL_COUNTIES).list.join(";")
    )
    for frame, name in (
        (district_csv, DISTRICTS_FILE),
        (sample.vendors, VENDORS_FILE),
        (sample.contracts, CONTRACTS_FILE),
        (exception_frame(), EXCEPTIONS_FILE),
        (users_frame(), USERS_FILE),
    ):
        _write_csv(frame, out_dir / name)
        written.append(out_dir / name)
    sample.meal_counts.with_columns(pl.col(names.MONTH).dt.strftime("%Y-%m")).write_csv(out_dir / MEALS_FILE)
    written.append(out_dir / MEALS_FILE)
    for district_id, frame in sample.purchases.items():
        path = purchase_path(out_dir, district_id)
        if path.suffix == ".parquet":
            frame.write_parquet(path, compression="zstd", statistics=False)
        else:
            _write_csv(frame, path)
        written.append(path)
    return written


def _sample_files(sample_dir: Path) -> tuple[Path, Path, Path, list[tuple[str, Path]]]:
    """The bundled files (districts, vendors, meals, [(district, purchases)]); InputFileError if any is missing."""
    sample_dir = Path(sample_dir)
    fixed = [sample_dir / DISTRICTS_FILE, sample_dir / VENDORS_FILE, sample_dir / MEALS_FILE]
    purchase_files = sorted((sample_dir / PURCHASES_DIR).glob("*.*"))
    missing = [p for p in fixed if not p.exists()]
    if missing or not purchase_files:
        what = ", ".join(str(p) for p in missing) or str(sample_dir / PURCHASES_DIR / "*")
        raise InputFileError(f"sample co-op files missing: {what} (run `python -m coop sample --regenerate`)")
    return fixed[0], fixed[1], fixed[2], [(p.stem, p) for p in purchase_files if p.suffix in (".csv", ".parquet")]


def load(con: duckdb.DuckDBPyConnection, sample_dir: Path = DEFAULT_DIR) -> dict[str, Any]:
    """Load the bundled sample co-op (districts, vendors, meals, contracts), then each purchase file via ingest."""
    district_csv, vendor_csv, meal_csv, purchase_files = _sample_files(sample_dir)
    loaded_before = {d: pipeline.already_loaded(con, pipeline.file_sha256(path)) for d, path in purchase_files}
    previous = {d: done.already_loaded_as for d, done in loaded_before.items() if done is not None}
    if len(previous) == len(loaded_before):
        return {
            "already_loaded": True,
            "message": "the sample co-op is already loaded; nothing changed",
            "districts": 0,
            "vendors": 0,
            "meal_counts": 0,
            "contracts": 0,
            "buy_american_exceptions": 0,
            "rows_loaded": 0,
            "rows_rejected": 0,
            "batches": [
                {
                    "district_id": d,
                    "file": p.name,
                    "batch_id": None,
                    "rows_loaded": 0,
                    "rows_rejected": 0,
                    "already_loaded_as": previous[d],
                }
                for d, p in purchase_files
            ],
        }
    n_districts = districts.upsert_from_csv(con, district_csv)
    n_vendors = vendors.upsert_from_csv(con, vendor_csv)
    n_meals = meals.upsert_from_csv(con, meal_csv)
    contracts_csv = Path(sample_dir) / CONTRACTS_FILE
    n_contracts = 0
    if contracts_csv.exists():
        from coop.registry import contracts

        dates = {names.START_DATE: pl.Date, names.END_DATE: pl.Date}
        contract_rows = pl.read_csv(contracts_csv, schema_overrides=dates)
        n_contracts = contracts.upsert(con, contract_rows, file_name=contracts_csv.name)
    exceptions_csv = Path(sample_dir) / EXCEPTIONS_FILE
    n_exceptions = 0
    if exceptions_csv.exists():
        from coop.rules import buy_american

        n_exceptions = buy_american.exceptions_from_csv(con, exceptions_csv)
    users_csv = Path(sample_dir) / USERS_FILE
    n_users = users.upsert_from_csv(con, users_csv) if users_csv.exists() else 0
    batches = []
    for district_id, path in purchase_files:
        result = ingest_file(con, path, district_id=district_id)
        batches.append({"district_id": district_id, "file": path.name, **result.to_json()})
    return {
        "already_loaded": False,
        "message": f"loaded the sample co-op: {len(batches)} purchase files",
        "districts": n_districts,
        "vendors": n_vendors,
        "meal_counts": n_meals,
        "contracts": n_contracts,
        "buy_american_exceptions": n_exceptions,
        "users": n_users,
        "rows_loaded": sum(b["rows_loaded"] for b in batches),
        "rows_rejected": sum(b["rows_rejected"] for b in batches),
        "batches": batches,
    }


def regenerate(out_dir: Path = DEFAULT_DIR, seed: int = DEFAULT_SEED) -> list[Path]:
    """Rewrite the bundled sample files from the generator; return the paths written."""
    out_dir = Path(out_dir)
    for old in (out_dir / PURCHASES_DIR).glob("*.*") if (out_dir / PURCHASES_DIR).exists() else []:
        if old.suffix in (".csv", ".parquet"):
            old.unlink()
    return write(generate(seed=seed), out_dir)


# --- large files for benchmarks ----------------------------------------------------------------------------------
CHUNK_ROWS: Final = 500_000


@cache
def _line_pool(seed: int) -> pl.DataFrame:
    """The default sample's purchase lines for a seed, text as categoricals (cached: `write_lines` resamples them)."""
    return generate(seed=seed).all_purchases.with_columns(pl.col(pl.String).cast(pl.Categorical))


def write_lines(rows: int, path: Path, *, seed: int = DEFAULT_SEED, district_id: str | None = None) -> Path:
    """Write `rows` canonical purchase lines as one CSV, in chunks (bounded memory), resampled from the sample.

    Lines are drawn from the default sample's lines with quantities perturbed and invoice numbers made unique per
    chunk, so the file has the sample's mix of vendors, routes, seasons and prices. `district_id` puts every line
    under one district (as `ingest --district ID` expects); None keeps the sample's districts.
    """
    if rows < 1:
        raise CoopError(f"rows must be >= 1, got {rows}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pool = _line_pool(seed)
    if district_id is not None:
        pool = pool.with_columns(pl.lit(district_id, dtype=pl.Categorical).alias(names.DISTRICT_ID))
    rng = np.random.default_rng(seed + 1)
    written = 0
    chunk_no = 0
    with path.open("wb") as fh:
        while written < rows:
            n = min(CHUNK_ROWS, rows - written)
            idx = rng.integers(0, pool.height, n)
            factor = np.exp(rng.normal(0.0, 0.25, n))
            chunk = (
                pool.gather(idx)
                .with_columns(
                    pl.when(pl.col(names.UNIT).is_in(["LB", "GAL"]))
                    .then((pl.col(names.QUANTITY) * pl.Series(factor)).round(1).clip(lower_bound=0.5))
                    .otherwise((pl.col(names.QUANTITY) * pl.Series(factor)).round(0).clip(lower_bound=1.0))
                    .alias(names.QUANTITY),
                    (pl.col(names.INVOICE_NO).cast(pl.String) + pl.lit(f"-{chunk_no:03d}")).alias(names.INVOICE_NO),
                )
                .with_columns((pl.col(names.QUANTITY) * pl.col(names.UNIT_PRICE)).round(2).alias(names.EXTENDED_PRICE))
            )
            chunk.write_csv(fh, include_header=chunk_no == 0, date_format="%Y-%m-%d", float_precision=2)
            written += n
            chunk_no += 1
    return path
