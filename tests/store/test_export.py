import polars as pl
import pytest

from coop import names
from coop.store import db, export


def test_parquet_export_round_trips_the_purchases(sample_db_file, tmp_path):
    con = db.connect(sample_db_file, read_only=True)
    try:
        got = export.to_parquet(con, tmp_path / "lake")
        expected = con.sql(
            f"SELECT {names.DISTRICT_ID}, count(*) AS n, sum({names.EXTENDED_PRICE}) AS spend "
            f"FROM {names.PURCHASES} GROUP BY 1 ORDER BY 1"
        ).pl()
    finally:
        con.close()
    assert any(f.startswith("purchases/district_id=riverbend/year=2025/") for f in got["files"])
    assert {"districts.parquet", "vendors.parquet", "meal_counts.parquet", "batches.parquet"} <= set(got["files"])
    lake = pl.scan_parquet(tmp_path / "lake" / "purchases" / "**" / "*.parquet", hive_partitioning=True)
    back = (
        lake.group_by(names.DISTRICT_ID)
        .agg(pl.len().alias("n"), pl.col(names.EXTENDED_PRICE).sum().alias("spend"))
        .sort(names.DISTRICT_ID)
        .collect()
    )
    assert back[names.DISTRICT_ID].to_list() == expected[names.DISTRICT_ID].to_list()
    assert back["n"].to_list() == expected["n"].to_list()
    assert [float(x) for x in back["spend"]] == [float(x) for x in expected["spend"]]
    assert got["purchase_rows"] == sum(expected["n"])


def test_a_second_export_into_the_same_folder_drops_an_undone_district(sample_copy, tmp_path):
    from coop.store import batches

    con = db.connect(sample_copy)
    try:
        lake = tmp_path / "lake"
        export.to_parquet(con, lake)
        ((batch, district),) = con.execute(
            f"SELECT {names.BATCH_ID}, {names.DISTRICT_ID} FROM {names.BATCHES} "
            f"WHERE {names.DISTRICT_ID} IS NOT NULL ORDER BY 1 LIMIT 1"
        ).fetchall()
        assert (lake / "purchases" / f"district_id={district}").is_dir()
        batches.undo(con, batch)
        left = con.execute(
            f"SELECT count(*) FROM {names.PURCHASES} WHERE {names.DISTRICT_ID} = ?", [district]
        ).fetchall()[0][0]
        got = export.to_parquet(con, lake)
    finally:
        con.close()
    assert (lake / "purchases" / f"district_id={district}").is_dir() == (left > 0)
    back = pl.scan_parquet(lake / "purchases" / "**" / "*.parquet", hive_partitioning=True).select(pl.len()).collect()
    assert back.item() == got["purchase_rows"]


def test_an_export_folder_holding_other_files_is_not_emptied(sample_copy, tmp_path):
    from coop.errors import CoopError

    (tmp_path / "lake" / "purchases").mkdir(parents=True)
    (tmp_path / "lake" / "purchases" / "notes.txt").write_text("mine", encoding="utf-8")
    con = db.connect(sample_copy, read_only=True)
    try:
        with pytest.raises(CoopError, match="holds files an export did not write"):
            export.to_parquet(con, tmp_path / "lake")
    finally:
        con.close()
    assert (tmp_path / "lake" / "purchases" / "notes.txt").exists()
