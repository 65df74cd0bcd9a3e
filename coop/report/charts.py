"""Charts as values: each function takes a Polars frame and returns an `alt.Chart` whose axes state units.

Every chart carries a title and a subtitle stating the period and the definition of what it shows, so
a chart copied into a meeting packet still says what it is. Frames are the library's result tables;
the columns each function reads are listed in its docstring.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from coop import names

ROUTE_LABELS: dict[str, str] = {
    names.DIRECT_LOCAL: "Direct local",
    names.NONTRADITIONAL_LOCAL: "Nontraditional local",
    names.TRADITIONAL_LOCAL: "Traditional local",
    names.TRADITIONAL_NONLOCAL: "Traditional non-local",
}
# the optimisation model's constraints as the paper names them in English (its Table 3 and sections)
CONSTRAINT_LABELS: dict[str, str] = {
    names.QUANTITY_CONSTRAINT: "Quantity (meals per year)",
    names.LABOR: "Labor (food prep)",
    names.ASSORTMENT_BREADTH: "Assortment breadth",
    names.ASSORTMENT_DEPTH: "Assortment depth",
    names.LOCAL_INTENSITY: "Local intensity",
    names.ECONOMIC_IMPACT: "Economic impact",
    names.PRICE_RISK: "Price risk",
}
ROUTE_COLORS: tuple[str, ...] = ("#2e7d32", "#81c784", "#f9a825", "#78909c")
LOCAL_COLORS: tuple[str, ...] = ("#2e7d32", "#78909c")
WIDTH = "container"
HEIGHT = 280

Chart = alt.Chart | alt.LayerChart


def _wrap(text: str, width: int = 60) -> list[str]:
    """Text broken into lines of at most about `width` characters, at spaces."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return [*lines, current] if current else lines


def _title(text: str, period: str, definition: str, label: str = "Period") -> alt.TitleParams:
    """A chart title whose subtitle states the period (or scenario) and the definition (wrapped, never cut off)."""
    return alt.TitleParams(text=text, subtitle=[f"{label}: {period}", *_wrap(definition)], anchor="start")


def _route_scale() -> alt.Scale:
    """The fixed route order and colours, so every chart colours a route the same way."""
    return alt.Scale(domain=list(ROUTE_LABELS.values()), range=list(ROUTE_COLORS))


def _with_route_label(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with a readable `route_label` column next to `route`."""
    return frame.with_columns(
        pl.col(names.ROUTE).replace_strict(ROUTE_LABELS, default=pl.col(names.ROUTE)).alias("route_label")
    )


# Months are calendar months in UTC: a date such as 2024-09-01 is midnight UTC, so reading it in the viewer's
# time zone would show August in the Americas; one tick per month, so labels never repeat.
MONTH_FIELD = f"utcyearmonth({names.MONTH}):T"


def _month_axis() -> alt.X:
    """The x encoding for a `month` column: one labelled tick per calendar month."""
    return alt.X(MONTH_FIELD, title="Month", axis=alt.Axis(format="%b %Y", tickCount="month", labelOverlap=True))


def local_share_by_month(frame: pl.DataFrame, *, goal: float | None, period: str, definition: str) -> Chart:
    """Local share (0-1) per month as a line, one line per `series` when present, against a goal rule.

    Columns: `month` (date), `local_share` (fraction 0-1), optional `series` (e.g. district or "Co-op").
    """
    color = (
        alt.Color("series:N", title="District", legend=alt.Legend(orient="bottom", columns=4))
        if "series" in frame.columns
        else alt.value(LOCAL_COLORS[0])
    )
    line = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=_month_axis(),
            y=alt.Y("local_share:Q", title="Local share of food spend (%)", axis=alt.Axis(format="%")),
            color=color,
            tooltip=[
                alt.Tooltip(MONTH_FIELD, title="Month", format="%B %Y"),
                *([alt.Tooltip("series:N", title="District")] if "series" in frame.columns else []),
                alt.Tooltip("local_share:Q", title="Local share", format=".1%"),
            ],
        )
    )
    layers: list[alt.Chart] = [line]
    if goal is not None:
        rule = (
            alt.Chart(pl.DataFrame({"goal": [goal], "label": [f"Goal {goal:.0%}"]}))
            .mark_rule(strokeDash=[6, 4], color="#c62828")
            .encode(y="goal:Q", tooltip=[alt.Tooltip("label:N", title="Co-op goal")])
        )
        text = (
            alt.Chart(pl.DataFrame({"goal": [goal], "label": [f"Goal {goal:.0%}"]}))
            .mark_text(align="left", dx=4, dy=-6, color="#c62828")
            .encode(y="goal:Q", x=alt.value(0), text="label:N")
        )
        layers += [rule, text]
    return alt.layer(*layers).properties(
        title=_title("Local share by month", period, definition), width=WIDTH, height=HEIGHT
    )


def _route_axis() -> alt.Y:
    """The y encoding of a bar per supply-chain route, in the routes' own order."""
    return alt.Y(
        "route_label:N", title="Supply-chain route", sort=list(ROUTE_LABELS.values()), axis=alt.Axis(labelLimit=200)
    )


def _route_color(series: str | None = None, columns: int = 4) -> alt.Color:
    """Bar colour: by `series` (its legend titled so, below the chart) when given, else the route's own colour."""
    if series is not None:
        return alt.Color("series:N", title=series, legend=alt.Legend(orient="bottom", columns=columns))
    return alt.Color("route_label:N", title="Route", scale=_route_scale(), legend=None)


def _route_bars(
    frame: pl.DataFrame,
    x: alt.X,
    value: alt.Tooltip,
    *,
    series: str,
    columns: int,
    title: alt.TitleParams,
    grouped: bool = False,
) -> alt.Chart:
    """Horizontal bars per supply-chain route; by `series` (stacked, or side by side when `grouped`) if present."""
    data = _with_route_label(frame)
    has_series = "series" in data.columns
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=_route_axis(),
            x=x,
            color=_route_color(series, columns) if has_series else _route_color(),
            **({"yOffset": alt.YOffset("series:N", title=series)} if has_series and grouped else {}),
            tooltip=[
                alt.Tooltip("route_label:N", title="Route"),
                *([alt.Tooltip("series:N", title=series)] if has_series else []),
                value,
            ],
        )
        .properties(title=title, width=WIDTH, height=HEIGHT)
    )


