"""Buy American: each district's non-domestic share of its commercial food cost against the cap of the school year.

Definitions (7 CFR 210.21(d); the cap values, their school years and sources are data: `data/buy_american_caps.csv`):

* Commercial food cost = the net cost (credits netted) of every purchase line except USDA Foods and DoD Fresh,
  which are entitlement foods USDA provides, not the school food authority's commercial purchases
  (`coop.rules.thresholds.ENTITLEMENT_VENDOR_TYPES`).
* A line is domestic when its `origin_country` is the United States (`coop.registry.geo.DOMESTIC_COUNTRIES`: the
  states, DC and the territories of 7 CFR 210.2), or, with no country given, it has a US `origin_state` or
  `origin_zip`; non-domestic when `origin_country` is another country; of unknown origin otherwise. Unknown is
  never guessed domestic.
* Non-domestic share = non-domestic cost / commercial food cost. Over the cap when the share exceeds the cap in
  force in that school year (the cap limits, it is not a target: exactly at the cap is within it). Could be over
  when it is within the cap but non-domestic plus unknown-origin cost would exceed it.
* Every non-domestic purchase counts against the cap. The exceptions a district documented (the product is not
  produced in the US in sufficient quantity and quality, or competitive bids show the US product costs
  significantly more: 7 CFR 210.21(d)(2)) are the documentation the rule asks for; they are shown beside the
  figure, with the non-domestic products that have none on record.
* School year YYYY = YYYY-07-01..(YYYY+1)-06-30. A period line (usage report) counts by the share of its period's
  days that fall in the school year.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Final

import duckdb
import polars as pl

from coop import calendar, names
from coop.errors import InputFileError, Problem, ValidationError
from coop.registry import districts as registry_districts
from coop.registry import geo
from coop.rules.thresholds import ENTITLEMENT_VENDOR_TYPES
from coop.store import db

CAPS_FILE: Final = "buy_american_caps.csv"
DOMESTIC: Final = "domestic"
NON_DOMESTIC: Final = "non_domestic"
UNKNOWN: Final = "unknown"
ORIGIN_CLASS: Final = "origin_class"

OVER_CAP: Final = "over cap"
COULD_BE_OVER: Final = "could be over (unknown origin)"
WITHIN_CAP: Final = "within cap"
NO_CAP: Final = "no cap in force"
NO_COST: Final = "no commercial food cost"

EXCEPTION_COLUMNS: Final = (
    names.DISTRICT_ID,
    names.PRODUCT,
    names.EXCEPTION_REASON,
    names.APPROVED_BY,
    names.APPROVED_ON,
)
EXCEPTION_SCHEMA: Final = {
    names.DISTRICT_ID: pl.String,
    names.PRODUCT: pl.String,
    names.EXCEPTION_REASON: pl.String,
    names.APPROVED_BY: pl.String,
    names.APPROVED_ON: pl.Date,
}
LINE_COLUMNS: Final = (
    names.DISTRICT_ID,
    names.INVOICE_DATE,
    names.PERIOD_START,
    names.PERIOD_END,
    names.VENDOR_TYPE,
    names.PRODUCT,
    names.DESCRIPTION,
    names.EXTENDED_PRICE,
    names.ORIGIN_STATE,
    names.ORIGIN_ZIP,
    names.ORIGIN_COUNTRY,
)
DISTRICT_COLUMNS: Final = (
    names.DISTRICT_ID,
    "commercial_food_cost",
    "domestic_cost",
    "non_domestic_cost",
    "unknown_origin_cost",
    "domestic_share",
    "non_domestic_share",
    "unknown_origin_share",
    "worst_case_share",
    "over_cap",
    "could_be_over",
    "status",
)
# an exception already on record (same five values) is not recorded twice
_INSERT_EXCEPTION: Final = (
    f"INSERT INTO {names.BUY_AMERICAN_EXCEPTIONS} ({', '.join(EXCEPTION_COLUMNS)}) "
    f"SELECT ?, ?, ?, ?, CAST(? AS DATE) WHERE NOT EXISTS (SELECT 1 FROM {names.BUY_AMERICAN_EXCEPTIONS} WHERE "
    + " AND ".join(f"{c} = ?" for c in EXCEPTION_COLUMNS)
    + ")"
)
_SELECT_EXCEPTIONS: Final = (
    f"SELECT {', '.join(EXCEPTION_COLUMNS)} FROM {names.BUY_AMERICAN_EXCEPTIONS} "
    f"ORDER BY {names.DISTRICT_ID}, {names.APPROVED_ON}, {names.PRODUCT}"
)


# --- the caps (rule data) -------------------------------------------------------------------------------------
def caps() -> pl.DataFrame:
    """The dated caps: effective_school_year, cap (a fraction), source; from `data/buy_american_caps.csv`."""
    text = resources.files("coop.rules").joinpath("data", CAPS_FILE).read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if not line.startswith("#")]
    return pl.read_csv(
        io.StringIO("\n".join(rows)),
        schema={"effective_school_year": pl.Int64, "cap": pl.Float64, "source": pl.String},
    ).sort("effective_school_year")


def cap_for(school_year: int, table: pl.DataFrame | None = None) -> tuple[float | None, str]:
    """(cap in force in the school year, its source); (None, why) before the first cap takes effect."""
    table = caps() if table is None else table
    in_force = table.filter(pl.col("effective_school_year") <= school_year)
    if in_force.height == 0:
        first = table.row(0, named=True)
        return (
            None,
            f"no cap before SY {first['effective_school_year']}-{(first['effective_school_year'] + 1) % 100:02d}",
        )
    row = in_force.row(-1, named=True)
    return float(row["cap"]), str(row["source"])


def school_year_label(year: int) -> str:
    """'SY 2025-26' for school year 2025."""
    return f"SY {year}-{(year + 1) % 100:02d}"


# --- per line ---------------------------------------------------------------------------------------------
def origin_class() -> pl.Expr:
    """Each line's class (domestic, non_domestic, unknown): origin_country, else a US state or ZIP."""
    country = pl.col(names.ORIGIN_COUNTRY)
    us_place = pl.col(names.ORIGIN_STATE).is_not_null() | pl.col(names.ORIGIN_ZIP).is_not_null()
    return (
        pl.when(country.is_in(list(geo.DOMESTIC_COUNTRIES)))
        .then(pl.lit(DOMESTIC))
        .when(country.is_not_null())
        .then(pl.lit(NON_DOMESTIC))
        .when(us_place)
        .then(pl.lit(DOMESTIC))
        .otherwise(pl.lit(UNKNOWN))
        .alias(ORIGIN_CLASS)
    )


