"""Units and pack sizes: parsing distributor pack notation and converting quantities to a base unit.

Conversions are pint's; this module only maps the spellings distributors use (`terms/unit_aliases.csv` and the
container words beside it) onto pint unit names.

Rules (each applied once per distinct (unit, pack_size, category, product) combination, then joined back):

* The base unit follows what the line measures: weights -> ``lb``, volumes -> ``gal``, counted items ->
  ``each``, items counted in dozens -> ``dozen``. When the frame has a ``product`` column, counted eggs
  are always in dozens (360 CT = 30 dozen) and other counted products always in each (5 DZ tortillas =
  60 each). A pack that states both a weight and a piece count (``50LB/75EA``) is converted by weight.
* ``OZ`` is ambiguous. When the frame has a ``product`` column, an ounce is a fluid ounce for the drinks in
  :data:`FLUID_PRODUCTS` (milk, juice, creamer, water ...) and a weight ounce for everything else (cheese,
  yogurt). Without a product it is decided by category: in ``dairy`` (the fluid-milk meal component) a fluid
  ounce, in every other category a weight ounce. ``FL OZ``/``FLOZ`` is always a fluid ounce.
* A container unit of measure (``CS``, ``CASE``, ``BG``, ``PK``, ``BX`` ...) is converted through the pack
  size: 3 ``CS`` of ``8/5LB`` is 3 x 8 x 5 lb = 120 lb. ``EA`` with a pack size is one pack. A measure unit
  (``LB``, ``GAL``, ``DZ`` ...) is converted directly and the pack size is ignored.
* ``#10`` is a #10 can, converted at :data:`NO10_CAN_NET_LB` pounds net. ``5#`` is five pounds.
* A range (``36-40LB``, ``12-15CT``) counts as its midpoint; ``12-2.5LB`` (first number larger) is 12 x 2.5 lb.
* ``NCT/W``: W in pounds is the case's total weight (produce: ``30CT/15LB``); W in ounces or grams is the
  size of each of the N pieces (``96CT/.5OZ``).
* A bushel is a dry volume whose weight depends on the commodity, so it is not converted.
* Anything else that cannot be converted gets a null ``base_quantity`` and the reason in ``unit_note``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final

import pint
import polars as pl

from coop import names
from coop.products import vocabulary

UNIT_NOTE: Final = "unit_note"

# USDA FNS Food Buying Guide, "Common Can and Jar Sizes": a No. 10 can holds 6 lb (96 oz) to 7 lb 5 oz
# (117 oz) net, depending on the product (about 12-13 cups). We use 6.5 lb, the usual figure for canned
# fruit and vegetables in school-food purchasing.
NO10_CAN_NET_LB: Final = 6.5

LB: Final = "lb"
GAL: Final = "gal"
EACH: Final = "each"
DOZEN: Final = "dozen"
NO10_CAN: Final = "#10 can"
FLUID_CATEGORIES: Final = frozenset({"dairy"})
# products counted in dozens whatever the line says (DESIGN: dozen for eggs); 360 CT of eggs is 30 dozen
DOZEN_PRODUCTS: Final = frozenset({"eggs", "egg"})
# products (coop.classify's commodity names) sold by fluid volume: their "OZ" is a fluid ounce
FLUID_PRODUCTS: Final = frozenset(
    {"milk", "soy milk", "buttermilk", "creamer", "half and half", "juice", "water", "flavored water", "beverages"}
)

_UREG = pint.UnitRegistry()
_UREG.define("each = [item] = ea")
_UREG.define("dozen = 12 * each = dz")
_UREG.define(f"number_10_can = {NO10_CAN_NET_LB} * pound")

# Pack-size label (PackSize.unit) -> pint unit name. "oz" is resolved by is_fluid (see module docstring).
_PINT_NAME: Final = {
    LB: "pound",
    "fl oz": "fluid_ounce",
    "gal": "gallon",
    "qt": "quart",
    "pt": "pint",
    "ml": "milliliter",
    "l": "liter",
    "g": "gram",
    "kg": "kilogram",
    EACH: "each",
    DOZEN: "dozen",
    NO10_CAN: "number_10_can",
    "bushel": "bushel",
    "in": "inch",
}

# How distributors spell units (terms/unit_aliases.csv) -> the label used in PackSize.unit.
_LABELS: Final = {label: label for label in (*_PINT_NAME, "oz")}


def _aliases() -> dict[str, str]:
    """Each distributor spelling of a unit -> its pack label, from terms/unit_aliases.csv (spellings upper case)."""
    out: dict[str, str] = {}
    for row in vocabulary.table("unit_aliases.csv"):
        if row["spelling"] != row["spelling"].upper():
            raise row.error("spelling", f"{row['spelling']!r} is not upper case (pack text is read upper-cased)")
        out[row["spelling"]] = row.choice("unit", _LABELS)
    return out


_ALIASES: Final = _aliases()
# Containers a number can count ("1 CLAM", "4 BASKETS"): each one is an item (terms/counted_containers.csv).
_COUNTED_CONTAINERS: Final = frozenset(row["word"] for row in vocabulary.table("counted_containers.csv"))
# Unit-of-measure words that mean "one pack of the stated pack size" (terms/container_units.csv).
_CONTAINER_UOMS: Final = frozenset(row["word"] for row in vocabulary.table("container_units.csv"))
# Container words that only decorate a pack size ("40 lb case", "3LB BAG", "case 6/#10").
_DECORATION = r"CASES?|CS|BAGS?|BG|BOX|BX|TRAYS?|TR|PCH|POUCH|CTN|CARTON|CANS?|PKG|SACK|SK|JARS?|TUBS?"
_LEADING_DECORATION = re.compile(rf"^(?:{_DECORATION})\.?\s+")
_TRAILING_DECORATION = re.compile(rf"(?:(?<=[\d#])|\s+)(?:{_DECORATION})\.?$")
_TOKEN = re.compile(r"(?:(\d*\.?\d+)(?:\s*-\s*(\d*\.?\d+))?)?\s*(NO10|FL\.?OZ|[A-Z#]+)?")
_BULK_LABELS: Final = frozenset({LB, "kg"})


@dataclass(frozen=True)
class PackSize:
    """A parsed pack: `count` packs of `size` `unit` each, and the piece count when stated alongside a weight."""

    count: float
    size: float
    unit: str
    pieces: float | None = None

    @property
    def total(self) -> float:
        """Count x size, in `unit`."""
        return self.count * self.size


@dataclass(frozen=True)
class _Token:
    value: float | None
    label: str | None  # a PackSize unit label, or None for a bare number


def _clean(text: str) -> str:
    """Upper-cased pack text with typos fixed, #10 marked and decorating container words removed."""
    t = " ".join(text.upper().split())
    t = t.replace("FL OZ", "FLOZ").replace("FL. OZ", "FLOZ")
    t = re.sub(r"(\d)0Z\b", r"\1OZ", t)  # "4.550Z": a zero typed for the letter O
    t = re.sub(r"(?<![\d.])#\s*10\b", "NO10", t)
    previous = None
    while previous != t:
        previous = t
        t = _LEADING_DECORATION.sub("", t).strip()
        t = _TRAILING_DECORATION.sub("", t).strip()
    return t


