"""Product classification: commodity, meal-component category and unprocessed status from an item description.

Unprocessed follows 7 CFR 210.21(g)(2): a product is unprocessed when it retains its inherent character;
cooling, refrigerating, freezing, size reduction (peeling, slicing, dicing, cutting, chopping, shucking,
grinding), forming ground products into patties without additives or fillers, drying, washing, packaging
and bagging (including combining vegetables or fruits in one package), butchering, cleaning fish and the
pasteurisation of milk do not change it. Cooking, heating, canning, seasoning, breading and adding sauces do.
Seed 002's two product tables and seed 004 Q14-Q17 are encoded as the examples below, each citing its source.

Every keyword, abbreviation and rule is a module-level table; `classify` only looks them up.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import inflection
import polars as pl
from rapidfuzz import fuzz, process

from coop import names

# --- sources ------------------------------------------------------------------------------
CFR: Final = "7 CFR 210.21(g)(2)"
TABLE1: Final = "seed 002 Product Table 1 (processed agricultural products)"
TABLE2: Final = "seed 002 Product Table 2 (unprocessed agricultural products)"
Q14: Final = "seed 004 Q14 (ground beef without additives)"
Q15: Final = "seed 004 Q15 (frozen bag of combination vegetables)"
Q16: Final = "seed 004 Q16 (portion-sized bags)"
Q17: Final = "seed 004 Q17 (canning heats the product)"
COOP: Final = "coop default"

FRUIT, VEGETABLE, GRAIN, PROTEIN, DAIRY, OTHER = names.CATEGORIES

# --- natures of a product term -------------------------------------------------------------
RAW: Final = "raw"  # a commodity as grown or raised: unprocessed unless a processing marker says otherwise
UNPROCESSED: Final = "unprocessed"  # a product the rules name as unprocessed (milk, rice, flour, eggs)
PROCESSED: Final = "processed"  # a product the rules name as processed (cheese, juice, bread, sausage)
NONFOOD: Final = "nonfood"  # trays, napkins, utensils

# rank: which product names the line when several appear (higher wins; ties go to the leftmost)
RANK_CUT: Final = 0  # a cut or form ("breast", "patty") names the product only when nothing else does
RANK_PRODUCE: Final = 1
RANK_STAPLE: Final = 2
RANK_DAIRY: Final = 3
RANK_DISH: Final = 4


@dataclass(frozen=True)
class Classification:
    """The product, category and unprocessed status of one description, with the rule that decided."""

    product: str
    category: str
    unprocessed: bool
    confidence: float
    rule: str
    reason: str
    source: str


@dataclass(frozen=True)
class Term:
    """A product keyword: the commodity it names, its category, nature and the rule behind that nature."""

    product: str
    category: str
    nature: str
    rank: int
    why: str
    source: str
    head_only: bool = False  # names the product only at the head of a line; elsewhere it is a processing marker


@dataclass(frozen=True)
class Marker:
    """A processing word: whether it keeps (True) or changes (False) the inherent character, and why."""

    keeps: bool
    why: str
    source: str
    only: frozenset[str] = frozenset()  # applies only to these products (empty: to all)
    unless: frozenset[str] = frozenset()  # never applies to these products


# --- product keyword tables: {keyword (singular, lower case): product} ---------------------------
FRUITS: Final[dict[str, str]] = {
    "apple": "apples",
    "apricot": "apricots",
    "avocado": "avocados",
    "banana": "bananas",
    "blackberry": "blackberries",
    "blueberry": "blueberries",
    "cantaloupe": "cantaloupe",
    "cherry": "cherries",
    "clementine": "mandarins",
    "cranberry": "cranberries",
    "craisin": "cranberries",
    "date": "dates",
    "fig": "figs",
    "fruit": "fruit",
    "grape": "grapes",
    "grapefruit": "grapefruit",
    "guava": "guava",
    "honeydew": "honeydew",
    "kiwi": "kiwi",
    "kiwifruit": "kiwi",
    "lemon": "lemons",
    "lime": "limes",
    "mandarin": "mandarins",
    "mango": "mangoes",
    "melon": "melons",
    "nectarine": "nectarines",
    "orange": "oranges",
    "papaya": "papaya",
    "peach": "peaches",
    "pear": "pears",
    "persimmon": "persimmons",
    "pineapple": "pineapple",
    "plum": "plums",
    "pluot": "plums",
    "pomegranate": "pomegranates",
    "prune": "prunes",
    "raisin": "raisins",
    "raspberry": "raspberries",
    "satsuma": "mandarins",
    "strawberry": "strawberries",
    "tangerine": "mandarins",
    "tangelo": "mandarins",
    "watermelon": "watermelon",
    "berry": "berries",
    "apple slice": "apples",
}
VEGETABLES: Final[dict[str, str]] = {
    "artichoke": "artichokes",
    "arugula": "salad greens",
    "asparagus": "asparagus",
    "bean": "beans",
    "beet": "beets",
    "bok choy": "bok choy",
    "broccoli": "broccoli",
    "brussels sprout": "brussels sprouts",
    "cabbage": "cabbage",
    "carrot": "carrots",
    "cauliflower": "cauliflower",
    "celery": "celery",
    "chard": "chard",
    "chickpea": "chickpeas",
    "garbanzo": "chickpeas",
    "cilantro": "herbs",
    "collard": "collard greens",
    "corn": "corn",
    "cucumber": "cucumbers",
    "edamame": "edamame",
    "eggplant": "eggplant",
    "garlic": "garlic",
    "green bean": "green beans",
    "greens": "salad greens",
    "jalapeno": "peppers",
    "jicama": "jicama",
    "kale": "kale",
    "leek": "leeks",
    "lentil": "lentils",
    "lettuce": "lettuce",
    "mushroom": "mushrooms",
    "okra": "okra",
    "onion": "onions",
    "parsley": "herbs",
    "parsnip": "parsnips",
    "pea": "peas",
    "pepper": "peppers",
    "bell pepper": "peppers",
    "potato": "potatoes",
    "pumpkin": "pumpkin",
    "radish": "radishes",
    "romaine": "lettuce",
    "salad": "salad greens",
    "scallion": "onions",
    "spinach": "spinach",
    "sprout": "sprouts",
    "squash": "squash",
    "sweet potato": "sweet potatoes",
    "yam": "sweet potatoes",
    "tomatillo": "tomatillos",
    "tomato": "tomatoes",
    "cherry tomato": "tomatoes",
    "grape tomato": "tomatoes",
    "tomato grape": "tomatoes",
    "tomato cherry": "tomatoes",
    "turnip": "turnips",
    "vegetable": "vegetables",
    "veggie": "vegetables",
    "zucchini": "zucchini",
    "spaghetti squash": "squash",
    "pinto": "beans",
    "kidney": "beans",
    "black bean": "beans",
    "coleslaw": "cabbage",
    "slaw": "cabbage",
    "spring mix": "salad greens",
    "mixed green": "salad greens",
    "olive": "olives",
    "basil": "herbs",
    "chile": "peppers",
    "chili pepper": "peppers",
    "pepper chili": "peppers",
    "green chili": "peppers",
    "green chile": "peppers",
    "serrano": "peppers",
    "chili serrano": "peppers",
    "poblano": "peppers",
    "ginger": "ginger",
}
PROTEINS: Final[dict[str, str]] = {
    "beef": "beef",
    "bison": "bison",
    "chicken": "chicken",
    "drumstick": "chicken",
    "wing": "chicken",
    "turkey": "turkey",
    "pork": "pork",
    "lamb": "lamb",
    "goat": "goat",
    "veal": "veal",
    "fish": "fish",
    "catfish": "fish",
    "cod": "fish",
    "pollock": "fish",
    "salmon": "fish",
    "tilapia": "fish",
    "trout": "fish",
    "tuna": "fish",
    "shrimp": "shrimp",
    "clam": "shellfish",
    "egg": "eggs",
    "shell egg": "eggs",
    "egg shell": "eggs",
    "poultry": "chicken",
    "meat": "meat",
    "almond": "nuts",
    "cashew": "nuts",
    "peanut": "peanuts",
    "pecan": "nuts",
    "walnut": "nuts",
    "nut": "nuts",
    "sunflower": "seeds",
    "sunflower seed": "seeds",
    "pumpkin seed": "seeds",
    "tofu": "tofu",
    "seed": "seeds",
    "steak": "beef",
    "hamburger": "beef",
    "burger": "beef",
    "carnitas": "pork",
    "carne asada": "beef",
}
# cuts and forms that name a protein when no species is given ("PATTY GRILLED BREAST")
CUTS: Final[dict[str, str]] = {
    "breast": "chicken",
    "thigh": "chicken",
    "fillet": "fish",
    "filet": "fish",
    "strip": "chicken",
    "patty": "beef",
    "nugget": "chicken",
    "tender": "chicken",
    "tenderloin": "chicken",
}
# grains the rules name as unprocessed: whole-form or ground (seed 002 Table 2)
GRAINS: Final[dict[str, str]] = {
    "rice": "rice",
    "flour": "flour",
    "barley": "barley",
    "grits": "grits",
    "oat": "oats",
    "oatmeal": "oatmeal",
    "quinoa": "quinoa",
    "cornmeal": "cornmeal",
    "wheat berry": "wheat",
    "bulgur": "bulgur",
    "millet": "millet",
    "farro": "farro",
}
# processed products by nature, with the seed 002 Table 1 group or the reason
PROCESSED_PRODUCTS: Final[tuple[tuple[str, str, str, int, str, str], ...]] = (
    # (keyword, product, category, rank, why, source)
    ("canned fruit", "fruit", FRUIT, RANK_DISH, "canned fruit", TABLE1),
    ("fruit cocktail", "fruit cocktail", FRUIT, RANK_DISH, "fruit cocktail", TABLE1),
    ("fruit cup", "fruit cup", FRUIT, RANK_DISH, "fruit cups are packed in juice or syrup and heat-sealed", TABLE1),
    ("juice", "juice", FRUIT, RANK_DISH, "juice", TABLE1),
    ("applesauce", "applesauce", FRUIT, RANK_DISH, "applesauce is cooked fruit", TABLE1),
    ("fruit bar", "fruit bar", FRUIT, RANK_DISH, "fruit bars are cooked", TABLE1),
    ("fruit leather", "fruit snack", FRUIT, RANK_DISH, "fruit snacks are cooked", TABLE1),
    ("fruit snack", "fruit snack", FRUIT, RANK_DISH, "fruit snacks are cooked", TABLE1),
    ("jelly", "jelly", FRUIT, RANK_DAIRY, "jelly is cooked fruit", TABLE1),
    ("jam", "jelly", FRUIT, RANK_DAIRY, "jam is cooked fruit", TABLE1),
    ("canned vegetable", "vegetables", VEGETABLE, RANK_DISH, "canned vegetables", TABLE1),
    ("tomato sauce", "tomato sauce", VEGETABLE, RANK_DISH, "tomato sauce", TABLE1),
    ("tomato paste", "tomato sauce", VEGETABLE, RANK_DISH, "tomato paste is cooked", TABLE1),
    ("marinara", "tomato sauce", VEGETABLE, RANK_DISH, "marinara is tomato sauce", TABLE1),
    ("salsa", "salsa", VEGETABLE, RANK_DISH, "salsa", TABLE1),
    ("pico de gallo", "salsa", VEGETABLE, RANK_DISH, "pico de gallo is salsa", TABLE1),
    ("vegetable patty", "vegetable patties", VEGETABLE, RANK_DISH, "vegetable patties", TABLE1),
    ("veggie patty", "vegetable patties", VEGETABLE, RANK_DISH, "vegetable patties", TABLE1),
    ("veggie burger", "vegetable patties", VEGETABLE, RANK_DISH, "vegetable patties", TABLE1),
    ("tater tot", "potatoes", VEGETABLE, RANK_DISH, "tater tots are formed and par-fried", TABLE1),
    ("french fry", "potatoes", VEGETABLE, RANK_DISH, "fries are par-fried", TABLE1),
    ("fry", "potatoes", VEGETABLE, RANK_DISH, "fries are par-fried", TABLE1),
    ("hash brown", "potatoes", VEGETABLE, RANK_DISH, "hash browns are par-cooked", TABLE1),
    ("mashed potato", "potatoes", VEGETABLE, RANK_DISH, "mashed potatoes are cooked", TABLE1),
    ("refried bean", "beans", VEGETABLE, RANK_DISH, "refried beans are cooked", TABLE1),
    ("baked bean", "beans", VEGETABLE, RANK_DISH, "baked beans are cooked", TABLE1),
    ("hummus", "hummus", VEGETABLE, RANK_DISH, "hummus is cooked and seasoned", TABLE1),
    ("guacamole", "avocados", VEGETABLE, RANK_DISH, "guacamole has added seasoning", TABLE1),
    ("pickle", "pickles", VEGETABLE, RANK_DISH, "pickles are brined", TABLE1),
    ("relish", "pickles", OTHER, RANK_DISH, "relish is a seasoned condiment", TABLE1),
    ("soup", "soup", OTHER, RANK_DISH, "soup is cooked", TABLE1),
    ("sausage", "sausage", PROTEIN, RANK_DAIRY, "sausage", TABLE1),
    ("chorizo", "sausage", PROTEIN, RANK_DAIRY, "chorizo is sausage", TABLE1),
    ("hot dog", "hot dogs", PROTEIN, RANK_DAIRY, "hot dogs", TABLE1),
    ("frank", "hot dogs", PROTEIN, RANK_DAIRY, "franks are hot dogs", TABLE1),
    ("frankfurter", "hot dogs", PROTEIN, RANK_DAIRY, "frankfurters are hot dogs", TABLE1),
    ("wiener", "hot dogs", PROTEIN, RANK_DAIRY, "wieners are hot dogs", TABLE1),
    ("deli meat", "deli meat", PROTEIN, RANK_DAIRY, "deli meat", TABLE1),
    ("jerky", "jerky", PROTEIN, RANK_DAIRY, "beef jerky", TABLE1),
    ("ham", "ham", PROTEIN, RANK_DAIRY, "ham is cured meat (meat with preservatives)", TABLE1),
    ("bacon", "bacon", PROTEIN, RANK_DAIRY, "bacon is cured meat (meat with preservatives)", TABLE1),
    ("pepperoni", "pepperoni", PROTEIN, RANK_DAIRY, "pepperoni is sausage", TABLE1),
    ("salami", "salami", PROTEIN, RANK_DAIRY, "salami is sausage", TABLE1),
    ("bologna", "bologna", PROTEIN, RANK_DAIRY, "bologna is deli meat", TABLE1),
    ("pastrami", "deli meat", PROTEIN, RANK_DAIRY, "pastrami is deli meat", TABLE1),
    ("meatball", "meatballs", PROTEIN, RANK_DAIRY, "meatballs are cooked with binders", TABLE1),
    ("liquid egg", "eggs", PROTEIN, RANK_DAIRY, "liquid eggs", TABLE1),
    ("egg patty", "eggs", PROTEIN, RANK_DAIRY, "egg patties are cooked", TABLE1),
    ("omelet", "eggs", PROTEIN, RANK_DAIRY, "omelets are cooked", TABLE1),
    ("scrambled egg", "eggs", PROTEIN, RANK_DAIRY, "scrambled eggs are cooked", TABLE1),
    ("hard boiled egg", "eggs", PROTEIN, RANK_DAIRY, "boiled eggs are cooked", TABLE1),
    (
        "peanut butter",
        "peanut butter",
        PROTEIN,
        RANK_DAIRY,
        "peanut butter is roasted and ground with additives",
        TABLE1,
    ),
    ("sunbutter", "seed butter", PROTEIN, RANK_DAIRY, "seed butter is roasted", TABLE1),
    ("flavored milk", "milk", DAIRY, RANK_DAIRY, "flavored milk", TABLE1),
    ("chocolate milk", "milk", DAIRY, RANK_DAIRY, "flavored milk (chocolate)", TABLE1),
    ("strawberry milk", "milk", DAIRY, RANK_DAIRY, "flavored milk (strawberry)", TABLE1),
    ("cheese", "cheese", DAIRY, RANK_STAPLE, "cheese", TABLE1),
    ("cheddar", "cheese", DAIRY, RANK_STAPLE, "cheese", TABLE1),
    ("mozzarella", "cheese", DAIRY, RANK_STAPLE, "cheese", TABLE1),
    ("parmesan", "cheese", DAIRY, RANK_STAPLE, "cheese", TABLE1),
    ("colby", "cheese", DAIRY, RANK_STAPLE, "cheese", TABLE1),
    ("provolone", "cheese", DAIRY, RANK_STAPLE, "cheese", TABLE1),
    ("queso", "cheese", DAIRY, RANK_STAPLE, "cheese", TABLE1),
    ("cream cheese", "cheese", DAIRY, RANK_DAIRY, "cheese", TABLE1),
    ("cottage cheese", "cheese", DAIRY, RANK_DAIRY, "cheese", TABLE1),
    ("ice cream", "ice cream", DAIRY, RANK_DISH, "ice cream", TABLE1),
    ("yogurt", "yogurt", DAIRY, RANK_DAIRY, "yogurt", TABLE1),
    ("parfait", "yogurt", DAIRY, RANK_DISH, "yogurt", TABLE1),
    ("butter", "butter", DAIRY, RANK_DAIRY, "butter is churned cream", TABLE1),
    ("sour cream", "sour cream", DAIRY, RANK_DAIRY, "sour cream is cultured", TABLE1),
    ("creamer", "creamer", DAIRY, RANK_DAIRY, "creamer is a processed dairy product", TABLE1),
    ("cookie", "cookies", GRAIN, RANK_DISH, "baked goods (cookies)", TABLE1),
    ("baking mix", "baking mix", GRAIN, RANK_DISH, "baking mixes", TABLE1),
    ("batter", "baking mix", GRAIN, RANK_DISH, "baking mixes", TABLE1),
    ("dough", "dough", GRAIN, RANK_DISH, "baking mixes (dough)", TABLE1),
    ("bread", "bread", GRAIN, RANK_DISH, "bread", TABLE1),
    ("breadstick", "bread", GRAIN, RANK_DISH, "bread", TABLE1),
    ("bun", "bread", GRAIN, RANK_DISH, "bread", TABLE1),
    ("roll", "bread", GRAIN, RANK_DISH, "bread", TABLE1),
    ("bagel", "bread", GRAIN, RANK_DISH, "bread", TABLE1),
    ("biscuit", "bread", GRAIN, RANK_DISH, "bread", TABLE1),
    ("croissant", "bread", GRAIN, RANK_DISH, "bread", TABLE1),
    ("cornbread", "bread", GRAIN, RANK_DISH, "bread", TABLE1),
    ("pita", "bread", GRAIN, RANK_DISH, "bread", TABLE1),
    ("flatbread", "bread", GRAIN, RANK_DISH, "bread", TABLE1),
    ("ciabatta", "bread", GRAIN, RANK_DISH, "bread", TABLE1),
    ("hoagie", "bread", GRAIN, RANK_DISH, "bread", TABLE1),
    ("toast", "bread", GRAIN, RANK_DISH, "bread", TABLE1),
    ("french toast", "french toast", GRAIN, RANK_DISH, "baked goods", TABLE1),
    ("crouton", "bread", GRAIN, RANK_DISH, "bread", TABLE1),
    ("tortilla", "tortillas", GRAIN, RANK_DISH, "baked goods (tortillas)", TABLE1),
    ("taco shell", "tortillas", GRAIN, RANK_DISH, "baked goods (tortillas)", TABLE1),
    ("tostada", "tortillas", GRAIN, RANK_DISH, "baked goods (tortillas)", TABLE1),
    ("muffin", "muffins", GRAIN, RANK_DISH, "baked goods", TABLE1),
    ("pancake", "pancakes", GRAIN, RANK_DISH, "baked goods", TABLE1),
    ("waffle", "waffles", GRAIN, RANK_DISH, "baked goods", TABLE1),
    ("donut", "pastries", GRAIN, RANK_DISH, "baked goods", TABLE1),
    ("doughnut", "pastries", GRAIN, RANK_DISH, "baked goods", TABLE1),
    ("churro", "pastries", GRAIN, RANK_DISH, "baked goods", TABLE1),
    ("concha", "pastries", GRAIN, RANK_DISH, "baked goods", TABLE1),
    ("pastry", "pastries", GRAIN, RANK_DISH, "baked goods", TABLE1),
    ("strudel", "pastries", GRAIN, RANK_DISH, "baked goods", TABLE1),
    ("poptart", "pastries", GRAIN, RANK_DISH, "baked goods", TABLE1),
    ("pop tart", "pastries", GRAIN, RANK_DISH, "baked goods", TABLE1),
    ("cake", "cakes", GRAIN, RANK_DISH, "baked goods", TABLE1),
    ("cupcake", "cakes", GRAIN, RANK_DISH, "baked goods", TABLE1),
    ("brownie", "cakes", GRAIN, RANK_DISH, "baked goods", TABLE1),
    ("cobbler", "cakes", GRAIN, RANK_DISH, "baked goods", TABLE1),
    ("pie", "pies", GRAIN, RANK_DISH, "baked goods", TABLE1),
    ("chip", "chips", GRAIN, RANK_DISH, "chips", TABLE1),
    ("crisp", "chips", GRAIN, RANK_DISH, "chips", TABLE1),
    ("dorito", "chips", GRAIN, RANK_DISH, "chips", TABLE1),
    ("cheeto", "chips", GRAIN, RANK_DISH, "chips", TABLE1),
    ("popcorn", "popcorn", GRAIN, RANK_DISH, "chips and snacks", TABLE1),
    ("pretzel", "pretzels", GRAIN, RANK_DISH, "chips and snacks", TABLE1),
    ("cracker", "crackers", GRAIN, RANK_DISH, "crackers", TABLE1),
    ("graham", "crackers", GRAIN, RANK_DISH, "crackers", TABLE1),
    ("goldfish", "crackers", GRAIN, RANK_DISH, "crackers", TABLE1),
    ("cheez it", "crackers", GRAIN, RANK_DISH, "crackers", TABLE1),
    ("breakfast bar", "cereal bars", GRAIN, RANK_DISH, "breakfast bars", TABLE1),
    ("granola bar", "cereal bars", GRAIN, RANK_DISH, "granola bars", TABLE1),
    ("cereal bar", "cereal bars", GRAIN, RANK_DISH, "breakfast bars", TABLE1),
    ("bar", "cereal bars", GRAIN, RANK_DISH, "breakfast bars", TABLE1),
    ("granola", "granola", GRAIN, RANK_DISH, "granola", TABLE1),
    ("cereal", "cereal", GRAIN, RANK_DISH, "processed grains (cereal)", TABLE1),
    ("cheerio", "cereal", GRAIN, RANK_DISH, "processed grains (cereal)", TABLE1),
    ("chex", "cereal", GRAIN, RANK_DISH, "processed grains (cereal)", TABLE1),
    ("krispies", "cereal", GRAIN, RANK_DISH, "processed grains (cereal)", TABLE1),
    ("puff", "cereal", GRAIN, RANK_DISH, "processed grains (cereal)", TABLE1),
    ("flake", "cereal", GRAIN, RANK_DISH, "processed grains (cereal)", TABLE1),
    ("instant grits", "grits", GRAIN, RANK_DISH, "instant grits", TABLE1),
    ("instant oatmeal", "oatmeal", GRAIN, RANK_DISH, "instant oatmeal", TABLE1),
    ("pasta", "pasta", GRAIN, RANK_DISH, "pasta is a manufactured grain product", TABLE1),
    ("macaroni", "pasta", GRAIN, RANK_DISH, "pasta is a manufactured grain product", TABLE1),
    ("spaghetti", "pasta", GRAIN, RANK_DISH, "pasta is a manufactured grain product", TABLE1),
    ("penne", "pasta", GRAIN, RANK_DISH, "pasta is a manufactured grain product", TABLE1),
    ("rotini", "pasta", GRAIN, RANK_DISH, "pasta is a manufactured grain product", TABLE1),
    ("noodle", "pasta", GRAIN, RANK_DISH, "pasta is a manufactured grain product", TABLE1),
    ("lasagna", "pasta", GRAIN, RANK_DISH, "prepared pasta dish", TABLE1),
    ("ravioli", "pasta", GRAIN, RANK_DISH, "prepared pasta dish", TABLE1),
    ("mac and cheese", "macaroni and cheese", GRAIN, RANK_DISH, "prepared pasta dish", TABLE1),
    ("macaroni and cheese", "macaroni and cheese", GRAIN, RANK_DISH, "prepared pasta dish", TABLE1),
    ("chow mein", "pasta", GRAIN, RANK_DISH, "prepared noodle dish", TABLE1),
    ("yakisoba", "pasta", GRAIN, RANK_DISH, "prepared noodle dish", TABLE1),
    ("fried rice", "rice", GRAIN, RANK_DISH, "fried rice is cooked", TABLE1),
    ("rice bowl", "rice bowl", GRAIN, RANK_DISH, "prepared dish", TABLE1),
    ("pizza", "pizza", GRAIN, RANK_DISH, "frozen pizza", TABLE1),
    ("calzone", "pizza", GRAIN, RANK_DISH, "frozen pizza", TABLE1),
    ("burrito", "burritos", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("chimichanga", "burritos", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("chimi", "burritos", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("quesadilla", "quesadillas", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("enchilada", "enchiladas", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("taco", "tacos", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("tamale", "tamales", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("flauta", "flautas", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("taquito", "flautas", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("chalupa", "tacos", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("nacho", "nachos", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("sandwich", "sandwiches", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("uncrustable", "sandwiches", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("wrap", "sandwiches", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("slider", "sandwiches", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("sub", "sandwiches", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("cheeseburger", "sandwiches", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("corn dog", "corn dogs", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("dumpling", "dumplings", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("egg roll", "egg rolls", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("spring roll", "egg rolls", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("pinwheel", "sandwiches", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("lunch kit", "lunch kits", OTHER, RANK_DISH, "value-added prepared food", TABLE1),
    ("chili", "chili", OTHER, RANK_DISH, "chili", TABLE1),
    ("flavored water", "flavored water", OTHER, RANK_DISH, "flavored water", TABLE1),
    ("sparkling", "flavored water", OTHER, RANK_DISH, "flavored water", TABLE1),
    ("slush", "slushie mix", OTHER, RANK_DISH, "slushie mixes", TABLE1),
    ("slushie", "slushie mix", OTHER, RANK_DISH, "slushie mixes", TABLE1),
    ("spice", "spices", OTHER, RANK_DISH, "spices or spice mix", TABLE1),
    ("seasoning", "spices", OTHER, RANK_DISH, "spices or spice mix", TABLE1),
    ("cumin", "spices", OTHER, RANK_DISH, "spices or spice mix", TABLE1),
    ("oregano", "spices", OTHER, RANK_DISH, "spices or spice mix", TABLE1),
    ("paprika", "spices", OTHER, RANK_DISH, "spices or spice mix", TABLE1),
    ("chili powder", "spices", OTHER, RANK_DISH, "spices or spice mix", TABLE1),
    ("garlic powder", "spices", OTHER, RANK_DISH, "spices or spice mix", TABLE1),
    ("cinnamon", "spices", OTHER, RANK_PRODUCE, "spices or spice mix", TABLE1),
    ("tea", "tea", OTHER, RANK_DISH, "tea, powdered, bags", TABLE1),
    ("sauce", "sauce", OTHER, RANK_DISH, "sauces (BBQ, hot sauce)", TABLE1),
    ("gravy", "sauce", OTHER, RANK_DISH, "sauces", TABLE1),
    ("dressing", "dressing", OTHER, RANK_DISH, "sauces and dressings", TABLE1),
    ("dip", "sauce", OTHER, RANK_DISH, "sauces and dips", TABLE1),
    ("ketchup", "ketchup", OTHER, RANK_DISH, "sauces (condiment)", TABLE1),
    ("catsup", "ketchup", OTHER, RANK_DISH, "sauces (condiment)", TABLE1),
    ("mustard", "mustard", OTHER, RANK_DISH, "sauces (condiment)", TABLE1),
    ("mayonnaise", "mayonnaise", OTHER, RANK_DISH, "sauces (condiment)", TABLE1),
    ("mayo", "mayonnaise", OTHER, RANK_DISH, "sauces (condiment)", TABLE1),
    ("syrup", "syrup", OTHER, RANK_DISH, "value-added sweetener", TABLE1),
    ("honey", "honey", OTHER, RANK_PRODUCE, "value-added sweetener", TABLE1),
    ("sugar", "sugar", OTHER, RANK_DISH, "refined sweetener", TABLE1),
    ("salt", "salt", OTHER, RANK_DISH, "not an agricultural product", TABLE1),
    ("oil", "oil", OTHER, RANK_DISH, "pressed and refined oil", TABLE1),
    ("vinegar", "vinegar", OTHER, RANK_DISH, "fermented condiment", TABLE1),
    ("soy sauce", "sauce", OTHER, RANK_DISH, "sauces", TABLE1),
    ("base", "soup base", OTHER, RANK_DISH, "soup and sauce bases", TABLE1),
    ("gelatin", "gelatin", OTHER, RANK_DISH, "value-added dessert", TABLE1),
    ("pudding", "pudding", DAIRY, RANK_DISH, "value-added dessert", TABLE1),
    ("marshmallow", "candy", OTHER, RANK_DISH, "value-added confection", TABLE1),
    ("candy", "candy", OTHER, RANK_DISH, "value-added confection", TABLE1),
    ("water", "water", OTHER, RANK_DISH, "water is not an agricultural product", TABLE1),
    ("soda", "beverages", OTHER, RANK_DISH, "value-added beverage", TABLE1),
    ("lemonade", "beverages", OTHER, RANK_DISH, "value-added beverage", TABLE1),
    ("punch", "beverages", OTHER, RANK_DISH, "value-added beverage", TABLE1),
    ("fruit punch", "beverages", OTHER, RANK_DISH, "value-added beverage", TABLE1),
    ("chili sauce", "sauce", OTHER, RANK_DISH, "sauces (BBQ, hot sauce)", TABLE1),
    ("hot sauce", "sauce", OTHER, RANK_DISH, "sauces (BBQ, hot sauce)", TABLE1),
    ("sriracha", "sauce", OTHER, RANK_DISH, "sauces (BBQ, hot sauce)", TABLE1),
    ("popcorn chicken", "chicken", PROTEIN, RANK_DISH, "popcorn chicken is breaded and fried", TABLE1),
    ("tornado", "flautas", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("vegan", "plant-based protein", PROTEIN, RANK_DAIRY, "plant-based meat alternates are manufactured", TABLE1),
    ("meatless", "plant-based protein", PROTEIN, RANK_DAIRY, "plant-based meat alternates are manufactured", TABLE1),
    ("plant based", "plant-based protein", PROTEIN, RANK_DAIRY, "plant-based meat alternates are manufactured", TABLE1),
    ("energy drink", "beverages", OTHER, RANK_DISH, "value-added beverage", TABLE1),
    ("coke", "beverages", OTHER, RANK_DISH, "value-added beverage", TABLE1),
    ("stromboli", "pizza", GRAIN, RANK_DISH, "frozen pizza", TABLE1),
    ("pizzaboli", "pizza", GRAIN, RANK_DISH, "frozen pizza", TABLE1),
    ("tostito", "chips", GRAIN, RANK_DISH, "chips", TABLE1),
    ("scoop", "chips", GRAIN, RANK_DISH, "chips", TABLE1),
    ("pan dulce", "pastries", GRAIN, RANK_DISH, "baked goods", TABLE1),
    ("tartar", "sauce", OTHER, RANK_DISH, "sauces", TABLE1),
    ("raisel", "raisins", FRUIT, RANK_DISH, "flavoured raisins have added flavour", TABLE1),
    ("baby food", "baby food", OTHER, RANK_DISH, "value-added prepared food", TABLE1),
    ("kit", "meal kits", OTHER, RANK_DISH, "value-added prepared food", TABLE1),
    ("falafel", "chickpeas", PROTEIN, RANK_DISH, "falafel is seasoned and fried", TABLE1),
    ("sourdough", "bread", GRAIN, RANK_DISH, "bread", TABLE1),
    ("meatloaf", "meatloaf", PROTEIN, RANK_DISH, "meatloaf is cooked with binders", TABLE1),
    ("jellybean", "candy", OTHER, RANK_DISH, "value-added confection", TABLE1),
    ("chowder", "soup", OTHER, RANK_DISH, "soup is cooked", TABLE1),
    ("potsticker", "dumplings", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("crispito", "flautas", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("casserole", "casseroles", OTHER, RANK_DISH, "value-added prepared food", TABLE1),
    ("au gratin", "potatoes", VEGETABLE, RANK_DISH, "au gratin potatoes are cooked with cheese sauce", TABLE1),
    ("salisbury steak", "beef", PROTEIN, RANK_DISH, "salisbury steak is formed, seasoned and cooked", TABLE1),
    ("roast beef", "deli meat", PROTEIN, RANK_DISH, "roast beef is cooked deli meat", TABLE1),
    ("rice mix", "rice", GRAIN, RANK_DISH, "seasoned rice mixes", TABLE1),
    ("onion powder", "spices", OTHER, RANK_DISH, "spices or spice mix", TABLE1),
    ("powder", "spices", OTHER, RANK_DISH, "spices or spice mix", TABLE1),
    ("patty egg", "eggs", PROTEIN, RANK_DAIRY, "egg patties are cooked", TABLE1),
    ("scrambler", "eggs", PROTEIN, RANK_DAIRY, "scrambled egg products are cooked", TABLE1),
    ("pepper jack", "cheese", DAIRY, RANK_STAPLE, "cheese", TABLE1),
    ("jack", "cheese", DAIRY, RANK_STAPLE, "cheese", TABLE1),
    ("cheesy", "cheese", DAIRY, RANK_STAPLE, "cheese", TABLE1),
    ("caesar", "dressing", OTHER, RANK_DISH, "sauces and dressings", TABLE1),
    ("beverage", "beverages", OTHER, RANK_DISH, "value-added beverage", TABLE1),
    ("drink", "beverages", OTHER, RANK_DISH, "value-added beverage", TABLE1),
    ("spread", "spreads", OTHER, RANK_DISH, "value-added spread", TABLE1),
    ("ice", "frozen dessert", OTHER, RANK_DISH, "value-added dessert", TABLE1),
    ("sidekick", "frozen dessert", OTHER, RANK_DISH, "value-added dessert", TABLE1),
    ("popsicle", "frozen dessert", OTHER, RANK_DISH, "value-added dessert", TABLE1),
    ("sweet chili", "sauce", OTHER, RANK_DISH, "sauces", TABLE1),
    ("grilled cheese", "sandwiches", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("dog", "hot dogs", PROTEIN, RANK_DAIRY, "hot dogs", TABLE1),
    ("corndog", "corn dogs", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("hot link", "sausage", PROTEIN, RANK_DAIRY, "sausage", TABLE1),
    ("link", "sausage", PROTEIN, RANK_DAIRY, "sausage", TABLE1),
    ("tater", "potatoes", VEGETABLE, RANK_DISH, "tater tots are formed and par-fried", TABLE1),
    ("shell", "pasta", GRAIN, RANK_DISH, "pasta is a manufactured grain product", TABLE1),
    ("wonton", "wontons", GRAIN, RANK_DISH, "value-added prepared food", TABLE1),
    ("crescent", "bread", GRAIN, RANK_DISH, "bread", TABLE1),
    ("loaf", "bread", GRAIN, RANK_DISH, "bread", TABLE1),
    ("crumb", "bread", GRAIN, RANK_DISH, "bread", TABLE1),
    ("brookie", "cakes", GRAIN, RANK_DISH, "baked goods", TABLE1),
    ("wafer", "cookies", GRAIN, RANK_DISH, "baked goods (cookies)", TABLE1),
    ("saltine", "crackers", GRAIN, RANK_DISH, "crackers", TABLE1),
    ("thin", "crackers", GRAIN, RANK_DISH, "crackers", TABLE1),
    ("sunchip", "chips", GRAIN, RANK_DISH, "chips", TABLE1),
    ("funyun", "chips", GRAIN, RANK_DISH, "chips", TABLE1),
    ("flamin hot", "chips", GRAIN, RANK_DISH, "chips", TABLE1),
    ("munchie", "snack mix", GRAIN, RANK_DISH, "chips and snacks", TABLE1),
    ("snack mix", "snack mix", GRAIN, RANK_DISH, "chips and snacks", TABLE1),
    ("trail mix", "snack mix", GRAIN, RANK_DISH, "chips and snacks", TABLE1),
    ("kettlecorn", "popcorn", GRAIN, RANK_DISH, "chips and snacks", TABLE1),
    ("lucky charm", "cereal", GRAIN, RANK_DISH, "processed grains (cereal)", TABLE1),
    ("toast crunch", "cereal", GRAIN, RANK_DISH, "processed grains (cereal)", TABLE1),
    ("shredded wheat", "cereal", GRAIN, RANK_DISH, "processed grains (cereal)", TABLE1),
    ("toaster", "cereal", GRAIN, RANK_DISH, "processed grains (cereal)", TABLE1),
    ("hominy", "hominy", VEGETABLE, RANK_DISH, "hominy is cooked in lye (nixtamalised)", TABLE1),
    ("pepperoncini", "peppers", VEGETABLE, RANK_DISH, "pepperoncini are pickled", TABLE1),
    ("soymilk", "soy milk", DAIRY, RANK_DAIRY, "soy milk is a manufactured beverage", TABLE1),
    ("ranch", "dressing", OTHER, RANK_DISH, "sauces and dressings", TABLE1),
    ("glaze", "sauce", OTHER, RANK_DISH, "sauces", TABLE1),
    ("alfredo", "sauce", OTHER, RANK_DISH, "sauces", TABLE1),
    ("icing", "icing", OTHER, RANK_DISH, "value-added confection", TABLE1),
    ("topping", "toppings", OTHER, RANK_DISH, "value-added confection", TABLE1),
    ("sweetener", "sugar", OTHER, RANK_DISH, "refined sweetener", TABLE1),
    ("margarine", "oil", OTHER, RANK_DISH, "pressed and refined oil", TABLE1),
    ("spray", "oil", OTHER, RANK_DISH, "pressed and refined oil", TABLE1),
    ("coffee", "coffee", OTHER, RANK_DISH, "roasted beverage", TABLE1),
    ("yeast", "yeast", OTHER, RANK_DISH, "baking ingredient", TABLE1),
    ("italian ice", "frozen dessert", OTHER, RANK_DISH, "value-added dessert", TABLE1),
    ("tajin", "spices", OTHER, RANK_DISH, "spices or spice mix", TABLE1),
    ("thyme", "spices", OTHER, RANK_DISH, "spices or spice mix", TABLE1),
)
# products the rules name as unprocessed (beyond raw commodities): milk, eggs in cartons, whole or ground grains
UNPROCESSED_PRODUCTS: Final[tuple[tuple[str, str, str, int, str, str], ...]] = (
    ("milk", "milk", DAIRY, RANK_DAIRY, "pasteurised, unflavoured milk keeps its inherent character", TABLE2),
    ("buttermilk", "milk", DAIRY, RANK_DAIRY, "cultured milk is a processed dairy product", TABLE1),
    *(
        (k, v, GRAIN, RANK_STAPLE, "whole-form or ground grain (rice, flour, barley, grits, oatmeal)", TABLE2)
        for k, v in GRAINS.items()
    ),
)
NONFOOD_TERMS: Final[dict[str, str]] = {
    "tray": "trays",
    "napkin": "napkins",
    "fork": "utensils",
    "spoon": "utensils",
    "knife": "utensils",
    "spork": "utensils",
    "utensil": "utensils",
    "straw": "straws",
    "foil": "foil",
    "film": "film",
    "glove": "gloves",
    "lid": "lids",
    "container": "containers",
    "bag": "bags",
    "boat": "trays",
    "plate": "plates",
    "bowl": "bowls",
    "cup": "cups",
    "liner": "liners",
    "cutlery": "utensils",
    "detergent": "cleaning supplies",
    "sanitizer": "cleaning supplies",
    "towel": "paper goods",
    "clamshell": "containers",
    "wrapper": "paper goods",
    "paper": "paper goods",
    "bleach": "cleaning supplies",
    "hairnet": "hairnets",
    "degreaser": "cleaning supplies",
    "soap": "cleaning supplies",
}

# --- processing markers: {word: markers}; the first that applies to the line's product decides ------------
PRODUCE: Final = frozenset({*FRUITS.values(), *VEGETABLES.values()})
_MEATS: Final = frozenset({"beef", "bison", "chicken", "turkey", "pork", "lamb", "goat", "veal", "meat"})
_FLAVOURS: Final = frozenset({"chocolate", "strawberry", "vanilla", "banana", "flavored", "flavor", "cocoa", "mocha"})


def _keep(
    why: str, source: str = CFR, only: frozenset[str] = frozenset(), unless: frozenset[str] = frozenset()
) -> Marker:
    """A marker for a technique that keeps the inherent character."""
    return Marker(True, why, source, only=only, unless=unless)


def _change(
    why: str, source: str = TABLE1, only: frozenset[str] = frozenset(), unless: frozenset[str] = frozenset()
) -> Marker:
    """A marker for a technique that changes the product's character."""
    return Marker(False, why, source, only=only, unless=unless)


