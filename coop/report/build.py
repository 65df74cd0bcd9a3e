"""The monthly partner-meeting packet: KPIs, tables and charts for a month (rendered by `coop.report.render`).

Every figure comes from the library's own computations (`coop.metrics`, `coop.rules`, `coop.optimize.pool` and
`coop.optimize.allocate`), so the packet shows exactly what the app and the CLI show.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import altair as alt
import duckdb
import polars as pl

from coop import calendar, names
from coop.errors import CoopError
from coop.metrics import compute, privacy, selection
from coop.registry import districts as registry_districts
from coop.registry import users
from coop.report import charts, words

Progress = Callable[[float, str], None]
TOP_N = 10


@dataclass(frozen=True)
class Table:
    """A packet table: its frame, a title, and the caption stating unit, period and definition."""

    key: str
    title: str
    caption: str
    frame: pl.DataFrame
    money: tuple[str, ...] = ()
    shares: tuple[str, ...] = ()


@dataclass(frozen=True)
class Kpi:
    """One headline figure with its formatted value and what it means (and the number, for a workbook)."""

    label: str
    value: str
    note: str
    number: float | None = None  # the value as a number (a share as a fraction); None when it is not one
    number_format: str = ""  # its Excel number format, e.g. '$#,##0.00' or '0.0%'


MONEY_FORMAT = "$#,##0.00"
SHARE_FORMAT = "0.0%"
POINTS_FORMAT = '+0.0" points";-0.0" points"'
# what a packet table's columns are called where people read them (the unit is added by `render.column_title`)
HEADERS: dict[str, str] = {
    names.DISTRICT_ID: "District",
    names.VENDOR_NAME: "Vendor",
    names.VENDOR_TYPE: "Vendor type",
    names.PRODUCT: "Commodity",
    names.CATEGORY: "Category",
    names.BASE_UNIT: "Base unit",
    names.ROUTE: "Supply-chain route",
    compute.SCOPE: "District or co-op",
    "total_spend": "Food spend",
    "local_spend": "Local spend",
    "local_share": "Local share",
    "unknown_origin_spend": "Unknown-origin spend",
    "allocated_spend": "Allocated from period totals",
    "ytd_total_spend": "Food spend, school year to date",
    "ytd_local_share": "Local share, school year to date",
    "spend": "Spend",
    "share": "Share of spend",
    "districts": "Districts buying",
    "local_unit_price": "Local price per base unit",
    "nonlocal_unit_price": "Non-local price per base unit",
    "premium": "Local price premium",
    "products": "Commodities compared",
    "required_method": "Method the spend requires",
    "recorded_method": "Method on record",
    "micro_threshold": "Micro-purchase threshold",
    "small_threshold": "Small-purchase threshold",
    "reason": "Why it is flagged",
    "invoices": "Invoices",
    "first_date": "First invoice",
    "last_date": "Last invoice",
    "split_total": "Invoices together",
    "standalone_cost": "Cost buying alone",
    "pooled_cost": "Cost of its pooled purchases",
    "proportional": "Proportional split",
    "shapley": "Shapley value",
    "nucleolus": "Nucleolus",
    "note": "Note",
}
_METHOD_WORDS = {"micro": "micro-purchase", "small": "small purchase", "formal": "formal procurement"}


def header(column: str) -> str:
    """A packet column's name in words (its own name, sentence case, when it has none)."""
    return HEADERS.get(column) or column.replace("_", " ").capitalize()


def readable(frame: pl.DataFrame, district_names: dict[str, str]) -> pl.DataFrame:
    """A packet table's values in words: district names for ids, route and vendor-type names, methods spelled out."""
    words = {compute.COOP: "Co-op", **district_names}
    out = frame
    for column in (names.DISTRICT_ID, compute.SCOPE, "district"):
        if column in out.columns and out.schema[column] == pl.String:
            out = out.with_columns(pl.col(column).replace(words))
    if names.ROUTE in out.columns:
        out = out.with_columns(pl.col(names.ROUTE).replace(charts.ROUTE_LABELS))
    if names.VENDOR_TYPE in out.columns:
        out = out.with_columns(pl.col(names.VENDOR_TYPE).str.replace_all("_", " ").str.to_titlecase())
    for column in ("required_method", "recorded_method"):
        if column in out.columns:
            out = out.with_columns(pl.col(column).replace(_METHOD_WORDS))
    return out


