"""Product classification: commodity, meal-component category and unprocessed status from an item description.

Unprocessed follows 7 CFR 210.21(g)(2): a product is unprocessed when it retains its inherent character;
cooling, refrigerating, freezing, size reduction (peeling, slicing, dicing, cutting, chopping, shucking,
grinding), forming ground products into patties without additives or fillers, drying, washing, packaging
and bagging (including combining vegetables or fruits in one package), butchering, cleaning fish and the
pasteurisation of milk do not change it. Cooking, heating, canning, seasoning, breading and adding sauces do.
Seed 002's two product tables and seed 004 Q14-Q17 are encoded in the terms files, each row citing its source.

The vocabulary (keywords, markers, abbreviations, skip words) is data, `coop/products/terms/*.csv`, read once at
import into the sets and dicts below; this module holds the rules, and `classify` only looks terms up.
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
from coop.parsing import FALSE_WORDS, TRUE_WORDS
from coop.products import units, vocabulary

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
    names_line: bool = False  # a supply that names the line whatever food it also names ("LEMON DISH SOAP")


@dataclass(frozen=True)
class Marker:
    """A processing word: whether it keeps (True) or changes (False) the inherent character, and why."""

    keeps: bool
    why: str
    source: str
    only: frozenset[str] = frozenset()  # applies only to these products (empty: to all)
    unless: frozenset[str] = frozenset()  # never applies to these products


_WORD = re.compile(r"#\d+|[a-z]+")
_WITH = re.compile(r"\bw/\s*")
_APOSTROPHE = re.compile(r"['’`]")

# --- the vocabulary: coop/products/terms/*.csv (terms/README.md says what each file holds and where it comes from)
_RANKS: Final = {
    "cut": RANK_CUT,
    "produce": RANK_PRODUCE,
    "staple": RANK_STAPLE,
    "dairy": RANK_DAIRY,
    "dish": RANK_DISH,
}
_CATEGORIES: Final = {c: c for c in names.CATEGORIES}
_NATURES: Final = {PROCESSED: PROCESSED, UNPROCESSED: UNPROCESSED}
_EFFECTS: Final = {"keeps": True, "changes": False}
_YES_NO: Final = {w: True for w in sorted(TRUE_WORDS)} | {w: False for w in sorted(FALSE_WORDS)}
# raw commodities and whole grains: (file, category, nature, rank, why, source), each table's rule from seed 002 Table 2
_RAW_TABLES: Final = (
    (
        "fruits.csv",
        FRUIT,
        RAW,
        RANK_PRODUCE,
        "whole, fresh fruit retains its inherent character",
        TABLE2 + "; whole, fresh fruit and vegetables",
    ),
    (
        "vegetables.csv",
        VEGETABLE,
        RAW,
        RANK_PRODUCE,
        "whole, fresh vegetables retain their inherent character",
        TABLE2 + "; whole, fresh fruit and vegetables",
    ),
    (
        "proteins.csv",
        PROTEIN,
        RAW,
        RANK_STAPLE,
        "unprocessed meat, poultry, fish or eggs with no additives or fillers",
        TABLE2 + " (meat with no additives or fillers; poultry; eggs)",
    ),
    (
        "cuts.csv",
        PROTEIN,
        RAW,
        RANK_CUT,
        "unprocessed meat, poultry or fish with no additives or fillers",
        TABLE2 + " (meat with no additives or fillers; poultry, whole or cut; fish fillets)",
    ),
    (
        "grains.csv",
        GRAIN,
        UNPROCESSED,
        RANK_STAPLE,
        "whole-form or ground grain (rice, flour, barley, grits, oatmeal)",
        TABLE2,
    ),
)
_PRODUCE_TABLES: Final = ("fruits.csv", "vegetables.csv")
_PRODUCE_GROUP: Final = "@produce"
# built-in groups: each the products of some product tables (`@produce`: fruit and vegetables; `@raw`: every
# commodity as grown or raised; `@grains`: whole-form and ground grains)
_BUILT_IN_GROUPS: Final = {
    _PRODUCE_GROUP: _PRODUCE_TABLES,
    "@raw": tuple(name for name, _, nature, *_ in _RAW_TABLES if nature == RAW),
    "@grains": ("grains.csv",),
}
_NONFOOD_WHY: Final = "not a food"
_NONFOOD_RULE: Final = f"{COOP}: not food"


def _spelled(row: vocabulary.Row, column: str) -> str:
    """A term as the tokeniser writes words (lower-case letters, or # and digits, one space between); else an error."""
    value = row[column]
    if not all(_WORD.fullmatch(w) for w in value.split(" ")):
        raise row.error(column, f"{value!r} is not lower-case words the classifier can match")
    return value


def _build_terms() -> dict[str, Term]:
    """Every product keyword -> its Term, from the product terms files; a keyword belongs to one file."""
    terms: dict[str, Term] = {}
    where: dict[str, vocabulary.Row] = {}

    def add(row: vocabulary.Row, term: Term) -> None:
        key = _spelled(row, "keyword")
        if key in where:
            raise row.error("keyword", f"{key!r} is already a keyword in {where[key].file} row {where[key].line}")
        where[key] = row
        terms[key] = term

    for name, category, nature, rank, why, source in _RAW_TABLES:
        for row in vocabulary.table(name):
            add(row, Term(row["product"], category, nature, rank, why, source))
    for row in vocabulary.table("products.csv"):
        term = Term(
            row["product"],
            row.choice("category", _CATEGORIES),
            row.choice("nature", _NATURES),
            row.choice("rank", _RANKS),
            row["why"],
            row["source"],
            head_only=row.choice("head_only", _YES_NO),
        )
        add(row, term)
    for row in vocabulary.table("nonfood.csv"):
        names_line = row.choice("names_line", _YES_NO)
        add(row, Term(row["product"], OTHER, NONFOOD, 0, _NONFOOD_WHY, COOP, names_line=names_line))
    return terms


def _build_groups() -> dict[str, frozenset[str]]:
    """Named product sets for markers' and pack shapes' scopes: the built-in groups and product_groups.csv's."""
    groups: dict[str, set[str]] = {
        group: {row["product"] for name in tables for row in vocabulary.table(name)}
        for group, tables in _BUILT_IN_GROUPS.items()
    }
    for row in vocabulary.table("product_groups.csv"):
        group = "@" + row["group"]
        if group in _BUILT_IN_GROUPS:
            tables = ", ".join(_BUILT_IN_GROUPS[group])
            raise row.error("group", f"{row['group']!r} is built in (the products of {tables})")
        groups.setdefault(group, set()).add(row["product"])
    return {k: frozenset(v) for k, v in groups.items()}


def _scope(row: vocabulary.Row, column: str, groups: dict[str, frozenset[str]]) -> frozenset[str]:
    """The products a marker's only/unless cell names: product names and @groups."""
    out: set[str] = set()
    for item in row.items(column):
        if item.startswith("@"):
            if item not in groups:
                raise row.error(column, f"unknown group {item!r} (known: {', '.join(sorted(groups))})")
            out |= groups[item]
        else:
            out.add(item)
    return frozenset(out)


def _build_markers(groups: dict[str, frozenset[str]]) -> dict[str, tuple[Marker, ...]]:
    """Every processing word -> its markers in file order, from markers.csv."""
    markers: dict[str, tuple[Marker, ...]] = {}
    for row in vocabulary.table("markers.csv"):
        marker = Marker(
            row.choice("effect", _EFFECTS),
            row["why"],
            row["source"],
            only=_scope(row, "only", groups),
            unless=_scope(row, "unless", groups),
        )
        word = _spelled(row, "word")
        markers[word] = (*markers.get(word, ()), marker)
    return markers


def _words_of(name: str, column: str) -> frozenset[str]:
    """The terms in one column of a one-word-a-row terms file."""
    return frozenset(_spelled(row, column) for row in vocabulary.table(name))


# keep-markers that say less than a named technique when both appear
GENERIC_KEEPS: Final = frozenset({"whole", "fresh", "raw"})
INGREDIENT_WHY: Final = "another ingredient added (seasoning, sauce, cheese or filling)"
# words that negate the processing words just after them ("no additives or fillers")
NEGATIONS: Final = frozenset({"no", "without", "non"})
NEGATION_REACH: Final = 3
# the unknown-text rule
UNKNOWN_RULE: Final = "no rule matched"
FUZZY_CUTOFF: Final = 90.0
NGRAM_MAX: Final = 4


# --- term index --------------------------------------------------------------------------------
TERMS: Final[dict[str, Term]] = _build_terms()
_GROUPS: Final = _build_groups()
PRODUCE: Final = _GROUPS[_PRODUCE_GROUP]
MARKERS: Final[dict[str, tuple[Marker, ...]]] = _build_markers(_GROUPS)
# phrases that are flavours or descriptions, never a product
NEUTRAL_PHRASES: Final = _words_of("neutral_phrases.csv", "phrase")
# distributor abbreviations (upper-case item text) -> words
ABBREVIATIONS: Final[dict[str, str]] = {
    _spelled(row, "abbreviation"): _spelled(row, "expansion") for row in vocabulary.table("abbreviations.csv")
}
# words that describe but never name a product, and are never guessed at
SKIP_WORDS: Final = _words_of("skip_words.csv", "word")
# variety and harvest words: never a product, never split or guessed at ("butternut" is not butter + nut)
VARIETY_WORDS: Final = _words_of("variety_words.csv", "word")
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

# --- evidence beyond the words (evidence.csv): pack-size tokens that mean canned, markings that mean a grain product
CANNED: Final = "canned"
GRAIN_MARK: Final = "grain"
_EVIDENCE_KINDS: Final = {CANNED: CANNED, GRAIN_MARK: GRAIN_MARK}
_WHERE: Final = {"pack": "pack", "description": "description"}
_PACK_TOKEN: Final = re.compile(r"#\d+|[A-Z]+")


def _build_evidence() -> tuple[dict[str, Marker], dict[str, Marker]]:
    """Pack-size tokens (upper case) -> the canning marker; description phrases -> the grain-product marking."""
    pack: dict[str, Marker] = {}
    marks: dict[str, Marker] = {}
    for row in vocabulary.table("evidence.csv"):
        kind = row.choice("evidence", _EVIDENCE_KINDS)
        where = row.choice("where", _WHERE)
        marker = Marker(kind != CANNED, row["why"], row["source"])
        if where == "pack":
            if kind != CANNED:
                raise row.error("evidence", "a pack-size token can only say canned")
            pack[row["token"].upper()] = marker
        else:
            if kind != GRAIN_MARK:
                raise row.error("evidence", "a description phrase can only say grain")
            marks[_spelled(row, "token")] = marker
    return pack, marks


PACK_EVIDENCE, GRAIN_MARKS = _build_evidence()


@dataclass(frozen=True)
class PackShape:
    """A pack-size shape (`count` containers of `size` `unit` each, within bounds) that says a line is processed."""

    name: str
    unit: str
    count: tuple[float, float]
    size: tuple[float, float]
    marker: Marker

    def fits(self, pack: units.PackSize) -> bool:
        """True when the parsed pack has this shape's unit and its count and size are within bounds."""
        return (
            pack.unit == self.unit
            and self.count[0] <= pack.count <= self.count[1]
            and self.size[0] <= pack.size <= self.size[1]
        )


def _bound(row: vocabulary.Row, column: str, default: float) -> float:
    """A number cell of pack_shapes.csv (empty: `default`, no bound); a named SpecError when not a number >= 0."""
    value = row[column]
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise row.error(column, f"{value!r} is not a number") from None
    if not number >= 0:
        raise row.error(column, f"{value!r} is not a number >= 0")
    return number


def _build_shapes(groups: dict[str, frozenset[str]]) -> tuple[PackShape, ...]:
    """The pack shapes of pack_shapes.csv, each changing the inherent character of the products in its scope."""
    shapes: list[PackShape] = []
    for row in vocabulary.table("pack_shapes.csv"):
        count = (_bound(row, "count_min", 0.0), _bound(row, "count_max", float("inf")))
        size = (_bound(row, "size_min", 0.0), _bound(row, "size_max", float("inf")))
        if count[0] > count[1] or size[0] > size[1]:
            raise row.error("count_min" if count[0] > count[1] else "size_min", "the least is above the most")
        marker = Marker(False, row["why"], row["source"], only=_scope(row, "only", groups))
        shapes.append(PackShape(row["shape"], row["unit"], count, size, marker))
    return tuple(shapes)


PACK_SHAPES: Final = _build_shapes(_GROUPS)
# words that say how a raw product is kept (fresh, frozen, dried): a pack shape does not overrule them
STATED_STATES: Final = _words_of("stated_states.csv", "word")
# a grain marking (WG, WW) on an item whose named product is one of these categories makes it a grain product
GRAIN_MARKED: Final = frozenset({FRUIT, VEGETABLE, OTHER})
GRAIN_MARK_PRODUCT: Final = "grain products"


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


@lru_cache(maxsize=65536)
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
    supply = next((h for h in terms if TERMS[h.key].names_line), None)
    if supply is not None:
        return supply, as_marker  # a food word on a supply is its scent or use ("LEMON DISH SOAP", "FOOD GLOVES")
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


def _pack_marker(pack_size: str | None) -> tuple[str, Marker] | None:
    """The canning evidence in a pack size ('6/#10', '24/15OZ CAN'), or None."""
    if not pack_size:
        return None
    for token in _PACK_TOKEN.findall(pack_size.upper()):
        if token in PACK_EVIDENCE:
            return token, PACK_EVIDENCE[token]
    return None


@lru_cache(maxsize=8192)
def _pack(pack_size: str) -> units.PackSize | None:
    """A pack size parsed once (`units.parse_pack`)."""
    return units.parse_pack(pack_size)


def _shape_marker(pack_size: str | None, product: str, words: list[str]) -> tuple[str, Marker] | None:
    """The pack shape of a pack size that says the product is processed, unless the words state how it is kept."""
    if not pack_size or any(w in STATED_STATES for w in words):
        return None
    pack = _pack(pack_size)
    if pack is None:
        return None
    for shape in PACK_SHAPES:
        if shape.fits(pack) and _marker_applies(shape.marker, product):
            return shape.name, shape.marker
    return None


def _grain_marked(words: list[str]) -> tuple[str, Marker] | None:
    """The grain-product marking (whole grain, whole wheat) in a description's words, or None."""
    text = " ".join(words)
    for phrase, marker in GRAIN_MARKS.items():
        if f" {phrase} " in f" {text} ":
            return phrase, marker
    return None


@lru_cache(maxsize=131072)
def classify(text: str, pack_size: str | None = None) -> Classification:
    """The product, category and unprocessed status of an item description (and pack size), with rule and source."""
    found = _classify(text, pack_size)
    words = _words(text)[0]
    marked = _grain_marked(words)
    if (
        marked is not None
        and found.category in GRAIN_MARKED
        and found.rule != _NONFOOD_RULE
        and all(TERMS[h.key].category != PROTEIN for h in _scan(words)[0])  # breaded meat in a sauce is not grain
    ):
        phrase, marker = marked
        product = found.product if found.category == OTHER and found.confidence > 0.2 else GRAIN_MARK_PRODUCT
        confidence = 0.6 if found.confidence <= 0.2 else min(found.confidence, 0.8)
        return Classification(
            product,
            GRAIN,
            False,
            confidence,
            f"{marker.source}: {marker.why}",
            f"{phrase}: {marker.why}; baked or manufactured, which changes the inherent character",
            marker.source,
        )
    return found


def _classify(text: str, pack_size: str | None) -> Classification:
    """`classify` before the grain marking is weighed."""
    words, sure = _words(text)
    term_hits, marker_hits = _scan(words)
    head, sauce_hits = _head(term_hits, words)
    if head is None:
        return _unknown(words, text)
    term = TERMS[head.key]
    confidence = sure if term.nature != NONFOOD else 0.5
    product = term.product
    if term.nature == NONFOOD:
        return Classification(product, OTHER, False, confidence, _NONFOOD_RULE, "not a food product", COOP)
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
    canned = _pack_marker(pack_size)
    if canned is not None:
        decisive.append((f"pack {pack_size}", canned[1]))
    shaped = _shape_marker(pack_size, product, words) if canned is None else None
    if shaped is not None:
        decisive.append((f"pack {pack_size} ({shaped[0]})", shaped[1]))
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
    names.PACK_SIZE: pl.String,
    names.PRODUCT: pl.String,
    names.CATEGORY: pl.String,
    names.UNPROCESSED: pl.Boolean,
    "confidence": pl.Float64,
    names.UNPROCESSED_RULE: pl.String,
}


def classify_many(descriptions: pl.Series, pack_sizes: pl.Series | None = None) -> pl.DataFrame:
    """One classification row per distinct (description, pack size) (null descriptions dropped), computed once each."""
    packs = pl.Series([None] * len(descriptions), dtype=pl.String) if pack_sizes is None else pack_sizes.cast(pl.String)
    pairs = (
        pl.DataFrame({names.DESCRIPTION: descriptions.cast(pl.String), names.PACK_SIZE: packs})
        .drop_nulls(names.DESCRIPTION)
        .unique(maintain_order=True)
    )
    results = [classify(d, p) for d, p in pairs.iter_rows()]
    return pairs.with_columns(
        pl.Series(names.PRODUCT, [r.product for r in results], dtype=pl.String),
        pl.Series(names.CATEGORY, [r.category for r in results], dtype=pl.String),
        pl.Series(names.UNPROCESSED, [r.unprocessed for r in results], dtype=pl.Boolean),
        pl.Series("confidence", [r.confidence for r in results], dtype=pl.Float64),
        pl.Series(names.UNPROCESSED_RULE, [r.rule for r in results], dtype=pl.String),
    ).select(list(CLASSIFY_SCHEMA))