def in_school_year(lines: pl.LazyFrame, school_year: int) -> pl.LazyFrame:
    """Commercial lines of the school year with `cost`: the line's cost, a period line's by its days in the year."""
    first, last = calendar.school_year_bounds(school_year)
    start = pl.coalesce(names.PERIOD_START, names.INVOICE_DATE)
    end = pl.coalesce(names.PERIOD_END, names.INVOICE_DATE)
    overlap = (pl.min_horizontal(end, pl.lit(last)) - pl.max_horizontal(start, pl.lit(first))).dt.total_days() + 1
    days = (end - start).dt.total_days() + 1
    return (
        lines.filter(~pl.col(names.VENDOR_TYPE).is_in(list(ENTITLEMENT_VENDOR_TYPES)))
        .with_columns(
            (pl.col(names.EXTENDED_PRICE).cast(pl.Float64) * overlap.clip(lower_bound=0) / days).alias("cost")
        )
        .filter(overlap > 0)
        .with_columns(origin_class())
    )


# --- the figure -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BuyAmerican:
    """One school year's Buy American figures: the cap in force, per district, non-domestic products, exceptions."""

    school_year: int
    cap: float | None
    source: str
    districts: pl.DataFrame  # DISTRICT_COLUMNS
    products: pl.DataFrame  # district_id, product, origin_country(ies), country name(s), cost, exception_on_record
    exceptions: pl.DataFrame  # EXCEPTION_COLUMNS

    def for_districts(self, district_ids: list[str]) -> BuyAmerican:
        """The same figures for these districts only."""
        keep = pl.col(names.DISTRICT_ID).is_in(district_ids)
        return BuyAmerican(
            self.school_year,
            self.cap,
            self.source,
            self.districts.filter(keep),
            self.products.filter(keep),
            self.exceptions.filter(keep),
        )

    def flagged(self) -> pl.DataFrame:
        """The districts over the cap or possibly over it through unknown-origin cost."""
        return self.districts.filter(pl.col("over_cap") | pl.col("could_be_over"))

    def to_json(self) -> dict[str, Any]:
        """The CLI's `buy-american --json` document (DESIGN.md)."""
        exceptions: dict[str, list[dict[str, Any]]] = {}
        for row in self.exceptions.iter_rows(named=True):
            exceptions.setdefault(row[names.DISTRICT_ID], []).append(
                {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items() if k != names.DISTRICT_ID}
            )
        products: dict[str, list[dict[str, Any]]] = {}
        for row in self.products.iter_rows(named=True):
            products.setdefault(row[names.DISTRICT_ID], []).append(
                {k: v for k, v in row.items() if k != names.DISTRICT_ID}
            )
        return {
            "school_year": self.school_year,
            "school_year_label": school_year_label(self.school_year),
            "cap": self.cap,
            "source": self.source,
            "districts": [
                {
                    **row,
                    "exceptions": exceptions.get(row[names.DISTRICT_ID], []),
                    "non_domestic_products": products.get(row[names.DISTRICT_ID], []),
                }
                for row in self.districts.iter_rows(named=True)
            ],
        }