@dataclass(frozen=True)
class Packet:
    """Everything the monthly meeting looks at, for one month and the school year to date."""

    month: date
    month_end: date
    year_start: date
    kpis: tuple[Kpi, ...]
    tables: tuple[Table, ...]
    charts: dict[str, alt.TopLevelMixin]
    notes: tuple[str, ...]
    coop_local_share: float | None
    sections: dict[str, str] = field(default_factory=dict)
    audience: str = "the co-op coordinator: every member's figures"  # whose packet it is, said on its first line
    coop_withheld: str | None = None  # why the co-op local share is withheld from this packet's reader, if it is
    tag: str = ""  # added to the file names of a member's or viewer's packet (`packet-2025-02-big_stone.html`)
    district_ids: dict[str, str] = field(default_factory=dict)  # district name -> id, shown on hover

    @property
    def label(self) -> str:
        """The month as people say it, e.g. 'October 2025'."""
        return self.month.strftime("%B %Y")


def format_share(share: float | None) -> str:
    """A share in 0..1 as `NN.N%` (the packet's and the app's format); 'not known' when undefined.

    A local share is undefined where nothing was bought or every dollar is of unknown origin.
    """
    return "not known" if share is None else f"{share * 100:.1f}%"


def format_money(value: float | None) -> str:
    """Dollars with thousands separators and cents."""
    return "n/a" if value is None else f"${value:,.2f}"


def _coop_row(m: compute.Metrics) -> dict[str, object]:
    """The co-op's one-row spend summary as a dict."""
    return m.coop.row(0, named=True)


def _kpis(month: compute.Metrics, previous: compute.Metrics, ytd: compute.Metrics, reporting: int) -> tuple[Kpi, ...]:
    """Headline figures: spend, local share vs goal and last month, year to date, premium, reporting districts."""
    now, before, year = _coop_row(month), _coop_row(previous), _coop_row(ytd)
    share, prev_share = now["local_share"], before["local_share"]
    delta = "n/a" if share is None or prev_share is None else f"{(share - prev_share) * 100:+.1f} points"
    weighted = compute.weighted_premium(month)
    total_districts = month.districts.height
    spend_detail = "sum of extended price, all member districts"
    if now["allocated_spend"]:
        spend_detail += f"; {format_money(now['allocated_spend'])} of it allocated from period totals"
    points = None if share is None or prev_share is None else (share - prev_share) * 100
    return (
        Kpi(
            "Co-op food spend",
            format_money(now["total_spend"]),
            spend_detail,
            _number(now["total_spend"]),
            MONEY_FORMAT,
        ),
        Kpi(
            "Co-op local share",
            format_share(share),
            f"local spend / total spend; goal {format_share(month.goal_local_share)} by {month.goal_date:%d %b %Y}",
            _number(share),
            SHARE_FORMAT,
        ),
        Kpi("Change vs previous month", delta, f"previous month {format_share(prev_share)}", points, POINTS_FORMAT),
        Kpi(
            "School year to date",
            format_share(year["local_share"]),
            f"local share since {ytd.date_from:%d %b %Y}",
            _number(year["local_share"]),
            SHARE_FORMAT,
        ),
        Kpi(
            "Local price premium",
            "n/a" if weighted is None else f"{weighted * 100:+.1f}%",
            "local vs non-local unit price per commodity, weighted by local spend",
            weighted,
            "+0.0%;-0.0%",
        ),
        Kpi(
            "Districts reporting",
            f"{reporting} of {total_districts}",
            "districts with purchase lines this month, or spend allocated to it from period totals",
            float(reporting),
            f'0" of {total_districts}"',
        ),
    )


def _in_words(frame: pl.DataFrame, district_names: dict[str, str]) -> pl.DataFrame:
    """A table as the packet shows it: `readable` values, and rule reasons citing their documents."""
    out = readable(frame, district_names)
    if names.REASON in out.columns:
        out = out.with_columns(pl.col(names.REASON).map_elements(words.cite, return_dtype=pl.String))
    return out