UNKNOWN_ORIGIN_LABEL = "Unknown origin"
UNKNOWN_ORIGIN_COLOR = "#9575cd"  # its own colour: neither a route's nor 'not local'


def spend_by_route(frame: pl.DataFrame, *, period: str, definition: str) -> Chart:
    """Spend in dollars per supply-chain route as horizontal bars, stacked by `series` when present.

    Columns: `route` (one of names.ROUTES), `spend` (dollars), optional `series` (e.g. district), optional
    `unknown_origin_spend` (dollars of the route's spend with no known origin: drawn as its own colour).
    """
    if "unknown_origin_spend" in frame.columns and "series" not in frame.columns:
        return _route_bars_with_unknown(frame, title=_title("Spend by supply-chain route", period, definition))
    return _route_bars(
        frame,
        alt.X("sum(spend):Q", title="Spend (US dollars)", axis=alt.Axis(format="$,.0f")),
        alt.Tooltip("sum(spend):Q", title="Spend ($)", format="$,.2f"),
        series="District",
        columns=4,
        title=_title("Spend by supply-chain route", period, definition),
    )


def _route_bars_with_unknown(frame: pl.DataFrame, *, title: alt.TitleParams) -> alt.Chart:
    """Spend per route, each bar split into spend of known origin (the route's colour) and unknown origin."""
    data = _with_route_label(frame)
    known = data.select(
        "route_label",
        pl.col("route_label").alias("part"),
        (pl.col("spend").cast(pl.Float64) - pl.col("unknown_origin_spend").cast(pl.Float64).fill_null(0)).alias(
            "spend"
        ),
    )
    unknown = data.select(
        "route_label",
        pl.lit(UNKNOWN_ORIGIN_LABEL).alias("part"),
        pl.col("unknown_origin_spend").cast(pl.Float64).fill_null(0).alias("spend"),
    ).filter(pl.col("spend") != 0)
    long = pl.concat([known, unknown]).with_columns(
        pl.when(pl.col("part") == UNKNOWN_ORIGIN_LABEL).then(1).otherwise(0).alias("order")
    )
    domain = [*ROUTE_LABELS.values(), UNKNOWN_ORIGIN_LABEL]
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=_route_axis(),
            x=alt.X("spend:Q", title="Spend (US dollars)", stack="zero", axis=alt.Axis(format="$,.0f")),
            color=alt.Color(
                "part:N",
                title="Spend",
                scale=alt.Scale(domain=domain, range=[*ROUTE_COLORS, UNKNOWN_ORIGIN_COLOR]),
                legend=alt.Legend(orient="bottom", values=[UNKNOWN_ORIGIN_LABEL], title=None),
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("route_label:N", title="Route"),
                alt.Tooltip("part:N", title="Part"),
                alt.Tooltip("spend:Q", title="Spend ($)", format="$,.2f"),
            ],
        )
        .properties(title=title, width=WIDTH, height=HEIGHT)
    )