_COOKED = _change("cooked or heated", TABLE1 + "; cooked or canned meats")
MARKERS: Final[dict[str, tuple[Marker, ...]]] = {
    # techniques that change the character (seed 002 Table 1, seed 004 Q17)
    "canned": (_change("canning heats the product", Q17),),
    "can": (_change("canning heats the product", Q17),),
    "#10": (_change("a #10 can: canning heats the product", Q17),),
    "cooked": (_COOKED,),
    "fully cooked": (_COOKED,),
    "precooked": (_COOKED,),
    "baked": (_change("baked (cooked)"),),
    "roasted": (_change("roasted (cooked)"),),
    "grilled": (_change("grilled (cooked)"),),
    "charbroiled": (_change("charbroiled (cooked)"),),
    "fried": (_change("fried (cooked)"),),
    "smoked": (_change("smoked: meat with preservatives"),),
    "cured": (_change("cured: meat with preservatives"),),
    "uncured": (_change("uncured (celery-cured): meat with preservatives"),),
    "crumble": (_change("crumbles are cooked ground meat", TABLE1 + "; cooked meats", only=_MEATS),),
    "breaded": (_change("breaded: binding agents added"),),
    "battered": (_change("battered: binding agents added"),),
    "crispy": (_change("crispy coating: breaded and fried"),),
    "popcorn": (_change("popcorn-style: breaded and fried", only=_MEATS | {"fish", "shrimp"}),),
    "nugget": (
        _keep("fish nuggets with no additives or fillers", TABLE2, only=frozenset({"fish"})),
        _change("nuggets are formed with binders", unless=frozenset({"fish"})),
    ),
    "seasoned": (_change("meats with seasoning"),),
    "marinated": (_change("meats with seasoning (marinade)"),),
    "glazed": (_change("glazed: sauce added"),),
    "teriyaki": (_change("teriyaki sauce added"),),
    "popper": (_change("poppers are breaded and fried"),),
    "cn label": (_change("a Child Nutrition (CN) labelled product: a manufactured main dish", TABLE1),),
    "salisbury": (_change("formed, seasoned and cooked"),),
    "philly": (_change("seasoned, sliced and cooked"),),
    "barbacoa": (_change("seasoned and cooked"),),
    "asado": (_change("grilled (cooked)"),),
    "carne asada": (_change("seasoned (marinated)"),),
    "curry": (_change("curry sauce added"),),
    "general tso": (_change("sauce added"),),
    "kung pao": (_change("sauce added"),),
    "nashville": (_change("seasoning added"),),
    "fiery": (_change("seasoning added"),),
    "fire": (_change("seasoning added"),),
    "habanero": (_change("seasoning added"),),
    "cajun": (_change("seasoning added"),),
    "citric acid": (_change("preservative added", unless=PRODUCE),),
    "pearl": (_change("potato pearls are dehydrated cooked potatoes", only=frozenset({"potatoes"})),),
    "flake": (_change("potato flakes are dehydrated cooked potatoes", only=frozenset({"potatoes"})),),
    "bbq": (_change("BBQ sauce added"),),
    "barbecue": (_change("BBQ sauce added"),),
    "buffalo": (_change("buffalo sauce added"),),
    "orange chicken": (_change("orange sauce added"),),
    "sweet and sour": (_change("sweet and sour sauce added"),),
    "spicy": (_change("seasoning added"),),
    "mesquite": (_change("seasoning added"),),
    "italian": (_change("seasoning added", only=_MEATS),),
    "deli": (_change("deli meat", TABLE1),),
    "preservative": (_change("meats with preservatives", unless=frozenset(PRODUCE)),),
    "additive": (_change("additives change the inherent character"),),
    "filler": (_change("fillers (binding agents)"),),
    "binder": (_change("binding agents"),),
    "binding agent": (_change("binding agents"),),
    "whole grain": (_change("whole-grain breading (binding agents)", only=_MEATS | {"fish"}),),
    "fajita": (_change("fajita seasoning", only=_MEATS),),
    "luncheon": (_change("deli meat", TABLE1),),
    "pulled": (_change("pulled meat is cooked", only=_MEATS),),
    "rib": (_change("rib patties are formed, seasoned and cooked", only=frozenset({"pork", "beef"})),),
    "sweetened": (_change("sweetened: sugar added"),),
    "candied": (_change("candied: sugar added"),),
    "in syrup": (_change("packed in syrup (canned fruit)"),),
    "light syrup": (_change("packed in syrup (canned fruit)"),),
    "in juice": (_change("packed in juice (canned fruit)"),),
    "instant": (_change("instant grits and oatmeal are cooked", TABLE1),),
    "liquid": (_change("liquid eggs", TABLE1, only=frozenset({"eggs"})),),
    "flavored": (_change("flavoured", TABLE1),),
    **{f: (_change("flavored milk (chocolate, strawberry)", TABLE1, only=frozenset({"milk"})),) for f in _FLAVOURS},
    "dressing": (_change("dressing added"),),
    "with sauce": (_change("sauce added", TABLE1 + "; sauces"),),
    "puree": (_change("puree is cooked"),),
    "pureed": (_change("puree is cooked"),),
    "pickled": (_change("pickled (brined)"),),
    "concentrate": (_change("juice concentrate"),),
    # techniques that keep the character (7 CFR 210.21(g)(2); seed 002 Table 2; seed 004 Q14-Q16)
    "unprocessed": (_keep("unprocessed, no additives"),),
    "fresh": (_keep("fresh", TABLE2 + "; whole, fresh fruit and vegetables"),),
    "whole": (_keep("whole", TABLE2 + "; whole, fresh fruit and vegetables"),),
    "raw": (_keep("raw"),),
    "frozen": (_keep("freezing, no additives", CFR + "; " + TABLE2 + " (whole, frozen fruit and vegetables)"),),
    "iqf": (_keep("individually quick frozen", CFR + "; " + TABLE2 + " (whole, frozen fruit and vegetables)"),),
    "refrigerated": (_keep("refrigerating"),),
    "chilled": (_keep("cooling"),),
    "sliced": (_keep("size reduction by slicing", CFR + "; " + TABLE2 + " (sliced or diced fruit)"),),
    "slice": (_keep("size reduction by slicing", CFR + "; " + TABLE2 + " (sliced or diced fruit)"),),
    "diced": (_keep("size reduction by dicing", CFR + "; " + TABLE2 + " (sliced or diced fruit)"),),
    "chopped": (_keep("size reduction by chopping"),),
    "cut": (_keep("size reduction by cutting"),),
    "chunk": (_keep("size reduction by cutting"),),
    "wedge": (_keep("size reduction by cutting", unless=frozenset({"potatoes"})),),
    "coin": (_keep("size reduction by slicing"),),
    "floret": (_keep("size reduction by cutting"),),
    "stick": (
        _keep("size reduction by cutting", unless=frozenset({"fish"})),
        _change("fish sticks are breaded", only=frozenset({"fish"})),
    ),
    "half": (_keep("size reduction by cutting"),),
    "halves": (_keep("size reduction by cutting"),),
    "quartered": (_keep("size reduction by cutting"),),
    "spear": (_keep("size reduction by cutting"),),
    "shredded": (
        _change("shredded meat is cooked", only=_MEATS),
        _keep("size reduction by shredding (cutting)"),
    ),
    "peeled": (_keep("size reduction by peeling"),),
    "shelled": (_keep("shucking"),),
    "shucked": (_keep("shucking"),),
    "ground": (_keep("size reduction by grinding, no additives", CFR + "; " + Q14),),
    "patty": (
        _keep("forming ground products into patties without additives or fillers", only=_MEATS),
        _change("vegetable patties are formed with binders", TABLE1 + " (vegetable patties)"),
    ),
    "dried": (_keep("drying/dehydration", CFR + "; " + TABLE2 + " (dehydrated fruit)"),),
    "dehydrated": (_keep("drying/dehydration", CFR + "; " + TABLE2 + " (dehydrated fruit)"),),
    "dry": (_keep("drying/dehydration"),),
    "washed": (_keep("washing"),),
    "bagged": (_keep("bagging", CFR + "; " + Q16),),
    "bag": (_keep("bagging", CFR + "; " + Q16),),
    "portion": (_keep("portion-sized bags", Q16),),
    "single serve": (_keep("single-serving bags", Q16),),
    "snack pack": (_keep("portion-sized bags", Q16),),
    "mixed": (_keep("combining vegetables or fruits in one package", CFR + "; " + Q15),),
    "mix": (_keep("combining vegetables or fruits in one package", CFR + "; " + Q15),),
    "blend": (_keep("combining vegetables or fruits in one package", CFR + "; " + Q15),),
    "medley": (_keep("combining vegetables or fruits in one package", CFR + "; " + Q15),),
    "combo": (_keep("combining vegetables or fruits in one package", CFR + "; " + Q15),),
    "carton": (
        _keep("packaging (such as eggs in cartons)", CFR + "; " + TABLE2 + " (eggs, whole, packed in cartons)"),
    ),
    "vacuum": (_keep("vacuum packing"),),
    "pasteurized": (_keep("pasteurisation of milk", CFR + "; " + TABLE2 + " (pasteurized, unflavored milk)"),),
    "unflavored": (_keep("unflavoured milk", TABLE2 + " (pasteurized, unflavored milk)"),),
    "white": (_keep("white (unflavoured) milk", TABLE2 + " (pasteurized, unflavored milk)", only=frozenset({"milk"})),),
    "fillet": (_keep("fish fillets with no additives or fillers", TABLE2),),
    "filet": (_keep("fish fillets with no additives or fillers", TABLE2),),
    "breast": (_keep("butchering poultry (whole or cut)", TABLE2 + " (poultry, whole or cut)"),),
    "thigh": (_keep("butchering poultry (whole or cut)", TABLE2 + " (poultry, whole or cut)"),),
    "leg": (_keep("butchering livestock and poultry"),),
    "boneless": (_keep("butchering livestock and poultry"),),
    "skinless": (_keep("butchering livestock and poultry"),),
    "roast": (_keep("a cut of meat (butchering)", only=_MEATS),),
    "loin": (_keep("a cut of meat (butchering)"),),
    "tenderloin": (_keep("a cut of meat (butchering)"),),
    "cleaned": (_keep("cleaning fish / washing"),),
}
# phrases that are flavours or descriptions, never a product
NEUTRAL_PHRASES: Final = frozenset(
    {
        "chocolate chip",
        "whole wheat",
        "individually wrapped",
        "reduced fat",
        "reduced sodium",
        "low fat",
        "low sodium",
        "fat free",
        "gluten free",
        "farm to school",
        "ready to eat",
        "peanut free",
        "nut free",
        "sour cream and onion",
        "cinnamon toast",
        "honey wheat",
        "whole muscle",
        "orange burst",
        "preservative free",
        "no ice",
        "additive free",
        "filler free",
        "fruit flavored",
    }
)
# distributor abbreviations (upper-case item text) -> words
ABBREVIATIONS: Final[dict[str, str]] = {
    "chkn": "chicken",
    "chx": "chicken",
    "chix": "chicken",
    "chic": "chicken",
    "chk": "chicken",
    "ckn": "chicken",
    "chick": "chicken",
    "trky": "turkey",
    "tky": "turkey",
    "trk": "turkey",
    "brst": "breast",
    "bf": "beef",
    "prk": "pork",
    "brd": "breaded",
    "brdd": "breaded",
    "bkd": "baked",
    "ckd": "cooked",
    "fc": "fully cooked",
    "grld": "grilled",
    "grlld": "grilled",
    "grl": "grilled",
    "rstd": "roasted",
    "smkd": "smoked",
    "frz": "frozen",
    "frzn": "frozen",
    "froz": "frozen",
    "shrd": "shredded",
    "shred": "shredded",
    "shrded": "shredded",
    "sl": "sliced",
    "slc": "sliced",
    "slcd": "sliced",
    "dcd": "diced",
    "chopd": "chopped",
    "chp": "chopped",
    "chs": "cheese",
    "chse": "cheese",
    "chz": "cheese",
    "ched": "cheddar",
    "chdr": "cheddar",
    "mozz": "mozzarella",
    "moz": "mozzarella",
    "parm": "parmesan",
    "saus": "sausage",
    "pepp": "pepperoni",
    "pep": "pepperoni",
    "brcli": "broccoli",
    "broc": "broccoli",
    "pot": "potato",
    "pots": "potatoes",
    "tater": "tater",
    "tatr": "tater",
    "swt": "sweet",
    "choc": "chocolate",
    "choco": "chocolate",
    "chc": "chocolate",
    "cinn": "cinnamon",
    "strw": "strawberry",
    "strwb": "strawberry",
    "strwbry": "strawberry",
    "straw": "straw",
    "brkfst": "breakfast",
    "brfst": "breakfast",
    "brkfast": "breakfast",
    "bkfst": "breakfast",
    "sndwch": "sandwich",
    "sandw": "sandwich",
    "sndw": "sandwich",
    "sand": "sandwich",
    "burr": "burrito",
    "bur": "burrito",
    "pza": "pizza",
    "w": "with",
    "ww": "whole wheat",
    "www": "white whole wheat",
    "wg": "whole grain",
    "iw": "individually wrapped",
    "rf": "reduced fat",
    "rs": "reduced sodium",
    "ls": "low sodium",
    "lss": "low sodium",
    "lf": "low fat",
    "bn": "bean",
    "bns": "beans",
    "crmy": "creamy",
    "hny": "honey",
    "grn": "green",
    "yel": "yellow",
    "wht": "white",
    "blk": "black",
    "veg": "vegetable",
    "tom": "tomato",
    "toms": "tomatoes",
    "grhm": "graham",
    "gldfsh": "goldfish",
    "tryki": "teriyaki",
    "unswt": "unsweetened",
    "dgh": "dough",
    "stk": "stick",
    "stck": "stick",
    "stix": "sticks",
    "sce": "sauce",
    "ctn": "carton",
    "pnck": "pancake",
    "pncks": "pancakes",
    "glzd": "glazed",
    "frstd": "frosted",
    "cky": "cookie",
    "ckie": "cookie",
    "brgr": "burger",
    "flvr": "flavored",
    "flvrd": "flavored",
    "pb": "peanut butter",
    "pbj": "peanut butter jelly",
    "mac": "macaroni",
    "lttc": "lettuce",
    "ltc": "lettuce",
    "rom": "romaine",
    "cuc": "cucumber",
    "cuke": "cucumber",
    "crrt": "carrot",
    "crt": "carrot",
    "cel": "celery",
    "onn": "onion",
    "cauli": "cauliflower",
    "zuc": "zucchini",
    "sqsh": "squash",
    "apl": "apple",
    "aplsce": "applesauce",
    "ban": "banana",
    "bnna": "banana",
    "orng": "orange",
    "org": "organic",
    "pch": "peach",
    "pchs": "peaches",
    "pr": "pear",
    "pnapl": "pineapple",
    "pine": "pineapple",
    "grp": "grape",
    "wtrmln": "watermelon",
    "cant": "cantaloupe",
    "tang": "tangerine",
    "mandr": "mandarin",
    "mand": "mandarin",
    "avacado": "avocado",
    "avo": "avocado",
    "jal": "jalapeno",
    "tort": "tortilla",
    "tortl": "tortilla",
    "tortla": "tortilla",
    "crkr": "cracker",
    "crkrs": "crackers",
    "wfl": "waffle",
    "mff": "muffin",
    "muf": "muffin",
    "bgl": "bagel",
    "bsct": "biscuit",
    "bisc": "biscuit",
    "mlk": "milk",
    "yog": "yogurt",
    "ygt": "yogurt",
    "yogrt": "yogurt",
    "fzn": "frozen",
    "amer": "american",
    "chiz": "cheese",
    "nug": "nugget",
    "nugg": "nugget",
    "ptty": "patty",
    "pty": "patty",
    "hamb": "hamburger",
    "hmbgr": "hamburger",
    "grnd": "ground",
    "gr": "ground",
    "dz": "dozen",
    "lg": "large",
    "med": "medium",
    "sm": "small",
    "xl": "extra large",
    "pkg": "package",
    "pk": "pack",
    "pc": "piece",
    "ea": "each",
    "cs": "case",
    "ct": "count",
    "oz": "ounce",
    "lb": "pound",
    "lbs": "pound",
    "gal": "gallon",
    "pt": "pint",
    "qt": "quart",
    "hlf": "half",
    "vit": "vitamin",
    "ff": "fat free",
    "ns": "no salt",
    "nsa": "no salt",
    "cmdy": "commodity",
    "dod": "dod",
    "usda": "usda",
    "sz": "size",
    "ffry": "french fry",
    "char": "charbroiled",
    "pollo": "chicken",
    "orgn": "organic",
    "tryk": "turkey",
    "tator": "tater",
    "brdstks": "breadsticks",
    "brdstx": "breadsticks",
    "ppr": "pepper",
    "shreds": "shredded",
    "cn": "cn label",
    "rst": "roasted",
    "sweetner": "sweetener",
    "artifical": "artificial",
    "strps": "strips",
    "drk": "dark",
    "chili": "chili",
    "chl": "chilled",
    "chil": "chili",
    "tff": "tff",
}
# words that describe but never name a product, and are never guessed at
SKIP_WORDS: Final = frozenset(
    {
        "with",
        "and",
        "or",
        "of",
        "in",
        "on",
        "the",
        "a",
        "an",
        "to",
        "no",
        "not",
        "all",
        "style",
        "lite",
        "light",
        "low",
        "fat",
        "free",
        "reduced",
        "sodium",
        "whole",
        "grain",
        "wheat",
        "individually",
        "wrapped",
        "mini",
        "large",
        "small",
        "medium",
        "jumbo",
        "extra",
        "super",
        "petite",
        "baby",
        "fancy",
        "premium",
        "classic",
        "original",
        "natural",
        "organic",
        "red",
        "green",
        "yellow",
        "gold",
        "golden",
        "white",
        "black",
        "brown",
        "dark",
        "pink",
        "purple",
        "blue",
        "bulk",
        "pack",
        "package",
        "piece",
        "each",
        "case",
        "count",
        "ounce",
        "pound",
        "gallon",
        "pint",
        "quart",
        "size",
        "commodity",
        "dod",
        "usda",
        "cmdy",
        "ffvp",
        "farm",
        "school",
        "local",
        "grade",
        "us",
        "sweet",
        "sour",
        "hot",
        "mild",
        "cold",
        "plain",
        "regular",
        "assorted",
        "variety",
        "double",
        "triple",
        "twin",
        "round",
        "square",
        "shaped",
        "star",
        "heart",
        "bites",
        "bite",
        "snack",
        "snacks",
        "lunch",
        "breakfast",
        "dinner",
        "kids",
        "k",
        "x",
        "s",
        "n",
        "b",
        "c",
        "g",
        "h",
        "v",
        "ez",
        "up",
        "go",
        "it",
        "de",
        "con",
        "el",
        "la",
        "per",
        "lb",
        "oz",
        "ct",
        "ea",
        "cs",
        "pk",
        "pc",
        "tff",
        "vf",
        "gf",
        "els",
        "tri",
        "pre",
        "top",
        "vitamin",
        "american",
        "mexican",
        "asian",
        "korean",
        "spanish",
        "oriental",
        "homestyle",
        "country",
        "garden",
        "fiesta",
        "tropical",
        "island",
        "simply",
        "smart",
        "max",
        "zero",
        "calorie",
        "dozen",
        "half",
        "quarter",
        "unsweetened",
        "creamy",
        "crunchy",
        "smooth",
        "chunky",
        "soft",
        "hard",
        "new",
        "old",
        "fat free",
        "part",
        "skim",
        "lowfat",
        "nonfat",
        "percent",
        "fl",
        "dsp",
        "dispenser",
        "pouch",
        "packet",
        "cups",
        "box",
        "bottle",
        "cello",
        "tub",
        "jar",
        "food",
        "service",
        "high",
        "energy",
        "power",
    }
)
# keep-markers that say less than a named technique when both appear
GENERIC_KEEPS: Final = frozenset({"whole", "fresh", "raw"})
INGREDIENT_WHY: Final = "another ingredient added (seasoning, sauce, cheese or filling)"
# words that negate the processing words just after them ("no additives or fillers")
NEGATIONS: Final = frozenset({"no", "without", "non"})
NEGATION_REACH: Final = 3
# variety and harvest words: never a product, never split or guessed at ("butternut" is not butter + nut)
VARIETY_WORDS: Final = frozenset(
    {
        "honeycrisp",
        "gala",
        "fuji",
        "granny",
        "smith",
        "braeburn",
        "jonagold",
        "mcintosh",
        "macintosh",
        "cortland",
        "empire",
        "jazz",
        "envy",
        "ambrosia",
        "zestar",
        "cosmic",
        "delicious",
        "butternut",
        "acorn",
        "delicata",
        "kabocha",
        "hubbard",
        "russet",
        "yukon",
        "fingerling",
        "vidalia",
        "romano",
        "bartlett",
        "anjou",
        "bosc",
        "navel",
        "valencia",
        "minneola",
        "honeybell",
        "heirloom",
        "roma",
        "beefsteak",
        "cherokee",
        "picked",
        "dug",
        "harvested",
        "grown",
        "raised",
        "caught",
        "pastured",
        "grassfed",
        "organic",
        "local",
        "dipper",
        "pure",
        "side",
        "skin",
        "rancho",
        "buttery",
        "fruity",
    }
)
# the unknown-text rule
UNKNOWN_RULE: Final = "no rule matched"
FUZZY_CUTOFF: Final = 90.0
NGRAM_MAX: Final = 4
_WORD = re.compile(r"#\d+|[a-z]+")
_WITH = re.compile(r"\bw/\s*")
_APOSTROPHE = re.compile(r"['’`]")


