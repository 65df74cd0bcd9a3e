"""Procurement rules: dated purchase thresholds and the method spend requires (split purchases: `rules.splits`).

Conventions (stated once, used everywhere here):
* School year N runs from N-07-01 to (N+1)-06-30 (school year 2024 = 2024-07-01..2025-06-30).
* Micro-purchase: aggregate spend that does not exceed the micro-purchase threshold (2 CFR 200.320(a)).
  Small purchase: spend above it that does not exceed the small-purchase (simplified acquisition) threshold
  (2 CFR 200.320(b)). Formal: anything above that.
* A purchase is judged by the thresholds in force on its date. The most restrictive of the federal value,
  the district's state's value and the district's own value applies (seed 002, "Purchasing will be conducted
  at the most restrictive procurement threshold").
* A state's small-purchase limit may exempt local unprocessed agricultural products (seed 002's Alabama
  example: $40,000, but $250,000 for local unprocessed products); the exemption applies to a district-vendor
  year only when every line of it is local and unprocessed.
* The method on record comes from the `contracts` table (formal, small_purchase, entitlement); with none on
  record the purchases are taken to be micro-purchases. Entitlement (USDA Foods, DoD Fresh) is not a procurement
  and is never flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

import duckdb
import polars as pl

from coop import calendar, names
from coop.registry import contracts, districts
from coop.registry.contracts import CONTRACT_ENTITLEMENT, CONTRACT_FORMAL, CONTRACT_SMALL

# --- methods -------------------------------------------------------------------------------------
MICRO: Final = "micro"
SMALL: Final = "small"
FORMAL: Final = "formal"
METHODS: Final = (MICRO, SMALL, FORMAL)
_RANK_OF_CONTRACT: Final = {CONTRACT_SMALL: 1, CONTRACT_FORMAL: 2, CONTRACT_ENTITLEMENT: 3}
# vendor types that are entitlement programmes, not procurements
ENTITLEMENT_VENDOR_TYPES: Final = ("usda_foods", "dod_fresh")

# --- threshold kinds and jurisdictions -----------------------------------------------------------------
KIND_MICRO: Final = "micro"
KIND_SMALL: Final = "small"
FEDERAL: Final = "federal"
STATE: Final = "state"
DISTRICT: Final = "district"

SEED002: Final = (
    "seed 002, A Review of the Regulations: micro-purchase threshold $10,000 and simplified acquisition "
    "threshold $250,000 'at the time of publishing (March 2024)' (48 CFR 2.101; 2 CFR 200.320)"
)
SEED002_AL: Final = (
    "seed 002, procurement plan example (Alabama SFA/State column): micro-purchase $10,000; small purchase "
    "less than $40,000 (exception: local unprocessed agricultural products $250,000)"
)
FAR_2025: Final = (
    "federal values in force from 2025-10-01: micro-purchase $15,000, simplified acquisition $350,000 "
    "(48 CFR 2.101 inflation adjustment, issue 6)"
)
DISTRICT_SOURCE: Final = "district procurement plan (districts.micro_purchase_threshold / small_purchase_threshold)"

THRESHOLD_SCHEMA: Final = {
    names.EFFECTIVE_DATE: pl.Date,
    names.THRESHOLD_KIND: pl.String,
    names.THRESHOLD_VALUE: pl.Float64,
    names.JURISDICTION: pl.String,
    names.SCOPE: pl.String,
    names.LOCAL_UNPROCESSED_VALUE: pl.Float64,
    names.SOURCE: pl.String,
}


@dataclass(frozen=True)
class Threshold:
    """One dated threshold: from `effective`, `kind` (micro/small) is `value` in a jurisdiction, with its source."""

    effective: date
    kind: str
    value: float
    jurisdiction: str
    scope: str | None  # state code for a state row, district_id for a district row, None for federal
    local_unprocessed_value: float | None
    source: str


# The shipped defaults. Federal values were $10,000 / $250,000 from OMB memo M-18-18 (2018-06-20) until the
# 2025-10-01 adjustment; seed 002 states them as current in March 2024.
DEFAULT_THRESHOLDS: Final[tuple[Threshold, ...]] = (
    Threshold(date(2018, 6, 20), KIND_MICRO, 10_000.0, FEDERAL, None, None, SEED002),
    Threshold(date(2018, 6, 20), KIND_SMALL, 250_000.0, FEDERAL, None, None, SEED002),
    Threshold(date(2025, 10, 1), KIND_MICRO, 15_000.0, FEDERAL, None, None, FAR_2025),
    Threshold(date(2025, 10, 1), KIND_SMALL, 350_000.0, FEDERAL, None, None, FAR_2025),
    Threshold(date(2018, 6, 20), KIND_MICRO, 10_000.0, STATE, "AL", None, SEED002_AL),
    Threshold(date(2018, 6, 20), KIND_SMALL, 40_000.0, STATE, "AL", 250_000.0, SEED002_AL),
)

THRESHOLDS_COLUMNS: Final = (
    names.DISTRICT_ID,
    names.VENDOR_NAME,
    names.SCHOOL_YEAR,
    "spend",
    "lines",
    "first_date",
    "last_date",
    "micro_threshold",
    "small_threshold",
    "decided_on",
    "required_method",
    "recorded_method",
    "flag",
    names.REASON,
    names.SOURCE,
)


# --- thresholds table ------------------------------------------------------------------------------
def threshold_table(extra: pl.DataFrame | None = None) -> pl.DataFrame:
    """The dated thresholds: the shipped defaults plus any rows a user added (same columns as THRESHOLD_SCHEMA)."""
    rows = [
        {
            names.EFFECTIVE_DATE: t.effective,
            names.THRESHOLD_KIND: t.kind,
            names.THRESHOLD_VALUE: t.value,
            names.JURISDICTION: t.jurisdiction,
            names.SCOPE: t.scope,
            names.LOCAL_UNPROCESSED_VALUE: t.local_unprocessed_value,
            names.SOURCE: t.source,
        }
        for t in DEFAULT_THRESHOLDS
    ]
    table = pl.DataFrame(rows, schema=THRESHOLD_SCHEMA)
    if extra is not None and extra.height:
        table = pl.concat([table, extra.select(list(THRESHOLD_SCHEMA)).cast(THRESHOLD_SCHEMA)])
    return table.sort(names.EFFECTIVE_DATE)


def load_thresholds(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The threshold table: defaults plus the rows of the database's `procurement_thresholds` table."""
    cols = ", ".join(THRESHOLD_SCHEMA)
    return threshold_table(con.sql(f"SELECT {cols} FROM {names.PROCUREMENT_THRESHOLDS}").pl())