def _number(value: object) -> float | None:
    """A figure as a float for a workbook cell (DECIMAL money included); None stays None."""
    return None if value is None else float(value)  # type: ignore[arg-type]


def _district_table(month: compute.Metrics, ytd: compute.Metrics) -> pl.DataFrame:
    """Each district's spend and local share this month and school year to date."""
    cols = [names.DISTRICT_ID, "total_spend", "local_spend", "local_share", "unknown_origin_spend", "allocated_spend"]
    year = ytd.districts.select(
        names.DISTRICT_ID,
        pl.col("total_spend").alias("ytd_total_spend"),
        pl.col("local_share").alias("ytd_local_share"),
    )
    return month.districts.select(cols).join(year, on=names.DISTRICT_ID, how="left")


def _top_local_vendors(month: compute.Metrics) -> pl.DataFrame:
    """The month's top local vendors by local spend across the co-op."""
    return (
        month.vendors.filter(pl.col("local_spend") > 0)
        .sort("local_spend", descending=True)
        .head(TOP_N)
        .select(names.VENDOR_NAME, names.VENDOR_TYPE, "local_spend", "spend", "districts")
    )


def _top_local_commodities(month: compute.Metrics) -> pl.DataFrame:
    """The month's top commodities by co-op local spend, with their premium."""
    return (
        month.premiums.filter(pl.col(compute.SCOPE) == compute.COOP)
        .sort("local_spend", descending=True)
        .head(TOP_N)
        .select(
            names.PRODUCT,
            names.CATEGORY,
            names.BASE_UNIT,
            "local_spend",
            "local_unit_price",
            "nonlocal_unit_price",
            "premium",
        )
    )


def _notes(month: compute.Metrics, first: date, district_names: dict[str, str]) -> tuple[str, ...]:
    """Data-quality notes: districts with no lines this month, unknown-origin spend, lines without base units."""
    month = dataclasses.replace(month, districts=readable(month.districts, district_names))
    notes = []
    silent = (pl.col(compute.LINES) == 0) & (pl.col("total_spend") == 0)
    missing = month.districts.filter(silent)[names.DISTRICT_ID].to_list()
    if missing:
        notes.append(f"No purchase lines for {first:%B %Y} from: {', '.join(missing)}.")
    allocated = month.districts.filter(pl.col("allocated_spend") != 0)
    if allocated.height:
        notes.append(
            f"{format_money(_coop_row(month)['allocated_spend'])} of {first:%B %Y}'s spend is allocated from period "
            f"totals ({allocated.height} district{'s' * (allocated.height != 1)}: "
            f"{', '.join(allocated[names.DISTRICT_ID].to_list())}): a usage report gives one total per item for a "
            "period, spread over its calendar days."
        )
    unknown = month.districts.filter(pl.col("unknown_origin_spend") > 0)
    for row in unknown.iter_rows(named=True):
        notes.append(
            f"{row[names.DISTRICT_ID]}: {format_money(row['unknown_origin_spend'])} of spend has no origin "
            "(counted as not local; add origin state or ZIP to count it)."
        )
    unpriced = month.unpriced.filter((pl.col(compute.SCOPE) == compute.COOP) & (pl.col("lines") > 0))
    for row in unpriced.iter_rows(named=True):
        notes.append(
            f"{row['lines']} lines ({format_money(row['spend'])}) have no quantity in a base unit and are left "
            "out of price premiums."
        )
    return tuple(notes) or ("No data-quality issues found for this month.",)