# --- term index --------------------------------------------------------------------------------
def _build_terms() -> dict[str, Term]:
    """Every product keyword -> its Term, from the tables above."""
    terms: dict[str, Term] = {}
    raw_source = TABLE2 + "; whole, fresh fruit and vegetables"
    for key, product in FRUITS.items():
        terms[key] = Term(
            product, FRUIT, RAW, RANK_PRODUCE, "whole, fresh fruit retains its inherent character", raw_source
        )
    for key, product in VEGETABLES.items():
        terms[key] = Term(
            product, VEGETABLE, RAW, RANK_PRODUCE, "whole, fresh vegetables retain their inherent character", raw_source
        )
    for key, product in PROTEINS.items():
        terms[key] = Term(
            product,
            PROTEIN,
            RAW,
            RANK_STAPLE,
            "unprocessed meat, poultry, fish or eggs with no additives or fillers",
            TABLE2 + " (meat with no additives or fillers; poultry; eggs)",
        )
    for key, product in CUTS.items():
        terms[key] = Term(
            product,
            PROTEIN,
            RAW,
            RANK_CUT,
            "unprocessed meat, poultry or fish with no additives or fillers",
            TABLE2 + " (meat with no additives or fillers; poultry, whole or cut; fish fillets)",
        )
    for key, product, category, rank, why, source in UNPROCESSED_PRODUCTS:
        nature = UNPROCESSED if source == TABLE2 else PROCESSED
        terms[key] = Term(product, category, nature, rank, why, source)
    for key, product, category, rank, why, source in PROCESSED_PRODUCTS:
        head_only = category == OTHER and rank == RANK_DISH and key in _HEAD_ONLY
        terms[key] = Term(product, category, PROCESSED, rank, why, source, head_only=head_only)
    for key, product in NONFOOD_TERMS.items():
        terms.setdefault(key, Term(product, OTHER, NONFOOD, 0, "not a food", COOP))
    return terms