def load_purchases(con: duckdb.DuckDBPyConnection) -> pl.LazyFrame:
    """Purchase lines with the columns the rules need."""
    cols = ", ".join(
        (
            names.DISTRICT_ID,
            names.VENDOR_NAME,
            names.VENDOR_TYPE,
            names.INVOICE_DATE,
            names.INVOICE_NO,
            names.SOURCE_ROW,
            names.DESCRIPTION,
            names.UNPROCESSED,
            names.EXTENDED_PRICE,
            names.ORIGIN_STATE,
            names.ORIGIN_ZIP,
        )
    )
    frame = con.sql(f"SELECT {cols} FROM {names.PURCHASES}").pl()
    return frame.with_columns(pl.col(names.EXTENDED_PRICE).cast(pl.Float64)).lazy()


def _in_force(lines: pl.LazyFrame, table: pl.DataFrame, kind: str, jurisdiction: str, out: str) -> pl.LazyFrame:
    """Lines plus `out` (and `out`_local, `out`_source): the value of `kind` in force on each line's date."""
    rows = table.filter((pl.col(names.THRESHOLD_KIND) == kind) & (pl.col(names.JURISDICTION) == jurisdiction)).select(
        pl.col(names.EFFECTIVE_DATE).alias("_eff"),
        pl.col(names.SCOPE).alias("_scope"),
        pl.col(names.THRESHOLD_VALUE).alias(out),
        pl.col(names.LOCAL_UNPROCESSED_VALUE).alias(f"{out}_local"),
        pl.col(names.SOURCE).alias(f"{out}_source"),
    )
    key = {FEDERAL: None, STATE: "_state", DISTRICT: names.DISTRICT_ID}[jurisdiction]
    if key is None:
        rows = rows.drop("_scope")
    rows = rows.sort("_eff").lazy()
    return (
        lines.sort("_date")
        .join_asof(
            rows,
            left_on="_date",
            right_on="_eff",
            by_left=[key] if key else None,
            by_right=["_scope"] if key else None,
            strategy="backward",
            check_sortedness=False,  # both sides are sorted on the date just above
        )
        .drop("_eff", "_scope", strict=False)
    )


