"""Property tests for coop.ingest: a generated valid frame loads and reads back equal; one bad cell is named."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coop import names
from coop.errors import ValidationError
from coop.ingest import pipeline
from coop.store import db

DISTRICTS = ("D1", "D2", "D3")
UNITS = ("lb", "gal", "each", "dozen")
ORIGINS = (("MN", "55101"), ("WI", "53703"), ("IA", "50309"), ("MA", "01060"), ("MA", "01035-9450"))
FIRST_DAY = date(2000, 7, 1)
LAST_DAY = date(2025, 6, 30)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

text = (
    st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "Zs", "P")), min_size=1, max_size=20)
    .map(str.strip)
    .filter(bool)
)


@st.composite
def lines(draw: st.DrawFn) -> dict[str, object]:
    quantity = draw(st.decimals(min_value=Decimal("0.001"), max_value=Decimal("10000"), places=3))
    price = draw(st.decimals(min_value=Decimal("0"), max_value=Decimal("500"), places=4))
    if draw(st.integers(0, 4)) == 0 and (quantity * price).quantize(Decimal("0.01")) > 0:
        quantity = -quantity  # a credit: negative quantity and extended price
    state, zip_code = draw(st.sampled_from(ORIGINS))  # a real ZIP and its state, either of them possibly blank
    day = FIRST_DAY + timedelta(days=draw(st.integers(0, (LAST_DAY - FIRST_DAY).days)))
    return {
        names.DISTRICT_ID: draw(st.sampled_from(DISTRICTS)),
        names.INVOICE_DATE: day,
        names.VENDOR_NAME: draw(text),
        names.VENDOR_TYPE: draw(st.sampled_from(names.VENDOR_TYPES)),
        names.DESCRIPTION: draw(text),
        names.PRODUCT: draw(text),
        names.CATEGORY: draw(st.sampled_from(names.CATEGORIES)),
        names.UNPROCESSED: draw(st.booleans()),
        names.QUANTITY: quantity,
        names.UNIT: draw(st.sampled_from(UNITS)),
        names.UNIT_PRICE: price,
        names.EXTENDED_PRICE: (quantity * price).quantize(Decimal("0.01")),
        names.ORIGIN_STATE: draw(st.one_of(st.none(), st.just(state))),
        names.ORIGIN_ZIP: draw(st.one_of(st.none(), st.just(zip_code))),
        names.INVOICE_NO: draw(st.one_of(st.none(), text)),
    }


def _as_text(rows: list[dict[str, object]], bool_words: tuple[str, str]) -> pl.DataFrame:
    """The rows as a frame of strings, the way a file would carry them."""

    def cell(value: object) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool):
            return bool_words[0] if value else bool_words[1]
        if isinstance(value, date):
            return value.isoformat()
        return str(value)

    return pl.DataFrame({c: [cell(r[c]) for r in rows] for c in rows[0]}, schema={c: pl.String for c in rows[0]})


def _fresh() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    db.migrate(con)
    con.executemany(
        f"INSERT INTO {names.DISTRICTS} (district_id, name, state, zip) VALUES (?, ?, 'MN', '55101')",
        [[d, f"District {d}"] for d in DISTRICTS],
    )
    return con


def _counts(con: duckdb.DuckDBPyConnection) -> tuple[int, ...]:
    return tuple(
        con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
        for t in (names.BATCHES, names.PURCHASES, names.REJECTS)
    )


@SETTINGS
@given(
    rows=st.lists(lines(), min_size=1, max_size=15),
    bool_words=st.sampled_from((("yes", "no"), ("TRUE", "false"), ("Y", "n"), ("1", "0"))),
)
def test_generated_valid_frame_loads_and_reads_back_equal(rows, bool_words):
    con = _fresh()
    frame = _as_text(rows, bool_words)
    result = pipeline.load_frame(con, frame, file_name="gen.csv", sha256="x", source_kind="csv", district_id=None)
    assert (result.rows_loaded, result.rows_rejected) == (len(rows), 0)
    assert all(p.severity == "warning" for p in result.problems)
    columns = list(rows[0])
    back = con.execute(f"SELECT {', '.join(columns)} FROM {names.PURCHASES} ORDER BY {names.SOURCE_ROW}").fetchall()
    for expected, got in zip(rows, back, strict=True):
        got = dict(zip(columns, got, strict=True))
        assert got[names.QUANTITY] == pytest.approx(float(expected[names.QUANTITY]))
        assert got[names.UNIT_PRICE] == expected[names.UNIT_PRICE]
        assert got[names.EXTENDED_PRICE] == expected[names.EXTENDED_PRICE]
        for c in columns:
            if c not in (names.QUANTITY, names.UNIT_PRICE, names.EXTENDED_PRICE):
                assert got[c] == expected[c], c
    ((flags,),) = con.execute(f"SELECT count(*) FILTER (WHERE {names.PRICE_FLAG}) FROM {names.PURCHASES}").fetchall()
    assert flags == 0
    con.close()


CORRUPTIONS = {
    names.DISTRICT_ID: ("ZZ9", "unknown district 'ZZ9'"),
    names.INVOICE_DATE: ("2024-13-45", "not a date: '2024-13-45'"),
    names.VENDOR_TYPE: ("caterer", "unknown vendor type 'caterer'"),
    names.CATEGORY: ("candy", "unknown category 'candy'"),
    names.UNPROCESSED: ("maybe", "not a yes/no value: 'maybe'"),
    names.QUANTITY: ("0", "quantity must not be 0"),  # -3 would be a valid credit on a generated credit line
    names.ORIGIN_ZIP: ("Lynn", "'Lynn' is not a US ZIP code"),
    names.ORIGIN_STATE: ("XX", "'XX' is not a USPS state code"),
    names.UNIT_PRICE: ("12.x", "not a number: '12.x'"),
    names.EXTENDED_PRICE: ("lots", "not a number: 'lots'"),
    names.VENDOR_NAME: ("  ", "required value is empty"),
}


@SETTINGS
@given(rows=st.lists(lines(), min_size=1, max_size=12), data=st.data())
def test_one_corrupted_cell_is_caught_and_named(rows, data):
    con = _fresh()
    index = data.draw(st.integers(0, len(rows) - 1), label="row index")
    column = data.draw(st.sampled_from(sorted(CORRUPTIONS)), label="column")
    bad_value, reason = CORRUPTIONS[column]
    frame = _as_text(rows, ("yes", "no"))
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == index).then(pl.lit(bad_value)).otherwise(pl.col(column)).alias(column)
    )
    before = _counts(con)
    with pytest.raises(ValidationError) as info:
        pipeline.load_frame(con, frame, file_name="gen.csv", sha256="x", source_kind="csv", district_id=None)
    (problem,) = info.value.problems
    assert (problem.file, problem.row, problem.column) == ("gen.csv", index + 2, column)
    assert str(problem.reason).startswith(reason)
    assert _counts(con) == before
    con.close()