# sauce-like words: the product when they head the line, otherwise "sauce added"
_HEAD_ONLY: Final = frozenset(
    {"sweet chili"} | {"sauce", "gravy", "dressing", "dip", "syrup", "seasoning", "base", "ranch", "glaze", "alfredo"}
)
TERMS: Final[dict[str, Term]] = _build_terms()
_PHRASES: Final = frozenset(k for k in (*TERMS, *MARKERS, *NEUTRAL_PHRASES) if " " in k)
_PHRASE_STARTS: Final = frozenset(k.split()[0] for k in _PHRASES)
KEYWORDS: Final = frozenset(w for k in (*TERMS, *MARKERS, *NEUTRAL_PHRASES) for w in k.split())
VOCAB: Final = frozenset(
    w
    for k in (*TERMS, *MARKERS, *NEUTRAL_PHRASES, *ABBREVIATIONS.values(), *SKIP_WORDS, *VARIETY_WORDS)
    for w in k.split()
)
# words a misspelt or abbreviated token may be matched to (products and markers, four letters or more)
_FUZZY_TARGETS: Final = tuple(sorted(w for k in (*TERMS, *MARKERS) for w in k.split() if len(w) >= 4 and w.isalpha()))


def _skeleton(word: str) -> str:
    """First letter plus the consonants that follow, doubled letters collapsed ('broccoli' -> 'brcl')."""
    word = word.replace("ck", "k")
    out = [word[0]]
    for ch in word[1:]:
        if ch in "aeiou" or ch == out[-1]:
            continue
        out.append(ch)
    return "".join(out)


