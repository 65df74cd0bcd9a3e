"""Words read from input files with one meaning everywhere: the yes/no words of every boolean column.

DESIGN: booleans in input files accept yes/no, true/false, y/n, 1/0 in any case (surrounding spaces ignored); t/f, as
spreadsheet and database exports write them, are read too.
"""

from __future__ import annotations

from typing import Final

import polars as pl

TRUE_WORDS: Final = frozenset({"yes", "true", "y", "t", "1"})
FALSE_WORDS: Final = frozenset({"no", "false", "n", "f", "0"})
BOOLEAN_WORDS: Final = "yes/no, true/false, y/n, 1/0"


def parse_bool(value: object) -> bool | None:
    """A bool from one of the yes/no words (any case, spaces ignored), or from a bool; anything else -> None."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def bool_expr(text: pl.Expr) -> pl.Expr:
    """A Polars expression: a text column read as booleans by the yes/no words; other text -> null."""
    low = text.str.strip_chars().str.to_lowercase()
    return pl.when(low.is_in(sorted(TRUE_WORDS))).then(True).when(low.is_in(sorted(FALSE_WORDS))).then(False)
