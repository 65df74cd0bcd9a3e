"""coop.ingest.sink: one transaction, whole row groups, direct and spooled inserts, rejects, duplicate warnings."""

from __future__ import annotations

import json

import polars as pl
import pytest
from fixtures_ingest import BROKEN, CLEAN, HEADER, record_inserts, seed, snapshot

from coop import names
from coop.errors import DatabaseError, format_problem
from coop.ingest import ingest_file, readers, sink
from coop.store import batches, db, lines


def test_duplicated_lines_load_with_warnings_naming_the_first_row_and_the_earlier_batch(store, tmp_path):
    first = ingest_file(store, BROKEN / "duplicated_lines.csv", district_id="D1")
    assert first.rows_loaded == 3
    assert [format_problem(p) for p in first.problems] == [
        "duplicated_lines.csv row 3 column (line): duplicates row 2 of this file"
    ]
    # the same lines in a different file (different bytes, so a different sha256) are flagged against batch 1
    copy = tmp_path / "resent.csv"
    copy.write_text((BROKEN / "duplicated_lines.csv").read_text() + "\n\n", encoding="utf-8")
    second = ingest_file(store, copy, district_id="D1")
    assert second.rows_loaded == 3
    assert [format_problem(p) for p in second.problems] == [
        f"resent.csv row 2 column (line): same line already loaded in batch {first.batch_id}",
        "resent.csv row 3 column (line): duplicates row 2 of this file",
        f"resent.csv row 3 column (line): same line already loaded in batch {first.batch_id}",
        f"resent.csv row 4 column (line): same line already loaded in batch {first.batch_id}",
    ]


def test_skip_invalid_loads_valid_rows_and_keeps_rejects_with_reasons(store):
    result = ingest_file(store, BROKEN / "text_in_numbers.csv", district_id="D1", skip_invalid=True)
    assert (result.rows_loaded, result.rows_rejected) == (1, 3)
    rejects = store.execute(
        f'SELECT {names.BATCH_ID}, "{names.ROW}", "{names.COLUMN}", {names.REASON}, {names.RAW} '
        f'FROM {names.REJECTS} ORDER BY "{names.ROW}"'
    ).fetchall()
    assert [(b, r, c, reason) for b, r, c, reason, _ in rejects] == [
        (result.batch_id, 3, "Qty", "not a number: 'two'"),
        (result.batch_id, 4, "Price", "not a number: '1.2.3'"),
        (result.batch_id, 5, "Ext Price", "not a number: 'n/a'"),
    ]
    assert json.loads(rejects[0][4])[names.QUANTITY] == "two"
    ((price,),) = store.execute(f"SELECT {names.EXTENDED_PRICE} FROM {names.PURCHASES}").fetchall()
    assert float(price) == pytest.approx(1234.50)  # "$1,234.50" is a number
    ((loaded, rejected),) = store.execute(
        f"SELECT {names.ROWS_LOADED}, {names.ROWS_REJECTED} FROM {names.BATCHES}"
    ).fetchall()
    assert (loaded, rejected) == (1, 3)
    assert batches.undo(store, result.batch_id) == 1
    assert store.execute(f"SELECT count(*) FROM {names.REJECTS}").fetchall() == [(0,)]