SHARE_PARTS: tuple[str, ...] = ("Local", "Not local", UNKNOWN_ORIGIN_LABEL)
SHARE_COLORS: tuple[str, ...] = (LOCAL_COLORS[0], LOCAL_COLORS[1], UNKNOWN_ORIGIN_COLOR)


def share_bars(frame: pl.DataFrame, *, by: str, by_title: str, period: str, definition: str) -> alt.Chart:
    """Local share (0-1) per value of column `by` (district, category, ...) as bars, largest first.

    Columns: `by`, `local_share` (fraction 0-1), optional `total_spend` (dollars) for the tooltip. With
    `total_spend`, `local_spend` and `unknown_origin_spend` (dollars), each bar is its whole spend split into
    local, not local and unknown origin, so spend of unknown origin is never drawn as "0% local".
    """
    if {"total_spend", "local_spend", "unknown_origin_spend"} <= set(frame.columns):
        return _share_parts(frame, by=by, by_title=by_title, period=period, definition=definition)
    tooltip = [
        alt.Tooltip(f"{by}:N", title=by_title),
        alt.Tooltip("local_share:Q", title="Local share", format=".1%"),
    ]
    if "total_spend" in frame.columns:
        tooltip.append(alt.Tooltip("total_spend:Q", title="Total spend ($)", format="$,.0f"))
    return (
        alt.Chart(frame)
        .mark_bar(color=LOCAL_COLORS[0])
        .encode(
            y=alt.Y(f"{by}:N", title=by_title, sort="-x"),
            x=alt.X("local_share:Q", title="Local share of food spend (%)", axis=alt.Axis(format="%")),
            tooltip=tooltip,
        )
        .properties(title=_title(f"Local share by {by_title.lower()}", period, definition), width=WIDTH)
    )


def _share_parts(frame: pl.DataFrame, *, by: str, by_title: str, period: str, definition: str) -> alt.Chart:
    """Each `by` value's spend as shares: local, not local (known origin) and unknown origin, stacked to 100%."""
    money = [pl.col(c).cast(pl.Float64).fill_null(0) for c in ("total_spend", "local_spend", "unknown_origin_spend")]
    base = frame.select(pl.col(by).cast(pl.String), *money).filter(pl.col("total_spend") > 0)
    parts = {
        SHARE_PARTS[0]: pl.col("local_spend"),
        SHARE_PARTS[1]: pl.col("total_spend") - pl.col("local_spend") - pl.col("unknown_origin_spend"),
        SHARE_PARTS[2]: pl.col("unknown_origin_spend"),
    }
    long = pl.concat(
        [
            base.select(
                by,
                pl.lit(part).alias("part"),
                pl.lit(i).alias("order"),
                (spend / pl.col("total_spend")).clip(0.0, 1.0).alias("share"),
                spend.alias("spend"),
                (pl.col("local_spend") / pl.col("total_spend")).alias("local_share"),
            )
            for i, (part, spend) in enumerate(parts.items())
        ]
    )
    order = base.sort(pl.col("local_spend") / pl.col("total_spend"), descending=True)[by].to_list()
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y(f"{by}:N", title=by_title, sort=order, axis=alt.Axis(labelLimit=220)),
            x=alt.X("share:Q", title="Share of food spend (%)", stack="zero", axis=alt.Axis(format="%")),
            color=alt.Color(
                "part:N",
                title="Spend",
                scale=alt.Scale(domain=list(SHARE_PARTS), range=list(SHARE_COLORS)),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip(f"{by}:N", title=by_title),
                alt.Tooltip("part:N", title="Part"),
                alt.Tooltip("share:Q", title="Share of spend", format=".1%"),
                alt.Tooltip("spend:Q", title="Spend ($)", format="$,.0f"),
            ],
        )
        .properties(title=_title(f"Local share by {by_title.lower()}", period, definition), width=WIDTH)
    )


def premiums(frame: pl.DataFrame, *, by: str, by_title: str, period: str, definition: str) -> alt.Chart:
    """Local price premium (fraction; 0.25 = local costs 25% more) per `by` value as diverging bars.

    Columns: `by` (e.g. product or category), `premium` (fraction).
    """
    return (
        alt.Chart(frame.drop_nulls("premium"))
        .mark_bar()
        .encode(
            y=alt.Y(f"{by}:N", title=by_title, sort="-x"),
            x=alt.X(
                "premium:Q",
                title="Local price premium per base unit (% above non-local)",
                axis=alt.Axis(format="%"),
            ),
            color=alt.condition(alt.datum.premium > 0, alt.value("#ef6c00"), alt.value(LOCAL_COLORS[0])),
            tooltip=[
                alt.Tooltip(f"{by}:N", title=by_title),
                alt.Tooltip("premium:Q", title="Premium", format="+.1%"),
            ],
        )
        .properties(title=_title(f"Local price premium by {by_title.lower()}", period, definition), width=WIDTH)
    )