def build(
    con: duckdb.DuckDBPyConnection,
    month: str | date,
    *,
    viewer: users.User = users.LOCAL,
    include_savings: bool = True,
    progress: Progress | None = None,
) -> Packet:
    """Compute the packet for a month (`YYYY-MM`) as `viewer` may see it: month, previous month, school year to date.

    A coordinator gets every member's figures; a district or partner user its own districts beside peer aggregates
    that are safe to share (`coop.metrics.privacy`); a viewer co-op aggregates only (no district, no prices).
    """
    tell = progress or (lambda _f, _m: None)
    first = calendar.parse_month(month) if isinstance(month, str) else month.replace(day=1)
    if not viewer.sees_everything:
        return _scoped_packet(con, first, viewer, include_savings=include_savings, tell=tell)
    last = calendar.month_end(first)
    prev_first = (first - timedelta(days=1)).replace(day=1)
    year_first = calendar.school_year_start(first)
    tell(0.05, "metrics for the month")
    m = compute.compute(con, first, last)
    prev = compute.compute(con, prev_first, calendar.month_end(prev_first))
    ytd = compute.compute(con, year_first, last)
    reporting = selection.reporting(m)
    coop_share = _coop_row(m)["local_share"]
    period = f"{first:%B %Y}"
    ytd_period = f"{year_first:%d %b %Y} - {last:%d %b %Y}"
    tables = [
        Table(
            "districts",
            "District local share",
            f"Dollars and shares of food spend. Month: {period}; school year to date: {ytd_period}. "
            "Local by each district's own definition; unknown origin counts as not local. Allocated spend = the "
            "part allocated from period totals (a usage report's period spread over its days).",
            _district_table(m, ytd),
            money=("total_spend", "local_spend", "unknown_origin_spend", "allocated_spend", "ytd_total_spend"),
            shares=("local_share", "ytd_local_share"),
        ),
        Table(
            "local_vendors",
            "Top local vendors",
            f"Dollars, {period}. Local spend = spend on lines local for the buying district.",
            _top_local_vendors(m),
            money=("local_spend", "spend"),
        ),
        Table(
            "local_commodities",
            "Top local commodities",
            f"Dollars and dollars per base unit, {period}. Premium = local / non-local unit price - 1.",
            _top_local_commodities(m),
            money=("local_spend", "local_unit_price", "nonlocal_unit_price"),
            shares=("premium",),
        ),
        Table(
            "premiums",
            "Local price premium by category",
            f"{period}. Commodity premiums weighted by local spend; scope = district or the whole co-op.",
            m.category_premiums.select(compute.SCOPE, names.CATEGORY, "premium", "local_spend", "products"),
            money=("local_spend",),
            shares=("premium",),
        ),
        Table(
            "route_mix",
            "Spend by supply-chain route",
            f"Dollars and share of each scope's spend, {period}. Routes of Love et al. (2025) from vendor type "
            "and locality.",
            m.by_route,
            money=("spend", "unknown_origin_spend"),
            shares=("share",),
        ),
    ]
    tables.extend(_rules_tables(con, first, last))
    tables.append(buy_american_table(con, first))
    tell(0.3, "charts")
    trajectory = ytd.by_month.filter(pl.col(compute.SCOPE) == compute.COOP).with_columns(series=pl.lit("Co-op"))
    chart_map: dict[str, alt.TopLevelMixin] = {
        "local_share_by_month": charts.local_share_by_month(
            trajectory,
            goal=ytd.goal_local_share,
            period=ytd_period,
            definition="Co-op local spend / total food spend per month; dashed line = co-op goal.",
        ),
        "spend_by_route": charts.spend_by_route(
            m.by_route.filter(pl.col(compute.SCOPE) == compute.COOP),
            period=period,
            definition="Co-op food spend (dollars) by supply-chain route.",
        ),
    }
    if include_savings:
        tell(0.4, "co-op savings (pooled model, all coalitions)")
        savings_table, savings_chart = _savings(con, progress=lambda f, msg: tell(0.4 + 0.55 * f, msg))
        if savings_table is not None:
            tables.append(savings_table)
            chart_map["allocation"] = savings_chart
    tell(1.0, "packet ready")
    district_names = dict(registry_districts.load(con).select(names.DISTRICT_ID, names.NAME).iter_rows())
    return Packet(
        month=first,
        month_end=last,
        year_start=year_first,
        kpis=_kpis(m, prev, ytd, reporting),
        tables=tuple(replace(t, frame=_in_words(t.frame, district_names)) for t in tables),
        charts=chart_map,
        notes=_notes(m, first, district_names),
        coop_local_share=coop_share,
        district_ids={name: district_id for district_id, name in district_names.items()},
    )