def test_failure_inside_the_transaction_leaves_the_database_as_it_was(store, tmp_path, monkeypatch):
    path = tmp_path / "clean.csv"
    path.write_text(CLEAN, encoding="utf-8")

    def boom(*_args, **_kwargs):
        raise RuntimeError("disk full")

    before = snapshot(store)
    monkeypatch.setattr(sink, "_duplicate_warnings", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_file(store, path, district_id="D1")
    assert snapshot(store) == before
    monkeypatch.undo()
    assert ingest_file(store, path, district_id="D1").rows_loaded == 2


def test_failed_write_in_a_later_chunk_leaves_the_database_unchanged(store, tmp_path, monkeypatch):
    path = tmp_path / "three.csv"
    path.write_text(
        HEADER + "".join(f"2024-09-0{d},Sysco,Carrots,{d},lb,1.00,{d}.00\n" for d in (1, 2, 3)), encoding="utf-8"
    )
    monkeypatch.setattr(readers, "CHUNK_ROWS", 1)  # one row per chunk: three inserts inside the open transaction
    monkeypatch.setattr(sink, "ROW_GROUP_ROWS", 1)
    calls = record_inserts(monkeypatch, "_insert_frame", fail_at=3)
    before = snapshot(store)
    with pytest.raises(DatabaseError, match="disk full; nothing loaded"):
        ingest_file(store, path, district_id="D1")
    assert [frame.height for _, frame in calls] == [1, 1, 1]
    assert snapshot(store) == before
    assert ingest_file(store, path, district_id="D1").rows_loaded == 3  # only the third insert ever fails


def test_chunks_past_the_in_memory_limit_load_through_spool_files_the_same(store, tmp_path, monkeypatch):
    """A big load's later chunks go through Parquet spool files: same lines and duplicate checks; failures roll back."""
    path = tmp_path / "five.csv"
    rows = [f"2024-09-0{d},Sysco,Carrots,{d},lb,1.00,{d}.00\n" for d in range(1, 6)]
    path.write_text(HEADER + "".join(rows) + rows[0], encoding="utf-8")  # row 7 repeats row 2
    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    monkeypatch.setattr(sink, "ROW_GROUP_ROWS", 1)
    lines = f"SELECT * EXCLUDE ({names.BATCH_ID}) FROM {names.PURCHASES} ORDER BY {names.SOURCE_ROW}"
    direct = ingest_file(store, path, district_id="D1")
    expected = store.execute(lines).fetchall()
    other = db.connect(tmp_path / "other.duckdb")
    seed(other)
    monkeypatch.setattr(sink, "DIRECT_INSERT_ROWS", 2)  # only the first chunk from memory
    spooled = record_inserts(monkeypatch, "_insert_spooled", fail_at=2)
    before = snapshot(other)
    with pytest.raises(DatabaseError, match="disk full; nothing loaded"):
        ingest_file(other, path, district_id="D1")
    assert snapshot(other) == before
    result = ingest_file(other, path, district_id="D1")  # only the second spooled insert ever fails
    assert len(spooled) == 2 + 2  # the failed load's two spooled chunks, then this load's two
    assert other.execute(lines).fetchall() == expected
    assert [format_problem(p) for p in result.problems] == [format_problem(p) for p in direct.problems]
    assert [format_problem(p) for p in result.problems] == [
        "five.csv row 7 column (line): duplicates row 2 of this file"
    ]


def test_lines_are_inserted_in_whole_row_groups_and_the_rest_at_commit(store, tmp_path, monkeypatch):
    """Inserts are whole DuckDB row groups (part-filled ones get rewritten at the next checkpoint); same lines."""
    path = tmp_path / "seven.csv"
    path.write_text(
        HEADER + "".join(f"2024-09-0{d},Sysco,Carrots,{d},lb,1.00,{d}.00\n" for d in range(1, 8)), encoding="utf-8"
    )
    monkeypatch.setattr(readers, "CHUNK_ROWS", 3)
    monkeypatch.setattr(sink, "ROW_GROUP_ROWS", 2)
    calls = record_inserts(monkeypatch, "_insert_frame")

    def sizes() -> list[int]:
        return [frame.height for sql, frame in calls if sql.startswith(f"INSERT INTO {names.PURCHASE_LINES} ")]

    result = ingest_file(store, path, district_id="D1")
    assert sizes() == [2, 4, 1]  # chunks of 3, 3, 1: 2 now (1 carried), 1 + 3 = 4 now, the last chunk whole
    assert result.rows_loaded == 7
    rows = store.execute(f"SELECT {names.SOURCE_ROW}, {names.QUANTITY} FROM {names.PURCHASES} ORDER BY 1").fetchall()
    assert rows == [(r, float(r - 1)) for r in range(2, 9)]
    five = tmp_path / "five.csv"
    five.write_text(HEADER + "".join(f"2024-09-1{d},Sysco,Beets,{d},lb,1.00,{d}.00\n" for d in range(1, 6)))
    calls.clear()
    ingest_file(store, five, district_id="D1")
    assert sizes() == [2, 3]  # chunks of 3, 2: 2 now (1 carried), then the last chunk with the carried line: 3


def test_columns_with_one_value_are_bound_as_values_and_keys_still_match(store, tmp_path):
    """A district's file binds its district (and empty columns) as values; its line keys equal a mixed file's."""
    one = tmp_path / "one.csv"
    one.write_text(HEADER + "2024-09-03,Sysco,Carrots,4,lb,1.25,5.00\n2024-09-04,Sysco,Beets,2,lb,2.00,4.00\n")
    first = ingest_file(store, one, district_id="D1")
    assert sink._constants(
        pl.DataFrame(
            {
                names.DISTRICT_ID: ["D1", "D1"],
                names.PERIOD_START: [None, None],
                names.PERIOD_END: [None, None],
                names.PRICE_FLAG: [False, True],
                names.ORIGIN_STATE: ["MN", None],
                names.ORIGIN_ZIP: [None, None],
            },
            schema_overrides={names.PERIOD_START: pl.Date, names.PERIOD_END: pl.Date, names.ORIGIN_ZIP: pl.String},
        )
    ) == {names.DISTRICT_ID: "D1", names.PERIOD_START: None, names.PERIOD_END: None, names.ORIGIN_ZIP: None}
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(
        "District,Date,Vendor,Item Description,Qty,UOM,Price,Ext Price\n"
        "D2,2024-09-05,Sysco,Onions,1,lb,1.00,1.00\n"
        "D1,2024-09-03,Sysco,Carrots,4,lb,1.25,5.00\n"
    )
    second = ingest_file(store, mixed, district_id=None)
    assert [format_problem(p) for p in second.problems] == [
        f"mixed.csv row 3 column (line): same line already loaded in batch {first.batch_id}"
    ]
    recomputed = lines.key_sql()
    ((stale,),) = store.execute(
        f"SELECT count(*) FROM {names.PURCHASES} WHERE {names.LINE_KEY} <> {recomputed}"
    ).fetchall()
    assert stale == 0  # every stored key is the hash of the stored columns, bound or scanned


def test_a_big_file_is_spooled_from_its_first_line(store, tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_text(HEADER + "".join(f"2024-09-0{d},Sysco,Carrots,{d},lb,1.00,{d}.00\n" for d in range(1, 6)))
    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    monkeypatch.setattr(sink, "ROW_GROUP_ROWS", 1)
    monkeypatch.setattr(sink, "SPOOL_ALL_BYTES", path.stat().st_size - 1)  # "big": over the limit
    spooled = record_inserts(monkeypatch, "_insert_spooled")
    assert ingest_file(store, path, district_id="D1").rows_loaded == 5
    assert len(spooled) == 3  # chunks of 2, 2, 1: every one through a spool file


# --- the sink, unit by unit -----------------------------------------------------------------------
def test_the_first_chunk_is_split_after_one_row_group(monkeypatch):
    monkeypatch.setattr(sink, "ROW_GROUP_ROWS", 2)
    chunks = [pl.DataFrame({"x": range(7)}), pl.DataFrame({"x": range(5)})]
    assert [c.height for c in sink.first_row_group_apart(chunks)] == [2, 5, 5]  # only the first is split
    assert [c.height for c in sink.first_row_group_apart([pl.DataFrame({"x": range(4)})])] == [4]  # not > 2 groups


def _sink(con) -> sink.Sink:
    return sink.Sink(con, file_name="f.csv", district_id="D1", source_kind="csv", sha256="abc", size_hint=None)


def _rejected(rows: list[int]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A chunk of raw rows and its error frame, one invalid quantity per row."""
    chunk = pl.DataFrame({names.SOURCE_ROW: rows, names.QUANTITY: ["x"] * len(rows)})
    errors = pl.DataFrame(
        {names.SOURCE_ROW: rows, names.COLUMN: ["Qty"] * len(rows), names.REASON: ["not a number: 'x'"] * len(rows)}
    )
    return chunk, errors


def test_a_committed_sink_writes_the_batch_row_and_rejects_in_one_transaction(store):
    out = _sink(store)
    try:
        out.submit_rejects(*_rejected([2, 3]))
        batch_id, duplicates = out.commit(0, 2)
    finally:
        out.close()
    assert duplicates == []
    assert store.execute(
        f"SELECT {names.BATCH_ID}, {names.FILE_NAME}, {names.SHA256}, {names.DISTRICT_ID}, {names.SOURCE_KIND}, "
        f"{names.ROWS_LOADED}, {names.ROWS_REJECTED} FROM {names.BATCHES}"
    ).fetchall() == [(batch_id, "f.csv", "abc", "D1", "csv", 0, 2)]
    rejects = store.execute(
        f'SELECT {names.BATCH_ID}, {names.FILE_NAME}, "{names.ROW}", "{names.COLUMN}", {names.REASON}, {names.RAW} '
        f'FROM {names.REJECTS} ORDER BY "{names.ROW}"'
    ).fetchall()
    assert [r[:5] for r in rejects] == [(batch_id, "f.csv", n, "Qty", "not a number: 'x'") for n in (2, 3)]
    assert json.loads(rejects[0][5]) == {names.QUANTITY: "x"}


def test_a_discarded_or_unclosed_sink_leaves_the_database_as_it_was(store):
    before = snapshot(store)
    out = _sink(store)
    out.submit_rejects(*_rejected([2]))
    out.discard()
    out.close()
    assert snapshot(store) == before
    out = _sink(store)
    out.submit_rejects(*_rejected([2]))
    out.close()  # never committed: rolled back
    assert snapshot(store) == before
