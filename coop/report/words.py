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
_SEED = re.compile(r"\b[Ss]eed (\d{3})(?:'s)?(,)?( Q\d+)?")


def _document(match: re.Match[str]) -> str:
    """One 'seed NNN [Qn]' reference as its document's title (and question)."""
    title = DOCUMENTS.get(match.group(1), "the project's reference texts")
    question = f",{match.group(3)}" if match.group(3) else ""
    return f"{title}{question}{match.group(2) or ''}"


def cite(text: str) -> str:
    """`text` with each 'seed 004 Q8'-style reference written as its document, e.g. 'USDA, ..., Q8'."""
    return _SEED.sub(_document, text)