def with_thresholds(lines: pl.LazyFrame, districts: pl.DataFrame, table: pl.DataFrame, exempt: pl.Expr) -> pl.LazyFrame:
    """Lines plus the most restrictive micro and small thresholds in force on each date, and their sources."""
    dist = districts.select(
        pl.col(names.DISTRICT_ID),
        pl.col(names.STATE).alias("_state"),
        pl.col(names.MICRO_PURCHASE_THRESHOLD).cast(pl.Float64).alias("_d_micro"),
        pl.col(names.SMALL_PURCHASE_THRESHOLD).cast(pl.Float64).alias("_d_small"),
    ).lazy()
    frame = lines.with_columns(pl.col(names.INVOICE_DATE).alias("_date")).join(dist, on=names.DISTRICT_ID, how="left")
    for jurisdiction, prefix in ((FEDERAL, "_f"), (STATE, "_s"), (DISTRICT, "_x")):
        for kind in (KIND_MICRO, KIND_SMALL):
            frame = _in_force(frame, table, kind, jurisdiction, f"{prefix}_{kind}")
    frame = frame.with_columns(exempt.alias("_exempt"))
    state_small = (
        pl.when(pl.col("_exempt") & pl.col("_s_small_local").is_not_null())
        .then(pl.col("_s_small_local"))
        .otherwise(pl.col("_s_small"))
    )
    micro_parts = [pl.col("_f_micro"), pl.col("_s_micro"), pl.col("_x_micro"), pl.col("_d_micro")]
    small_parts = [pl.col("_f_small"), state_small, pl.col("_x_small"), pl.col("_d_small")]
    micro = pl.min_horizontal(micro_parts)
    small = pl.min_horizontal(small_parts)
    return frame.with_columns(
        micro.alias("micro_threshold"),
        small.alias("small_threshold"),
        _source_of(micro, micro_parts, ["_f_micro_source", "_s_micro_source", "_x_micro_source"]).alias("_micro_src"),
        _source_of(small, small_parts, ["_f_small_source", "_s_small_source", "_x_small_source"]).alias("_small_src"),
    )


def _source_of(value: pl.Expr, parts: list[pl.Expr], sources: list[str]) -> pl.Expr:
    """The source of the part that equals the minimum (the district's own plan when it is the fourth part)."""
    expr = pl.lit(DISTRICT_SOURCE)
    for part, source in reversed(list(zip(parts[:3], sources, strict=True))):
        expr = pl.when(part == value).then(pl.col(source)).otherwise(expr)
    return expr


def money(expr: pl.Expr) -> pl.Expr:
    """A dollar amount as text, e.g. $12,500.00."""
    cents = (expr * 100).round(0).cast(pl.Int64)
    dollars = cents // 100
    rest = (cents % 100).cast(pl.String).str.zfill(2)
    with_commas = (
        dollars.cast(pl.String)
        .str.reverse()
        .str.replace_all(r"(\d{3})", "$1,")
        .str.reverse()
        .str.strip_chars_start(",")
    )
    return pl.concat_str([pl.lit("$"), with_commas, pl.lit("."), rest])


