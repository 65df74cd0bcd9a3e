"""coop.batches: listing batches and undoing exactly one."""

from __future__ import annotations

import polars as pl
import pytest
from fixtures_metrics import carrot_lines

from coop import names
from coop.errors import UnknownBatchError
from coop.ingest import pipeline
from coop.store import batches


def _load(con, frame: pl.DataFrame, name: str, **options: object) -> pipeline.IngestResult:
    """Load `frame` as district D1's file `name` (its sha256 the name)."""
    return pipeline.load_frame(
        con, frame, file_name=f"{name}.csv", sha256=name, source_kind="csv", district_id="D1", **options
    )


@pytest.fixture
def loaded(con):
    con.execute(f"INSERT INTO {names.DISTRICTS} (district_id, name, state, zip) VALUES ('D1', 'One', 'MN', '55101')")
    a = _load(con, carrot_lines(["2024-09-03"] * 3, "Farm A"), "a")
    b = _load(
        con,
        carrot_lines(["2024-09-03"] * 2, "Farm B").vstack(
            carrot_lines(["2024-09-03"] * 1, "Farm B").with_columns(pl.lit("-1").alias(names.QUANTITY))
        ),
        "b",
        skip_invalid=True,
    )
    return con, a, b


def test_list_batches_shows_each_load(loaded):
    con, a, b = loaded
    listing = batches.list_batches(con)
    assert listing.select(
        names.BATCH_ID, names.FILE_NAME, names.DISTRICT_ID, names.ROWS_LOADED, names.ROWS_REJECTED
    ).rows() == [(a.batch_id, "a.csv", "D1", 3, 0), (b.batch_id, "b.csv", "D1", 2, 1)]


def test_undo_removes_exactly_one_batch_with_its_rejects(loaded):
    con, a, b = loaded
    assert batches.undo(con, b.batch_id) == 2
    assert con.execute(f"SELECT DISTINCT {names.BATCH_ID} FROM {names.PURCHASES}").fetchall() == [(a.batch_id,)]
    assert con.execute(f"SELECT count(*) FROM {names.REJECTS}").fetchall() == [(0,)]
    assert batches.list_batches(con)[names.BATCH_ID].to_list() == [a.batch_id]
    # the same content can be loaded again once its batch is undone
    again = _load(con, carrot_lines(["2024-09-03"] * 2, "Farm B"), "b")
    assert again.already_loaded_as is None
    assert again.rows_loaded == 2


def test_undo_unknown_batch_raises_and_changes_nothing(loaded):
    con, _a, _b = loaded
    with pytest.raises(UnknownBatchError, match="no batch with id 99"):
        batches.undo(con, 99)
    assert con.execute(f"SELECT count(*) FROM {names.PURCHASES}").fetchall() == [(5,)]


def test_list_batches_on_an_empty_database_is_empty(con):
    assert batches.list_batches(con).height == 0


def test_undo_drops_the_items_and_packs_only_its_lines_used(loaded):
    con, a, b = loaded

    def stored() -> list[int]:
        tables = (names.PURCHASE_ITEMS, names.PURCHASE_PACKS)
        return [con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables]

    assert stored() == [3, 1]  # b's carrots are a's items in a's pack: stored once
    kale = carrot_lines(["2024-09-04"], "Farm C").with_columns(
        pl.lit("Kale").alias(names.DESCRIPTION), pl.lit("bunch").alias(names.UNIT)
    )
    c = _load(con, kale, "c")
    assert stored() == [4, 2]
    batches.undo(con, c.batch_id)
    assert stored() == [3, 1]
    batches.undo(con, b.batch_id)
    assert stored() == [3, 1]  # a's lines still use them
    batches.undo(con, a.batch_id)
    assert stored() == [0, 0]


# --- what a batch registered --------------------------------------------------------------------------------
def _districts(con) -> list[str]:
    return [r[0] for r in con.execute(f"SELECT {names.DISTRICT_ID} FROM {names.DISTRICTS} ORDER BY 1").fetchall()]


def test_undo_removes_the_districts_an_add_districts_load_registered(con, tmp_path):
    from fixtures_ingest import write_usage_csv

    from coop.ingest import ingest_file
    from coop.metrics import compute

    con.execute(
        f"INSERT INTO {names.DISTRICTS} (district_id, name, state, zip, bill_to_id) "
        "VALUES ('d1', 'District 1 USD', 'CA', '91801', '5001')"
    )
    before = len(compute.compute(con).to_json()["districts"])
    report = write_usage_csv(tmp_path / "usage.csv", blocks=3, lines_per_block=4)
    result = ingest_file(con, report, vendor_name="Gold Star", vendor_type="broadline_distributor", add_districts=True)
    assert result.rows_loaded == 12
    assert _districts(con) == ["d1", "district-2-usd", "district-3-usd"]
    assert len(compute.compute(con).to_json()["districts"]) == before + 2
    removed, registered = batches.undo_batch(con, result.batch_id)
    assert removed == 12
    assert registered == {names.DISTRICTS: ["district-2-usd", "district-3-usd"], names.VENDORS: []}
    assert _districts(con) == ["d1"]  # the district registered before the load stays
    assert len(compute.compute(con).to_json()["districts"]) == before
    assert con.execute(f"SELECT count(*) FROM {names.BATCH_REGISTRATIONS}").fetchall() == [(0,)]


def test_undo_keeps_a_registered_district_another_batch_or_a_districts_file_uses(con, tmp_path):
    from fixtures_ingest import write_usage_csv

    from coop.ingest import ingest_file
    from coop.registry import districts

    first = ingest_file(
        con,
        write_usage_csv(tmp_path / "a.csv", blocks=2, lines_per_block=2),
        vendor_name="Gold Star",
        vendor_type="broadline_distributor",
        add_districts=True,
    )
    # a second report names district 1 again (matched by its bill-to id now), and district 3 (registered by it)
    second_path = write_usage_csv(tmp_path / "b.csv", blocks=3, lines_per_block=3)
    second = ingest_file(
        con, second_path, vendor_name="Gold Star", vendor_type="broadline_distributor", add_districts=True
    )
    # the partner fixes district 2's placeholder address: it now belongs to the registry
    districts.upsert(
        con,
        pl.DataFrame({"district_id": ["district-2-usd"], "name": ["District 2"], "state": ["CA"], "zip": ["91776"]}),
    )
    _, registered = batches.undo_batch(con, first.batch_id)
    assert registered[names.DISTRICTS] == []  # district 1 has the second batch's lines, district 2 was adopted
    assert _districts(con) == ["district-1-usd", "district-2-usd", "district-3-usd"]
    _, registered = batches.undo_batch(con, second.batch_id)
    assert registered[names.DISTRICTS] == ["district-1-usd", "district-3-usd"]  # district 1 passed to this batch
    assert _districts(con) == ["district-2-usd"]