def _tokens(part: str) -> list[_Token] | None:
    """The (number, unit label) tokens of one '/'-separated part; None if a word is not a unit."""
    out: list[_Token] = []
    for m in _TOKEN.finditer(part):
        low, high, word = m.groups()
        if low is None and word is None:
            continue
        value: float | None = None
        if low is not None:
            a = float(low)
            if high is None:
                value = a
            elif a < float(high):
                value = (a + float(high)) / 2  # "36-40LB": a range, counted as its midpoint
            else:
                out.append(_Token(a, None))  # "12-2.5LB": 12 packs of 2.5 lb
                value = float(high)
        if word is None:
            out.append(_Token(value, None))
        elif word in _ALIASES:
            out.append(_Token(1.0 if value is None else value, _ALIASES[word]))
        elif word in _COUNTED_CONTAINERS and value is not None:
            out.append(_Token(value, EACH))
        else:
            return None
    return out


def _pint(label: str, fluid: bool) -> pint.Unit:
    """The pint unit for a pack label; `oz` is a fluid ounce when `fluid`, else a weight ounce."""
    if label == "oz":
        return _UREG.Unit("fluid_ounce" if fluid else "ounce")
    return _UREG.Unit(_PINT_NAME[label])


def is_fluid(category: str | None, product: str | None = None) -> bool:
    """Whether an ounce of this item is a fluid ounce: by product when known, else by category."""
    if product:
        return product.strip().lower() in FLUID_PRODUCTS
    return (category or "").strip().lower() in FLUID_CATEGORIES