def contract_rank(purchases: pl.LazyFrame, contracts: pl.DataFrame | None, keys: list[str]) -> pl.LazyFrame:
    """Per line: the highest contract rank covering its district, vendor and date (0 when none)."""
    if contracts is None or contracts.height == 0:
        return purchases.with_columns(pl.lit(0).alias("_contract"))
    c = contracts.lazy().select(
        pl.col(names.DISTRICT_ID),
        pl.col(names.VENDOR_NAME),
        pl.col(names.METHOD).replace_strict(_RANK_OF_CONTRACT, default=0, return_dtype=pl.Int32).alias("_rank"),
        pl.col(names.START_DATE).cast(pl.Date).alias("_start"),
        pl.col(names.END_DATE).cast(pl.Date).alias("_end"),
    )
    covered = (
        purchases.select(*keys, names.DISTRICT_ID, names.VENDOR_NAME, names.INVOICE_DATE)
        .join(c, on=[names.DISTRICT_ID, names.VENDOR_NAME])
        .filter(
            (pl.col(names.INVOICE_DATE) >= pl.col("_start"))
            & (pl.col("_end").is_null() | (pl.col(names.INVOICE_DATE) <= pl.col("_end")))
        )
        .group_by(keys)
        .agg(pl.col("_rank").max().alias("_contract"))
    )
    return purchases.join(covered, on=keys, how="left").with_columns(pl.col("_contract").fill_null(0))


