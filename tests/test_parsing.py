"""coop.parsing: the yes/no words every boolean column accepts (DESIGN: yes/no, true/false, y/n, 1/0, any case)."""

import polars as pl
import pytest

from coop import parsing


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", True),
        ("Y", True),
        ("TRUE", True),
        ("1", True),
        ("no", False),
        ("N", False),
        ("False", False),
        ("0", False),
        ("maybe", None),
        ("", None),
    ],
)
def test_parse_bool(text: str, value: bool | None) -> None:
    assert parsing.parse_bool(text) is value


def test_bool_expr_reads_a_column_like_parse_bool():
    words = [" Yes ", "no", "T", "f", "1", "0", "maybe", None]
    got = pl.DataFrame({"w": words}).select(parsing.bool_expr(pl.col("w"))).to_series().to_list()
    assert got == [parsing.parse_bool(w) if w is not None else None for w in words]
    assert got == [True, False, True, False, True, False, None, None]


def test_a_bool_passes_through():
    assert parsing.parse_bool(True) is True and parsing.parse_bool(False) is False