def _sum_measures(tokens: list[_Token]) -> tuple[float, str] | None:
    """Several measures in one part ("4LB 8OZ") added up in the first one's unit; None if they disagree."""
    first = tokens[0].label
    assert first is not None
    total = _UREG.Quantity(0.0, _pint(first, False))
    for tok in tokens:
        assert tok.label is not None and tok.value is not None
        q = _UREG.Quantity(tok.value, _pint(tok.label, False))
        if q.dimensionality != total.dimensionality:
            return None
        total = total + q.to(total.units)
    return float(total.magnitude), first


def parse_pack(text: str | None) -> PackSize | None:
    """Parse a pack size such as `60/3OZ`, `6/#10`, `4/1 GAL`, `40 lb case`, `200 CT`; None if not a pack."""
    if text is None:
        return None
    cleaned = _clean(text)
    if not cleaned:
        return None
    parts = [p.strip() for p in cleaned.split("/")]
    parsed: list[list[_Token]] = []
    for part in parts:
        toks = _tokens(part)
        if toks is None:
            return None
        parsed.append(toks)
    multipliers: list[float] = []
    counts: list[float] = []  # counted tokens (CT, EA, DZ ...) in order
    count_label = EACH
    measure: tuple[float, str] | None = None
    pieces: float | None = None
    for toks in parsed:
        if not toks:
            return None  # an empty part ("6/", "/5LB")
        measures = [t for t in toks if t.label is not None and t.label not in (EACH, DOZEN)]
        counted = [t for t in toks if t.label in (EACH, DOZEN)]
        bare = [t for t in toks if t.label is None]
        if measures:
            if measure is not None:
                return None  # two measures in different parts ("4-10#/8-5#"): ambiguous
            summed = _sum_measures(measures)
            if summed is None:
                return None
            measure = summed
            if counts and measure[1] in _BULK_LABELS:
                pieces = math.prod(counts)  # "30CT/15LB": 30 pieces weighing 15 lb in all
            else:
                multipliers.extend(counts)  # "96CT/.5OZ": 96 pieces of half an ounce
            counts = []
            if counted:
                pieces = math.prod(t.value for t in counted if t.value is not None)  # "5#-160CT"
            multipliers.extend(t.value for t in bare if t.value is not None)
        elif counted:
            if measure is not None:
                pieces = math.prod(t.value for t in counted if t.value is not None)  # "50LB/75EA"
                continue
            if bare:
                return None
            counts.extend(t.value for t in counted if t.value is not None)
            if any(t.label == DOZEN for t in counted):
                count_label = DOZEN
        else:
            if measure is not None or counts:
                return None  # a bare number after the size: no unit to read it by
            multipliers.extend(t.value for t in bare if t.value is not None)
    if measure is not None:
        size, label = measure
        if label == "in":  # "96/3IN": 96 pieces three inches long; the length is a description
            return PackSize(float(math.prod(multipliers)), 1.0, EACH, pieces)
        return PackSize(float(math.prod(multipliers)), size, label, pieces)
    if counts:
        if count_label == DOZEN and any(t.label == EACH for toks in parsed for t in toks):
            return None  # dozens mixed with single pieces
        return PackSize(float(math.prod(multipliers + counts[:-1])), counts[-1], count_label)  # "24/45CT": 24 x 45 each
    return None  # only bare numbers ("1000/.035"): no unit


def _count_unit(label: str, product: str | None) -> str:
    """The base unit of a counted item: dozen for eggs (or, product unknown, when counted in dozens), else each."""
    if product:
        return DOZEN if product.strip().lower() in DOZEN_PRODUCTS else EACH
    return DOZEN if label == DOZEN else EACH