def _share(part: str) -> pl.Expr:
    """Part / commercial food cost, null when there is none."""
    whole = pl.col("commercial_food_cost")
    return pl.when(whole > 0).then(pl.col(part) / whole).otherwise(None)


def _matches(products: pl.DataFrame, exceptions: pl.DataFrame) -> pl.Series:
    """Per non-domestic product row: whether its district has an exception naming the product (case-insensitive)."""
    on_record: dict[str, list[str]] = {}
    for district_id, product in exceptions.select(names.DISTRICT_ID, names.PRODUCT).iter_rows():
        on_record.setdefault(district_id, []).append(product.strip().lower())
    return pl.Series(
        "exception_on_record",
        [
            any(e == (product or "").lower() or e in (description or "").lower() for e in on_record.get(d, []))
            for d, product, description in products.select(
                names.DISTRICT_ID, names.PRODUCT, names.DESCRIPTION
            ).iter_rows()
        ],
        dtype=pl.Boolean,
    )


def buy_american(
    lines: pl.LazyFrame,
    school_year: int,
    *,
    district_ids: list[str] | None = None,
    exceptions: pl.DataFrame | None = None,
    cap_table: pl.DataFrame | None = None,
) -> BuyAmerican:
    """The school year's figures per district (every id in `district_ids`, zero when it bought nothing)."""
    cap, source = cap_for(school_year, cap_table)
    exceptions = pl.DataFrame(schema=EXCEPTION_SCHEMA) if exceptions is None else exceptions.cast(EXCEPTION_SCHEMA)
    costed = in_school_year(lines, school_year).collect()

    def cost_of(kind: str) -> pl.Expr:
        return pl.col("cost").filter(pl.col(ORIGIN_CLASS) == kind).sum()

    sums = costed.group_by(names.DISTRICT_ID).agg(
        pl.col("cost").sum().alias("commercial_food_cost"),
        cost_of(DOMESTIC).alias("domestic_cost"),
        cost_of(NON_DOMESTIC).alias("non_domestic_cost"),
        cost_of(UNKNOWN).alias("unknown_origin_cost"),
    )
    ids = sorted(set(district_ids or []) | set(sums[names.DISTRICT_ID].to_list()))
    money = ["commercial_food_cost", "domestic_cost", "non_domestic_cost", "unknown_origin_cost"]
    limit = pl.lit(cap, dtype=pl.Float64)
    per_district = (
        pl.DataFrame({names.DISTRICT_ID: ids}, schema={names.DISTRICT_ID: pl.String})
        .join(sums, on=names.DISTRICT_ID, how="left")
        .with_columns(pl.col(money).fill_null(0.0).round(2))
        .with_columns(
            _share("domestic_cost").alias("domestic_share"),
            _share("non_domestic_cost").alias("non_domestic_share"),
            _share("unknown_origin_cost").alias("unknown_origin_share"),
            (
                pl.when(pl.col("commercial_food_cost") > 0).then(
                    (pl.col("non_domestic_cost") + pl.col("unknown_origin_cost")) / pl.col("commercial_food_cost")
                )
            ).alias("worst_case_share"),
        )
        .with_columns((limit.is_not_null() & (pl.col("non_domestic_share") > limit)).fill_null(False).alias("over_cap"))
        .with_columns(
            (limit.is_not_null() & ~pl.col("over_cap") & (pl.col("worst_case_share") > limit))
            .fill_null(False)
            .alias("could_be_over")
        )
        .with_columns(
            pl.when(pl.col("commercial_food_cost") <= 0)
            .then(pl.lit(NO_COST))
            .when(limit.is_null())
            .then(pl.lit(NO_CAP))
            .when(pl.col("over_cap"))
            .then(pl.lit(OVER_CAP))
            .when(pl.col("could_be_over"))
            .then(pl.lit(COULD_BE_OVER))
            .otherwise(pl.lit(WITHIN_CAP))
            .alias("status")
        )
        .select(DISTRICT_COLUMNS)
    )
    imported = (
        costed.filter(pl.col(ORIGIN_CLASS) == NON_DOMESTIC)
        .with_columns(
            pl.col(names.ORIGIN_COUNTRY).map_elements(geo.country_name, return_dtype=pl.String).alias("_name")
        )
        .group_by(names.DISTRICT_ID, names.PRODUCT)
        .agg(
            pl.col("cost").sum().round(2),
            pl.col(names.ORIGIN_COUNTRY).unique(maintain_order=True).sort().str.join(", "),
            pl.col("_name").unique(maintain_order=True).sort().str.join(", ").alias("country"),
            pl.col(names.DESCRIPTION).first(),
        )
        .sort(names.DISTRICT_ID, "cost", descending=[False, True])
    )
    imported = imported.with_columns(_matches(imported, exceptions)).select(
        names.DISTRICT_ID, names.PRODUCT, names.ORIGIN_COUNTRY, "country", "cost", "exception_on_record"
    )
    shown = exceptions.filter(pl.col(names.DISTRICT_ID).is_in(ids)) if district_ids is not None else exceptions
    return BuyAmerican(school_year, cap, source, per_district, imported, shown)


