"""Plain words for what people read: sources cited as documents, not as the project's own file names.

The library's rules cite their sources by the project's reference names (seed 002, seed 004 ...); a page or a
packet shows the document itself (`cite`).
"""

from __future__ import annotations

import re
from typing import Final

# the project's reference texts by their own titles (../shared/seeds/)
DOCUMENTS: Final = {
    "000": "Examples of Values-Aligned Procurement",
    "001": "Getting Started (Upper Midwest Regional Learning Lab)",
    "002": "Procuring Local Fruits and Vegetables (Alabama worksheets)",
    "003": "Love, Jablonski, Thilmany McFadden & Bellows (2025)",
    "004": "USDA, Geographic Preference Q&A",
}
# vendor types as people say them (the registry stores them as names.VENDOR_TYPES)
VENDOR_TYPE_WORDS: Final = {
    "producer": "Producer",
    "farmers_market": "Farmers market",
    "csa": "CSA (community supported agriculture)",
    "food_hub": "Food hub",
    "producer_coop": "Producer cooperative",
    "buying_coop": "Buying cooperative",
    "state_program": "State program",
    "broadline_distributor": "Broadline distributor",
    "processor": "Processor",
    "dod_fresh": "DoD Fresh",
    "usda_foods": "USDA Foods",
    "fsmc": "Food service management company",
    "other": "Other",
}
_SEED = re.compile(r"\b[Ss]eed (\d{3})(?:'s)?(,)?( Q\d+)?")


def _document(match: re.Match[str]) -> str:
    """One 'seed NNN [Qn]' reference as its document's title (and question)."""
    title = DOCUMENTS.get(match.group(1), "the project's reference texts")
    question = f",{match.group(3)}" if match.group(3) else ""
    return f"{title}{question}{match.group(2) or ''}"


# the registry's own columns named in rule sources, as the place a coordinator sets them
_COLUMNS = re.compile(r"\s*\(districts\.[a-z_]+(?: / [a-z_]+)*\)")
_COLUMNS_WORDS = " (the district's own thresholds, set in its registry on Data intake)"


# the project's own issue numbers, which mean nothing to a reader
_ISSUE = re.compile(r",\s*issue \d+\b|\s*\(issue \d+\)")


def cite(text: str) -> str:
    """`text` with each 'seed 004 Q8'-style reference written as its document, e.g. 'USDA, ..., Q8'."""
    return _ISSUE.sub("", _COLUMNS.sub(_COLUMNS_WORDS, _SEED.sub(_document, text)))