def buy_american_table(con: duckdb.DuckDBPyConnection, first: date) -> Table:
    """Buy American for the school year of the month: each district's non-domestic share against the cap (rules)."""
    from coop.rules import buy_american

    result = buy_american.buy_american_from_db(con, calendar.school_year_start(first).year)
    documented: dict[str, list[str]] = {}
    for row in result.exceptions.iter_rows(named=True):
        documented.setdefault(row[names.DISTRICT_ID], []).append(
            f"{row[names.PRODUCT]}: {row['reason']} (approved by {row['approved_by']} on {row['approved_on']})"
        )
    frame = result.districts.select(
        names.DISTRICT_ID,
        "commercial_food_cost",
        "non_domestic_cost",
        "unknown_origin_cost",
        "non_domestic_share",
        "worst_case_share",
        "status",
    ).with_columns(
        pl.col(names.DISTRICT_ID)
        .map_elements(lambda d: "; ".join(documented.get(d, [])), return_dtype=pl.String)
        .alias("exceptions")
    )
    over, maybe = int(frame["status"].eq(buy_american.OVER_CAP).sum()), int(result.districts["could_be_over"].sum())
    cap = "no cap in force" if result.cap is None else f"cap {result.cap:.0%} ({result.source})"
    return Table(
        "buy_american",
        "Buy American: non-domestic share of commercial food cost",
        f"Dollars and shares, {buy_american.school_year_label(result.school_year)}; {cap}. Commercial food cost "
        "leaves out USDA Foods and DoD Fresh; worst case counts unknown-origin cost as non-domestic. "
        f"{over} district(s) over the cap, {maybe} could be over it through unknown-origin cost.",
        frame,
        money=("commercial_food_cost", "non_domestic_cost", "unknown_origin_cost"),
        shares=("non_domestic_share", "worst_case_share"),
    )


def _rules_tables(con: duckdb.DuckDBPyConnection, first: date, last: date) -> list[Table]:
    """Threshold and split-purchase flags for the purchases of the school year to date, up to the month's end."""
    from coop.metrics import local
    from coop.registry import contracts, districts
    from coop.rules import splits, thresholds

    year_first = calendar.school_year_start(first)
    year = year_first.year
    label = (
        f"purchases from {year_first:%-d %b %Y} to {last:%-d %b %Y} (school year {year}-{(year + 1) % 100:02d} to date)"
    )
    registered, agreed, table = districts.load(con), contracts.load(con), thresholds.load_thresholds(con)
    in_year = (pl.col(names.INVOICE_DATE) >= year_first) & (pl.col(names.INVOICE_DATE) <= last)
    purchases = thresholds.load_purchases(con).filter(in_year)
    flags = (
        thresholds.thresholds(
            local.localize(purchases, registered.lazy()), registered, year, contracts=agreed, table=table
        )
        .collect()
        .filter(pl.col("flag"))
        .select(
            names.DISTRICT_ID,
            names.VENDOR_NAME,
            "spend",
            "required_method",
            "recorded_method",
            "micro_threshold",
            "small_threshold",
            "reason",
        )
    )
    splits = (
        splits.split_purchases(purchases, registered, contracts=agreed, table=table)
        .collect()
        .group_by("split_id", names.DISTRICT_ID, names.VENDOR_NAME)
        .agg(
            pl.col(names.INVOICE_NO).n_unique().alias("invoices"),
            pl.col("first_date").min(),
            pl.col("last_date").max(),
            pl.col("split_total").max(),
            pl.col("micro_threshold").max(),
            pl.col("reason").first(),
        )
        .sort("split_id")
        .drop("split_id")
    )
    return [
        Table(
            "threshold_flags",
            "Purchase-threshold flags",
            f"Dollars, {label}. Spend per district and vendor against the thresholds in force (federal values and "
            "any stricter district values); flagged where the recorded method allows less than the spend requires.",
            flags,
            money=("spend", "micro_threshold", "small_threshold"),
        ),
        Table(
            "split_purchases",
            "Possible split purchases",
            f"Dollars, {label}. Invoices from one vendor within 30 days, each under the micro-purchase threshold, "
            "that together exceed it (USDA, Geographic Preference Q&A, Q8); deliveries under a formal contract are not "
            "flagged.",
            splits,
            money=("split_total", "micro_threshold"),
        ),
    ]