# --- exceptions on record -------------------------------------------------------------------------------------
def load_exceptions(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every documented exception (district_id, product, reason, approved_by, approved_on)."""
    return con.sql(_SELECT_EXCEPTIONS).pl().cast(EXCEPTION_SCHEMA)


def _check_exception(
    row: dict[str, Any], known: set[str], file_name: str, number: int
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """One exception row validated: (clean row, []) or (None, its problems)."""
    problems: list[Problem] = []
    clean: dict[str, Any] = {}
    for column in EXCEPTION_COLUMNS:
        value = row.get(column)
        text = value.strip() if isinstance(value, str) else value
        if text in (None, ""):
            problems.append(Problem(file_name, number, column, "required value is empty"))
            continue
        clean[column] = text
    if names.DISTRICT_ID in clean and clean[names.DISTRICT_ID] not in known:
        problems.append(Problem(file_name, number, names.DISTRICT_ID, f"unknown district {clean[names.DISTRICT_ID]!r}"))
    approved = clean.get(names.APPROVED_ON)
    if isinstance(approved, str):
        try:
            clean[names.APPROVED_ON] = date.fromisoformat(approved)
        except ValueError:
            problems.append(Problem(file_name, number, names.APPROVED_ON, f"not a YYYY-MM-DD date: {approved!r}"))
    return (None if problems else clean), problems


def add_exceptions(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]], file_name: str = "exception") -> int:
    """Record exceptions (all or none); every bad cell named by row and column."""
    known = set(registry_districts.load(con)[names.DISTRICT_ID].to_list())
    clean: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for number, row in enumerate(rows, start=2):
        ok, found = _check_exception(row, known, file_name, number)
        problems += found
        if ok is not None:
            clean.append(ok)
    if problems:
        raise ValidationError(f"{file_name}: {len(problems)} invalid exception cell(s); nothing recorded", problems)
    with db.transaction(con):
        for row in clean:
            values = [row[c] for c in EXCEPTION_COLUMNS]
            con.execute(_INSERT_EXCEPTION, values + values)
    return len(clean)


def add_exception(
    con: duckdb.DuckDBPyConnection, district_id: str, product: str, reason: str, approved_by: str, approved_on: date
) -> int:
    """Record one exception a district documented."""
    row = dict(zip(EXCEPTION_COLUMNS, (district_id, product, reason, approved_by, approved_on), strict=True))
    return add_exceptions(con, [row])


def exceptions_from_csv(con: duckdb.DuckDBPyConnection, path: str | Path) -> int:
    """Record the exceptions of a CSV (district_id, product, reason, approved_by, approved_on)."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: file not found")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip().lower() for h in reader.fieldnames or []]
        missing = [c for c in EXCEPTION_COLUMNS if c not in header]
        if missing:
            problems = [Problem(path.name, 1, c, "required column missing") for c in missing]
            raise ValidationError(f"{path.name}: missing column(s) {', '.join(missing)}", problems)
        rows = [{(k or "").strip().lower(): v for k, v in r.items()} for r in reader]
    return add_exceptions(con, rows, path.name)


# --- from the database ------------------------------------------------------------------------------------------
def load_lines(con: duckdb.DuckDBPyConnection) -> pl.LazyFrame:
    """Purchase lines with the columns Buy American needs."""
    frame = con.sql(f"SELECT {', '.join(LINE_COLUMNS)} FROM {names.PURCHASES}").pl()
    return frame.with_columns(pl.col(names.EXTENDED_PRICE).cast(pl.Float64)).lazy()


def current_school_year(con: duckdb.DuckDBPyConnection) -> int:
    """The school year of the latest purchase (today's when there are none)."""
    ((last,),) = con.execute(f"SELECT max({names.INVOICE_DATE}) FROM {names.PURCHASE_LINES}").fetchall()
    return calendar.school_year(last if last is not None else date.today())


def buy_american_from_db(con: duckdb.DuckDBPyConnection, school_year: int | None = None) -> BuyAmerican:
    """`buy_american` over the database's lines, every registered district and the exceptions on record."""
    year = current_school_year(con) if school_year is None else school_year
    ids = registry_districts.load(con)[names.DISTRICT_ID].to_list()
    return buy_american(load_lines(con), year, district_ids=ids, exceptions=load_exceptions(con))
