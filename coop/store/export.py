"""Export of the database to Hive-partitioned Parquet, for engines beyond one machine (Spark, Trino, Polars)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from coop import names
from coop.errors import CoopError, describe

YEAR = "year"
# every table a second engine needs; purchases are partitioned, the small tables are one file each
_SMALL_TABLES = (names.DISTRICTS, names.VENDORS, names.MEAL_COUNTS, names.BATCHES)
_PURCHASES_SQL = f"""
COPY (SELECT *, year({names.INVOICE_DATE}) AS {YEAR} FROM {names.PURCHASES})
TO '{{path}}' (FORMAT parquet, PARTITION_BY ({names.DISTRICT_ID}, {YEAR}), OVERWRITE_OR_IGNORE true)
"""


def _quoted_path(path: Path) -> str:
    """A path as a SQL string literal body (COPY TO takes no bound parameter for its target)."""
    text = str(path.resolve())
    if "'" in text:
        raise CoopError(f"{path}: export folder names may not contain a quote")
    return text


def _remove_previous(folder: Path) -> None:
    """Remove an earlier export's partitions (only Parquet files under `district_id=...` folders; else refuse)."""
    if not folder.exists():
        return
    files = [p for p in folder.rglob("*") if p.is_file()]
    foreign = [
        p for p in files if p.suffix != ".parquet" or not p.relative_to(folder).parts[0].startswith("district_id=")
    ]
    if foreign or not folder.is_dir():
        raise CoopError(
            f"{folder}: holds files an export did not write ({foreign[0].name if foreign else folder}); "
            "export into another folder"
        )
    shutil.rmtree(folder)


def to_parquet(con: duckdb.DuckDBPyConnection, out_dir: str | Path) -> dict[str, object]:
    """Write purchases as `purchases/district_id=X/year=Y/*.parquet` and each small table as one Parquet file.

    A second export into the same folder replaces the first one's files (a district undone since is gone).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise CoopError(f"{out}: --out names a file, not a folder; give a folder to write into")
    try:
        out.mkdir(parents=True, exist_ok=True)
        _remove_previous(out / names.PURCHASES)
        con.execute(_PURCHASES_SQL.format(path=_quoted_path(out / names.PURCHASES)))
        for table in _SMALL_TABLES:
            con.execute(f"COPY {table} TO '{_quoted_path(out / f'{table}.parquet')}' (FORMAT parquet)")
    except (OSError, duckdb.IOException) as exc:
        raise CoopError(f"{out}: cannot write the export: {describe(exc)}") from exc
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet"))
    ((rows,),) = con.execute(f"SELECT count(*) FROM {names.PURCHASES}").fetchall()
    return {"out": str(out), "purchase_rows": rows, "files": files}