PACKET_SPLIT_SECONDS = 60.0  # a packet's sampled Shapley split (co-ops beyond the exact limit) stops after this


def _savings(
    con: duckdb.DuckDBPyConnection, *, progress: Progress | None = None, keep: tuple[str, ...] | None = None
) -> tuple[Table | None, alt.TopLevelMixin | None]:
    """The latest co-op savings estimate from the pooled model on the database, and its allocations.

    With `keep`, only those districts' rows and a co-op total row (a member sees its own share and the total).
    """
    from coop.optimize import allocate, explain, quotes  # the pooled MILP is only imported when a packet asks

    try:
        spec = quotes.spec_from_db(con)
        result = allocate.allocate(spec, progress=progress, time_budget=PACKET_SPLIT_SECONDS)
    except CoopError as exc:
        return (
            Table("savings", "Co-op savings estimate", f"Not available: {exc}", pl.DataFrame({"note": [str(exc)]})),
            None,
        )
    table = result.table().rename({"district": names.DISTRICT_ID})
    pool = result.pool
    verdicts = {True: "in the core", False: "outside the core", None: "core not checked"}
    offers = explain.price_basis(quotes.load_quotes(con))
    span = compute.date_range(con)
    spec_period = "no purchases" if span is None else f"{span[0]:%-d %b %Y} – {span[1]:%-d %b %Y}"
    caption = (
        f"Dollars per year, modelled on one year of demand: the purchases of {spec_period} scaled to a year, at "
        f"{offers}; solver: {explain.status_words(pool.status)}. Pooled optimum {format_money(pool.coop_cost)} vs "
        f"{format_money(pool.coop_cost + pool.savings)} buying alone: savings {format_money(pool.savings)}. "
        "Each column after the standalone cost is one way to split the pooled cost; "
        + "; ".join(f"{a.method}: {verdicts[a.in_core]}" for a in result.allocations)
        + "."
    )
    if result.permutations:  # a large co-op: Shapley sampled for the packet within its time budget
        widest = float(result.half_width.max()) if result.half_width is not None else 0.0
        caption += (
            f" Shapley sampled ({result.permutations} orderings, at most {PACKET_SPLIT_SECONDS:.0f} s for the packet): "
            f"each district's share is within {format_money(widest)} or less at 95% confidence"
            + ("" if result.precision_target_met else f", short of the {result.tolerance:.0%} precision target")
            + "; the Co-op buying power page runs it to a chosen precision."
        )
    money = tuple(c for c in table.columns if c != names.DISTRICT_ID)
    if keep is not None:
        total = table.select(pl.lit(compute.COOP).alias(names.DISTRICT_ID), pl.col(money).sum())
        table = pl.concat([table.filter(pl.col(names.DISTRICT_ID).is_in(list(keep))), total.select(table.columns)])
        caption += (
            " Rows: your districts' own shares and the co-op total (other members' shares are not shown)."
            if keep
            else " Row: the co-op total only."
        )
        if not keep:
            return Table("savings", "Co-op savings estimate", caption, table, money=money), None
    long = table.unpivot(
        index=names.DISTRICT_ID, on=[a.method for a in result.allocations], variable_name="method", value_name="cost"
    )
    chart = charts.allocation_methods(
        long.filter(pl.col(names.DISTRICT_ID) != compute.COOP),
        period=f"one year of demand (purchases of {spec_period}), {offers}",
        definition="Each district's share of the pooled cost under each allocation method.",
    )
    return Table("savings", "Co-op savings estimate and its allocation", caption, table, money=money), chart


# --- a member's or a viewer's packet: what that user may see (DESIGN "Users and roles") ---------------------------
_PEERS = "Other members (together)"


def _safe_kpi(label: str, part: dict[str, object], note: str) -> Kpi:
    """A peer or co-op local share as a KPI: the figure when the aggregate is safe, else 'withheld' and why."""
    if part.get("withheld"):
        return Kpi(label, "withheld", f"{part['reason']}; {note}")
    share = part["local_share"]
    return Kpi(label, format_share(share), note, _number(share), SHARE_FORMAT)  # type: ignore[arg-type]