def thresholds(
    purchases: pl.LazyFrame,
    districts: pl.DataFrame,
    school_year: int | None = None,
    *,
    contracts: pl.DataFrame | None = None,
    table: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """Per district x vendor x school year: spend, thresholds in force, required and recorded method, flag + reason.

    `purchases` needs district_id, vendor_name, invoice_date, extended_price and unprocessed; an optional boolean
    `local` column lets a state's local-unprocessed exception apply. The required method is decided line by line
    on cumulative spend against the thresholds in force on each line's date; the year's method is the highest.
    """
    table = threshold_table() if table is None else table
    lines = purchases.with_columns(
        calendar.school_year_expr(names.INVOICE_DATE).alias(names.SCHOOL_YEAR), pl.int_range(pl.len()).alias("_line")
    )
    if school_year is not None:
        lines = lines.filter(pl.col(names.SCHOOL_YEAR) == school_year)
    group = [names.DISTRICT_ID, names.VENDOR_NAME, names.SCHOOL_YEAR]
    has_local = "local" in lines.collect_schema()
    unprocessed = pl.col(names.UNPROCESSED).fill_null(False)
    local_unprocessed = unprocessed & pl.col("local").fill_null(False) if has_local else pl.lit(False)
    exempt = local_unprocessed.all().over(group)
    framed = with_thresholds(lines, districts, table, exempt)
    framed = contract_rank(framed, contracts, ["_line"])
    if names.VENDOR_TYPE in framed.collect_schema():
        framed = framed.with_columns(
            pl.when(pl.col(names.VENDOR_TYPE).is_in(ENTITLEMENT_VENDOR_TYPES))
            .then(pl.lit(_RANK_OF_CONTRACT[CONTRACT_ENTITLEMENT]))
            .otherwise(pl.col("_contract"))
            .alias("_contract")
        )
    price = pl.col(names.EXTENDED_PRICE).cast(pl.Float64)
    framed = framed.sort("_date", "_line").with_columns(price.cum_sum().over(group).alias("_cum"))
    framed = framed.with_columns(
        pl.when(pl.col("_cum") <= pl.col("micro_threshold"))
        .then(0)
        .when(pl.col("_cum") <= pl.col("small_threshold"))
        .then(1)
        .otherwise(2)
        .alias("_need")
    )
    need_max = pl.col("_need").max()
    deciding = pl.col("_need") == need_max
    out = framed.group_by(group).agg(
        price.sum().alias("spend"),
        pl.len().alias("lines"),
        pl.col("_date").min().alias("first_date"),
        pl.col("_date").max().alias("last_date"),
        need_max.alias("_need"),
        pl.col("_date").filter(deciding).first().alias("decided_on"),
        pl.col("micro_threshold").filter(deciding).first(),
        pl.col("small_threshold").filter(deciding).first(),
        pl.col("_micro_src").filter(deciding).first(),
        pl.col("_small_src").filter(deciding).first(),
        pl.col("_contract").max().alias("_contract"),
        pl.col("_exempt").first().alias("_exempt"),
    )
    required = (
        pl.when(pl.col("_need") == 2)
        .then(pl.lit(FORMAL))
        .when(pl.col("_need") == 1)
        .then(pl.lit(SMALL))
        .otherwise(pl.lit(MICRO))
    )
    recorded = (
        pl.when(pl.col("_contract") == 3)
        .then(pl.lit(CONTRACT_ENTITLEMENT))
        .when(pl.col("_contract") == 2)
        .then(pl.lit(FORMAL))
        .when(pl.col("_contract") == 1)
        .then(pl.lit(SMALL))
        .otherwise(pl.lit(MICRO))
    )
    flag = (pl.col("_contract") < 3) & (pl.col("_need") > pl.col("_contract"))
    exceeded = (
        pl.when(pl.col("_need") == 2)
        .then(pl.concat_str([pl.lit("the small-purchase threshold "), money(pl.col("small_threshold"))]))
        .otherwise(pl.concat_str([pl.lit("the micro-purchase threshold "), money(pl.col("micro_threshold"))]))
    )
    exempt_note = pl.when(pl.col("_exempt")).then(pl.lit(" (local unprocessed products)")).otherwise(pl.lit(""))
    reason = (
        pl.when(pl.col("_contract") == 3)
        .then(pl.lit("entitlement programme (not a procurement)"))
        .when(flag)
        .then(
            pl.concat_str(
                [
                    pl.lit("spend "),
                    money(pl.col("spend")),
                    pl.lit(" exceeds "),
                    exceeded,
                    exempt_note,
                    pl.lit(" in force on "),
                    pl.col("decided_on").cast(pl.String),
                    pl.lit("; requires "),
                    pl.col("required_method"),
                    pl.lit(" procurement but the method on record is "),
                    pl.col("recorded_method"),
                ]
            )
        )
        .otherwise(
            pl.concat_str(
                [
                    pl.lit("spend "),
                    money(pl.col("spend")),
                    pl.lit(" is within what the "),
                    pl.col("recorded_method"),
                    pl.lit(" method on record allows"),
                ]
            )
        )
    )
    source = pl.when(pl.col("_need") == 2).then(pl.col("_small_src")).otherwise(pl.col("_micro_src"))
    return (
        out.with_columns(required.alias("required_method"), recorded.alias("recorded_method"), flag.alias("flag"))
        .with_columns(reason.alias(names.REASON), source.alias(names.SOURCE))
        .select(THRESHOLDS_COLUMNS)
        .sort(names.DISTRICT_ID, names.VENDOR_NAME, names.SCHOOL_YEAR)
    )


# --- from the database ----------------------------------------------------------------------------------
def _with_local(con: duckdb.DuckDBPyConnection, purchases: pl.LazyFrame) -> pl.LazyFrame:
    """Purchases plus each district's `local` flag (coop.local), for the local-unprocessed exception."""
    from coop.metrics import local

    return local.localize(purchases, districts.load(con).lazy())


def thresholds_from_db(con: duckdb.DuckDBPyConnection, school_year: int | None = None) -> pl.DataFrame:
    """`thresholds` over the database's purchases, districts, contracts and threshold table."""
    purchases = _with_local(con, load_purchases(con))
    return thresholds(
        purchases,
        districts.load(con),
        school_year,
        contracts=contracts.load(con),
        table=load_thresholds(con),
    ).collect()


# --- views ------------------------------------------------------------------------------------------------
def for_districts(frame: pl.DataFrame, district_ids: Sequence[str]) -> pl.DataFrame:
    """The rows of a threshold check or split-purchase list that belong to these districts."""
    return frame.filter(pl.col(names.DISTRICT_ID).is_in(list(district_ids)))


def review(checked: pl.DataFrame, district_ids: Sequence[str], *, flagged_only: bool = False) -> pl.DataFrame:
    """A threshold check for these districts, flagged rows first and largest spend first (only flagged when asked)."""
    frame = for_districts(checked, district_ids)
    if flagged_only:
        frame = frame.filter(pl.col("flag"))
    return frame.sort("flag", "spend", descending=[True, True])