def unit_price_over_time(frame: pl.DataFrame, *, product: str, unit: str, period: str, definition: str) -> Chart:
    """Average unit price per month for local vs non-local lines of one product.

    Columns: `month` (date), `origin` ("Local"/"Non-local"), `unit_price` (dollars per base unit).
    """
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=_month_axis(),
            y=alt.Y("unit_price:Q", title=f"Average price (US dollars per {unit})", axis=alt.Axis(format="$.2f")),
            color=alt.Color(
                "origin:N", title="Origin", scale=alt.Scale(domain=["Local", "Non-local"], range=list(LOCAL_COLORS))
            ),
            tooltip=[
                alt.Tooltip(MONTH_FIELD, title="Month", format="%B %Y"),
                alt.Tooltip("origin:N", title="Origin"),
                alt.Tooltip("unit_price:Q", title=f"$ per {unit}", format="$.3f"),
            ],
        )
        .properties(
            title=_title(f"Unit price of {product}: local vs non-local", period, definition),
            width=WIDTH,
            height=HEIGHT,
        )
    )


def meals_per_route(frame: pl.DataFrame, *, scenario: str, definition: str) -> alt.Chart:
    """Meals per year assigned to each route by the optimiser, as horizontal bars (grouped by `series` if present).

    Columns: `route` (one of names.ROUTES), `meals` (meals per year), optional `series` (e.g. scenario).
    """
    return _route_bars(
        frame,
        alt.X("meals:Q", title="Meals per year (count)", axis=alt.Axis(format=",.0f")),
        alt.Tooltip("meals:Q", title="Meals", format=",.0f"),
        series="Scenario",
        columns=3,
        title=_title("Meals per route", scenario, definition, "Scenario"),
        grouped=True,
    )


def scenario_meals(frame: pl.DataFrame, *, scenario: str, definition: str) -> alt.LayerChart:
    """Meals per year by route under each scenario: one stacked bar a scenario; an infeasible one labelled so.

    Columns: `series` (scenario label), `route` (one of names.ROUTES), `meals` (meals per year; null when the
    scenario has no plan), `status` (the solver's status).
    """
    order = list(dict.fromkeys(frame["series"].to_list()))
    data = _with_route_label(frame)
    solved = data.filter(pl.col("meals").is_not_null())
    unsolved = (
        data.filter(pl.col("meals").is_null())
        .group_by("series", maintain_order=True)
        .agg(pl.col("status").first())
        .with_columns(
            pl.format("{}: no plan meets its constraints", pl.col("status").str.replace_all("_", " ")).alias("label"),
            pl.lit(0.0).alias("meals"),
        )
    )
    y = alt.Y("series:N", title="Scenario", sort=order, scale=alt.Scale(domain=order), axis=alt.Axis(labelLimit=260))
    bars = (
        alt.Chart(solved)
        .mark_bar()
        .encode(
            y=y,
            x=alt.X("meals:Q", title="Meals per year (count)", stack="zero", axis=alt.Axis(format=",.0f")),
            color=alt.Color(
                "route_label:N", title="Route", scale=_route_scale(), legend=alt.Legend(orient="bottom", columns=4)
            ),
            order=alt.Order("route_label:N", sort="ascending"),
            tooltip=[
                alt.Tooltip("series:N", title="Scenario"),
                alt.Tooltip("route_label:N", title="Route"),
                alt.Tooltip("meals:Q", title="Meals", format=",.0f"),
            ],
        )
    )
    labels = (
        alt.Chart(unsolved)
        .mark_text(align="left", dx=4, color="#c62828", fontWeight="bold")
        .encode(y=y, x=alt.X("meals:Q"), text="label:N", tooltip=[alt.Tooltip("label:N", title="Scenario")])
    )
    return alt.layer(bars, labels).properties(
        title=_title("Meals per route by scenario", scenario, definition, "Scenarios"),
        width=WIDTH,
        height=max(HEIGHT, 44 * len(order)),
    )