def _aggregates_table(
    month: dict[str, object], ytd: dict[str, object], period: str, ytd_period: str, rule: privacy.PeerRule
) -> Table:
    """The peers and the co-op as aggregates, this month and school year to date, or why each is withheld."""
    rows = []
    for scope, key in ((_PEERS, "peers"), ("Co-op", "coop")):
        for when, doc in ((period, month), (f"school year to date ({ytd_period})", ytd)):
            part: dict[str, object] = doc[key]  # type: ignore[assignment]
            withheld = bool(part.get("withheld"))
            rows.append(
                {
                    compute.SCOPE: scope,
                    "period": when,
                    **{k: None if withheld else part[k] for k in ("total_spend", "local_spend", "local_share")},
                    "note": str(part["reason"]) if withheld else "",
                }
            )
    shown = f"shown only when at least {rule.min_districts} districts contribute and none is over {rule.max_share:.0%}"
    return Table(
        "aggregates",
        "Your peers and the co-op, as aggregates",
        f"Dollars and shares of food spend. Other members = every member but your districts, summed; {shown} "
        "(otherwise withheld, and the note says why). The co-op total includes your districts.",
        pl.DataFrame(
            rows,
            schema={
                compute.SCOPE: pl.String,
                "period": pl.String,
                "total_spend": pl.Float64,
                "local_spend": pl.Float64,
                "local_share": pl.Float64,
                "note": pl.String,
            },
        ),
        money=("total_spend", "local_spend"),
        shares=("local_share",),
    )


def _mine(frame: pl.DataFrame, ids: tuple[str, ...]) -> pl.DataFrame:
    """A district-level table's rows of these districts only."""
    return frame.filter(pl.col(names.DISTRICT_ID).is_in(list(ids)))


