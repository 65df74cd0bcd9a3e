"""The Farm to School Census export: each district's food costs for a school year in the Census's own terms.

* Total food cost, local food cost and unknown-origin cost are `coop.metrics` for the school year (July-June)
  itself, so they equal `metrics --from YYYY-07-01 --to (YYYY+1)-06-30` to the cent; local is each district's own
  definition (the Census leaves "local" to the school food authority).
* Local food cost by the Census's product categories and by source comes from our categories and vendor types
  through `data/census_mapping.csv` (shown with the export); each breakdown adds up to the local food cost.
* The edition followed is `EDITION`: the 2023 Census's cost questions (SY 2022-23) and the source question of the
  2027 edition's preparation worksheet; both are OMB 0584-0646.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

import duckdb
import polars as pl

from coop import calendar, names
from coop.metrics import compute, local
from coop.registry import districts as registry_districts

EDITION: Final = (
    "USDA FNS Farm to School Census (OMB 0584-0646): the 2023 Census's food-cost questions (total and local food "
    "cost, local cost by product category, for school year 2022-23) and the source of local foods question of "
    "the 2027 Census preparation worksheet (Appendix B.3, 2025)"
)
MAPPING_FILE: Final = "census_mapping.csv"
CATEGORY: Final = "category"
SOURCE: Final = "source"
TOTAL: Final = "total_food_cost"
LOCAL_COST: Final = "local_food_cost"
UNKNOWN: Final = "unknown_origin_cost"


def mapping() -> pl.DataFrame:
    """The mapping (kind, ours, census, note): how our categories and vendor types read in the Census's terms."""
    text = resources.files("coop.report").joinpath("data", MAPPING_FILE).read_text(encoding="utf-8")
    rows = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return pl.read_csv(io.StringIO(rows), infer_schema=False).with_columns(pl.col("note").fill_null(""))


def _labels(table: pl.DataFrame, kind: str) -> list[str]:
    """The Census labels of one kind, in the file's order, each once."""
    return list(dict.fromkeys(table.filter(pl.col("kind") == kind)["census"].to_list()))


@dataclass(frozen=True)
class Census:
    """One school year's export: per district the totals and the two breakdowns (Census labels), the mapping."""

    school_year: int
    districts: pl.DataFrame  # district_id, name, total, local, unknown, local_share, one column per Census label
    categories: tuple[str, ...]
    sources: tuple[str, ...]
    mapping: pl.DataFrame

    def to_json(self) -> dict[str, Any]:
        """The CLI's `census --json` document."""
        first, last = calendar.school_year_bounds(self.school_year)
        out = []
        for row in self.districts.iter_rows(named=True):
            out.append(
                {
                    names.DISTRICT_ID: row[names.DISTRICT_ID],
                    names.NAME: row[names.NAME],
                    TOTAL: row[TOTAL],
                    LOCAL_COST: row[LOCAL_COST],
                    "local_share": row["local_share"],
                    UNKNOWN: row[UNKNOWN],
                    "local_by_category": {c: row[f"{CATEGORY}: {c}"] for c in self.categories},
                    "local_by_source": {s: row[f"{SOURCE}: {s}"] for s in self.sources},
                }
            )
        return {
            "school_year": self.school_year,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "edition": EDITION,
            "districts": out,
            "mapping": self.mapping.to_dicts(),
        }


def _breakdown(local_lines: pl.DataFrame, column: str, table: pl.DataFrame, kind: str) -> pl.DataFrame:
    """Local cents per district and Census label of one kind (our `column` mapped), wide: one column a label."""
    labels = _labels(table, kind)
    keyed = table.filter(pl.col("kind") == kind).select(pl.col("ours").alias(column), pl.col("census"))
    long = (
        local_lines.join(keyed, on=column, how="left")
        .with_columns(pl.col("census").fill_null(labels[-1]))  # a value the mapping lacks: the last label (other)
        .group_by(names.DISTRICT_ID, "census")
        .agg(pl.col(names.SPEND_CENTS).sum())
    )
    wide = long.pivot(on="census", index=names.DISTRICT_ID, values=names.SPEND_CENTS)
    for label in labels:
        if label not in wide.columns:
            wide = wide.with_columns(pl.lit(0, dtype=pl.Int64).alias(label))
    return wide.select(
        names.DISTRICT_ID, *[(pl.col(x).fill_null(0) / 100.0).round(2).alias(f"{kind}: {x}") for x in labels]
    )


