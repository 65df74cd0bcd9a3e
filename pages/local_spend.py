import streamlit as st

from ui import access, charts, feedback, filters, metrics, tables
from ui import labels as lb
from ui import local_spend as ls

user = access.require("local_spend")

start, end, chosen = filters.setup(
    "Local spend",
    "How much of each district's food spend is local, by each district's own definition of local.",
)
m = feedback.call(metrics.metrics_for, start, end, chosen)
period = filters.period_label(start, end)
who = filters.coop_label(chosen)
coop = metrics.coop_row(m)
definition = f"Local share = local spend / total spend (US dollars). {lb.LOCAL_DEFINITION}"

unknown = coop["unknown_origin_spend"]
if unknown:
    share_unknown = unknown / coop["total_spend"] if coop["total_spend"] else 0.0
    st.warning(
        f"**${unknown:,.0f} of spend ({share_unknown:.1%}) has unknown origin** (no origin ZIP or state): it counts as "
        "not local. Ask the vendors for origin, or set a default origin in the vendor registry on Data intake.",
        icon=":material/help:",
    )

if note := metrics.allocated_note(m):
    st.info(note, icon=":material/date_range:")

view = st.segmented_control(
    "Local share by", ["District", "Month", "Category", "Route"], default="District", key="local_view"
)
if view == "Month":
    per_district = st.toggle("One line per district", value=True, key="local_per_district")
    charts.show(
        charts.local_share_by_month(
            metrics.monthly_share(m, chosen, per_district),
            goal=m.goal_local_share,
            period=period,
            definition=definition,
        )
    )
    table = metrics.by_scope(m.by_month)
elif view == "Category":
    table = metrics.by_scope(m.by_category)
    charts.show(
        charts.share_bars(table, by=lb.CATEGORY, by_title="Category", period=period, definition=definition),
        table.height,
    )
elif view == "Route":
    table = metrics.route_spend(m)
    charts.show(
        charts.spend_by_route(
            table, period=period, definition="Route from vendor type and locality; US dollars of invoiced spend."
        )
    )
else:
    table = m.districts
    charts.show(
        charts.share_bars(table, by=lb.DISTRICT_ID, by_title="District", period=period, definition=definition),
        table.height,
    )
tables.show(
    table,
    {
        "total_spend": st.column_config.NumberColumn("Total spend ($)", format="dollar"),
        "local_spend": st.column_config.NumberColumn("Local spend ($)", format="dollar"),
        "spend": st.column_config.NumberColumn("Spend ($)", format="dollar"),
        "local_share": st.column_config.NumberColumn("Local share", format="percent"),
        "share": st.column_config.NumberColumn("Share of spend", format="percent"),
        "unknown_origin_spend": st.column_config.NumberColumn("Unknown origin ($)", format="dollar"),
        "allocated_spend": st.column_config.NumberColumn(
            "Allocated ($)", format="dollar", help="Spend allocated from period totals (usage reports)"
        ),
        "lines": st.column_config.NumberColumn("Lines", format="localized"),
    },
)
st.caption(f"Local share by {view.lower() if view else 'district'}; {who}, {period}. {definition}")

st.subheader("Drill into lines")
c1, c2, c3 = st.columns(3)
district = c1.selectbox("District", chosen, key="drill_district")
category = c2.selectbox(
    "Category", [None, *lb.CATEGORIES], format_func=lambda c: "all" if c is None else c, key="drill_category"
)
which = c3.radio("Lines", list(ls.WHICH), horizontal=True, key="drill_which")
if district:
    lines = feedback.call(ls.drill_lines, district, start, end, category, which)
    line_config = {
        lb.INVOICE_DATE: st.column_config.DateColumn("Date", format="YYYY-MM-DD"),
        lb.EXTENDED_PRICE: st.column_config.NumberColumn("Extended price ($)", format="dollar"),
        lb.SPEND_IN_PERIOD: st.column_config.NumberColumn("Spend in the period shown ($)", format="dollar"),
        lb.PERIOD_START: st.column_config.DateColumn("Report period from", format="YYYY-MM-DD"),
        lb.PERIOD_END: st.column_config.DateColumn("Report period to", format="YYYY-MM-DD"),
        lb.UNIT_PRICE: st.column_config.NumberColumn("Unit price ($ per unit)", format="$%.4f"),
        "unit": st.column_config.TextColumn("Unit (file's)"),
        "origin_state": st.column_config.TextColumn("Origin"),
        "local_basis": st.column_config.TextColumn("Local by"),
        lb.ROUTE: st.column_config.TextColumn("Route"),
        "origin_zip": st.column_config.TextColumn("Origin ZIP"),
        "invoice_no": st.column_config.TextColumn("Invoice"),
        "vendor_type_rule": st.column_config.TextColumn("Vendor type from"),
        "distance_miles": st.column_config.NumberColumn("Distance (miles)", format="%.0f"),
    }
    tables.show(lines.head(5000), line_config, column_order=ls.DRILL_COLUMNS)
    with st.expander("Every column of these lines (scrolls sideways)"):
        tables.show(lines.head(5000), line_config, fit=None)
    st.caption(
        f"{lines.height:,} purchase line(s) of {lb.md(district)}, {period} (first 5,000 shown); extended price in US "
        "dollars, quantity in the file's unit. A line of a usage report covers the report's whole period: its "
        "spend in the period shown is the share of its days that fall in it. 'Local by' says which part of "
        "the district's definition made a line local (radius, states, counties, own state); distance = miles "
        "between ZIP centroids."
    )