def incentive_curve(frame: pl.DataFrame, *, target: str, scenario: str, definition: str) -> alt.Chart:
    """Share of meals on the local route(s) against a per-meal incentive, as a step line.

    Columns: `incentive` (dollars per meal), `local_share` (fraction 0-1).
    """
    return (
        alt.Chart(frame)
        .mark_line(point=True, interpolate="step-after")
        .encode(
            x=alt.X("incentive:Q", title="Incentive (US dollars per meal)", axis=alt.Axis(format="$.2f")),
            y=alt.Y("local_share:Q", title=f"Meals on {target} (% of meals)", axis=alt.Axis(format="%")),
            tooltip=[
                alt.Tooltip("incentive:Q", title="Incentive ($/meal)", format="$.3f"),
                alt.Tooltip("local_share:Q", title="Share of meals", format=".1%"),
            ],
        )
        .properties(
            title=_title(f"Incentive curve: {target}", scenario, definition, "Scenario"), width=WIDTH, height=HEIGHT
        )
    )


def standalone_vs_pooled(frame: pl.DataFrame, *, period: str, definition: str) -> alt.Chart:
    """Each district's cost buying alone vs its cost inside the pool, as paired bars.

    Columns: `district_id`, `standalone_cost` (dollars), `pooled_cost` (dollars).
    """
    long = frame.select(names.DISTRICT_ID, "standalone_cost", "pooled_cost").unpivot(
        index=names.DISTRICT_ID, variable_name="basis", value_name="cost"
    )
    long = long.with_columns(
        pl.col("basis").replace_strict({"standalone_cost": "Buying alone", "pooled_cost": "In the pool"})
    )
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X(f"{names.DISTRICT_ID}:N", title="District", axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("basis:N"),
            y=alt.Y("cost:Q", title="Cost (US dollars per year)", axis=alt.Axis(format="$,.0f")),
            color=alt.Color(
                "basis:N",
                title="Basis",
                scale=alt.Scale(domain=["Buying alone", "In the pool"], range=["#78909c", "#2e7d32"]),
            ),
            tooltip=[
                alt.Tooltip(f"{names.DISTRICT_ID}:N", title="District"),
                alt.Tooltip("basis:N", title="Basis"),
                alt.Tooltip("cost:Q", title="Cost ($)", format="$,.2f"),
            ],
        )
        .properties(title=_title("Standalone vs pooled cost", period, definition), width=WIDTH, height=HEIGHT)
    )


def allocation_methods(frame: pl.DataFrame, *, period: str, definition: str) -> alt.Chart:
    """Each district's share of the pooled cost under each allocation method, side by side.

    Columns: `district_id`, `method`, `cost` (dollars allocated to the district).
    """
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(f"{names.DISTRICT_ID}:N", title="District", axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("method:N"),
            y=alt.Y("cost:Q", title="Allocated cost (US dollars per year)", axis=alt.Axis(format="$,.0f")),
            color=alt.Color("method:N", title="Allocation method"),
            tooltip=[
                alt.Tooltip(f"{names.DISTRICT_ID}:N", title="District"),
                alt.Tooltip("method:N", title="Method"),
                alt.Tooltip("cost:Q", title="Allocated cost ($)", format="$,.2f"),
            ],
        )
        .properties(title=_title("Allocation methods side by side", period, definition), width=WIDTH, height=HEIGHT)
    )


COMPLETENESS_COLORS: tuple[str, ...] = ("#2e7d32", "#f9a825", "#e0e0e0")  # lines, allocated, missing


def completeness_grid(frame: pl.DataFrame, *, statuses: tuple[str, ...], period: str, definition: str) -> alt.Chart:
    """What is on file per district and month, as a grid of coloured cells.

    Columns: `name` (district), `district_id`, `month` (date), `status` (one of `statuses`), `lines`.
    """
    return (
        alt.Chart(frame)
        .mark_rect(stroke="white", strokeWidth=1)
        .encode(
            x=alt.X(MONTH_FIELD, title="Month", axis=alt.Axis(format="%b %Y", tickCount="month", labelOverlap=True)),
            y=alt.Y(f"{names.NAME}:N", title="District", axis=alt.Axis(labelLimit=220)),
            color=alt.Color(
                "status:N",
                title="On file",
                scale=alt.Scale(domain=list(statuses), range=list(COMPLETENESS_COLORS)),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip(f"{names.NAME}:N", title="District"),
                alt.Tooltip(f"{names.DISTRICT_ID}:N", title="District id"),
                alt.Tooltip(MONTH_FIELD, title="Month", format="%B %Y"),
                alt.Tooltip("status:N", title="On file"),
                alt.Tooltip("lines:Q", title="Dated lines", format=",.0f"),
            ],
        )
        .properties(title=_title("Data on file by district and month", period, definition), width=WIDTH)
    )