def census(con: duckdb.DuckDBPyConnection, school_year: int) -> Census:
    """Each registered district's figures for the school year in the Census's terms."""
    first, last = calendar.school_year_bounds(school_year)
    metrics = compute.compute(con, first, last)
    registry = registry_districts.load(con)
    table = mapping()
    grains = local.localize(compute.load_grains(con, first, last), registry.lazy()).collect()
    local_lines = compute.grain(grains.lazy(), compute.GRAIN_SHARES).filter(pl.col(local.LOCAL)).collect()
    totals = metrics.districts.select(
        names.DISTRICT_ID,
        pl.col("total_spend").alias(TOTAL),
        pl.col("local_spend").alias(LOCAL_COST),
        pl.col("local_share"),
        pl.col("unknown_origin_spend").alias(UNKNOWN),
    )
    frame = registry.select(names.DISTRICT_ID, names.NAME).join(totals, on=names.DISTRICT_ID, how="left")
    for column, kind in ((names.CATEGORY, CATEGORY), (names.VENDOR_TYPE, SOURCE)):
        frame = frame.join(_breakdown(local_lines, column, table, kind), on=names.DISTRICT_ID, how="left")
    money = [c for c in frame.columns if c not in (names.DISTRICT_ID, names.NAME, "local_share")]
    frame = frame.with_columns(pl.col(money).fill_null(0.0)).sort(names.DISTRICT_ID)
    return Census(school_year, frame, tuple(_labels(table, CATEGORY)), tuple(_labels(table, SOURCE)), table)


def _stem(school_year: int) -> str:
    """'census-SY2025-26'."""
    return f"census-SY{school_year}-{(school_year + 1) % 100:02d}"


def write(result: Census, out_dir: str | Path) -> dict[str, str]:
    """Write the export (CSV and XLSX, with the mapping and the edition); the paths written."""
    import xlsxwriter

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = _stem(result.school_year)
    csv_path, xlsx_path, map_path = out / f"{stem}.csv", out / f"{stem}.xlsx", out / f"{stem}-mapping.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["school_year", *result.districts.columns, "edition"])
        for row in result.districts.iter_rows():
            writer.writerow([result.school_year, *(_csv_safe(v) for v in row), EDITION])
    result.mapping.write_csv(map_path)
    book = xlsxwriter.Workbook(str(xlsx_path), {"strings_to_formulas": False, "strings_to_urls": False})
    try:
        bold = book.add_format({"bold": True, "text_wrap": True})
        dollars = book.add_format({"num_format": "$#,##0.00"})
        share = book.add_format({"num_format": "0.0%"})
        sheet = book.add_worksheet("Census figures")
        first, last = calendar.school_year_bounds(result.school_year)
        sheet.write_string(0, 0, f"Farm to School Census figures, school year {first.isoformat()} to {last}")
        sheet.write_string(1, 0, f"Edition: {EDITION}")
        sheet.write_string(2, 0, "Dollars; local by each district's own definition; breakdowns add up to local cost.")
        for j, column in enumerate(result.districts.columns):
            sheet.write_string(4, j, column, bold)
        for i, row in enumerate(result.districts.iter_rows(), start=5):
            for j, (column, value) in enumerate(zip(result.districts.columns, row, strict=True)):
                if value is None:
                    sheet.write_blank(i, j, None)
                elif isinstance(value, str):
                    sheet.write_string(i, j, value)
                else:
                    sheet.write_number(i, j, float(value), share if column == "local_share" else dollars)
        sheet.set_column(0, len(result.districts.columns), 18)
        sheet = book.add_worksheet("Mapping")
        for j, column in enumerate(result.mapping.columns):
            sheet.write_string(0, j, column, bold)
        for i, row in enumerate(result.mapping.iter_rows(), start=1):
            for j, value in enumerate(row):
                sheet.write_string(i, j, str(value or ""))
        sheet.set_column(0, 3, 30)
    finally:
        book.close()
    return {"csv": str(csv_path), "xlsx": str(xlsx_path), "mapping": str(map_path)}


def _csv_safe(value: object) -> object:
    """A CSV cell that a spreadsheet will not run as a formula (text starting =, +, - or @ gets a quote)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