_SKELETONS: Final[dict[str, tuple[str, ...]]] = {}
for _w in _FUZZY_TARGETS:
    _SKELETONS.setdefault(_skeleton(_w), ())
    _SKELETONS[_skeleton(_w)] += (_w,)


_SORTED_SKELETONS: Final = tuple(sorted(_SKELETONS))


def _abbreviates(token: str, word: str) -> bool:
    """True when token is word with letters left out (its letters appear in word, in order, and word is longer)."""
    if len(token) >= len(word):
        return False
    rest = iter(word)
    return all(ch in rest for ch in token)


def _prefixed(sorted_words: tuple[str, ...], prefix: str) -> list[str]:
    """The words of a sorted tuple that begin with prefix."""
    start = bisect.bisect_left(sorted_words, prefix)
    end = bisect.bisect_left(sorted_words, prefix + "\uffff")
    return list(sorted_words[start:end])


@lru_cache(maxsize=65536)
def _base(token: str) -> tuple[str, float]:
    """A plain token -> the keyword it stands for (singular, corrected) and how sure that is."""
    if token in KEYWORDS or token.startswith("#"):
        return token, 1.0
    if token.endswith("s") and len(token) > 3:
        single = inflection.singularize(token)
        for candidate in (single, token[:-2] if token.endswith("es") else None, token[:-1]):
            if candidate and candidate in KEYWORDS:
                return candidate, 1.0
    if token in VOCAB or len(token) < 4 or not token.isalpha():
        return token, 1.0
    skel = _skeleton(token)
    # an abbreviation drops letters: only words longer than the token can be what it stands for
    exact = [w for w in _SKELETONS.get(skel, ()) if _abbreviates(token, w)] if len(skel) >= 4 else []
    if exact:
        return min(exact, key=len), 0.8
    # a clipped word: its letters begin a known word's, or its skeleton begins a known word's skeleton
    clipped = _prefixed(_FUZZY_TARGETS, token)
    if not clipped and len(skel) >= 4:
        clipped = [w for k in _prefixed(_SORTED_SKELETONS, skel) for w in _SKELETONS[k] if _abbreviates(token, w)]
    if clipped:
        return min(clipped, key=len), 0.75
    best = process.extractOne(token, _FUZZY_TARGETS, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
    if best is not None and best[0][0] == token[0]:
        return best[0], 0.7
    return token, 1.0


@lru_cache(maxsize=65536)
def _resolve(token: str) -> tuple[tuple[str, ...], float]:
    """A raw token -> its normalised word(s), abbreviations expanded, and how sure that is."""
    if token in ABBREVIATIONS:
        return tuple(_base(w)[0] for w in ABBREVIATIONS[token].split()), 0.9
    word, sure = _base(token)
    if word == token and word not in VOCAB and len(token) >= 6:
        split = _split_compound(token)
        if split:
            return split, 0.9
    return (word,), sure


def _split_compound(token: str) -> tuple[str, ...]:
    """Two run-together words ('hamburgerbun' -> 'hamburger', 'bun'), or () when no split is known."""
    for cut in range(len(token) - 2, 2, -1):
        head, tail = token[:cut], token[cut:]
        if (head in KEYWORDS or head in VOCAB) and (tail in KEYWORDS or tail in VOCAB or tail in ABBREVIATIONS):
            tail_words = ABBREVIATIONS[tail].split() if tail in ABBREVIATIONS else [tail]
            return (head, *(_base(w)[0] for w in tail_words))
    return ()


def _words(text: str) -> tuple[list[str], float]:
    """Normalised words of a description (abbreviations expanded, singular) and the least sure guess."""
    lowered = _APOSTROPHE.sub("", _WITH.sub(" with ", text.lower().replace("&", " and ")))
    words: list[str] = []
    sure = 1.0
    for token in _WORD.findall(lowered):
        resolved, conf = _resolve(token)
        words.extend(resolved)
        if any(w in TERMS for w in resolved):
            sure = min(sure, conf)
    return words, sure


@dataclass(frozen=True)
class _Hit:
    """One matched phrase in a description: where it starts and what it is."""

    start: int
    key: str


def _scan(words: list[str]) -> tuple[list[_Hit], list[_Hit]]:
    """Product-term hits and marker hits, longest phrase first, left to right."""
    terms: list[_Hit] = []
    markers: list[_Hit] = []
    i = 0
    n = len(words)
    while i < n:
        longest = min(NGRAM_MAX, n - i) if words[i] in _PHRASE_STARTS else 1
        for size in range(longest, 0, -1):
            key = " ".join(words[i : i + size])
            if size > 1 and key not in _PHRASES:
                continue
            if key in NEUTRAL_PHRASES:
                i += size
                break
            found = False
            if key in TERMS:
                terms.append(_Hit(i, key))
                found = True
            if key in MARKERS:
                markers.append(_Hit(i, key))
                found = True
            if found:
                i += size
                break
        else:
            i += 1
    return terms, markers


def _head(terms: list[_Hit], words: list[str]) -> tuple[_Hit | None, list[_Hit]]:
    """The hit that names the product, and the sauce-like hits that act as 'sauce added' markers."""
    candidates: list[_Hit] = []
    as_marker: list[_Hit] = []
    food = [h for h in terms if TERMS[h.key].nature != NONFOOD]
    for pos, hit in enumerate(food):
        term = TERMS[hit.key]
        after_with = any(w in ("with", "in") for w in words[max(0, hit.start - 2) : hit.start])
        if term.head_only and (pos > 0 or after_with):
            as_marker.append(hit)
        else:
            candidates.append(hit)
    if not candidates:
        nonfood = [h for h in terms if TERMS[h.key].nature == NONFOOD]
        return (nonfood[0] if nonfood else None), as_marker
    best = max(candidates, key=lambda h: (TERMS[h.key].rank, -h.start))
    return best, as_marker


def _marker_applies(marker: Marker, product: str) -> bool:
    """True when a marker is in scope for the product."""
    if marker.only and product not in marker.only:
        return False
    return product not in marker.unless


def _unknown(words: list[str], text: str) -> Classification:
    """The fallback for text no product rule matches: first noun-ish word, category other, low confidence."""
    noun = next((w for w in words if w.isalpha() and len(w) >= 3 and w not in SKIP_WORDS and w not in MARKERS), None)
    noun = noun or next((w for w in words if w.isalpha() and len(w) >= 3), None)
    product = noun or (text.strip().lower() or "unknown")
    return Classification(
        product=product,
        category=OTHER,
        unprocessed=False,
        confidence=0.2,
        rule=f"{COOP}: {UNKNOWN_RULE}",
        reason="no product keyword recognised; treated as processed until a person classifies it",
        source=COOP,
    )


@lru_cache(maxsize=131072)
def classify(text: str) -> Classification:
    """The product, category and unprocessed status of an item description, with the rule and source."""
    words, sure = _words(text)
    term_hits, marker_hits = _scan(words)
    head, sauce_hits = _head(term_hits, words)
    if head is None:
        return _unknown(words, text)
    term = TERMS[head.key]
    confidence = sure if term.nature != NONFOOD else 0.5
    product = term.product
    if term.nature == NONFOOD:
        return Classification(product, OTHER, False, confidence, f"{COOP}: not food", "not a food product", COOP)
    if term.nature == PROCESSED:
        return Classification(
            product,
            term.category,
            False,
            confidence,
            f"{term.source}: {term.why}",
            f"{head.key}: {term.why}, which changes its inherent character",
            term.source,
        )
    decisive: list[tuple[str, Marker]] = []
    for hit in sorted(marker_hits, key=lambda h: h.start):
        if any(w in NEGATIONS for w in words[max(0, hit.start - NEGATION_REACH) : hit.start]):
            continue  # "no additives or fillers"
        for marker in MARKERS[hit.key]:
            if _marker_applies(marker, product):
                decisive.append((hit.key, marker))
                break
    for hit in sauce_hits:
        sauce = TERMS[hit.key]
        decisive.append((hit.key, Marker(False, f"{hit.key} added", sauce.source)))
    if term.category in (PROTEIN, GRAIN):
        # meat, fish, eggs or grain named with another food: seasoning, sauce or filling added (Table 1)
        for hit in term_hits:
            other = TERMS[hit.key]
            if hit is not head and other.nature != NONFOOD and other.category != term.category:
                decisive.append((hit.key, Marker(False, INGREDIENT_WHY, TABLE1 + "; meats with seasoning")))
                break
    changed = next(((k, m) for k, m in decisive if not m.keeps), None)
    if changed is not None:
        key, marker = changed
        return Classification(
            product,
            term.category,
            False,
            confidence,
            f"{marker.source}: {marker.why}",
            f"{key}: {marker.why}, which changes the inherent character of {product}",
            marker.source,
        )
    keeps = [(k, m) for k, m in decisive if m.keeps]
    # a named technique (frozen, sliced) says more than "whole" or "fresh"
    kept = next(((k, m) for k, m in keeps if k not in GENERIC_KEEPS), keeps[0] if keeps else None)
    if kept is not None:
        key, marker = kept
        return Classification(
            product,
            term.category,
            True,
            confidence,
            f"{marker.source}: {marker.why}",
            f"{key}: {marker.why} keeps the inherent character of {product}",
            marker.source,
        )
    return Classification(
        product,
        term.category,
        True,
        confidence,
        f"{term.source}: {term.why}",
        f"{product}: {term.why}; no processing named",
        term.source,
    )


CLASSIFY_SCHEMA: Final = {
    names.DESCRIPTION: pl.String,
    names.PRODUCT: pl.String,
    names.CATEGORY: pl.String,
    names.UNPROCESSED: pl.Boolean,
    "confidence": pl.Float64,
    names.UNPROCESSED_RULE: pl.String,
}


def classify_many(descriptions: pl.Series) -> pl.DataFrame:
    """One classification row per distinct description (nulls dropped), computed once per distinct value."""
    unique = descriptions.cast(pl.String).drop_nulls().unique(maintain_order=True).to_list()
    results = [classify(d) for d in unique]
    return pl.DataFrame(
        {
            names.DESCRIPTION: unique,
            names.PRODUCT: [r.product for r in results],
            names.CATEGORY: [r.category for r in results],
            names.UNPROCESSED: [r.unprocessed for r in results],
            "confidence": [r.confidence for r in results],
            names.UNPROCESSED_RULE: [r.rule for r in results],
        },
        schema=CLASSIFY_SCHEMA,
    )
