import streamlit as st

from ui import access, charts, feedback, filters, metrics, tables
from ui import labels as lb
from ui import premiums as pr

user = access.require("premiums")

start, end, chosen = filters.setup(
    "Price premiums",
    "How much more local food costs than the same commodity bought non-local, per base unit (lb, gal, each, dozen).",
)
m = feedback.call(metrics.metrics_for, start, end, chosen)
if note := metrics.allocated_note(m):
    st.info(note, icon=":material/date_range:")
period = filters.period_label(start, end)
who = "Co-op (all member districts)"  # premiums are ratios: the co-op figure is never re-summed for a subset
definition = (
    "Premium = (local dollars per base unit) / (non-local dollars per base unit) − 1, only where both were bought. "
    + lb.LOCAL_DEFINITION
)

scope = st.selectbox(
    "Scope",
    [metrics.COOP, *chosen],
    format_func=lambda s: who if s == metrics.COOP else f"District {s}",
    key="premium_scope",
)
overall = metrics.weighted_premium(m) if scope == metrics.COOP else None
if overall is not None:
    st.metric(
        "Local price premium (weighted by local spend)",
        f"{overall:+.1%}",
        help="Commodity premiums averaged with local spend as weights.",
    )

commodity = metrics.by_scope(m.premiums, scope)
category = metrics.by_scope(m.category_premiums, scope)
route = metrics.by_scope(m.route_premiums, scope)
unpriced = metrics.by_scope(m.unpriced, scope)

left, right = st.columns(2)
with left:
    by = st.radio("Premium by", ["Commodity", "Category"], horizontal=True, key="premium_by")
    frame = commodity if by == "Commodity" else category
    column = lb.PRODUCT if by == "Commodity" else lb.CATEGORY
    if frame.height:
        charts.show(charts.premiums(frame, by=column, by_title=by, period=period, definition=definition), frame.height)
    else:
        st.info("No commodity was bought both local and non-local in this period and scope, so no premium exists.")
with right:
    products = pr.products(commodity)
    if products:
        product = st.selectbox("Unit price over time for", products, key="premium_product")
        prices = feedback.call(pr.unit_prices, start, end, chosen if scope == metrics.COOP else [scope], product)
        charts.show(
            charts.unit_price_over_time(
                prices,
                product=product,
                unit=pr.unit_label(prices),
                period=period,
                definition="Monthly spend / base quantity, lines with a convertible unit only. " + lb.LOCAL_DEFINITION,
            )
        )

st.subheader("By commodity")
tables.show(
    commodity,
    {
        "base_unit": st.column_config.TextColumn("Unit"),
        "local_unit_price": st.column_config.NumberColumn("Local $/unit", format="$%.3f"),
        "nonlocal_unit_price": st.column_config.NumberColumn("Non-local $/unit", format="$%.3f"),
        "premium": st.column_config.NumberColumn("Premium", format="percent"),
        "local_spend": st.column_config.NumberColumn("Local ($)", format="dollar", help="Local spend"),
        "nonlocal_spend": st.column_config.NumberColumn("Non-local ($)", format="dollar", help="Non-local spend"),
        "local_quantity": st.column_config.NumberColumn("Local quantity", format="localized"),
        "nonlocal_quantity": st.column_config.NumberColumn("Non-local quantity", format="localized"),
    },
    column_order=pr.COMMODITY_COLUMNS,
)
st.caption(
    "Prices in US dollars per base unit (lb, gal, each, dozen). "
    f"{period}; {'whole selection' if scope == metrics.COOP else 'district ' + lb.md(scope)}. {definition}"
)

st.subheader("By route, against traditional non-local")
tables.show(
    route,
    {
        "premium": st.column_config.NumberColumn("Premium vs traditional non-local", format="percent"),
        "spend": st.column_config.NumberColumn("Spend compared ($)", format="dollar"),
        "products": st.column_config.NumberColumn("Commodities compared", format="localized"),
    },
)
st.caption(
    f"{period}. For each route: its dollars per base unit over the same commodity's traditional non-local "
    "dollars per base unit, "
    "minus 1, weighted by the route's spend on those commodities."
)
left_out, left_out_spend = pr.unpriced(unpriced)
if left_out:
    st.caption(
        f"Left out of premiums: {left_out:,} line(s), ${left_out_spend:,.0f}, whose unit could not "
        "be converted to a base unit."
    )
