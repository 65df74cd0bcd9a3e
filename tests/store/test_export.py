import polars as pl

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