def _base(quantity: pint.Quantity, label: str, product: str | None) -> tuple[float | None, str | None, str | None]:
    """A pint quantity in its base unit: (amount, base unit, reason when it cannot be converted)."""
    if label == "bushel":
        return None, None, "a bushel is a dry volume whose weight depends on the commodity; give the weight"
    dim = quantity.dimensionality
    if dim == _UREG.pound.dimensionality:
        return float(quantity.to("pound").magnitude), LB, None
    if dim == _UREG.gallon.dimensionality:
        return float(quantity.to("gallon").magnitude), GAL, None
    if dim == _UREG.each.dimensionality:
        unit = _count_unit(label, product)
        return float(quantity.to(unit).magnitude), unit, None
    return None, None, f"unit {label!r} is not a weight, volume or count"


def _measure_uom(word: str) -> str | None:
    """The pack label of a unit of measure that is itself a measure (LB, GAL, DZ ...), else None."""
    w = _clean(word).replace(" ", "")
    if w in _ALIASES and w != "PK":
        return _ALIASES[w]
    return None


def convert(
    unit: str | None, pack_size: str | None, category: str | None, product: str | None = None
) -> tuple[float | None, str | None, str | None]:
    """Base-unit amount of ONE `unit` of this pack, category and product: (factor, base_unit, note)."""
    fluid = is_fluid(category, product)
    uom = (unit or "").strip().upper()
    pack_text = (pack_size or "").strip()
    pack = parse_pack(pack_text) if pack_text else None
    measure = _measure_uom(uom) if uom else None
    if measure is not None and not (measure == EACH and pack is not None):
        return _base(_UREG.Quantity(1.0, _pint(measure, fluid)), measure, product)
    if uom in _CONTAINER_UOMS or measure == EACH or not uom:
        if pack is None:
            if not uom:
                return None, None, "no unit given"
            if pack_text:
                return None, None, f"cannot read pack size {pack_text!r}"
            return None, None, f"unit {uom!r} is a container and the line has no pack size"
        return _pack_base(pack, fluid, product)
    as_pack = parse_pack(uom)  # the unit column itself holds a pack ("40 lb case", "case 6/#10")
    if as_pack is not None and not pack_text:
        return _pack_base(as_pack, fluid, product)
    return None, None, f"unknown unit {unit!r}"


def _pack_base(pack: PackSize, fluid: bool, product: str | None) -> tuple[float | None, str | None, str | None]:
    """Base-unit amount of one pack."""
    return _base(_UREG.Quantity(pack.total, _pint(pack.unit, fluid)), pack.unit, product)


def normalise(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with `base_quantity`, `base_unit` and `unit_note` (why a line could not be converted) added."""

    def text(column: str) -> pl.Expr:
        return pl.col(column).cast(pl.String) if column in frame.columns else pl.lit(None, pl.String)

    key_cols = ["_u", "_p", "_c", "_d"]
    keyed = frame.drop([c for c in (names.BASE_QUANTITY, names.BASE_UNIT, UNIT_NOTE) if c in frame.columns])
    keyed = keyed.with_columns(
        text(names.UNIT).alias("_u"),
        text(names.PACK_SIZE).alias("_p"),
        text(names.CATEGORY).alias("_c"),
        text(names.PRODUCT).alias("_d"),
    )
    combos = keyed.select(key_cols).unique()
    converted = [convert(u, p, c, d) for u, p, c, d in combos.iter_rows()]
    lookup = combos.with_columns(
        pl.Series("_f", [f for f, _, _ in converted], dtype=pl.Float64),
        pl.Series(names.BASE_UNIT, [b for _, b, _ in converted], dtype=pl.String),
        pl.Series(UNIT_NOTE, [n for _, _, n in converted], dtype=pl.String),
    )
    return (
        keyed.join(lookup, on=key_cols, how="left", nulls_equal=True, maintain_order="left")
        .with_columns((pl.col(names.QUANTITY).cast(pl.Float64) * pl.col("_f")).alias(names.BASE_QUANTITY))
        .drop([*key_cols, "_f"])
    )