def _scoped_packet(
    con: duckdb.DuckDBPyConnection, first: date, viewer: users.User, *, include_savings: bool, tell: Progress
) -> Packet:
    """The packet a district, partner or viewer user may see (`build` with a viewer who does not see everything)."""
    last, year_first = calendar.month_end(first), calendar.school_year_start(first)
    prev_first = (first - timedelta(days=1)).replace(day=1)
    period, ytd_period = f"{first:%B %Y}", f"{year_first:%d %b %Y} - {last:%d %b %Y}"
    district_names = dict(registry_districts.load(con).select(names.DISTRICT_ID, names.NAME).iter_rows())
    is_viewer = viewer.role == names.VIEWER
    ids: tuple[str, ...] = () if is_viewer else tuple(d for d in viewer.districts if d in district_names)
    only = None if is_viewer else ids  # a district user's figures are computed from its own lines alone
    tell(0.05, "metrics for the month")
    m = compute.compute(con, first, last, district_ids=only)
    prev = compute.compute(con, prev_first, calendar.month_end(prev_first), district_ids=only)
    ytd = compute.compute(con, year_first, last, district_ids=only)
    whose = (
        "the co-op as a whole"
        if is_viewer
        else district_names[ids[0]]
        if len(ids) == 1
        else f"your {len(ids)} districts"
    )
    trajectory = ytd.by_month.filter(pl.col(compute.SCOPE) == compute.COOP).with_columns(
        series=pl.lit("Co-op" if is_viewer else whose)
    )
    chart_map: dict[str, alt.TopLevelMixin] = {
        "local_share_by_month": charts.local_share_by_month(
            trajectory,
            goal=ytd.goal_local_share,
            period=ytd_period,
            definition=f"Local spend / total food spend per month, {whose}; dashed line = co-op goal.",
        ),
        "spend_by_route": charts.spend_by_route(
            m.by_route.filter(pl.col(compute.SCOPE) == compute.COOP),
            period=period,
            definition=f"Food spend (dollars) by supply-chain route, {whose}.",
        ),
    }
    route_mix = Table(
        "route_mix",
        "Spend by supply-chain route",
        f"Dollars and share of spend, {period}. Routes of Love et al. (2025) from vendor type and locality.",
        m.by_route.filter((pl.col(compute.SCOPE) == compute.COOP) == is_viewer),
        money=("spend",),
        shares=("share",),
    )
    if is_viewer:
        kpis = tuple(k for k in _kpis(m, prev, ytd, selection.reporting(m)) if k.label != "Local price premium")
        tables = [route_mix]
        missing = m.districts.filter((pl.col(compute.LINES) == 0) & (pl.col("total_spend") == 0)).height
        unknown = _coop_row(m)["unknown_origin_spend"]
        notes: tuple[str, ...] = (
            f"{missing} member district(s) have no purchase lines for {period}.",
            f"{format_money(unknown)} of the co-op's spend has no origin (counted as not local).",
            "This packet shows co-op totals only: no district's figures, lines or prices.",
        )
        audience, tag = "a viewer: co-op aggregates only", "coop"
    else:
        rule = privacy.peer_rule(con)
        seen_month = privacy.view(compute.compute(con, first, last), viewer, rule)
        seen_ytd = privacy.view(compute.compute(con, year_first, last), viewer, rule)
        own = _kpis(m, prev, ytd, selection.reporting(m))
        mine_kpis = tuple(
            replace(k, label=k.label.replace("Co-op", whose), note=k.note.replace("all member districts", whose))
            for k in own
        )
        kpis = (
            *mine_kpis[:3],
            _safe_kpi("Other members' local share", seen_month["peers"], f"every member but yours, {period}"),
            _safe_kpi("Co-op local share", seen_month["coop"], f"all members, yours included, {period}"),
            *mine_kpis[3:5],
        )
        flags = [replace(t, frame=_mine(t.frame, ids)) for t in _rules_tables(con, first, last)]
        buy = buy_american_table(con, first)
        tables = [
            Table(
                "districts",
                "Your local share",
                f"Dollars and shares of food spend, {whose}. Month: {period}; school year to date: {ytd_period}. "
                "Local by each district's own definition; unknown origin counts as not local.",
                _district_table(m, ytd),
                money=("total_spend", "local_spend", "unknown_origin_spend", "allocated_spend", "ytd_total_spend"),
                shares=("local_share", "ytd_local_share"),
            ),
            _aggregates_table(seen_month, seen_ytd, period, ytd_period, rule),
            Table(
                "local_vendors",
                "Your top local vendors",
                f"Dollars, {period}, your districts' purchases only. Districts buying = of your districts.",
                _top_local_vendors(m),
                money=("local_spend", "spend"),
            ),
            Table(
                "local_commodities",
                "Your top local commodities",
                f"Dollars and dollars per base unit, {period}, your districts' prices only. Premium = local / "
                "non-local unit price - 1.",
                _top_local_commodities(m),
                money=("local_spend", "local_unit_price", "nonlocal_unit_price"),
                shares=("premium",),
            ),
            Table(
                "premiums",
                "Your local price premium by category",
                f"{period}. Commodity premiums weighted by local spend, per district of yours.",
                m.category_premiums.filter(pl.col(compute.SCOPE) != compute.COOP).select(
                    compute.SCOPE, names.CATEGORY, "premium", "local_spend", "products"
                ),
                money=("local_spend",),
                shares=("premium",),
            ),
            route_mix,
            *flags,
            replace(buy, frame=_mine(buy.frame, ids)),
        ]
        notes = _notes(m, first, district_names)
        audience, tag = f"{whose} (its own figures; other members only as safe aggregates)", "-".join(ids)
    if include_savings:
        tell(0.4, "co-op savings (pooled model, all coalitions)")
        savings_table, savings_chart = _savings(con, progress=lambda f, msg: tell(0.4 + 0.55 * f, msg), keep=ids)
        if savings_table is not None:
            tables.append(savings_table)
            if savings_chart is not None:
                chart_map["allocation"] = savings_chart
    tell(1.0, "packet ready")
    return Packet(
        month=first,
        month_end=last,
        year_start=year_first,
        kpis=kpis,
        tables=tuple(replace(t, frame=_in_words(t.frame, district_names)) for t in tables),
        charts=chart_map,
        notes=notes,
        coop_local_share=_coop_row(m)["local_share"] if is_viewer else seen_month["coop"].get("local_share"),
        audience=audience,
        coop_withheld=None if is_viewer else seen_month["coop"].get("reason"),  # type: ignore[arg-type]
        tag=tag,
    )
